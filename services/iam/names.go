package iam

import (
	"encoding/base64"
	"fmt"
	"regexp"
	"strings"

	"github.com/cloudbox/cloudbox/api"
)

// The patterns of IAM's model, which the generated types do not carry, in
// the words IAM quotes them.
const (
	namePattern       = `[\w+=,.@-]+`
	pathPrefixPattern = `\u002F[\u0021-\u007F]*`
	tagKeyPattern     = `[\p{L}\p{Z}\p{N}_.:/=+\-@]+`
	tagValuePattern   = `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`
	aliasPattern      = `^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$`
	versionPattern    = `v[1-9][0-9]*(\.[A-Za-z0-9-]*)?`
)

var (
	nameRE       = regexp.MustCompile(`^` + namePattern + `$`)
	pathRE       = regexp.MustCompile(`^(/|/[\x21-\x7e]+/)$`)
	policyPathRE = regexp.MustCompile(`^((/[A-Za-z0-9.,+@=_-]+)*)/$`)
	pathPrefixRE = regexp.MustCompile(`^/[\x21-\x7f]*$`)
	tagKeyRE     = regexp.MustCompile(`^` + tagKeyPattern + `$`)
	tagValueRE   = regexp.MustCompile(`^` + tagValuePattern + `$`)
	// aliasRE is aliasPattern without its look-ahead (Go has none): a
	// doubled hyphen is refused separately.
	aliasRE   = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)
	versionRE = regexp.MustCompile(`^` + versionPattern + `$`)
)

// patternError is AWS's validation error for a value that does not match
// its member's pattern.
func patternError(member, value, pattern string) *api.Error {
	return validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", value, member, pattern)
}

// checkName checks a user, group, role, policy or instance profile name
// (the model checks its length); member is its wire name in lower camel
// case ("userName").
func checkName(member, name string) error {
	if !nameRE.MatchString(name) {
		return patternError(member, name, namePattern)
	}
	return nil
}

// invalidPath is IAM's answer for a path outside its pattern.
func invalidPath() *api.Error {
	return validationError("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
}

// pathOf returns the path given, "/" when none, after checking it against
// the pattern of users', groups', roles' and instance profiles' paths.
func pathOf(p *string) (string, error) {
	if p == nil {
		return "/", nil
	}
	if !pathRE.MatchString(*p) {
		return "", invalidPath()
	}
	return *p, nil
}

// policyPathOf is pathOf for managed policies, whose paths IAM restricts
// further (policyPathType).
func policyPathOf(p *string) (string, error) {
	if p == nil {
		return "/", nil
	}
	if !policyPathRE.MatchString(*p) {
		return "", invalidPath()
	}
	return *p, nil
}

// pathPrefixOf returns a listing's path prefix, "/" (everything) when none.
func pathPrefixOf(p *string) (string, error) {
	if p == nil {
		return "/", nil
	}
	if !pathPrefixRE.MatchString(*p) {
		return "", patternError("pathPrefix", *p, pathPrefixPattern)
	}
	return *p, nil
}

// checkAlias checks an account alias (the model checks its length).
func checkAlias(alias string) error {
	if !aliasRE.MatchString(alias) || strings.Contains(alias, "--") {
		return patternError("accountAlias", alias, aliasPattern)
	}
	return nil
}

// checkVersionID checks a policy version id ("v3").
func checkVersionID(id string) error {
	if !versionRE.MatchString(id) {
		return patternError("versionId", id, versionPattern)
	}
	return nil
}

// defaultMaxItems is how many items a listing answers when MaxItems is not
// given.
const defaultMaxItems = 100

// paged is one page of a listing: the items shown and, when there are
// more, the marker that resumes after them.
type paged[T any] struct {
	items     []T
	marker    *string
	truncated *bool
}

// page cuts a listing, in the order of pos (each item's unique position,
// ascending), at the marker and at maxItems. A marker is the position of
// the first item of the next page, encoded: opaque to clients as IAM's are.
func page[T any](items []T, pos func(T) string, marker *string, maxItems *int64) (paged[T], error) {
	start := ""
	if marker != nil {
		p, err := decodeMarker(*marker)
		if err != nil {
			return paged[T]{}, err
		}
		start = p
	}
	limit := defaultMaxItems
	if maxItems != nil {
		limit = int(*maxItems) // the model keeps it within 1..1000
	}
	out := paged[T]{items: []T{}, truncated: boolp(false)}
	for _, it := range items {
		p := pos(it)
		if p < start {
			continue
		}
		if len(out.items) == limit {
			out.marker, out.truncated = str(encodeMarker(p)), boolp(true)
			break
		}
		out.items = append(out.items, it)
	}
	return out, nil
}

// pageInOrder is page for a listing in its own order (a resource's tags,
// its attached policies): positions are the items' indexes.
func pageInOrder[T any](items []T, marker *string, maxItems *int64) (paged[T], error) {
	type indexed struct {
		i  int
		it T
	}
	all := make([]indexed, len(items))
	for i, it := range items {
		all[i] = indexed{i, it}
	}
	p, err := page(all, func(x indexed) string { return fmt.Sprintf("%08d", x.i) }, marker, maxItems)
	if err != nil {
		return paged[T]{}, err
	}
	out := paged[T]{items: make([]T, len(p.items)), marker: p.marker, truncated: p.truncated}
	for i, x := range p.items {
		out.items[i] = x.it
	}
	return out, nil
}

// markerPrefix tells cloudbox's markers from anything else a client sends.
const markerPrefix = "cb1."

func encodeMarker(pos string) string {
	return markerPrefix + base64.RawURLEncoding.EncodeToString([]byte(pos))
}

func decodeMarker(m string) (string, error) {
	rest, ok := strings.CutPrefix(m, markerPrefix)
	if !ok {
		return "", validationError("Invalid Marker: %s", m)
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil {
		return "", validationError("Invalid Marker: %s", m)
	}
	return string(b), nil
}

// renameArgs checks an Update call's new name (in field) and new path,
// either of which may be absent, and returns the new path ("" for none).
func renameArgs(field string, newName, newPath *string) (string, error) {
	if newName != nil {
		if err := checkName(field, *newName); err != nil {
			return "", err
		}
	}
	if newPath == nil {
		return "", nil
	}
	return pathOf(newPath)
}

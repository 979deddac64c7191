package ssm

import (
	"strconv"
	"strings"

	"github.com/cloudbox/cloudbox/api"
)

// The messages AWS gives for names, as its clients print them. AWS uses
// msgBadName for every malformed name (bad characters, a path without its
// leading slash, an "ssm" prefix), not only for the prefix it names; and
// msgBadPath for a malformed path, with the backslashes it really shows
// around "aws" and "ssm".
const (
	msgBadName = `Parameter name: can't be prefixed with "ssm" (case-insensitive). If formed as a path, it can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_`
	msgBadPath = `The parameter doesn't meet the parameter name requirements. The parameter name must begin with a forward slash "/". It can't be prefixed with \"aws\" or \"ssm\" (case-insensitive). It must use only letters, numbers, or the following symbols: . (period), - (hyphen), _ (underscore). Special characters are not allowed. All sub-paths, if specified, must use the forward slash symbol "/". Valid example: /get/parameters2-/by1./path0_.`
	msgLevels  = "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and constraints for parameter names in the Amazon Web Services Systems Manager User Guide."
)

const (
	// maxLevels is the deepest hierarchy: /l1/.../l14/name.
	maxLevels = 15
	// maxNameARN is the longest a parameter's ARN may be: AWS counts the
	// name's 1011 characters with the ARN before it.
	maxNameARN = 1011
)

func validationError(format string, args ...any) error {
	return api.Errorf("ValidationException", format, args...)
}

func badName() error { return validationError("%s", msgBadName) }

// parameterNotFound is ParameterNotFound as AWS sends it: without a message.
func parameterNotFound() error { return api.Errorf("ParameterNotFound", "") }

func versionNotFound(name string, version int64) error {
	return api.Errorf("ParameterVersionNotFound", "Systems Manager could not find version %d of %s. Verify the version and try again.", version, name)
}

// reservedName is AWS's answer to a write under a name that begins with
// "aws": the name is shown without its leading slash.
func reservedName(name string) error {
	return api.Errorf("AccessDeniedException", "No access to reserved parameter name: %s.", strings.TrimPrefix(name, "/"))
}

func nameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

// validName reports whether name has the form of a parameter name: letters,
// digits and _.- and, for a hierarchy, a leading slash before each of its
// non-empty levels.
func validName(name string) bool {
	if name == "" {
		return false
	}
	if !strings.Contains(name, "/") {
		for i := 0; i < len(name); i++ {
			if !nameByte(name[i]) {
				return false
			}
		}
		return true
	}
	if name[0] != '/' {
		return false
	}
	for _, level := range strings.Split(name[1:], "/") {
		if level == "" {
			return false
		}
		for i := 0; i < len(level); i++ {
			if !nameByte(level[i]) {
				return false
			}
		}
	}
	return true
}

// levels is how many levels a name has: /a/b/c has three, a has one.
func levels(name string) int {
	if !strings.HasPrefix(name, "/") {
		return 1
	}
	return strings.Count(name, "/")
}

// firstLevel is the name's first level, lower-cased: what the reserved
// prefixes are checked against.
func firstLevel(name string) string {
	first, _, _ := strings.Cut(strings.TrimPrefix(name, "/"), "/")
	return strings.ToLower(first)
}

// checkWritable returns AWS's error for a name a user may not create,
// change or delete a parameter under, in the order AWS checks.
func checkWritable(sc scope, name string) error {
	if err := writeRef(name); err != nil {
		return err
	}
	if levels(name) > maxLevels {
		return api.Errorf("HierarchyLevelLimitExceededException", "%s", msgLevels)
	}
	if n := len(paramARN(sc.region, sc.account, name)); n > maxNameARN {
		return validationError("Parameter name: the parameter name, with the ARN before it, can't be longer than %d characters.", maxNameARN)
	}
	return nil
}

// validPath reports whether p is a path GetParametersByPath accepts: "/",
// or a hierarchy, with or without a trailing slash.
func validPath(p string) bool {
	if p == "/" {
		return true
	}
	return strings.HasPrefix(p, "/") && validName(strings.TrimSuffix(p, "/"))
}

// ref is a parameter as a request names it: a name or an ARN, with an
// optional selector (":3" for a version, ":prod" for a label).
type ref struct {
	name string
	// alt is the other name an ARN of a one-level parameter may mean:
	// parameter/x is the ARN of both "x" and "/x".
	alt string
	// isARN: region and account come from the ARN (account "" for a public
	// parameter).
	isARN                      bool
	partition, region, account string

	hasVersion bool
	version    int64
	label      string
}

// selector is what follows the name: ":3", ":prod" or "".
func (r ref) selector() string {
	switch {
	case r.hasVersion:
		return ":" + strconv.FormatInt(r.version, 10)
	case r.label != "":
		return ":" + r.label
	}
	return ""
}

// parseRef parses a parameter reference: name, name:version, name:label,
// or the same after arn:<partition>:ssm:<region>:<account>:parameter/. It
// reports false for a reference no parameter can have; it does not check
// the name's form (validName does).
func parseRef(s string) (ref, bool) {
	var r ref
	body := s
	if strings.HasPrefix(s, "arn:") {
		parts := strings.SplitN(s, ":", 6)
		if len(parts) != 6 || parts[1] == "" || parts[2] != "ssm" || parts[3] == "" {
			return ref{}, false
		}
		rest, ok := strings.CutPrefix(parts[5], "parameter/")
		if !ok || rest == "" || strings.HasPrefix(rest, "/") {
			return ref{}, false
		}
		r.isARN, r.partition, r.region, r.account = true, parts[1], parts[3], parts[4]
		body = rest
	}
	name, sel, hasSel := strings.Cut(body, ":")
	if name == "" || strings.Contains(sel, ":") || hasSel && sel == "" {
		return ref{}, false
	}
	if hasSel {
		if sel[0] >= '0' && sel[0] <= '9' {
			n, err := strconv.ParseInt(sel, 10, 64)
			if err != nil || n < 0 {
				return ref{}, false
			}
			r.hasVersion, r.version = true, n
		} else {
			r.label = sel
		}
	}
	r.name = name
	if r.isARN {
		r.name = "/" + name
		if !strings.Contains(name, "/") {
			r.alt = name
		}
	}
	return r, true
}

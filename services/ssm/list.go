package ssm

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"regexp"
	"slices"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	ssmapi "github.com/cloudbox/cloudbox/api/ssm"
	"github.com/cloudbox/cloudbox/store"
)

const (
	defaultPathResults     = 10
	defaultDescribeResults = 50
	maxFilterValueLen      = 1024
)

// filterKeyPattern is the model's pattern for ParameterStringFilter keys.
const filterKeyPattern = "tag:.+|Name|Type|KeyId|Path|Label|Tier|DataType"

var filterKeyRE = regexp.MustCompile(`^(` + filterKeyPattern + `)$`)

// filter is one ParameterStringFilter, checked, its option defaulted.
type filter struct {
	key, option string
	values      []string
}

func invalidFilterKey(format string, args ...any) error {
	return api.Errorf("InvalidFilterKey", format, args...)
}

// checkFilters checks ParameterFilters as DescribeParameters (byPath
// false) or GetParametersByPath (byPath true) takes them.
func checkFilters(in []*ssmapi.ParameterStringFilter, byPath bool) ([]filter, error) {
	var out []filter
	for i, f := range in {
		key := deref(f.Key)
		if !filterKeyRE.MatchString(key) {
			return nil, validationError("1 validation error detected: Value '%s' at 'parameterFilters.%d.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", key, i+1, filterKeyPattern)
		}
		values := derefAll(f.Values)
		for _, v := range values {
			if v == "" || len(v) > maxFilterValueLen {
				return nil, validationError("1 validation error detected: Value '[%s]' at 'parameterFilters.%d.member.values' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to %d, Member must have length greater than or equal to 1]", strings.Join(values, ", "), i+1, maxFilterValueLen)
			}
		}
		tagKey := strings.HasPrefix(key, "tag:")
		switch {
		case byPath && key != "Type" && key != "KeyId" && key != "Label":
			return nil, invalidFilterKey("The following filter key is not valid: %s. Valid filter keys include: [Type, KeyId].", key)
		case !byPath && key == "Label":
			return nil, invalidFilterKey("The following filter key is not valid: Label. Valid filter keys include: [Path, Name, Type, KeyId, Tier].")
		}
		if !tagKey && len(values) == 0 {
			return nil, api.Errorf("InvalidFilterValue", "The following filter values are missing : null for filter key %s.", key)
		}
		if slices.ContainsFunc(out, func(o filter) bool { return o.key == key }) {
			return nil, invalidFilterKey("The following filter is duplicated in the request: %s. A request can contain only one occurrence of a specific filter.", key)
		}
		option := deref(f.Option)
		var options []string
		switch key {
		case "Path":
			options = []string{"Recursive", "OneLevel"}
			if option == "" {
				option = "OneLevel"
			}
		case "Label":
			options = []string{"Equals"}
		case "Name":
			options = []string{"BeginsWith", "Equals", "Contains"}
		default:
			options = []string{"BeginsWith", "Equals"}
		}
		if option == "" {
			option = "Equals"
		}
		if !slices.Contains(options, option) {
			return nil, api.Errorf("InvalidFilterOption", "The following filter option is not valid: %s. Valid options include: [%s].", option, strings.Join(options, ", "))
		}
		if err := checkFilterValues(key, values); err != nil {
			return nil, err
		}
		out = append(out, filter{key: key, option: option, values: values})
	}
	return out, nil
}

func checkFilterValues(key string, values []string) error {
	var valid []string
	switch key {
	case "Type":
		valid = []string{ssmapi.ParameterTypeString, ssmapi.ParameterTypeStringList, ssmapi.ParameterTypeSecureString}
	case "Tier":
		valid = []string{ssmapi.ParameterTierStandard, ssmapi.ParameterTierAdvanced, ssmapi.ParameterTierIntelligentTiering}
	case "Path":
		for _, v := range values {
			if first := firstLevel(v); strings.HasPrefix(first, "aws") || strings.HasPrefix(first, "ssm") {
				return validationError(`Filters for common parameters can't be prefixed with "aws" or "ssm" (case-insensitive). When using global parameters, please specify within a global namespace.`)
			}
			if !validPath(v) {
				return validationError("%s", msgBadPath)
			}
		}
		return nil
	default:
		return nil
	}
	for _, v := range values {
		if !slices.Contains(valid, v) {
			return api.Errorf("InvalidFilterValue", "The following filter value is not valid: %s. Valid values include: [%s].", v, strings.Join(valid, ", "))
		}
	}
	return nil
}

func compare(option, have, want string) bool {
	switch option {
	case "BeginsWith":
		return strings.HasPrefix(have, want)
	case "Contains":
		return strings.Contains(have, want)
	}
	return have == want
}

// matchAny reports whether have matches one of values.
func matchAny(option, have string, values []string) bool {
	return slices.ContainsFunc(values, func(v string) bool { return compare(option, have, v) })
}

// pathOf normalizes a path to end with a slash.
func pathOf(p string) string {
	return strings.TrimSuffix(p, "/") + "/"
}

// matches reports whether the version v of parameter p passes filter f.
func (f filter) matches(p *paramRecord, v *paramVersion) bool {
	switch f.key {
	case "Name":
		// The leading slash does not count: "/app" and "app" name the same.
		have := strings.TrimPrefix(p.Name, "/")
		return slices.ContainsFunc(f.values, func(w string) bool { return compare(f.option, have, strings.TrimPrefix(w, "/")) })
	case "Type":
		return matchAny(f.option, v.Type, f.values)
	case "KeyId":
		return v.KeyID != "" && matchAny(f.option, v.KeyID, f.values)
	case "Tier":
		return matchAny(f.option, v.Tier, f.values)
	case "DataType":
		return matchAny(f.option, v.DataType, f.values)
	case "Label":
		return slices.ContainsFunc(v.Labels, func(l string) bool { return slices.Contains(f.values, l) })
	case "Path":
		return slices.ContainsFunc(f.values, func(w string) bool { return under(p.Name, pathOf(w), f.option == "Recursive") })
	}
	// tag:<key>
	key := strings.TrimPrefix(f.key, "tag:")
	return slices.ContainsFunc(p.Tags, func(t tag) bool {
		return t.Key == key && (len(f.values) == 0 || matchAny(f.option, t.Value, f.values))
	})
}

// shownVersion is the version of p the filters show: the labelled one when
// they select by label, else the latest; nil if p does not pass them.
func shownVersion(p *paramRecord, filters []filter) *paramVersion {
	v := p.latest()
	for _, f := range filters {
		if f.key == "Label" {
			v = nil
			for i := range p.Versions {
				if f.matches(p, &p.Versions[i]) {
					v = &p.Versions[i]
				}
			}
			if v == nil {
				return nil
			}
		}
	}
	for _, f := range filters {
		if !f.matches(p, v) {
			return nil
		}
	}
	return v
}

// A page token names the first parameter of the next page.
func nameToken(name string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("n" + name))
}

func decodeNameToken(t *string) (string, error) {
	if t == nil {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*t)
	name, ok := strings.CutPrefix(string(b), "n")
	if err != nil || !ok || name == "" {
		return "", invalidNextToken()
	}
	return name, nil
}

func (s *Service) getParametersByPath(ctx context.Context, in *ssmapi.GetParametersByPathRequest) (*ssmapi.GetParametersByPathResult, error) {
	sc := scopeOf(ctx)
	path := deref(in.Path)
	if !validPath(path) {
		return nil, validationError("%s", msgBadPath)
	}
	filters, err := checkFilters(in.ParameterFilters, true)
	if err != nil {
		return nil, err
	}
	start, err := decodeNameToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	limit := defaultPathResults
	if in.MaxResults != nil {
		limit = int(*in.MaxResults)
	}
	recursive := in.Recursive != nil && *in.Recursive
	decrypt := in.WithDecryption != nil && *in.WithDecryption
	prefix := pathOf(path)

	var candidates []*paramRecord
	account := sc.account
	err = s.store.View(func(tx *store.Tx) error {
		if isPublic(prefix) {
			candidates, account = publicUnder(sc.region, prefix, recursive), ""
			return nil
		}
		all, err := store.ListAll[paramRecord](tx, sc.account, sc.region, paramKind)
		for _, p := range all {
			if under(p.Name, prefix, recursive) {
				candidates = append(candidates, p)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &ssmapi.GetParametersByPathResult{Parameters: []*ssmapi.Parameter{}}
	for _, p := range candidates {
		if p.Name < start {
			continue
		}
		v := shownVersion(p, filters)
		if v == nil {
			continue
		}
		if len(out.Parameters) == limit {
			out.NextToken = str(nameToken(p.Name))
			break
		}
		out.Parameters = append(out.Parameters, v.shown(sc, account, p.Name, "", decrypt))
	}
	return out, nil
}

// legacyFilters turns DescribeParameters' deprecated Filters into filters:
// Name matches the beginning of names, Type and KeyId exactly.
func legacyFilters(in []*ssmapi.ParametersFilter) ([]filter, error) {
	var out []filter
	for i, f := range in {
		key := deref(f.Key)
		option := "Equals"
		switch key {
		case "Name":
			option = "BeginsWith"
		case "Type", "KeyId":
		default:
			return nil, validationError("1 validation error detected: Value '%s' at 'filters.%d.member.key' failed to satisfy constraint: Member must satisfy enum value set: [Name, Type, KeyId]", key, i+1)
		}
		out = append(out, filter{key: key, option: option, values: derefAll(f.Values)})
	}
	return out, nil
}

func (s *Service) describeParameters(ctx context.Context, in *ssmapi.DescribeParametersRequest) (*ssmapi.DescribeParametersResult, error) {
	sc := scopeOf(ctx)
	if len(in.Filters) > 0 && len(in.ParameterFilters) > 0 {
		return nil, validationError("You can use either Filters or ParameterFilters in a single request.")
	}
	filters, err := checkFilters(in.ParameterFilters, false)
	if err != nil {
		return nil, err
	}
	if len(in.Filters) > 0 {
		if filters, err = legacyFilters(in.Filters); err != nil {
			return nil, err
		}
	}
	start, err := decodeNameToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	limit := defaultDescribeResults
	if in.MaxResults != nil {
		limit = int(*in.MaxResults)
	}
	out := &ssmapi.DescribeParametersResult{Parameters: []*ssmapi.ParameterMetadata{}}
	if in.Shared != nil && *in.Shared {
		return out, nil // nothing is shared with an account in cloudbox
	}
	err = s.store.View(func(tx *store.Tx) error {
		return tx.List(sc.account, sc.region, paramKind, func(id string, raw []byte) error {
			if id < start {
				return nil
			}
			p := new(paramRecord)
			if err := json.Unmarshal(raw, p); err != nil {
				return err
			}
			if shownVersion(p, filters) == nil {
				return nil
			}
			if len(out.Parameters) == limit {
				out.NextToken = str(nameToken(id))
				return store.ErrStop
			}
			out.Parameters = append(out.Parameters, p.metadata(sc))
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

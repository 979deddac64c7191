package ssm

import (
	"slices"
	"strings"
	"time"

	ssmapi "github.com/cloudbox/cloudbox/api/ssm"
	"github.com/cloudbox/cloudbox/arn"
)

// paramRecord is one parameter, under the store kind ssm:parameter with its
// name as id: its versions (at most maxVersions, oldest first) and its
// tags. Each version keeps what AWS shows of it in the history, so a
// parameter whose type or key changed shows each version as it was.
type paramRecord struct {
	Name     string
	Versions []paramVersion
	Tags     []tag `json:",omitempty"`
}

type paramVersion struct {
	Version        int64
	Type           string
	Value          string
	DataType       string
	Tier           string
	KeyID          string   `json:",omitempty"` // SecureString only
	Description    string   `json:",omitempty"`
	AllowedPattern string   `json:",omitempty"`
	Labels         []string `json:",omitempty"`
	Modified       time.Time
	User           string
}

type tag struct{ Key, Value string }

// latest is the current version.
func (r *paramRecord) latest() *paramVersion { return &r.Versions[len(r.Versions)-1] }

// version returns version n, or nil.
func (r *paramRecord) version(n int64) *paramVersion {
	for i := range r.Versions {
		if r.Versions[i].Version == n {
			return &r.Versions[i]
		}
	}
	return nil
}

// labelled returns the version carrying label, or nil.
func (r *paramRecord) labelled(label string) *paramVersion {
	for i := range r.Versions {
		if slices.Contains(r.Versions[i].Labels, label) {
			return &r.Versions[i]
		}
	}
	return nil
}

// paramARN is a parameter's ARN: the name without its leading slash after
// "parameter/". Public parameters belong to no account and have an empty
// account field, as AWS shows them.
func paramARN(region, account, name string) string {
	return arn.New("ssm", region, account, "parameter/"+strings.TrimPrefix(name, "/")).String()
}

// shown is a version as GetParameter(s) and GetParametersByPath show it.
// A SecureString is shown encrypted unless decrypt.
func (v *paramVersion) shown(sc scope, account, name, selector string, decrypt bool) *ssmapi.Parameter {
	p := &ssmapi.Parameter{
		Name:             str(name),
		Type:             str(v.Type),
		Value:            str(v.shownValue(sc, name, decrypt)),
		Version:          i64(v.Version),
		LastModifiedDate: timePtr(v.Modified),
		ARN:              str(paramARN(sc.region, account, name)),
		DataType:         str(v.DataType),
	}
	if selector != "" {
		p.Selector = str(selector)
	}
	return p
}

func (v *paramVersion) shownValue(sc scope, name string, decrypt bool) string {
	if v.Type != ssmapi.ParameterTypeSecureString || decrypt {
		return v.Value
	}
	return encrypt(sc, v.KeyID, name, v.Version, v.Value)
}

// history is a version as GetParameterHistory shows it.
func (v *paramVersion) history(sc scope, name string, decrypt bool) *ssmapi.ParameterHistory {
	h := &ssmapi.ParameterHistory{
		Name:             str(name),
		Type:             str(v.Type),
		Value:            str(v.shownValue(sc, name, decrypt)),
		Version:          i64(v.Version),
		LastModifiedDate: timePtr(v.Modified),
		LastModifiedUser: str(v.User),
		Labels:           ptrs(v.Labels),
		Tier:             str(v.Tier),
		Policies:         []*ssmapi.ParameterInlinePolicy{},
		DataType:         str(v.DataType),
	}
	if v.KeyID != "" {
		h.KeyId = str(v.KeyID)
	}
	if v.Description != "" {
		h.Description = str(v.Description)
	}
	if v.AllowedPattern != "" {
		h.AllowedPattern = str(v.AllowedPattern)
	}
	return h
}

// metadata is the parameter as DescribeParameters shows it: its latest
// version, without the value.
func (r *paramRecord) metadata(sc scope) *ssmapi.ParameterMetadata {
	v := r.latest()
	m := &ssmapi.ParameterMetadata{
		Name:             str(r.Name),
		ARN:              str(paramARN(sc.region, sc.account, r.Name)),
		Type:             str(v.Type),
		Version:          i64(v.Version),
		LastModifiedDate: timePtr(v.Modified),
		LastModifiedUser: str(v.User),
		Tier:             str(v.Tier),
		Policies:         []*ssmapi.ParameterInlinePolicy{},
		DataType:         str(v.DataType),
	}
	if v.KeyID != "" {
		m.KeyId = str(v.KeyID)
	}
	if v.Description != "" {
		m.Description = str(v.Description)
	}
	if v.AllowedPattern != "" {
		m.AllowedPattern = str(v.AllowedPattern)
	}
	return m
}

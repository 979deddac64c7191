package ssm

import (
	"context"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	ssmapi "github.com/cloudbox/cloudbox/api/ssm"
	"github.com/cloudbox/cloudbox/store"
)

const maxLabelLen = 100

// validLabel reports whether a label may be attached: letters, digits and
// ._- only, not beginning with a digit, "aws" or "ssm" (in any case).
func validLabel(l string) bool {
	if l == "" || l[0] >= '0' && l[0] <= '9' {
		return false
	}
	lower := strings.ToLower(l)
	if strings.HasPrefix(lower, "aws") || strings.HasPrefix(lower, "ssm") {
		return false
	}
	for i := 0; i < len(l); i++ {
		if !nameByte(l[i]) {
			return false
		}
	}
	return true
}

// checkLabelLengths is the model's constraint on each label, which AWS
// reports for the whole list.
func checkLabelLengths(labels []string) error {
	for _, l := range labels {
		if l == "" || len(l) > maxLabelLen {
			return validationError("1 validation error detected: Value '[%s]' at 'labels' failed to satisfy constraint: Member must satisfy constraint: [Member must have length less than or equal to %d, Member must have length greater than or equal to 1]", strings.Join(labels, ", "), maxLabelLen)
		}
	}
	return nil
}

// loadWritable reads the parameter a user changes (labels), by its plain
// name.
func loadWritable(tx *store.Tx, sc scope, name string) (*paramRecord, error) {
	if err := writeRef(name); err != nil {
		return nil, err
	}
	p, err := load(tx, sc, name)
	if err == nil && p == nil {
		err = parameterNotFound()
	}
	return p, err
}

func (s *Service) labelParameterVersion(ctx context.Context, in *ssmapi.LabelParameterVersionRequest) (*ssmapi.LabelParameterVersionResult, error) {
	sc := scopeOf(ctx)
	labels := derefAll(in.Labels)
	if err := checkLabelLengths(labels); err != nil {
		return nil, err
	}
	out := &ssmapi.LabelParameterVersionResult{InvalidLabels: []*string{}}
	err := s.store.Update(func(tx *store.Tx) error {
		p, err := loadWritable(tx, sc, deref(in.Name))
		if err != nil {
			return err
		}
		target := p.latest()
		if in.ParameterVersion != nil {
			if target = p.version(*in.ParameterVersion); target == nil {
				return versionNotFound(p.Name, *in.ParameterVersion)
			}
		}
		var add []string
		for _, l := range labels {
			switch {
			case !validLabel(l):
				if !slices.ContainsFunc(out.InvalidLabels, func(x *string) bool { return *x == l }) {
					out.InvalidLabels = append(out.InvalidLabels, str(l))
				}
			case !slices.Contains(target.Labels, l) && !slices.Contains(add, l):
				add = append(add, l)
			}
		}
		if len(target.Labels)+len(add) > maxLabels {
			return api.Errorf("ParameterVersionLabelLimitExceeded", "A parameter version can have maximum %d labels. Move one or more labels to another version and try again.", maxLabels)
		}
		// A label names one version: attaching it moves it.
		for i := range p.Versions {
			p.Versions[i].Labels = slices.DeleteFunc(p.Versions[i].Labels, func(l string) bool { return slices.Contains(add, l) })
		}
		target.Labels = append(target.Labels, add...)
		out.ParameterVersion = i64(target.Version)
		return save(tx, sc, p)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) unlabelParameterVersion(ctx context.Context, in *ssmapi.UnlabelParameterVersionRequest) (*ssmapi.UnlabelParameterVersionResult, error) {
	sc := scopeOf(ctx)
	labels := derefAll(in.Labels)
	if err := checkLabelLengths(labels); err != nil {
		return nil, err
	}
	out := &ssmapi.UnlabelParameterVersionResult{RemovedLabels: []*string{}, InvalidLabels: []*string{}}
	err := s.store.Update(func(tx *store.Tx) error {
		p, err := loadWritable(tx, sc, deref(in.Name))
		if err != nil {
			return err
		}
		n := *in.ParameterVersion
		target := p.version(n)
		if target == nil {
			return versionNotFound(p.Name, n)
		}
		for _, l := range labels {
			if i := slices.Index(target.Labels, l); i >= 0 {
				target.Labels = slices.Delete(target.Labels, i, i+1)
				out.RemovedLabels = append(out.RemovedLabels, str(l))
			} else if !slices.ContainsFunc(out.RemovedLabels, func(x *string) bool { return *x == l }) {
				out.InvalidLabels = append(out.InvalidLabels, str(l))
			}
		}
		return save(tx, sc, p)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

const defaultHistoryResults = 50

func (s *Service) getParameterHistory(ctx context.Context, in *ssmapi.GetParameterHistoryRequest) (*ssmapi.GetParameterHistoryResult, error) {
	sc := scopeOf(ctx)
	r, err := readRef(deref(in.Name))
	if err != nil {
		return nil, err
	}
	if r.hasVersion || r.label != "" {
		return nil, badName()
	}
	start := int64(0)
	if in.NextToken != nil {
		if start, err = decodeVersionToken(*in.NextToken); err != nil {
			return nil, err
		}
	}
	limit := defaultHistoryResults
	if in.MaxResults != nil {
		limit = int(*in.MaxResults)
	}
	decrypt := in.WithDecryption != nil && *in.WithDecryption
	out := &ssmapi.GetParameterHistoryResult{Parameters: []*ssmapi.ParameterHistory{}}
	err = s.store.View(func(tx *store.Tx) error {
		p, _, err := find(tx, sc, r)
		if err != nil {
			return err
		}
		if p == nil {
			return parameterNotFound()
		}
		for _, v := range p.Versions {
			if v.Version < start {
				continue
			}
			if len(out.Parameters) == limit {
				out.NextToken = str(versionToken(v.Version))
				break
			}
			out.Parameters = append(out.Parameters, v.history(sc, p.Name, decrypt))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// A history page token names the first version of the next page.
func versionToken(v int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("v" + strconv.FormatInt(v, 10)))
}

func decodeVersionToken(t string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(t)
	rest, ok := strings.CutPrefix(string(b), "v")
	n, err2 := strconv.ParseInt(rest, 10, 64)
	if err != nil || !ok || err2 != nil || n < 1 {
		return 0, invalidNextToken()
	}
	return n, nil
}

func invalidNextToken() error {
	return api.Errorf("InvalidNextToken", "The specified token isn't valid.")
}

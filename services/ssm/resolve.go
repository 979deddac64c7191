package ssm

import (
	"context"

	"github.com/cloudbox/cloudbox/api"
	ssmapi "github.com/cloudbox/cloudbox/api/ssm"
	"github.com/cloudbox/cloudbox/store"
)

// ResolveParameter resolves what follows "resolve:ssm:" in an EC2 ImageId: a parameter name, optionally with ":version" or ":label", as the caller's account and region see it (public parameters included). It returns the value, or an *api.Error with the code and message EC2 gives for an unresolvable parameter.
//
// EC2 answers SsmInvalidParameter, "The following aliases are invalid:"
// and the reference, for a parameter it cannot resolve: one that does not
// exist, a version or label it does not have, or a parameter that is not
// a String (an AMI id is never a list or a secret).
func (s *Service) ResolveParameter(ctx context.Context, account, region, spec string) (string, error) {
	sc := scope{account: account, region: region}
	invalid := api.Errorf("SsmInvalidParameter", "The following aliases are invalid: %s", spec)
	r, ok := parseRef(spec)
	if !ok || !validName(r.name) {
		return "", invalid
	}
	var value string
	err := s.store.View(func(tx *store.Tx) error {
		p, _, err := find(tx, sc, r)
		if err != nil {
			return err
		}
		if p == nil {
			return invalid
		}
		v, err := pick(p, r)
		if err != nil || v.Type != ssmapi.ParameterTypeString {
			return invalid
		}
		value = v.Value
		return nil
	})
	return value, err
}

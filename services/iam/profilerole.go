package iam

import (
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/store"
)

// EC2 launches instances with IAM's instance profiles, and IMDS hands out
// their roles' credentials.
var _ desired.Profiles = (*Service)(nil)

// InstanceProfile implements desired.Profiles: the profile and its role as
// IAM has them now, so a role removed from the profile stops being served.
func (s *Service) InstanceProfile(account, name string) (desired.InstanceProfile, bool, error) {
	var out desired.InstanceProfile
	var ok bool
	err := s.store.View(func(tx *store.Tx) error {
		p, found, err := store.Get[profileRecord](tx, key(account, kindProfile, name))
		if err != nil || !found {
			return err
		}
		ok = true
		out = desired.InstanceProfile{ARN: profileARN(account, p.Path, p.Name), ID: p.ID}
		if len(p.Roles) == 0 {
			return nil
		}
		h, found, err := roles.find(tx, account, p.Roles[0])
		if err != nil || !found {
			return err
		}
		r := h.(*roleRecord)
		out.Role, out.RoleARN, out.RoleID = r.Name, roles.arn(account, r.Path, r.Name), r.ID
		return nil
	})
	return out, ok, err
}

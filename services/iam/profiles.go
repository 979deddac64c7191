package iam

import (
	"context"
	"slices"
	"strings"

	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/store"
)

// maxProfileRoles is the quota of roles in an instance profile.
const maxProfileRoles = 1

func profileARN(acct, path, name string) string {
	return arn.New("iam", "", acct, "instance-profile"+path+name).String()
}

// api is the instance profile as IAM shows it, with its roles (read in tx).
func (p *profileRecord) api(tx *store.Tx, acct string, tags bool) (*iamapi.InstanceProfile, error) {
	out := &iamapi.InstanceProfile{
		InstanceProfileName: str(p.Name), Path: str(p.Path), InstanceProfileId: str(p.ID),
		Arn: str(profileARN(acct, p.Path, p.Name)), CreateDate: timePtr(p.Created), Roles: []*iamapi.Role{},
	}
	for _, k := range p.Roles {
		r, err := loadRole(tx, acct, k)
		if err != nil {
			return nil, err
		}
		out.Roles = append(out.Roles, r.api(acct, false))
	}
	if tags && len(p.Tags) > 0 {
		out.Tags = apiTags(p.Tags)
	}
	return out, nil
}

func (s *Service) createInstanceProfile(ctx context.Context, in *iamapi.CreateInstanceProfileRequest) (*iamapi.CreateInstanceProfileResponse, error) {
	acct, name := account(ctx), *in.InstanceProfileName
	if err := checkName("instanceProfileName", name); err != nil {
		return nil, err
	}
	path, err := pathOf(in.Path)
	if err != nil {
		return nil, err
	}
	tags, err := newTags(in.Tags)
	if err != nil {
		return nil, err
	}
	p := &profileRecord{Name: name, Path: path, ID: newID("AIPA"), Created: s.nowUTC(), Tags: tags}
	var out *iamapi.InstanceProfile
	err = s.store.Update(func(tx *store.Tx) error {
		taken := errorf("EntityAlreadyExists", "Instance Profile %s already exists.", name)
		if err := unused(tx, acct, kindProfile, name, taken); err != nil {
			return err
		}
		if err := tx.Put(key(acct, kindProfile, name), p); err != nil {
			return err
		}
		out, err = p.api(tx, acct, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateInstanceProfileResponse{InstanceProfile: out}, nil
}

func (s *Service) getInstanceProfile(ctx context.Context, in *iamapi.GetInstanceProfileRequest) (*iamapi.GetInstanceProfileResponse, error) {
	acct := account(ctx)
	var out *iamapi.InstanceProfile
	err := s.store.View(func(tx *store.Tx) error {
		p, err := loadProfile(tx, acct, *in.InstanceProfileName)
		if err != nil {
			return err
		}
		out, err = p.api(tx, acct, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetInstanceProfileResponse{InstanceProfile: out}, nil
}

// listProfiles is one page of instance profiles and their roles.
func (s *Service) listProfiles(acct string, ps []*profileRecord, marker *string, maxItems *int64) ([]*iamapi.InstanceProfile, paged[*profileRecord], error) {
	p, err := page(ps, func(p *profileRecord) string { return strings.ToLower(p.Name) }, marker, maxItems)
	if err != nil {
		return nil, p, err
	}
	out := []*iamapi.InstanceProfile{}
	err = s.store.View(func(tx *store.Tx) error {
		for _, ip := range p.items {
			a, err := ip.api(tx, acct, false)
			if err != nil {
				return err
			}
			out = append(out, a)
		}
		return nil
	})
	return out, p, err
}

func (s *Service) listInstanceProfiles(ctx context.Context, in *iamapi.ListInstanceProfilesRequest) (*iamapi.ListInstanceProfilesResponse, error) {
	acct := account(ctx)
	prefix, err := pathPrefixOf(in.PathPrefix)
	if err != nil {
		return nil, err
	}
	all, err := listUnder[profileRecord](s.store, acct, kindProfile, prefix)
	if err != nil {
		return nil, err
	}
	out, p, err := s.listProfiles(acct, all, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListInstanceProfilesResponse{InstanceProfiles: out, Marker: p.marker, IsTruncated: p.truncated}, nil
}

func (s *Service) listInstanceProfilesForRole(ctx context.Context, in *iamapi.ListInstanceProfilesForRoleRequest) (*iamapi.ListInstanceProfilesForRoleResponse, error) {
	acct := account(ctx)
	var ps []*profileRecord
	err := s.store.View(func(tx *store.Tx) error {
		r, err := loadRole(tx, acct, *in.RoleName)
		if err != nil {
			return err
		}
		ps, err = profilesOf(tx, acct, strings.ToLower(r.Name))
		return err
	})
	if err != nil {
		return nil, err
	}
	out, p, err := s.listProfiles(acct, ps, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListInstanceProfilesForRoleResponse{InstanceProfiles: out, Marker: p.marker, IsTruncated: p.truncated}, nil
}

func (s *Service) deleteInstanceProfile(ctx context.Context, in *iamapi.DeleteInstanceProfileRequest) (*iamapi.DeleteInstanceProfileOutput, error) {
	acct := account(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		p, err := loadProfile(tx, acct, *in.InstanceProfileName)
		if err != nil {
			return err
		}
		if len(p.Roles) > 0 {
			return deleteConflict("Cannot delete entity, must remove roles from instance profile first.")
		}
		_, err = tx.Delete(key(acct, kindProfile, p.Name))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteInstanceProfileOutput{}, nil
}

func (s *Service) addRoleToInstanceProfile(ctx context.Context, in *iamapi.AddRoleToInstanceProfileRequest) (*iamapi.AddRoleToInstanceProfileOutput, error) {
	acct := account(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		p, err := loadProfile(tx, acct, *in.InstanceProfileName)
		if err != nil {
			return err
		}
		r, err := loadRole(tx, acct, *in.RoleName)
		if err != nil {
			return err
		}
		if len(p.Roles) >= maxProfileRoles {
			return limitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: %d", maxProfileRoles)
		}
		p.Roles = append(p.Roles, strings.ToLower(r.Name))
		return tx.Put(key(acct, kindProfile, p.Name), p)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.AddRoleToInstanceProfileOutput{}, nil
}

func (s *Service) removeRoleFromInstanceProfile(ctx context.Context, in *iamapi.RemoveRoleFromInstanceProfileRequest) (*iamapi.RemoveRoleFromInstanceProfileOutput, error) {
	acct := account(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		p, err := loadProfile(tx, acct, *in.InstanceProfileName)
		if err != nil {
			return err
		}
		i := slices.Index(p.Roles, strings.ToLower(*in.RoleName))
		if i < 0 {
			return roles.notFound(*in.RoleName)
		}
		p.Roles = slices.Delete(p.Roles, i, i+1)
		return tx.Put(key(acct, kindProfile, p.Name), p)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.RemoveRoleFromInstanceProfileOutput{}, nil
}

package iam

import (
	"context"
	"regexp"
	"slices"
	"strings"

	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/store"
)

// defaultMaxSession is a role's maximum session duration (seconds) when
// none is given.
const defaultMaxSession = 3600

const descriptionPattern = `[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*`

var descriptionRE = regexp.MustCompile(`^[\t\n\r\x20-\x7e\x{a1}-\x{ff}]*$`)

func checkDescription(d *string) error {
	if d != nil && !descriptionRE.MatchString(*d) {
		return patternError("description", *d, descriptionPattern)
	}
	return nil
}

// api is the role as IAM shows it; full adds what only GetRole, CreateRole
// and the role's updates show (tags, the permissions boundary, its last
// use).
func (r *roleRecord) api(acct string, full bool) *iamapi.Role {
	out := &iamapi.Role{
		RoleName: str(r.Name), Path: str(r.Path), RoleId: str(r.ID), Arn: str(roles.arn(acct, r.Path, r.Name)),
		CreateDate: timePtr(r.Created), AssumeRolePolicyDocument: str(encodeDocument(r.TrustPolicy)),
		MaxSessionDuration: i64(r.MaxSession),
	}
	if r.Description != "" {
		out.Description = str(r.Description)
	}
	if full {
		out.PermissionsBoundary = boundaryAPI(r.Boundary)
		if len(r.Tags) > 0 {
			out.Tags = apiTags(r.Tags)
		}
		out.RoleLastUsed = &iamapi.RoleLastUsed{}
	}
	return out
}

func (s *Service) createRole(ctx context.Context, in *iamapi.CreateRoleRequest) (*iamapi.CreateRoleResponse, error) {
	acct, name := account(ctx), *in.RoleName
	if err := checkName("roleName", name); err != nil {
		return nil, err
	}
	path, err := pathOf(in.Path)
	if err != nil {
		return nil, err
	}
	if err := checkDescription(in.Description); err != nil {
		return nil, err
	}
	tags, err := newTags(in.Tags)
	if err != nil {
		return nil, err
	}
	r := &roleRecord{
		entity:      entity{Name: name, Path: path, ID: newID(roles.idPrefix), Created: s.nowUTC()},
		Description: deref(in.Description), TrustPolicy: *in.AssumeRolePolicyDocument,
		MaxSession: defaultMaxSession, Tags: tags,
	}
	if in.MaxSessionDuration != nil {
		r.MaxSession = *in.MaxSessionDuration // the model keeps it within 3600..43200
	}
	err = s.store.Update(func(tx *store.Tx) error {
		if err := unused(tx, acct, kindRole, name, roles.exists(name)); err != nil {
			return err
		}
		if err := checkTrust(tx, *in.AssumeRolePolicyDocument); err != nil {
			return err
		}
		if in.PermissionsBoundary != nil {
			if r.Boundary, err = boundaryPolicy(tx, acct, *in.PermissionsBoundary); err != nil {
				return err
			}
		}
		return roles.save(tx, acct, r)
	})
	if err != nil {
		return nil, err
	}
	out := r.api(acct, true)
	out.RoleLastUsed = nil // CreateRole does not show it
	return &iamapi.CreateRoleResponse{Role: out}, nil
}

func (s *Service) getRole(ctx context.Context, in *iamapi.GetRoleRequest) (*iamapi.GetRoleResponse, error) {
	acct := account(ctx)
	var r *roleRecord
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		r, err = loadRole(tx, acct, *in.RoleName)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetRoleResponse{Role: r.api(acct, true)}, nil
}

func (s *Service) listRoles(ctx context.Context, in *iamapi.ListRolesRequest) (*iamapi.ListRolesResponse, error) {
	acct := account(ctx)
	prefix, err := pathPrefixOf(in.PathPrefix)
	if err != nil {
		return nil, err
	}
	all, err := listUnder[roleRecord](s.store, acct, kindRole, prefix)
	if err != nil {
		return nil, err
	}
	p, err := page(all, func(r *roleRecord) string { return strings.ToLower(r.Name) }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListRolesResponse{Roles: []*iamapi.Role{}, Marker: p.marker, IsTruncated: p.truncated}
	for _, r := range p.items {
		out.Roles = append(out.Roles, r.api(acct, false))
	}
	return out, nil
}

// changeRole loads the role named name for a change, which fn makes, and
// keeps it; a service-linked role is refused unless its service may
// change it this way (serviceMay).
func (s *Service) changeRole(ctx context.Context, name string, serviceMay bool, fn func(tx *store.Tx, r *roleRecord) error) (*roleRecord, error) {
	acct := account(ctx)
	var r *roleRecord
	err := s.store.Update(func(tx *store.Tx) error {
		var err error
		if r, err = loadRole(tx, acct, name); err != nil {
			return err
		}
		if r.Service != "" && !serviceMay {
			return protectedRole(r.Name)
		}
		if err := fn(tx, r); err != nil {
			return err
		}
		return roles.save(tx, acct, r)
	})
	return r, err
}

func (s *Service) updateRole(ctx context.Context, in *iamapi.UpdateRoleRequest) (*iamapi.UpdateRoleResponse, error) {
	if err := checkDescription(in.Description); err != nil {
		return nil, err
	}
	// A service-linked role's description may be changed; nothing else.
	_, err := s.changeRole(ctx, *in.RoleName, in.MaxSessionDuration == nil, func(_ *store.Tx, r *roleRecord) error {
		if in.Description != nil {
			r.Description = *in.Description
		}
		if in.MaxSessionDuration != nil {
			r.MaxSession = *in.MaxSessionDuration
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UpdateRoleResponse{}, nil
}

func (s *Service) updateRoleDescription(ctx context.Context, in *iamapi.UpdateRoleDescriptionRequest) (*iamapi.UpdateRoleDescriptionResponse, error) {
	if err := checkDescription(in.Description); err != nil {
		return nil, err
	}
	r, err := s.changeRole(ctx, *in.RoleName, true, func(_ *store.Tx, r *roleRecord) error {
		r.Description = *in.Description
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UpdateRoleDescriptionResponse{Role: r.api(account(ctx), true)}, nil
}

func (s *Service) updateAssumeRolePolicy(ctx context.Context, in *iamapi.UpdateAssumeRolePolicyRequest) (*iamapi.UpdateAssumeRolePolicyOutput, error) {
	_, err := s.changeRole(ctx, *in.RoleName, false, func(tx *store.Tx, r *roleRecord) error {
		r.TrustPolicy = *in.PolicyDocument
		return checkTrust(tx, r.TrustPolicy)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UpdateAssumeRolePolicyOutput{}, nil
}

func (s *Service) putRolePermissionsBoundary(ctx context.Context, in *iamapi.PutRolePermissionsBoundaryRequest) (*iamapi.PutRolePermissionsBoundaryOutput, error) {
	acct := account(ctx)
	_, err := s.changeRole(ctx, *in.RoleName, false, func(tx *store.Tx, r *roleRecord) error {
		var err error
		r.Boundary, err = boundaryPolicy(tx, acct, *in.PermissionsBoundary)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.PutRolePermissionsBoundaryOutput{}, nil
}

func (s *Service) deleteRolePermissionsBoundary(ctx context.Context, in *iamapi.DeleteRolePermissionsBoundaryRequest) (*iamapi.DeleteRolePermissionsBoundaryOutput, error) {
	_, err := s.changeRole(ctx, *in.RoleName, false, func(_ *store.Tx, r *roleRecord) error {
		r.Boundary = ""
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteRolePermissionsBoundaryOutput{}, nil
}

// profilesOf reads the instance profiles the role whose key is rkey is in.
func profilesOf(tx *store.Tx, acct, rkey string) ([]*profileRecord, error) {
	all, err := store.ListAll[profileRecord](tx, acct, "", kindProfile)
	return slices.DeleteFunc(all, func(p *profileRecord) bool { return !slices.Contains(p.Roles, rkey) }), err
}

// removeRole deletes a role that nothing holds on to.
func removeRole(tx *store.Tx, acct string, r *roleRecord) error {
	ps, err := profilesOf(tx, acct, strings.ToLower(r.Name))
	switch {
	case err != nil:
		return err
	case len(ps) > 0:
		return deleteConflict("Cannot delete entity, must remove roles from instance profile first.")
	case len(r.Attached) > 0 && r.Service == "":
		return deleteConflict("Cannot delete entity, must detach all policies first.")
	case len(r.Inline) > 0:
		return deleteConflict("Cannot delete entity, must delete policies first.")
	}
	_, err = tx.Delete(key(acct, kindRole, r.Name))
	return err
}

func (s *Service) deleteRole(ctx context.Context, in *iamapi.DeleteRoleRequest) (*iamapi.DeleteRoleOutput, error) {
	acct := account(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		r, err := loadRole(tx, acct, *in.RoleName)
		if err != nil {
			return err
		}
		if r.Service != "" {
			return protectedRole(r.Name)
		}
		return removeRole(tx, acct, r)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteRoleOutput{}, nil
}

package iam

import (
	"context"
	"slices"
	"strings"

	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/store"
)

// protectedRole is IAM's answer for changing a service-linked role, which
// only its service may change.
func protectedRole(name string) error {
	return errorf("UnmodifiableEntity", "Cannot perform the operation on the protected role '%s' - this role is only modifiable by AWS", name)
}

// serviceLinked reports whether h is a service-linked role.
func serviceLinked(h holder) bool {
	r, ok := h.(*roleRecord)
	return ok && r.Service != ""
}

// attach attaches the managed policy policyARN to the user, group or role
// named name; attaching it again changes nothing, as on IAM.
func (s *Service) attach(ctx context.Context, c class, name, policyARN string) error {
	acct := account(ctx)
	return s.store.Update(func(tx *store.Tx) error {
		h, err := c.load(tx, acct, name)
		if err != nil {
			return err
		}
		if serviceLinked(h) {
			return protectedRole(h.common().Name)
		}
		if err := attachable(tx, acct, policyARN); err != nil {
			return err
		}
		e := h.common()
		if slices.Contains(e.Attached, policyARN) {
			return nil
		}
		if len(e.Attached) >= maxAttached {
			return limitExceeded("Cannot exceed quota for %s: %d", c.quota, maxAttached)
		}
		e.Attached = append(e.Attached, policyARN)
		return c.save(tx, acct, h)
	})
}

func (s *Service) detach(ctx context.Context, c class, name, policyARN string) error {
	acct := account(ctx)
	return s.store.Update(func(tx *store.Tx) error {
		h, err := c.load(tx, acct, name)
		if err != nil {
			return err
		}
		if serviceLinked(h) {
			return protectedRole(h.common().Name)
		}
		if _, _, _, err := parsePolicyARN(policyARN); err != nil {
			return err
		}
		e := h.common()
		i := slices.Index(e.Attached, policyARN)
		if i < 0 {
			return errorf("NoSuchEntity", "Policy %s was not found.", policyARN)
		}
		e.Attached = slices.Delete(e.Attached, i, i+1)
		return c.save(tx, acct, h)
	})
}

// attachedPolicies is one page of the managed policies attached to the
// user, group or role named name, with the path prefix given.
func (s *Service) attachedPolicies(ctx context.Context, c class, name string, pathPrefix, marker *string, maxItems *int64) ([]*iamapi.AttachedPolicy, paged[string], error) {
	acct := account(ctx)
	prefix, err := pathPrefixOf(pathPrefix)
	if err != nil {
		return nil, paged[string]{}, err
	}
	var arns []string
	err = s.store.View(func(tx *store.Tx) error {
		h, err := c.load(tx, acct, name)
		if err != nil {
			return err
		}
		for _, a := range h.common().Attached {
			if _, path, _, err := parsePolicyARN(a); err == nil && strings.HasPrefix(path, prefix) {
				arns = append(arns, a)
			}
		}
		return nil
	})
	if err != nil {
		return nil, paged[string]{}, err
	}
	p, err := pageInOrder(arns, marker, maxItems)
	if err != nil {
		return nil, p, err
	}
	out := []*iamapi.AttachedPolicy{}
	for _, a := range p.items {
		out = append(out, attachedAPI(a))
	}
	return out, p, nil
}

func attachedAPI(policyARN string) *iamapi.AttachedPolicy {
	_, _, name, _ := parsePolicyARN(policyARN)
	return &iamapi.AttachedPolicy{PolicyArn: str(policyARN), PolicyName: str(name)}
}

func (s *Service) attachUserPolicy(ctx context.Context, in *iamapi.AttachUserPolicyRequest) (*iamapi.AttachUserPolicyOutput, error) {
	return &iamapi.AttachUserPolicyOutput{}, s.attach(ctx, users, *in.UserName, *in.PolicyArn)
}

func (s *Service) attachGroupPolicy(ctx context.Context, in *iamapi.AttachGroupPolicyRequest) (*iamapi.AttachGroupPolicyOutput, error) {
	return &iamapi.AttachGroupPolicyOutput{}, s.attach(ctx, groups, *in.GroupName, *in.PolicyArn)
}

func (s *Service) attachRolePolicy(ctx context.Context, in *iamapi.AttachRolePolicyRequest) (*iamapi.AttachRolePolicyOutput, error) {
	return &iamapi.AttachRolePolicyOutput{}, s.attach(ctx, roles, *in.RoleName, *in.PolicyArn)
}

func (s *Service) detachUserPolicy(ctx context.Context, in *iamapi.DetachUserPolicyRequest) (*iamapi.DetachUserPolicyOutput, error) {
	return &iamapi.DetachUserPolicyOutput{}, s.detach(ctx, users, *in.UserName, *in.PolicyArn)
}

func (s *Service) detachGroupPolicy(ctx context.Context, in *iamapi.DetachGroupPolicyRequest) (*iamapi.DetachGroupPolicyOutput, error) {
	return &iamapi.DetachGroupPolicyOutput{}, s.detach(ctx, groups, *in.GroupName, *in.PolicyArn)
}

func (s *Service) detachRolePolicy(ctx context.Context, in *iamapi.DetachRolePolicyRequest) (*iamapi.DetachRolePolicyOutput, error) {
	return &iamapi.DetachRolePolicyOutput{}, s.detach(ctx, roles, *in.RoleName, *in.PolicyArn)
}

func (s *Service) listAttachedUserPolicies(ctx context.Context, in *iamapi.ListAttachedUserPoliciesRequest) (*iamapi.ListAttachedUserPoliciesResponse, error) {
	out, p, err := s.attachedPolicies(ctx, users, *in.UserName, in.PathPrefix, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListAttachedUserPoliciesResponse{AttachedPolicies: out, Marker: p.marker, IsTruncated: p.truncated}, nil
}

func (s *Service) listAttachedGroupPolicies(ctx context.Context, in *iamapi.ListAttachedGroupPoliciesRequest) (*iamapi.ListAttachedGroupPoliciesResponse, error) {
	out, p, err := s.attachedPolicies(ctx, groups, *in.GroupName, in.PathPrefix, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListAttachedGroupPoliciesResponse{AttachedPolicies: out, Marker: p.marker, IsTruncated: p.truncated}, nil
}

func (s *Service) listAttachedRolePolicies(ctx context.Context, in *iamapi.ListAttachedRolePoliciesRequest) (*iamapi.ListAttachedRolePoliciesResponse, error) {
	out, p, err := s.attachedPolicies(ctx, roles, *in.RoleName, in.PathPrefix, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListAttachedRolePoliciesResponse{AttachedPolicies: out, Marker: p.marker, IsTruncated: p.truncated}, nil
}

// policyEntity is a user, group or role a policy applies to, as
// ListEntitiesForPolicy lists it.
type policyEntity struct {
	class    class
	name, id string
}

func (s *Service) listEntitiesForPolicy(ctx context.Context, in *iamapi.ListEntitiesForPolicyRequest) (*iamapi.ListEntitiesForPolicyResponse, error) {
	acct := account(ctx)
	if err := checkEnum("entityFilter", in.EntityFilter, "User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"); err != nil {
		return nil, err
	}
	if err := checkEnum("policyUsageFilter", in.PolicyUsageFilter, "PermissionsPolicy", "PermissionsBoundary"); err != nil {
		return nil, err
	}
	prefix, err := pathPrefixOf(in.PathPrefix)
	if err != nil {
		return nil, err
	}
	policyARN, filter, usageFilter := *in.PolicyArn, deref(in.EntityFilter), deref(in.PolicyUsageFilter)
	// uses reports whether an entity uses the policy as the filter asks.
	uses := func(e *entity, boundary string) bool {
		if !strings.HasPrefix(e.Path, prefix) {
			return false
		}
		attached, bounds := slices.Contains(e.Attached, policyARN), boundary == policyARN
		switch usageFilter {
		case "PermissionsPolicy":
			return attached
		case "PermissionsBoundary":
			return bounds
		}
		return attached || bounds
	}
	var found []policyEntity
	err = s.store.View(func(tx *store.Tx) error {
		if _, err := loadPolicy(tx, acct, policyARN); err != nil {
			return err
		}
		if filter == "" || filter == "Group" {
			gs, err := store.ListAll[groupRecord](tx, acct, "", kindGroup)
			if err != nil {
				return err
			}
			for _, g := range gs {
				if uses(&g.entity, "") {
					found = append(found, policyEntity{groups, g.Name, g.ID})
				}
			}
		}
		if filter == "" || filter == "Role" {
			rs, err := store.ListAll[roleRecord](tx, acct, "", kindRole)
			if err != nil {
				return err
			}
			for _, r := range rs {
				if uses(&r.entity, r.Boundary) {
					found = append(found, policyEntity{roles, r.Name, r.ID})
				}
			}
		}
		if filter == "" || filter == "User" {
			us, err := store.ListAll[userRecord](tx, acct, "", kindUser)
			if err != nil {
				return err
			}
			for _, u := range us {
				if uses(&u.entity, u.Boundary) {
					found = append(found, policyEntity{users, u.Name, u.ID})
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	p, err := page(found, func(e policyEntity) string { return e.class.noun + "/" + strings.ToLower(e.name) }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListEntitiesForPolicyResponse{
		PolicyGroups: []*iamapi.PolicyGroup{}, PolicyRoles: []*iamapi.PolicyRole{}, PolicyUsers: []*iamapi.PolicyUser{},
		Marker: p.marker, IsTruncated: p.truncated,
	}
	for _, e := range p.items {
		switch e.class.kind {
		case kindGroup:
			out.PolicyGroups = append(out.PolicyGroups, &iamapi.PolicyGroup{GroupName: str(e.name), GroupId: str(e.id)})
		case kindRole:
			out.PolicyRoles = append(out.PolicyRoles, &iamapi.PolicyRole{RoleName: str(e.name), RoleId: str(e.id)})
		case kindUser:
			out.PolicyUsers = append(out.PolicyUsers, &iamapi.PolicyUser{UserName: str(e.name), UserId: str(e.id)})
		}
	}
	return out, nil
}

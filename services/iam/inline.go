package iam

import (
	"context"
	"slices"
	"strings"

	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/policy"
	"github.com/cloudbox/cloudbox/store"
)

// inlineIndex is the index of the inline policy named name (in any case),
// or -1.
func (e *entity) inlineIndex(name string) int {
	return slices.IndexFunc(e.Inline, func(p inlinePolicy) bool { return strings.EqualFold(p.Name, name) })
}

func noSuchInline(c class, name string) error {
	return errorf("NoSuchEntity", "The %s policy with name %s cannot be found.", c.noun, name)
}

// putInline adds or replaces an inline policy of the user, group or role
// named name. The class's quota is on all its inline policies together.
func (s *Service) putInline(ctx context.Context, c class, name, policyName, doc string) error {
	acct := account(ctx)
	if err := checkName("policyName", policyName); err != nil {
		return err
	}
	if err := checkDocument(c.inline, doc); err != nil {
		return err
	}
	return s.store.Update(func(tx *store.Tx) error {
		h, err := c.load(tx, acct, name)
		if err != nil {
			return err
		}
		if serviceLinked(h) {
			return protectedRole(h.common().Name)
		}
		e := h.common()
		p := inlinePolicy{Name: policyName, Document: doc}
		if i := e.inlineIndex(policyName); i >= 0 {
			e.Inline[i] = p
		} else {
			e.Inline = append(e.Inline, p)
		}
		size := 0
		for _, p := range e.Inline {
			size += policy.Size(p.Document)
		}
		if err := policy.CheckInlineSize(c.inline, e.Name, size); err != nil {
			return err
		}
		return c.save(tx, acct, h)
	})
}

func (s *Service) getInline(ctx context.Context, c class, name, policyName string) (inlinePolicy, string, error) {
	acct := account(ctx)
	var (
		p     inlinePolicy
		owner string
	)
	err := s.store.View(func(tx *store.Tx) error {
		h, err := c.load(tx, acct, name)
		if err != nil {
			return err
		}
		e := h.common()
		i := e.inlineIndex(policyName)
		if i < 0 {
			return noSuchInline(c, policyName)
		}
		p, owner = e.Inline[i], e.Name
		return nil
	})
	return p, owner, err
}

func (s *Service) listInline(ctx context.Context, c class, name string, marker *string, maxItems *int64) (paged[string], error) {
	acct := account(ctx)
	var names []string
	err := s.store.View(func(tx *store.Tx) error {
		h, err := c.load(tx, acct, name)
		if err != nil {
			return err
		}
		for _, p := range h.common().Inline {
			names = append(names, p.Name)
		}
		return nil
	})
	if err != nil {
		return paged[string]{}, err
	}
	slices.SortFunc(names, func(a, b string) int { return strings.Compare(strings.ToLower(a), strings.ToLower(b)) })
	return page(names, strings.ToLower, marker, maxItems)
}

func (s *Service) deleteInline(ctx context.Context, c class, name, policyName string) error {
	acct := account(ctx)
	return s.store.Update(func(tx *store.Tx) error {
		h, err := c.load(tx, acct, name)
		if err != nil {
			return err
		}
		if serviceLinked(h) {
			return protectedRole(h.common().Name)
		}
		e := h.common()
		i := e.inlineIndex(policyName)
		if i < 0 {
			return noSuchInline(c, policyName)
		}
		e.Inline = slices.Delete(e.Inline, i, i+1)
		return c.save(tx, acct, h)
	})
}

func (s *Service) putUserPolicy(ctx context.Context, in *iamapi.PutUserPolicyRequest) (*iamapi.PutUserPolicyOutput, error) {
	return &iamapi.PutUserPolicyOutput{}, s.putInline(ctx, users, *in.UserName, *in.PolicyName, *in.PolicyDocument)
}

func (s *Service) putGroupPolicy(ctx context.Context, in *iamapi.PutGroupPolicyRequest) (*iamapi.PutGroupPolicyOutput, error) {
	return &iamapi.PutGroupPolicyOutput{}, s.putInline(ctx, groups, *in.GroupName, *in.PolicyName, *in.PolicyDocument)
}

func (s *Service) putRolePolicy(ctx context.Context, in *iamapi.PutRolePolicyRequest) (*iamapi.PutRolePolicyOutput, error) {
	return &iamapi.PutRolePolicyOutput{}, s.putInline(ctx, roles, *in.RoleName, *in.PolicyName, *in.PolicyDocument)
}

func (s *Service) getUserPolicy(ctx context.Context, in *iamapi.GetUserPolicyRequest) (*iamapi.GetUserPolicyResponse, error) {
	p, owner, err := s.getInline(ctx, users, *in.UserName, *in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &iamapi.GetUserPolicyResponse{UserName: str(owner), PolicyName: str(p.Name), PolicyDocument: str(encodeDocument(p.Document))}, nil
}

func (s *Service) getGroupPolicy(ctx context.Context, in *iamapi.GetGroupPolicyRequest) (*iamapi.GetGroupPolicyResponse, error) {
	p, owner, err := s.getInline(ctx, groups, *in.GroupName, *in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &iamapi.GetGroupPolicyResponse{GroupName: str(owner), PolicyName: str(p.Name), PolicyDocument: str(encodeDocument(p.Document))}, nil
}

func (s *Service) getRolePolicy(ctx context.Context, in *iamapi.GetRolePolicyRequest) (*iamapi.GetRolePolicyResponse, error) {
	p, owner, err := s.getInline(ctx, roles, *in.RoleName, *in.PolicyName)
	if err != nil {
		return nil, err
	}
	return &iamapi.GetRolePolicyResponse{RoleName: str(owner), PolicyName: str(p.Name), PolicyDocument: str(encodeDocument(p.Document))}, nil
}

func (s *Service) listUserPolicies(ctx context.Context, in *iamapi.ListUserPoliciesRequest) (*iamapi.ListUserPoliciesResponse, error) {
	p, err := s.listInline(ctx, users, *in.UserName, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListUserPoliciesResponse{PolicyNames: strs(p.items), Marker: p.marker, IsTruncated: p.truncated}, nil
}

func (s *Service) listGroupPolicies(ctx context.Context, in *iamapi.ListGroupPoliciesRequest) (*iamapi.ListGroupPoliciesResponse, error) {
	p, err := s.listInline(ctx, groups, *in.GroupName, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListGroupPoliciesResponse{PolicyNames: strs(p.items), Marker: p.marker, IsTruncated: p.truncated}, nil
}

func (s *Service) listRolePolicies(ctx context.Context, in *iamapi.ListRolePoliciesRequest) (*iamapi.ListRolePoliciesResponse, error) {
	p, err := s.listInline(ctx, roles, *in.RoleName, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListRolePoliciesResponse{PolicyNames: strs(p.items), Marker: p.marker, IsTruncated: p.truncated}, nil
}

func (s *Service) deleteUserPolicy(ctx context.Context, in *iamapi.DeleteUserPolicyRequest) (*iamapi.DeleteUserPolicyOutput, error) {
	return &iamapi.DeleteUserPolicyOutput{}, s.deleteInline(ctx, users, *in.UserName, *in.PolicyName)
}

func (s *Service) deleteGroupPolicy(ctx context.Context, in *iamapi.DeleteGroupPolicyRequest) (*iamapi.DeleteGroupPolicyOutput, error) {
	return &iamapi.DeleteGroupPolicyOutput{}, s.deleteInline(ctx, groups, *in.GroupName, *in.PolicyName)
}

func (s *Service) deleteRolePolicy(ctx context.Context, in *iamapi.DeleteRolePolicyRequest) (*iamapi.DeleteRolePolicyOutput, error) {
	return &iamapi.DeleteRolePolicyOutput{}, s.deleteInline(ctx, roles, *in.RoleName, *in.PolicyName)
}

// strs is a list of strings as the API carries them.
func strs(ss []string) []*string {
	out := make([]*string, len(ss))
	for i := range ss {
		out[i] = &ss[i]
	}
	return out
}

package iam

import (
	"strings"

	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/authz"
	"github.com/cloudbox/cloudbox/policy"
	"github.com/cloudbox/cloudbox/store"
)

// The authorizer (cloudbox up --iam) reads callers' policies and roles'
// trust policies from IAM's records.
var _ authz.IAMReader = (*Service)(nil)

// identity returns the identity-based policies of the IAM user or role
// session principalARN names: a user's inline and attached policies and
// its groups', or a session's role's; ok is false when there is no such
// user or role.
func (s *Service) identity(principalARN string) (id authz.Identity, ok bool, err error) {
	a, err := arn.Parse(principalARN)
	if err != nil {
		return id, false, nil
	}
	acct := a.Account
	err = s.store.View(func(tx *store.Tx) error {
		switch {
		case a.Service == "iam" && strings.HasPrefix(a.Resource, "user/"):
			name := a.Resource[strings.LastIndexByte(a.Resource, '/')+1:]
			h, found, err := users.find(tx, acct, name)
			if err != nil || !found {
				return err
			}
			u := h.(*userRecord)
			if users.arn(acct, u.Path, u.Name) != principalARN {
				return nil
			}
			ok = true
			if err := addPolicies(tx, acct, &id, users, &u.entity); err != nil {
				return err
			}
			for _, g := range u.Groups {
				h, found, err := groups.find(tx, acct, g)
				if err != nil {
					return err
				}
				if found {
					if err := addPolicies(tx, acct, &id, groups, h.common()); err != nil {
						return err
					}
				}
			}
			id.Tags = tagMap(u.Tags)
			return boundary(tx, acct, &id, u.Boundary)
		case a.Service == "sts" && strings.HasPrefix(a.Resource, "assumed-role/"):
			f := strings.Split(a.Resource, "/")
			if len(f) < 3 {
				return nil
			}
			h, found, err := roles.find(tx, acct, f[1])
			if err != nil || !found {
				return err
			}
			r := h.(*roleRecord)
			ok = true
			id.Parent = roles.arn(acct, r.Path, r.Name)
			if err := addPolicies(tx, acct, &id, roles, &r.entity); err != nil {
				return err
			}
			id.Tags = tagMap(r.Tags)
			return boundary(tx, acct, &id, r.Boundary)
		}
		return nil
	})
	return id, ok, err
}

// RoleTrust returns the role roleARN names (by name, whatever the path
// the ARN gives): its ARN with its path and its trust policy.
func (s *Service) RoleTrust(roleARN string) (roleArn, trust string, ok bool, err error) {
	a, err := arn.Parse(roleARN)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
		return "", "", false, nil
	}
	name := a.Resource[strings.LastIndexByte(a.Resource, '/')+1:]
	err = s.store.View(func(tx *store.Tx) error {
		h, found, err := roles.find(tx, a.Account, name)
		if err != nil || !found {
			return err
		}
		r := h.(*roleRecord)
		roleArn, trust, ok = roles.arn(a.Account, r.Path, r.Name), r.TrustPolicy, true
		return nil
	})
	return roleArn, trust, ok, err
}

// Policy returns the default version of the managed policy policyARN
// names (a session's PolicyArns); ok is false when there is no such
// policy.
func (s *Service) Policy(policyARN string) (doc authz.Document, ok bool, err error) {
	owner, _, _, perr := parsePolicyARN(policyARN)
	if perr != nil {
		return doc, false, nil
	}
	err = s.store.View(func(tx *store.Tx) error {
		doc, ok, err = managedDocument(tx, owner, policyARN)
		return err
	})
	return doc, ok, err
}

// addPolicies adds e's inline and attached policies to id.
func addPolicies(tx *store.Tx, acct string, id *authz.Identity, c class, e *entity) error {
	for _, in := range e.Inline {
		id.Policies = append(id.Policies, authz.Document{Name: c.noun + "/" + e.Name + "/" + in.Name, Kind: c.inline, Text: in.Document})
	}
	for _, pa := range e.Attached {
		d, found, err := managedDocument(tx, acct, pa)
		if err != nil {
			return err
		}
		if found {
			id.Policies = append(id.Policies, d)
		}
	}
	return nil
}

// boundary sets id's permissions boundary, if policyARN names one.
func boundary(tx *store.Tx, acct string, id *authz.Identity, policyARN string) error {
	if policyARN == "" {
		return nil
	}
	d, found, err := managedDocument(tx, acct, policyARN)
	if err != nil || !found {
		return err
	}
	id.Boundary = &d
	return nil
}

// managedDocument is the default version of a managed policy.
func managedDocument(tx *store.Tx, acct, policyARN string) (authz.Document, bool, error) {
	p, found, err := findPolicy(tx, acct, policyARN)
	if err != nil || !found {
		return authz.Document{}, false, err
	}
	v := p.version(p.Default)
	if v == nil {
		return authz.Document{}, false, nil
	}
	return authz.Document{Name: policyARN, Kind: policy.Managed, AWSManaged: p.aws, Text: v.Document}, true, nil
}

func tagMap(ts []tag) map[string]string {
	if len(ts) == 0 {
		return nil
	}
	m := make(map[string]string, len(ts))
	for _, t := range ts {
		m[t.Key] = t.Value
	}
	return m
}

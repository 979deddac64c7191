package iam

import (
	"context"
	"strconv"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/policy"
	"github.com/cloudbox/cloudbox/store"
)

// maxVersions is the number of versions a managed policy may keep.
const maxVersions = 5

// parsePolicyARN splits a managed policy's ARN into its owner ("aws" or
// an account), path and name.
func parsePolicyARN(s string) (owner, path, name string, err error) {
	a, perr := arn.Parse(s)
	rest, ok := strings.CutPrefix(a.Resource, "policy/")
	if perr != nil || a.Service != "iam" || a.Region != "" || !ok || rest == "" {
		return "", "", "", errorf("InvalidInput", "ARN %s is not valid.", s)
	}
	i := strings.LastIndexByte(rest, '/')
	return a.Account, "/" + rest[:i+1], rest[i+1:], nil
}

// findPolicy returns the managed policy policyARN names: one of AWS's, or
// one of acct's. ok is false when there is none.
func findPolicy(tx *store.Tx, acct, policyARN string) (p *policyRecord, ok bool, err error) {
	owner, path, name, err := parsePolicyARN(policyARN)
	if err != nil {
		return nil, false, err
	}
	switch owner {
	case "aws":
		p, ok = awsPolicies[policyARN]
		return p, ok, nil
	case acct:
		p, ok, err = store.Get[policyRecord](tx, key(acct, kindPolicy, name))
		if err != nil || !ok || p.Path != path || p.Name != name {
			return nil, false, err
		}
		return p, true, nil
	}
	return nil, false, nil
}

// loadPolicy is findPolicy for the calls that read a policy (GetPolicy,
// its versions, ListEntitiesForPolicy).
func loadPolicy(tx *store.Tx, acct, policyARN string) (*policyRecord, error) {
	p, ok, err := findPolicy(tx, acct, policyARN)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errorf("NoSuchEntity", "Policy %s was not found.", policyARN)
	}
	return p, nil
}

// customerPolicy is loadPolicy for the calls that change a policy: AWS's
// cannot be changed.
func customerPolicy(tx *store.Tx, acct, policyARN string) (*policyRecord, error) {
	p, err := loadPolicy(tx, acct, policyARN)
	if err != nil {
		return nil, err
	}
	if p.aws {
		return nil, errorf("InvalidInput", "ARN %s is not valid.", policyARN)
	}
	return p, nil
}

func savePolicy(tx *store.Tx, acct string, p *policyRecord) error {
	return tx.Put(key(acct, kindPolicy, p.Name), p)
}

// attachable checks that a managed policy may be attached to a user, group
// or role: service role policies are for service-linked roles alone, which
// their services make.
func attachable(tx *store.Tx, acct, policyARN string) error {
	p, ok, err := findPolicy(tx, acct, policyARN)
	switch {
	case err != nil:
		return err
	case !ok:
		return errorf("NoSuchEntity", "Policy %s does not exist or is not attachable.", policyARN)
	case p.serviceRolePolicy():
		return errorf("PolicyNotAttachable", "Cannot attach a Service Role Policy to a Customer Role.")
	}
	return nil
}

// boundaryPolicy checks a permissions boundary's ARN and returns it.
func boundaryPolicy(tx *store.Tx, acct, policyARN string) (string, error) {
	p, ok, err := findPolicy(tx, acct, policyARN)
	if err != nil {
		return "", err
	}
	if !ok || p.serviceRolePolicy() {
		return "", errorf("NoSuchEntity", "Scope ARN: %s does not exist or is not attachable.", policyARN)
	}
	return policyARN, nil
}

// usage is how an account uses managed policies, by ARN: the users,
// groups and roles each is attached to, and those it bounds.
type usage struct {
	attached, bounds map[string]int
}

func usageOf(tx *store.Tx, acct string) (usage, error) {
	u := usage{attached: map[string]int{}, bounds: map[string]int{}}
	us, err := store.ListAll[userRecord](tx, acct, "", kindUser)
	if err != nil {
		return u, err
	}
	for _, r := range us {
		u.add(&r.entity, r.Boundary)
	}
	gs, err := store.ListAll[groupRecord](tx, acct, "", kindGroup)
	if err != nil {
		return u, err
	}
	for _, r := range gs {
		u.add(&r.entity, "")
	}
	rs, err := store.ListAll[roleRecord](tx, acct, "", kindRole)
	if err != nil {
		return u, err
	}
	for _, r := range rs {
		u.add(&r.entity, r.Boundary)
	}
	return u, nil
}

func (u usage) add(e *entity, boundary string) {
	for _, a := range e.Attached {
		u.attached[a]++
	}
	if boundary != "" {
		u.bounds[boundary]++
	}
}

// api is the policy as GetPolicy and ListPolicies show it.
func (p *policyRecord) api(acct string, use usage) *iamapi.Policy {
	a := p.arn(acct)
	out := &iamapi.Policy{
		PolicyName: str(p.Name), PolicyId: str(p.ID), Arn: str(a), Path: str(p.Path),
		DefaultVersionId: str(p.Default), AttachmentCount: i64(int64(use.attached[a])),
		PermissionsBoundaryUsageCount: i64(int64(use.bounds[a])), IsAttachable: boolp(true),
		CreateDate: timePtr(p.Created), UpdateDate: timePtr(p.Updated),
	}
	if p.Description != "" {
		out.Description = str(p.Description)
	}
	if len(p.Tags) > 0 {
		out.Tags = apiTags(p.Tags)
	}
	return out
}

func (v *policyVersion) api(isDefault bool) *iamapi.PolicyVersion {
	return &iamapi.PolicyVersion{VersionId: str(v.ID), Document: str(encodeDocument(v.Document)), IsDefaultVersion: boolp(isDefault), CreateDate: timePtr(v.Created)}
}

func (s *Service) createPolicy(ctx context.Context, in *iamapi.CreatePolicyRequest) (*iamapi.CreatePolicyResponse, error) {
	acct, name := account(ctx), *in.PolicyName
	if err := checkName("policyName", name); err != nil {
		return nil, err
	}
	path, err := policyPathOf(in.Path)
	if err != nil {
		return nil, err
	}
	if err := checkDocument(policy.Managed, *in.PolicyDocument); err != nil {
		return nil, err
	}
	tags, err := newTags(in.Tags)
	if err != nil {
		return nil, err
	}
	now := s.nowUTC()
	p := &policyRecord{
		Name: name, Path: path, ID: newID("ANPA"), Description: deref(in.Description),
		Created: now, Updated: now, Default: "v1", Next: 2, Tags: tags,
		Versions: []policyVersion{{ID: "v1", Document: *in.PolicyDocument, Created: now}},
	}
	err = s.store.Update(func(tx *store.Tx) error {
		taken := errorf("EntityAlreadyExists", "A policy called %s already exists. Duplicate names are not allowed.", name)
		if err := unused(tx, acct, kindPolicy, name, taken); err != nil {
			return err
		}
		return savePolicy(tx, acct, p)
	})
	if err != nil {
		return nil, err
	}
	out := p.api(acct, usage{})
	out.Description = nil // CreatePolicy does not echo it
	return &iamapi.CreatePolicyResponse{Policy: out}, nil
}

func (s *Service) getPolicy(ctx context.Context, in *iamapi.GetPolicyRequest) (*iamapi.GetPolicyResponse, error) {
	acct := account(ctx)
	var out *iamapi.Policy
	err := s.store.View(func(tx *store.Tx) error {
		p, err := loadPolicy(tx, acct, *in.PolicyArn)
		if err != nil {
			return err
		}
		use, err := usageOf(tx, acct)
		out = p.api(acct, use)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetPolicyResponse{Policy: out}, nil
}

// checkEnum checks an enumerated member (the model's enums are not checked
// before the handler).
func checkEnum(member string, v *string, values ...string) error {
	if v == nil {
		return nil
	}
	for _, ok := range values {
		if *v == ok {
			return nil
		}
	}
	return validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", *v, member, strings.Join(values, ", "))
}

func (s *Service) listPolicies(ctx context.Context, in *iamapi.ListPoliciesRequest) (*iamapi.ListPoliciesResponse, error) {
	acct := account(ctx)
	if err := checkEnum("scope", in.Scope, "All", "AWS", "Local"); err != nil {
		return nil, err
	}
	if err := checkEnum("policyUsageFilter", in.PolicyUsageFilter, "PermissionsPolicy", "PermissionsBoundary"); err != nil {
		return nil, err
	}
	prefix, err := pathPrefixOf(in.PathPrefix)
	if err != nil {
		return nil, err
	}
	scope := deref(in.Scope)
	var (
		all []*policyRecord
		use usage
	)
	err = s.store.View(func(tx *store.Tx) error {
		if scope != "Local" {
			all = append(all, awsPolicyList...)
		}
		if scope != "AWS" {
			local, err := store.ListAll[policyRecord](tx, acct, "", kindPolicy)
			if err != nil {
				return err
			}
			all = append(all, local...)
		}
		use, err = usageOf(tx, acct)
		return err
	})
	if err != nil {
		return nil, err
	}
	var shown []*policyRecord
	for _, p := range all {
		a := p.arn(acct)
		switch {
		case !strings.HasPrefix(p.Path, prefix),
			in.OnlyAttached != nil && *in.OnlyAttached && use.attached[a] == 0,
			deref(in.PolicyUsageFilter) == "PermissionsBoundary" && use.bounds[a] == 0:
			continue
		}
		shown = append(shown, p)
	}
	pg, err := page(shown, policyPosition, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListPoliciesResponse{Policies: []*iamapi.Policy{}, Marker: pg.marker, IsTruncated: pg.truncated}
	for _, p := range pg.items {
		v := p.api(acct, use)
		v.Description, v.Tags = nil, nil // ListPolicies shows neither
		out.Policies = append(out.Policies, v)
	}
	return out, nil
}

// policyPosition orders AWS's policies before the account's, each by name.
func policyPosition(p *policyRecord) string {
	if p.aws {
		return "a/" + strings.ToLower(p.Name)
	}
	return "l/" + strings.ToLower(p.Name)
}

func (s *Service) deletePolicy(ctx context.Context, in *iamapi.DeletePolicyRequest) (*iamapi.DeletePolicyOutput, error) {
	acct := account(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		p, err := customerPolicy(tx, acct, *in.PolicyArn)
		if err != nil {
			return err
		}
		use, err := usageOf(tx, acct)
		if err != nil {
			return err
		}
		a := p.arn(acct)
		switch {
		case use.attached[a] > 0 || use.bounds[a] > 0:
			return deleteConflict("Cannot delete a policy attached to entities.")
		case len(p.Versions) > 1:
			return deleteConflict("This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")
		}
		_, err = tx.Delete(key(acct, kindPolicy, p.Name))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeletePolicyOutput{}, nil
}

func (s *Service) createPolicyVersion(ctx context.Context, in *iamapi.CreatePolicyVersionRequest) (*iamapi.CreatePolicyVersionResponse, error) {
	acct := account(ctx)
	if err := checkDocument(policy.Managed, *in.PolicyDocument); err != nil {
		return nil, err
	}
	var v policyVersion
	isDefault := in.SetAsDefault != nil && *in.SetAsDefault
	err := s.store.Update(func(tx *store.Tx) error {
		p, err := customerPolicy(tx, acct, *in.PolicyArn)
		if err != nil {
			return err
		}
		if len(p.Versions) >= maxVersions {
			return limitExceeded("A managed policy can have up to %d versions. Before you create a new version, you must delete an existing version.", maxVersions)
		}
		v = policyVersion{ID: "v" + strconv.Itoa(p.Next), Document: *in.PolicyDocument, Created: s.nowUTC()}
		p.Versions = append(p.Versions, v)
		p.Next++
		if isDefault {
			p.Default, p.Updated = v.ID, v.Created
		}
		return savePolicy(tx, acct, p)
	})
	if err != nil {
		return nil, err
	}
	out := v.api(isDefault)
	out.Document = nil // CreatePolicyVersion does not echo it
	return &iamapi.CreatePolicyVersionResponse{PolicyVersion: out}, nil
}

// noSuchVersion is IAM's answer for a version a policy does not have.
func noSuchVersion(policyARN, id string) *api.Error {
	return errorf("NoSuchEntity", "Policy %s version %s does not exist or is not attachable.", policyARN, id)
}

func (s *Service) getPolicyVersion(ctx context.Context, in *iamapi.GetPolicyVersionRequest) (*iamapi.GetPolicyVersionResponse, error) {
	acct := account(ctx)
	if err := checkVersionID(*in.VersionId); err != nil {
		return nil, err
	}
	var out *iamapi.PolicyVersion
	err := s.store.View(func(tx *store.Tx) error {
		p, err := loadPolicy(tx, acct, *in.PolicyArn)
		if err != nil {
			return err
		}
		v := p.version(*in.VersionId)
		if v == nil {
			return noSuchVersion(*in.PolicyArn, *in.VersionId)
		}
		out = v.api(v.ID == p.Default)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetPolicyVersionResponse{PolicyVersion: out}, nil
}

func (s *Service) listPolicyVersions(ctx context.Context, in *iamapi.ListPolicyVersionsRequest) (*iamapi.ListPolicyVersionsResponse, error) {
	acct := account(ctx)
	var p *policyRecord
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		p, err = loadPolicy(tx, acct, *in.PolicyArn)
		return err
	})
	if err != nil {
		return nil, err
	}
	// Newest first, as IAM lists them.
	versions := make([]policyVersion, 0, len(p.Versions))
	for i := len(p.Versions) - 1; i >= 0; i-- {
		versions = append(versions, p.Versions[i])
	}
	pg, err := pageInOrder(versions, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListPolicyVersionsResponse{Versions: []*iamapi.PolicyVersion{}, Marker: pg.marker, IsTruncated: pg.truncated}
	for _, v := range pg.items {
		a := v.api(v.ID == p.Default)
		a.Document = nil // ListPolicyVersions does not show documents
		out.Versions = append(out.Versions, a)
	}
	return out, nil
}

func (s *Service) deletePolicyVersion(ctx context.Context, in *iamapi.DeletePolicyVersionRequest) (*iamapi.DeletePolicyVersionOutput, error) {
	acct := account(ctx)
	if err := checkVersionID(*in.VersionId); err != nil {
		return nil, err
	}
	err := s.store.Update(func(tx *store.Tx) error {
		p, err := customerPolicy(tx, acct, *in.PolicyArn)
		if err != nil {
			return err
		}
		if p.version(*in.VersionId) == nil {
			return noSuchVersion(*in.PolicyArn, *in.VersionId)
		}
		if *in.VersionId == p.Default {
			return deleteConflict("Cannot delete the default version of a policy.")
		}
		for i := range p.Versions {
			if p.Versions[i].ID == *in.VersionId {
				p.Versions = append(p.Versions[:i], p.Versions[i+1:]...)
				break
			}
		}
		return savePolicy(tx, acct, p)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeletePolicyVersionOutput{}, nil
}

func (s *Service) setDefaultPolicyVersion(ctx context.Context, in *iamapi.SetDefaultPolicyVersionRequest) (*iamapi.SetDefaultPolicyVersionOutput, error) {
	acct := account(ctx)
	if err := checkVersionID(*in.VersionId); err != nil {
		return nil, err
	}
	err := s.store.Update(func(tx *store.Tx) error {
		p, err := customerPolicy(tx, acct, *in.PolicyArn)
		if err != nil {
			return err
		}
		if p.version(*in.VersionId) == nil {
			return noSuchVersion(*in.PolicyArn, *in.VersionId)
		}
		p.Default, p.Updated = *in.VersionId, s.nowUTC()
		return savePolicy(tx, acct, p)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.SetDefaultPolicyVersionOutput{}, nil
}

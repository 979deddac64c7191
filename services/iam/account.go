package iam

import (
	"context"
	"strings"

	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/policy"
	"github.com/cloudbox/cloudbox/store"
)

// aliasID is the id of an account's kindAlias record: it has one alias.
const aliasID = "alias"

func (s *Service) createAccountAlias(ctx context.Context, in *iamapi.CreateAccountAliasRequest) (*iamapi.CreateAccountAliasOutput, error) {
	acct, alias := account(ctx), *in.AccountAlias
	if err := checkAlias(alias); err != nil {
		return nil, err
	}
	err := s.store.Update(func(tx *store.Tx) error {
		owner, ok, err := store.Get[aliasRecord](tx, store.Key{Account: aliasOwner, Kind: kindAliasOwner, ID: alias})
		switch {
		case err != nil:
			return err
		case ok && owner.Account != acct:
			return errorf("EntityAlreadyExists", "The account alias %s already exists.", alias)
		case ok:
			return nil // the account's alias already
		}
		// An account has one alias: a new one replaces it.
		old, ok, err := store.Get[aliasRecord](tx, store.Key{Account: acct, Kind: kindAlias, ID: aliasID})
		if err != nil {
			return err
		}
		if ok {
			if _, err := tx.Delete(store.Key{Account: aliasOwner, Kind: kindAliasOwner, ID: old.Alias}); err != nil {
				return err
			}
		}
		rec := aliasRecord{Alias: alias, Account: acct}
		if err := tx.Put(store.Key{Account: aliasOwner, Kind: kindAliasOwner, ID: alias}, rec); err != nil {
			return err
		}
		return tx.Put(store.Key{Account: acct, Kind: kindAlias, ID: aliasID}, rec)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateAccountAliasOutput{}, nil
}

func (s *Service) deleteAccountAlias(ctx context.Context, in *iamapi.DeleteAccountAliasRequest) (*iamapi.DeleteAccountAliasOutput, error) {
	acct, alias := account(ctx), *in.AccountAlias
	err := s.store.Update(func(tx *store.Tx) error {
		have, ok, err := store.Get[aliasRecord](tx, store.Key{Account: acct, Kind: kindAlias, ID: aliasID})
		if err != nil {
			return err
		}
		if !ok || have.Alias != alias {
			return errorf("NoSuchEntity", "The account alias %s cannot be found.", alias)
		}
		if _, err := tx.Delete(store.Key{Account: aliasOwner, Kind: kindAliasOwner, ID: alias}); err != nil {
			return err
		}
		_, err = tx.Delete(store.Key{Account: acct, Kind: kindAlias, ID: aliasID})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteAccountAliasOutput{}, nil
}

func (s *Service) listAccountAliases(ctx context.Context, _ *iamapi.ListAccountAliasesRequest) (*iamapi.ListAccountAliasesResponse, error) {
	acct := account(ctx)
	out := &iamapi.ListAccountAliasesResponse{AccountAliases: []*string{}, IsTruncated: boolp(false)}
	err := s.store.View(func(tx *store.Tx) error {
		a, ok, err := store.Get[aliasRecord](tx, store.Key{Account: acct, Kind: kindAlias, ID: aliasID})
		if ok {
			out.AccountAliases = append(out.AccountAliases, str(a.Alias))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// quotas are the account's IAM quotas as GetAccountSummary reports them:
// AWS's defaults, which cloudbox enforces where it has the resource.
var quotas = map[string]int64{
	"UsersQuota":                      5000,
	"GroupsQuota":                     300,
	"RolesQuota":                      1000,
	"PoliciesQuota":                   1500,
	"InstanceProfilesQuota":           1000,
	"ServerCertificatesQuota":         20,
	"AccessKeysPerUserQuota":          maxKeysPerUser,
	"AttachedPoliciesPerUserQuota":    maxAttached,
	"AttachedPoliciesPerGroupQuota":   maxAttached,
	"AttachedPoliciesPerRoleQuota":    maxAttached,
	"GroupsPerUserQuota":              maxGroupsPerUser,
	"UserPolicySizeQuota":             policy.UserInlineSize,
	"GroupPolicySizeQuota":            policy.GroupInlineSize,
	"RolePolicySizeQuota":             policy.RoleInlineSize,
	"PolicySizeQuota":                 policy.ManagedPolicySize,
	"AssumeRolePolicySizeQuota":       policy.TrustPolicySize,
	"VersionsPerPolicyQuota":          maxVersions,
	"PolicyVersionsInUseQuota":        10000,
	"SigningCertificatesPerUserQuota": 2,
	"GlobalEndpointTokenVersion":      1,
}

func (s *Service) getAccountSummary(ctx context.Context, _ *iamapi.GetAccountSummaryInput) (*iamapi.GetAccountSummaryResponse, error) {
	acct := account(ctx)
	m := map[string]*int64{}
	for k, v := range quotas {
		m[k] = i64(v)
	}
	// The root user has no MFA device, keys or signing certificates here.
	for _, k := range []string{"AccountMFAEnabled", "AccountAccessKeysPresent", "AccountSigningCertificatesPresent", "Providers"} {
		m[k] = i64(0)
	}
	err := s.store.View(func(tx *store.Tx) error {
		for name, kind := range map[string]string{"Users": kindUser, "Groups": kindGroup, "Roles": kindRole, "Policies": kindPolicy, "InstanceProfiles": kindProfile} {
			n, err := tx.Count(acct, "", kind)
			if err != nil {
				return err
			}
			m[name] = i64(int64(n))
		}
		ps, err := store.ListAll[policyRecord](tx, acct, "", kindPolicy)
		versions := 0
		for _, p := range ps {
			versions += len(p.Versions)
		}
		m["PolicyVersionsInUse"] = i64(int64(versions))
		if err != nil {
			return err
		}
		return credentialSummary(tx, acct, m)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetAccountSummaryResponse{SummaryMap: m}, nil
}

// detail is one item of GetAccountAuthorizationDetails, in its order:
// users, groups, roles, then policies.
type detail struct {
	pos    string
	user   *userRecord
	group  *groupRecord
	role   *roleRecord
	policy *policyRecord
}

func (s *Service) getAccountAuthorizationDetails(ctx context.Context, in *iamapi.GetAccountAuthorizationDetailsRequest) (*iamapi.GetAccountAuthorizationDetailsResponse, error) {
	acct := account(ctx)
	want := map[string]bool{}
	for _, f := range in.Filter {
		if err := checkEnum("filter", f, "User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"); err != nil {
			return nil, err
		}
		want[*f] = true
	}
	all := len(want) == 0
	out := &iamapi.GetAccountAuthorizationDetailsResponse{
		UserDetailList: []*iamapi.UserDetail{}, GroupDetailList: []*iamapi.GroupDetail{},
		RoleDetailList: []*iamapi.RoleDetail{}, Policies: []*iamapi.ManagedPolicyDetail{},
	}
	err := s.store.View(func(tx *store.Tx) error {
		var items []detail
		if all || want["User"] {
			us, err := store.ListAll[userRecord](tx, acct, "", kindUser)
			if err != nil {
				return err
			}
			for _, u := range us {
				items = append(items, detail{pos: "1/" + strings.ToLower(u.Name), user: u})
			}
		}
		if all || want["Group"] {
			gs, err := store.ListAll[groupRecord](tx, acct, "", kindGroup)
			if err != nil {
				return err
			}
			for _, g := range gs {
				items = append(items, detail{pos: "2/" + strings.ToLower(g.Name), group: g})
			}
		}
		if all || want["Role"] {
			rs, err := store.ListAll[roleRecord](tx, acct, "", kindRole)
			if err != nil {
				return err
			}
			for _, r := range rs {
				items = append(items, detail{pos: "3/" + strings.ToLower(r.Name), role: r})
			}
		}
		use, err := usageOf(tx, acct)
		if err != nil {
			return err
		}
		if all || want["AWSManagedPolicy"] {
			// AWS's policies as far as the account uses them.
			for _, p := range awsPolicyList {
				if a := p.arn(acct); use.attached[a] > 0 || use.bounds[a] > 0 {
					items = append(items, detail{pos: "4/" + policyPosition(p), policy: p})
				}
			}
		}
		if all || want["LocalManagedPolicy"] {
			ps, err := store.ListAll[policyRecord](tx, acct, "", kindPolicy)
			if err != nil {
				return err
			}
			for _, p := range ps {
				items = append(items, detail{pos: "4/" + policyPosition(p), policy: p})
			}
		}
		pg, err := page(items, func(d detail) string { return d.pos }, in.Marker, in.MaxItems)
		if err != nil {
			return err
		}
		out.Marker, out.IsTruncated = pg.marker, pg.truncated
		for _, d := range pg.items {
			switch {
			case d.user != nil:
				ud, err := userDetail(tx, acct, d.user)
				if err != nil {
					return err
				}
				out.UserDetailList = append(out.UserDetailList, ud)
			case d.group != nil:
				out.GroupDetailList = append(out.GroupDetailList, groupDetail(acct, d.group))
			case d.role != nil:
				rd, err := roleDetail(tx, acct, d.role)
				if err != nil {
					return err
				}
				out.RoleDetailList = append(out.RoleDetailList, rd)
			case d.policy != nil:
				out.Policies = append(out.Policies, policyDetail(acct, d.policy, use))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func inlineDetails(ps []inlinePolicy) []*iamapi.PolicyDetail {
	out := []*iamapi.PolicyDetail{}
	for _, p := range ps {
		out = append(out, &iamapi.PolicyDetail{PolicyName: str(p.Name), PolicyDocument: str(encodeDocument(p.Document))})
	}
	return out
}

func attachedDetails(arns []string) []*iamapi.AttachedPolicy {
	out := []*iamapi.AttachedPolicy{}
	for _, a := range arns {
		out = append(out, attachedAPI(a))
	}
	return out
}

func userDetail(tx *store.Tx, acct string, u *userRecord) (*iamapi.UserDetail, error) {
	out := &iamapi.UserDetail{
		UserName: str(u.Name), UserId: str(u.ID), Path: str(u.Path), Arn: str(users.arn(acct, u.Path, u.Name)),
		CreateDate: timePtr(u.Created), UserPolicyList: inlineDetails(u.Inline), AttachedManagedPolicies: attachedDetails(u.Attached),
		GroupList: []*string{}, PermissionsBoundary: boundaryAPI(u.Boundary), Tags: apiTags(u.Tags),
	}
	for _, k := range u.Groups {
		g, err := loadGroup(tx, acct, k)
		if err != nil {
			return nil, err
		}
		out.GroupList = append(out.GroupList, str(g.Name))
	}
	return out, nil
}

func groupDetail(acct string, g *groupRecord) *iamapi.GroupDetail {
	return &iamapi.GroupDetail{
		GroupName: str(g.Name), GroupId: str(g.ID), Path: str(g.Path), Arn: str(groups.arn(acct, g.Path, g.Name)),
		CreateDate: timePtr(g.Created), GroupPolicyList: inlineDetails(g.Inline), AttachedManagedPolicies: attachedDetails(g.Attached),
	}
}

func roleDetail(tx *store.Tx, acct string, r *roleRecord) (*iamapi.RoleDetail, error) {
	out := &iamapi.RoleDetail{
		RoleName: str(r.Name), RoleId: str(r.ID), Path: str(r.Path), Arn: str(roles.arn(acct, r.Path, r.Name)),
		CreateDate: timePtr(r.Created), AssumeRolePolicyDocument: str(encodeDocument(r.TrustPolicy)),
		RolePolicyList: inlineDetails(r.Inline), AttachedManagedPolicies: attachedDetails(r.Attached),
		PermissionsBoundary: boundaryAPI(r.Boundary), Tags: apiTags(r.Tags), RoleLastUsed: &iamapi.RoleLastUsed{},
		InstanceProfileList: []*iamapi.InstanceProfile{},
	}
	ps, err := profilesOf(tx, acct, strings.ToLower(r.Name))
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		a, err := p.api(tx, acct, false)
		if err != nil {
			return nil, err
		}
		out.InstanceProfileList = append(out.InstanceProfileList, a)
	}
	return out, nil
}

func policyDetail(acct string, p *policyRecord, use usage) *iamapi.ManagedPolicyDetail {
	a := p.api(acct, use)
	out := &iamapi.ManagedPolicyDetail{
		PolicyName: a.PolicyName, PolicyId: a.PolicyId, Arn: a.Arn, Path: a.Path, DefaultVersionId: a.DefaultVersionId,
		AttachmentCount: a.AttachmentCount, PermissionsBoundaryUsageCount: a.PermissionsBoundaryUsageCount,
		IsAttachable: a.IsAttachable, Description: a.Description, CreateDate: a.CreateDate, UpdateDate: a.UpdateDate,
		PolicyVersionList: []*iamapi.PolicyVersion{},
	}
	for i := range p.Versions {
		v := &p.Versions[i]
		out.PolicyVersionList = append(out.PolicyVersionList, v.api(v.ID == p.Default))
	}
	return out
}

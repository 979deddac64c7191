package ec2

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// registerSecurity registers the operations of security groups, network
// interfaces, Elastic IPs, NAT gateways and key pairs.
func (s *Service) registerSecurity(h *ec2api.Handlers) {
	h.CreateSecurityGroup = s.CreateSecurityGroup
	h.DeleteSecurityGroup = s.DeleteSecurityGroup
	h.DescribeSecurityGroups = s.DescribeSecurityGroups
	h.AuthorizeSecurityGroupIngress = s.AuthorizeSecurityGroupIngress
	h.AuthorizeSecurityGroupEgress = s.AuthorizeSecurityGroupEgress
	h.RevokeSecurityGroupIngress = s.RevokeSecurityGroupIngress
	h.RevokeSecurityGroupEgress = s.RevokeSecurityGroupEgress
	h.DescribeSecurityGroupRules = s.DescribeSecurityGroupRules
	h.ModifySecurityGroupRules = s.ModifySecurityGroupRules
	h.UpdateSecurityGroupRuleDescriptionsIngress = s.UpdateSecurityGroupRuleDescriptionsIngress
	h.UpdateSecurityGroupRuleDescriptionsEgress = s.UpdateSecurityGroupRuleDescriptionsEgress

	h.CreateNetworkInterface = s.CreateNetworkInterface
	h.DeleteNetworkInterface = s.DeleteNetworkInterface
	h.DescribeNetworkInterfaces = s.DescribeNetworkInterfaces
	h.ModifyNetworkInterfaceAttribute = s.ModifyNetworkInterfaceAttribute
	h.DescribeNetworkInterfaceAttribute = s.DescribeNetworkInterfaceAttribute
	h.AssignPrivateIpAddresses = s.AssignPrivateIpAddresses
	h.UnassignPrivateIpAddresses = s.UnassignPrivateIpAddresses
	h.AttachNetworkInterface = s.AttachNetworkInterface
	h.DetachNetworkInterface = s.DetachNetworkInterface

	h.AllocateAddress = s.AllocateAddress
	h.ReleaseAddress = s.ReleaseAddress
	h.AssociateAddress = s.AssociateAddress
	h.DisassociateAddress = s.DisassociateAddress
	h.DescribeAddresses = s.DescribeAddresses

	h.CreateNatGateway = s.CreateNatGateway
	h.DeleteNatGateway = s.DeleteNatGateway
	h.DescribeNatGateways = s.DescribeNatGateways

	h.CreateKeyPair = s.CreateKeyPair
	h.ImportKeyPair = s.ImportKeyPair
	h.DescribeKeyPairs = s.DescribeKeyPairs
	h.DeleteKeyPair = s.DeleteKeyPair
}

// findDefaultVPC returns the region's default VPC, or nil if there is none
// (it was deleted).
func findDefaultVPC(tx *store.Tx, sc scope) (*vpcRecord, error) {
	vpcs, err := listAll[vpcRecord](tx, sc, kindVPC)
	if err != nil {
		return nil, err
	}
	for _, v := range vpcs {
		if v.IsDefault != nil && *v.IsDefault {
			return v, nil
		}
	}
	return nil, nil
}

// groupByName returns the group of a VPC with that name, or nil.
func groupByName(tx *store.Tx, sc scope, vpcID, name string) (*securityGroupRecord, error) {
	var groups []*securityGroupRecord
	if ids, ok := tx.Lookup(sc.account, sc.region, kindSG.store, sgIndex, "name:"+name); ok {
		var err error
		if groups, err = loadSome[securityGroupRecord](tx, sc, kindSG, ids); err != nil {
			return nil, err
		}
		return sameGroup(groups, vpcID, name), nil
	}
	// Without the index, only groups whose bytes hold the name are
	// decoded: creating the thousandth group must not decode the other 999.
	enc, err := json.Marshal(name)
	if err != nil {
		return nil, err
	}
	field := append([]byte(`"GroupName":`), enc...)
	groups, err = listMatching[securityGroupRecord](tx, sc, kindSG, func(raw []byte) bool { return bytes.Contains(raw, field) })
	if err != nil {
		return nil, err
	}
	return sameGroup(groups, vpcID, name), nil
}

func sameGroup(groups []*securityGroupRecord, vpcID, name string) *securityGroupRecord {
	for _, g := range groups {
		if deref(g.VpcId) == vpcID && deref(g.GroupName) == name {
			return g
		}
	}
	return nil
}

// sgIndex is the store index of security groups: "name:<GroupName>" and
// "vpc:<VpcId>", what DescribeSecurityGroups' commonest filters and the
// name checks of every create look up.
const sgIndex = "sg"

func sgIndexValues(raw []byte) []string {
	var g struct{ GroupName, VpcId string }
	if json.Unmarshal(raw, &g) != nil {
		return nil
	}
	return []string{"name:" + g.GroupName, "vpc:" + g.VpcId}
}

// sgFilterIndex maps DescribeSecurityGroups' filters to sgIndex values.
var sgFilterIndex = map[string]string{"group-name": "name:", "vpc-id": "vpc:"}

// loadGroupParam loads the group a request names by GroupId or, for the
// default VPC only as in AWS, by GroupName.
func loadGroupParam(tx *store.Tx, sc scope, id, name *string) (*securityGroupRecord, error) {
	if deref(id) != "" {
		return load[securityGroupRecord](tx, sc, kindSG, *id)
	}
	if deref(name) == "" {
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter groupName or groupId")
	}
	v, err := findDefaultVPC(tx, sc)
	if err != nil {
		return nil, err
	}
	if v == nil {
		return nil, api.Errorf("InvalidGroup.NotFound", "The security group '%s' does not exist", *name)
	}
	g, err := groupByName(tx, sc, *v.VpcId, *name)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return nil, api.Errorf("InvalidGroup.NotFound", "The security group '%s' does not exist in default VPC '%s'", *name, *v.VpcId)
	}
	return g, nil
}

// groupView is the group as DescribeSecurityGroups shows it.
func groupView(g *securityGroupRecord) *ec2api.SecurityGroup {
	out := g.SecurityGroup
	out.IpPermissions = permissionsOf(g.Rules, false)
	out.IpPermissionsEgress = permissionsOf(g.Rules, true)
	return &out
}

func (s *Service) CreateSecurityGroup(ctx context.Context, in *ec2api.CreateSecurityGroupRequest) (*ec2api.CreateSecurityGroupResult, error) {
	sc := scopeOf(ctx)
	name, desc := deref(in.GroupName), deref(in.Description)
	if name == "" {
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter GroupName")
	}
	if desc == "" {
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter GroupDescription")
	}
	if err := checkGroupText("GroupName", name); err != nil {
		return nil, err
	}
	if err := checkGroupText("GroupDescription", desc); err != nil {
		return nil, err
	}
	if strings.HasPrefix(strings.ToLower(name), "sg-") {
		return nil, invalidParameter("Group names may not be in the format sg-*.")
	}
	if name == "default" {
		return nil, api.Errorf("InvalidGroup.Reserved", "The security group name 'default' is reserved.")
	}
	tags, err := tagsFor(in.TagSpecifications, "security-group")
	if err != nil {
		return nil, err
	}
	var g *securityGroupRecord
	err = s.store.Update(func(tx *store.Tx) error {
		var v *vpcRecord
		var err error
		if deref(in.VpcId) != "" {
			v, err = load[vpcRecord](tx, sc, kindVPC, *in.VpcId)
		} else if v, err = findDefaultVPC(tx, sc); err == nil && v == nil {
			err = api.Errorf("VPCIdNotSpecified", "No default VPC for this user")
		}
		if err != nil {
			return err
		}
		dup, err := groupByName(tx, sc, *v.VpcId, name)
		if err != nil {
			return err
		}
		if dup != nil {
			return api.Errorf("InvalidGroup.Duplicate", "The security group '%s' already exists for VPC '%s'", name, *v.VpcId)
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		g = newSecurityGroup(sc, *v.VpcId, name, desc, tags)
		g.Rules = []*ec2api.SecurityGroupRule{{
			SecurityGroupRuleId: str(newRuleID()), GroupId: g.GroupId, GroupOwnerId: g.OwnerId, IsEgress: boolp(true),
			IpProtocol: str("-1"), FromPort: i64(-1), ToPort: i64(-1), CidrIpv4: str("0.0.0.0/0"), Tags: []*ec2api.Tag{},
		}}
		return save(tx, sc, kindSG, *g.GroupId, g)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateSecurityGroupResult{GroupId: g.GroupId, Tags: g.Tags}, nil
}

func (s *Service) DeleteSecurityGroup(ctx context.Context, in *ec2api.DeleteSecurityGroupRequest) (*ec2api.DeleteSecurityGroupOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		g, err := loadGroupParam(tx, sc, in.GroupId, in.GroupName)
		if err != nil {
			return err
		}
		id := *g.GroupId
		if deref(g.GroupName) == "default" {
			return api.Errorf("CannotDelete", "the specified group: \"%s\" name: \"default\" cannot be deleted by a user", id)
		}
		enis, err := listAll[networkInterfaceRecord](tx, sc, kindENI)
		if err != nil {
			return err
		}
		for _, e := range enis {
			for _, gi := range e.Groups {
				if deref(gi.GroupId) == id {
					return dependencyViolation("resource %s has a dependent object", id)
				}
			}
		}
		groups, err := listAll[securityGroupRecord](tx, sc, kindSG)
		if err != nil {
			return err
		}
		for _, o := range groups {
			if *o.GroupId == id {
				continue // a group may reference itself
			}
			for _, r := range o.Rules {
				if r.ReferencedGroupInfo != nil && deref(r.ReferencedGroupInfo.GroupId) == id {
					return dependencyViolation("resource %s has a dependent object", id)
				}
			}
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		return remove(tx, sc, kindSG, id)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteSecurityGroupOutput{}, nil
}

func (s *Service) DescribeSecurityGroups(ctx context.Context, in *ec2api.DescribeSecurityGroupsRequest) (*ec2api.DescribeSecurityGroupsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	var page []*securityGroupRecord
	var next *string
	err := s.store.View(func(tx *store.Tx) error {
		ids := append([]*string(nil), in.GroupIds...)
		for _, name := range in.GroupNames {
			g, err := loadGroupParam(tx, sc, nil, name)
			if err != nil {
				return err
			}
			ids = append(ids, g.GroupId)
		}
		// Only the filters on a referenced group's name need every group's
		// name; reading them all otherwise would double the cost.
		names := map[string]string{}
		for _, f := range in.Filters {
			if f != nil && strings.HasSuffix(deref(f.Name), "ip-permission.group-name") {
				groups, err := listAll[securityGroupRecord](tx, sc, kindSG)
				if err != nil {
					return err
				}
				for _, g := range groups {
					names[*g.GroupId] = deref(g.GroupName)
				}
				break
			}
		}
		q := query{ids: ids, filters: in.Filters, maxResults: in.MaxResults, nextToken: in.NextToken, idsParam: "groupIds"}
		q.candidates, q.indexed = lookupCandidates(tx, sc, kindSG, sgIndex, in.Filters, sgFilterIndex)
		var err error
		page, next, err = describe(tx, sc, kindSG, q,
			func(g *securityGroupRecord) string { return *g.GroupId },
			func(g *securityGroupRecord) []*ec2api.Tag { return g.Tags }, groupFields(names))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeSecurityGroupsResult{SecurityGroups: []*ec2api.SecurityGroup{}, NextToken: next}
	for _, g := range page {
		out.SecurityGroups = append(out.SecurityGroups, groupView(g))
	}
	return out, nil
}

// groupFields are DescribeSecurityGroups' filters; names maps group ids to
// names for the group-name filters of referenced groups.
func groupFields(names map[string]string) fields[securityGroupRecord] {
	fs := fields[securityGroupRecord]{
		"group-id":    func(g *securityGroupRecord) []string { return one(g.GroupId) },
		"group-name":  func(g *securityGroupRecord) []string { return one(g.GroupName) },
		"description": func(g *securityGroupRecord) []string { return one(g.Description) },
		"vpc-id":      func(g *securityGroupRecord) []string { return one(g.VpcId) },
		"owner-id":    func(g *securityGroupRecord) []string { return one(g.OwnerId) },
	}
	ruleField := func(egress bool, get func(*ec2api.SecurityGroupRule) []string) func(*securityGroupRecord) []string {
		return func(g *securityGroupRecord) []string {
			var out []string
			for _, r := range g.Rules {
				if *r.IsEgress == egress {
					out = append(out, get(r)...)
				}
			}
			return out
		}
	}
	ref := func(get func(*ec2api.ReferencedSecurityGroup) []string) func(*ec2api.SecurityGroupRule) []string {
		return func(r *ec2api.SecurityGroupRule) []string {
			if r.ReferencedGroupInfo == nil {
				return nil
			}
			return get(r.ReferencedGroupInfo)
		}
	}
	per := map[string]func(*ec2api.SecurityGroupRule) []string{
		"cidr":           func(r *ec2api.SecurityGroupRule) []string { return one(r.CidrIpv4) },
		"ipv6-cidr":      func(r *ec2api.SecurityGroupRule) []string { return one(r.CidrIpv6) },
		"prefix-list-id": func(r *ec2api.SecurityGroupRule) []string { return one(r.PrefixListId) },
		"from-port":      func(r *ec2api.SecurityGroupRule) []string { return []string{strconv.FormatInt(port(r.FromPort), 10)} },
		"to-port":        func(r *ec2api.SecurityGroupRule) []string { return []string{strconv.FormatInt(port(r.ToPort), 10)} },
		"protocol": func(r *ec2api.SecurityGroupRule) []string {
			p := deref(r.IpProtocol)
			if n, ok := protocolNumber[p]; ok {
				return []string{p, n}
			}
			return []string{p}
		},
		"group-id": ref(func(g *ec2api.ReferencedSecurityGroup) []string { return one(g.GroupId) }),
		"user-id":  ref(func(g *ec2api.ReferencedSecurityGroup) []string { return one(g.UserId) }),
		"group-name": ref(func(g *ec2api.ReferencedSecurityGroup) []string {
			if n, ok := names[deref(g.GroupId)]; ok {
				return []string{n}
			}
			return nil
		}),
	}
	for name, get := range per {
		fs["ip-permission."+name] = ruleField(false, get)
		fs["egress.ip-permission."+name] = ruleField(true, get)
	}
	return fs
}

func (s *Service) AuthorizeSecurityGroupIngress(ctx context.Context, in *ec2api.AuthorizeSecurityGroupIngressRequest) (*ec2api.AuthorizeSecurityGroupIngressResult, error) {
	f := flatRule{protocol: in.IpProtocol, cidr: in.CidrIp, sourceName: in.SourceSecurityGroupName, sourceOwner: in.SourceSecurityGroupOwnerId, from: in.FromPort, to: in.ToPort}
	rules, err := s.authorize(ctx, false, in.GroupId, in.GroupName, f, in.IpPermissions, in.TagSpecifications, in.DryRun)
	if err != nil {
		return nil, err
	}
	return &ec2api.AuthorizeSecurityGroupIngressResult{Return: boolp(true), SecurityGroupRules: rules}, nil
}

func (s *Service) AuthorizeSecurityGroupEgress(ctx context.Context, in *ec2api.AuthorizeSecurityGroupEgressRequest) (*ec2api.AuthorizeSecurityGroupEgressResult, error) {
	f := flatRule{protocol: in.IpProtocol, cidr: in.CidrIp, sourceName: in.SourceSecurityGroupName, sourceOwner: in.SourceSecurityGroupOwnerId, from: in.FromPort, to: in.ToPort}
	rules, err := s.authorize(ctx, true, in.GroupId, nil, f, in.IpPermissions, in.TagSpecifications, in.DryRun)
	if err != nil {
		return nil, err
	}
	return &ec2api.AuthorizeSecurityGroupEgressResult{Return: boolp(true), SecurityGroupRules: rules}, nil
}

// authorize adds rules to a group and returns them.
func (s *Service) authorize(ctx context.Context, egress bool, groupID, groupName *string, f flatRule, perms []*ec2api.IpPermission, specs []*ec2api.TagSpecification, dry *bool) ([]*ec2api.SecurityGroupRule, error) {
	sc := scopeOf(ctx)
	tags, err := tagsFor(specs, "security-group-rule")
	if err != nil {
		return nil, err
	}
	if perms, err = f.permissions(perms); err != nil {
		return nil, err
	}
	if len(perms) == 0 {
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter ipPermissions")
	}
	var rules []*ec2api.SecurityGroupRule
	err = s.store.Update(func(tx *store.Tx) error {
		g, err := loadGroupParam(tx, sc, groupID, groupName)
		if err != nil {
			return err
		}
		if rules, err = permissionRules(tx, sc, g, perms, egress, true); err != nil {
			return err
		}
		for _, r := range rules {
			if tags != nil {
				r.Tags = append([]*ec2api.Tag(nil), tags...)
			}
		}
		if err := addRules(g, rules); err != nil {
			return err
		}
		if err := dryRun(dry); err != nil {
			return err
		}
		return save(tx, sc, kindSG, *g.GroupId, g)
	})
	if err != nil {
		return nil, err
	}
	return rules, nil
}

func (s *Service) RevokeSecurityGroupIngress(ctx context.Context, in *ec2api.RevokeSecurityGroupIngressRequest) (*ec2api.RevokeSecurityGroupIngressResult, error) {
	f := flatRule{protocol: in.IpProtocol, cidr: in.CidrIp, sourceName: in.SourceSecurityGroupName, sourceOwner: in.SourceSecurityGroupOwnerId, from: in.FromPort, to: in.ToPort}
	unknown, err := s.revoke(ctx, false, in.GroupId, in.GroupName, f, in.IpPermissions, in.SecurityGroupRuleIds, in.DryRun)
	if err != nil {
		return nil, err
	}
	return &ec2api.RevokeSecurityGroupIngressResult{Return: boolp(unknown == nil), UnknownIpPermissions: unknown}, nil
}

func (s *Service) RevokeSecurityGroupEgress(ctx context.Context, in *ec2api.RevokeSecurityGroupEgressRequest) (*ec2api.RevokeSecurityGroupEgressResult, error) {
	f := flatRule{protocol: in.IpProtocol, cidr: in.CidrIp, sourceName: in.SourceSecurityGroupName, sourceOwner: in.SourceSecurityGroupOwnerId, from: in.FromPort, to: in.ToPort}
	unknown, err := s.revoke(ctx, true, in.GroupId, nil, f, in.IpPermissions, in.SecurityGroupRuleIds, in.DryRun)
	if err != nil {
		return nil, err
	}
	return &ec2api.RevokeSecurityGroupEgressResult{Return: boolp(unknown == nil), UnknownIpPermissions: unknown}, nil
}

// revoke removes rules named by id or by permission. A permission that
// matches no rule fails the call (InvalidPermission.NotFound), except in
// the default VPC, where AWS revokes the others and returns the unknown
// ones.
func (s *Service) revoke(ctx context.Context, egress bool, groupID, groupName *string, f flatRule, perms []*ec2api.IpPermission, ruleIDs []*string, dry *bool) ([]*ec2api.IpPermission, error) {
	sc := scopeOf(ctx)
	perms, err := f.permissions(perms)
	if err != nil {
		return nil, err
	}
	if len(perms) > 0 && len(ruleIDs) > 0 {
		return nil, api.Errorf("InvalidParameterCombination", "The parameter 'SecurityGroupRuleIds' may not be used in combination with 'ipPermissions'")
	}
	if len(perms) == 0 && len(ruleIDs) == 0 {
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter ipPermissions or securityGroupRuleIds")
	}
	var unknown []*ec2api.SecurityGroupRule
	err = s.store.Update(func(tx *store.Tx) error {
		g, err := loadGroupParam(tx, sc, groupID, groupName)
		if err != nil {
			return err
		}
		drop := map[int]bool{}
		for _, id := range ruleIDs {
			i, err := findRuleID(g, deref(id), egress)
			if err != nil {
				return err
			}
			drop[i] = true
		}
		if len(perms) > 0 {
			rules, err := permissionRules(tx, sc, g, perms, egress, false)
			if err != nil {
				return err
			}
			for _, r := range rules {
				if i := findRule(g, r); i >= 0 {
					drop[i] = true
				} else {
					unknown = append(unknown, r)
				}
			}
		}
		if len(unknown) > 0 {
			v, err := load[vpcRecord](tx, sc, kindVPC, deref(g.VpcId))
			if err != nil {
				return err
			}
			if v.IsDefault == nil || !*v.IsDefault {
				return api.Errorf("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
			}
		}
		if err := dryRun(dry); err != nil {
			return err
		}
		kept := g.Rules[:0]
		for i, r := range g.Rules {
			if !drop[i] {
				kept = append(kept, r)
			}
		}
		g.Rules = kept
		return save(tx, sc, kindSG, *g.GroupId, g)
	})
	if err != nil || unknown == nil {
		return nil, err
	}
	return permissionsOf(unknown, egress), nil
}

func (s *Service) DescribeSecurityGroupRules(ctx context.Context, in *ec2api.DescribeSecurityGroupRulesRequest) (*ec2api.DescribeSecurityGroupRulesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	fs := fields[ec2api.SecurityGroupRule]{
		"group-id":               func(r *ec2api.SecurityGroupRule) []string { return one(r.GroupId) },
		"security-group-rule-id": func(r *ec2api.SecurityGroupRule) []string { return one(r.SecurityGroupRuleId) },
	}
	if err := checkFilterNames(in.Filters, fs); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	var all []*ec2api.SecurityGroupRule
	err := s.store.View(func(tx *store.Tx) error {
		groups, err := listAll[securityGroupRecord](tx, sc, kindSG)
		for _, g := range groups {
			all = append(all, g.Rules...)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(in.SecurityGroupRuleIds) > 0 {
		byID := map[string]*ec2api.SecurityGroupRule{}
		for _, r := range all {
			byID[*r.SecurityGroupRuleId] = r
		}
		all = nil
		seen := map[string]bool{}
		for _, id := range in.SecurityGroupRuleIds {
			r, ok := byID[deref(id)]
			if !ok {
				return nil, ruleNotFound(deref(id))
			}
			if !seen[*id] {
				seen[*id] = true
				all = append(all, r)
			}
		}
	}
	tagsOf := func(r *ec2api.SecurityGroupRule) []*ec2api.Tag { return r.Tags }
	var matched []*ec2api.SecurityGroupRule
	for _, r := range all {
		ok, err := matchFilters(in.Filters, r, tagsOf, fs)
		if err != nil {
			return nil, err
		}
		if ok {
			matched = append(matched, r)
		}
	}
	idOf := func(r *ec2api.SecurityGroupRule) string { return *r.SecurityGroupRuleId }
	sort.Slice(matched, func(i, j int) bool { return idOf(matched[i]) < idOf(matched[j]) })
	page, next, err := paginate(matched, idOf, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	if page == nil {
		page = []*ec2api.SecurityGroupRule{}
	}
	return &ec2api.DescribeSecurityGroupRulesResult{SecurityGroupRules: page, NextToken: next}, nil
}

func (s *Service) ModifySecurityGroupRules(ctx context.Context, in *ec2api.ModifySecurityGroupRulesRequest) (*ec2api.ModifySecurityGroupRulesResult, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		g, err := load[securityGroupRecord](tx, sc, kindSG, deref(in.GroupId))
		if err != nil {
			return err
		}
		for _, u := range in.SecurityGroupRules {
			i := -1
			for j, r := range g.Rules {
				if deref(r.SecurityGroupRuleId) == deref(u.SecurityGroupRuleId) {
					i = j
				}
			}
			if i < 0 {
				return ruleNotFound(deref(u.SecurityGroupRuleId))
			}
			req := u.SecurityGroupRule
			if req == nil {
				return api.Errorf("MissingParameter", "The request must contain the parameter SecurityGroupRule")
			}
			p := &ec2api.IpPermission{IpProtocol: req.IpProtocol, FromPort: req.FromPort, ToPort: req.ToPort}
			n := 0
			if req.CidrIpv4 != nil {
				p.IpRanges, n = []*ec2api.IpRange{{CidrIp: req.CidrIpv4, Description: req.Description}}, n+1
			}
			if req.CidrIpv6 != nil {
				p.Ipv6Ranges, n = []*ec2api.Ipv6Range{{CidrIpv6: req.CidrIpv6, Description: req.Description}}, n+1
			}
			if req.PrefixListId != nil {
				p.PrefixListIds, n = []*ec2api.PrefixListId{{PrefixListId: req.PrefixListId, Description: req.Description}}, n+1
			}
			if req.ReferencedGroupId != nil {
				p.UserIdGroupPairs, n = []*ec2api.UserIdGroupPair{{GroupId: req.ReferencedGroupId, Description: req.Description}}, n+1
			}
			if n != 1 {
				return api.Errorf("InvalidParameterCombination", "Exactly one of CidrIpv4, CidrIpv6, PrefixListId and ReferencedGroupId must be specified")
			}
			old := g.Rules[i]
			rules, err := permissionRules(tx, sc, g, []*ec2api.IpPermission{p}, *old.IsEgress, true)
			if err != nil {
				return err
			}
			r := rules[0]
			r.SecurityGroupRuleId, r.Tags = old.SecurityGroupRuleId, old.Tags
			g.Rules[i] = r
		}
		seen := map[string]bool{}
		for _, r := range g.Rules {
			k := ruleKey(r)
			if seen[k] {
				return api.Errorf("InvalidPermission.Duplicate", "the specified rule \"%s\" already exists", ruleText(r))
			}
			seen[k] = true
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		return save(tx, sc, kindSG, *g.GroupId, g)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ModifySecurityGroupRulesResult{Return: boolp(true)}, nil
}

func (s *Service) UpdateSecurityGroupRuleDescriptionsIngress(ctx context.Context, in *ec2api.UpdateSecurityGroupRuleDescriptionsIngressRequest) (*ec2api.UpdateSecurityGroupRuleDescriptionsIngressResult, error) {
	if err := s.updateRuleDescriptions(ctx, false, in.GroupId, in.GroupName, in.IpPermissions, in.SecurityGroupRuleDescriptions, in.DryRun); err != nil {
		return nil, err
	}
	return &ec2api.UpdateSecurityGroupRuleDescriptionsIngressResult{Return: boolp(true)}, nil
}

func (s *Service) UpdateSecurityGroupRuleDescriptionsEgress(ctx context.Context, in *ec2api.UpdateSecurityGroupRuleDescriptionsEgressRequest) (*ec2api.UpdateSecurityGroupRuleDescriptionsEgressResult, error) {
	if err := s.updateRuleDescriptions(ctx, true, in.GroupId, in.GroupName, in.IpPermissions, in.SecurityGroupRuleDescriptions, in.DryRun); err != nil {
		return nil, err
	}
	return &ec2api.UpdateSecurityGroupRuleDescriptionsEgressResult{Return: boolp(true)}, nil
}

// updateRuleDescriptions sets the descriptions of existing rules, named by
// permission (the description each peer carries) or by rule id.
func (s *Service) updateRuleDescriptions(ctx context.Context, egress bool, groupID, groupName *string, perms []*ec2api.IpPermission, descs []*ec2api.SecurityGroupRuleDescription, dry *bool) error {
	sc := scopeOf(ctx)
	if len(perms) > 0 && len(descs) > 0 {
		return api.Errorf("InvalidParameterCombination", "The parameter 'SecurityGroupRuleDescriptions' may not be used in combination with 'IpPermissions'")
	}
	if len(perms) == 0 && len(descs) == 0 {
		return api.Errorf("MissingParameter", "The request must contain the parameter IpPermissions or SecurityGroupRuleDescriptions")
	}
	return s.store.Update(func(tx *store.Tx) error {
		g, err := loadGroupParam(tx, sc, groupID, groupName)
		if err != nil {
			return err
		}
		for _, d := range descs {
			i, err := findRuleID(g, deref(d.SecurityGroupRuleId), egress)
			if err != nil {
				return err
			}
			if g.Rules[i].Description, err = ruleDescription(d.Description); err != nil {
				return err
			}
		}
		if len(perms) > 0 {
			rules, err := permissionRules(tx, sc, g, perms, egress, false)
			if err != nil {
				return err
			}
			for _, r := range rules {
				i := findRule(g, r)
				if i < 0 {
					return api.Errorf("InvalidPermission.NotFound", "The specified rule does not exist in this security group.")
				}
				g.Rules[i].Description = r.Description
			}
		}
		if err := dryRun(dry); err != nil {
			return err
		}
		return save(tx, sc, kindSG, *g.GroupId, g)
	})
}

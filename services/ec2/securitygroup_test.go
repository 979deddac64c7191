package ec2_test

import (
	"context"
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Helpers of the security area's tests (security groups, interfaces,
// addresses, NAT gateways, key pairs), named sec* to stay apart from the
// other areas'.

func secFilter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

func secVPC(t *testing.T, cl *ec2sdk.Client, cidr string) string {
	t.Helper()
	out := must[*ec2sdk.CreateVpcOutput](t)(cl.CreateVpc(context.Background(), &ec2sdk.CreateVpcInput{CidrBlock: aws.String(cidr)}))
	return aws.ToString(out.Vpc.VpcId)
}

func secSubnet(t *testing.T, cl *ec2sdk.Client, vpc, cidr string) string {
	t.Helper()
	out := must[*ec2sdk.CreateSubnetOutput](t)(cl.CreateSubnet(context.Background(), &ec2sdk.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String(cidr)}))
	return aws.ToString(out.Subnet.SubnetId)
}

func secDefaultVPC(t *testing.T, cl *ec2sdk.Client) types.Vpc {
	t.Helper()
	out := must[*ec2sdk.DescribeVpcsOutput](t)(cl.DescribeVpcs(context.Background(), &ec2sdk.DescribeVpcsInput{Filters: []types.Filter{secFilter("is-default", "true")}}))
	if len(out.Vpcs) != 1 {
		t.Fatalf("default VPCs: %+v", out.Vpcs)
	}
	return out.Vpcs[0]
}

// secDefaultSubnet returns the default subnet of zone a of the default VPC.
func secDefaultSubnet(t *testing.T, cl *ec2sdk.Client) types.Subnet {
	t.Helper()
	out := must[*ec2sdk.DescribeSubnetsOutput](t)(cl.DescribeSubnets(context.Background(), &ec2sdk.DescribeSubnetsInput{
		Filters: []types.Filter{secFilter("default-for-az", "true"), secFilter("availability-zone", "ap-northeast-2a")},
	}))
	if len(out.Subnets) != 1 {
		t.Fatalf("default subnets of zone a: %+v", out.Subnets)
	}
	return out.Subnets[0]
}

func secGroup(t *testing.T, cl *ec2sdk.Client, name, vpc string) string {
	t.Helper()
	in := &ec2sdk.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(name + " group")}
	if vpc != "" {
		in.VpcId = aws.String(vpc)
	}
	return aws.ToString(must[*ec2sdk.CreateSecurityGroupOutput](t)(cl.CreateSecurityGroup(context.Background(), in)).GroupId)
}

func secDescribeGroup(t *testing.T, cl *ec2sdk.Client, id string) types.SecurityGroup {
	t.Helper()
	out := must[*ec2sdk.DescribeSecurityGroupsOutput](t)(cl.DescribeSecurityGroups(context.Background(), &ec2sdk.DescribeSecurityGroupsInput{GroupIds: []string{id}}))
	if len(out.SecurityGroups) != 1 {
		t.Fatalf("groups %s: %+v", id, out.SecurityGroups)
	}
	return out.SecurityGroups[0]
}

func secGroupIDs(groups []types.SecurityGroup) []string {
	var ids []string
	for _, g := range groups {
		ids = append(ids, aws.ToString(g.GroupId))
	}
	sort.Strings(ids)
	return ids
}

func secTCP(port int32, cidrs ...string) types.IpPermission {
	p := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port)}
	for _, c := range cidrs {
		p.IpRanges = append(p.IpRanges, types.IpRange{CidrIp: aws.String(c)})
	}
	return p
}

func secFromGroup(port int32, group string) types.IpPermission {
	return types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port),
		UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(group)}}}
}

func TestSGLifecycle(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	out := must[*ec2sdk.CreateSecurityGroupOutput](t)(cl.CreateSecurityGroup(ctx, &ec2sdk.CreateSecurityGroupInput{
		GroupName: aws.String("web"), Description: aws.String("web servers"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroup, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}}},
	}))
	id := aws.ToString(out.GroupId)
	if !strings.HasPrefix(id, "sg-") || len(out.Tags) != 1 {
		t.Fatalf("create: %+v", out)
	}
	g := secDescribeGroup(t, cl, id)
	def := secDefaultVPC(t, cl)
	if aws.ToString(g.VpcId) != aws.ToString(def.VpcId) || aws.ToString(g.Description) != "web servers" || aws.ToString(g.OwnerId) != "000000000000" {
		t.Fatalf("group %+v", g)
	}
	if len(g.IpPermissions) != 0 || len(g.IpPermissionsEgress) != 1 {
		t.Fatalf("a new group has only the default egress rule: %+v %+v", g.IpPermissions, g.IpPermissionsEgress)
	}
	eg := g.IpPermissionsEgress[0]
	if aws.ToString(eg.IpProtocol) != "-1" || eg.FromPort != nil || len(eg.IpRanges) != 1 || aws.ToString(eg.IpRanges[0].CidrIp) != "0.0.0.0/0" {
		t.Fatalf("default egress %+v", eg)
	}
	byName := must[*ec2sdk.DescribeSecurityGroupsOutput](t)(cl.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{GroupNames: []string{"web", "default"}}))
	if len(byName.SecurityGroups) != 2 {
		t.Fatalf("by names: %+v", byName.SecurityGroups)
	}
	for _, f := range [][]types.Filter{
		{secFilter("group-name", "web")},
		{secFilter("tag:Name", "web")},
		{secFilter("vpc-id", aws.ToString(def.VpcId)), secFilter("description", "web*")},
		{secFilter("egress.ip-permission.cidr", "0.0.0.0/0"), secFilter("owner-id", "000000000000"), secFilter("group-id", id)},
	} {
		got := must[*ec2sdk.DescribeSecurityGroupsOutput](t)(cl.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{Filters: f}))
		if ids := secGroupIDs(got.SecurityGroups); len(ids) != 1 || ids[0] != id {
			t.Fatalf("filters %v: %v", f, ids)
		}
	}
	all := must[*ec2sdk.DescribeSecurityGroupsOutput](t)(cl.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{}))
	must[*ec2sdk.DeleteSecurityGroupOutput](t)(cl.DeleteSecurityGroup(ctx, &ec2sdk.DeleteSecurityGroupInput{GroupName: aws.String("web")}))
	after := must[*ec2sdk.DescribeSecurityGroupsOutput](t)(cl.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{}))
	if len(after.SecurityGroups) != len(all.SecurityGroups)-1 {
		t.Fatalf("groups %d after delete, %d before", len(after.SecurityGroups), len(all.SecurityGroups))
	}
	_, err := cl.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{GroupIds: []string{id}})
	wantCode(t, err, "InvalidGroup.NotFound")

	// The same name is free in another VPC.
	vpc := secVPC(t, cl, "10.1.0.0/16")
	secGroup(t, cl, "web", vpc)
	secGroup(t, cl, "web", "")
}

// TestSGSeedTopology builds the tiers of the seed architectures with the
// CLI: the ALB takes port 80 from anywhere, the web tier port 80 from the
// ALB and 22 from the bastion, the database 3306 from the web tier.
func TestSGSeedTopology(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	vpc := secVPC(t, cl, "10.0.0.0/16")
	alb, web, bastion, db := secGroup(t, cl, "alb", vpc), secGroup(t, cl, "web", vpc), secGroup(t, cl, "bastion", vpc), secGroup(t, cl, "db", vpc)
	var rules struct {
		Return             bool
		SecurityGroupRules []struct {
			SecurityGroupRuleId, GroupId, IpProtocol, CidrIpv4 string
			FromPort, ToPort                                   int
			IsEgress                                           bool
			ReferencedGroupInfo                                *struct{ GroupId, UserId string }
		}
	}
	if err := c.cli(t, &rules, "ec2", "authorize-security-group-ingress", "--group-id", alb, "--protocol", "tcp", "--port", "80", "--cidr", "0.0.0.0/0"); err != nil {
		t.Fatal(err)
	}
	if !rules.Return || len(rules.SecurityGroupRules) != 1 || !strings.HasPrefix(rules.SecurityGroupRules[0].SecurityGroupRuleId, "sgr-") ||
		rules.SecurityGroupRules[0].CidrIpv4 != "0.0.0.0/0" || rules.SecurityGroupRules[0].FromPort != 80 || rules.SecurityGroupRules[0].GroupId != alb {
		t.Fatalf("alb rule %+v", rules)
	}
	perms, _ := json.Marshal([]map[string]any{{"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": []map[string]any{{"GroupId": alb, "Description": "from the ALB"}}}})
	if err := c.cli(t, &rules, "ec2", "authorize-security-group-ingress", "--group-id", web, "--ip-permissions", string(perms)); err != nil {
		t.Fatal(err)
	}
	if ref := rules.SecurityGroupRules[0].ReferencedGroupInfo; ref == nil || ref.GroupId != alb || ref.UserId != "000000000000" {
		t.Fatalf("web rule %+v", rules.SecurityGroupRules)
	}
	if err := c.cli(t, nil, "ec2", "authorize-security-group-ingress", "--group-id", web, "--protocol", "tcp", "--port", "22", "--source-group", bastion); err != nil {
		t.Fatal(err)
	}
	if err := c.cli(t, nil, "ec2", "authorize-security-group-ingress", "--group-id", db, "--protocol", "tcp", "--port", "3306", "--source-group", web); err != nil {
		t.Fatal(err)
	}
	g := secDescribeGroup(t, cl, web)
	if len(g.IpPermissions) != 2 {
		t.Fatalf("web ingress %+v", g.IpPermissions)
	}
	from := map[int32]string{}
	for _, p := range g.IpPermissions {
		if len(p.UserIdGroupPairs) != 1 || aws.ToString(p.IpProtocol) != "tcp" || aws.ToInt32(p.FromPort) != aws.ToInt32(p.ToPort) {
			t.Fatalf("web permission %+v", p)
		}
		from[aws.ToInt32(p.FromPort)] = aws.ToString(p.UserIdGroupPairs[0].GroupId)
	}
	if from[80] != alb || from[22] != bastion {
		t.Fatalf("web sources %v", from)
	}
	refs := must[*ec2sdk.DescribeSecurityGroupsOutput](t)(cl.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{
		Filters: []types.Filter{secFilter("ip-permission.group-id", web)},
	}))
	if ids := secGroupIDs(refs.SecurityGroups); len(ids) != 1 || ids[0] != db {
		t.Fatalf("groups taking traffic from web: %v", ids)
	}
	byPort := must[*ec2sdk.DescribeSecurityGroupsOutput](t)(cl.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{
		Filters: []types.Filter{secFilter("ip-permission.from-port", "80"), secFilter("vpc-id", vpc)},
	}))
	if ids := secGroupIDs(byPort.SecurityGroups); len(ids) != 2 {
		t.Fatalf("groups open on 80: %v", ids)
	}

	// The ALB group is referenced by web's rule: it can't go until the rule does.
	_, err := cl.DeleteSecurityGroup(ctx, &ec2sdk.DeleteSecurityGroupInput{GroupId: aws.String(alb)})
	wantCode(t, err, "DependencyViolation")
	webRules := must[*ec2sdk.DescribeSecurityGroupRulesOutput](t)(cl.DescribeSecurityGroupRules(ctx, &ec2sdk.DescribeSecurityGroupRulesInput{
		Filters: []types.Filter{secFilter("group-id", web)},
	}))
	if len(webRules.SecurityGroupRules) != 3 {
		t.Fatalf("web rules %+v", webRules.SecurityGroupRules)
	}
	var fromALB string
	for _, r := range webRules.SecurityGroupRules {
		if r.ReferencedGroupInfo != nil && aws.ToString(r.ReferencedGroupInfo.GroupId) == alb {
			fromALB = aws.ToString(r.SecurityGroupRuleId)
			if aws.ToString(r.Description) != "from the ALB" {
				t.Fatalf("rule description %+v", r)
			}
		}
	}
	rv := must[*ec2sdk.RevokeSecurityGroupIngressOutput](t)(cl.RevokeSecurityGroupIngress(ctx, &ec2sdk.RevokeSecurityGroupIngressInput{
		GroupId: aws.String(web), SecurityGroupRuleIds: []string{fromALB},
	}))
	if !aws.ToBool(rv.Return) {
		t.Fatalf("revoke %+v", rv)
	}
	must[*ec2sdk.DeleteSecurityGroupOutput](t)(cl.DeleteSecurityGroup(ctx, &ec2sdk.DeleteSecurityGroupInput{GroupId: aws.String(alb)}))
}

func TestSGPermissionsAndRules(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	vpc := secVPC(t, cl, "10.2.0.0/16")
	id := secGroup(t, cl, "mixed", vpc)
	out := must[*ec2sdk.AuthorizeSecurityGroupIngressOutput](t)(cl.AuthorizeSecurityGroupIngress(ctx, &ec2sdk.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(id),
		IpPermissions: []types.IpPermission{
			secTCP(443, "10.0.0.0/8", "192.168.1.7/24"),
			{IpProtocol: aws.String("6"), FromPort: aws.Int32(443), ToPort: aws.Int32(443), Ipv6Ranges: []types.Ipv6Range{{CidrIpv6: aws.String("::/0"), Description: aws.String("v6")}}},
			{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(443), ToPort: aws.Int32(443), PrefixListIds: []types.PrefixListId{{PrefixListId: aws.String("pl-78a54011")}}},
			{IpProtocol: aws.String("icmp"), FromPort: aws.Int32(8), ToPort: aws.Int32(-1), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}},
			{IpProtocol: aws.String("50"), FromPort: aws.Int32(1), ToPort: aws.Int32(2), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}},
			{IpProtocol: aws.String("udp"), FromPort: aws.Int32(-1), ToPort: aws.Int32(-1), UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(id)}}},
		},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSecurityGroupRule, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}},
	}))
	if len(out.SecurityGroupRules) != 7 {
		t.Fatalf("rules %+v", out.SecurityGroupRules)
	}
	g := secDescribeGroup(t, cl, id)
	byProto := secByProtocol(g.IpPermissions)
	https := byProto["tcp"]
	if len(g.IpPermissions) != 4 || len(https.IpRanges) != 2 || len(https.Ipv6Ranges) != 1 || len(https.PrefixListIds) != 1 || aws.ToInt32(https.FromPort) != 443 {
		t.Fatalf("merged permissions %+v", g.IpPermissions)
	}
	if aws.ToString(https.IpRanges[1].CidrIp) != "192.168.1.0/24" || aws.ToString(https.Ipv6Ranges[0].Description) != "v6" {
		t.Fatalf("ranges %+v %+v", https.IpRanges, https.Ipv6Ranges)
	}
	if p := byProto["icmp"]; aws.ToInt32(p.FromPort) != 8 || aws.ToInt32(p.ToPort) != -1 {
		t.Fatalf("icmp %+v", p)
	}
	if p := byProto["50"]; aws.ToInt32(p.FromPort) != -1 {
		t.Fatalf("protocol 50 covers every port: %+v", p)
	}
	if p := byProto["udp"]; aws.ToInt32(p.FromPort) != 0 || aws.ToInt32(p.ToPort) != 65535 || aws.ToString(p.UserIdGroupPairs[0].GroupId) != id {
		t.Fatalf("udp from itself %+v", p)
	}

	// Rules: tags, filters, pages.
	tagged := must[*ec2sdk.DescribeSecurityGroupRulesOutput](t)(cl.DescribeSecurityGroupRules(ctx, &ec2sdk.DescribeSecurityGroupRulesInput{
		Filters: []types.Filter{secFilter("tag:team", "a")},
	}))
	if len(tagged.SecurityGroupRules) != 7 {
		t.Fatalf("tagged rules %d", len(tagged.SecurityGroupRules))
	}
	var seen []string
	var token *string
	for {
		page := must[*ec2sdk.DescribeSecurityGroupRulesOutput](t)(cl.DescribeSecurityGroupRules(ctx, &ec2sdk.DescribeSecurityGroupRulesInput{
			Filters: []types.Filter{secFilter("group-id", id)}, MaxResults: aws.Int32(5), NextToken: token,
		}))
		for _, r := range page.SecurityGroupRules {
			seen = append(seen, aws.ToString(r.SecurityGroupRuleId))
		}
		if token = page.NextToken; token == nil {
			break
		}
	}
	if len(seen) != 8 {
		t.Fatalf("paged rules %v", seen)
	}
	one := must[*ec2sdk.DescribeSecurityGroupRulesOutput](t)(cl.DescribeSecurityGroupRules(ctx, &ec2sdk.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{seen[0]}}))
	if len(one.SecurityGroupRules) != 1 {
		t.Fatalf("by id %+v", one.SecurityGroupRules)
	}

	// Modify a rule, update descriptions, revoke by permission.
	var ssh string
	for _, r := range out.SecurityGroupRules {
		if aws.ToString(r.CidrIpv4) == "10.0.0.0/8" {
			ssh = aws.ToString(r.SecurityGroupRuleId)
		}
	}
	must[*ec2sdk.ModifySecurityGroupRulesOutput](t)(cl.ModifySecurityGroupRules(ctx, &ec2sdk.ModifySecurityGroupRulesInput{
		GroupId: aws.String(id),
		SecurityGroupRules: []types.SecurityGroupRuleUpdate{{SecurityGroupRuleId: aws.String(ssh), SecurityGroupRule: &types.SecurityGroupRuleRequest{
			IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), CidrIpv4: aws.String("10.0.0.0/16"),
		}}},
	}))
	must[*ec2sdk.UpdateSecurityGroupRuleDescriptionsIngressOutput](t)(cl.UpdateSecurityGroupRuleDescriptionsIngress(ctx, &ec2sdk.UpdateSecurityGroupRuleDescriptionsIngressInput{
		GroupId:       aws.String(id),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(22), ToPort: aws.Int32(22), IpRanges: []types.IpRange{{CidrIp: aws.String("10.0.0.0/16"), Description: aws.String("office")}}}},
	}))
	r := must[*ec2sdk.DescribeSecurityGroupRulesOutput](t)(cl.DescribeSecurityGroupRules(ctx, &ec2sdk.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{ssh}})).SecurityGroupRules[0]
	if aws.ToInt32(r.FromPort) != 22 || aws.ToString(r.CidrIpv4) != "10.0.0.0/16" || aws.ToString(r.Description) != "office" || len(r.Tags) != 1 {
		t.Fatalf("modified rule %+v", r)
	}
	must[*ec2sdk.RevokeSecurityGroupIngressOutput](t)(cl.RevokeSecurityGroupIngress(ctx, &ec2sdk.RevokeSecurityGroupIngressInput{
		GroupId: aws.String(id), IpPermissions: []types.IpPermission{secTCP(22, "10.0.0.0/16"), secTCP(443, "192.168.1.0/24")},
	}))
	must[*ec2sdk.RevokeSecurityGroupEgressOutput](t)(cl.RevokeSecurityGroupEgress(ctx, &ec2sdk.RevokeSecurityGroupEgressInput{
		GroupId: aws.String(id), IpPermissions: []types.IpPermission{{IpProtocol: aws.String("-1"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}},
	}))
	must[*ec2sdk.AuthorizeSecurityGroupEgressOutput](t)(cl.AuthorizeSecurityGroupEgress(ctx, &ec2sdk.AuthorizeSecurityGroupEgressInput{
		GroupId: aws.String(id), IpPermissions: []types.IpPermission{secTCP(443, "0.0.0.0/0")},
	}))
	g = secDescribeGroup(t, cl, id)
	if len(g.IpPermissionsEgress) != 1 || aws.ToInt32(g.IpPermissionsEgress[0].FromPort) != 443 || len(g.IpPermissions) != 4 {
		t.Fatalf("after revoke: in %+v out %+v", g.IpPermissions, g.IpPermissionsEgress)
	}
	if p := secByProtocol(g.IpPermissions)["tcp"]; len(p.IpRanges) != 0 || len(p.Ipv6Ranges) != 1 || len(p.PrefixListIds) != 1 {
		t.Fatalf("tcp 443 keeps only its v6 and prefix list peers: %+v", p)
	}
}

func secByProtocol(ps []types.IpPermission) map[string]types.IpPermission {
	m := map[string]types.IpPermission{}
	for _, p := range ps {
		m[aws.ToString(p.IpProtocol)] = p
	}
	return m
}

// TestSGDefaultVPCRevoke: in the default VPC, revoking a rule that does not
// exist is not an error; the answer lists it.
func TestSGDefaultVPCRevoke(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	id := secGroup(t, cl, "old-style", "")
	// The flat form with a source group name grants ICMP, TCP and UDP.
	must[*ec2sdk.AuthorizeSecurityGroupIngressOutput](t)(cl.AuthorizeSecurityGroupIngress(ctx, &ec2sdk.AuthorizeSecurityGroupIngressInput{
		GroupName: aws.String("old-style"), SourceSecurityGroupName: aws.String("default"),
	}))
	must[*ec2sdk.AuthorizeSecurityGroupIngressOutput](t)(cl.AuthorizeSecurityGroupIngress(ctx, &ec2sdk.AuthorizeSecurityGroupIngressInput{
		GroupName: aws.String("old-style"), IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8080), ToPort: aws.Int32(8081), CidrIp: aws.String("1.2.3.4/32"),
	}))
	if g := secDescribeGroup(t, cl, id); len(g.IpPermissions) != 4 {
		t.Fatalf("ingress %+v", g.IpPermissions)
	}
	rv := must[*ec2sdk.RevokeSecurityGroupIngressOutput](t)(cl.RevokeSecurityGroupIngress(ctx, &ec2sdk.RevokeSecurityGroupIngressInput{
		GroupId: aws.String(id), IpPermissions: []types.IpPermission{secTCP(9999, "1.2.3.4/32"), {IpProtocol: aws.String("tcp"), FromPort: aws.Int32(8080), ToPort: aws.Int32(8081), IpRanges: []types.IpRange{{CidrIp: aws.String("1.2.3.4/32")}}}},
	}))
	if aws.ToBool(rv.Return) || len(rv.UnknownIpPermissions) != 1 || aws.ToInt32(rv.UnknownIpPermissions[0].FromPort) != 9999 {
		t.Fatalf("revoke %+v", rv)
	}
	if g := secDescribeGroup(t, cl, id); len(g.IpPermissions) != 3 {
		t.Fatalf("the known rule went: %+v", g.IpPermissions)
	}
}

// TestSGPeeredReference: a rule may name a group of a peered VPC (here in
// another account); without an active peering, AWS refuses.
func TestSGPeeredReference(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	a, b := c.client(), c.ec2("ap-northeast-2", "111111111111")
	vpcA, vpcB := secVPC(t, a, "10.10.0.0/16"), secVPC(t, b, "10.20.0.0/16")
	ga, gb := secGroup(t, a, "app", vpcA), secGroup(t, b, "partner", vpcB)
	pair := types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(5432), ToPort: aws.Int32(5432),
		UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(gb), UserId: aws.String("111111111111")}}}
	_, err := a.AuthorizeSecurityGroupIngress(ctx, &ec2sdk.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(ga), IpPermissions: []types.IpPermission{pair}})
	wantCode(t, err, "InvalidGroup.NotFound")
	pcx := must[*ec2sdk.CreateVpcPeeringConnectionOutput](t)(a.CreateVpcPeeringConnection(ctx, &ec2sdk.CreateVpcPeeringConnectionInput{
		VpcId: aws.String(vpcA), PeerVpcId: aws.String(vpcB), PeerOwnerId: aws.String("111111111111"),
	})).VpcPeeringConnection
	must[*ec2sdk.AcceptVpcPeeringConnectionOutput](t)(b.AcceptVpcPeeringConnection(ctx, &ec2sdk.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: pcx.VpcPeeringConnectionId}))
	out := must[*ec2sdk.AuthorizeSecurityGroupIngressOutput](t)(a.AuthorizeSecurityGroupIngress(ctx, &ec2sdk.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(ga), IpPermissions: []types.IpPermission{pair}}))
	ref := out.SecurityGroupRules[0].ReferencedGroupInfo
	if ref == nil || aws.ToString(ref.GroupId) != gb || aws.ToString(ref.UserId) != "111111111111" || aws.ToString(ref.VpcId) != vpcB ||
		aws.ToString(ref.VpcPeeringConnectionId) != aws.ToString(pcx.VpcPeeringConnectionId) || aws.ToString(ref.PeeringStatus) != "active" {
		t.Fatalf("peered reference %+v", ref)
	}
	p := secDescribeGroup(t, a, ga).IpPermissions[0].UserIdGroupPairs[0]
	if aws.ToString(p.VpcPeeringConnectionId) == "" || aws.ToString(p.UserId) != "111111111111" {
		t.Fatalf("pair %+v", p)
	}
}

func TestSGBadInput(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	vpc := secVPC(t, cl, "10.3.0.0/16")
	id := secGroup(t, cl, "target", vpc)
	other := secVPC(t, cl, "10.4.0.0/16")
	elsewhere := secGroup(t, cl, "elsewhere", other)
	must[*ec2sdk.AuthorizeSecurityGroupIngressOutput](t)(cl.AuthorizeSecurityGroupIngress(ctx, &ec2sdk.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(id), IpPermissions: []types.IpPermission{secTCP(22, "10.0.0.0/8")},
	}))
	def := must[*ec2sdk.DescribeSecurityGroupsOutput](t)(cl.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{
		Filters: []types.Filter{secFilter("vpc-id", vpc), secFilter("group-name", "default")},
	})).SecurityGroups[0]
	ingress := func(perms ...types.IpPermission) error {
		_, err := cl.AuthorizeSecurityGroupIngress(ctx, &ec2sdk.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: perms})
		return err
	}
	create := func(name, desc, vpc string) error {
		in := &ec2sdk.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(desc)}
		if vpc != "" {
			in.VpcId = aws.String(vpc)
		}
		_, err := cl.CreateSecurityGroup(ctx, in)
		return err
	}
	cases := []struct {
		name string
		err  error
		code string
	}{
		{"duplicate name", create("target", "again", vpc), "InvalidGroup.Duplicate"},
		{"sg- name", create("sg-web", "x", vpc), "InvalidParameterValue"},
		{"default name", create("default", "x", vpc), "InvalidGroup.Reserved"},
		{"empty description", create("nodesc", "", vpc), "MissingParameter"},
		{"non-ASCII description", create("uni", "café", vpc), "InvalidParameterValue"},
		{"unknown VPC", create("x", "x", "vpc-0123456789abcdef0"), "InvalidVpcID.NotFound"},
		{"bad protocol", ingress(types.IpPermission{IpProtocol: aws.String("tcpx"), FromPort: aws.Int32(1), ToPort: aws.Int32(2), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}), "InvalidParameterValue"},
		{"protocol 256", ingress(types.IpPermission{IpProtocol: aws.String("256"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}), "InvalidParameterValue"},
		{"reversed ports", ingress(types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(90), ToPort: aws.Int32(80), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}), "InvalidParameterValue"},
		{"port over 65535", ingress(secTCP(70000, "0.0.0.0/0")), "InvalidParameterValue"},
		{"tcp without ports", ingress(types.IpPermission{IpProtocol: aws.String("tcp"), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}), "InvalidParameterValue"},
		{"icmp code without type", ingress(types.IpPermission{IpProtocol: aws.String("icmp"), FromPort: aws.Int32(-1), ToPort: aws.Int32(3), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}), "InvalidParameterValue"},
		{"malformed CIDR", ingress(secTCP(80, "10.0.0.0/33")), "InvalidParameterValue"},
		{"IPv6 CIDR in IpRanges", ingress(secTCP(80, "::/0")), "InvalidParameterValue"},
		{"no peer", ingress(types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80)}), "MissingParameter"},
		{"unknown source group", ingress(secFromGroup(80, "sg-0123456789abcdef0")), "InvalidGroup.NotFound"},
		{"malformed source group", ingress(secFromGroup(80, "sg-nope")), "InvalidGroupId.Malformed"},
		{"group of another VPC", ingress(secFromGroup(80, elsewhere)), "InvalidGroup.NotFound"},
		{"malformed prefix list", ingress(types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80), PrefixListIds: []types.PrefixListId{{PrefixListId: aws.String("pl-x")}}}), "InvalidPrefixListId.Malformed"},
		{"duplicate rule", ingress(secTCP(22, "10.0.0.0/8")), "InvalidPermission.Duplicate"},
		{"duplicate in one request", ingress(secTCP(23, "10.0.0.0/8"), secTCP(23, "10.0.0.0/8")), "InvalidParameterValue"},
		{"unknown group", func() error {
			_, err := cl.AuthorizeSecurityGroupIngress(ctx, &ec2sdk.AuthorizeSecurityGroupIngressInput{GroupId: aws.String("sg-0123456789abcdef0"), IpPermissions: []types.IpPermission{secTCP(22, "0.0.0.0/0")}})
			return err
		}(), "InvalidGroup.NotFound"},
		{"name of a non-default VPC group", func() error {
			_, err := cl.AuthorizeSecurityGroupIngress(ctx, &ec2sdk.AuthorizeSecurityGroupIngressInput{GroupName: aws.String("target"), IpPermissions: []types.IpPermission{secTCP(22, "0.0.0.0/0")}})
			return err
		}(), "InvalidGroup.NotFound"},
		{"flat and ipPermissions", func() error {
			_, err := cl.AuthorizeSecurityGroupIngress(ctx, &ec2sdk.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), CidrIp: aws.String("0.0.0.0/0"), IpPermissions: []types.IpPermission{secTCP(22, "0.0.0.0/0")}})
			return err
		}(), "InvalidParameterCombination"},
		{"revoke a missing rule", func() error {
			_, err := cl.RevokeSecurityGroupIngress(ctx, &ec2sdk.RevokeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: []types.IpPermission{secTCP(25, "10.0.0.0/8")}})
			return err
		}(), "InvalidPermission.NotFound"},
		{"revoke an unknown rule id", func() error {
			_, err := cl.RevokeSecurityGroupIngress(ctx, &ec2sdk.RevokeSecurityGroupIngressInput{GroupId: aws.String(id), SecurityGroupRuleIds: []string{"sgr-0123456789abcdef0"}})
			return err
		}(), "InvalidSecurityGroupRuleId.NotFound"},
		{"describe a malformed rule id", func() error {
			_, err := cl.DescribeSecurityGroupRules(ctx, &ec2sdk.DescribeSecurityGroupRulesInput{SecurityGroupRuleIds: []string{"rule-1"}})
			return err
		}(), "InvalidSecurityGroupRuleId.Malformed"},
		{"delete a default group", func() error {
			_, err := cl.DeleteSecurityGroup(ctx, &ec2sdk.DeleteSecurityGroupInput{GroupId: def.GroupId})
			return err
		}(), "CannotDelete"},
		{"delete an unknown group", func() error {
			_, err := cl.DeleteSecurityGroup(ctx, &ec2sdk.DeleteSecurityGroupInput{GroupId: aws.String("sg-0123456789abcdef0")})
			return err
		}(), "InvalidGroup.NotFound"},
		{"describe an unknown name", func() error {
			_, err := cl.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{GroupNames: []string{"nope"}})
			return err
		}(), "InvalidGroup.NotFound"},
		{"unknown filter", func() error {
			_, err := cl.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{Filters: []types.Filter{secFilter("colour", "red")}})
			return err
		}(), "InvalidParameterValue"},
		{"modify an unknown rule", func() error {
			_, err := cl.ModifySecurityGroupRules(ctx, &ec2sdk.ModifySecurityGroupRulesInput{GroupId: aws.String(id), SecurityGroupRules: []types.SecurityGroupRuleUpdate{{
				SecurityGroupRuleId: aws.String("sgr-0123456789abcdef0"), SecurityGroupRule: &types.SecurityGroupRuleRequest{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(1), ToPort: aws.Int32(1), CidrIpv4: aws.String("0.0.0.0/0")},
			}}})
			return err
		}(), "InvalidSecurityGroupRuleId.NotFound"},
		{"describe a missing rule's description", func() error {
			_, err := cl.UpdateSecurityGroupRuleDescriptionsIngress(ctx, &ec2sdk.UpdateSecurityGroupRuleDescriptionsIngressInput{GroupId: aws.String(id), IpPermissions: []types.IpPermission{secTCP(99, "10.0.0.0/8")}})
			return err
		}(), "InvalidPermission.NotFound"},
	}
	for _, tc := range cases {
		if got := apiCode(tc.err); got != tc.code {
			t.Errorf("%s: got %q (%v), want %q", tc.name, got, tc.err, tc.code)
		}
	}
	// The limit of 60 inbound rules.
	var perms []types.IpPermission
	for p := int32(1000); p < 1060; p++ {
		perms = append(perms, secTCP(p, "0.0.0.0/0"))
	}
	wantCode(t, ingress(perms...), "RulesPerSecurityGroupLimitExceeded")
	// Nothing of a failed call stays.
	if g := secDescribeGroup(t, cl, id); len(g.IpPermissions) != 1 {
		t.Fatalf("ingress after failures %+v", g.IpPermissions)
	}
}

func TestSGDryRun(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	_, err := cl.CreateSecurityGroup(ctx, &ec2sdk.CreateSecurityGroupInput{GroupName: aws.String("dry"), Description: aws.String("dry"), DryRun: aws.Bool(true)})
	wantCode(t, err, "DryRunOperation")
	_, err = cl.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{GroupNames: []string{"dry"}})
	wantCode(t, err, "InvalidGroup.NotFound")
	id := secGroup(t, cl, "wet", "")
	_, err = cl.AuthorizeSecurityGroupIngress(ctx, &ec2sdk.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: []types.IpPermission{secTCP(80, "0.0.0.0/0")}, DryRun: aws.Bool(true)})
	wantCode(t, err, "DryRunOperation")
	_, err = cl.DeleteSecurityGroup(ctx, &ec2sdk.DeleteSecurityGroupInput{GroupId: aws.String(id), DryRun: aws.Bool(true)})
	wantCode(t, err, "DryRunOperation")
	g := secDescribeGroup(t, cl, id)
	if len(g.IpPermissions) != 0 {
		t.Fatalf("a dry run changed the group: %+v", g.IpPermissions)
	}
	// A dry run still checks: an invalid request says why, not DryRunOperation.
	_, err = cl.AuthorizeSecurityGroupIngress(ctx, &ec2sdk.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(id), IpPermissions: []types.IpPermission{secTCP(80, "bad")}, DryRun: aws.Bool(true)})
	wantCode(t, err, "InvalidParameterValue")
}

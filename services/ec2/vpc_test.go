package ec2_test

import (
	"context"
	"sort"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// Helpers of the VPC tests, named net* to stay apart from other areas'.

func netFilter(name string, values ...string) types.Filter {
	return types.Filter{Name: aws.String(name), Values: values}
}

func netVPC(t *testing.T, cl *ec2sdk.Client, cidr string) string {
	t.Helper()
	out := must[*ec2sdk.CreateVpcOutput](t)(cl.CreateVpc(context.Background(), &ec2sdk.CreateVpcInput{CidrBlock: aws.String(cidr)}))
	return aws.ToString(out.Vpc.VpcId)
}

func netSubnet(t *testing.T, cl *ec2sdk.Client, vpc, cidr, az string) string {
	t.Helper()
	in := &ec2sdk.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String(cidr)}
	if az != "" {
		in.AvailabilityZone = aws.String(az)
	}
	out := must[*ec2sdk.CreateSubnetOutput](t)(cl.CreateSubnet(context.Background(), in))
	return aws.ToString(out.Subnet.SubnetId)
}

func netDefaultVPC(t *testing.T, cl *ec2sdk.Client) types.Vpc {
	t.Helper()
	out := must[*ec2sdk.DescribeVpcsOutput](t)(cl.DescribeVpcs(context.Background(), &ec2sdk.DescribeVpcsInput{Filters: []types.Filter{netFilter("is-default", "true")}}))
	if len(out.Vpcs) != 1 {
		t.Fatalf("default VPCs: %+v", out.Vpcs)
	}
	return out.Vpcs[0]
}

// netMainRouteTable returns the main route table of a VPC.
func netMainRouteTable(t *testing.T, cl *ec2sdk.Client, vpc string) types.RouteTable {
	t.Helper()
	out := must[*ec2sdk.DescribeRouteTablesOutput](t)(cl.DescribeRouteTables(context.Background(), &ec2sdk.DescribeRouteTablesInput{
		Filters: []types.Filter{netFilter("vpc-id", vpc), netFilter("association.main", "true")},
	}))
	if len(out.RouteTables) != 1 {
		t.Fatalf("main route tables of %s: %+v", vpc, out.RouteTables)
	}
	return out.RouteTables[0]
}

// netRoute returns the route of a table to dest.
func netRoute(t *testing.T, cl *ec2sdk.Client, rtb, dest string) types.Route {
	t.Helper()
	out := must[*ec2sdk.DescribeRouteTablesOutput](t)(cl.DescribeRouteTables(context.Background(), &ec2sdk.DescribeRouteTablesInput{RouteTableIds: []string{rtb}}))
	for _, r := range out.RouteTables[0].Routes {
		if aws.ToString(r.DestinationCidrBlock) == dest {
			return r
		}
	}
	t.Fatalf("route table %s has no route to %s: %+v", rtb, dest, out.RouteTables[0].Routes)
	return types.Route{}
}

func TestSeedDefaultVPC(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	v := netDefaultVPC(t, cl)
	if aws.ToString(v.CidrBlock) != "172.31.0.0/16" || !aws.ToBool(v.IsDefault) || v.State != types.VpcStateAvailable || aws.ToString(v.OwnerId) != "000000000000" {
		t.Fatalf("default VPC %+v", v)
	}
	subnets := must[*ec2sdk.DescribeSubnetsOutput](t)(cl.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{Filters: []types.Filter{netFilter("vpc-id", *v.VpcId)}})).Subnets
	var got []string
	for _, sn := range subnets {
		if !aws.ToBool(sn.DefaultForAz) || !aws.ToBool(sn.MapPublicIpOnLaunch) || aws.ToInt32(sn.AvailableIpAddressCount) != 4091 {
			t.Fatalf("default subnet %+v", sn)
		}
		got = append(got, aws.ToString(sn.AvailabilityZone)+" "+aws.ToString(sn.CidrBlock))
	}
	sort.Strings(got)
	want := []string{"ap-northeast-2a 172.31.0.0/20", "ap-northeast-2b 172.31.16.0/20", "ap-northeast-2c 172.31.32.0/20", "ap-northeast-2d 172.31.48.0/20"}
	if !equal(got, want) {
		t.Fatalf("default subnets %v, want %v", got, want)
	}
	byAZ := must[*ec2sdk.DescribeSubnetsOutput](t)(cl.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{Filters: []types.Filter{
		netFilter("default-for-az", "true"), netFilter("availability-zone-id", "apne2-az3"),
	}}))
	if len(byAZ.Subnets) != 1 || aws.ToString(byAZ.Subnets[0].CidrBlock) != "172.31.32.0/20" {
		t.Fatalf("default subnet of apne2-az3: %+v", byAZ.Subnets)
	}
	rt := netMainRouteTable(t, cl, *v.VpcId)
	igw := netRoute(t, cl, *rt.RouteTableId, "0.0.0.0/0")
	if igw.State != types.RouteStateActive || len(aws.ToString(igw.GatewayId)) < 4 || aws.ToString(igw.GatewayId)[:4] != "igw-" {
		t.Fatalf("default route %+v", igw)
	}
	igws := must[*ec2sdk.DescribeInternetGatewaysOutput](t)(cl.DescribeInternetGateways(ctx, &ec2sdk.DescribeInternetGatewaysInput{
		Filters: []types.Filter{netFilter("attachment.vpc-id", *v.VpcId), netFilter("attachment.state", "available")},
	}))
	if len(igws.InternetGateways) != 1 || aws.ToString(igws.InternetGateways[0].InternetGatewayId) != aws.ToString(igw.GatewayId) {
		t.Fatalf("default internet gateway %+v", igws.InternetGateways)
	}
	attr := must[*ec2sdk.DescribeVpcAttributeOutput](t)(cl.DescribeVpcAttribute(ctx, &ec2sdk.DescribeVpcAttributeInput{VpcId: v.VpcId, Attribute: types.VpcAttributeNameEnableDnsHostnames}))
	if !aws.ToBool(attr.EnableDnsHostnames.Value) {
		t.Fatal("the default VPC has DNS hostnames")
	}
	// Another region has its own default VPC, with its own zones.
	us := c.ec2("us-east-1", "test")
	usv := netDefaultVPC(t, us)
	usSubnets := must[*ec2sdk.DescribeSubnetsOutput](t)(us.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{Filters: []types.Filter{netFilter("vpc-id", *usv.VpcId)}}))
	if aws.ToString(usv.VpcId) == aws.ToString(v.VpcId) || len(usSubnets.Subnets) != 6 {
		t.Fatalf("us-east-1 default VPC %s with %d subnets", aws.ToString(usv.VpcId), len(usSubnets.Subnets))
	}
}

func TestVPCLifecycle(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	out := must[*ec2sdk.CreateVpcOutput](t)(cl.CreateVpc(ctx, &ec2sdk.CreateVpcInput{
		CidrBlock:         aws.String("10.0.0.0/16"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpc, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("devloop")}}}},
	}))
	vpc := aws.ToString(out.Vpc.VpcId)
	if out.Vpc.InstanceTenancy != types.TenancyDefault || aws.ToBool(out.Vpc.IsDefault) || len(out.Vpc.CidrBlockAssociationSet) != 1 || aws.ToString(out.Vpc.DhcpOptionsId) == "" {
		t.Fatalf("new VPC %+v", out.Vpc)
	}
	for _, f := range [][]types.Filter{
		{netFilter("tag:Name", "devloop")},
		{netFilter("cidr", "10.0.0.0/16")},
		{netFilter("cidr-block-association.cidr-block", "10.0.*")},
		{netFilter("is-default", "false"), netFilter("state", "available"), netFilter("owner-id", "000000000000")},
		{netFilter("dhcp-options-id", aws.ToString(out.Vpc.DhcpOptionsId)), netFilter("tag-key", "Name")},
	} {
		got := must[*ec2sdk.DescribeVpcsOutput](t)(cl.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{Filters: f}))
		if len(got.Vpcs) != 1 || aws.ToString(got.Vpcs[0].VpcId) != vpc {
			t.Fatalf("filters %v: %+v", *f[0].Name, got.Vpcs)
		}
	}
	none := must[*ec2sdk.DescribeVpcsOutput](t)(cl.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{Filters: []types.Filter{netFilter("ipv6-cidr-block-association.ipv6-cidr-block", "*")}}))
	if none.Vpcs == nil || len(none.Vpcs) != 0 {
		t.Fatalf("no VPC has IPv6: %+v", none.Vpcs)
	}

	// The main route table, default security group and default network ACL
	// come with the VPC and go with it.
	rt := netMainRouteTable(t, cl, vpc)
	if len(rt.Routes) != 1 || aws.ToString(rt.Routes[0].GatewayId) != "local" || aws.ToString(rt.Routes[0].DestinationCidrBlock) != "10.0.0.0/16" {
		t.Fatalf("main route table %+v", rt.Routes)
	}
	acls := must[*ec2sdk.DescribeNetworkAclsOutput](t)(cl.DescribeNetworkAcls(ctx, &ec2sdk.DescribeNetworkAclsInput{Filters: []types.Filter{netFilter("vpc-id", vpc)}}))
	if len(acls.NetworkAcls) != 1 || !aws.ToBool(acls.NetworkAcls[0].IsDefault) || len(acls.NetworkAcls[0].Entries) != 4 {
		t.Fatalf("default network ACL %+v", acls.NetworkAcls)
	}

	// Attributes: one per call.
	attr := must[*ec2sdk.DescribeVpcAttributeOutput](t)(cl.DescribeVpcAttribute(ctx, &ec2sdk.DescribeVpcAttributeInput{VpcId: &vpc, Attribute: types.VpcAttributeNameEnableDnsHostnames}))
	if aws.ToBool(attr.EnableDnsHostnames.Value) {
		t.Fatal("a new VPC has no DNS hostnames")
	}
	must[*ec2sdk.ModifyVpcAttributeOutput](t)(cl.ModifyVpcAttribute(ctx, &ec2sdk.ModifyVpcAttributeInput{VpcId: &vpc, EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}}))
	attr = must[*ec2sdk.DescribeVpcAttributeOutput](t)(cl.DescribeVpcAttribute(ctx, &ec2sdk.DescribeVpcAttributeInput{VpcId: &vpc, Attribute: types.VpcAttributeNameEnableDnsHostnames}))
	if !aws.ToBool(attr.EnableDnsHostnames.Value) {
		t.Fatal("DNS hostnames not enabled")
	}
	must[*ec2sdk.ModifyVpcAttributeOutput](t)(cl.ModifyVpcAttribute(ctx, &ec2sdk.ModifyVpcAttributeInput{VpcId: &vpc, EnableNetworkAddressUsageMetrics: &types.AttributeBooleanValue{Value: aws.Bool(true)}}))
	attr = must[*ec2sdk.DescribeVpcAttributeOutput](t)(cl.DescribeVpcAttribute(ctx, &ec2sdk.DescribeVpcAttributeInput{VpcId: &vpc, Attribute: types.VpcAttributeNameEnableNetworkAddressUsageMetrics}))
	if !aws.ToBool(attr.EnableNetworkAddressUsageMetrics.Value) {
		t.Fatal("network address usage metrics not enabled")
	}
	_, err := cl.ModifyVpcAttribute(ctx, &ec2sdk.ModifyVpcAttributeInput{VpcId: &vpc,
		EnableDnsSupport: &types.AttributeBooleanValue{Value: aws.Bool(true)}, EnableDnsHostnames: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
	wantCode(t, err, "InvalidParameterCombination")
	_, err = cl.ModifyVpcAttribute(ctx, &ec2sdk.ModifyVpcAttributeInput{VpcId: &vpc})
	wantCode(t, err, "InvalidParameterCombination")

	// Secondary CIDR blocks.
	assoc := must[*ec2sdk.AssociateVpcCidrBlockOutput](t)(cl.AssociateVpcCidrBlock(ctx, &ec2sdk.AssociateVpcCidrBlockInput{VpcId: &vpc, CidrBlock: aws.String("10.1.0.0/16")}))
	if assoc.CidrBlockAssociation.CidrBlockState.State != types.VpcCidrBlockStateCodeAssociating {
		t.Fatalf("association %+v", assoc.CidrBlockAssociation)
	}
	if r := netRoute(t, cl, *rt.RouteTableId, "10.1.0.0/16"); aws.ToString(r.GatewayId) != "local" {
		t.Fatalf("local route of the new block: %+v", r)
	}
	secondary := netSubnet(t, cl, vpc, "10.1.5.0/24", "ap-northeast-2b")
	for _, tc := range []struct{ cidr, code string }{
		{"172.16.0.0/16", "InvalidVpc.Range"},    // another RFC 1918 range
		{"198.19.0.0/16", "InvalidVpc.Range"},    // reserved
		{"10.0.128.0/17", "InvalidVpc.Range"},    // overlaps the primary block
		{"10.2.0.0/29", "InvalidVpc.Range"},      // too small
		{"10.2.0.0/33", "InvalidParameterValue"}, // not a CIDR
	} {
		_, err = cl.AssociateVpcCidrBlock(ctx, &ec2sdk.AssociateVpcCidrBlockInput{VpcId: &vpc, CidrBlock: aws.String(tc.cidr)})
		wantCode(t, err, tc.code)
	}
	must[*ec2sdk.AssociateVpcCidrBlockOutput](t)(cl.AssociateVpcCidrBlock(ctx, &ec2sdk.AssociateVpcCidrBlockInput{VpcId: &vpc, CidrBlock: aws.String("100.64.0.0/16")}))
	must[*ec2sdk.AssociateVpcCidrBlockOutput](t)(cl.AssociateVpcCidrBlock(ctx, &ec2sdk.AssociateVpcCidrBlockInput{VpcId: &vpc, CidrBlock: aws.String("10.2.0.0/16")}))
	must[*ec2sdk.AssociateVpcCidrBlockOutput](t)(cl.AssociateVpcCidrBlock(ctx, &ec2sdk.AssociateVpcCidrBlockInput{VpcId: &vpc, CidrBlock: aws.String("10.3.0.0/16")}))
	_, err = cl.AssociateVpcCidrBlock(ctx, &ec2sdk.AssociateVpcCidrBlockInput{VpcId: &vpc, CidrBlock: aws.String("10.4.0.0/16")})
	wantCode(t, err, "CidrLimitExceeded")
	_, err = cl.DisassociateVpcCidrBlock(ctx, &ec2sdk.DisassociateVpcCidrBlockInput{AssociationId: assoc.CidrBlockAssociation.AssociationId})
	wantCode(t, err, "DependencyViolation")
	_, err = cl.DisassociateVpcCidrBlock(ctx, &ec2sdk.DisassociateVpcCidrBlockInput{AssociationId: out.Vpc.CidrBlockAssociationSet[0].AssociationId})
	wantCode(t, err, "OperationNotPermitted")
	_, err = cl.DisassociateVpcCidrBlock(ctx, &ec2sdk.DisassociateVpcCidrBlockInput{AssociationId: aws.String("vpc-cidr-assoc-0123456789abcdef0")})
	wantCode(t, err, "InvalidVpcCidrBlockAssociationID.NotFound")
	must[*ec2sdk.DeleteSubnetOutput](t)(cl.DeleteSubnet(ctx, &ec2sdk.DeleteSubnetInput{SubnetId: &secondary}))
	must[*ec2sdk.DisassociateVpcCidrBlockOutput](t)(cl.DisassociateVpcCidrBlock(ctx, &ec2sdk.DisassociateVpcCidrBlockInput{AssociationId: assoc.CidrBlockAssociation.AssociationId}))
	got := must[*ec2sdk.DescribeVpcsOutput](t)(cl.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{VpcIds: []string{vpc}})).Vpcs[0]
	if len(got.CidrBlockAssociationSet) != 4 {
		t.Fatalf("CIDR blocks after disassociation: %+v", got.CidrBlockAssociationSet)
	}
	for _, r := range netMainRouteTable(t, cl, vpc).Routes {
		if aws.ToString(r.DestinationCidrBlock) == "10.1.0.0/16" {
			t.Fatal("the local route of a disassociated block stays")
		}
	}

	// Tenancy.
	ded := must[*ec2sdk.CreateVpcOutput](t)(cl.CreateVpc(ctx, &ec2sdk.CreateVpcInput{CidrBlock: aws.String("192.168.0.0/24"), InstanceTenancy: types.TenancyDedicated}))
	if ded.Vpc.InstanceTenancy != types.TenancyDedicated {
		t.Fatalf("tenancy %q", ded.Vpc.InstanceTenancy)
	}

	must[*ec2sdk.DeleteVpcOutput](t)(cl.DeleteVpc(ctx, &ec2sdk.DeleteVpcInput{VpcId: &vpc}))
	_, err = cl.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{VpcIds: []string{vpc}})
	wantCode(t, err, "InvalidVpcID.NotFound")
	_, err = cl.DescribeRouteTables(ctx, &ec2sdk.DescribeRouteTablesInput{RouteTableIds: []string{*rt.RouteTableId}})
	wantCode(t, err, "InvalidRouteTableID.NotFound")
	left := must[*ec2sdk.DescribeNetworkAclsOutput](t)(cl.DescribeNetworkAcls(ctx, &ec2sdk.DescribeNetworkAclsInput{Filters: []types.Filter{netFilter("vpc-id", vpc)}}))
	if len(left.NetworkAcls) != 0 {
		t.Fatalf("network ACLs of a deleted VPC: %+v", left.NetworkAcls)
	}
}

func TestVPCDryRun(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	_, err := cl.CreateVpc(ctx, &ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16"), DryRun: aws.Bool(true)})
	wantCode(t, err, "DryRunOperation")
	// A dry run still answers the request's own errors.
	_, err = cl.CreateVpc(ctx, &ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.8.0.0/15"), DryRun: aws.Bool(true)})
	wantCode(t, err, "InvalidVpc.Range")
	vpcs := must[*ec2sdk.DescribeVpcsOutput](t)(cl.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{}))
	if len(vpcs.Vpcs) != 1 {
		t.Fatalf("a dry run made a VPC: %+v", vpcs.Vpcs)
	}
	vpc := netVPC(t, cl, "10.9.0.0/16")
	_, err = cl.CreateSubnet(ctx, &ec2sdk.CreateSubnetInput{VpcId: &vpc, CidrBlock: aws.String("10.9.1.0/24"), DryRun: aws.Bool(true)})
	wantCode(t, err, "DryRunOperation")
	subnet := netSubnet(t, cl, vpc, "10.9.1.0/24", "")
	_, err = cl.CreateSubnet(ctx, &ec2sdk.CreateSubnetInput{VpcId: &vpc, CidrBlock: aws.String("10.9.1.0/25"), DryRun: aws.Bool(true)})
	wantCode(t, err, "InvalidSubnet.Conflict")
	_, err = cl.DeleteSubnet(ctx, &ec2sdk.DeleteSubnetInput{SubnetId: &subnet, DryRun: aws.Bool(true)})
	wantCode(t, err, "DryRunOperation")
	_, err = cl.DeleteVpc(ctx, &ec2sdk.DeleteVpcInput{VpcId: &vpc, DryRun: aws.Bool(true)})
	wantCode(t, err, "DependencyViolation")
	igw := must[*ec2sdk.CreateInternetGatewayOutput](t)(cl.CreateInternetGateway(ctx, &ec2sdk.CreateInternetGatewayInput{})).InternetGateway.InternetGatewayId
	_, err = cl.AttachInternetGateway(ctx, &ec2sdk.AttachInternetGatewayInput{InternetGatewayId: igw, VpcId: &vpc, DryRun: aws.Bool(true)})
	wantCode(t, err, "DryRunOperation")
	rt := netMainRouteTable(t, cl, vpc).RouteTableId
	_, err = cl.CreateRoute(ctx, &ec2sdk.CreateRouteInput{RouteTableId: rt, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: igw, DryRun: aws.Bool(true)})
	wantCode(t, err, "InvalidParameterValue") // not attached: the dry run did not attach it
	_, err = cl.CreateRouteTable(ctx, &ec2sdk.CreateRouteTableInput{VpcId: &vpc, DryRun: aws.Bool(true)})
	wantCode(t, err, "DryRunOperation")
	_, err = cl.CreateNetworkAcl(ctx, &ec2sdk.CreateNetworkAclInput{VpcId: &vpc, DryRun: aws.Bool(true)})
	wantCode(t, err, "DryRunOperation")
	_, err = cl.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{DryRun: aws.Bool(true)})
	wantCode(t, err, "DryRunOperation")
	must[*ec2sdk.DescribeSubnetsOutput](t)(cl.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{SubnetIds: []string{subnet}}))
	tables := must[*ec2sdk.DescribeRouteTablesOutput](t)(cl.DescribeRouteTables(ctx, &ec2sdk.DescribeRouteTablesInput{Filters: []types.Filter{netFilter("vpc-id", vpc)}}))
	if len(tables.RouteTables) != 1 {
		t.Fatalf("dry runs made route tables: %d", len(tables.RouteTables))
	}
}

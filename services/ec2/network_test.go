package ec2_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestSeed002PrivateSubnetCLI runs the commands of the multi-server
// tutorial (seed 002) verbatim with the aws CLI: a private subnet in the
// default VPC, a route table sending 0.0.0.0/0 to a NAT gateway given as
// --gateway-id, associated with the subnet.
func TestSeed002PrivateSubnetCLI(t *testing.T) {
	c := newCloud(t)
	var vpcIDs []string
	if err := c.cli(t, &vpcIDs, "ec2", "describe-vpcs", "--query", "Vpcs[*].VpcId"); err != nil {
		t.Fatal(err)
	}
	if len(vpcIDs) != 1 {
		t.Fatalf("VPCs %v", vpcIDs)
	}
	vpc := vpcIDs[0]
	var sn struct{ Subnet types.Subnet }
	if err := c.cli(t, &sn, "ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "172.31.112.0/20", "--availability-zone=ap-northeast-2a"); err != nil {
		t.Fatal(err)
	}
	private := aws.ToString(sn.Subnet.SubnetId)
	if aws.ToString(sn.Subnet.AvailabilityZone) != "ap-northeast-2a" || aws.ToInt32(sn.Subnet.AvailableIpAddressCount) != 4091 || aws.ToBool(sn.Subnet.MapPublicIpOnLaunch) {
		t.Fatalf("private subnet %+v", sn.Subnet)
	}
	// The homework: the same in zone C.
	if err := c.cli(t, nil, "ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "172.31.144.0/20", "--availability-zone=ap-northeast-2c"); err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	if err := c.cli(t, &rows, "ec2", "describe-subnets", "--query", "Subnets[*].[SubnetId, AvailabilityZone, CidrBlock]"); err != nil {
		t.Fatal(err)
	}
	public := ""
	for _, r := range rows {
		if r[1] == "ap-northeast-2a" && r[2] == "172.31.0.0/20" {
			public = r[0]
		}
	}
	if len(rows) != 6 || public == "" {
		t.Fatalf("subnets %v", rows)
	}
	var rt struct{ RouteTable types.RouteTable }
	if err := c.cli(t, &rt, "ec2", "create-route-table", "--vpc-id", vpc); err != nil {
		t.Fatal(err)
	}
	rtb := aws.ToString(rt.RouteTable.RouteTableId)
	if len(rt.RouteTable.Routes) != 1 || aws.ToString(rt.RouteTable.Routes[0].GatewayId) != "local" {
		t.Fatalf("new route table %+v", rt.RouteTable)
	}
	var assoc struct{ AssociationId string }
	if err := c.cli(t, &assoc, "ec2", "associate-route-table", "--route-table-id", rtb, "--subnet-id", private); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(assoc.AssociationId, "rtbassoc-") {
		t.Fatalf("association %+v", assoc)
	}
	var tables struct{ RouteTables []types.RouteTable }
	if err := c.cli(t, &tables, "ec2", "describe-route-tables", "--filters", "Name=association.subnet-id,Values="+private); err != nil {
		t.Fatal(err)
	}
	if len(tables.RouteTables) != 1 || aws.ToString(tables.RouteTables[0].RouteTableId) != rtb {
		t.Fatalf("route table of the private subnet: %+v", tables.RouteTables)
	}

	// The NAT gateway belongs to another area; without it the rest waits.
	var eip struct{ AllocationId string }
	if err := c.cli(t, &eip, "ec2", "allocate-address", "--domain", "vpc"); err != nil {
		if strings.Contains(err.Error(), "NotImplemented") {
			t.Skip("needs AllocateAddress")
		}
		t.Fatal(err)
	}
	var nat struct{ NatGateway types.NatGateway }
	if err := c.cli(t, &nat, "ec2", "create-nat-gateway", "--subnet-id", public, "--allocation-id", eip.AllocationId); err != nil {
		if strings.Contains(err.Error(), "NotImplemented") {
			t.Skip("needs CreateNatGateway")
		}
		t.Fatal(err)
	}
	natID := aws.ToString(nat.NatGateway.NatGatewayId)
	if err := c.cli(t, nil, "ec2", "create-route", "--route-table-id", rtb, "--destination-cidr-block", "0.0.0.0/0", "--gateway-id", natID); err != nil {
		t.Fatal(err)
	}
	r := netRoute(t, c.client(), rtb, "0.0.0.0/0")
	if aws.ToString(r.NatGatewayId) != natID || r.GatewayId != nil {
		t.Fatalf("a nat- id given as gateway is recorded as the NAT gateway: %+v", r)
	}
	// The route follows the gateway: blackhole while it is pending, active
	// once available, blackhole again as soon as it is deleted.
	cl := c.client()
	ctx := context.Background()
	netWaitNAT(t, cl, natID, types.NatGatewayStateAvailable)
	if r := netRoute(t, cl, rtb, "0.0.0.0/0"); r.State != types.RouteStateActive {
		t.Fatalf("route to an available NAT gateway is %s", r.State)
	}
	if err := c.cli(t, nil, "ec2", "create-route", "--route-table-id", rtb, "--destination-cidr-block", "0.0.0.0/0", "--gateway-id", natID); err == nil || !strings.Contains(err.Error(), "RouteAlreadyExists") {
		t.Fatalf("duplicate route: %v", err)
	}
	must[*ec2sdk.DeleteNatGatewayOutput](t)(cl.DeleteNatGateway(ctx, &ec2sdk.DeleteNatGatewayInput{NatGatewayId: &natID}))
	if r := netRoute(t, cl, rtb, "0.0.0.0/0"); r.State != types.RouteStateBlackhole {
		t.Fatalf("route to a deleted NAT gateway is %s", r.State)
	}
	_, err := cl.ReplaceRoute(ctx, &ec2sdk.ReplaceRouteInput{RouteTableId: &rtb, DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: &natID})
	wantCode(t, err, "InvalidNatGatewayID.NotFound")
}

// netWaitNAT waits for a NAT gateway to reach a state.
func netWaitNAT(t *testing.T, cl *ec2sdk.Client, id string, want types.NatGatewayState) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := must[*ec2sdk.DescribeNatGatewaysOutput](t)(cl.DescribeNatGateways(context.Background(), &ec2sdk.DescribeNatGatewaysInput{NatGatewayIds: []string{id}}))
		if out.NatGateways[0].State == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("NAT gateway %s is %s, not %s", id, out.NatGateways[0].State, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestSeedNetwork000 builds the network of seeds 000 and 003: VPC
// 10.0.0.0/16, public subnets in zones a and c routed to an internet
// gateway, private subnets beside them, then takes it down in the order
// AWS allows.
func TestSeedNetwork000(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	vpc := netVPC(t, cl, "10.0.0.0/16")
	pubA := netSubnet(t, cl, vpc, "10.0.1.0/24", "ap-northeast-2a")
	pubC := netSubnet(t, cl, vpc, "10.0.2.0/24", "ap-northeast-2c")
	privA := netSubnet(t, cl, vpc, "10.0.11.0/24", "ap-northeast-2a")
	privC := netSubnet(t, cl, vpc, "10.0.12.0/24", "ap-northeast-2c")
	for _, sn := range []string{pubA, pubC} {
		must[*ec2sdk.ModifySubnetAttributeOutput](t)(cl.ModifySubnetAttribute(ctx, &ec2sdk.ModifySubnetAttributeInput{SubnetId: aws.String(sn), MapPublicIpOnLaunch: &types.AttributeBooleanValue{Value: aws.Bool(true)}}))
	}
	public := must[*ec2sdk.DescribeSubnetsOutput](t)(cl.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{Filters: []types.Filter{netFilter("vpc-id", vpc), netFilter("map-public-ip-on-launch", "true")}}))
	if len(public.Subnets) != 2 {
		t.Fatalf("public subnets %+v", public.Subnets)
	}
	inC := must[*ec2sdk.DescribeSubnetsOutput](t)(cl.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{Filters: []types.Filter{netFilter("vpc-id", vpc), netFilter("availability-zone", "ap-northeast-2c")}}))
	if len(inC.Subnets) != 2 || aws.ToInt32(inC.Subnets[0].AvailableIpAddressCount) != 251 {
		t.Fatalf("subnets in zone c %+v", inC.Subnets)
	}

	igw := aws.ToString(must[*ec2sdk.CreateInternetGatewayOutput](t)(cl.CreateInternetGateway(ctx, &ec2sdk.CreateInternetGatewayInput{
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInternetGateway, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("BTS-IGW")}}}},
	})).InternetGateway.InternetGatewayId)
	must[*ec2sdk.AttachInternetGatewayOutput](t)(cl.AttachInternetGateway(ctx, &ec2sdk.AttachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpc}))
	pubRT := aws.ToString(must[*ec2sdk.CreateRouteTableOutput](t)(cl.CreateRouteTable(ctx, &ec2sdk.CreateRouteTableInput{VpcId: &vpc})).RouteTable.RouteTableId)
	must[*ec2sdk.CreateRouteOutput](t)(cl.CreateRoute(ctx, &ec2sdk.CreateRouteInput{RouteTableId: &pubRT, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: &igw}))
	var assocs []string
	for _, sn := range []string{pubA, pubC} {
		a := must[*ec2sdk.AssociateRouteTableOutput](t)(cl.AssociateRouteTable(ctx, &ec2sdk.AssociateRouteTableInput{RouteTableId: &pubRT, SubnetId: aws.String(sn)}))
		if a.AssociationState.State != types.RouteTableAssociationStateCodeAssociated {
			t.Fatalf("association %+v", a.AssociationState)
		}
		assocs = append(assocs, aws.ToString(a.AssociationId))
	}
	if r := netRoute(t, cl, pubRT, "0.0.0.0/0"); r.State != types.RouteStateActive || aws.ToString(r.GatewayId) != igw || r.Origin != types.RouteOriginCreateRoute {
		t.Fatalf("internet route %+v", r)
	}
	for _, tc := range []struct {
		filters []types.Filter
		want    int
	}{
		{[]types.Filter{netFilter("association.subnet-id", pubA)}, 1},
		{[]types.Filter{netFilter("association.subnet-id", privA, privC)}, 0}, // the main table, implicitly
		{[]types.Filter{netFilter("vpc-id", vpc)}, 2},
		{[]types.Filter{netFilter("vpc-id", vpc), netFilter("route.gateway-id", igw)}, 1},
		{[]types.Filter{netFilter("route.destination-cidr-block", "0.0.0.0/0"), netFilter("route.state", "active"), netFilter("vpc-id", vpc)}, 1},
		{[]types.Filter{netFilter("association.main", "false"), netFilter("vpc-id", vpc)}, 1},
		{[]types.Filter{netFilter("association.route-table-association-id", assocs[1])}, 1},
	} {
		got := must[*ec2sdk.DescribeRouteTablesOutput](t)(cl.DescribeRouteTables(ctx, &ec2sdk.DescribeRouteTablesInput{Filters: tc.filters}))
		if len(got.RouteTables) != tc.want {
			t.Fatalf("filter %s=%v: %d tables, want %d", *tc.filters[0].Name, tc.filters[0].Values, len(got.RouteTables), tc.want)
		}
	}
	tagged := must[*ec2sdk.DescribeInternetGatewaysOutput](t)(cl.DescribeInternetGateways(ctx, &ec2sdk.DescribeInternetGatewaysInput{Filters: []types.Filter{netFilter("tag:Name", "BTS-IGW")}}))
	if len(tagged.InternetGateways) != 1 || aws.ToString(tagged.InternetGateways[0].Attachments[0].VpcId) != vpc {
		t.Fatalf("tagged gateway %+v", tagged.InternetGateways)
	}

	// Down again, each dependency refused until it is gone.
	_, err := cl.DeleteVpc(ctx, &ec2sdk.DeleteVpcInput{VpcId: &vpc})
	wantCode(t, err, "DependencyViolation")
	_, err = cl.DeleteInternetGateway(ctx, &ec2sdk.DeleteInternetGatewayInput{InternetGatewayId: &igw})
	wantCode(t, err, "DependencyViolation")
	_, err = cl.DeleteRouteTable(ctx, &ec2sdk.DeleteRouteTableInput{RouteTableId: &pubRT})
	wantCode(t, err, "DependencyViolation")
	must[*ec2sdk.DetachInternetGatewayOutput](t)(cl.DetachInternetGateway(ctx, &ec2sdk.DetachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpc}))
	if r := netRoute(t, cl, pubRT, "0.0.0.0/0"); r.State != types.RouteStateBlackhole {
		t.Fatalf("route to a detached gateway is %s", r.State)
	}
	holes := must[*ec2sdk.DescribeRouteTablesOutput](t)(cl.DescribeRouteTables(ctx, &ec2sdk.DescribeRouteTablesInput{Filters: []types.Filter{netFilter("route.state", "blackhole")}}))
	if len(holes.RouteTables) != 1 || aws.ToString(holes.RouteTables[0].RouteTableId) != pubRT {
		t.Fatalf("route.state=blackhole: %+v", holes.RouteTables)
	}
	_, err = cl.DetachInternetGateway(ctx, &ec2sdk.DetachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpc})
	wantCode(t, err, "Gateway.NotAttached")
	must[*ec2sdk.DeleteInternetGatewayOutput](t)(cl.DeleteInternetGateway(ctx, &ec2sdk.DeleteInternetGatewayInput{InternetGatewayId: &igw}))
	for _, a := range assocs {
		must[*ec2sdk.DisassociateRouteTableOutput](t)(cl.DisassociateRouteTable(ctx, &ec2sdk.DisassociateRouteTableInput{AssociationId: aws.String(a)}))
	}
	_, err = cl.DisassociateRouteTable(ctx, &ec2sdk.DisassociateRouteTableInput{AssociationId: aws.String(assocs[0])})
	wantCode(t, err, "InvalidAssociationID.NotFound")
	must[*ec2sdk.DeleteRouteTableOutput](t)(cl.DeleteRouteTable(ctx, &ec2sdk.DeleteRouteTableInput{RouteTableId: &pubRT}))
	_, err = cl.DeleteVpc(ctx, &ec2sdk.DeleteVpcInput{VpcId: &vpc})
	wantCode(t, err, "DependencyViolation") // the subnets
	for _, sn := range []string{pubA, pubC, privA, privC} {
		must[*ec2sdk.DeleteSubnetOutput](t)(cl.DeleteSubnet(ctx, &ec2sdk.DeleteSubnetInput{SubnetId: aws.String(sn)}))
	}
	must[*ec2sdk.DeleteVpcOutput](t)(cl.DeleteVpc(ctx, &ec2sdk.DeleteVpcInput{VpcId: &vpc}))
	left := must[*ec2sdk.DescribeRouteTablesOutput](t)(cl.DescribeRouteTables(ctx, &ec2sdk.DescribeRouteTablesInput{Filters: []types.Filter{netFilter("vpc-id", vpc)}}))
	if len(left.RouteTables) != 0 {
		t.Fatalf("route tables left: %+v", left.RouteTables)
	}
}

// TestPeeringSeoulVirginia peers the Seoul VPC 10.0.0.0/16 with a
// Virginia VPC 10.1.0.0/16 (seed 003), routes both ways, then deletes the
// connection from the other side.
func TestPeeringSeoulVirginia(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	seoul, virginia := c.client(), c.ec2("us-east-1", "test")
	sv := netVPC(t, seoul, "10.0.0.0/16")
	vv := netVPC(t, virginia, "10.1.0.0/16")
	created := must[*ec2sdk.CreateVpcPeeringConnectionOutput](t)(seoul.CreateVpcPeeringConnection(ctx, &ec2sdk.CreateVpcPeeringConnectionInput{
		VpcId: &sv, PeerVpcId: &vv, PeerRegion: aws.String("us-east-1"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeVpcPeeringConnection, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("BTS-vpc-peering")}}}},
	})).VpcPeeringConnection
	pcx := aws.ToString(created.VpcPeeringConnectionId)
	if created.Status.Code != types.VpcPeeringConnectionStateReasonCodeInitiatingRequest || aws.ToString(created.RequesterVpcInfo.CidrBlock) != "10.0.0.0/16" ||
		aws.ToString(created.AccepterVpcInfo.Region) != "us-east-1" || aws.ToString(created.AccepterVpcInfo.VpcId) != vv {
		t.Fatalf("created %+v", created)
	}
	describe := func(cl *ec2sdk.Client, filters ...types.Filter) []types.VpcPeeringConnection {
		t.Helper()
		return must[*ec2sdk.DescribeVpcPeeringConnectionsOutput](t)(cl.DescribeVpcPeeringConnections(ctx, &ec2sdk.DescribeVpcPeeringConnectionsInput{Filters: filters})).VpcPeeringConnections
	}
	for _, cl := range []*ec2sdk.Client{seoul, virginia} {
		got := describe(cl, netFilter("vpc-peering-connection-id", pcx))
		if len(got) != 1 || got[0].Status.Code != types.VpcPeeringConnectionStateReasonCodePendingAcceptance || got[0].ExpirationTime == nil {
			t.Fatalf("pending connection %+v", got)
		}
	}
	if tags := describe(virginia)[0].Tags; len(tags) != 0 {
		t.Fatalf("the requester's tags are its own: %+v", tags)
	}
	seoulRT := aws.ToString(netMainRouteTable(t, seoul, sv).RouteTableId)
	_, err := seoul.CreateRoute(ctx, &ec2sdk.CreateRouteInput{RouteTableId: &seoulRT, DestinationCidrBlock: aws.String("10.1.0.0/16"), VpcPeeringConnectionId: &pcx})
	wantCode(t, err, "InvalidParameterValue") // not active yet
	_, err = seoul.AcceptVpcPeeringConnection(ctx, &ec2sdk.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: &pcx})
	wantCode(t, err, "OperationNotPermitted") // accepted in the accepter's region
	_, err = seoul.DeleteVpc(ctx, &ec2sdk.DeleteVpcInput{VpcId: &sv})
	wantCode(t, err, "DependencyViolation")

	acc := must[*ec2sdk.AcceptVpcPeeringConnectionOutput](t)(virginia.AcceptVpcPeeringConnection(ctx, &ec2sdk.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: &pcx}))
	if acc.VpcPeeringConnection.Status.Code != types.VpcPeeringConnectionStateReasonCodeProvisioning {
		t.Fatalf("accepted %+v", acc.VpcPeeringConnection.Status)
	}
	_, err = virginia.AcceptVpcPeeringConnection(ctx, &ec2sdk.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: &pcx})
	wantCode(t, err, "InvalidStateTransition")
	for _, cl := range []*ec2sdk.Client{seoul, virginia} {
		got := describe(cl, netFilter("status-code", "active"), netFilter("accepter-vpc-info.cidr-block", "10.1.0.0/16"), netFilter("requester-vpc-info.vpc-id", sv))
		if len(got) != 1 || aws.ToString(got[0].AccepterVpcInfo.CidrBlock) != "10.1.0.0/16" || aws.ToString(got[0].RequesterVpcInfo.Region) != "ap-northeast-2" {
			t.Fatalf("active connection %+v", got)
		}
	}
	if got := describe(seoul, netFilter("tag:Name", "BTS-vpc-peering")); len(got) != 1 {
		t.Fatalf("tag filter: %+v", got)
	}

	// Routes both ways, as the seed's route tables have.
	must[*ec2sdk.CreateRouteOutput](t)(seoul.CreateRoute(ctx, &ec2sdk.CreateRouteInput{RouteTableId: &seoulRT, DestinationCidrBlock: aws.String("10.1.0.0/16"), VpcPeeringConnectionId: &pcx}))
	virginiaRT := aws.ToString(netMainRouteTable(t, virginia, vv).RouteTableId)
	must[*ec2sdk.CreateRouteOutput](t)(virginia.CreateRoute(ctx, &ec2sdk.CreateRouteInput{RouteTableId: &virginiaRT, DestinationCidrBlock: aws.String("10.0.0.0/16"), VpcPeeringConnectionId: &pcx}))
	if r := netRoute(t, seoul, seoulRT, "10.1.0.0/16"); r.State != types.RouteStateActive || aws.ToString(r.VpcPeeringConnectionId) != pcx {
		t.Fatalf("Seoul route %+v", r)
	}
	if r := netRoute(t, virginia, virginiaRT, "10.0.0.0/16"); r.State != types.RouteStateActive {
		t.Fatalf("Virginia route %+v", r)
	}
	// A route to the peer from a VPC that is not in the connection.
	other := netVPC(t, seoul, "10.5.0.0/16")
	otherRT := aws.ToString(netMainRouteTable(t, seoul, other).RouteTableId)
	_, err = seoul.CreateRoute(ctx, &ec2sdk.CreateRouteInput{RouteTableId: &otherRT, DestinationCidrBlock: aws.String("10.1.0.0/16"), VpcPeeringConnectionId: &pcx})
	wantCode(t, err, "InvalidParameterValue")

	must[*ec2sdk.DeleteVpcPeeringConnectionOutput](t)(virginia.DeleteVpcPeeringConnection(ctx, &ec2sdk.DeleteVpcPeeringConnectionInput{VpcPeeringConnectionId: &pcx}))
	if got := describe(seoul, netFilter("vpc-peering-connection-id", pcx)); got[0].Status.Code != types.VpcPeeringConnectionStateReasonCodeDeleted {
		t.Fatalf("deleted from the other side: %+v", got[0].Status)
	}
	if r := netRoute(t, seoul, seoulRT, "10.1.0.0/16"); r.State != types.RouteStateBlackhole {
		t.Fatalf("route to a deleted connection is %s", r.State)
	}
	_, err = seoul.DeleteVpcPeeringConnection(ctx, &ec2sdk.DeleteVpcPeeringConnectionInput{VpcPeeringConnectionId: &pcx})
	wantCode(t, err, "InvalidStateTransition")
	must[*ec2sdk.DeleteVpcOutput](t)(seoul.DeleteVpc(ctx, &ec2sdk.DeleteVpcInput{VpcId: &sv}))
}

// TestPeeringAccountsAndFailures covers a connection to another account,
// its rejection, and requests that fail: overlapping blocks, a peer VPC
// that does not exist.
func TestPeeringAccountsAndFailures(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	mine, theirs := c.client(), c.ec2("ap-northeast-2", "222222222222")
	a := netVPC(t, mine, "10.0.0.0/16")
	b := netVPC(t, theirs, "10.2.0.0/16")
	pcx := aws.ToString(must[*ec2sdk.CreateVpcPeeringConnectionOutput](t)(mine.CreateVpcPeeringConnection(ctx, &ec2sdk.CreateVpcPeeringConnectionInput{
		VpcId: &a, PeerVpcId: &b, PeerOwnerId: aws.String("222222222222"),
	})).VpcPeeringConnection.VpcPeeringConnectionId)
	_, err := mine.RejectVpcPeeringConnection(ctx, &ec2sdk.RejectVpcPeeringConnectionInput{VpcPeeringConnectionId: &pcx})
	wantCode(t, err, "OperationNotPermitted")
	_, err = theirs.DeleteVpcPeeringConnection(ctx, &ec2sdk.DeleteVpcPeeringConnectionInput{VpcPeeringConnectionId: &pcx})
	wantCode(t, err, "OperationNotPermitted") // the accepter rejects a request
	must[*ec2sdk.RejectVpcPeeringConnectionOutput](t)(theirs.RejectVpcPeeringConnection(ctx, &ec2sdk.RejectVpcPeeringConnectionInput{VpcPeeringConnectionId: &pcx}))
	got := must[*ec2sdk.DescribeVpcPeeringConnectionsOutput](t)(mine.DescribeVpcPeeringConnections(ctx, &ec2sdk.DescribeVpcPeeringConnectionsInput{VpcPeeringConnectionIds: []string{pcx}}))
	if got.VpcPeeringConnections[0].Status.Code != types.VpcPeeringConnectionStateReasonCodeRejected || aws.ToString(got.VpcPeeringConnections[0].AccepterVpcInfo.OwnerId) != "222222222222" {
		t.Fatalf("rejected %+v", got.VpcPeeringConnections[0])
	}
	_, err = theirs.AcceptVpcPeeringConnection(ctx, &ec2sdk.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: &pcx})
	wantCode(t, err, "InvalidStateTransition")

	// Overlapping blocks: the request fails, and only the requester sees it.
	overlap := netVPC(t, theirs, "10.0.128.0/17")
	failed := aws.ToString(must[*ec2sdk.CreateVpcPeeringConnectionOutput](t)(mine.CreateVpcPeeringConnection(ctx, &ec2sdk.CreateVpcPeeringConnectionInput{
		VpcId: &a, PeerVpcId: &overlap, PeerOwnerId: aws.String("222222222222"),
	})).VpcPeeringConnection.VpcPeeringConnectionId)
	got = must[*ec2sdk.DescribeVpcPeeringConnectionsOutput](t)(mine.DescribeVpcPeeringConnections(ctx, &ec2sdk.DescribeVpcPeeringConnectionsInput{Filters: []types.Filter{netFilter("status-code", "failed")}}))
	if len(got.VpcPeeringConnections) != 1 || aws.ToString(got.VpcPeeringConnections[0].VpcPeeringConnectionId) != failed ||
		!strings.Contains(aws.ToString(got.VpcPeeringConnections[0].Status.Message), "overlapping CIDR range") {
		t.Fatalf("failed request %+v", got.VpcPeeringConnections)
	}
	_, err = theirs.DescribeVpcPeeringConnections(ctx, &ec2sdk.DescribeVpcPeeringConnectionsInput{VpcPeeringConnectionIds: []string{failed}})
	wantCode(t, err, "InvalidVpcPeeringConnectionID.NotFound")
	// A peer VPC elsewhere that does not exist fails the same way; in the
	// same account and region it is refused at once.
	gone := must[*ec2sdk.CreateVpcPeeringConnectionOutput](t)(mine.CreateVpcPeeringConnection(ctx, &ec2sdk.CreateVpcPeeringConnectionInput{
		VpcId: &a, PeerVpcId: aws.String("vpc-0123456789abcdef0"), PeerRegion: aws.String("eu-west-1"),
	}))
	got = must[*ec2sdk.DescribeVpcPeeringConnectionsOutput](t)(mine.DescribeVpcPeeringConnections(ctx, &ec2sdk.DescribeVpcPeeringConnectionsInput{VpcPeeringConnectionIds: []string{*gone.VpcPeeringConnection.VpcPeeringConnectionId}}))
	if got.VpcPeeringConnections[0].Status.Code != types.VpcPeeringConnectionStateReasonCodeFailed {
		t.Fatalf("request to a missing VPC: %+v", got.VpcPeeringConnections[0].Status)
	}
	_, err = mine.CreateVpcPeeringConnection(ctx, &ec2sdk.CreateVpcPeeringConnectionInput{VpcId: &a, PeerVpcId: aws.String("vpc-0123456789abcdef0")})
	wantCode(t, err, "InvalidVpcID.NotFound")
	// Failed and rejected connections do not hold the VPC.
	must[*ec2sdk.DeleteVpcOutput](t)(mine.DeleteVpc(ctx, &ec2sdk.DeleteVpcInput{VpcId: &a}))
}

func TestSubnetPagination(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	vpc := netVPC(t, cl, "10.20.0.0/16")
	want := map[string]bool{}
	zones := map[string]int{}
	for i := range 12 {
		out := must[*ec2sdk.CreateSubnetOutput](t)(cl.CreateSubnet(ctx, &ec2sdk.CreateSubnetInput{VpcId: &vpc, CidrBlock: aws.String("10.20." + strconv.Itoa(i) + ".0/24")}))
		want[aws.ToString(out.Subnet.SubnetId)] = true
		zones[aws.ToString(out.Subnet.AvailabilityZone)]++
	}
	// Without a zone, subnets are spread over the region's four.
	for z, n := range zones {
		if n != 3 {
			t.Fatalf("zone %s has %d of 12 subnets: %v", z, n, zones)
		}
	}
	p := ec2sdk.NewDescribeSubnetsPaginator(cl, &ec2sdk.DescribeSubnetsInput{Filters: []types.Filter{netFilter("vpc-id", vpc)}, MaxResults: aws.Int32(5)})
	var sizes []int
	seen := map[string]bool{}
	for p.HasMorePages() {
		page := must[*ec2sdk.DescribeSubnetsOutput](t)(p.NextPage(ctx))
		sizes = append(sizes, len(page.Subnets))
		for _, sn := range page.Subnets {
			if seen[*sn.SubnetId] || !want[*sn.SubnetId] {
				t.Fatalf("subnet %s twice or unknown", *sn.SubnetId)
			}
			seen[*sn.SubnetId] = true
		}
	}
	if len(sizes) != 3 || sizes[0] != 5 || sizes[1] != 5 || sizes[2] != 2 || len(seen) != 12 {
		t.Fatalf("pages %v, %d subnets", sizes, len(seen))
	}
	vp := ec2sdk.NewDescribeVpcsPaginator(cl, &ec2sdk.DescribeVpcsInput{MaxResults: aws.Int32(5)})
	n := 0
	for vp.HasMorePages() {
		n += len(must[*ec2sdk.DescribeVpcsOutput](t)(vp.NextPage(ctx)).Vpcs)
	}
	if n != 2 {
		t.Fatalf("%d VPCs", n)
	}
	_, err := cl.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{MaxResults: aws.Int32(4)})
	wantCode(t, err, "InvalidParameterValue")
	_, err = cl.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{MaxResults: aws.Int32(5), NextToken: aws.String("%%%")})
	wantCode(t, err, "InvalidNextToken")
	for _, tc := range []struct {
		name, value string
		want        int
	}{
		{"cidr-block", "10.20.3.0/24", 1},
		{"cidrBlock", "10.20.1*", 3}, // 10.20.1, 10.20.10, 10.20.11
		{"available-ip-address-count", "251", 12},
		{"default-for-az", "false", 12},
		{"state", "available", 12},
		{"owner-id", "000000000000", 12},
	} {
		got := must[*ec2sdk.DescribeSubnetsOutput](t)(cl.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{Filters: []types.Filter{netFilter("vpc-id", vpc), netFilter(tc.name, tc.value)}}))
		if len(got.Subnets) != tc.want {
			t.Fatalf("filter %s=%s: %d subnets, want %d", tc.name, tc.value, len(got.Subnets), tc.want)
		}
	}
}

func TestRouteTableOperations(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	vpc := netVPC(t, cl, "10.30.0.0/16")
	subnet := netSubnet(t, cl, vpc, "10.30.1.0/24", "ap-northeast-2b")
	igw := aws.ToString(must[*ec2sdk.CreateInternetGatewayOutput](t)(cl.CreateInternetGateway(ctx, &ec2sdk.CreateInternetGatewayInput{})).InternetGateway.InternetGatewayId)
	must[*ec2sdk.AttachInternetGatewayOutput](t)(cl.AttachInternetGateway(ctx, &ec2sdk.AttachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpc}))
	main := netMainRouteTable(t, cl, vpc)
	mainID := aws.ToString(main.RouteTableId)

	// Client tokens: the same token answers the same table.
	tok := "token-1"
	first := must[*ec2sdk.CreateRouteTableOutput](t)(cl.CreateRouteTable(ctx, &ec2sdk.CreateRouteTableInput{VpcId: &vpc, ClientToken: &tok}))
	again := must[*ec2sdk.CreateRouteTableOutput](t)(cl.CreateRouteTable(ctx, &ec2sdk.CreateRouteTableInput{VpcId: &vpc, ClientToken: &tok}))
	if aws.ToString(first.RouteTable.RouteTableId) != aws.ToString(again.RouteTable.RouteTableId) || aws.ToString(again.ClientToken) != tok {
		t.Fatalf("client token: %s then %s", aws.ToString(first.RouteTable.RouteTableId), aws.ToString(again.RouteTable.RouteTableId))
	}
	_, err := cl.CreateRouteTable(ctx, &ec2sdk.CreateRouteTableInput{VpcId: netDefaultVPC(t, cl).VpcId, ClientToken: &tok})
	wantCode(t, err, "IdempotentParameterMismatch")
	custom := aws.ToString(first.RouteTable.RouteTableId)
	tables := must[*ec2sdk.DescribeRouteTablesOutput](t)(cl.DescribeRouteTables(ctx, &ec2sdk.DescribeRouteTablesInput{Filters: []types.Filter{netFilter("vpc-id", vpc)}}))
	if len(tables.RouteTables) != 2 {
		t.Fatalf("%d route tables", len(tables.RouteTables))
	}

	// Create, replace, delete.
	must[*ec2sdk.CreateRouteOutput](t)(cl.CreateRoute(ctx, &ec2sdk.CreateRouteInput{RouteTableId: &custom, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: &igw}))
	must[*ec2sdk.CreateRouteOutput](t)(cl.CreateRoute(ctx, &ec2sdk.CreateRouteInput{RouteTableId: &custom, DestinationIpv6CidrBlock: aws.String("::/0"), GatewayId: &igw}))
	_, err = cl.ReplaceRoute(ctx, &ec2sdk.ReplaceRouteInput{RouteTableId: &custom, DestinationCidrBlock: aws.String("192.0.2.0/24"), GatewayId: &igw})
	wantCode(t, err, "InvalidParameterValue")
	must[*ec2sdk.ReplaceRouteOutput](t)(cl.ReplaceRoute(ctx, &ec2sdk.ReplaceRouteInput{RouteTableId: &custom, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: &igw}))
	_, err = cl.ReplaceRoute(ctx, &ec2sdk.ReplaceRouteInput{RouteTableId: &custom, DestinationCidrBlock: aws.String("10.30.0.0/16"), GatewayId: &igw})
	wantCode(t, err, "InvalidParameterValue") // the local route
	must[*ec2sdk.ReplaceRouteOutput](t)(cl.ReplaceRoute(ctx, &ec2sdk.ReplaceRouteInput{RouteTableId: &custom, DestinationCidrBlock: aws.String("10.30.0.0/16"), LocalTarget: aws.Bool(true)}))
	must[*ec2sdk.DeleteRouteOutput](t)(cl.DeleteRoute(ctx, &ec2sdk.DeleteRouteInput{RouteTableId: &custom, DestinationIpv6CidrBlock: aws.String("::/0")}))
	_, err = cl.DeleteRoute(ctx, &ec2sdk.DeleteRouteInput{RouteTableId: &custom, DestinationIpv6CidrBlock: aws.String("::/0")})
	wantCode(t, err, "InvalidRoute.NotFound")
	_, err = cl.DeleteRoute(ctx, &ec2sdk.DeleteRouteInput{RouteTableId: &custom, DestinationCidrBlock: aws.String("10.30.0.0/16")})
	wantCode(t, err, "InvalidParameterValue")

	// A secondary block may not cover an existing route; one inside it may
	// be added.
	must[*ec2sdk.CreateRouteOutput](t)(cl.CreateRoute(ctx, &ec2sdk.CreateRouteInput{RouteTableId: &custom, DestinationCidrBlock: aws.String("100.64.1.0/24"), GatewayId: &igw}))
	_, err = cl.AssociateVpcCidrBlock(ctx, &ec2sdk.AssociateVpcCidrBlockInput{VpcId: &vpc, CidrBlock: aws.String("100.64.0.0/16")})
	wantCode(t, err, "InvalidVpc.Range")
	must[*ec2sdk.AssociateVpcCidrBlockOutput](t)(cl.AssociateVpcCidrBlock(ctx, &ec2sdk.AssociateVpcCidrBlockInput{VpcId: &vpc, CidrBlock: aws.String("100.64.1.0/25")}))
	if r := netRoute(t, cl, mainID, "100.64.1.0/25"); aws.ToString(r.GatewayId) != "local" {
		t.Fatalf("local route of the secondary block %+v", r)
	}

	// The main association moves to the custom table; the old main table
	// can then go.
	a := must[*ec2sdk.AssociateRouteTableOutput](t)(cl.AssociateRouteTable(ctx, &ec2sdk.AssociateRouteTableInput{RouteTableId: &custom, SubnetId: &subnet}))
	_, err = cl.AssociateRouteTable(ctx, &ec2sdk.AssociateRouteTableInput{RouteTableId: &mainID, SubnetId: &subnet})
	wantCode(t, err, "Resource.AlreadyAssociated")
	moved := must[*ec2sdk.ReplaceRouteTableAssociationOutput](t)(cl.ReplaceRouteTableAssociation(ctx, &ec2sdk.ReplaceRouteTableAssociationInput{AssociationId: a.AssociationId, RouteTableId: &mainID}))
	if aws.ToString(moved.NewAssociationId) == aws.ToString(a.AssociationId) {
		t.Fatal("a replaced association gets a new id")
	}
	var mainAssoc string
	for _, as := range main.Associations {
		if aws.ToBool(as.Main) {
			mainAssoc = aws.ToString(as.RouteTableAssociationId)
		}
	}
	_, err = cl.DisassociateRouteTable(ctx, &ec2sdk.DisassociateRouteTableInput{AssociationId: &mainAssoc})
	wantCode(t, err, "InvalidParameterValue")
	must[*ec2sdk.ReplaceRouteTableAssociationOutput](t)(cl.ReplaceRouteTableAssociation(ctx, &ec2sdk.ReplaceRouteTableAssociationInput{AssociationId: &mainAssoc, RouteTableId: &custom}))
	if got := netMainRouteTable(t, cl, vpc); aws.ToString(got.RouteTableId) != custom {
		t.Fatalf("main table %s, want %s", aws.ToString(got.RouteTableId), custom)
	}
	_, err = cl.DeleteRouteTable(ctx, &ec2sdk.DeleteRouteTableInput{RouteTableId: &custom})
	wantCode(t, err, "DependencyViolation") // it is main now
	must[*ec2sdk.DisassociateRouteTableOutput](t)(cl.DisassociateRouteTable(ctx, &ec2sdk.DisassociateRouteTableInput{AssociationId: moved.NewAssociationId}))
	must[*ec2sdk.DeleteRouteTableOutput](t)(cl.DeleteRouteTable(ctx, &ec2sdk.DeleteRouteTableInput{RouteTableId: &mainID}))

	// Edge association of the internet gateway.
	edge := must[*ec2sdk.AssociateRouteTableOutput](t)(cl.AssociateRouteTable(ctx, &ec2sdk.AssociateRouteTableInput{RouteTableId: &custom, GatewayId: &igw}))
	_, err = cl.DetachInternetGateway(ctx, &ec2sdk.DetachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpc})
	wantCode(t, err, "DependencyViolation")
	must[*ec2sdk.DisassociateRouteTableOutput](t)(cl.DisassociateRouteTable(ctx, &ec2sdk.DisassociateRouteTableInput{AssociationId: edge.AssociationId}))

	// A route to an interface may be more specific than the VPC's block;
	// the interface belongs to another area.
	eni, err := cl.CreateNetworkInterface(ctx, &ec2sdk.CreateNetworkInterfaceInput{SubnetId: &subnet})
	if apiCode(err) == "NotImplemented" {
		t.Skip("needs CreateNetworkInterface")
	}
	if err != nil {
		t.Fatal(err)
	}
	_, err = cl.DeleteSubnet(ctx, &ec2sdk.DeleteSubnetInput{SubnetId: &subnet})
	wantCode(t, err, "DependencyViolation") // an address is in use
	eniID := eni.NetworkInterface.NetworkInterfaceId
	must[*ec2sdk.CreateRouteOutput](t)(cl.CreateRoute(ctx, &ec2sdk.CreateRouteInput{RouteTableId: &custom, DestinationCidrBlock: aws.String("10.30.9.0/24"), NetworkInterfaceId: eniID}))
	if r := netRoute(t, cl, custom, "10.30.9.0/24"); aws.ToString(r.NetworkInterfaceId) != aws.ToString(eniID) || r.State != types.RouteStateBlackhole {
		t.Fatalf("route to a detached interface %+v", r)
	}
	sn := must[*ec2sdk.DescribeSubnetsOutput](t)(cl.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{SubnetIds: []string{subnet}}))
	if aws.ToInt32(sn.Subnets[0].AvailableIpAddressCount) != 250 {
		t.Fatalf("free addresses with one interface: %d", aws.ToInt32(sn.Subnets[0].AvailableIpAddressCount))
	}
}

func TestNACLEntriesAndAssociations(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	vpc := netVPC(t, cl, "10.40.0.0/16")
	subnet := netSubnet(t, cl, vpc, "10.40.1.0/24", "")
	acl := must[*ec2sdk.CreateNetworkAclOutput](t)(cl.CreateNetworkAcl(ctx, &ec2sdk.CreateNetworkAclInput{VpcId: &vpc})).NetworkAcl
	if aws.ToBool(acl.IsDefault) || len(acl.Entries) != 2 || len(acl.Associations) != 0 {
		t.Fatalf("custom ACL %+v", acl)
	}
	for _, e := range acl.Entries {
		if aws.ToInt32(e.RuleNumber) != 32767 || e.RuleAction != types.RuleActionDeny || aws.ToString(e.CidrBlock) != "0.0.0.0/0" {
			t.Fatalf("custom ACL entry %+v", e)
		}
	}
	id := acl.NetworkAclId
	entry := func(n int32, proto string, egress bool) *ec2sdk.CreateNetworkAclEntryInput {
		return &ec2sdk.CreateNetworkAclEntryInput{NetworkAclId: id, RuleNumber: aws.Int32(n), Protocol: aws.String(proto), RuleAction: types.RuleActionAllow,
			Egress: aws.Bool(egress), CidrBlock: aws.String("0.0.0.0/0"), PortRange: &types.PortRange{From: aws.Int32(80), To: aws.Int32(80)}}
	}
	must[*ec2sdk.CreateNetworkAclEntryOutput](t)(cl.CreateNetworkAclEntry(ctx, entry(100, "tcp", false)))
	must[*ec2sdk.CreateNetworkAclEntryOutput](t)(cl.CreateNetworkAclEntry(ctx, entry(100, "-1", true))) // same number, other direction
	icmp := entry(110, "icmp", false)
	icmp.IcmpTypeCode = &types.IcmpTypeCode{Type: aws.Int32(8), Code: aws.Int32(-1)}
	must[*ec2sdk.CreateNetworkAclEntryOutput](t)(cl.CreateNetworkAclEntry(ctx, icmp))
	_, err := cl.CreateNetworkAclEntry(ctx, entry(100, "6", false))
	wantCode(t, err, "NetworkAclEntryAlreadyExists")
	replace := &ec2sdk.ReplaceNetworkAclEntryInput{NetworkAclId: id, RuleNumber: aws.Int32(100), Protocol: aws.String("udp"), RuleAction: types.RuleActionDeny,
		Egress: aws.Bool(false), CidrBlock: aws.String("10.0.0.0/8"), PortRange: &types.PortRange{From: aws.Int32(53), To: aws.Int32(53)}}
	must[*ec2sdk.ReplaceNetworkAclEntryOutput](t)(cl.ReplaceNetworkAclEntry(ctx, replace))
	replace.RuleNumber = aws.Int32(120)
	_, err = cl.ReplaceNetworkAclEntry(ctx, replace)
	wantCode(t, err, "InvalidNetworkAclEntry.NotFound")
	got := must[*ec2sdk.DescribeNetworkAclsOutput](t)(cl.DescribeNetworkAcls(ctx, &ec2sdk.DescribeNetworkAclsInput{NetworkAclIds: []string{*id}})).NetworkAcls[0]
	var ingress []string
	for _, e := range got.Entries {
		if !aws.ToBool(e.Egress) {
			s := strconv.Itoa(int(aws.ToInt32(e.RuleNumber))) + " " + aws.ToString(e.Protocol) + " " + string(e.RuleAction) + " " + aws.ToString(e.CidrBlock)
			if e.PortRange != nil {
				s += " " + strconv.Itoa(int(aws.ToInt32(e.PortRange.From)))
			}
			if e.IcmpTypeCode != nil {
				s += " type " + strconv.Itoa(int(aws.ToInt32(e.IcmpTypeCode.Type)))
			}
			ingress = append(ingress, s)
		}
	}
	if want := []string{"100 17 deny 10.0.0.0/8 53", "110 1 allow 0.0.0.0/0 type 8", "32767 -1 deny 0.0.0.0/0"}; !equal(ingress, want) {
		t.Fatalf("ingress entries %v, want %v", ingress, want)
	}
	must[*ec2sdk.DeleteNetworkAclEntryOutput](t)(cl.DeleteNetworkAclEntry(ctx, &ec2sdk.DeleteNetworkAclEntryInput{NetworkAclId: id, RuleNumber: aws.Int32(110), Egress: aws.Bool(false)}))
	_, err = cl.DeleteNetworkAclEntry(ctx, &ec2sdk.DeleteNetworkAclEntryInput{NetworkAclId: id, RuleNumber: aws.Int32(110), Egress: aws.Bool(false)})
	wantCode(t, err, "InvalidNetworkAclEntry.NotFound")
	_, err = cl.DeleteNetworkAclEntry(ctx, &ec2sdk.DeleteNetworkAclEntryInput{NetworkAclId: id, RuleNumber: aws.Int32(32767), Egress: aws.Bool(false)})
	wantCode(t, err, "InvalidParameterValue")

	// A subnet is always with exactly one ACL: the association moves.
	def := must[*ec2sdk.DescribeNetworkAclsOutput](t)(cl.DescribeNetworkAcls(ctx, &ec2sdk.DescribeNetworkAclsInput{Filters: []types.Filter{netFilter("association.subnet-id", subnet)}})).NetworkAcls
	if len(def) != 1 || !aws.ToBool(def[0].IsDefault) {
		t.Fatalf("ACL of a new subnet %+v", def)
	}
	var assoc string
	for _, a := range def[0].Associations {
		if aws.ToString(a.SubnetId) == subnet {
			assoc = aws.ToString(a.NetworkAclAssociationId)
		}
	}
	moved := must[*ec2sdk.ReplaceNetworkAclAssociationOutput](t)(cl.ReplaceNetworkAclAssociation(ctx, &ec2sdk.ReplaceNetworkAclAssociationInput{AssociationId: &assoc, NetworkAclId: id}))
	now := must[*ec2sdk.DescribeNetworkAclsOutput](t)(cl.DescribeNetworkAcls(ctx, &ec2sdk.DescribeNetworkAclsInput{Filters: []types.Filter{netFilter("association.subnet-id", subnet)}})).NetworkAcls
	if len(now) != 1 || aws.ToString(now[0].NetworkAclId) != *id {
		t.Fatalf("ACL after the move %+v", now)
	}
	_, err = cl.ReplaceNetworkAclAssociation(ctx, &ec2sdk.ReplaceNetworkAclAssociationInput{AssociationId: &assoc, NetworkAclId: id})
	wantCode(t, err, "InvalidAssociationID.NotFound")
	_, err = cl.DeleteNetworkAcl(ctx, &ec2sdk.DeleteNetworkAclInput{NetworkAclId: id})
	wantCode(t, err, "DependencyViolation")
	_, err = cl.DeleteNetworkAcl(ctx, &ec2sdk.DeleteNetworkAclInput{NetworkAclId: def[0].NetworkAclId})
	wantCode(t, err, "InvalidParameterValue")
	for _, tc := range []struct {
		filters []types.Filter
		want    int
	}{
		{[]types.Filter{netFilter("vpc-id", vpc), netFilter("default", "false")}, 1},
		{[]types.Filter{netFilter("vpc-id", vpc), netFilter("entry.rule-number", "100")}, 2},
		{[]types.Filter{netFilter("vpc-id", vpc), netFilter("entry.protocol", "17"), netFilter("entry.port-range.from", "53")}, 1},
		{[]types.Filter{netFilter("association.association-id", aws.ToString(moved.NewAssociationId))}, 1},
	} {
		got := must[*ec2sdk.DescribeNetworkAclsOutput](t)(cl.DescribeNetworkAcls(ctx, &ec2sdk.DescribeNetworkAclsInput{Filters: tc.filters}))
		if len(got.NetworkAcls) != tc.want {
			t.Fatalf("filter %s: %d ACLs, want %d", *tc.filters[len(tc.filters)-1].Name, len(got.NetworkAcls), tc.want)
		}
	}
	// Deleting the subnet ends its association; the ACL can then go.
	must[*ec2sdk.DeleteSubnetOutput](t)(cl.DeleteSubnet(ctx, &ec2sdk.DeleteSubnetInput{SubnetId: &subnet}))
	must[*ec2sdk.DeleteNetworkAclOutput](t)(cl.DeleteNetworkAcl(ctx, &ec2sdk.DeleteNetworkAclInput{NetworkAclId: id}))
	for n := range 19 {
		must[*ec2sdk.CreateNetworkAclEntryOutput](t)(cl.CreateNetworkAclEntry(ctx, &ec2sdk.CreateNetworkAclEntryInput{NetworkAclId: def[0].NetworkAclId, RuleNumber: aws.Int32(int32(200 + n)),
			Protocol: aws.String("-1"), RuleAction: types.RuleActionAllow, Egress: aws.Bool(true), CidrBlock: aws.String("10.0.0.0/8")}))
	}
	_, err = cl.CreateNetworkAclEntry(ctx, &ec2sdk.CreateNetworkAclEntryInput{NetworkAclId: def[0].NetworkAclId, RuleNumber: aws.Int32(300),
		Protocol: aws.String("-1"), RuleAction: types.RuleActionAllow, Egress: aws.Bool(true), CidrBlock: aws.String("10.0.0.0/8")})
	wantCode(t, err, "NetworkAclEntryLimitExceeded") // the default's allow rule and 19 more
}

func TestDHCPOptions(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	vpc := netVPC(t, cl, "10.50.0.0/16")
	before := must[*ec2sdk.DescribeVpcsOutput](t)(cl.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{VpcIds: []string{vpc}})).Vpcs[0].DhcpOptionsId
	def := must[*ec2sdk.DescribeDhcpOptionsOutput](t)(cl.DescribeDhcpOptions(ctx, &ec2sdk.DescribeDhcpOptionsInput{DhcpOptionsIds: []string{aws.ToString(before)}})).DhcpOptions[0]
	if len(def.DhcpConfigurations) != 2 || aws.ToString(def.DhcpConfigurations[0].Values[0].Value) != "ap-northeast-2.compute.internal" {
		t.Fatalf("default options %+v", def.DhcpConfigurations)
	}
	opts := must[*ec2sdk.CreateDhcpOptionsOutput](t)(cl.CreateDhcpOptions(ctx, &ec2sdk.CreateDhcpOptionsInput{
		DhcpConfigurations: []types.NewDhcpConfiguration{
			{Key: aws.String("domain-name"), Values: []string{"corp.example"}},
			{Key: aws.String("domain-name-servers"), Values: []string{"10.50.0.2", "AmazonProvidedDNS"}},
		},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeDhcpOptions, Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}}},
	})).DhcpOptions
	id := opts.DhcpOptionsId
	must[*ec2sdk.AssociateDhcpOptionsOutput](t)(cl.AssociateDhcpOptions(ctx, &ec2sdk.AssociateDhcpOptionsInput{DhcpOptionsId: id, VpcId: &vpc}))
	got := must[*ec2sdk.DescribeVpcsOutput](t)(cl.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{Filters: []types.Filter{netFilter("dhcp-options-id", *id)}}))
	if len(got.Vpcs) != 1 || aws.ToString(got.Vpcs[0].VpcId) != vpc {
		t.Fatalf("VPCs with the new options %+v", got.Vpcs)
	}
	for _, f := range []types.Filter{netFilter("key", "domain-name"), netFilter("value", "corp.example"), netFilter("tag:env", "dev")} {
		got := must[*ec2sdk.DescribeDhcpOptionsOutput](t)(cl.DescribeDhcpOptions(ctx, &ec2sdk.DescribeDhcpOptionsInput{Filters: []types.Filter{f, netFilter("dhcp-options-id", *id)}}))
		if len(got.DhcpOptions) != 1 {
			t.Fatalf("filter %s: %+v", *f.Name, got.DhcpOptions)
		}
	}
	_, err := cl.DeleteDhcpOptions(ctx, &ec2sdk.DeleteDhcpOptionsInput{DhcpOptionsId: id})
	wantCode(t, err, "DependencyViolation")
	must[*ec2sdk.AssociateDhcpOptionsOutput](t)(cl.AssociateDhcpOptions(ctx, &ec2sdk.AssociateDhcpOptionsInput{DhcpOptionsId: aws.String("default"), VpcId: &vpc}))
	after := must[*ec2sdk.DescribeVpcsOutput](t)(cl.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{VpcIds: []string{vpc}})).Vpcs[0].DhcpOptionsId
	if aws.ToString(after) != aws.ToString(before) {
		t.Fatalf("\"default\" gave %s, want %s", aws.ToString(after), aws.ToString(before))
	}
	must[*ec2sdk.DeleteDhcpOptionsOutput](t)(cl.DeleteDhcpOptions(ctx, &ec2sdk.DeleteDhcpOptionsInput{DhcpOptionsId: id}))
	_, err = cl.DescribeDhcpOptions(ctx, &ec2sdk.DescribeDhcpOptionsInput{DhcpOptionsIds: []string{*id}})
	wantCode(t, err, "InvalidDhcpOptionID.NotFound")
}

// TestVPCBadInput sends the network operations bad input, each case
// checked for AWS's error code.
func TestVPCBadInput(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	vpc := netVPC(t, cl, "10.0.0.0/16")
	subnet := netSubnet(t, cl, vpc, "10.0.1.0/24", "ap-northeast-2a")
	other := netVPC(t, cl, "10.1.0.0/16")
	otherSubnet := netSubnet(t, cl, other, "10.1.1.0/24", "")
	igw := aws.ToString(must[*ec2sdk.CreateInternetGatewayOutput](t)(cl.CreateInternetGateway(ctx, &ec2sdk.CreateInternetGatewayInput{})).InternetGateway.InternetGatewayId)
	must[*ec2sdk.AttachInternetGatewayOutput](t)(cl.AttachInternetGateway(ctx, &ec2sdk.AttachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &vpc}))
	igw2 := aws.ToString(must[*ec2sdk.CreateInternetGatewayOutput](t)(cl.CreateInternetGateway(ctx, &ec2sdk.CreateInternetGatewayInput{})).InternetGateway.InternetGatewayId)
	rt := aws.ToString(must[*ec2sdk.CreateRouteTableOutput](t)(cl.CreateRouteTable(ctx, &ec2sdk.CreateRouteTableInput{VpcId: &vpc})).RouteTable.RouteTableId)
	must[*ec2sdk.CreateRouteOutput](t)(cl.CreateRoute(ctx, &ec2sdk.CreateRouteInput{RouteTableId: &rt, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: &igw}))
	must[*ec2sdk.AssociateRouteTableOutput](t)(cl.AssociateRouteTable(ctx, &ec2sdk.AssociateRouteTableInput{RouteTableId: &rt, SubnetId: &subnet}))
	acl := must[*ec2sdk.CreateNetworkAclOutput](t)(cl.CreateNetworkAcl(ctx, &ec2sdk.CreateNetworkAclInput{VpcId: &vpc})).NetworkAcl.NetworkAclId
	aclEntry := func(n int32, proto string) func() error {
		return func() error {
			_, err := cl.CreateNetworkAclEntry(ctx, &ec2sdk.CreateNetworkAclEntryInput{NetworkAclId: acl, RuleNumber: aws.Int32(n), Protocol: aws.String(proto),
				RuleAction: types.RuleActionAllow, Egress: aws.Bool(false), CidrBlock: aws.String("0.0.0.0/0")})
			return err
		}
	}
	route := func(in ec2sdk.CreateRouteInput) func() error {
		return func() error {
			if in.RouteTableId == nil {
				in.RouteTableId = &rt
			}
			if in.DestinationCidrBlock == nil {
				in.DestinationCidrBlock = aws.String("192.0.2.0/24")
			}
			_, err := cl.CreateRoute(ctx, &in)
			return err
		}
	}
	newVPC := func(cidr string) func() error {
		return func() error {
			_, err := cl.CreateVpc(ctx, &ec2sdk.CreateVpcInput{CidrBlock: aws.String(cidr)})
			return err
		}
	}
	newSubnet := func(vpc, cidr, az string) func() error {
		return func() error {
			in := &ec2sdk.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String(cidr)}
			if az != "" {
				in.AvailabilityZone = aws.String(az)
			}
			_, err := cl.CreateSubnet(ctx, in)
			return err
		}
	}
	cases := []struct {
		name string
		call func() error
		code string
	}{
		{"VPC /15", newVPC("10.8.0.0/15"), "InvalidVpc.Range"},
		{"VPC /29", newVPC("10.8.0.0/29"), "InvalidVpc.Range"},
		{"VPC not a CIDR", newVPC("10.8.0.0"), "InvalidParameterValue"},
		{"VPC host bits", newVPC("10.8.0.1/16"), "InvalidParameterValue"},
		{"VPC in 127/8", newVPC("127.0.0.0/16"), "InvalidVpc.Range"},
		{"VPC without CIDR", func() error { _, err := cl.CreateVpc(ctx, &ec2sdk.CreateVpcInput{}); return err }, "MissingParameter"},
		{"VPC bad tenancy", func() error {
			_, err := cl.CreateVpc(ctx, &ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.8.0.0/16"), InstanceTenancy: "shared"})
			return err
		}, "InvalidParameterValue"},
		{"VPC tag for another type", func() error {
			_, err := cl.CreateVpc(ctx, &ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.8.0.0/16"), TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeSubnet, Tags: []types.Tag{{Key: aws.String("a")}}}}})
			return err
		}, "InvalidParameterValue"},
		{"malformed VPC id", func() error {
			_, err := cl.DeleteVpc(ctx, &ec2sdk.DeleteVpcInput{VpcId: aws.String("vpc-xyz")})
			return err
		}, "InvalidVpcID.Malformed"},
		{"unknown VPC id", func() error {
			_, err := cl.DeleteVpc(ctx, &ec2sdk.DeleteVpcInput{VpcId: aws.String("vpc-0123456789abcdef0")})
			return err
		}, "InvalidVpcID.NotFound"},
		{"delete VPC with subnets", func() error { _, err := cl.DeleteVpc(ctx, &ec2sdk.DeleteVpcInput{VpcId: &vpc}); return err }, "DependencyViolation"},
		{"unknown VPC attribute", func() error {
			_, err := cl.DescribeVpcAttribute(ctx, &ec2sdk.DescribeVpcAttributeInput{VpcId: &vpc, Attribute: "enableMagic"})
			return err
		}, "InvalidParameterValue"},
		{"unknown filter", func() error {
			_, err := cl.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{Filters: []types.Filter{netFilter("colour", "red")}})
			return err
		}, "InvalidParameterValue"},
		{"overlapping subnet", newSubnet(vpc, "10.0.1.128/25", ""), "InvalidSubnet.Conflict"},
		{"subnet outside the VPC", newSubnet(vpc, "10.1.5.0/24", ""), "InvalidSubnet.Range"},
		{"/29 subnet", newSubnet(vpc, "10.0.9.0/29", ""), "InvalidSubnet.Range"},
		{"subnet larger than the VPC", newSubnet(vpc, "10.0.0.0/15", ""), "InvalidSubnet.Range"},
		{"subnet not a CIDR", newSubnet(vpc, "10.0.300.0/24", ""), "InvalidParameterValue"},
		{"subnet in another region's zone", newSubnet(vpc, "10.0.9.0/24", "us-east-1a"), "InvalidParameterValue"},
		{"subnet in an unknown zone id", func() error {
			_, err := cl.CreateSubnet(ctx, &ec2sdk.CreateSubnetInput{VpcId: &vpc, CidrBlock: aws.String("10.0.9.0/24"), AvailabilityZoneId: aws.String("apne2-az9")})
			return err
		}, "InvalidParameterValue"},
		{"subnet of an unknown VPC", newSubnet("vpc-0123456789abcdef0", "10.0.9.0/24", ""), "InvalidVpcID.NotFound"},
		{"malformed subnet id", func() error {
			_, err := cl.DeleteSubnet(ctx, &ec2sdk.DeleteSubnetInput{SubnetId: aws.String("subnet-1")})
			return err
		}, "InvalidSubnetID.Malformed"},
		{"unknown subnet id", func() error {
			_, err := cl.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{SubnetIds: []string{"subnet-0123456789abcdef0"}})
			return err
		}, "InvalidSubnetID.NotFound"},
		{"two subnet attributes", func() error {
			_, err := cl.ModifySubnetAttribute(ctx, &ec2sdk.ModifySubnetAttributeInput{SubnetId: &subnet,
				MapPublicIpOnLaunch: &types.AttributeBooleanValue{Value: aws.Bool(true)}, EnableDns64: &types.AttributeBooleanValue{Value: aws.Bool(false)}})
			return err
		}, "InvalidParameterCombination"},
		{"attach a second gateway", func() error {
			_, err := cl.AttachInternetGateway(ctx, &ec2sdk.AttachInternetGatewayInput{InternetGatewayId: &igw2, VpcId: &vpc})
			return err
		}, "InvalidParameterValue"},
		{"attach an attached gateway", func() error {
			_, err := cl.AttachInternetGateway(ctx, &ec2sdk.AttachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &other})
			return err
		}, "Resource.AlreadyAssociated"},
		{"detach from the wrong VPC", func() error {
			_, err := cl.DetachInternetGateway(ctx, &ec2sdk.DetachInternetGatewayInput{InternetGatewayId: &igw, VpcId: &other})
			return err
		}, "Gateway.NotAttached"},
		{"delete an attached gateway", func() error {
			_, err := cl.DeleteInternetGateway(ctx, &ec2sdk.DeleteInternetGatewayInput{InternetGatewayId: &igw})
			return err
		}, "DependencyViolation"},
		{"unknown gateway", func() error {
			_, err := cl.DeleteInternetGateway(ctx, &ec2sdk.DeleteInternetGatewayInput{InternetGatewayId: aws.String("igw-0123456789abcdef0")})
			return err
		}, "InvalidInternetGatewayID.NotFound"},
		{"delete an associated route table", func() error {
			_, err := cl.DeleteRouteTable(ctx, &ec2sdk.DeleteRouteTableInput{RouteTableId: &rt})
			return err
		}, "DependencyViolation"},
		{"unknown route table", func() error {
			_, err := cl.DeleteRouteTable(ctx, &ec2sdk.DeleteRouteTableInput{RouteTableId: aws.String("rtb-0123456789abcdef0")})
			return err
		}, "InvalidRouteTableID.NotFound"},
		{"duplicate route", route(ec2sdk.CreateRouteInput{DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: &igw}), "RouteAlreadyExists"},
		{"route equal to the local route", route(ec2sdk.CreateRouteInput{DestinationCidrBlock: aws.String("10.0.0.0/16"), GatewayId: &igw}), "RouteAlreadyExists"},
		{"route inside the VPC to a gateway", route(ec2sdk.CreateRouteInput{DestinationCidrBlock: aws.String("10.0.5.0/24"), GatewayId: &igw}), "InvalidParameterValue"},
		{"route without a target", route(ec2sdk.CreateRouteInput{}), "MissingParameter"},
		{"route with two targets", route(ec2sdk.CreateRouteInput{GatewayId: &igw, NatGatewayId: aws.String("nat-0123456789abcdef0")}), "InvalidParameterCombination"},
		{"route to a gateway of another VPC", route(ec2sdk.CreateRouteInput{GatewayId: &igw2}), "InvalidParameterValue"},
		{"route to an unknown NAT gateway", route(ec2sdk.CreateRouteInput{NatGatewayId: aws.String("nat-0123456789abcdef0")}), "InvalidNatGatewayID.NotFound"},
		{"route to an unknown peering", route(ec2sdk.CreateRouteInput{VpcPeeringConnectionId: aws.String("pcx-0123456789abcdef0")}), "InvalidVpcPeeringConnectionID.NotFound"},
		{"route to a transit gateway", route(ec2sdk.CreateRouteInput{TransitGatewayId: aws.String("tgw-0123456789abcdef0")}), "InvalidTransitGatewayID.NotFound"},
		{"route to an unknown gateway kind", route(ec2sdk.CreateRouteInput{GatewayId: aws.String("local")}), "InvalidGatewayID.NotFound"},
		{"route with a bad destination", route(ec2sdk.CreateRouteInput{DestinationCidrBlock: aws.String("0.0.0.0/33"), GatewayId: &igw}), "InvalidParameterValue"},
		{"route to a prefix list", func() error {
			_, err := cl.CreateRoute(ctx, &ec2sdk.CreateRouteInput{RouteTableId: &rt, DestinationPrefixListId: aws.String("pl-0123456789abcdef0"), GatewayId: &igw})
			return err
		}, "InvalidPrefixListID.NotFound"},
		{"delete a missing route", func() error {
			_, err := cl.DeleteRoute(ctx, &ec2sdk.DeleteRouteInput{RouteTableId: &rt, DestinationCidrBlock: aws.String("192.0.2.0/24")})
			return err
		}, "InvalidRoute.NotFound"},
		{"associate a subnet twice", func() error {
			main := netMainRouteTable(t, cl, vpc).RouteTableId
			_, err := cl.AssociateRouteTable(ctx, &ec2sdk.AssociateRouteTableInput{RouteTableId: main, SubnetId: &subnet})
			return err
		}, "Resource.AlreadyAssociated"},
		{"associate a subnet of another VPC", func() error {
			_, err := cl.AssociateRouteTable(ctx, &ec2sdk.AssociateRouteTableInput{RouteTableId: &rt, SubnetId: &otherSubnet})
			return err
		}, "InvalidParameterValue"},
		{"unknown route table association", func() error {
			_, err := cl.DisassociateRouteTable(ctx, &ec2sdk.DisassociateRouteTableInput{AssociationId: aws.String("rtbassoc-0123456789abcdef0")})
			return err
		}, "InvalidAssociationID.NotFound"},
		{"ACL rule 0", aclEntry(0, "-1"), "InvalidParameterValue"},
		{"ACL rule 32767", aclEntry(32767, "-1"), "InvalidParameterValue"},
		{"ACL rule 40000", aclEntry(40000, "-1"), "InvalidParameterValue"},
		{"ACL unknown protocol", aclEntry(10, "carrier-pigeon"), "InvalidParameterValue"},
		{"ACL protocol 256", aclEntry(10, "256"), "InvalidParameterValue"},
		{"ACL tcp without ports", aclEntry(10, "tcp"), "InvalidParameterValue"},
		{"ACL icmp without type", aclEntry(10, "icmp"), "InvalidParameterValue"},
		{"ACL bad action", func() error {
			_, err := cl.CreateNetworkAclEntry(ctx, &ec2sdk.CreateNetworkAclEntryInput{NetworkAclId: acl, RuleNumber: aws.Int32(10), Protocol: aws.String("-1"),
				RuleAction: "maybe", Egress: aws.Bool(false), CidrBlock: aws.String("0.0.0.0/0")})
			return err
		}, "InvalidParameterValue"},
		{"ACL entry without CIDR", func() error {
			_, err := cl.CreateNetworkAclEntry(ctx, &ec2sdk.CreateNetworkAclEntryInput{NetworkAclId: acl, RuleNumber: aws.Int32(10), Protocol: aws.String("-1"),
				RuleAction: types.RuleActionAllow, Egress: aws.Bool(false)})
			return err
		}, "MissingParameter"},
		{"ACL ports reversed", func() error {
			_, err := cl.CreateNetworkAclEntry(ctx, &ec2sdk.CreateNetworkAclEntryInput{NetworkAclId: acl, RuleNumber: aws.Int32(10), Protocol: aws.String("tcp"),
				RuleAction: types.RuleActionAllow, Egress: aws.Bool(false), CidrBlock: aws.String("0.0.0.0/0"), PortRange: &types.PortRange{From: aws.Int32(90), To: aws.Int32(80)}})
			return err
		}, "InvalidParameterValue"},
		{"unknown ACL", netACLEntryOn(cl, "acl-0123456789abcdef0"), "InvalidNetworkAclID.NotFound"},
		{"ACL association of another VPC", func() error {
			def := must[*ec2sdk.DescribeNetworkAclsOutput](t)(cl.DescribeNetworkAcls(ctx, &ec2sdk.DescribeNetworkAclsInput{Filters: []types.Filter{netFilter("association.subnet-id", otherSubnet)}})).NetworkAcls[0]
			var assoc *string
			for _, a := range def.Associations {
				if aws.ToString(a.SubnetId) == otherSubnet {
					assoc = a.NetworkAclAssociationId
				}
			}
			_, err := cl.ReplaceNetworkAclAssociation(ctx, &ec2sdk.ReplaceNetworkAclAssociationInput{AssociationId: assoc, NetworkAclId: acl})
			return err
		}, "InvalidParameterValue"},
		{"DHCP unknown option", func() error {
			_, err := cl.CreateDhcpOptions(ctx, &ec2sdk.CreateDhcpOptionsInput{DhcpConfigurations: []types.NewDhcpConfiguration{{Key: aws.String("colour"), Values: []string{"red"}}}})
			return err
		}, "InvalidParameterValue"},
		{"DHCP five name servers", func() error {
			_, err := cl.CreateDhcpOptions(ctx, &ec2sdk.CreateDhcpOptionsInput{DhcpConfigurations: []types.NewDhcpConfiguration{
				{Key: aws.String("domain-name-servers"), Values: []string{"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"}}}})
			return err
		}, "InvalidParameterValue"},
		{"DHCP bad node type", func() error {
			_, err := cl.CreateDhcpOptions(ctx, &ec2sdk.CreateDhcpOptionsInput{DhcpConfigurations: []types.NewDhcpConfiguration{{Key: aws.String("netbios-node-type"), Values: []string{"3"}}}})
			return err
		}, "InvalidParameterValue"},
		{"DHCP unknown set", func() error {
			_, err := cl.AssociateDhcpOptions(ctx, &ec2sdk.AssociateDhcpOptionsInput{DhcpOptionsId: aws.String("dopt-0123456789abcdef0"), VpcId: &vpc})
			return err
		}, "InvalidDhcpOptionID.NotFound"},
		{"peering a VPC with itself", func() error {
			_, err := cl.CreateVpcPeeringConnection(ctx, &ec2sdk.CreateVpcPeeringConnectionInput{VpcId: &vpc, PeerVpcId: &vpc})
			return err
		}, "InvalidParameterValue"},
		{"peering with a bad owner", func() error {
			_, err := cl.CreateVpcPeeringConnection(ctx, &ec2sdk.CreateVpcPeeringConnectionInput{VpcId: &vpc, PeerVpcId: &other, PeerOwnerId: aws.String("me")})
			return err
		}, "InvalidParameterValue"},
		{"peering with a malformed VPC", func() error {
			_, err := cl.CreateVpcPeeringConnection(ctx, &ec2sdk.CreateVpcPeeringConnectionInput{VpcId: &vpc, PeerVpcId: aws.String("vpc-?"), PeerRegion: aws.String("us-east-1")})
			return err
		}, "InvalidVpcID.Malformed"},
		{"accept an unknown peering", func() error {
			_, err := cl.AcceptVpcPeeringConnection(ctx, &ec2sdk.AcceptVpcPeeringConnectionInput{VpcPeeringConnectionId: aws.String("pcx-0123456789abcdef0")})
			return err
		}, "InvalidVpcPeeringConnectionID.NotFound"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.call(), tc.code) })
	}
	if len(cases) < 25 {
		t.Fatalf("%d cases", len(cases))
	}
	// Overlapping peers in the same region: the request fails rather than
	// being refused.
	overlap := netVPC(t, cl, "10.0.0.0/24")
	p := must[*ec2sdk.CreateVpcPeeringConnectionOutput](t)(cl.CreateVpcPeeringConnection(ctx, &ec2sdk.CreateVpcPeeringConnectionInput{VpcId: &vpc, PeerVpcId: &overlap}))
	got := must[*ec2sdk.DescribeVpcPeeringConnectionsOutput](t)(cl.DescribeVpcPeeringConnections(ctx, &ec2sdk.DescribeVpcPeeringConnectionsInput{VpcPeeringConnectionIds: []string{*p.VpcPeeringConnection.VpcPeeringConnectionId}}))
	if got.VpcPeeringConnections[0].Status.Code != types.VpcPeeringConnectionStateReasonCodeFailed {
		t.Fatalf("overlapping peers: %+v", got.VpcPeeringConnections[0].Status)
	}
	// Nothing half-made: the failed calls left the resources as they were.
	subnets := must[*ec2sdk.DescribeSubnetsOutput](t)(cl.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{Filters: []types.Filter{netFilter("vpc-id", vpc)}}))
	vpcs := must[*ec2sdk.DescribeVpcsOutput](t)(cl.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{}))
	if len(subnets.Subnets) != 1 || len(vpcs.Vpcs) != 4 {
		t.Fatalf("%d subnets, %d VPCs after the bad calls", len(subnets.Subnets), len(vpcs.Vpcs))
	}
	if r := netRoute(t, cl, rt, "0.0.0.0/0"); aws.ToString(r.GatewayId) != igw || len(must[*ec2sdk.DescribeRouteTablesOutput](t)(cl.DescribeRouteTables(ctx, &ec2sdk.DescribeRouteTablesInput{RouteTableIds: []string{rt}})).RouteTables[0].Routes) != 2 {
		t.Fatalf("routes changed by bad calls: %+v", r)
	}
}

func netACLEntryOn(cl *ec2sdk.Client, acl string) func() error {
	return func() error {
		_, err := cl.CreateNetworkAclEntry(context.Background(), &ec2sdk.CreateNetworkAclEntryInput{NetworkAclId: aws.String(acl), RuleNumber: aws.Int32(10), Protocol: aws.String("-1"),
			RuleAction: types.RuleActionAllow, Egress: aws.Bool(false), CidrBlock: aws.String("0.0.0.0/0")})
		return err
	}
}

// TestRouteToInstance routes to an instance, which records its interface
// too; the route is a blackhole whenever the instance is not running.
func TestRouteToInstance(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	vpc := netVPC(t, cl, "10.60.0.0/16")
	subnet := netSubnet(t, cl, vpc, "10.60.1.0/24", "")
	rtb := aws.ToString(netMainRouteTable(t, cl, vpc).RouteTableId)
	images, err := cl.DescribeImages(ctx, &ec2sdk.DescribeImagesInput{Owners: []string{"amazon"}, Filters: []types.Filter{netFilter("name", "al2023-ami-2023*-x86_64")}})
	if apiCode(err) == "NotImplemented" {
		t.Skip("needs DescribeImages")
	}
	if err != nil || len(images.Images) == 0 {
		t.Fatalf("images: %v %+v", err, images)
	}
	run, err := cl.RunInstances(ctx, &ec2sdk.RunInstancesInput{ImageId: images.Images[0].ImageId, InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: &subnet})
	if apiCode(err) == "NotImplemented" {
		t.Skip("needs RunInstances")
	}
	if err != nil {
		t.Fatal(err)
	}
	inst := run.Instances[0]
	must[*ec2sdk.CreateRouteOutput](t)(cl.CreateRoute(ctx, &ec2sdk.CreateRouteInput{RouteTableId: &rtb, DestinationCidrBlock: aws.String("0.0.0.0/0"), InstanceId: inst.InstanceId}))
	r := netRoute(t, cl, rtb, "0.0.0.0/0")
	if aws.ToString(r.InstanceId) != aws.ToString(inst.InstanceId) || aws.ToString(r.NetworkInterfaceId) != aws.ToString(inst.NetworkInterfaces[0].NetworkInterfaceId) || aws.ToString(r.InstanceOwnerId) != "000000000000" {
		t.Fatalf("route to an instance %+v", r)
	}
	deadline := time.Now().Add(10 * time.Second)
	for netRoute(t, cl, rtb, "0.0.0.0/0").State != types.RouteStateActive {
		if time.Now().After(deadline) {
			t.Fatal("the route never became active with the instance running")
		}
		time.Sleep(100 * time.Millisecond)
	}
	must[*ec2sdk.StopInstancesOutput](t)(cl.StopInstances(ctx, &ec2sdk.StopInstancesInput{InstanceIds: []string{*inst.InstanceId}}))
	if r := netRoute(t, cl, rtb, "0.0.0.0/0"); r.State != types.RouteStateBlackhole {
		t.Fatalf("route to a stopped instance is %s", r.State)
	}
	other := netVPC(t, cl, "10.61.0.0/16")
	_, err = cl.CreateRoute(ctx, &ec2sdk.CreateRouteInput{RouteTableId: netMainRouteTable(t, cl, other).RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"), InstanceId: inst.InstanceId})
	wantCode(t, err, "InvalidParameterValue")
}

package ec2_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	ec2svc "github.com/cloudbox/cloudbox/services/ec2"
)

func secNAT(t *testing.T, cl *ec2sdk.Client, id string) types.NatGateway {
	t.Helper()
	out := must[*ec2sdk.DescribeNatGatewaysOutput](t)(cl.DescribeNatGateways(context.Background(), &ec2sdk.DescribeNatGatewaysInput{NatGatewayIds: []string{id}}))
	if len(out.NatGateways) != 1 {
		t.Fatalf("NAT gateways %s: %+v", id, out.NatGateways)
	}
	return out.NatGateways[0]
}

// secWaitNAT waits for a NAT gateway with the SDK's own waiter, polling
// fast.
func secWaitNAT(t *testing.T, cl *ec2sdk.Client, id string) error {
	t.Helper()
	w := ec2sdk.NewNatGatewayAvailableWaiter(cl, func(o *ec2sdk.NatGatewayAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, 200*time.Millisecond
	})
	return w.Wait(context.Background(), &ec2sdk.DescribeNatGatewaysInput{NatGatewayIds: []string{id}}, 10*time.Second)
}

// TestNATSeedCLI is seed 002's NAT gateway: aws ec2 allocate-address
// --domain vpc, then create-nat-gateway in a public subnet, with the CLI.
func TestNATSeedCLI(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	subnet := secDefaultSubnet(t, cl)
	var eip struct{ AllocationId, PublicIp, Domain, PublicIpv4Pool, NetworkBorderGroup string }
	if err := c.cli(t, &eip, "ec2", "allocate-address", "--domain", "vpc"); err != nil {
		t.Fatal(err)
	}
	ip, err := netip.ParseAddr(eip.PublicIp)
	if err != nil || !ec2svc.PublicRange.Contains(ip) || !strings.HasPrefix(eip.AllocationId, "eipalloc-") || eip.Domain != "vpc" ||
		eip.PublicIpv4Pool != "amazon" || eip.NetworkBorderGroup != "ap-northeast-2" {
		t.Fatalf("allocate-address: %+v", eip)
	}
	if a := secDescribeAddress(t, cl, eip.AllocationId); aws.ToString(a.PublicIp) != eip.PublicIp || a.AssociationId != nil {
		t.Fatalf("address %+v", a)
	}
	var out struct {
		NatGateway struct {
			NatGatewayId, SubnetId, VpcId, State, ConnectivityType string
			NatGatewayAddresses                                    []struct {
				AllocationId, NetworkInterfaceId, PrivateIp, PublicIp, Status string
				IsPrimary                                                     bool
			}
		}
	}
	if err := c.cli(t, &out, "ec2", "create-nat-gateway", "--subnet-id", aws.ToString(subnet.SubnetId), "--allocation-id", eip.AllocationId); err != nil {
		t.Fatal(err)
	}
	ng := out.NatGateway
	if !strings.HasPrefix(ng.NatGatewayId, "nat-") || ng.State != "pending" || ng.SubnetId != aws.ToString(subnet.SubnetId) || ng.VpcId != aws.ToString(subnet.VpcId) ||
		ng.ConnectivityType != "public" || len(ng.NatGatewayAddresses) != 1 {
		t.Fatalf("create-nat-gateway: %+v", ng)
	}
	addr := ng.NatGatewayAddresses[0]
	if addr.AllocationId != eip.AllocationId || addr.PublicIp != eip.PublicIp || !addr.IsPrimary || !strings.HasPrefix(addr.NetworkInterfaceId, "eni-") || addr.PrivateIp == "" {
		t.Fatalf("NAT address %+v", addr)
	}
	start := time.Now()
	if err := secWaitNAT(t, cl, ng.NatGatewayId); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the NAT gateway took %v to be available", d)
	}
	g := secNAT(t, cl, ng.NatGatewayId)
	if g.State != types.NatGatewayStateAvailable || g.NatGatewayAddresses[0].Status != types.NatGatewayAddressStatusSucceeded || g.CreateTime == nil {
		t.Fatalf("available NAT gateway %+v", g)
	}
	// Its interface: requester-managed, of type nat_gateway, with the Elastic IP.
	e := secDescribeENI(t, cl, addr.NetworkInterfaceId)
	// AWS answers nat_gateway, whatever the SDK's enum says (natGateway).
	if string(e.InterfaceType) != "nat_gateway" || !aws.ToBool(e.RequesterManaged) || e.Status != types.NetworkInterfaceStatusInUse ||
		len(e.Groups) != 0 || e.Association == nil || aws.ToString(e.Association.PublicIp) != eip.PublicIp || aws.ToString(e.PrivateIpAddress) != addr.PrivateIp {
		t.Fatalf("NAT interface %+v", e)
	}
	a := secDescribeAddress(t, cl, eip.AllocationId)
	if aws.ToString(a.NetworkInterfaceId) != addr.NetworkInterfaceId || a.AssociationId == nil {
		t.Fatalf("NAT address %+v", a)
	}
	// It is AWS's: not ours to delete, detach or take the address from.
	_, err = cl.DeleteNetworkInterface(ctx, &ec2sdk.DeleteNetworkInterfaceInput{NetworkInterfaceId: e.NetworkInterfaceId})
	wantCode(t, err, "InvalidNetworkInterface.InUse")
	_, err = cl.DetachNetworkInterface(ctx, &ec2sdk.DetachNetworkInterfaceInput{AttachmentId: e.Attachment.AttachmentId})
	wantCode(t, err, "OperationNotPermitted")
	_, err = cl.DisassociateAddress(ctx, &ec2sdk.DisassociateAddressInput{AssociationId: a.AssociationId})
	wantCode(t, err, "OperationNotPermitted")
	_, err = cl.ReleaseAddress(ctx, &ec2sdk.ReleaseAddressInput{AllocationId: aws.String(eip.AllocationId)})
	wantCode(t, err, "InvalidIPAddress.InUse")
	for _, f := range [][]types.Filter{
		{secFilter("state", "available")},
		{secFilter("subnet-id", aws.ToString(subnet.SubnetId)), secFilter("vpc-id", aws.ToString(subnet.VpcId))},
		{secFilter("nat-gateway-id", ng.NatGatewayId)},
	} {
		got := must[*ec2sdk.DescribeNatGatewaysOutput](t)(cl.DescribeNatGateways(ctx, &ec2sdk.DescribeNatGatewaysInput{Filter: f}))
		if len(got.NatGateways) != 1 {
			t.Fatalf("filters %v: %+v", f, got.NatGateways)
		}
	}

	// Delete: deleting, then deleted, still visible; the interface goes,
	// the Elastic IP stays allocated and can be released.
	must[*ec2sdk.DeleteNatGatewayOutput](t)(cl.DeleteNatGateway(ctx, &ec2sdk.DeleteNatGatewayInput{NatGatewayId: aws.String(ng.NatGatewayId)}))
	if g := secNAT(t, cl, ng.NatGatewayId); g.State != types.NatGatewayStateDeleting || g.DeleteTime == nil {
		t.Fatalf("deleting NAT gateway %+v", g)
	}
	_, err = cl.DescribeNetworkInterfaces(ctx, &ec2sdk.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{addr.NetworkInterfaceId}})
	wantCode(t, err, "InvalidNetworkInterfaceID.NotFound")
	if a := secDescribeAddress(t, cl, eip.AllocationId); a.AssociationId != nil {
		t.Fatalf("the address is still associated: %+v", a)
	}
	w := ec2sdk.NewNatGatewayDeletedWaiter(cl, func(o *ec2sdk.NatGatewayDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, 200*time.Millisecond
	})
	if err := w.Wait(ctx, &ec2sdk.DescribeNatGatewaysInput{NatGatewayIds: []string{ng.NatGatewayId}}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	must[*ec2sdk.ReleaseAddressOutput](t)(cl.ReleaseAddress(ctx, &ec2sdk.ReleaseAddressInput{AllocationId: aws.String(eip.AllocationId)}))
}

func TestNATPrivateAndIdempotent(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	subnet := aws.ToString(secDefaultSubnet(t, cl).SubnetId)
	in := &ec2sdk.CreateNatGatewayInput{
		SubnetId: aws.String(subnet), ConnectivityType: types.ConnectivityTypePrivate, ClientToken: aws.String("nat-token"), PrivateIpAddress: aws.String("172.31.2.2"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeNatgateway, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("private")}}}},
	}
	first := must[*ec2sdk.CreateNatGatewayOutput](t)(cl.CreateNatGateway(ctx, in))
	second := must[*ec2sdk.CreateNatGatewayOutput](t)(cl.CreateNatGateway(ctx, in))
	id := aws.ToString(first.NatGateway.NatGatewayId)
	if aws.ToString(second.NatGateway.NatGatewayId) != id || aws.ToString(first.ClientToken) != "nat-token" {
		t.Fatalf("the client token made two gateways: %s %s", id, aws.ToString(second.NatGateway.NatGatewayId))
	}
	all := must[*ec2sdk.DescribeNatGatewaysOutput](t)(cl.DescribeNatGateways(ctx, &ec2sdk.DescribeNatGatewaysInput{}))
	if len(all.NatGateways) != 1 {
		t.Fatalf("gateways %+v", all.NatGateways)
	}
	if err := secWaitNAT(t, cl, id); err != nil {
		t.Fatal(err)
	}
	g := secNAT(t, cl, id)
	a := g.NatGatewayAddresses[0]
	if g.ConnectivityType != types.ConnectivityTypePrivate || a.AllocationId != nil || a.PublicIp != nil || aws.ToString(a.PrivateIp) != "172.31.2.2" || len(g.Tags) != 1 {
		t.Fatalf("private NAT gateway %+v", g)
	}
	tagged := must[*ec2sdk.DescribeNatGatewaysOutput](t)(cl.DescribeNatGateways(ctx, &ec2sdk.DescribeNatGatewaysInput{Filter: []types.Filter{secFilter("tag:Name", "private")}}))
	if len(tagged.NatGateways) != 1 {
		t.Fatalf("by tag %+v", tagged.NatGateways)
	}
}

// TestNATWithoutInternetGateway: AWS takes the request, then the gateway
// fails; the waiter reports the failure.
func TestNATWithoutInternetGateway(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	vpc := secVPC(t, cl, "10.7.0.0/16")
	subnet := secSubnet(t, cl, vpc, "10.7.0.0/24")
	eip := secAllocate(t, cl)
	out := must[*ec2sdk.CreateNatGatewayOutput](t)(cl.CreateNatGateway(ctx, &ec2sdk.CreateNatGatewayInput{SubnetId: aws.String(subnet), AllocationId: eip.AllocationId}))
	id := aws.ToString(out.NatGateway.NatGatewayId)
	if out.NatGateway.State != types.NatGatewayStatePending || out.NatGateway.FailureCode != nil {
		t.Fatalf("new NAT gateway %+v", out.NatGateway)
	}
	if err := secWaitNAT(t, cl, id); err == nil {
		t.Fatal("the waiter saw a gateway without an internet gateway become available")
	}
	g := secNAT(t, cl, id)
	if g.State != types.NatGatewayStateFailed || aws.ToString(g.FailureCode) != "Gateway.NotAttached" || !strings.Contains(aws.ToString(g.FailureMessage), vpc) {
		t.Fatalf("failed NAT gateway %+v", g)
	}
	// A failed gateway holds nothing: the address is free again.
	must[*ec2sdk.ReleaseAddressOutput](t)(cl.ReleaseAddress(ctx, &ec2sdk.ReleaseAddressInput{AllocationId: eip.AllocationId}))
}

func TestNATBadInput(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	subnet := aws.ToString(secDefaultSubnet(t, cl).SubnetId)
	used := secAllocate(t, cl)
	e := secENI(t, cl, subnet)
	must[*ec2sdk.AssociateAddressOutput](t)(cl.AssociateAddress(ctx, &ec2sdk.AssociateAddressInput{AllocationId: used.AllocationId, NetworkInterfaceId: e.NetworkInterfaceId}))
	free := secAllocate(t, cl)
	create := func(in *ec2sdk.CreateNatGatewayInput) error {
		_, err := cl.CreateNatGateway(ctx, in)
		return err
	}
	cases := []struct {
		name string
		err  error
		code string
	}{
		{"nonexistent subnet", create(&ec2sdk.CreateNatGatewayInput{SubnetId: aws.String("subnet-0123456789abcdef0"), AllocationId: free.AllocationId}), "InvalidSubnetID.NotFound"},
		{"associated address", create(&ec2sdk.CreateNatGatewayInput{SubnetId: aws.String(subnet), AllocationId: used.AllocationId}), "Resource.AlreadyAssociated"},
		{"unknown address", create(&ec2sdk.CreateNatGatewayInput{SubnetId: aws.String(subnet), AllocationId: aws.String("eipalloc-0123456789abcdef0")}), "InvalidAllocationID.NotFound"},
		{"public without an address", create(&ec2sdk.CreateNatGatewayInput{SubnetId: aws.String(subnet)}), "MissingParameter"},
		{"private with an address", create(&ec2sdk.CreateNatGatewayInput{SubnetId: aws.String(subnet), AllocationId: free.AllocationId, ConnectivityType: types.ConnectivityTypePrivate}), "InvalidParameterCombination"},
		{"bad connectivity type", create(&ec2sdk.CreateNatGatewayInput{SubnetId: aws.String(subnet), AllocationId: free.AllocationId, ConnectivityType: "sideways"}), "InvalidParameterValue"},
		{"private address in use", create(&ec2sdk.CreateNatGatewayInput{SubnetId: aws.String(subnet), AllocationId: free.AllocationId, PrivateIpAddress: e.PrivateIpAddress}), "InvalidIPAddress.InUse"},
		{"dry run", create(&ec2sdk.CreateNatGatewayInput{SubnetId: aws.String(subnet), AllocationId: free.AllocationId, DryRun: aws.Bool(true)}), "DryRunOperation"},
		{"describe unknown", func() error {
			_, err := cl.DescribeNatGateways(ctx, &ec2sdk.DescribeNatGatewaysInput{NatGatewayIds: []string{"nat-0123456789abcdef0"}})
			return err
		}(), "NatGatewayNotFound"},
		{"delete unknown", func() error {
			_, err := cl.DeleteNatGateway(ctx, &ec2sdk.DeleteNatGatewayInput{NatGatewayId: aws.String("nat-0123456789abcdef0")})
			return err
		}(), "NatGatewayNotFound"},
		{"unknown filter", func() error {
			_, err := cl.DescribeNatGateways(ctx, &ec2sdk.DescribeNatGatewaysInput{Filter: []types.Filter{secFilter("colour", "red")}})
			return err
		}(), "InvalidParameterValue"},
	}
	for _, tc := range cases {
		if got := apiCode(tc.err); got != tc.code {
			t.Errorf("%s: got %q (%v), want %q", tc.name, got, tc.err, tc.code)
		}
	}
	if all := must[*ec2sdk.DescribeNatGatewaysOutput](t)(cl.DescribeNatGateways(ctx, &ec2sdk.DescribeNatGatewaysInput{})); len(all.NatGateways) != 0 {
		t.Fatalf("failed calls made gateways: %+v", all.NatGateways)
	}
	if enis := must[*ec2sdk.DescribeNetworkInterfacesOutput](t)(cl.DescribeNetworkInterfaces(ctx, &ec2sdk.DescribeNetworkInterfacesInput{})); len(enis.NetworkInterfaces) != 1 {
		t.Fatalf("failed calls left interfaces: %+v", enis.NetworkInterfaces)
	}
	// An address taken by a NAT gateway can't make a second one.
	must[*ec2sdk.CreateNatGatewayOutput](t)(cl.CreateNatGateway(ctx, &ec2sdk.CreateNatGatewayInput{SubnetId: aws.String(subnet), AllocationId: free.AllocationId}))
	wantCode(t, create(&ec2sdk.CreateNatGatewayInput{SubnetId: aws.String(subnet), AllocationId: free.AllocationId}), "Resource.AlreadyAssociated")
}

package ec2_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	ec2svc "github.com/cloudbox/cloudbox/services/ec2"
)

func secAllocate(t *testing.T, cl *ec2sdk.Client) *ec2sdk.AllocateAddressOutput {
	t.Helper()
	return must[*ec2sdk.AllocateAddressOutput](t)(cl.AllocateAddress(context.Background(), &ec2sdk.AllocateAddressInput{Domain: types.DomainTypeVpc}))
}

func secDescribeAddress(t *testing.T, cl *ec2sdk.Client, alloc string) types.Address {
	t.Helper()
	out := must[*ec2sdk.DescribeAddressesOutput](t)(cl.DescribeAddresses(context.Background(), &ec2sdk.DescribeAddressesInput{AllocationIds: []string{alloc}}))
	if len(out.Addresses) != 1 {
		t.Fatalf("addresses %s: %+v", alloc, out.Addresses)
	}
	return out.Addresses[0]
}

func TestAddressAssociate(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	subnet := aws.ToString(secDefaultSubnet(t, cl).SubnetId)
	eip := must[*ec2sdk.AllocateAddressOutput](t)(cl.AllocateAddress(ctx, &ec2sdk.AllocateAddressInput{
		Domain:            types.DomainTypeVpc,
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeElasticIp, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("front")}}}},
	}))
	alloc, ip := aws.ToString(eip.AllocationId), aws.ToString(eip.PublicIp)
	if addr, err := netip.ParseAddr(ip); err != nil || !ec2svc.PublicRange.Contains(addr) || aws.ToString(eip.PublicIpv4Pool) != "amazon" || aws.ToString(eip.NetworkBorderGroup) != "ap-northeast-2" {
		t.Fatalf("allocated %+v", eip)
	}
	e := secENI(t, cl, subnet)
	eni := aws.ToString(e.NetworkInterfaceId)
	as := must[*ec2sdk.AssociateAddressOutput](t)(cl.AssociateAddress(ctx, &ec2sdk.AssociateAddressInput{AllocationId: aws.String(alloc), NetworkInterfaceId: aws.String(eni)}))
	assoc := aws.ToString(as.AssociationId)
	if !strings.HasPrefix(assoc, "eipassoc-") {
		t.Fatalf("association %q", assoc)
	}
	got := secDescribeENI(t, cl, eni)
	dns := "ec2-" + strings.ReplaceAll(ip, ".", "-") + ".ap-northeast-2.compute.amazonaws.com"
	if got.Association == nil || aws.ToString(got.Association.PublicIp) != ip || aws.ToString(got.Association.AllocationId) != alloc ||
		aws.ToString(got.Association.AssociationId) != assoc || aws.ToString(got.Association.IpOwnerId) != "000000000000" || aws.ToString(got.Association.PublicDnsName) != dns {
		t.Fatalf("interface association %+v", got.Association)
	}
	if pa := got.PrivateIpAddresses[0].Association; pa == nil || aws.ToString(pa.PublicIp) != ip {
		t.Fatalf("primary address association %+v", pa)
	}
	a := secDescribeAddress(t, cl, alloc)
	if aws.ToString(a.AssociationId) != assoc || aws.ToString(a.NetworkInterfaceId) != eni || aws.ToString(a.PrivateIpAddress) != aws.ToString(e.PrivateIpAddress) ||
		aws.ToString(a.NetworkInterfaceOwnerId) != "000000000000" || len(a.Tags) != 1 {
		t.Fatalf("address %+v", a)
	}
	for _, f := range [][]types.Filter{
		{secFilter("association-id", assoc)},
		{secFilter("network-interface-id", eni), secFilter("domain", "vpc")},
		{secFilter("public-ip", ip), secFilter("tag:Name", "front")},
		{secFilter("private-ip-address", aws.ToString(e.PrivateIpAddress))},
	} {
		out := must[*ec2sdk.DescribeAddressesOutput](t)(cl.DescribeAddresses(ctx, &ec2sdk.DescribeAddressesInput{Filters: f}))
		if len(out.Addresses) != 1 {
			t.Fatalf("filters %v: %+v", f, out.Addresses)
		}
	}
	byIP := must[*ec2sdk.DescribeAddressesOutput](t)(cl.DescribeAddresses(ctx, &ec2sdk.DescribeAddressesInput{PublicIps: []string{ip}}))
	if len(byIP.Addresses) != 1 {
		t.Fatalf("by public IP %+v", byIP.Addresses)
	}
	byENI := must[*ec2sdk.DescribeNetworkInterfacesOutput](t)(cl.DescribeNetworkInterfaces(ctx, &ec2sdk.DescribeNetworkInterfacesInput{Filters: []types.Filter{secFilter("association.public-ip", ip)}}))
	if len(byENI.NetworkInterfaces) != 1 {
		t.Fatalf("interfaces by public IP %+v", byENI.NetworkInterfaces)
	}

	// In use: neither released nor moved without AllowReassociation.
	_, err := cl.ReleaseAddress(ctx, &ec2sdk.ReleaseAddressInput{AllocationId: aws.String(alloc)})
	wantCode(t, err, "InvalidIPAddress.InUse")
	other := secENI(t, cl, subnet)
	_, err = cl.AssociateAddress(ctx, &ec2sdk.AssociateAddressInput{AllocationId: aws.String(alloc), NetworkInterfaceId: other.NetworkInterfaceId})
	wantCode(t, err, "Resource.AlreadyAssociated")
	moved := must[*ec2sdk.AssociateAddressOutput](t)(cl.AssociateAddress(ctx, &ec2sdk.AssociateAddressInput{
		AllocationId: aws.String(alloc), NetworkInterfaceId: other.NetworkInterfaceId, AllowReassociation: aws.Bool(true),
	}))
	if got := secDescribeENI(t, cl, eni); got.Association != nil || got.PrivateIpAddresses[0].Association != nil {
		t.Fatalf("the first interface kept the address: %+v", got.Association)
	}
	if a := secDescribeAddress(t, cl, alloc); aws.ToString(a.NetworkInterfaceId) != aws.ToString(other.NetworkInterfaceId) || aws.ToString(a.AssociationId) != aws.ToString(moved.AssociationId) {
		t.Fatalf("moved address %+v", a)
	}

	// A second address on a secondary private IP.
	must[*ec2sdk.AssignPrivateIpAddressesOutput](t)(cl.AssignPrivateIpAddresses(ctx, &ec2sdk.AssignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(eni), PrivateIpAddresses: []string{"172.31.1.10"}}))
	second := secAllocate(t, cl)
	must[*ec2sdk.AssociateAddressOutput](t)(cl.AssociateAddress(ctx, &ec2sdk.AssociateAddressInput{
		AllocationId: second.AllocationId, NetworkInterfaceId: aws.String(eni), PrivateIpAddress: aws.String("172.31.1.10"),
	}))
	got = secDescribeENI(t, cl, eni)
	if got.Association != nil || got.PrivateIpAddresses[1].Association == nil || aws.ToString(got.PrivateIpAddresses[1].Association.PublicIp) != aws.ToString(second.PublicIp) {
		t.Fatalf("secondary association %+v", got.PrivateIpAddresses)
	}
	// Unassigning the private IP disassociates its address.
	must[*ec2sdk.UnassignPrivateIpAddressesOutput](t)(cl.UnassignPrivateIpAddresses(ctx, &ec2sdk.UnassignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(eni), PrivateIpAddresses: []string{"172.31.1.10"}}))
	if a := secDescribeAddress(t, cl, aws.ToString(second.AllocationId)); a.AssociationId != nil {
		t.Fatalf("address of an unassigned IP %+v", a)
	}

	// Disassociate by association id, then release.
	must[*ec2sdk.DisassociateAddressOutput](t)(cl.DisassociateAddress(ctx, &ec2sdk.DisassociateAddressInput{AssociationId: moved.AssociationId}))
	if got := secDescribeENI(t, cl, aws.ToString(other.NetworkInterfaceId)); got.Association != nil {
		t.Fatalf("disassociated interface %+v", got.Association)
	}
	if a := secDescribeAddress(t, cl, alloc); a.AssociationId != nil || a.NetworkInterfaceId != nil || a.PrivateIpAddress != nil {
		t.Fatalf("disassociated address %+v", a)
	}
	_, err = cl.DisassociateAddress(ctx, &ec2sdk.DisassociateAddressInput{AssociationId: moved.AssociationId})
	wantCode(t, err, "InvalidAssociationID.NotFound")
	must[*ec2sdk.ReleaseAddressOutput](t)(cl.ReleaseAddress(ctx, &ec2sdk.ReleaseAddressInput{AllocationId: aws.String(alloc)}))
	_, err = cl.DescribeAddresses(ctx, &ec2sdk.DescribeAddressesInput{AllocationIds: []string{alloc}})
	wantCode(t, err, "InvalidAllocationID.NotFound")
	// A released address can be recovered while nobody took it.
	back := must[*ec2sdk.AllocateAddressOutput](t)(cl.AllocateAddress(ctx, &ec2sdk.AllocateAddressInput{Domain: types.DomainTypeVpc, Address: aws.String(ip)}))
	if aws.ToString(back.PublicIp) != ip {
		t.Fatalf("recovered %+v", back)
	}
	_, err = cl.AllocateAddress(ctx, &ec2sdk.AllocateAddressInput{Domain: types.DomainTypeVpc, Address: aws.String(ip)})
	wantCode(t, err, "InvalidParameterValue")

	// Deleting an interface leaves its address allocated, unassociated.
	must[*ec2sdk.AssociateAddressOutput](t)(cl.AssociateAddress(ctx, &ec2sdk.AssociateAddressInput{AllocationId: second.AllocationId, NetworkInterfaceId: aws.String(eni)}))
	must[*ec2sdk.DeleteNetworkInterfaceOutput](t)(cl.DeleteNetworkInterface(ctx, &ec2sdk.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(eni)}))
	if a := secDescribeAddress(t, cl, aws.ToString(second.AllocationId)); a.AssociationId != nil {
		t.Fatalf("address of a deleted interface %+v", a)
	}
}

// TestAddressInstance: an Elastic IP associated with an instance replaces
// its auto-assigned public IP and shows on the instance.
func TestAddressInstance(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	inst := secLaunch(t, cl, aws.ToString(secDefaultSubnet(t, cl).SubnetId))
	iid := aws.ToString(inst.InstanceId)
	auto := aws.ToString(inst.PublicIpAddress)
	eip := secAllocate(t, cl)
	as := must[*ec2sdk.AssociateAddressOutput](t)(cl.AssociateAddress(ctx, &ec2sdk.AssociateAddressInput{AllocationId: eip.AllocationId, InstanceId: aws.String(iid)}))
	got := secDescribeInstance(t, cl, iid)
	if aws.ToString(got.PublicIpAddress) != aws.ToString(eip.PublicIp) || !strings.HasPrefix(aws.ToString(got.PublicDnsName), "ec2-198-") {
		t.Fatalf("instance public address %v %v, want %v", aws.ToString(got.PublicIpAddress), aws.ToString(got.PublicDnsName), aws.ToString(eip.PublicIp))
	}
	if nic := got.NetworkInterfaces[0]; nic.Association == nil || aws.ToString(nic.Association.PublicIp) != aws.ToString(eip.PublicIp) || aws.ToString(nic.Association.IpOwnerId) != "000000000000" {
		t.Fatalf("instance interface association %+v", nic.Association)
	}
	a := secDescribeAddress(t, cl, aws.ToString(eip.AllocationId))
	if aws.ToString(a.InstanceId) != iid || aws.ToString(a.AssociationId) != aws.ToString(as.AssociationId) {
		t.Fatalf("address %+v", a)
	}
	byInstance := must[*ec2sdk.DescribeAddressesOutput](t)(cl.DescribeAddresses(ctx, &ec2sdk.DescribeAddressesInput{Filters: []types.Filter{secFilter("instance-id", iid)}}))
	if len(byInstance.Addresses) != 1 {
		t.Fatalf("addresses of the instance %+v", byInstance.Addresses)
	}
	if auto != "" {
		// The auto-assigned address went back to the pool: allocating it is possible.
		back := must[*ec2sdk.AllocateAddressOutput](t)(cl.AllocateAddress(ctx, &ec2sdk.AllocateAddressInput{Domain: types.DomainTypeVpc, Address: aws.String(auto)}))
		if aws.ToString(back.PublicIp) != auto {
			t.Fatalf("recovered %+v", back)
		}
	}
	// Without it, the instance, launched with a public IP, gets a new one.
	must[*ec2sdk.DisassociateAddressOutput](t)(cl.DisassociateAddress(ctx, &ec2sdk.DisassociateAddressInput{PublicIp: eip.PublicIp}))
	got = secDescribeInstance(t, cl, iid)
	if p := aws.ToString(got.PublicIpAddress); p == "" || p == aws.ToString(eip.PublicIp) || (auto != "" && p == auto) {
		t.Fatalf("instance public address after disassociation: %q (Elastic IP %s, first %s)", p, aws.ToString(eip.PublicIp), auto)
	}
	if nic := got.NetworkInterfaces[0]; nic.Association == nil || aws.ToString(nic.Association.IpOwnerId) != "amazon" {
		t.Fatalf("instance interface association %+v", nic.Association)
	}
}

func TestAddressBadInput(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	other := c.ec2("ap-northeast-2", "111111111111")
	eip := secAllocate(t, cl)
	subnet := aws.ToString(secDefaultSubnet(t, cl).SubnetId)
	e := secENI(t, cl, subnet)
	// A VPC without an internet gateway.
	vpc := secVPC(t, cl, "10.6.0.0/16")
	isolated := secENI(t, cl, secSubnet(t, cl, vpc, "10.6.1.0/24"))
	cases := []struct {
		name string
		err  error
		code string
	}{
		{"standard domain", func() error {
			_, err := cl.AllocateAddress(ctx, &ec2sdk.AllocateAddressInput{Domain: types.DomainTypeStandard})
			return err
		}(), "InvalidParameterValue"},
		{"unknown pool", func() error {
			_, err := cl.AllocateAddress(ctx, &ec2sdk.AllocateAddressInput{PublicIpv4Pool: aws.String("ipv4pool-ec2-0123456789abcdef0")})
			return err
		}(), "InvalidPublicIpv4PoolID.NotFound"},
		{"address outside the pool", func() error {
			_, err := cl.AllocateAddress(ctx, &ec2sdk.AllocateAddressInput{Address: aws.String("8.8.8.8")})
			return err
		}(), "InvalidParameterValue"},
		{"release unknown", func() error {
			_, err := cl.ReleaseAddress(ctx, &ec2sdk.ReleaseAddressInput{AllocationId: aws.String("eipalloc-0123456789abcdef0")})
			return err
		}(), "InvalidAllocationID.NotFound"},
		{"release malformed", func() error {
			_, err := cl.ReleaseAddress(ctx, &ec2sdk.ReleaseAddressInput{AllocationId: aws.String("eipalloc-zz")})
			return err
		}(), "InvalidAllocationID.Malformed"},
		{"release another account's address", func() error {
			_, err := other.ReleaseAddress(ctx, &ec2sdk.ReleaseAddressInput{PublicIp: eip.PublicIp})
			return err
		}(), "AuthFailure"},
		{"release another account's allocation", func() error {
			_, err := other.ReleaseAddress(ctx, &ec2sdk.ReleaseAddressInput{AllocationId: eip.AllocationId})
			return err
		}(), "InvalidAllocationID.NotFound"},
		{"release without an id", func() error {
			_, err := cl.ReleaseAddress(ctx, &ec2sdk.ReleaseAddressInput{})
			return err
		}(), "MissingParameter"},
		{"associate to nothing", func() error {
			_, err := cl.AssociateAddress(ctx, &ec2sdk.AssociateAddressInput{AllocationId: eip.AllocationId})
			return err
		}(), "MissingParameter"},
		{"associate to an unknown interface", func() error {
			_, err := cl.AssociateAddress(ctx, &ec2sdk.AssociateAddressInput{AllocationId: eip.AllocationId, NetworkInterfaceId: aws.String("eni-0123456789abcdef0")})
			return err
		}(), "InvalidNetworkInterfaceID.NotFound"},
		{"associate to an unknown instance", func() error {
			_, err := cl.AssociateAddress(ctx, &ec2sdk.AssociateAddressInput{AllocationId: eip.AllocationId, InstanceId: aws.String("i-0123456789abcdef0")})
			return err
		}(), "InvalidInstanceID.NotFound"},
		{"associate to a foreign private IP", func() error {
			_, err := cl.AssociateAddress(ctx, &ec2sdk.AssociateAddressInput{AllocationId: eip.AllocationId, NetworkInterfaceId: e.NetworkInterfaceId, PrivateIpAddress: aws.String("172.31.9.9")})
			return err
		}(), "InvalidParameterValue"},
		{"associate in a VPC without an internet gateway", func() error {
			_, err := cl.AssociateAddress(ctx, &ec2sdk.AssociateAddressInput{AllocationId: eip.AllocationId, NetworkInterfaceId: isolated.NetworkInterfaceId})
			return err
		}(), "Gateway.NotAttached"},
		{"disassociate unknown", func() error {
			_, err := cl.DisassociateAddress(ctx, &ec2sdk.DisassociateAddressInput{AssociationId: aws.String("eipassoc-0123456789abcdef0")})
			return err
		}(), "InvalidAssociationID.NotFound"},
		{"describe an unknown public IP", func() error {
			_, err := cl.DescribeAddresses(ctx, &ec2sdk.DescribeAddressesInput{PublicIps: []string{"198.18.0.1"}})
			return err
		}(), "InvalidAddress.NotFound"},
		{"dry run allocate", func() error {
			_, err := cl.AllocateAddress(ctx, &ec2sdk.AllocateAddressInput{DryRun: aws.Bool(true)})
			return err
		}(), "DryRunOperation"},
		{"dry run associate", func() error {
			_, err := cl.AssociateAddress(ctx, &ec2sdk.AssociateAddressInput{AllocationId: eip.AllocationId, NetworkInterfaceId: e.NetworkInterfaceId, DryRun: aws.Bool(true)})
			return err
		}(), "DryRunOperation"},
	}
	for _, tc := range cases {
		if got := apiCode(tc.err); got != tc.code {
			t.Errorf("%s: got %q (%v), want %q", tc.name, got, tc.err, tc.code)
		}
	}
	all := must[*ec2sdk.DescribeAddressesOutput](t)(cl.DescribeAddresses(ctx, &ec2sdk.DescribeAddressesInput{}))
	if len(all.Addresses) != 1 || all.Addresses[0].AssociationId != nil {
		t.Fatalf("failed and dry-run calls changed the addresses: %+v", all.Addresses)
	}
	if none := must[*ec2sdk.DescribeAddressesOutput](t)(other.DescribeAddresses(ctx, &ec2sdk.DescribeAddressesInput{})); len(none.Addresses) != 0 {
		t.Fatalf("another account sees %+v", none.Addresses)
	}
}

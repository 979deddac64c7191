package ec2_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func secENI(t *testing.T, cl *ec2sdk.Client, subnet string) types.NetworkInterface {
	t.Helper()
	out := must[*ec2sdk.CreateNetworkInterfaceOutput](t)(cl.CreateNetworkInterface(context.Background(), &ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String(subnet)}))
	return *out.NetworkInterface
}

func secDescribeENI(t *testing.T, cl *ec2sdk.Client, id string) types.NetworkInterface {
	t.Helper()
	out := must[*ec2sdk.DescribeNetworkInterfacesOutput](t)(cl.DescribeNetworkInterfaces(context.Background(), &ec2sdk.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{id}}))
	if len(out.NetworkInterfaces) != 1 {
		t.Fatalf("interfaces %s: %+v", id, out.NetworkInterfaces)
	}
	return out.NetworkInterfaces[0]
}

func secSubnetFree(t *testing.T, cl *ec2sdk.Client, subnet string) int32 {
	t.Helper()
	out := must[*ec2sdk.DescribeSubnetsOutput](t)(cl.DescribeSubnets(context.Background(), &ec2sdk.DescribeSubnetsInput{SubnetIds: []string{subnet}}))
	return aws.ToInt32(out.Subnets[0].AvailableIpAddressCount)
}

// secLaunch runs one instance in a subnet and waits until it runs, or skips the test when
// instances are not there to run.
func secLaunch(t *testing.T, cl *ec2sdk.Client, subnet string) types.Instance {
	t.Helper()
	ctx := context.Background()
	imgs, err := cl.DescribeImages(ctx, &ec2sdk.DescribeImagesInput{Owners: []string{"amazon"}, Filters: []types.Filter{secFilter("name", "al2023-ami-2023*-x86_64")}})
	if err != nil || len(imgs.Images) == 0 {
		t.Skipf("no image to launch an instance from (DescribeImages: %v)", err)
	}
	out, err := cl.RunInstances(ctx, &ec2sdk.RunInstancesInput{
		ImageId: imgs.Images[0].ImageId, InstanceType: types.InstanceTypeT3Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1), SubnetId: aws.String(subnet),
	})
	if apiCode(err) == "NotImplemented" {
		t.Skip("RunInstances is not implemented yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(out.Instances[0].InstanceId)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if inst := secDescribeInstance(t, cl, id); inst.State.Name == types.InstanceStateNameRunning {
			return inst
		}
	}
	t.Fatalf("instance %s is not running after 10s", id)
	return types.Instance{}
}

func secDescribeInstance(t *testing.T, cl *ec2sdk.Client, id string) types.Instance {
	t.Helper()
	out := must[*ec2sdk.DescribeInstancesOutput](t)(cl.DescribeInstances(context.Background(), &ec2sdk.DescribeInstancesInput{InstanceIds: []string{id}}))
	return out.Reservations[0].Instances[0]
}

func TestENILifecycle(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	sn := secDefaultSubnet(t, cl)
	subnet := aws.ToString(sn.SubnetId)
	free := secSubnetFree(t, cl, subnet)
	web := secGroup(t, cl, "web", "")
	out := must[*ec2sdk.CreateNetworkInterfaceOutput](t)(cl.CreateNetworkInterface(ctx, &ec2sdk.CreateNetworkInterfaceInput{
		SubnetId: aws.String(subnet), Description: aws.String("spare"), PrivateIpAddress: aws.String("172.31.0.100"),
		SecondaryPrivateIpAddressCount: aws.Int32(2), ClientToken: aws.String("eni-token-1"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeNetworkInterface, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("spare")}}}},
	}))
	e := *out.NetworkInterface
	id := aws.ToString(e.NetworkInterfaceId)
	if aws.ToString(e.PrivateIpAddress) != "172.31.0.100" || len(e.PrivateIpAddresses) != 3 || e.Status != types.NetworkInterfaceStatusAvailable ||
		e.InterfaceType != types.NetworkInterfaceTypeInterface || aws.ToBool(e.RequesterManaged) || aws.ToString(e.VpcId) != aws.ToString(sn.VpcId) ||
		aws.ToString(e.AvailabilityZone) != "ap-northeast-2a" || aws.ToString(e.PrivateDnsName) != "ip-172-31-0-100.ap-northeast-2.compute.internal" ||
		len(e.Groups) != 1 || aws.ToString(e.Groups[0].GroupName) != "default" || len(e.TagSet) != 1 || aws.ToString(out.ClientToken) != "eni-token-1" {
		t.Fatalf("interface %+v", e)
	}
	if got := secSubnetFree(t, cl, subnet); got != free-3 {
		t.Fatalf("free addresses %d, want %d", got, free-3)
	}
	// The same client token gives back the same interface.
	again := must[*ec2sdk.CreateNetworkInterfaceOutput](t)(cl.CreateNetworkInterface(ctx, &ec2sdk.CreateNetworkInterfaceInput{
		SubnetId: aws.String(subnet), Description: aws.String("spare"), PrivateIpAddress: aws.String("172.31.0.100"),
		SecondaryPrivateIpAddressCount: aws.Int32(2), ClientToken: aws.String("eni-token-1"),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeNetworkInterface, Tags: []types.Tag{{Key: aws.String("Name"), Value: aws.String("spare")}}}},
	}))
	if aws.ToString(again.NetworkInterface.NetworkInterfaceId) != id {
		t.Fatalf("client token made a second interface %s", aws.ToString(again.NetworkInterface.NetworkInterfaceId))
	}
	_, err := cl.CreateNetworkInterface(ctx, &ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String(subnet), ClientToken: aws.String("eni-token-1")})
	wantCode(t, err, "IdempotentParameterMismatch")

	for _, f := range [][]types.Filter{
		{secFilter("subnet-id", subnet), secFilter("status", "available")},
		{secFilter("private-ip-address", "172.31.0.100")},
		{secFilter("addresses.private-ip-address", aws.ToString(e.PrivateIpAddresses[2].PrivateIpAddress))},
		{secFilter("group-name", "default"), secFilter("description", "spare")},
		{secFilter("tag:Name", "spare"), secFilter("interface-type", "interface"), secFilter("requester-managed", "false")},
		{secFilter("vpc-id", aws.ToString(sn.VpcId)), secFilter("availability-zone", "ap-northeast-2a"), secFilter("addresses.primary", "false")},
	} {
		got := must[*ec2sdk.DescribeNetworkInterfacesOutput](t)(cl.DescribeNetworkInterfaces(ctx, &ec2sdk.DescribeNetworkInterfacesInput{Filters: f}))
		if len(got.NetworkInterfaces) != 1 || aws.ToString(got.NetworkInterfaces[0].NetworkInterfaceId) != id {
			t.Fatalf("filters %v: %+v", f, got.NetworkInterfaces)
		}
	}

	// Secondary addresses.
	as := must[*ec2sdk.AssignPrivateIpAddressesOutput](t)(cl.AssignPrivateIpAddresses(ctx, &ec2sdk.AssignPrivateIpAddressesInput{
		NetworkInterfaceId: aws.String(id), PrivateIpAddresses: []string{"172.31.0.200"},
	}))
	if len(as.AssignedPrivateIpAddresses) != 1 || aws.ToString(as.AssignedPrivateIpAddresses[0].PrivateIpAddress) != "172.31.0.200" {
		t.Fatalf("assigned %+v", as)
	}
	must[*ec2sdk.AssignPrivateIpAddressesOutput](t)(cl.AssignPrivateIpAddresses(ctx, &ec2sdk.AssignPrivateIpAddressesInput{NetworkInterfaceId: aws.String(id), SecondaryPrivateIpAddressCount: aws.Int32(1)}))
	must[*ec2sdk.UnassignPrivateIpAddressesOutput](t)(cl.UnassignPrivateIpAddresses(ctx, &ec2sdk.UnassignPrivateIpAddressesInput{
		NetworkInterfaceId: aws.String(id), PrivateIpAddresses: []string{"172.31.0.200"},
	}))
	if got := secDescribeENI(t, cl, id); len(got.PrivateIpAddresses) != 4 {
		t.Fatalf("addresses %+v", got.PrivateIpAddresses)
	}
	if got := secSubnetFree(t, cl, subnet); got != free-4 {
		t.Fatalf("free addresses %d, want %d", got, free-4)
	}
	// Another interface takes an address with AllowReassignment.
	other := secENI(t, cl, subnet)
	moved := aws.ToString(e.PrivateIpAddresses[1].PrivateIpAddress)
	_, err = cl.AssignPrivateIpAddresses(ctx, &ec2sdk.AssignPrivateIpAddressesInput{NetworkInterfaceId: other.NetworkInterfaceId, PrivateIpAddresses: []string{moved}})
	wantCode(t, err, "InvalidIPAddress.InUse")
	must[*ec2sdk.AssignPrivateIpAddressesOutput](t)(cl.AssignPrivateIpAddresses(ctx, &ec2sdk.AssignPrivateIpAddressesInput{
		NetworkInterfaceId: other.NetworkInterfaceId, PrivateIpAddresses: []string{moved}, AllowReassignment: aws.Bool(true),
	}))
	if got := secDescribeENI(t, cl, id); len(got.PrivateIpAddresses) != 3 {
		t.Fatalf("the address did not leave: %+v", got.PrivateIpAddresses)
	}

	// Attributes.
	must[*ec2sdk.ModifyNetworkInterfaceAttributeOutput](t)(cl.ModifyNetworkInterfaceAttribute(ctx, &ec2sdk.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(id), Groups: []string{web}}))
	must[*ec2sdk.ModifyNetworkInterfaceAttributeOutput](t)(cl.ModifyNetworkInterfaceAttribute(ctx, &ec2sdk.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(id), SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(false)}}))
	must[*ec2sdk.ModifyNetworkInterfaceAttributeOutput](t)(cl.ModifyNetworkInterfaceAttribute(ctx, &ec2sdk.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(id), Description: &types.AttributeValue{Value: aws.String("router")}}))
	attr := func(a types.NetworkInterfaceAttribute) *ec2sdk.DescribeNetworkInterfaceAttributeOutput {
		return must[*ec2sdk.DescribeNetworkInterfaceAttributeOutput](t)(cl.DescribeNetworkInterfaceAttribute(ctx, &ec2sdk.DescribeNetworkInterfaceAttributeInput{NetworkInterfaceId: aws.String(id), Attribute: a}))
	}
	if g := attr(types.NetworkInterfaceAttributeGroupSet).Groups; len(g) != 1 || aws.ToString(g[0].GroupId) != web {
		t.Fatalf("groups %+v", g)
	}
	if v := attr(types.NetworkInterfaceAttributeSourceDestCheck).SourceDestCheck; aws.ToBool(v.Value) {
		t.Fatalf("source/dest check %+v", v)
	}
	if v := attr(types.NetworkInterfaceAttributeDescription).Description; aws.ToString(v.Value) != "router" {
		t.Fatalf("description %+v", v)
	}
	// The group is in use by the interface.
	_, err = cl.DeleteSecurityGroup(ctx, &ec2sdk.DeleteSecurityGroupInput{GroupId: aws.String(web)})
	wantCode(t, err, "DependencyViolation")

	must[*ec2sdk.DeleteNetworkInterfaceOutput](t)(cl.DeleteNetworkInterface(ctx, &ec2sdk.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(id)}))
	must[*ec2sdk.DeleteNetworkInterfaceOutput](t)(cl.DeleteNetworkInterface(ctx, &ec2sdk.DeleteNetworkInterfaceInput{NetworkInterfaceId: other.NetworkInterfaceId}))
	if got := secSubnetFree(t, cl, subnet); got != free {
		t.Fatalf("free addresses %d after deleting, want %d", got, free)
	}
	_, err = cl.DescribeNetworkInterfaces(ctx, &ec2sdk.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{id}})
	wantCode(t, err, "InvalidNetworkInterfaceID.NotFound")
	must[*ec2sdk.DeleteSecurityGroupOutput](t)(cl.DeleteSecurityGroup(ctx, &ec2sdk.DeleteSecurityGroupInput{GroupId: aws.String(web)}))
}

func TestENIAttach(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	subnet := aws.ToString(secDefaultSubnet(t, cl).SubnetId)
	inst := secLaunch(t, cl, subnet)
	iid := aws.ToString(inst.InstanceId)
	e := secENI(t, cl, subnet)
	id := aws.ToString(e.NetworkInterfaceId)
	_, err := cl.AttachNetworkInterface(ctx, &ec2sdk.AttachNetworkInterfaceInput{NetworkInterfaceId: aws.String(id), InstanceId: aws.String(iid), DeviceIndex: aws.Int32(0)})
	wantCode(t, err, "InvalidParameterValue")
	at := must[*ec2sdk.AttachNetworkInterfaceOutput](t)(cl.AttachNetworkInterface(ctx, &ec2sdk.AttachNetworkInterfaceInput{NetworkInterfaceId: aws.String(id), InstanceId: aws.String(iid), DeviceIndex: aws.Int32(1)}))
	got := secDescribeENI(t, cl, id)
	if got.Status != types.NetworkInterfaceStatusInUse || got.Attachment == nil || aws.ToString(got.Attachment.InstanceId) != iid ||
		aws.ToInt32(got.Attachment.DeviceIndex) != 1 || got.Attachment.Status != types.AttachmentStatusAttached || aws.ToString(got.Attachment.AttachmentId) != aws.ToString(at.AttachmentId) {
		t.Fatalf("attached interface %+v", got)
	}
	if nics := secDescribeInstance(t, cl, iid).NetworkInterfaces; len(nics) != 2 {
		t.Fatalf("instance interfaces %+v", nics)
	}
	byInstance := must[*ec2sdk.DescribeNetworkInterfacesOutput](t)(cl.DescribeNetworkInterfaces(ctx, &ec2sdk.DescribeNetworkInterfacesInput{
		Filters: []types.Filter{secFilter("attachment.instance-id", iid), secFilter("attachment.status", "attached")},
	}))
	if len(byInstance.NetworkInterfaces) != 2 {
		t.Fatalf("interfaces of the instance %+v", byInstance.NetworkInterfaces)
	}
	_, err = cl.DeleteNetworkInterface(ctx, &ec2sdk.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String(id)})
	wantCode(t, err, "InvalidNetworkInterface.InUse")
	_, err = cl.AttachNetworkInterface(ctx, &ec2sdk.AttachNetworkInterfaceInput{NetworkInterfaceId: aws.String(id), InstanceId: aws.String(iid), DeviceIndex: aws.Int32(2)})
	wantCode(t, err, "InvalidNetworkInterface.InUse")
	var primary string
	for _, n := range inst.NetworkInterfaces {
		if aws.ToInt32(n.Attachment.DeviceIndex) == 0 {
			primary = aws.ToString(n.Attachment.AttachmentId)
		}
	}
	_, err = cl.DetachNetworkInterface(ctx, &ec2sdk.DetachNetworkInterfaceInput{AttachmentId: aws.String(primary)})
	wantCode(t, err, "OperationNotPermitted")
	_, err = cl.DetachNetworkInterface(ctx, &ec2sdk.DetachNetworkInterfaceInput{AttachmentId: aws.String("eni-attach-0123456789abcdef0")})
	wantCode(t, err, "InvalidAttachmentID.NotFound")

	must[*ec2sdk.DetachNetworkInterfaceOutput](t)(cl.DetachNetworkInterface(ctx, &ec2sdk.DetachNetworkInterfaceInput{AttachmentId: at.AttachmentId}))
	if got := secDescribeENI(t, cl, id); got.Attachment != nil || got.Status != types.NetworkInterfaceStatusAvailable {
		t.Fatalf("detached interface %+v", got)
	}
	if nics := secDescribeInstance(t, cl, iid).NetworkInterfaces; len(nics) != 1 {
		t.Fatalf("instance interfaces after detach %+v", nics)
	}
	// An interface of another zone can't be attached.
	zoneB := must[*ec2sdk.DescribeSubnetsOutput](t)(cl.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{
		Filters: []types.Filter{secFilter("default-for-az", "true"), secFilter("availability-zone", "ap-northeast-2b")},
	})).Subnets[0]
	far := secENI(t, cl, aws.ToString(zoneB.SubnetId))
	_, err = cl.AttachNetworkInterface(ctx, &ec2sdk.AttachNetworkInterfaceInput{NetworkInterfaceId: far.NetworkInterfaceId, InstanceId: aws.String(iid), DeviceIndex: aws.Int32(1)})
	wantCode(t, err, "InvalidParameterCombination")
	_, err = cl.AttachNetworkInterface(ctx, &ec2sdk.AttachNetworkInterfaceInput{NetworkInterfaceId: aws.String(id), InstanceId: aws.String("i-0123456789abcdef0"), DeviceIndex: aws.Int32(1)})
	wantCode(t, err, "InvalidInstanceID.NotFound")
}

func TestENIBadInput(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	cl := c.client()
	subnet := aws.ToString(secDefaultSubnet(t, cl).SubnetId)
	vpc := secVPC(t, cl, "10.5.0.0/16")
	foreign := secGroup(t, cl, "foreign", vpc)
	e := secENI(t, cl, subnet)
	id := e.NetworkInterfaceId
	create := func(in *ec2sdk.CreateNetworkInterfaceInput) error {
		_, err := cl.CreateNetworkInterface(ctx, in)
		return err
	}
	cases := []struct {
		name string
		err  error
		code string
	}{
		{"unknown subnet", create(&ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String("subnet-0123456789abcdef0")}), "InvalidSubnetID.NotFound"},
		{"malformed subnet", create(&ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String("subnet-x")}), "InvalidSubnetID.Malformed"},
		{"address in use", create(&ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String(subnet), PrivateIpAddress: e.PrivateIpAddress}), "InvalidIPAddress.InUse"},
		{"address outside the subnet", create(&ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String(subnet), PrivateIpAddress: aws.String("10.9.9.9")}), "InvalidParameterValue"},
		{"reserved address", create(&ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String(subnet), PrivateIpAddress: aws.String("172.31.0.1")}), "InvalidParameterValue"},
		{"group of another VPC", create(&ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String(subnet), Groups: []string{foreign}}), "InvalidParameter"},
		{"unknown group", create(&ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String(subnet), Groups: []string{"sg-0123456789abcdef0"}}), "InvalidGroup.NotFound"},
		{"six groups", create(&ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String(subnet), Groups: []string{"sg-1", "sg-2", "sg-3", "sg-4", "sg-5", "sg-6"}}), "SecurityGroupsPerInterfaceLimitExceeded"},
		{"too many addresses", create(&ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String(subnet), SecondaryPrivateIpAddressCount: aws.Int32(60)}), "PrivateIpAddressLimitExceeded"},
		{"delete unknown", func() error {
			_, err := cl.DeleteNetworkInterface(ctx, &ec2sdk.DeleteNetworkInterfaceInput{NetworkInterfaceId: aws.String("eni-0123456789abcdef0")})
			return err
		}(), "InvalidNetworkInterfaceID.NotFound"},
		{"two attributes at once", func() error {
			_, err := cl.ModifyNetworkInterfaceAttribute(ctx, &ec2sdk.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: id, Description: &types.AttributeValue{Value: aws.String("x")}, SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
			return err
		}(), "InvalidParameterCombination"},
		{"no attribute", func() error {
			_, err := cl.ModifyNetworkInterfaceAttribute(ctx, &ec2sdk.ModifyNetworkInterfaceAttributeInput{NetworkInterfaceId: id})
			return err
		}(), "MissingParameter"},
		{"unknown attribute", func() error {
			_, err := cl.DescribeNetworkInterfaceAttribute(ctx, &ec2sdk.DescribeNetworkInterfaceAttributeInput{NetworkInterfaceId: id, Attribute: "colour"})
			return err
		}(), "InvalidParameterValue"},
		{"unassign the primary address", func() error {
			_, err := cl.UnassignPrivateIpAddresses(ctx, &ec2sdk.UnassignPrivateIpAddressesInput{NetworkInterfaceId: id, PrivateIpAddresses: []string{aws.ToString(e.PrivateIpAddress)}})
			return err
		}(), "InvalidParameterValue"},
		{"unassign a foreign address", func() error {
			_, err := cl.UnassignPrivateIpAddresses(ctx, &ec2sdk.UnassignPrivateIpAddressesInput{NetworkInterfaceId: id, PrivateIpAddresses: []string{"172.31.9.9"}})
			return err
		}(), "InvalidParameterValue"},
		{"assign with both forms", func() error {
			_, err := cl.AssignPrivateIpAddresses(ctx, &ec2sdk.AssignPrivateIpAddressesInput{NetworkInterfaceId: id, PrivateIpAddresses: []string{"172.31.9.9"}, SecondaryPrivateIpAddressCount: aws.Int32(1)})
			return err
		}(), "InvalidParameterCombination"},
		{"unknown filter", func() error {
			_, err := cl.DescribeNetworkInterfaces(ctx, &ec2sdk.DescribeNetworkInterfacesInput{Filters: []types.Filter{secFilter("colour", "red")}})
			return err
		}(), "InvalidParameterValue"},
		{"dry run", func() error {
			_, err := cl.DeleteNetworkInterface(ctx, &ec2sdk.DeleteNetworkInterfaceInput{NetworkInterfaceId: id, DryRun: aws.Bool(true)})
			return err
		}(), "DryRunOperation"},
		{"dry run create", create(&ec2sdk.CreateNetworkInterfaceInput{SubnetId: aws.String(subnet), DryRun: aws.Bool(true)}), "DryRunOperation"},
	}
	for _, tc := range cases {
		if got := apiCode(tc.err); got != tc.code {
			t.Errorf("%s: got %q (%v), want %q", tc.name, got, tc.err, tc.code)
		}
	}
	all := must[*ec2sdk.DescribeNetworkInterfacesOutput](t)(cl.DescribeNetworkInterfaces(ctx, &ec2sdk.DescribeNetworkInterfacesInput{}))
	if len(all.NetworkInterfaces) != 1 {
		t.Fatalf("failed and dry-run calls left interfaces: %+v", all.NetworkInterfaces)
	}
}

package ec2_test

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// cmpImage returns the id of the stock image whose name matches pattern.
func cmpImage(t *testing.T, cl *ec2sdk.Client, pattern string) string {
	t.Helper()
	out := must[*ec2sdk.DescribeImagesOutput](t)(cl.DescribeImages(context.Background(), &ec2sdk.DescribeImagesInput{
		Filters: []types.Filter{{Name: aws.String("name"), Values: []string{pattern}}},
	}))
	if len(out.Images) != 1 {
		t.Fatalf("%d images named %s", len(out.Images), pattern)
	}
	return aws.ToString(out.Images[0].ImageId)
}

// cmpAL2023 is the x86_64 Amazon Linux 2023 image.
func cmpAL2023(t *testing.T, cl *ec2sdk.Client) string {
	return cmpImage(t, cl, "al2023-ami-2023.*-kernel-6.1-x86_64")
}

// cmpRun launches one instance (count 1 unless the input says).
func cmpRun(t *testing.T, cl *ec2sdk.Client, in *ec2sdk.RunInstancesInput) types.Instance {
	t.Helper()
	if in.MinCount == nil {
		in.MinCount, in.MaxCount = aws.Int32(1), aws.Int32(1)
	}
	out := must[*ec2sdk.RunInstancesOutput](t)(cl.RunInstances(context.Background(), in))
	return out.Instances[0]
}

func cmpDescribe(t *testing.T, cl *ec2sdk.Client, id string) types.Instance {
	t.Helper()
	out := must[*ec2sdk.DescribeInstancesOutput](t)(cl.DescribeInstances(context.Background(), &ec2sdk.DescribeInstancesInput{InstanceIds: []string{id}}))
	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("instance %s: %+v", id, out.Reservations)
	}
	return out.Reservations[0].Instances[0]
}

const (
	cmpMinDelay = 50 * time.Millisecond
	cmpMaxDelay = 200 * time.Millisecond
	cmpWait     = 10 * time.Second
)

func cmpWaitRunning(t *testing.T, cl *ec2sdk.Client, ids ...string) {
	t.Helper()
	w := ec2sdk.NewInstanceRunningWaiter(cl, func(o *ec2sdk.InstanceRunningWaiterOptions) { o.MinDelay, o.MaxDelay = cmpMinDelay, cmpMaxDelay })
	if err := w.Wait(context.Background(), &ec2sdk.DescribeInstancesInput{InstanceIds: ids}, cmpWait); err != nil {
		t.Fatal(err)
	}
}

func cmpWaitStopped(t *testing.T, cl *ec2sdk.Client, ids ...string) {
	t.Helper()
	w := ec2sdk.NewInstanceStoppedWaiter(cl, func(o *ec2sdk.InstanceStoppedWaiterOptions) { o.MinDelay, o.MaxDelay = cmpMinDelay, cmpMaxDelay })
	if err := w.Wait(context.Background(), &ec2sdk.DescribeInstancesInput{InstanceIds: ids}, cmpWait); err != nil {
		t.Fatal(err)
	}
}

func cmpWaitTerminated(t *testing.T, cl *ec2sdk.Client, ids ...string) {
	t.Helper()
	w := ec2sdk.NewInstanceTerminatedWaiter(cl, func(o *ec2sdk.InstanceTerminatedWaiterOptions) { o.MinDelay, o.MaxDelay = cmpMinDelay, cmpMaxDelay })
	if err := w.Wait(context.Background(), &ec2sdk.DescribeInstancesInput{InstanceIds: ids}, cmpWait); err != nil {
		t.Fatal(err)
	}
}

// cmpSubnet makes a VPC and a subnet of the given size (no public IPs on
// launch). It returns "" when VPCs cannot be made yet (CreateVpc is another
// area's and may not be implemented).
func cmpSubnet(t *testing.T, cl *ec2sdk.Client, vpcCIDR, subnetCIDR string) (vpc, subnet string) {
	t.Helper()
	ctx := context.Background()
	v, err := cl.CreateVpc(ctx, &ec2sdk.CreateVpcInput{CidrBlock: aws.String(vpcCIDR)})
	if apiCode(err) == "NotImplemented" {
		return "", ""
	}
	if err != nil {
		t.Fatal(err)
	}
	s := must[*ec2sdk.CreateSubnetOutput](t)(cl.CreateSubnet(ctx, &ec2sdk.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: aws.String(subnetCIDR), AvailabilityZone: aws.String("ap-northeast-2b")}))
	return aws.ToString(v.Vpc.VpcId), aws.ToString(s.Subnet.SubnetId)
}

func TestInstanceRunCLIUserData(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	cl := c.client()
	ami := cmpAL2023(t, cl)
	_, subnet := cmpSubnet(t, cl, "10.20.0.0/16", "10.20.1.0/24")
	private := subnet != ""
	if !private {
		t.Log("CreateVpc is not implemented yet: launching in the default VPC's default subnet")
	}
	dir := t.TempDir()
	script := "#!/bin/bash\nyum install -y nginx\nsystemctl enable --now nginx\n"
	path := filepath.Join(dir, "script.sh")
	if err := os.WriteFile(path, []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"ec2", "run-instances", "--image-id", ami, "--instance-type", "t3.micro", "--count", "1",
		"--user-data", "file://" + path, "--tag-specifications", "ResourceType=instance,Tags=[{Key=Name,Value=web}]"}
	if private {
		args = append(args, "--subnet-id", subnet)
	}
	var res struct {
		ReservationId, OwnerId string
		Instances              []struct {
			InstanceId, SubnetId, PrivateIpAddress, PublicIpAddress string
			State                                                   struct{ Name string }
			Tags                                                    []struct{ Key, Value string }
		}
	}
	if err := c.cli(t, &res, args...); err != nil {
		t.Fatal(err)
	}
	if len(res.Instances) != 1 || !strings.HasPrefix(res.ReservationId, "r-") || res.OwnerId != "000000000000" {
		t.Fatalf("reservation: %+v", res)
	}
	inst := res.Instances[0]
	if inst.State.Name != "pending" || inst.PrivateIpAddress == "" || len(inst.Tags) != 1 || inst.Tags[0].Value != "web" {
		t.Fatalf("instance: %+v", inst)
	}
	if private && (inst.SubnetId != subnet || inst.PublicIpAddress != "" || !strings.HasPrefix(inst.PrivateIpAddress, "10.20.1.")) {
		t.Fatalf("in a private subnet: %+v", inst)
	}
	if !private && inst.PublicIpAddress == "" {
		t.Fatalf("the default subnet maps public IPs: %+v", inst)
	}

	var attr struct {
		InstanceId string
		UserData   struct{ Value string }
	}
	if err := c.cli(t, &attr, "ec2", "describe-instance-attribute", "--instance-id", inst.InstanceId, "--attribute", "userData"); err != nil {
		t.Fatal(err)
	}
	got, err := base64.StdEncoding.DecodeString(attr.UserData.Value)
	if err != nil || string(got) != script {
		t.Fatalf("user data %q (%v), want %q", got, err, script)
	}

	// --associate-public-ip-address gives an instance of a private subnet a
	// public IP (the CLI sends it as network interface 0).
	if private {
		var pub struct {
			Instances []struct{ PublicIpAddress, PublicDnsName, SubnetId string }
		}
		if err := c.cli(t, &pub, "ec2", "run-instances", "--image-id", ami, "--instance-type", "t3.micro", "--subnet-id", subnet, "--associate-public-ip-address"); err != nil {
			t.Fatal(err)
		}
		if p := pub.Instances[0]; !strings.HasPrefix(p.PublicIpAddress, "198.1") || p.SubnetId != subnet || p.PublicDnsName != "" {
			t.Fatalf("public IP in a private subnet (a new VPC has no DNS hostnames): %+v", p)
		}
	}
	var all struct {
		Reservations []struct{ Instances []struct{ InstanceId string } }
	}
	if err := c.cli(t, &all, "ec2", "describe-instances", "--filters", "Name=tag:Name,Values=web", "Name=instance-state-name,Values=pending,running"); err != nil {
		t.Fatal(err)
	}
	if len(all.Reservations) != 1 || all.Reservations[0].Instances[0].InstanceId != inst.InstanceId {
		t.Fatalf("describe-instances by tag: %+v", all)
	}
	err = c.cli(t, nil, "ec2", "run-instances", "--image-id", "ami-0123456789abcdef0", "--count", "1")
	if err == nil || !strings.Contains(err.Error(), "InvalidAMIID.NotFound") {
		t.Fatalf("unknown AMI: %v", err)
	}
}

func TestInstanceLifecycle(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	cl := c.client()
	ctx := context.Background()
	inst := cmpRun(t, cl, &ec2sdk.RunInstancesInput{ImageId: aws.String(cmpAL2023(t, cl)), InstanceType: "t3.small", Placement: &types.Placement{AvailabilityZone: aws.String("ap-northeast-2c")}})
	id := aws.ToString(inst.InstanceId)
	if inst.State.Name != types.InstanceStateNamePending || aws.ToInt32(inst.State.Code) != 0 {
		t.Fatalf("a new instance is pending: %+v", inst.State)
	}
	if aws.ToString(inst.Placement.AvailabilityZone) != "ap-northeast-2c" || aws.ToString(inst.PublicIpAddress) == "" ||
		!strings.HasPrefix(aws.ToString(inst.PublicDnsName), "ec2-") || !strings.HasSuffix(aws.ToString(inst.PrivateDnsName), ".ap-northeast-2.compute.internal") ||
		len(inst.NetworkInterfaces) != 1 || len(inst.SecurityGroups) != 1 || aws.ToString(inst.SecurityGroups[0].GroupName) != "default" ||
		inst.Architecture != types.ArchitectureValuesX8664 || aws.ToString(inst.RootDeviceName) != "/dev/xvda" || inst.RootDeviceType != types.DeviceTypeEbs ||
		aws.ToInt32(inst.CpuOptions.CoreCount) != 1 || aws.ToInt32(inst.CpuOptions.ThreadsPerCore) != 2 ||
		inst.MetadataOptions.HttpTokens != types.HttpTokensStateRequired || inst.Monitoring.State != types.MonitoringStateDisabled ||
		len(inst.BlockDeviceMappings) != 1 || !strings.HasPrefix(aws.ToString(inst.BlockDeviceMappings[0].Ebs.VolumeId), "vol-") {
		t.Fatalf("instance: %+v", inst)
	}
	ni := inst.NetworkInterfaces[0]
	if aws.ToInt32(ni.Attachment.DeviceIndex) != 0 || ni.Attachment.Status != types.AttachmentStatusAttached || !aws.ToBool(ni.Attachment.DeleteOnTermination) ||
		aws.ToString(ni.MacAddress) == "" || aws.ToString(ni.Association.IpOwnerId) != "amazon" || aws.ToString(ni.Association.PublicIp) != aws.ToString(inst.PublicIpAddress) {
		t.Fatalf("interface: %+v", ni)
	}
	privateIP, publicIP := aws.ToString(inst.PrivateIpAddress), aws.ToString(inst.PublicIpAddress)
	eniID := aws.ToString(ni.NetworkInterfaceId)
	enis, err := cl.DescribeNetworkInterfaces(ctx, &ec2sdk.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eniID}})
	eniAPI := apiCode(err) != "NotImplemented"
	if eniAPI {
		if err != nil {
			t.Fatal(err)
		}
		e := enis.NetworkInterfaces[0]
		if e.Status != types.NetworkInterfaceStatusInUse || aws.ToString(e.Attachment.InstanceId) != id || !strings.HasPrefix(aws.ToString(e.Attachment.AttachmentId), "eni-attach-") ||
			aws.ToString(e.Association.PublicIp) != publicIP {
			t.Fatalf("the instance's interface: %+v", e)
		}
	}

	cmpWaitRunning(t, cl, id)
	running := cmpDescribe(t, cl, id)
	if running.StateReason != nil || aws.ToInt32(running.State.Code) != 16 || running.MetadataOptions.State != types.InstanceMetadataOptionsStateApplied {
		t.Fatalf("running: %+v %+v", running.State, running.StateReason)
	}
	status := must[*ec2sdk.DescribeInstanceStatusOutput](t)(cl.DescribeInstanceStatus(ctx, &ec2sdk.DescribeInstanceStatusInput{InstanceIds: []string{id}}))
	if len(status.InstanceStatuses) != 1 || status.InstanceStatuses[0].InstanceStatus.Status != types.SummaryStatusOk || status.InstanceStatuses[0].SystemStatus.Status != types.SummaryStatusOk {
		t.Fatalf("status: %+v", status.InstanceStatuses)
	}
	must[*ec2sdk.RebootInstancesOutput](t)(cl.RebootInstances(ctx, &ec2sdk.RebootInstancesInput{InstanceIds: []string{id}}))
	if st := cmpDescribe(t, cl, id).State.Name; st != types.InstanceStateNameRunning {
		t.Fatalf("after a reboot: %s", st)
	}

	stop := must[*ec2sdk.StopInstancesOutput](t)(cl.StopInstances(ctx, &ec2sdk.StopInstancesInput{InstanceIds: []string{id}}))
	if ch := stop.StoppingInstances[0]; ch.PreviousState.Name != types.InstanceStateNameRunning || ch.CurrentState.Name != types.InstanceStateNameStopping || aws.ToInt32(ch.CurrentState.Code) != 64 {
		t.Fatalf("stop: %+v", ch)
	}
	cmpWaitStopped(t, cl, id)
	stopped := cmpDescribe(t, cl, id)
	if aws.ToString(stopped.PrivateIpAddress) != privateIP || stopped.PublicIpAddress != nil || aws.ToString(stopped.PublicDnsName) != "" ||
		aws.ToString(stopped.StateReason.Code) != "Client.UserInitiatedShutdown" || !strings.HasPrefix(aws.ToString(stopped.StateTransitionReason), "User initiated (") {
		t.Fatalf("stopped: %+v", stopped)
	}
	none := must[*ec2sdk.DescribeInstanceStatusOutput](t)(cl.DescribeInstanceStatus(ctx, &ec2sdk.DescribeInstanceStatusInput{InstanceIds: []string{id}}))
	all := must[*ec2sdk.DescribeInstanceStatusOutput](t)(cl.DescribeInstanceStatus(ctx, &ec2sdk.DescribeInstanceStatusInput{InstanceIds: []string{id}, IncludeAllInstances: aws.Bool(true)}))
	if len(none.InstanceStatuses) != 0 || len(all.InstanceStatuses) != 1 || all.InstanceStatuses[0].InstanceState.Name != types.InstanceStateNameStopped {
		t.Fatalf("status of a stopped instance: %+v / %+v", none.InstanceStatuses, all.InstanceStatuses)
	}
	again := must[*ec2sdk.StopInstancesOutput](t)(cl.StopInstances(ctx, &ec2sdk.StopInstancesInput{InstanceIds: []string{id}}))
	if ch := again.StoppingInstances[0]; ch.PreviousState.Name != types.InstanceStateNameStopped || ch.CurrentState.Name != types.InstanceStateNameStopped {
		t.Fatalf("stopping a stopped instance: %+v", ch)
	}

	// While stopped, the type and user data may change.
	must[*ec2sdk.ModifyInstanceAttributeOutput](t)(cl.ModifyInstanceAttribute(ctx, &ec2sdk.ModifyInstanceAttributeInput{InstanceId: aws.String(id), InstanceType: &types.AttributeValue{Value: aws.String("m5.large")}}))
	must[*ec2sdk.ModifyInstanceAttributeOutput](t)(cl.ModifyInstanceAttribute(ctx, &ec2sdk.ModifyInstanceAttributeInput{InstanceId: aws.String(id), UserData: &types.SecureBlobAttributeValue{Value: []byte("#!/bin/sh\necho v2\n")}}))
	ud := must[*ec2sdk.DescribeInstanceAttributeOutput](t)(cl.DescribeInstanceAttribute(ctx, &ec2sdk.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: types.InstanceAttributeNameUserData}))
	if raw, _ := base64.StdEncoding.DecodeString(aws.ToString(ud.UserData.Value)); string(raw) != "#!/bin/sh\necho v2\n" {
		t.Fatalf("user data: %q", raw)
	}

	start := must[*ec2sdk.StartInstancesOutput](t)(cl.StartInstances(ctx, &ec2sdk.StartInstancesInput{InstanceIds: []string{id}}))
	if ch := start.StartingInstances[0]; ch.PreviousState.Name != types.InstanceStateNameStopped || ch.CurrentState.Name != types.InstanceStateNamePending {
		t.Fatalf("start: %+v", ch)
	}
	cmpWaitRunning(t, cl, id)
	restarted := cmpDescribe(t, cl, id)
	if aws.ToString(restarted.PrivateIpAddress) != privateIP || aws.ToString(restarted.PublicIpAddress) == "" || aws.ToString(restarted.PublicIpAddress) == publicIP ||
		restarted.InstanceType != "m5.large" || aws.ToInt32(restarted.CpuOptions.CoreCount) != 1 {
		t.Fatalf("restarted: private %s (was %s), public %s (was %s), type %s", aws.ToString(restarted.PrivateIpAddress), privateIP,
			aws.ToString(restarted.PublicIpAddress), publicIP, restarted.InstanceType)
	}

	term := must[*ec2sdk.TerminateInstancesOutput](t)(cl.TerminateInstances(ctx, &ec2sdk.TerminateInstancesInput{InstanceIds: []string{id}}))
	if ch := term.TerminatingInstances[0]; ch.PreviousState.Name != types.InstanceStateNameRunning || ch.CurrentState.Name != types.InstanceStateNameShuttingDown || aws.ToInt32(ch.CurrentState.Code) != 32 {
		t.Fatalf("terminate: %+v", ch)
	}
	cmpWaitTerminated(t, cl, id)
	gone := cmpDescribe(t, cl, id)
	if aws.ToInt32(gone.State.Code) != 48 || len(gone.NetworkInterfaces) != 0 || gone.PrivateIpAddress != nil || gone.PublicIpAddress != nil {
		t.Fatalf("terminated: %+v", gone)
	}
	if eniAPI {
		_, err := cl.DescribeNetworkInterfaces(ctx, &ec2sdk.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{eniID}})
		wantCode(t, err, "InvalidNetworkInterfaceID.NotFound")
	}
	twice := must[*ec2sdk.TerminateInstancesOutput](t)(cl.TerminateInstances(ctx, &ec2sdk.TerminateInstancesInput{InstanceIds: []string{id}}))
	if ch := twice.TerminatingInstances[0]; ch.PreviousState.Name != types.InstanceStateNameTerminated || ch.CurrentState.Name != types.InstanceStateNameTerminated {
		t.Fatalf("terminating a terminated instance: %+v", ch)
	}
	// Its address is free again: a new instance may take it.
	reuse := cmpRun(t, cl, &ec2sdk.RunInstancesInput{ImageId: inst.ImageId, InstanceType: "t3.micro", SubnetId: inst.SubnetId, PrivateIpAddress: aws.String(privateIP)})
	if aws.ToString(reuse.PrivateIpAddress) != privateIP {
		t.Fatalf("reuse: %s", aws.ToString(reuse.PrivateIpAddress))
	}
}

func TestInstanceHundred(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	cl := c.client()
	ctx := context.Background()
	ami := cmpAL2023(t, cl)
	_, subnet := cmpSubnet(t, cl, "10.30.0.0/16", "10.30.7.0/24")
	in := &ec2sdk.RunInstancesInput{
		ImageId: aws.String(ami), InstanceType: "t3.nano", MinCount: aws.Int32(100), MaxCount: aws.Int32(100),
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("fleet"), Value: aws.String("blue")}}}},
	}
	if subnet != "" {
		in.SubnetId = aws.String(subnet)
	} else {
		t.Log("CreateSubnet is not implemented yet: launching in a default /20 subnet")
	}
	res := must[*ec2sdk.RunInstancesOutput](t)(cl.RunInstances(ctx, in))
	if len(res.Instances) != 100 {
		t.Fatalf("%d instances", len(res.Instances))
	}
	ips := map[string]bool{}
	for i, inst := range res.Instances {
		ips[aws.ToString(inst.PrivateIpAddress)] = true
		if aws.ToInt32(inst.AmiLaunchIndex) != int32(i) {
			t.Fatalf("launch index %d at %d", aws.ToInt32(inst.AmiLaunchIndex), i)
		}
	}
	if len(ips) != 100 {
		t.Fatalf("%d distinct private IPs", len(ips))
	}
	// Another, untagged, which the filter must leave out.
	cmpRun(t, cl, &ec2sdk.RunInstancesInput{ImageId: aws.String(ami), InstanceType: "t3.nano", SubnetId: res.Instances[0].SubnetId})

	p := ec2sdk.NewDescribeInstancesPaginator(cl, &ec2sdk.DescribeInstancesInput{
		MaxResults: aws.Int32(10),
		Filters:    []types.Filter{{Name: aws.String("tag:fleet"), Values: []string{"blue"}}},
	})
	seen, pages := map[string]bool{}, 0
	for p.HasMorePages() {
		page := must[*ec2sdk.DescribeInstancesOutput](t)(p.NextPage(ctx))
		pages++
		n := 0
		for _, r := range page.Reservations {
			if aws.ToString(r.ReservationId) != aws.ToString(res.ReservationId) {
				t.Fatalf("reservation %s", aws.ToString(r.ReservationId))
			}
			for _, inst := range r.Instances {
				seen[aws.ToString(inst.InstanceId)] = true
				n++
			}
		}
		if n > 10 {
			t.Fatalf("page of %d", n)
		}
	}
	if len(seen) != 100 || pages != 10 {
		t.Fatalf("%d instances over %d pages", len(seen), pages)
	}
	cmpWaitRunning(t, cl, aws.ToString(res.Instances[0].InstanceId), aws.ToString(res.Instances[99].InstanceId))
	if subnet == "" {
		return
	}
	// The /24 has 251 addresses, 101 taken: MaxCount 500 launches the 150
	// left; then not even one fits.
	more := must[*ec2sdk.RunInstancesOutput](t)(cl.RunInstances(ctx, &ec2sdk.RunInstancesInput{ImageId: aws.String(ami), InstanceType: "t3.nano", SubnetId: aws.String(subnet), MinCount: aws.Int32(1), MaxCount: aws.Int32(500)}))
	if len(more.Instances) != 150 {
		t.Fatalf("launched %d to fill the subnet", len(more.Instances))
	}
	_, err := cl.RunInstances(ctx, &ec2sdk.RunInstancesInput{ImageId: aws.String(ami), InstanceType: "t3.nano", SubnetId: aws.String(subnet), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	wantCode(t, err, "InsufficientFreeAddressesInSubnet")
}

func TestInstanceDescribeAndAttributes(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	cl := c.client()
	ctx := context.Background()
	ami := cmpAL2023(t, cl)
	createProfile(t, c, "/", "web-role", "")
	a := cmpRun(t, cl, &ec2sdk.RunInstancesInput{
		ImageId: aws.String(ami), InstanceType: "t3.micro",
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("web-role")},
		MetadataOptions:    &types.InstanceMetadataOptionsRequest{HttpTokens: types.HttpTokensStateOptional, HttpPutResponseHopLimit: aws.Int32(3)},
		Monitoring:         &types.RunInstancesMonitoringEnabled{Enabled: aws.Bool(true)},
		BlockDeviceMappings: []types.BlockDeviceMapping{
			{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(20), VolumeType: types.VolumeTypeGp3}},
			{DeviceName: aws.String("/dev/sdf"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(100), DeleteOnTermination: aws.Bool(false)}},
		},
		DisableApiTermination:             aws.Bool(true),
		InstanceInitiatedShutdownBehavior: types.ShutdownBehaviorTerminate,
		TagSpecifications:                 []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("tier"), Value: aws.String("web")}}}},
	})
	b := cmpRun(t, cl, &ec2sdk.RunInstancesInput{ImageId: aws.String(cmpImage(t, cl, "debian-12-arm64-*")), InstanceType: "t4g.nano", Placement: &types.Placement{AvailabilityZone: aws.String("ap-northeast-2b")}})
	aID, bID := aws.ToString(a.InstanceId), aws.ToString(b.InstanceId)
	if arn := aws.ToString(a.IamInstanceProfile.Arn); arn != "arn:aws:iam::000000000000:instance-profile/web-role" || !strings.HasPrefix(aws.ToString(a.IamInstanceProfile.Id), "AIPA") {
		t.Fatalf("profile: %+v", a.IamInstanceProfile)
	}
	if a.MetadataOptions.HttpTokens != types.HttpTokensStateOptional || aws.ToInt32(a.MetadataOptions.HttpPutResponseHopLimit) != 3 || a.Monitoring.State != types.MonitoringStateEnabled || len(a.BlockDeviceMappings) != 2 {
		t.Fatalf("options: %+v %+v %+v", a.MetadataOptions, a.Monitoring, a.BlockDeviceMappings)
	}
	if b.MetadataOptions.HttpTokens != types.HttpTokensStateOptional || aws.ToString(b.RootDeviceName) != "/dev/xvda" {
		t.Fatalf("debian defaults: %+v", b.MetadataOptions)
	}

	for _, f := range []struct {
		filter types.Filter
		want   []string
	}{
		{types.Filter{Name: aws.String("instance-id"), Values: []string{aID}}, []string{aID}},
		{types.Filter{Name: aws.String("instance-type"), Values: []string{"t4g.*"}}, []string{bID}},
		{types.Filter{Name: aws.String("availability-zone"), Values: []string{"ap-northeast-2b"}}, []string{bID}},
		{types.Filter{Name: aws.String("architecture"), Values: []string{"x86_64"}}, []string{aID}},
		{types.Filter{Name: aws.String("image-id"), Values: []string{ami}}, []string{aID}},
		{types.Filter{Name: aws.String("vpc-id"), Values: []string{aws.ToString(a.VpcId)}}, []string{aID, bID}},
		{types.Filter{Name: aws.String("subnet-id"), Values: []string{aws.ToString(b.SubnetId)}}, []string{bID}},
		{types.Filter{Name: aws.String("private-ip-address"), Values: []string{aws.ToString(a.PrivateIpAddress)}}, []string{aID}},
		{types.Filter{Name: aws.String("ip-address"), Values: []string{aws.ToString(b.PublicIpAddress)}}, []string{bID}},
		{types.Filter{Name: aws.String("private-dns-name"), Values: []string{aws.ToString(a.PrivateDnsName)}}, []string{aID}},
		{types.Filter{Name: aws.String("dns-name"), Values: []string{aws.ToString(b.PublicDnsName)}}, []string{bID}},
		{types.Filter{Name: aws.String("instance.group-name"), Values: []string{"default"}}, []string{aID, bID}},
		{types.Filter{Name: aws.String("instance.group-id"), Values: []string{aws.ToString(a.SecurityGroups[0].GroupId)}}, []string{aID, bID}},
		{types.Filter{Name: aws.String("network-interface.network-interface-id"), Values: []string{aws.ToString(a.NetworkInterfaces[0].NetworkInterfaceId)}}, []string{aID}},
		{types.Filter{Name: aws.String("iam-instance-profile.arn"), Values: []string{"*:instance-profile/web-role"}}, []string{aID}},
		{types.Filter{Name: aws.String("instance-state-name"), Values: []string{"pending", "running"}}, []string{aID, bID}},
		{types.Filter{Name: aws.String("instance-state-code"), Values: []string{"48"}}, nil},
		{types.Filter{Name: aws.String("launch-time"), Values: []string{a.LaunchTime.UTC().Format("2006-01-02") + "*"}}, []string{aID, bID}},
		{types.Filter{Name: aws.String("reservation-id"), Values: []string{"r-nothing"}}, nil},
		{types.Filter{Name: aws.String("tag:tier"), Values: []string{"web"}}, []string{aID}},
		{types.Filter{Name: aws.String("tag-key"), Values: []string{"tier"}}, []string{aID}},
		{types.Filter{Name: aws.String("monitoring-state"), Values: []string{"enabled"}}, []string{aID}},
		{types.Filter{Name: aws.String("block-device-mapping.device-name"), Values: []string{"/dev/sdf"}}, []string{aID}},
		{types.Filter{Name: aws.String("owner-id"), Values: []string{"000000000000"}}, []string{aID, bID}},
	} {
		out := must[*ec2sdk.DescribeInstancesOutput](t)(cl.DescribeInstances(ctx, &ec2sdk.DescribeInstancesInput{Filters: []types.Filter{f.filter}}))
		var got []string
		for _, r := range out.Reservations {
			for _, i := range r.Instances {
				got = append(got, aws.ToString(i.InstanceId))
			}
		}
		if !equal(got, f.want) {
			t.Errorf("%s=%v: got %v, want %v", aws.ToString(f.filter.Name), f.filter.Values, got, f.want)
		}
	}
	empty := must[*ec2sdk.DescribeInstancesOutput](t)(cl.DescribeInstances(ctx, &ec2sdk.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("key-name"), Values: []string{"none"}}}}))
	if empty.Reservations == nil {
		t.Fatal("no match must be an empty list")
	}

	attr := func(name types.InstanceAttributeName) *ec2sdk.DescribeInstanceAttributeOutput {
		return must[*ec2sdk.DescribeInstanceAttributeOutput](t)(cl.DescribeInstanceAttribute(ctx, &ec2sdk.DescribeInstanceAttributeInput{InstanceId: aws.String(aID), Attribute: name}))
	}
	if v := attr(types.InstanceAttributeNameInstanceType).InstanceType; aws.ToString(v.Value) != "t3.micro" {
		t.Fatalf("instanceType: %+v", v)
	}
	if v := attr(types.InstanceAttributeNameDisableApiTermination).DisableApiTermination; !aws.ToBool(v.Value) {
		t.Fatal("disableApiTermination")
	}
	if v := attr(types.InstanceAttributeNameInstanceInitiatedShutdownBehavior).InstanceInitiatedShutdownBehavior; aws.ToString(v.Value) != "terminate" {
		t.Fatalf("shutdown behavior: %+v", v)
	}
	if v := attr(types.InstanceAttributeNameRootDeviceName).RootDeviceName; aws.ToString(v.Value) != "/dev/xvda" {
		t.Fatalf("root device: %+v", v)
	}
	if v := attr(types.InstanceAttributeNameBlockDeviceMapping).BlockDeviceMappings; len(v) != 2 || aws.ToBool(v[1].Ebs.DeleteOnTermination) {
		t.Fatalf("block devices: %+v", v)
	}
	if v := attr(types.InstanceAttributeNameGroupSet).Groups; len(v) != 1 {
		t.Fatalf("groups: %+v", v)
	}
	if v := attr(types.InstanceAttributeNameUserData).UserData; v == nil || v.Value != nil {
		t.Fatalf("no user data is an empty value: %+v", v)
	}

	// Protection, then its removal.
	_, err := cl.TerminateInstances(ctx, &ec2sdk.TerminateInstancesInput{InstanceIds: []string{aID}})
	wantCode(t, err, "OperationNotPermitted")
	must[*ec2sdk.ModifyInstanceAttributeOutput](t)(cl.ModifyInstanceAttribute(ctx, &ec2sdk.ModifyInstanceAttributeInput{InstanceId: aws.String(aID), DisableApiTermination: &types.AttributeBooleanValue{Value: aws.Bool(false)}}))
	must[*ec2sdk.ModifyInstanceAttributeOutput](t)(cl.ModifyInstanceAttribute(ctx, &ec2sdk.ModifyInstanceAttributeInput{InstanceId: aws.String(aID), SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(false)}}))
	if v := attr(types.InstanceAttributeNameSourceDestCheck).SourceDestCheck; aws.ToBool(v.Value) {
		t.Fatal("sourceDestCheck still on")
	}
	if d := cmpDescribe(t, cl, aID); aws.ToBool(d.SourceDestCheck) || aws.ToBool(d.NetworkInterfaces[0].SourceDestCheck) {
		t.Fatalf("source/dest check on the instance and its interface: %v %v", aws.ToBool(d.SourceDestCheck), aws.ToBool(d.NetworkInterfaces[0].SourceDestCheck))
	}
	// The Attribute/Value form.
	must[*ec2sdk.ModifyInstanceAttributeOutput](t)(cl.ModifyInstanceAttribute(ctx, &ec2sdk.ModifyInstanceAttributeInput{InstanceId: aws.String(aID), Attribute: types.InstanceAttributeNameInstanceInitiatedShutdownBehavior, Value: aws.String("stop")}))
	if v := attr(types.InstanceAttributeNameInstanceInitiatedShutdownBehavior).InstanceInitiatedShutdownBehavior; aws.ToString(v.Value) != "stop" {
		t.Fatalf("shutdown behavior: %+v", v)
	}
	// Groups: a new group of the VPC replaces the default, if groups can
	// be made yet.
	if g, err := cl.CreateSecurityGroup(ctx, &ec2sdk.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web"), VpcId: a.VpcId}); err == nil {
		must[*ec2sdk.ModifyInstanceAttributeOutput](t)(cl.ModifyInstanceAttribute(ctx, &ec2sdk.ModifyInstanceAttributeInput{InstanceId: aws.String(aID), Groups: []string{aws.ToString(g.GroupId)}}))
		if d := cmpDescribe(t, cl, aID); len(d.SecurityGroups) != 1 || aws.ToString(d.SecurityGroups[0].GroupName) != "web" {
			t.Fatalf("groups: %+v", d.SecurityGroups)
		}
	} else if apiCode(err) != "NotImplemented" {
		t.Fatal(err)
	}
	console := must[*ec2sdk.GetConsoleOutputOutput](t)(cl.GetConsoleOutput(ctx, &ec2sdk.GetConsoleOutputInput{InstanceId: aws.String(bID)}))
	if aws.ToString(console.InstanceId) != bID || console.Timestamp == nil {
		t.Fatalf("console: %+v", console)
	}
	must[*ec2sdk.TerminateInstancesOutput](t)(cl.TerminateInstances(ctx, &ec2sdk.TerminateInstancesInput{InstanceIds: []string{aID, bID}}))
	cmpWaitTerminated(t, cl, aID, bID)
}

func TestInstanceClientTokenAndDryRun(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	cl := c.client()
	ctx := context.Background()
	ami := cmpAL2023(t, cl)
	in := &ec2sdk.RunInstancesInput{ImageId: aws.String(ami), InstanceType: "t3.micro", MinCount: aws.Int32(2), MaxCount: aws.Int32(2), ClientToken: aws.String("launch-1")}
	first := must[*ec2sdk.RunInstancesOutput](t)(cl.RunInstances(ctx, in))
	second := must[*ec2sdk.RunInstancesOutput](t)(cl.RunInstances(ctx, in))
	if aws.ToString(first.ReservationId) != aws.ToString(second.ReservationId) || len(second.Instances) != 2 ||
		aws.ToString(first.Instances[1].InstanceId) != aws.ToString(second.Instances[1].InstanceId) || aws.ToString(second.Instances[0].ClientToken) != "launch-1" {
		t.Fatalf("same token, other result: %+v / %+v", first, second)
	}
	id := aws.ToString(first.Instances[0].InstanceId)
	in.InstanceType = "t3.large"
	_, err := cl.RunInstances(ctx, in)
	wantCode(t, err, "IdempotentParameterMismatch")
	cmpWaitRunning(t, cl, id)

	count := func() int {
		out := must[*ec2sdk.DescribeInstancesOutput](t)(cl.DescribeInstances(ctx, &ec2sdk.DescribeInstancesInput{}))
		n := 0
		for _, r := range out.Reservations {
			n += len(r.Instances)
		}
		return n
	}
	dry := aws.Bool(true)
	for name, call := range map[string]func() error{
		"RunInstances": func() error {
			_, err := cl.RunInstances(ctx, &ec2sdk.RunInstancesInput{ImageId: aws.String(ami), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), DryRun: dry})
			return err
		},
		"StopInstances": func() error {
			_, err := cl.StopInstances(ctx, &ec2sdk.StopInstancesInput{InstanceIds: []string{id}, DryRun: dry})
			return err
		},
		"TerminateInstances": func() error {
			_, err := cl.TerminateInstances(ctx, &ec2sdk.TerminateInstancesInput{InstanceIds: []string{id}, DryRun: dry})
			return err
		},
		"DescribeInstances": func() error {
			_, err := cl.DescribeInstances(ctx, &ec2sdk.DescribeInstancesInput{DryRun: dry})
			return err
		},
		"ModifyInstanceAttribute": func() error {
			_, err := cl.ModifyInstanceAttribute(ctx, &ec2sdk.ModifyInstanceAttributeInput{InstanceId: aws.String(id), DisableApiStop: &types.AttributeBooleanValue{Value: aws.Bool(true)}, DryRun: dry})
			return err
		},
		"CreateLaunchTemplate": func() error {
			_, err := cl.CreateLaunchTemplate(ctx, &ec2sdk.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("dry"), LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(ami)}, DryRun: dry})
			return err
		},
	} {
		if err := call(); apiCode(err) != "DryRunOperation" {
			t.Errorf("%s with DryRun: %v", name, err)
		}
	}
	// A dry run checks: a bad request fails as it would for real.
	_, err = cl.RunInstances(ctx, &ec2sdk.RunInstancesInput{ImageId: aws.String("ami-0123456789abcdef0"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), DryRun: dry})
	wantCode(t, err, "InvalidAMIID.NotFound")
	if n := count(); n != 2 {
		t.Fatalf("%d instances after dry runs", n)
	}
	if st := cmpDescribe(t, cl, id).State.Name; st == types.InstanceStateNameStopping || st == types.InstanceStateNameShuttingDown {
		t.Fatalf("a dry run changed the state: %s", st)
	}
	lts := must[*ec2sdk.DescribeLaunchTemplatesOutput](t)(cl.DescribeLaunchTemplates(ctx, &ec2sdk.DescribeLaunchTemplatesInput{}))
	if len(lts.LaunchTemplates) != 0 {
		t.Fatal("a dry run made a launch template")
	}
}

func TestInstanceElasticIPSurvivesTermination(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	cl := c.client()
	ctx := context.Background()
	inst := cmpRun(t, cl, &ec2sdk.RunInstancesInput{ImageId: aws.String(cmpAL2023(t, cl)), InstanceType: "t3.micro"})
	id := aws.ToString(inst.InstanceId)
	cmpWaitRunning(t, cl, id)
	eip, err := cl.AllocateAddress(ctx, &ec2sdk.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if apiCode(err) == "NotImplemented" {
		t.Skip("AllocateAddress is not implemented yet")
	}
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.AssociateAddress(ctx, &ec2sdk.AssociateAddressInput{AllocationId: eip.AllocationId, InstanceId: aws.String(id)}); err != nil {
		if apiCode(err) == "NotImplemented" {
			t.Skip("AssociateAddress is not implemented yet")
		}
		t.Fatal(err)
	}
	if got := aws.ToString(cmpDescribe(t, cl, id).PublicIpAddress); got != aws.ToString(eip.PublicIp) {
		t.Fatalf("public IP %s, want the Elastic IP %s", got, aws.ToString(eip.PublicIp))
	}
	must[*ec2sdk.StopInstancesOutput](t)(cl.StopInstances(ctx, &ec2sdk.StopInstancesInput{InstanceIds: []string{id}}))
	cmpWaitStopped(t, cl, id)
	if got := aws.ToString(cmpDescribe(t, cl, id).PublicIpAddress); got != aws.ToString(eip.PublicIp) {
		t.Fatalf("a stopped instance keeps its Elastic IP: %q", got)
	}
	must[*ec2sdk.StartInstancesOutput](t)(cl.StartInstances(ctx, &ec2sdk.StartInstancesInput{InstanceIds: []string{id}}))
	cmpWaitRunning(t, cl, id)
	if got := aws.ToString(cmpDescribe(t, cl, id).PublicIpAddress); got != aws.ToString(eip.PublicIp) {
		t.Fatalf("a started instance keeps its Elastic IP: %q", got)
	}
	must[*ec2sdk.TerminateInstancesOutput](t)(cl.TerminateInstances(ctx, &ec2sdk.TerminateInstancesInput{InstanceIds: []string{id}}))
	cmpWaitTerminated(t, cl, id)
	addrs := must[*ec2sdk.DescribeAddressesOutput](t)(cl.DescribeAddresses(ctx, &ec2sdk.DescribeAddressesInput{AllocationIds: []string{aws.ToString(eip.AllocationId)}}))
	if len(addrs.Addresses) != 1 {
		t.Fatalf("the Elastic IP stays allocated: %+v", addrs.Addresses)
	}
	if a := addrs.Addresses[0]; a.InstanceId != nil || a.AssociationId != nil || a.NetworkInterfaceId != nil {
		t.Fatalf("the Elastic IP is disassociated: %+v", a)
	}
}

func TestInstanceBadInput(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	cl := c.client()
	ctx := context.Background()
	ami := cmpAL2023(t, cl)
	base := func() *ec2sdk.RunInstancesInput {
		return &ec2sdk.RunInstancesInput{ImageId: aws.String(ami), InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}
	}
	taken := cmpRun(t, cl, base())
	subnet := aws.ToString(taken.SubnetId)
	otherVPC, _ := cmpSubnet(t, cl, "10.40.0.0/16", "10.40.1.0/24")
	var foreignGroup string
	if otherVPC != "" {
		g := must[*ec2sdk.CreateSecurityGroupOutput](t)(cl.CreateSecurityGroup(ctx, &ec2sdk.CreateSecurityGroupInput{GroupName: aws.String("other"), Description: aws.String("other"), VpcId: aws.String(otherVPC)}))
		foreignGroup = aws.ToString(g.GroupId)
	}
	lt := must[*ec2sdk.CreateLaunchTemplateOutput](t)(cl.CreateLaunchTemplate(ctx, &ec2sdk.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String("bad-input"), LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(ami)},
	}))
	cases := []struct {
		name string
		edit func(*ec2sdk.RunInstancesInput)
		code string
	}{
		{"missing ImageId", func(in *ec2sdk.RunInstancesInput) { in.ImageId = nil }, "MissingParameter"},
		{"unknown AMI", func(in *ec2sdk.RunInstancesInput) { in.ImageId = aws.String("ami-0123456789abcdef0") }, "InvalidAMIID.NotFound"},
		{"malformed AMI", func(in *ec2sdk.RunInstancesInput) { in.ImageId = aws.String("ami-xyz") }, "InvalidAMIID.Malformed"},
		{"unknown instance type", func(in *ec2sdk.RunInstancesInput) { in.InstanceType = "t2.gigantic" }, "InvalidParameterValue"},
		{"arm64 type, x86_64 AMI", func(in *ec2sdk.RunInstancesInput) { in.InstanceType = "t4g.micro" }, "InvalidParameterValue"},
		{"MinCount > MaxCount", func(in *ec2sdk.RunInstancesInput) { in.MinCount, in.MaxCount = aws.Int32(3), aws.Int32(2) }, "InvalidParameterValue"},
		{"MaxCount 0", func(in *ec2sdk.RunInstancesInput) { in.MinCount, in.MaxCount = aws.Int32(0), aws.Int32(0) }, "InvalidParameterValue"},
		{"unknown subnet", func(in *ec2sdk.RunInstancesInput) { in.SubnetId = aws.String("subnet-0123456789abcdef0") }, "InvalidSubnetID.NotFound"},
		{"malformed subnet", func(in *ec2sdk.RunInstancesInput) { in.SubnetId = aws.String("subnet-zz") }, "InvalidSubnetID.Malformed"},
		{"unknown security group", func(in *ec2sdk.RunInstancesInput) { in.SecurityGroupIds = []string{"sg-0123456789abcdef0"} }, "InvalidGroup.NotFound"},
		{"unknown security group name", func(in *ec2sdk.RunInstancesInput) { in.SecurityGroups = []string{"nope"} }, "InvalidGroup.NotFound"},
		{"unknown key pair", func(in *ec2sdk.RunInstancesInput) { in.KeyName = aws.String("nokey") }, "InvalidKeyPair.NotFound"},
		{"private IP in use", func(in *ec2sdk.RunInstancesInput) {
			in.SubnetId, in.PrivateIpAddress = aws.String(subnet), taken.PrivateIpAddress
		}, "InvalidIPAddress.InUse"},
		{"private IP with count 2", func(in *ec2sdk.RunInstancesInput) {
			in.MinCount, in.MaxCount, in.SubnetId, in.PrivateIpAddress = aws.Int32(2), aws.Int32(2), aws.String(subnet), aws.String("172.31.0.200")
		}, "InvalidParameterCombination"},
		{"private IP outside the subnet", func(in *ec2sdk.RunInstancesInput) {
			in.SubnetId, in.PrivateIpAddress = aws.String(subnet), aws.String("10.99.0.5")
		}, "InvalidParameterValue"},
		{"user data not base64", func(in *ec2sdk.RunInstancesInput) { in.UserData = aws.String("#!/bin/sh not encoded") }, "InvalidUserData.Malformed"},
		{"user data over 16 KB", func(in *ec2sdk.RunInstancesInput) {
			in.UserData = aws.String(base64.StdEncoding.EncodeToString(make([]byte, 16*1024+1)))
		}, "InvalidParameterValue"},
		{"unknown zone", func(in *ec2sdk.RunInstancesInput) {
			in.Placement = &types.Placement{AvailabilityZone: aws.String("ap-northeast-2z")}
		}, "InvalidParameterValue"},
		{"zone other than the subnet's", func(in *ec2sdk.RunInstancesInput) {
			in.SubnetId, in.Placement = aws.String(subnet), &types.Placement{AvailabilityZone: aws.String("ap-northeast-2d")}
		}, "InvalidParameterValue"},
		{"unknown placement group", func(in *ec2sdk.RunInstancesInput) {
			in.Placement = &types.Placement{GroupName: aws.String("cluster-1")}
		}, "InvalidPlacementGroup.Unknown"},
		{"interfaces and a subnet", func(in *ec2sdk.RunInstancesInput) {
			in.SubnetId = aws.String(subnet)
			in.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0), SubnetId: aws.String(subnet)}}
		}, "InvalidParameterCombination"},
		{"interfaces without index 0", func(in *ec2sdk.RunInstancesInput) {
			in.NetworkInterfaces = []types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(1), SubnetId: aws.String(subnet)}}
		}, "InvalidParameterValue"},
		{"bad shutdown behavior", func(in *ec2sdk.RunInstancesInput) { in.InstanceInitiatedShutdownBehavior = "hibernate" }, "InvalidParameterValue"},
		{"tags for a vpc", func(in *ec2sdk.RunInstancesInput) {
			in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeVpc, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}}
		}, "InvalidParameterValue"},
		{"reserved tag key", func(in *ec2sdk.RunInstancesInput) {
			in.TagSpecifications = []types.TagSpecification{{ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("v")}}}}
		}, "InvalidParameterValue"},
		{"bad HttpTokens", func(in *ec2sdk.RunInstancesInput) {
			in.MetadataOptions = &types.InstanceMetadataOptionsRequest{HttpTokens: "sometimes"}
		}, "InvalidParameterValue"},
		{"hop limit 100", func(in *ec2sdk.RunInstancesInput) {
			in.MetadataOptions = &types.InstanceMetadataOptionsRequest{HttpPutResponseHopLimit: aws.Int32(100)}
		}, "InvalidParameterValue"},
		{"root volume smaller than its snapshot", func(in *ec2sdk.RunInstancesInput) {
			in.BlockDeviceMappings = []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/xvda"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(4)}}}
		}, "InvalidBlockDeviceMapping"},
		{"bad volume type", func(in *ec2sdk.RunInstancesInput) {
			in.BlockDeviceMappings = []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sdf"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(4), VolumeType: "floppy"}}}
		}, "InvalidParameterValue"},
		{"bad instance profile ARN", func(in *ec2sdk.RunInstancesInput) {
			in.IamInstanceProfile = &types.IamInstanceProfileSpecification{Arn: aws.String("arn:aws:iam::123:role/x")}
		}, "InvalidParameterValue"},
		{"more than the subnet holds", func(in *ec2sdk.RunInstancesInput) {
			in.SubnetId, in.MinCount, in.MaxCount = aws.String(subnet), aws.Int32(5000), aws.Int32(5000)
		}, "InsufficientFreeAddressesInSubnet"},
		{"over the instance limit", func(in *ec2sdk.RunInstancesInput) {
			in.SubnetId, in.MinCount, in.MaxCount = aws.String(subnet), aws.Int32(1001), aws.Int32(1001)
		}, "InstanceLimitExceeded"},
		{"unknown launch template id", func(in *ec2sdk.RunInstancesInput) {
			in.LaunchTemplate = &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String("lt-0123456789abcdef0")}
		}, "InvalidLaunchTemplateId.NotFound"},
		{"unknown launch template name", func(in *ec2sdk.RunInstancesInput) {
			in.LaunchTemplate = &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("nope")}
		}, "InvalidLaunchTemplateName.NotFoundException"},
		{"unknown launch template version", func(in *ec2sdk.RunInstancesInput) {
			in.LaunchTemplate = &types.LaunchTemplateSpecification{LaunchTemplateId: lt.LaunchTemplate.LaunchTemplateId, Version: aws.String("7")}
		}, "InvalidLaunchTemplateId.VersionNotFound"},
	}
	if foreignGroup != "" {
		cases = append(cases, struct {
			name string
			edit func(*ec2sdk.RunInstancesInput)
			code string
		}{"security group of another VPC", func(in *ec2sdk.RunInstancesInput) {
			in.SubnetId, in.SecurityGroupIds = aws.String(subnet), []string{foreignGroup}
		}, "InvalidParameter"})
	} else {
		t.Log("CreateVpc is not implemented yet: the case of a group of another VPC is left out")
	}
	for _, tc := range cases {
		in := base()
		tc.edit(in)
		_, err := cl.RunInstances(ctx, in)
		if apiCode(err) != tc.code {
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
		}
	}
	out := must[*ec2sdk.DescribeInstancesOutput](t)(cl.DescribeInstances(ctx, &ec2sdk.DescribeInstancesInput{}))
	if len(out.Reservations) != 1 {
		t.Fatalf("failed launches left instances: %d reservations", len(out.Reservations))
	}

	// The state machine and the other calls.
	id := aws.ToString(taken.InstanceId)
	protected := cmpRun(t, cl, &ec2sdk.RunInstancesInput{ImageId: aws.String(ami), InstanceType: "t3.micro", DisableApiTermination: aws.Bool(true), DisableApiStop: aws.Bool(true)})
	pid := aws.ToString(protected.InstanceId)
	dead := cmpRun(t, cl, base())
	did := aws.ToString(dead.InstanceId)
	must[*ec2sdk.TerminateInstancesOutput](t)(cl.TerminateInstances(ctx, &ec2sdk.TerminateInstancesInput{InstanceIds: []string{did}}))
	cmpWaitTerminated(t, cl, did)
	cmpWaitRunning(t, cl, id, pid)
	calls := []struct {
		name string
		call func() error
		code string
	}{
		{"start a terminated instance", func() error {
			_, err := cl.StartInstances(ctx, &ec2sdk.StartInstancesInput{InstanceIds: []string{did}})
			return err
		}, "IncorrectInstanceState"},
		{"stop a terminated instance", func() error {
			_, err := cl.StopInstances(ctx, &ec2sdk.StopInstancesInput{InstanceIds: []string{did}})
			return err
		}, "IncorrectInstanceState"},
		{"reboot a terminated instance", func() error {
			_, err := cl.RebootInstances(ctx, &ec2sdk.RebootInstancesInput{InstanceIds: []string{did}})
			return err
		}, "IncorrectInstanceState"},
		{"terminate a protected instance", func() error {
			_, err := cl.TerminateInstances(ctx, &ec2sdk.TerminateInstancesInput{InstanceIds: []string{id, pid}})
			return err
		}, "OperationNotPermitted"},
		{"stop a stop-protected instance", func() error {
			_, err := cl.StopInstances(ctx, &ec2sdk.StopInstancesInput{InstanceIds: []string{pid}})
			return err
		}, "OperationNotPermitted"},
		{"hibernate an instance not configured for it", func() error {
			_, err := cl.StopInstances(ctx, &ec2sdk.StopInstancesInput{InstanceIds: []string{id}, Hibernate: aws.Bool(true)})
			return err
		}, "UnsupportedHibernationConfiguration"},
		{"modify the type while running", func() error {
			_, err := cl.ModifyInstanceAttribute(ctx, &ec2sdk.ModifyInstanceAttributeInput{InstanceId: aws.String(id), InstanceType: &types.AttributeValue{Value: aws.String("t3.large")}})
			return err
		}, "IncorrectInstanceState"},
		{"modify user data while running", func() error {
			_, err := cl.ModifyInstanceAttribute(ctx, &ec2sdk.ModifyInstanceAttributeInput{InstanceId: aws.String(id), UserData: &types.SecureBlobAttributeValue{Value: []byte("x")}})
			return err
		}, "IncorrectInstanceState"},
		{"modify to an unknown type", func() error {
			_, err := cl.ModifyInstanceAttribute(ctx, &ec2sdk.ModifyInstanceAttributeInput{InstanceId: aws.String(id), InstanceType: &types.AttributeValue{Value: aws.String("t3.huge")}})
			return err
		}, "InvalidParameterValue"},
		{"modify two attributes at once", func() error {
			_, err := cl.ModifyInstanceAttribute(ctx, &ec2sdk.ModifyInstanceAttributeInput{InstanceId: aws.String(id),
				DisableApiStop: &types.AttributeBooleanValue{Value: aws.Bool(true)}, SourceDestCheck: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
			return err
		}, "InvalidParameterCombination"},
		{"modify a terminated instance", func() error {
			_, err := cl.ModifyInstanceAttribute(ctx, &ec2sdk.ModifyInstanceAttributeInput{InstanceId: aws.String(did), DisableApiStop: &types.AttributeBooleanValue{Value: aws.Bool(true)}})
			return err
		}, "IncorrectInstanceState"},
		{"describe an unknown instance", func() error {
			_, err := cl.DescribeInstances(ctx, &ec2sdk.DescribeInstancesInput{InstanceIds: []string{id, "i-0123456789abcdef0"}})
			return err
		}, "InvalidInstanceID.NotFound"},
		{"describe a malformed instance id", func() error {
			_, err := cl.DescribeInstances(ctx, &ec2sdk.DescribeInstancesInput{InstanceIds: []string{"i-xyz"}})
			return err
		}, "InvalidInstanceID.Malformed"},
		{"stop an unknown instance", func() error {
			_, err := cl.StopInstances(ctx, &ec2sdk.StopInstancesInput{InstanceIds: []string{"i-0123456789abcdef0", "i-0123456789abcdef1"}})
			return err
		}, "InvalidInstanceID.NotFound"},
		{"ids with MaxResults", func() error {
			_, err := cl.DescribeInstances(ctx, &ec2sdk.DescribeInstancesInput{InstanceIds: []string{id}, MaxResults: aws.Int32(10)})
			return err
		}, "InvalidParameterCombination"},
		{"MaxResults 3", func() error {
			_, err := cl.DescribeInstances(ctx, &ec2sdk.DescribeInstancesInput{MaxResults: aws.Int32(3)})
			return err
		}, "InvalidParameterValue"},
		{"unknown filter", func() error {
			_, err := cl.DescribeInstances(ctx, &ec2sdk.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("flavour"), Values: []string{"x"}}}})
			return err
		}, "InvalidParameterValue"},
		{"bad next token", func() error {
			_, err := cl.DescribeInstances(ctx, &ec2sdk.DescribeInstancesInput{MaxResults: aws.Int32(5), NextToken: aws.String("%%%")})
			return err
		}, "InvalidNextToken"},
		{"unknown attribute", func() error {
			_, err := cl.DescribeInstanceAttribute(ctx, &ec2sdk.DescribeInstanceAttributeInput{InstanceId: aws.String(id), Attribute: "colour"})
			return err
		}, "InvalidParameterValue"},
		{"console of an unknown instance", func() error {
			_, err := cl.GetConsoleOutput(ctx, &ec2sdk.GetConsoleOutputInput{InstanceId: aws.String("i-0123456789abcdef0")})
			return err
		}, "InvalidInstanceID.NotFound"},
	}
	for _, tc := range calls {
		if err := tc.call(); apiCode(err) != tc.code {
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
		}
	}
	// The failed terminate touched neither instance.
	if st := cmpDescribe(t, cl, id).State.Name; st != types.InstanceStateNameRunning {
		t.Fatalf("an unprotected instance of a refused terminate: %s", st)
	}
	t.Logf("%d bad launches, %d bad calls", len(cases), len(calls))
}

func TestInstanceKeyPairGroupNamesAndInterfaceTags(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	cl := c.client()
	ctx := context.Background()
	in := &ec2sdk.RunInstancesInput{
		ImageId: aws.String(cmpAL2023(t, cl)), InstanceType: "t3.micro", SecurityGroups: []string{"default"},
		TagSpecifications: []types.TagSpecification{
			{ResourceType: types.ResourceTypeNetworkInterface, Tags: []types.Tag{{Key: aws.String("nic"), Value: aws.String("primary")}}},
			{ResourceType: types.ResourceTypeVolume, Tags: []types.Tag{{Key: aws.String("disk"), Value: aws.String("root")}}},
		},
	}
	_, err := cl.CreateKeyPair(ctx, &ec2sdk.CreateKeyPairInput{KeyName: aws.String("deploy")})
	keys := apiCode(err) != "NotImplemented"
	if keys {
		if err != nil {
			t.Fatal(err)
		}
		in.KeyName = aws.String("deploy")
	} else {
		t.Log("CreateKeyPair is not implemented yet: launching without a key")
	}
	inst := cmpRun(t, cl, in)
	if len(inst.SecurityGroups) != 1 || aws.ToString(inst.SecurityGroups[0].GroupName) != "default" || len(inst.Tags) != 0 {
		t.Fatalf("instance: %+v", inst)
	}
	if keys {
		out := must[*ec2sdk.DescribeInstancesOutput](t)(cl.DescribeInstances(ctx, &ec2sdk.DescribeInstancesInput{Filters: []types.Filter{{Name: aws.String("key-name"), Values: []string{"deploy"}}}}))
		if len(out.Reservations) != 1 || aws.ToString(out.Reservations[0].Instances[0].KeyName) != "deploy" {
			t.Fatalf("by key name: %+v", out.Reservations)
		}
	}
	enis, err := cl.DescribeNetworkInterfaces(ctx, &ec2sdk.DescribeNetworkInterfacesInput{NetworkInterfaceIds: []string{aws.ToString(inst.NetworkInterfaces[0].NetworkInterfaceId)}})
	if apiCode(err) == "NotImplemented" {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if tags := enis.NetworkInterfaces[0].TagSet; len(tags) != 1 || aws.ToString(tags[0].Value) != "primary" {
		t.Fatalf("interface tags: %+v", tags)
	}
}

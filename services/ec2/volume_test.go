package ec2_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func volDescribe(t *testing.T, cl *ec2sdk.Client, id string) types.Volume {
	t.Helper()
	out := must[*ec2sdk.DescribeVolumesOutput](t)(cl.DescribeVolumes(context.Background(), &ec2sdk.DescribeVolumesInput{VolumeIds: []string{id}}))
	if len(out.Volumes) != 1 {
		t.Fatalf("volume %s: %+v", id, out.Volumes)
	}
	return out.Volumes[0]
}

// TestVolumeRoot: an instance's root volume is a volume, attached, in
// its zone, of the image's size, deleted with the instance unless
// ModifyInstanceAttribute says otherwise.
func TestVolumeRoot(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cl := newCloud(t).client()
	inst := cmpRun(t, cl, &ec2sdk.RunInstancesInput{ImageId: aws.String(cmpAL2023(t, cl)), InstanceType: "t3.micro",
		BlockDeviceMappings: []types.BlockDeviceMapping{{DeviceName: aws.String("/dev/sdf"), Ebs: &types.EbsBlockDevice{VolumeSize: aws.Int32(20), VolumeType: types.VolumeTypeGp3}}}})
	id := aws.ToString(inst.InstanceId)
	if len(inst.BlockDeviceMappings) != 2 {
		t.Fatalf("mappings %+v", inst.BlockDeviceMappings)
	}
	root := inst.BlockDeviceMappings[0]
	if aws.ToString(root.DeviceName) != "/dev/xvda" {
		t.Fatalf("root device %s", aws.ToString(root.DeviceName))
	}
	v := volDescribe(t, cl, aws.ToString(root.Ebs.VolumeId))
	if v.State != types.VolumeStateInUse || aws.ToInt32(v.Size) != 8 || aws.ToString(v.AvailabilityZone) != aws.ToString(inst.Placement.AvailabilityZone) ||
		len(v.Attachments) != 1 || aws.ToString(v.Attachments[0].InstanceId) != id || aws.ToString(v.Attachments[0].Device) != "/dev/xvda" ||
		!aws.ToBool(v.Attachments[0].DeleteOnTermination) || v.Attachments[0].State != types.VolumeAttachmentStateAttached {
		t.Fatalf("root volume %+v", v)
	}
	data := volDescribe(t, cl, aws.ToString(inst.BlockDeviceMappings[1].Ebs.VolumeId))
	if aws.ToInt32(data.Size) != 20 || data.VolumeType != types.VolumeTypeGp3 || aws.ToInt32(data.Iops) != 3000 || aws.ToInt32(data.Throughput) != 125 {
		t.Fatalf("data volume %+v", data)
	}
	// Filter by the instance.
	byInst := must[*ec2sdk.DescribeVolumesOutput](t)(cl.DescribeVolumes(ctx, &ec2sdk.DescribeVolumesInput{Filters: []types.Filter{
		{Name: aws.String("attachment.instance-id"), Values: []string{id}}}}))
	if len(byInst.Volumes) != 2 {
		t.Fatalf("volumes of %s: %d", id, len(byInst.Volumes))
	}
	// Keep the data volume past termination.
	must[*ec2sdk.ModifyInstanceAttributeOutput](t)(cl.ModifyInstanceAttribute(ctx, &ec2sdk.ModifyInstanceAttributeInput{InstanceId: inst.InstanceId,
		BlockDeviceMappings: []types.InstanceBlockDeviceMappingSpecification{{DeviceName: aws.String("/dev/sdf"), Ebs: &types.EbsInstanceBlockDeviceSpecification{DeleteOnTermination: aws.Bool(false)}}}}))
	if v := volDescribe(t, cl, aws.ToString(data.VolumeId)); aws.ToBool(v.Attachments[0].DeleteOnTermination) {
		t.Fatalf("DeleteOnTermination still set: %+v", v.Attachments[0])
	}
	// Detaching the root is refused.
	_, err := cl.DetachVolume(ctx, &ec2sdk.DetachVolumeInput{VolumeId: v.VolumeId})
	wantCode(t, err, "IncorrectState")

	must[*ec2sdk.TerminateInstancesOutput](t)(cl.TerminateInstances(ctx, &ec2sdk.TerminateInstancesInput{InstanceIds: []string{id}}))
	w := ec2sdk.NewInstanceTerminatedWaiter(cl, func(o *ec2sdk.InstanceTerminatedWaiterOptions) { o.MinDelay = 1; o.MaxDelay = 1 })
	if err := w.Wait(ctx, &ec2sdk.DescribeInstancesInput{InstanceIds: []string{id}}, 60e9); err != nil {
		t.Fatal(err)
	}
	_, err = cl.DescribeVolumes(ctx, &ec2sdk.DescribeVolumesInput{VolumeIds: []string{aws.ToString(v.VolumeId)}})
	wantCode(t, err, "InvalidVolume.NotFound")
	if kept := volDescribe(t, cl, aws.ToString(data.VolumeId)); kept.State != types.VolumeStateAvailable || len(kept.Attachments) != 0 {
		t.Fatalf("kept volume %+v", kept)
	}
}

// TestVolumeLifecycle: create, attach, detach, modify, snapshot, copy,
// restore, delete, with the aws CLI as the tutorials run it, and AWS's
// errors on the way.
func TestVolumeLifecycle(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newCloud(t)
	cl := c.client()
	inst := cmpRun(t, cl, &ec2sdk.RunInstancesInput{ImageId: aws.String(cmpAL2023(t, cl)), InstanceType: "t3.micro",
		Placement: &types.Placement{AvailabilityZone: aws.String("ap-northeast-2a")}})
	id := aws.ToString(inst.InstanceId)

	var vol struct {
		VolumeId, State, AvailabilityZone, VolumeType string
		Size                                          int
		Encrypted                                     bool
		Iops                                          int
	}
	if err := c.cli(t, &vol, "ec2", "create-volume", "--volume-type", "gp2", "--size", "10", "--availability-zone", "ap-northeast-2a",
		"--encrypted", "--tag-specifications", "ResourceType=volume,Tags=[{Key=Name,Value=data}]"); err != nil {
		t.Fatal(err)
	}
	if vol.State != "creating" || vol.Size != 10 || !vol.Encrypted || vol.Iops != 100 || vol.VolumeType != "gp2" {
		t.Fatalf("created %+v", vol)
	}
	other := must[*ec2sdk.CreateVolumeOutput](t)(cl.CreateVolume(ctx, &ec2sdk.CreateVolumeInput{AvailabilityZone: aws.String("ap-northeast-2b"), Size: aws.Int32(1)}))

	// Filters of the docs.
	for _, f := range []types.Filter{
		{Name: aws.String("tag:Name"), Values: []string{"data"}},
		{Name: aws.String("status"), Values: []string{"available"}},
		{Name: aws.String("availability-zone"), Values: []string{"ap-northeast-2a"}},
		{Name: aws.String("volume-id"), Values: []string{vol.VolumeId}},
	} {
		out := must[*ec2sdk.DescribeVolumesOutput](t)(cl.DescribeVolumes(ctx, &ec2sdk.DescribeVolumesInput{Filters: []types.Filter{f, {Name: aws.String("size"), Values: []string{"10"}}}}))
		if len(out.Volumes) != 1 || aws.ToString(out.Volumes[0].VolumeId) != vol.VolumeId {
			t.Fatalf("filter %s: %d volumes", aws.ToString(f.Name), len(out.Volumes))
		}
	}

	_, err := cl.AttachVolume(ctx, &ec2sdk.AttachVolumeInput{VolumeId: other.VolumeId, InstanceId: inst.InstanceId, Device: aws.String("/dev/sdf")})
	wantCode(t, err, "InvalidVolume.ZoneMismatch")
	_, err = cl.AttachVolume(ctx, &ec2sdk.AttachVolumeInput{VolumeId: aws.String("vol-0123456789abcdef0"), InstanceId: inst.InstanceId, Device: aws.String("/dev/sdf")})
	wantCode(t, err, "InvalidVolume.NotFound")
	_, err = cl.AttachVolume(ctx, &ec2sdk.AttachVolumeInput{VolumeId: aws.String(vol.VolumeId), InstanceId: inst.InstanceId, Device: aws.String("/dev/hda")})
	wantCode(t, err, "InvalidParameterValue")
	_, err = cl.AttachVolume(ctx, &ec2sdk.AttachVolumeInput{VolumeId: aws.String(vol.VolumeId), InstanceId: inst.InstanceId, Device: aws.String("/dev/xvda")})
	wantCode(t, err, "InvalidParameterValue")
	_, err = cl.DetachVolume(ctx, &ec2sdk.DetachVolumeInput{VolumeId: aws.String(vol.VolumeId)})
	wantCode(t, err, "IncorrectState")

	var att struct{ State, Device, InstanceId string }
	if err := c.cli(t, &att, "ec2", "attach-volume", "--volume-id", vol.VolumeId, "--instance-id", id, "--device", "/dev/sdf"); err != nil {
		t.Fatal(err)
	}
	if att.State != "attaching" || att.Device != "/dev/sdf" || att.InstanceId != id {
		t.Fatalf("attach %+v", att)
	}
	v := volDescribe(t, cl, vol.VolumeId)
	if v.State != types.VolumeStateInUse || len(v.Attachments) != 1 || v.Attachments[0].State != types.VolumeAttachmentStateAttached {
		t.Fatalf("attached %+v", v)
	}
	if bdms := cmpDescribe(t, cl, id).BlockDeviceMappings; len(bdms) != 2 || aws.ToString(bdms[1].Ebs.VolumeId) != vol.VolumeId {
		t.Fatalf("instance mappings %+v", bdms)
	}
	_, err = cl.AttachVolume(ctx, &ec2sdk.AttachVolumeInput{VolumeId: aws.String(vol.VolumeId), InstanceId: inst.InstanceId, Device: aws.String("/dev/sdg")})
	wantCode(t, err, "VolumeInUse")
	third := must[*ec2sdk.CreateVolumeOutput](t)(cl.CreateVolume(ctx, &ec2sdk.CreateVolumeInput{AvailabilityZone: aws.String("ap-northeast-2a"), Size: aws.Int32(1)}))
	_, err = cl.AttachVolume(ctx, &ec2sdk.AttachVolumeInput{VolumeId: third.VolumeId, InstanceId: inst.InstanceId, Device: aws.String("/dev/sdf")})
	wantCode(t, err, "InvalidParameterValue")
	_, err = cl.DeleteVolume(ctx, &ec2sdk.DeleteVolumeInput{VolumeId: aws.String(vol.VolumeId)})
	wantCode(t, err, "VolumeInUse")

	// Grow; shrinking is refused.
	mod := must[*ec2sdk.ModifyVolumeOutput](t)(cl.ModifyVolume(ctx, &ec2sdk.ModifyVolumeInput{VolumeId: aws.String(vol.VolumeId), Size: aws.Int32(20), VolumeType: types.VolumeTypeGp3}))
	if aws.ToInt32(mod.VolumeModification.TargetSize) != 20 || aws.ToInt32(mod.VolumeModification.OriginalSize) != 10 {
		t.Fatalf("modification %+v", mod.VolumeModification)
	}
	_, err = cl.ModifyVolume(ctx, &ec2sdk.ModifyVolumeInput{VolumeId: aws.String(vol.VolumeId), Size: aws.Int32(5)})
	wantCode(t, err, "InvalidParameterValue")
	if v := volDescribe(t, cl, vol.VolumeId); aws.ToInt32(v.Size) != 20 || v.VolumeType != types.VolumeTypeGp3 {
		t.Fatalf("modified %+v", v)
	}
	mods := must[*ec2sdk.DescribeVolumesModificationsOutput](t)(cl.DescribeVolumesModifications(ctx, &ec2sdk.DescribeVolumesModificationsInput{VolumeIds: []string{vol.VolumeId}}))
	if len(mods.VolumesModifications) != 1 || mods.VolumesModifications[0].ModificationState != types.VolumeModificationStateCompleted ||
		aws.ToInt32(mods.VolumesModifications[0].TargetSize) != 20 {
		t.Fatalf("modifications %+v", mods.VolumesModifications)
	}
	_, err = cl.DescribeVolumesModifications(ctx, &ec2sdk.DescribeVolumesModificationsInput{VolumeIds: []string{aws.ToString(third.VolumeId)}})
	wantCode(t, err, "InvalidVolumeModification.NotFound")

	// Tags as on any resource.
	must[*ec2sdk.CreateTagsOutput](t)(cl.CreateTags(ctx, &ec2sdk.CreateTagsInput{Resources: []string{vol.VolumeId}, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("db")}}}))
	if out := must[*ec2sdk.DescribeVolumesOutput](t)(cl.DescribeVolumes(ctx, &ec2sdk.DescribeVolumesInput{Filters: []types.Filter{
		{Name: aws.String("tag:team"), Values: []string{"db"}}}})); len(out.Volumes) != 1 || len(out.Volumes[0].Tags) != 2 {
		t.Fatalf("tagged volumes %+v", out.Volumes)
	}

	// Snapshot, copy, restore.
	snap := must[*ec2sdk.CreateSnapshotOutput](t)(cl.CreateSnapshot(ctx, &ec2sdk.CreateSnapshotInput{VolumeId: aws.String(vol.VolumeId), Description: aws.String("backup")}))
	if snap.State != types.SnapshotStatePending || aws.ToInt32(snap.VolumeSize) != 20 {
		t.Fatalf("snapshot %+v", snap)
	}
	snaps := must[*ec2sdk.DescribeSnapshotsOutput](t)(cl.DescribeSnapshots(ctx, &ec2sdk.DescribeSnapshotsInput{OwnerIds: []string{"self"},
		Filters: []types.Filter{{Name: aws.String("volume-id"), Values: []string{vol.VolumeId}}}}))
	if len(snaps.Snapshots) != 1 || snaps.Snapshots[0].State != types.SnapshotStateCompleted || !aws.ToBool(snaps.Snapshots[0].Encrypted) {
		t.Fatalf("snapshots %+v", snaps.Snapshots)
	}
	cp := must[*ec2sdk.CopySnapshotOutput](t)(cl.CopySnapshot(ctx, &ec2sdk.CopySnapshotInput{SourceRegion: aws.String("ap-northeast-2"), SourceSnapshotId: snap.SnapshotId}))
	_, err = cl.CreateVolume(ctx, &ec2sdk.CreateVolumeInput{AvailabilityZone: aws.String("ap-northeast-2a"), SnapshotId: cp.SnapshotId, Size: aws.Int32(10)})
	wantCode(t, err, "InvalidParameterValue")
	restored := must[*ec2sdk.CreateVolumeOutput](t)(cl.CreateVolume(ctx, &ec2sdk.CreateVolumeInput{AvailabilityZone: aws.String("ap-northeast-2a"), SnapshotId: cp.SnapshotId}))
	if aws.ToInt32(restored.Size) != 20 || aws.ToString(restored.SnapshotId) != aws.ToString(cp.SnapshotId) || !aws.ToBool(restored.Encrypted) {
		t.Fatalf("restored %+v", restored)
	}
	_, err = cl.CreateVolume(ctx, &ec2sdk.CreateVolumeInput{AvailabilityZone: aws.String("ap-northeast-2a"), SnapshotId: aws.String("snap-0123456789abcdef0")})
	wantCode(t, err, "InvalidSnapshot.NotFound")

	// Detach, then delete.
	if err := c.cli(t, &att, "ec2", "detach-volume", "--volume-id", vol.VolumeId); err != nil {
		t.Fatal(err)
	}
	if att.State != "detaching" {
		t.Fatalf("detach %+v", att)
	}
	if v := volDescribe(t, cl, vol.VolumeId); v.State != types.VolumeStateAvailable || len(v.Attachments) != 0 {
		t.Fatalf("detached %+v", v)
	}
	if bdms := cmpDescribe(t, cl, id).BlockDeviceMappings; len(bdms) != 1 {
		t.Fatalf("instance mappings after detach %+v", bdms)
	}
	must[*ec2sdk.DeleteVolumeOutput](t)(cl.DeleteVolume(ctx, &ec2sdk.DeleteVolumeInput{VolumeId: aws.String(vol.VolumeId)}))
	must[*ec2sdk.DeleteSnapshotOutput](t)(cl.DeleteSnapshot(ctx, &ec2sdk.DeleteSnapshotInput{SnapshotId: snap.SnapshotId}))
	_, err = cl.DeleteSnapshot(ctx, &ec2sdk.DeleteSnapshotInput{SnapshotId: snap.SnapshotId})
	wantCode(t, err, "InvalidSnapshot.NotFound")
	_, err = cl.DeleteVolume(ctx, &ec2sdk.DeleteVolumeInput{VolumeId: aws.String(vol.VolumeId)})
	wantCode(t, err, "InvalidVolume.NotFound")
}

// TestVolumeBadInput: AWS's errors for what CreateVolume refuses.
func TestVolumeBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cl := newCloud(t).client()
	for _, c := range []struct {
		in   *ec2sdk.CreateVolumeInput
		code string
	}{
		{&ec2sdk.CreateVolumeInput{AvailabilityZone: aws.String("ap-northeast-2a")}, "MissingParameter"},
		{&ec2sdk.CreateVolumeInput{AvailabilityZone: aws.String("ap-northeast-2z"), Size: aws.Int32(1)}, "InvalidParameterValue"},
		{&ec2sdk.CreateVolumeInput{AvailabilityZone: aws.String("ap-northeast-2a"), Size: aws.Int32(20000)}, "InvalidParameterValue"},
		{&ec2sdk.CreateVolumeInput{AvailabilityZone: aws.String("ap-northeast-2a"), Size: aws.Int32(10), VolumeType: types.VolumeTypeSt1}, "InvalidParameterValue"},
		{&ec2sdk.CreateVolumeInput{AvailabilityZone: aws.String("ap-northeast-2a"), Size: aws.Int32(10), VolumeType: types.VolumeTypeIo1}, "MissingParameter"},
		{&ec2sdk.CreateVolumeInput{AvailabilityZone: aws.String("ap-northeast-2a"), Size: aws.Int32(10), Iops: aws.Int32(500)}, "InvalidParameterCombination"},
		{&ec2sdk.CreateVolumeInput{AvailabilityZone: aws.String("ap-northeast-2a"), Size: aws.Int32(10), VolumeType: types.VolumeTypeGp3, Throughput: aws.Int32(5000)}, "InvalidParameterValue"},
		{&ec2sdk.CreateVolumeInput{AvailabilityZone: aws.String("ap-northeast-2a"), Size: aws.Int32(10), DryRun: aws.Bool(true)}, "DryRunOperation"},
	} {
		_, err := cl.CreateVolume(ctx, c.in)
		wantCode(t, err, c.code)
	}
	io := must[*ec2sdk.CreateVolumeOutput](t)(cl.CreateVolume(ctx, &ec2sdk.CreateVolumeInput{AvailabilityZone: aws.String("ap-northeast-2a"), Size: aws.Int32(10), VolumeType: types.VolumeTypeIo2, Iops: aws.Int32(1000)}))
	if aws.ToInt32(io.Iops) != 1000 {
		t.Fatalf("io2 %+v", io)
	}
	_, err := cl.DescribeVolumes(ctx, &ec2sdk.DescribeVolumesInput{VolumeIds: []string{"vol-nope"}})
	wantCode(t, err, "InvalidVolumeID.Malformed")
	_, err = cl.DescribeVolumes(ctx, &ec2sdk.DescribeVolumesInput{Filters: []types.Filter{{Name: aws.String("bogus"), Values: []string{"x"}}}})
	wantCode(t, err, "InvalidParameterValue")
}

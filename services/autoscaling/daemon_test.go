package autoscaling_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	assdk "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cloudbox/cloudbox/ami"
	"github.com/cloudbox/cloudbox/daemon"
)

// TestMixedAndFromInstanceWithEC2 runs a control-plane daemon: a mixed
// instances policy's first override is an arm64 type the x86_64 template
// cannot run, so EC2 refuses it and the next type launches, with its
// weight; a group made from one of those instances launches its type.
func TestMixedAndFromInstanceWithEC2(t *testing.T) {
	t.Parallel()
	d, err := daemon.New(daemon.Config{Ephemeral: true, Dataplane: "off"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
	cfg := aws.Config{Region: "ap-northeast-2", BaseEndpoint: aws.String("http://" + ln.Addr().String()),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	ec2c, asc := ec2sdk.NewFromConfig(cfg), assdk.NewFromConfig(cfg)
	var image string
	for _, img := range ami.Stock("ap-northeast-2") {
		if img.Arch == "x86_64" {
			image = img.ID
			break
		}
	}
	must[*ec2sdk.CreateLaunchTemplateOutput](t)(ec2c.CreateLaunchTemplate(ctx, &ec2sdk.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("app"),
		LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String(image), InstanceType: ec2types.InstanceTypeT3Micro}}))
	must[*assdk.CreateAutoScalingGroupOutput](t)(asc.CreateAutoScalingGroup(ctx, &assdk.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("mixed"), MinSize: aws.Int32(0), MaxSize: aws.Int32(8), DesiredCapacity: aws.Int32(3),
		AvailabilityZones: []string{"ap-northeast-2a"},
		MixedInstancesPolicy: &types.MixedInstancesPolicy{LaunchTemplate: &types.LaunchTemplate{
			LaunchTemplateSpecification: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("app")},
			Overrides: []types.LaunchTemplateOverrides{
				{InstanceType: aws.String("t4g.small"), WeightedCapacity: aws.String("2")},
				{InstanceType: aws.String("c4.large"), WeightedCapacity: aws.String("2")},
				{InstanceType: aws.String("t3.micro"), WeightedCapacity: aws.String("1")},
			}}}}))
	var ids []string
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := must[*assdk.DescribeAutoScalingGroupsOutput](t)(asc.DescribeAutoScalingGroups(ctx, &assdk.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"mixed"}}))
		ids = nil
		for _, in := range out.AutoScalingGroups[0].Instances {
			if aws.ToString(in.InstanceType) != "c4.large" || aws.ToString(in.WeightedCapacity) != "2" {
				t.Fatalf("instance %+v", in)
			}
			if in.LifecycleState == types.LifecycleStateInService {
				ids = append(ids, *in.InstanceId)
			}
		}
		if len(ids) == 2 && len(out.AutoScalingGroups[0].Instances) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("instances: %+v", out.AutoScalingGroups[0].Instances)
		}
		time.Sleep(200 * time.Millisecond)
	}
	insts := must[*ec2sdk.DescribeInstancesOutput](t)(ec2c.DescribeInstances(ctx, &ec2sdk.DescribeInstancesInput{InstanceIds: ids}))
	for _, r := range insts.Reservations {
		for _, in := range r.Instances {
			if in.InstanceType != "c4.large" || aws.ToString(in.ImageId) != image {
				t.Errorf("EC2 instance %s: %s %s", *in.InstanceId, in.InstanceType, aws.ToString(in.ImageId))
			}
		}
	}

	must[*assdk.CreateAutoScalingGroupOutput](t)(asc.CreateAutoScalingGroup(ctx, &assdk.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("cloned"), InstanceId: aws.String(ids[0]), MinSize: aws.Int32(1), MaxSize: aws.Int32(1)}))
	g := must[*assdk.DescribeAutoScalingGroupsOutput](t)(asc.DescribeAutoScalingGroups(ctx, &assdk.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"cloned"}})).AutoScalingGroups[0]
	if aws.ToString(g.LaunchConfigurationName) != "cloned" || aws.ToString(g.VPCZoneIdentifier) == "" {
		t.Fatalf("cloned group: %+v", g)
	}
	lc := must[*assdk.DescribeLaunchConfigurationsOutput](t)(asc.DescribeLaunchConfigurations(ctx, &assdk.DescribeLaunchConfigurationsInput{LaunchConfigurationNames: []string{"cloned"}})).LaunchConfigurations[0]
	if aws.ToString(lc.InstanceType) != "c4.large" || aws.ToString(lc.ImageId) != image || len(lc.SecurityGroups) != 1 {
		t.Fatalf("derived launch configuration: %+v", lc)
	}
	for _, name := range []string{"mixed", "cloned"} {
		must[*assdk.DeleteAutoScalingGroupOutput](t)(asc.DeleteAutoScalingGroup(ctx, &assdk.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String(name), ForceDelete: aws.Bool(true)}))
	}
}

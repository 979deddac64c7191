package autoscaling_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	assdk "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
)

// TestMixedInstancesPolicy: overrides are tried in order (the first has no
// capacity), weights count toward the desired capacity on the way out and
// in, and the policy and the instances' types and weights are described.
func TestMixedInstancesPolicy(t *testing.T) {
	e := newEnv(t)
	policy := &types.MixedInstancesPolicy{LaunchTemplate: &types.LaunchTemplate{
		LaunchTemplateSpecification: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("web")},
		Overrides: []types.LaunchTemplateOverrides{
			{InstanceType: aws.String(unavailableType), WeightedCapacity: aws.String("4")},
			{InstanceType: aws.String("c5.xlarge"), WeightedCapacity: aws.String("2")},
			{InstanceType: aws.String("c5.large"), WeightedCapacity: aws.String("1")},
		}}}
	createGroup(t, e, "mixed", 0, 10, func(in *assdk.CreateAutoScalingGroupInput) {
		in.LaunchTemplate, in.MixedInstancesPolicy, in.DesiredCapacity = nil, policy, aws.Int32(5)
	})
	waitInService(t, e, "mixed", 3)
	g := group(t, e, "mixed")
	for _, in := range g.Instances {
		if aws.ToString(in.InstanceType) != "c5.xlarge" || aws.ToString(in.WeightedCapacity) != "2" || aws.ToString(in.LaunchTemplate.LaunchTemplateId) != "lt-0123456789abcdef0" {
			t.Errorf("instance %+v", in)
		}
	}
	p := g.MixedInstancesPolicy
	if g.LaunchTemplate != nil || p == nil || len(p.LaunchTemplate.Overrides) != 3 || aws.ToString(p.LaunchTemplate.LaunchTemplateSpecification.LaunchTemplateId) != "lt-0123456789abcdef0" ||
		aws.ToString(p.InstancesDistribution.OnDemandAllocationStrategy) != "prioritized" || aws.ToInt32(p.InstancesDistribution.OnDemandPercentageAboveBaseCapacity) != 100 {
		t.Fatalf("described policy %+v", p)
	}
	for _, l := range e.fleet.launched() {
		if l.LaunchTemplateID != "lt-0123456789abcdef0" || (l.InstanceType != unavailableType && l.InstanceType != "c5.xlarge") {
			t.Errorf("launch %+v", l)
		}
	}
	det := must[*assdk.DescribeAutoScalingInstancesOutput](t)(e.client.DescribeAutoScalingInstances(ctx, &assdk.DescribeAutoScalingInstancesInput{}))
	if len(det.AutoScalingInstances) != 3 || aws.ToString(det.AutoScalingInstances[0].WeightedCapacity) != "2" {
		t.Errorf("DescribeAutoScalingInstances %+v", det.AutoScalingInstances)
	}

	// Scale-in to 3 units: one instance of weight 2 goes, a second would
	// leave 2 < 3.
	must[*assdk.SetDesiredCapacityOutput](t)(e.client.SetDesiredCapacity(ctx, &assdk.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("mixed"), DesiredCapacity: aws.Int32(3)}))
	waitInService(t, e, "mixed", 2)

	// Back to a plain template: the policy goes.
	must[*assdk.UpdateAutoScalingGroupOutput](t)(e.client.UpdateAutoScalingGroup(ctx, &assdk.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("mixed"),
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("web")}}))
	if g := group(t, e, "mixed"); g.MixedInstancesPolicy != nil || g.LaunchTemplate == nil {
		t.Fatalf("after update: %+v %+v", g.MixedInstancesPolicy, g.LaunchTemplate)
	}

	for _, bad := range []types.MixedInstancesPolicy{
		{LaunchTemplate: &types.LaunchTemplate{LaunchTemplateSpecification: policy.LaunchTemplate.LaunchTemplateSpecification,
			Overrides: []types.LaunchTemplateOverrides{{InstanceType: aws.String("c5.large"), WeightedCapacity: aws.String("2")}, {InstanceType: aws.String("m5.large")}}}},
		{LaunchTemplate: &types.LaunchTemplate{LaunchTemplateSpecification: policy.LaunchTemplate.LaunchTemplateSpecification,
			Overrides: []types.LaunchTemplateOverrides{{InstanceType: aws.String("c5.large"), WeightedCapacity: aws.String("1000")}}}},
		{LaunchTemplate: policy.LaunchTemplate, InstancesDistribution: &types.InstancesDistribution{OnDemandPercentageAboveBaseCapacity: aws.Int32(101)}},
		{LaunchTemplate: policy.LaunchTemplate, InstancesDistribution: &types.InstancesDistribution{OnDemandAllocationStrategy: aws.String("cheapest")}},
		{LaunchTemplate: &types.LaunchTemplate{LaunchTemplateSpecification: policy.LaunchTemplate.LaunchTemplateSpecification,
			Overrides: []types.LaunchTemplateOverrides{{InstanceRequirements: &types.InstanceRequirements{VCpuCount: &types.VCpuCountRequest{Min: aws.Int32(2)},
				MemoryMiB: &types.MemoryMiBRequest{Min: aws.Int32(1024)}}}}}},
	} {
		_, err := e.client.CreateAutoScalingGroup(ctx, &assdk.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("bad"), MinSize: aws.Int32(0), MaxSize: aws.Int32(1),
			MixedInstancesPolicy: &bad, VPCZoneIdentifier: aws.String("subnet-a")})
		wantCode(t, err, "ValidationError")
	}
}

// TestGroupFromInstance: the group gets a launch configuration named after
// it, derived from the instance, and the instance's subnet.
func TestGroupFromInstance(t *testing.T) {
	e := newEnv(t)
	must[*assdk.CreateAutoScalingGroupOutput](t)(e.client.CreateAutoScalingGroup(ctx, &assdk.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("cloned"), InstanceId: aws.String(sourceInstance), MinSize: aws.Int32(1), MaxSize: aws.Int32(2)}))
	g := group(t, e, "cloned")
	if aws.ToString(g.LaunchConfigurationName) != "cloned" || aws.ToString(g.VPCZoneIdentifier) != "subnet-c" {
		t.Fatalf("group: %+v", g)
	}
	lcs := must[*assdk.DescribeLaunchConfigurationsOutput](t)(e.client.DescribeLaunchConfigurations(ctx, &assdk.DescribeLaunchConfigurationsInput{LaunchConfigurationNames: []string{"cloned"}}))
	lc := lcs.LaunchConfigurations[0]
	if aws.ToString(lc.ImageId) != "ami-0123456789abcdef0" || aws.ToString(lc.InstanceType) != "m4.large" || aws.ToString(lc.KeyName) != "ops" ||
		len(lc.SecurityGroups) != 1 || !aws.ToBool(lc.InstanceMonitoring.Enabled) {
		t.Fatalf("derived launch configuration: %+v", lc)
	}
	waitInService(t, e, "cloned", 1)
	if l := e.fleet.launched()[0]; l.LaunchConfiguration == nil || l.LaunchConfiguration.InstanceType != "m4.large" || l.SubnetID != "subnet-c" {
		t.Fatalf("launch: %+v", l)
	}

	// A launch configuration from the instance, with its type overridden.
	must[*assdk.CreateLaunchConfigurationOutput](t)(e.client.CreateLaunchConfiguration(ctx, &assdk.CreateLaunchConfigurationInput{
		LaunchConfigurationName: aws.String("bigger"), InstanceId: aws.String(sourceInstance), InstanceType: aws.String("m4.xlarge")}))
	lcs = must[*assdk.DescribeLaunchConfigurationsOutput](t)(e.client.DescribeLaunchConfigurations(ctx, &assdk.DescribeLaunchConfigurationsInput{LaunchConfigurationNames: []string{"bigger"}}))
	if lc := lcs.LaunchConfigurations[0]; aws.ToString(lc.InstanceType) != "m4.xlarge" || aws.ToString(lc.ImageId) != "ami-0123456789abcdef0" {
		t.Fatalf("derived with override: %+v", lc)
	}

	// An unknown instance and two sources fail, leaving nothing behind.
	_, err := e.client.CreateAutoScalingGroup(ctx, &assdk.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String("ghost"), InstanceId: aws.String("i-00000000000000000"), MinSize: aws.Int32(0), MaxSize: aws.Int32(1)})
	wantCode(t, err, "ValidationError")
	_, err = e.client.CreateAutoScalingGroup(ctx, &assdk.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("both"), InstanceId: aws.String(sourceInstance),
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("web")}, MinSize: aws.Int32(0), MaxSize: aws.Int32(1), VPCZoneIdentifier: aws.String("subnet-a")})
	wantCode(t, err, "ValidationError")
	lcs = must[*assdk.DescribeLaunchConfigurationsOutput](t)(e.client.DescribeLaunchConfigurations(ctx, &assdk.DescribeLaunchConfigurationsInput{}))
	if len(lcs.LaunchConfigurations) != 2 {
		t.Fatalf("%d launch configurations", len(lcs.LaunchConfigurations))
	}
}

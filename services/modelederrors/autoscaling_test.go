package modelederrors_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	as "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
)

// TestAutoScalingErrors: ResourceContentionFault is not reachable (one
// store transaction per call leaves no contention to report) and
// ServiceLinkedRoleFailure has no service-linked role to fail.
func TestAutoScalingErrors(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	ctx := context.Background()
	cl := as.NewFromConfig(c.cfg())
	lc := &as.CreateLaunchConfigurationInput{LaunchConfigurationName: aws.String("taken"), ImageId: aws.String("ami-0123456789abcdef0"), InstanceType: aws.String("t3.micro")}
	if _, err := cl.CreateLaunchConfiguration(ctx, lc); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateAutoScalingGroup(ctx, &as.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("g"), LaunchConfigurationName: aws.String("taken"),
		MinSize: aws.Int32(0), MaxSize: aws.Int32(1), AvailabilityZones: []string{region + "a"}}); err != nil {
		t.Fatal(err)
	}
	c.check(t, "autoscaling", []modeled{
		{"AlreadyExistsFault", func(ctx context.Context) error {
			_, err := cl.CreateLaunchConfiguration(ctx, lc)
			return err
		}, is[types.AlreadyExistsFault], `c.create_launch_configuration(LaunchConfigurationName="taken", ImageId="ami-0123456789abcdef0", InstanceType="t3.micro")`},
		{"ResourceInUseFault", func(ctx context.Context) error {
			_, err := cl.DeleteLaunchConfiguration(ctx, &as.DeleteLaunchConfigurationInput{LaunchConfigurationName: aws.String("taken")})
			return err
		}, is[types.ResourceInUseFault], `c.delete_launch_configuration(LaunchConfigurationName="taken")`},
		{"InvalidNextToken", func(ctx context.Context) error {
			_, err := cl.DescribeAutoScalingGroups(ctx, &as.DescribeAutoScalingGroupsInput{NextToken: aws.String("not-a-token")})
			return err
		}, is[types.InvalidNextToken], `c.describe_auto_scaling_groups(NextToken="not-a-token")`},
		{"ActiveInstanceRefreshNotFoundFault", func(ctx context.Context) error {
			_, err := cl.CancelInstanceRefresh(ctx, &as.CancelInstanceRefreshInput{AutoScalingGroupName: aws.String("g")})
			return err
		}, is[types.ActiveInstanceRefreshNotFoundFault], `c.cancel_instance_refresh(AutoScalingGroupName="g")`},
	})
}

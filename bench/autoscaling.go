package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// The Auto Scaling benches run a data-plane daemon at a time scale and
// build in the region's default VPC, as a user following the AWS tutorials
// would.

// asCloud is a data-plane daemon at a time scale, with the clients of the
// services an Auto Scaling group involves.
type asCloud struct {
	*dpCloud
	scale float64
	as    *autoscaling.Client
	cw    *cloudwatch.Client

	ami     string
	vpc     string   // the default VPC
	subnets []string // its default subnets, one per AZ, sorted by AZ
}

// startAutoScaling starts `cloudbox up --dataplane on --ephemeral
// --time-scale scale` and finds the default VPC. On error everything
// started is already removed.
func startAutoScaling(ctx context.Context, r *runner, scale float64) (*asCloud, error) {
	f := strconv.FormatFloat(scale, 'g', -1, 64)
	dp, err := startDataplaneDaemon(ctx, r, "cloudbox (data plane, time scale "+f+")", "--time-scale", f)
	if err != nil {
		return nil, err
	}
	c := &asCloud{dpCloud: dp, scale: scale, as: newAutoScaling(dp.p.endpoint), cw: newCloudWatch(dp.p.endpoint)}
	if err := c.findDefaultVPC(ctx); err != nil {
		return nil, errors.Join(err, c.close())
	}
	return c, nil
}

func (c *asCloud) findDefaultVPC(ctx context.Context) error {
	api := c.ec2.api
	var err error
	if c.ami, err = c.ec2.findAMI(ctx); err != nil {
		return err
	}
	vpcs, err := api.DescribeVpcs(ctx, &ec2.DescribeVpcsInput{Filters: []types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})
	if err != nil {
		return err
	}
	if len(vpcs.Vpcs) == 0 {
		return errors.New("no default VPC in " + ec2Region)
	}
	c.vpc = aws.ToString(vpcs.Vpcs[0].VpcId)
	subs, err := api.DescribeSubnets(ctx, &ec2.DescribeSubnetsInput{Filters: []types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{c.vpc}}, {Name: aws.String("default-for-az"), Values: []string{"true"}}}})
	if err != nil {
		return err
	}
	byAZ := map[string]string{}
	var azs []string
	for _, s := range subs.Subnets {
		az := aws.ToString(s.AvailabilityZone)
		if _, ok := byAZ[az]; !ok {
			azs = append(azs, az)
		}
		byAZ[az] = aws.ToString(s.SubnetId)
	}
	if len(azs) < 2 {
		return fmt.Errorf("the default VPC %s has %d default subnets, want at least 2", c.vpc, len(azs))
	}
	slices.Sort(azs)
	for _, az := range azs {
		c.subnets = append(c.subnets, byAZ[az])
	}
	return nil
}

// close deletes every Auto Scaling group first (ForceDelete) and waits
// until they are gone, so that no group launches a replacement while
// `cloudbox down` removes the world, and then closes the daemon.
func (c *asCloud) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	err := func() error {
		out, err := c.as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
		if err != nil {
			return err
		}
		for _, g := range out.AutoScalingGroups {
			if _, err := c.as.DeleteAutoScalingGroup(ctx, &autoscaling.DeleteAutoScalingGroupInput{
				AutoScalingGroupName: g.AutoScalingGroupName, ForceDelete: aws.Bool(true)}); err != nil {
				return err
			}
		}
		return pollEvery(ctx, 200*time.Millisecond, time.Minute, func() (bool, error) {
			out, err := c.as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{})
			return err == nil && len(out.AutoScalingGroups) == 0, err
		})
	}()
	if err != nil {
		err = fmt.Errorf("deleting the Auto Scaling groups: %w", err)
	}
	return errors.Join(err, c.dpCloud.close())
}

// group is one Auto Scaling group as DescribeAutoScalingGroups shows it.
func (c *asCloud) group(ctx context.Context, name string) (astypes.AutoScalingGroup, error) {
	out, err := c.as.DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}})
	if err != nil {
		return astypes.AutoScalingGroup{}, err
	}
	if len(out.AutoScalingGroups) != 1 {
		return astypes.AutoScalingGroup{}, fmt.Errorf("DescribeAutoScalingGroups %s: %d groups", name, len(out.AutoScalingGroups))
	}
	return out.AutoScalingGroups[0], nil
}

// inService are the IDs of the group's instances that are InService and
// Healthy.
func inService(g astypes.AutoScalingGroup) []string {
	var ids []string
	for _, in := range g.Instances {
		if in.LifecycleState == astypes.LifecycleStateInService && aws.ToString(in.HealthStatus) == "Healthy" {
			ids = append(ids, aws.ToString(in.InstanceId))
		}
	}
	return ids
}

func newAutoScaling(endpoint string) *autoscaling.Client {
	return autoscaling.New(autoscaling.Options{
		Region:       ec2Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(testCreds.AccessKeyID, testCreds.SecretAccessKey, ""),
		HTTPClient:   &http.Client{Transport: &http.Transport{Proxy: nil}}, // loopback only
	})
}

func newCloudWatch(endpoint string) *cloudwatch.Client {
	return cloudwatch.New(cloudwatch.Options{
		Region:       ec2Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(testCreds.AccessKeyID, testCreds.SecretAccessKey, ""),
		HTTPClient:   &http.Client{Transport: &http.Transport{Proxy: nil}}, // loopback only
	})
}

// secs formats a duration in seconds with two decimals.
func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

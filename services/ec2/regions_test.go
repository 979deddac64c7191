package ec2_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestAvailabilityZones(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	out := must[*ec2sdk.DescribeAvailabilityZonesOutput](t)(c.client().DescribeAvailabilityZones(ctx, &ec2sdk.DescribeAvailabilityZonesInput{}))
	var names, ids []string
	for _, z := range out.AvailabilityZones {
		names = append(names, aws.ToString(z.ZoneName))
		ids = append(ids, aws.ToString(z.ZoneId))
	}
	if want := []string{"ap-northeast-2a", "ap-northeast-2b", "ap-northeast-2c", "ap-northeast-2d"}; !equal(names, want) {
		t.Fatalf("zones %v, want %v", names, want)
	}
	if ids[0] != "apne2-az1" {
		t.Fatalf("zone ids %v", ids)
	}
	us := must[*ec2sdk.DescribeAvailabilityZonesOutput](t)(c.ec2("us-west-2", "test").DescribeAvailabilityZones(ctx, &ec2sdk.DescribeAvailabilityZonesInput{
		Filters: []types.Filter{{Name: aws.String("zone-name"), Values: []string{"*b"}}},
	}))
	if len(us.AvailabilityZones) != 1 || aws.ToString(us.AvailabilityZones[0].ZoneId) != "usw2-az2" {
		t.Fatalf("us-west-2 zone b: %+v", us.AvailabilityZones)
	}
	_, err := c.client().DescribeAvailabilityZones(ctx, &ec2sdk.DescribeAvailabilityZonesInput{Filters: []types.Filter{{Name: aws.String("bogus"), Values: []string{"x"}}}})
	wantCode(t, err, "InvalidParameterValue")
}

func TestDescribeRegionsCLI(t *testing.T) {
	c := newCloud(t)
	var out struct {
		Regions []struct{ RegionName, Endpoint string }
	}
	if err := c.cli(t, &out, "ec2", "describe-regions", "--region-names", "ap-northeast-2", "us-east-1"); err != nil {
		t.Fatal(err)
	}
	if len(out.Regions) != 2 || out.Regions[0].Endpoint != "ec2.ap-northeast-2.amazonaws.com" {
		t.Fatalf("regions %+v", out.Regions)
	}
}

func TestTagsAndDryRun(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	_, err := c.client().CreateTags(ctx, &ec2sdk.CreateTagsInput{Resources: []string{"vpc-0123456789abcdef0"}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	wantCode(t, err, "InvalidVpcID.NotFound")
	_, err = c.client().CreateTags(ctx, &ec2sdk.CreateTagsInput{Resources: []string{"vpc-zz"}, Tags: []types.Tag{{Key: aws.String("k")}}})
	wantCode(t, err, "InvalidVpcID.Malformed")
	_, err = c.client().DescribeRegions(ctx, &ec2sdk.DescribeRegionsInput{DryRun: aws.Bool(true)})
	wantCode(t, err, "DryRunOperation")
	tags := must[*ec2sdk.DescribeTagsOutput](t)(c.client().DescribeTags(ctx, &ec2sdk.DescribeTagsInput{}))
	if len(tags.Tags) != 0 {
		t.Fatalf("a new account has no tags: %+v", tags.Tags)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

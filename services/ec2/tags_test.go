package ec2_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// TestTagsOnSecurityGroupRules: rules have sgr- ids and their own tags,
// which live inside their group's record.
func TestTagsOnSecurityGroupRules(t *testing.T) {
	c := newCloud(t)
	ctx := context.Background()
	ec2 := c.client()
	g := must[*ec2sdk.CreateSecurityGroupOutput](t)(ec2.CreateSecurityGroup(ctx, &ec2sdk.CreateSecurityGroupInput{GroupName: aws.String("web"), Description: aws.String("web")}))
	auth := must[*ec2sdk.AuthorizeSecurityGroupIngressOutput](t)(ec2.AuthorizeSecurityGroupIngress(ctx, &ec2sdk.AuthorizeSecurityGroupIngressInput{
		GroupId: g.GroupId, IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80), IpRanges: []types.IpRange{{CidrIp: aws.String("0.0.0.0/0")}}}},
	}))
	rule := aws.ToString(auth.SecurityGroupRules[0].SecurityGroupRuleId)
	must[*ec2sdk.CreateTagsOutput](t)(ec2.CreateTags(ctx, &ec2sdk.CreateTagsInput{Resources: []string{rule}, Tags: []types.Tag{{Key: aws.String("purpose"), Value: aws.String("http")}}}))

	rules := must[*ec2sdk.DescribeSecurityGroupRulesOutput](t)(ec2.DescribeSecurityGroupRules(ctx, &ec2sdk.DescribeSecurityGroupRulesInput{
		Filters: []types.Filter{{Name: aws.String("tag:purpose"), Values: []string{"http"}}},
	}))
	if len(rules.SecurityGroupRules) != 1 || aws.ToString(rules.SecurityGroupRules[0].SecurityGroupRuleId) != rule {
		t.Fatalf("rules tagged purpose=http: %+v", rules.SecurityGroupRules)
	}
	tags := must[*ec2sdk.DescribeTagsOutput](t)(ec2.DescribeTags(ctx, &ec2sdk.DescribeTagsInput{
		Filters: []types.Filter{{Name: aws.String("resource-type"), Values: []string{"security-group-rule"}}},
	}))
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].ResourceId) != rule || aws.ToString(tags.Tags[0].Value) != "http" {
		t.Fatalf("DescribeTags: %+v", tags.Tags)
	}
	_, err := ec2.CreateTags(ctx, &ec2sdk.CreateTagsInput{Resources: []string{rule}, Tags: []types.Tag{{Key: aws.String("k")}}, DryRun: aws.Bool(true)})
	wantCode(t, err, "DryRunOperation")
	must[*ec2sdk.DeleteTagsOutput](t)(ec2.DeleteTags(ctx, &ec2sdk.DeleteTagsInput{Resources: []string{rule}}))
	tags = must[*ec2sdk.DescribeTagsOutput](t)(ec2.DescribeTags(ctx, &ec2sdk.DescribeTagsInput{
		Filters: []types.Filter{{Name: aws.String("resource-id"), Values: []string{rule}}},
	}))
	if len(tags.Tags) != 0 {
		t.Fatalf("tags left after DeleteTags: %+v", tags.Tags)
	}
	_, err = ec2.CreateTags(ctx, &ec2sdk.CreateTagsInput{Resources: []string{"sgr-0123456789abcdef0"}, Tags: []types.Tag{{Key: aws.String("k")}}})
	wantCode(t, err, "InvalidSecurityGroupRuleId.NotFound")
	_, err = ec2.CreateTags(ctx, &ec2sdk.CreateTagsInput{Resources: []string{"sgr-nope"}, Tags: []types.Tag{{Key: aws.String("k")}}})
	wantCode(t, err, "InvalidSecurityGroupRuleId.Malformed")
}

package modelederrors_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

func TestELBv2Errors(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	ctx := context.Background()
	cl := elb.NewFromConfig(c.cfg())
	vpcs, err := ec2sdk.NewFromConfig(c.cfg()).DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{
		Filters: []ec2types.Filter{{Name: aws.String("is-default"), Values: []string{"true"}}}})
	if err != nil || len(vpcs.Vpcs) != 1 {
		t.Fatalf("default VPC: %v", err)
	}
	vpc := *vpcs.Vpcs[0].VpcId
	if _, err := cl.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("taken"), Protocol: types.ProtocolEnumHttp,
		Port: aws.Int32(80), VpcId: &vpc}); err != nil {
		t.Fatal(err)
	}
	const (
		tgArn = "arn:aws:elasticloadbalancing:ap-northeast-2:000000000000:targetgroup/none/0123456789abcdef"
		lbArn = "arn:aws:elasticloadbalancing:ap-northeast-2:000000000000:loadbalancer/app/none/0123456789abcdef"
		lArn  = "arn:aws:elasticloadbalancing:ap-northeast-2:000000000000:listener/app/none/0123456789abcdef/0123456789abcdef"
		rArn  = "arn:aws:elasticloadbalancing:ap-northeast-2:000000000000:listener-rule/app/none/0123456789abcdef/0123456789abcdef/0123456789abcdef"
	)
	c.check(t, "elbv2", []modeled{
		{"TargetGroupNotFoundException", func(ctx context.Context) error {
			_, err := cl.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{tgArn}})
			return err
		}, is[types.TargetGroupNotFoundException], `c.describe_target_groups(TargetGroupArns=["` + tgArn + `"])`},
		{"LoadBalancerNotFoundException", func(ctx context.Context) error {
			_, err := cl.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"none"}})
			return err
		}, is[types.LoadBalancerNotFoundException], `c.describe_load_balancers(LoadBalancerArns=["` + lbArn + `"])`},
		{"DuplicateTargetGroupNameException", func(ctx context.Context) error {
			_, err := cl.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("taken"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(8080), VpcId: &vpc})
			return err
		}, is[types.DuplicateTargetGroupNameException], `c.create_target_group(Name="taken", Protocol="HTTP", Port=81, VpcId="` + vpc + `")`},
		{"ListenerNotFoundException", func(ctx context.Context) error {
			_, err := cl.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{lArn}})
			return err
		}, is[types.ListenerNotFoundException], `c.describe_listeners(ListenerArns=["` + lArn + `"])`},
		{"RuleNotFoundException", func(ctx context.Context) error {
			_, err := cl.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{rArn}})
			return err
		}, is[types.RuleNotFoundException], `c.describe_rules(RuleArns=["` + rArn + `"])`},
		{"SSLPolicyNotFoundException", func(ctx context.Context) error {
			_, err := cl.DescribeSSLPolicies(ctx, &elb.DescribeSSLPoliciesInput{Names: []string{"ELBSecurityPolicy-None"}})
			return err
		}, is[types.SSLPolicyNotFoundException], `c.describe_ssl_policies(Names=["ELBSecurityPolicy-None"])`},
		{"SubnetNotFoundException", func(ctx context.Context) error {
			_, err := cl.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("lb"), Subnets: []string{"subnet-00000000000000000", "subnet-00000000000000001"}})
			return err
		}, is[types.SubnetNotFoundException], `c.create_load_balancer(Name="lb", Subnets=["subnet-00000000000000000", "subnet-00000000000000001"])`},
	})
}

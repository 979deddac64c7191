package elbv2_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// fixture is a network with a load balancer, a target group and an HTTP
// listener on port 80 forwarding to it.
type fixture struct {
	network
	lb, tg, listener string
}

func (e *env) fixture(t *testing.T) fixture {
	t.Helper()
	ctx := context.Background()
	f := fixture{network: e.network(t)}
	lb := must[*elb.CreateLoadBalancerOutput](t)(e.elb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: f.public, SecurityGroups: []string{f.albSG}}))
	f.lb = *lb.LoadBalancers[0].LoadBalancerArn
	f.tg = e.targetGroup(t, "app", f.vpc)
	l := must[*elb.CreateListenerOutput](t)(e.elb.CreateListener(ctx, &elb.CreateListenerInput{
		LoadBalancerArn: aws.String(f.lb), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(f.tg)}},
	}))
	f.listener = *l.Listeners[0].ListenerArn
	return f
}

func (e *env) targetGroup(t *testing.T, name, vpc string) string {
	t.Helper()
	out := must[*elb.CreateTargetGroupOutput](t)(e.elb.CreateTargetGroup(context.Background(), &elb.CreateTargetGroupInput{
		Name: aws.String(name), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(3000), VpcId: aws.String(vpc),
	}))
	return *out.TargetGroups[0].TargetGroupArn
}

func forward(tg string) []types.Action {
	return []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tg)}}
}

func pathRule(listener string, prio int32, actions []types.Action, paths ...string) *elb.CreateRuleInput {
	return &elb.CreateRuleInput{ListenerArn: aws.String(listener), Priority: aws.Int32(prio), Actions: actions,
		Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: paths}}}
}

// TestValidationErrors checks every refusal with AWS's error code.
func TestValidationErrors(t *testing.T) {
	e := newEnv(t, nil)
	f := e.fixture(t)
	ctx := context.Background()
	c := e.elb
	lbID := f.lb[len(f.lb)-16:]
	missingLB := strings.Replace(f.lb, lbID, "0123456789abcdef", 1)
	missingTG := f.tg[:len(f.tg)-16] + "0123456789abcdef"
	otherTG := e.targetGroup(t, "other-vpc", f.other)
	other := must[*elb.CreateLoadBalancerOutput](t)(c.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("other"), Subnets: f.public, Scheme: types.LoadBalancerSchemeEnumInternal}))
	otherLB := *other.LoadBalancers[0].LoadBalancerArn
	long := strings.Repeat("a", 33)

	createLB := func(in elb.CreateLoadBalancerInput) error {
		if in.Subnets == nil && in.SubnetMappings == nil {
			in.Subnets = f.public
		}
		_, err := c.CreateLoadBalancer(ctx, &in)
		return err
	}
	createTG := func(in elb.CreateTargetGroupInput) error {
		if in.Name == nil {
			in.Name = aws.String("tg")
		}
		_, err := c.CreateTargetGroup(ctx, &in)
		return err
	}
	tgIn := func(mod func(*elb.CreateTargetGroupInput)) elb.CreateTargetGroupInput {
		in := elb.CreateTargetGroupInput{Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(f.vpc)}
		mod(&in)
		return in
	}
	createListener := func(in elb.CreateListenerInput) error {
		if in.LoadBalancerArn == nil {
			in.LoadBalancerArn = aws.String(f.lb)
		}
		if in.DefaultActions == nil {
			in.DefaultActions = forward(f.tg)
		}
		_, err := c.CreateListener(ctx, &in)
		return err
	}
	register := func(ids ...string) error {
		var ts []types.TargetDescription
		for _, id := range ids {
			ts = append(ts, types.TargetDescription{Id: aws.String(id)})
		}
		_, err := c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(f.tg), Targets: ts})
		return err
	}
	createRule := func(in *elb.CreateRuleInput) error {
		_, err := c.CreateRule(ctx, in)
		return err
	}
	condRule := func(conds ...types.RuleCondition) *elb.CreateRuleInput {
		return &elb.CreateRuleInput{ListenerArn: aws.String(f.listener), Priority: aws.Int32(5), Actions: forward(f.tg), Conditions: append([]types.RuleCondition{}, conds...)}
	}
	fixed := func(code, ctype string) []types.Action {
		return []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String(code), ContentType: aws.String(ctype)}}}
	}
	if err := createRule(pathRule(f.listener, 10, forward(f.tg), "/api/*")); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name string
		code string
		err  error
	}{
		{"network load balancer", "ValidationError", createLB(elb.CreateLoadBalancerInput{Name: aws.String("nlb"), Type: types.LoadBalancerTypeEnumNetwork})},
		{"name too long", "ValidationError", createLB(elb.CreateLoadBalancerInput{Name: aws.String(long)})},
		{"name with underscore", "ValidationError", createLB(elb.CreateLoadBalancerInput{Name: aws.String("a_b")})},
		{"name ends with hyphen", "ValidationError", createLB(elb.CreateLoadBalancerInput{Name: aws.String("ab-")})},
		{"name starts with internal-", "ValidationError", createLB(elb.CreateLoadBalancerInput{Name: aws.String("internal-x")})},
		{"one subnet", "ValidationError", createLB(elb.CreateLoadBalancerInput{Name: aws.String("x"), Subnets: f.public[:1]})},
		{"two subnets in one zone", "InvalidConfigurationRequest", createLB(elb.CreateLoadBalancerInput{Name: aws.String("x"), Subnets: []string{f.public[0], f.private[0]}})},
		{"subnets of two VPCs", "InvalidConfigurationRequest", createLB(elb.CreateLoadBalancerInput{Name: aws.String("x"), Subnets: []string{f.public[0], f.otherSubnet}})},
		{"unknown subnet", "SubnetNotFound", createLB(elb.CreateLoadBalancerInput{Name: aws.String("x"), Subnets: []string{f.public[0], "subnet-0123456789abcdef0"}})},
		{"subnet mapping with an address", "InvalidConfigurationRequest", createLB(elb.CreateLoadBalancerInput{Name: aws.String("x"), SubnetMappings: []types.SubnetMapping{{SubnetId: aws.String(f.public[0]), PrivateIPv4Address: aws.String("10.0.1.9")}, {SubnetId: aws.String(f.public[1])}}})},
		{"unknown security group", "InvalidSecurityGroup", createLB(elb.CreateLoadBalancerInput{Name: aws.String("x"), SecurityGroups: []string{"sg-0123456789abcdef0"}})},
		{"dualstack", "ValidationError", createLB(elb.CreateLoadBalancerInput{Name: aws.String("x"), IpAddressType: types.IpAddressTypeDualstack})},
		{"duplicate name, other settings", "DuplicateLoadBalancerName", createLB(elb.CreateLoadBalancerInput{Name: aws.String("web"), Scheme: types.LoadBalancerSchemeEnumInternal})},
		{"describe unknown name", "LoadBalancerNotFound", func() error {
			_, err := c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"nope"}})
			return err
		}()},
		{"describe unknown ARN", "LoadBalancerNotFound", func() error {
			_, err := c.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{missingLB}})
			return err
		}()},
		{"malformed ARN", "ValidationError", func() error {
			_, err := c.DescribeLoadBalancerAttributes(ctx, &elb.DescribeLoadBalancerAttributesInput{LoadBalancerArn: aws.String("arn:nope")})
			return err
		}()},
		{"idle timeout out of range", "ValidationError", func() error {
			_, err := c.ModifyLoadBalancerAttributes(ctx, &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(f.lb), Attributes: []types.LoadBalancerAttribute{{Key: aws.String("idle_timeout.timeout_seconds"), Value: aws.String("4001")}}})
			return err
		}()},
		{"unknown attribute", "ValidationError", func() error {
			_, err := c.ModifyLoadBalancerAttributes(ctx, &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(f.lb), Attributes: []types.LoadBalancerAttribute{{Key: aws.String("nope"), Value: aws.String("1")}}})
			return err
		}()},
		{"security group of another VPC", "InvalidSecurityGroup", func() error {
			_, err := c.SetSecurityGroups(ctx, &elb.SetSecurityGroupsInput{LoadBalancerArn: aws.String(f.lb), SecurityGroups: []string{"sg-0123456789abcdef0"}})
			return err
		}()},

		{"TCP target group", "UnsupportedProtocol", createTG(tgIn(func(in *elb.CreateTargetGroupInput) { in.Protocol = types.ProtocolEnumTcp }))},
		{"invalid target group protocol", "ValidationError", createTG(tgIn(func(in *elb.CreateTargetGroupInput) { in.Protocol = "http" }))},
		{"invalid health check protocol", "ValidationError", createTG(tgIn(func(in *elb.CreateTargetGroupInput) { in.HealthCheckProtocol = "FTP" }))},
		{"lambda target group", "ValidationError", createTG(tgIn(func(in *elb.CreateTargetGroupInput) { in.TargetType = types.TargetTypeEnumLambda }))},
		{"target group without port", "ValidationError", createTG(tgIn(func(in *elb.CreateTargetGroupInput) { in.Port = nil }))},
		{"target group without VPC", "ValidationError", createTG(tgIn(func(in *elb.CreateTargetGroupInput) { in.VpcId = nil }))},
		{"target group in unknown VPC", "ValidationError", createTG(tgIn(func(in *elb.CreateTargetGroupInput) { in.VpcId = aws.String("vpc-0123456789abcdef0") }))},
		{"target group name", "ValidationError", createTG(tgIn(func(in *elb.CreateTargetGroupInput) { in.Name = aws.String("-x") }))},
		{"timeout not below interval", "ValidationError", createTG(tgIn(func(in *elb.CreateTargetGroupInput) {
			in.HealthCheckIntervalSeconds, in.HealthCheckTimeoutSeconds = aws.Int32(10), aws.Int32(10)
		}))},
		{"interval out of range", "ValidationError", createTG(tgIn(func(in *elb.CreateTargetGroupInput) { in.HealthCheckIntervalSeconds = aws.Int32(301) }))},
		{"threshold out of range", "ValidationError", createTG(tgIn(func(in *elb.CreateTargetGroupInput) { in.HealthyThresholdCount = aws.Int32(11) }))},
		{"matcher", "ValidationError", createTG(tgIn(func(in *elb.CreateTargetGroupInput) { in.Matcher = &types.Matcher{HttpCode: aws.String("200-600")} }))},
		{"health check path", "ValidationError", createTG(tgIn(func(in *elb.CreateTargetGroupInput) { in.HealthCheckPath = aws.String("health") }))},
		{"duplicate target group name", "DuplicateTargetGroupName", createTG(tgIn(func(in *elb.CreateTargetGroupInput) { in.Name = aws.String("app"); in.Port = aws.Int32(8080) }))},
		{"slow start out of range", "ValidationError", func() error {
			_, err := c.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(f.tg), Attributes: []types.TargetGroupAttribute{{Key: aws.String("slow_start.duration_seconds"), Value: aws.String("10")}}})
			return err
		}()},
		{"stickiness type", "ValidationError", func() error {
			_, err := c.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(f.tg), Attributes: []types.TargetGroupAttribute{{Key: aws.String("stickiness.type"), Value: aws.String("source_ip")}}})
			return err
		}()},
		{"unknown target group", "TargetGroupNotFound", func() error {
			_, err := c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{TargetGroupArns: []string{missingTG}})
			return err
		}()},
		{"unknown instance", "InvalidTarget", register("i-0123456789abcdef0")},
		{"instance of another VPC", "InvalidTarget", func() error {
			_, err := c.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(otherTG), Targets: []types.TargetDescription{{Id: aws.String(f.instances[0])}}})
			return err
		}()},
		{"deregister unregistered", "InvalidTarget", func() error {
			_, err := c.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(f.tg), Targets: []types.TargetDescription{{Id: aws.String(f.instances[1])}}})
			return err
		}()},

		{"duplicate listener", "DuplicateListener", createListener(elb.CreateListenerInput{Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80)})},
		{"TCP listener", "UnsupportedProtocol", createListener(elb.CreateListenerInput{Protocol: types.ProtocolEnumTcp, Port: aws.Int32(81)})},
		{"HTTPS without ACM", "CertificateNotFound", createListener(elb.CreateListenerInput{Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443), Certificates: []types.Certificate{{CertificateArn: aws.String("arn:aws:acm:ap-northeast-2:000000000000:certificate/x")}}})},
		{"HTTPS without certificate", "ValidationError", createListener(elb.CreateListenerInput{Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443)})},
		{"listener without port", "ValidationError", createListener(elb.CreateListenerInput{Protocol: types.ProtocolEnumHttp})},
		{"forward to unknown group", "TargetGroupNotFound", createListener(elb.CreateListenerInput{Protocol: types.ProtocolEnumHttp, Port: aws.Int32(81), DefaultActions: forward(missingTG)})},
		{"forward to another VPC", "InvalidConfigurationRequest", createListener(elb.CreateListenerInput{Protocol: types.ProtocolEnumHttp, Port: aws.Int32(81), DefaultActions: forward(otherTG)})},
		{"group of another load balancer", "TargetGroupAssociationLimit", createListener(elb.CreateListenerInput{LoadBalancerArn: aws.String(otherLB), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80)})},
		{"fixed response status", "ValidationError", createListener(elb.CreateListenerInput{Protocol: types.ProtocolEnumHttp, Port: aws.Int32(81), DefaultActions: fixed("302", "text/plain")})},
		{"fixed response content type", "ValidationError", createListener(elb.CreateListenerInput{Protocol: types.ProtocolEnumHttp, Port: aws.Int32(81), DefaultActions: fixed("200", "image/png")})},
		{"redirect to itself", "InvalidLoadBalancerAction", createListener(elb.CreateListenerInput{Protocol: types.ProtocolEnumHttp, Port: aws.Int32(81), DefaultActions: []types.Action{{Type: types.ActionTypeEnumRedirect, RedirectConfig: &types.RedirectActionConfig{StatusCode: types.RedirectActionStatusCodeEnumHttp301}}}})},
		{"redirect protocol", "ValidationError", createListener(elb.CreateListenerInput{Protocol: types.ProtocolEnumHttp, Port: aws.Int32(81), DefaultActions: []types.Action{{Type: types.ActionTypeEnumRedirect, RedirectConfig: &types.RedirectActionConfig{Protocol: aws.String("FTP"), StatusCode: types.RedirectActionStatusCodeEnumHttp301}}}})},
		{"weighted forward weight", "ValidationError", createListener(elb.CreateListenerInput{Protocol: types.ProtocolEnumHttp, Port: aws.Int32(81), DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, ForwardConfig: &types.ForwardActionConfig{TargetGroups: []types.TargetGroupTuple{{TargetGroupArn: aws.String(f.tg), Weight: aws.Int32(1000)}}}}}})},
		{"unknown SSL policy", "SSLPolicyNotFound", func() error {
			_, err := c.DescribeSSLPolicies(ctx, &elb.DescribeSSLPoliciesInput{Names: []string{"nope"}})
			return err
		}()},
		{"unknown listener", "ListenerNotFound", func() error {
			_, err := c.DescribeListeners(ctx, &elb.DescribeListenersInput{ListenerArns: []string{f.listener[:len(f.listener)-16] + "0123456789abcdef"}})
			return err
		}()},

		{"priority in use", "PriorityInUse", createRule(pathRule(f.listener, 10, forward(f.tg), "/x"))},
		{"no conditions", "ValidationError", createRule(condRule())},
		{"unknown field", "ValidationError", createRule(condRule(types.RuleCondition{Field: aws.String("cookie"), Values: []string{"a"}}))},
		{"too many values", "ValidationError", createRule(condRule(types.RuleCondition{Field: aws.String("path-pattern"), Values: []string{"/a", "/b", "/c", "/d", "/e", "/f"}}))},
		{"two path conditions", "ValidationError", createRule(condRule(types.RuleCondition{Field: aws.String("path-pattern"), Values: []string{"/a"}}, types.RuleCondition{Field: aws.String("path-pattern"), Values: []string{"/b"}}))},
		{"value too long", "ValidationError", createRule(condRule(types.RuleCondition{Field: aws.String("host-header"), Values: []string{strings.Repeat("a", 129)}}))},
		{"bad host", "ValidationError", createRule(condRule(types.RuleCondition{Field: aws.String("host-header"), Values: []string{"a b"}}))},
		{"bad source ip", "ValidationError", createRule(condRule(types.RuleCondition{Field: aws.String("source-ip"), SourceIpConfig: &types.SourceIpConditionConfig{Values: []string{"10.0.0.300/32"}}}))},
		{"header without name", "ValidationError", createRule(condRule(types.RuleCondition{Field: aws.String("http-header"), HttpHeaderConfig: &types.HttpHeaderConditionConfig{Values: []string{"a"}}}))},
		{"method in Values", "ValidationError", createRule(condRule(types.RuleCondition{Field: aws.String("http-request-method"), Values: []string{"GET"}}))},
		{"config of another field", "ValidationError", createRule(condRule(types.RuleCondition{Field: aws.String("path-pattern"), HostHeaderConfig: &types.HostHeaderConditionConfig{Values: []string{"a"}}}))},
		{"rule on unknown listener", "ListenerNotFound", createRule(pathRule(f.listener[:len(f.listener)-16]+"0123456789abcdef", 1, forward(f.tg), "/x"))},
		{"authenticate action", "InvalidLoadBalancerAction", createRule(&elb.CreateRuleInput{ListenerArn: aws.String(f.listener), Priority: aws.Int32(6), Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/a"}}},
			Actions: []types.Action{{Type: types.ActionTypeEnumAuthenticateOidc, AuthenticateOidcConfig: &types.AuthenticateOidcActionConfig{AuthorizationEndpoint: aws.String("a"), ClientId: aws.String("a"), Issuer: aws.String("a"), TokenEndpoint: aws.String("a"), UserInfoEndpoint: aws.String("a")}}, forward(f.tg)[0]}})},
		{"tag key reserved", "ValidationError", func() error {
			_, err := c.AddTags(ctx, &elb.AddTagsInput{ResourceArns: []string{f.lb}, Tags: []types.Tag{{Key: aws.String("aws:x"), Value: aws.String("1")}}})
			return err
		}()},
		{"tags of unknown group", "TargetGroupNotFound", func() error {
			_, err := c.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: []string{missingTG}})
			return err
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) { wantCode(t, tc.err, tc.code) })
	}

	// Deletion protection.
	must[*elb.ModifyLoadBalancerAttributesOutput](t)(c.ModifyLoadBalancerAttributes(ctx, &elb.ModifyLoadBalancerAttributesInput{LoadBalancerArn: aws.String(f.lb), Attributes: []types.LoadBalancerAttribute{{Key: aws.String("deletion_protection.enabled"), Value: aws.String("true")}}}))
	_, err := c.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(f.lb)})
	wantCode(t, err, "OperationNotPermitted")
	// The default rule can be neither deleted nor reprioritized.
	rules := must[*elb.DescribeRulesOutput](t)(c.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(f.listener)}))
	def := rules.Rules[len(rules.Rules)-1].RuleArn
	_, err = c.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: def})
	wantCode(t, err, "OperationNotPermitted")
	_, err = c.SetRulePriorities(ctx, &elb.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{{RuleArn: def, Priority: aws.Int32(3)}}})
	wantCode(t, err, "OperationNotPermitted")
	_, err = c.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: aws.String(strings.Replace(*def, (*def)[len(*def)-16:], "0123456789abcdef", 1))})
	wantCode(t, err, "RuleNotFound")
}

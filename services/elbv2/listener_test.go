package elbv2_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/cloudbox/cloudbox/desired"
)

// TestRules covers rule conditions in both forms, priorities, the actions
// and the order the data plane sees.
func TestRules(t *testing.T) {
	e := newEnv(t, nil)
	f := e.fixture(t)
	ctx := context.Background()
	c := e.elb
	api := e.targetGroup(t, "api", f.vpc)

	r10 := must[*elb.CreateRuleOutput](t)(c.CreateRule(ctx, pathRule(f.listener, 10, forward(api), "/api/*"))).Rules[0]
	if aws.ToString(r10.Priority) != "10" || aws.ToBool(r10.IsDefault) || !slices.Equal(r10.Conditions[0].PathPatternConfig.Values, []string{"/api/*"}) || !slices.Equal(r10.Conditions[0].Values, []string{"/api/*"}) {
		t.Errorf("rule %+v", r10)
	}
	r5 := must[*elb.CreateRuleOutput](t)(c.CreateRule(ctx, &elb.CreateRuleInput{
		ListenerArn: aws.String(f.listener), Priority: aws.Int32(5),
		Conditions: []types.RuleCondition{
			{Field: aws.String("host-header"), HostHeaderConfig: &types.HostHeaderConditionConfig{Values: []string{"*.example.com"}}},
			{Field: aws.String("http-header"), HttpHeaderConfig: &types.HttpHeaderConditionConfig{HttpHeaderName: aws.String("X-Env"), Values: []string{"beta"}}},
			{Field: aws.String("http-request-method"), HttpRequestMethodConfig: &types.HttpRequestMethodConditionConfig{Values: []string{"GET"}}},
			{Field: aws.String("query-string"), QueryStringConfig: &types.QueryStringConditionConfig{Values: []types.QueryStringKeyValuePair{{Key: aws.String("v"), Value: aws.String("2")}}}},
			{Field: aws.String("source-ip"), SourceIpConfig: &types.SourceIpConditionConfig{Values: []string{"10.0.0.0/8"}}},
		},
		Actions: []types.Action{{Type: types.ActionTypeEnumFixedResponse, FixedResponseConfig: &types.FixedResponseActionConfig{StatusCode: aws.String("503"), ContentType: aws.String("text/plain"), MessageBody: aws.String("down")}}},
	})).Rules[0]
	r20 := must[*elb.CreateRuleOutput](t)(c.CreateRule(ctx, &elb.CreateRuleInput{
		ListenerArn: aws.String(f.listener), Priority: aws.Int32(20),
		Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), Values: []string{"/old/*"}}},
		Actions:    []types.Action{{Type: types.ActionTypeEnumRedirect, RedirectConfig: &types.RedirectActionConfig{Protocol: aws.String("HTTPS"), Port: aws.String("443"), StatusCode: types.RedirectActionStatusCodeEnumHttp301}}},
	})).Rules[0]
	rc := r20.Actions[0].RedirectConfig
	if aws.ToString(rc.Host) != "#{host}" || aws.ToString(rc.Path) != "/#{path}" || aws.ToString(rc.Query) != "#{query}" || aws.ToString(rc.Port) != "443" {
		t.Errorf("redirect %+v", rc)
	}

	// Weighted forward with group stickiness as the default action.
	must[*elb.ModifyListenerOutput](t)(c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: aws.String(f.listener), DefaultActions: []types.Action{{
		Type: types.ActionTypeEnumForward, ForwardConfig: &types.ForwardActionConfig{
			TargetGroups:                []types.TargetGroupTuple{{TargetGroupArn: aws.String(f.tg), Weight: aws.Int32(80)}, {TargetGroupArn: aws.String(api), Weight: aws.Int32(20)}},
			TargetGroupStickinessConfig: &types.TargetGroupStickinessConfig{Enabled: aws.Bool(true), DurationSeconds: aws.Int32(300)},
		},
	}}}))

	rules := must[*elb.DescribeRulesOutput](t)(c.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(f.listener)})).Rules
	var prios []string
	for _, r := range rules {
		prios = append(prios, aws.ToString(r.Priority))
	}
	if !slices.Equal(prios, []string{"5", "10", "20", "default"}) {
		t.Fatalf("priorities %v", prios)
	}
	if def := rules[3].Actions[0]; def.TargetGroupArn != nil || len(def.ForwardConfig.TargetGroups) != 2 || !aws.ToBool(def.ForwardConfig.TargetGroupStickinessConfig.Enabled) {
		t.Errorf("default action %+v", def)
	}

	// Swap two priorities at once; one alone collides.
	_, err := c.SetRulePriorities(ctx, &elb.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{{RuleArn: r5.RuleArn, Priority: aws.Int32(10)}}})
	wantCode(t, err, "PriorityInUse")
	must[*elb.SetRulePrioritiesOutput](t)(c.SetRulePriorities(ctx, &elb.SetRulePrioritiesInput{RulePriorities: []types.RulePriorityPair{
		{RuleArn: r5.RuleArn, Priority: aws.Int32(10)}, {RuleArn: r10.RuleArn, Priority: aws.Int32(5)},
	}}))
	mod := must[*elb.ModifyRuleOutput](t)(c.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: r10.RuleArn, Conditions: []types.RuleCondition{{Field: aws.String("path-pattern"), PathPatternConfig: &types.PathPatternConditionConfig{Values: []string{"/v2/*"}}}}})).Rules[0]
	if !slices.Equal(mod.Conditions[0].Values, []string{"/v2/*"}) || aws.ToString(mod.Priority) != "5" {
		t.Errorf("modified rule %+v", mod)
	}
	tgs := must[*elb.DescribeTargetGroupsOutput](t)(c.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(f.lb)}))
	if len(tgs.TargetGroups) != 2 {
		t.Errorf("target groups of the load balancer: %d", len(tgs.TargetGroups))
	}

	_, snapTGs := snapshot(t, e)
	lbs, _ := snapshot(t, e)
	sr := lbs[0].Listeners[0].Rules
	if len(sr) != 4 || sr[0].Priority != "5" || sr[0].Conditions[0].Values[0] != "/v2/*" || sr[1].Priority != "10" || sr[3].Priority != "default" {
		t.Fatalf("snapshot rules %+v", sr)
	}
	if conds := sr[1].Conditions; len(conds) != 5 || conds[1].HeaderName != "X-Env" || conds[3].QueryValues[0] != (desired.KeyValue{Key: "v", Value: "2"}) || conds[4].Values[0] != "10.0.0.0/8" {
		t.Errorf("snapshot conditions %+v", conds)
	}
	if a := sr[1].Actions[0]; a.FixedResponse == nil || a.FixedResponse.StatusCode != "503" || a.FixedResponse.MessageBody != "down" {
		t.Errorf("snapshot fixed response %+v", a)
	}
	if a := sr[2].Actions[0]; a.Redirect == nil || a.Redirect.Protocol != "HTTPS" || a.Redirect.StatusCode != "HTTP_301" {
		t.Errorf("snapshot redirect %+v", a)
	}
	if a := sr[3].Actions[0]; len(a.TargetGroups) != 2 || a.TargetGroups[0].Weight != 80 || !a.StickinessEnabled || a.StickinessDuration != 300 {
		t.Errorf("snapshot weighted forward %+v", a)
	}
	if len(snapTGs) != 2 {
		t.Errorf("snapshot target groups: %d", len(snapTGs))
	}

	must[*elb.DeleteRuleOutput](t)(c.DeleteRule(ctx, &elb.DeleteRuleInput{RuleArn: r10.RuleArn}))
	if n := len(must[*elb.DescribeRulesOutput](t)(c.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(f.listener)})).Rules); n != 3 {
		t.Errorf("%d rules after delete", n)
	}
	// Tags on listeners and rules.
	must[*elb.AddTagsOutput](t)(c.AddTags(ctx, &elb.AddTagsInput{ResourceArns: []string{f.listener, *r5.RuleArn, f.tg}, Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}))
	must[*elb.RemoveTagsOutput](t)(c.RemoveTags(ctx, &elb.RemoveTagsInput{ResourceArns: []string{f.tg}, TagKeys: []string{"k"}}))
	td := must[*elb.DescribeTagsOutput](t)(c.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: []string{f.listener, *r5.RuleArn, f.tg}})).TagDescriptions
	if len(td) != 3 || len(td[0].Tags) != 1 || len(td[1].Tags) != 1 || len(td[2].Tags) != 0 {
		t.Errorf("tags %+v", td)
	}
}

// TestHTTPS covers certificates through the Certificates interface.
func TestHTTPS(t *testing.T) {
	const cert1, cert2 = "arn:aws:acm:ap-northeast-2:000000000000:certificate/one", "arn:aws:acm:ap-northeast-2:000000000000:certificate/two"
	certs := newFakeCerts(cert1, cert2)
	e := newEnv(t, certs)
	f := e.fixture(t)
	ctx := context.Background()
	c := e.elb

	_, err := c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(f.lb), Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443), DefaultActions: forward(f.tg),
		Certificates: []types.Certificate{{CertificateArn: aws.String(cert1 + "x")}}})
	wantCode(t, err, "CertificateNotFound")
	_, err = c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(f.lb), Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443), DefaultActions: forward(f.tg),
		Certificates: []types.Certificate{{CertificateArn: aws.String(cert1)}}, SslPolicy: aws.String("ELBSecurityPolicy-nope")})
	wantCode(t, err, "SSLPolicyNotFound")
	l := must[*elb.CreateListenerOutput](t)(c.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: aws.String(f.lb), Protocol: types.ProtocolEnumHttps, Port: aws.Int32(443), DefaultActions: forward(f.tg),
		Certificates: []types.Certificate{{CertificateArn: aws.String(cert1)}}})).Listeners[0]
	if aws.ToString(l.SslPolicy) != "ELBSecurityPolicy-2016-08" || len(l.Certificates) != 1 || aws.ToString(l.Certificates[0].CertificateArn) != cert1 {
		t.Errorf("listener %+v", l)
	}
	if !slices.Equal(certs.users(cert1), []string{*l.ListenerArn}) {
		t.Errorf("certificate users %v", certs.users(cert1))
	}
	must[*elb.AddListenerCertificatesOutput](t)(c.AddListenerCertificates(ctx, &elb.AddListenerCertificatesInput{ListenerArn: l.ListenerArn, Certificates: []types.Certificate{{CertificateArn: aws.String(cert2)}}}))
	lc := must[*elb.DescribeListenerCertificatesOutput](t)(c.DescribeListenerCertificates(ctx, &elb.DescribeListenerCertificatesInput{ListenerArn: l.ListenerArn})).Certificates
	if len(lc) != 2 || !aws.ToBool(lc[0].IsDefault) || aws.ToBool(lc[1].IsDefault) || aws.ToString(lc[1].CertificateArn) != cert2 {
		t.Errorf("listener certificates %+v", lc)
	}
	_, err = c.RemoveListenerCertificates(ctx, &elb.RemoveListenerCertificatesInput{ListenerArn: l.ListenerArn, Certificates: []types.Certificate{{CertificateArn: aws.String(cert1)}}})
	wantCode(t, err, "OperationNotPermitted")
	lbs, _ := snapshot(t, e)
	if sl := lbs[0].Listeners[1]; sl.Protocol != "HTTPS" || !slices.Equal(sl.Certificates, []string{cert1, cert2}) || sl.SSLPolicy != "ELBSecurityPolicy-2016-08" {
		t.Errorf("snapshot listener %+v", sl)
	}
	must[*elb.RemoveListenerCertificatesOutput](t)(c.RemoveListenerCertificates(ctx, &elb.RemoveListenerCertificatesInput{ListenerArn: l.ListenerArn, Certificates: []types.Certificate{{CertificateArn: aws.String(cert2)}}}))
	if len(certs.users(cert2)) != 0 {
		t.Errorf("cert2 still used by %v", certs.users(cert2))
	}
	pol := must[*elb.DescribeSSLPoliciesOutput](t)(c.DescribeSSLPolicies(ctx, &elb.DescribeSSLPoliciesInput{Names: []string{"ELBSecurityPolicy-TLS13-1-2-2021-06"}})).SslPolicies[0]
	if !slices.Contains(pol.SslProtocols, "TLSv1.3") || aws.ToString(pol.Ciphers[0].Name) != "TLS_AES_128_GCM_SHA256" {
		t.Errorf("policy %+v", pol)
	}
	// HTTPS to HTTP drops the certificate; deleting the load balancer
	// releases what its listeners used.
	must[*elb.ModifyListenerOutput](t)(c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: l.ListenerArn, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(8080)}))
	if len(certs.users(cert1)) != 0 {
		t.Errorf("cert1 still used by %v", certs.users(cert1))
	}
	must[*elb.ModifyListenerOutput](t)(c.ModifyListener(ctx, &elb.ModifyListenerInput{ListenerArn: l.ListenerArn, Protocol: types.ProtocolEnumHttps, Certificates: []types.Certificate{{CertificateArn: aws.String(cert2)}}}))
	must[*elb.DeleteLoadBalancerOutput](t)(c.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(f.lb)}))
	if len(certs.users(cert2)) != 0 {
		t.Errorf("cert2 still used by %v", certs.users(cert2))
	}
	limits := must[*elb.DescribeAccountLimitsOutput](t)(c.DescribeAccountLimits(ctx, &elb.DescribeAccountLimitsInput{}))
	if aws.ToString(limits.Limits[0].Name) != "application-load-balancers" || aws.ToString(limits.Limits[0].Max) != "50" {
		t.Errorf("limits %+v", limits.Limits[0])
	}
}

// TestHealthWithDataPlane covers the states the data plane's reports and
// the instances' states give.
func TestHealthWithDataPlane(t *testing.T) {
	e := newEnv(t, nil)
	e.svc.SetDataPlane(true)
	f := e.fixture(t)
	ctx := context.Background()
	must[*elb.RegisterTargetsOutput](t)(e.elb.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(f.tg), Targets: []types.TargetDescription{
		{Id: aws.String(f.instances[0])}, {Id: aws.String(f.instances[1]), Port: aws.Int32(8080)},
	}}))
	hs := health(t, e, f.tg)
	wantHealth(t, hs[0], types.TargetHealthStateEnumInitial, types.TargetHealthReasonEnumRegistrationInProgress)
	if aws.ToInt32(hs[1].Target.Port) != 8080 || aws.ToString(hs[1].HealthCheckPort) != "8080" {
		t.Errorf("port override %+v", hs[1])
	}
	eventually(t, "initial health checking", 5*time.Second, func() bool {
		return health(t, e, f.tg)[0].TargetHealth.Reason == types.TargetHealthReasonEnumInitialHealthChecking
	})
	if err := e.svc.ReportHealth("000000000000", region, f.tg, f.instances[0], 3000, true, "", ""); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ReportHealth("000000000000", region, f.tg, f.instances[1], 8080, false, "Target.ResponseCodeMismatch", "Health checks failed with these codes: [502]"); err != nil {
		t.Fatal(err)
	}
	hs = health(t, e, f.tg)
	wantHealth(t, hs[0], types.TargetHealthStateEnumHealthy, "")
	wantHealth(t, hs[1], types.TargetHealthStateEnumUnhealthy, types.TargetHealthReasonEnumResponseCodeMismatch)
	if aws.ToString(hs[1].TargetHealth.Description) != "Health checks failed with these codes: [502]" {
		t.Errorf("description %q", aws.ToString(hs[1].TargetHealth.Description))
	}
	if err := e.svc.ReportHealth("000000000000", region, f.tg[:len(f.tg)-16]+"0123456789abcdef", f.instances[0], 3000, true, "", ""); err == nil {
		t.Error("report for an unknown group accepted")
	}

	// A stopped instance is unused, InvalidState.
	must[*ec2sdk.StopInstancesOutput](t)(e.ec2.StopInstances(ctx, &ec2sdk.StopInstancesInput{InstanceIds: f.instances[:1]}))
	waiter := ec2sdk.NewInstanceStoppedWaiter(e.ec2, func(o *ec2sdk.InstanceStoppedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, 200*time.Millisecond
	})
	if err := waiter.Wait(ctx, &ec2sdk.DescribeInstancesInput{InstanceIds: f.instances[:1]}, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	wantHealth(t, health(t, e, f.tg)[0], types.TargetHealthStateEnumUnused, types.TargetHealthReasonEnumInvalidState)
	_, err := e.elb.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(f.tg), Targets: []types.TargetDescription{{Id: aws.String(f.instances[0]), Port: aws.Int32(9000)}}})
	wantCode(t, err, "InvalidTarget")

	// Health checks off: unavailable.
	must[*elb.ModifyTargetGroupOutput](t)(e.elb.ModifyTargetGroup(ctx, &elb.ModifyTargetGroupInput{TargetGroupArn: aws.String(f.tg), HealthCheckEnabled: aws.Bool(false)}))
	wantHealth(t, health(t, e, f.tg)[1], types.TargetHealthStateEnumUnavailable, types.TargetHealthReasonEnumHealthCheckDisabled)

	// ip targets: inside the VPC's subnets, with their zone.
	ipTG := must[*elb.CreateTargetGroupOutput](t)(e.elb.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{
		Name: aws.String("ips"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80), VpcId: aws.String(f.vpc), TargetType: types.TargetTypeEnumIp,
	})).TargetGroups[0].TargetGroupArn
	_, err = e.elb.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: ipTG, Targets: []types.TargetDescription{{Id: aws.String("192.168.0.1")}}})
	wantCode(t, err, "InvalidTarget")
	must[*elb.RegisterTargetsOutput](t)(e.elb.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: ipTG, Targets: []types.TargetDescription{{Id: aws.String("10.0.12.77")}}}))
	_, tgs := snapshot(t, e)
	for _, g := range tgs {
		if g.ARN == *ipTG && (len(g.Targets) != 1 || g.Targets[0].IP.String() != "10.0.12.77" || g.Targets[0].AZ != region+"c") {
			t.Errorf("ip targets %+v", g.Targets)
		}
	}
}

// TestSubnetsAndGroups covers SetSubnets and SetSecurityGroups on the
// nodes' interfaces, and an internal load balancer's DNS name.
func TestSubnetsAndGroups(t *testing.T) {
	e := newEnv(t, nil)
	n := e.network(t)
	ctx := context.Background()
	lb := must[*elb.CreateLoadBalancerOutput](t)(e.elb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("inside"), Subnets: n.private, Scheme: types.LoadBalancerSchemeEnumInternal})).LoadBalancers[0]
	if dns := aws.ToString(lb.DNSName); dns[:len("internal-inside-")] != "internal-inside-" || !slices.Equal(lb.SecurityGroups, []string{n.vpcSG}) {
		t.Errorf("internal load balancer %s %v", dns, lb.SecurityGroups)
	}
	nodes := func() []ec2types.NetworkInterface {
		return must[*ec2sdk.DescribeNetworkInterfacesOutput](t)(e.ec2.DescribeNetworkInterfaces(ctx, &ec2sdk.DescribeNetworkInterfacesInput{
			Filters: []ec2types.Filter{{Name: aws.String("requester-managed"), Values: []string{"true"}}},
		})).NetworkInterfaces
	}
	for _, ni := range nodes() {
		if ni.Association != nil {
			t.Errorf("internal node with a public address: %+v", ni)
		}
	}
	sg := must[*elb.SetSecurityGroupsOutput](t)(e.elb.SetSecurityGroups(ctx, &elb.SetSecurityGroupsInput{LoadBalancerArn: lb.LoadBalancerArn, SecurityGroups: []string{n.albSG}}))
	if !slices.Equal(sg.SecurityGroupIds, []string{n.albSG}) {
		t.Errorf("groups %v", sg.SecurityGroupIds)
	}
	for _, ni := range nodes() {
		if aws.ToString(ni.Groups[0].GroupId) != n.albSG {
			t.Errorf("node groups %+v", ni.Groups)
		}
	}
	before := nodes()
	sn := must[*elb.SetSubnetsOutput](t)(e.elb.SetSubnets(ctx, &elb.SetSubnetsInput{LoadBalancerArn: lb.LoadBalancerArn, Subnets: []string{n.private[0], n.public[1]}}))
	if len(sn.AvailabilityZones) != 2 || aws.ToString(sn.AvailabilityZones[1].SubnetId) != n.public[1] {
		t.Errorf("zones %+v", sn.AvailabilityZones)
	}
	after := nodes()
	if len(after) != 2 {
		t.Fatalf("%d nodes", len(after))
	}
	kept := 0
	for _, a := range after {
		for _, b := range before {
			if *a.NetworkInterfaceId == *b.NetworkInterfaceId {
				kept++
			}
		}
	}
	if kept != 1 {
		t.Errorf("%d node interfaces kept, want 1", kept)
	}
	_, err := e.elb.SetSubnets(ctx, &elb.SetSubnetsInput{LoadBalancerArn: lb.LoadBalancerArn, Subnets: []string{n.private[0]}})
	wantCode(t, err, "ValidationError")

	attrs := must[*elb.DescribeLoadBalancerAttributesOutput](t)(e.elb.DescribeLoadBalancerAttributes(ctx, &elb.DescribeLoadBalancerAttributesInput{LoadBalancerArn: lb.LoadBalancerArn})).Attributes
	want := map[string]string{"idle_timeout.timeout_seconds": "60", "deletion_protection.enabled": "false", "routing.http2.enabled": "true", "routing.http.drop_invalid_header_fields.enabled": "false"}
	for _, a := range attrs {
		if v, ok := want[*a.Key]; ok && v != *a.Value {
			t.Errorf("attribute %s = %s, want %s", *a.Key, *a.Value, v)
		}
	}
	tg := e.targetGroup(t, "tg", n.vpc)
	tgAttrs := must[*elb.ModifyTargetGroupAttributesOutput](t)(e.elb.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(tg), Attributes: []types.TargetGroupAttribute{
		{Key: aws.String("stickiness.enabled"), Value: aws.String("true")}, {Key: aws.String("stickiness.type"), Value: aws.String("app_cookie")},
		{Key: aws.String("stickiness.app_cookie.cookie_name"), Value: aws.String("session")}, {Key: aws.String("load_balancing.algorithm.type"), Value: aws.String("least_outstanding_requests")},
	}})).Attributes
	got := map[string]string{}
	for _, a := range tgAttrs {
		got[*a.Key] = *a.Value
	}
	if got["stickiness.type"] != "app_cookie" || got["deregistration_delay.timeout_seconds"] != "300" || got["stickiness.lb_cookie.duration_seconds"] != "86400" || got["load_balancing.algorithm.type"] != "least_outstanding_requests" {
		t.Errorf("target group attributes %v", got)
	}
}

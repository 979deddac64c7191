package elbv2_test

import (
	"context"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/cloudbox/cloudbox/clock"
	"github.com/cloudbox/cloudbox/desired"
)

func snapshot(t *testing.T, e *env) ([]*desired.LoadBalancer, []*desired.TargetGroup) {
	t.Helper()
	w, err := desired.Snapshot(e.st, e.svc)
	if err != nil {
		t.Fatal(err)
	}
	return w.LoadBalancers, w.TargetGroups
}

func health(t *testing.T, e *env, tg string, targets ...types.TargetDescription) []types.TargetHealthDescription {
	t.Helper()
	out := must[*elb.DescribeTargetHealthOutput](t)(e.elb.DescribeTargetHealth(context.Background(), &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tg), Targets: targets}))
	return out.TargetHealthDescriptions
}

func wantHealth(t *testing.T, d types.TargetHealthDescription, state types.TargetHealthStateEnum, reason types.TargetHealthReasonEnum) {
	t.Helper()
	if d.TargetHealth.State != state || d.TargetHealth.Reason != reason {
		t.Fatalf("target %s:%d: health %s/%s (%s), want %s/%s", aws.ToString(d.Target.Id), aws.ToInt32(d.Target.Port),
			d.TargetHealth.State, d.TargetHealth.Reason, aws.ToString(d.TargetHealth.Description), state, reason)
	}
}

// TestSeedFlow is the seed story: an internet-facing ALB in two public
// subnets forwarding to two instances on port 3000.
func TestSeedFlow(t *testing.T) {
	e := newEnv(t, nil)
	n := e.network(t)
	ctx := context.Background()

	lbOut := must[*elb.CreateLoadBalancerOutput](t)(e.elb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{
		Name: aws.String("web"), Subnets: n.public, SecurityGroups: []string{n.albSG},
		Tags: []types.Tag{{Key: aws.String("app"), Value: aws.String("seed")}},
	}))
	lb := lbOut.LoadBalancers[0]
	lbArn := aws.ToString(lb.LoadBalancerArn)
	if !regexp.MustCompile(`^arn:aws:elasticloadbalancing:ap-northeast-2:000000000000:loadbalancer/app/web/[0-9a-f]{16}$`).MatchString(lbArn) {
		t.Errorf("ARN %s", lbArn)
	}
	if !regexp.MustCompile(`^web-\d{10}\.ap-northeast-2\.elb\.amazonaws\.com$`).MatchString(aws.ToString(lb.DNSName)) {
		t.Errorf("DNSName %s", aws.ToString(lb.DNSName))
	}
	if aws.ToString(lb.CanonicalHostedZoneId) != "ZWKZPGTI48KDX" || lb.State.Code != types.LoadBalancerStateEnumProvisioning ||
		lb.Scheme != types.LoadBalancerSchemeEnumInternetFacing || lb.Type != types.LoadBalancerTypeEnumApplication ||
		aws.ToString(lb.VpcId) != n.vpc || lb.IpAddressType != types.IpAddressTypeIpv4 || !slices.Equal(lb.SecurityGroups, []string{n.albSG}) {
		t.Errorf("load balancer %+v", lb)
	}
	if len(lb.AvailabilityZones) != 2 || aws.ToString(lb.AvailabilityZones[0].ZoneName) != region+"a" || aws.ToString(lb.AvailabilityZones[0].SubnetId) != n.public[0] {
		t.Errorf("zones %+v", lb.AvailabilityZones)
	}
	// The same request again answers the same load balancer.
	again := must[*elb.CreateLoadBalancerOutput](t)(e.elb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("web"), Subnets: n.public, SecurityGroups: []string{n.albSG}}))
	if aws.ToString(again.LoadBalancers[0].LoadBalancerArn) != lbArn {
		t.Errorf("idempotent create gave %s", aws.ToString(again.LoadBalancers[0].LoadBalancerArn))
	}

	// One node interface per subnet, public, with the ALB's group.
	enis := must[*ec2sdk.DescribeNetworkInterfacesOutput](t)(e.ec2.DescribeNetworkInterfaces(ctx, &ec2sdk.DescribeNetworkInterfacesInput{
		Filters: []ec2types.Filter{{Name: aws.String("vpc-id"), Values: []string{n.vpc}}, {Name: aws.String("requester-managed"), Values: []string{"true"}}},
	}))
	if len(enis.NetworkInterfaces) != 2 {
		t.Fatalf("%d node interfaces", len(enis.NetworkInterfaces))
	}
	for _, ni := range enis.NetworkInterfaces {
		if !regexp.MustCompile(`^ELB app/web/[0-9a-f]{16}$`).MatchString(aws.ToString(ni.Description)) || ni.Association == nil || ni.Groups[0].GroupId == nil || *ni.Groups[0].GroupId != n.albSG {
			t.Errorf("node interface %+v", ni)
		}
	}

	waiter := elb.NewLoadBalancerAvailableWaiter(e.elb, func(o *elb.LoadBalancerAvailableWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, 500*time.Millisecond
	})
	if err := waiter.Wait(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{lbArn}}, 20*time.Second); err != nil {
		t.Fatal(err)
	}

	tgOut := must[*elb.CreateTargetGroupOutput](t)(e.elb.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{
		Name: aws.String("app"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(3000), VpcId: aws.String(n.vpc),
	}))
	tg := tgOut.TargetGroups[0]
	tgArn := aws.ToString(tg.TargetGroupArn)
	if !regexp.MustCompile(`:targetgroup/app/[0-9a-f]{16}$`).MatchString(tgArn) || tg.TargetType != types.TargetTypeEnumInstance ||
		aws.ToInt32(tg.HealthCheckIntervalSeconds) != 30 || aws.ToInt32(tg.HealthCheckTimeoutSeconds) != 5 || aws.ToInt32(tg.HealthyThresholdCount) != 5 ||
		aws.ToInt32(tg.UnhealthyThresholdCount) != 2 || aws.ToString(tg.HealthCheckPath) != "/" || aws.ToString(tg.Matcher.HttpCode) != "200" ||
		aws.ToString(tg.HealthCheckPort) != "traffic-port" || tg.HealthCheckProtocol != types.ProtocolEnumHttp || !aws.ToBool(tg.HealthCheckEnabled) {
		t.Errorf("target group %+v", tg)
	}
	must[*elb.RegisterTargetsOutput](t)(e.elb.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(tgArn), Targets: []types.TargetDescription{{Id: aws.String(n.instances[0])}, {Id: aws.String(n.instances[1])}}}))
	for _, d := range health(t, e, tgArn) {
		wantHealth(t, d, types.TargetHealthStateEnumUnused, types.TargetHealthReasonEnumNotInUse)
	}

	lOut := must[*elb.CreateListenerOutput](t)(e.elb.CreateListener(ctx, &elb.CreateListenerInput{
		LoadBalancerArn: aws.String(lbArn), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgArn)}},
	}))
	listener := lOut.Listeners[0]
	listenerArn := aws.ToString(listener.ListenerArn)
	lbID := lbArn[len(lbArn)-16:]
	if !regexp.MustCompile(`:listener/app/web/` + lbID + `/[0-9a-f]{16}$`).MatchString(listenerArn) {
		t.Errorf("listener ARN %s", listenerArn)
	}
	fwd := listener.DefaultActions[0]
	if aws.ToString(fwd.TargetGroupArn) != tgArn || aws.ToInt32(fwd.Order) != 1 || len(fwd.ForwardConfig.TargetGroups) != 1 || aws.ToInt32(fwd.ForwardConfig.TargetGroups[0].Weight) != 1 ||
		aws.ToBool(fwd.ForwardConfig.TargetGroupStickinessConfig.Enabled) {
		t.Errorf("default action %+v", fwd)
	}
	for _, d := range health(t, e, tgArn) {
		wantHealth(t, d, types.TargetHealthStateEnumInitial, types.TargetHealthReasonEnumRegistrationInProgress)
		if aws.ToString(d.HealthCheckPort) != "3000" || aws.ToInt32(d.Target.Port) != 3000 {
			t.Errorf("description %+v", d)
		}
	}
	inService := elb.NewTargetInServiceWaiter(e.elb, func(o *elb.TargetInServiceWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, 500*time.Millisecond
	})
	if err := inService.Wait(ctx, &elb.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgArn)}, 20*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, d := range health(t, e, tgArn) {
		wantHealth(t, d, types.TargetHealthStateEnumHealthy, "")
	}

	// Describe everything.
	tgs := must[*elb.DescribeTargetGroupsOutput](t)(e.elb.DescribeTargetGroups(ctx, &elb.DescribeTargetGroupsInput{LoadBalancerArn: aws.String(lbArn)}))
	if len(tgs.TargetGroups) != 1 || !slices.Equal(tgs.TargetGroups[0].LoadBalancerArns, []string{lbArn}) {
		t.Errorf("target groups of the load balancer: %+v", tgs.TargetGroups)
	}
	ls := must[*elb.DescribeListenersOutput](t)(e.elb.DescribeListeners(ctx, &elb.DescribeListenersInput{LoadBalancerArn: aws.String(lbArn)}))
	if len(ls.Listeners) != 1 || aws.ToString(ls.Listeners[0].ListenerArn) != listenerArn || aws.ToInt32(ls.Listeners[0].Port) != 80 {
		t.Errorf("listeners %+v", ls.Listeners)
	}
	rules := must[*elb.DescribeRulesOutput](t)(e.elb.DescribeRules(ctx, &elb.DescribeRulesInput{ListenerArn: aws.String(listenerArn)}))
	if len(rules.Rules) != 1 || !aws.ToBool(rules.Rules[0].IsDefault) || aws.ToString(rules.Rules[0].Priority) != "default" ||
		!regexp.MustCompile(`:listener-rule/app/web/`+lbID+`/[0-9a-f]{16}/[0-9a-f]{16}$`).MatchString(aws.ToString(rules.Rules[0].RuleArn)) {
		t.Errorf("rules %+v", rules.Rules)
	}
	lbs := must[*elb.DescribeLoadBalancersOutput](t)(e.elb.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{Names: []string{"web"}}))
	if len(lbs.LoadBalancers) != 1 || lbs.LoadBalancers[0].State.Code != types.LoadBalancerStateEnumActive {
		t.Errorf("load balancers %+v", lbs.LoadBalancers)
	}
	tags := must[*elb.DescribeTagsOutput](t)(e.elb.DescribeTags(ctx, &elb.DescribeTagsInput{ResourceArns: []string{lbArn}}))
	if len(tags.TagDescriptions) != 1 || len(tags.TagDescriptions[0].Tags) != 1 || aws.ToString(tags.TagDescriptions[0].Tags[0].Value) != "seed" {
		t.Errorf("tags %+v", tags.TagDescriptions)
	}

	// What the data plane sees.
	slbs, stgs := snapshot(t, e)
	if len(slbs) != 1 || len(stgs) != 1 {
		t.Fatalf("snapshot: %d load balancers, %d target groups", len(slbs), len(stgs))
	}
	s := slbs[0]
	if s.State != "active" || s.Scheme != "internet-facing" || s.VPC != n.vpc || len(s.Nodes) != 2 || s.Attributes["idle_timeout.timeout_seconds"] != "60" {
		t.Errorf("snapshot load balancer %+v", s)
	}
	for _, node := range s.Nodes {
		if !node.PrivateIP.IsValid() || !node.PublicIP.IsValid() || node.ENI == "" {
			t.Errorf("node %+v", node)
		}
	}
	if len(s.Listeners) != 1 || len(s.Listeners[0].Rules) != 1 || s.Listeners[0].Rules[0].Priority != "default" ||
		s.Listeners[0].Rules[0].Actions[0].TargetGroups[0].ARN != tgArn {
		t.Errorf("snapshot listeners %+v", s.Listeners)
	}
	st := stgs[0]
	if st.Port != 3000 || st.HealthCheck.IntervalSeconds != 30 || st.HealthCheck.Matcher != "200" || len(st.Targets) != 2 {
		t.Fatalf("snapshot target group %+v", st)
	}
	for i, tt := range st.Targets {
		if tt.ID != n.instances[i] || tt.Port != 3000 || tt.IP.String() != []string{"10.0.11.10", "10.0.12.10"}[i] || tt.AZ != []string{region + "a", region + "c"}[i] || tt.Draining {
			t.Errorf("snapshot target %+v", tt)
		}
	}

	// Deregistration drains for the delay, then the target is gone.
	must[*elb.ModifyTargetGroupAttributesOutput](t)(e.elb.ModifyTargetGroupAttributes(ctx, &elb.ModifyTargetGroupAttributesInput{
		TargetGroupArn: aws.String(tgArn), Attributes: []types.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("1")}},
	}))
	must[*elb.DeregisterTargetsOutput](t)(e.elb.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(tgArn), Targets: []types.TargetDescription{{Id: aws.String(n.instances[0])}}}))
	first := types.TargetDescription{Id: aws.String(n.instances[0])}
	wantHealth(t, health(t, e, tgArn, first)[0], types.TargetHealthStateEnumDraining, types.TargetHealthReasonEnumDeregistrationInProgress)
	if _, stgs := snapshot(t, e); !stgs[0].Targets[0].Draining {
		t.Errorf("draining target in snapshot: %+v", stgs[0].Targets[0])
	}
	eventually(t, "drained target gone", 10*time.Second, func() bool {
		return health(t, e, tgArn, first)[0].TargetHealth.Reason == types.TargetHealthReasonEnumNotRegistered
	})
	wantHealth(t, health(t, e, tgArn, first)[0], types.TargetHealthStateEnumUnused, types.TargetHealthReasonEnumNotRegistered)
	if len(health(t, e, tgArn)) != 1 {
		t.Errorf("targets after draining: %+v", health(t, e, tgArn))
	}

	// Tear down: the group is in use until its listener goes; the
	// load balancer's interfaces go with it.
	_, err := e.elb.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(tgArn)})
	wantCode(t, err, "ResourceInUse")
	must[*elb.DeleteListenerOutput](t)(e.elb.DeleteListener(ctx, &elb.DeleteListenerInput{ListenerArn: aws.String(listenerArn)}))
	must[*elb.DeleteTargetGroupOutput](t)(e.elb.DeleteTargetGroup(ctx, &elb.DeleteTargetGroupInput{TargetGroupArn: aws.String(tgArn)}))
	must[*elb.DeleteLoadBalancerOutput](t)(e.elb.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(lbArn)}))
	must[*elb.DeleteLoadBalancerOutput](t)(e.elb.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerArn: aws.String(lbArn)}))
	enis = must[*ec2sdk.DescribeNetworkInterfacesOutput](t)(e.ec2.DescribeNetworkInterfaces(ctx, &ec2sdk.DescribeNetworkInterfacesInput{
		Filters: []ec2types.Filter{{Name: aws.String("requester-managed"), Values: []string{"true"}}},
	}))
	if len(enis.NetworkInterfaces) != 0 {
		t.Errorf("%d node interfaces left", len(enis.NetworkInterfaces))
	}
	_, err = e.elb.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerArns: []string{lbArn}})
	wantCode(t, err, "LoadBalancerNotFound")
}

// TestDeregistrationDelayAtTimeScale checks that the deregistration delay
// is AWS's, in virtual time: at 600 times AWS's speed the default 300 s
// drain lasts half a second.
func TestDeregistrationDelayAtTimeScale(t *testing.T) {
	e := newScaledEnv(t, nil, clock.New(600))
	n := e.network(t)
	ctx := context.Background()
	tg := must[*elb.CreateTargetGroupOutput](t)(e.elb.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{
		Name: aws.String("scaled"), Protocol: types.ProtocolEnumHttp, Port: aws.Int32(3000), VpcId: aws.String(n.vpc),
	}))
	tgArn := *tg.TargetGroups[0].TargetGroupArn
	// Only a group in use drains; an unused one lets targets go at once.
	lb := must[*elb.CreateLoadBalancerOutput](t)(e.elb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{
		Name: aws.String("scaled"), Subnets: n.public, SecurityGroups: []string{n.albSG},
	}))
	must[*elb.CreateListenerOutput](t)(e.elb.CreateListener(ctx, &elb.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: types.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []types.Action{{Type: types.ActionTypeEnumForward, TargetGroupArn: aws.String(tgArn)}},
	}))
	first := types.TargetDescription{Id: aws.String(n.instances[0])}
	must[*elb.RegisterTargetsOutput](t)(e.elb.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: aws.String(tgArn), Targets: []types.TargetDescription{first}}))
	must[*elb.DeregisterTargetsOutput](t)(e.elb.DeregisterTargets(ctx, &elb.DeregisterTargetsInput{TargetGroupArn: aws.String(tgArn), Targets: []types.TargetDescription{first}}))
	start := time.Now()
	wantHealth(t, health(t, e, tgArn, first)[0], types.TargetHealthStateEnumDraining, types.TargetHealthReasonEnumDeregistrationInProgress)
	eventually(t, "drained target gone", 5*time.Second, func() bool {
		return health(t, e, tgArn, first)[0].TargetHealth.Reason == types.TargetHealthReasonEnumNotRegistered
	})
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("the 300 s delay at 600x lasted %v of wall time, want about 500 ms", took)
	}
}

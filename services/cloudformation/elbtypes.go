package cloudformation

import (
	"fmt"
	"strings"

	elbv2api "github.com/cloudbox/cloudbox/api/elbv2"
)

// Elastic Load Balancing v2's resource types, made through its API. Their
// Ref is their ARN.
func init() {
	register("AWS::ElasticLoadBalancingV2::LoadBalancer", &provider{Create: createLoadBalancer, Delete: func(c *call, s *state, _ props) error {
		_, err := c.invoke("elbv2", "DeleteLoadBalancer", &elbv2api.DeleteLoadBalancerInput{LoadBalancerArn: &s.Physical})
		return err
	}})
	register("AWS::ElasticLoadBalancingV2::TargetGroup", &provider{Create: createTargetGroup, Delete: func(c *call, s *state, _ props) error {
		_, err := c.invoke("elbv2", "DeleteTargetGroup", &elbv2api.DeleteTargetGroupInput{TargetGroupArn: &s.Physical})
		return err
	}, Update: updateTargetGroup, Replace: []string{"Name", "Port", "Protocol", "ProtocolVersion", "TargetType", "VpcId", "IpAddressType"}})
	register("AWS::ElasticLoadBalancingV2::Listener", &provider{Create: createListener, Delete: func(c *call, s *state, _ props) error {
		_, err := c.invoke("elbv2", "DeleteListener", &elbv2api.DeleteListenerInput{ListenerArn: &s.Physical})
		return err
	}, Update: updateListener, Replace: []string{"LoadBalancerArn"}})
	register("AWS::ElasticLoadBalancingV2::ListenerRule", &provider{Create: createRule2, Delete: func(c *call, s *state, _ props) error {
		_, err := c.invoke("elbv2", "DeleteRule", &elbv2api.DeleteRuleInput{RuleArn: &s.Physical})
		return err
	}, Update: updateListenerRule, Replace: []string{"ListenerArn"}})
}

// elbName is a load balancer's or target group's generated name: at most
// 32 letters, digits and hyphens.
func elbName(c *call) string {
	n := c.physicalName(32, false)
	return strings.Trim(strings.ReplaceAll(n, "--", "-"), "-")
}

func elbTags(c *call, p props) []*elbv2api.Tag {
	var out []*elbv2api.Tag
	for _, t := range c.tags(p) {
		out = append(out, &elbv2api.Tag{Key: str(t[0]), Value: str(t[1])})
	}
	return out
}

// A load balancer is complete once active.
func createLoadBalancer(c *call, p props) (*state, error) {
	in := &elbv2api.CreateLoadBalancerInput{}
	fill(in, p, map[string]string{"Tags": ""})
	if in.Name == nil {
		in.Name = str(elbName(c))
	}
	in.Tags = elbTags(c, p)
	out, err := c.invoke("elbv2", "CreateLoadBalancer", in)
	if err != nil {
		return nil, err
	}
	lb := out.(*elbv2api.CreateLoadBalancerOutput).LoadBalancers[0]
	arn := deref(lb.LoadBalancerArn)
	st := &state{Physical: arn}
	if attrs := p.maps("LoadBalancerAttributes"); len(attrs) > 0 {
		mod := &elbv2api.ModifyLoadBalancerAttributesInput{LoadBalancerArn: &arn}
		for _, a := range attrs {
			mod.Attributes = append(mod.Attributes, &elbv2api.LoadBalancerAttribute{Key: a.strp("Key"), Value: a.strp("Value")})
		}
		if _, err := c.invoke("elbv2", "ModifyLoadBalancerAttributes", mod); err != nil {
			return st, err
		}
	}
	err = c.wait("load balancer active", func() (bool, error) {
		out, err := c.invoke("elbv2", "DescribeLoadBalancers", &elbv2api.DescribeLoadBalancersInput{LoadBalancerArns: []*string{&arn}})
		if err != nil {
			return false, err
		}
		for _, l := range out.(*elbv2api.DescribeLoadBalancersOutput).LoadBalancers {
			lb = l
		}
		switch s := deref(lb.State.Code); s {
		case "active":
			return true, nil
		case "provisioning":
			return false, nil
		default:
			return false, fmt.Errorf("load balancer %s is %s: %s", deref(lb.LoadBalancerName), s, deref(lb.State.Reason))
		}
	})
	var groups []any
	for _, g := range lb.SecurityGroups {
		groups = append(groups, deref(g))
	}
	st.Attrs = map[string]any{"LoadBalancerArn": arn, "DNSName": deref(lb.DNSName), "CanonicalHostedZoneID": deref(lb.CanonicalHostedZoneId),
		"LoadBalancerName": deref(lb.LoadBalancerName), "LoadBalancerFullName": fullName(arn, ":loadbalancer/"), "SecurityGroups": groups}
	return st, err
}

// fullName is the part of an ARN after its resource type's marker
// ("app/name/id", "targetgroup/name/id").
func fullName(arn, marker string) string {
	if i := strings.Index(arn, marker); i >= 0 {
		return arn[i+len(marker):]
	}
	return ""
}

func createTargetGroup(c *call, p props) (*state, error) {
	in := &elbv2api.CreateTargetGroupInput{}
	fill(in, p, map[string]string{"Tags": ""})
	if in.Name == nil {
		in.Name = str(elbName(c))
	}
	in.Tags = elbTags(c, p)
	out, err := c.invoke("elbv2", "CreateTargetGroup", in)
	if err != nil {
		return nil, err
	}
	tg := out.(*elbv2api.CreateTargetGroupOutput).TargetGroups[0]
	arn := deref(tg.TargetGroupArn)
	st := &state{Physical: arn, Attrs: map[string]any{"TargetGroupArn": arn, "TargetGroupName": deref(tg.TargetGroupName),
		"TargetGroupFullName": "targetgroup/" + fullName(arn, ":targetgroup/"), "LoadBalancerArns": []any{}}}
	if attrs := p.maps("TargetGroupAttributes"); len(attrs) > 0 {
		mod := &elbv2api.ModifyTargetGroupAttributesInput{TargetGroupArn: &arn}
		for _, a := range attrs {
			mod.Attributes = append(mod.Attributes, &elbv2api.TargetGroupAttribute{Key: a.strp("Key"), Value: a.strp("Value")})
		}
		if _, err := c.invoke("elbv2", "ModifyTargetGroupAttributes", mod); err != nil {
			return st, err
		}
	}
	if targets := p.maps("Targets"); len(targets) > 0 {
		reg := &elbv2api.RegisterTargetsInput{TargetGroupArn: &arn}
		for _, t := range targets {
			reg.Targets = append(reg.Targets, &elbv2api.TargetDescription{Id: t.strp("Id"), Port: t.int64p("Port"), AvailabilityZone: t.strp("AvailabilityZone")})
		}
		if _, err := c.invoke("elbv2", "RegisterTargets", reg); err != nil {
			return st, err
		}
	}
	return st, nil
}

func createListener(c *call, p props) (*state, error) {
	in := &elbv2api.CreateListenerInput{}
	fill(in, p, map[string]string{"Tags": ""})
	out, err := c.invoke("elbv2", "CreateListener", in)
	if err != nil {
		return nil, err
	}
	arn := deref(out.(*elbv2api.CreateListenerOutput).Listeners[0].ListenerArn)
	return &state{Physical: arn, Attrs: map[string]any{"ListenerArn": arn}}, nil
}

func createRule2(c *call, p props) (*state, error) {
	in := &elbv2api.CreateRuleInput{}
	fill(in, p, map[string]string{"Tags": ""})
	out, err := c.invoke("elbv2", "CreateRule", in)
	if err != nil {
		return nil, err
	}
	arn := deref(out.(*elbv2api.CreateRuleOutput).Rules[0].RuleArn)
	return &state{Physical: arn, Attrs: map[string]any{"RuleArn": arn, "IsDefault": "false"}}, nil
}

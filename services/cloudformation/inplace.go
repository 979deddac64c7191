package cloudformation

import (
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	elbv2api "github.com/cloudbox/cloudbox/api/elbv2"
)

// In-place updates of types whose reference says "Update requires: No
// interruption" for all but the properties in their Replace lists (their
// registrations name them).

// A route's new target replaces the old one in the same route (its
// destination and table replace the route).
func updateRoute(c *call, s *state, _, p props) (*state, error) {
	in := &ec2api.ReplaceRouteRequest{RouteTableId: p.strp("RouteTableId"), DestinationCidrBlock: p.strp("DestinationCidrBlock"),
		DestinationIpv6CidrBlock: p.strp("DestinationIpv6CidrBlock"), DestinationPrefixListId: p.strp("DestinationPrefixListId"),
		GatewayId: p.strp("GatewayId"), NatGatewayId: p.strp("NatGatewayId"), InstanceId: p.strp("InstanceId"),
		NetworkInterfaceId: p.strp("NetworkInterfaceId"), VpcPeeringConnectionId: p.strp("VpcPeeringConnectionId"),
		TransitGatewayId: p.strp("TransitGatewayId"), EgressOnlyInternetGatewayId: p.strp("EgressOnlyInternetGatewayId"),
		VpcEndpointId: p.strp("VpcEndpointId")}
	if _, err := c.invoke("ec2", "ReplaceRoute", in); err != nil {
		return nil, err
	}
	return s, nil
}

func updateListener(c *call, s *state, _, p props) (*state, error) {
	in := &elbv2api.ModifyListenerInput{ListenerArn: &s.Physical}
	fill(in, p, map[string]string{"ListenerArn": ""})
	if _, err := c.invoke("elbv2", "ModifyListener", in); err != nil {
		return nil, err
	}
	return s, nil
}

func updateListenerRule(c *call, s *state, old, p props) (*state, error) {
	in := &elbv2api.ModifyRuleInput{RuleArn: &s.Physical}
	fill(in, p, map[string]string{"RuleArn": ""})
	if _, err := c.invoke("elbv2", "ModifyRule", in); err != nil {
		return nil, err
	}
	if old.str("Priority") != p.str("Priority") {
		pair := &elbv2api.RulePriorityPair{RuleArn: &s.Physical, Priority: p.int64p("Priority")}
		if _, err := c.invoke("elbv2", "SetRulePriorities", &elbv2api.SetRulePrioritiesInput{RulePriorities: []*elbv2api.RulePriorityPair{pair}}); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// A target group's health check, attributes, targets and tags change in
// place.
func updateTargetGroup(c *call, s *state, old, p props) (*state, error) {
	arn := s.Physical
	mod := &elbv2api.ModifyTargetGroupInput{TargetGroupArn: &arn}
	fill(mod, p, map[string]string{"TargetGroupArn": ""})
	if _, err := c.invoke("elbv2", "ModifyTargetGroup", mod); err != nil {
		return nil, err
	}
	if attrs := p.maps("TargetGroupAttributes"); len(attrs) > 0 {
		in := &elbv2api.ModifyTargetGroupAttributesInput{TargetGroupArn: &arn}
		for _, a := range attrs {
			in.Attributes = append(in.Attributes, &elbv2api.TargetGroupAttribute{Key: a.strp("Key"), Value: a.strp("Value")})
		}
		if _, err := c.invoke("elbv2", "ModifyTargetGroupAttributes", in); err != nil {
			return nil, err
		}
	}
	target := func(t props) string { return t.str("Id") + "|" + t.str("Port") + "|" + t.str("AvailabilityZone") }
	was, now := map[string]props{}, map[string]props{}
	for _, t := range old.maps("Targets") {
		was[target(t)] = t
	}
	for _, t := range p.maps("Targets") {
		now[target(t)] = t
	}
	desc := func(t props) *elbv2api.TargetDescription {
		return &elbv2api.TargetDescription{Id: t.strp("Id"), Port: t.int64p("Port"), AvailabilityZone: t.strp("AvailabilityZone")}
	}
	dereg := &elbv2api.DeregisterTargetsInput{TargetGroupArn: &arn}
	for k, t := range was {
		if _, kept := now[k]; !kept {
			dereg.Targets = append(dereg.Targets, desc(t))
		}
	}
	if len(dereg.Targets) > 0 {
		if _, err := c.invoke("elbv2", "DeregisterTargets", dereg); err != nil {
			return nil, err
		}
	}
	reg := &elbv2api.RegisterTargetsInput{TargetGroupArn: &arn}
	for k, t := range now {
		if _, had := was[k]; !had {
			reg.Targets = append(reg.Targets, desc(t))
		}
	}
	if len(reg.Targets) > 0 {
		if _, err := c.invoke("elbv2", "RegisterTargets", reg); err != nil {
			return nil, err
		}
	}
	if err := retagELB(c, arn, old, p); err != nil {
		return nil, err
	}
	return s, nil
}

// retagELB puts a resource's tags from old's to new's.
func retagELB(c *call, arn string, old, p props) error {
	want := map[string]bool{}
	for _, t := range c.tags(p) {
		want[t[0]] = true
	}
	var gone []*string
	for _, t := range c.tags(old) {
		if !want[t[0]] {
			gone = append(gone, str(t[0]))
		}
	}
	if len(gone) > 0 {
		if _, err := c.invoke("elbv2", "RemoveTags", &elbv2api.RemoveTagsInput{ResourceArns: []*string{&arn}, TagKeys: gone}); err != nil {
			return err
		}
	}
	if tags := elbTags(c, p); len(tags) > 0 {
		if _, err := c.invoke("elbv2", "AddTags", &elbv2api.AddTagsInput{ResourceArns: []*string{&arn}, Tags: tags}); err != nil {
			return err
		}
	}
	return nil
}

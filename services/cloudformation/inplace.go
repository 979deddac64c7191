package cloudformation

import (
	"encoding/base64"
	"fmt"
	"reflect"
	"slices"

	asapi "github.com/cloudbox/cloudbox/api/autoscaling"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	elbv2api "github.com/cloudbox/cloudbox/api/elbv2"
	iamapi "github.com/cloudbox/cloudbox/api/iam"
	s3api "github.com/cloudbox/cloudbox/api/s3"
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

// differs says whether a property changed between two sets.
func differs(old, p props, k string) bool {
	return !reflect.DeepEqual(normalize(old[k]), normalize(p[k]))
}

// A role's trust policy, description, session duration, boundary,
// inline and managed policies and tags change in place (its name and
// path replace it).
func updateRole(c *call, s *state, old, p props) (*state, error) {
	name := s.Physical
	if differs(old, p, "AssumeRolePolicyDocument") {
		if _, err := c.invoke("iam", "UpdateAssumeRolePolicy", &iamapi.UpdateAssumeRolePolicyRequest{RoleName: &name,
			PolicyDocument: document(p["AssumeRolePolicyDocument"])}); err != nil {
			return nil, err
		}
	}
	if differs(old, p, "Description") || differs(old, p, "MaxSessionDuration") {
		in := &iamapi.UpdateRoleRequest{RoleName: &name, Description: str(p.str("Description")), MaxSessionDuration: p.int64p("MaxSessionDuration")}
		if in.MaxSessionDuration == nil {
			in.MaxSessionDuration = aws64(3600) // IAM's default, which a removed value returns to
		}
		if _, err := c.invoke("iam", "UpdateRole", in); err != nil {
			return nil, err
		}
	}
	if differs(old, p, "PermissionsBoundary") {
		var err error
		if p.has("PermissionsBoundary") {
			_, err = c.invoke("iam", "PutRolePermissionsBoundary", &iamapi.PutRolePermissionsBoundaryRequest{RoleName: &name, PermissionsBoundary: p.strp("PermissionsBoundary")})
		} else {
			_, err = c.invoke("iam", "DeleteRolePermissionsBoundary", &iamapi.DeleteRolePermissionsBoundaryRequest{RoleName: &name})
		}
		if err != nil {
			return nil, err
		}
	}
	inline := map[string]bool{}
	for _, pol := range p.maps("Policies") {
		inline[pol.str("PolicyName")] = true
		if _, err := c.invoke("iam", "PutRolePolicy", &iamapi.PutRolePolicyRequest{RoleName: &name, PolicyName: pol.strp("PolicyName"),
			PolicyDocument: document(pol["PolicyDocument"])}); err != nil {
			return nil, err
		}
	}
	for _, pol := range old.maps("Policies") {
		if !inline[pol.str("PolicyName")] {
			if _, err := c.invoke("iam", "DeleteRolePolicy", &iamapi.DeleteRolePolicyRequest{RoleName: &name, PolicyName: pol.strp("PolicyName")}); err != nil && !gone(err) {
				return nil, err
			}
		}
	}
	attached := map[string]bool{}
	for _, arn := range old.strs("ManagedPolicyArns") {
		attached[*arn] = true
	}
	managed := map[string]bool{}
	for _, arn := range p.strs("ManagedPolicyArns") {
		managed[*arn] = true
		if !attached[*arn] {
			if _, err := c.invoke("iam", "AttachRolePolicy", &iamapi.AttachRolePolicyRequest{RoleName: &name, PolicyArn: arn}); err != nil {
				return nil, err
			}
		}
	}
	for _, arn := range old.strs("ManagedPolicyArns") {
		if !managed[*arn] {
			if _, err := c.invoke("iam", "DetachRolePolicy", &iamapi.DetachRolePolicyRequest{RoleName: &name, PolicyArn: arn}); err != nil && !gone(err) {
				return nil, err
			}
		}
	}
	if differs(old, p, "Tags") {
		want := map[string]bool{}
		for _, t := range c.tags(p) {
			want[t[0]] = true
		}
		var drop []*string
		for _, t := range c.tags(old) {
			if !want[t[0]] {
				drop = append(drop, str(t[0]))
			}
		}
		if len(drop) > 0 {
			if _, err := c.invoke("iam", "UntagRole", &iamapi.UntagRoleRequest{RoleName: &name, TagKeys: drop}); err != nil {
				return nil, err
			}
		}
		if tags := iamTags(c, p); len(tags) > 0 {
			if _, err := c.invoke("iam", "TagRole", &iamapi.TagRoleRequest{RoleName: &name, Tags: tags}); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

func aws64(n int64) *int64 { return &n }

// A bucket's tags, versioning and ownership controls change in place
// (its name replaces it).
func updateBucket(c *call, s *state, old, p props) (*state, error) {
	name := s.Physical
	if differs(old, p, "Tags") {
		var err error
		if tags := c.tags(p); len(tags) > 0 {
			t := &s3api.Tagging{}
			for _, kv := range tags {
				t.TagSet = append(t.TagSet, &s3api.Tag{Key: str(kv[0]), Value: str(kv[1])})
			}
			_, err = c.invoke("s3", "PutBucketTagging", &s3api.PutBucketTaggingRequest{Bucket: &name, Tagging: t})
		} else {
			_, err = c.invoke("s3", "DeleteBucketTagging", &s3api.DeleteBucketTaggingRequest{Bucket: &name})
		}
		if err != nil {
			return nil, err
		}
	}
	// A bucket once versioned is never unversioned: without the property
	// it keeps its state, as AWS's bucket handler leaves it.
	if v := p.sub("VersioningConfiguration"); differs(old, p, "VersioningConfiguration") && v.has("Status") {
		if _, err := c.invoke("s3", "PutBucketVersioning", &s3api.PutBucketVersioningRequest{Bucket: &name,
			VersioningConfiguration: &s3api.VersioningConfiguration{Status: v.strp("Status")}}); err != nil {
			return nil, err
		}
	}
	if own := p.sub("OwnershipControls").ownership(); differs(old, p, "OwnershipControls") && own != nil {
		if _, err := c.invoke("s3", "PutBucketOwnershipControls", &s3api.PutBucketOwnershipControlsRequest{Bucket: &name,
			OwnershipControls: &s3api.OwnershipControls{Rules: []*s3api.OwnershipControlsRule{{ObjectOwnership: own}}}}); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// instanceReplace are the instance's properties whose change replaces
// it: the reference's Replacement ones, and IamInstanceProfile, which
// AWS changes in place but cloudbox's provider cannot yet (no
// instance profile association calls).
var instanceReplace = []string{"AvailabilityZone", "CpuOptions", "ElasticGpuSpecifications", "ElasticInferenceAccelerators",
	"EnclaveOptions", "HibernationOptions", "HostResourceGroupArn", "ImageId", "Ipv6AddressCount", "Ipv6Addresses", "KeyName",
	"LaunchTemplate", "LicenseSpecifications", "NetworkInterfaces", "PlacementGroupName", "PrivateIpAddress", "SecurityGroups",
	"SubnetId", "IamInstanceProfile", "BlockDeviceMappings"}

// updateInstance changes an instance in place: tags, source/destination
// check, termination protection and security groups while it runs
// (no interruption); its type and user data by stopping it, changing
// them and starting it again (some interruption), as AWS does.
func updateInstance(c *call, s *state, old, p props) (*state, error) {
	id := s.Physical
	modify := func(in *ec2api.ModifyInstanceAttributeRequest) error {
		in.InstanceId = &id
		_, err := c.invoke("ec2", "ModifyInstanceAttribute", in)
		return err
	}
	if differs(old, p, "Tags") {
		want := map[string]bool{}
		for _, t := range c.tags(p) {
			want[t[0]] = true
		}
		var drop []*ec2api.Tag
		for _, t := range c.tags(old) {
			if !want[t[0]] {
				drop = append(drop, &ec2api.Tag{Key: str(t[0])})
			}
		}
		if len(drop) > 0 {
			if _, err := c.invoke("ec2", "DeleteTags", &ec2api.DeleteTagsRequest{Resources: []*string{&id}, Tags: drop}); err != nil {
				return nil, err
			}
		}
		if ts := ec2Tags("instance", c.tags(p)); len(ts) > 0 {
			if _, err := c.invoke("ec2", "CreateTags", &ec2api.CreateTagsRequest{Resources: []*string{&id}, Tags: ts[0].Tags}); err != nil {
				return nil, err
			}
		}
	}
	if differs(old, p, "SourceDestCheck") {
		v := true // EC2's default, which a removed value returns to
		if p.has("SourceDestCheck") {
			v = *p.boolp("SourceDestCheck")
		}
		if err := modify(&ec2api.ModifyInstanceAttributeRequest{SourceDestCheck: &ec2api.AttributeBooleanValue{Value: &v}}); err != nil {
			return nil, err
		}
	}
	if differs(old, p, "DisableApiTermination") {
		v := p.has("DisableApiTermination") && *p.boolp("DisableApiTermination")
		if err := modify(&ec2api.ModifyInstanceAttributeRequest{DisableApiTermination: &ec2api.AttributeBooleanValue{Value: &v}}); err != nil {
			return nil, err
		}
	}
	if differs(old, p, "SecurityGroupIds") && len(p.strs("SecurityGroupIds")) > 0 {
		if err := modify(&ec2api.ModifyInstanceAttributeRequest{Groups: p.strs("SecurityGroupIds")}); err != nil {
			return nil, err
		}
	}
	if !differs(old, p, "InstanceType") && !differs(old, p, "UserData") {
		return s, nil
	}
	if _, err := c.invoke("ec2", "StopInstances", &ec2api.StopInstancesRequest{InstanceIds: []*string{&id}}); err != nil {
		return nil, err
	}
	if _, err := waitInstance(c, id, "stopped", "pending", "stopping", "running"); err != nil {
		return nil, err
	}
	if differs(old, p, "InstanceType") {
		if err := modify(&ec2api.ModifyInstanceAttributeRequest{InstanceType: &ec2api.AttributeValue{Value: p.strp("InstanceType")}}); err != nil {
			return nil, err
		}
	}
	if differs(old, p, "UserData") {
		raw, err := base64.StdEncoding.DecodeString(p.str("UserData"))
		if err != nil {
			return nil, fmt.Errorf("UserData is not valid base64: %v", err)
		}
		if err := modify(&ec2api.ModifyInstanceAttributeRequest{UserData: &ec2api.BlobAttributeValue{Value: raw}}); err != nil {
			return nil, err
		}
	}
	if _, err := c.invoke("ec2", "StartInstances", &ec2api.StartInstancesRequest{InstanceIds: []*string{&id}}); err != nil {
		return nil, err
	}
	inst, err := waitInstance(c, id, "running", "pending", "stopping", "stopped")
	if err != nil {
		return nil, err
	}
	// A restarted instance has a new public address.
	attrs := map[string]any{}
	for k, v := range s.Attrs {
		attrs[k] = v
	}
	attrs["PublicDnsName"], attrs["PublicIp"] = deref(inst.PublicDnsName), deref(inst.PublicIpAddress)
	return &state{Physical: id, Ref: s.Ref, Attrs: attrs}, nil
}

// waitInstance waits for an instance to reach state, through the states
// passing; any other fails it.
func waitInstance(c *call, id, state string, passing ...string) (*ec2api.Instance, error) {
	var inst *ec2api.Instance
	err := c.wait("instance "+state, func() (bool, error) {
		out, err := c.invoke("ec2", "DescribeInstances", &ec2api.DescribeInstancesRequest{InstanceIds: []*string{&id}})
		if err != nil {
			return false, err
		}
		for _, r := range out.(*ec2api.DescribeInstancesResult).Reservations {
			for _, i := range r.Instances {
				inst = i
			}
		}
		if inst == nil {
			return false, fmt.Errorf("instance %s vanished", id)
		}
		switch s := deref(inst.State.Name); {
		case s == state:
			return true, nil
		case slices.Contains(passing, s):
			return false, nil
		default:
			return false, fmt.Errorf("Instance %s entered state %s", id, s)
		}
	})
	return inst, err
}

// An ACL entry's protocol, action, addresses, ports and ICMP type change
// in place; its ACL, number and direction replace it.
func updateACLEntry(c *call, s *state, _, p props) (*state, error) {
	in := &ec2api.ReplaceNetworkAclEntryRequest{NetworkAclId: p.strp("NetworkAclId"), RuleNumber: p.int64p("RuleNumber"),
		Protocol: p.strp("Protocol"), RuleAction: p.strp("RuleAction"), Egress: boolOr(p, "Egress"), CidrBlock: p.strp("CidrBlock"),
		Ipv6CidrBlock: p.strp("Ipv6CidrBlock")}
	if icmp := p.sub("Icmp"); icmp != nil {
		in.IcmpTypeCode = &ec2api.IcmpTypeCode{Code: icmp.int64p("Code"), Type: icmp.int64p("Type")}
	}
	if pr := p.sub("PortRange"); pr != nil {
		in.PortRange = &ec2api.PortRange{From: pr.int64p("From"), To: pr.int64p("To")}
	}
	if _, err := c.invoke("ec2", "ReplaceNetworkAclEntry", in); err != nil {
		return nil, err
	}
	return s, nil
}

// A scaling policy is put again under its name with the new properties.
func updateScalingPolicy(c *call, s *state, _, p props) (*state, error) {
	in := &asapi.PutScalingPolicyType{}
	fill(in, p, nil)
	in.PolicyName = &s.Physical
	out, err := c.invoke("autoscaling", "PutScalingPolicy", in)
	if err != nil {
		return nil, err
	}
	arn := deref(out.(*asapi.PolicyARNType).PolicyARN)
	return &state{Physical: s.Physical, Ref: arn, Attrs: map[string]any{"Arn": arn, "PolicyName": s.Physical}}, nil
}

// A lifecycle hook is put again under its name with the new properties.
func updateLifecycleHook(c *call, s *state, _, p props) (*state, error) {
	in := &asapi.PutLifecycleHookType{}
	fill(in, p, nil)
	in.LifecycleHookName = &s.Physical
	if _, err := c.invoke("autoscaling", "PutLifecycleHook", in); err != nil {
		return nil, err
	}
	return s, nil
}

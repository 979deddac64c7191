package cloudformation

import (
	"strings"

	asapi "github.com/cloudbox/cloudbox/api/autoscaling"
)

// Auto Scaling's resource types, made through its API.
func init() {
	register("AWS::AutoScaling::LaunchConfiguration", &provider{Create: createLaunchConfiguration, Delete: func(c *call, s *state, _ props) error {
		_, err := c.invoke("autoscaling", "DeleteLaunchConfiguration", &asapi.LaunchConfigurationNameType{LaunchConfigurationName: &s.Physical})
		return err
	}})
	register("AWS::AutoScaling::AutoScalingGroup", &provider{Create: createGroup, Delete: deleteGroup, Update: updateGroup,
		Replace: []string{"AutoScalingGroupName"}})
	register("AWS::AutoScaling::ScalingPolicy", &provider{Create: createScalingPolicy, Delete: func(c *call, s *state, p props) error {
		_, err := c.invoke("autoscaling", "DeletePolicy", &asapi.DeletePolicyType{AutoScalingGroupName: p.strp("AutoScalingGroupName"), PolicyName: &s.Physical})
		return err
	}, Update: updateScalingPolicy, Replace: []string{"AutoScalingGroupName"}})
}

// A launch configuration's Ref is its name.
func createLaunchConfiguration(c *call, p props) (*state, error) {
	in := &asapi.CreateLaunchConfigurationType{}
	fill(in, p, nil)
	if in.LaunchConfigurationName == nil {
		in.LaunchConfigurationName = str(c.physicalName(255, false))
	}
	if _, err := c.invoke("autoscaling", "CreateLaunchConfiguration", in); err != nil {
		return nil, err
	}
	return &state{Physical: *in.LaunchConfigurationName}, nil
}

// zones is VPCZoneIdentifier, a list in templates and a comma-separated
// string in the API.
func zones(p props) *string {
	if !p.has("VPCZoneIdentifier") {
		return nil
	}
	var ids []string
	for _, s := range p.strs("VPCZoneIdentifier") {
		ids = append(ids, *s)
	}
	return str(strings.Join(ids, ","))
}

// A group's Ref is its name.
func createGroup(c *call, p props) (*state, error) {
	in := &asapi.CreateAutoScalingGroupType{}
	fill(in, p, map[string]string{"VPCZoneIdentifier": "", "Tags": ""})
	in.VPCZoneIdentifier = zones(p)
	if in.AutoScalingGroupName == nil {
		in.AutoScalingGroupName = str(c.physicalName(255, false))
	}
	for _, t := range p.maps("Tags") {
		in.Tags = append(in.Tags, &asapi.Tag{Key: t.strp("Key"), Value: t.strp("Value"), PropagateAtLaunch: t.boolp("PropagateAtLaunch")})
	}
	if _, err := c.invoke("autoscaling", "CreateAutoScalingGroup", in); err != nil {
		return nil, err
	}
	return &state{Physical: *in.AutoScalingGroupName}, nil
}

func updateGroup(c *call, s *state, _, new props) (*state, error) {
	in := &asapi.UpdateAutoScalingGroupType{}
	fill(in, new, map[string]string{"VPCZoneIdentifier": ""})
	in.VPCZoneIdentifier = zones(new)
	in.AutoScalingGroupName = &s.Physical
	_, err := c.invoke("autoscaling", "UpdateAutoScalingGroup", in)
	return s, err
}

// deleteGroup deletes the group with its instances and waits until it is
// gone, as AWS's handler does.
func deleteGroup(c *call, s *state, _ props) error {
	force := true
	if _, err := c.invoke("autoscaling", "DeleteAutoScalingGroup", &asapi.DeleteAutoScalingGroupType{AutoScalingGroupName: &s.Physical, ForceDelete: &force}); err != nil {
		return err
	}
	return c.wait("group deleted", func() (bool, error) {
		out, err := c.invoke("autoscaling", "DescribeAutoScalingGroups", &asapi.AutoScalingGroupNamesType{AutoScalingGroupNames: []*string{&s.Physical}})
		if err != nil {
			return false, err
		}
		return len(out.(*asapi.AutoScalingGroupsType).AutoScalingGroups) == 0, nil
	})
}

// A scaling policy's Ref is its ARN; its physical id is its name.
func createScalingPolicy(c *call, p props) (*state, error) {
	in := &asapi.PutScalingPolicyType{}
	fill(in, p, nil)
	if in.PolicyName == nil {
		in.PolicyName = str(c.physicalName(255, false))
	}
	out, err := c.invoke("autoscaling", "PutScalingPolicy", in)
	if err != nil {
		return nil, err
	}
	arn := deref(out.(*asapi.PolicyARNType).PolicyARN)
	return &state{Physical: *in.PolicyName, Ref: arn, Attrs: map[string]any{"Arn": arn, "PolicyName": *in.PolicyName}}, nil
}

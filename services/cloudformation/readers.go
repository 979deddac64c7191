package cloudformation

import (
	"strconv"
	"strings"

	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	ssmapi "github.com/cloudbox/cloudbox/api/ssm"
)

// The readers drift detection uses (set in the types' registrations):
// each returns what its service has now, spelled as a template spells
// it.

func readSecurityGroup(c *call, s *state, _ props) (props, error) {
	out, err := c.invoke("ec2", "DescribeSecurityGroups", &ec2api.DescribeSecurityGroupsRequest{GroupIds: []*string{&s.Physical}})
	if err != nil {
		return nil, err
	}
	g := out.(*ec2api.DescribeSecurityGroupsResult).SecurityGroups[0]
	return props{"GroupDescription": deref(g.Description), "VpcId": deref(g.VpcId),
		"SecurityGroupIngress": rules(g.IpPermissions, false), "SecurityGroupEgress": rules(g.IpPermissionsEgress, true)}, nil
}

// rules spells EC2's permissions as a template's rules: one per source.
func rules(perms []*ec2api.IpPermission, egress bool) []any {
	peer, prefix := "SourceSecurityGroupId", "SourcePrefixListId"
	if egress {
		peer, prefix = "DestinationSecurityGroupId", "DestinationPrefixListId"
	}
	out := []any{}
	for _, p := range perms {
		base := func(desc *string) map[string]any {
			m := map[string]any{"IpProtocol": deref(p.IpProtocol)}
			if deref(p.IpProtocol) != "-1" {
				if p.FromPort != nil {
					m["FromPort"] = strconv.FormatInt(*p.FromPort, 10)
				}
				if p.ToPort != nil {
					m["ToPort"] = strconv.FormatInt(*p.ToPort, 10)
				}
			}
			if deref(desc) != "" {
				m["Description"] = *desc
			}
			return m
		}
		for _, r := range p.IpRanges {
			m := base(r.Description)
			m["CidrIp"] = deref(r.CidrIp)
			out = append(out, m)
		}
		for _, r := range p.Ipv6Ranges {
			m := base(r.Description)
			m["CidrIpv6"] = deref(r.CidrIpv6)
			out = append(out, m)
		}
		for _, r := range p.UserIdGroupPairs {
			m := base(r.Description)
			m[peer] = deref(r.GroupId)
			out = append(out, m)
		}
		for _, r := range p.PrefixListIds {
			m := base(r.Description)
			m[prefix] = deref(r.PrefixListId)
			out = append(out, m)
		}
	}
	return out
}

// normalizeGroup spells a template's rules as EC2 keeps them: protocols
// by name (or -1 for all, without ports).
func normalizeGroup(p props) props {
	out := props{}
	for k, v := range p {
		out[k] = v
	}
	for _, key := range []string{"SecurityGroupIngress", "SecurityGroupEgress"} {
		var list []any
		for _, r := range p.maps(key) {
			m := map[string]any{}
			for k, v := range r {
				m[k] = v
			}
			proto := strings.ToLower(r.str("IpProtocol"))
			switch proto {
			case "all", "-1":
				proto = "-1"
				delete(m, "FromPort")
				delete(m, "ToPort")
			case "6":
				proto = "tcp"
			case "17":
				proto = "udp"
			case "1":
				proto = "icmp"
			case "58":
				proto = "icmpv6"
			}
			m["IpProtocol"] = proto
			list = append(list, m)
		}
		if list != nil {
			out[key] = list
		}
	}
	return out
}

func readSubnet(c *call, s *state, _ props) (props, error) {
	out, err := c.invoke("ec2", "DescribeSubnets", &ec2api.DescribeSubnetsRequest{SubnetIds: []*string{&s.Physical}})
	if err != nil {
		return nil, err
	}
	sn := out.(*ec2api.DescribeSubnetsResult).Subnets[0]
	return props{"CidrBlock": deref(sn.CidrBlock), "AvailabilityZone": deref(sn.AvailabilityZone), "VpcId": deref(sn.VpcId),
		"MapPublicIpOnLaunch": strconv.FormatBool(sn.MapPublicIpOnLaunch != nil && *sn.MapPublicIpOnLaunch)}, nil
}

func readVPC(c *call, s *state, _ props) (props, error) {
	out, err := c.invoke("ec2", "DescribeVpcs", &ec2api.DescribeVpcsRequest{VpcIds: []*string{&s.Physical}})
	if err != nil {
		return nil, err
	}
	v := out.(*ec2api.DescribeVpcsResult).Vpcs[0]
	return props{"CidrBlock": deref(v.CidrBlock), "InstanceTenancy": deref(v.InstanceTenancy)}, nil
}

func readInstance(c *call, s *state, _ props) (props, error) {
	out, err := c.invoke("ec2", "DescribeInstances", &ec2api.DescribeInstancesRequest{InstanceIds: []*string{&s.Physical}})
	if err != nil {
		return nil, err
	}
	var inst *ec2api.Instance
	for _, r := range out.(*ec2api.DescribeInstancesResult).Reservations {
		for _, i := range r.Instances {
			inst = i
		}
	}
	if inst == nil || deref(inst.State.Name) == "terminated" {
		return nil, &goneError{}
	}
	groups := []any{}
	for _, g := range inst.SecurityGroups {
		groups = append(groups, deref(g.GroupId))
	}
	return props{"InstanceType": deref(inst.InstanceType), "ImageId": deref(inst.ImageId), "SubnetId": deref(inst.SubnetId),
		"KeyName": deref(inst.KeyName), "SecurityGroupIds": groups,
		"SourceDestCheck": strconv.FormatBool(inst.SourceDestCheck == nil || *inst.SourceDestCheck)}, nil
}

func readParameter(c *call, s *state, _ props) (props, error) {
	out, err := c.invoke("ssm", "GetParameter", &ssmapi.GetParameterRequest{Name: &s.Physical})
	if err != nil {
		return nil, err
	}
	p := out.(*ssmapi.GetParameterResult).Parameter
	return props{"Value": deref(p.Value), "Type": deref(p.Type), "Name": deref(p.Name)}, nil
}

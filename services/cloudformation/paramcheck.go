package cloudformation

import (
	"context"
	"fmt"
	"sort"
	"strings"

	ec2api "github.com/cloudbox/cloudbox/api/ec2"
)

// existence looks up, through EC2's API, what a parameter of an
// AWS-specific type names; CloudFormation refuses a stack whose values
// name nothing (the stack rolls back).
var existence = map[string]func(id string) (string, any){
	"AWS::EC2::KeyPair::KeyName": func(id string) (string, any) {
		return "DescribeKeyPairs", &ec2api.DescribeKeyPairsRequest{KeyNames: []*string{&id}}
	},
	"AWS::EC2::VPC::Id": func(id string) (string, any) {
		return "DescribeVpcs", &ec2api.DescribeVpcsRequest{VpcIds: []*string{&id}}
	},
	"AWS::EC2::Subnet::Id": func(id string) (string, any) {
		return "DescribeSubnets", &ec2api.DescribeSubnetsRequest{SubnetIds: []*string{&id}}
	},
	"AWS::EC2::SecurityGroup::Id": func(id string) (string, any) {
		return "DescribeSecurityGroups", &ec2api.DescribeSecurityGroupsRequest{GroupIds: []*string{&id}}
	},
	"AWS::EC2::Instance::Id": func(id string) (string, any) {
		return "DescribeInstances", &ec2api.DescribeInstancesRequest{InstanceIds: []*string{&id}}
	},
	"AWS::EC2::AvailabilityZone::Name": func(id string) (string, any) {
		return "DescribeAvailabilityZones", &ec2api.DescribeAvailabilityZonesRequest{ZoneNames: []*string{&id}}
	},
}

// checkParameters checks that the values of AWS-specific parameters
// exist; the error is the stack's status reason.
func (d *deployment) checkParameters(ctx context.Context) error {
	names := make([]string, 0, len(d.tpl.Parameters))
	for n := range d.tpl.Parameters {
		names = append(names, n)
	}
	sort.Strings(names)
	c := d.newCall(ctx, "")
	for _, n := range names {
		typ := strings.TrimSuffix(strings.TrimPrefix(d.tpl.Parameters[n].Type, "List<"), ">")
		look, ok := existence[typ]
		if !ok {
			continue
		}
		var values []string
		switch v := d.params[n].(type) {
		case string:
			values = []string{v}
		case []string:
			values = v
		}
		for _, v := range values {
			op, in := look(v)
			if _, err := c.invoke("ec2", op, in); err != nil {
				return fmt.Errorf("Parameter validation failed: parameter value %s for parameter name %s does not exist. ", v, n)
			}
		}
	}
	return nil
}

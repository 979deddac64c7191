package cloudformation

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	ssmapi "github.com/cloudbox/cloudbox/api/ssm"
)

// EC2's resource types, made through EC2's API. Ref values, physical ids
// and attributes as the CloudFormation resource reference gives them.
func init() {
	register("AWS::EC2::VPC", &provider{Create: createVPC, Delete: deleteBy("DeleteVpc", func(id string) any { return &ec2api.DeleteVpcRequest{VpcId: &id} }),
		Read: readVPC, Update: updateTagsOnly("vpc"), Replace: []string{"CidrBlock", "InstanceTenancy", "Ipv4IpamPoolId", "Ipv4NetmaskLength", "EnableDnsHostnames", "EnableDnsSupport"}})
	register("AWS::EC2::Subnet", &provider{Create: createSubnet, Delete: deleteBy("DeleteSubnet", func(id string) any { return &ec2api.DeleteSubnetRequest{SubnetId: &id} }),
		Read: readSubnet, Update: updateSubnet, Replace: []string{"AvailabilityZone", "AvailabilityZoneId", "CidrBlock", "VpcId", "Ipv6CidrBlock", "Ipv6Native", "OutpostArn"}})
	register("AWS::EC2::InternetGateway", &provider{Create: createIGW, Delete: deleteBy("DeleteInternetGateway", func(id string) any { return &ec2api.DeleteInternetGatewayRequest{InternetGatewayId: &id} }),
		Update: updateTagsOnly("internet-gateway")})
	register("AWS::EC2::VPCGatewayAttachment", &provider{Create: createAttachment, Delete: deleteAttachment})
	register("AWS::EC2::RouteTable", &provider{Create: createRouteTable, Delete: deleteBy("DeleteRouteTable", func(id string) any { return &ec2api.DeleteRouteTableRequest{RouteTableId: &id} }),
		Update: updateTagsOnly("route-table"), Replace: []string{"VpcId"}})
	register("AWS::EC2::Route", &provider{Create: createRoute, Delete: deleteRoute, Update: updateRoute,
		Replace: []string{"RouteTableId", "DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId"}})
	register("AWS::EC2::SubnetRouteTableAssociation", &provider{Create: createAssociation, Delete: deleteBy("DisassociateRouteTable", func(id string) any { return &ec2api.DisassociateRouteTableRequest{AssociationId: &id} })})
	register("AWS::EC2::SecurityGroup", &provider{Create: createSecurityGroup, Delete: deleteSecurityGroup,
		Update: updateSecurityGroup, Replace: []string{"GroupDescription", "GroupName", "VpcId"},
		Read: readSecurityGroup, Normalize: normalizeGroup})
	register("AWS::EC2::SecurityGroupIngress", &provider{Create: createRule(false), Delete: deleteRule(false)})
	register("AWS::EC2::SecurityGroupEgress", &provider{Create: createRule(true), Delete: deleteRule(true)})
	register("AWS::EC2::Instance", &provider{Create: createInstance, Delete: deleteInstance, Read: readInstance,
		Update: updateInstance, Replace: instanceReplace})
	register("AWS::EC2::EIP", &provider{Create: createEIP, Delete: deleteEIP})
	register("AWS::EC2::NatGateway", &provider{Create: createNAT, Delete: deleteNAT})
	register("AWS::EC2::KeyPair", &provider{Create: createKeyPair, Delete: deleteKeyPair})
	register("AWS::EC2::LaunchTemplate", &provider{Create: createLaunchTemplate, Delete: func(c *call, s *state, _ props) error {
		_, err := c.invoke("ec2", "DeleteLaunchTemplate", &ec2api.DeleteLaunchTemplateRequest{LaunchTemplateId: &s.Physical})
		return err
	}})
}

func ec2Tags(typ string, tags [][2]string) []*ec2api.TagSpecification {
	if len(tags) == 0 {
		return nil
	}
	ts := &ec2api.TagSpecification{ResourceType: str(typ)}
	for _, t := range tags {
		ts.Tags = append(ts.Tags, &ec2api.Tag{Key: str(t[0]), Value: str(t[1])})
	}
	return []*ec2api.TagSpecification{ts}
}

func deleteBy(op string, in func(id string) any) func(c *call, s *state, _ props) error {
	return func(c *call, s *state, _ props) error {
		_, err := c.invoke("ec2", op, in(s.Physical))
		return err
	}
}

// updateTagsOnly updates a resource whose only mutable property here is
// Tags: the new tags are written, the ones dropped removed.
func updateTagsOnly(typ string) func(c *call, s *state, old, new props) (*state, error) {
	return func(c *call, s *state, old, new props) (*state, error) {
		return s, retag(c, s.Physical, old, new)
	}
}

func retag(c *call, id string, old, new props) error {
	want := c.tags(new)
	keep := map[string]bool{}
	var tags []*ec2api.Tag
	for _, t := range want {
		keep[t[0]] = true
		tags = append(tags, &ec2api.Tag{Key: str(t[0]), Value: str(t[1])})
	}
	var drop []*ec2api.Tag
	for _, t := range c.tags(old) {
		if !keep[t[0]] {
			drop = append(drop, &ec2api.Tag{Key: str(t[0])})
		}
	}
	if len(drop) > 0 {
		if _, err := c.invoke("ec2", "DeleteTags", &ec2api.DeleteTagsRequest{Resources: []*string{&id}, Tags: drop}); err != nil {
			return err
		}
	}
	if len(tags) > 0 {
		_, err := c.invoke("ec2", "CreateTags", &ec2api.CreateTagsRequest{Resources: []*string{&id}, Tags: tags})
		return err
	}
	return nil
}

func boolAttr(p props, k string) *ec2api.AttributeBooleanValue {
	if !p.has(k) {
		return nil
	}
	return &ec2api.AttributeBooleanValue{Value: p.boolp(k)}
}

func createVPC(c *call, p props) (*state, error) {
	out, err := c.invoke("ec2", "CreateVpc", &ec2api.CreateVpcRequest{CidrBlock: p.strp("CidrBlock"), InstanceTenancy: p.strp("InstanceTenancy"),
		Ipv4IpamPoolId: p.strp("Ipv4IpamPoolId"), Ipv4NetmaskLength: p.int64p("Ipv4NetmaskLength"), TagSpecifications: ec2Tags("vpc", c.tags(p))})
	if err != nil {
		return nil, err
	}
	vpc := out.(*ec2api.CreateVpcResult).Vpc
	id := deref(vpc.VpcId)
	st := &state{Physical: id, Attrs: map[string]any{"VpcId": id, "CidrBlock": deref(vpc.CidrBlock), "Ipv6CidrBlocks": []any{}}}
	for _, a := range vpc.CidrBlockAssociationSet {
		st.Attrs["CidrBlockAssociations"] = []any{deref(a.AssociationId)}
	}
	for _, attr := range []string{"EnableDnsSupport", "EnableDnsHostnames"} {
		if !p.has(attr) {
			continue
		}
		in := &ec2api.ModifyVpcAttributeRequest{VpcId: &id}
		if attr == "EnableDnsSupport" {
			in.EnableDnsSupport = boolAttr(p, attr)
		} else {
			in.EnableDnsHostnames = boolAttr(p, attr)
		}
		if _, err := c.invoke("ec2", "ModifyVpcAttribute", in); err != nil {
			return st, err
		}
	}
	sgs, err := c.invoke("ec2", "DescribeSecurityGroups", &ec2api.DescribeSecurityGroupsRequest{Filters: []*ec2api.Filter{
		{Name: str("vpc-id"), Values: []*string{&id}}, {Name: str("group-name"), Values: []*string{str("default")}}}})
	if err != nil {
		return st, err
	}
	for _, g := range sgs.(*ec2api.DescribeSecurityGroupsResult).SecurityGroups {
		st.Attrs["DefaultSecurityGroup"] = deref(g.GroupId)
	}
	acls, err := c.invoke("ec2", "DescribeNetworkAcls", &ec2api.DescribeNetworkAclsRequest{Filters: []*ec2api.Filter{
		{Name: str("vpc-id"), Values: []*string{&id}}, {Name: str("default"), Values: []*string{str("true")}}}})
	if err != nil {
		return st, err
	}
	for _, a := range acls.(*ec2api.DescribeNetworkAclsResult).NetworkAcls {
		st.Attrs["DefaultNetworkAcl"] = deref(a.NetworkAclId)
	}
	return st, nil
}

func createSubnet(c *call, p props) (*state, error) {
	out, err := c.invoke("ec2", "CreateSubnet", &ec2api.CreateSubnetRequest{VpcId: p.strp("VpcId"), CidrBlock: p.strp("CidrBlock"),
		AvailabilityZone: p.strp("AvailabilityZone"), AvailabilityZoneId: p.strp("AvailabilityZoneId"),
		Ipv6CidrBlock: p.strp("Ipv6CidrBlock"), TagSpecifications: ec2Tags("subnet", c.tags(p))})
	if err != nil {
		return nil, err
	}
	sn := out.(*ec2api.CreateSubnetResult).Subnet
	id := deref(sn.SubnetId)
	st := &state{Physical: id, Attrs: map[string]any{"SubnetId": id, "AvailabilityZone": deref(sn.AvailabilityZone),
		"AvailabilityZoneId": deref(sn.AvailabilityZoneId), "CidrBlock": deref(sn.CidrBlock), "VpcId": deref(sn.VpcId),
		"Ipv6CidrBlocks": []any{}}}
	if p.has("MapPublicIpOnLaunch") {
		if _, err := c.invoke("ec2", "ModifySubnetAttribute", &ec2api.ModifySubnetAttributeRequest{SubnetId: &id,
			MapPublicIpOnLaunch: boolAttr(p, "MapPublicIpOnLaunch")}); err != nil {
			return st, err
		}
	}
	return st, nil
}

func updateSubnet(c *call, s *state, old, new props) (*state, error) {
	if new.str("MapPublicIpOnLaunch") != old.str("MapPublicIpOnLaunch") {
		v := new.str("MapPublicIpOnLaunch") == "true"
		if _, err := c.invoke("ec2", "ModifySubnetAttribute", &ec2api.ModifySubnetAttributeRequest{SubnetId: &s.Physical,
			MapPublicIpOnLaunch: &ec2api.AttributeBooleanValue{Value: &v}}); err != nil {
			return nil, err
		}
	}
	return s, retag(c, s.Physical, old, new)
}

func createIGW(c *call, p props) (*state, error) {
	out, err := c.invoke("ec2", "CreateInternetGateway", &ec2api.CreateInternetGatewayRequest{TagSpecifications: ec2Tags("internet-gateway", c.tags(p))})
	if err != nil {
		return nil, err
	}
	id := deref(out.(*ec2api.CreateInternetGatewayResult).InternetGateway.InternetGatewayId)
	return &state{Physical: id, Attrs: map[string]any{"InternetGatewayId": id}}, nil
}

// A gateway attachment's physical id is "IGW|<vpc id>".
func createAttachment(c *call, p props) (*state, error) {
	if p.has("VpnGatewayId") {
		return nil, fmt.Errorf("VpnGatewayId attachments are not supported by cloudbox")
	}
	_, err := c.invoke("ec2", "AttachInternetGateway", &ec2api.AttachInternetGatewayRequest{InternetGatewayId: p.strp("InternetGatewayId"), VpcId: p.strp("VpcId")})
	if err != nil {
		return nil, err
	}
	return &state{Physical: "IGW|" + p.str("VpcId")}, nil
}

func deleteAttachment(c *call, _ *state, p props) error {
	_, err := c.invoke("ec2", "DetachInternetGateway", &ec2api.DetachInternetGatewayRequest{InternetGatewayId: p.strp("InternetGatewayId"), VpcId: p.strp("VpcId")})
	return err
}

func createRouteTable(c *call, p props) (*state, error) {
	out, err := c.invoke("ec2", "CreateRouteTable", &ec2api.CreateRouteTableRequest{VpcId: p.strp("VpcId"), TagSpecifications: ec2Tags("route-table", c.tags(p))})
	if err != nil {
		return nil, err
	}
	id := deref(out.(*ec2api.CreateRouteTableResult).RouteTable.RouteTableId)
	return &state{Physical: id, Attrs: map[string]any{"RouteTableId": id}}, nil
}

// A route's physical id is "<route table id>|<destination>".
func createRoute(c *call, p props) (*state, error) {
	in := &ec2api.CreateRouteRequest{RouteTableId: p.strp("RouteTableId"), DestinationCidrBlock: p.strp("DestinationCidrBlock"),
		DestinationIpv6CidrBlock: p.strp("DestinationIpv6CidrBlock"), DestinationPrefixListId: p.strp("DestinationPrefixListId"),
		GatewayId: p.strp("GatewayId"), NatGatewayId: p.strp("NatGatewayId"), InstanceId: p.strp("InstanceId"),
		NetworkInterfaceId: p.strp("NetworkInterfaceId"), VpcPeeringConnectionId: p.strp("VpcPeeringConnectionId"),
		TransitGatewayId: p.strp("TransitGatewayId"), EgressOnlyInternetGatewayId: p.strp("EgressOnlyInternetGatewayId"),
		VpcEndpointId: p.strp("VpcEndpointId")}
	if _, err := c.invoke("ec2", "CreateRoute", in); err != nil {
		return nil, err
	}
	return &state{Physical: p.str("RouteTableId") + "|" + routeDest(p)}, nil
}

func routeDest(p props) string {
	for _, k := range []string{"DestinationCidrBlock", "DestinationIpv6CidrBlock", "DestinationPrefixListId"} {
		if p.has(k) {
			return p.str(k)
		}
	}
	return ""
}

func deleteRoute(c *call, _ *state, p props) error {
	_, err := c.invoke("ec2", "DeleteRoute", &ec2api.DeleteRouteRequest{RouteTableId: p.strp("RouteTableId"),
		DestinationCidrBlock: p.strp("DestinationCidrBlock"), DestinationIpv6CidrBlock: p.strp("DestinationIpv6CidrBlock"),
		DestinationPrefixListId: p.strp("DestinationPrefixListId")})
	return err
}

func createAssociation(c *call, p props) (*state, error) {
	out, err := c.invoke("ec2", "AssociateRouteTable", &ec2api.AssociateRouteTableRequest{RouteTableId: p.strp("RouteTableId"), SubnetId: p.strp("SubnetId")})
	if err != nil {
		return nil, err
	}
	id := deref(out.(*ec2api.AssociateRouteTableResult).AssociationId)
	return &state{Physical: id, Attrs: map[string]any{"Id": id}}, nil
}

// protocol is a rule's IpProtocol as EC2 takes it: templates write "All"
// (seed 003 does) where EC2's API wants -1.
func protocol(p props) *string {
	v := p.str("IpProtocol")
	if strings.EqualFold(v, "all") {
		v = "-1"
	}
	return &v
}

// permission is one ingress or egress rule of a template as EC2's
// IpPermission.
func permission(p props, egress bool) *ec2api.IpPermission {
	perm := &ec2api.IpPermission{IpProtocol: protocol(p), FromPort: p.int64p("FromPort"), ToPort: p.int64p("ToPort")}
	desc := p.strp("Description")
	if p.has("CidrIp") {
		perm.IpRanges = []*ec2api.IpRange{{CidrIp: p.strp("CidrIp"), Description: desc}}
	}
	if p.has("CidrIpv6") {
		perm.Ipv6Ranges = []*ec2api.Ipv6Range{{CidrIpv6: p.strp("CidrIpv6"), Description: desc}}
	}
	peer, peerName, owner, prefix := "SourceSecurityGroupId", "SourceSecurityGroupName", "SourceSecurityGroupOwnerId", "SourcePrefixListId"
	if egress {
		peer, peerName, prefix = "DestinationSecurityGroupId", "", "DestinationPrefixListId"
	}
	if p.has(peer) || (peerName != "" && p.has(peerName)) {
		pair := &ec2api.UserIdGroupPair{GroupId: p.strp(peer), Description: desc}
		if peerName != "" {
			pair.GroupName = p.strp(peerName)
			pair.UserId = p.strp(owner)
		}
		perm.UserIdGroupPairs = []*ec2api.UserIdGroupPair{pair}
	}
	if p.has(prefix) {
		perm.PrefixListIds = []*ec2api.PrefixListId{{PrefixListId: p.strp(prefix), Description: desc}}
	}
	return perm
}

// A security group in a VPC: Ref is its id; GroupId and VpcId attributes.
func createSecurityGroup(c *call, p props) (*state, error) {
	name := p.str("GroupName")
	if name == "" {
		name = c.physicalName(255, false)
	}
	out, err := c.invoke("ec2", "CreateSecurityGroup", &ec2api.CreateSecurityGroupRequest{GroupName: &name,
		Description: p.strp("GroupDescription"), VpcId: p.strp("VpcId"), TagSpecifications: ec2Tags("security-group", c.tags(p))})
	if err != nil {
		return nil, err
	}
	id := deref(out.(*ec2api.CreateSecurityGroupResult).GroupId)
	st := &state{Physical: id, Attrs: map[string]any{"GroupId": id, "VpcId": p.str("VpcId")}}
	if !p.has("VpcId") {
		st.Ref = name
	}
	var in []*ec2api.IpPermission
	for _, r := range p.maps("SecurityGroupIngress") {
		in = append(in, permission(r, false))
	}
	if len(in) > 0 {
		if _, err := c.invoke("ec2", "AuthorizeSecurityGroupIngress", &ec2api.AuthorizeSecurityGroupIngressRequest{GroupId: &id, IpPermissions: in}); err != nil {
			return st, err
		}
	}
	if egress := p.maps("SecurityGroupEgress"); len(egress) > 0 {
		// Rules given replace the group's default allow-all egress.
		all := &ec2api.IpPermission{IpProtocol: str("-1"), IpRanges: []*ec2api.IpRange{{CidrIp: str("0.0.0.0/0")}}}
		if _, err := c.invoke("ec2", "RevokeSecurityGroupEgress", &ec2api.RevokeSecurityGroupEgressRequest{GroupId: &id, IpPermissions: []*ec2api.IpPermission{all}}); err != nil {
			return st, err
		}
		var out []*ec2api.IpPermission
		for _, r := range egress {
			out = append(out, permission(r, true))
		}
		if _, err := c.invoke("ec2", "AuthorizeSecurityGroupEgress", &ec2api.AuthorizeSecurityGroupEgressRequest{GroupId: &id, IpPermissions: out}); err != nil {
			return st, err
		}
	}
	return st, nil
}

// updateSecurityGroup changes a group's rules in place (no
// interruption): the rules the template dropped are revoked, the new ones
// authorized. A group whose template gives no egress has EC2's default
// allow-all egress.
func updateSecurityGroup(c *call, s *state, old, new props) (*state, error) {
	id := s.Physical
	allOut := []props{{"IpProtocol": "-1", "CidrIp": "0.0.0.0/0"}}
	for _, egress := range []bool{false, true} {
		key := "SecurityGroupIngress"
		if egress {
			key = "SecurityGroupEgress"
		}
		was, now := old.maps(key), new.maps(key)
		if egress && len(was) == 0 {
			was = allOut
		}
		if egress && len(now) == 0 {
			now = allOut
		}
		var revoke, grant []*ec2api.IpPermission
		for _, r := range was {
			if !hasRule(now, r) {
				revoke = append(revoke, permission(r, egress))
			}
		}
		for _, r := range now {
			if !hasRule(was, r) {
				grant = append(grant, permission(r, egress))
			}
		}
		var err error
		switch {
		case len(revoke) > 0 && egress:
			_, err = c.invoke("ec2", "RevokeSecurityGroupEgress", &ec2api.RevokeSecurityGroupEgressRequest{GroupId: &id, IpPermissions: revoke})
		case len(revoke) > 0:
			_, err = c.invoke("ec2", "RevokeSecurityGroupIngress", &ec2api.RevokeSecurityGroupIngressRequest{GroupId: &id, IpPermissions: revoke})
		}
		if err != nil {
			return nil, err
		}
		switch {
		case len(grant) > 0 && egress:
			_, err = c.invoke("ec2", "AuthorizeSecurityGroupEgress", &ec2api.AuthorizeSecurityGroupEgressRequest{GroupId: &id, IpPermissions: grant})
		case len(grant) > 0:
			_, err = c.invoke("ec2", "AuthorizeSecurityGroupIngress", &ec2api.AuthorizeSecurityGroupIngressRequest{GroupId: &id, IpPermissions: grant})
		}
		if err != nil {
			return nil, err
		}
	}
	return s, retag(c, id, old, new)
}

// hasRule says whether rules holds r (compared as EC2 reads them).
func hasRule(rules []props, r props) bool {
	norm := func(r props) any {
		return stringify(normalizeGroup(props{"SecurityGroupIngress": []any{map[string]any(r)}})["SecurityGroupIngress"])
	}
	want := norm(r)
	for _, x := range rules {
		if reflect.DeepEqual(norm(x), want) {
			return true
		}
	}
	return false
}

func deleteSecurityGroup(c *call, s *state, _ props) error {
	_, err := c.invoke("ec2", "DeleteSecurityGroup", &ec2api.DeleteSecurityGroupRequest{GroupId: &s.Physical})
	return err
}

// A standalone rule: its physical id is the rule's id (sgr-...).
func createRule(egress bool) func(c *call, p props) (*state, error) {
	return func(c *call, p props) (*state, error) {
		perm := permission(p, egress)
		var rules []*ec2api.SecurityGroupRule
		if egress {
			out, err := c.invoke("ec2", "AuthorizeSecurityGroupEgress", &ec2api.AuthorizeSecurityGroupEgressRequest{GroupId: p.strp("GroupId"), IpPermissions: []*ec2api.IpPermission{perm}})
			if err != nil {
				return nil, err
			}
			rules = out.(*ec2api.AuthorizeSecurityGroupEgressResult).SecurityGroupRules
		} else {
			out, err := c.invoke("ec2", "AuthorizeSecurityGroupIngress", &ec2api.AuthorizeSecurityGroupIngressRequest{GroupId: p.strp("GroupId"), GroupName: p.strp("GroupName"), IpPermissions: []*ec2api.IpPermission{perm}})
			if err != nil {
				return nil, err
			}
			rules = out.(*ec2api.AuthorizeSecurityGroupIngressResult).SecurityGroupRules
		}
		if len(rules) == 0 {
			return nil, fmt.Errorf("the rule was not added")
		}
		id := deref(rules[0].SecurityGroupRuleId)
		return &state{Physical: id, Attrs: map[string]any{"Id": id}}, nil
	}
}

func deleteRule(egress bool) func(c *call, s *state, p props) error {
	return func(c *call, s *state, p props) error {
		if egress {
			_, err := c.invoke("ec2", "RevokeSecurityGroupEgress", &ec2api.RevokeSecurityGroupEgressRequest{GroupId: p.strp("GroupId"), SecurityGroupRuleIds: []*string{&s.Physical}})
			return err
		}
		_, err := c.invoke("ec2", "RevokeSecurityGroupIngress", &ec2api.RevokeSecurityGroupIngressRequest{GroupId: p.strp("GroupId"), GroupName: p.strp("GroupName"), SecurityGroupRuleIds: []*string{&s.Physical}})
		return err
	}
}

// An instance is complete once running, as AWS's handler waits for.
func createInstance(c *call, p props) (*state, error) {
	in := &ec2api.RunInstancesRequest{MinCount: i64(1), MaxCount: i64(1), ImageId: p.strp("ImageId"), InstanceType: p.strp("InstanceType"),
		KeyName: p.strp("KeyName"), SubnetId: p.strp("SubnetId"), UserData: p.strp("UserData"), PrivateIpAddress: p.strp("PrivateIpAddress"),
		SecurityGroupIds: p.strs("SecurityGroupIds"), SecurityGroups: p.strs("SecurityGroups"),
		DisableApiTermination: p.boolp("DisableApiTermination"), TagSpecifications: ec2Tags("instance", c.tags(p))}
	if p.has("AvailabilityZone") {
		in.Placement = &ec2api.Placement{AvailabilityZone: p.strp("AvailabilityZone")}
	}
	if prof := p.str("IamInstanceProfile"); prof != "" {
		if strings.HasPrefix(prof, "arn:") {
			in.IamInstanceProfile = &ec2api.IamInstanceProfileSpecification{Arn: &prof}
		} else {
			in.IamInstanceProfile = &ec2api.IamInstanceProfileSpecification{Name: &prof}
		}
	}
	if lt := p.sub("LaunchTemplate"); lt != nil {
		in.LaunchTemplate = &ec2api.LaunchTemplateSpecification{LaunchTemplateId: lt.strp("LaunchTemplateId"),
			LaunchTemplateName: lt.strp("LaunchTemplateName"), Version: lt.strp("Version")}
	}
	for _, ni := range p.maps("NetworkInterfaces") {
		spec := &ec2api.InstanceNetworkInterfaceSpecification{DeviceIndex: ni.int64p("DeviceIndex"), SubnetId: ni.strp("SubnetId"),
			AssociatePublicIpAddress: ni.boolp("AssociatePublicIpAddress"), Groups: ni.strs("GroupSet"),
			NetworkInterfaceId: ni.strp("NetworkInterfaceId"), PrivateIpAddress: ni.strp("PrivateIpAddress"),
			DeleteOnTermination: ni.boolp("DeleteOnTermination"), Description: ni.strp("Description")}
		in.NetworkInterfaces = append(in.NetworkInterfaces, spec)
	}
	out, err := c.invoke("ec2", "RunInstances", in)
	if err != nil {
		return nil, err
	}
	res := out.(*ec2api.Reservation)
	if len(res.Instances) == 0 {
		return nil, fmt.Errorf("RunInstances launched nothing")
	}
	id := deref(res.Instances[0].InstanceId)
	st := &state{Physical: id}
	if p.has("SourceDestCheck") {
		if _, err := c.invoke("ec2", "ModifyInstanceAttribute", &ec2api.ModifyInstanceAttributeRequest{InstanceId: &id,
			SourceDestCheck: boolAttr(p, "SourceDestCheck")}); err != nil {
			return st, err
		}
	}
	inst, err := waitInstance(c, id, "running", "pending")
	if err != nil {
		return st, err
	}
	st.Attrs = map[string]any{"InstanceId": id, "AvailabilityZone": deref(inst.Placement.AvailabilityZone),
		"PrivateDnsName": deref(inst.PrivateDnsName), "PrivateIp": deref(inst.PrivateIpAddress),
		"PublicDnsName": deref(inst.PublicDnsName), "PublicIp": deref(inst.PublicIpAddress), "VpcId": deref(inst.VpcId)}
	return st, nil
}

// deleteInstance terminates and waits for terminated, so what depended
// on it (its subnet, groups) can go.
func deleteInstance(c *call, s *state, _ props) error {
	id := s.Physical
	if _, err := c.invoke("ec2", "TerminateInstances", &ec2api.TerminateInstancesRequest{InstanceIds: []*string{&id}}); err != nil {
		return err
	}
	return c.wait("instance terminated", func() (bool, error) {
		out, err := c.invoke("ec2", "DescribeInstances", &ec2api.DescribeInstancesRequest{InstanceIds: []*string{&id}})
		if err != nil {
			return gone(err), nilIfGone(err)
		}
		for _, r := range out.(*ec2api.DescribeInstancesResult).Reservations {
			for _, i := range r.Instances {
				if deref(i.State.Name) != "terminated" {
					return false, nil
				}
			}
		}
		return true, nil
	})
}

func nilIfGone(err error) error {
	if gone(err) {
		return nil
	}
	return err
}

// An EIP's Ref (and physical id) is its public address.
func createEIP(c *call, p props) (*state, error) {
	out, err := c.invoke("ec2", "AllocateAddress", &ec2api.AllocateAddressRequest{Domain: str("vpc"), TagSpecifications: ec2Tags("elastic-ip", c.tags(p))})
	if err != nil {
		return nil, err
	}
	a := out.(*ec2api.AllocateAddressResult)
	ip, alloc := deref(a.PublicIp), deref(a.AllocationId)
	st := &state{Physical: ip, Attrs: map[string]any{"AllocationId": alloc, "PublicIp": ip}}
	if p.has("InstanceId") {
		if _, err := c.invoke("ec2", "AssociateAddress", &ec2api.AssociateAddressRequest{AllocationId: &alloc, InstanceId: p.strp("InstanceId")}); err != nil {
			return st, err
		}
	}
	return st, nil
}

func deleteEIP(c *call, s *state, p props) error {
	alloc, _ := s.Attrs["AllocationId"].(string)
	if p.has("InstanceId") {
		out, err := c.invoke("ec2", "DescribeAddresses", &ec2api.DescribeAddressesRequest{AllocationIds: []*string{&alloc}})
		if err == nil {
			for _, a := range out.(*ec2api.DescribeAddressesResult).Addresses {
				if a.AssociationId != nil {
					if _, err := c.invoke("ec2", "DisassociateAddress", &ec2api.DisassociateAddressRequest{AssociationId: a.AssociationId}); err != nil {
						return err
					}
				}
			}
		}
	}
	_, err := c.invoke("ec2", "ReleaseAddress", &ec2api.ReleaseAddressRequest{AllocationId: &alloc})
	return err
}

// A NAT gateway is complete once available.
func createNAT(c *call, p props) (*state, error) {
	out, err := c.invoke("ec2", "CreateNatGateway", &ec2api.CreateNatGatewayRequest{AllocationId: p.strp("AllocationId"), SubnetId: p.strp("SubnetId"),
		ConnectivityType: p.strp("ConnectivityType"), PrivateIpAddress: p.strp("PrivateIpAddress"), TagSpecifications: ec2Tags("natgateway", c.tags(p))})
	if err != nil {
		return nil, err
	}
	id := deref(out.(*ec2api.CreateNatGatewayResult).NatGateway.NatGatewayId)
	st := &state{Physical: id, Attrs: map[string]any{"NatGatewayId": id}}
	return st, waitNAT(c, id, "available")
}

func waitNAT(c *call, id, want string) error {
	return c.wait("NAT gateway "+want, func() (bool, error) {
		out, err := c.invoke("ec2", "DescribeNatGateways", &ec2api.DescribeNatGatewaysRequest{NatGatewayIds: []*string{&id}})
		if err != nil {
			return gone(err) && want == "deleted", nilIfGone(err)
		}
		for _, g := range out.(*ec2api.DescribeNatGatewaysResult).NatGateways {
			s := deref(g.State)
			if s == want {
				return true, nil
			}
			if s == "failed" {
				return false, fmt.Errorf("NAT gateway %s failed: %s", id, deref(g.FailureMessage))
			}
		}
		return false, nil
	})
}

func deleteNAT(c *call, s *state, _ props) error {
	if _, err := c.invoke("ec2", "DeleteNatGateway", &ec2api.DeleteNatGatewayRequest{NatGatewayId: &s.Physical}); err != nil {
		return err
	}
	return waitNAT(c, s.Physical, "deleted")
}

// A key pair's Ref is its name.
func createKeyPair(c *call, p props) (*state, error) {
	if p.has("PublicKeyMaterial") {
		out, err := c.invoke("ec2", "ImportKeyPair", &ec2api.ImportKeyPairRequest{KeyName: p.strp("KeyName"),
			PublicKeyMaterial: []byte(p.str("PublicKeyMaterial")), TagSpecifications: ec2Tags("key-pair", c.tags(p))})
		if err != nil {
			return nil, err
		}
		r := out.(*ec2api.ImportKeyPairResult)
		return &state{Physical: deref(r.KeyName), Attrs: map[string]any{"KeyPairId": deref(r.KeyPairId), "KeyFingerprint": deref(r.KeyFingerprint)}}, nil
	}
	out, err := c.invoke("ec2", "CreateKeyPair", &ec2api.CreateKeyPairRequest{KeyName: p.strp("KeyName"), KeyType: p.strp("KeyType"),
		KeyFormat: p.strp("KeyFormat"), TagSpecifications: ec2Tags("key-pair", c.tags(p))})
	if err != nil {
		return nil, err
	}
	k := out.(*ec2api.KeyPair)
	st := &state{Physical: deref(k.KeyName), Attrs: map[string]any{"KeyPairId": deref(k.KeyPairId), "KeyFingerprint": deref(k.KeyFingerprint)}}
	// The private key goes where AWS puts it: a SecureString parameter
	// named for the key's id, in SSM.
	_, err = c.invoke("ssm", "PutParameter", &ssmapi.PutParameterRequest{Name: str(keyParameter(deref(k.KeyPairId))),
		Type: str("SecureString"), Value: k.KeyMaterial})
	return st, err
}

func keyParameter(id string) string { return "/ec2/keypair/" + id }

func deleteKeyPair(c *call, s *state, p props) error {
	if _, err := c.invoke("ec2", "DeleteKeyPair", &ec2api.DeleteKeyPairRequest{KeyName: &s.Physical}); err != nil {
		return err
	}
	if id, _ := s.Attrs["KeyPairId"].(string); id != "" && !p.has("PublicKeyMaterial") {
		if _, err := c.invoke("ssm", "DeleteParameter", &ssmapi.DeleteParameterRequest{Name: str(keyParameter(id))}); err != nil && !gone(err) {
			return err
		}
	}
	return nil
}

// A launch template's Ref is its id.
func createLaunchTemplate(c *call, p props) (*state, error) {
	name := p.str("LaunchTemplateName")
	if name == "" {
		name = c.physicalName(128, false)
	}
	data := p.sub("LaunchTemplateData")
	d := &ec2api.RequestLaunchTemplateData{ImageId: data.strp("ImageId"), InstanceType: data.strp("InstanceType"), KeyName: data.strp("KeyName"),
		UserData: data.strp("UserData"), SecurityGroupIds: data.strs("SecurityGroupIds"), SecurityGroups: data.strs("SecurityGroups")}
	if prof := data.sub("IamInstanceProfile"); prof != nil {
		d.IamInstanceProfile = &ec2api.LaunchTemplateIamInstanceProfileSpecificationRequest{Arn: prof.strp("Arn"), Name: prof.strp("Name")}
	}
	for _, ni := range data.maps("NetworkInterfaces") {
		d.NetworkInterfaces = append(d.NetworkInterfaces, &ec2api.LaunchTemplateInstanceNetworkInterfaceSpecificationRequest{
			DeviceIndex: ni.int64p("DeviceIndex"), SubnetId: ni.strp("SubnetId"), AssociatePublicIpAddress: ni.boolp("AssociatePublicIpAddress"),
			Groups: ni.strs("Groups"), DeleteOnTermination: ni.boolp("DeleteOnTermination")})
	}
	for _, ts := range data.maps("TagSpecifications") {
		spec := &ec2api.LaunchTemplateTagSpecificationRequest{ResourceType: ts.strp("ResourceType")}
		for _, t := range ts.maps("Tags") {
			spec.Tags = append(spec.Tags, &ec2api.Tag{Key: t.strp("Key"), Value: t.strp("Value")})
		}
		d.TagSpecifications = append(d.TagSpecifications, spec)
	}
	var tagSpecs []*ec2api.TagSpecification
	for _, ts := range p.maps("TagSpecifications") {
		spec := &ec2api.TagSpecification{ResourceType: ts.strp("ResourceType")}
		for _, t := range ts.maps("Tags") {
			spec.Tags = append(spec.Tags, &ec2api.Tag{Key: t.strp("Key"), Value: t.strp("Value")})
		}
		tagSpecs = append(tagSpecs, spec)
	}
	out, err := c.invoke("ec2", "CreateLaunchTemplate", &ec2api.CreateLaunchTemplateRequest{LaunchTemplateName: &name,
		LaunchTemplateData: d, VersionDescription: p.strp("VersionDescription"), TagSpecifications: tagSpecs})
	if err != nil {
		return nil, err
	}
	lt := out.(*ec2api.CreateLaunchTemplateResult).LaunchTemplate
	id := deref(lt.LaunchTemplateId)
	return &state{Physical: id, Attrs: map[string]any{"LaunchTemplateId": id,
		"LatestVersionNumber":  strconv.FormatInt(derefInt(lt.LatestVersionNumber), 10),
		"DefaultVersionNumber": strconv.FormatInt(derefInt(lt.DefaultVersionNumber), 10)}}, nil
}

func i64(n int64) *int64 { return &n }

func derefInt(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}

package cloudformation

import (
	"fmt"
	"strings"

	acmapi "github.com/cloudbox/cloudbox/api/acm"
	asapi "github.com/cloudbox/cloudbox/api/autoscaling"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	elbv2api "github.com/cloudbox/cloudbox/api/elbv2"
	iamapi "github.com/cloudbox/cloudbox/api/iam"
	r53api "github.com/cloudbox/cloudbox/api/route53"
	"github.com/cloudbox/cloudbox/uuid"
)

// The less common types of the services above.
func init() {
	register("AWS::EC2::EIPAssociation", &provider{Create: createEIPAssociation, Delete: func(c *call, s *state, _ props) error {
		_, err := c.invoke("ec2", "DisassociateAddress", &ec2api.DisassociateAddressRequest{AssociationId: &s.Physical})
		return err
	}})
	register("AWS::EC2::NetworkAcl", &provider{Create: createNetworkACL, Delete: func(c *call, s *state, _ props) error {
		_, err := c.invoke("ec2", "DeleteNetworkAcl", &ec2api.DeleteNetworkAclRequest{NetworkAclId: &s.Physical})
		return err
	}, Update: updateTagsOnly("network-acl"), Replace: []string{"VpcId"}})
	register("AWS::EC2::NetworkAclEntry", &provider{Create: createACLEntry, Delete: func(c *call, _ *state, p props) error {
		_, err := c.invoke("ec2", "DeleteNetworkAclEntry", &ec2api.DeleteNetworkAclEntryRequest{NetworkAclId: p.strp("NetworkAclId"),
			RuleNumber: p.int64p("RuleNumber"), Egress: boolOr(p, "Egress")})
		return err
	}, Update: updateACLEntry, Replace: []string{"NetworkAclId", "RuleNumber", "Egress"}})
	register("AWS::EC2::SubnetNetworkAclAssociation", &provider{Create: createACLAssociation, Delete: deleteACLAssociation})
	register("AWS::EC2::VPCPeeringConnection", &provider{Create: createPeering, Delete: func(c *call, s *state, _ props) error {
		_, err := c.invoke("ec2", "DeleteVpcPeeringConnection", &ec2api.DeleteVpcPeeringConnectionRequest{VpcPeeringConnectionId: &s.Physical})
		return err
	}})
	register("AWS::IAM::User", &provider{Create: createUser, Delete: deleteUser, Capability: "CAPABILITY_IAM"})
	register("AWS::IAM::Group", &provider{Create: createGroupIAM, Delete: deleteGroupIAM, Capability: "CAPABILITY_IAM"})
	register("AWS::IAM::AccessKey", &provider{Create: createAccessKey, Delete: func(c *call, s *state, p props) error {
		_, err := c.invoke("iam", "DeleteAccessKey", &iamapi.DeleteAccessKeyRequest{AccessKeyId: &s.Physical, UserName: p.strp("UserName")})
		return err
	}, Capability: "CAPABILITY_IAM"})
	register("AWS::Route53::RecordSetGroup", &provider{Create: func(c *call, p props) (*state, error) {
		return changeRecords(c, p, "CREATE", c.physicalName(128, false))
	}, Delete: func(c *call, s *state, p props) error {
		_, err := changeRecords(c, p, "DELETE", s.Physical)
		return err
	}})
	register("AWS::Route53::HealthCheck", &provider{Create: createHealthCheck, Delete: func(c *call, s *state, _ props) error {
		_, err := c.invoke("route53", "DeleteHealthCheck", &r53api.DeleteHealthCheckRequest{HealthCheckId: &s.Physical})
		return err
	}})
	register("AWS::AutoScaling::LifecycleHook", &provider{Create: createLifecycleHook, Delete: func(c *call, s *state, p props) error {
		_, err := c.invoke("autoscaling", "DeleteLifecycleHook", &asapi.DeleteLifecycleHookType{AutoScalingGroupName: p.strp("AutoScalingGroupName"), LifecycleHookName: &s.Physical})
		return err
	}, Update: updateLifecycleHook, Replace: []string{"AutoScalingGroupName", "LifecycleHookName"}})
	register("AWS::ElasticLoadBalancingV2::ListenerCertificate", &provider{Create: func(c *call, p props) (*state, error) {
		in := &elbv2api.AddListenerCertificatesInput{}
		fill(in, p, nil)
		_, err := c.invoke("elbv2", "AddListenerCertificates", in)
		if err != nil {
			return nil, err
		}
		return &state{Physical: c.physicalName(128, false)}, nil
	}, Delete: func(c *call, _ *state, p props) error {
		in := &elbv2api.RemoveListenerCertificatesInput{}
		fill(in, p, nil)
		_, err := c.invoke("elbv2", "RemoveListenerCertificates", in)
		return err
	}})
	register("AWS::CertificateManager::Certificate", &provider{Create: createCertificate, Delete: deleteCertificate})
}

func boolOr(p props, k string) *bool {
	b := p.str(k) == "true"
	return &b
}

// An association's physical id is its association id.
func createEIPAssociation(c *call, p props) (*state, error) {
	out, err := c.invoke("ec2", "AssociateAddress", &ec2api.AssociateAddressRequest{AllocationId: p.strp("AllocationId"), PublicIp: p.strp("EIP"),
		InstanceId: p.strp("InstanceId"), NetworkInterfaceId: p.strp("NetworkInterfaceId"), PrivateIpAddress: p.strp("PrivateIpAddress")})
	if err != nil {
		return nil, err
	}
	return &state{Physical: deref(out.(*ec2api.AssociateAddressResult).AssociationId)}, nil
}

func createNetworkACL(c *call, p props) (*state, error) {
	out, err := c.invoke("ec2", "CreateNetworkAcl", &ec2api.CreateNetworkAclRequest{VpcId: p.strp("VpcId"), TagSpecifications: ec2Tags("network-acl", c.tags(p))})
	if err != nil {
		return nil, err
	}
	id := deref(out.(*ec2api.CreateNetworkAclResult).NetworkAcl.NetworkAclId)
	return &state{Physical: id, Attrs: map[string]any{"Id": id}}, nil
}

// An entry's physical id names its ACL, direction and rule number.
func createACLEntry(c *call, p props) (*state, error) {
	in := &ec2api.CreateNetworkAclEntryRequest{NetworkAclId: p.strp("NetworkAclId"), RuleNumber: p.int64p("RuleNumber"),
		Protocol: p.strp("Protocol"), RuleAction: p.strp("RuleAction"), Egress: boolOr(p, "Egress"), CidrBlock: p.strp("CidrBlock"),
		Ipv6CidrBlock: p.strp("Ipv6CidrBlock")}
	if icmp := p.sub("Icmp"); icmp != nil {
		in.IcmpTypeCode = &ec2api.IcmpTypeCode{Code: icmp.int64p("Code"), Type: icmp.int64p("Type")}
	}
	if pr := p.sub("PortRange"); pr != nil {
		in.PortRange = &ec2api.PortRange{From: pr.int64p("From"), To: pr.int64p("To")}
	}
	if _, err := c.invoke("ec2", "CreateNetworkAclEntry", in); err != nil {
		return nil, err
	}
	dir := "ingress"
	if *in.Egress {
		dir = "egress"
	}
	return &state{Physical: fmt.Sprintf("%s|%s|%s", p.str("NetworkAclId"), dir, p.str("RuleNumber"))}, nil
}

// aclOf returns the association of a subnet with its network ACL and
// the default ACL of its VPC.
func aclOf(c *call, subnet string) (assoc, def string, err error) {
	out, err := c.invoke("ec2", "DescribeNetworkAcls", &ec2api.DescribeNetworkAclsRequest{Filters: []*ec2api.Filter{
		{Name: str("association.subnet-id"), Values: []*string{&subnet}}}})
	if err != nil {
		return "", "", err
	}
	var vpc string
	for _, a := range out.(*ec2api.DescribeNetworkAclsResult).NetworkAcls {
		vpc = deref(a.VpcId)
		for _, as := range a.Associations {
			if deref(as.SubnetId) == subnet {
				assoc = deref(as.NetworkAclAssociationId)
			}
		}
	}
	if assoc == "" {
		return "", "", fmt.Errorf("subnet %s has no network ACL association", subnet)
	}
	out, err = c.invoke("ec2", "DescribeNetworkAcls", &ec2api.DescribeNetworkAclsRequest{Filters: []*ec2api.Filter{
		{Name: str("vpc-id"), Values: []*string{&vpc}}, {Name: str("default"), Values: []*string{str("true")}}}})
	if err != nil {
		return "", "", err
	}
	for _, a := range out.(*ec2api.DescribeNetworkAclsResult).NetworkAcls {
		def = deref(a.NetworkAclId)
	}
	return assoc, def, nil
}

func createACLAssociation(c *call, p props) (*state, error) {
	assoc, _, err := aclOf(c, p.str("SubnetId"))
	if err != nil {
		return nil, err
	}
	out, err := c.invoke("ec2", "ReplaceNetworkAclAssociation", &ec2api.ReplaceNetworkAclAssociationRequest{AssociationId: &assoc, NetworkAclId: p.strp("NetworkAclId")})
	if err != nil {
		return nil, err
	}
	id := deref(out.(*ec2api.ReplaceNetworkAclAssociationResult).NewAssociationId)
	return &state{Physical: id, Attrs: map[string]any{"AssociationId": id}}, nil
}

// deleteACLAssociation gives the subnet back to its VPC's default ACL.
func deleteACLAssociation(c *call, _ *state, p props) error {
	assoc, def, err := aclOf(c, p.str("SubnetId"))
	if err != nil {
		return err
	}
	_, err = c.invoke("ec2", "ReplaceNetworkAclAssociation", &ec2api.ReplaceNetworkAclAssociationRequest{AssociationId: &assoc, NetworkAclId: &def})
	return err
}

// A peering within the account and region is accepted as it is made, as
// CloudFormation does.
func createPeering(c *call, p props) (*state, error) {
	out, err := c.invoke("ec2", "CreateVpcPeeringConnection", &ec2api.CreateVpcPeeringConnectionRequest{VpcId: p.strp("VpcId"), PeerVpcId: p.strp("PeerVpcId"),
		PeerOwnerId: p.strp("PeerOwnerId"), PeerRegion: p.strp("PeerRegion"), TagSpecifications: ec2Tags("vpc-peering-connection", c.tags(p))})
	if err != nil {
		return nil, err
	}
	id := deref(out.(*ec2api.CreateVpcPeeringConnectionResult).VpcPeeringConnection.VpcPeeringConnectionId)
	st := &state{Physical: id, Attrs: map[string]any{"Id": id}}
	if owner, region := p.str("PeerOwnerId"), p.str("PeerRegion"); (owner == "" || owner == c.account) && (region == "" || region == c.region) {
		if _, err := c.invoke("ec2", "AcceptVpcPeeringConnection", &ec2api.AcceptVpcPeeringConnectionRequest{VpcPeeringConnectionId: &id}); err != nil {
			return st, err
		}
	}
	return st, nil
}

// A user's Ref is its name.
func createUser(c *call, p props) (*state, error) {
	name := p.str("UserName")
	if name == "" {
		name = c.physicalName(64, false)
	}
	out, err := c.invoke("iam", "CreateUser", &iamapi.CreateUserRequest{UserName: &name, Path: p.strp("Path"),
		PermissionsBoundary: p.strp("PermissionsBoundary"), Tags: iamTags(c, p)})
	if err != nil {
		return nil, err
	}
	st := &state{Physical: name, Attrs: map[string]any{"Arn": deref(out.(*iamapi.CreateUserResponse).User.Arn)}}
	if lp := p.sub("LoginProfile"); lp != nil {
		if _, err := c.invoke("iam", "CreateLoginProfile", &iamapi.CreateLoginProfileRequest{UserName: &name, Password: lp.strp("Password"),
			PasswordResetRequired: lp.boolp("PasswordResetRequired")}); err != nil {
			return st, err
		}
	}
	for _, g := range p.strs("Groups") {
		if _, err := c.invoke("iam", "AddUserToGroup", &iamapi.AddUserToGroupRequest{UserName: &name, GroupName: g}); err != nil {
			return st, err
		}
	}
	for _, arn := range p.strs("ManagedPolicyArns") {
		if _, err := c.invoke("iam", "AttachUserPolicy", &iamapi.AttachUserPolicyRequest{UserName: &name, PolicyArn: arn}); err != nil {
			return st, err
		}
	}
	for _, pol := range p.maps("Policies") {
		if _, err := c.invoke("iam", "PutUserPolicy", &iamapi.PutUserPolicyRequest{UserName: &name, PolicyName: pol.strp("PolicyName"), PolicyDocument: document(pol["PolicyDocument"])}); err != nil {
			return st, err
		}
	}
	return st, nil
}

func deleteUser(c *call, s *state, p props) error {
	name := &s.Physical
	for _, g := range p.strs("Groups") {
		if _, err := c.invoke("iam", "RemoveUserFromGroup", &iamapi.RemoveUserFromGroupRequest{UserName: name, GroupName: g}); err != nil && !gone(err) {
			return err
		}
	}
	for _, arn := range p.strs("ManagedPolicyArns") {
		if _, err := c.invoke("iam", "DetachUserPolicy", &iamapi.DetachUserPolicyRequest{UserName: name, PolicyArn: arn}); err != nil && !gone(err) {
			return err
		}
	}
	for _, pol := range p.maps("Policies") {
		if _, err := c.invoke("iam", "DeleteUserPolicy", &iamapi.DeleteUserPolicyRequest{UserName: name, PolicyName: pol.strp("PolicyName")}); err != nil && !gone(err) {
			return err
		}
	}
	if p.sub("LoginProfile") != nil {
		if _, err := c.invoke("iam", "DeleteLoginProfile", &iamapi.DeleteLoginProfileRequest{UserName: name}); err != nil && !gone(err) {
			return err
		}
	}
	_, err := c.invoke("iam", "DeleteUser", &iamapi.DeleteUserRequest{UserName: name})
	return err
}

// A group's Ref is its name.
func createGroupIAM(c *call, p props) (*state, error) {
	name := p.str("GroupName")
	if name == "" {
		name = c.physicalName(128, false)
	}
	out, err := c.invoke("iam", "CreateGroup", &iamapi.CreateGroupRequest{GroupName: &name, Path: p.strp("Path")})
	if err != nil {
		return nil, err
	}
	st := &state{Physical: name, Attrs: map[string]any{"Arn": deref(out.(*iamapi.CreateGroupResponse).Group.Arn)}}
	for _, arn := range p.strs("ManagedPolicyArns") {
		if _, err := c.invoke("iam", "AttachGroupPolicy", &iamapi.AttachGroupPolicyRequest{GroupName: &name, PolicyArn: arn}); err != nil {
			return st, err
		}
	}
	for _, pol := range p.maps("Policies") {
		if _, err := c.invoke("iam", "PutGroupPolicy", &iamapi.PutGroupPolicyRequest{GroupName: &name, PolicyName: pol.strp("PolicyName"), PolicyDocument: document(pol["PolicyDocument"])}); err != nil {
			return st, err
		}
	}
	return st, nil
}

func deleteGroupIAM(c *call, s *state, p props) error {
	name := &s.Physical
	for _, arn := range p.strs("ManagedPolicyArns") {
		if _, err := c.invoke("iam", "DetachGroupPolicy", &iamapi.DetachGroupPolicyRequest{GroupName: name, PolicyArn: arn}); err != nil && !gone(err) {
			return err
		}
	}
	for _, pol := range p.maps("Policies") {
		if _, err := c.invoke("iam", "DeleteGroupPolicy", &iamapi.DeleteGroupPolicyRequest{GroupName: name, PolicyName: pol.strp("PolicyName")}); err != nil && !gone(err) {
			return err
		}
	}
	_, err := c.invoke("iam", "DeleteGroup", &iamapi.DeleteGroupRequest{GroupName: name})
	return err
}

// An access key's Ref is its id; SecretAccessKey is an attribute.
func createAccessKey(c *call, p props) (*state, error) {
	out, err := c.invoke("iam", "CreateAccessKey", &iamapi.CreateAccessKeyRequest{UserName: p.strp("UserName")})
	if err != nil {
		return nil, err
	}
	k := out.(*iamapi.CreateAccessKeyResponse).AccessKey
	st := &state{Physical: deref(k.AccessKeyId), Attrs: map[string]any{"SecretAccessKey": deref(k.SecretAccessKey)}}
	if p.str("Status") == "Inactive" {
		if _, err := c.invoke("iam", "UpdateAccessKey", &iamapi.UpdateAccessKeyRequest{UserName: p.strp("UserName"), AccessKeyId: k.AccessKeyId, Status: str("Inactive")}); err != nil {
			return st, err
		}
	}
	return st, nil
}

// changeRecords applies one change to every record set of a group.
func changeRecords(c *call, p props, action, id string) (*state, error) {
	for _, rs := range p.maps("RecordSets") {
		merged := props{"HostedZoneId": p["HostedZoneId"], "HostedZoneName": p["HostedZoneName"]}
		for k, v := range rs {
			merged[k] = v
		}
		if merged["HostedZoneId"] == nil {
			delete(merged, "HostedZoneId")
		}
		if merged["HostedZoneName"] == nil {
			delete(merged, "HostedZoneName")
		}
		if _, err := changeRecord(c, merged, action); err != nil {
			return nil, err
		}
	}
	return &state{Physical: id}, nil
}

// A health check's Ref is its id.
func createHealthCheck(c *call, p props) (*state, error) {
	in := &r53api.CreateHealthCheckRequest{CallerReference: str(uuid.New()), HealthCheckConfig: &r53api.HealthCheckConfig{}}
	fill(in.HealthCheckConfig, p.sub("HealthCheckConfig"), nil)
	out, err := c.invoke("route53", "CreateHealthCheck", in)
	if err != nil {
		return nil, err
	}
	id := deref(out.(*r53api.CreateHealthCheckResponse).HealthCheck.Id)
	return &state{Physical: id, Attrs: map[string]any{"HealthCheckId": id}}, nil
}

// A lifecycle hook's Ref is its name.
func createLifecycleHook(c *call, p props) (*state, error) {
	in := &asapi.PutLifecycleHookType{}
	fill(in, p, nil)
	if in.LifecycleHookName == nil {
		in.LifecycleHookName = str(c.physicalName(255, false))
	}
	if _, err := c.invoke("autoscaling", "PutLifecycleHook", in); err != nil {
		return nil, err
	}
	return &state{Physical: *in.LifecycleHookName}, nil
}

// validationZones are the hosted zones a certificate's template names
// for DNS validation, by domain.
func validationZones(p props) map[string]string {
	zones := map[string]string{}
	for _, o := range p.maps("DomainValidationOptions") {
		if o.has("HostedZoneId") {
			zones[strings.TrimSuffix(o.str("DomainName"), ".")] = o.str("HostedZoneId")
		}
	}
	return zones
}

// deleteCertificate deletes the certificate and the validation records
// CloudFormation wrote for it.
func deleteCertificate(c *call, s *state, p props) error {
	out, err := c.invoke("acm", "DescribeCertificate", &acmapi.DescribeCertificateRequest{CertificateArn: &s.Physical})
	if err != nil {
		return err
	}
	zones := validationZones(p)
	for _, dv := range out.(*acmapi.DescribeCertificateResponse).Certificate.DomainValidationOptions {
		zone, ok := zones[strings.TrimSuffix(deref(dv.DomainName), ".")]
		if !ok || dv.ResourceRecord == nil {
			continue
		}
		rr := dv.ResourceRecord
		if _, err := changeRecord(c, props{"HostedZoneId": zone, "Name": deref(rr.Name), "Type": deref(rr.Type), "TTL": "300",
			"ResourceRecords": []any{deref(rr.Value)}}, "DELETE"); err != nil && !gone(err) {
			return err
		}
	}
	_, err = c.invoke("acm", "DeleteCertificate", &acmapi.DeleteCertificateRequest{CertificateArn: &s.Physical})
	return err
}

// A certificate's Ref is its ARN. With DNS validation in hosted zones
// the template names, CloudFormation writes the validation records
// there; it is complete once issued.
func createCertificate(c *call, p props) (*state, error) {
	in := &acmapi.RequestCertificateRequest{DomainName: p.strp("DomainName"), SubjectAlternativeNames: p.strs("SubjectAlternativeNames"),
		ValidationMethod: p.strp("ValidationMethod"), KeyAlgorithm: p.strp("KeyAlgorithm"), CertificateAuthorityArn: p.strp("CertificateAuthorityArn"),
		IdempotencyToken: str(strings.ReplaceAll(uuid.New(), "-", "")[:32])}
	zones := validationZones(p)
	for _, o := range p.maps("DomainValidationOptions") {
		if !o.has("HostedZoneId") && o.has("ValidationDomain") {
			in.DomainValidationOptions = append(in.DomainValidationOptions, &acmapi.DomainValidationOption{DomainName: o.strp("DomainName"), ValidationDomain: o.strp("ValidationDomain")})
		}
	}
	for _, t := range c.tags(p) {
		in.Tags = append(in.Tags, &acmapi.Tag{Key: str(t[0]), Value: str(t[1])})
	}
	out, err := c.invoke("acm", "RequestCertificate", in)
	if err != nil {
		return nil, err
	}
	arn := deref(out.(*acmapi.RequestCertificateResponse).CertificateArn)
	st := &state{Physical: arn}
	written := map[string]bool{}
	err = c.wait("certificate issued", func() (bool, error) {
		out, err := c.invoke("acm", "DescribeCertificate", &acmapi.DescribeCertificateRequest{CertificateArn: &arn})
		if err != nil {
			return false, err
		}
		cert := out.(*acmapi.DescribeCertificateResponse).Certificate
		switch deref(cert.Status) {
		case "ISSUED":
			return true, nil
		case "FAILED", "VALIDATION_TIMED_OUT", "REVOKED":
			return false, fmt.Errorf("Certificate %s is %s", arn, deref(cert.Status))
		}
		for _, dv := range cert.DomainValidationOptions {
			zone, ok := zones[strings.TrimSuffix(deref(dv.DomainName), ".")]
			if !ok || dv.ResourceRecord == nil || written[deref(dv.ResourceRecord.Name)] {
				continue
			}
			rr := dv.ResourceRecord
			if _, err := changeRecord(c, props{"HostedZoneId": zone, "Name": deref(rr.Name), "Type": deref(rr.Type), "TTL": "300",
				"ResourceRecords": []any{deref(rr.Value)}}, "UPSERT"); err != nil {
				return false, err
			}
			written[deref(rr.Name)] = true
		}
		return false, nil
	})
	return st, err
}

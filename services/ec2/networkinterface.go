package ec2

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

const (
	// maxGroupsPerENI is AWS's default quota of security groups per
	// network interface.
	maxGroupsPerENI = 5
	// maxIPsPerENI is the most private IPv4 addresses an interface may
	// have: the limit of AWS's largest instance types.
	maxIPsPerENI = 50
)

var eniCreationTypes = map[string]bool{"": true, "efa": true, "efa-only": true, "branch": true, "trunk": true}

func (s *Service) CreateNetworkInterface(ctx context.Context, in *ec2api.CreateNetworkInterfaceRequest) (*ec2api.CreateNetworkInterfaceResult, error) {
	sc := scopeOf(ctx)
	tags, err := tagsFor(in.TagSpecifications, "network-interface")
	if err != nil {
		return nil, err
	}
	if orZero(in.Ipv6AddressCount) > 0 || len(in.Ipv6Addresses) > 0 || orZero(in.Ipv6PrefixCount) > 0 || len(in.Ipv6Prefixes) > 0 ||
		orZero(in.Ipv4PrefixCount) > 0 || len(in.Ipv4Prefixes) > 0 || (in.EnablePrimaryIpv6 != nil && *in.EnablePrimaryIpv6) {
		return nil, api.Errorf("UnsupportedOperation", "IPv6 addresses and IP prefixes on network interfaces are not supported by cloudbox.")
	}
	itype := deref(in.InterfaceType)
	if !eniCreationTypes[itype] {
		return nil, invalidParameter("Value (%s) for parameter interfaceType is invalid.", itype)
	}
	primary := deref(in.PrivateIpAddress)
	var secondary []string
	for _, p := range in.PrivateIpAddresses {
		ip := deref(p.PrivateIpAddress)
		if p.Primary != nil && *p.Primary {
			if primary != "" && primary != ip {
				return nil, api.Errorf("InvalidParameterCombination", "Only one primary private IP address may be specified.")
			}
			primary = ip
		} else {
			secondary = append(secondary, ip)
		}
	}
	count := orZero(in.SecondaryPrivateIpAddressCount)
	if count < 0 {
		return nil, invalidParameter("Value (%d) for parameter secondaryPrivateIpAddressCount is invalid.", count)
	}
	if count > 0 && len(secondary) > 0 {
		return nil, api.Errorf("InvalidParameterCombination", "SecondaryPrivateIpAddressCount may not be used with secondary addresses in PrivateIpAddresses.")
	}
	if 1+len(secondary)+int(count) > maxIPsPerENI {
		return nil, api.Errorf("PrivateIpAddressLimitExceeded", "Number of private addresses will exceed limit.")
	}
	if len(in.Groups) > maxGroupsPerENI {
		return nil, api.Errorf("SecurityGroupsPerInterfaceLimitExceeded", "The maximum number of security groups per interface has been reached.")
	}
	req := *in
	req.ClientToken, req.DryRun = nil, nil
	e, err := create(s, sc, creation[networkInterfaceRecord]{
		op: "CreateNetworkInterface", token: in.ClientToken, req: req,
		made: stored[networkInterfaceRecord](sc, kindENI),
		make: func(tx *store.Tx) (*networkInterfaceRecord, string, error) {
			sn, err := load[subnetRecord](tx, sc, kindSubnet, deref(in.SubnetId))
			if err != nil {
				return nil, "", err
			}
			groups := derefAll(in.Groups)
			if len(groups) == 0 {
				v, err := load[vpcRecord](tx, sc, kindVPC, deref(sn.VpcId))
				if err != nil {
					return nil, "", err
				}
				groups = []string{v.DefaultSecurityGroupID}
			}
			e, err := createENI(tx, sc, eniSpec{subnet: sn, privateIP: primary, groups: groups, description: deref(in.Description), interfaceType: itype, tags: tags})
			if err != nil {
				return nil, "", err
			}
			for _, ip := range secondary {
				if err := addPrivateIP(tx, sc, e, sn, ip); err != nil {
					return nil, "", err
				}
			}
			for range count {
				if err := addPrivateIP(tx, sc, e, sn, ""); err != nil {
					return nil, "", err
				}
			}
			if err := dryRun(in.DryRun); err != nil {
				return nil, "", err
			}
			return e, *e.NetworkInterfaceId, save(tx, sc, kindENI, *e.NetworkInterfaceId, e)
		},
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateNetworkInterfaceResult{NetworkInterface: &e.NetworkInterface, ClientToken: in.ClientToken}, nil
}

// addPrivateIP gives e a secondary address in its subnet sn: want, or
// the next free one. The subnet is saved; e is the caller's to save.
func addPrivateIP(tx *store.Tx, sc scope, e *networkInterfaceRecord, sn *subnetRecord, want string) error {
	ip, err := allocateIP(sn, want, *e.NetworkInterfaceId)
	if err != nil {
		return err
	}
	e.PrivateIpAddresses = append(e.PrivateIpAddresses, &ec2api.NetworkInterfacePrivateIpAddress{
		Primary: boolp(false), PrivateIpAddress: str(ip), PrivateDnsName: str(privateDNSName(sc.region, ip)),
	})
	return save(tx, sc, kindSubnet, *sn.SubnetId, sn)
}

// orZero is a count, 0 when not given.
func orZero(n *int64) int64 {
	if n == nil {
		return 0
	}
	return *n
}

func derefAll(ss []*string) []string {
	var out []string
	for _, s := range ss {
		if s != nil {
			out = append(out, *s)
		}
	}
	return out
}

func (s *Service) DeleteNetworkInterface(ctx context.Context, in *ec2api.DeleteNetworkInterfaceRequest) (*ec2api.DeleteNetworkInterfaceOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		e, err := load[networkInterfaceRecord](tx, sc, kindENI, deref(in.NetworkInterfaceId))
		if err != nil {
			return err
		}
		if e.Attachment != nil {
			return api.Errorf("InvalidNetworkInterface.InUse", "Network interface '%s' is currently in use.", *e.NetworkInterfaceId)
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		if err := unlinkAddressesOf(tx, sc, *e.NetworkInterfaceId); err != nil {
			return err
		}
		return deleteENI(tx, sc, e)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteNetworkInterfaceOutput{}, nil
}

// isoTime is the form EC2 filters compare times in.
func isoTime(t *time.Time) []string {
	if t == nil {
		return nil
	}
	return []string{t.UTC().Format("2006-01-02T15:04:05.000Z")}
}

// eniFields are DescribeNetworkInterfaces' filters.
func eniFields() fields[networkInterfaceRecord] {
	type rec = networkInterfaceRecord
	att := func(get func(*ec2api.NetworkInterfaceAttachment) []string) func(*rec) []string {
		return func(e *rec) []string {
			if e.Attachment == nil {
				return nil
			}
			return get(e.Attachment)
		}
	}
	assoc := func(get func(*ec2api.NetworkInterfaceAssociation) []string) func(*rec) []string {
		return func(e *rec) []string {
			if e.Association == nil {
				return nil
			}
			return get(e.Association)
		}
	}
	addrs := func(get func(*ec2api.NetworkInterfacePrivateIpAddress) []string) func(*rec) []string {
		return func(e *rec) []string {
			var out []string
			for _, a := range e.PrivateIpAddresses {
				out = append(out, get(a)...)
			}
			return out
		}
	}
	addrAssoc := func(get func(*ec2api.NetworkInterfaceAssociation) []string) func(*rec) []string {
		return addrs(func(a *ec2api.NetworkInterfacePrivateIpAddress) []string {
			if a.Association == nil {
				return nil
			}
			return get(a.Association)
		})
	}
	privateIP := addrs(func(a *ec2api.NetworkInterfacePrivateIpAddress) []string { return one(a.PrivateIpAddress) })
	return fields[rec]{
		"network-interface-id": func(e *rec) []string { return one(e.NetworkInterfaceId) },
		"subnet-id":            func(e *rec) []string { return one(e.SubnetId) },
		"vpc-id":               func(e *rec) []string { return one(e.VpcId) },
		"availability-zone":    func(e *rec) []string { return one(e.AvailabilityZone) },
		"description":          func(e *rec) []string { return one(e.Description) },
		"owner-id":             func(e *rec) []string { return one(e.OwnerId) },
		"mac-address":          func(e *rec) []string { return one(e.MacAddress) },
		"status":               func(e *rec) []string { return one(e.Status) },
		"interface-type":       func(e *rec) []string { return one(e.InterfaceType) },
		"requester-id":         func(e *rec) []string { return one(e.RequesterId) },
		"requester-managed":    func(e *rec) []string { return boolField(e.RequesterManaged) },
		"source-dest-check":    func(e *rec) []string { return boolField(e.SourceDestCheck) },
		"private-dns-name":     func(e *rec) []string { return one(e.PrivateDnsName) },
		"private-ip-address":   privateIP,
		"group-id": func(e *rec) []string {
			var out []string
			for _, g := range e.Groups {
				out = append(out, one(g.GroupId)...)
			}
			return out
		},
		"group-name": func(e *rec) []string {
			var out []string
			for _, g := range e.Groups {
				out = append(out, one(g.GroupName)...)
			}
			return out
		},
		"ipv6-addresses.ipv6-address": func(e *rec) []string {
			var out []string
			for _, a := range e.Ipv6Addresses {
				out = append(out, one(a.Ipv6Address)...)
			}
			return out
		},
		"addresses.private-ip-address":    privateIP,
		"addresses.primary":               addrs(func(a *ec2api.NetworkInterfacePrivateIpAddress) []string { return boolField(a.Primary) }),
		"addresses.association.public-ip": addrAssoc(func(a *ec2api.NetworkInterfaceAssociation) []string { return one(a.PublicIp) }),
		"addresses.association.owner-id":  addrAssoc(func(a *ec2api.NetworkInterfaceAssociation) []string { return one(a.IpOwnerId) }),
		"association.association-id":      assoc(func(a *ec2api.NetworkInterfaceAssociation) []string { return one(a.AssociationId) }),
		"association.allocation-id":       assoc(func(a *ec2api.NetworkInterfaceAssociation) []string { return one(a.AllocationId) }),
		"association.ip-owner-id":         assoc(func(a *ec2api.NetworkInterfaceAssociation) []string { return one(a.IpOwnerId) }),
		"association.public-ip":           assoc(func(a *ec2api.NetworkInterfaceAssociation) []string { return one(a.PublicIp) }),
		"association.public-dns-name":     assoc(func(a *ec2api.NetworkInterfaceAssociation) []string { return one(a.PublicDnsName) }),
		"attachment.attachment-id":        att(func(a *ec2api.NetworkInterfaceAttachment) []string { return one(a.AttachmentId) }),
		"attachment.attach-time":          att(func(a *ec2api.NetworkInterfaceAttachment) []string { return isoTime(a.AttachTime) }),
		"attachment.delete-on-termination": att(func(a *ec2api.NetworkInterfaceAttachment) []string {
			return boolField(a.DeleteOnTermination)
		}),
		"attachment.device-index":      att(func(a *ec2api.NetworkInterfaceAttachment) []string { return int64Field(a.DeviceIndex) }),
		"attachment.instance-id":       att(func(a *ec2api.NetworkInterfaceAttachment) []string { return one(a.InstanceId) }),
		"attachment.instance-owner-id": att(func(a *ec2api.NetworkInterfaceAttachment) []string { return one(a.InstanceOwnerId) }),
		"attachment.status":            att(func(a *ec2api.NetworkInterfaceAttachment) []string { return one(a.Status) }),
	}
}

func (s *Service) DescribeNetworkInterfaces(ctx context.Context, in *ec2api.DescribeNetworkInterfacesRequest) (*ec2api.DescribeNetworkInterfacesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	fs := eniFields()
	if err := checkFilterNames(in.Filters, fs); err != nil {
		return nil, err
	}
	var page []*networkInterfaceRecord
	var next *string
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		q := query{ids: in.NetworkInterfaceIds, filters: in.Filters, maxResults: in.MaxResults, nextToken: in.NextToken, idsParam: "NetworkInterfaceIds"}
		page, next, err = describe(tx, sc, kindENI, q,
			func(e *networkInterfaceRecord) string { return *e.NetworkInterfaceId },
			func(e *networkInterfaceRecord) []*ec2api.Tag { return e.TagSet }, fs)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeNetworkInterfacesResult{NetworkInterfaces: []*ec2api.NetworkInterface{}, NextToken: next}
	for _, e := range page {
		out.NetworkInterfaces = append(out.NetworkInterfaces, &e.NetworkInterface)
	}
	return out, nil
}

// groupIdentifiers loads groups of the VPC for an interface.
func groupIdentifiers(tx *store.Tx, sc scope, vpcID string, ids []string) ([]*ec2api.GroupIdentifier, error) {
	if len(ids) > maxGroupsPerENI {
		return nil, api.Errorf("SecurityGroupsPerInterfaceLimitExceeded", "The maximum number of security groups per interface has been reached.")
	}
	groups, err := checkSecurityGroups(tx, sc, vpcID, ids)
	if err != nil {
		return nil, err
	}
	out := []*ec2api.GroupIdentifier{}
	for _, g := range groups {
		out = append(out, &ec2api.GroupIdentifier{GroupId: g.GroupId, GroupName: g.GroupName})
	}
	return out, nil
}

func (s *Service) ModifyNetworkInterfaceAttribute(ctx context.Context, in *ec2api.ModifyNetworkInterfaceAttributeRequest) (*ec2api.ModifyNetworkInterfaceAttributeOutput, error) {
	sc := scopeOf(ctx)
	if in.AssociatePublicIpAddress != nil || in.ConnectionTrackingSpecification != nil || in.EnaSrdSpecification != nil || in.EnablePrimaryIpv6 != nil {
		return nil, api.Errorf("UnsupportedOperation", "cloudbox modifies only the description, groupSet, sourceDestCheck and attachment attributes of a network interface.")
	}
	var set []string
	for name, given := range map[string]bool{"groupSet": len(in.Groups) > 0, "sourceDestCheck": in.SourceDestCheck != nil, "description": in.Description != nil, "attachment": in.Attachment != nil} {
		if given {
			set = append(set, name)
		}
	}
	if len(set) == 0 {
		return nil, api.Errorf("MissingParameter", "The request must contain exactly one of the parameters description, groupSet, sourceDestCheck or attachment")
	}
	if len(set) > 1 {
		sort.Strings(set)
		return nil, api.Errorf("InvalidParameterCombination", "Fields for multiple attribute types specified: %s", strings.Join(set, ", "))
	}
	err := s.store.Update(func(tx *store.Tx) error {
		e, err := load[networkInterfaceRecord](tx, sc, kindENI, deref(in.NetworkInterfaceId))
		if err != nil {
			return err
		}
		switch {
		case len(in.Groups) > 0:
			if e.Groups, err = groupIdentifiers(tx, sc, deref(e.VpcId), derefAll(in.Groups)); err != nil {
				return err
			}
		case in.SourceDestCheck != nil:
			if in.SourceDestCheck.Value == nil {
				return api.Errorf("MissingParameter", "The request must contain the parameter sourceDestCheck.value")
			}
			e.SourceDestCheck = boolp(*in.SourceDestCheck.Value)
		case in.Description != nil:
			e.Description = str(deref(in.Description.Value))
		case in.Attachment != nil:
			if e.Attachment == nil || deref(e.Attachment.AttachmentId) != deref(in.Attachment.AttachmentId) {
				return attachmentNotFound(deref(in.Attachment.AttachmentId))
			}
			if in.Attachment.DeleteOnTermination != nil {
				e.Attachment.DeleteOnTermination = boolp(*in.Attachment.DeleteOnTermination)
			}
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		if err := save(tx, sc, kindENI, *e.NetworkInterfaceId, e); err != nil {
			return err
		}
		return syncInstance(tx, sc, attachedInstance(e))
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ModifyNetworkInterfaceAttributeOutput{}, nil
}

func attachmentNotFound(id string) error {
	return api.Errorf("InvalidAttachmentID.NotFound", "The interface attachment ID '%s' does not exist", id)
}

func (s *Service) DescribeNetworkInterfaceAttribute(ctx context.Context, in *ec2api.DescribeNetworkInterfaceAttributeRequest) (*ec2api.DescribeNetworkInterfaceAttributeResult, error) {
	sc := scopeOf(ctx)
	attr := deref(in.Attribute)
	var e *networkInterfaceRecord
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		e, err = load[networkInterfaceRecord](tx, sc, kindENI, deref(in.NetworkInterfaceId))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeNetworkInterfaceAttributeResult{NetworkInterfaceId: e.NetworkInterfaceId}
	switch attr {
	case "":
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter attribute")
	case "description":
		out.Description = &ec2api.AttributeValue{Value: e.Description}
	case "groupSet":
		out.Groups = e.Groups
	case "sourceDestCheck":
		out.SourceDestCheck = &ec2api.AttributeBooleanValue{Value: e.SourceDestCheck}
	case "attachment":
		out.Attachment = e.Attachment
	case "associatePublicIpAddress":
		out.AssociatePublicIpAddress = boolp(e.Association != nil && e.Association.AllocationId == nil)
	default:
		return nil, invalidParameter("Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
	}
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) AssignPrivateIpAddresses(ctx context.Context, in *ec2api.AssignPrivateIpAddressesRequest) (*ec2api.AssignPrivateIpAddressesResult, error) {
	sc := scopeOf(ctx)
	if orZero(in.Ipv4PrefixCount) > 0 || len(in.Ipv4Prefixes) > 0 {
		return nil, api.Errorf("UnsupportedOperation", "IP prefixes on network interfaces are not supported by cloudbox.")
	}
	ips := derefAll(in.PrivateIpAddresses)
	count := orZero(in.SecondaryPrivateIpAddressCount)
	if len(ips) > 0 && in.SecondaryPrivateIpAddressCount != nil {
		return nil, api.Errorf("InvalidParameterCombination", "PrivateIpAddresses and SecondaryPrivateIpAddressCount may not be used together.")
	}
	if len(ips) == 0 && count < 1 {
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter PrivateIpAddresses or SecondaryPrivateIpAddressCount")
	}
	reassign := in.AllowReassignment != nil && *in.AllowReassignment
	out := &ec2api.AssignPrivateIpAddressesResult{NetworkInterfaceId: in.NetworkInterfaceId, AssignedPrivateIpAddresses: []*ec2api.AssignedPrivateIpAddress{}}
	err := s.store.Update(func(tx *store.Tx) error {
		e, err := load[networkInterfaceRecord](tx, sc, kindENI, deref(in.NetworkInterfaceId))
		if err != nil {
			return err
		}
		if len(e.PrivateIpAddresses)+len(ips)+int(count) > maxIPsPerENI {
			return api.Errorf("PrivateIpAddressLimitExceeded", "Number of private addresses will exceed limit.")
		}
		for range count {
			ips = append(ips, "")
		}
		for _, ip := range ips {
			var moved *ec2api.NetworkInterfaceAssociation
			if ip != "" && privateIPIndex(e, ip) >= 0 {
				return invalidParameter("Address %s is already assigned to the interface %s.", ip, *e.NetworkInterfaceId)
			}
			if ip != "" && reassign {
				if moved, err = takeFromOtherENI(tx, sc, deref(e.SubnetId), ip); err != nil {
					return err
				}
			}
			sn, err := load[subnetRecord](tx, sc, kindSubnet, deref(e.SubnetId))
			if err != nil {
				return err
			}
			if err := addPrivateIP(tx, sc, e, sn, ip); err != nil {
				return err
			}
			added := e.PrivateIpAddresses[len(e.PrivateIpAddresses)-1]
			out.AssignedPrivateIpAddresses = append(out.AssignedPrivateIpAddresses, &ec2api.AssignedPrivateIpAddress{PrivateIpAddress: added.PrivateIpAddress})
			if moved != nil {
				added.Association = moved
				if err := relinkAddress(tx, sc, *moved.AllocationId, e); err != nil {
					return err
				}
			}
		}
		if err := save(tx, sc, kindENI, *e.NetworkInterfaceId, e); err != nil {
			return err
		}
		return syncInstance(tx, sc, attachedInstance(e))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// takeFromOtherENI frees a secondary address another interface of subnet
// holds, as AllowReassignment does, and returns the association of
// the Elastic IP on it, which moves with the address (nil if none).
func takeFromOtherENI(tx *store.Tx, sc scope, subnetID, ip string) (*ec2api.NetworkInterfaceAssociation, error) {
	sn, err := load[subnetRecord](tx, sc, kindSubnet, subnetID)
	if err != nil {
		return nil, err
	}
	if owner, used := sn.Used[ip]; !used || !strings.HasPrefix(owner, kindENI.prefix+"-") {
		return nil, nil
	}
	owner := sn.Used[ip]
	other, err := load[networkInterfaceRecord](tx, sc, kindENI, owner)
	if err != nil {
		return nil, err
	}
	i := privateIPIndex(other, ip)
	if i < 0 || *other.PrivateIpAddresses[i].Primary {
		return nil, api.Errorf("InvalidIPAddress.InUse", "Address %s is in use.", ip)
	}
	moved := other.PrivateIpAddresses[i].Association
	other.PrivateIpAddresses = append(other.PrivateIpAddresses[:i], other.PrivateIpAddresses[i+1:]...)
	sn.release(ip)
	if err := save(tx, sc, kindSubnet, *sn.SubnetId, sn); err != nil {
		return nil, err
	}
	if err := save(tx, sc, kindENI, owner, other); err != nil {
		return nil, err
	}
	if moved != nil && moved.AllocationId == nil {
		moved = nil
	}
	return moved, syncInstance(tx, sc, attachedInstance(other))
}

// relinkAddress points an Elastic IP at the interface e it moved to.
func relinkAddress(tx *store.Tx, sc scope, allocID string, e *networkInterfaceRecord) error {
	a, err := load[addressRecord](tx, sc, kindAddress, allocID)
	if err != nil {
		return err
	}
	a.NetworkInterfaceId, a.NetworkInterfaceOwnerId, a.InstanceId = e.NetworkInterfaceId, e.OwnerId, attachedInstance(e)
	return save(tx, sc, kindAddress, allocID, a)
}

func privateIPIndex(e *networkInterfaceRecord, ip string) int {
	for i, a := range e.PrivateIpAddresses {
		if deref(a.PrivateIpAddress) == ip {
			return i
		}
	}
	return -1
}

func (s *Service) UnassignPrivateIpAddresses(ctx context.Context, in *ec2api.UnassignPrivateIpAddressesRequest) (*ec2api.UnassignPrivateIpAddressesOutput, error) {
	sc := scopeOf(ctx)
	if len(in.Ipv4Prefixes) > 0 {
		return nil, api.Errorf("UnsupportedOperation", "IP prefixes on network interfaces are not supported by cloudbox.")
	}
	ips := derefAll(in.PrivateIpAddresses)
	if len(ips) == 0 {
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter PrivateIpAddresses")
	}
	err := s.store.Update(func(tx *store.Tx) error {
		e, err := load[networkInterfaceRecord](tx, sc, kindENI, deref(in.NetworkInterfaceId))
		if err != nil {
			return err
		}
		sn, err := load[subnetRecord](tx, sc, kindSubnet, deref(e.SubnetId))
		if err != nil {
			return err
		}
		for _, ip := range ips {
			i := privateIPIndex(e, ip)
			if i < 0 {
				return invalidParameter("Some of the specified addresses are not assigned to interface %s", *e.NetworkInterfaceId)
			}
			a := e.PrivateIpAddresses[i]
			if *a.Primary {
				return invalidParameter("The primary IP address of an interface cannot be unassigned.")
			}
			if a.Association != nil && a.Association.AllocationId != nil {
				if err := unlinkAddress(tx, sc, *a.Association.AllocationId); err != nil {
					return err
				}
			}
			e.PrivateIpAddresses = append(e.PrivateIpAddresses[:i], e.PrivateIpAddresses[i+1:]...)
			sn.release(ip)
		}
		if err := save(tx, sc, kindSubnet, *sn.SubnetId, sn); err != nil {
			return err
		}
		if err := save(tx, sc, kindENI, *e.NetworkInterfaceId, e); err != nil {
			return err
		}
		return syncInstance(tx, sc, attachedInstance(e))
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.UnassignPrivateIpAddressesOutput{}, nil
}

func (s *Service) AttachNetworkInterface(ctx context.Context, in *ec2api.AttachNetworkInterfaceRequest) (*ec2api.AttachNetworkInterfaceResult, error) {
	sc := scopeOf(ctx)
	idx, card := orZero(in.DeviceIndex), orZero(in.NetworkCardIndex)
	if idx < 0 {
		return nil, invalidParameter("Value (%d) for parameter deviceIndex is invalid.", idx)
	}
	if card != 0 {
		return nil, invalidParameter("Value (%d) for parameter networkCardIndex is invalid. The instance type has one network card.", card)
	}
	out := &ec2api.AttachNetworkInterfaceResult{NetworkCardIndex: i64(card)}
	err := s.store.Update(func(tx *store.Tx) error {
		e, err := load[networkInterfaceRecord](tx, sc, kindENI, deref(in.NetworkInterfaceId))
		if err != nil {
			return err
		}
		inst, err := loadInstance(tx, sc, deref(in.InstanceId), s.now())
		if err != nil {
			return err
		}
		id := *inst.InstanceId
		if state := instanceStateName(inst); state != "running" && state != "stopped" {
			return api.Errorf("IncorrectInstanceState", "The instance '%s' is not in a valid state for this operation.", id)
		}
		if e.Attachment != nil {
			return api.Errorf("InvalidNetworkInterface.InUse", "Interface: [%s] in use.", *e.NetworkInterfaceId)
		}
		if inst.Placement != nil && deref(inst.Placement.AvailabilityZone) != deref(e.AvailabilityZone) {
			return api.Errorf("InvalidParameterCombination", "You may not attach a network interface to an instance if they are not in the same availability zone")
		}
		if deref(inst.VpcId) != "" && deref(inst.VpcId) != deref(e.VpcId) {
			return api.Errorf("InvalidParameterCombination", "You may not attach a network interface to an instance in another VPC")
		}
		attached, err := enisByInstance(tx, sc)
		if err != nil {
			return err
		}
		for _, o := range attached[id] {
			if attachIndex(o) == idx {
				return invalidParameter("Instance '%s' already has an interface attached at device index '%d'.", id, idx)
			}
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		now := s.now().UTC()
		out.AttachmentId = str(newAssocID("eni-attach"))
		e.Attachment = &ec2api.NetworkInterfaceAttachment{
			AttachTime: &now, AttachmentId: out.AttachmentId, DeleteOnTermination: boolp(false), DeviceIndex: i64(idx),
			InstanceId: inst.InstanceId, InstanceOwnerId: str(sc.account), NetworkCardIndex: i64(card), Status: str("attached"),
		}
		e.Status = str("in-use")
		if err := save(tx, sc, kindENI, *e.NetworkInterfaceId, e); err != nil {
			return err
		}
		if err := setAddressesInstance(tx, sc, *e.NetworkInterfaceId, inst.InstanceId); err != nil {
			return err
		}
		return syncInstance(tx, sc, attachedInstance(e))
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) DetachNetworkInterface(ctx context.Context, in *ec2api.DetachNetworkInterfaceRequest) (*ec2api.DetachNetworkInterfaceOutput, error) {
	sc := scopeOf(ctx)
	id := deref(in.AttachmentId)
	err := s.store.Update(func(tx *store.Tx) error {
		enis, err := listAll[networkInterfaceRecord](tx, sc, kindENI)
		if err != nil {
			return err
		}
		var e *networkInterfaceRecord
		for _, o := range enis {
			if o.Attachment != nil && deref(o.Attachment.AttachmentId) == id {
				e = o
			}
		}
		if e == nil {
			return attachmentNotFound(id)
		}
		if e.Attachment.InstanceId == nil {
			p, _, _ := strings.Cut(id, "-attach")
			return api.Errorf("OperationNotPermitted", "You are not allowed to manage '%s-attach' attachments.", p)
		}
		if attachIndex(e) == 0 {
			return api.Errorf("OperationNotPermitted", "The network interface at device index 0 cannot be detached.")
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		instanceID := e.Attachment.InstanceId
		e.Attachment = nil
		e.Status = str("available")
		if err := setAddressesInstance(tx, sc, *e.NetworkInterfaceId, nil); err != nil {
			return err
		}
		if err := save(tx, sc, kindENI, *e.NetworkInterfaceId, e); err != nil {
			return err
		}
		return syncInstance(tx, sc, instanceID)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DetachNetworkInterfaceOutput{}, nil
}

// attachedInstance is the instance an interface is attached to, or nil.
func attachedInstance(e *networkInterfaceRecord) *string {
	if e.Attachment == nil {
		return nil
	}
	return e.Attachment.InstanceId
}

// syncInstance rewrites the network fields of instance id (if any, and
// if it exists) from the interfaces attached to it, as DescribeInstances
// shows them, so the stored record stays true for its other readers.
func syncInstance(tx *store.Tx, sc scope, id *string) error {
	if id == nil {
		return nil
	}
	inst, ok, err := store.Get[instanceRecord](tx, sc.key(kindInstance, *id))
	if err != nil || !ok {
		return err
	}
	enis, err := enisByInstance(tx, sc)
	if err != nil {
		return err
	}
	applyENIs(inst, enis[*id])
	return save(tx, sc, kindInstance, *id, inst)
}

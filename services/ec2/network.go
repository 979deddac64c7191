package ec2

import (
	"context"
	"fmt"
	"net/netip"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/store"
)

// The primitives every VPC operation builds on: a VPC with its main route
// table, default security group and default network ACL; subnets with
// exact address accounting; internet gateways. They run inside the caller's
// transaction, so an operation that fails half-way leaves nothing behind.

// parseCIDR parses an IPv4 CIDR as AWS reads it: the address must be the
// network address ("10.0.0.1/16" is refused).
func parseCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		return netip.Prefix{}, invalidParameter("Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", s)
	}
	if p.Masked() != p {
		return netip.Prefix{}, invalidParameter("Value (%s) for parameter cidrBlock is invalid. This is not a valid CIDR block.", s)
	}
	return p, nil
}

func overlaps(a, b netip.Prefix) bool { return a.Overlaps(b) }

// vpcCIDRs returns the associated IPv4 blocks of a VPC.
func vpcCIDRs(v *vpcRecord) []netip.Prefix {
	var out []netip.Prefix
	for _, a := range v.CidrBlockAssociationSet {
		if a.CidrBlockState != nil && deref(a.CidrBlockState.State) == "associated" {
			if p, err := netip.ParsePrefix(deref(a.CidrBlock)); err == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

const vpcCIDRAssocPrefix = "vpc-cidr-assoc"

// createVPC creates a VPC and the resources AWS creates with it.
func (s *Service) createVPC(tx *store.Tx, sc scope, cidr netip.Prefix, isDefault bool, tenancy string, tags []*ec2api.Tag) (*vpcRecord, error) {
	if b := cidr.Bits(); b < 16 || b > 28 {
		return nil, api.Errorf("InvalidVpc.Range", "The CIDR '%s' is invalid.", cidr)
	}
	dopt, err := s.defaultDHCPOptions(tx, sc)
	if err != nil {
		return nil, err
	}
	id := kindVPC.newID()
	if tenancy == "" {
		tenancy = "default"
	}
	v := &vpcRecord{
		Vpc: ec2api.Vpc{
			VpcId:           str(id),
			CidrBlock:       str(cidr.String()),
			State:           str("available"),
			OwnerId:         str(sc.account),
			InstanceTenancy: str(tenancy),
			IsDefault:       boolp(isDefault),
			DhcpOptionsId:   dopt.DhcpOptionsId,
			Tags:            tags,
			CidrBlockAssociationSet: []*ec2api.VpcCidrBlockAssociation{{
				AssociationId:  str(newAssocID(vpcCIDRAssocPrefix)),
				CidrBlock:      str(cidr.String()),
				CidrBlockState: &ec2api.VpcCidrBlockState{State: str("associated")},
			}},
		},
		EnableDNSSupport:   true,
		EnableDNSHostnames: isDefault,
	}
	rt := &routeTableRecord{RouteTable: ec2api.RouteTable{
		RouteTableId: str(kindRouteTbl.newID()),
		VpcId:        str(id),
		OwnerId:      str(sc.account),
		Routes:       []*ec2api.Route{localRoute(cidr)},
		Associations: []*ec2api.RouteTableAssociation{{
			Main:                    boolp(true),
			RouteTableAssociationId: str(newAssocID("rtbassoc")),
			RouteTableId:            nil,
			AssociationState:        &ec2api.RouteTableAssociationState{State: str("associated")},
		}},
		PropagatingVgws: []*ec2api.PropagatingVgw{},
		Tags:            []*ec2api.Tag{},
	}}
	rt.Associations[0].RouteTableId = rt.RouteTableId
	sg := newSecurityGroup(sc, id, "default", "default VPC security group", nil)
	sg.Rules = []*ec2api.SecurityGroupRule{
		{SecurityGroupRuleId: str(newRuleID()), GroupId: sg.GroupId, GroupOwnerId: str(sc.account), IsEgress: boolp(false), IpProtocol: str("-1"), FromPort: i64(-1), ToPort: i64(-1),
			ReferencedGroupInfo: &ec2api.ReferencedSecurityGroup{GroupId: sg.GroupId, UserId: str(sc.account)}},
		{SecurityGroupRuleId: str(newRuleID()), GroupId: sg.GroupId, GroupOwnerId: str(sc.account), IsEgress: boolp(true), IpProtocol: str("-1"), FromPort: i64(-1), ToPort: i64(-1), CidrIpv4: str("0.0.0.0/0")},
	}
	acl := newNetworkACL(sc, id, true)
	v.MainRouteTableID = *rt.RouteTableId
	v.DefaultSecurityGroupID = *sg.GroupId
	v.DefaultNetworkACLID = *acl.NetworkAclId
	for _, w := range []struct {
		k  *kind
		id string
		v  any
	}{
		{kindVPC, id, v}, {kindRouteTbl, *rt.RouteTableId, rt}, {kindSG, *sg.GroupId, sg}, {kindNACL, *acl.NetworkAclId, acl},
	} {
		if err := save(tx, sc, w.k, w.id, w.v); err != nil {
			return nil, err
		}
	}
	return v, nil
}

func localRoute(cidr netip.Prefix) *ec2api.Route {
	return &ec2api.Route{DestinationCidrBlock: str(cidr.String()), GatewayId: str("local"), Origin: str("CreateRouteTable"), State: str("active")}
}

// newAssocID returns an association id such as rtbassoc-0a1b2c...
func newAssocID(prefix string) string {
	k := kind{prefix: prefix}
	return k.newID()
}

func newRuleID() string { return newAssocID("sgr") }

func newSecurityGroup(sc scope, vpcID, name, desc string, tags []*ec2api.Tag) *securityGroupRecord {
	if tags == nil {
		tags = []*ec2api.Tag{}
	}
	return &securityGroupRecord{SecurityGroup: ec2api.SecurityGroup{
		GroupId:     str(kindSG.newID()),
		GroupName:   str(name),
		Description: str(desc),
		VpcId:       str(vpcID),
		OwnerId:     str(sc.account),
		Tags:        tags,
	}}
}

// newNetworkACL returns a network ACL; a default one allows everything
// (rules 100) before the final deny (rule 32767) that every ACL has.
func newNetworkACL(sc scope, vpcID string, isDefault bool) *networkACLRecord {
	var entries []*ec2api.NetworkAclEntry
	for _, egress := range []bool{true, false} {
		if isDefault {
			entries = append(entries, &ec2api.NetworkAclEntry{RuleNumber: i64(100), Protocol: str("-1"), RuleAction: str("allow"), Egress: boolp(egress), CidrBlock: str("0.0.0.0/0")})
		}
		entries = append(entries, &ec2api.NetworkAclEntry{RuleNumber: i64(32767), Protocol: str("-1"), RuleAction: str("deny"), Egress: boolp(egress), CidrBlock: str("0.0.0.0/0")})
	}
	return &networkACLRecord{NetworkAcl: ec2api.NetworkAcl{
		NetworkAclId: str(kindNACL.newID()),
		VpcId:        str(vpcID),
		OwnerId:      str(sc.account),
		IsDefault:    boolp(isDefault),
		Entries:      entries,
		Associations: []*ec2api.NetworkAclAssociation{},
		Tags:         []*ec2api.Tag{},
	}}
}

// subnetSize is the number of addresses of a subnet AWS lets you use: it
// reserves the first four and the last.
func subnetSize(p netip.Prefix) int64 { return int64(1)<<(32-p.Bits()) - 5 }

// createSubnet creates a subnet in v, associated with the VPC's default
// network ACL (and, implicitly, its main route table).
func (s *Service) createSubnet(tx *store.Tx, sc scope, v *vpcRecord, cidr netip.Prefix, z zone, tags []*ec2api.Tag) (*subnetRecord, error) {
	if b := cidr.Bits(); b < 16 || b > 28 {
		return nil, api.Errorf("InvalidSubnet.Range", "The CIDR '%s' is invalid.", cidr)
	}
	inside := false
	for _, p := range vpcCIDRs(v) {
		if p.Contains(cidr.Addr()) && p.Bits() <= cidr.Bits() {
			inside = true
		}
	}
	if !inside {
		return nil, api.Errorf("InvalidSubnet.Range", "The CIDR '%s' is invalid.", cidr)
	}
	subnets, err := listAll[subnetRecord](tx, sc, kindSubnet)
	if err != nil {
		return nil, err
	}
	for _, o := range subnets {
		if deref(o.VpcId) != *v.VpcId {
			continue
		}
		if p, err := netip.ParsePrefix(deref(o.CidrBlock)); err == nil && overlaps(p, cidr) {
			return nil, api.Errorf("InvalidSubnet.Conflict", "The CIDR '%s' conflicts with another subnet", cidr)
		}
	}
	if tags == nil {
		tags = []*ec2api.Tag{}
	}
	id := kindSubnet.newID()
	sn := &subnetRecord{Subnet: ec2api.Subnet{
		SubnetId:                    str(id),
		SubnetArn:                   str(arn.New("ec2", sc.region, sc.account, "subnet/"+id).String()),
		VpcId:                       v.VpcId,
		CidrBlock:                   str(cidr.String()),
		AvailabilityZone:            str(z.Name),
		AvailabilityZoneId:          str(z.ID),
		AvailableIpAddressCount:     i64(subnetSize(cidr)),
		State:                       str("available"),
		OwnerId:                     str(sc.account),
		DefaultForAz:                boolp(false),
		MapPublicIpOnLaunch:         boolp(false),
		MapCustomerOwnedIpOnLaunch:  boolp(false),
		AssignIpv6AddressOnCreation: boolp(false),
		EnableDns64:                 boolp(false),
		Ipv6Native:                  boolp(false),
		Ipv6CidrBlockAssociationSet: []*ec2api.SubnetIpv6CidrBlockAssociation{},
		PrivateDnsNameOptionsOnLaunch: &ec2api.PrivateDnsNameOptionsOnLaunch{
			HostnameType: str("ip-name"), EnableResourceNameDnsARecord: boolp(false), EnableResourceNameDnsAAAARecord: boolp(false),
		},
		Tags: tags,
	}, Used: map[string]string{}}
	acl, err := load[networkACLRecord](tx, sc, kindNACL, v.DefaultNetworkACLID)
	if err != nil {
		return nil, err
	}
	acl.Associations = append(acl.Associations, &ec2api.NetworkAclAssociation{
		NetworkAclAssociationId: str(newAssocID("aclassoc")), NetworkAclId: acl.NetworkAclId, SubnetId: str(id),
	})
	if err := save(tx, sc, kindNACL, *acl.NetworkAclId, acl); err != nil {
		return nil, err
	}
	return sn, save(tx, sc, kindSubnet, id, sn)
}

// allocateIP takes an address in the subnet for owner: want if given
// (it must be free and usable), else the lowest free one.
func allocateIP(sn *subnetRecord, want, owner string) (string, error) {
	p, err := netip.ParsePrefix(deref(sn.CidrBlock))
	if err != nil {
		return "", err
	}
	first := p.Addr().Next().Next().Next().Next() // .0-.3 are AWS's
	last := lastAddr(p)                           // broadcast, reserved too
	if want != "" {
		a, err := netip.ParseAddr(want)
		if err != nil || !p.Contains(a) {
			return "", api.Errorf("InvalidParameterValue", "Address %s does not fall within the subnet's address range", want)
		}
		if a.Less(first) || !a.Less(last) {
			return "", api.Errorf("InvalidParameterValue", "Address %s is in subnet's reserved address range", want)
		}
		if _, used := sn.Used[want]; used {
			return "", api.Errorf("InvalidIPAddress.InUse", "Address %s is in use.", want)
		}
		sn.take(want, owner)
		return want, nil
	}
	for a := first; a.Less(last); a = a.Next() {
		if _, used := sn.Used[a.String()]; !used {
			sn.take(a.String(), owner)
			return a.String(), nil
		}
	}
	return "", api.Errorf("InsufficientFreeAddressesInSubnet", "There are not enough free addresses in subnet '%s' to satisfy the requested number of instances.", deref(sn.SubnetId))
}

func (sn *subnetRecord) take(ip, owner string) {
	if sn.Used == nil {
		sn.Used = map[string]string{}
	}
	sn.Used[ip] = owner
	sn.recount()
}

// release frees an address taken with allocateIP.
func (sn *subnetRecord) release(ip string) {
	delete(sn.Used, ip)
	sn.recount()
}

func (sn *subnetRecord) recount() {
	if p, err := netip.ParsePrefix(deref(sn.CidrBlock)); err == nil {
		sn.AvailableIpAddressCount = i64(subnetSize(p) - int64(len(sn.Used)))
	}
}

func lastAddr(p netip.Prefix) netip.Addr {
	a := p.Addr().As4()
	n := uint32(a[0])<<24 | uint32(a[1])<<16 | uint32(a[2])<<8 | uint32(a[3])
	n |= 1<<(32-p.Bits()) - 1
	return netip.AddrFrom4([4]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
}

// defaultDHCPOptions returns the region's default DHCP options set,
// creating it the first time. Its id is kept under defaultsKind, so a user's
// set with the same contents is never mistaken for it.
func (s *Service) defaultDHCPOptions(tx *store.Tx, sc scope) (*dhcpOptionsRecord, error) {
	marker := store.Key{Account: sc.account, Region: sc.region, Kind: defaultsKind, ID: "dhcp-options"}
	var id string
	if ok, err := tx.Get(marker, &id); err != nil || ok {
		if err != nil {
			return nil, err
		}
		// The user may have deleted it; then a new default set is made.
		if d, found, err := store.Get[dhcpOptionsRecord](tx, sc.key(kindDHCP, id)); err != nil || found {
			return d, err
		}
	}
	domain := sc.region + ".compute.internal"
	if sc.region == "us-east-1" {
		domain = "ec2.internal"
	}
	d := &dhcpOptionsRecord{DhcpOptions: ec2api.DhcpOptions{
		DhcpOptionsId: str(kindDHCP.newID()),
		OwnerId:       str(sc.account),
		Tags:          []*ec2api.Tag{},
		DhcpConfigurations: []*ec2api.DhcpConfiguration{
			{Key: str("domain-name"), Values: []*ec2api.AttributeValue{{Value: str(domain)}}},
			{Key: str("domain-name-servers"), Values: []*ec2api.AttributeValue{{Value: str("AmazonProvidedDNS")}}},
		},
	}}
	if err := tx.Put(marker, *d.DhcpOptionsId); err != nil {
		return nil, err
	}
	return d, save(tx, sc, kindDHCP, *d.DhcpOptionsId, d)
}

// createInternetGateway creates a detached internet gateway.
func createInternetGateway(tx *store.Tx, sc scope, tags []*ec2api.Tag) (*internetGatewayRecord, error) {
	if tags == nil {
		tags = []*ec2api.Tag{}
	}
	g := &internetGatewayRecord{InternetGateway: ec2api.InternetGateway{
		InternetGatewayId: str(kindIGW.newID()),
		OwnerId:           str(sc.account),
		Attachments:       []*ec2api.InternetGatewayAttachment{},
		Tags:              tags,
	}}
	return g, save(tx, sc, kindIGW, *g.InternetGatewayId, g)
}

// defaultsKind marks a region whose default VPC has been made.
const defaultsKind = "ec2:defaults"

// ensureDefaultVPC creates the region's default VPC on first use, as a new
// AWS account has one: 172.31.0.0/16, a /20 default subnet per zone that
// maps public IPs, an attached internet gateway routed from the main table.
func (s *Service) ensureDefaultVPC(ctx context.Context) error {
	sc := scopeOf(ctx)
	if sc.account == "" || sc.region == "" {
		return nil
	}
	marker := store.Key{Account: sc.account, Region: sc.region, Kind: defaultsKind, ID: "vpc"}
	var done bool
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		done, err = tx.Get(marker, new(struct{}))
		return err
	})
	if err != nil || done {
		return err
	}
	return s.store.Update(func(tx *store.Tx) error {
		// Another request may have made it since the check above.
		if ok, err := tx.Get(marker, new(struct{})); err != nil || ok {
			return err
		}
		v, err := s.createVPC(tx, sc, netip.MustParsePrefix("172.31.0.0/16"), true, "default", nil)
		if err != nil {
			return err
		}
		for i, z := range zonesOf(sc.region) {
			cidr := netip.MustParsePrefix(fmt.Sprintf("172.31.%d.0/20", i*16))
			sn, err := s.createSubnet(tx, sc, v, cidr, z, nil)
			if err != nil {
				return err
			}
			sn.DefaultForAz = boolp(true)
			sn.MapPublicIpOnLaunch = boolp(true)
			if err := save(tx, sc, kindSubnet, *sn.SubnetId, sn); err != nil {
				return err
			}
		}
		igw, err := createInternetGateway(tx, sc, nil)
		if err != nil {
			return err
		}
		igw.Attachments = []*ec2api.InternetGatewayAttachment{{VpcId: v.VpcId, State: str("available")}}
		if err := save(tx, sc, kindIGW, *igw.InternetGatewayId, igw); err != nil {
			return err
		}
		rt, err := load[routeTableRecord](tx, sc, kindRouteTbl, v.MainRouteTableID)
		if err != nil {
			return err
		}
		rt.Routes = append(rt.Routes, &ec2api.Route{DestinationCidrBlock: str("0.0.0.0/0"), GatewayId: igw.InternetGatewayId, Origin: str("CreateRoute"), State: str("active")})
		if err := save(tx, sc, kindRouteTbl, *rt.RouteTableId, rt); err != nil {
			return err
		}
		return tx.Put(marker, struct{}{})
	})
}

package ec2

import (
	"context"
	"net/netip"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// registerNetwork registers the operations of VPCs, subnets, internet
// gateways, route tables, network ACLs, DHCP options and peering.
func (s *Service) registerNetwork(h *ec2api.Handlers) {
	h.CreateVpc = s.CreateVpc
	h.DeleteVpc = s.DeleteVpc
	h.DescribeVpcs = s.DescribeVpcs
	h.ModifyVpcAttribute = s.ModifyVpcAttribute
	h.DescribeVpcAttribute = s.DescribeVpcAttribute
	h.AssociateVpcCidrBlock = s.AssociateVpcCidrBlock
	h.DisassociateVpcCidrBlock = s.DisassociateVpcCidrBlock

	h.CreateSubnet = s.CreateSubnet
	h.DeleteSubnet = s.DeleteSubnet
	h.DescribeSubnets = s.DescribeSubnets
	h.ModifySubnetAttribute = s.ModifySubnetAttribute

	h.CreateInternetGateway = s.CreateInternetGateway
	h.DeleteInternetGateway = s.DeleteInternetGateway
	h.DescribeInternetGateways = s.DescribeInternetGateways
	h.AttachInternetGateway = s.AttachInternetGateway
	h.DetachInternetGateway = s.DetachInternetGateway

	h.CreateRouteTable = s.CreateRouteTable
	h.DeleteRouteTable = s.DeleteRouteTable
	h.DescribeRouteTables = s.DescribeRouteTables
	h.CreateRoute = s.CreateRoute
	h.ReplaceRoute = s.ReplaceRoute
	h.DeleteRoute = s.DeleteRoute
	h.AssociateRouteTable = s.AssociateRouteTable
	h.DisassociateRouteTable = s.DisassociateRouteTable
	h.ReplaceRouteTableAssociation = s.ReplaceRouteTableAssociation

	h.CreateNetworkAcl = s.CreateNetworkAcl
	h.DeleteNetworkAcl = s.DeleteNetworkAcl
	h.DescribeNetworkAcls = s.DescribeNetworkAcls
	h.CreateNetworkAclEntry = s.CreateNetworkAclEntry
	h.ReplaceNetworkAclEntry = s.ReplaceNetworkAclEntry
	h.DeleteNetworkAclEntry = s.DeleteNetworkAclEntry
	h.ReplaceNetworkAclAssociation = s.ReplaceNetworkAclAssociation

	h.CreateDhcpOptions = s.CreateDhcpOptions
	h.DeleteDhcpOptions = s.DeleteDhcpOptions
	h.DescribeDhcpOptions = s.DescribeDhcpOptions
	h.AssociateDhcpOptions = s.AssociateDhcpOptions

	h.CreateVpcPeeringConnection = s.CreateVpcPeeringConnection
	h.AcceptVpcPeeringConnection = s.AcceptVpcPeeringConnection
	h.RejectVpcPeeringConnection = s.RejectVpcPeeringConnection
	h.DeleteVpcPeeringConnection = s.DeleteVpcPeeringConnection
	h.DescribeVpcPeeringConnections = s.DescribeVpcPeeringConnections
}

// maxVPCCIDRs is AWS's default quota of IPv4 CIDR blocks per VPC.
const maxVPCCIDRs = 5

// Address ranges AWS refuses for a VPC.
var unusableRanges = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("224.0.0.0/3"), // multicast and the reserved 240/4
}

// The RFC 1918 private ranges and 198.19.0.0/16, which AWS does not let
// one VPC mix as secondary blocks.
var (
	privateRanges = []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
	}
	benchmarkRange = netip.MustParsePrefix("198.19.0.0/16")
	sharedRange    = netip.MustParsePrefix("100.64.0.0/10")
)

func within(p netip.Prefix, ranges ...netip.Prefix) (netip.Prefix, bool) {
	for _, r := range ranges {
		if r.Contains(p.Addr()) && r.Bits() <= p.Bits() {
			return r, true
		}
	}
	return netip.Prefix{}, false
}

// checkVPCCIDR applies the size and range rules of a VPC's IPv4 block.
func checkVPCCIDR(s string) (netip.Prefix, error) {
	p, err := parseCIDR(s)
	if err != nil {
		return p, err
	}
	if b := p.Bits(); b < 16 || b > 28 {
		return p, api.Errorf("InvalidVpc.Range", "The CIDR '%s' is invalid.", p)
	}
	for _, r := range unusableRanges {
		if r.Overlaps(p) {
			return p, api.Errorf("InvalidVpc.Range", "The CIDR '%s' is invalid.", p)
		}
	}
	return p, nil
}

// checkSecondaryCIDR applies AWS's restrictions on a block added to a VPC
// whose primary block is primary.
func checkSecondaryCIDR(primary, p netip.Prefix) error {
	restricted := api.Errorf("InvalidVpc.Range", "The CIDR '%s' is restricted. Use a CIDR from the same private address range as the current VPC CIDR, or use a publicly-routable CIDR.", p)
	if _, ok := within(p, benchmarkRange); ok {
		return restricted
	}
	if _, ok := within(p, sharedRange); ok {
		return nil
	}
	pr, primaryPrivate := within(primary, privateRanges...)
	r, private := within(p, privateRanges...)
	if private && (!primaryPrivate || r != pr) {
		return restricted
	}
	return nil
}

func nonNilTags(tags []*ec2api.Tag) []*ec2api.Tag {
	if tags == nil {
		return []*ec2api.Tag{}
	}
	return tags
}

// attrValue reads the value of a boolean attribute of a Modify* call.
func attrValue(name string, a *ec2api.AttributeBooleanValue) (bool, error) {
	if a.Value == nil {
		return false, api.Errorf("MissingParameter", "The request must contain the parameter %s.Value", name)
	}
	return *a.Value, nil
}

// oneAttribute checks that a Modify*Attribute call names exactly one
// attribute, as AWS requires; set maps each wire name to whether it is set.
func oneAttribute(names []string, set []bool) error {
	var given []string
	for i, n := range names {
		if set[i] {
			given = append(given, n)
		}
	}
	switch len(given) {
	case 0:
		return api.Errorf("InvalidParameterCombination", "No attributes specified.")
	case 1:
		return nil
	}
	return api.Errorf("InvalidParameterCombination", "Fields for multiple attribute types specified: %s", strings.Join(given, ", "))
}

func (s *Service) CreateVpc(ctx context.Context, in *ec2api.CreateVpcRequest) (*ec2api.CreateVpcResult, error) {
	sc := scopeOf(ctx)
	if in.CidrBlock == nil {
		if in.Ipv4IpamPoolId != nil {
			return nil, api.Errorf("InvalidIpamPoolId.NotFound", "The pool ID '%s' does not exist", *in.Ipv4IpamPoolId)
		}
		return nil, api.Errorf("MissingParameter", "Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.")
	}
	cidr, err := checkVPCCIDR(*in.CidrBlock)
	if err != nil {
		return nil, err
	}
	tenancy := deref(in.InstanceTenancy)
	switch tenancy {
	case "", "default", "dedicated":
	default:
		return nil, invalidParameter("Value (%s) for parameter instanceTenancy is invalid.", tenancy)
	}
	tags, err := tagsFor(in.TagSpecifications, kindVPC.resourceType)
	if err != nil {
		return nil, err
	}
	// AmazonProvidedIpv6CidrBlock is accepted and ignored: cloudbox VPCs
	// are IPv4 only.
	var v *vpcRecord
	err = s.store.Update(func(tx *store.Tx) error {
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		var err error
		v, err = s.createVPC(tx, sc, cidr, false, tenancy, nonNilTags(tags))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateVpcResult{Vpc: &v.Vpc}, nil
}

func (s *Service) DeleteVpc(ctx context.Context, in *ec2api.DeleteVpcRequest) (*ec2api.DeleteVpcOutput, error) {
	sc := scopeOf(ctx)
	id := deref(in.VpcId)
	err := s.store.Update(func(tx *store.Tx) error {
		v, err := load[vpcRecord](tx, sc, kindVPC, id)
		if err != nil {
			return err
		}
		busy, err := vpcInUse(tx, sc, v, s.now())
		if err != nil {
			return err
		}
		if busy {
			return dependencyViolation("The vpc '%s' has dependencies and cannot be deleted.", id)
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		for _, r := range []struct {
			k  *kind
			id string
		}{{kindRouteTbl, v.MainRouteTableID}, {kindSG, v.DefaultSecurityGroupID}, {kindNACL, v.DefaultNetworkACLID}, {kindVPC, id}} {
			if err := remove(tx, sc, r.k, r.id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteVpcOutput{}, nil
}

// vpcInUse reports whether anything but the resources made with the VPC
// still lives in it: subnets, network interfaces, attached internet
// gateways, security groups, route tables and network ACLs of its own,
// live peering connections.
func vpcInUse(tx *store.Tx, sc scope, v *vpcRecord, now time.Time) (bool, error) {
	id := *v.VpcId
	for _, check := range []func() (bool, error){
		func() (bool, error) {
			return anyRecord(tx, sc, kindSubnet, func(sn *subnetRecord) bool { return deref(sn.VpcId) == id })
		},
		func() (bool, error) {
			return anyRecord(tx, sc, kindENI, func(e *networkInterfaceRecord) bool { return deref(e.VpcId) == id })
		},
		func() (bool, error) {
			return anyRecord(tx, sc, kindIGW, func(g *internetGatewayRecord) bool { return igwAttachedTo(g) == id })
		},
		func() (bool, error) {
			return anyRecord(tx, sc, kindSG, func(g *securityGroupRecord) bool {
				return deref(g.VpcId) == id && deref(g.GroupId) != v.DefaultSecurityGroupID
			})
		},
		func() (bool, error) {
			return anyRecord(tx, sc, kindRouteTbl, func(rt *routeTableRecord) bool {
				return deref(rt.VpcId) == id && deref(rt.RouteTableId) != v.MainRouteTableID
			})
		},
		func() (bool, error) {
			return anyRecord(tx, sc, kindNACL, func(a *networkACLRecord) bool {
				return deref(a.VpcId) == id && deref(a.NetworkAclId) != v.DefaultNetworkACLID
			})
		},
		func() (bool, error) {
			return anyRecord(tx, sc, kindPeering, func(p *peeringRecord) bool { return peeringLive(p, now) && peeringSide(p, sc, id) != nil })
		},
	} {
		if used, err := check(); err != nil || used {
			return used, err
		}
	}
	return false, nil
}

// anyRecord reports whether a record of kind k in the scope satisfies match.
func anyRecord[T any](tx *store.Tx, sc scope, k *kind, match func(*T) bool) (bool, error) {
	all, err := listAll[T](tx, sc, k)
	if err != nil {
		return false, err
	}
	for _, v := range all {
		if match(v) {
			return true, nil
		}
	}
	return false, nil
}

var vpcFilters = fields[vpcRecord]{
	"vpc-id":     func(v *vpcRecord) []string { return one(v.VpcId) },
	"cidr":       func(v *vpcRecord) []string { return one(v.CidrBlock) },
	"cidr-block": func(v *vpcRecord) []string { return one(v.CidrBlock) },
	"cidr-block-association.cidr-block": func(v *vpcRecord) []string {
		var out []string
		for _, a := range v.CidrBlockAssociationSet {
			out = append(out, deref(a.CidrBlock))
		}
		return out
	},
	"cidr-block-association.association-id": func(v *vpcRecord) []string {
		var out []string
		for _, a := range v.CidrBlockAssociationSet {
			out = append(out, deref(a.AssociationId))
		}
		return out
	},
	"cidr-block-association.state": func(v *vpcRecord) []string {
		var out []string
		for _, a := range v.CidrBlockAssociationSet {
			if a.CidrBlockState != nil {
				out = append(out, deref(a.CidrBlockState.State))
			}
		}
		return out
	},
	"dhcp-options-id":  func(v *vpcRecord) []string { return one(v.DhcpOptionsId) },
	"instance-tenancy": func(v *vpcRecord) []string { return one(v.InstanceTenancy) },
	"is-default":       func(v *vpcRecord) []string { return boolField(v.IsDefault) },
	"owner-id":         func(v *vpcRecord) []string { return one(v.OwnerId) },
	"state":            func(v *vpcRecord) []string { return one(v.State) },
	// cloudbox VPCs have no IPv6 blocks: these filters are valid and match
	// nothing.
	"ipv6-cidr-block-association.ipv6-cidr-block": func(*vpcRecord) []string { return nil },
	"ipv6-cidr-block-association.ipv6-pool":       func(*vpcRecord) []string { return nil },
	"ipv6-cidr-block-association.association-id":  func(*vpcRecord) []string { return nil },
	"ipv6-cidr-block-association.state":           func(*vpcRecord) []string { return nil },
}

func (s *Service) DescribeVpcs(ctx context.Context, in *ec2api.DescribeVpcsRequest) (*ec2api.DescribeVpcsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	out := &ec2api.DescribeVpcsResult{Vpcs: []*ec2api.Vpc{}}
	err := s.store.View(func(tx *store.Tx) error {
		page, next, err := describe(tx, sc, kindVPC, query{ids: in.VpcIds, filters: in.Filters, maxResults: in.MaxResults, nextToken: in.NextToken},
			func(v *vpcRecord) string { return *v.VpcId }, func(v *vpcRecord) []*ec2api.Tag { return v.Tags }, vpcFilters)
		for _, v := range page {
			out.Vpcs = append(out.Vpcs, &v.Vpc)
		}
		out.NextToken = next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) DescribeVpcAttribute(ctx context.Context, in *ec2api.DescribeVpcAttributeRequest) (*ec2api.DescribeVpcAttributeResult, error) {
	sc := scopeOf(ctx)
	attr := deref(in.Attribute)
	switch attr {
	case "enableDnsSupport", "enableDnsHostnames", "enableNetworkAddressUsageMetrics":
	default:
		return nil, invalidParameter("Value (%s) for parameter attribute is invalid. Unknown attribute.", attr)
	}
	out := &ec2api.DescribeVpcAttributeResult{VpcId: in.VpcId}
	err := s.store.View(func(tx *store.Tx) error {
		v, err := load[vpcRecord](tx, sc, kindVPC, deref(in.VpcId))
		if err != nil {
			return err
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		switch attr {
		case "enableDnsSupport":
			out.EnableDnsSupport = &ec2api.AttributeBooleanValue{Value: boolp(v.EnableDNSSupport)}
		case "enableDnsHostnames":
			out.EnableDnsHostnames = &ec2api.AttributeBooleanValue{Value: boolp(v.EnableDNSHostnames)}
		default:
			out.EnableNetworkAddressUsageMetrics = &ec2api.AttributeBooleanValue{Value: boolp(v.EnableNetworkAddressUsageMetrics)}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) ModifyVpcAttribute(ctx context.Context, in *ec2api.ModifyVpcAttributeRequest) (*ec2api.ModifyVpcAttributeOutput, error) {
	sc := scopeOf(ctx)
	err := oneAttribute([]string{"enableDnsSupport", "enableDnsHostnames", "enableNetworkAddressUsageMetrics"},
		[]bool{in.EnableDnsSupport != nil, in.EnableDnsHostnames != nil, in.EnableNetworkAddressUsageMetrics != nil})
	if err != nil {
		return nil, err
	}
	err = s.store.Update(func(tx *store.Tx) error {
		v, err := load[vpcRecord](tx, sc, kindVPC, deref(in.VpcId))
		if err != nil {
			return err
		}
		switch {
		case in.EnableDnsSupport != nil:
			if v.EnableDNSSupport, err = attrValue("EnableDnsSupport", in.EnableDnsSupport); err != nil {
				return err
			}
		case in.EnableDnsHostnames != nil:
			on, err := attrValue("EnableDnsHostnames", in.EnableDnsHostnames)
			if err != nil {
				return err
			}
			if on && !v.EnableDNSSupport {
				return invalidParameter("To enable DNS hostnames, DNS support must be enabled for the VPC %s.", *v.VpcId)
			}
			v.EnableDNSHostnames = on
		default:
			if v.EnableNetworkAddressUsageMetrics, err = attrValue("EnableNetworkAddressUsageMetrics", in.EnableNetworkAddressUsageMetrics); err != nil {
				return err
			}
		}
		return save(tx, sc, kindVPC, *v.VpcId, v)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ModifyVpcAttributeOutput{}, nil
}

func (s *Service) AssociateVpcCidrBlock(ctx context.Context, in *ec2api.AssociateVpcCidrBlockRequest) (*ec2api.AssociateVpcCidrBlockResult, error) {
	sc := scopeOf(ctx)
	if in.CidrBlock == nil {
		if optTrue(in.AmazonProvidedIpv6CidrBlock) || in.Ipv6CidrBlock != nil || in.Ipv6Pool != nil || in.Ipv6IpamPoolId != nil {
			return nil, invalidParameter("IPv6 CIDR blocks are not supported: cloudbox VPCs are IPv4 only.")
		}
		if in.Ipv4IpamPoolId != nil {
			return nil, api.Errorf("InvalidIpamPoolId.NotFound", "The pool ID '%s' does not exist", *in.Ipv4IpamPoolId)
		}
		return nil, api.Errorf("MissingParameter", "Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.")
	}
	cidr, err := checkVPCCIDR(*in.CidrBlock)
	if err != nil {
		return nil, err
	}
	out := &ec2api.AssociateVpcCidrBlockResult{VpcId: in.VpcId}
	err = s.store.Update(func(tx *store.Tx) error {
		v, err := load[vpcRecord](tx, sc, kindVPC, deref(in.VpcId))
		if err != nil {
			return err
		}
		have := vpcCIDRs(v)
		if len(have) >= maxVPCCIDRs {
			return api.Errorf("CidrLimitExceeded", "This network '%s' has met its maximum number of allowed CIDRs: %d", *v.VpcId, maxVPCCIDRs)
		}
		if err := checkSecondaryCIDR(netip.MustParsePrefix(*v.CidrBlock), cidr); err != nil {
			return err
		}
		for _, p := range have {
			if p.Overlaps(cidr) {
				return api.Errorf("InvalidVpc.Range", "The CIDR '%s' conflicts with another CIDR block of the VPC (%s).", cidr, p)
			}
		}
		rts, err := vpcRouteTables(tx, sc, *v.VpcId)
		if err != nil {
			return err
		}
		// The block's local route may not take over a route to part or all
		// of it; a block inside a wider route is fine.
		for _, rt := range rts {
			for _, r := range rt.Routes {
				if d, err := netip.ParsePrefix(deref(r.DestinationCidrBlock)); err == nil && d.Overlaps(cidr) && cidr.Bits() <= d.Bits() {
					return api.Errorf("InvalidVpc.Range", "The CIDR '%s' conflicts with the route %s in route table %s.", cidr, d, *rt.RouteTableId)
				}
			}
		}
		assoc := &ec2api.VpcCidrBlockAssociation{
			AssociationId:  str(newAssocID(vpcCIDRAssocPrefix)),
			CidrBlock:      str(cidr.String()),
			CidrBlockState: &ec2api.VpcCidrBlockState{State: str("associated")},
		}
		v.CidrBlockAssociationSet = append(v.CidrBlockAssociationSet, assoc)
		for _, rt := range rts {
			rt.Routes = append(rt.Routes, localRoute(cidr))
			if err := save(tx, sc, kindRouteTbl, *rt.RouteTableId, rt); err != nil {
				return err
			}
		}
		out.CidrBlockAssociation = &ec2api.VpcCidrBlockAssociation{
			AssociationId: assoc.AssociationId, CidrBlock: assoc.CidrBlock,
			CidrBlockState: &ec2api.VpcCidrBlockState{State: str("associating")},
		}
		return save(tx, sc, kindVPC, *v.VpcId, v)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) DisassociateVpcCidrBlock(ctx context.Context, in *ec2api.DisassociateVpcCidrBlockRequest) (*ec2api.DisassociateVpcCidrBlockResult, error) {
	sc := scopeOf(ctx)
	id := deref(in.AssociationId)
	out := &ec2api.DisassociateVpcCidrBlockResult{}
	err := s.store.Update(func(tx *store.Tx) error {
		vpcs, err := listAll[vpcRecord](tx, sc, kindVPC)
		if err != nil {
			return err
		}
		for _, v := range vpcs {
			for i, a := range v.CidrBlockAssociationSet {
				if deref(a.AssociationId) != id {
					continue
				}
				if deref(a.CidrBlock) == deref(v.CidrBlock) {
					return api.Errorf("OperationNotPermitted", "The vpc CIDR block with association ID %s may not be disassociated. It is the primary IPv4 CIDR block of the VPC", id)
				}
				if err := dropVPCCIDR(tx, sc, v, netip.MustParsePrefix(*a.CidrBlock)); err != nil {
					return err
				}
				v.CidrBlockAssociationSet = append(v.CidrBlockAssociationSet[:i], v.CidrBlockAssociationSet[i+1:]...)
				out.VpcId = v.VpcId
				out.CidrBlockAssociation = &ec2api.VpcCidrBlockAssociation{
					AssociationId: a.AssociationId, CidrBlock: a.CidrBlock,
					CidrBlockState: &ec2api.VpcCidrBlockState{State: str("disassociating")},
				}
				return save(tx, sc, kindVPC, *v.VpcId, v)
			}
		}
		return api.Errorf("InvalidVpcCidrBlockAssociationID.NotFound", "The vpc CIDR block association ID '%s' does not exist", id)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// dropVPCCIDR removes a secondary block's local routes, refusing while a
// subnet uses the block.
func dropVPCCIDR(tx *store.Tx, sc scope, v *vpcRecord, cidr netip.Prefix) error {
	subnets, err := listAll[subnetRecord](tx, sc, kindSubnet)
	if err != nil {
		return err
	}
	for _, sn := range subnets {
		if p, err := netip.ParsePrefix(deref(sn.CidrBlock)); err == nil && deref(sn.VpcId) == *v.VpcId && cidr.Overlaps(p) {
			return dependencyViolation("The vpc CIDR block '%s' has dependencies (subnet %s) and cannot be disassociated.", cidr, *sn.SubnetId)
		}
	}
	rts, err := vpcRouteTables(tx, sc, *v.VpcId)
	if err != nil {
		return err
	}
	for _, rt := range rts {
		kept := rt.Routes[:0]
		for _, r := range rt.Routes {
			if !(deref(r.GatewayId) == "local" && deref(r.DestinationCidrBlock) == cidr.String()) {
				kept = append(kept, r)
			}
		}
		rt.Routes = kept
		if err := save(tx, sc, kindRouteTbl, *rt.RouteTableId, rt); err != nil {
			return err
		}
	}
	return nil
}

// vpcRouteTables returns the route tables of a VPC.
func vpcRouteTables(tx *store.Tx, sc scope, vpcID string) ([]*routeTableRecord, error) {
	all, err := listAll[routeTableRecord](tx, sc, kindRouteTbl)
	if err != nil {
		return nil, err
	}
	var out []*routeTableRecord
	for _, rt := range all {
		if deref(rt.VpcId) == vpcID {
			out = append(out, rt)
		}
	}
	return out, nil
}

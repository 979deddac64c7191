package ec2

import (
	"context"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// subnetZone picks the zone of a new subnet: the one named by
// AvailabilityZone or AvailabilityZoneId, else the zone where the VPC has
// the fewest subnets, as AWS spreads them.
func subnetZone(tx *store.Tx, sc scope, vpcID string, name, id *string) (zone, error) {
	zones := zonesOf(sc.region)
	var z zone
	if name != nil {
		found := false
		for _, c := range zones {
			if c.Name == *name {
				z, found = c, true
			}
		}
		if !found {
			return zone{}, invalidParameter("Value (%s) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: %s.", *name, zoneList(zones, false))
		}
	}
	if id != nil {
		found := false
		for _, c := range zones {
			if c.ID == *id {
				found = true
				if name != nil && c != z {
					return zone{}, api.Errorf("InvalidParameterCombination", "The availability zone %s and availability zone ID %s do not match.", *name, *id)
				}
				z = c
			}
		}
		if !found {
			return zone{}, invalidParameter("Value (%s) for parameter availabilityZoneId is invalid. Subnets can currently only be created in the following availability zone IDs: %s.", *id, zoneList(zones, true))
		}
	}
	if name != nil || id != nil {
		return z, nil
	}
	subnets, err := listAll[subnetRecord](tx, sc, kindSubnet)
	if err != nil {
		return zone{}, err
	}
	count := map[string]int{}
	for _, sn := range subnets {
		if deref(sn.VpcId) == vpcID {
			count[deref(sn.AvailabilityZone)]++
		}
	}
	z = zones[0]
	for _, c := range zones[1:] {
		if count[c.Name] < count[z.Name] {
			z = c
		}
	}
	return z, nil
}

func zoneList(zones []zone, ids bool) string {
	var names []string
	for _, z := range zones {
		if ids {
			names = append(names, z.ID)
		} else {
			names = append(names, z.Name)
		}
	}
	return strings.Join(names, ", ")
}

func (s *Service) CreateSubnet(ctx context.Context, in *ec2api.CreateSubnetRequest) (*ec2api.CreateSubnetResult, error) {
	sc := scopeOf(ctx)
	if in.Ipv6CidrBlock != nil || optTrue(in.Ipv6Native) || in.Ipv6IpamPoolId != nil {
		return nil, invalidParameter("IPv6 subnets are not supported: cloudbox VPCs are IPv4 only.")
	}
	if in.OutpostArn != nil {
		return nil, invalidParameter("Value (%s) for parameter outpostArn is invalid.", *in.OutpostArn)
	}
	if in.CidrBlock == nil {
		if in.Ipv4IpamPoolId != nil {
			return nil, api.Errorf("InvalidIpamPoolId.NotFound", "The pool ID '%s' does not exist", *in.Ipv4IpamPoolId)
		}
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter cidrBlock")
	}
	cidr, err := parseCIDR(*in.CidrBlock)
	if err != nil {
		return nil, err
	}
	tags, err := tagsFor(in.TagSpecifications, kindSubnet.resourceType)
	if err != nil {
		return nil, err
	}
	var sn *subnetRecord
	err = s.store.Update(func(tx *store.Tx) error {
		v, err := load[vpcRecord](tx, sc, kindVPC, deref(in.VpcId))
		if err != nil {
			return err
		}
		z, err := subnetZone(tx, sc, *v.VpcId, in.AvailabilityZone, in.AvailabilityZoneId)
		if err != nil {
			return err
		}
		// createSubnet checks the range and conflicts; a dry run must
		// answer those errors too, so it runs and the transaction is
		// rolled back by the DryRunOperation error.
		if sn, err = s.createSubnet(tx, sc, v, cidr, z, tags); err != nil {
			return err
		}
		return dryRun(in.DryRun)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateSubnetResult{Subnet: &sn.Subnet}, nil
}

// optTrue reads an optional flag, absent meaning false.
func optTrue(b *bool) bool { return b != nil && *b }

func (s *Service) DeleteSubnet(ctx context.Context, in *ec2api.DeleteSubnetRequest) (*ec2api.DeleteSubnetOutput, error) {
	sc := scopeOf(ctx)
	id := deref(in.SubnetId)
	err := s.store.Update(func(tx *store.Tx) error {
		sn, err := load[subnetRecord](tx, sc, kindSubnet, id)
		if err != nil {
			return err
		}
		if len(sn.Used) > 0 {
			return dependencyViolation("The subnet '%s' has dependencies and cannot be deleted.", id)
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		// The subnet's network ACL association and its explicit route
		// table association go with it.
		acls, err := vpcNetworkACLs(tx, sc, deref(sn.VpcId))
		if err != nil {
			return err
		}
		for _, a := range acls {
			kept := a.Associations[:0]
			for _, as := range a.Associations {
				if deref(as.SubnetId) != id {
					kept = append(kept, as)
				}
			}
			if len(kept) != len(a.Associations) {
				a.Associations = kept
				if err := save(tx, sc, kindNACL, *a.NetworkAclId, a); err != nil {
					return err
				}
			}
		}
		rts, err := vpcRouteTables(tx, sc, deref(sn.VpcId))
		if err != nil {
			return err
		}
		for _, rt := range rts {
			kept := rt.Associations[:0]
			for _, as := range rt.Associations {
				if deref(as.SubnetId) != id {
					kept = append(kept, as)
				}
			}
			if len(kept) != len(rt.Associations) {
				rt.Associations = kept
				if err := save(tx, sc, kindRouteTbl, *rt.RouteTableId, rt); err != nil {
					return err
				}
			}
		}
		return remove(tx, sc, kindSubnet, id)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteSubnetOutput{}, nil
}

var subnetFilters = func() fields[subnetRecord] {
	cidr := func(sn *subnetRecord) []string { return one(sn.CidrBlock) }
	az := func(sn *subnetRecord) []string { return one(sn.AvailabilityZone) }
	azID := func(sn *subnetRecord) []string { return one(sn.AvailabilityZoneId) }
	defaultForAz := func(sn *subnetRecord) []string { return boolField(sn.DefaultForAz) }
	none := func(*subnetRecord) []string { return nil }
	return fields[subnetRecord]{
		"subnet-id":                       func(sn *subnetRecord) []string { return one(sn.SubnetId) },
		"subnet-arn":                      func(sn *subnetRecord) []string { return one(sn.SubnetArn) },
		"vpc-id":                          func(sn *subnetRecord) []string { return one(sn.VpcId) },
		"cidr-block":                      cidr,
		"cidr":                            cidr,
		"cidrBlock":                       cidr,
		"availability-zone":               az,
		"availabilityZone":                az,
		"availability-zone-id":            azID,
		"availabilityZoneId":              azID,
		"available-ip-address-count":      func(sn *subnetRecord) []string { return int64Field(sn.AvailableIpAddressCount) },
		"default-for-az":                  defaultForAz,
		"defaultForAz":                    defaultForAz,
		"map-public-ip-on-launch":         func(sn *subnetRecord) []string { return boolField(sn.MapPublicIpOnLaunch) },
		"map-customer-owned-ip-on-launch": func(sn *subnetRecord) []string { return boolField(sn.MapCustomerOwnedIpOnLaunch) },
		"assign-ipv6-address-on-creation": func(sn *subnetRecord) []string { return boolField(sn.AssignIpv6AddressOnCreation) },
		"enable-dns64":                    func(sn *subnetRecord) []string { return boolField(sn.EnableDns64) },
		"ipv6-native":                     func(sn *subnetRecord) []string { return boolField(sn.Ipv6Native) },
		"owner-id":                        func(sn *subnetRecord) []string { return one(sn.OwnerId) },
		"state":                           func(sn *subnetRecord) []string { return one(sn.State) },
		"outpost-arn":                     none,
		"customer-owned-ipv4-pool":        none,
		"ipv6-cidr-block-association.ipv6-cidr-block": none,
		"ipv6-cidr-block-association.association-id":  none,
		"ipv6-cidr-block-association.state":           none,
		"private-dns-name-options-on-launch.hostname-type": func(sn *subnetRecord) []string {
			if sn.PrivateDnsNameOptionsOnLaunch == nil {
				return nil
			}
			return one(sn.PrivateDnsNameOptionsOnLaunch.HostnameType)
		},
		"private-dns-name-options-on-launch.enable-resource-name-dns-a-record": func(sn *subnetRecord) []string {
			if sn.PrivateDnsNameOptionsOnLaunch == nil {
				return nil
			}
			return boolField(sn.PrivateDnsNameOptionsOnLaunch.EnableResourceNameDnsARecord)
		},
	}
}()

func (s *Service) DescribeSubnets(ctx context.Context, in *ec2api.DescribeSubnetsRequest) (*ec2api.DescribeSubnetsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	out := &ec2api.DescribeSubnetsResult{Subnets: []*ec2api.Subnet{}}
	err := s.store.View(func(tx *store.Tx) error {
		page, next, err := describe(tx, sc, kindSubnet, query{ids: in.SubnetIds, filters: in.Filters, maxResults: in.MaxResults, nextToken: in.NextToken},
			func(sn *subnetRecord) string { return *sn.SubnetId }, func(sn *subnetRecord) []*ec2api.Tag { return sn.Tags }, subnetFilters)
		for _, sn := range page {
			out.Subnets = append(out.Subnets, &sn.Subnet)
		}
		out.NextToken = next
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) ModifySubnetAttribute(ctx context.Context, in *ec2api.ModifySubnetAttributeRequest) (*ec2api.ModifySubnetAttributeOutput, error) {
	sc := scopeOf(ctx)
	err := oneAttribute(
		[]string{"mapPublicIpOnLaunch", "assignIpv6AddressOnCreation", "mapCustomerOwnedIpOnLaunch", "customerOwnedIpv4Pool", "enableDns64",
			"enableResourceNameDnsARecordOnLaunch", "enableResourceNameDnsAAAARecordOnLaunch", "privateDnsHostnameTypeOnLaunch",
			"enableLniAtDeviceIndex", "disableLniAtDeviceIndex"},
		[]bool{in.MapPublicIpOnLaunch != nil, in.AssignIpv6AddressOnCreation != nil, in.MapCustomerOwnedIpOnLaunch != nil, in.CustomerOwnedIpv4Pool != nil, in.EnableDns64 != nil,
			in.EnableResourceNameDnsARecordOnLaunch != nil, in.EnableResourceNameDnsAAAARecordOnLaunch != nil, in.PrivateDnsHostnameTypeOnLaunch != nil,
			in.EnableLniAtDeviceIndex != nil, in.DisableLniAtDeviceIndex != nil})
	if err != nil {
		return nil, err
	}
	err = s.store.Update(func(tx *store.Tx) error {
		sn, err := load[subnetRecord](tx, sc, kindSubnet, deref(in.SubnetId))
		if err != nil {
			return err
		}
		opts := sn.PrivateDnsNameOptionsOnLaunch
		if opts == nil {
			opts = &ec2api.PrivateDnsNameOptionsOnLaunch{HostnameType: str("ip-name"), EnableResourceNameDnsARecord: boolp(false), EnableResourceNameDnsAAAARecord: boolp(false)}
			sn.PrivateDnsNameOptionsOnLaunch = opts
		}
		switch {
		case in.MapPublicIpOnLaunch != nil:
			on, err := attrValue("MapPublicIpOnLaunch", in.MapPublicIpOnLaunch)
			if err != nil {
				return err
			}
			sn.MapPublicIpOnLaunch = boolp(on)
		case in.AssignIpv6AddressOnCreation != nil, in.EnableDns64 != nil, in.EnableResourceNameDnsAAAARecordOnLaunch != nil:
			// Each needs an IPv6 block, which cloudbox subnets never have;
			// turning one off is a no-op.
			for _, a := range []*ec2api.AttributeBooleanValue{in.AssignIpv6AddressOnCreation, in.EnableDns64, in.EnableResourceNameDnsAAAARecordOnLaunch} {
				if a != nil && optTrue(a.Value) {
					return invalidParameter("Subnet %s does not have an IPv6 CIDR block.", *sn.SubnetId)
				}
			}
		case in.MapCustomerOwnedIpOnLaunch != nil, in.CustomerOwnedIpv4Pool != nil, in.EnableLniAtDeviceIndex != nil, in.DisableLniAtDeviceIndex != nil:
			return invalidParameter("Subnet %s is not an Outpost subnet.", *sn.SubnetId)
		case in.EnableResourceNameDnsARecordOnLaunch != nil:
			on, err := attrValue("EnableResourceNameDnsARecordOnLaunch", in.EnableResourceNameDnsARecordOnLaunch)
			if err != nil {
				return err
			}
			opts.EnableResourceNameDnsARecord = boolp(on)
		default:
			switch t := *in.PrivateDnsHostnameTypeOnLaunch; t {
			case "ip-name", "resource-name":
				opts.HostnameType = str(t)
			default:
				return invalidParameter("Value (%s) for parameter privateDnsHostnameTypeOnLaunch is invalid.", t)
			}
		}
		return save(tx, sc, kindSubnet, *sn.SubnetId, sn)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ModifySubnetAttributeOutput{}, nil
}

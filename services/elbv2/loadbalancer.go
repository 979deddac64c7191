package elbv2

import (
	"context"
	"slices"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	elbv2api "github.com/cloudbox/cloudbox/api/elbv2"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/store"
)

func (s *Service) registerLoadBalancers(h *elbv2api.Handlers) {
	h.CreateLoadBalancer = s.CreateLoadBalancer
	h.DescribeLoadBalancers = s.DescribeLoadBalancers
	h.DeleteLoadBalancer = s.DeleteLoadBalancer
	h.DescribeLoadBalancerAttributes = s.DescribeLoadBalancerAttributes
	h.ModifyLoadBalancerAttributes = s.ModifyLoadBalancerAttributes
	h.SetSecurityGroups = s.SetSecurityGroups
	h.SetSubnets = s.SetSubnets
	h.SetIpAddressType = s.SetIpAddressType
}

// maxLoadBalancers is AWS's default quota of Application Load Balancers
// per region.
const maxLoadBalancers = 50

// hostedZones are AWS's published hosted zone ids of Application Load
// Balancers, by region.
var hostedZones = map[string]string{
	"us-east-1": "Z35SXDOTRQ7X7K", "us-east-2": "Z3AADJGX6KTTL2", "us-west-1": "Z368ELLRRE2KJ0", "us-west-2": "Z1H1FL5HABSF5",
	"af-south-1": "Z268VQBMOI5EKX", "ap-east-1": "Z3DQVH9N71FHZ0", "ap-south-1": "ZP97RAFLXTNZK", "ap-northeast-1": "Z14GRHDCWA56QT",
	"ap-northeast-2": "ZWKZPGTI48KDX", "ap-northeast-3": "Z5LXEXXYW11ES", "ap-southeast-1": "Z1LMS91P8CMLE5", "ap-southeast-2": "Z1GM3OXH4ZPM65",
	"ca-central-1": "ZQSVJUPU6J1EY", "eu-central-1": "Z215JYRZR1TBD5", "eu-west-1": "Z32O12XQLNTSW2", "eu-west-2": "ZHURV8PSTC4K8",
	"eu-west-3": "Z3Q77PNBQS71R4", "eu-north-1": "Z23TAZB2X8Z9UD", "eu-south-1": "Z3ULH7SSC9OV64", "sa-east-1": "Z2P70J7HTTTPLU",
	"me-south-1": "ZS929ML54UICD",
}

func hostedZone(region string) string {
	if z, ok := hostedZones[region]; ok {
		return z
	}
	return hostedZones["us-east-1"]
}

// checkName applies AWS's rules for load balancer and target group names.
func checkName(what, name string) error {
	switch {
	case name == "":
		return validation("%s name cannot be empty", what)
	case len(name) > 32:
		return validation("%s name '%s' cannot be longer than '32' characters", what, name)
	case strings.HasPrefix(name, "-") || strings.HasSuffix(name, "-"):
		return validation("%s name '%s' cannot begin or end with '-'", what, name)
	}
	for _, c := range name {
		if !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return validation("%s name '%s' can only contain characters that are alphanumeric characters or hyphens(-)", what, name)
		}
	}
	return nil
}

// subnetIDs returns the subnets of Subnets or SubnetMappings (ALBs take
// neither addresses nor Elastic IPs).
func subnetIDs(subnets []*string, mappings []*elbv2api.SubnetMapping) ([]string, error) {
	if len(subnets) > 0 && len(mappings) > 0 {
		return nil, validation("You can specify subnets or subnet mappings, not both")
	}
	var ids []string
	for _, s := range subnets {
		ids = append(ids, deref(s))
	}
	for _, m := range mappings {
		if m.AllocationId != nil || m.PrivateIPv4Address != nil || m.IPv6Address != nil {
			return nil, invalidConfig("You cannot specify Elastic IP addresses or private IP addresses for application load balancers")
		}
		ids = append(ids, deref(m.SubnetId))
	}
	return ids, nil
}

// checkSubnets looks the subnets up: they must exist, share a VPC and be
// in at least two Availability Zones, one subnet each.
func checkSubnets(tx *store.Tx, sc scope, ids []string) ([]ec2.SubnetInfo, error) {
	var out []ec2.SubnetInfo
	azs := map[string]bool{}
	for _, id := range ids {
		sn, ok, err := ec2.LookupSubnet(tx, sc.account, sc.region, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, api.Errorf("SubnetNotFound", "The subnet ID '%s' is not valid", id)
		}
		if slices.ContainsFunc(out, func(o ec2.SubnetInfo) bool { return o.ID == id }) {
			continue
		}
		if len(out) > 0 && sn.VPC != out[0].VPC {
			return nil, invalidConfig("The subnets '%s' and '%s' are in different VPCs; a load balancer's subnets must all be in the same VPC", out[0].ID, id)
		}
		if azs[sn.AZ] {
			return nil, invalidConfig("A load balancer cannot be attached to multiple subnets in the same Availability Zone")
		}
		azs[sn.AZ] = true
		out = append(out, sn)
	}
	if len(azs) < 2 {
		return nil, validation("At least two subnets in two different Availability Zones must be specified")
	}
	return out, nil
}

// checkGroups checks security groups for a load balancer in vpc; none
// means the VPC's default group.
func checkGroups(tx *store.Tx, sc scope, vpc string, groups []*string) ([]string, error) {
	if len(groups) == 0 {
		g, err := ec2.DefaultSecurityGroup(tx, sc.account, sc.region, vpc)
		if err != nil {
			return nil, err
		}
		return []string{g}, nil
	}
	var out []string
	for _, g := range groups {
		id := deref(g)
		gv, ok, err := ec2.SecurityGroupVPC(tx, sc.account, sc.region, id)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, api.Errorf("InvalidSecurityGroup", "Security group '%s' does not exist", id)
		}
		if gv != vpc {
			return nil, api.Errorf("InvalidSecurityGroup", "Security group '%s' does not belong to VPC '%s'", id, vpc)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if len(out) > 5 {
		return nil, validation("A load balancer can have at most 5 security groups")
	}
	return out, nil
}

func (s *Service) CreateLoadBalancer(ctx context.Context, in *elbv2api.CreateLoadBalancerInput) (*elbv2api.CreateLoadBalancerOutput, error) {
	sc := scopeOf(ctx)
	if t := deref(in.Type); t != "" && t != elbv2api.LoadBalancerTypeEnumApplication {
		return nil, validation("Load balancer type '%s' is not supported: cloudbox supports application load balancers only", t)
	}
	name := deref(in.Name)
	if err := checkName("Load balancer", name); err != nil {
		return nil, err
	}
	if strings.HasPrefix(name, "internal-") {
		return nil, validation("Load balancer name '%s' cannot begin with 'internal-'", name)
	}
	scheme := deref(in.Scheme)
	if scheme == "" {
		scheme = elbv2api.LoadBalancerSchemeEnumInternetFacing
	}
	if t := deref(in.IpAddressType); t != "" && t != elbv2api.IpAddressTypeIpv4 {
		return nil, validation("IP address type '%s' is not supported: cloudbox load balancers are ipv4 only", t)
	}
	if in.CustomerOwnedIpv4Pool != nil {
		return nil, validation("Customer-owned IPv4 pools are supported on Outposts only")
	}
	ids, err := subnetIDs(in.Subnets, in.SubnetMappings)
	if err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	var out *elbv2api.LoadBalancer
	err = s.store.Update(func(tx *store.Tx) error {
		subnets, err := checkSubnets(tx, sc, ids)
		if err != nil {
			return err
		}
		vpc := subnets[0].VPC
		groups, err := checkGroups(tx, sc, vpc, in.SecurityGroups)
		if err != nil {
			return err
		}
		all, err := listAll[lbRecord](tx, sc, kindLB)
		if err != nil {
			return err
		}
		for _, r := range all {
			if deref(r.LoadBalancerName) != name {
				continue
			}
			// The same request again answers the same load balancer.
			if deref(r.Scheme) == scheme && sameSet(lbSubnets(r), ids) && sameSet(derefAll(r.SecurityGroups), groups) {
				out = &r.LoadBalancer
				return nil
			}
			return api.Errorf("DuplicateLoadBalancerName", "A load balancer with the same name '%s' exists, but with different settings", name)
		}
		if len(all) >= maxLoadBalancers {
			return api.Errorf("TooManyLoadBalancers", "The maximum number of load balancers (%d) has been reached", maxLoadBalancers)
		}
		id := newID()
		dns := name + "-" + dnsNumber() + "." + sc.region + ".elb.amazonaws.com"
		if scheme == elbv2api.LoadBalancerSchemeEnumInternal {
			dns = "internal-" + dns
		}
		now := s.now().UTC()
		r := &lbRecord{ID: id, Attributes: lbAttrDefaults(), Tags: in.Tags}
		r.LoadBalancer = elbv2api.LoadBalancer{
			LoadBalancerArn:       str(lbARN(sc, name, id)),
			LoadBalancerName:      str(name),
			DNSName:               str(dns),
			CanonicalHostedZoneId: str(hostedZone(sc.region)),
			CreatedTime:           &now,
			Scheme:                str(scheme),
			VpcId:                 str(vpc),
			State:                 &elbv2api.LoadBalancerState{Code: str(elbv2api.LoadBalancerStateEnumProvisioning)},
			Type:                  str(elbv2api.LoadBalancerTypeEnumApplication),
			IpAddressType:         str(elbv2api.IpAddressTypeIpv4),
			SecurityGroups:        strs(groups),
		}
		if err := s.setNodes(tx, sc, r, subnets); err != nil {
			return err
		}
		s.log.Info("elbv2 load balancer created", "account", sc.account, "region", sc.region, "arn", *r.LoadBalancerArn)
		out = &r.LoadBalancer
		return put(tx, sc, kindLB, id, r)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.CreateLoadBalancerOutput{LoadBalancers: []*elbv2api.LoadBalancer{out}}, nil
}

// setNodes makes the load balancer's nodes match subnets: one interface per
// subnet, made or deleted as needed.
func (s *Service) setNodes(tx *store.Tx, sc scope, r *lbRecord, subnets []ec2.SubnetInfo) error {
	want := map[string]bool{}
	for _, sn := range subnets {
		want[sn.ID] = true
	}
	var nodes []lbNode
	for _, n := range r.Nodes {
		if want[n.Subnet] {
			nodes = append(nodes, n)
			continue
		}
		if err := ec2.DeleteServiceENI(tx, sc.account, sc.region, n.ENI); err != nil {
			return err
		}
	}
	for _, sn := range subnets {
		if slices.ContainsFunc(nodes, func(n lbNode) bool { return n.Subnet == sn.ID }) {
			continue
		}
		eni, err := ec2.CreateServiceENI(tx, sc.account, sc.region, ec2.ServiceENISpec{
			Subnet:        sn.ID,
			Groups:        derefAll(r.SecurityGroups),
			Description:   "ELB app/" + deref(r.LoadBalancerName) + "/" + r.ID,
			InterfaceType: "interface",
			Public:        deref(r.Scheme) == elbv2api.LoadBalancerSchemeEnumInternetFacing,
			Owner:         "elb",
		})
		if err != nil {
			return err
		}
		nodes = append(nodes, lbNode{Subnet: sn.ID, AZ: sn.AZ, ENI: eni.ID, PrivateIP: eni.PrivateIP, PublicIP: eni.PublicIP})
	}
	slices.SortFunc(nodes, func(a, b lbNode) int { return strings.Compare(a.AZ, b.AZ) })
	r.Nodes = nodes
	r.AvailabilityZones = nil
	for _, n := range nodes {
		r.AvailabilityZones = append(r.AvailabilityZones, &elbv2api.AvailabilityZone{SubnetId: str(n.Subnet), ZoneName: str(n.AZ), LoadBalancerAddresses: []*elbv2api.LoadBalancerAddress{}})
	}
	return nil
}

func lbSubnets(r *lbRecord) []string {
	var out []string
	for _, n := range r.Nodes {
		out = append(out, n.Subnet)
	}
	return out
}

func sameSet(a, b []string) bool {
	x, y := slices.Clone(a), slices.Clone(b)
	slices.Sort(x)
	slices.Sort(y)
	return slices.Equal(slices.Compact(x), slices.Compact(y))
}

func strs(ss []string) []*string {
	out := make([]*string, len(ss))
	for i, s := range ss {
		out[i] = str(s)
	}
	return out
}

func derefAll(ps []*string) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, deref(p))
	}
	return out
}

func (s *Service) DescribeLoadBalancers(ctx context.Context, in *elbv2api.DescribeLoadBalancersInput) (*elbv2api.DescribeLoadBalancersOutput, error) {
	sc := scopeOf(ctx)
	if len(in.Names) > 0 && len(in.LoadBalancerArns) > 0 {
		return nil, validation("Load balancer names and load balancer ARNs cannot be specified at the same time")
	}
	var recs []*lbRecord
	err := s.store.View(func(tx *store.Tx) error {
		if len(in.LoadBalancerArns) > 0 {
			for _, a := range in.LoadBalancerArns {
				r, err := loadLB(tx, sc, deref(a))
				if err != nil {
					return err
				}
				recs = append(recs, r)
			}
			return nil
		}
		all, err := listAll[lbRecord](tx, sc, kindLB)
		if err != nil {
			return err
		}
		recs = sortedBy(all, func(r *lbRecord) string { return deref(r.LoadBalancerName) })
		if len(in.Names) > 0 {
			byName := map[string]*lbRecord{}
			for _, r := range all {
				byName[deref(r.LoadBalancerName)] = r
			}
			recs = nil
			for _, n := range in.Names {
				r, ok := byName[deref(n)]
				if !ok {
					return api.Errorf("LoadBalancerNotFound", "Load balancers '[%s]' not found", deref(n))
				}
				recs = append(recs, r)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(recs, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &elbv2api.DescribeLoadBalancersOutput{LoadBalancers: []*elbv2api.LoadBalancer{}, NextMarker: next}
	for _, r := range pg {
		out.LoadBalancers = append(out.LoadBalancers, &r.LoadBalancer)
	}
	return out, nil
}

func (s *Service) DeleteLoadBalancer(ctx context.Context, in *elbv2api.DeleteLoadBalancerInput) (*elbv2api.DeleteLoadBalancerOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		r, err := loadLB(tx, sc, deref(in.LoadBalancerArn))
		if err != nil {
			// Deleting a load balancer that is already gone succeeds.
			if api.As(err).Code == "LoadBalancerNotFound" {
				return nil
			}
			return err
		}
		if r.Attributes["deletion_protection.enabled"] == "true" {
			return api.Errorf("OperationNotPermitted", "Load balancer '%s' cannot be deleted because deletion protection is enabled", *r.LoadBalancerArn)
		}
		listeners, err := listAll[listenerRecord](tx, sc, kindListener)
		if err != nil {
			return err
		}
		for _, l := range listeners {
			if l.LBID == r.ID {
				if err := s.deleteListener(tx, sc, l); err != nil {
					return err
				}
			}
		}
		for _, n := range r.Nodes {
			if err := ec2.DeleteServiceENI(tx, sc.account, sc.region, n.ENI); err != nil {
				return err
			}
		}
		s.log.Info("elbv2 load balancer deleted", "account", sc.account, "region", sc.region, "arn", *r.LoadBalancerArn)
		_, err = tx.Delete(sc.key(kindLB, r.ID))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.DeleteLoadBalancerOutput{}, nil
}

func (s *Service) SetSecurityGroups(ctx context.Context, in *elbv2api.SetSecurityGroupsInput) (*elbv2api.SetSecurityGroupsOutput, error) {
	sc := scopeOf(ctx)
	if len(in.SecurityGroups) == 0 {
		return nil, validation("An application load balancer must have at least one security group")
	}
	var groups []string
	err := s.store.Update(func(tx *store.Tx) error {
		r, err := loadLB(tx, sc, deref(in.LoadBalancerArn))
		if err != nil {
			return err
		}
		if groups, err = checkGroups(tx, sc, deref(r.VpcId), in.SecurityGroups); err != nil {
			return err
		}
		for _, n := range r.Nodes {
			if err := ec2.SetServiceENIGroups(tx, sc.account, sc.region, n.ENI, groups); err != nil {
				return err
			}
		}
		r.SecurityGroups = strs(groups)
		return put(tx, sc, kindLB, r.ID, r)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.SetSecurityGroupsOutput{SecurityGroupIds: strs(groups)}, nil
}

func (s *Service) SetSubnets(ctx context.Context, in *elbv2api.SetSubnetsInput) (*elbv2api.SetSubnetsOutput, error) {
	sc := scopeOf(ctx)
	if t := deref(in.IpAddressType); t != "" && t != elbv2api.IpAddressTypeIpv4 {
		return nil, validation("IP address type '%s' is not supported: cloudbox load balancers are ipv4 only", t)
	}
	ids, err := subnetIDs(in.Subnets, in.SubnetMappings)
	if err != nil {
		return nil, err
	}
	var out *elbv2api.SetSubnetsOutput
	err = s.store.Update(func(tx *store.Tx) error {
		r, err := loadLB(tx, sc, deref(in.LoadBalancerArn))
		if err != nil {
			return err
		}
		subnets, err := checkSubnets(tx, sc, ids)
		if err != nil {
			return err
		}
		if subnets[0].VPC != deref(r.VpcId) {
			return invalidConfig("The subnets must be in the load balancer's VPC '%s'", deref(r.VpcId))
		}
		if err := s.setNodes(tx, sc, r, subnets); err != nil {
			return err
		}
		out = &elbv2api.SetSubnetsOutput{AvailabilityZones: r.AvailabilityZones, IpAddressType: r.IpAddressType}
		return put(tx, sc, kindLB, r.ID, r)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) SetIpAddressType(ctx context.Context, in *elbv2api.SetIpAddressTypeInput) (*elbv2api.SetIpAddressTypeOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.View(func(tx *store.Tx) error {
		_, err := loadLB(tx, sc, deref(in.LoadBalancerArn))
		return err
	})
	if err != nil {
		return nil, err
	}
	if t := deref(in.IpAddressType); t != elbv2api.IpAddressTypeIpv4 {
		return nil, invalidConfig("IP address type '%s' needs subnets with IPv6 CIDR blocks, which cloudbox does not have", t)
	}
	return &elbv2api.SetIpAddressTypeOutput{IpAddressType: in.IpAddressType}, nil
}

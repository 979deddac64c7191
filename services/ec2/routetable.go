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

func (s *Service) CreateRouteTable(ctx context.Context, in *ec2api.CreateRouteTableRequest) (*ec2api.CreateRouteTableResult, error) {
	sc := scopeOf(ctx)
	tags, err := tagsFor(in.TagSpecifications, kindRouteTbl.resourceType)
	if err != nil {
		return nil, err
	}
	c := &inVPC{VpcId: deref(in.VpcId), Tags: tags}
	rt, err := create(s, sc, creation[ec2api.RouteTable]{
		op: "CreateRouteTable", token: in.ClientToken, req: c, first: c.load(sc, in.DryRun),
		make: func(tx *store.Tx) (*ec2api.RouteTable, string, error) {
			rt := &routeTableRecord{RouteTable: ec2api.RouteTable{
				RouteTableId:    str(kindRouteTbl.newID()),
				VpcId:           c.vpc.VpcId,
				OwnerId:         str(sc.account),
				Associations:    []*ec2api.RouteTableAssociation{},
				PropagatingVgws: []*ec2api.PropagatingVgw{},
				Tags:            nonNilTags(tags),
			}}
			for _, p := range vpcCIDRs(c.vpc) {
				rt.Routes = append(rt.Routes, localRoute(p))
			}
			return &rt.RouteTable, *rt.RouteTableId, save(tx, sc, kindRouteTbl, *rt.RouteTableId, rt)
		},
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateRouteTableResult{ClientToken: in.ClientToken, RouteTable: rt}, nil
}

func (s *Service) DeleteRouteTable(ctx context.Context, in *ec2api.DeleteRouteTableRequest) (*ec2api.DeleteRouteTableOutput, error) {
	sc := scopeOf(ctx)
	id := deref(in.RouteTableId)
	err := s.store.Update(func(tx *store.Tx) error {
		rt, err := load[routeTableRecord](tx, sc, kindRouteTbl, id)
		if err != nil {
			return err
		}
		// The main table is associated too (its main association), so it
		// cannot go while it is main.
		if len(rt.Associations) > 0 {
			return dependencyViolation("The routeTable '%s' has dependencies and cannot be deleted.", id)
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		return remove(tx, sc, kindRouteTbl, id)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteRouteTableOutput{}, nil
}

// routeStates works out each route's state from its target's current
// record, so a route shows blackhole as soon as its NAT gateway is
// deleted, its instance stops or its peering connection goes.
type routeStates struct {
	s     *Service
	tx    *store.Tx
	sc    scope
	known map[string]bool
}

func (s *Service) newRouteStates(tx *store.Tx, sc scope) *routeStates {
	return &routeStates{s: s, tx: tx, sc: sc, known: map[string]bool{}}
}

func (rs *routeStates) state(rt *routeTableRecord, r *ec2api.Route) (string, error) {
	if deref(r.GatewayId) == "local" {
		return "active", nil
	}
	key := deref(r.GatewayId) + deref(r.NatGatewayId) + deref(r.VpcPeeringConnectionId) + deref(r.NetworkInterfaceId) + "/" + deref(r.InstanceId) + "@" + deref(rt.VpcId)
	up, ok := rs.known[key]
	if !ok {
		var err error
		if up, err = rs.targetUp(deref(rt.VpcId), r); err != nil {
			return "", err
		}
		rs.known[key] = up
	}
	if up {
		return "active", nil
	}
	return "blackhole", nil
}

func (rs *routeStates) targetUp(vpcID string, r *ec2api.Route) (bool, error) {
	tx, sc := rs.tx, rs.sc
	switch {
	case strings.HasPrefix(deref(r.GatewayId), "igw-"):
		g, ok, err := store.Get[internetGatewayRecord](tx, sc.key(kindIGW, *r.GatewayId))
		return ok && igwAttachedTo(g) == vpcID, err
	case r.NatGatewayId != nil:
		n, ok, err := store.Get[natGatewayRecord](tx, sc.key(kindNAT, *r.NatGatewayId))
		return ok && natState(n, rs.s.now()) == "available", err
	case r.VpcPeeringConnectionId != nil:
		p, ok, err := store.Get[peeringRecord](tx, sc.key(kindPeering, *r.VpcPeeringConnectionId))
		return ok && peeringStatus(p, rs.s.now()) == "active", err
	case r.NetworkInterfaceId != nil:
		e, ok, err := store.Get[networkInterfaceRecord](tx, sc.key(kindENI, *r.NetworkInterfaceId))
		if err != nil || !ok {
			return false, err
		}
		if e.Attachment != nil && e.Attachment.InstanceId != nil {
			return instanceRunning(tx, sc, *e.Attachment.InstanceId)
		}
		return deref(e.Status) == "in-use", nil
	case r.InstanceId != nil:
		return instanceRunning(tx, sc, *r.InstanceId)
	}
	return false, nil
}

func instanceRunning(tx *store.Tx, sc scope, id string) (bool, error) {
	i, ok, err := store.Get[instanceRecord](tx, sc.key(kindInstance, id))
	return ok && i.State != nil && deref(i.State.Name) == "running", err
}

// routeDest is the destination a route is known by.
func routeDest(r *ec2api.Route) string {
	if r.DestinationCidrBlock != nil {
		return *r.DestinationCidrBlock
	}
	if r.DestinationIpv6CidrBlock != nil {
		return *r.DestinationIpv6CidrBlock
	}
	return deref(r.DestinationPrefixListId)
}

func routeTableFilters(rs *routeStates) fields[routeTableRecord] {
	assoc := func(get func(*ec2api.RouteTableAssociation) []string) func(*routeTableRecord) []string {
		return func(rt *routeTableRecord) []string {
			var out []string
			for _, a := range rt.Associations {
				out = append(out, get(a)...)
			}
			return out
		}
	}
	route := func(get func(*ec2api.Route) *string) func(*routeTableRecord) []string {
		return func(rt *routeTableRecord) []string {
			var out []string
			for _, r := range rt.Routes {
				out = append(out, one(get(r))...)
			}
			return out
		}
	}
	return fields[routeTableRecord]{
		"route-table-id":                         func(rt *routeTableRecord) []string { return one(rt.RouteTableId) },
		"vpc-id":                                 func(rt *routeTableRecord) []string { return one(rt.VpcId) },
		"owner-id":                               func(rt *routeTableRecord) []string { return one(rt.OwnerId) },
		"association.route-table-association-id": assoc(func(a *ec2api.RouteTableAssociation) []string { return one(a.RouteTableAssociationId) }),
		"association.route-table-id":             assoc(func(a *ec2api.RouteTableAssociation) []string { return one(a.RouteTableId) }),
		"association.subnet-id":                  assoc(func(a *ec2api.RouteTableAssociation) []string { return one(a.SubnetId) }),
		"association.gateway-id":                 assoc(func(a *ec2api.RouteTableAssociation) []string { return one(a.GatewayId) }),
		"association.main":                       assoc(func(a *ec2api.RouteTableAssociation) []string { return boolField(a.Main) }),
		"route.destination-cidr-block":           route(func(r *ec2api.Route) *string { return r.DestinationCidrBlock }),
		"route.destination-ipv6-cidr-block":      route(func(r *ec2api.Route) *string { return r.DestinationIpv6CidrBlock }),
		"route.destination-prefix-list-id":       route(func(r *ec2api.Route) *string { return r.DestinationPrefixListId }),
		"route.gateway-id":                       route(func(r *ec2api.Route) *string { return r.GatewayId }),
		"route.nat-gateway-id":                   route(func(r *ec2api.Route) *string { return r.NatGatewayId }),
		"route.instance-id":                      route(func(r *ec2api.Route) *string { return r.InstanceId }),
		"route.network-interface-id":             route(func(r *ec2api.Route) *string { return r.NetworkInterfaceId }),
		"route.vpc-peering-connection-id":        route(func(r *ec2api.Route) *string { return r.VpcPeeringConnectionId }),
		"route.transit-gateway-id":               route(func(r *ec2api.Route) *string { return r.TransitGatewayId }),
		"route.egress-only-internet-gateway-id":  route(func(r *ec2api.Route) *string { return r.EgressOnlyInternetGatewayId }),
		"route.origin":                           route(func(r *ec2api.Route) *string { return r.Origin }),
		"route.state": func(rt *routeTableRecord) []string {
			var out []string
			for _, r := range rt.Routes {
				if st, err := rs.state(rt, r); err == nil {
					out = append(out, st)
				}
			}
			return out
		},
	}
}

func (s *Service) DescribeRouteTables(ctx context.Context, in *ec2api.DescribeRouteTablesRequest) (*ec2api.DescribeRouteTablesResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	out := &ec2api.DescribeRouteTablesResult{RouteTables: []*ec2api.RouteTable{}}
	err := s.store.View(func(tx *store.Tx) error {
		rs := s.newRouteStates(tx, sc)
		page, next, err := describe(tx, sc, kindRouteTbl, query{ids: in.RouteTableIds, filters: in.Filters, maxResults: in.MaxResults, nextToken: in.NextToken},
			func(rt *routeTableRecord) string { return *rt.RouteTableId }, func(rt *routeTableRecord) []*ec2api.Tag { return rt.Tags }, routeTableFilters(rs))
		if err != nil {
			return err
		}
		for _, rt := range page {
			for _, r := range rt.Routes {
				st, err := rs.state(rt, r)
				if err != nil {
					return err
				}
				r.State = str(st)
			}
			out.RouteTables = append(out.RouteTables, &rt.RouteTable)
		}
		out.NextToken = next
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// routeTargetInput is the target of CreateRoute and ReplaceRoute: exactly
// one member is set.
type routeTargetInput struct {
	GatewayId, NatGatewayId, NetworkInterfaceId, InstanceId, VpcPeeringConnectionId *string
	TransitGatewayId, EgressOnlyInternetGatewayId, LocalGatewayId, CarrierGatewayId *string
	VpcEndpointId, CoreNetworkArn                                                   *string
}

// resolve checks the target against rt's VPC and returns a route with its
// target members set. A nat- id given as GatewayId is taken as the NAT
// gateway, as AWS does.
func (t routeTargetInput) resolve(tx *store.Tx, s *Service, sc scope, rt *routeTableRecord) (*ec2api.Route, error) {
	members := []struct {
		name string
		v    *string
	}{
		{"gatewayId", t.GatewayId}, {"natGatewayId", t.NatGatewayId}, {"networkInterfaceId", t.NetworkInterfaceId},
		{"instanceId", t.InstanceId}, {"vpcPeeringConnectionId", t.VpcPeeringConnectionId}, {"transitGatewayId", t.TransitGatewayId},
		{"egressOnlyInternetGatewayId", t.EgressOnlyInternetGatewayId}, {"localGatewayId", t.LocalGatewayId},
		{"carrierGatewayId", t.CarrierGatewayId}, {"vpcEndpointId", t.VpcEndpointId}, {"coreNetworkArn", t.CoreNetworkArn},
	}
	var set []string
	var names []string
	for _, m := range members {
		names = append(names, m.name)
		if m.v != nil {
			set = append(set, m.name)
		}
	}
	switch len(set) {
	case 0:
		return nil, api.Errorf("MissingParameter", "The request must contain exactly one of %s", strings.Join(names, ", "))
	case 1:
	default:
		return nil, api.Errorf("InvalidParameterCombination", "The parameter %s cannot be used with the parameter %s", set[1], set[0])
	}
	vpcID, rtID := deref(rt.VpcId), deref(rt.RouteTableId)
	differentNetworks := func(what, id string) error {
		return invalidParameter("route table %s and %s %s belong to different networks", rtID, what, id)
	}
	switch {
	case t.GatewayId != nil:
		id := *t.GatewayId
		switch {
		case strings.HasPrefix(id, "igw-"):
			g, err := load[internetGatewayRecord](tx, sc, kindIGW, id)
			if err != nil {
				return nil, err
			}
			if igwAttachedTo(g) != vpcID {
				return nil, differentNetworks("network gateway", id)
			}
			return &ec2api.Route{GatewayId: str(id)}, nil
		case strings.HasPrefix(id, "nat-"):
			return natRouteTarget(tx, sc, s.now(), vpcID, id, differentNetworks)
		case strings.HasPrefix(id, "vgw-"):
			return nil, api.Errorf("InvalidVpnGatewayID.NotFound", "The virtual private gateway ID '%s' does not exist", id)
		case strings.HasPrefix(id, "vpce-"):
			return nil, api.Errorf("InvalidVpcEndpointId.NotFound", "The VpcEndPoint ID '%s' does not exist", id)
		}
		return nil, api.Errorf("InvalidGatewayID.NotFound", "The gateway ID '%s' does not exist", id)
	case t.NatGatewayId != nil:
		return natRouteTarget(tx, sc, s.now(), vpcID, *t.NatGatewayId, differentNetworks)
	case t.NetworkInterfaceId != nil:
		e, err := load[networkInterfaceRecord](tx, sc, kindENI, *t.NetworkInterfaceId)
		if err != nil {
			return nil, err
		}
		if deref(e.VpcId) != vpcID {
			return nil, differentNetworks("interface", *e.NetworkInterfaceId)
		}
		r := &ec2api.Route{NetworkInterfaceId: e.NetworkInterfaceId}
		if e.Attachment != nil && e.Attachment.InstanceId != nil {
			r.InstanceId, r.InstanceOwnerId = e.Attachment.InstanceId, str(sc.account)
		}
		return r, nil
	case t.InstanceId != nil:
		i, err := load[instanceRecord](tx, sc, kindInstance, *t.InstanceId)
		if err != nil {
			return nil, err
		}
		if deref(i.VpcId) != vpcID {
			return nil, differentNetworks("instance", *i.InstanceId)
		}
		if len(i.NetworkInterfaces) > 1 {
			return nil, api.Errorf("InvalidInstanceID", "There are multiple interfaces attached to instance '%s'. Please specify an interface ID for the operation instead.", *i.InstanceId)
		}
		r := &ec2api.Route{InstanceId: i.InstanceId, InstanceOwnerId: str(sc.account)}
		if len(i.NetworkInterfaces) == 1 {
			r.NetworkInterfaceId = i.NetworkInterfaces[0].NetworkInterfaceId
		}
		return r, nil
	case t.VpcPeeringConnectionId != nil:
		p, err := load[peeringRecord](tx, sc, kindPeering, *t.VpcPeeringConnectionId)
		if err != nil {
			return nil, err
		}
		if peeringSide(p, sc, vpcID) == nil {
			return nil, differentNetworks("peering connection", *t.VpcPeeringConnectionId)
		}
		if st := peeringStatus(p, s.now()); st != "active" {
			return nil, invalidParameter("The VPC peering connection %s is not active (its state is %s).", *t.VpcPeeringConnectionId, st)
		}
		return &ec2api.Route{VpcPeeringConnectionId: p.VpcPeeringConnectionId}, nil
	case t.TransitGatewayId != nil:
		return nil, api.Errorf("InvalidTransitGatewayID.NotFound", "The transitGateway ID '%s' does not exist.", *t.TransitGatewayId)
	case t.EgressOnlyInternetGatewayId != nil:
		return nil, api.Errorf("InvalidGatewayID.NotFound", "The eigw ID '%s' does not exist", *t.EgressOnlyInternetGatewayId)
	case t.LocalGatewayId != nil:
		return nil, api.Errorf("InvalidLocalGatewayID.NotFound", "The localGateway ID '%s' does not exist.", *t.LocalGatewayId)
	case t.CarrierGatewayId != nil:
		return nil, api.Errorf("InvalidCarrierGatewayID.NotFound", "The CarrierGateway ID '%s' does not exist", *t.CarrierGatewayId)
	case t.VpcEndpointId != nil:
		return nil, api.Errorf("InvalidVpcEndpointId.NotFound", "The VpcEndPoint ID '%s' does not exist", *t.VpcEndpointId)
	}
	return nil, invalidParameter("Value (%s) for parameter coreNetworkArn is invalid.", *t.CoreNetworkArn)
}

func natRouteTarget(tx *store.Tx, sc scope, now time.Time, vpcID, id string, differentNetworks func(string, string) error) (*ec2api.Route, error) {
	n, ok, err := store.Get[natGatewayRecord](tx, sc.key(kindNAT, id))
	if err != nil {
		return nil, err
	}
	// A gateway being deleted, deleted or failed cannot take routes.
	if ok {
		st := natState(n, now)
		ok = st == "pending" || st == "available"
	}
	if !ok {
		if err := kindNAT.checkID(id); err != nil {
			return nil, err
		}
		return nil, api.Errorf("InvalidNatGatewayID.NotFound", "The natGateway ID '%s' does not exist", id)
	}
	if deref(n.VpcId) != vpcID {
		return nil, differentNetworks("NAT gateway", id)
	}
	return &ec2api.Route{NatGatewayId: str(id)}, nil
}

// parseRouteDest reads a route's destination: an IPv4 or IPv6 CIDR (a
// prefix list cannot exist in cloudbox).
func parseRouteDest(v4, v6, pl *string) (netip.Prefix, error) {
	n := 0
	for _, p := range []*string{v4, v6, pl} {
		if p != nil {
			n++
		}
	}
	switch {
	case n == 0:
		return netip.Prefix{}, api.Errorf("MissingParameter", "The request must contain the parameter destinationCidrBlock or destinationIpv6CidrBlock or destinationPrefixListId")
	case n > 1:
		return netip.Prefix{}, api.Errorf("InvalidParameterCombination", "Only one of destinationCidrBlock, destinationIpv6CidrBlock and destinationPrefixListId may be specified")
	case pl != nil:
		return netip.Prefix{}, api.Errorf("InvalidPrefixListID.NotFound", "The prefix list ID '%s' does not exist", *pl)
	case v4 != nil:
		p, err := netip.ParsePrefix(*v4)
		if err != nil || !p.Addr().Is4() || p.Masked() != p {
			return netip.Prefix{}, invalidParameter("Value (%s) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block.", *v4)
		}
		return p, nil
	}
	p, err := netip.ParsePrefix(*v6)
	if err != nil || !p.Addr().Is6() || p.Addr().Is4In6() || p.Masked() != p {
		return netip.Prefix{}, invalidParameter("Value (%s) for parameter destinationIpv6CidrBlock is invalid. This is not a valid CIDR block.", *v6)
	}
	return p, nil
}

// findRoute returns the index of the route to dest, or -1.
func findRoute(rt *routeTableRecord, dest netip.Prefix) int {
	for i, r := range rt.Routes {
		if routeDest(r) == dest.String() {
			return i
		}
	}
	return -1
}

// checkInsideVPC refuses a route to part (or all) of the VPC's own range
// unless it goes to an interface or an instance (more specific routing).
func checkInsideVPC(tx *store.Tx, sc scope, rt *routeTableRecord, dest netip.Prefix, r *ec2api.Route) error {
	if !dest.Addr().Is4() || r.NetworkInterfaceId != nil || r.InstanceId != nil {
		return nil
	}
	v, err := load[vpcRecord](tx, sc, kindVPC, deref(rt.VpcId))
	if err != nil {
		return err
	}
	for _, c := range vpcCIDRs(v) {
		if c.Contains(dest.Addr()) && dest.Bits() >= c.Bits() {
			return invalidParameter("The destination CIDR block %s is equal to or more specific than one of this VPC's CIDR blocks. This route can target only an interface or an instance.", dest)
		}
	}
	return nil
}

func setRouteDest(r *ec2api.Route, dest netip.Prefix) {
	if dest.Addr().Is4() {
		r.DestinationCidrBlock = str(dest.String())
	} else {
		r.DestinationIpv6CidrBlock = str(dest.String())
	}
}

// route is the route to dest that CreateRoute and ReplaceRoute put in rt,
// once its target and range are checked and a dry run answered.
func (t routeTargetInput) route(tx *store.Tx, s *Service, sc scope, rt *routeTableRecord, dest netip.Prefix, dry *bool) (*ec2api.Route, error) {
	r, err := t.resolve(tx, s, sc, rt)
	if err != nil {
		return nil, err
	}
	if err := checkInsideVPC(tx, sc, rt, dest, r); err != nil {
		return nil, err
	}
	if err := dryRun(dry); err != nil {
		return nil, err
	}
	setRouteDest(r, dest)
	r.Origin, r.State = str("CreateRoute"), str("active")
	return r, nil
}

func (s *Service) CreateRoute(ctx context.Context, in *ec2api.CreateRouteRequest) (*ec2api.CreateRouteResult, error) {
	sc := scopeOf(ctx)
	dest, err := parseRouteDest(in.DestinationCidrBlock, in.DestinationIpv6CidrBlock, in.DestinationPrefixListId)
	if err != nil {
		return nil, err
	}
	target := routeTargetInput{
		GatewayId: in.GatewayId, NatGatewayId: in.NatGatewayId, NetworkInterfaceId: in.NetworkInterfaceId, InstanceId: in.InstanceId,
		VpcPeeringConnectionId: in.VpcPeeringConnectionId, TransitGatewayId: in.TransitGatewayId, EgressOnlyInternetGatewayId: in.EgressOnlyInternetGatewayId,
		LocalGatewayId: in.LocalGatewayId, CarrierGatewayId: in.CarrierGatewayId, VpcEndpointId: in.VpcEndpointId, CoreNetworkArn: in.CoreNetworkArn,
	}
	err = s.store.Update(func(tx *store.Tx) error {
		rt, err := load[routeTableRecord](tx, sc, kindRouteTbl, deref(in.RouteTableId))
		if err != nil {
			return err
		}
		if findRoute(rt, dest) >= 0 {
			return api.Errorf("RouteAlreadyExists", "The route identified by %s already exists.", dest)
		}
		r, err := target.route(tx, s, sc, rt, dest, in.DryRun)
		if err != nil {
			return err
		}
		rt.Routes = append(rt.Routes, r)
		return save(tx, sc, kindRouteTbl, *rt.RouteTableId, rt)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateRouteResult{Return: boolp(true)}, nil
}

func (s *Service) ReplaceRoute(ctx context.Context, in *ec2api.ReplaceRouteRequest) (*ec2api.ReplaceRouteOutput, error) {
	sc := scopeOf(ctx)
	dest, err := parseRouteDest(in.DestinationCidrBlock, in.DestinationIpv6CidrBlock, in.DestinationPrefixListId)
	if err != nil {
		return nil, err
	}
	target := routeTargetInput{
		GatewayId: in.GatewayId, NatGatewayId: in.NatGatewayId, NetworkInterfaceId: in.NetworkInterfaceId, InstanceId: in.InstanceId,
		VpcPeeringConnectionId: in.VpcPeeringConnectionId, TransitGatewayId: in.TransitGatewayId, EgressOnlyInternetGatewayId: in.EgressOnlyInternetGatewayId,
		LocalGatewayId: in.LocalGatewayId, CarrierGatewayId: in.CarrierGatewayId, VpcEndpointId: in.VpcEndpointId, CoreNetworkArn: in.CoreNetworkArn,
	}
	err = s.store.Update(func(tx *store.Tx) error {
		rt, err := load[routeTableRecord](tx, sc, kindRouteTbl, deref(in.RouteTableId))
		if err != nil {
			return err
		}
		i := findRoute(rt, dest)
		if i < 0 {
			return invalidParameter("There is no route defined for '%s' in the route table. Use CreateRoute instead.", dest)
		}
		local := deref(rt.Routes[i].GatewayId) == "local"
		if optTrue(in.LocalTarget) {
			// Resetting the local route to local: it always is.
			if !local {
				return invalidParameter("The route %s in route table %s is not a local route.", dest, *rt.RouteTableId)
			}
			return dryRun(in.DryRun)
		}
		if local {
			return invalidParameter("The local route %s of route table %s cannot be replaced.", dest, *rt.RouteTableId)
		}
		r, err := target.route(tx, s, sc, rt, dest, in.DryRun)
		if err != nil {
			return err
		}
		rt.Routes[i] = r
		return save(tx, sc, kindRouteTbl, *rt.RouteTableId, rt)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ReplaceRouteOutput{}, nil
}

func (s *Service) DeleteRoute(ctx context.Context, in *ec2api.DeleteRouteRequest) (*ec2api.DeleteRouteOutput, error) {
	sc := scopeOf(ctx)
	dest, err := parseRouteDest(in.DestinationCidrBlock, in.DestinationIpv6CidrBlock, in.DestinationPrefixListId)
	if err != nil {
		return nil, err
	}
	err = s.store.Update(func(tx *store.Tx) error {
		rt, err := load[routeTableRecord](tx, sc, kindRouteTbl, deref(in.RouteTableId))
		if err != nil {
			return err
		}
		i := findRoute(rt, dest)
		if i < 0 {
			param := "destination-cidr-block"
			if !dest.Addr().Is4() {
				param = "destination-ipv6-cidr-block"
			}
			return api.Errorf("InvalidRoute.NotFound", "no route with %s %s in route table %s", param, dest, *rt.RouteTableId)
		}
		if deref(rt.Routes[i].GatewayId) == "local" {
			return invalidParameter("cannot remove local route %s in route table %s", dest, *rt.RouteTableId)
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		rt.Routes = append(rt.Routes[:i], rt.Routes[i+1:]...)
		return save(tx, sc, kindRouteTbl, *rt.RouteTableId, rt)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteRouteOutput{}, nil
}

// findRouteTableAssociation returns the route table holding an association
// and its index in it.
func findRouteTableAssociation(tx *store.Tx, sc scope, id string) (*routeTableRecord, int, error) {
	rts, err := listAll[routeTableRecord](tx, sc, kindRouteTbl)
	if err != nil {
		return nil, 0, err
	}
	for _, rt := range rts {
		for i, a := range rt.Associations {
			if deref(a.RouteTableAssociationId) == id {
				return rt, i, nil
			}
		}
	}
	return nil, 0, api.Errorf("InvalidAssociationID.NotFound", "The association ID '%s' does not exist", id)
}

func (s *Service) AssociateRouteTable(ctx context.Context, in *ec2api.AssociateRouteTableRequest) (*ec2api.AssociateRouteTableResult, error) {
	sc := scopeOf(ctx)
	switch {
	case in.SubnetId == nil && in.GatewayId == nil:
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter subnetId or gatewayId")
	case in.SubnetId != nil && in.GatewayId != nil:
		return nil, api.Errorf("InvalidParameterCombination", "The parameter gatewayId cannot be used with the parameter subnetId")
	}
	out := &ec2api.AssociateRouteTableResult{}
	err := s.store.Update(func(tx *store.Tx) error {
		rt, err := load[routeTableRecord](tx, sc, kindRouteTbl, deref(in.RouteTableId))
		if err != nil {
			return err
		}
		a := &ec2api.RouteTableAssociation{
			Main:                    boolp(false),
			RouteTableAssociationId: str(newAssocID("rtbassoc")),
			RouteTableId:            rt.RouteTableId,
			AssociationState:        &ec2api.RouteTableAssociationState{State: str("associated")},
		}
		var taken func(*ec2api.RouteTableAssociation) bool
		if in.SubnetId != nil {
			sn, err := load[subnetRecord](tx, sc, kindSubnet, *in.SubnetId)
			if err != nil {
				return err
			}
			if deref(sn.VpcId) != deref(rt.VpcId) {
				return invalidParameter("route table %s and subnet %s belong to different networks", *rt.RouteTableId, *sn.SubnetId)
			}
			a.SubnetId = sn.SubnetId
			taken = func(o *ec2api.RouteTableAssociation) bool { return deref(o.SubnetId) == *sn.SubnetId }
		} else {
			// An edge association routes a gateway's incoming traffic.
			id := *in.GatewayId
			switch {
			case strings.HasPrefix(id, "igw-"):
				g, err := load[internetGatewayRecord](tx, sc, kindIGW, id)
				if err != nil {
					return err
				}
				if igwAttachedTo(g) != deref(rt.VpcId) {
					return invalidParameter("route table %s and network gateway %s belong to different networks", *rt.RouteTableId, id)
				}
			case strings.HasPrefix(id, "vgw-"):
				return api.Errorf("InvalidVpnGatewayID.NotFound", "The virtual private gateway ID '%s' does not exist", id)
			default:
				return api.Errorf("InvalidGatewayID.NotFound", "The gateway ID '%s' does not exist", id)
			}
			a.GatewayId = str(id)
			taken = func(o *ec2api.RouteTableAssociation) bool { return deref(o.GatewayId) == id }
		}
		rts, err := vpcRouteTables(tx, sc, deref(rt.VpcId))
		if err != nil {
			return err
		}
		for _, o := range rts {
			for _, oa := range o.Associations {
				if taken(oa) {
					return api.Errorf("Resource.AlreadyAssociated", "the specified association for route table %s conflicts with an existing association", *rt.RouteTableId)
				}
			}
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		rt.Associations = append(rt.Associations, a)
		out.AssociationId, out.AssociationState = a.RouteTableAssociationId, a.AssociationState
		return save(tx, sc, kindRouteTbl, *rt.RouteTableId, rt)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) DisassociateRouteTable(ctx context.Context, in *ec2api.DisassociateRouteTableRequest) (*ec2api.DisassociateRouteTableOutput, error) {
	sc := scopeOf(ctx)
	id := deref(in.AssociationId)
	err := s.store.Update(func(tx *store.Tx) error {
		rt, i, err := findRouteTableAssociation(tx, sc, id)
		if err != nil {
			return err
		}
		if optTrue(rt.Associations[i].Main) {
			return invalidParameter("cannot disassociate the main route table association %s", id)
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		rt.Associations = append(rt.Associations[:i], rt.Associations[i+1:]...)
		return save(tx, sc, kindRouteTbl, *rt.RouteTableId, rt)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DisassociateRouteTableOutput{}, nil
}

func (s *Service) ReplaceRouteTableAssociation(ctx context.Context, in *ec2api.ReplaceRouteTableAssociationRequest) (*ec2api.ReplaceRouteTableAssociationResult, error) {
	sc := scopeOf(ctx)
	out := &ec2api.ReplaceRouteTableAssociationResult{}
	err := s.store.Update(func(tx *store.Tx) error {
		old, i, err := findRouteTableAssociation(tx, sc, deref(in.AssociationId))
		if err != nil {
			return err
		}
		to := old
		if deref(in.RouteTableId) != *old.RouteTableId {
			if to, err = load[routeTableRecord](tx, sc, kindRouteTbl, deref(in.RouteTableId)); err != nil {
				return err
			}
		}
		if deref(to.VpcId) != deref(old.VpcId) {
			return invalidParameter("route table %s and association %s belong to different networks", *to.RouteTableId, *in.AssociationId)
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		a := old.Associations[i]
		old.Associations = append(old.Associations[:i], old.Associations[i+1:]...)
		na := &ec2api.RouteTableAssociation{
			Main:                    a.Main,
			RouteTableAssociationId: str(newAssocID("rtbassoc")),
			RouteTableId:            to.RouteTableId,
			SubnetId:                a.SubnetId,
			GatewayId:               a.GatewayId,
			AssociationState:        &ec2api.RouteTableAssociationState{State: str("associated")},
		}
		to.Associations = append(to.Associations, na)
		if to != old {
			if err := save(tx, sc, kindRouteTbl, *old.RouteTableId, old); err != nil {
				return err
			}
		}
		if optTrue(a.Main) {
			v, err := load[vpcRecord](tx, sc, kindVPC, deref(to.VpcId))
			if err != nil {
				return err
			}
			v.MainRouteTableID = *to.RouteTableId
			if err := save(tx, sc, kindVPC, *v.VpcId, v); err != nil {
				return err
			}
		}
		out.NewAssociationId, out.AssociationState = na.RouteTableAssociationId, na.AssociationState
		return save(tx, sc, kindRouteTbl, *to.RouteTableId, to)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

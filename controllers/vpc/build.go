package vpc

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/cloudbox/cloudbox/dataplane/network"
	"github.com/cloudbox/cloudbox/desired"
)

var anyV4 = netip.MustParsePrefix("0.0.0.0/0")

// hostLen is the prefix length of one IPv4 address.
const hostLen = 32

// builder computes the desired state of every namespace from a World.
type builder struct {
	nss   map[string]*nsState
	vpcs  map[string]*desired.VPC
	peers map[string][]*desired.Peering // by VPC id, both sides
	// linkOwner detects two ids that shorten to one link name in a namespace.
	linkOwner map[string]string
}

func build(w *desired.World) (map[string]*nsState, error) {
	b := &builder{nss: map[string]*nsState{}, vpcs: map[string]*desired.VPC{}, peers: map[string][]*desired.Peering{}, linkOwner: map[string]string{}}
	inet := b.ns(InternetNS)
	inet.sysctls["net.ipv4.ip_forward"] = "1"
	inet.sysctls["net.ipv4.conf.all.rp_filter"] = "0"
	inet.sysctls["net.ipv4.conf.default.rp_filter"] = "0"
	inet.addrs[linkAddr{"lo", netip.PrefixFrom(EchoAddr, hostLen)}] = true
	inet.addrs[linkAddr{"lo", netip.PrefixFrom(MirrorAddr, hostLen)}] = true
	inet.addrs[linkAddr{"lo", netip.PrefixFrom(EndpointAddr, hostLen)}] = true
	for _, a := range NameServerAddrs {
		inet.addrs[linkAddr{"lo", netip.PrefixFrom(a, hostLen)}] = true
	}

	for _, v := range w.VPCs {
		b.vpcs[v.ID] = v
	}
	for _, p := range w.Peerings {
		if b.vpcs[p.RequesterVPC] == nil || b.vpcs[p.AccepterVPC] == nil || p.RequesterVPC == p.AccepterVPC {
			continue
		}
		b.peers[p.RequesterVPC] = append(b.peers[p.RequesterVPC], p)
		b.peers[p.AccepterVPC] = append(b.peers[p.AccepterVPC], p)
	}
	for _, v := range w.VPCs {
		if err := b.vpc(v); err != nil {
			return nil, fmt.Errorf("vpc: %s: %w", v.ID, err)
		}
	}
	return b.nss, nil
}

func (b *builder) ns(name string) *nsState {
	s, ok := b.nss[name]
	if !ok {
		s = newNS()
		b.nss[name] = s
	}
	return s
}

// claimLink records that id owns link in ns, refusing a second id.
func (b *builder) claimLink(ns, link, id string) error {
	k := ns + "/" + link
	if prev, ok := b.linkOwner[k]; ok && prev != id {
		return fmt.Errorf("%s and %s both map to link %s in %s", prev, id, link, ns)
	}
	b.linkOwner[k] = id
	return nil
}

// vpcIndex is what the route tables and rules of one VPC look things up in.
type vpcIndex struct {
	v       *desired.VPC
	subnets map[string]*desired.Subnet
	enis    map[string]*desired.ENI
	groups  map[string]*desired.SecurityGroup
	acls    map[string]*desired.NetworkACL
	nats    map[string]*desired.NATGateway
	// wired are the ENIs that have a namespace and a link, by id.
	wired map[string]string
}

func newVPCIndex(v *desired.VPC) *vpcIndex {
	x := &vpcIndex{v: v, subnets: map[string]*desired.Subnet{}, enis: map[string]*desired.ENI{}, groups: map[string]*desired.SecurityGroup{},
		acls: map[string]*desired.NetworkACL{}, nats: map[string]*desired.NATGateway{}, wired: map[string]string{}}
	for _, s := range v.Subnets {
		x.subnets[s.ID] = s
	}
	for _, e := range v.ENIs {
		x.enis[e.ID] = e
	}
	for _, g := range v.SecurityGroups {
		x.groups[g.ID] = g
	}
	for _, a := range v.NetworkACLs {
		x.acls[a.ID] = a
	}
	for _, n := range v.NATGateways {
		x.nats[n.ID] = n
	}
	return x
}

func (b *builder) vpc(v *desired.VPC) error {
	x := newVPCIndex(v)
	rns := RouterNS(v.ID)
	r := b.ns(rns)
	for k, val := range map[string]string{
		"net.ipv4.ip_forward":                  "1",
		"net.ipv4.conf.all.rp_filter":          "0",
		"net.ipv4.conf.default.rp_filter":      "0",
		"net.ipv4.conf.all.send_redirects":     "0",
		"net.ipv4.conf.default.send_redirects": "0",
	} {
		r.sysctls[k] = val
	}
	lo := func(a netip.Addr) { r.addrs[linkAddr{"lo", netip.PrefixFrom(a, hostLen)}] = true }
	lo(IMDSAddr)
	lo(DNSLinkLocal)
	if len(v.CIDRs) > 0 && v.CIDRs[0].Addr().Is4() {
		lo(desired.DNSServer(v.CIDRs[0]))
	}
	for _, s := range v.Subnets {
		if s.CIDR.Addr().Is4() {
			lo(s.Gateway())
		}
	}
	// Destinations in the VPC: the ENIs' host routes in main, and a
	// blackhole for the rest of each block (an unused address is dropped,
	// never sent to a gateway).
	for _, c := range v.CIDRs {
		if !c.Addr().Is4() {
			continue
		}
		c = c.Masked()
		r.rules[network.Rule{Priority: prioLocal, To: c, Table: network.MainTable}] = true
		r.addRoute(network.Route{Dst: c, Type: network.Blackhole})
	}

	for _, e := range v.ENIs {
		if err := b.eni(x, e); err != nil {
			return err
		}
	}
	if v.InternetGateway != "" {
		if err := b.internetGateway(x); err != nil {
			return err
		}
	}
	for _, p := range b.peers[v.ID] {
		if err := b.peering(x, p); err != nil {
			return err
		}
	}

	tables := map[string]int{}
	seen := map[int]string{}
	for _, rt := range v.RouteTables {
		id := routeTableID(rt.ID)
		if prev, ok := seen[id]; ok {
			return fmt.Errorf("route tables %s and %s hash to kernel table %d", prev, rt.ID, id)
		}
		seen[id] = rt.ID
		tables[rt.ID] = id
		b.routeTable(x, rt, id)
	}
	for _, s := range v.Subnets {
		if id, ok := tables[s.RouteTable]; ok && s.CIDR.Addr().Is4() {
			r.rules[network.Rule{Priority: prioSubnet, From: s.CIDR.Masked(), Table: id}] = true
		}
	}
	r.setTable(b.routerTable(x))
	return nil
}

// eni wires one ENI: a veth from its owner's namespace (eth<index>) to the
// router, addresses and default route inside, host routes and permanent
// neighbour entries in the router.
func (b *builder) eni(x *vpcIndex, e *desired.ENI) error {
	s := x.subnets[e.Subnet]
	if e.OwnerKind == desired.OwnerNone || e.OwnerID == "" || s == nil || !s.CIDR.Addr().Is4() {
		return nil
	}
	rns := RouterNS(x.v.ID)
	ons := OwnerNS(e.OwnerID)
	link, eth := shortLink('e', e.ID), ethName(e.DeviceIndex)
	if err := b.claimLink(rns, link, e.ID); err != nil {
		return err
	}
	if err := b.claimLink(ons, eth, e.ID); err != nil {
		return err
	}
	x.wired[e.ID] = link
	r, o := b.ns(rns), b.ns(ons)
	var mac []byte
	if len(e.MAC) == 6 {
		mac = e.MAC
	}
	o.veths[eth] = network.Veth{NS: ons, Name: eth, MAC: mac, PeerNS: rns, PeerName: link}
	o.links[eth] = true
	r.links[link] = true
	r.proxyARP(link)
	for _, ip := range e.PrivateIPs {
		if !ip.Is4() || !s.CIDR.Contains(ip) {
			continue
		}
		o.addrs[linkAddr{eth, netip.PrefixFrom(ip, s.CIDR.Bits())}] = true
		r.addRoute(network.Route{Dst: netip.PrefixFrom(ip, hostLen), Dev: link})
		if mac != nil {
			r.setNeigh(network.Neigh{Dev: link, IP: ip, MAC: mac})
		}
	}
	if e.DeviceIndex == 0 {
		o.addRoute(network.Route{Dst: anyV4, Via: s.Gateway(), Dev: eth})
	}
	if e.OwnerKind == desired.OwnerNATGateway && len(e.PrivateIPs) > 0 {
		o.sysctls["net.ipv4.ip_forward"] = "1"
		o.sysctls["net.ipv4.conf.all.send_redirects"] = "0"
		o.sysctls["net.ipv4.conf."+eth+".send_redirects"] = "0"
		o.setTable(natGatewayTable(eth, e.PrivateIPs[0]))
	}
	return nil
}

// internetGateway links the router to the internet namespace and routes
// the VPC's public IPs there to it.
func (b *builder) internetGateway(x *vpcIndex) error {
	rns := RouterNS(x.v.ID)
	ilink := shortLink('v', x.v.ID)
	if err := b.claimLink(InternetNS, ilink, x.v.ID); err != nil {
		return err
	}
	r, inet := b.ns(rns), b.ns(InternetNS)
	mac := igwMAC(x.v.ID)
	r.veths[igwLink] = network.Veth{NS: rns, Name: igwLink, MAC: mac, PeerNS: InternetNS, PeerName: ilink}
	r.links[igwLink] = true
	r.sysctls["net.ipv4.conf."+igwLink+".rp_filter"] = "0"
	inet.links[ilink] = true
	inet.proxyARP(ilink)
	for _, e := range x.v.ENIs {
		if _, ok := x.wired[e.ID]; !ok {
			continue
		}
		for _, priv := range e.PrivateIPs {
			if pub, ok := e.PublicIPs[priv]; ok && pub.Is4() {
				inet.addRoute(network.Route{Dst: netip.PrefixFrom(pub, hostLen), Dev: ilink})
				inet.setNeigh(network.Neigh{Dev: ilink, IP: pub, MAC: mac})
			}
		}
	}
	return nil
}

// peering adds this VPC's end of a peering link. The requester's side
// creates the veth. Each end carries its router's DNS address, so that
// ARP requests across the link come from an address the other router
// does not have (every router has the IMDS address).
func (b *builder) peering(x *vpcIndex, p *desired.Peering) error {
	rns := RouterNS(x.v.ID)
	link := shortLink('p', p.ID)
	if err := b.claimLink(rns, link, p.ID); err != nil {
		return err
	}
	r := b.ns(rns)
	r.links[link] = true
	r.proxyARP(link)
	if len(x.v.CIDRs) > 0 && x.v.CIDRs[0].Addr().Is4() {
		r.addrs[linkAddr{link, netip.PrefixFrom(desired.DNSServer(x.v.CIDRs[0]), hostLen)}] = true
	}
	if p.RequesterVPC == x.v.ID {
		r.veths[link] = network.Veth{NS: rns, Name: link, PeerNS: RouterNS(p.AccepterVPC), PeerName: link}
	}
	return nil
}

// routeTable fills kernel table id with the route table's routes. Without a
// default route, one that drops is added: a route table's lookup must not
// fall through to the next policy rule.
func (b *builder) routeTable(x *vpcIndex, rt *desired.RouteTable, id int) {
	r := b.ns(RouterNS(x.v.ID))
	hasDefault := false
	for _, rr := range rt.Routes {
		if !rr.Dst.Addr().Is4() || rr.Target == desired.TargetLocal {
			continue
		}
		kr := b.target(x, rr)
		kr.Table, kr.Dst = id, rr.Dst.Masked()
		r.addRoute(kr)
		hasDefault = hasDefault || kr.Dst.Bits() == 0
	}
	if !hasDefault {
		r.addRoute(network.Route{Table: id, Dst: anyV4, Type: network.Blackhole})
	}
}

// target resolves a route's target to a kernel route (without table and
// destination); a target that is not there is a blackhole, as AWS shows it.
func (b *builder) target(x *vpcIndex, rr desired.Route) network.Route {
	blackhole := network.Route{Type: network.Blackhole}
	viaENI := func(id string) network.Route {
		e, link := x.enis[id], x.wired[id]
		if e == nil || link == "" || len(e.PrivateIPs) == 0 || !e.PrivateIPs[0].Is4() {
			return blackhole
		}
		return network.Route{Via: e.PrivateIPs[0], Dev: link}
	}
	switch rr.Target {
	case desired.TargetIGW:
		if rr.TargetID == x.v.InternetGateway {
			return network.Route{Dev: igwLink}
		}
	case desired.TargetNAT:
		if n := x.nats[rr.TargetID]; n != nil {
			return viaENI(n.ENI)
		}
	case desired.TargetENI:
		return viaENI(rr.TargetID)
	case desired.TargetPeering:
		for _, p := range b.peers[x.v.ID] {
			if p.ID == rr.TargetID {
				return network.Route{Dev: shortLink('p', p.ID)}
			}
		}
	}
	return blackhole
}

// groupMembers returns the private addresses of the ENIs that carry group,
// in vpc and the VPCs peered with it.
func (b *builder) groupMembers(v *desired.VPC, group string) []netip.Prefix {
	vpcs := []*desired.VPC{v}
	for _, p := range b.peers[v.ID] {
		other := p.AccepterVPC
		if other == v.ID {
			other = p.RequesterVPC
		}
		vpcs = append(vpcs, b.vpcs[other])
	}
	var out []netip.Prefix
	for _, pv := range vpcs {
		for _, e := range pv.ENIs {
			if !slices.Contains(e.Groups, group) {
				continue
			}
			for _, ip := range e.PrivateIPs {
				if ip.Is4() {
					out = append(out, netip.PrefixFrom(ip, hostLen))
				}
			}
		}
	}
	return out
}

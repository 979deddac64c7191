// Package reachability answers "can A reach B on port P, and if not, what
// stops it?" from the same desired.World the data plane compiles into the
// kernel, by the rules controllers/vpc enforces there (its README): the
// sender's security group egress, the network ACLs at each interface the
// packet leaves or enters (stateless, so the reply is checked too, on the
// client's ephemeral ports), the route tables (the reply needs a route
// back), the internet gateway's one-to-one NAT of public addresses, NAT
// gateways, peering connections, appliances behind an ENI route, and the
// receiver's security group ingress. The answer names the rule, entry or
// missing route that decides, as AWS's Reachability Analyzer does.
package reachability

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/cloudbox/cloudbox/desired"
)

// Query asks whether From can open a connection to To.
type Query struct {
	// From and To are an instance id (its primary interface), a network
	// interface id, a private or public IPv4 address, a DNS name a
	// service publishes (an RDS or ElastiCache endpoint), or "internet"
	// (a client on the simulated internet; any other address outside the
	// VPCs is one too).
	From, To string
	// Protocol is tcp (the default), udp or icmp (an echo request).
	Protocol string
	// Port is the destination port, for tcp and udp.
	Port int
}

// Step is one component the packet meets, in path order.
type Step struct {
	// Component is security-group, network-acl, route-table,
	// internet-gateway, nat-gateway, peering-connection,
	// network-interface, instance or cluster.
	Component string `json:"component"`
	ID        string `json:"id,omitempty"`
	// Rule names the deciding rule: an sgr- id, a network ACL entry's
	// number ("100", "*" for the final deny) or a route's destination.
	Rule string `json:"rule,omitempty"`
	// Direction is egress, ingress, outbound, inbound, or reply-* for the
	// return traffic a stateless check sees.
	Direction string `json:"direction,omitempty"`
	Allowed   bool   `json:"allowed"`
	Detail    string `json:"detail"`
}

// Result is the answer: reachable or not, why, and the path walked.
type Result struct {
	Reachable   bool   `json:"reachable"`
	Explanation string `json:"explanation"`
	Path        []Step `json:"path"`
}

// InternetClient is the address a client on the simulated internet sends
// from (`cloudbox exec internet`): the first address of the internet
// namespace's loopback.
var InternetClient = netip.MustParseAddr("198.18.0.10")

// imds is the instance metadata service's address, answered by each VPC's
// router itself.
var imds = netip.MustParseAddr("169.254.169.254")

// Linux's default ephemeral ports (net.ipv4.ip_local_port_range): the
// client's source port, so the destination port of every reply. The NAT
// gateway's masquerade keeps it when it can.
const ephemeralLow, ephemeralHigh = 32768, 60999

// maxHops bounds the routers a path may pass through appliances.
const maxHops = 8

// end is one end of the query, resolved.
type end struct {
	label    string
	internet bool
	addr     netip.Addr // private address of eni, or the internet address
	public   bool       // the query named eni's public address
	eni      *desired.ENI
	vpc      *desired.VPC
	subnet   *desired.Subnet
}

// Analyze answers q in world w. An error means the query names nothing
// the world has or is malformed; an unreachable destination is a Result.
func Analyze(w *desired.World, q Query) (Result, error) {
	t := &tracer{w: w}
	switch strings.ToLower(q.Protocol) {
	case "", "tcp", "6":
		t.proto, t.protoName = desired.ProtoTCP, "tcp"
	case "udp", "17":
		t.proto, t.protoName = desired.ProtoUDP, "udp"
	case "icmp", "1":
		t.proto, t.protoName = desired.ProtoICMP, "icmp"
	default:
		return Result{}, fmt.Errorf("protocol %q: tcp, udp or icmp", q.Protocol)
	}
	if t.proto != desired.ProtoICMP && (q.Port < 1 || q.Port > 65535) {
		return Result{}, fmt.Errorf("port %d: 1 to 65535", q.Port)
	}
	t.port = q.Port
	src, err := t.resolve(q.From, nil)
	if err != nil {
		return Result{}, fmt.Errorf("from: %w", err)
	}
	dst, err := t.resolve(q.To, src.vpc)
	if err != nil {
		return Result{}, fmt.Errorf("to: %w", err)
	}
	if src.internet && dst.internet {
		return Result{}, fmt.Errorf("both ends are on the internet")
	}
	if src.public {
		return Result{}, fmt.Errorf("from: %s is a public address; name the instance or its private address", q.From)
	}
	ok := t.trace(src, dst)
	r := Result{Reachable: ok, Path: t.steps}
	if ok {
		r.Explanation = fmt.Sprintf("%s reaches %s on %s", src.label, dst.label, t.service())
	} else {
		last := t.steps[len(t.steps)-1]
		r.Explanation = fmt.Sprintf("%s cannot reach %s on %s: %s", src.label, dst.label, t.service(), last.Detail)
	}
	return r, nil
}

type tracer struct {
	w         *desired.World
	proto     int
	protoName string
	port      int
	steps     []Step
	hops      int
	// crossings are the network ACL checks of the forward path, replayed
	// in reverse for the reply.
	crossings []crossing
}

type crossing struct {
	acl      *desired.NetworkACL
	outbound bool
	remote   netip.Addr
}

func (t *tracer) service() string {
	if t.proto == desired.ProtoICMP {
		return "icmp (echo)"
	}
	return fmt.Sprintf("%s/%d", t.protoName, t.port)
}

func (t *tracer) step(s Step) bool {
	t.steps = append(t.steps, s)
	return s.Allowed
}

// resolve finds what s names. from is the source's VPC, for names that
// resolve differently inside it (split horizon).
func (t *tracer) resolve(s string, from *desired.VPC) (end, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return end{}, fmt.Errorf("empty")
	case strings.EqualFold(s, "internet"):
		return end{label: "the internet (" + InternetClient.String() + ")", internet: true, addr: InternetClient}, nil
	case strings.HasPrefix(s, "i-"):
		in := t.w.FindInstance(s)
		if in == nil || len(in.ENIs) == 0 {
			return end{}, fmt.Errorf("no instance %s with a network interface", s)
		}
		e, err := t.eniEnd(in.ENIs[0])
		e.label = s
		return e, err
	case strings.HasPrefix(s, "eni-"):
		return t.eniEnd(s)
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return t.addrEnd(a, s)
	}
	for _, n := range t.w.Names {
		if !strings.EqualFold(strings.TrimSuffix(s, "."), n.Name) || len(n.Addrs) == 0 {
			continue
		}
		vpc := ""
		if from != nil {
			vpc = from.ID
		}
		if n.Resolves(vpc) || vpc == "" {
			e, err := t.addrEnd(n.Addrs[0], s)
			if err == nil {
				e.label = fmt.Sprintf("%s (%s)", s, n.Addrs[0])
			}
			return e, err
		}
	}
	return end{}, fmt.Errorf("%q is no instance, network interface, address or published name", s)
}

func (t *tracer) eniEnd(id string) (end, error) {
	e, v := t.w.FindENI(id)
	if e == nil || len(e.PrivateIPs) == 0 {
		return end{}, fmt.Errorf("no network interface %s", id)
	}
	return end{label: id, addr: e.PrivateIPs[0], eni: e, vpc: v, subnet: subnetOf(v, e.Subnet)}, nil
}

func (t *tracer) addrEnd(a netip.Addr, label string) (end, error) {
	if !a.Is4() {
		return end{}, fmt.Errorf("%s: IPv4 only", label)
	}
	for _, v := range t.w.VPCs {
		for _, e := range v.ENIs {
			if slices.Contains(e.PrivateIPs, a) {
				return end{label: label, addr: a, eni: e, vpc: v, subnet: subnetOf(v, e.Subnet)}, nil
			}
			for priv, pub := range e.PublicIPs {
				if pub == a {
					return end{label: label, addr: priv, public: true, eni: e, vpc: v, subnet: subnetOf(v, e.Subnet)}, nil
				}
			}
		}
	}
	for _, v := range t.w.VPCs {
		if inVPC(v, a) {
			// A VPC address no interface has: the router drops it.
			return end{label: label, addr: a, vpc: v}, nil
		}
	}
	return end{label: label, internet: true, addr: a}, nil
}

// trace walks the forward path from src to dst, then the reply.
func (t *tracer) trace(src, dst end) bool {
	if src.internet {
		return t.fromInternet(src.addr, dst) && t.reply()
	}
	if !t.alive(src) {
		return false
	}
	var dstAddr netip.Addr
	switch {
	case dst.internet:
		dstAddr = dst.addr
	case dst.public:
		dstAddr = publicOf(dst.eni, dst.addr)
	default:
		dstAddr = dst.addr
	}
	if dst.vpc == src.vpc && !dst.public && routerAddr(src.vpc, dstAddr) {
		return t.step(Step{Component: "network-interface", ID: src.eni.ID, Allowed: true,
			Detail: dstAddr.String() + " is the VPC router's own (resolver, gateway or instance metadata): no security group or network ACL applies"})
	}
	if !t.sgOut(src.eni, dstAddr, dst) {
		return false
	}
	return t.forward(src.vpc, src.subnet, src.eni, src.addr, dstAddr, dst) && t.reply()
}

// alive checks that an end is an interface in use by something running.
func (t *tracer) alive(e end) bool {
	if e.eni == nil {
		return t.step(Step{Component: "network-interface", Allowed: false, Detail: "no network interface has " + e.addr.String()})
	}
	if e.eni.OwnerKind == desired.OwnerNone {
		return t.step(Step{Component: "network-interface", ID: e.eni.ID, Allowed: false, Detail: e.eni.ID + " is not attached to anything"})
	}
	if e.eni.OwnerKind == desired.OwnerInstance {
		if in := t.w.FindInstance(e.eni.OwnerID); in != nil && in.State != "running" {
			return t.step(Step{Component: "instance", ID: in.ID, Allowed: false, Detail: in.ID + " is " + in.State + ", not running"})
		}
	}
	return true
}

// forward routes a packet that left interface from (in subnet, VPC v)
// with source srcAddr toward dstAddr.
func (t *tracer) forward(v *desired.VPC, subnet *desired.Subnet, from *desired.ENI, srcAddr, dstAddr netip.Addr, dst end) bool {
	// Appliances routing to each other could send a packet round forever;
	// the kernel's TTL ends that, and so does this.
	if subnet == nil {
		return t.step(Step{Component: "network-interface", ID: from.ID, Allowed: false, Detail: from.ID + " is in no known subnet"})
	}
	if t.hops++; t.hops > maxHops {
		return t.step(Step{Component: "route-table", ID: subnet.RouteTable, Allowed: false, Detail: "a routing loop: the packet passes more than " + strconv.Itoa(maxHops) + " appliances"})
	}
	if !t.nacl(subnet, true, dstAddr, t.port) {
		return false
	}
	if inVPC(v, dstAddr) {
		e := eniWith(v, dstAddr)
		if e == nil {
			return t.step(Step{Component: "route-table", ID: subnet.RouteTable, Rule: "local", Allowed: false,
				Detail: "no network interface in " + v.ID + " has " + dstAddr.String() + " (the router drops it)"})
		}
		t.step(Step{Component: "route-table", ID: subnet.RouteTable, Rule: "local", Allowed: true, Detail: dstAddr.String() + " is local to " + v.ID})
		return t.deliver(v, from, srcAddr, e)
	}
	rt := routeTable(v, subnet.RouteTable)
	r, ok := lookup(rt, dstAddr)
	if !ok {
		return t.step(Step{Component: "route-table", ID: subnet.RouteTable, Allowed: false,
			Detail: fmt.Sprintf("route table %s of %s has no route to %s", subnet.RouteTable, subnet.ID, dstAddr)})
	}
	rule := r.Dst.String() + " -> " + cmpOr(r.TargetID, string(r.Target))
	switch r.Target {
	case desired.TargetIGW:
		if v.InternetGateway == "" || v.InternetGateway != r.TargetID {
			return t.step(Step{Component: "route-table", ID: rt.ID, Rule: rule, Allowed: false,
				Detail: fmt.Sprintf("route %s in %s is a blackhole: %s is not attached to %s", rule, rt.ID, r.TargetID, v.ID)})
		}
		t.step(Step{Component: "route-table", ID: rt.ID, Rule: rule, Allowed: true, Detail: "to the internet gateway " + r.TargetID})
		pub, has := from.PublicIPs[srcAddr]
		if !has {
			return t.step(Step{Component: "internet-gateway", ID: r.TargetID, Allowed: false,
				Detail: fmt.Sprintf("%s has no public IP: the internet gateway forwards only addresses it maps to one", srcAddr)})
		}
		t.step(Step{Component: "internet-gateway", ID: r.TargetID, Allowed: true, Detail: fmt.Sprintf("translates %s to %s", srcAddr, pub)})
		if dst.internet {
			return t.step(Step{Component: "internet-gateway", ID: r.TargetID, Allowed: true, Detail: dstAddr.String() + " is on the internet"})
		}
		// To another interface's public address: back in from the internet.
		return t.fromInternet(pub, dst)
	case desired.TargetNAT:
		var nat *desired.NATGateway
		for _, n := range v.NATGateways {
			if n.ID == r.TargetID {
				nat = n
			}
		}
		if nat == nil {
			return t.step(Step{Component: "route-table", ID: rt.ID, Rule: rule, Allowed: false,
				Detail: fmt.Sprintf("route %s in %s is a blackhole: NAT gateway %s is not available", rule, rt.ID, r.TargetID)})
		}
		t.step(Step{Component: "route-table", ID: rt.ID, Rule: rule, Allowed: true, Detail: "to the NAT gateway " + nat.ID})
		natENI, _ := t.w.FindENI(nat.ENI)
		natSubnet := subnetOf(v, nat.Subnet)
		if natENI == nil || natSubnet == nil || len(natENI.PrivateIPs) == 0 {
			return t.step(Step{Component: "nat-gateway", ID: nat.ID, Allowed: false, Detail: nat.ID + " has no interface"})
		}
		if !t.nacl(natSubnet, false, srcAddr, t.port) {
			return false
		}
		t.step(Step{Component: "nat-gateway", ID: nat.ID, Allowed: true, Detail: fmt.Sprintf("masquerades %s as %s", srcAddr, natENI.PrivateIPs[0])})
		return t.forward(v, natSubnet, natENI, natENI.PrivateIPs[0], dstAddr, dst)
	case desired.TargetPeering:
		var pc *desired.Peering
		for _, p := range t.w.Peerings {
			if p.ID == r.TargetID && (p.RequesterVPC == v.ID || p.AccepterVPC == v.ID) {
				pc = p
			}
		}
		if pc == nil {
			return t.step(Step{Component: "route-table", ID: rt.ID, Rule: rule, Allowed: false,
				Detail: fmt.Sprintf("route %s in %s is a blackhole: peering %s is not active", rule, rt.ID, r.TargetID)})
		}
		other := pc.AccepterVPC
		if other == v.ID {
			other = pc.RequesterVPC
		}
		ov := t.w.FindVPC(other)
		t.step(Step{Component: "route-table", ID: rt.ID, Rule: rule, Allowed: true, Detail: "to the peering connection " + pc.ID})
		if ov == nil || !inVPC(ov, dstAddr) {
			return t.step(Step{Component: "peering-connection", ID: pc.ID, Allowed: false,
				Detail: fmt.Sprintf("%s is not in the peer VPC %s: a peering carries only traffic between the two VPCs", dstAddr, other)})
		}
		e := eniWith(ov, dstAddr)
		if e == nil {
			return t.step(Step{Component: "peering-connection", ID: pc.ID, Allowed: false,
				Detail: "no network interface in " + other + " has " + dstAddr.String()})
		}
		t.step(Step{Component: "peering-connection", ID: pc.ID, Allowed: true, Detail: "into " + other})
		return t.deliver(ov, from, srcAddr, e)
	case desired.TargetENI:
		app, av := t.w.FindENI(r.TargetID)
		if app == nil || av != v || app.OwnerKind == desired.OwnerNone || len(app.PrivateIPs) == 0 {
			return t.step(Step{Component: "route-table", ID: rt.ID, Rule: rule, Allowed: false,
				Detail: fmt.Sprintf("route %s in %s is a blackhole: %s is not attached", rule, rt.ID, r.TargetID)})
		}
		t.step(Step{Component: "route-table", ID: rt.ID, Rule: rule, Allowed: true, Detail: "to the appliance " + app.ID + " (" + app.OwnerID + ")"})
		if app.SourceDestCheck {
			return t.step(Step{Component: "network-interface", ID: app.ID, Allowed: false,
				Detail: app.ID + " has the source/destination check on: it drops packets not addressed to it (turn it off for a NAT instance)"})
		}
		appSubnet := subnetOf(v, app.Subnet)
		if !t.nacl(appSubnet, false, srcAddr, t.port) || !t.sgIn(app, srcAddr, from) {
			return false
		}
		t.step(Step{Component: "network-interface", ID: app.ID, Allowed: true,
			Detail: fmt.Sprintf("assuming %s forwards and masquerades as a NAT instance does", app.OwnerID)})
		if !t.sgOut(app, dstAddr, dst) {
			return false
		}
		return t.forward(v, appSubnet, app, app.PrivateIPs[0], dstAddr, dst)
	default:
		return t.step(Step{Component: "route-table", ID: rt.ID, Rule: rule, Allowed: false,
			Detail: fmt.Sprintf("route %s in %s is a blackhole", rule, rt.ID)})
	}
}

// deliver hands a packet from interface from (source srcAddr) to
// interface to in VPC v: the receiver's ACL, security groups, and a route
// back for the reply.
func (t *tracer) deliver(v *desired.VPC, from *desired.ENI, srcAddr netip.Addr, to *desired.ENI) bool {
	target := end{label: to.ID, addr: to.PrivateIPs[0], eni: to, vpc: v, subnet: subnetOf(v, to.Subnet)}
	if !t.alive(target) {
		return false
	}
	if !t.nacl(target.subnet, false, srcAddr, t.port) {
		return false
	}
	if !t.sgIn(to, srcAddr, from) {
		return false
	}
	return t.routeBack(v, target.subnet, srcAddr)
}

// fromInternet delivers a packet from internet address client to dst's
// public address.
func (t *tracer) fromInternet(client netip.Addr, dst end) bool {
	if dst.eni == nil {
		return t.step(Step{Component: "internet-gateway", Allowed: false, Detail: dst.addr.String() + " is not an address the internet can reach"})
	}
	pub, has := dst.eni.PublicIPs[dst.addr]
	if !has {
		return t.step(Step{Component: "network-interface", ID: dst.eni.ID, Allowed: false,
			Detail: fmt.Sprintf("%s has no public IP: the internet cannot reach it", dst.label)})
	}
	if dst.vpc.InternetGateway == "" {
		return t.step(Step{Component: "internet-gateway", Allowed: false, Detail: dst.vpc.ID + " has no internet gateway attached"})
	}
	t.step(Step{Component: "internet-gateway", ID: dst.vpc.InternetGateway, Allowed: true, Detail: fmt.Sprintf("translates %s to %s", pub, dst.addr)})
	if !t.alive(dst) || !t.nacl(dst.subnet, false, client, t.port) || !t.sgIn(dst.eni, client, nil) {
		return false
	}
	return t.routeBack(dst.vpc, dst.subnet, client)
}

// routeBack checks that the receiver's subnet routes the reply to client
// the way the packet came: the router's reverse-path check drops it
// otherwise.
func (t *tracer) routeBack(v *desired.VPC, subnet *desired.Subnet, client netip.Addr) bool {
	if inVPC(v, client) {
		return true
	}
	rt := routeTable(v, subnet.RouteTable)
	r, ok := lookup(rt, client)
	if !ok {
		return t.step(Step{Component: "route-table", ID: subnet.RouteTable, Direction: "reply", Allowed: false,
			Detail: fmt.Sprintf("route table %s of %s has no route back to %s", subnet.RouteTable, subnet.ID, client)})
	}
	rule := r.Dst.String() + " -> " + cmpOr(r.TargetID, string(r.Target))
	okBack := false
	switch r.Target {
	case desired.TargetIGW:
		okBack = r.TargetID == v.InternetGateway && v.InternetGateway != ""
	case desired.TargetPeering:
		for _, p := range t.w.Peerings {
			other := p.AccepterVPC
			if other == v.ID {
				other = p.RequesterVPC
			}
			if ov := t.w.FindVPC(other); p.ID == r.TargetID && ov != nil && inVPC(ov, client) {
				okBack = true
			}
		}
	case desired.TargetNAT, desired.TargetENI:
		// A reply to an address the packet came from directly must not
		// go through a translator.
		okBack = false
	}
	return t.step(Step{Component: "route-table", ID: rt.ID, Rule: rule, Direction: "reply", Allowed: okBack,
		Detail: map[bool]string{true: "the reply to " + client.String() + " goes back the same way",
			false: fmt.Sprintf("the reply to %s would leave by %s, not the way the packet came (route table %s)", client, rule, rt.ID)}[okBack]})
}

// reply replays the forward path's network ACL checks for the return
// traffic: the other direction, to the client's ephemeral ports.
func (t *tracer) reply() bool {
	for i := len(t.crossings) - 1; i >= 0; i-- {
		c := t.crossings[i]
		if !t.naclRange(c.acl, !c.outbound, c.remote) {
			return false
		}
	}
	return true
}

// nacl checks subnet's network ACL for a packet leaving (outbound, to
// remote) or entering (from remote) an interface in it.
func (t *tracer) nacl(subnet *desired.Subnet, outbound bool, remote netip.Addr, port int) bool {
	if subnet == nil {
		return true
	}
	acl := t.acl(subnet)
	if acl == nil || subnet.CIDR.Masked().Contains(remote) {
		return true // no ACL, or the traffic stays in the subnet
	}
	t.crossings = append(t.crossings, crossing{acl: acl, outbound: outbound, remote: remote})
	entries, dir, word := acl.Ingress, "inbound", "from"
	if outbound {
		entries, dir, word = acl.Egress, "outbound", "to"
	}
	en := firstEntry(entries, t.proto, port, icmpType(t.proto, false), remote)
	rule := "*"
	allowed := false
	if en != nil {
		rule, allowed = strconv.Itoa(en.Number), en.Allow
	}
	verb := map[bool]string{true: "allows", false: "denies"}[allowed]
	return t.step(Step{Component: "network-acl", ID: acl.ID, Rule: rule, Direction: dir, Allowed: allowed,
		Detail: fmt.Sprintf("network ACL %s %s rule %s %s %s %s %s", acl.ID, dir, rule, verb, t.service(), word, remote)})
}

// naclRange checks a reply: every ephemeral port must pass, since the
// client's is any of them.
func (t *tracer) naclRange(acl *desired.NetworkACL, outbound bool, remote netip.Addr) bool {
	entries, dir, word := acl.Ingress, "reply-inbound", "from"
	if outbound {
		entries, dir, word = acl.Egress, "reply-outbound", "to"
	}
	what := fmt.Sprintf("%s replies", t.protoName)
	if t.proto == desired.ProtoICMP {
		en := firstEntry(entries, t.proto, 0, icmpType(t.proto, true), remote)
		return t.naclReplyStep(acl, dir, en, "icmp echo replies", word, remote)
	}
	var deny *desired.ACLEntry
	denied := false
	var allowRule *desired.ACLEntry
	for p := ephemeralLow; p <= ephemeralHigh; p++ {
		en := firstEntry(entries, t.proto, p, -1, remote)
		if en == nil || !en.Allow {
			denied, deny = true, en
			break
		}
		allowRule = en
	}
	if !denied {
		return t.naclReplyStep(acl, dir, allowRule, fmt.Sprintf("%s on ports %d-%d", what, ephemeralLow, ephemeralHigh), word, remote)
	}
	return t.naclReplyStep(acl, dir, deny, fmt.Sprintf("%s to the client's ephemeral ports (%d-%d)", what, ephemeralLow, ephemeralHigh), word, remote)
}

func (t *tracer) naclReplyStep(acl *desired.NetworkACL, dir string, en *desired.ACLEntry, what, word string, remote netip.Addr) bool {
	rule, allowed := "*", false
	if en != nil {
		rule, allowed = strconv.Itoa(en.Number), en.Allow
	}
	verb := map[bool]string{true: "allows", false: "denies"}[allowed]
	return t.step(Step{Component: "network-acl", ID: acl.ID, Rule: rule, Direction: dir, Allowed: allowed,
		Detail: fmt.Sprintf("network ACL %s %s rule %s %s %s %s %s (network ACLs are stateless)", acl.ID, strings.TrimPrefix(dir, "reply-"), rule, verb, what, word, remote)})
}

// sgOut checks the egress rules of e's security groups toward dstAddr.
func (t *tracer) sgOut(e *desired.ENI, dstAddr netip.Addr, dst end) bool {
	if e.OwnerKind == desired.OwnerNATGateway {
		return true
	}
	if dst.eni != nil && e.Cluster != "" && e.Cluster == dst.eni.Cluster {
		return t.step(Step{Component: "cluster", ID: e.Cluster, Allowed: true,
			Detail: "nodes of " + e.Cluster + " reach each other whatever their security groups say (the service's own replication)"})
	}
	return t.sg(e, true, dstAddr)
}

// sgIn checks the ingress rules of e's security groups from srcAddr.
func (t *tracer) sgIn(e *desired.ENI, srcAddr netip.Addr, from *desired.ENI) bool {
	if e.OwnerKind == desired.OwnerNATGateway {
		return true
	}
	if from != nil && e.Cluster != "" && e.Cluster == from.Cluster {
		return true // said at egress
	}
	return t.sg(e, false, srcAddr)
}

func (t *tracer) sg(e *desired.ENI, egress bool, peer netip.Addr) bool {
	dir, word := "ingress", "from"
	if egress {
		dir, word = "egress", "to"
	}
	groups := slices.Compact(slices.Sorted(slices.Values(e.Groups)))
	for _, g := range groups {
		sg := t.group(g)
		if sg == nil {
			continue
		}
		rules := sg.Ingress
		if egress {
			rules = sg.Egress
		}
		for _, r := range rules {
			if t.sgMatch(r, peer) {
				return t.step(Step{Component: "security-group", ID: g, Rule: r.ID, Direction: dir, Allowed: true,
					Detail: fmt.Sprintf("security group %s %s rule %s allows %s %s %s", g, dir, r.ID, t.service(), word, peer)})
			}
		}
	}
	return t.step(Step{Component: "security-group", ID: strings.Join(groups, ","), Direction: dir, Allowed: false,
		Detail: fmt.Sprintf("no %s rule of %s's security groups (%s) allows %s %s %s", dir, e.ID, strings.Join(groups, ", "), t.service(), word, peer)})
}

func (t *tracer) sgMatch(r desired.SGRule, peer netip.Addr) bool {
	// For ICMP, a security group rule's ports are the type and code.
	if !protoMatches(r.Protocol, r.FromPort, r.ToPort, r.FromPort, r.ToPort, t.proto, t.port, icmpType(t.proto, false)) {
		return false
	}
	for _, c := range r.CIDRs {
		if c.Addr().Is4() && c.Masked().Contains(peer) {
			return true
		}
	}
	for _, g := range r.Groups {
		if t.member(g, peer) {
			return true
		}
	}
	return false
}

// member reports whether addr is a private address of an interface in
// group g (in its VPC or a peered one: the kernel's set of the group).
func (t *tracer) member(g string, addr netip.Addr) bool {
	for _, v := range t.w.VPCs {
		for _, e := range v.ENIs {
			if slices.Contains(e.Groups, g) && slices.Contains(e.PrivateIPs, addr) {
				return true
			}
		}
	}
	return false
}

func (t *tracer) group(id string) *desired.SecurityGroup {
	for _, v := range t.w.VPCs {
		for _, g := range v.SecurityGroups {
			if g.ID == id {
				return g
			}
		}
	}
	return nil
}

func (t *tracer) acl(s *desired.Subnet) *desired.NetworkACL {
	for _, v := range t.w.VPCs {
		for _, a := range v.NetworkACLs {
			if a.ID == s.NetworkACL {
				return a
			}
		}
	}
	return nil
}

// firstEntry is the first entry, in rule-number order, that matches; nil
// means the final deny (*).
func firstEntry(entries []desired.ACLEntry, proto, port, icmp int, remote netip.Addr) *desired.ACLEntry {
	for i := range entries {
		en := &entries[i]
		if !en.CIDR.Addr().Is4() || !en.CIDR.Masked().Contains(remote) {
			continue
		}
		if protoMatches(en.Protocol, en.FromPort, en.ToPort, en.ICMPType, en.ICMPCode, proto, port, icmp) {
			return en
		}
	}
	return nil
}

// protoMatches is controllers/vpc's protoMatch as a predicate: a rule of
// protocol rp with ports from..to (TCP, UDP) or ICMP type and code (-1:
// any) against a packet of protocol proto to port, or of ICMP type icmp
// and code 0.
func protoMatches(rp, from, to, rtype, rcode, proto, port, icmp int) bool {
	switch {
	case rp == desired.ProtoAll || rp < 0 || rp > 255:
		return true
	case rp != proto:
		return false
	case rp == desired.ProtoTCP || rp == desired.ProtoUDP:
		if from < 0 || to < 0 || from > 65535 || (from == 0 && to >= 65535) {
			return true
		}
		return port >= from && port <= min(to, 65535)
	case rp == desired.ProtoICMP:
		if rtype < 0 || rtype > 255 {
			return true
		}
		return rtype == icmp && (rcode < 0 || rcode > 255 || rcode == 0)
	}
	return true
}

// icmpType is the echo request's type, or the echo reply's.
func icmpType(proto int, reply bool) int {
	if proto != desired.ProtoICMP {
		return -1
	}
	if reply {
		return 0
	}
	return 8
}

func lookup(rt *desired.RouteTable, a netip.Addr) (desired.Route, bool) {
	var best desired.Route
	found := false
	if rt == nil {
		return best, false
	}
	for _, r := range rt.Routes {
		if r.Dst.Addr().Is4() && r.Dst.Masked().Contains(a) && (!found || r.Dst.Bits() > best.Dst.Bits()) {
			best, found = r, true
		}
	}
	return best, found
}

func routeTable(v *desired.VPC, id string) *desired.RouteTable {
	for _, rt := range v.RouteTables {
		if rt.ID == id {
			return rt
		}
	}
	return nil
}

func subnetOf(v *desired.VPC, id string) *desired.Subnet {
	if v == nil {
		return nil
	}
	for _, s := range v.Subnets {
		if s.ID == id {
			return s
		}
	}
	return nil
}

func eniWith(v *desired.VPC, a netip.Addr) *desired.ENI {
	for _, e := range v.ENIs {
		if slices.Contains(e.PrivateIPs, a) {
			return e
		}
	}
	return nil
}

func inVPC(v *desired.VPC, a netip.Addr) bool {
	for _, c := range v.CIDRs {
		if c.Masked().Contains(a) {
			return true
		}
	}
	return false
}

// routerAddr reports whether a is one of the VPC router's own addresses:
// a subnet's gateway, the resolver, the metadata service.
func routerAddr(v *desired.VPC, a netip.Addr) bool {
	if a == imds || (len(v.CIDRs) > 0 && a == desired.DNSServer(v.CIDRs[0])) {
		return true
	}
	for _, s := range v.Subnets {
		if a == s.Gateway() {
			return true
		}
	}
	return false
}

func publicOf(e *desired.ENI, priv netip.Addr) netip.Addr {
	if p, ok := e.PublicIPs[priv]; ok {
		return p
	}
	return priv
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Package network is cloudbox's only door to the kernel's networking: the
// network namespaces of one daemon's sealed world, the veth pairs that are
// ENIs, addresses, routes, policy rules, neighbours, per-namespace sysctls,
// the nftables table of each namespace, and sockets opened inside a
// namespace.
//
// Controllers use the Network interface; Linux implements it with netlink
// (no ip or nft binaries needed) and Fake keeps the same state in memory
// for unit tests.
//
// Safety: every operation names one of the daemon's own namespaces; there is
// no way to address the host's namespace through Network. VPC and simulated
// public addresses therefore never reach the host's routing table, which is
// DESIGN.md's safety invariant.
package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"

	"github.com/cloudbox/cloudbox/dataplane/nft"
)

// Network is what the rest of cloudbox may do to the kernel's networking.
// Namespaces are named by their short name ("r-vpc-1a2b"); the
// implementation adds the daemon's prefix. Operations that create are
// idempotent (controllers are level-triggered and call them again after a
// restart), and deletions of something already absent succeed.
type Network interface {
	// EnsureNamespace creates the namespace if it does not exist, with its
	// loopback up.
	EnsureNamespace(ns string) error
	// DeleteNamespace removes the namespace; its links go with it (a veth
	// whose peer is elsewhere disappears on both sides).
	DeleteNamespace(ns string) error
	// Namespaces lists the daemon's namespaces (short names), for the
	// controllers to remove what the store no longer knows after a restart.
	Namespaces() ([]string, error)

	// EnsureVeth creates a veth pair with one end in v.NS and the other in
	// v.PeerNS, both up, and corrects MAC and MTU of an existing pair.
	EnsureVeth(v Veth) error
	// DeleteLink deletes a link (both ends for a veth).
	DeleteLink(ns, link string) error
	// SetLinkUp brings a link up or down.
	SetLinkUp(ns, link string, up bool) error
	// SetMTU changes a link's MTU.
	SetMTU(ns, link string, mtu int) error
	// AddAddr puts an address with its prefix length on a link.
	AddAddr(ns, link string, addr netip.Prefix) error
	// DelAddr removes an address from a link.
	DelAddr(ns, link string, addr netip.Prefix) error
	// Links describes the links of a namespace.
	Links(ns string) ([]Link, error)

	// ReplaceRoute adds a route or replaces the one with the same table and
	// destination.
	ReplaceRoute(ns string, r Route) error
	// DeleteRoute removes the route with r's table and destination.
	DeleteRoute(ns string, r Route) error
	// Routes lists the routes of one table (0 means main). Routes the kernel
	// adds itself (the prefix route of an address) are included.
	Routes(ns string, table int) ([]Route, error)
	// AddRule adds a policy routing rule unless an identical one exists.
	AddRule(ns string, r Rule) error
	// DeleteRule removes the identical rule.
	DeleteRule(ns string, r Rule) error
	// Rules lists the policy rules of a namespace, without the kernel's
	// default rules (local, main, default).
	Rules(ns string) ([]Rule, error)
	// SetNeigh adds or replaces a permanent neighbour or a proxy entry.
	SetNeigh(ns string, n Neigh) error
	// DeleteNeigh removes a neighbour or proxy entry.
	DeleteNeigh(ns string, n Neigh) error
	// SetSysctl writes a per-namespace sysctl, e.g. "net.ipv4.ip_forward" or
	// "net.ipv4.conf.ea.proxy_arp". Only keys under net.ipv4, net.ipv6 and
	// net.netfilter are accepted: other sysctls are global and would change
	// the host.
	SetSysctl(ns, key, value string) error
	// Sysctl reads a per-namespace sysctl.
	Sysctl(ns, key string) (string, error)

	// ApplyTable replaces the namespace's nftables table t.Name (family
	// inet) with t in one transaction.
	ApplyTable(ns string, t *nft.Table) error
	// DeleteTable removes the namespace's table if it exists.
	DeleteTable(ns, table string) error
	// Counters reads the counters of the counted rules of a table.
	Counters(ns, table string) (map[nft.RuleID]nft.Counter, error)

	// ListenTCP opens a TCP listener inside the namespace (engines: load
	// balancer nodes, DNS, databases). The socket stays in that namespace.
	ListenTCP(ns string, addr netip.AddrPort) (net.Listener, error)
	// ListenUDP opens a UDP socket inside the namespace.
	ListenUDP(ns string, addr netip.AddrPort) (net.PacketConn, error)
	// DialTCP connects from inside the namespace (health checks, proxies).
	DialTCP(ctx context.Context, ns string, addr netip.AddrPort) (net.Conn, error)
}

// Veth is a veth pair: an ENI is one, with Name "eth0" in its owner's
// namespace and PeerName "eni-..." in the VPC router's.
type Veth struct {
	NS   string
	Name string
	// MAC of the NS end; empty lets the kernel choose.
	MAC      net.HardwareAddr
	PeerNS   string
	PeerName string
	PeerMAC  net.HardwareAddr
	// MTU of both ends; 0 keeps the kernel's default (1500).
	MTU int
}

// Link describes a link as Links reports it.
type Link struct {
	Name  string
	Kind  string // "veth", "loopback", "dummy", ...
	MAC   net.HardwareAddr
	MTU   int
	Up    bool
	Addrs []netip.Prefix
}

// RouteType says what a route does with packets.
type RouteType string

// Route types. The zero value forwards.
const (
	Unicast     RouteType = ""
	Blackhole   RouteType = "blackhole"   // drop silently (a route table's blackhole route)
	Unreachable RouteType = "unreachable" // drop with "host unreachable"
	Prohibit    RouteType = "prohibit"    // drop with "administratively prohibited"
)

// MainTable is the kernel's main routing table, what Table 0 means.
const MainTable = 254

// Route is one route of one routing table.
type Route struct {
	Table int          // 0 means MainTable
	Dst   netip.Prefix // 0.0.0.0/0 for the default route
	Type  RouteType
	Via   netip.Addr // gateway; zero for an on-link route
	Dev   string     // output link; may be empty when Via resolves it
	Src   netip.Addr // preferred source address; optional
}

func (r Route) table() int {
	if r.Table == 0 {
		return MainTable
	}
	return r.Table
}

func (r Route) String() string {
	var b strings.Builder
	if r.Type != Unicast {
		b.WriteString(string(r.Type) + " ")
	}
	b.WriteString(r.Dst.String())
	if r.Via.IsValid() {
		b.WriteString(" via " + r.Via.String())
	}
	if r.Dev != "" {
		b.WriteString(" dev " + r.Dev)
	}
	if r.Src.IsValid() {
		b.WriteString(" src " + r.Src.String())
	}
	fmt.Fprintf(&b, " table %d", r.table())
	return b.String()
}

// Rule is a policy routing rule: packets matching From (and IIF when set)
// look up Table. A VPC router has one per subnet, keyed by the subnet's
// CIDR, pointing at the table of the subnet's route table.
type Rule struct {
	Priority int
	From     netip.Prefix // source prefix; zero value means any
	To       netip.Prefix // destination prefix; zero value means any
	IIF      string       // input link; empty means any
	Table    int
}

func (r Rule) String() string {
	s := fmt.Sprintf("%d:", r.Priority)
	if r.From.IsValid() {
		s += " from " + r.From.String()
	} else {
		s += " from all"
	}
	if r.To.IsValid() {
		s += " to " + r.To.String()
	}
	if r.IIF != "" {
		s += " iif " + r.IIF
	}
	return s + fmt.Sprintf(" lookup %d", r.Table)
}

func (r Rule) equal(o Rule) bool {
	return r.Priority == o.Priority && r.From == o.From && r.To == o.To && r.IIF == o.IIF && r.Table == o.Table
}

// Neigh is a permanent neighbour entry (IP -> MAC on Dev), so a router
// never has to ARP for an ENI it already knows; or, with Proxy, an entry
// telling the kernel to answer ARP for IP on Dev.
type Neigh struct {
	Dev   string
	IP    netip.Addr
	MAC   net.HardwareAddr // required unless Proxy
	Proxy bool
}

func (n Neigh) String() string {
	if n.Proxy {
		return "proxy " + n.IP.String() + " dev " + n.Dev
	}
	return n.IP.String() + " lladdr " + n.MAC.String() + " dev " + n.Dev
}

// Errors reported by both implementations.
var (
	ErrNoNamespace = errors.New("no such network namespace")
	ErrNoLink      = errors.New("no such link")
	ErrExists      = errors.New("already exists")
)

// checkDaemonID: lower-case letters and digits only, so that the prefix
// "cb-<id>-" of one daemon is never a prefix of another's.
func checkDaemonID(id string) error {
	if id == "" || len(id) > 12 {
		return fmt.Errorf("network: daemon id %q must have 1 to 12 characters", id)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9') {
			return fmt.Errorf("network: daemon id %q: only a-z and 0-9 are allowed", id)
		}
	}
	return nil
}

// Prefix is the beginning of the names of one daemon's namespaces.
func Prefix(daemonID string) string { return "cb-" + daemonID + "-" }

func checkNSName(ns string) error {
	if ns == "" {
		return fmt.Errorf("network: empty namespace name (the host namespace cannot be addressed)")
	}
	if len(ns) > 64 {
		return fmt.Errorf("network: namespace name %q is longer than 64 characters", ns)
	}
	for _, r := range ns {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return fmt.Errorf("network: namespace name %q: only letters, digits, '-', '_' and '.' are allowed", ns)
		}
	}
	if ns[0] == '.' {
		return fmt.Errorf("network: namespace name %q starts with a dot", ns)
	}
	return nil
}

func checkLinkName(name string) error {
	if name == "" || len(name) > 15 {
		return fmt.Errorf("network: link name %q must have 1 to 15 characters", name)
	}
	if name == "." || name == ".." {
		return fmt.Errorf("network: bad link name %q", name)
	}
	for _, r := range name {
		if r <= ' ' || r == '/' || r == ':' || r > '~' {
			return fmt.Errorf("network: link name %q has a forbidden character", name)
		}
	}
	return nil
}

// sysctlPath turns "net.ipv4.conf.ea.proxy_arp" (or the same with '/') into
// its path under /proc/sys, refusing keys outside the per-namespace trees.
// A key with '/' is taken as written, so link names with dots work.
func sysctlPath(key string) (string, error) {
	p := key
	if !strings.Contains(p, "/") {
		p = strings.ReplaceAll(p, ".", "/")
	}
	ok := false
	for _, allowed := range []string{"net/ipv4/", "net/ipv6/", "net/netfilter/"} {
		if strings.HasPrefix(p, allowed) {
			ok = true
		}
	}
	if !ok || slices.Contains(strings.Split(p, "/"), "..") || strings.Contains(p, "//") {
		return "", fmt.Errorf("network: sysctl %q refused: only net.ipv4, net.ipv6 and net.netfilter keys belong to a namespace", key)
	}
	return "/proc/sys/" + p, nil
}

func checkRoute(r Route) error {
	if !r.Dst.IsValid() {
		return fmt.Errorf("network: route without destination")
	}
	if r.Dst != r.Dst.Masked() {
		return fmt.Errorf("network: route destination %s has host bits set", r.Dst)
	}
	if r.Table < 0 || r.Table == 255 {
		return fmt.Errorf("network: bad route table %d", r.Table)
	}
	switch r.Type {
	case Unicast:
		if !r.Via.IsValid() && r.Dev == "" {
			return fmt.Errorf("network: route %s needs a gateway or a link", r.Dst)
		}
		if r.Via.IsValid() && r.Via.Is4() != r.Dst.Addr().Is4() {
			return fmt.Errorf("network: route %s via %s mixes address families", r.Dst, r.Via)
		}
	case Blackhole, Unreachable, Prohibit:
		if r.Via.IsValid() || r.Dev != "" {
			return fmt.Errorf("network: %s route %s takes no gateway or link", r.Type, r.Dst)
		}
	default:
		return fmt.Errorf("network: unknown route type %q", r.Type)
	}
	if r.Dev != "" {
		return checkLinkName(r.Dev)
	}
	return nil
}

func checkRule(r Rule) error {
	if r.Priority <= 0 || r.Priority >= 32766 {
		return fmt.Errorf("network: rule priority %d must be between 1 and 32765 (the kernel's own rules use 0, 32766 and 32767)", r.Priority)
	}
	if r.Table <= 0 || r.Table == 255 {
		return fmt.Errorf("network: bad rule table %d", r.Table)
	}
	for _, p := range []netip.Prefix{r.From, r.To} {
		if p.IsValid() && p != p.Masked() {
			return fmt.Errorf("network: rule prefix %s has host bits set", p)
		}
	}
	if r.From.IsValid() && r.To.IsValid() && r.From.Addr().Is4() != r.To.Addr().Is4() {
		return fmt.Errorf("network: rule mixes address families")
	}
	if r.IIF != "" {
		return checkLinkName(r.IIF)
	}
	return nil
}

func checkNeigh(n Neigh) error {
	if err := checkLinkName(n.Dev); err != nil {
		return err
	}
	if !n.IP.IsValid() {
		return fmt.Errorf("network: neighbour without address")
	}
	if !n.Proxy && len(n.MAC) != 6 {
		return fmt.Errorf("network: neighbour %s needs a 6-byte MAC", n.IP)
	}
	return nil
}

func checkVeth(v Veth) error {
	for _, ns := range []string{v.NS, v.PeerNS} {
		if err := checkNSName(ns); err != nil {
			return err
		}
	}
	for _, n := range []string{v.Name, v.PeerName} {
		if err := checkLinkName(n); err != nil {
			return err
		}
	}
	if v.NS == v.PeerNS && v.Name == v.PeerName {
		return fmt.Errorf("network: veth ends have the same name %q in the same namespace", v.Name)
	}
	for _, m := range []net.HardwareAddr{v.MAC, v.PeerMAC} {
		if len(m) != 0 && (len(m) != 6 || m[0]&1 == 1) {
			return fmt.Errorf("network: MAC %s is not a 6-byte unicast address", m)
		}
	}
	if v.MTU != 0 && (v.MTU < 68 || v.MTU > 65535) {
		return fmt.Errorf("network: MTU %d out of range", v.MTU)
	}
	return nil
}

func checkAddrPort(a netip.AddrPort) error {
	if !a.IsValid() {
		return fmt.Errorf("network: invalid address %v", a)
	}
	return nil
}

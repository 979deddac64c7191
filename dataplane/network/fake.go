package network

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"maps"
	"net"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"

	"github.com/cloudbox/cloudbox/dataplane/nft"
)

// Fake is an in-memory Network for unit tests of controllers and engines.
// It validates arguments like Linux, keeps the state the kernel would
// (namespaces, links with veth pairing, addresses, routes, rules,
// neighbours, sysctls, tables), records every call, and can be told to fail
// a call.
//
// What it models of the kernel: deleting a namespace or one end of a veth
// deletes the other end; an address with a prefix shorter than the host's
// adds the connected route ("10.0.1.0/24 dev eth0"), and deleting the link
// deletes the routes through it; sysctls of a link (conf.<link>.*) exist only
// while it does. What it does not: packet flow, gateway reachability checks,
// the kernel's default sysctl values (reading an unset sysctl fails).
//
// Sockets are real loopback sockets on a random port. Every DialTCP reaches
// the listener opened at that address in any fake namespace (there is no
// routing or filtering); the accepted connection's addresses are the
// loopback ones.
type Fake struct {
	id string

	mu    sync.Mutex
	nss   map[string]*fakeNS
	calls []string
	fail  map[string][]error
	// listeners are by namespace and address: two namespaces may listen
	// on one address (every router has the IMDS and DNS link-local ones).
	listeners map[listenKey]fakeListenerEntry
	macSeq    uint32
}

type listenKey struct {
	ns   string
	addr netip.AddrPort
}

type fakeNS struct {
	links    map[string]*fakeLink
	routes   map[routeKey]Route
	rules    []Rule
	neighs   map[neighKey]Neigh
	sysctls  map[string]string
	tables   map[string]*nft.Table
	counters map[string]map[nft.RuleID]nft.Counter
}

type fakeLink struct {
	Link
	peerNS, peerName string // set for a veth
}

type routeKey struct {
	table int
	dst   netip.Prefix
}

type neighKey struct {
	dev   string
	ip    netip.Addr
	proxy bool
}

type fakeListenerEntry struct {
	ns   string
	real string // the loopback address really listened on
}

var _ Network = (*Fake)(nil)

// NewFake returns an empty fake world for daemon daemonID.
func NewFake(daemonID string) (*Fake, error) {
	if err := checkDaemonID(daemonID); err != nil {
		return nil, err
	}
	return &Fake{id: daemonID, nss: map[string]*fakeNS{}, fail: map[string][]error{}, listeners: map[listenKey]fakeListenerEntry{}}, nil
}

// Calls returns the calls made so far, one string each, e.g.
// `EnsureNamespace("r")`.
func (f *Fake) Calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

// ResetCalls forgets the recorded calls.
func (f *Fake) ResetCalls() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = nil
}

// FailNext makes the next call of method (e.g. "ApplyTable") return err
// without changing anything. Several FailNext queue up.
func (f *Fake) FailNext(method string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[method] = append(f.fail[method], err)
}

// begin records a call and returns the injected failure, if any. The
// caller holds f.mu.
func (f *Fake) begin(method string, args ...any) error {
	parts := make([]string, len(args))
	for i, a := range args {
		if s, ok := a.(string); ok {
			parts[i] = fmt.Sprintf("%q", s)
		} else {
			parts[i] = fmt.Sprint(a)
		}
	}
	f.calls = append(f.calls, method+"("+strings.Join(parts, ", ")+")")
	if q := f.fail[method]; len(q) > 0 {
		f.fail[method] = q[1:]
		return q[0]
	}
	return nil
}

func (f *Fake) ns(ns string) (*fakeNS, error) {
	if err := checkNSName(ns); err != nil {
		return nil, err
	}
	n, ok := f.nss[ns]
	if !ok {
		return nil, fmt.Errorf("network: %w: %s%s", ErrNoNamespace, Prefix(f.id), ns)
	}
	return n, nil
}

func (n *fakeNS) link(ns, name string) (*fakeLink, error) {
	if err := checkLinkName(name); err != nil {
		return nil, err
	}
	lk, ok := n.links[name]
	if !ok {
		return nil, fmt.Errorf("network: %w: %s in %s", ErrNoLink, name, ns)
	}
	return lk, nil
}

// EnsureNamespace creates the namespace with lo up.
func (f *Fake) EnsureNamespace(ns string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("EnsureNamespace", ns); err != nil {
		return err
	}
	if err := checkNSName(ns); err != nil {
		return err
	}
	if _, ok := f.nss[ns]; ok {
		return nil
	}
	f.nss[ns] = &fakeNS{
		links: map[string]*fakeLink{"lo": {Link: Link{Name: "lo", Kind: "loopback", MAC: make(net.HardwareAddr, 6), MTU: 65536, Up: true,
			Addrs: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/8"), netip.MustParsePrefix("::1/128")}}}},
		routes:   map[routeKey]Route{},
		neighs:   map[neighKey]Neigh{},
		sysctls:  map[string]string{},
		tables:   map[string]*nft.Table{},
		counters: map[string]map[nft.RuleID]nft.Counter{},
	}
	return nil
}

// DeleteNamespace deletes the namespace and the far ends of its veths.
func (f *Fake) DeleteNamespace(ns string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("DeleteNamespace", ns); err != nil {
		return err
	}
	if err := checkNSName(ns); err != nil {
		return err
	}
	n, ok := f.nss[ns]
	if !ok {
		return nil
	}
	for name := range n.links {
		f.removeLink(ns, name)
	}
	delete(f.nss, ns)
	for k, l := range f.listeners {
		if l.ns == ns {
			delete(f.listeners, k)
		}
	}
	return nil
}

// Namespaces lists the fake namespaces, sorted.
func (f *Fake) Namespaces() ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("Namespaces"); err != nil {
		return nil, err
	}
	out := slices.Collect(maps.Keys(f.nss))
	sort.Strings(out)
	return out, nil
}

// removeLink deletes a link, its routes, neighbours and sysctls, and its
// veth peer.
func (f *Fake) removeLink(ns, name string) {
	n, ok := f.nss[ns]
	if !ok {
		return
	}
	lk, ok := n.links[name]
	if !ok {
		return
	}
	delete(n.links, name)
	for k, r := range n.routes {
		if r.Dev == name {
			delete(n.routes, k)
		}
	}
	for k := range n.neighs {
		if k.dev == name {
			delete(n.neighs, k)
		}
	}
	for k := range n.sysctls {
		if sysctlLink(k) == name {
			delete(n.sysctls, k)
		}
	}
	if lk.peerNS != "" {
		if pn, ok := f.nss[lk.peerNS]; ok {
			if p, ok := pn.links[lk.peerName]; ok && p.peerNS == ns && p.peerName == name {
				p.peerNS = "" // avoid recursing back
				f.removeLink(lk.peerNS, lk.peerName)
			}
		}
	}
}

// sysctlLink returns the link a sysctl path belongs to
// (net/ipv4/conf/<link>/..., net/ipv4/neigh/<link>/...), or "".
func sysctlLink(path string) string {
	parts := strings.Split(strings.TrimPrefix(path, "/proc/sys/"), "/")
	if len(parts) >= 5 && (parts[2] == "conf" || parts[2] == "neigh") && parts[3] != "all" && parts[3] != "default" {
		return parts[3]
	}
	return ""
}

func (f *Fake) newMAC() net.HardwareAddr {
	f.macSeq++
	s := f.macSeq
	return net.HardwareAddr{0x02, 0xfa, byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)}
}

// EnsureVeth creates or corrects the pair, like Linux.
func (f *Fake) EnsureVeth(v Veth) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("EnsureVeth", fmt.Sprintf("%s/%s-%s/%s", v.NS, v.Name, v.PeerNS, v.PeerName)); err != nil {
		return err
	}
	if err := checkVeth(v); err != nil {
		return err
	}
	a, err := f.ns(v.NS)
	if err != nil {
		return err
	}
	b, err := f.ns(v.PeerNS)
	if err != nil {
		return err
	}
	la, lb := a.links[v.Name], b.links[v.PeerName]
	paired := la != nil && lb != nil && la.peerNS == v.PeerNS && la.peerName == v.PeerName && lb.peerNS == v.NS && lb.peerName == v.Name
	if !paired {
		for _, x := range []struct {
			lk       *fakeLink
			ns, name string
		}{{la, v.NS, v.Name}, {lb, v.PeerNS, v.PeerName}} {
			if x.lk != nil && x.lk.Kind != "veth" {
				return fmt.Errorf("network: %w: %s in %s is a %s, not a veth", ErrExists, x.name, x.ns, x.lk.Kind)
			}
		}
		f.removeLink(v.NS, v.Name)
		f.removeLink(v.PeerNS, v.PeerName)
		mtu := v.MTU
		if mtu == 0 {
			mtu = 1500
		}
		la = &fakeLink{Link: Link{Name: v.Name, Kind: "veth", MAC: f.newMAC(), MTU: mtu}, peerNS: v.PeerNS, peerName: v.PeerName}
		lb = &fakeLink{Link: Link{Name: v.PeerName, Kind: "veth", MAC: f.newMAC(), MTU: mtu}, peerNS: v.NS, peerName: v.Name}
		a.links[v.Name], b.links[v.PeerName] = la, lb
	}
	for _, x := range []struct {
		lk  *fakeLink
		mac net.HardwareAddr
	}{{la, v.MAC}, {lb, v.PeerMAC}} {
		if len(x.mac) > 0 {
			x.lk.MAC = slices.Clone(x.mac)
		}
		if v.MTU > 0 {
			x.lk.MTU = v.MTU
		}
		x.lk.Up = true
	}
	return nil
}

// DeleteLink deletes the link and its veth peer.
func (f *Fake) DeleteLink(ns, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("DeleteLink", ns, name); err != nil {
		return err
	}
	if err := checkLinkName(name); err != nil {
		return err
	}
	if _, err := f.ns(ns); err != nil {
		return err
	}
	f.removeLink(ns, name)
	return nil
}

// SetLinkUp sets the link's state.
func (f *Fake) SetLinkUp(ns, name string, up bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("SetLinkUp", ns, name, up); err != nil {
		return err
	}
	n, err := f.ns(ns)
	if err != nil {
		return err
	}
	lk, err := n.link(ns, name)
	if err != nil {
		return err
	}
	lk.Up = up
	return nil
}

// SetMTU sets the link's MTU.
func (f *Fake) SetMTU(ns, name string, mtu int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("SetMTU", ns, name, mtu); err != nil {
		return err
	}
	if mtu < 68 || mtu > 65535 {
		return fmt.Errorf("network: MTU %d out of range", mtu)
	}
	n, err := f.ns(ns)
	if err != nil {
		return err
	}
	lk, err := n.link(ns, name)
	if err != nil {
		return err
	}
	lk.MTU = mtu
	return nil
}

// AddAddr adds the address and its connected route.
func (f *Fake) AddAddr(ns, link string, p netip.Prefix) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("AddAddr", ns, link, p); err != nil {
		return err
	}
	if err := checkAddr(p); err != nil {
		return err
	}
	n, err := f.ns(ns)
	if err != nil {
		return err
	}
	lk, err := n.link(ns, link)
	if err != nil {
		return err
	}
	if !slices.Contains(lk.Addrs, p) {
		lk.Addrs = append(lk.Addrs, p)
	}
	if p.Bits() < p.Addr().BitLen() {
		dst := p.Masked()
		n.routes[routeKey{MainTable, dst}] = Route{Dst: dst, Dev: link, Src: p.Addr()}
	}
	return nil
}

// DelAddr removes the address and its connected route.
func (f *Fake) DelAddr(ns, link string, p netip.Prefix) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("DelAddr", ns, link, p); err != nil {
		return err
	}
	if err := checkAddr(p); err != nil {
		return err
	}
	n, err := f.ns(ns)
	if err != nil {
		return err
	}
	lk, err := n.link(ns, link)
	if err != nil {
		return err
	}
	lk.Addrs = slices.DeleteFunc(lk.Addrs, func(x netip.Prefix) bool { return x == p })
	k := routeKey{MainTable, p.Masked()}
	if r, ok := n.routes[k]; ok && r.Dev == link && r.Src == p.Addr() {
		delete(n.routes, k)
	}
	return nil
}

// Links lists the namespace's links sorted by name.
func (f *Fake) Links(ns string) ([]Link, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("Links", ns); err != nil {
		return nil, err
	}
	n, err := f.ns(ns)
	if err != nil {
		return nil, err
	}
	var out []Link
	for _, lk := range n.links {
		l := lk.Link
		l.MAC = slices.Clone(l.MAC)
		l.Addrs = slices.Clone(l.Addrs)
		out = append(out, l)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ReplaceRoute adds or replaces the route with the same table and
// destination.
func (f *Fake) ReplaceRoute(ns string, r Route) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("ReplaceRoute", ns, r); err != nil {
		return err
	}
	if err := checkRoute(r); err != nil {
		return err
	}
	n, err := f.ns(ns)
	if err != nil {
		return err
	}
	if r.Dev != "" {
		if _, err := n.link(ns, r.Dev); err != nil {
			return err
		}
	}
	if r.table() == MainTable {
		r.Table = 0
	}
	n.routes[routeKey{r.table(), r.Dst}] = r
	return nil
}

// DeleteRoute removes the route with r's table and destination.
func (f *Fake) DeleteRoute(ns string, r Route) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("DeleteRoute", ns, r); err != nil {
		return err
	}
	if !r.Dst.IsValid() {
		return fmt.Errorf("network: route without destination")
	}
	n, err := f.ns(ns)
	if err != nil {
		return err
	}
	delete(n.routes, routeKey{r.table(), r.Dst})
	return nil
}

// Routes lists one table's routes, sorted by destination.
func (f *Fake) Routes(ns string, table int) ([]Route, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("Routes", ns, table); err != nil {
		return nil, err
	}
	n, err := f.ns(ns)
	if err != nil {
		return nil, err
	}
	if table == 0 {
		table = MainTable
	}
	var out []Route
	for k, r := range n.routes {
		if k.table == table {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if c := out[i].Dst.Addr().Compare(out[j].Dst.Addr()); c != 0 {
			return c < 0
		}
		return out[i].Dst.Bits() < out[j].Dst.Bits()
	})
	return out, nil
}

// AddRule adds the rule unless an identical one exists.
func (f *Fake) AddRule(ns string, r Rule) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("AddRule", ns, r); err != nil {
		return err
	}
	if err := checkRule(r); err != nil {
		return err
	}
	n, err := f.ns(ns)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(n.rules, r.equal) {
		n.rules = append(n.rules, r)
		sort.SliceStable(n.rules, func(i, j int) bool { return n.rules[i].Priority < n.rules[j].Priority })
	}
	return nil
}

// DeleteRule removes the identical rule.
func (f *Fake) DeleteRule(ns string, r Rule) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("DeleteRule", ns, r); err != nil {
		return err
	}
	if err := checkRule(r); err != nil {
		return err
	}
	n, err := f.ns(ns)
	if err != nil {
		return err
	}
	if i := slices.IndexFunc(n.rules, r.equal); i >= 0 {
		n.rules = slices.Delete(n.rules, i, i+1)
	}
	return nil
}

// Rules lists the rules by priority.
func (f *Fake) Rules(ns string) ([]Rule, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("Rules", ns); err != nil {
		return nil, err
	}
	n, err := f.ns(ns)
	if err != nil {
		return nil, err
	}
	return slices.Clone(n.rules), nil
}

// SetNeigh adds or replaces the entry.
func (f *Fake) SetNeigh(ns string, nb Neigh) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("SetNeigh", ns, nb); err != nil {
		return err
	}
	if err := checkNeigh(nb); err != nil {
		return err
	}
	n, err := f.ns(ns)
	if err != nil {
		return err
	}
	if _, err := n.link(ns, nb.Dev); err != nil {
		return err
	}
	nb.MAC = slices.Clone(nb.MAC)
	if nb.Proxy {
		nb.MAC = nil
	}
	n.neighs[neighKey{nb.Dev, nb.IP, nb.Proxy}] = nb
	return nil
}

// DeleteNeigh removes the entry.
func (f *Fake) DeleteNeigh(ns string, nb Neigh) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("DeleteNeigh", ns, nb); err != nil {
		return err
	}
	n, err := f.ns(ns)
	if err != nil {
		return err
	}
	delete(n.neighs, neighKey{nb.Dev, nb.IP, nb.Proxy})
	return nil
}

// Neighs returns the namespace's neighbour and proxy entries (not part of
// Network: the controllers never need to read them back).
func (f *Fake) Neighs(ns string) ([]Neigh, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.ns(ns)
	if err != nil {
		return nil, err
	}
	out := slices.Collect(maps.Values(n.neighs))
	sort.Slice(out, func(i, j int) bool { return out[i].String() < out[j].String() })
	return out, nil
}

// SetSysctl stores the value; a link's sysctl needs the link.
func (f *Fake) SetSysctl(ns, key, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("SetSysctl", ns, key, value); err != nil {
		return err
	}
	path, err := sysctlPath(key)
	if err != nil {
		return err
	}
	if strings.ContainsAny(value, "\n\x00") {
		return fmt.Errorf("network: sysctl value %q has a newline or NUL", value)
	}
	n, err := f.ns(ns)
	if err != nil {
		return err
	}
	if l := sysctlLink(path); l != "" {
		if _, ok := n.links[l]; !ok {
			return fmt.Errorf("network: sysctl %s in %s: %w", key, ns, fs.ErrNotExist)
		}
	}
	n.sysctls[path] = value
	return nil
}

// Sysctl returns a value set before; the Fake knows no kernel defaults.
func (f *Fake) Sysctl(ns, key string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("Sysctl", ns, key); err != nil {
		return "", err
	}
	path, err := sysctlPath(key)
	if err != nil {
		return "", err
	}
	n, err := f.ns(ns)
	if err != nil {
		return "", err
	}
	v, ok := n.sysctls[path]
	if !ok {
		return "", fmt.Errorf("network: sysctl %s in %s not set in the fake: %w", key, ns, fs.ErrNotExist)
	}
	return v, nil
}

// ApplyTable validates t like Linux does and stores a copy; its counters
// restart at zero.
func (f *Fake) ApplyTable(ns string, t *nft.Table) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	name := ""
	if t != nil {
		name = t.TableName()
	}
	if err := f.begin("ApplyTable", ns, name); err != nil {
		return err
	}
	if err := t.Validate(); err != nil {
		return err
	}
	n, err := f.ns(ns)
	if err != nil {
		return err
	}
	n.tables[name] = t.Clone()
	counters := map[nft.RuleID]nft.Counter{}
	for _, c := range t.Chains {
		for _, r := range c.Rules {
			if r.Counter {
				counters[nft.RuleID{Chain: c.Name, ID: r.ID}] = nft.Counter{}
			}
		}
	}
	n.counters[name] = counters
	return nil
}

// DeleteTable removes the table if present.
func (f *Fake) DeleteTable(ns, table string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("DeleteTable", ns, table); err != nil {
		return err
	}
	if table == "" {
		table = nft.DefaultTable
	}
	n, err := f.ns(ns)
	if err != nil {
		return err
	}
	delete(n.tables, table)
	delete(n.counters, table)
	return nil
}

// Table returns a copy of the table last applied, or nil.
func (f *Fake) Table(ns, table string) *nft.Table {
	f.mu.Lock()
	defer f.mu.Unlock()
	if table == "" {
		table = nft.DefaultTable
	}
	if n, ok := f.nss[ns]; ok {
		return n.tables[table].Clone()
	}
	return nil
}

// SetCounter sets a counted rule's counter, for tests of code that reads
// counters.
func (f *Fake) SetCounter(ns, table string, id nft.RuleID, c nft.Counter) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if table == "" {
		table = nft.DefaultTable
	}
	n, err := f.ns(ns)
	if err != nil {
		return err
	}
	cs, ok := n.counters[table]
	if !ok {
		return fmt.Errorf("%w: %s", nft.ErrNoTable, table)
	}
	if _, ok := cs[id]; !ok {
		return fmt.Errorf("network: no counted rule %v in table %s", id, table)
	}
	cs[id] = c
	return nil
}

// Counters returns the counters of the table's counted rules.
func (f *Fake) Counters(ns, table string) (map[nft.RuleID]nft.Counter, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("Counters", ns, table); err != nil {
		return nil, err
	}
	if table == "" {
		table = nft.DefaultTable
	}
	n, err := f.ns(ns)
	if err != nil {
		return nil, err
	}
	cs, ok := n.counters[table]
	if !ok {
		return nil, fmt.Errorf("%w: %s", nft.ErrNoTable, table)
	}
	return maps.Clone(cs), nil
}

// hasAddr says whether a is usable as a local address in n (what bind
// requires).
func (n *fakeNS) hasAddr(a netip.Addr) bool {
	if a.IsUnspecified() || a.IsLoopback() {
		return true
	}
	for _, lk := range n.links {
		for _, p := range lk.Addrs {
			if p.Addr() == a {
				return true
			}
		}
	}
	return false
}

// ListenTCP opens a real loopback listener standing for addr in ns.
func (f *Fake) ListenTCP(ns string, addr netip.AddrPort) (net.Listener, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("ListenTCP", ns, addr); err != nil {
		return nil, err
	}
	if err := checkAddrPort(addr); err != nil {
		return nil, err
	}
	n, err := f.ns(ns)
	if err != nil {
		return nil, err
	}
	if !n.hasAddr(addr.Addr()) {
		return nil, &net.OpError{Op: "listen", Net: "tcp", Err: syscall.EADDRNOTAVAIL}
	}
	if _, taken := f.listeners[listenKey{ns, addr}]; taken && addr.Port() != 0 {
		return nil, &net.OpError{Op: "listen", Net: "tcp", Err: syscall.EADDRINUSE}
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	real := ln.Addr().(*net.TCPAddr)
	if addr.Port() == 0 {
		addr = netip.AddrPortFrom(addr.Addr(), uint16(real.Port))
	}
	key := listenKey{ns, addr}
	f.listeners[key] = fakeListenerEntry{ns: ns, real: real.String()}
	return &fakeListener{Listener: ln, addr: net.TCPAddrFromAddrPort(addr), close: func() {
		f.mu.Lock()
		defer f.mu.Unlock()
		if e, ok := f.listeners[key]; ok && e.real == real.String() {
			delete(f.listeners, key)
		}
	}}, nil
}

type fakeListener struct {
	net.Listener
	addr      net.Addr
	close     func()
	closeOnce sync.Once
}

func (l *fakeListener) Addr() net.Addr { return l.addr }
func (l *fakeListener) Close() error {
	l.closeOnce.Do(l.close)
	return l.Listener.Close()
}

// ListenUDP opens a real loopback UDP socket standing for addr in ns.
func (f *Fake) ListenUDP(ns string, addr netip.AddrPort) (net.PacketConn, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.begin("ListenUDP", ns, addr); err != nil {
		return nil, err
	}
	if err := checkAddrPort(addr); err != nil {
		return nil, err
	}
	n, err := f.ns(ns)
	if err != nil {
		return nil, err
	}
	if !n.hasAddr(addr.Addr()) {
		return nil, &net.OpError{Op: "listen", Net: "udp", Err: syscall.EADDRNOTAVAIL}
	}
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if addr.Port() == 0 {
		addr = netip.AddrPortFrom(addr.Addr(), uint16(pc.LocalAddr().(*net.UDPAddr).Port))
	}
	return &fakePacketConn{PacketConn: pc, addr: net.UDPAddrFromAddrPort(addr)}, nil
}

type fakePacketConn struct {
	net.PacketConn
	addr net.Addr
}

func (c *fakePacketConn) LocalAddr() net.Addr { return c.addr }

// DialTCP connects to the fake listener at addr (or one on the wildcard
// address with that port), from any namespace; else connection refused.
func (f *Fake) DialTCP(ctx context.Context, ns string, addr netip.AddrPort) (net.Conn, error) {
	f.mu.Lock()
	if err := f.begin("DialTCP", ns, addr); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	if err := checkAddrPort(addr); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	if _, err := f.ns(ns); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	e, ok := f.listener(ns, addr)
	if !ok {
		wild := netip.AddrPortFrom(netip.IPv4Unspecified(), addr.Port())
		if addr.Addr().Is6() {
			wild = netip.AddrPortFrom(netip.IPv6Unspecified(), addr.Port())
		}
		for k, w := range f.listeners {
			if k.addr == wild && f.nss[w.ns] != nil && f.nss[w.ns].hasAddr(addr.Addr()) {
				e, ok = w, true
				break
			}
		}
	}
	f.mu.Unlock()
	if !ok {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}
	var d net.Dialer
	return d.DialContext(ctx, "tcp4", e.real)
}

// listener finds the listener a dial from ns to addr reaches: one in ns
// itself, else one in any namespace (the fake does not route).
func (f *Fake) listener(ns string, addr netip.AddrPort) (fakeListenerEntry, bool) {
	if e, ok := f.listeners[listenKey{ns, addr}]; ok {
		return e, true
	}
	for k, e := range f.listeners {
		if k.addr == addr {
			return e, true
		}
	}
	return fakeListenerEntry{}, false
}

// String describes the fake world, for test failure messages.
func (f *Fake) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b bytes.Buffer
	names := slices.Sorted(maps.Keys(f.nss))
	for _, name := range names {
		n := f.nss[name]
		fmt.Fprintf(&b, "namespace %s\n", name)
		for _, ln := range slices.Sorted(maps.Keys(n.links)) {
			lk := n.links[ln]
			fmt.Fprintf(&b, "  link %s %s mtu %d up=%v %v", lk.Name, lk.MAC, lk.MTU, lk.Up, lk.Addrs)
			if lk.peerNS != "" {
				fmt.Fprintf(&b, " peer %s/%s", lk.peerNS, lk.peerName)
			}
			b.WriteByte('\n')
		}
		for _, r := range n.routes {
			fmt.Fprintf(&b, "  route %s\n", r)
		}
		for _, r := range n.rules {
			fmt.Fprintf(&b, "  rule %s\n", r)
		}
	}
	return b.String()
}

//go:build linux

package network

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/dataplane/nft"
	"github.com/vishvananda/netlink"
)

func linkNamed(t *testing.T, n Network, ns, name string) Link {
	t.Helper()
	links, err := n.Links(ns)
	must(t, err)
	for _, l := range links {
		if l.Name == name {
			return l
		}
	}
	t.Fatalf("no link %s in %s: %+v", name, ns, links)
	return Link{}
}

func TestVeth(t *testing.T) {
	t.Parallel()
	l := newTestLinux(t)
	must(t, l.EnsureNamespace("i"))
	must(t, l.EnsureNamespace("r"))
	v := Veth{NS: "i", Name: "eth0", MAC: mac("02:00:00:00:00:01"), PeerNS: "r", PeerName: "eni-0a1b2c3d4e", MTU: 9001}
	must(t, l.EnsureVeth(v))
	must(t, l.EnsureVeth(v)) // idempotent
	e := linkNamed(t, l, "i", "eth0")
	p := linkNamed(t, l, "r", "eni-0a1b2c3d4e")
	if e.Kind != "veth" || !e.Up || e.MTU != 9001 || e.MAC.String() != "02:00:00:00:00:01" {
		t.Fatalf("eth0 = %+v", e)
	}
	if p.Kind != "veth" || !p.Up || p.MTU != 9001 {
		t.Fatalf("router end = %+v", p)
	}
	// A changed MAC or MTU is corrected in place; a downed end comes back up.
	must(t, l.SetLinkUp("r", "eni-0a1b2c3d4e", false))
	if linkNamed(t, l, "r", "eni-0a1b2c3d4e").Up {
		t.Fatal("SetLinkUp(false) left it up")
	}
	v.MAC, v.MTU = mac("02:00:00:00:00:02"), 1500
	must(t, l.EnsureVeth(v))
	if e := linkNamed(t, l, "i", "eth0"); e.MAC.String() != "02:00:00:00:00:02" || e.MTU != 1500 {
		t.Fatalf("not corrected: %+v", e)
	}
	if !linkNamed(t, l, "r", "eni-0a1b2c3d4e").Up {
		t.Fatal("router end not brought back up")
	}
	must(t, l.SetMTU("i", "eth0", 1400))
	if linkNamed(t, l, "i", "eth0").MTU != 1400 {
		t.Fatal("SetMTU had no effect")
	}

	// The instance end paired with something else: replaced.
	must(t, l.DeleteLink("i", "eth0"))
	must(t, l.EnsureVeth(Veth{NS: "i", Name: "eth0", PeerNS: "r", PeerName: "stale"}))
	must(t, l.EnsureVeth(v))
	links, err := l.Links("r")
	must(t, err)
	for _, lk := range links {
		if lk.Name == "stale" {
			t.Fatal("stale peer kept")
		}
	}
	// A name taken by a link that is not a veth is an error, not a deletion.
	must(t, l.withHandle("i", func(h *netlink.Handle) error {
		return h.LinkAdd(&netlink.Bridge{LinkAttrs: netlink.LinkAttrs{Name: "eth1"}})
	}))
	if err := l.EnsureVeth(Veth{NS: "i", Name: "eth1", PeerNS: "r", PeerName: "eni-x"}); !errors.Is(err, ErrExists) {
		t.Fatalf("over a bridge: %v, want ErrExists", err)
	}
	// Deleting one end deletes the pair; deleting again is fine.
	must(t, l.DeleteLink("r", "eni-0a1b2c3d4e"))
	must(t, l.DeleteLink("r", "eni-0a1b2c3d4e"))
	for _, lk := range must2(l.Links("i")) {
		if lk.Name == "eth0" {
			t.Fatal("deleting the router end left eth0")
		}
	}
	if err := l.SetLinkUp("i", "eth0", true); !errors.Is(err, ErrNoLink) {
		t.Fatalf("SetLinkUp on a missing link: %v", err)
	}
	for _, bad := range []Veth{
		{NS: "i", Name: "this-name-is-too-long", PeerNS: "r", PeerName: "x"},
		{NS: "", Name: "eth0", PeerNS: "r", PeerName: "x"},
		{NS: "i", Name: "eth0", PeerNS: "i", PeerName: "eth0"},
		{NS: "i", Name: "eth0", PeerNS: "r", PeerName: "x", MAC: mac("01:00:00:00:00:01")},
		{NS: "i", Name: "eth0", PeerNS: "missing", PeerName: "x"},
	} {
		if err := l.EnsureVeth(bad); err == nil {
			t.Errorf("EnsureVeth(%+v) accepted", bad)
		}
	}
}

func must2[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestAddrsRoutesRulesNeighSysctl(t *testing.T) {
	t.Parallel()
	l := newTestLinux(t)
	must(t, l.EnsureNamespace("i"))
	must(t, l.EnsureNamespace("r"))
	must(t, l.EnsureVeth(Veth{NS: "i", Name: "eth0", PeerNS: "r", PeerName: "ea"}))

	must(t, l.AddAddr("i", "eth0", pfx("10.0.1.10/24")))
	must(t, l.AddAddr("i", "eth0", pfx("10.0.1.10/24"))) // idempotent
	must(t, l.AddAddr("i", "eth0", pfx("fd00:10::10/64")))
	if got := linkNamed(t, l, "i", "eth0").Addrs; !slices.Contains(got, pfx("10.0.1.10/24")) || !slices.Contains(got, pfx("fd00:10::10/64")) {
		t.Fatalf("addresses %v", got)
	}
	must(t, l.DelAddr("i", "eth0", pfx("fd00:10::10/64")))
	must(t, l.DelAddr("i", "eth0", pfx("fd00:10::10/64")))

	// Routes: main and another table, gateway, on-link, blackhole.
	must(t, l.ReplaceRoute("i", Route{Dst: pfx("0.0.0.0/0"), Via: ip("10.0.1.1"), Dev: "eth0"}))
	must(t, l.ReplaceRoute("r", Route{Dst: pfx("10.0.1.10/32"), Dev: "ea"}))
	must(t, l.ReplaceRoute("r", Route{Table: 101, Dst: pfx("10.0.1.10/32"), Dev: "ea"}))
	must(t, l.ReplaceRoute("r", Route{Table: 101, Dst: pfx("0.0.0.0/0"), Type: Blackhole}))
	must(t, l.ReplaceRoute("r", Route{Table: 101, Dst: pfx("0.0.0.0/0"), Type: Blackhole})) // replace: still one
	must(t, l.ReplaceRoute("r", Route{Table: 101, Dst: pfx("10.9.0.0/16"), Type: Unreachable}))
	got, err := l.Routes("r", 101)
	must(t, err)
	want := []Route{
		{Table: 101, Dst: pfx("0.0.0.0/0"), Type: Blackhole},
		{Table: 101, Dst: pfx("10.0.1.10/32"), Dev: "ea"},
		{Table: 101, Dst: pfx("10.9.0.0/16"), Type: Unreachable},
	}
	slices.SortFunc(got, func(a, b Route) int { return a.Dst.Addr().Compare(b.Dst.Addr()) })
	if !slices.Equal(got, want) {
		t.Fatalf("table 101:\n got %v\nwant %v", got, want)
	}
	main, err := l.Routes("i", 0)
	must(t, err)
	if !slices.Contains(main, Route{Dst: pfx("0.0.0.0/0"), Via: ip("10.0.1.1"), Dev: "eth0"}) ||
		!slices.Contains(main, Route{Dst: pfx("10.0.1.0/24"), Dev: "eth0", Src: ip("10.0.1.10")}) {
		t.Fatalf("main table of i: %v", main)
	}
	must(t, l.DeleteRoute("r", Route{Table: 101, Dst: pfx("10.9.0.0/16")}))
	must(t, l.DeleteRoute("r", Route{Table: 101, Dst: pfx("10.9.0.0/16")}))
	if got := must2(l.Routes("r", 101)); len(got) != 2 {
		t.Fatalf("after delete: %v", got)
	}
	if err := l.ReplaceRoute("r", Route{Dst: pfx("10.0.3.0/24"), Dev: "nope"}); !errors.Is(err, ErrNoLink) {
		t.Fatalf("route via a missing link: %v", err)
	}
	for _, bad := range []Route{
		{Dst: pfx("10.0.1.1/24"), Dev: "ea"},                    // host bits
		{Dst: pfx("10.0.1.0/24")},                               // nowhere
		{Dst: pfx("10.0.1.0/24"), Type: Blackhole, Dev: "ea"},   // blackhole with a link
		{Dst: pfx("10.0.1.0/24"), Via: ip("fd00::1")},           // families mixed
		{Dst: pfx("10.0.1.0/24"), Dev: "ea", Table: 255},        // the local table
		{Dst: pfx("10.0.1.0/24"), Dev: "ea", Type: "multicast"}, // unknown type
	} {
		if err := l.ReplaceRoute("r", bad); err == nil {
			t.Errorf("ReplaceRoute(%v) accepted", bad)
		}
	}

	// Policy rules: idempotent add, list without the kernel's, delete.
	rules := []Rule{
		{Priority: 100, To: pfx("10.0.0.0/16"), Table: MainTable},
		{Priority: 1000, From: pfx("10.0.1.0/24"), Table: 101},
		{Priority: 1001, IIF: "ea", Table: 102},
	}
	for _, r := range append(rules, rules...) {
		must(t, l.AddRule("r", r))
	}
	if got := must2(l.Rules("r")); !slices.EqualFunc(got, rules, Rule.equal) {
		t.Fatalf("rules:\n got %v\nwant %v", got, rules)
	}
	must(t, l.DeleteRule("r", rules[1]))
	must(t, l.DeleteRule("r", rules[1]))
	if got := must2(l.Rules("r")); len(got) != 2 {
		t.Fatalf("after delete: %v", got)
	}
	if err := l.AddRule("r", Rule{Priority: 32766, Table: 5}); err == nil {
		t.Fatal("a rule at the kernel's main-rule priority was accepted")
	}

	// Neighbours: permanent and proxy.
	must(t, l.SetNeigh("r", Neigh{Dev: "ea", IP: ip("10.0.1.10"), MAC: mac("02:00:00:00:00:0a")}))
	must(t, l.SetNeigh("r", Neigh{Dev: "ea", IP: ip("10.0.1.10"), MAC: mac("02:00:00:00:00:0b")}))
	must(t, l.SetNeigh("r", Neigh{Dev: "ea", IP: ip("10.0.1.99"), Proxy: true}))
	must(t, l.withHandle("r", func(h *netlink.Handle) error {
		ea, err := h.LinkByName("ea")
		if err != nil {
			return err
		}
		ns, err := h.NeighList(ea.Attrs().Index, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		if len(ns) != 1 || !ns[0].IP.Equal(net.ParseIP("10.0.1.10")) || ns[0].HardwareAddr.String() != "02:00:00:00:00:0b" || ns[0].State != netlink.NUD_PERMANENT {
			t.Errorf("neighbours of ea: %+v", ns)
		}
		px, err := h.NeighProxyList(ea.Attrs().Index, netlink.FAMILY_V4)
		if err != nil {
			return err
		}
		if len(px) != 1 || !px[0].IP.Equal(net.ParseIP("10.0.1.99")) {
			t.Errorf("proxy entries of ea: %+v", px)
		}
		return nil
	}))
	must(t, l.DeleteNeigh("r", Neigh{Dev: "ea", IP: ip("10.0.1.10")}))
	must(t, l.DeleteNeigh("r", Neigh{Dev: "ea", IP: ip("10.0.1.10")}))
	must(t, l.DeleteNeigh("r", Neigh{Dev: "ea", IP: ip("10.0.1.99"), Proxy: true}))

	// Sysctls are the namespace's own.
	must(t, l.SetSysctl("r", "net.ipv4.ip_forward", "1"))
	must(t, l.SetSysctl("r", "net.ipv4.conf.ea.proxy_arp", "1"))
	if v := must2(l.Sysctl("r", "net.ipv4.ip_forward")); v != "1" {
		t.Fatalf("ip_forward in r = %q", v)
	}
	if v := must2(l.Sysctl("i", "net/ipv4/ip_forward")); v != "0" {
		t.Fatalf("ip_forward in i = %q, want 0 (only r's changed)", v)
	}
	if v := must2(l.Sysctl("r", "net.ipv4.conf.ea.proxy_arp")); v != "1" {
		t.Fatalf("proxy_arp = %q", v)
	}
	for _, bad := range []string{"kernel.hostname", "vm.swappiness", "net.core.somaxconn", "net/ipv4/../../kernel/hostname", "net.ipv4"} {
		if err := l.SetSysctl("r", bad, "1"); err == nil {
			t.Errorf("SetSysctl(%q) accepted", bad)
		}
	}
	if err := l.SetSysctl("r", "net.ipv4.conf.nope.proxy_arp", "1"); err == nil {
		t.Error("sysctl of a missing link accepted")
	}
}

// TestSetMembershipInKernel checks what the interval sets mean to the
// kernel: single addresses, prefixes, overlapping and adjacent prefixes,
// addresses just outside, below and above. Probes are UDP datagrams sent
// inside a namespace into a veth whose both ends are in it, counted by an
// output chain; they go nowhere else.
func TestSetMembershipInKernel(t *testing.T) {
	t.Parallel()
	l := newTestLinux(t)
	must(t, l.EnsureNamespace("k"))
	must(t, l.EnsureVeth(Veth{NS: "k", Name: "sink", PeerNS: "k", PeerName: "sink-end"}))
	must(t, l.ReplaceRoute("k", Route{Dst: pfx("0.0.0.0/0"), Dev: "sink"}))
	tbl := &nft.Table{
		Sets: []nft.Set{{Name: "s", Family: nft.IPv4, Elements: []netip.Prefix{
			pfx("10.0.1.10/32"),
			pfx("10.1.0.0/16"), pfx("10.1.255.0/24"), // overlap
			pfx("10.2.0.0/16"), pfx("10.3.0.0/16"), // adjacent
			pfx("198.18.7.0/24"),
		}}},
		Chains: []nft.Chain{{Name: "out", Hook: nft.Output, Rules: []nft.Rule{
			{ID: "in", Match: []nft.Match{nft.UDP, nft.DPort(9), nft.DstInSet("s")}, Counter: true},
			{ID: "out", Match: []nft.Match{nft.UDP, nft.DPort(9), nft.AddrSet{Dst: true, Set: "s", Not: true}}, Counter: true},
		}}},
	}
	must(t, l.ApplyTable("k", tbl))
	probes := map[string]bool{
		"10.0.1.9": false, "10.0.1.10": true, "10.0.1.11": false,
		"9.255.255.255": false, "10.1.0.0": true, "10.1.128.7": true, "10.1.255.255": true,
		"10.2.0.0": true, "10.2.255.255": true, "10.3.0.0": true, "10.3.255.255": true, "10.4.0.0": false,
		"198.18.6.255": false, "198.18.7.0": true, "198.18.7.255": true, "198.18.8.0": false,
	}
	for addr, member := range probes {
		before := must2(l.Counters("k", ""))
		must(t, l.Do("k", func() error {
			c, err := net.Dial("udp4", addr+":9")
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = c.Write([]byte("x"))
			return err
		}))
		after := must2(l.Counters("k", ""))
		in := after[nft.RuleID{Chain: "out", ID: "in"}].Packets - before[nft.RuleID{Chain: "out", ID: "in"}].Packets
		out := after[nft.RuleID{Chain: "out", ID: "out"}].Packets - before[nft.RuleID{Chain: "out", ID: "out"}].Packets
		if member && (in != 1 || out != 0) || !member && (in != 0 || out != 1) {
			t.Errorf("%s: counted in=%d out=%d, want member=%v", addr, in, out, member)
		}
	}
}

func TestTableLifecycle(t *testing.T) {
	t.Parallel()
	l := newTestLinux(t)
	must(t, l.EnsureNamespace("k"))
	if _, err := l.Counters("k", ""); !errors.Is(err, nft.ErrNoTable) {
		t.Fatalf("counters without a table: %v", err)
	}
	// Sets change family, chains change hook and type, things disappear.
	t1 := &nft.Table{
		Sets: []nft.Set{{Name: "g", Family: nft.IPv4, Elements: []netip.Prefix{pfx("10.0.0.0/8")}}, {Name: "old", Family: nft.IPv4}},
		Chains: []nft.Chain{
			{Name: "c1", Hook: nft.Forward, Rules: []nft.Rule{{ID: "x", Match: []nft.Match{nft.SrcInSet("g")}, Counter: true, Action: nft.Jump("sub")}}},
			{Name: "sub", Rules: []nft.Rule{{Action: nft.Return()}}},
			{Name: "gone", Hook: nft.Input, Policy: nft.PolicyDrop},
		},
	}
	t2 := &nft.Table{
		Sets: []nft.Set{{Name: "g", Family: nft.IPv6, Elements: []netip.Prefix{pfx("fd00::/8")}}},
		Chains: []nft.Chain{
			{Name: "c1", Hook: nft.Postrouting, Type: nft.NAT, Priority: nft.PrioritySrcNAT, Rules: []nft.Rule{{ID: "y", Match: []nft.Match{nft.SrcInSet("g")}, Counter: true, Action: nft.Masquerade{}}}},
		},
	}
	for range 2 {
		must(t, l.ApplyTable("k", t1))
		if cs := must2(l.Counters("k", "")); len(cs) != 1 {
			t.Fatalf("counters %v", cs)
		}
		must(t, l.ApplyTable("k", t2))
		cs := must2(l.Counters("k", ""))
		if _, ok := cs[nft.RuleID{Chain: "c1", ID: "y"}]; !ok || len(cs) != 1 {
			t.Fatalf("counters after change %v", cs)
		}
	}
	// A table the kernel refuses (a jump loop, which Validate does not
	// look for) changes nothing: the batch is all or nothing.
	loop := &nft.Table{Chains: []nft.Chain{
		{Name: "c1", Hook: nft.Forward, Rules: []nft.Rule{{ID: "z", Counter: true, Action: nft.Jump("p")}}},
		{Name: "p", Rules: []nft.Rule{{Action: nft.Jump("q")}}},
		{Name: "q", Rules: []nft.Rule{{Action: nft.Jump("p")}}},
	}}
	must(t, loop.Validate())
	if err := l.ApplyTable("k", loop); err == nil {
		t.Fatal("kernel accepted a jump loop")
	}
	if cs := must2(l.Counters("k", "")); len(cs) != 1 || cs[nft.RuleID{Chain: "c1", ID: "y"}] != (nft.Counter{}) {
		t.Fatalf("a refused table changed the kernel's: %v", cs)
	}
	must(t, l.DeleteTable("k", ""))
	must(t, l.DeleteTable("k", ""))
	if _, err := l.Counters("k", ""); !errors.Is(err, nft.ErrNoTable) {
		t.Fatalf("counters after delete: %v", err)
	}
	if err := l.ApplyTable("k", &nft.Table{Chains: []nft.Chain{{Name: "a", Rules: []nft.Rule{{Action: nft.Jump("nope")}}}}}); err == nil {
		t.Fatal("invalid table accepted")
	}
}

// TestLargeTable applies a router-sized table (hundreds of ENI chains,
// thousands of rules and set elements) in one batch, then edits it: the
// socket buffers and message chunking must hold.
func TestLargeTable(t *testing.T) {
	t.Parallel()
	l := newTestLinux(t)
	must(t, l.EnsureNamespace("k"))
	build := func(port uint16) *nft.Table {
		tbl := &nft.Table{}
		fwd := nft.Chain{Name: "forward", Hook: nft.Forward, Policy: nft.PolicyDrop,
			Rules: []nft.Rule{{ID: "est", Match: []nft.Match{nft.Established | nft.Related}, Counter: true, Action: nft.Accept()}}}
		for g := range 50 {
			var els []netip.Prefix
			for i := range 100 {
				els = append(els, netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(g), byte(i), 7}), 32))
			}
			tbl.Sets = append(tbl.Sets, nft.Set{Name: "sg-" + itoa(g), Family: nft.IPv4, Elements: els})
		}
		for e := range 300 {
			name := "eni-" + itoa(e)
			fwd.Rules = append(fwd.Rules, nft.Rule{ID: name, Match: []nft.Match{nft.OIFName(name)}, Action: nft.Jump(name + "-in")})
			ch := nft.Chain{Name: name + "-in"}
			for r := range 10 {
				ch.Rules = append(ch.Rules, nft.Rule{ID: itoa(r), Counter: true, Action: nft.Accept(),
					Match: []nft.Match{nft.SrcInSet("sg-" + itoa((e+r)%50)), nft.TCP, nft.DPortRange(port, port+uint16(r))}})
			}
			ch.Rules = append(ch.Rules, nft.Rule{Action: nft.Drop()})
			tbl.Chains = append(tbl.Chains, ch)
		}
		tbl.Chains = append(tbl.Chains, fwd)
		return tbl
	}
	start := time.Now()
	must(t, l.ApplyTable("k", build(1000)))
	first := time.Since(start)
	start = time.Now()
	must(t, l.ApplyTable("k", build(2000)))
	second := time.Since(start)
	cs, err := l.Counters("k", "")
	must(t, err)
	if len(cs) != 3001 {
		t.Fatalf("%d counters, want 3001", len(cs))
	}
	t.Logf("3,300 rules, 5,000 set elements: first apply %v, in-place replacement %v", first.Round(time.Millisecond), second.Round(time.Millisecond))
}

func itoa(i int) string { return strconv.Itoa(i) }

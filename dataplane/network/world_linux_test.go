//go:build linux

package network

import (
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/dataplane/nft"
	"github.com/vishvananda/netlink"
)

// The mini world of these tests, as DESIGN.md describes a VPC:
//
//	a  eth0 10.0.1.10/24 ─── ea ┐
//	c  eth0 10.0.1.30/24 ─── ec ├ r (router: lo 10.0.1.1, 10.0.2.1; igw 198.18.0.2/16) ── internet eth0 198.18.0.1/16
//	b  eth0 10.0.2.20/24 ─── eb ┘
//
// Each ENI is a veth; the router answers ARP for everything (proxy ARP), so
// even a -> c, in one subnet, crosses it. Instances route default via their
// subnet's gateway (.1, on the router's lo). The router's main table holds
// one /32 per ENI with a permanent neighbour entry; policy rules send VPC
// destinations to main and everything else from the VPC to table 101 (the
// route table with the internet gateway). internet knows no VPC address:
// only 198.18.0.0/16, plus 198.18.0.50 (an elastic IP) via the router.
var (
	aIP  = ip("10.0.1.10")
	bIP  = ip("10.0.2.20")
	cIP  = ip("10.0.1.30")
	eip  = ip("198.18.0.50")
	rPub = ip("198.18.0.2")
	iIP  = ip("198.18.0.1")
)

type eni struct {
	ns, routerEnd string
	mac           string
	addr          netip.Prefix
	gw            netip.Addr
}

var worldENIs = []eni{
	{"a", "ea", "02:00:0a:00:01:0a", pfx("10.0.1.10/24"), ip("10.0.1.1")},
	{"b", "eb", "02:00:0a:00:02:14", pfx("10.0.2.20/24"), ip("10.0.2.1")},
	{"c", "ec", "02:00:0a:00:01:1e", pfx("10.0.1.30/24"), ip("10.0.1.1")},
}

const publicTable = 101

func buildWorld(t *testing.T) *Linux {
	t.Helper()
	l := newTestLinux(t)
	for _, ns := range []string{"r", "a", "b", "c", "internet"} {
		must(t, l.EnsureNamespace(ns))
	}
	for k, v := range map[string]string{
		"net.ipv4.ip_forward":             "1",
		"net.ipv4.conf.all.rp_filter":     "0",
		"net.ipv4.conf.default.rp_filter": "0",
	} {
		must(t, l.SetSysctl("r", k, v))
	}
	must(t, l.AddAddr("r", "lo", pfx("10.0.1.1/32")))
	must(t, l.AddAddr("r", "lo", pfx("10.0.2.1/32")))
	for _, e := range worldENIs {
		must(t, l.EnsureVeth(Veth{NS: e.ns, Name: "eth0", MAC: mac(e.mac), PeerNS: "r", PeerName: e.routerEnd}))
		must(t, l.AddAddr(e.ns, "eth0", e.addr))
		must(t, l.ReplaceRoute(e.ns, Route{Dst: pfx("0.0.0.0/0"), Via: e.gw, Dev: "eth0"}))
		for _, kv := range [][2]string{
			{"net.ipv4.conf." + e.routerEnd + ".proxy_arp", "1"},
			{"net.ipv4.conf." + e.routerEnd + ".rp_filter", "0"},
			// Answer ARP at once, not after up to 0.8 s.
			{"net.ipv4.neigh." + e.routerEnd + ".proxy_delay", "0"},
		} {
			must(t, l.SetSysctl("r", kv[0], kv[1]))
		}
		host := netip.PrefixFrom(e.addr.Addr(), 32)
		must(t, l.ReplaceRoute("r", Route{Dst: host, Dev: e.routerEnd}))
		must(t, l.SetNeigh("r", Neigh{Dev: e.routerEnd, IP: e.addr.Addr(), MAC: mac(e.mac)}))
	}
	must(t, l.EnsureVeth(Veth{NS: "internet", Name: "eth0", PeerNS: "r", PeerName: "igw"}))
	must(t, l.AddAddr("internet", "eth0", pfx("198.18.0.1/16")))
	must(t, l.AddAddr("r", "igw", pfx("198.18.0.2/16")))
	must(t, l.ReplaceRoute("internet", Route{Dst: pfx("198.18.0.50/32"), Via: rPub}))
	must(t, l.ReplaceRoute("r", Route{Table: publicTable, Dst: pfx("0.0.0.0/0"), Via: iIP, Dev: "igw"}))
	must(t, l.AddRule("r", Rule{Priority: 100, To: pfx("10.0.0.0/16"), Table: MainTable}))
	must(t, l.AddRule("r", Rule{Priority: 1000, From: pfx("10.0.0.0/16"), Table: publicTable}))
	return l
}

// filterTable is the router's table for the filtering tests: tcp/8080 to b
// only from the members of set web-clients; established connections pass
// when keepEstablished.
func filterTable(clients []netip.Prefix, keepEstablished bool, policy nft.Policy) *nft.Table {
	var rules []nft.Rule
	if keepEstablished {
		rules = append(rules, nft.Rule{ID: "established", Match: []nft.Match{nft.Established | nft.Related}, Counter: true, Action: nft.Accept()})
	}
	rules = append(rules,
		nft.Rule{ID: "a-to-c", Match: []nft.Match{nft.SrcIP(pfx("10.0.1.10/32")), nft.DstIP(pfx("10.0.1.30/32"))}, Counter: true},
		nft.Rule{ID: "allow", Match: []nft.Match{nft.DstIP(pfx("10.0.2.20/32")), nft.TCP, nft.DPort(8080), nft.SrcInSet("web-clients")}, Counter: true, Action: nft.Accept()},
		nft.Rule{ID: "deny", Match: []nft.Match{nft.DstIP(pfx("10.0.2.20/32")), nft.TCP, nft.DPort(8080)}, Counter: true, Action: nft.Drop()},
	)
	if policy == nft.PolicyDrop {
		// With a drop policy everything else must be allowed explicitly.
		rules = append(rules, nft.Rule{ID: "rest", Match: []nft.Match{nft.IIFName("e*")}, Action: nft.Accept()})
	}
	return &nft.Table{
		Sets:   []nft.Set{{Name: "web-clients", Family: nft.IPv4, Elements: clients}},
		Chains: []nft.Chain{{Name: "forward", Hook: nft.Forward, Priority: nft.PriorityFilter, Policy: policy, Rules: rules}},
	}
}

func TestMiniVPC(t *testing.T) {
	t.Parallel()
	l := buildWorld(t)
	echoServer(t, l, "b", netip.AddrPortFrom(bIP, 8080), "b")
	echoServer(t, l, "c", netip.AddrPortFrom(cIP, 8080), "c")
	toB := netip.AddrPortFrom(bIP, 8080)
	toC := netip.AddrPortFrom(cIP, 8080)

	t.Run("routed across subnets with source kept", func(t *testing.T) {
		ans := mustReach(t, l, "a", toB)
		if !strings.HasPrefix(ans, "b 10.0.1.10:") {
			t.Fatalf("answer %q, want b seeing 10.0.1.10", ans)
		}
	})

	t.Run("same subnet crosses the router", func(t *testing.T) {
		must(t, l.ApplyTable("r", filterTable([]netip.Prefix{pfx("10.0.1.10/32")}, true, nft.PolicyAccept)))
		if ans := mustReach(t, l, "a", toC); !strings.HasPrefix(ans, "c 10.0.1.10:") {
			t.Fatalf("answer %q", ans)
		}
		cs, err := l.Counters("r", "")
		must(t, err)
		if got := cs[nft.RuleID{Chain: "forward", ID: "a-to-c"}]; got.Packets == 0 {
			t.Fatalf("router counted no packet from a to c: %v", cs)
		}
		// a resolved c's address to the router's MAC (proxy ARP), not c's.
		var rMAC, cMAC string
		links, err := l.Links("r")
		must(t, err)
		for _, lk := range links {
			if lk.Name == "ea" {
				rMAC = lk.MAC.String()
			}
		}
		cMAC = worldENIs[2].mac
		must(t, l.withHandle("a", func(h *netlink.Handle) error {
			ns, err := h.NeighList(0, netlink.FAMILY_V4)
			if err != nil {
				return err
			}
			for _, n := range ns {
				if n.IP.Equal(cIP.AsSlice()) {
					if got := n.HardwareAddr.String(); got != rMAC || got == cMAC {
						t.Errorf("a's neighbour entry for c is %s, want the router's %s", got, rMAC)
					}
					return nil
				}
			}
			t.Errorf("a has no neighbour entry for c: %v", ns)
			return nil
		}))
	})

	t.Run("security group set allows a, drops c", func(t *testing.T) {
		must(t, l.ApplyTable("r", filterTable([]netip.Prefix{pfx("10.0.1.10/32")}, true, nft.PolicyAccept)))
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); mustBeDropped(t, l, "c", toB) }()
		if ans := mustReach(t, l, "a", toB); !strings.HasPrefix(ans, "b 10.0.1.10:") {
			t.Errorf("answer %q", ans)
		}
		wg.Wait()
		cs, err := l.Counters("r", "")
		must(t, err)
		if cs[nft.RuleID{Chain: "forward", ID: "allow"}].Packets == 0 || cs[nft.RuleID{Chain: "forward", ID: "deny"}].Packets == 0 {
			t.Fatalf("counters %v: want both allow and deny to have counted", cs)
		}
	})

	t.Run("replacement keeps established connections", func(t *testing.T) {
		must(t, l.ApplyTable("r", filterTable([]netip.Prefix{pfx("10.0.1.10/32")}, true, nft.PolicyAccept)))
		open, err := dial(l, "a", toB, 3*time.Second)
		must(t, err)
		defer open.Close()
		if _, err := ask(open); err != nil {
			t.Fatal(err)
		}
		// Remove a from the set; the established rule stays.
		must(t, l.ApplyTable("r", filterTable(nil, true, nft.PolicyAccept)))
		if _, err := ask(open); err != nil {
			t.Fatalf("established connection broken by the replacement: %v", err)
		}
		mustBeDropped(t, l, "a", toB)
		cs, err := l.Counters("r", "")
		must(t, err)
		if cs[nft.RuleID{Chain: "forward", ID: "established"}].Packets == 0 {
			t.Fatalf("established rule counted nothing: %v", cs)
		}
		// Without the established rule the same connection is cut: the
		// survival above is the rule's doing.
		must(t, l.ApplyTable("r", filterTable(nil, false, nft.PolicyAccept)))
		open.SetDeadline(time.Now().Add(dropWait))
		if _, err := fmt.Fprintln(open, "again"); err == nil {
			buf := make([]byte, 64)
			if _, err := open.Read(buf); err == nil || !isTimeout(err) {
				t.Fatalf("read after the established rule was removed: %v, want a timeout", err)
			}
		}
	})

	t.Run("atomic replacement opens no gap", func(t *testing.T) {
		// Policy drop: if a replacement ever left a chain empty or
		// half-built, a SYN would be lost and its retransmission (1 s) would
		// overrun the 500 ms dial timeout. The two tables mean the same but
		// differ in chains, rules and set elements, so every apply changes
		// all three.
		tables := []*nft.Table{
			filterTable([]netip.Prefix{pfx("10.0.1.0/24")}, true, nft.PolicyDrop),
			jumpTable([]netip.Prefix{pfx("10.0.1.0/25"), pfx("10.0.1.128/25")}),
		}
		must(t, l.ApplyTable("r", tables[0]))
		open, err := dial(l, "a", toB, time.Second)
		must(t, err)
		defer open.Close()
		const applies = 80
		done := make(chan struct{})
		var applyErr error
		go func() {
			defer close(done)
			for i := range applies {
				if err := l.ApplyTable("r", tables[(i+1)%2]); err != nil {
					applyErr = err
					return
				}
			}
		}()
		rounds := 0
		for running := true; running; rounds++ {
			select {
			case <-done:
				running = false
			default:
			}
			c, err := dial(l, "c", toB, 500*time.Millisecond)
			if err != nil {
				<-done
				t.Fatalf("round %d: new connection during replacements: %v", rounds, err)
			}
			_, err = ask(c)
			c.Close()
			if err != nil {
				<-done
				t.Fatalf("round %d: exchange: %v", rounds, err)
			}
			if _, err := ask(open); err != nil {
				<-done
				t.Fatalf("round %d: established connection: %v", rounds, err)
			}
		}
		if applyErr != nil {
			t.Fatal(applyErr)
		}
		t.Logf("%d connections during %d replacements, none lost", rounds, applies)
	})
}

// jumpTable means what filterTable(clients, true, PolicyDrop) means, with
// b's rules in a chain of their own, as a security group's would be.
func jumpTable(clients []netip.Prefix) *nft.Table {
	return &nft.Table{
		Sets: []nft.Set{{Name: "web-clients", Family: nft.IPv4, Elements: clients}},
		Chains: []nft.Chain{
			{Name: "forward", Hook: nft.Forward, Policy: nft.PolicyDrop, Rules: []nft.Rule{
				{ID: "established", Match: []nft.Match{nft.Established | nft.Related}, Action: nft.Accept()},
				{ID: "to-b", Match: []nft.Match{nft.DstIP(pfx("10.0.2.20/32"))}, Action: nft.Jump("sg-b")},
				{ID: "rest", Match: []nft.Match{nft.IIFName("e*")}, Action: nft.Accept()},
			}},
			{Name: "sg-b", Rules: []nft.Rule{
				{ID: "web", Match: []nft.Match{nft.TCP, nft.DPortRange(8000, 8100), nft.SrcInSet("web-clients")}, Counter: true, Action: nft.Accept()},
				{Action: nft.Drop()},
			}},
		},
	}
}

// natTable is the router's NAT: b's 1:1 mapping to the elastic IP, and
// masquerade to the router's public address for the rest of the VPC.
func natTable() *nft.Table {
	return &nft.Table{Chains: []nft.Chain{
		{Name: "forward", Hook: nft.Forward, Rules: []nft.Rule{{ID: "fwd", Counter: true}}},
		{Name: "dstnat", Hook: nft.Prerouting, Type: nft.NAT, Priority: nft.PriorityDstNAT, Rules: []nft.Rule{
			{ID: "eip-b-in", Match: []nft.Match{nft.IIFName("igw"), nft.DstIP(netip.PrefixFrom(eip, 32))}, Counter: true, Action: nft.DNAT{To: bIP}},
		}},
		{Name: "srcnat", Hook: nft.Postrouting, Type: nft.NAT, Priority: nft.PrioritySrcNAT, Rules: []nft.Rule{
			{ID: "eip-b-out", Match: []nft.Match{nft.OIFName("igw"), nft.SrcIP(netip.PrefixFrom(bIP, 32))}, Counter: true, Action: nft.SNAT{To: eip}},
			{ID: "masq", Match: []nft.Match{nft.OIFName("igw"), nft.SrcIP(pfx("10.0.0.0/16"))}, Counter: true, Action: nft.Masquerade{}},
		}},
	}}
}

func TestNAT(t *testing.T) {
	t.Parallel()
	l := buildWorld(t)
	echoServer(t, l, "internet", netip.AddrPortFrom(iIP, 8080), "internet")
	echoServer(t, l, "b", netip.AddrPortFrom(bIP, 8080), "b")
	toInternet := netip.AddrPortFrom(iIP, 8080)

	t.Run("internet cannot answer a private address", func(t *testing.T) {
		mustBeDropped(t, l, "a", toInternet)
	})

	must(t, l.ApplyTable("r", natTable()))

	t.Run("masquerade", func(t *testing.T) {
		if ans := mustReach(t, l, "a", toInternet); !strings.HasPrefix(ans, "internet 198.18.0.2:") {
			t.Fatalf("internet saw %q, want the router's public address 198.18.0.2", ans)
		}
	})
	t.Run("1:1 SNAT", func(t *testing.T) {
		if ans := mustReach(t, l, "b", toInternet); !strings.HasPrefix(ans, "internet 198.18.0.50:") {
			t.Fatalf("internet saw %q, want b's elastic IP 198.18.0.50", ans)
		}
	})
	t.Run("1:1 DNAT", func(t *testing.T) {
		if ans := mustReach(t, l, "internet", netip.AddrPortFrom(eip, 8080)); !strings.HasPrefix(ans, "b 198.18.0.1:") {
			t.Fatalf("b saw %q, want the internet client 198.18.0.1", ans)
		}
	})
	cs, err := l.Counters("r", nft.DefaultTable)
	must(t, err)
	for _, id := range []string{"eip-b-in", "eip-b-out", "masq"} {
		c := cs[nft.RuleID{Chain: map[bool]string{true: "dstnat", false: "srcnat"}[id == "eip-b-in"], ID: id}]
		if c.Packets == 0 {
			t.Errorf("NAT rule %s counted nothing: %v", id, cs)
		}
	}
}

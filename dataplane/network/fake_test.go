package network

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/dataplane/nft"
)

func newFake(t *testing.T) *Fake {
	t.Helper()
	f, err := NewFake("unit")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func ok(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestFakeNamespacesAndVeths(t *testing.T) {
	f := newFake(t)
	if _, err := NewFake("Bad-ID"); err == nil {
		t.Fatal("bad daemon id accepted")
	}
	ok(t, f.EnsureNamespace("r"))
	ok(t, f.EnsureNamespace("r"))
	ok(t, f.EnsureNamespace("i"))
	if got, _ := f.Namespaces(); !slices.Equal(got, []string{"i", "r"}) {
		t.Fatalf("namespaces %v", got)
	}
	if err := f.EnsureNamespace(""); err == nil {
		t.Fatal("the host namespace was addressable")
	}
	v := Veth{NS: "i", Name: "eth0", MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, PeerNS: "r", PeerName: "eni-1"}
	ok(t, f.EnsureVeth(v))
	ok(t, f.EnsureVeth(v))
	links, _ := f.Links("i")
	if len(links) != 2 || links[0].Name != "eth0" || !links[0].Up || links[0].MTU != 1500 || links[0].MAC.String() != "02:00:00:00:00:01" {
		t.Fatalf("links of i: %+v", links)
	}
	if err := f.EnsureVeth(Veth{NS: "i", Name: "eth1", PeerNS: "gone", PeerName: "x"}); !errors.Is(err, ErrNoNamespace) {
		t.Fatalf("veth into a missing namespace: %v", err)
	}
	if err := f.EnsureVeth(Veth{NS: "i", Name: "lo", PeerNS: "r", PeerName: "x"}); !errors.Is(err, ErrExists) {
		t.Fatalf("veth over lo: %v", err)
	}
	// A re-pairing replaces the stale end.
	ok(t, f.EnsureVeth(Veth{NS: "i", Name: "eth0", PeerNS: "r", PeerName: "eni-2"}))
	rl, _ := f.Links("r")
	if names := linkNames(rl); !slices.Equal(names, []string{"eni-2", "lo"}) {
		t.Fatalf("router links %v", names)
	}
	// Deleting the namespace takes the far end with it.
	ok(t, f.SetSysctl("r", "net.ipv4.conf.eni-2.proxy_arp", "1"))
	ok(t, f.ReplaceRoute("r", Route{Dst: netip.MustParsePrefix("10.0.1.10/32"), Dev: "eni-2"}))
	ok(t, f.DeleteNamespace("i"))
	ok(t, f.DeleteNamespace("i"))
	rl, _ = f.Links("r")
	if names := linkNames(rl); !slices.Equal(names, []string{"lo"}) {
		t.Fatalf("router links after deleting i: %v", names)
	}
	if rs, _ := f.Routes("r", 0); len(rs) != 0 {
		t.Fatalf("route through a deleted link kept: %v", rs)
	}
	if _, err := f.Sysctl("r", "net.ipv4.conf.eni-2.proxy_arp"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("sysctl of a deleted link: %v", err)
	}
	if err := f.SetSysctl("r", "net.ipv4.conf.eni-2.proxy_arp", "1"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("sysctl of a missing link: %v", err)
	}
	if err := f.SetMTU("r", "eni-2", 1500); !errors.Is(err, ErrNoLink) {
		t.Fatalf("SetMTU on a missing link: %v", err)
	}
}

func linkNames(ls []Link) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Name)
	}
	return out
}

func TestFakeRoutingState(t *testing.T) {
	f := newFake(t)
	ok(t, f.EnsureNamespace("r"))
	ok(t, f.EnsureNamespace("a"))
	ok(t, f.EnsureVeth(Veth{NS: "a", Name: "eth0", PeerNS: "r", PeerName: "ea"}))
	ok(t, f.AddAddr("a", "eth0", netip.MustParsePrefix("10.0.1.10/24")))
	ok(t, f.ReplaceRoute("a", Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Via: netip.MustParseAddr("10.0.1.1"), Dev: "eth0"}))
	rs, _ := f.Routes("a", 0)
	want := []Route{
		{Dst: netip.MustParsePrefix("0.0.0.0/0"), Via: netip.MustParseAddr("10.0.1.1"), Dev: "eth0"},
		{Dst: netip.MustParsePrefix("10.0.1.0/24"), Dev: "eth0", Src: netip.MustParseAddr("10.0.1.10")},
	}
	if !slices.Equal(rs, want) {
		t.Fatalf("routes %v, want %v", rs, want)
	}
	ok(t, f.DelAddr("a", "eth0", netip.MustParsePrefix("10.0.1.10/24")))
	if rs, _ := f.Routes("a", MainTable); len(rs) != 1 {
		t.Fatalf("connected route kept: %v", rs)
	}
	ok(t, f.ReplaceRoute("r", Route{Table: 101, Dst: netip.MustParsePrefix("0.0.0.0/0"), Type: Blackhole}))
	ok(t, f.ReplaceRoute("r", Route{Table: 101, Dst: netip.MustParsePrefix("0.0.0.0/0"), Via: netip.MustParseAddr("198.18.0.1"), Dev: "ea"}))
	if rs, _ := f.Routes("r", 101); len(rs) != 1 || rs[0].Type != Unicast {
		t.Fatalf("replace: %v", rs)
	}
	ok(t, f.DeleteRoute("r", Route{Table: 101, Dst: netip.MustParsePrefix("0.0.0.0/0")}))
	if err := f.ReplaceRoute("r", Route{Dst: netip.MustParsePrefix("10.0.0.0/8"), Dev: "nope"}); !errors.Is(err, ErrNoLink) {
		t.Fatalf("route via missing link: %v", err)
	}
	r1 := Rule{Priority: 1000, From: netip.MustParsePrefix("10.0.1.0/24"), Table: 101}
	r0 := Rule{Priority: 100, To: netip.MustParsePrefix("10.0.0.0/16"), Table: MainTable}
	ok(t, f.AddRule("r", r1))
	ok(t, f.AddRule("r", r1))
	ok(t, f.AddRule("r", r0))
	if got, _ := f.Rules("r"); !slices.EqualFunc(got, []Rule{r0, r1}, Rule.equal) {
		t.Fatalf("rules %v", got)
	}
	ok(t, f.DeleteRule("r", r1))
	if err := f.AddRule("r", Rule{Priority: 0, Table: 5}); err == nil {
		t.Fatal("priority 0 accepted")
	}
	ok(t, f.SetNeigh("r", Neigh{Dev: "ea", IP: netip.MustParseAddr("10.0.1.10"), MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}}))
	ok(t, f.SetNeigh("r", Neigh{Dev: "ea", IP: netip.MustParseAddr("10.0.1.99"), Proxy: true}))
	if ns, _ := f.Neighs("r"); len(ns) != 2 {
		t.Fatalf("neighbours %v", ns)
	}
	if err := f.SetNeigh("r", Neigh{Dev: "ea", IP: netip.MustParseAddr("10.0.1.11")}); err == nil {
		t.Fatal("neighbour without MAC accepted")
	}
	ok(t, f.SetSysctl("r", "net.ipv4.ip_forward", "1"))
	if v, _ := f.Sysctl("r", "net/ipv4/ip_forward"); v != "1" {
		t.Fatalf("sysctl %q", v)
	}
	if err := f.SetSysctl("r", "kernel.hostname", "x"); err == nil {
		t.Fatal("global sysctl accepted")
	}
}

func TestFakeTablesCallsAndFailures(t *testing.T) {
	f := newFake(t)
	ok(t, f.EnsureNamespace("r"))
	tbl := &nft.Table{Chains: []nft.Chain{{Name: "forward", Hook: nft.Forward, Rules: []nft.Rule{{ID: "x", Counter: true, Action: nft.Accept()}}}}}
	ok(t, f.ApplyTable("r", tbl))
	tbl.Chains[0].Name = "changed" // the fake kept its own copy
	if got := f.Table("r", ""); got == nil || got.Chains[0].Name != "forward" {
		t.Fatalf("stored table %v", got)
	}
	id := nft.RuleID{Chain: "forward", ID: "x"}
	ok(t, f.SetCounter("r", "", id, nft.Counter{Packets: 3, Bytes: 180}))
	cs, err := f.Counters("r", "")
	ok(t, err)
	if cs[id] != (nft.Counter{Packets: 3, Bytes: 180}) {
		t.Fatalf("counters %v", cs)
	}
	if err := f.ApplyTable("r", &nft.Table{Chains: []nft.Chain{{Name: "a", Rules: []nft.Rule{{Action: nft.Jump("nope")}}}}}); err == nil {
		t.Fatal("invalid table accepted")
	}
	ok(t, f.DeleteTable("r", ""))
	if _, err := f.Counters("r", ""); !errors.Is(err, nft.ErrNoTable) {
		t.Fatalf("counters of a deleted table: %v", err)
	}

	boom := errors.New("boom")
	f.FailNext("ApplyTable", boom)
	if err := f.ApplyTable("r", tbl); !errors.Is(err, boom) {
		t.Fatalf("injected failure: %v", err)
	}
	if f.Table("r", "") != nil {
		t.Fatal("a failed call changed state")
	}
	ok(t, f.ApplyTable("r", &nft.Table{}))
	calls := f.Calls()
	if !slices.Contains(calls, `EnsureNamespace("r")`) || !slices.Contains(calls, `ApplyTable("r", "cloudbox")`) {
		t.Fatalf("calls %q", calls)
	}
	f.ResetCalls()
	if len(f.Calls()) != 0 {
		t.Fatal("ResetCalls")
	}
	if !strings.Contains(f.String(), "namespace r") {
		t.Fatalf("String: %s", f)
	}
}

func TestFakeSockets(t *testing.T) {
	f := newFake(t)
	ok(t, f.EnsureNamespace("b"))
	ok(t, f.EnsureNamespace("a"))
	ok(t, f.EnsureVeth(Veth{NS: "b", Name: "eth0", PeerNS: "a", PeerName: "x"}))
	if _, err := f.ListenTCP("b", netip.MustParseAddrPort("10.0.2.20:8080")); !errors.Is(err, syscall.EADDRNOTAVAIL) {
		t.Fatalf("listen on an address b does not have: %v", err)
	}
	ok(t, f.AddAddr("b", "eth0", netip.MustParsePrefix("10.0.2.20/24")))
	ln, err := f.ListenTCP("b", netip.MustParseAddrPort("10.0.2.20:8080"))
	ok(t, err)
	defer ln.Close()
	if ln.Addr().String() != "10.0.2.20:8080" {
		t.Fatalf("listener address %s", ln.Addr())
	}
	if _, err := f.ListenTCP("b", netip.MustParseAddrPort("10.0.2.20:8080")); !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("second listener: %v", err)
	}
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.WriteString(c, "hi")
			c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := f.DialTCP(ctx, "a", netip.MustParseAddrPort("10.0.2.20:8080"))
	ok(t, err)
	b, _ := io.ReadAll(c)
	c.Close()
	if string(b) != "hi" {
		t.Fatalf("read %q", b)
	}
	if _, err := f.DialTCP(ctx, "a", netip.MustParseAddrPort("10.0.2.20:9")); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial to nothing: %v", err)
	}
	ln.Close()
	if _, err := f.DialTCP(ctx, "a", netip.MustParseAddrPort("10.0.2.20:8080")); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial after close: %v", err)
	}
	// A wildcard listener answers for the addresses of its namespace.
	wl, err := f.ListenTCP("b", netip.MustParseAddrPort("0.0.0.0:0"))
	ok(t, err)
	defer wl.Close()
	port := wl.Addr().(*net.TCPAddr).Port
	go func() {
		if c, err := wl.Accept(); err == nil {
			c.Close()
		}
	}()
	c, err = f.DialTCP(ctx, "a", netip.AddrPortFrom(netip.MustParseAddr("10.0.2.20"), uint16(port)))
	ok(t, err)
	c.Close()
	pc, err := f.ListenUDP("b", netip.MustParseAddrPort("10.0.2.20:53"))
	ok(t, err)
	defer pc.Close()
	if pc.LocalAddr().String() != "10.0.2.20:53" {
		t.Fatalf("UDP address %s", pc.LocalAddr())
	}
}

//go:build linux

package network

import (
	"net"
	"net/netip"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/cloudbox/cloudbox/dataplane/nft"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The ranges that must never appear in the host's networking because of
// cloudbox: VPC ranges and the simulated public range.
var forbidden = []netip.Prefix{pfx("10.0.0.0/8"), pfx("172.16.0.0/12"), pfx("192.168.0.0/16"), pfx("198.18.0.0/15")}

// world is what the test world uses: nothing of these may reach the host
// even if the host itself uses a private range for its own network.
var worldRanges = []netip.Prefix{pfx("10.0.0.0/16"), pfx("198.18.0.0/16")}

type hostState struct {
	addrs  []netip.Prefix
	neighs []netip.Addr
	// Everything an address of a route or rule names: destinations,
	// gateways, preferred sources, rule prefixes.
	routeAddrs []netip.Prefix
	routeOf    map[netip.Prefix]string
}

// readHost reads the host namespace's networking. It runs on a thread
// checked to be in the host namespace (the process's main thread's).
func readHost(t *testing.T) hostState {
	t.Helper()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if a, b := nsInode(t, "/proc/thread-self/ns/net"), nsInode(t, "/proc/self/ns/net"); a != b {
		t.Fatalf("test thread not in the host namespace (%d, main thread %d)", a, b)
	}
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	must(t, err)
	defer h.Close()
	var s hostState
	links, err := retryDump(h.LinkList)
	must(t, err)
	for _, l := range links {
		addrs, err := retryDump(func() ([]netlink.Addr, error) { return h.AddrList(l, netlink.FAMILY_ALL) })
		must(t, err)
		for _, a := range addrs {
			if p, ok := fromIPNet(a.IPNet); ok {
				s.addrs = append(s.addrs, p)
			}
		}
	}
	routes, err := retryDump(func() ([]netlink.Route, error) {
		return h.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Table: unix.RT_TABLE_UNSPEC}, netlink.RT_FILTER_TABLE)
	})
	must(t, err)
	s.routeOf = map[netip.Prefix]string{}
	note := func(p netip.Prefix, what string) {
		s.routeAddrs = append(s.routeAddrs, p)
		s.routeOf[p] = what
	}
	for _, r := range routes {
		if p, ok := fromIPNet(r.Dst); ok {
			note(p, r.String())
		}
		for _, a := range [][]byte{r.Gw, r.Src} {
			if a, ok := netip.AddrFromSlice(a); ok {
				note(netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()), r.String())
			}
		}
	}
	for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		rules, err := retryDump(func() ([]netlink.Rule, error) { return h.RuleList(fam) })
		must(t, err)
		for _, r := range rules {
			for _, n := range []*net.IPNet{r.Src, r.Dst} {
				if p, ok := fromIPNet(n); ok {
					note(p, "rule "+r.String())
				}
			}
		}
		neighs, err := retryDump(func() ([]netlink.Neigh, error) { return h.NeighList(0, fam) })
		must(t, err)
		for _, n := range neighs {
			if a, ok := netip.AddrFromSlice(n.IP); ok {
				s.neighs = append(s.neighs, a.Unmap())
			}
		}
	}
	return s
}

func inAny(p netip.Prefix, ranges []netip.Prefix) bool {
	for _, r := range ranges {
		if p.Bits() > 0 && p.Overlaps(r) {
			return true
		}
	}
	return false
}

// TestSafetyInvariant builds the mini world, runs traffic through every
// path (routed, same-subnet, masquerade, 1:1 NAT both ways), and checks that
// the host namespace gained no route, rule, address, neighbour or link for
// a VPC or simulated public address, and that the internet namespace has
// no route back to any private range.
func TestSafetyInvariant(t *testing.T) {
	t.Parallel()
	before := readHost(t)
	for _, p := range before.routeAddrs {
		if inAny(p, worldRanges) {
			t.Fatalf("host already routes %s (%s), which the test world uses; refusing to run", p, before.routeOf[p])
		}
	}
	l := buildWorld(t)
	must(t, l.ApplyTable("r", natTable()))
	echoServer(t, l, "b", netip.AddrPortFrom(bIP, 8080), "b")
	echoServer(t, l, "c", netip.AddrPortFrom(cIP, 8080), "c")
	echoServer(t, l, "internet", netip.AddrPortFrom(iIP, 8080), "internet")
	mustReach(t, l, "a", netip.AddrPortFrom(bIP, 8080))
	mustReach(t, l, "a", netip.AddrPortFrom(cIP, 8080))
	mustReach(t, l, "a", netip.AddrPortFrom(iIP, 8080))
	mustReach(t, l, "b", netip.AddrPortFrom(iIP, 8080))
	mustReach(t, l, "internet", netip.AddrPortFrom(eip, 8080))

	after := readHost(t)
	// Nothing of the world's ranges at all, whatever the host had.
	for _, p := range after.routeAddrs {
		if inAny(p, worldRanges) {
			t.Errorf("host routing names %s: %s", p, after.routeOf[p])
		}
	}
	for _, p := range after.addrs {
		if inAny(p, worldRanges) {
			t.Errorf("host address %s", p)
		}
	}
	for _, a := range after.neighs {
		if inAny(netip.PrefixFrom(a, a.BitLen()), worldRanges) {
			t.Errorf("host neighbour entry for %s: the host tried to reach it", a)
		}
	}
	// And nothing new in any VPC or simulated public range. (Only these
	// are compared: other tests on the machine may change the host's
	// networking for their own reasons.)
	for _, p := range after.routeAddrs {
		if inAny(p, forbidden) && !slices.Contains(before.routeAddrs, p) {
			t.Errorf("new host route or rule naming %s: %s", p, after.routeOf[p])
		}
	}
	for _, a := range after.addrs {
		if inAny(a, forbidden) && !slices.Contains(before.addrs, a) {
			t.Errorf("new host address %s", a)
		}
	}
	for _, a := range after.neighs {
		if inAny(netip.PrefixFrom(a, a.BitLen()), forbidden) && !slices.Contains(before.neighs, a) {
			t.Errorf("new host neighbour %s", a)
		}
	}

	// No nftables table of ours in the host namespace.
	runtime.LockOSThread()
	c, err := nft.NewConn()
	runtime.UnlockOSThread()
	must(t, err)
	defer c.CloseLasting()
	tables, err := c.ListTables()
	must(t, err)
	for _, tb := range tables {
		if strings.HasPrefix(tb.Name, nft.DefaultTable) {
			t.Errorf("host namespace has nftables table %s", tb.Name)
		}
	}

	// internet knows no private address: no default route, nothing private.
	for _, table := range []int{0, publicTable} {
		routes, err := l.Routes("internet", table)
		must(t, err)
		for _, r := range routes {
			if r.Dst.Bits() == 0 || inAny(r.Dst, forbidden[:3]) {
				t.Errorf("internet has route %s", r)
			}
		}
	}
}

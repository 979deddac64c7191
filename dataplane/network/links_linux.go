//go:build linux

package network

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// withHandle runs fn with a rtnetlink handle whose socket was opened inside
// ns, so every request it sends acts on ns.
func (l *Linux) withHandle(ns string, fn func(h *netlink.Handle) error) error {
	var h *netlink.Handle
	err := l.Do(ns, func() (err error) {
		h, err = netlink.NewHandle(unix.NETLINK_ROUTE)
		return err
	})
	if err != nil {
		return err
	}
	defer h.Close()
	return fn(h)
}

// retryDump repeats a netlink dump the kernel reports as interrupted (the
// table changed while it was being read).
func retryDump[T any](f func() (T, error)) (T, error) {
	var v T
	var err error
	for range 5 {
		if v, err = f(); !errors.Is(err, netlink.ErrDumpInterrupted) {
			return v, err
		}
	}
	return v, err
}

func linkByName(h *netlink.Handle, ns, name string) (netlink.Link, error) {
	lk, err := h.LinkByName(name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) || errors.Is(err, unix.ENODEV) {
			return nil, fmt.Errorf("network: %w: %s in %s", ErrNoLink, name, ns)
		}
		return nil, fmt.Errorf("network: link %s in %s: %w", name, ns, err)
	}
	return lk, nil
}

// EnsureVeth creates the pair, or checks and corrects an existing one. A
// half pair (one end exists, paired with something else) is replaced.
func (l *Linux) EnsureVeth(v Veth) error {
	if err := checkVeth(v); err != nil {
		return err
	}
	return l.withHandle(v.NS, func(h *netlink.Handle) error {
		return l.withHandle(v.PeerNS, func(ph *netlink.Handle) error {
			a, errA := linkByName(h, v.NS, v.Name)
			b, errB := linkByName(ph, v.PeerNS, v.PeerName)
			for _, err := range []error{errA, errB} {
				if err != nil && !errors.Is(err, ErrNoLink) {
					return err
				}
			}
			paired := errA == nil && errB == nil && a.Type() == "veth" && b.Type() == "veth" &&
				a.Attrs().ParentIndex == b.Attrs().Index && b.Attrs().ParentIndex == a.Attrs().Index
			if !paired {
				for _, x := range []struct {
					h    *netlink.Handle
					lk   netlink.Link
					ns   string
					name string
				}{{h, a, v.NS, v.Name}, {ph, b, v.PeerNS, v.PeerName}} {
					if x.lk == nil {
						continue
					}
					if x.lk.Type() != "veth" {
						return fmt.Errorf("network: %w: %s in %s is a %s, not a veth", ErrExists, x.name, x.ns, x.lk.Type())
					}
					if err := x.h.LinkDel(x.lk); err != nil && !errors.Is(err, unix.ENODEV) {
						return fmt.Errorf("network: delete stale %s in %s: %w", x.name, x.ns, err)
					}
				}
				fd, err := l.openNS(v.PeerNS)
				if err != nil {
					return err
				}
				veth := &netlink.Veth{
					LinkAttrs:        netlink.LinkAttrs{Name: v.Name, HardwareAddr: v.MAC, MTU: v.MTU},
					PeerName:         v.PeerName,
					PeerHardwareAddr: v.PeerMAC,
					PeerNamespace:    netlink.NsFd(fd),
					PeerMTU:          uint32(v.MTU),
				}
				err = h.LinkAdd(veth)
				unix.Close(fd)
				if err != nil {
					return fmt.Errorf("network: add veth %s/%s - %s/%s: %w", v.NS, v.Name, v.PeerNS, v.PeerName, err)
				}
				if a, err = linkByName(h, v.NS, v.Name); err != nil {
					return err
				}
				if b, err = linkByName(ph, v.PeerNS, v.PeerName); err != nil {
					return err
				}
			}
			if err := reconcileLink(h, a, v.MAC, v.MTU); err != nil {
				return fmt.Errorf("network: %s in %s: %w", v.Name, v.NS, err)
			}
			if err := reconcileLink(ph, b, v.PeerMAC, v.MTU); err != nil {
				return fmt.Errorf("network: %s in %s: %w", v.PeerName, v.PeerNS, err)
			}
			return nil
		})
	})
}

func reconcileLink(h *netlink.Handle, lk netlink.Link, mac net.HardwareAddr, mtu int) error {
	at := lk.Attrs()
	if len(mac) > 0 && !bytes.Equal(at.HardwareAddr, mac) {
		if err := h.LinkSetHardwareAddr(lk, mac); err != nil {
			return err
		}
	}
	if mtu > 0 && at.MTU != mtu {
		if err := h.LinkSetMTU(lk, mtu); err != nil {
			return err
		}
	}
	if at.Flags&net.FlagUp == 0 {
		return h.LinkSetUp(lk)
	}
	return nil
}

// DeleteLink deletes the link; a veth's peer goes with it.
func (l *Linux) DeleteLink(ns, name string) error {
	if err := checkLinkName(name); err != nil {
		return err
	}
	return l.withHandle(ns, func(h *netlink.Handle) error {
		lk, err := linkByName(h, ns, name)
		if errors.Is(err, ErrNoLink) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := h.LinkDel(lk); err != nil && !errors.Is(err, unix.ENODEV) {
			return fmt.Errorf("network: delete %s in %s: %w", name, ns, err)
		}
		return nil
	})
}

// SetLinkUp brings the link up or down.
func (l *Linux) SetLinkUp(ns, name string, up bool) error {
	if err := checkLinkName(name); err != nil {
		return err
	}
	return l.withHandle(ns, func(h *netlink.Handle) error {
		lk, err := linkByName(h, ns, name)
		if err != nil {
			return err
		}
		if up {
			err = h.LinkSetUp(lk)
		} else {
			err = h.LinkSetDown(lk)
		}
		if err != nil {
			return fmt.Errorf("network: set %s in %s up=%v: %w", name, ns, up, err)
		}
		return nil
	})
}

// SetMTU changes the link's MTU.
func (l *Linux) SetMTU(ns, name string, mtu int) error {
	if err := checkLinkName(name); err != nil {
		return err
	}
	if mtu < 68 || mtu > 65535 {
		return fmt.Errorf("network: MTU %d out of range", mtu)
	}
	return l.withHandle(ns, func(h *netlink.Handle) error {
		lk, err := linkByName(h, ns, name)
		if err != nil {
			return err
		}
		if err := h.LinkSetMTU(lk, mtu); err != nil {
			return fmt.Errorf("network: set MTU of %s in %s: %w", name, ns, err)
		}
		return nil
	})
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func fromIPNet(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, _ := n.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones), true
}

func checkAddr(p netip.Prefix) error {
	if !p.IsValid() || p.Addr().Is4In6() {
		return fmt.Errorf("network: invalid address %v", p)
	}
	return nil
}

// AddAddr adds (or refreshes) an address on the link. IPv6 addresses skip
// duplicate address detection: the world is ours, and DAD would leave them
// unusable for a second.
func (l *Linux) AddAddr(ns, link string, p netip.Prefix) error {
	if err := checkLinkName(link); err != nil {
		return err
	}
	if err := checkAddr(p); err != nil {
		return err
	}
	return l.withHandle(ns, func(h *netlink.Handle) error {
		lk, err := linkByName(h, ns, link)
		if err != nil {
			return err
		}
		a := &netlink.Addr{IPNet: ipNet(p)}
		if p.Addr().Is6() {
			a.Flags = unix.IFA_F_NODAD
		}
		if err := h.AddrReplace(lk, a); err != nil {
			return fmt.Errorf("network: add %s to %s in %s: %w", p, link, ns, err)
		}
		return nil
	})
}

// DelAddr removes the address; an absent one is not an error.
func (l *Linux) DelAddr(ns, link string, p netip.Prefix) error {
	if err := checkLinkName(link); err != nil {
		return err
	}
	if err := checkAddr(p); err != nil {
		return err
	}
	return l.withHandle(ns, func(h *netlink.Handle) error {
		lk, err := linkByName(h, ns, link)
		if err != nil {
			return err
		}
		if err := h.AddrDel(lk, &netlink.Addr{IPNet: ipNet(p)}); err != nil && !errors.Is(err, unix.EADDRNOTAVAIL) {
			return fmt.Errorf("network: delete %s from %s in %s: %w", p, link, ns, err)
		}
		return nil
	})
}

// Links lists the namespace's links with their addresses (IPv6 link-local
// addresses, which the kernel adds by itself, left out).
func (l *Linux) Links(ns string) ([]Link, error) {
	var out []Link
	err := l.withHandle(ns, func(h *netlink.Handle) error {
		links, err := retryDump(h.LinkList)
		if err != nil {
			return fmt.Errorf("network: list links in %s: %w", ns, err)
		}
		for _, lk := range links {
			at := lk.Attrs()
			li := Link{Name: at.Name, Kind: lk.Type(), MAC: at.HardwareAddr, MTU: at.MTU, Up: at.Flags&net.FlagUp != 0}
			if li.Kind == "device" && at.Name == "lo" {
				li.Kind = "loopback"
			}
			addrs, err := retryDump(func() ([]netlink.Addr, error) { return h.AddrList(lk, netlink.FAMILY_ALL) })
			if err != nil {
				return fmt.Errorf("network: list addresses of %s in %s: %w", at.Name, ns, err)
			}
			for _, a := range addrs {
				if p, ok := fromIPNet(a.IPNet); ok && !p.Addr().IsLinkLocalUnicast() {
					li.Addrs = append(li.Addrs, p)
				}
			}
			out = append(out, li)
		}
		return nil
	})
	return out, err
}

var routeTypes = map[RouteType]int{
	Unicast:     unix.RTN_UNICAST,
	Blackhole:   unix.RTN_BLACKHOLE,
	Unreachable: unix.RTN_UNREACHABLE,
	Prohibit:    unix.RTN_PROHIBIT,
}

func (l *Linux) toNetlinkRoute(h *netlink.Handle, ns string, r Route) (*netlink.Route, error) {
	nr := &netlink.Route{
		Table:  r.table(),
		Dst:    ipNet(r.Dst),
		Type:   routeTypes[r.Type],
		Family: netlink.FAMILY_V4,
	}
	if r.Dst.Addr().Is6() {
		nr.Family = netlink.FAMILY_V6
	}
	if r.Via.IsValid() {
		nr.Gw = r.Via.AsSlice()
	}
	if r.Src.IsValid() {
		nr.Src = r.Src.AsSlice()
	}
	if r.Dev != "" {
		lk, err := linkByName(h, ns, r.Dev)
		if err != nil {
			return nil, err
		}
		nr.LinkIndex = lk.Attrs().Index
	}
	if r.Type == Unicast && !r.Via.IsValid() {
		nr.Scope = netlink.SCOPE_LINK // on-link, as `ip route add ... dev X` does
	}
	return nr, nil
}

// ReplaceRoute adds the route or replaces the one with the same table and
// destination.
func (l *Linux) ReplaceRoute(ns string, r Route) error {
	if err := checkRoute(r); err != nil {
		return err
	}
	return l.withHandle(ns, func(h *netlink.Handle) error {
		nr, err := l.toNetlinkRoute(h, ns, r)
		if err != nil {
			return err
		}
		if err := h.RouteReplace(nr); err != nil {
			return fmt.Errorf("network: route %s in %s: %w", r, ns, err)
		}
		return nil
	})
}

// DeleteRoute removes the route with r's table and destination; an absent
// route is not an error.
func (l *Linux) DeleteRoute(ns string, r Route) error {
	if !r.Dst.IsValid() {
		return fmt.Errorf("network: route without destination")
	}
	return l.withHandle(ns, func(h *netlink.Handle) error {
		nr := &netlink.Route{Table: r.table(), Dst: ipNet(r.Dst), Family: netlink.FAMILY_V4}
		if r.Dst.Addr().Is6() {
			nr.Family = netlink.FAMILY_V6
		}
		if err := h.RouteDel(nr); err != nil && !errors.Is(err, unix.ESRCH) && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("network: delete route %s in %s: %w", r, ns, err)
		}
		return nil
	})
}

// Routes lists the unicast, blackhole, unreachable and prohibit routes of
// the table, IPv6 link-local and multicast routes left out.
func (l *Linux) Routes(ns string, table int) ([]Route, error) {
	if table == 0 {
		table = MainTable
	}
	var out []Route
	err := l.withHandle(ns, func(h *netlink.Handle) error {
		links, err := retryDump(h.LinkList)
		if err != nil {
			return err
		}
		names := map[int]string{}
		for _, lk := range links {
			names[lk.Attrs().Index] = lk.Attrs().Name
		}
		routes, err := retryDump(func() ([]netlink.Route, error) {
			return h.RouteListFiltered(netlink.FAMILY_ALL, &netlink.Route{Table: table}, netlink.RT_FILTER_TABLE)
		})
		if err != nil {
			return fmt.Errorf("network: list routes in %s: %w", ns, err)
		}
		for _, nr := range routes {
			var typ RouteType
			found := false
			for t, n := range routeTypes {
				if n == nr.Type {
					typ, found = t, true
				}
			}
			if !found {
				continue
			}
			r := Route{Table: nr.Table, Type: typ, Dev: names[nr.LinkIndex]}
			if p, ok := fromIPNet(nr.Dst); ok {
				r.Dst = p
			} else if nr.Family == netlink.FAMILY_V6 {
				r.Dst = netip.PrefixFrom(netip.IPv6Unspecified(), 0)
			} else {
				r.Dst = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
			}
			if a := r.Dst.Addr(); a.Is6() && (a.IsLinkLocalUnicast() || a.IsMulticast()) {
				continue
			}
			if a, ok := netip.AddrFromSlice(nr.Gw); ok {
				r.Via = a.Unmap()
			}
			if a, ok := netip.AddrFromSlice(nr.Src); ok {
				r.Src = a.Unmap()
			}
			if r.Table == MainTable && table == MainTable {
				r.Table = 0
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

func toNetlinkRule(r Rule) *netlink.Rule {
	nr := netlink.NewRule()
	nr.Priority = r.Priority
	nr.Table = r.Table
	nr.Family = netlink.FAMILY_V4
	if r.From.IsValid() {
		nr.Src = ipNet(r.From)
		if r.From.Addr().Is6() {
			nr.Family = netlink.FAMILY_V6
		}
	}
	if r.To.IsValid() {
		nr.Dst = ipNet(r.To)
		if r.To.Addr().Is6() {
			nr.Family = netlink.FAMILY_V6
		}
	}
	nr.IifName = r.IIF
	return nr
}

func (l *Linux) listRules(h *netlink.Handle) ([]Rule, error) {
	var out []Rule
	for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		rules, err := retryDump(func() ([]netlink.Rule, error) { return h.RuleList(fam) })
		if err != nil {
			return nil, err
		}
		for _, nr := range rules {
			if nr.Priority == 0 || nr.Priority >= 32766 {
				continue // the kernel's local, main and default rules
			}
			r := Rule{Priority: nr.Priority, Table: nr.Table, IIF: nr.IifName}
			if p, ok := fromIPNet(nr.Src); ok && !(p.Bits() == 0 && p.Addr().IsUnspecified()) {
				r.From = p
			}
			if p, ok := fromIPNet(nr.Dst); ok && !(p.Bits() == 0 && p.Addr().IsUnspecified()) {
				r.To = p
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// AddRule adds the policy rule unless an identical one exists.
func (l *Linux) AddRule(ns string, r Rule) error {
	if err := checkRule(r); err != nil {
		return err
	}
	return l.withHandle(ns, func(h *netlink.Handle) error {
		rules, err := l.listRules(h)
		if err != nil {
			return fmt.Errorf("network: list rules in %s: %w", ns, err)
		}
		for _, x := range rules {
			if x.equal(r) {
				return nil
			}
		}
		if err := h.RuleAdd(toNetlinkRule(r)); err != nil {
			return fmt.Errorf("network: add rule %s in %s: %w", r, ns, err)
		}
		return nil
	})
}

// DeleteRule removes the identical rule; an absent one is not an error.
func (l *Linux) DeleteRule(ns string, r Rule) error {
	if err := checkRule(r); err != nil {
		return err
	}
	return l.withHandle(ns, func(h *netlink.Handle) error {
		if err := h.RuleDel(toNetlinkRule(r)); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("network: delete rule %s in %s: %w", r, ns, err)
		}
		return nil
	})
}

// Rules lists the namespace's policy rules but the kernel's own.
func (l *Linux) Rules(ns string) ([]Rule, error) {
	var out []Rule
	err := l.withHandle(ns, func(h *netlink.Handle) (err error) {
		out, err = l.listRules(h)
		return err
	})
	return out, err
}

func toNetlinkNeigh(h *netlink.Handle, ns string, n Neigh) (*netlink.Neigh, error) {
	lk, err := linkByName(h, ns, n.Dev)
	if err != nil {
		return nil, err
	}
	nn := &netlink.Neigh{LinkIndex: lk.Attrs().Index, Family: netlink.FAMILY_V4, IP: n.IP.AsSlice(), State: netlink.NUD_PERMANENT}
	if n.IP.Is6() {
		nn.Family = netlink.FAMILY_V6
	}
	if n.Proxy {
		nn.Flags = netlink.NTF_PROXY
	} else {
		nn.HardwareAddr = n.MAC
	}
	return nn, nil
}

// SetNeigh adds or replaces a permanent neighbour entry, or a proxy entry.
func (l *Linux) SetNeigh(ns string, n Neigh) error {
	if err := checkNeigh(n); err != nil {
		return err
	}
	return l.withHandle(ns, func(h *netlink.Handle) error {
		nn, err := toNetlinkNeigh(h, ns, n)
		if err != nil {
			return err
		}
		if err := h.NeighSet(nn); err != nil {
			return fmt.Errorf("network: neighbour %s in %s: %w", n, ns, err)
		}
		return nil
	})
}

// DeleteNeigh removes the entry; an absent one is not an error.
func (l *Linux) DeleteNeigh(ns string, n Neigh) error {
	if err := checkLinkName(n.Dev); err != nil {
		return err
	}
	if !n.IP.IsValid() {
		return fmt.Errorf("network: neighbour without address")
	}
	return l.withHandle(ns, func(h *netlink.Handle) error {
		nn, err := toNetlinkNeigh(h, ns, n)
		if errors.Is(err, ErrNoLink) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := h.NeighDel(nn); err != nil && !errors.Is(err, unix.ENOENT) {
			return fmt.Errorf("network: delete neighbour %s in %s: %w", n, ns, err)
		}
		return nil
	})
}

// SetSysctl writes /proc/sys/<key> from inside the namespace, where
// net.* resolves to the namespace's own values.
func (l *Linux) SetSysctl(ns, key, value string) error {
	path, err := sysctlPath(key)
	if err != nil {
		return err
	}
	if strings.ContainsAny(value, "\n\x00") {
		return fmt.Errorf("network: sysctl value %q has a newline or NUL", value)
	}
	return l.Do(ns, func() error {
		if err := os.WriteFile(path, []byte(value+"\n"), 0o644); err != nil {
			return fmt.Errorf("network: sysctl %s=%s in %s: %w", key, value, ns, err)
		}
		return nil
	})
}

// Sysctl reads /proc/sys/<key> from inside the namespace.
func (l *Linux) Sysctl(ns, key string) (string, error) {
	path, err := sysctlPath(key)
	if err != nil {
		return "", err
	}
	var v string
	err = l.Do(ns, func() error {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("network: sysctl %s in %s: %w", key, ns, err)
		}
		v = strings.TrimSpace(string(b))
		return nil
	})
	return v, err
}

package vpc

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/dataplane/network"
	"github.com/cloudbox/cloudbox/desired"
)

// Reconciler keeps the kernel's network equal to a World. Apply is
// serialized internally and safe for concurrent callers.
type Reconciler struct {
	n   network.Network
	log *slog.Logger

	mu sync.Mutex
	// applied is the state last applied without error; nil means unknown
	// (first call, or after an error): the next Apply reads the kernel.
	applied map[string]*nsState
}

// New returns a Reconciler that changes the kernel through n.
func New(n network.Network, log *slog.Logger) *Reconciler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Reconciler{n: n, log: log}
}

// Apply makes the daemon's namespaces hold w's network: it computes the
// desired state, changes only what differs from what it last applied (on
// the first call, or after an error, from what the kernel has), and
// deletes the daemon's namespaces that w does not have.
//
// It goes on after a failed change and returns every error joined; the
// next call then starts again from the kernel's state.
func (r *Reconciler) Apply(w *desired.World) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	start := time.Now()
	want, err := build(w)
	if err != nil {
		return err
	}
	have := r.applied
	if have == nil {
		if have, err = r.observe(want); err != nil {
			return err
		}
	}
	c := &changes{n: r.n, log: r.log}
	c.converge(have, want)
	if err := errors.Join(c.errs...); err != nil {
		r.applied = nil
		return fmt.Errorf("vpc: %w", err)
	}
	r.applied = want
	if c.count > 0 {
		r.log.Info("vpc network applied", "changes", c.count, "namespaces", len(want), "took", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// observe reads back from the kernel what the diff needs: the daemon's
// namespaces and, in those that stay, links, addresses, routes and rules.
// Sysctls, neighbours and nftables tables cannot be listed through Network;
// they are left unknown, so the diff sets them all again (idempotently).
func (r *Reconciler) observe(want map[string]*nsState) (map[string]*nsState, error) {
	names, err := r.n.Namespaces()
	if err != nil {
		return nil, fmt.Errorf("vpc: %w", err)
	}
	have := map[string]*nsState{}
	links := map[string]map[string]network.Link{}
	for _, ns := range names {
		s := newNS()
		have[ns] = s
		w := want[ns]
		if w == nil {
			continue // to be deleted whole
		}
		ls, err := r.n.Links(ns)
		if err != nil {
			return nil, fmt.Errorf("vpc: %w", err)
		}
		links[ns] = map[string]network.Link{}
		for _, l := range ls {
			links[ns][l.Name] = l
			if l.Kind == "veth" {
				s.links[l.Name] = true
			}
			for _, a := range l.Addrs {
				if a.Addr().Is4() && !a.Addr().IsLoopback() {
					s.addrs[linkAddr{l.Name, a}] = true
				}
			}
		}
		rules, err := r.n.Rules(ns)
		if err != nil {
			return nil, fmt.Errorf("vpc: %w", err)
		}
		tables := maps.Clone(w.tables)
		tables[0] = true
		for _, ru := range rules {
			s.rules[ru] = true
			if ru.Table != network.MainTable {
				tables[ru.Table] = true
			}
		}
		for _, t := range slices.Sorted(maps.Keys(tables)) {
			routes, err := r.n.Routes(ns, t)
			if err != nil {
				return nil, fmt.Errorf("vpc: %w", err)
			}
			for _, rt := range routes {
				// Routes with a preferred source are the kernel's own (the
				// prefix route of an address); IPv6 is not ours either.
				if rt.Dst.Addr().Is4() && !rt.Src.IsValid() {
					s.addRoute(rt)
				}
			}
		}
	}
	// A pair is there when both ends are, with the wanted MACs.
	for ns, w := range want {
		for name, v := range w.veths {
			a, okA := links[ns][name]
			p, okP := links[v.PeerNS][v.PeerName]
			if okA && okP && a.Kind == "veth" && p.Kind == "veth" &&
				(len(v.MAC) == 0 || slices.Equal(a.MAC, v.MAC)) && (len(v.PeerMAC) == 0 || slices.Equal(p.MAC, v.PeerMAC)) {
				have[ns].veths[name] = v
			}
		}
	}
	return have, nil
}

// changes runs the calls that turn one state into another, counting them
// and collecting errors.
type changes struct {
	n     network.Network
	log   *slog.Logger
	count int
	errs  []error
}

func (c *changes) do(what string, err error) {
	c.count++
	if err != nil {
		c.errs = append(c.errs, fmt.Errorf("%s: %w", what, err))
		return
	}
	c.log.Debug("vpc network", "change", what)
}

// converge makes the calls that turn have into want. Order matters:
// namespaces before what is in them, filtering before links (a new ENI is
// filtered from its first packet), links before their addresses, routes
// and neighbours, on-link routes before routes via a gateway, new policy
// rules before the removal of old ones (a subnet's association changes
// without a gap), removals last.
func (c *changes) converge(have, want map[string]*nsState) {
	for _, ns := range slices.Sorted(maps.Keys(have)) {
		if want[ns] == nil {
			c.do("delete namespace "+ns, c.n.DeleteNamespace(ns))
		}
	}
	names := slices.Sorted(maps.Keys(want))
	old := map[string]*nsState{}
	for _, ns := range names {
		if h := have[ns]; h != nil {
			old[ns] = h
			continue
		}
		old[ns] = newNS()
		c.do("create namespace "+ns, c.n.EnsureNamespace(ns))
	}

	for _, ns := range names {
		h, w := old[ns], want[ns]
		if h.tableText != w.tableText || h.tableText == "" {
			switch {
			case w.table != nil:
				c.do("nftables of "+ns, c.n.ApplyTable(ns, w.table))
			case h.table != nil:
				c.do("delete nftables of "+ns, c.n.DeleteTable(ns, h.table.TableName()))
			}
		}
	}

	// Veths, and everything that lives on a (re)created link: a recreated
	// link has lost its addresses, routes, neighbours and sysctls.
	for _, ns := range names {
		for _, name := range slices.Sorted(maps.Keys(want[ns].veths)) {
			v := want[ns].veths[name]
			if hv, ok := old[ns].veths[name]; ok && vethEqual(hv, v) {
				continue
			}
			c.do(fmt.Sprintf("veth %s/%s - %s/%s", v.NS, v.Name, v.PeerNS, v.PeerName), c.n.EnsureVeth(v))
			forget(old[v.NS], v.Name)
			if p := old[v.PeerNS]; p != nil {
				forget(p, v.PeerName)
			}
		}
	}

	for _, ns := range names {
		h, w := old[ns], want[ns]
		for _, k := range slices.Sorted(maps.Keys(w.sysctls)) {
			if hv, ok := h.sysctls[k]; !ok || hv != w.sysctls[k] {
				c.do(fmt.Sprintf("sysctl %s=%s in %s", k, w.sysctls[k], ns), c.n.SetSysctl(ns, k, w.sysctls[k]))
			}
		}
		for _, a := range sortedAddrs(w.addrs) {
			if !h.addrs[a] {
				c.do(fmt.Sprintf("address %s on %s in %s", a.addr, a.link, ns), c.n.AddAddr(ns, a.link, a.addr))
			}
		}
	}
	for _, ns := range names {
		h, w := old[ns], want[ns]
		for _, rt := range sortedRoutes(w.routes) {
			if hr, ok := h.routes[routeKey{rt.Table, rt.Dst}]; !ok || hr != rt {
				c.do(fmt.Sprintf("route %s in %s", rt, ns), c.n.ReplaceRoute(ns, rt))
			}
		}
		for _, k := range sortedNeighs(w.neighs) {
			if hn, ok := h.neighs[k]; !ok || !neighEqual(hn, w.neighs[k]) {
				c.do(fmt.Sprintf("neighbour %s in %s", w.neighs[k], ns), c.n.SetNeigh(ns, w.neighs[k]))
			}
		}
		for _, ru := range sortedRules(w.rules) {
			if !h.rules[ru] {
				c.do(fmt.Sprintf("rule %s in %s", ru, ns), c.n.AddRule(ns, ru))
			}
		}
	}

	// Removals, in namespaces that stay. What sits on a link that goes
	// goes with it.
	for _, ns := range names {
		h, w := old[ns], want[ns]
		gone := func(link string) bool { return h.links[link] && !w.links[link] }
		for _, ru := range sortedRules(h.rules) {
			if !w.rules[ru] {
				c.do(fmt.Sprintf("delete rule %s in %s", ru, ns), c.n.DeleteRule(ns, ru))
			}
		}
		for _, rt := range sortedRoutes(h.routes) {
			if _, ok := w.routes[routeKey{rt.Table, rt.Dst}]; !ok && !gone(rt.Dev) {
				c.do(fmt.Sprintf("delete route %s in %s", rt, ns), c.n.DeleteRoute(ns, rt))
			}
		}
		for _, k := range sortedNeighs(h.neighs) {
			if _, ok := w.neighs[k]; !ok && !gone(k.dev) {
				c.do(fmt.Sprintf("delete neighbour %s in %s", h.neighs[k], ns), c.n.DeleteNeigh(ns, h.neighs[k]))
			}
		}
		for _, a := range sortedAddrs(h.addrs) {
			if !w.addrs[a] && !gone(a.link) {
				c.do(fmt.Sprintf("delete address %s on %s in %s", a.addr, a.link, ns), c.n.DelAddr(ns, a.link, a.addr))
			}
		}
		for _, l := range slices.Sorted(maps.Keys(h.links)) {
			if gone(l) {
				c.do(fmt.Sprintf("delete link %s in %s", l, ns), c.n.DeleteLink(ns, l))
			}
		}
	}
}

// forget drops from s what lived on link, so that the diff puts it back.
func forget(s *nsState, link string) {
	for k := range s.addrs {
		if k.link == link {
			delete(s.addrs, k)
		}
	}
	for k, r := range s.routes {
		if r.Dev == link {
			delete(s.routes, k)
		}
	}
	for k := range s.neighs {
		if k.dev == link {
			delete(s.neighs, k)
		}
	}
	for k := range s.sysctls {
		if sysctlLink(k) == link {
			delete(s.sysctls, k)
		}
	}
}

func sortedAddrs(m map[linkAddr]bool) []linkAddr {
	return slices.SortedFunc(maps.Keys(m), func(a, b linkAddr) int {
		return cmp.Or(cmp.Compare(a.link, b.link), a.addr.Addr().Compare(b.addr.Addr()), cmp.Compare(a.addr.Bits(), b.addr.Bits()))
	})
}

// sortedRoutes puts routes without gateway first: a gateway must be
// reachable when a route through it is added.
func sortedRoutes(m map[routeKey]network.Route) []network.Route {
	return slices.SortedFunc(maps.Values(m), func(a, b network.Route) int {
		return cmp.Or(
			cmp.Compare(boolInt(a.Via.IsValid()), boolInt(b.Via.IsValid())),
			cmp.Compare(a.Table, b.Table),
			a.Dst.Addr().Compare(b.Dst.Addr()),
			cmp.Compare(a.Dst.Bits(), b.Dst.Bits()))
	})
}

func sortedNeighs(m map[neighKey]network.Neigh) []neighKey {
	return slices.SortedFunc(maps.Keys(m), func(a, b neighKey) int {
		return cmp.Or(cmp.Compare(a.dev, b.dev), a.ip.Compare(b.ip))
	})
}

func sortedRules(m map[network.Rule]bool) []network.Rule {
	return slices.SortedFunc(maps.Keys(m), func(a, b network.Rule) int {
		return cmp.Or(cmp.Compare(a.Priority, b.Priority), cmp.Compare(a.String(), b.String()))
	})
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

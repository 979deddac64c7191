package desired

import (
	"cmp"
	"maps"
	"slices"

	"github.com/cloudbox/cloudbox/store"
)

// Scope is one account and region: the unit the data plane re-reads when
// records change, so that a change in one does not re-read the others.
type Scope struct{ Account, Region string }

// A Contributor is a service that declares part of the desired world from
// its records. Every contributor's part of a scope is read in the same
// read transaction, so the parts agree with each other.
type Contributor interface {
	// Follows reports whether a change to records of the store kind can
	// change the contributor's part.
	Follows(kind string) bool
	// Scopes lists the accounts and regions where it has anything.
	Scopes(tx *store.Tx) ([]Scope, error)
	// Contribute adds its part of scope sc to w.
	Contribute(tx *store.Tx, sc Scope, w *World) error
}

// ScopesOf turns the store's (account, region) pairs into scopes.
func ScopesOf(pairs [][2]string) []Scope {
	out := make([]Scope, len(pairs))
	for i, p := range pairs {
		out[i] = Scope{Account: p[0], Region: p[1]}
	}
	return out
}

// Parts are the scopes' parts of a world, each made by every contributor.
type Parts map[Scope]*World

// Read (re)reads the given scopes' parts in tx; with all set, it first
// forgets every part and reads each scope any contributor has.
func (p Parts) Read(tx *store.Tx, cs []Contributor, scopes []Scope, all bool) error {
	if all {
		clear(p)
		scopes = nil
		for _, c := range cs {
			s, err := c.Scopes(tx)
			if err != nil {
				return err
			}
			scopes = append(scopes, s...)
		}
	}
	done := map[Scope]bool{}
	for _, sc := range scopes {
		if done[sc] {
			continue
		}
		done[sc] = true
		w := &World{}
		for _, c := range cs {
			if err := c.Contribute(tx, sc, w); err != nil {
				return err
			}
		}
		if w.empty() {
			delete(p, sc)
		} else {
			p[sc] = w
		}
	}
	return nil
}

// World joins the parts in scope order. A peering between two scopes is in
// both parts and joined once.
func (p Parts) World() *World {
	out := &World{}
	seen := map[string]bool{}
	for _, sc := range slices.SortedFunc(maps.Keys(p), func(a, b Scope) int {
		return cmp.Or(cmp.Compare(a.Account, b.Account), cmp.Compare(a.Region, b.Region))
	}) {
		w := p[sc]
		out.VPCs = append(out.VPCs, w.VPCs...)
		out.Instances = append(out.Instances, w.Instances...)
		out.LoadBalancers = append(out.LoadBalancers, w.LoadBalancers...)
		out.TargetGroups = append(out.TargetGroups, w.TargetGroups...)
		out.Slots = append(out.Slots, w.Slots...)
		out.Names = append(out.Names, w.Names...)
		out.Bakes = append(out.Bakes, w.Bakes...)
		out.Zones = append(out.Zones, w.Zones...)
		out.HealthChecks = append(out.HealthChecks, w.HealthChecks...)
		out.Volumes = append(out.Volumes, w.Volumes...)
		out.Snapshots = append(out.Snapshots, w.Snapshots...)
		for _, pc := range w.Peerings {
			if !seen[pc.ID] {
				seen[pc.ID] = true
				out.Peerings = append(out.Peerings, pc)
			}
		}
	}
	slices.SortFunc(out.Peerings, func(a, b *Peering) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

func (w *World) empty() bool {
	return len(w.VPCs) == 0 && len(w.Instances) == 0 && len(w.Peerings) == 0 && len(w.LoadBalancers) == 0 && len(w.TargetGroups) == 0 &&
		len(w.Slots) == 0 && len(w.Names) == 0 && len(w.Bakes) == 0 && len(w.Zones) == 0 && len(w.HealthChecks) == 0 &&
		len(w.Volumes) == 0 && len(w.Snapshots) == 0
}

// Snapshot reads the whole world from the contributors in one read
// transaction.
func Snapshot(st *store.Store, cs ...Contributor) (*World, error) {
	p := Parts{}
	err := st.View(func(tx *store.Tx) error { return p.Read(tx, cs, nil, true) })
	return p.World(), err
}

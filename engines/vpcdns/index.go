package vpcdns

import (
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/cloudbox/cloudbox/desired"
)

// zoneIndex is a zone as questions look it up: its records by name and
// the names that exist without records of their own. A zone of 10,000
// records would otherwise be scanned on every question (and was: 0.04x
// dnsmasq's rate, docs/benchmarks.md).
type zoneIndex struct {
	zone    *desired.Zone
	apex    string                       // normalized
	records map[string][]*desired.Record // by normalized name
	// above are the names some record lies below (empty non-terminals
	// and names with records alike).
	above map[string]bool
	// values are the records' values parsed (owner the root, TTL 0), by
	// record, filled as questions need them: parsing is most of an
	// answer's cost, and most records of a big zone are never asked for.
	values sync.Map // *desired.Record -> []dns.RR
}

func newZoneIndex(z *desired.Zone) *zoneIndex {
	ix := &zoneIndex{zone: z, apex: norm(z.Name), records: make(map[string][]*desired.Record, len(z.Records)), above: map[string]bool{}}
	for _, r := range z.Records {
		n := norm(r.Name)
		ix.records[n] = append(ix.records[n], r)
		// Every ancestor of n down to the apex exists.
		for rest := n; ; {
			_, parent, ok := strings.Cut(rest, ".")
			if !ok || parent == "" || ix.above[parent] || len(parent) < len(ix.apex) {
				break
			}
			ix.above[parent] = true
			if parent == ix.apex {
				break
			}
			rest = parent
		}
	}
	return ix
}

// named returns the records named name (normalized).
func (ix *zoneIndex) named(name string) []*desired.Record { return ix.records[name] }

// exists says whether name has records or records below it.
func (ix *zoneIndex) exists(name string) bool {
	return len(ix.records[name]) > 0 || ix.above[name]
}

// parsed returns r's values as records of type t (owner the root, TTL
// 0), skipping values that make none: the service validates values, so a
// bad one answers nothing. Callers copy before changing them.
func (ix *zoneIndex) parsed(r *desired.Record, t uint16) []dns.RR {
	if v, ok := ix.values.Load(r); ok {
		return v.([]dns.RR)
	}
	var rrs []dns.RR
	for _, v := range r.Values {
		if rr, err := NewRecord(t, v); err == nil {
			rrs = append(rrs, rr)
		}
	}
	ix.values.Store(r, rrs)
	return rrs
}

// indexes holds the zone indexes of one world snapshot, built as
// questions reach each zone; a new snapshot starts afresh.
type indexes struct {
	mu    sync.Mutex
	world *desired.World
	zones map[*desired.Zone]*zoneIndex
}

// of returns z's index in world w.
func (c *indexes) of(w *desired.World, z *desired.Zone) *zoneIndex {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.world != w {
		c.world, c.zones = w, map[*desired.Zone]*zoneIndex{}
	}
	ix := c.zones[z]
	if ix == nil {
		ix = newZoneIndex(z)
		c.zones[z] = ix
	}
	return ix
}

package elasticache

import (
	"strings"
	"testing"
)

// FuzzInputs feeds the checks of user input (identifiers, parameter
// values, paging markers, snapshot windows, AUTH tokens, node groups'
// slots) arbitrary strings: none may panic, a window accepted is one of
// at least an hour, and shards' slots accepted cover each slot once.
func FuzzInputs(f *testing.F) {
	for _, s := range []string{"my-group", "0,20-", "allkeys-lru", "12", "-", "1e400", "--", "", "05:00-06:00", "23:30-00:30", "+1:00-02:00", "0-8191;8192-16383", "0-99,200-16383;100-199", "5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_ = checkName("Name", s, 40)
		for _, ps := range families {
			for _, p := range ps {
				allowed(p, s)
			}
		}
		allowed(param{Type: "integer", Allowed: s}, "5")
		items := make([]int, 30)
		max := int64(20)
		if out, next, err := page(items, &s, &max); err == nil && len(out) > 20 {
			t.Fatalf("page of %d after %q, next %v", len(out), s, next)
		}
		_, _ = lookupVersion("redis", s)
		_ = regionCode(s)
		if validAuthToken(s) && (len(s) < 16 || strings.ContainsAny(s, "/\"@ ")) {
			t.Fatalf("AUTH token %q accepted", s)
		}
		if ranges, ok := parseSlotRanges(s); ok {
			for _, r := range ranges {
				if r[0] < 0 || r[0] > r[1] || r[1] >= hashSlots {
					t.Fatalf("slots %q read as %v", s, ranges)
				}
			}
		}
		if shards, err := parseShardSlots(strings.Split(s, ";")); err == nil {
			total := 0
			for _, ranges := range shards {
				for _, r := range ranges {
					total += r[1] - r[0] + 1
				}
			}
			if total != hashSlots {
				t.Fatalf("shards' slots %q cover %d slots", s, total)
			}
		}
		if w, err := checkSnapshotWindow(s); err == nil {
			if len(w) != 11 {
				t.Fatalf("window %q accepted", w)
			}
			a, _ := minuteOfDay(w[:5])
			if b, _ := minuteOfDay(w[6:]); (b-a+24*60)%(24*60) < 60 {
				t.Fatalf("window %q accepted", w)
			}
		}
	})
}

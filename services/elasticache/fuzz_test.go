package elasticache

import "testing"

// FuzzInputs feeds the checks of user input (identifiers, parameter
// values, paging markers) arbitrary strings: none may panic.
func FuzzInputs(f *testing.F) {
	for _, s := range []string{"my-group", "0,20-", "allkeys-lru", "12", "-", "1e400", "--", ""} {
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
	})
}

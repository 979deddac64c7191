package autoscaling

import (
	"strconv"
	"testing"
)

// FuzzWeight: an override's WeightedCapacity, as a caller sends it, is
// accepted only as an integer from 1 to 999, and an instance's weight is
// then that number.
func FuzzWeight(f *testing.F) {
	for _, s := range []string{"1", "999", "1000", "0", "-1", "2.5", "", " 3", "+4", "0x10", "99999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := weightOf(s)
		if err != nil {
			return
		}
		if n < 1 || n > 999 {
			t.Fatalf("%q accepted as %d", s, n)
		}
		if v, _ := strconv.ParseInt(s, 10, 64); v != n {
			t.Fatalf("%q read as %d", s, n)
		}
		if w := (&instanceRecord{Weight: s}).weight(); w != n {
			t.Fatalf("%q weighs %d, want %d", s, w, n)
		}
	})
}

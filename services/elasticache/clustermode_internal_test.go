package elasticache

import (
	"slices"
	"testing"
)

// TestEvenSlots: AWS's split of the hash slots, the first shards taking
// the remainder.
func TestEvenSlots(t *testing.T) {
	for n, want := range map[int][]string{
		1: {"0-16383"},
		2: {"0-8191", "8192-16383"},
		3: {"0-5461", "5462-10922", "10923-16383"},
	} {
		if got := evenSlots(n); !slices.Equal(got, want) {
			t.Errorf("evenSlots(%d) = %v, want %v", n, got, want)
		}
		if _, err := parseShardSlots(evenSlots(n)); err != nil {
			t.Errorf("evenSlots(%d): %v", n, err)
		}
	}
	if _, err := parseShardSlots(evenSlots(500)); err != nil {
		t.Errorf("evenSlots(500): %v", err)
	}
}

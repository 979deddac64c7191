package elasticache

import "testing"

func TestMostAdvanced(t *testing.T) {
	rg := &replicationGroup{Nodes: []*node{
		{Cluster: "g-001", Role: "primary", Status: "available"},
		{Cluster: "g-002", Role: "replica", Status: "available"},
		{Cluster: "g-003", Role: "replica", Status: "available"},
		{Cluster: "g-004", Role: "replica", Status: "creating"},
	}}
	for _, c := range []struct {
		offsets map[string]int64
		want    string
	}{
		{map[string]int64{"g-002": 10, "g-003": 20, "g-004": 99, "g-001": 500}, "g-003"}, // not the creating one, nor the primary
		{map[string]int64{"g-002": 20, "g-003": 20}, "g-002"},                            // equals: node order
		{map[string]int64{"g-003": 0}, "g-003"},                                          // known over unknown
		{nil, "g-002"},                                                                   // none answered: node order
	} {
		if got := mostAdvanced(rg, "", c.offsets); got == nil || got.Cluster != c.want {
			t.Errorf("mostAdvanced(%v) = %v, want %s", c.offsets, got, c.want)
		}
	}
	if got := mostAdvanced(&replicationGroup{Nodes: rg.Nodes[:1]}, "", nil); got != nil {
		t.Errorf("no replica: %v", got)
	}
}

package cloudwatch

import (
	"testing"
	"time"
)

// TestTiers: buckets move to the coarser tier as they age, keeping their
// statistics, and expire after the last.
func TestTiers(t *testing.T) {
	m := newMetricStore()
	sc := scope{"000000000000", "eu-west-1"}
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	var samples []sample
	for i := range 120 { // two minutes of 1-second data
		smp := sample{ref: metricRef{Namespace: "T", MetricName: "M"}, at: t0.Add(time.Duration(i) * time.Second), unit: "Count", resolution: 1}
		smp.set.add(float64(i), 1)
		samples = append(samples, smp)
	}
	m.record(sc, samples, t0)
	resolutions := func() map[int64]int {
		out := map[int64]int{}
		for _, ser := range m.series {
			for _, c := range ser.chunks {
				for bk, b := range c.buckets {
					out[bk.res] += int(b.count)
				}
			}
		}
		return out
	}
	for _, step := range []struct {
		age  time.Duration
		want map[int64]int
	}{
		{time.Hour, map[int64]int{1: 120}},
		{4 * time.Hour, map[int64]int{60: 120}},
		{16 * 24 * time.Hour, map[int64]int{300: 120}},
		{64 * 24 * time.Hour, map[int64]int{3600: 120}},
		{456 * 24 * time.Hour, map[int64]int{}},
	} {
		m.sweep(t0.Add(step.age))
		got := resolutions()
		if len(got) != len(step.want) {
			t.Fatalf("at %v: samples per resolution %v, want %v", step.age, got, step.want)
		}
		for res, n := range step.want {
			if got[res] != n {
				t.Fatalf("at %v: samples per resolution %v, want %v", step.age, got, step.want)
			}
		}
	}
	if len(m.dirty) == 0 {
		t.Fatal("roll-ups marked no chunk for the next flush")
	}
}

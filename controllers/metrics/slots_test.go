package metrics

import (
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/dataplane/compute"
	"github.com/cloudbox/cloudbox/desired"
)

type fakeStats map[string]compute.Stats

func (f fakeStats) Stats(id string) (compute.Stats, error) { return f[id], nil }

// A slot that asks for metrics gets its owner's names, dimensions and
// units from its counters; one that does not, or does not run, gets none.
func TestSlotMetrics(t *testing.T) {
	stats := fakeStats{}
	c := New(Config{Instances: stats})
	rds := &desired.SlotMetrics{Namespace: "AWS/RDS", Dimensions: map[string]string{"DBInstanceIdentifier": "bts-db"}, CPU: "CPUUtilization",
		FreeMemory: "FreeableMemory", NetworkIn: "NetworkReceiveThroughput", NetworkOut: "NetworkTransmitThroughput", PerSecond: true}
	snap := &desired.World{Slots: []*desired.Slot{
		{ID: "rds-db-a", Account: "000000000000", Region: "ap-northeast-2", VCPUs: 1, Running: true, Metrics: rds},
		{ID: "rds-db-a-2", Account: "000000000000", Region: "ap-northeast-2", VCPUs: 1, Running: true},
		{ID: "rds-db-b", Account: "000000000000", Region: "ap-northeast-2", VCPUs: 1, Running: false, Metrics: rds},
	}}
	last := map[string]instanceSample{}
	stats["rds-db-a"] = compute.Stats{CPUTime: time.Second, MemoryBytes: 300 << 20, MemoryLimitBytes: 1 << 30}
	m := metricBatches{}
	c.slotMetrics(m, snap, last, time.Unix(0, 0))
	if len(m) != 0 {
		t.Fatalf("the first sample published %v", m)
	}
	stats["rds-db-a"] = compute.Stats{CPUTime: 10 * time.Second, MemoryBytes: 400 << 20, MemoryLimitBytes: 1 << 30, NetworkInBytes: 1 << 20, NetworkOutBytes: 2 << 20}
	last["rds-db-a"] = instanceSample{cpu: time.Second, wall: time.Now().Add(-60 * time.Second)}
	c.slotMetrics(m, snap, last, time.Unix(60, 0))
	data := m[metricScope{"000000000000", "ap-northeast-2", "AWS/RDS"}]
	if len(m) != 1 || len(data) != 4 {
		t.Fatalf("published %v", m)
	}
	got := map[string]float64{}
	for _, d := range data {
		if d.Dimensions["DBInstanceIdentifier"] != "bts-db" {
			t.Errorf("%s dimensions %v", d.Name, d.Dimensions)
		}
		got[d.Name+" "+d.Unit] = d.Value
	}
	if v := got["CPUUtilization Percent"]; v < 14 || v > 16 {
		t.Errorf("CPUUtilization %v, want 9 s of CPU over a minute, 15%%", v)
	}
	if v := got["FreeableMemory Bytes"]; v != float64(624<<20) {
		t.Errorf("FreeableMemory %v", v)
	}
	if v := got["NetworkReceiveThroughput Bytes/Second"]; v < 17000 || v > 18000 {
		t.Errorf("NetworkReceiveThroughput %v, want 1 MiB over a minute", v)
	}
	if _, ok := got["NetworkTransmitThroughput Bytes/Second"]; !ok {
		t.Errorf("no NetworkTransmitThroughput in %v", got)
	}
}

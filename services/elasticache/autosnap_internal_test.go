package elasticache

import (
	"testing"
	"time"
)

func TestAutoSnapshotDue(t *testing.T) {
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	rg := &replicationGroup{Status: "available", RetentionLimit: 1, SnapshotWindow: "23:30-00:30", AutoFrom: at("2026-01-01T12:00:00Z")}
	for _, c := range []struct {
		now  string
		want bool
	}{
		{"2026-01-01T23:00:00Z", false},
		{"2026-01-01T23:30:00Z", true},
		{"2026-01-02T00:10:00Z", true}, // the window past midnight
		{"2026-01-02T03:00:00Z", true}, // late rather than skipped
	} {
		if got := autoSnapshotDue(rg, at(c.now)); got != c.want {
			t.Errorf("due at %s: %v, want %v", c.now, got, c.want)
		}
	}
	rg.AutoFrom = at("2026-01-01T23:31:00Z") // taken
	if autoSnapshotDue(rg, at("2026-01-02T00:10:00Z")) || !autoSnapshotDue(rg, at("2026-01-02T23:30:00Z")) {
		t.Error("taken once a day")
	}
	rg.RetentionLimit = 0
	if autoSnapshotDue(rg, at("2026-01-02T23:30:00Z")) {
		t.Error("due without a retention limit")
	}
	if got := autoSnapshotName("daily", at("2026-03-04T05:06:59Z")); got != "automatic.daily-2026-03-04-05-06" {
		t.Errorf("name %s", got)
	}
}

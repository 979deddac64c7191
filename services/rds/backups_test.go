package rds

import (
	"testing"
	"time"
)

// TestBackupSchedule: the first automated backup at once, then one a day
// in the 17:00-17:30 UTC window; each kept for the retention's days.
func TestBackupSchedule(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, c := range []struct {
		last, now string
		due       bool
	}{
		{"", "2026-12-07T09:00:00Z", true},
		{"2026-12-07T09:00:00Z", "2026-12-07T16:59:59Z", false},
		{"2026-12-07T09:00:00Z", "2026-12-07T17:00:00Z", true},
		{"2026-12-07T17:00:00Z", "2026-12-07T17:10:00Z", false},
		{"2026-12-07T17:00:00Z", "2026-12-07T17:30:00Z", false},
		{"2026-12-07T17:00:00Z", "2026-12-08T17:29:00Z", true},
		{"2026-12-06T17:00:00Z", "2026-12-07T18:00:00Z", false}, // missed: the next window
	} {
		var last time.Time
		if c.last != "" {
			last = at(c.last)
		}
		if got := backupDue(last, at(c.now)); got != c.due {
			t.Errorf("last %s, now %s: due %v, want %v", c.last, c.now, got, c.due)
		}
	}
	taken := at("2026-12-01T17:00:00Z")
	if backupExpired(taken, 7, at("2026-12-08T16:59:00Z")) || !backupExpired(taken, 7, at("2026-12-08T17:00:00Z")) || !backupExpired(taken, 0, taken) {
		t.Error("retention")
	}
	if got := automatedID("bts-db", at("2026-12-07T17:04:59Z")); got != "rds:bts-db-2026-12-07-17-04" {
		t.Errorf("name: %s", got)
	}
}

package rds

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/store"
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

// TestSweepRestores: a restore's link that no instance waits for is
// removed once it is a minute old.
func TestSweepRestores(t *testing.T) {
	st := store.OpenMemory()
	defer st.Close()
	s := New(st, time.Now, nil, 1, true)
	dir := t.TempDir()
	s.UseFiles(dir)
	restore := filepath.Join(dir, "rds", "000000000000", "ap-northeast-2", "restore")
	if err := os.MkdirAll(restore, 0o700); err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(restore, fmt.Sprintf("%d-abc.sql", time.Now().Add(-2*time.Minute).Unix()))
	recent := filepath.Join(restore, fmt.Sprintf("%d-def.sql", time.Now().Unix()))
	for _, f := range []string{old, recent} {
		if err := os.WriteFile(f, []byte("-- dump\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.sweepRestores(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("the orphaned link: %v", err)
	}
	if _, err := os.Stat(recent); err != nil {
		t.Errorf("the recent link: %v", err)
	}
}

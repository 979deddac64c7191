package rds

import (
	"strings"
	"testing"
	"time"
)

func TestGTIDList(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"", "", true},
		{"[]", "", true},
		{"0-1-57", "0-1-57", true},
		{"[0-1-57,0-2-60]", "0-2-60", true}, // one per domain: the highest
		{"1-3-9, 0-1-5", "0-1-5,1-3-9", true},
		{"0-1", "", false},
		{"[0-1-5", "", false},
		{"a-1-5", "", false},
		{"0-1--5", "", false},
		{"4294967296-1-5", "", false},
	} {
		p, ok := parseGTIDList(c.in)
		if ok != c.ok || (ok && p.String() != c.want) {
			t.Errorf("%q: %v %v, want %q %v", c.in, p, ok, c.want, c.ok)
		}
	}
	a, _ := parseGTIDList("0-1-10,1-1-3")
	b, _ := parseGTIDList("0-2-12")
	if a.covers(b) || !b.covers(gtidPos{}) || !a.covers(a) {
		t.Error("covers")
	}
	if got := a.advance(b).String(); got != "0-2-12,1-1-3" {
		t.Errorf("advance: %s", got)
	}
}

func TestDumpPosition(t *testing.T) {
	head := "INSERT INTO `t` VALUES (1);\n--\n-- The slave GTID state, corresponding to the above CHANGE-MASTER settings\n--\n\n-- SET GLOBAL gtid_slave_pos='0-1-57';\n/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n"
	if got, ok := dumpPosition(strings.NewReader(head)); !ok || got != "0-1-57" {
		t.Fatalf("%q %v", got, ok)
	}
	if got, ok := dumpPosition(strings.NewReader("-- SET GLOBAL gtid_slave_pos='';\n")); !ok || got != "" {
		t.Fatalf("an empty position: %q %v", got, ok)
	}
	for _, d := range []string{"SET GLOBAL gtid_slave_pos='0-1-2';\n", "-- SET GLOBAL gtid_slave_pos='x';\n", "-- dump\n"} {
		if got, ok := dumpPosition(strings.NewReader(d)); ok {
			t.Errorf("%q: %q", d, got)
		}
	}
}

func TestBinaryLogListings(t *testing.T) {
	dir, names, ok := parseBinaryLogs([]byte("/var/lib/mysql/mysql-bin\nmysql-bin.000001\t1234\nmysql-bin.000002\t345\n"))
	if !ok || dir != "/var/lib/mysql" || strings.Join(names, ",") != "mysql-bin.000001,mysql-bin.000002" {
		t.Fatalf("%q %v %v", dir, names, ok)
	}
	for _, out := range []string{"", "relative\nmysql-bin.000001\t1\n", "/var/lib/mysql/mysql-bin\n", "/d/b\nx'; DROP.000001\t1\n",
		"/d/b\nmysql-bin.000002\t1\nmysql-bin.000001\t1\n"} {
		if _, _, ok := parseBinaryLogs([]byte(out)); ok {
			t.Errorf("%q accepted", out)
		}
	}
	events := "mysql-bin.000003\t4\tFormat_desc\t1\t256\tServer ver: 10.11.6-MariaDB-0+deb12u1-log, Binlog ver: 4\n" +
		"mysql-bin.000003\t256\tGtid_list\t1\t299\t[0-1-57]\n" +
		"mysql-bin.000004\t4\tFormat_desc\t1\t256\tServer ver\n" +
		"mysql-bin.000004\t256\tGtid_list\t1\t285\t[]\n"
	if lists, ok := parseGtidListEvents([]byte(events)); !ok || strings.Join(lists, "|") != "0-1-57|" {
		t.Fatalf("%q %v", lists, ok)
	}
	if _, ok := parseGtidListEvents([]byte("f\t4\tGtid_list\t1\t2\t[zz]\n")); ok {
		t.Error("a bad list accepted")
	}
}

// TestRestoreWindow: the window runs from the oldest backup's end to what
// the logs chained after the newest cover; a restore takes the newest
// backup ended by its time and the logs from its position up to the
// first closed after the time, stopping at the time on the wall clock.
func TestRestoreWindow(t *testing.T) {
	base := time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return base.Add(time.Duration(m) * time.Minute) }
	// The virtual clock runs 60 times the wall's from base.
	wall := func(v time.Time) time.Time { return base.Add(v.Sub(base) / 60) }
	seg := func(name, start, end string, m int) logSegment {
		return logSegment{File: "logs/" + name, Slot: "rds-a", Name: name, Start: start, End: end, To: at(m), ToWall: wall(at(m))}
	}
	backups := []*snapshotRecord{
		{ID: "rds:db-1", Type: "automated", Status: "available", File: "one.sql", GTID: "0-1-4", HasGTID: true, StatusSince: at(1)},
		{ID: "rds:db-2", Type: "automated", Status: "available", File: "two.sql", GTID: "0-1-20", HasGTID: true, StatusSince: at(30)},
		{ID: "rds:old", Type: "automated", Status: "available", File: "old.sql", StatusSince: at(0)}, // no position: not a start
	}
	a := &logArchive{Segments: []logSegment{
		seg("b.1", "", "0-1-10", 5),
		seg("b.2", "0-1-10", "0-1-10", 10), // nothing written
		seg("b.3", "0-1-10", "0-1-25", 35),
		seg("b.4", "0-1-25", "0-1-30", 40),
	}}
	earliest, latest, ok := restoreWindow(backups, a)
	if !ok || !earliest.Equal(at(1)) || !latest.Equal(at(40)) {
		t.Fatalf("window %v - %v (%v)", earliest, latest, ok)
	}
	if _, ok := planRestore(backups, a, at(0), 60); ok {
		t.Error("before the first backup")
	}
	if _, ok := planRestore(backups, a, at(41), 60); ok {
		t.Error("after the logs")
	}
	p, ok := planRestore(backups, a, at(7), 60)
	if !ok || p.Backup.ID != "rds:db-1" || len(p.Replay) != 2 || p.Replay[0].File != "logs/b.1" || p.Replay[0].Start != "0-1-4" ||
		p.Replay[1].File != "logs/b.3" || p.Replay[1].Start != "0-1-10" || !p.Stop.Equal(wall(at(7))) {
		t.Fatalf("to minute 7: %+v", p)
	}
	p, ok = planRestore(backups, a, at(36), 60)
	if !ok || p.Backup.ID != "rds:db-2" || len(p.Replay) != 2 || p.Replay[0].Start != "0-1-20" || p.Replay[1].Start != "0-1-25" ||
		!p.Stop.Equal(wall(at(36))) {
		t.Fatalf("to minute 36: %+v", p)
	}
	// A backup's own end needs no logs past it; a gap in the logs ends
	// the window.
	if p, ok = planRestore(backups, a, at(30), 60); !ok || p.Backup.ID != "rds:db-2" {
		t.Fatalf("to the backup's end: %+v", p)
	}
	gap := &logArchive{Segments: []logSegment{seg("b.1", "", "0-1-10", 5), seg("c.9", "0-1-40", "0-1-50", 50)}}
	if _, latest, _ := restoreWindow(backups[:1], gap); !latest.Equal(at(5)) {
		t.Errorf("latest across a gap: %v", latest)
	}
	// Without content (no data plane) the backups' ends are the window.
	bare := []*snapshotRecord{{ID: "rds:x", Type: "automated", Status: "available", StatusSince: at(3)}}
	if e, l, ok := restoreWindow(bare, nil); !ok || !e.Equal(at(3)) || !l.Equal(at(3)) {
		t.Errorf("without content: %v %v %v", e, l, ok)
	}
	if _, _, ok := restoreWindow(backups[2:], a); ok {
		t.Error("a window from a dump without a position")
	}
}

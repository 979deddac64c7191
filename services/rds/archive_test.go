package rds

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/store"
)

// fakeBinlogs plays a node's binary log: a flush closes the file being
// written and opens one starting at the current position.
type fakeBinlogs struct {
	mu    sync.Mutex
	files []fakeBinlog
	pos   string
}

type fakeBinlog struct{ name, start string }

var showEvents = regexp.MustCompile(`SHOW BINLOG EVENTS IN '([^']+)'`)

func (f *fakeBinlogs) ExecSlot(_ context.Context, slot string, argv []string, _ io.Reader, stdout io.Writer) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cmd := strings.Join(argv, " ")
	switch {
	case strings.Contains(cmd, "FLUSH BINARY LOGS"):
		f.files = append(f.files, fakeBinlog{fmt.Sprintf("mysql-bin.%06d", len(f.files)+1), f.pos})
		fmt.Fprintln(stdout, "/var/lib/mysql/mysql-bin")
		for _, b := range f.files {
			fmt.Fprintf(stdout, "%s\t1000\n", b.name)
		}
	case strings.Contains(cmd, "SHOW BINLOG EVENTS"):
		for _, m := range showEvents.FindAllStringSubmatch(cmd, -1) {
			for _, b := range f.files {
				if b.name == m[1] {
					fmt.Fprintf(stdout, "%s\t4\tFormat_desc\t1\t256\tServer ver: 10.11.6\n%s\t256\tGtid_list\t1\t285\t[%s]\n", b.name, b.name, b.start)
				}
			}
		}
	case argv[0] == "cat":
		fmt.Fprintf(stdout, "binlog %s of %s", argv[1], slot)
	default:
		return 1, nil
	}
	return 0, nil
}

// TestArchive: each pass flushes the node's log and copies the files it
// closed, with the positions they span, durably; a log reset (the node
// copied anew) starts its names over without losing a file; a backup's
// position chains through them.
func TestArchive(t *testing.T) {
	st := store.OpenMemory()
	defer st.Close()
	s := New(st, time.Now, nil, 1, true)
	dir := t.TempDir()
	s.UseFiles(dir)
	node := &fakeBinlogs{files: []fakeBinlog{{"mysql-bin.000001", ""}}, pos: "0-1-3"}
	s.UseSlotExec(node)
	sc := scope{account: "000000000000", region: "ap-northeast-2"}
	r := &instanceRecord{ID: "bts-db", ResourceID: "db-ABC", BackupRetention: 7}
	pass := func() *logArchive {
		t.Helper()
		if err := s.archive(context.Background(), sc, r); err != nil {
			t.Fatal(err)
		}
		var a *logArchive
		s.store.View(func(tx *store.Tx) (err error) {
			a, _, err = store.Get[logArchive](tx, sc.logsKey(r.ResourceID))
			return err
		})
		return a
	}
	pass()
	node.pos = "0-1-9"
	pass()
	// Copied anew: the node's log starts over at its own first file.
	node.mu.Lock()
	node.files, node.pos = []fakeBinlog{{"mysql-bin.000001", "0-1-9"}}, "0-1-12"
	node.mu.Unlock()
	a := pass()
	var spans []string
	for _, seg := range a.Segments {
		b, err := os.ReadFile(s.snaps.path(seg.File))
		if err != nil {
			t.Fatal(err)
		}
		spans = append(spans, seg.Name+" "+seg.Start+".."+seg.End+" "+string(b))
	}
	want := []string{
		"mysql-bin.000001 ..0-1-3 binlog /var/lib/mysql/mysql-bin.000001 of rds-db-abc",
		"mysql-bin.000002 0-1-3..0-1-9 binlog /var/lib/mysql/mysql-bin.000002 of rds-db-abc",
		"mysql-bin.000001 0-1-9..0-1-12 binlog /var/lib/mysql/mysql-bin.000001 of rds-db-abc",
	}
	if strings.Join(spans, "\n") != strings.Join(want, "\n") || a.Covered.IsZero() || a.Last["rds-db-abc"] != "mysql-bin.000001" {
		t.Fatalf("archived:\n%s\nlast %v", strings.Join(spans, "\n"), a.Last)
	}
	b := &snapshotRecord{File: "dump.sql", GTID: "0-1-3", HasGTID: true, StatusSince: a.Segments[0].To}
	if _, logs := replayFrom(b, a); len(logs) != 2 || logs[0].Start != "0-1-3" || logs[1].Start != "0-1-9" {
		t.Fatalf("replayed from the backup: %+v", logs)
	}
}

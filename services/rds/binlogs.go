package rds

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/store"
)

// Engine logs for point-in-time restores. An instance that keeps backups
// (BackupRetentionPeriod above 0) has its primary's binary logs archived
// every five virtual minutes, as RDS uploads its logs: the node flushes
// its binary log (closing the file being written), and every closed file
// not yet archived is copied out through the SlotExec, durably, under the
// data directory, with the GTID positions it starts and ends at (its own
// Gtid_list event, and the next file's). Everything committed before the
// flush is then archived: that is the instance's LatestRestorableTime.
// The archive goes with the last automated backup it serves; its files
// older than the oldest automated backup are removed.

// kindLogs holds each instance's log archive, by its resource id (an
// archive outlives its instance while its automated backups are kept).
const kindLogs = "rds:logs"

// archiveEvery is how often (virtual time) the logs are archived;
// archiveMinWall keeps a fast clock from flushing the logs more than
// every few wall seconds.
const (
	archiveEvery   = 5 * time.Minute
	archiveMinWall = 10 * time.Second
)

// logArchive is an instance's archived binary logs.
type logArchive struct {
	Instance, ResourceID string
	// Segments are the archived files, in the order they were archived.
	Segments []logSegment
	// Covered is the virtual time before which every commit is archived,
	// CoveredWall the wall time it was.
	Covered, CoveredWall time.Time
	// Last is, per node (slot), the last file archived from it.
	Last map[string]string
}

// logSegment is one archived binary log file.
type logSegment struct {
	// File is its copy, relative to the files directory.
	File string
	// Slot and Name are the node and the file's name there.
	Slot, Name string
	// Start and End are the GTID positions before its first transaction
	// and after its last.
	Start, End string
	// To is when (virtual) it was closed, ToWall the wall time then: the
	// node's clock, which stamps the events, is the wall clock.
	To, ToWall time.Time
}

func (sc scope) logsKey(resourceID string) store.Key {
	return sc.key(kindLogs, strings.ToLower(resourceID))
}

// binlogName is what a binary log file's name may be (it goes into SQL
// and paths).
var binlogName = regexp.MustCompile(`^[A-Za-z0-9_.-]+\.[0-9]+$`)

// parseBinaryLogs reads the output of "SELECT @@log_bin_basename; SHOW
// BINARY LOGS" (mariadb -N -B): the logs' directory and their names, the
// one being written last.
func parseBinaryLogs(out []byte) (dir string, names []string, ok bool) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	if !sc.Scan() {
		return "", nil, false
	}
	base := strings.TrimSpace(sc.Text())
	if !filepath.IsAbs(base) || strings.ContainsAny(base, "'\"\\$`\n\t ") {
		return "", nil, false
	}
	for sc.Scan() {
		name, _, _ := strings.Cut(sc.Text(), "\t")
		if !binlogName.MatchString(name) || (len(names) > 0 && name <= names[len(names)-1]) {
			return "", nil, false
		}
		names = append(names, name)
	}
	if len(names) == 0 {
		return "", nil, false
	}
	return filepath.Dir(base), names, true
}

// parseGtidListEvents reads the output of "SHOW BINLOG EVENTS IN ...
// LIMIT 2" for several files (mariadb -N -B): each file's Gtid_list, in
// order.
func parseGtidListEvents(out []byte) ([]string, bool) {
	var lists []string
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 6 || f[2] != "Gtid_list" {
			continue
		}
		if _, ok := parseGTIDList(f[5]); !ok {
			return nil, false
		}
		lists = append(lists, strings.Trim(strings.TrimSpace(f[5]), "[]"))
	}
	return lists, true
}

// archiveDue is whether an instance's logs are to be archived now.
func (s *Service) archiveDue(r *instanceRecord, a *logArchive, now time.Time) bool {
	if r.BackupRetention <= 0 || r.Engine == "postgres" || (r.Status != "available" && r.Status != "backing-up") {
		return false
	}
	return a == nil || (now.Sub(a.Covered) >= archiveEvery && time.Since(a.CoveredWall) >= archiveMinWall)
}

// archiveStep starts the archiving of the instances whose logs are due.
func (s *Service) archiveStep() error {
	if !s.dataPlane.Load() || !s.snaps.hasFiles() {
		return nil
	}
	type job struct {
		sc scope
		r  *instanceRecord
	}
	var jobs []job
	now := s.now()
	err := s.store.View(func(tx *store.Tx) error {
		return s.eachInstance(tx, func(sc scope, r *instanceRecord) error {
			a, _, err := store.Get[logArchive](tx, sc.logsKey(r.ResourceID))
			if err == nil && s.archiveDue(r, a, now) {
				jobs = append(jobs, job{sc, r})
			}
			return err
		})
	})
	for _, j := range jobs {
		k := j.sc.logsKey(j.r.ResourceID)
		if !s.snaps.claim(k) {
			continue
		}
		go func() {
			defer s.snaps.release(k)
			ctx, cancel := context.WithTimeout(context.Background(), execTimeout)
			defer cancel()
			if err := s.archive(ctx, j.sc, j.r); err != nil && !errors.Is(err, desired.ErrSlotNotRunning) {
				s.log.Warn("rds: archiving the binary logs", "id", j.r.ID, "error", err)
			}
		}()
	}
	return err
}

// archiveNow archives r's logs at once (a restore to its latest time),
// waiting for a pass already under way.
func (s *Service) archiveNow(ctx context.Context, sc scope, r *instanceRecord) error {
	k := sc.logsKey(r.ResourceID)
	for !s.snaps.claim(k) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	defer s.snaps.release(k)
	return s.archive(ctx, sc, r)
}

// archive is one pass: flush, copy the closed files not yet archived,
// record them and the time they cover.
func (s *Service) archive(ctx context.Context, sc scope, r *instanceRecord) error {
	slot := primarySlot(r)
	ex := s.snaps.execer()
	// Taken before the flush: what was committed by then is in a closed
	// file when it returns.
	wall, virt := time.Now(), s.now()
	var out bytes.Buffer
	code, err := ex.ExecSlot(ctx, slot, []string{"mariadb", "--protocol=socket", "-uroot", "-N", "-B", "-e",
		"FLUSH BINARY LOGS; SELECT @@log_bin_basename; SHOW BINARY LOGS"}, nil, &out)
	if err == nil && code != 0 {
		err = fmt.Errorf("flushing the binary logs: mariadb exited with status %d", code)
	}
	if err != nil {
		return err
	}
	dir, names, ok := parseBinaryLogs(out.Bytes())
	if !ok {
		return fmt.Errorf("unexpected binary log listing %q", out.String())
	}
	var last string
	err = s.store.View(func(tx *store.Tx) error {
		a, _, err := store.Get[logArchive](tx, sc.logsKey(r.ResourceID))
		if a != nil {
			last = a.Last[slot]
		}
		return err
	})
	if err != nil {
		return err
	}
	if names[len(names)-1] <= last {
		last = "" // the node's log was reset (RESET MASTER when it was copied anew)
	}
	first := len(names) - 1 // the file being written stays
	for first > 0 && names[first-1] > last {
		first--
	}
	fresh := names[first : len(names)-1]
	var segs []logSegment
	if len(fresh) > 0 {
		// Each file's start position, and the next one's: its end.
		var sql strings.Builder
		for _, n := range names[first:] {
			fmt.Fprintf(&sql, "SHOW BINLOG EVENTS IN '%s' LIMIT 2; ", n)
		}
		out.Reset()
		code, err := ex.ExecSlot(ctx, slot, []string{"mariadb", "--protocol=socket", "-uroot", "-N", "-B", "-e", sql.String()}, nil, &out)
		if err == nil && code != 0 {
			err = fmt.Errorf("reading the binary logs' positions: mariadb exited with status %d", code)
		}
		if err != nil {
			return err
		}
		lists, ok := parseGtidListEvents(out.Bytes())
		if !ok || len(lists) != len(fresh)+1 {
			return fmt.Errorf("unexpected binary log events %q", out.String())
		}
		for i, n := range fresh {
			rel, err := s.copyLog(ctx, ex, sc, r, slot, dir, n)
			if err != nil {
				return err
			}
			segs = append(segs, logSegment{File: rel, Slot: slot, Name: n, Start: lists[i], End: lists[i+1], To: virt, ToWall: wall})
		}
	}
	return s.store.Update(func(tx *store.Tx) error {
		k := sc.logsKey(r.ResourceID)
		a, ok, err := store.Get[logArchive](tx, k)
		if err != nil {
			return err
		}
		if !ok {
			a = &logArchive{Instance: r.ID, ResourceID: r.ResourceID}
		}
		if a.Last == nil {
			a.Last = map[string]string{}
		}
		a.Segments = append(a.Segments, segs...)
		if len(fresh) > 0 {
			a.Last[slot] = fresh[len(fresh)-1]
		}
		a.Covered, a.CoveredWall = virt, wall
		if err := s.pruneLogs(tx, sc, a, r.BackupRetention); err != nil {
			return err
		}
		return tx.Put(k, a)
	})
}

// copyLog copies one closed binary log out of the node, durably (a
// temporary file synced, renamed, its directory synced).
func (s *Service) copyLog(ctx context.Context, ex desired.SlotExec, sc scope, r *instanceRecord, slot, dir, name string) (string, error) {
	// A node's names start over when its log is reset: the copy's name
	// is its own.
	rel := filepath.Join(snapshotDir(sc, "logs"), strings.ToLower(r.ResourceID), slot+"."+randomLabel(8)+"."+name)
	final := s.snaps.path(rel)
	if err := os.MkdirAll(filepath.Dir(final), 0o700); err != nil {
		return "", err
	}
	tmp := final + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	code, err := ex.ExecSlot(ctx, slot, []string{"cat", filepath.Join(dir, name)}, nil, f)
	if err == nil && code != 0 {
		err = fmt.Errorf("reading %s: cat exited with status %d", name, code)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err == nil {
		err = syncDir(filepath.Dir(final))
	}
	return rel, err
}

// pruneLogs drops the segments no restore needs any more: closed before
// the oldest automated backup began (or, with none, before the
// retention period).
func (s *Service) pruneLogs(tx *store.Tx, sc scope, a *logArchive, days int) error {
	cutoff := s.now().Add(-time.Duration(max(days, 1)) * 24 * time.Hour)
	b, err := automatedBackups(tx, sc, a.ResourceID)
	if err != nil {
		return err
	}
	if len(b) > 0 {
		cutoff = b[0].Created
	}
	keep := a.Segments[:0]
	for _, seg := range a.Segments {
		if !seg.To.Before(cutoff) {
			keep = append(keep, seg)
			continue
		}
		path := s.snaps.path(seg.File)
		tx.OnCommit(func() { os.Remove(path) })
	}
	a.Segments = keep
	return nil
}

// dropLogs deletes an archive and its files.
func (s *Service) dropLogs(tx *store.Tx, sc scope, a *logArchive) error {
	if _, err := tx.Delete(sc.logsKey(a.ResourceID)); err != nil {
		return err
	}
	for _, seg := range a.Segments {
		path := s.snaps.path(seg.File)
		tx.OnCommit(func() { os.Remove(path) })
	}
	return nil
}

// automatedBackups are the available automated snapshots of the
// instance with resource id res, oldest first.
func automatedBackups(tx *store.Tx, sc scope, res string) ([]*snapshotRecord, error) {
	snaps, err := store.ListAll[snapshotRecord](tx, sc.account, sc.region, kindSnapshot)
	snaps = slices.DeleteFunc(snaps, func(b *snapshotRecord) bool {
		return b.Type != "automated" || b.Status != "available" || b.InstanceResourceID != res
	})
	slices.SortFunc(snaps, func(a, b *snapshotRecord) int { return a.Created.Compare(b.Created) })
	return snaps, err
}

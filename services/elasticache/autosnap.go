package elasticache

import (
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/store"
)

// Automatic snapshots, on the virtual clock: a group with a
// SnapshotRetentionLimit above 0 gets, once a day in its SnapshotWindow,
// a snapshot of its primary named as AWS names them
// (automatic.<group>-YYYY-MM-DD-HH-MM), taken as a manual one is
// (snapwork.go); each is deleted RetentionLimit days after it was taken,
// and with its group (DeleteReplicationGroup).

const day = 24 * time.Hour

// windowStart is the start of the latest occurrence of a daily window
// ("hh:mm-hh:mm", checked) at or before now.
func windowStart(window string, now time.Time) time.Time {
	from, _, _ := strings.Cut(window, "-")
	m, _ := minuteOfDay(from)
	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).Add(time.Duration(m) * time.Minute)
	if start.After(now) {
		start = start.Add(-day)
	}
	return start
}

// autoSnapshotDue says whether a group takes its automatic snapshot now:
// a window has started since AutoFrom (its last one, or when automatic
// snapshots were turned on). A step that comes after the window's end
// (the virtual clock ran fast past it) takes it late rather than skip the
// day.
func autoSnapshotDue(rg *replicationGroup, now time.Time) bool {
	if rg.RetentionLimit <= 0 || rg.Status != "available" || rg.FinalSnapshot != "" {
		return false
	}
	return windowStart(rg.snapshotWindow(), now).After(rg.AutoFrom)
}

// autoSnapshotName is AWS's name of a group's automatic snapshot taken at
// t.
func autoSnapshotName(group string, t time.Time) string {
	return "automatic." + group + "-" + t.UTC().Format("2006-01-02-15-04")
}

// autoSnapshots takes the scope's automatic snapshots due and deletes
// the expired ones, in the advancing transaction.
func (s *Service) autoSnapshots(tx *store.Tx, sc scope, rgs []*replicationGroup, now time.Time) error {
	for _, rg := range rgs {
		if !autoSnapshotDue(rg, now) {
			continue
		}
		n := rg.primary()
		if n == nil || n.Status != "available" {
			continue // the next step
		}
		sn := newSnapshot(rg, n, autoSnapshotName(rg.ID, now), now)
		sn.Automated, sn.RetentionLimit = true, rg.RetentionLimit
		if ok, err := tx.Get(sc.key(kindSnapshot, sn.Name), &snapshot{}); err != nil || ok {
			return err // the same minute's is taken already
		}
		if err := tx.Put(sc.key(kindSnapshot, sn.Name), sn); err != nil {
			return err
		}
		rg.AutoFrom = now
		if err := tx.Put(sc.key(kindRG, rg.ID), rg); err != nil {
			return err
		}
		s.log.Info("elasticache: automatic snapshot", "account", sc.account, "region", sc.region, "snapshot", sn.Name)
	}
	list, err := store.ListAll[snapshot](tx, sc.account, sc.region, kindSnapshot)
	if err != nil {
		return err
	}
	for _, sn := range list {
		if sn.Automated && sn.Status != "creating" && !now.Before(sn.Created.Add(time.Duration(sn.RetentionLimit)*day)) {
			if err := s.dropSnapshot(tx, sc, sn); err != nil {
				return err
			}
		}
	}
	return nil
}

// dropSnapshot deletes a snapshot and its RDB (its own link; a creating
// one's file is removed when its work finds it gone).
func (s *Service) dropSnapshot(tx *store.Tx, sc scope, sn *snapshot) error {
	if _, err := tx.Delete(sc.key(kindSnapshot, sn.Name)); err != nil {
		return err
	}
	s.snaps.remove(sn.File)
	return nil
}

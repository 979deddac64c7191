package rds

import (
	"slices"
	"time"

	"github.com/cloudbox/cloudbox/store"
)

// Automated backups: an instance with a BackupRetentionPeriod above 0 has
// an automated snapshot (rds:<id>-YYYY-MM-DD-HH-MM) taken as it is made
// (its backing-up), when backups are turned on, and then daily in its backup window, on the virtual clock, each a real
// dump as a manual one is; they are kept for the retention period (0
// removes them), and go with the instance unless DeleteAutomatedBackups
// is false, when each stays until its retention runs out.

// backupWindow is the daily window every instance shows
// (PreferredBackupWindow), in UTC.
const (
	backupWindowStart = 17 * time.Hour
	backupWindowLen   = 30 * time.Minute
)

// backupDue is whether an instance's automated backup is due at now,
// given the time of its last one (zero for none): the first at once,
// then one per day in the window.
func backupDue(last, now time.Time) bool {
	if last.IsZero() {
		return true
	}
	now = now.UTC()
	start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).Add(backupWindowStart)
	return !now.Before(start) && now.Before(start.Add(backupWindowLen)) && last.Before(start)
}

// backupExpired is whether an automated snapshot taken at created is past
// a retention of days at now.
func backupExpired(created time.Time, days int, now time.Time) bool {
	return days <= 0 || now.Sub(created) >= time.Duration(days)*24*time.Hour
}

// automatedID is the name of an automated snapshot of instance id taken
// at t.
func automatedID(id string, t time.Time) string {
	return "rds:" + id + "-" + t.UTC().Format("2006-01-02-15-04")
}

// backups starts the automated snapshots that are due and removes the
// expired ones; it writes only when there is something to do.
func (s *Service) backups() error {
	now := s.now()
	work := false
	check := func(tx *store.Tx, act bool) error {
		scopes, err := tx.Scopes(kindInstance)
		if err != nil {
			return err
		}
		more, err := tx.Scopes(kindSnapshot)
		if err != nil {
			return err
		}
		for _, p := range append(scopes, more...) {
			sc := scope{account: p[0], region: p[1]}
			if err := s.backupsIn(tx, sc, now, act, &work); err != nil {
				return err
			}
		}
		return nil
	}
	if err := s.store.View(func(tx *store.Tx) error { return check(tx, false) }); err != nil || !work {
		return err
	}
	return s.store.Update(func(tx *store.Tx) error { return check(tx, true) })
}

// backupsIn is backups in one scope: with act unset it only says whether
// there is work.
func (s *Service) backupsIn(tx *store.Tx, sc scope, now time.Time, act bool, work *bool) error {
	insts, err := store.ListAll[instanceRecord](tx, sc.account, sc.region, kindInstance)
	if err != nil {
		return err
	}
	snaps, err := store.ListAll[snapshotRecord](tx, sc.account, sc.region, kindSnapshot)
	if err != nil {
		return err
	}
	byResource := map[string]*instanceRecord{}
	for _, r := range insts {
		byResource[r.ResourceID] = r
	}
	last := map[string]time.Time{}
	for _, snap := range snaps {
		if snap.Type != "automated" {
			continue
		}
		days := snap.Retention
		if r := byResource[snap.InstanceResourceID]; r != nil {
			days = r.BackupRetention
			if snap.Created.After(last[r.ResourceID]) {
				last[r.ResourceID] = snap.Created
			}
		}
		if snap.Status == "creating" || !backupExpired(snap.Created, days, now) {
			continue
		}
		*work = true
		if act {
			if err := s.dropSnapshot(tx, sc, snap, msgAutoSnapshotDeleted); err != nil {
				return err
			}
		}
	}
	// A log archive goes with the last automated backup it serves once
	// its instance is gone or keeps none.
	archives, err := store.ListAll[logArchive](tx, sc.account, sc.region, kindLogs)
	if err != nil {
		return err
	}
	for _, a := range archives {
		if r := byResource[a.ResourceID]; r != nil && r.BackupRetention > 0 {
			continue
		}
		if slices.ContainsFunc(snaps, func(b *snapshotRecord) bool {
			return b.Type == "automated" && b.InstanceResourceID == a.ResourceID && (b.Status == "creating" || !backupExpired(b.Created, b.Retention, now))
		}) {
			continue
		}
		*work = true
		if act {
			if err := s.dropLogs(tx, sc, a); err != nil {
				return err
			}
		}
	}
	for _, r := range insts {
		if r.Status != "available" || r.BackupRetention <= 0 || r.Snapshotting != "" || r.Engine == "postgres" || !backupDue(last[r.ResourceID], now) {
			continue
		}
		id := automatedID(r.ID, now)
		if ok, err := tx.Get(sc.snapshotKey(id), &snapshotRecord{}); err != nil || ok {
			continue // taken this minute already
		}
		*work = true
		if !act {
			continue
		}
		if _, err := s.newSnapshot(tx, sc, r, id, "automated", nil); err != nil {
			return err
		}
		// A daily backup is taken from the running node without holding
		// it (r is not stored): the instance stays available, and a stop
		// meanwhile fails the backup; the next window takes another.
	}
	return nil
}

// firstBackup makes the backup of an instance's creation (its
// backing-up) its first automated snapshot.
func (s *Service) firstBackup(tx *store.Tx, sc scope, r *instanceRecord) error {
	id := automatedID(r.ID, s.now())
	if ok, err := tx.Get(sc.snapshotKey(id), &snapshotRecord{}); err != nil || ok || r.BackupRetention <= 0 || r.Engine == "postgres" {
		return err // one of a namesake deleted this minute is kept: none
	}
	_, err := s.newSnapshot(tx, sc, r, id, "automated", nil)
	return err
}

// dropAutomated deletes an instance's automated snapshots in tx (its
// deletion, unless DeleteAutomatedBackups is false).
func (s *Service) dropAutomated(tx *store.Tx, sc scope, r *instanceRecord) error {
	snaps, err := store.ListAll[snapshotRecord](tx, sc.account, sc.region, kindSnapshot)
	if err != nil {
		return err
	}
	for _, snap := range snaps {
		if snap.Type == "automated" && snap.InstanceResourceID == r.ResourceID {
			if err := s.dropSnapshot(tx, sc, snap, msgAutoSnapshotDeleted); err != nil {
				return err
			}
		}
	}
	return nil
}

package rds

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	rdsapi "github.com/cloudbox/cloudbox/api/rds"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/store"
)

// Point-in-time restores: a new instance loads the last automated backup
// (a dump, with the GTID position it is consistent with) that ended at or
// before the time asked for, then replays the archived binary logs
// (binlogs.go) from that position up to the time, on the node's own
// clock, with mariadb-binlog --stop-datetime piped into the engine
// (snapwork.go's restore). Without a data plane, backups have no content
// and the restorable times are the backups' own.

// replayLog is one binary log a restore replays: its file (the archive's,
// then the restore's link to it) and the GTID position replayed after.
type replayLog struct {
	File, Start string
	// To is when (virtual) the file was closed.
	To time.Time
}

// pitrPlan is what a restore to a time loads and replays.
type pitrPlan struct {
	Backup *snapshotRecord
	Replay []replayLog
	// Stop is the time, on the node's (wall) clock, the replay stops at.
	Stop time.Time
}

// restorable is whether a backup can begin a restore: a dump with its
// position, or, without a data plane, a backup without content.
func restorable(b *snapshotRecord) bool { return b.File == "" || b.HasGTID }

// Restorable times are whole seconds, as RDS shows them and as the
// node's log stamps its events: a backup counts from the second after it
// ended, a log up to the second it was closed in.
func backupEnd(b *snapshotRecord) time.Time {
	if t := b.StatusSince.Truncate(time.Second); !t.Equal(b.StatusSince) {
		return t.Add(time.Second)
	}
	return b.StatusSince
}

// replayFrom is how far the archive carries backup b: the logs to replay
// after it, each from the position reached, in order, and the latest
// time they cover (b's end when none). A gap in the logs ends it.
func replayFrom(b *snapshotRecord, a *logArchive) (time.Time, []replayLog) {
	reach := backupEnd(b)
	if a == nil || b.File == "" {
		return reach, nil
	}
	cur, ok := parseGTIDList(b.GTID)
	if !ok {
		return reach, nil
	}
	var logs []replayLog
	for _, seg := range a.Segments {
		start, ok1 := parseGTIDList(seg.Start)
		end, ok2 := parseGTIDList(seg.End)
		if !ok1 || !ok2 || !cur.covers(start) {
			break
		}
		if !cur.covers(end) {
			logs = append(logs, replayLog{File: seg.File, Start: cur.String(), To: seg.To})
			cur = cur.advance(end)
		}
		if to := seg.To.Truncate(time.Second); to.After(reach) {
			reach = to
		}
	}
	return reach, logs
}

// restoreWindow is the span of times a restore can go to, from the
// oldest backup's end to what the logs after the newest one cover; ok is
// false when no backup can begin a restore. backups are oldest first.
func restoreWindow(backups []*snapshotRecord, a *logArchive) (earliest, latest time.Time, ok bool) {
	var first, last *snapshotRecord
	for _, b := range backups {
		if !restorable(b) {
			continue
		}
		if first == nil || backupEnd(b).Before(backupEnd(first)) {
			first = b
		}
		if last == nil || backupEnd(b).After(backupEnd(last)) {
			last = b
		}
	}
	if first == nil {
		return time.Time{}, time.Time{}, false
	}
	latest, _ = replayFrom(last, a)
	return backupEnd(first), latest, true
}

// planRestore is the restore to t: the newest backup ended by t and the
// logs up to t, with t on the node's clock (a file's close maps virtual
// to wall time); ok is false when t is outside what they cover.
func planRestore(backups []*snapshotRecord, a *logArchive, t time.Time, scale float64) (*pitrPlan, bool) {
	var b *snapshotRecord
	for _, c := range backups {
		if restorable(c) && !backupEnd(c).After(t) && (b == nil || backupEnd(c).After(backupEnd(b))) {
			b = c
		}
	}
	if b == nil {
		return nil, false
	}
	reach, logs := replayFrom(b, a)
	if t.After(reach) {
		return nil, false
	}
	plan := &pitrPlan{Backup: b}
	for _, l := range logs {
		plan.Replay = append(plan.Replay, l)
		if !l.To.Before(t) {
			break // it holds t: what follows is later
		}
	}
	if n := len(plan.Replay); n > 0 {
		l := a.Segments[segmentIndex(a, plan.Replay[n-1].File)]
		plan.Stop = l.ToWall.Add(-time.Duration(float64(l.To.Sub(t)) / max(scale, 1)))
	}
	return plan, true
}

func segmentIndex(a *logArchive, file string) int {
	for i, s := range a.Segments {
		if s.File == file {
			return i
		}
	}
	return -1
}

// latestRestorable is an instance's LatestRestorableTime (ok false when
// it has no backup to restore from).
func latestRestorable(tx *store.Tx, sc scope, r *instanceRecord) (time.Time, bool, error) {
	backups, err := automatedBackups(tx, sc, r.ResourceID)
	if err != nil {
		return time.Time{}, false, err
	}
	a, _, err := store.Get[logArchive](tx, sc.logsKey(r.ResourceID))
	_, latest, ok := restoreWindow(backups, a)
	return latest, ok, err
}

func msgRestoredTo(source string, t time.Time) string {
	return "Restored from DB instance " + source + " to " + t.UTC().Format("2006-01-02 15:04:05")
}

func notRestorable(id string, t, earliest, latest time.Time) error {
	const f = time.RFC3339
	return fault("InvalidRestoreFault", "Restore time %s is not within the restorable window of DB instance %s (%s to %s).",
		t.UTC().Format(f), id, earliest.UTC().Format(f), latest.UTC().Format(f))
}

func (s *Service) RestoreDBInstanceToPointInTime(ctx context.Context, in *rdsapi.RestoreDBInstanceToPointInTimeMessage) (*rdsapi.RestoreDBInstanceToPointInTimeResult, error) {
	sc := scopeOf(ctx)
	srcID, res := deref(in.SourceDBInstanceIdentifier), deref(in.SourceDbiResourceId)
	latest := deref(in.UseLatestRestorableTime)
	switch {
	case deref(in.SourceDBInstanceAutomatedBackupsArn) != "":
		return nil, notImplemented("Restoring from an automated backup's ARN (SourceDBInstanceAutomatedBackupsArn)")
	case srcID == "" && res == "":
		return nil, invalidCombination("One of SourceDBInstanceIdentifier, SourceDbiResourceId or SourceDBInstanceAutomatedBackupsArn must be specified.")
	case srcID != "" && res != "":
		return nil, invalidCombination("Only one of SourceDBInstanceIdentifier, SourceDbiResourceId or SourceDBInstanceAutomatedBackupsArn may be specified.")
	case in.RestoreTime != nil && latest:
		return nil, invalidCombination("Cannot specify both RestoreTime and UseLatestRestorableTime.")
	case in.RestoreTime == nil && !latest:
		return nil, invalidCombination("Either RestoreTime or UseLatestRestorableTime must be specified.")
	}
	if !validIdentifier(strings.ToLower(deref(in.TargetDBInstanceIdentifier)), 63) {
		return nil, notAnIdentifier("TargetDBInstanceIdentifier")
	}
	// The source: a running instance, or the automated backups a deleted
	// one left.
	var src *instanceRecord
	err := s.store.View(func(tx *store.Tx) (err error) {
		if srcID != "" {
			src, err = loadInstance(tx, sc, srcID)
			return err
		}
		err = s.eachInstance(tx, func(isc scope, r *instanceRecord) error {
			if isc == sc && r.ResourceID == res {
				src = r
			}
			return nil
		})
		if err != nil || src != nil {
			return err
		}
		backups, err := automatedBackups(tx, sc, res)
		if err == nil && len(backups) == 0 {
			err = fault("DBInstanceAutomatedBackupNotFound", "No automated backup found for DbiResourceId %s.", res)
		}
		if err == nil {
			res = backups[0].InstanceResourceID
			srcID = backups[0].Instance
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if src != nil {
		srcID, res = src.ID, src.ResourceID
		switch {
		case src.Engine == "postgres":
			return nil, notImplemented("A point-in-time restore of a postgres DB instance")
		case src.BackupRetention <= 0:
			return nil, fault("PointInTimeRestoreNotEnabled", "SourceDBInstanceIdentifier %s refers to a DB instance with BackupRetentionPeriod equal to 0.", src.ID)
		}
		// Its logs up to now, while it runs: a restore to its latest time
		// gets what it has committed.
		if src.Status == "available" && s.dataPlane.Load() && s.snaps.hasFiles() {
			actx, cancel := context.WithTimeout(ctx, time.Minute)
			if err := s.archiveNow(actx, sc, src); err != nil {
				s.log.Warn("rds: archiving the binary logs for a restore", "id", src.ID, "error", err)
			}
			cancel()
		}
	}
	var plan *pitrPlan
	var t time.Time
	err = s.store.View(func(tx *store.Tx) error {
		backups, err := automatedBackups(tx, sc, res)
		if err != nil {
			return err
		}
		a, _, err := store.Get[logArchive](tx, sc.logsKey(res))
		if err != nil {
			return err
		}
		earliest, last, ok := restoreWindow(backups, a)
		if !ok {
			return fault("InvalidRestoreFault", "DB instance %s has no automated backup to restore from yet.", srcID)
		}
		t = last
		if !latest {
			t = *in.RestoreTime
		}
		if plan, ok = planRestore(backups, a, t, s.scale); !ok {
			return notRestorable(srcID, t, earliest, last)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	b := plan.Backup
	if e := deref(in.Engine); e != "" && e != b.Engine {
		return nil, invalidCombination("Cannot restore a DB instance of engine %s as engine %s.", b.Engine, e)
	}
	msg := &rdsapi.CreateDBInstanceMessage{DBInstanceIdentifier: in.TargetDBInstanceIdentifier, Engine: ptr(b.Engine),
		EngineVersion: ptr(b.EngineVersion), DBInstanceClass: ptr(b.Class), MasterUsername: ptr(b.MasterUsername),
		MasterUserPassword: ptr(b.Password), AllocatedStorage: ptr(int64(b.AllocatedStorage)), Port: ptr(int64(b.Port)),
		DBSubnetGroupName: in.DBSubnetGroupName, DBParameterGroupName: in.DBParameterGroupName, AvailabilityZone: in.AvailabilityZone,
		VpcSecurityGroupIds: in.VpcSecurityGroupIds, PubliclyAccessible: in.PubliclyAccessible, DeletionProtection: in.DeletionProtection,
		MultiAZ: in.MultiAZ, OptionGroupName: in.OptionGroupName, Tags: in.Tags}
	if b.DBName != "" {
		msg.DBName = ptr(b.DBName)
	}
	if in.DBInstanceClass != nil {
		msg.DBInstanceClass = in.DBInstanceClass
	}
	if in.Port != nil {
		msg.Port = in.Port
	}
	if in.AllocatedStorage != nil {
		if *in.AllocatedStorage < int64(b.AllocatedStorage) {
			return nil, invalidValue("The allocated storage %d is less than the source's %d GiB.", *in.AllocatedStorage, b.AllocatedStorage)
		}
		msg.AllocatedStorage = in.AllocatedStorage
	}
	// The new node loads its own links to the dump and the logs: the
	// backup expiring meanwhile does not take them away.
	spec := &restoreSpec{snapshot: b.ID, source: srcID, to: t, stop: plan.Stop}
	undo := func() {
		for _, f := range append([]string{spec.file}, replayFiles(spec.replay)...) {
			if f != "" {
				os.Remove(s.snaps.path(f))
			}
		}
	}
	if b.File != "" {
		if spec.file, err = s.snaps.link(sc, b.File, "restore"); err != nil {
			return nil, err
		}
		for _, l := range plan.Replay {
			rel, err := s.snaps.linkAs(sc, l.File, "restore", ".binlog")
			if err != nil {
				undo()
				return nil, err
			}
			spec.replay = append(spec.replay, replayLog{File: rel, Start: l.Start})
		}
	}
	out, err := s.CreateDBInstance(context.WithValue(ctx, restoreKey{}, spec), msg)
	if err != nil {
		undo()
		return nil, err
	}
	if !s.dataPlane.Load() {
		// Without a data plane there is nothing to load.
		err = s.store.Update(func(tx *store.Tx) error {
			return event(tx, sc, *out.DBInstance.DBInstanceIdentifier, s.now(), msgRestoredTo(srcID, t))
		})
	}
	return &rdsapi.RestoreDBInstanceToPointInTimeResult{DBInstance: out.DBInstance}, err
}

func replayFiles(logs []replayLog) []string {
	out := make([]string, len(logs))
	for i, l := range logs {
		out[i] = l.File
	}
	return out
}

// replayScript replays one binary log, streamed in on stdin, into the
// engine from a GTID position ($1, empty for its start) up to a time on
// the node's clock ($2, UTC). The replayed transactions keep their
// source's GTIDs, which the node's own log, with the dump's, is already
// past: strict GTID mode is off meanwhile and they stay out of its log.
const replayScript = `set -euo pipefail
exec 2>&1
f=` + restoreDir + `/replay.binlog
cat > "$f"
q() { mariadb --protocol=socket -uroot -N -e "$1"; }
q "SET GLOBAL gtid_strict_mode=OFF"
trap 'q "SET GLOBAL gtid_strict_mode=ON"; rm -f "$f"' EXIT
TZ=UTC mariadb-binlog ${1:+--start-position="$1"} --stop-datetime="$2" "$f" |
  mariadb --protocol=socket -uroot --init-command="SET SESSION sql_log_bin=0"
`

// replay applies a point-in-time restore's logs on its node, in order.
func (s *Service) replay(ctx context.Context, ex desired.SlotExec, slot string, r *instanceRecord) error {
	stop := r.ReplayStop.UTC().Format("2006-01-02 15:04:05")
	for _, l := range r.Replay {
		f, err := os.Open(s.snaps.path(l.File))
		if err != nil {
			return err
		}
		var errOut bytes.Buffer
		code, err := ex.ExecSlot(ctx, slot, []string{"bash", "-c", replayScript, "replay", l.Start, stop}, f, &errOut)
		f.Close()
		if err == nil && code != 0 {
			err = fmt.Errorf("replaying the binary logs: exited with status %d: %s", code, strings.TrimSpace(errOut.String()))
		}
		if err != nil {
			return err
		}
	}
	if len(r.Replay) > 0 {
		s.log.Info("rds: replayed binary logs", "slot", slot, "logs", len(r.Replay), "until", stop)
	}
	return nil
}

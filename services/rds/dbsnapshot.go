package rds

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	rdsapi "github.com/cloudbox/cloudbox/api/rds"
	"github.com/cloudbox/cloudbox/store"
)

// DB snapshots. A snapshot's content is a dump of the node's databases
// (mariadb-dump inside the node, or PostgreSQL's base backup, pgsnap.go,
// streamed out through the service's SlotExec) in a file under the daemon's data directory; a
// restore makes a new instance whose node loads the dump at its first
// boot, before it turns available (snapwork.go). Without a data plane a
// snapshot has no content and turns available on the virtual clock.

// kindSnapshot holds the DB snapshots by identifier (automated ones
// keep AWS's rds: prefix).
const kindSnapshot = "rds:snapshot"

// snapshotRecord is one DB snapshot.
type snapshotRecord struct {
	ID   string // lower case
	Type string // manual or automated
	// What the source instance was when the snapshot began (restore's
	// defaults).
	Instance, InstanceResourceID string
	Engine, EngineVersion, Class string
	MasterUsername, Password     string
	DBName                       string
	Port, AllocatedStorage       int
	AZ, VPC                      string
	InstanceCreated              time.Time
	Created                      time.Time // SnapshotCreateTime
	// OriginalCreated is the first snapshot's time, kept by copies.
	OriginalCreated time.Time
	// Retention is the instance's BackupRetentionPeriod when the
	// snapshot began: an automated one outliving its instance is kept
	// that long.
	Retention   int
	Status      string // creating, available, failed
	StatusSince time.Time
	Progress    int
	// Copies: the source's ARN and, across regions, its region; CopyOf
	// is the source's file the copy links (relative to the files
	// directory) while it is creating.
	SourceARN, SourceRegion, CopyOf string
	// File is the dump, relative to the files directory ("" when the
	// snapshot has no content: no data plane); Size its bytes.
	File string
	Size int64
	// GTID is the position the dump is consistent with, when HasGTID:
	// where a point-in-time restore from it replays the binary logs.
	GTID    string
	HasGTID bool
	// Reason is why the snapshot failed.
	Reason string
	Tags   []tag
}

func (sc scope) snapshotKey(id string) store.Key { return sc.key(kindSnapshot, strings.ToLower(id)) }

// snapshotRef resolves an identifier or an ARN to its scope and id (an
// ARN may name another region of the account).
func snapshotRef(sc scope, ref string) (scope, string) {
	rest, ok := strings.CutPrefix(ref, "arn:aws:rds:")
	if !ok {
		return sc, strings.ToLower(ref)
	}
	parts := strings.SplitN(rest, ":", 4) // region, account, "snapshot", id
	if len(parts) != 4 || parts[2] != "snapshot" {
		return sc, strings.ToLower(ref)
	}
	return scope{account: parts[1], region: parts[0]}, strings.ToLower(parts[3])
}

func loadSnapshot(tx *store.Tx, sc scope, ref string) (*snapshotRecord, scope, error) {
	ssc, id := snapshotRef(sc, ref)
	if ssc.account != sc.account {
		return nil, ssc, fault("DBSnapshotNotFound", "DBSnapshot %s not found.", ref)
	}
	r, ok, err := store.Get[snapshotRecord](tx, ssc.snapshotKey(id))
	if err != nil {
		return nil, ssc, err
	}
	if !ok {
		return nil, ssc, fault("DBSnapshotNotFound", "DBSnapshot %s not found.", ref)
	}
	return r, ssc, nil
}

func snapshotExists(id string) error {
	return fault("DBSnapshotAlreadyExists", "Cannot create the snapshot because a snapshot with the identifier %s already exists.", id)
}

// newSnapshot records a snapshot of r beginning now and marks r as the
// node being dumped (which keeps its node running until it is done).
func (s *Service) newSnapshot(tx *store.Tx, sc scope, r *instanceRecord, id, kind string, tags []tag) (*snapshotRecord, error) {
	if r.Snapshotting != "" {
		return nil, fault("InvalidDBInstanceState", "Cannot create a snapshot because the database instance %s is not currently in the available state.", r.ID)
	}
	if ok, err := tx.Get(sc.snapshotKey(id), &snapshotRecord{}); err != nil {
		return nil, err
	} else if ok {
		return nil, snapshotExists(id)
	}
	now := s.now()
	snap := &snapshotRecord{ID: strings.ToLower(id), Type: kind, Instance: r.ID, InstanceResourceID: r.ResourceID,
		Engine: r.Engine, EngineVersion: r.EngineVersion, Class: r.Class, MasterUsername: r.MasterUsername, Password: r.Password,
		DBName: r.DBName, Port: r.Port, AllocatedStorage: r.AllocatedStorage, AZ: r.AZ, VPC: r.VPC, InstanceCreated: r.Created,
		Created: now, OriginalCreated: now, Retention: r.BackupRetention, Status: "creating", StatusSince: now, Tags: tags}
	r.Snapshotting = snap.ID
	msg := msgSnapshotCreating
	if kind == "automated" {
		msg = msgAutoSnapshotCreating
	}
	if err := snapshotEvent(tx, sc, snap.ID, now, msg); err != nil {
		return nil, err
	}
	s.log.Info("rds: creating a DB snapshot", "account", sc.account, "region", sc.region, "snapshot", snap.ID, "instance", r.ID)
	return snap, tx.Put(sc.snapshotKey(snap.ID), snap)
}

func (s *Service) CreateDBSnapshot(ctx context.Context, in *rdsapi.CreateDBSnapshotMessage) (*rdsapi.CreateDBSnapshotResult, error) {
	id := deref(in.DBSnapshotIdentifier)
	if !validIdentifier(strings.ToLower(id), 255) {
		return nil, notAnIdentifier("DBSnapshotIdentifier")
	}
	var snap *snapshotRecord
	_, err := s.transition(ctx, deref(in.DBInstanceIdentifier), func(tx *store.Tx, sc scope, r *instanceRecord) (err error) {
		if r.Status != "available" {
			return fault("InvalidDBInstanceState", "Cannot create a snapshot because the database instance %s is not currently in the available state.", r.ID)
		}
		if snap, err = s.newSnapshot(tx, sc, r, id, "manual", toTags(in.Tags)); err != nil {
			return err
		}
		r.setStatus("backing-up", s.now())
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.CreateDBSnapshotResult{DBSnapshot: describeSnapshot(scopeOf(ctx), snap)}, nil
}

// finalSnapshot begins the snapshot DeleteDBInstance or StopDBInstance
// takes of r before its node stops.
func (s *Service) finalSnapshot(tx *store.Tx, sc scope, r *instanceRecord, id string) error {
	if !validIdentifier(strings.ToLower(id), 255) {
		return notAnIdentifier("DBSnapshotIdentifier")
	}
	if r.Source != nil {
		return invalidCombination("FinalDBSnapshotIdentifier can not be specified when deleting a replica instance")
	}
	if r.Status != "available" {
		return fault("InvalidDBInstanceState", "Instance %s is currently %s - a final snapshot cannot be taken.", r.ID, r.Status)
	}
	_, err := s.newSnapshot(tx, sc, r, id, "manual", nil)
	return err
}

func describeSnapshot(sc scope, r *snapshotRecord) *rdsapi.DBSnapshot {
	out := &rdsapi.DBSnapshot{
		DBSnapshotIdentifier: ptr(r.ID), DBSnapshotArn: ptr(sc.arn("snapshot", r.ID)), DBInstanceIdentifier: ptr(r.Instance),
		DbiResourceId: ptr(r.InstanceResourceID), SnapshotType: ptr(r.Type), Status: ptr(r.Status), Engine: ptr(r.Engine),
		EngineVersion: ptr(r.EngineVersion), MasterUsername: ptr(r.MasterUsername), Port: ptr(int64(r.Port)),
		AllocatedStorage: ptr(int64(r.AllocatedStorage)), AvailabilityZone: ptr(r.AZ), VpcId: ptr(r.VPC),
		InstanceCreateTime: ptr(r.InstanceCreated), SnapshotCreateTime: ptr(r.Created), OriginalSnapshotCreateTime: ptr(r.OriginalCreated),
		PercentProgress: ptr(int64(r.Progress)), LicenseModel: ptr("general-public-license"), StorageType: ptr("gp2"),
		Encrypted: ptr(false), IAMDatabaseAuthenticationEnabled: ptr(false), DedicatedLogVolume: ptr(false), MultiTenant: ptr(false),
		SnapshotTarget: ptr("region"), ProcessorFeatures: []*rdsapi.ProcessorFeature{}, TagList: apiTags(r.Tags),
	}
	if r.SourceARN != "" {
		out.SourceDBSnapshotIdentifier = ptr(r.SourceARN)
	}
	if r.SourceRegion != "" {
		out.SourceRegion = ptr(r.SourceRegion)
	}
	return out
}

func (s *Service) DescribeDBSnapshots(ctx context.Context, in *rdsapi.DescribeDBSnapshotsMessage) (*rdsapi.DBSnapshotMessage, error) {
	sc := scopeOf(ctx)
	kind := deref(in.SnapshotType)
	switch kind {
	case "", "manual", "automated", "shared", "public", "awsbackup":
	default:
		return nil, invalidValue("Invalid snapshot type: %s", kind)
	}
	out := &rdsapi.DBSnapshotMessage{DBSnapshots: []*rdsapi.DBSnapshot{}}
	err := s.store.View(func(tx *store.Tx) error {
		var list []*snapshotRecord
		if id := deref(in.DBSnapshotIdentifier); id != "" {
			r, _, err := loadSnapshot(tx, sc, id)
			if err != nil {
				return err
			}
			list = []*snapshotRecord{r}
		} else {
			var err error
			if list, err = store.ListAll[snapshotRecord](tx, sc.account, sc.region, kindSnapshot); err != nil {
				return err
			}
		}
		list = slices.DeleteFunc(list, func(r *snapshotRecord) bool {
			return !snapshotMatches(sc, r, in, kind)
		})
		list, next, err := page(list, func(r *snapshotRecord) string { return r.ID }, in.Marker, in.MaxRecords)
		if err != nil {
			return err
		}
		out.Marker = next
		for _, r := range list {
			out.DBSnapshots = append(out.DBSnapshots, describeSnapshot(sc, r))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// snapshotMatches applies DescribeDBSnapshots' parameters and filters:
// no SnapshotType means manual and automated ones (the account's own:
// none is shared or public).
func snapshotMatches(sc scope, r *snapshotRecord, in *rdsapi.DescribeDBSnapshotsMessage, kind string) bool {
	if (kind != "" && kind != r.Type) || (in.DbiResourceId != nil && *in.DbiResourceId != r.InstanceResourceID) {
		return false
	}
	if id := deref(in.DBInstanceIdentifier); id != "" && !strings.EqualFold(id, r.Instance) && id != sc.arn("db", r.Instance) {
		return false
	}
	for _, f := range in.Filters {
		var have []string
		switch deref(f.Name) {
		case "db-instance-id":
			have = []string{r.Instance, sc.arn("db", r.Instance)}
		case "db-snapshot-id":
			have = []string{r.ID, sc.arn("snapshot", r.ID)}
		case "dbi-resource-id":
			have = []string{r.InstanceResourceID}
		case "snapshot-type":
			have = []string{r.Type}
		case "engine":
			have = []string{r.Engine}
		default:
			continue
		}
		if !slices.ContainsFunc(f.Values, func(v *string) bool { return slices.Contains(have, deref(v)) }) {
			return false
		}
	}
	return true
}

func (s *Service) DeleteDBSnapshot(ctx context.Context, in *rdsapi.DeleteDBSnapshotMessage) (*rdsapi.DeleteDBSnapshotResult, error) {
	sc := scopeOf(ctx)
	var snap *snapshotRecord
	err := s.store.Update(func(tx *store.Tx) (err error) {
		var ssc scope
		if snap, ssc, err = loadSnapshot(tx, sc, deref(in.DBSnapshotIdentifier)); err != nil {
			return err
		}
		if ssc != sc {
			return fault("DBSnapshotNotFound", "DBSnapshot %s not found.", deref(in.DBSnapshotIdentifier))
		}
		if snap.Type != "manual" {
			return fault("InvalidDBSnapshotState", "Only manual snapshots may be deleted.")
		}
		if snap.Status == "creating" {
			return fault("InvalidDBSnapshotState", "Cannot delete the snapshot because it is not currently in the available state.")
		}
		return s.dropSnapshot(tx, sc, snap, msgSnapshotDeleted)
	})
	if err != nil {
		return nil, err
	}
	snap.Status = "deleted"
	return &rdsapi.DeleteDBSnapshotResult{DBSnapshot: describeSnapshot(sc, snap)}, nil
}

// dropSnapshot deletes a snapshot's record in tx and its file once tx
// commits.
func (s *Service) dropSnapshot(tx *store.Tx, sc scope, snap *snapshotRecord, msg string) error {
	if _, err := tx.Delete(sc.snapshotKey(snap.ID)); err != nil {
		return err
	}
	if snap.File != "" {
		path := s.snaps.path(snap.File)
		tx.OnCommit(func() {
			if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
				s.log.Warn("rds: removing a snapshot's dump", "path", path, "error", err)
			}
		})
	}
	return snapshotEvent(tx, sc, snap.ID, s.now(), msg)
}

func (s *Service) CopyDBSnapshot(ctx context.Context, in *rdsapi.CopyDBSnapshotMessage) (*rdsapi.CopyDBSnapshotResult, error) {
	sc := scopeOf(ctx)
	target := strings.ToLower(deref(in.TargetDBSnapshotIdentifier))
	if !validIdentifier(target, 255) {
		return nil, notAnIdentifier("TargetDBSnapshotIdentifier")
	}
	if deref(in.KmsKeyId) != "" {
		return nil, notImplemented("Encrypted snapshots (KmsKeyId)")
	}
	var snap *snapshotRecord
	err := s.store.Update(func(tx *store.Tx) error {
		src, ssc, err := loadSnapshot(tx, sc, deref(in.SourceDBSnapshotIdentifier))
		if err != nil {
			return err
		}
		if src.Status != "available" {
			return fault("InvalidDBSnapshotState", "Snapshot %s is not in available state.", src.ID)
		}
		if ok, err := tx.Get(sc.snapshotKey(target), &snapshotRecord{}); err != nil {
			return err
		} else if ok {
			return snapshotExists(target)
		}
		now := s.now()
		c := *src
		snap = &c
		snap.ID, snap.Type, snap.Created, snap.Status, snap.StatusSince, snap.Progress = target, "manual", now, "creating", now, 0
		snap.SourceARN, snap.SourceRegion, snap.CopyOf, snap.File, snap.Size = ssc.arn("snapshot", src.ID), "", src.File, "", 0
		snap.Tags = toTags(in.Tags)
		if deref(in.CopyTags) && len(in.Tags) == 0 {
			snap.Tags = src.Tags
		}
		msg := msgSnapshotCreating
		if ssc.region != sc.region {
			snap.SourceRegion = ssc.region
			msg = msgCopyStarted(snap.SourceARN, ssc.region)
		}
		if err := snapshotEvent(tx, sc, snap.ID, now, msg); err != nil {
			return err
		}
		return tx.Put(sc.snapshotKey(snap.ID), snap)
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.CopyDBSnapshotResult{DBSnapshot: describeSnapshot(sc, snap)}, nil
}

// restoreKey carries a restore's snapshot into CreateDBInstance.
type restoreKey struct{}

// restoreSpec is a restore: the backup or snapshot loaded and its dump's
// link; for a point-in-time restore also its source, its time, the logs
// replayed (links) and where they stop on the node's clock.
type restoreSpec struct {
	snapshot, file string
	source         string
	to, stop       time.Time
	replay         []replayLog
}

// restoreOf is the snapshot (and its dump's link) a DB instance being
// created is restored from; nil for a new one.
func restoreOf(ctx context.Context) *restoreSpec {
	spec, _ := ctx.Value(restoreKey{}).(*restoreSpec)
	return spec
}

func (s *Service) RestoreDBInstanceFromDBSnapshot(ctx context.Context, in *rdsapi.RestoreDBInstanceFromDBSnapshotMessage) (*rdsapi.RestoreDBInstanceFromDBSnapshotResult, error) {
	sc := scopeOf(ctx)
	if deref(in.DBSnapshotIdentifier) == "" {
		return nil, invalidCombination("DBSnapshotIdentifier must be specified.")
	}
	var snap *snapshotRecord
	err := s.store.View(func(tx *store.Tx) (err error) {
		var ssc scope
		snap, ssc, err = loadSnapshot(tx, sc, deref(in.DBSnapshotIdentifier))
		if err == nil && ssc != sc { // another region's: copy it here first
			err = fault("DBSnapshotNotFound", "DBSnapshot %s not found.", deref(in.DBSnapshotIdentifier))
		}
		if err == nil && snap.Status != "available" {
			err = fault("InvalidDBSnapshotState", "Snapshot %s is not in available state.", snap.ID)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if e := deref(in.Engine); e != "" && e != snap.Engine {
		return nil, invalidCombination("Cannot restore a snapshot of engine %s as engine %s.", snap.Engine, e)
	}
	msg := &rdsapi.CreateDBInstanceMessage{DBInstanceIdentifier: in.DBInstanceIdentifier, Engine: ptr(snap.Engine),
		EngineVersion: ptr(snap.EngineVersion), DBInstanceClass: ptr(snap.Class), MasterUsername: ptr(snap.MasterUsername),
		MasterUserPassword: ptr(snap.Password), AllocatedStorage: ptr(int64(snap.AllocatedStorage)), Port: ptr(int64(snap.Port)),
		DBSubnetGroupName: in.DBSubnetGroupName, DBParameterGroupName: in.DBParameterGroupName, AvailabilityZone: in.AvailabilityZone,
		VpcSecurityGroupIds: in.VpcSecurityGroupIds, PubliclyAccessible: in.PubliclyAccessible, DeletionProtection: in.DeletionProtection,
		MultiAZ: in.MultiAZ, Tags: in.Tags}
	if snap.DBName != "" {
		msg.DBName = ptr(snap.DBName)
	}
	if in.DBInstanceClass != nil {
		msg.DBInstanceClass = in.DBInstanceClass
	}
	if in.Port != nil {
		msg.Port = in.Port
	}
	if in.AllocatedStorage != nil {
		if *in.AllocatedStorage < int64(snap.AllocatedStorage) {
			return nil, invalidValue("The allocated storage %d is less than the snapshot's %d GiB.", *in.AllocatedStorage, snap.AllocatedStorage)
		}
		msg.AllocatedStorage = in.AllocatedStorage
	}
	// The new node loads its own link to the dump: deleting the snapshot
	// meanwhile does not take the content away.
	spec := &restoreSpec{snapshot: snap.ID}
	if snap.File != "" {
		if spec.file, err = s.snaps.link(sc, snap.File, "restore"); err != nil {
			return nil, err
		}
	}
	out, err := s.CreateDBInstance(context.WithValue(ctx, restoreKey{}, spec), msg)
	if err != nil {
		if spec.file != "" {
			os.Remove(s.snaps.path(spec.file))
		}
		return nil, err
	}
	if !s.dataPlane.Load() {
		// Without a data plane there is nothing to load.
		err = s.store.Update(func(tx *store.Tx) error {
			return event(tx, sc, *out.DBInstance.DBInstanceIdentifier, s.now(), msgRestored(snap.ID))
		})
	}
	return &rdsapi.RestoreDBInstanceFromDBSnapshotResult{DBInstance: out.DBInstance}, err
}

// snapshotDir is where a scope's dumps are kept, relative to the files
// directory.
func snapshotDir(sc scope, sub string) string {
	return filepath.Join("rds", sc.account, sc.region, sub)
}

package ec2

import (
	"context"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// EBS snapshots (snapshot.go is the desired world's snapshot, a different
// thing). With a data plane a snapshot is pending until the volumes
// controller has copied the volume's file (ReportSnapshot).

func (s *Service) CreateSnapshot(ctx context.Context, in *ec2api.CreateSnapshotRequest) (*ec2api.Snapshot, error) {
	sc := scopeOf(ctx)
	tags, err := tagsFor(in.TagSpecifications, "snapshot")
	if err != nil {
		return nil, err
	}
	var out *ec2api.Snapshot
	err = s.store.Update(func(tx *store.Tx) error {
		v, err := load[volumeRecord](tx, sc, kindVolume, deref(in.VolumeId))
		if err != nil {
			return err
		}
		if deref(v.State) == "creating" {
			return api.Errorf("IncorrectState", "The volume '%s' is 'creating'", *v.VolumeId)
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		rec := s.newSnapshot(sc, v.VolumeId, v.Size, v.Encrypted, v.KmsKeyId, str(deref(in.Description)), tags)
		out = &rec.Snapshot
		return save(tx, sc, kindSnapshot, *rec.SnapshotId, rec)
	})
	if err != nil {
		return nil, err
	}
	resp := *out
	resp.State, resp.Progress = str("pending"), str("")
	return &resp, nil
}

func (s *Service) newSnapshot(sc scope, volume *string, size *int64, encrypted *bool, key, description *string, tags []*ec2api.Tag) *snapshotRecord {
	now := s.now().UTC().Truncate(time.Millisecond)
	state, progress := "completed", "100%"
	if s.dataPlane {
		state, progress = "pending", "0%" // until the data plane copied the data
	}
	if tags == nil {
		tags = []*ec2api.Tag{}
	}
	return &snapshotRecord{Snapshot: ec2api.Snapshot{
		SnapshotId:  str(kindSnapshot.newID()),
		VolumeId:    volume,
		VolumeSize:  size,
		Encrypted:   boolp(derefBool(encrypted)),
		KmsKeyId:    key,
		Description: description,
		OwnerId:     str(sc.account),
		StartTime:   &now,
		State:       str(state),
		Progress:    str(progress),
		StorageTier: str("standard"),
		Tags:        tags,
	}}
}

var snapshotFields = fields[snapshotRecord]{
	"snapshot-id":  func(v *snapshotRecord) []string { return one(v.SnapshotId) },
	"volume-id":    func(v *snapshotRecord) []string { return one(v.VolumeId) },
	"volume-size":  func(v *snapshotRecord) []string { return int64Field(v.VolumeSize) },
	"status":       func(v *snapshotRecord) []string { return one(v.State) },
	"progress":     func(v *snapshotRecord) []string { return one(v.Progress) },
	"description":  func(v *snapshotRecord) []string { return one(v.Description) },
	"encrypted":    func(v *snapshotRecord) []string { return boolField(v.Encrypted) },
	"owner-id":     func(v *snapshotRecord) []string { return one(v.OwnerId) },
	"owner-alias":  func(v *snapshotRecord) []string { return one(v.OwnerAlias) },
	"start-time":   func(v *snapshotRecord) []string { return timeField(v.StartTime) },
	"storage-tier": func(v *snapshotRecord) []string { return one(v.StorageTier) },
}

func (s *Service) DescribeSnapshots(ctx context.Context, in *ec2api.DescribeSnapshotsRequest) (*ec2api.DescribeSnapshotsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	// Only the account's own snapshots exist here: public and shared
	// ones list nothing.
	for _, o := range derefAll(in.OwnerIds) {
		if o != "self" && o != sc.account {
			return &ec2api.DescribeSnapshotsResult{Snapshots: []*ec2api.Snapshot{}}, nil
		}
	}
	var page []*snapshotRecord
	var next *string
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		page, next, err = describe(tx, sc, kindSnapshot, query{ids: in.SnapshotIds, filters: in.Filters, maxResults: in.MaxResults, nextToken: in.NextToken, idsParam: "snapshotIds"},
			func(v *snapshotRecord) string { return *v.SnapshotId },
			func(v *snapshotRecord) []*ec2api.Tag { return v.Tags }, snapshotFields)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &ec2api.DescribeSnapshotsResult{Snapshots: []*ec2api.Snapshot{}, NextToken: next}
	for _, v := range page {
		out.Snapshots = append(out.Snapshots, &v.Snapshot)
	}
	return out, nil
}

func (s *Service) DeleteSnapshot(ctx context.Context, in *ec2api.DeleteSnapshotRequest) (*ec2api.DeleteSnapshotOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		snap, err := load[snapshotRecord](tx, sc, kindSnapshot, deref(in.SnapshotId))
		if err != nil {
			return err
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		return remove(tx, sc, kindSnapshot, *snap.SnapshotId)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteSnapshotOutput{}, nil
}

// CopySnapshot copies a completed snapshot of the account, from
// SourceRegion (this region too) into the request's region.
func (s *Service) CopySnapshot(ctx context.Context, in *ec2api.CopySnapshotRequest) (*ec2api.CopySnapshotResult, error) {
	sc := scopeOf(ctx)
	src := scope{account: sc.account, region: deref(in.SourceRegion)}
	if src.region == "" {
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter SourceRegion")
	}
	tags, err := tagsFor(in.TagSpecifications, "snapshot")
	if err != nil {
		return nil, err
	}
	var out *snapshotRecord
	err = s.store.Update(func(tx *store.Tx) error {
		from, err := load[snapshotRecord](tx, src, kindSnapshot, deref(in.SourceSnapshotId))
		if err != nil {
			return err
		}
		if deref(from.State) != "completed" {
			return api.Errorf("IncorrectState", "Snapshot '%s' is in invalid state - %s", *from.SnapshotId, deref(from.State))
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		desc := in.Description
		if desc == nil {
			desc = str("[Copied " + *from.SnapshotId + " from " + src.region + "]")
		}
		encrypted, key := from.Encrypted, from.KmsKeyId
		if derefBool(in.Encrypted) {
			encrypted, key = boolp(true), defaultEBSKey(sc, in.KmsKeyId)
		}
		// A copy names no volume, as AWS's do.
		out = s.newSnapshot(sc, str("vol-ffffffff"), from.VolumeSize, encrypted, key, desc, tags)
		out.Source = *from.SnapshotId
		return save(tx, sc, kindSnapshot, *out.SnapshotId, out)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CopySnapshotResult{SnapshotId: out.SnapshotId, Tags: out.Tags}, nil
}

// ReportSnapshot implements desired.VolumeReporter.
func (s *Service) ReportSnapshot(account, region, id string, ok bool, reason string) error {
	sc := scope{account: account, region: region}
	return s.store.Update(func(tx *store.Tx) error {
		snap, found, err := store.Get[snapshotRecord](tx, sc.key(kindSnapshot, id))
		if err != nil || !found || deref(snap.State) != "pending" {
			return err
		}
		snap.State, snap.Progress = str("completed"), str("100%")
		if !ok {
			snap.State, snap.StateMessage = str("error"), str(reason)
		}
		s.log.Info("ec2 snapshot state", "account", account, "region", region, "snapshot", id, "to", *snap.State, "reason", reason)
		return save(tx, sc, kindSnapshot, id, snap)
	})
}

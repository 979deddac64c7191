package elasticache

import (
	"context"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ecapi "github.com/cloudbox/cloudbox/api/elasticache"
	"github.com/cloudbox/cloudbox/store"
)

// Manual snapshots of Redis nodes: the record and the API. The work of
// taking a node's RDB is in snapwork.go.

const kindSnapshot = "elasticache:snapshot"

// snapshot is a manual snapshot: one node's RDB, and what the group it
// was taken of looked like, for a restore.
type snapshot struct {
	Name, Status string
	// Group and Cluster are the replication group and the node (cache
	// cluster) it was taken of.
	Group, Cluster                    string
	Description                       string
	Engine, EngineVersion, NodeType   string
	ParamGroup, SubnetGroup, VPC, AZ  string
	Port                              int64
	NumNodes                          int
	AutoFailover                      bool
	NodeCreated, Created, StatusSince time.Time
	SnapshotWindow                    string `json:",omitempty"`
	// File is the RDB, relative to the files directory ("" without
	// content); a copy's Source is the snapshot copied.
	File   string `json:",omitempty"`
	Source string `json:",omitempty"`
	Size   int64  `json:",omitempty"`
	Reason string `json:",omitempty"`
	// Automated is an automatic snapshot (autosnap.go), deleted
	// RetentionLimit days after it was taken.
	Automated      bool  `json:",omitempty"`
	RetentionLimit int64 `json:",omitempty"`
}

// newSnapshot is a snapshot of a group's node, being taken.
func newSnapshot(rg *replicationGroup, n *node, name string, now time.Time) *snapshot {
	return &snapshot{Name: name, Status: "creating", Group: rg.ID, Cluster: n.Cluster, Description: rg.Description,
		Engine: rg.Engine, EngineVersion: rg.EngineVersion, NodeType: n.nodeType(rg), ParamGroup: rg.ParamGroup,
		SubnetGroup: rg.SubnetGroup, VPC: rg.VPC, AZ: n.AZ, Port: rg.Port, NumNodes: len(rg.Nodes), AutoFailover: rg.AutoFailover,
		NodeCreated: n.Created, Created: now, StatusSince: now, SnapshotWindow: rg.snapshotWindow()}
}

func snapshotNotFound(name string) error {
	return api.NewError(404, "SnapshotNotFoundFault", "Snapshot %s not found.", name)
}

func loadSnapshot(tx *store.Tx, sc scope, name string) (*snapshot, error) {
	sn, ok, err := store.Get[snapshot](tx, sc.key(kindSnapshot, name))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, snapshotNotFound(name)
	}
	return sn, nil
}

// putNewSnapshot stores a new snapshot, refusing a name in use.
func putNewSnapshot(tx *store.Tx, sc scope, sn *snapshot) error {
	if ok, err := tx.Get(sc.key(kindSnapshot, sn.Name), &snapshot{}); err != nil || ok {
		if ok {
			return api.NewError(400, "SnapshotAlreadyExistsFault", "Snapshot with specified name already exists.")
		}
		return err
	}
	return tx.Put(sc.key(kindSnapshot, sn.Name), sn)
}

func (s *Service) registerSnapshots(h *ecapi.Handlers) {
	h.CreateSnapshot = s.createSnapshot
	h.CopySnapshot = s.copySnapshot
	h.DeleteSnapshot = s.deleteSnapshot
	h.DescribeSnapshots = s.describeSnapshots
}

func (s *Service) createSnapshot(ctx context.Context, in *ecapi.CreateSnapshotMessage) (*ecapi.CreateSnapshotResult, error) {
	sc := scopeOf(ctx)
	name := deref(in.SnapshotName)
	if err := checkName("SnapshotName", name, 255); err != nil {
		return nil, err
	}
	group, cluster := strings.ToLower(deref(in.ReplicationGroupId)), strings.ToLower(deref(in.CacheClusterId))
	switch {
	case group == "" && cluster == "":
		return nil, invalidCombination("At least one of ReplicationGroupId and CacheClusterId must be specified.")
	case group != "" && cluster != "":
		return nil, invalidCombination("Only one of ReplicationGroupId and CacheClusterId can be specified.")
	case in.KmsKeyId != nil:
		return nil, api.NotImplemented("ElastiCache", "CreateSnapshot with KmsKeyId (encryption at rest)")
	case len(in.Tags) > 0:
		return nil, api.NotImplemented("ElastiCache", "CreateSnapshot with Tags")
	}
	now := s.now()
	var sn *snapshot
	err := s.store.Update(func(tx *store.Tx) error {
		var rg *replicationGroup
		var n *node
		var err error
		if cluster != "" {
			if ok, err := tx.Get(sc.key(kindCacheCluster, cluster), &cacheCluster{}); err != nil || ok {
				if ok {
					return invalidCombination("Snapshots are not supported by the memcached engine.")
				}
				return err
			}
			if rg, n, err = findCluster(tx, sc, cluster); err != nil {
				return err
			}
			if n.Status != "available" {
				return api.Errorf("InvalidCacheClusterState", "Cache cluster %s is not in available state.", cluster)
			}
		} else {
			if rg, err = loadRG(tx, sc, group); err != nil {
				return err
			}
			// The primary: it holds every write acknowledged.
			if n = rg.primary(); rg.Status != "available" || n == nil || n.Status != "available" {
				return api.Errorf("InvalidReplicationGroupState", "Replication group %s is not in available state.", group)
			}
		}
		if rg.ClusterMode {
			// A snapshot of one shard's node would not hold the group.
			return api.NotImplemented("ElastiCache", "CreateSnapshot of a group with cluster mode enabled")
		}
		sn = newSnapshot(rg, n, name, now)
		return putNewSnapshot(tx, sc, sn)
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("elasticache: snapshot started", "account", sc.account, "region", sc.region, "snapshot", name, "cluster", sn.Cluster)
	return &ecapi.CreateSnapshotResult{Snapshot: sc.snapshotOut(sn)}, nil
}

func (s *Service) copySnapshot(ctx context.Context, in *ecapi.CopySnapshotMessage) (*ecapi.CopySnapshotResult, error) {
	sc := scopeOf(ctx)
	source, target := deref(in.SourceSnapshotName), deref(in.TargetSnapshotName)
	switch {
	case in.TargetBucket != nil:
		return nil, api.NotImplemented("ElastiCache", "CopySnapshot with TargetBucket (export to S3)")
	case in.KmsKeyId != nil:
		return nil, api.NotImplemented("ElastiCache", "CopySnapshot with KmsKeyId (encryption at rest)")
	case len(in.Tags) > 0:
		return nil, api.NotImplemented("ElastiCache", "CopySnapshot with Tags")
	}
	if err := checkName("TargetSnapshotName", target, 255); err != nil {
		return nil, err
	}
	var src *snapshot
	err := s.store.View(func(tx *store.Tx) (err error) {
		src, err = loadSnapshot(tx, sc, source)
		return err
	})
	if err != nil {
		return nil, err
	}
	if src.Status != "available" {
		return nil, api.Errorf("InvalidSnapshotState", "Snapshot %s is not in available state.", source)
	}
	// The copy's own link to the RDB, made now: the source may go
	// meanwhile.
	file := ""
	if src.File != "" {
		if file, err = s.link(sc, src.File); err != nil {
			return nil, err
		}
	}
	now := s.now()
	c := *src
	cp := &c
	cp.Name, cp.Status, cp.Created, cp.StatusSince, cp.Source, cp.File = target, "creating", now, now, source, file
	cp.Automated, cp.RetentionLimit = false, 0
	err = s.store.Update(func(tx *store.Tx) error {
		if cur, err := loadSnapshot(tx, sc, source); err != nil {
			return err
		} else if cur.File != src.File {
			return snapshotNotFound(source)
		}
		return putNewSnapshot(tx, sc, cp)
	})
	if err != nil {
		s.snaps.remove(file)
		return nil, err
	}
	return &ecapi.CopySnapshotResult{Snapshot: sc.snapshotOut(cp)}, nil
}

func (s *Service) deleteSnapshot(ctx context.Context, in *ecapi.DeleteSnapshotMessage) (*ecapi.DeleteSnapshotResult, error) {
	sc := scopeOf(ctx)
	name := deref(in.SnapshotName)
	var sn *snapshot
	err := s.store.Update(func(tx *store.Tx) error {
		var err error
		if sn, err = loadSnapshot(tx, sc, name); err != nil {
			return err
		}
		if sn.Status == "creating" {
			return api.Errorf("InvalidSnapshotState", "Snapshot %s is not in a valid state for deletion: creating.", name)
		}
		_, err = tx.Delete(sc.key(kindSnapshot, name))
		return err
	})
	if err != nil {
		return nil, err
	}
	// Each snapshot has its own link to an RDB: removing it leaves the
	// copies'.
	s.snaps.remove(sn.File)
	sn.Status = "deleting"
	return &ecapi.DeleteSnapshotResult{Snapshot: sc.snapshotOut(sn)}, nil
}

func (s *Service) describeSnapshots(ctx context.Context, in *ecapi.DescribeSnapshotsMessage) (*ecapi.DescribeSnapshotsListMessage, error) {
	sc := scopeOf(ctx)
	name, group, cluster := deref(in.SnapshotName), strings.ToLower(deref(in.ReplicationGroupId)), strings.ToLower(deref(in.CacheClusterId))
	// AWS's values are system (automatic) and user (manual); the
	// snapshots' own SnapshotSource values are taken too.
	var automated *bool
	switch src := deref(in.SnapshotSource); src {
	case "":
	case "system", "automated":
		automated = boolp(true)
	case "user", "manual":
		automated = boolp(false)
	default:
		return nil, invalidValue("Invalid value for SnapshotSource: %s. Valid values are system and user.", src)
	}
	var all []*ecapi.Snapshot
	err := s.store.View(func(tx *store.Tx) error {
		if name != "" {
			if _, err := loadSnapshot(tx, sc, name); err != nil {
				return err
			}
		}
		if group != "" {
			if _, err := loadRG(tx, sc, group); err != nil {
				return err
			}
		}
		list, err := store.ListAll[snapshot](tx, sc.account, sc.region, kindSnapshot)
		for _, sn := range list {
			if name != "" && sn.Name != name || group != "" && sn.Group != group || cluster != "" && sn.Cluster != cluster ||
				automated != nil && sn.Automated != *automated {
				continue
			}
			all = append(all, sc.snapshotOut(sn))
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out, next, err := page(all, in.Marker, in.MaxRecords)
	if out == nil {
		out = []*ecapi.Snapshot{}
	}
	return &ecapi.DescribeSnapshotsListMessage{Snapshots: out, Marker: next}, err
}

// snapshotOut is a snapshot as the API shows it.
func (sc scope) snapshotOut(sn *snapshot) *ecapi.Snapshot {
	auto := "disabled"
	if sn.AutoFailover {
		auto = "enabled"
	}
	ns := &ecapi.NodeSnapshot{CacheClusterId: str(sn.Cluster), CacheNodeId: str("0001"), NodeGroupId: str("0001"),
		CacheNodeCreateTime: &sn.NodeCreated}
	if sn.Status != "creating" {
		ns.SnapshotCreateTime = &sn.StatusSince
		ns.CacheSize = str(cacheSize(sn.Size))
	}
	source := "manual"
	if sn.Automated {
		source = "automated"
	}
	return &ecapi.Snapshot{ARN: str(sc.arn("snapshot", sn.Name)), SnapshotName: str(sn.Name), SnapshotStatus: str(sn.Status),
		SnapshotSource: str(source), ReplicationGroupId: str(sn.Group), ReplicationGroupDescription: str(sn.Description),
		CacheClusterId: str(sn.Cluster), CacheNodeType: str(sn.NodeType), Engine: str(sn.Engine), EngineVersion: str(engineFull(sn.EngineVersion)),
		NumCacheNodes: i64(1), NumNodeGroups: i64(1), Port: i64(sn.Port), PreferredAvailabilityZone: str(sn.AZ),
		CacheClusterCreateTime: &sn.NodeCreated, PreferredMaintenanceWindow: str("sun:06:00-sun:07:00"),
		CacheParameterGroupName: str(sn.ParamGroup), CacheSubnetGroupName: str(sn.SubnetGroup), VpcId: str(sn.VPC),
		AutoMinorVersionUpgrade: boolp(true), SnapshotRetentionLimit: i64(sn.RetentionLimit), SnapshotWindow: str(sn.SnapshotWindow),
		AutomaticFailover: str(auto), DataTiering: str("disabled"), NodeSnapshots: []*ecapi.NodeSnapshot{ns}}
}

// cacheSize is an RDB's size as ElastiCache shows it, in whole MB.
func cacheSize(n int64) string {
	const mb = 1 << 20
	return formatMarker(int((n+mb-1)/mb)) + " MB"
}

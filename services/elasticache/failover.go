package elasticache

import (
	"bytes"
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ecapi "github.com/cloudbox/cloudbox/api/elasticache"
	"github.com/cloudbox/cloudbox/store"
)

// failover makes the most advanced available replica the primary and
// the primary a replica. Moving the roles moves the primary endpoint's
// name; the nodes follow the name (REPLICAOF NO ONE on the promoted one,
// REPLICAOF the new primary on the others), so Redis's own replication
// carries on. offsets are the replicas' replication offsets, read from
// them before the transaction (replicaOffsets).
func failover(tx *store.Tx, sc scope, rg *replicationGroup, now time.Time, offsets map[string]int64) error {
	old, next := rg.primary(), mostAdvanced(rg, offsets)
	if old == nil || next == nil {
		return api.Errorf("InvalidReplicationGroupState", "Replication group %s has no available replica to fail over to.", rg.ID)
	}
	return promote(tx, sc, rg, old, next, now)
}

// mostAdvanced is the available replica with the highest replication
// offset (it has applied the most of the primary's stream, so the least
// is lost); one whose offset is unknown (it did not answer) only when
// none is known, and among equals the first in node order.
func mostAdvanced(rg *replicationGroup, offsets map[string]int64) *node {
	var best *node
	bestOffset := int64(-1)
	for _, n := range rg.Nodes {
		if n.Role != "replica" || n.Status != "available" {
			continue
		}
		off, ok := offsets[n.Cluster]
		if !ok {
			off = -1
		}
		if best == nil || off > bestOffset {
			best, bestOffset = n, off
		}
	}
	return best
}

// offsetTimeout bounds asking a replica for its offset: a failover waits
// for the slowest.
const offsetTimeout = 5 * time.Second

// replicaOffsets asks the group's available replicas, at once, for their
// slave_repl_offset (INFO replication over the node's socket), by cache
// cluster; those that do not answer are left out. Without a data plane
// there are none.
func (s *Service) replicaOffsets(ctx context.Context, sc scope, rg *replicationGroup) map[string]int64 {
	offsets := map[string]int64{}
	ex := s.snaps.execer()
	if ex == nil {
		return offsets
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range rg.Nodes {
		if n.Role != "replica" || n.Status != "available" {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out bytes.Buffer
			qctx, cancel := context.WithTimeout(ctx, offsetTimeout)
			defer cancel()
			code, err := ex.ExecSlot(qctx, sc.slotID(n.Cluster, n.Gen), redisInfoArgv("replication"), nil, &out)
			if err != nil || code != 0 {
				return
			}
			info := parseRedisInfo(out.String())
			off, err := strconv.ParseInt(info["slave_repl_offset"], 10, 64)
			if err != nil || info["role"] != "slave" {
				return
			}
			mu.Lock()
			offsets[n.Cluster] = off
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(offsets) > 0 {
		s.log.Info("elasticache: replicas' offsets", "account", sc.account, "region", sc.region, "id", rg.ID, "offsets", offsets)
	}
	return offsets
}

// promote makes next the primary in old's place, with AWS's events.
func promote(tx *store.Tx, sc scope, rg *replicationGroup, old, next *node, now time.Time) error {
	old.Role, next.Role = "replica", "primary"
	msg := "Failover from primary node " + old.Cluster + " to replica node " + next.Cluster + " completed"
	if err := recordEvent(tx, sc, now, "cache-cluster", old.Cluster, msg); err != nil {
		return err
	}
	return recordEvent(tx, sc, now, "replication-group", rg.ID, msg)
}

func (s *Service) testFailover(ctx context.Context, in *ecapi.TestFailoverMessage) (*ecapi.TestFailoverResult, error) {
	sc := scopeOf(ctx)
	var rg *replicationGroup
	// The replicas' offsets, asked outside the transaction; a group that
	// cannot fail over is refused below anyway.
	var offsets map[string]int64
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		rg, err = loadRG(tx, sc, deref(in.ReplicationGroupId))
		return err
	})
	if err == nil && rg.Status == "available" && rg.AutoFailover {
		offsets = s.replicaOffsets(ctx, sc, rg)
	}
	err = s.store.Update(func(tx *store.Tx) error {
		var err error
		if rg, err = loadRG(tx, sc, deref(in.ReplicationGroupId)); err != nil {
			return err
		}
		if ng := deref(in.NodeGroupId); strings.TrimLeft(ng, "0") != "1" {
			return api.NewError(404, "NodeGroupNotFoundFault", "The node group %s was not found in replication group %s.", ng, rg.ID)
		}
		if rg.Status != "available" {
			return api.Errorf("InvalidReplicationGroupState", "Replication group %s is not in available state.", rg.ID)
		}
		if !rg.AutoFailover {
			return api.Errorf("InvalidReplicationGroupState", "Replication group %s must have automatic failover enabled to test failover.", rg.ID)
		}
		now := s.now()
		if err := recordEvent(tx, sc, now, "replication-group", rg.ID, "Test Failover API called for node group "+deref(in.NodeGroupId)); err != nil {
			return err
		}
		if err := failover(tx, sc, rg, now, offsets); err != nil {
			return err
		}
		return tx.Put(sc.key(kindRG, rg.ID), rg)
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("elasticache: failover", "id", rg.ID, "primary", rg.primary().Cluster)
	return &ecapi.TestFailoverResult{ReplicationGroup: sc.rgOut(rg)}, nil
}

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
// them before the transaction (replicaOffsets). With cluster mode it is
// the shard's replica, which the engine promoted already
// (clusterFailover).
func failover(tx *store.Tx, sc scope, rg *replicationGroup, shard string, now time.Time, offsets map[string]int64) error {
	old, next := rg.shardPrimary(shard), mostAdvanced(rg, shard, offsets)
	if old == nil || next == nil {
		return api.Errorf("InvalidReplicationGroupState", "Replication group %s has no available replica to fail over to.", rg.ID)
	}
	return promote(tx, sc, rg, old, next, now)
}

// mostAdvanced is the available replica with the highest replication
// offset (it has applied the most of the primary's stream, so the least
// is lost); one whose offset is unknown (it did not answer) only when
// none is known, and among equals the first in node order; with cluster
// mode, of the shard.
func mostAdvanced(rg *replicationGroup, shard string, offsets map[string]int64) *node {
	var best *node
	bestOffset := int64(-1)
	for _, n := range rg.Nodes {
		if n.Role != "replica" || n.Status != "available" || n.Shard != shard {
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
// there are none. With cluster mode only the shard's are asked.
func (s *Service) replicaOffsets(ctx context.Context, sc scope, rg *replicationGroup, shard string) map[string]int64 {
	offsets := map[string]int64{}
	ex := s.snaps.execer()
	if ex == nil {
		return offsets
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range rg.Nodes {
		if n.Role != "replica" || n.Status != "available" || n.Shard != shard {
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
	// The replicas' offsets, asked outside the transaction, and with
	// cluster mode the engine's failover; a group that cannot fail over is
	// refused before either.
	var offsets map[string]int64
	var shard string
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		if rg, err = loadRG(tx, sc, deref(in.ReplicationGroupId)); err != nil {
			return err
		}
		shard, err = checkTestFailover(rg, deref(in.NodeGroupId))
		return err
	})
	if err != nil {
		return nil, err
	}
	offsets = s.replicaOffsets(ctx, sc, rg, shard)
	if rg.ClusterMode {
		next := mostAdvanced(rg, shard, offsets)
		if next == nil {
			return nil, api.Errorf("InvalidReplicationGroupState", "Replication group %s has no available replica to fail over to.", rg.ID)
		}
		if err := s.clusterFailover(ctx, sc, rg, next); err != nil {
			return nil, err
		}
	}
	err = s.store.Update(func(tx *store.Tx) error {
		var err error
		if rg, err = loadRG(tx, sc, deref(in.ReplicationGroupId)); err != nil {
			return err
		}
		if shard, err = checkTestFailover(rg, deref(in.NodeGroupId)); err != nil {
			return err
		}
		now := s.now()
		if err := recordEvent(tx, sc, now, "replication-group", rg.ID, "Test Failover API called for node group "+deref(in.NodeGroupId)); err != nil {
			return err
		}
		if err := failover(tx, sc, rg, shard, now, offsets); err != nil {
			return err
		}
		return tx.Put(sc.key(kindRG, rg.ID), rg)
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("elasticache: failover", "id", rg.ID, "node group", deref(in.NodeGroupId), "primary", rg.shardPrimary(shard).Cluster)
	return &ecapi.TestFailoverResult{ReplicationGroup: sc.rgOut(rg)}, nil
}

// checkTestFailover checks that a group can fail a node group over now
// and returns the node group's shard ("" with cluster mode disabled).
func checkTestFailover(rg *replicationGroup, ng string) (string, error) {
	notFound := api.NewError(404, "NodeGroupNotFoundFault", "The node group %s was not found in replication group %s.", ng, rg.ID)
	shard := ""
	if rg.ClusterMode {
		sh := rg.shardOf(ng)
		if sh == nil {
			return "", notFound
		}
		shard = sh.ID
	} else if strings.TrimLeft(ng, "0") != "1" {
		return "", notFound
	}
	if rg.Status != "available" {
		return "", api.Errorf("InvalidReplicationGroupState", "Replication group %s is not in available state.", rg.ID)
	}
	if !rg.AutoFailover {
		return "", api.Errorf("InvalidReplicationGroupState", "Replication group %s must have automatic failover enabled to test failover.", rg.ID)
	}
	return shard, nil
}

// clusterFailoverScript has a replica of a cluster-mode group take its
// primary's place: CLUSTER FAILOVER, which the primary agrees to once the
// replica has all its writes, or CLUSTER FAILOVER TAKEOVER, without the
// primary, when the replica sees it failing or it has not agreed within
// ten seconds; it ends once the node is a primary.
const clusterFailoverScript = authEnv + `
rcli() { redis-cli -s /var/lib/redis/redis-server.sock "$@" | tr -d '\r'; }
promoted() {
  for i in $(seq "$1"); do
    rcli info replication | grep -qx role:master && return 0
    sleep 1
  done
  return 1
}
master=$(rcli info replication | awk -F: '$1 == "master_host" {print $2}')
if rcli cluster nodes | awk -v a="$master:" 'index($2, a) == 1 && $3 ~ /fail/' | grep -q .; then
  [ "$(rcli cluster failover takeover)" = OK ] && promoted 30 && exit 0
  exit 1
fi
[ "$(rcli cluster failover)" = OK ] && promoted 10 && exit 0
[ "$(rcli cluster failover takeover)" = OK ] && promoted 30
`

// clusterTimeout bounds a cluster-mode failover on its replica.
const clusterTimeout = 60 * time.Second

// clusterFailover runs the engine's failover on a cluster-mode shard's
// replica, through the SlotExec (nothing without a data plane).
func (s *Service) clusterFailover(ctx context.Context, sc scope, rg *replicationGroup, next *node) error {
	ex := s.snaps.execer()
	if ex == nil {
		return nil
	}
	qctx, cancel := context.WithTimeout(ctx, clusterTimeout)
	defer cancel()
	var out bytes.Buffer
	code, err := ex.ExecSlot(qctx, sc.slotID(next.Cluster, next.Gen), []string{"bash", "-c", clusterFailoverScript}, nil, &out)
	if err != nil || code != 0 {
		s.log.Warn("elasticache: cluster failover", "id", rg.ID, "node", next.Cluster, "code", code, "error", err, "output", out.String())
		return api.Errorf("InvalidReplicationGroupState", "Replication group %s: node %s could not take over its node group %s.", rg.ID, next.Cluster, next.Shard)
	}
	return nil
}

package elasticache

import (
	"context"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ecapi "github.com/cloudbox/cloudbox/api/elasticache"
	"github.com/cloudbox/cloudbox/store"
)

// failover makes an available replica the primary and the primary a
// replica. Moving the roles moves the primary endpoint's name; the nodes
// follow the name (REPLICAOF NO ONE on the promoted one, REPLICAOF the
// new primary on the others), so Redis's own replication carries on.
//
// The control plane does not read the replicas' replication offsets: it
// promotes the first available replica in node order.
func failover(tx *store.Tx, sc scope, rg *replicationGroup, now time.Time) error {
	old := rg.primary()
	var next *node
	for _, n := range rg.Nodes {
		if n.Role == "replica" && n.Status == "available" {
			next = n
			break
		}
	}
	if old == nil || next == nil {
		return api.Errorf("InvalidReplicationGroupState", "Replication group %s has no available replica to fail over to.", rg.ID)
	}
	return promote(tx, sc, rg, old, next, now)
}

// promote makes next the primary in old's place, with AWS's events.
func promote(tx *store.Tx, sc scope, rg *replicationGroup, old, next *node, now time.Time) error {
	old.Role, next.Role = "replica", "primary"
	msg := "Failover from master node " + old.Cluster + " to replica node " + next.Cluster + " completed"
	if err := recordEvent(tx, sc, now, "cache-cluster", old.Cluster, msg); err != nil {
		return err
	}
	return recordEvent(tx, sc, now, "replication-group", rg.ID, msg)
}

func (s *Service) testFailover(ctx context.Context, in *ecapi.TestFailoverMessage) (*ecapi.TestFailoverResult, error) {
	sc := scopeOf(ctx)
	var rg *replicationGroup
	err := s.store.Update(func(tx *store.Tx) error {
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
		if err := failover(tx, sc, rg, now); err != nil {
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

package elasticache

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// Run moves groups on while the daemon serves: without a data plane,
// creating nodes turn available nodeBootTime after their creation; a
// deleting group goes, with its interfaces, deleteTime after the call;
// snapshots are taken (snapwork.go).
func (s *Service) Run(ctx context.Context) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if err := s.advance(); err != nil {
				s.log.Warn("elasticache: advancing groups", "error", err)
			}
			if err := s.snapshotStep(); err != nil {
				s.log.Warn("elasticache: snapshots", "error", err)
			}
		}
	}
}

func (s *Service) advance() error {
	var scopes [][2]string
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		scopes, err = scopesWithNodes(tx)
		return err
	})
	if err != nil {
		return err
	}
	now := s.now()
	for _, p := range scopes {
		sc := scope{account: p[0], region: p[1]}
		err := s.store.Update(func(tx *store.Tx) error {
			if err := s.advanceMemcached(tx, sc, now); err != nil {
				return err
			}
			rgs, err := store.ListAll[replicationGroup](tx, sc.account, sc.region, kindRG)
			if err != nil {
				return err
			}
			if err := s.autoSnapshots(tx, sc, rgs, now); err != nil {
				return err
			}
			for _, rg := range rgs {
				changed := false
				switch {
				case rg.Status == "deleting" && rg.FinalSnapshot == "" && !now.Before(rg.DeleteAt):
					if err := s.remove(tx, sc, rg, now); err != nil {
						return err
					}
					continue
				case !s.dataPlane:
					for _, n := range rg.Nodes {
						if n.Status == "creating" && !now.Before(n.Created.Add(nodeBootTime)) {
							if err := nodeUp(tx, sc, rg, n, now); err != nil {
								return err
							}
							changed = true
						}
						if n.Next != nil && !now.Before(n.Next.Created.Add(nodeBootTime)) {
							if err := swapIn(tx, sc, rg, n, now); err != nil {
								return err
							}
							changed = true
						}
					}
				}
				if t := rg.Target; t != nil && !t.Started && rg.Status == "available" && !now.Before(t.ApplyAt) {
					if err := startReplacements(tx, sc, rg, now); err != nil {
						return err
					}
					changed = true
				}
				if rg.Pending != nil && !now.Before(rg.Pending.ApplyAt) {
					if err := applyPending(tx, sc, rg, now); err != nil {
						return err
					}
					changed = true
				}
				for _, n := range slices.Clone(rg.Nodes) {
					if n.Status == "deleting" && rg.Status == "modifying" && !now.Before(n.DeleteAt) {
						if err := removeNode(tx, sc, rg, n, now); err != nil {
							return err
						}
						changed = true
					}
				}
				if changed {
					if err := tx.Put(sc.key(kindRG, rg.ID), rg); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// nodeUp marks a creating node available, and its group once every node
// is.
func nodeUp(tx *store.Tx, sc scope, rg *replicationGroup, n *node, now time.Time) error {
	n.Status = "available"
	if err := recordEvent(tx, sc, now, "cache-cluster", n.Cluster, "Cache cluster created"); err != nil {
		return err
	}
	return settle(tx, sc, rg, now)
}

// settle makes a creating or modifying group available once every node
// is.
func settle(tx *store.Tx, sc scope, rg *replicationGroup, now time.Time) error {
	if rg.Pending != nil {
		return nil
	}
	for _, o := range rg.Nodes {
		if o.Status != "available" {
			return nil
		}
	}
	switch rg.Status {
	case "creating":
		rg.Status = "available"
		return recordEvent(tx, sc, now, "replication-group", rg.ID, "Replication group "+rg.ID+" created")
	case "modifying":
		rg.Status = "available"
	}
	return nil
}

// removeNode takes a removed replica out of its group with its
// interface; its slot leaves the desired world and is reaped.
func removeNode(tx *store.Tx, sc scope, rg *replicationGroup, n *node, now time.Time) error {
	if err := ec2.DeleteServiceENI(tx, sc.account, sc.region, n.ENI); err != nil {
		return err
	}
	if err := dropTags(tx, sc, "cluster:"+n.Cluster); err != nil {
		return err
	}
	if err := recordEvent(tx, sc, now, "cache-cluster", n.Cluster, "Cache cluster deleted"); err != nil {
		return err
	}
	rg.Nodes = slices.DeleteFunc(rg.Nodes, func(o *node) bool { return o == n })
	return settle(tx, sc, rg, now)
}

// remove deletes a group that finished deleting, with its interfaces;
// its slots leave the desired world with it and are reaped.
func (s *Service) remove(tx *store.Tx, sc scope, rg *replicationGroup, now time.Time) error {
	for _, n := range rg.Nodes {
		if err := ec2.DeleteServiceENI(tx, sc.account, sc.region, n.ENI); err != nil {
			return err
		}
		if err := dropTags(tx, sc, "cluster:"+n.Cluster); err != nil {
			return err
		}
		if err := recordEvent(tx, sc, now, "cache-cluster", n.Cluster, "Cache cluster deleted"); err != nil {
			return err
		}
	}
	if err := dropTags(tx, sc, "replicationgroup:"+rg.ID); err != nil {
		return err
	}
	if err := recordEvent(tx, sc, now, "replication-group", rg.ID, "Replication group "+rg.ID+" deleted"); err != nil {
		return err
	}
	_, err := tx.Delete(sc.key(kindRG, rg.ID))
	s.snaps.remove(rg.RestoreFile) // a restore it never finished
	s.log.Info("elasticache: replication group deleted", "id", rg.ID)
	return err
}

// ReportSlot implements desired.SlotReporter: a node's slot runs (the
// node is available), stopped or failed (a primary fails over when the
// group has automatic failover).
func (s *Service) ReportSlot(account, region, id, state, reason string) error {
	sc := scope{account: account, region: region}
	if !strings.HasPrefix(id, sc.slotPrefix()) {
		return nil
	}
	// A primary lost: its replicas' offsets, asked before the transaction,
	// choose the one promoted; with cluster mode the engine promotes it at
	// once (else Redis Cluster would after its node timeout).
	var offsets map[string]int64
	if state != desired.Running {
		var lost *replicationGroup
		var shard string
		err := s.store.View(func(tx *store.Tx) error {
			rg, n, next, err := findSlot(tx, sc, id)
			if err == nil && rg != nil && !next && n.Role == "primary" && rg.Status == "available" && rg.AutoFailover {
				lost, shard = rg, n.Shard
			}
			return err
		})
		if err != nil {
			return err
		}
		if lost != nil {
			offsets = s.replicaOffsets(context.Background(), sc, lost, shard)
			if next := mostAdvanced(lost, shard, offsets); lost.ClusterMode && next != nil {
				// A failure is logged; the store follows the choice anyway,
				// as the engine makes it too.
				_ = s.clusterFailover(context.Background(), sc, lost, next)
			}
		}
	}
	return s.store.Update(func(tx *store.Tx) error {
		if ok, err := s.reportMemcachedSlot(tx, sc, id, state); ok || err != nil {
			return err
		}
		rg, n, next, err := findSlot(tx, sc, id)
		if err != nil || rg == nil {
			return err // nil when deleted meanwhile
		}
		now := s.now()
		switch {
		case next && state == desired.Running:
			if err := swapIn(tx, sc, rg, n, now); err != nil {
				return err
			}
		case next && state == desired.Failed:
			if err := dropReplacement(tx, sc, rg, n, reason, now); err != nil {
				return err
			}
		case next:
			return nil
		case state == desired.Running && n.Status == "creating" && rg.Status != "deleting":
			if err := nodeUp(tx, sc, rg, n, now); err != nil {
				return err
			}
		case state == desired.Failed && rg.Status == "creating":
			n.Status, rg.Status = "create-failed", "create-failed"
			s.log.Warn("elasticache: node failed to start", "cluster", n.Cluster, "reason", reason)
		case state != desired.Running && n.Role == "primary" && rg.Status == "available" && rg.AutoFailover:
			if err := failover(tx, sc, rg, n.Shard, now, offsets); err != nil {
				return err
			}
		default:
			return nil
		}
		return tx.Put(sc.key(kindRG, rg.ID), rg)
	})
}

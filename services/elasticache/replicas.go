package elasticache

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	ecapi "github.com/cloudbox/cloudbox/api/elasticache"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// IncreaseReplicaCount and DecreaseReplicaCount add real nodes (slots
// that install the engine and start replicating the primary) or remove
// replicas; the group is modifying until they are up or gone.

// replicaCount reads the count asked for, as NewReplicaCount or the one
// node group's ConfigureShard.
func replicaCount(n *int64, shards []*ecapi.ConfigureShard) (int, []string, error) {
	var azs []string
	switch {
	case n != nil && len(shards) > 0:
		return 0, nil, invalidCombination("Either NewReplicaCount or ReplicaConfiguration must be specified, not both.")
	case len(shards) == 1:
		if strings.TrimLeft(deref(shards[0].NodeGroupId), "0") != "1" {
			return 0, nil, api.NewError(404, "NodeGroupNotFoundFault", "The node group %s was not found.", deref(shards[0].NodeGroupId))
		}
		for _, az := range shards[0].PreferredAvailabilityZones {
			azs = append(azs, deref(az))
		}
		return int(deref64(shards[0].NewReplicaCount)), azs, nil
	case n != nil:
		return int(*n), nil, nil
	}
	return 0, nil, invalidValue("Either NewReplicaCount or ReplicaConfiguration must be specified.")
}

func deref64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func (rg *replicationGroup) replicas() []*node {
	var out []*node
	for _, n := range rg.Nodes {
		if n.Role == "replica" {
			out = append(out, n)
		}
	}
	return out
}

// modifiable loads a group that can change now.
func modifiable(tx *store.Tx, sc scope, id string) (*replicationGroup, error) {
	rg, err := loadRG(tx, sc, id)
	if err != nil {
		return nil, err
	}
	if rg.Status != "available" {
		return nil, api.Errorf("InvalidReplicationGroupState", "Replication group %s is not in available state.", rg.ID)
	}
	return rg, nil
}

func (s *Service) increaseReplicas(ctx context.Context, in *ecapi.IncreaseReplicaCountMessage) (*ecapi.IncreaseReplicaCountResult, error) {
	sc := scopeOf(ctx)
	want, azs, err := replicaCount(in.NewReplicaCount, in.ReplicaConfiguration)
	if err != nil {
		return nil, err
	}
	var rg *replicationGroup
	err = s.store.Update(func(tx *store.Tx) error {
		if rg, err = modifiable(tx, sc, deref(in.ReplicationGroupId)); err != nil {
			return err
		}
		if rg.ClusterMode {
			return api.NotImplemented("ElastiCache", "changing the replica count of a group with cluster mode enabled")
		}
		have := len(rg.replicas())
		if want <= have || want > maxNodes-1 {
			return invalidValue("The new replica count %d must be greater than the current replica count %d and at most %d.", want, have, maxNodes-1)
		}
		if len(azs) > 0 && len(azs) != want+1 {
			return invalidValue("The number of availability zones specified (%d) must match the number of nodes (%d).", len(azs), want+1)
		}
		sg, err := loadSubnetGroup(tx, sc, rg.SubnetGroup)
		if err != nil {
			return err
		}
		next := 0
		for _, n := range rg.Nodes {
			i, _ := strconv.Atoi(n.Cluster[strings.LastIndex(n.Cluster, "-")+1:])
			next = max(next, i)
		}
		now := s.now()
		for i := have; i < want; i++ {
			next++
			var sn groupSubnet
			if len(azs) > 0 {
				sn, err = placeNode(sg, azs, i+1)
			} else {
				sn, err = placeNode(sg, nil, len(rg.Nodes))
			}
			if err != nil {
				return err
			}
			n := &node{Cluster: fmt.Sprintf("%s-%03d", rg.ID, next), AZ: sn.AZ, Subnet: sn.ID, Role: "replica", Status: "creating", Created: now}
			eni, err := ec2.CreateServiceENI(tx, sc.account, sc.region, ec2.ServiceENISpec{Subnet: sn.ID, Groups: rg.SecurityGroups,
				Description: "ElastiCache " + n.Cluster, InterfaceType: "interface", Owner: "elasticache", Cluster: rg.ID})
			if err != nil {
				return err
			}
			n.ENI, n.IP = eni.ID, eni.PrivateIP.String()
			rg.Nodes = append(rg.Nodes, n)
		}
		rg.Status = "modifying"
		return tx.Put(sc.key(kindRG, rg.ID), rg)
	})
	if err != nil {
		return nil, err
	}
	return &ecapi.IncreaseReplicaCountResult{ReplicationGroup: sc.rgOut(rg)}, nil
}

func (s *Service) decreaseReplicas(ctx context.Context, in *ecapi.DecreaseReplicaCountMessage) (*ecapi.DecreaseReplicaCountResult, error) {
	sc := scopeOf(ctx)
	var rg *replicationGroup
	err := s.store.Update(func(tx *store.Tx) error {
		var err error
		if rg, err = modifiable(tx, sc, deref(in.ReplicationGroupId)); err != nil {
			return err
		}
		if rg.ClusterMode {
			return api.NotImplemented("ElastiCache", "changing the replica count of a group with cluster mode enabled")
		}
		replicas := rg.replicas()
		var gone []*node
		if len(in.ReplicasToRemove) > 0 {
			if in.NewReplicaCount != nil || len(in.ReplicaConfiguration) > 0 {
				return invalidCombination("ReplicasToRemove cannot be specified with NewReplicaCount or ReplicaConfiguration.")
			}
			for _, id := range in.ReplicasToRemove {
				i := slices.IndexFunc(rg.Nodes, func(n *node) bool { return n.Cluster == strings.ToLower(deref(id)) })
				if i < 0 {
					return api.NewError(404, "CacheClusterNotFound", "CacheCluster not found: %s", deref(id))
				}
				if rg.Nodes[i].Role == "primary" {
					return invalidValue("Cannot remove the primary node %s of replication group %s.", rg.Nodes[i].Cluster, rg.ID)
				}
				gone = append(gone, rg.Nodes[i])
			}
		} else {
			want, _, err := replicaCount(in.NewReplicaCount, in.ReplicaConfiguration)
			if err != nil {
				return err
			}
			if want < 0 || want >= len(replicas) {
				return invalidValue("The new replica count %d must be less than the current replica count %d.", want, len(replicas))
			}
			gone = replicas[want:]
		}
		if rg.AutoFailover && len(replicas)-len(gone) < 1 {
			return invalidValue("Must have at least 1 replica when cluster mode is disabled with auto failover enabled.")
		}
		deleteAt := s.now().Add(deleteTime)
		for _, n := range gone {
			n.Status, n.DeleteAt = "deleting", deleteAt
		}
		rg.Status = "modifying"
		return tx.Put(sc.key(kindRG, rg.ID), rg)
	})
	if err != nil {
		return nil, err
	}
	return &ecapi.DecreaseReplicaCountResult{ReplicationGroup: sc.rgOut(rg)}, nil
}

package elasticache

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	ecapi "github.com/cloudbox/cloudbox/api/elasticache"
	"github.com/cloudbox/cloudbox/store"
)

// Cluster mode enabled: a group whose parameter group has cluster-enabled
// yes runs Redis Cluster over shards (node groups 0001, 0002...), each a
// primary with its hash slots and up to five replicas, nodes named
// <id>-<shard>-<n> as on AWS. The nodes join themselves at their first
// boot with the engine's own commands (node.sh.tmpl): CLUSTER MEET the
// first shard's first node, CLUSTER ADDSLOTSRANGE on each shard's first
// node, CLUSTER REPLICATE it on the others; a node's boot ends once the
// cluster is ok, so the group is available with every slot served.
// Clients find the nodes through the configuration endpoint and follow
// the engine's MOVED redirections.

// shard is a node group of a cluster-mode group and the hash slots it was
// given at creation, in AWS's form (0-8191).
type shard struct {
	ID, Slots string
}

// shardSpec is a node group asked for at creation: its id, slots,
// replicas and the AZs of its primary then replicas (none: spread).
type shardSpec struct {
	id, slots string
	replicas  int
	azs       []string
}

const (
	hashSlots   = 16384
	maxShards   = 500
	maxReplicas = maxNodes - 1
)

// wantsClusterMode says whether a create asks for more than one node
// group or for cluster mode, which the parameter group must allow.
func wantsClusterMode(in *ecapi.CreateReplicationGroupMessage) bool {
	return deref(in.ClusterMode) == "enabled" || in.NumNodeGroups != nil && *in.NumNodeGroups > 1 || len(in.NodeGroupConfiguration) > 1
}

// checkShards reads a create's node groups: NumNodeGroups or the
// NodeGroupConfiguration entries, each with ReplicasPerNodeGroup replicas
// unless its ReplicaCount says otherwise, and AWS's even split of the hash
// slots unless each gives its Slots.
func checkShards(in *ecapi.CreateReplicationGroupMessage) ([]shardSpec, error) {
	n := max(1, len(in.NodeGroupConfiguration))
	if in.NumNodeGroups != nil {
		n = int(*in.NumNodeGroups)
		if n < 1 || n > maxShards {
			return nil, invalidValue("The number of node groups must be between 1 and %d.", maxShards)
		}
		if len(in.NodeGroupConfiguration) > 0 && len(in.NodeGroupConfiguration) != n {
			return nil, invalidCombination("The number of node group configurations (%d) does not match NumNodeGroups (%d).", len(in.NodeGroupConfiguration), n)
		}
	}
	replicas := 0
	switch {
	case in.ReplicasPerNodeGroup != nil:
		replicas = int(*in.ReplicasPerNodeGroup)
	case in.NumCacheClusters != nil && n == 1:
		replicas = int(*in.NumCacheClusters) - 1
	}
	even := evenSlots(n)
	var out []shardSpec
	given := 0
	for i := range n {
		sp := shardSpec{id: fmt.Sprintf("%04d", i+1), slots: even[i], replicas: replicas}
		if i < len(in.NodeGroupConfiguration) {
			c := in.NodeGroupConfiguration[i]
			if c.PrimaryOutpostArn != nil || len(c.ReplicaOutpostArns) > 0 {
				return nil, api.NotImplemented("ElastiCache", "Outposts")
			}
			if id := deref(c.NodeGroupId); id != "" {
				num, err := strconv.Atoi(id)
				if err != nil || num < 1 || len(id) > 4 {
					return nil, invalidValue("Invalid node group id: %s", id)
				}
				sp.id = fmt.Sprintf("%04d", num)
			}
			if c.ReplicaCount != nil {
				sp.replicas = int(*c.ReplicaCount)
			}
			if c.Slots != nil {
				sp.slots, given = *c.Slots, given+1
			}
			if c.PrimaryAvailabilityZone != nil || len(c.ReplicaAvailabilityZones) > 0 {
				if len(c.ReplicaAvailabilityZones) != sp.replicas {
					return nil, invalidValue("The number of replica availability zones (%d) must match the replica count (%d) of node group %s.", len(c.ReplicaAvailabilityZones), sp.replicas, sp.id)
				}
				sp.azs = append(sp.azs, deref(c.PrimaryAvailabilityZone))
				for _, az := range c.ReplicaAvailabilityZones {
					sp.azs = append(sp.azs, deref(az))
				}
			}
		}
		if sp.replicas < 0 || sp.replicas > maxReplicas {
			return nil, invalidValue("The number of replicas per node group must be within 0 and %d.", maxReplicas)
		}
		for _, o := range out {
			if o.id == sp.id {
				return nil, invalidValue("Duplicate node group id: %s", sp.id)
			}
		}
		out = append(out, sp)
	}
	if given > 0 {
		if given != n {
			return nil, invalidCombination("Slots must be specified for every node group or for none.")
		}
		var all []string
		for _, sp := range out {
			all = append(all, sp.slots)
		}
		if _, err := parseShardSlots(all); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// evenSlots is AWS's split of the hash slots over n shards: equal ranges
// in order, the first ones a slot larger when they do not divide evenly.
func evenSlots(n int) []string {
	var out []string
	from := 0
	for i := range n {
		size := hashSlots / n
		if i < hashSlots%n {
			size++
		}
		out = append(out, fmt.Sprintf("%d-%d", from, from+size-1))
		from += size
	}
	return out
}

// parseShardSlots reads each shard's slots and checks that together they
// cover every hash slot once.
func parseShardSlots(shards []string) ([][][2]int, error) {
	var owner [hashSlots]bool
	out := make([][][2]int, len(shards))
	for i, s := range shards {
		ranges, ok := parseSlotRanges(s)
		if !ok {
			return nil, invalidValue("Invalid slots %q: give the keyspace as startkey-endkey between 0 and %d.", s, hashSlots-1)
		}
		for _, r := range ranges {
			for k := r[0]; k <= r[1]; k++ {
				if owner[k] {
					return nil, invalidValue("Slot %d is given to more than one node group.", k)
				}
				owner[k] = true
			}
		}
		out[i] = ranges
	}
	for k, ok := range owner {
		if !ok {
			return nil, invalidValue("Slot %d is not given to any node group: the node groups' slots must cover 0-%d.", k, hashSlots-1)
		}
	}
	return out, nil
}

// parseSlotRanges reads one shard's slots: ranges start-end or single
// slots, comma-separated.
func parseSlotRanges(s string) ([][2]int, bool) {
	var out [][2]int
	for _, part := range strings.Split(s, ",") {
		from, to, isRange := strings.Cut(strings.TrimSpace(part), "-")
		if !isRange {
			to = from
		}
		a, errA := strconv.Atoi(from)
		b, errB := strconv.Atoi(to)
		if errA != nil || errB != nil || a < 0 || b >= hashSlots || a > b {
			return nil, false
		}
		out = append(out, [2]int{a, b})
	}
	return out, true
}

// checkClusterMode decides a new group's mode from its parameter group,
// with AWS's answers for a request the group does not allow.
func checkClusterMode(in *ecapi.CreateReplicationGroupMessage, pg *paramGroup, shards int) (bool, error) {
	on := pg.clusterEnabled()
	switch mode := deref(in.ClusterMode); {
	case mode == "compatible":
		return false, api.NotImplemented("ElastiCache", "ClusterMode compatible")
	case mode == "enabled" && !on:
		return false, invalidCombination("Cluster mode should be enabled in parameter group, but found it is disabled.")
	case mode == "disabled" && on:
		return false, invalidCombination("Cluster mode should be disabled in parameter group, but found it is enabled.")
	case shards > 1 && !on:
		return false, invalidCombination("Use a parameter group with cluster-enabled parameter to create more than one node group.")
	}
	return on, nil
}

// unsupportedInClusterMode names what a cluster-mode create asks that is
// not implemented for it, "" when there is none.
func unsupportedInClusterMode(sp rgSpec, restoring bool) string {
	switch {
	case sp.tls:
		return "in-transit encryption"
	case restoring:
		return "restoring a snapshot"
	case sp.retention > 0:
		return "automatic snapshots (SnapshotRetentionLimit)"
	}
	return ""
}

// addShards makes a cluster-mode group's nodes: per shard a primary
// (<id>-<shard>-001) and its replicas, in the AZs asked or spread over the
// subnet group's so that a shard's nodes are in different zones.
func addShards(tx *store.Tx, sc scope, rg *replicationGroup, sg *subnetGroup, specs []shardSpec) error {
	for i, sp := range specs {
		rg.Shards = append(rg.Shards, &shard{ID: sp.id, Slots: sp.slots})
		for j := range sp.replicas + 1 {
			var sn groupSubnet
			var err error
			if len(sp.azs) > 0 {
				sn, err = placeNode(sg, sp.azs, j)
			} else {
				sn, err = placeNode(sg, nil, i+j)
			}
			if err != nil {
				return err
			}
			role := "replica"
			if j == 0 {
				role = "primary"
			}
			if err := addNode(tx, sc, rg, fmt.Sprintf("%s-%s-%03d", rg.ID, sp.id, j+1), sp.id, role, sn); err != nil {
				return err
			}
		}
	}
	return nil
}

// shardOf finds a cluster-mode group's shard by its id (1 is 0001).
func (rg *replicationGroup) shardOf(id string) *shard {
	num, err := strconv.Atoi(id)
	if err != nil {
		return nil
	}
	for _, sh := range rg.Shards {
		if n, _ := strconv.Atoi(sh.ID); n == num {
			return sh
		}
	}
	return nil
}

// seed is the node every other node of a cluster-mode group meets to join
// the cluster: the first shard's first node.
func (rg *replicationGroup) seed() *node {
	if len(rg.Shards) == 0 {
		return nil
	}
	return rg.firstOf(rg.Shards[0].ID)
}

// firstOf is a shard's first node, the one its slots were added on and
// the others replicated at their first boot.
func (rg *replicationGroup) firstOf(shardID string) *node {
	for _, n := range rg.Nodes {
		if n.Shard == shardID && strings.HasSuffix(n.Cluster, "-001") {
			return n
		}
	}
	return nil
}

// clusterJoin is how a node joins its group's cluster at its first boot:
// the seed's address to meet, and either the slots it serves (a shard's
// first node, as CLUSTER ADDSLOTSRANGE's start end pairs) or the address
// of the node it replicates. Roles change later (failovers), the join
// does not.
type clusterJoin struct {
	Seed, Slots, Of string
}

func (rg *replicationGroup) joinOf(n *node) (*clusterJoin, error) {
	seed, first := rg.seed(), rg.firstOf(n.Shard)
	sh := rg.shardOf(n.Shard)
	if seed == nil || first == nil || sh == nil {
		return nil, fmt.Errorf("elasticache: %s: shard %s incomplete", rg.ID, n.Shard)
	}
	j := &clusterJoin{Seed: seed.IP}
	if n != first {
		j.Of = first.IP
		return j, nil
	}
	ranges, ok := parseSlotRanges(sh.Slots) // checked at creation
	if !ok {
		return nil, fmt.Errorf("elasticache: %s: bad slots %q", rg.ID, sh.Slots)
	}
	var args []string
	for _, r := range ranges {
		args = append(args, strconv.Itoa(r[0]), strconv.Itoa(r[1]))
	}
	j.Slots = strings.Join(args, " ")
	return j, nil
}

// clusterModeOut completes a cluster-mode group's description: its
// configuration endpoint and a node group per shard with its slots; as on
// AWS the members show no role or endpoint of their own (the cache
// clusters do).
func (sc scope) clusterModeOut(rg *replicationGroup, out *ecapi.ReplicationGroup) *ecapi.ReplicationGroup {
	out.ClusterEnabled, out.ClusterMode = boolp(true), str("enabled")
	if rg.Status != "creating" {
		out.ConfigurationEndpoint = &ecapi.Endpoint{Address: str(sc.clusterCfgName(rg.ID)), Port: i64(rg.Port)}
	}
	for _, sh := range rg.Shards {
		ng := &ecapi.NodeGroup{NodeGroupId: str(sh.ID), Status: str(rg.Status), Slots: str(sh.Slots)}
		for _, n := range rg.Nodes {
			if n.Shard == sh.ID {
				ng.NodeGroupMembers = append(ng.NodeGroupMembers, &ecapi.NodeGroupMember{CacheClusterId: str(n.Cluster),
					CacheNodeId: str("0001"), PreferredAvailabilityZone: str(n.AZ)})
			}
		}
		out.NodeGroups = append(out.NodeGroups, ng)
	}
	for _, n := range rg.Nodes {
		out.MemberClusters = append(out.MemberClusters, str(n.Cluster))
	}
	return out
}

// unsupportedClusterModeChange names what a modification of a cluster-mode
// group asks that is not implemented for it, "" when there is none: the
// changes that replace nodes or move roles outside the engine's own
// failover, and automatic snapshots.
func unsupportedClusterModeChange(in *ecapi.ModifyReplicationGroupMessage) string {
	switch {
	case in.CacheNodeType != nil || in.CacheParameterGroupName != nil:
		return "CacheNodeType or CacheParameterGroupName with cluster mode enabled"
	case in.PrimaryClusterId != nil:
		return "PrimaryClusterId with cluster mode enabled"
	case in.AutomaticFailoverEnabled != nil && !*in.AutomaticFailoverEnabled || in.MultiAZEnabled != nil:
		return "AutomaticFailoverEnabled or MultiAZEnabled with cluster mode enabled"
	case in.SnapshotRetentionLimit != nil && *in.SnapshotRetentionLimit > 0:
		return "SnapshotRetentionLimit (automatic snapshots) with cluster mode enabled"
	}
	return ""
}

package elasticache

import (
	"fmt"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// A node type or parameter group change replaces the nodes, as ElastiCache
// scales a Redis group online: each node gets a new one (a new interface
// in its subnet, a slot with the new type's memory limit and maxmemory,
// and the group's parameters, at its first boot), which replicates the
// primary; once its first sync is done its slot reports running, the
// node's names move to it (the primary endpoint too when it replaces the
// primary, which then promotes itself) and the old slot is reaped. The
// data stays, carried by Redis's replication.

// rgTarget is a node change asked for, started at ApplyAt (now with
// ApplyImmediately, else the next maintenance window).
type rgTarget struct {
	NodeType, ParamGroup string
	ApplyAt              time.Time
	Started              bool `json:",omitempty"`
}

// replacement is the node being made to replace one.
type replacement struct {
	ENI, IP string
	Gen     int
	Created time.Time
}

// slotID is a node's slot: generation 0 is the cluster id's, a
// replacement's has its generation after it (grp-001-g1), so both run
// side by side until the swap.
func (sc scope) slotID(cluster string, gen int) string {
	if gen == 0 {
		return sc.slotPrefix() + cluster
	}
	return fmt.Sprintf("%s%s-g%d", sc.slotPrefix(), cluster, gen)
}

// startReplacements gives every node of a group a replacement with the
// target's type and parameters.
func startReplacements(tx *store.Tx, sc scope, rg *replicationGroup, now time.Time) error {
	rg.Target.Started = true
	rg.Status = "modifying"
	for _, n := range rg.Nodes {
		eni, err := ec2.CreateServiceENI(tx, sc.account, sc.region, ec2.ServiceENISpec{Subnet: n.Subnet, Groups: rg.SecurityGroups,
			Description: "ElastiCache " + n.Cluster, InterfaceType: "interface", Owner: "elasticache", Cluster: rg.ID})
		if err != nil {
			return err
		}
		n.Next = &replacement{ENI: eni.ID, IP: eni.PrivateIP.String(), Gen: n.Gen + 1, Created: now}
		n.Status = "modifying"
	}
	if rg.Target.NodeType == rg.NodeType {
		return recordEvent(tx, sc, now, "replication-group", rg.ID, "Applying cache parameter group "+rg.Target.ParamGroup+" to replication group "+rg.ID)
	}
	return recordEvent(tx, sc, now, "replication-group", rg.ID, "Modifying cache node type to "+rg.Target.NodeType+" for replication group "+rg.ID)
}

// swapIn makes a node's replacement the node: its names move to the new
// address, the old interface goes and the old slot leaves the world.
func swapIn(tx *store.Tx, sc scope, rg *replicationGroup, n *node, now time.Time) error {
	if err := ec2.DeleteServiceENI(tx, sc.account, sc.region, n.ENI); err != nil {
		return err
	}
	n.ENI, n.IP, n.Gen, n.Type, n.Next = n.Next.ENI, n.Next.IP, n.Next.Gen, rg.Target.NodeType, nil
	n.Status = "available"
	return finishTarget(tx, sc, rg, now)
}

// dropReplacement gives up a replacement whose slot failed: the node
// keeps its old type.
func dropReplacement(tx *store.Tx, sc scope, rg *replicationGroup, n *node, reason string, now time.Time) error {
	if err := ec2.DeleteServiceENI(tx, sc.account, sc.region, n.Next.ENI); err != nil {
		return err
	}
	n.Next, n.Status = nil, "available"
	if err := recordEvent(tx, sc, now, "cache-cluster", n.Cluster, "Failed to modify cache node type: "+reason); err != nil {
		return err
	}
	return finishTarget(tx, sc, rg, now)
}

// finishTarget ends a node change once no node waits for its replacement:
// the group takes the type (if every node has it) and parameter group.
func finishTarget(tx *store.Tx, sc scope, rg *replicationGroup, now time.Time) error {
	for _, o := range rg.Nodes {
		if o.Next != nil {
			return nil
		}
	}
	t := rg.Target
	rg.Target = nil
	done := true
	for _, o := range rg.Nodes {
		done = done && o.Type == t.NodeType
	}
	if done {
		scaled := t.NodeType != rg.NodeType
		rg.NodeType, rg.ParamGroup = t.NodeType, t.ParamGroup
		for _, o := range rg.Nodes {
			o.Type = ""
		}
		if scaled {
			if err := recordEvent(tx, sc, now, "replication-group", rg.ID, "Finished modifying cache node type to "+t.NodeType+" for replication group "+rg.ID); err != nil {
				return err
			}
		}
	}
	return settle(tx, sc, rg, now)
}

// findSlot finds the group and node a slot id belongs to; next says the
// slot is the node's replacement.
func findSlot(tx *store.Tx, sc scope, id string) (rg *replicationGroup, n *node, next bool, err error) {
	rest, ok := strings.CutPrefix(id, sc.slotPrefix())
	if !ok {
		return nil, nil, false, nil
	}
	rgs, err := store.ListAll[replicationGroup](tx, sc.account, sc.region, kindRG)
	if err != nil {
		return nil, nil, false, err
	}
	for _, rg := range rgs {
		for _, n := range rg.Nodes {
			if !strings.HasPrefix(rest, n.Cluster) {
				continue
			}
			switch {
			case sc.slotID(n.Cluster, n.Gen) == id:
				return rg, n, false, nil
			case n.Next != nil && sc.slotID(n.Cluster, n.Next.Gen) == id:
				return rg, n, true, nil
			}
		}
	}
	return nil, nil, false, nil
}

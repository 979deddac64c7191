package rds

import (
	"fmt"
	"time"

	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// Multi-AZ: a standby node in another zone of the subnet group, kept by
// MariaDB's semi-synchronous replication (node.sh.tmpl) or PostgreSQL's
// synchronous streaming replication (pg.sh.tmpl). Both nodes follow the
// endpoint's name: the node it resolves to is the primary. A failover
// stops the primary, then swaps the two in the record, which moves the
// name: the standby applies what it received and becomes writable
// (PostgreSQL's is promoted), and the old primary, started again,
// replicates it (PostgreSQL's as a new copy).

// Failover's events, as RDS words them.
const (
	msgFailoverStarted   = "Multi-AZ instance failover started."
	msgFailoverCompleted = "Multi-AZ instance failover completed."
)

func init() {
	categories[msgFailoverStarted] = "failover"
	categories[msgFailoverCompleted] = "failover"
}

// primarySlot names the slot of the instance's primary node.
func primarySlot(r *instanceRecord) string {
	if r.Slot != "" {
		return r.Slot
	}
	return slotID(r)
}

// newSlot names a new node's slot: rds-<resource id>-2 for the first
// after the origin, then -3 and on.
func (r *instanceRecord) newSlot() string {
	r.Nodes = max(r.Nodes, 1) + 1
	slot := fmt.Sprintf("%s-%d", slotID(r), r.Nodes)
	if slot == primarySlot(r) { // a record from before Nodes was kept
		return r.newSlot()
	}
	return slot
}

// addStandby makes the standby's interface in a subnet of the group in
// another zone than the primary's.
func (r *instanceRecord) addStandby(tx *store.Tx, sc scope, g *subnetGroupRecord) error {
	for _, sn := range g.Subnets {
		if sn.AZ == r.AZ {
			continue
		}
		eni, err := ec2.CreateServiceENI(tx, sc.account, sc.region, ec2.ServiceENISpec{Subnet: sn.ID, Groups: r.SecurityGroups,
			Description: "RDSNetworkInterface", InterfaceType: "interface", Public: r.Public, Owner: "rds", Cluster: r.cluster()})
		if err != nil {
			return err
		}
		r.Standby = &node{Slot: r.newSlot(), AZ: sn.AZ, Subnet: sn.ID, ENI: eni.ID, PrivateIP: eni.PrivateIP, PublicIP: eni.PublicIP}
		return nil
	}
	return fault("DBSubnetGroupDoesNotCoverEnoughAZs", "DB Subnet Group doesn't meet Availability Zone (AZ) coverage requirement. Current AZ coverage: %s. Add subnets to cover at least 2 AZs.", r.AZ)
}

// setMultiAZ turns Multi-AZ on (a standby is made, which copies the
// primary; the instance is modifying until it runs) or off (the standby
// and its interface go).
func (s *Service) setMultiAZ(tx *store.Tx, sc scope, r *instanceRecord, on bool, now time.Time) error {
	if r.Source != nil && on {
		return notImplemented("A Multi-AZ read replica")
	}
	if !on {
		if err := ec2.DeleteServiceENI(tx, sc.account, sc.region, r.Standby.ENI); err != nil {
			return err
		}
		r.Standby = nil
		return nil
	}
	g, err := loadSubnetGroup(tx, sc, r.SubnetGroup)
	if err != nil {
		return err
	}
	if err := r.addStandby(tx, sc, g); err != nil {
		return err
	}
	r.setStatus("modifying", now)
	r.AddingStandby = true
	return nil
}

// swapPrimary makes the standby the primary and the primary the standby
// (down until its slot runs again).
func (r *instanceRecord) swapPrimary() {
	old := node{Slot: primarySlot(r), AZ: r.AZ, Subnet: r.Subnet, ENI: r.ENI, PrivateIP: r.PrivateIP, PublicIP: r.PublicIP}
	sb := r.Standby
	r.Slot, r.AZ, r.Subnet, r.ENI, r.PrivateIP, r.PublicIP = sb.Slot, sb.AZ, sb.Subnet, sb.ENI, sb.PrivateIP, sb.PublicIP
	r.Standby = &old
}

// standbyWantsRunning is whether the standby's processes should run: in
// every state where the instance's do, and through a failover (before the
// swap it is the primary to be; after it, the old primary starting again).
func (r *instanceRecord) standbyWantsRunning() bool {
	switch r.Status {
	case "creating", "backing-up", "available", "starting", "rebooting", "modifying":
		return true
	}
	return false
}

// reportStandby is what the standby's slot state means: the instance is
// made when both of its nodes are; a failover is done when the old
// primary runs again.
func (s *Service) reportStandby(tx *store.Tx, sc scope, r *instanceRecord, running bool, now time.Time) error {
	r.Standby.Up = running
	if running {
		switch {
		case r.Status == "creating" && r.Booted:
			if err := s.firstBackup(tx, sc, r); err != nil {
				return err
			}
			return s.move(tx, sc, r, "backing-up", now, msgCreated, msgBackingUp)
		case r.Status == "modifying" && r.AddingStandby:
			// Turning Multi-AZ on is done once the standby runs.
			r.AddingStandby = false
			return s.move(tx, sc, r, "available", now)
		case r.Status == "rebooting" && r.Failover && r.Down:
			r.Failover = false
			return s.move(tx, sc, r, "available", now, msgRestarted, msgFailoverCompleted)
		}
	}
	return tx.Put(sc.key(kindInstance, r.ID), r)
}

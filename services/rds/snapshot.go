package rds

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// Follows implements desired.Contributor: DB instances change with RDS's
// own records.
func (s *Service) Follows(kind string) bool { return strings.HasPrefix(kind, "rds:") }

// Scopes implements desired.Contributor: the accounts and regions with DB
// instances.
func (s *Service) Scopes(tx *store.Tx) ([]desired.Scope, error) {
	pairs, err := tx.Scopes(kindInstance)
	return desired.ScopesOf(pairs), err
}

// Contribute implements desired.Contributor: each DB instance's node as a
// slot behind its interface, and its endpoint's name.
func (s *Service) Contribute(tx *store.Tx, ds desired.Scope, w *desired.World) error {
	sc := scope{account: ds.Account, region: ds.Region}
	insts, err := store.ListAll[instanceRecord](tx, sc.account, sc.region, kindInstance)
	if err != nil {
		return err
	}
	for _, r := range insts {
		class, _ := findClass(r.Class)
		pg, err := loadParamGroup(tx, sc, r.ParameterGroup)
		if err != nil {
			return err
		}
		// The first node made is the origin of the data, unless the
		// instance began as a read replica; a node made later starts as a
		// copy of the primary, whichever it is.
		origin := func(slot string) bool { return slot == slotID(r) && r.Follow == "" }
		nets, err := replNets(tx, sc, r)
		if err != nil {
			return err
		}
		primary := nodeSpec{Slot: primarySlot(r), IP: r.PrivateIP, Primary: origin(primarySlot(r)), Follow: r.followName(), SemiSync: r.Follow == "", ReplNets: nets}
		w.Slots = append(w.Slots, &desired.Slot{ID: primary.Slot, Account: sc.account, Region: sc.region, Owner: "rds",
			ENI: r.ENI, VCPUs: class.VCPUs, MemoryMiB: class.MemoryMiB, Script: []byte(firstBoot(r, primary, pg, class)), Running: r.wantsRunning(),
			Metrics: &desired.SlotMetrics{Namespace: "AWS/RDS", Dimensions: map[string]string{"DBInstanceIdentifier": r.ID}, CPU: "CPUUtilization",
				FreeMemory: "FreeableMemory", NetworkIn: "NetworkReceiveThroughput", NetworkOut: "NetworkTransmitThroughput", PerSecond: true}})
		if sb := r.Standby; sb != nil {
			standby := nodeSpec{Slot: sb.Slot, IP: sb.PrivateIP, Primary: origin(sb.Slot), Follow: r.followName(), SemiSync: true, ReplNets: nets}
			w.Slots = append(w.Slots, &desired.Slot{ID: sb.Slot, Account: sc.account, Region: sc.region, Owner: "rds",
				ENI: sb.ENI, VCPUs: class.VCPUs, MemoryMiB: class.MemoryMiB, Script: []byte(firstBoot(r, standby, pg, class)), Running: r.standbyWantsRunning()})
		}
		if r.Status == "deleting" {
			continue
		}
		// In the VPC the endpoint is the primary's private address, as
		// AWS answers it there; a publicly accessible one is its public
		// address everywhere else.
		w.Names = append(w.Names, &desired.Name{Name: r.Endpoint, VPCs: []string{r.VPC}, Addrs: []netip.Addr{r.PrivateIP}})
		if r.Public && r.PublicIP.IsValid() {
			w.Names = append(w.Names, &desired.Name{Name: r.Endpoint, Addrs: []netip.Addr{r.PublicIP}})
		}
		// A promoted replica's node follows its own address; a source
		// publishes where its replicas' nodes find it.
		if r.Follow != "" && r.Source == nil {
			w.Names = append(w.Names, &desired.Name{Name: r.Follow, VPCs: []string{r.VPC}, Addrs: []netip.Addr{r.PrivateIP}})
		}
		w.Names = append(w.Names, replicaNames(r)...)
	}
	return nil
}

// replNets are the networks a postgres instance's nodes admit replication
// from: its subnet group's subnets, where its standby lives, and its read
// replicas' addresses. MariaDB's nodes need none (their replication user
// logs in from anywhere).
func replNets(tx *store.Tx, sc scope, r *instanceRecord) ([]netip.Prefix, error) {
	if r.Engine != "postgres" {
		return nil, nil
	}
	g, ok, err := store.Get[subnetGroupRecord](tx, sc.key(kindSubnetGroup, r.SubnetGroup))
	if err != nil || !ok {
		return nil, err
	}
	var out []netip.Prefix
	for _, gs := range g.Subnets {
		sn, ok, err := ec2.LookupSubnet(tx, sc.account, sc.region, gs.ID)
		if err != nil {
			return nil, err
		}
		if ok && !slices.Contains(out, sn.CIDR) {
			out = append(out, sn.CIDR)
		}
	}
	for _, ref := range r.Replicas {
		if ref.Addr.IsValid() {
			out = append(out, netip.PrefixFrom(ref.Addr, ref.Addr.BitLen()))
		}
	}
	return out, nil
}

// slotID names an instance's node across the daemon: its resource id is
// unique where its identifier is unique only in its account and region.
func slotID(r *instanceRecord) string { return "rds-" + strings.ToLower(r.ResourceID) }

// wantsRunning is whether the node's processes should run in the
// instance's state: a restart stops them, then (Down) starts them again.
func (r *instanceRecord) wantsRunning() bool {
	switch r.Status {
	case "creating", "backing-up", "available", "starting":
		return true
	case "rebooting", "modifying":
		return r.Down || r.AddingStandby
	case "stopping", "deleting":
		return r.Snapshotting != "" // its final snapshot is taken first
	}
	return false
}

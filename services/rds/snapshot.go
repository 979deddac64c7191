package rds

import (
	"net/netip"
	"strings"

	"github.com/cloudbox/cloudbox/desired"
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
		w.Slots = append(w.Slots, &desired.Slot{ID: slotID(r), Account: sc.account, Region: sc.region, Owner: "rds",
			ENI: r.ENI, VCPUs: class.VCPUs, MemoryMiB: class.MemoryMiB, Script: []byte(firstBoot(r, pg, class)), Running: r.wantsRunning()})
		if r.Status == "deleting" {
			continue
		}
		n := &desired.Name{Name: r.Endpoint, VPCs: []string{r.VPC}, Addrs: []netip.Addr{r.PrivateIP}}
		if r.Public && r.PublicIP.IsValid() {
			n.VPCs, n.Addrs = nil, []netip.Addr{r.PublicIP}
		}
		w.Names = append(w.Names, n)
	}
	return nil
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
		return r.Down
	}
	return false
}

package route53

import (
	"slices"
	"strings"

	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/store"
)

// Follows implements desired.Contributor: the zones, their record sets
// and the health checks (not the changes, nor the caller references).
func (s *Service) Follows(kind string) bool {
	return kind == kindZone || kind == kindRRSets || kind == kindHealthCheck
}

// Scopes implements desired.Contributor: the accounts with hosted zones or
// health checks, in region "" (Route 53 is global).
func (s *Service) Scopes(tx *store.Tx) ([]desired.Scope, error) {
	zones, err := tx.Scopes(kindZone)
	if err != nil {
		return nil, err
	}
	checks, err := tx.Scopes(kindHealthCheck)
	pairs := append(zones, checks...)
	slices.SortFunc(pairs, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	return desired.ScopesOf(slices.Compact(pairs)), err
}

// Contribute implements desired.Contributor: every hosted zone of the
// account, with its record sets, as the DNS servers answer them, and its
// health checks, which the data plane runs. Names are lower case without
// the trailing dot; values are as given; a record is healthy unless its
// health check was reported unhealthy.
func (s *Service) Contribute(tx *store.Tx, sc desired.Scope, w *desired.World) error {
	if sc.Region != "" {
		return nil
	}
	checks, err := healthChecks(tx, sc.Account)
	if err != nil {
		return err
	}
	unhealthy := map[string]bool{}
	for _, h := range checks {
		w.HealthChecks = append(w.HealthChecks, h.desired(sc.Account))
		healthy, known := h.status()
		unhealthy[h.ID] = known && !healthy
	}
	all, err := zones(tx, sc.Account)
	if err != nil {
		return err
	}
	for _, z := range all {
		sets, err := loadSets(tx, sc.Account, z.ID)
		if err != nil {
			return err
		}
		dz := &desired.Zone{ID: z.ID, Account: sc.Account, Name: mustName(z.Name).plain(), Private: z.Private}
		for _, v := range z.VPCs {
			dz.VPCs = append(dz.VPCs, v.ID)
		}
		for _, r := range sets {
			d := r.desired()
			d.Healthy = !unhealthy[r.HealthCheck]
			dz.Records = append(dz.Records, d)
		}
		w.Zones = append(w.Zones, dz)
	}
	return nil
}

// desired is the record set as the DNS servers take it.
func (r *rrset) desired() *desired.Record {
	d := &desired.Record{
		Name: mustName(r.Name).plain(), Type: r.Type, Values: r.Values,
		SetID: r.SetID, Weight: r.Weight, Failover: r.Failover, Region: r.Region,
		MultiValue: r.MultiValue != nil && *r.MultiValue, HealthCheck: r.HealthCheck, Healthy: true,
	}
	if r.TTL != nil {
		d.TTL = uint32(min(max(*r.TTL, 0), 1<<31-1))
	}
	if r.Geo != nil {
		d.GeoLocation = r.Geo.location()
	}
	if a := r.Alias; a != nil {
		d.AliasTarget = aliasName(a.DNSName)
		d.EvaluateTargetHealth = a.EvaluateTargetHealth
	}
	return d
}

// aliasName is an alias target as the data plane finds it: a record's
// name, or a load balancer's as ELB publishes it ("dualstack." names the
// same load balancer).
func aliasName(dnsName string) string {
	n := mustName(dnsName).plain()
	if strings.HasSuffix(n, ".elb.amazonaws.com") {
		n = strings.TrimPrefix(n, "dualstack.")
	}
	return n
}

package route53

import (
	"strings"

	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/store"
)

// Follows implements desired.Contributor: the zones and their record sets
// (not the changes, nor the caller references).
func (s *Service) Follows(kind string) bool { return kind == kindZone || kind == kindRRSets }

// Scopes implements desired.Contributor: the accounts with hosted zones,
// in region "" (Route 53 is global).
func (s *Service) Scopes(tx *store.Tx) ([]desired.Scope, error) {
	pairs, err := tx.Scopes(kindZone)
	return desired.ScopesOf(pairs), err
}

// Contribute implements desired.Contributor: every hosted zone of the
// account, with its record sets, as the DNS servers answer them. Names are
// lower case without the trailing dot; values are as given; records count
// as healthy (there are no health checks yet).
func (s *Service) Contribute(tx *store.Tx, sc desired.Scope, w *desired.World) error {
	if sc.Region != "" {
		return nil
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
			dz.Records = append(dz.Records, r.desired())
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
		d.GeoLocation = r.Geo.String()
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

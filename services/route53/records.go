package route53

import (
	"slices"
	"time"

	r53api "github.com/cloudbox/cloudbox/api/route53"
	"github.com/cloudbox/cloudbox/store"
)

// zoneRecord is one hosted zone, under kindZone with its id. Its record
// sets are a separate record (rrsetsRecord), so that listing zones does not
// read them; RecordCount follows them.
type zoneRecord struct {
	ID string
	// Seq orders zones by creation: ListHostedZones' order.
	Seq uint64
	// Name is the zone's name as Route 53 shows it ("example.com.").
	Name            string
	CallerReference string
	Comment         string `json:",omitempty"`
	Private         bool
	// VPCs are a private zone's associations, in the order made.
	VPCs []vpcRef `json:",omitempty"`
	// Authorizations are the VPCs of other accounts that may be associated
	// (CreateVPCAssociationAuthorization).
	Authorizations []vpcRef `json:",omitempty"`
	// NameServers are the zone's delegation set, without trailing dots.
	NameServers []string
	RecordCount int
	Tags        []tag `json:",omitempty"`
	Created     time.Time
}

// vpcRef is a VPC a private zone is associated with; Account is the VPC's
// owner ("" for an authorization, which names no account).
type vpcRef struct {
	Region, ID string
	Account    string `json:",omitempty"`
}

type tag struct{ Key, Value string }

func (v vpcRef) same(o vpcRef) bool { return v.Region == o.Region && v.ID == o.ID }

func (v vpcRef) api() *r53api.VPC { return &r53api.VPC{VPCRegion: str(v.Region), VPCId: str(v.ID)} }

// hasVPC reports whether the zone is associated with v.
func (z *zoneRecord) hasVPC(v vpcRef) bool {
	return slices.ContainsFunc(z.VPCs, v.same)
}

// rrsetsRecord is a zone's record sets, under kindRRSets with the zone's
// id, in Route 53's order (sortSets).
type rrsetsRecord struct {
	Sets []*rrset
}

// rrset is one resource record set as Route 53 keeps it.
type rrset struct {
	// Name as Route 53 shows it: lower case, escaped, with the trailing dot.
	Name  string
	Type  string
	SetID string `json:",omitempty"`
	TTL   *int64 `json:",omitempty"`
	// Values are the records' values as given.
	Values []string     `json:",omitempty"`
	Alias  *aliasTarget `json:",omitempty"`
	Weight *int64       `json:",omitempty"`
	// Failover is PRIMARY or SECONDARY.
	Failover    string       `json:",omitempty"`
	Region      string       `json:",omitempty"`
	MultiValue  *bool        `json:",omitempty"`
	Geo         *geoLocation `json:",omitempty"`
	HealthCheck string       `json:",omitempty"`
}

type aliasTarget struct {
	// HostedZoneID is as given; DNSName is lower case with the trailing
	// dot, as Route 53 shows it.
	HostedZoneID         string
	DNSName              string
	EvaluateTargetHealth bool
}

type geoLocation struct {
	Continent, Country, Subdivision string `json:",omitempty"`
}

// rrKey identifies a record set in its zone.
type rrKey struct{ name, typ, setID string }

func (r *rrset) key() rrKey { return rrKey{r.Name, r.Type, r.SetID} }

// changeRecord is a change (a zone created or deleted, a batch of record
// changes, a VPC associated), under kindChange with its id. Its status is
// INSYNC once Route 53's delay has passed.
type changeRecord struct {
	ID        string
	Submitted time.Time
	Comment   string `json:",omitempty"`
}

func loadZone(tx *store.Tx, account, id string) (*zoneRecord, error) {
	z, ok, err := store.Get[zoneRecord](tx, key(account, kindZone, id))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, noSuchZone(id)
	}
	return z, nil
}

func saveZone(tx *store.Tx, account string, z *zoneRecord) error {
	return tx.Put(key(account, kindZone, z.ID), z)
}

func loadSets(tx *store.Tx, account, zoneID string) ([]*rrset, error) {
	r, _, err := store.Get[rrsetsRecord](tx, key(account, kindRRSets, zoneID))
	if err != nil || r == nil {
		return nil, err
	}
	return r.Sets, nil
}

// saveSets stores a zone's record sets in order and the count in its zone
// record.
func saveSets(tx *store.Tx, account string, z *zoneRecord, sets []*rrset) error {
	sortSets(sets)
	z.RecordCount = len(sets)
	if err := tx.Put(key(account, kindRRSets, z.ID), &rrsetsRecord{Sets: sets}); err != nil {
		return err
	}
	return saveZone(tx, account, z)
}

// findZone looks a zone up by id in every account: how another account
// associates its VPC with a zone it was authorized for. ok is false when
// no account has it.
func findZone(tx *store.Tx, id string) (owner string, z *zoneRecord, err error) {
	scopes, err := tx.Scopes(kindZone)
	if err != nil {
		return "", nil, err
	}
	for _, sc := range scopes {
		if sc[1] != "" {
			continue
		}
		z, ok, err := store.Get[zoneRecord](tx, key(sc[0], kindZone, id))
		if err != nil {
			return "", nil, err
		}
		if ok {
			return sc[0], z, nil
		}
	}
	return "", nil, nil
}

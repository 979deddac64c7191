package route53

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	r53api "github.com/cloudbox/cloudbox/api/route53"
	"github.com/cloudbox/cloudbox/store"
)

// A batch of changes is read in two steps, as Route 53 does: first the
// form of every change (InvalidInput, the first problem found), then what
// each change does to the zone, in order, on a copy of its record sets
// (InvalidChangeBatch, every problem found, in a list). Nothing is kept
// unless every change applies.

var (
	actions     = []string{r53api.ChangeActionCREATE, r53api.ChangeActionDELETE, r53api.ChangeActionUPSERT}
	continents  = []string{"AF", "AN", "AS", "EU", "OC", "NA", "SA"}
	failovers   = []string{r53api.ResourceRecordSetFailoverPRIMARY, r53api.ResourceRecordSetFailoverSECONDARY}
	rrsetRegion = []string{
		"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "eu-west-1", "eu-west-2", "eu-west-3",
		"eu-central-1", "eu-central-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-northeast-1",
		"ap-northeast-2", "ap-northeast-3", "eu-north-1", "sa-east-1", "cn-north-1", "cn-northwest-1", "ap-east-1",
		"me-south-1", "me-central-1", "ap-south-1", "ap-south-2", "af-south-1", "eu-south-1", "eu-south-2",
		"ap-southeast-4", "il-central-1", "ca-west-1",
	}
)

// change is one change of a batch, as read in the first step.
type change struct {
	action string
	given  string // the name as the request gave it
	set    *rrset // Name is the name as given until the second step
}

// readChange reads the form of change i (0-based): one of an alias
// target or a TTL with values, one routing policy with a set identifier
// or neither, values in range.
func readChange(i int, c *r53api.Change) (*change, error) {
	rs := c.ResourceRecordSet
	action, typ := deref(c.Action), deref(rs.Type)
	member := fmt.Sprintf("changeBatch.changes.%d.member", i+1)
	if !slices.Contains(actions, action) {
		return nil, enumError(action, member+".action", actions)
	}
	if !knownType(typ) {
		return nil, enumError(typ, member+".resourceRecordSet.type", recordTypes)
	}
	setID := "null"
	if rs.SetIdentifier != nil {
		setID = *rs.SetIdentifier
	}
	where := fmt.Sprintf("Change with [Action=%s, Name=%s, Type=%s, SetIdentifier=%s]", action, deref(rs.Name), typ, setID)

	hasRecords := rs.TTL != nil && len(rs.ResourceRecords) > 0
	found := 0
	for _, ok := range []bool{rs.AliasTarget != nil, rs.TTL != nil || len(rs.ResourceRecords) > 0, rs.TrafficPolicyInstanceId != nil} {
		if ok {
			found++
		}
	}
	switch {
	case found > 1:
		return nil, invalidInput("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found more than one in %s", where)
	case rs.TrafficPolicyInstanceId != nil:
		return nil, errorf("NoSuchTrafficPolicyInstance", "No traffic policy instance found with ID: %s", *rs.TrafficPolicyInstanceId)
	case rs.AliasTarget == nil && !hasRecords:
		return nil, invalidInput("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in %s", where)
	}

	policies := 0
	for _, ok := range []bool{rs.Weight != nil, rs.Region != nil, rs.Failover != nil, rs.GeoLocation != nil,
		rs.MultiValueAnswer != nil && *rs.MultiValueAnswer, rs.GeoProximityLocation != nil, rs.CidrRoutingConfig != nil} {
		if ok {
			policies++
		}
	}
	const policyList = "[Weight, Region, Failover, GeoLocation, MultiValueAnswer, GeoProximityLocation, or CidrRoutingConfig]"
	switch {
	case policies > 1:
		return nil, invalidInput("Invalid request: Expected exactly one of %s, but found more than one in %s", policyList, where)
	case policies == 0 && rs.SetIdentifier != nil:
		return nil, invalidInput("Invalid request: Expected exactly one of %s, but found none in %s", policyList, where)
	case policies == 1 && rs.SetIdentifier == nil:
		return nil, invalidInput("Invalid request: Missing field 'SetIdentifier' in %s", where)
	case rs.CidrRoutingConfig != nil:
		return nil, errorf("NoSuchCidrCollectionException", "The CIDR collection you specified, %s, doesn't exist.", deref(rs.CidrRoutingConfig.CollectionId))
	case rs.GeoProximityLocation != nil:
		return nil, api.NotImplemented("route53", "ChangeResourceRecordSets with GeoProximityLocation")
	}

	r := &rrset{Name: deref(rs.Name), Type: typ, SetID: deref(rs.SetIdentifier), HealthCheck: deref(rs.HealthCheckId)}
	if rs.TTL != nil {
		if *rs.TTL < 0 {
			return nil, invalidInput("1 validation error detected: Value '%d' at '%s.resourceRecordSet.tTL' failed to satisfy constraint: Member must have value greater than or equal to 0", *rs.TTL, member)
		}
		r.TTL = i64(*rs.TTL)
	}
	for _, v := range rs.ResourceRecords {
		r.Values = append(r.Values, strings.TrimSpace(deref(v.Value)))
	}
	if a := rs.AliasTarget; a != nil {
		r.Alias = &aliasTarget{HostedZoneID: bareID(deref(a.HostedZoneId)), DNSName: deref(a.DNSName), EvaluateTargetHealth: a.EvaluateTargetHealth != nil && *a.EvaluateTargetHealth}
	}
	if rs.Weight != nil {
		if *rs.Weight < 0 {
			return nil, invalidInput("1 validation error detected: Value '%d' at '%s.resourceRecordSet.weight' failed to satisfy constraint: Member must have value greater than or equal to 0", *rs.Weight, member)
		}
		r.Weight = i64(*rs.Weight)
	}
	if rs.Region != nil {
		if !slices.Contains(rrsetRegion, *rs.Region) {
			return nil, enumError(*rs.Region, member+".resourceRecordSet.region", rrsetRegion)
		}
		r.Region = *rs.Region
	}
	if rs.Failover != nil {
		if !slices.Contains(failovers, *rs.Failover) {
			return nil, enumError(*rs.Failover, member+".resourceRecordSet.failover", failovers)
		}
		r.Failover = *rs.Failover
	}
	if rs.MultiValueAnswer != nil {
		r.MultiValue = boolp(*rs.MultiValueAnswer)
	}
	if g := rs.GeoLocation; g != nil {
		geo := &geoLocation{Continent: deref(g.ContinentCode), Country: deref(g.CountryCode), Subdivision: deref(g.SubdivisionCode)}
		if !geo.valid() {
			return nil, invalidInput("Invalid request: the geolocation %s is not valid in %s", geo, where)
		}
		r.Geo = geo
	}
	return &change{action: action, given: deref(rs.Name), set: r}, nil
}

func enumError(v, member string, values []string) error {
	return invalidInput("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", v, member, strings.Join(values, ", "))
}

// valid reports whether g is one location: a continent, a country ("*"
// for the default), or a country's subdivision.
func (g *geoLocation) valid() bool {
	country := g.Country == "*" || len(g.Country) == 2 && strings.ToUpper(g.Country) == g.Country
	switch {
	case g.Continent != "":
		return g.Country == "" && g.Subdivision == "" && slices.Contains(continents, g.Continent)
	case g.Subdivision != "":
		return country && g.Country != "*" && len(g.Subdivision) <= 3
	default:
		return country
	}
}

// String is the location as the error messages name it: "EU", "KR",
// "US-WA" or "*".
func (g *geoLocation) String() string {
	switch {
	case g.Continent != "":
		return g.Continent
	case g.Subdivision != "":
		return g.Country + "-" + g.Subdivision
	}
	return g.Country
}

// location is the location as the data plane names it: continents are
// marked ("continent:NA"), since "NA" is also Namibia's country code.
func (g *geoLocation) location() string {
	if g.Continent != "" {
		return "continent:" + g.Continent
	}
	return g.String()
}

// policy names a record set's routing policy ("" for simple routing).
func (r *rrset) policy() string {
	switch {
	case r.Weight != nil:
		return "weighted"
	case r.Failover != "":
		return "failover"
	case r.Region != "":
		return "latency"
	case r.Geo != nil:
		return "geolocation"
	case r.MultiValue != nil && *r.MultiValue:
		return "multivalue answer"
	}
	return ""
}

// describe names a record set in Route 53's messages.
func (r *rrset) describe() string {
	s := fmt.Sprintf("name='%s', type='%s'", r.Name, r.Type)
	if r.SetID != "" {
		s += fmt.Sprintf(", set-identifier='%s'", r.SetID)
	}
	return s
}

// batch applies the changes of one request to a copy of a zone's record
// sets, collecting Route 53's complaints.
type batch struct {
	acct    string
	zone    *zoneRecord
	zname   name
	sets    []*rrset
	msgs    []string
	touched map[rrKey]string
	tx      *store.Tx
}

func (b *batch) fail(format string, args ...any) {
	b.msgs = append(b.msgs, fmt.Sprintf(format, args...))
}

func (b *batch) index(k rrKey) int {
	return slices.IndexFunc(b.sets, func(r *rrset) bool { return r.key() == k })
}

func (b *batch) apply(c *change) {
	r := c.set
	n, err := parseName(c.given)
	if err != nil {
		b.fail("FATAL problem: %s encountered with '%s'", err, c.given)
		return
	}
	r.Name = n.String()
	if !n.within(b.zname) {
		b.fail("RRSet with DNS name %s is not permitted in zone %s", r.Name, b.zone.Name)
		return
	}
	k := r.key()
	if prev, ok := b.touched[k]; ok && !(prev == r53api.ChangeActionDELETE && c.action == r53api.ChangeActionCREATE) {
		b.fail("The request contains an invalid set of changes for a resource record set '%s %s'", r.Type, r.Name)
		return
	}
	b.touched[k] = c.action
	i := b.index(k)
	switch c.action {
	case r53api.ChangeActionDELETE:
		switch {
		case i < 0:
			b.fail("Tried to delete resource record set [%s] but it was not found", r.describe())
		case !sameSet(b.sets[i], r):
			b.fail("Tried to delete resource record set [%s] but the values provided do not match the current values", r.describe())
		case b.zone.required(b.sets[i]) && r.Type == r53api.RRTypeSOA:
			b.fail("A HostedZone must contain exactly one SOA record.")
		case b.zone.required(b.sets[i]):
			b.fail("A HostedZone must contain at least one NS record for the zone itself.")
		default:
			b.sets = slices.Delete(b.sets, i, i+1)
		}
		return
	case r53api.ChangeActionCREATE:
		if i >= 0 {
			b.fail("Tried to create resource record set [%s] but it already exists", r.describe())
			return
		}
	}
	before := len(b.msgs)
	b.check(r, n)
	if len(b.msgs) > before {
		return
	}
	if i >= 0 {
		b.sets[i] = r
	} else {
		b.sets = append(b.sets, r)
	}
}

// check finds what is wrong with creating (or replacing) record set r,
// named n: its values, its name's other record sets, its routing policy's
// siblings, its alias target.
func (b *batch) check(r *rrset, n name) {
	apex := len(n) == len(b.zname)
	switch {
	case r.Type == r53api.RRTypeSOA && (!apex || r.SetID != ""):
		b.fail("RRSet of type SOA with DNS name %s is not permitted: the only SOA record of a zone is at its apex, %s", r.Name, b.zone.Name)
		return
	case r.Type == r53api.RRTypeSOA && len(r.Values) != 1:
		b.fail("A HostedZone must contain exactly one SOA record.")
		return
	case r.Type == r53api.RRTypeNS && n.wildcard():
		b.fail("RRSet of type NS with DNS name %s is not permitted: NS records cannot have a wildcard name", r.Name)
		return
	case r.Type == r53api.RRTypeCNAME && apex:
		b.fail("RRSet of type CNAME with DNS name %s is not permitted at apex in zone %s", r.Name, b.zone.Name)
		return
	case r.Type == r53api.RRTypeCNAME && len(r.Values) > 1:
		b.fail("RRSet of type CNAME with DNS name %s is not permitted as it has more than one value", r.Name)
		return
	}
	var seen []string
	for _, v := range r.Values {
		if err := checkValue(r.Type, v); err != nil {
			b.msgs = append(b.msgs, err.Error())
		} else if slices.Contains(seen, v) {
			b.fail("Duplicate Resource Record: '%s'", v)
		}
		seen = append(seen, v)
	}
	for _, o := range b.sets {
		if o.Name != r.Name || o.key() == r.key() {
			continue
		}
		switch {
		case r.Type == r53api.RRTypeCNAME && o.Type != r53api.RRTypeCNAME:
			b.fail("RRSet of type CNAME with DNS name %s is not permitted as it conflicts with other records with the same DNS name in zone %s", r.Name, b.zone.Name)
			return
		case r.Type != r53api.RRTypeCNAME && o.Type == r53api.RRTypeCNAME:
			b.fail("RRSet of type %s with DNS name %s is not permitted because a conflicting RRSet of type  CNAME with the same DNS name already exists in zone %s", r.Type, r.Name, b.zone.Name)
			return
		}
	}
	b.checkPolicy(r)
	if r.Alias != nil {
		b.checkAlias(r)
	}
}

// checkPolicy checks r against the other record sets of its name and
// type: all of them have one routing policy, or there is one simple set;
// a failover group has one set of each role, a latency group one per
// region, a geolocation group one per location.
func (b *batch) checkPolicy(r *rrset) {
	for _, o := range b.sets {
		if o.Name != r.Name || o.Type != r.Type || o.SetID == r.SetID {
			continue
		}
		switch {
		case r.SetID == "":
			b.fail("RRSet with DNS name %s, type %s cannot be created as other RRSets with a routing policy exist with the same name and type.", r.Name, r.Type)
		case o.SetID == "":
			b.fail("RRSet with DNS name %s, type %s, SetIdentifier %s cannot be created as a non-%s RRSet exists with the same name and type.", r.Name, r.Type, r.SetID, r.policy())
		case o.policy() != r.policy():
			b.fail("RRSet with DNS name %s, type %s, SetIdentifier %s cannot be created as a %s RRSet exists with the same name and type.", r.Name, r.Type, r.SetID, o.policy())
		case r.Failover != "" && o.Failover == r.Failover:
			b.fail("RRSet with DNS name %s, type %s, SetIdentifier %s cannot be created as a %s failover RRSet (SetIdentifier %s) exists with the same name and type.", r.Name, r.Type, r.SetID, r.Failover, o.SetID)
		case r.Region != "" && o.Region == r.Region:
			b.fail("RRSet with DNS name %s, type %s, SetIdentifier %s cannot be created as a latency RRSet for region %s (SetIdentifier %s) exists with the same name and type.", r.Name, r.Type, r.SetID, r.Region, o.SetID)
		case r.Geo != nil && o.Geo != nil && *o.Geo == *r.Geo:
			b.fail("RRSet with DNS name %s, type %s, SetIdentifier %s cannot be created as a geolocation RRSet for %s (SetIdentifier %s) exists with the same name and type.", r.Name, r.Type, r.SetID, r.Geo, o.SetID)
		default:
			continue
		}
		return
	}
}

// checkAlias checks an alias target: a record set in a hosted zone of the
// account when its HostedZoneId names one (it must lie within that zone
// and exist), else an AWS resource's name (a load balancer's), kept as
// given.
func (b *batch) checkAlias(r *rrset) {
	a := r.Alias
	target, err := parseName(a.DNSName)
	if err != nil {
		b.fail("FATAL problem: %s encountered with '%s'", err, a.DNSName)
		return
	}
	a.DNSName = target.String()
	var (
		zone *zoneRecord
		sets []*rrset
	)
	if a.HostedZoneID == b.zone.ID {
		zone, sets = b.zone, b.sets
	} else {
		z, ok, err := store.Get[zoneRecord](b.tx, key(b.acct, kindZone, a.HostedZoneID))
		if err != nil || !ok {
			return // an AWS resource's zone
		}
		if sets, err = loadSets(b.tx, b.acct, z.ID); err != nil {
			return
		}
		zone = z
	}
	if !target.within(mustName(zone.Name)) {
		b.fail("Tried to create an alias that targets %s, type %s in zone %s, but the alias target name does not lie within the target zone", a.DNSName, r.Type, a.HostedZoneID)
	}
	if !slices.ContainsFunc(sets, func(o *rrset) bool { return o.Name == a.DNSName && o.Type == r.Type }) {
		b.fail("Tried to create an alias that targets %s, type %s in zone %s, but that target was not found", a.DNSName, r.Type, a.HostedZoneID)
	}
}

// sameSet reports whether a DELETE's record set matches the stored one in
// everything but the order of its values.
func sameSet(have, del *rrset) bool {
	eq := func(a, b *int64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
	mv := func(p *bool) bool { return p != nil && *p }
	if !eq(have.TTL, del.TTL) || !eq(have.Weight, del.Weight) || have.Failover != del.Failover || have.Region != del.Region ||
		mv(have.MultiValue) != mv(del.MultiValue) || have.HealthCheck != del.HealthCheck {
		return false
	}
	if (have.Geo == nil) != (del.Geo == nil) || have.Geo != nil && *have.Geo != *del.Geo {
		return false
	}
	if (have.Alias == nil) != (del.Alias == nil) {
		return false
	}
	if have.Alias != nil {
		t, err := parseName(del.Alias.DNSName)
		if err != nil || t.String() != have.Alias.DNSName || !strings.EqualFold(have.Alias.HostedZoneID, del.Alias.HostedZoneID) ||
			have.Alias.EvaluateTargetHealth != del.Alias.EvaluateTargetHealth {
			return false
		}
	}
	a, b := slices.Clone(have.Values), slices.Clone(del.Values)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func (s *Service) changeResourceRecordSets(ctx context.Context, in *r53api.ChangeResourceRecordSetsRequest) (*r53api.ChangeResourceRecordSetsResponse, error) {
	acct, id := account(ctx), bareID(deref(in.HostedZoneId))
	out := &r53api.ChangeResourceRecordSetsResponse{}
	err := s.store.Update(func(tx *store.Tx) error {
		z, err := loadZone(tx, acct, id)
		if err != nil {
			return err
		}
		var changes []*change
		for i, c := range in.ChangeBatch.Changes {
			ch, err := readChange(i, c)
			if err != nil {
				return err
			}
			if hc := ch.set.HealthCheck; hc != "" && ch.action != r53api.ChangeActionDELETE {
				if _, err := loadHealthCheck(tx, acct, hc); err != nil {
					return err
				}
			}
			changes = append(changes, ch)
		}
		sets, err := loadSets(tx, acct, id)
		if err != nil {
			return err
		}
		b := &batch{acct: acct, zone: z, zname: mustName(z.Name), sets: slices.Clone(sets), touched: map[rrKey]string{}, tx: tx}
		for _, c := range changes {
			b.apply(c)
		}
		if len(b.msgs) > 0 {
			return errorf("InvalidChangeBatch", "[%s]", strings.Join(b.msgs, ", "))
		}
		if err := saveSets(tx, acct, z, b.sets); err != nil {
			return err
		}
		ch, err := s.newChange(tx, acct, deref(in.ChangeBatch.Comment))
		out.ChangeInfo = s.changeInfo(ch)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

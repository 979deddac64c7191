package route53

import (
	"cmp"
	"context"
	"slices"

	r53api "github.com/cloudbox/cloudbox/api/route53"
	"github.com/cloudbox/cloudbox/store"
)

// defaultMaxRecords is how many record sets ListResourceRecordSets
// answers by default, and at most.
const defaultMaxRecords = 300

// position is where a record set stands in Route 53's order: its name
// with the labels reversed, its type, its set identifier.
type position struct{ name, typ, setID string }

func (r *rrset) position() position { return position{sortKeyOf(r.Name), r.Type, r.SetID} }

func (p position) compare(q position) int {
	return cmp.Or(cmp.Compare(p.name, q.name), cmp.Compare(p.typ, q.typ), cmp.Compare(p.setID, q.setID))
}

// sortSets puts record sets in Route 53's order.
func sortSets(sets []*rrset) {
	slices.SortStableFunc(sets, func(a, b *rrset) int { return a.position().compare(b.position()) })
}

// api is the record set as the API shows it.
func (r *rrset) api() *r53api.ResourceRecordSet {
	out := &r53api.ResourceRecordSet{Name: str(r.Name), Type: str(r.Type), TTL: r.TTL, Weight: r.Weight, MultiValueAnswer: r.MultiValue}
	if r.SetID != "" {
		out.SetIdentifier = str(r.SetID)
	}
	for _, v := range r.Values {
		out.ResourceRecords = append(out.ResourceRecords, &r53api.ResourceRecord{Value: str(v)})
	}
	if a := r.Alias; a != nil {
		out.AliasTarget = &r53api.AliasTarget{HostedZoneId: str(a.HostedZoneID), DNSName: str(a.DNSName), EvaluateTargetHealth: boolp(a.EvaluateTargetHealth)}
	}
	if r.Failover != "" {
		out.Failover = str(r.Failover)
	}
	if r.Region != "" {
		out.Region = str(r.Region)
	}
	if g := r.Geo; g != nil {
		out.GeoLocation = &r53api.GeoLocation{}
		if g.Continent != "" {
			out.GeoLocation.ContinentCode = str(g.Continent)
		}
		if g.Country != "" {
			out.GeoLocation.CountryCode = str(g.Country)
		}
		if g.Subdivision != "" {
			out.GeoLocation.SubdivisionCode = str(g.Subdivision)
		}
	}
	if r.HealthCheck != "" {
		out.HealthCheckId = str(r.HealthCheck)
	}
	return out
}

func (s *Service) listResourceRecordSets(ctx context.Context, in *r53api.ListResourceRecordSetsRequest) (*r53api.ListResourceRecordSetsResponse, error) {
	acct, id := account(ctx), bareID(deref(in.HostedZoneId))
	limit, shown, err := maxItems(in.MaxItems, defaultMaxRecords)
	if err != nil {
		return nil, err
	}
	var start position
	switch {
	case in.StartRecordType != nil && in.StartRecordName == nil:
		return nil, invalidInput("The input is not valid: StartRecordType can be specified only with StartRecordName.")
	case in.StartRecordIdentifier != nil && in.StartRecordType == nil:
		return nil, invalidInput("The input is not valid: StartRecordIdentifier can be specified only with StartRecordName and StartRecordType.")
	case in.StartRecordName != nil:
		n, err := parseName(*in.StartRecordName)
		if err != nil {
			return nil, invalidInput("The input is not valid: StartRecordName %s: %s", *in.StartRecordName, err)
		}
		start = position{n.sortKey(), deref(in.StartRecordType), deref(in.StartRecordIdentifier)}
	}
	out := &r53api.ListResourceRecordSetsResponse{ResourceRecordSets: []*r53api.ResourceRecordSet{}, MaxItems: str(shown), IsTruncated: boolp(false)}
	err = s.store.View(func(tx *store.Tx) error {
		if _, err := loadZone(tx, acct, id); err != nil {
			return err
		}
		sets, err := loadSets(tx, acct, id)
		if err != nil {
			return err
		}
		for _, r := range sets {
			if r.position().compare(start) < 0 {
				continue
			}
			if len(out.ResourceRecordSets) == limit {
				out.IsTruncated, out.NextRecordName, out.NextRecordType = boolp(true), str(r.Name), str(r.Type)
				if r.SetID != "" {
					out.NextRecordIdentifier = str(r.SetID)
				}
				break
			}
			out.ResourceRecordSets = append(out.ResourceRecordSets, r.api())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

package route53

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"

	r53api "github.com/cloudbox/cloudbox/api/route53"
	"github.com/cloudbox/cloudbox/store"
)

const (
	// nsTTL and soaTTL are the TTLs of the NS and SOA records Route 53
	// creates with a zone.
	nsTTL  = 172800
	soaTTL = 900
	// soaRest is what follows the primary name server in the SOA Route 53
	// creates: its mailbox, serial, refresh, retry, expire and negative
	// caching TTL.
	soaRest = " awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"
	// defaultMaxZones is how many zones a list answers by default, and at
	// most.
	defaultMaxZones = 100
)

// privateNameServers are the name servers of every private hosted zone.
var privateNameServers = []string{"ns-1536.awsdns-00.co.uk", "ns-0.awsdns-00.com", "ns-1024.awsdns-00.org", "ns-512.awsdns-00.net"}

// publicNameServers are a public zone's delegation set: one name server in
// each of Route 53's four top-level domains, in the numbering range of
// that domain (ns-0 to ns-511 are .com, and so on), derived from the zone
// id so that it never changes.
func publicNameServers(id string) []string {
	h := sha256.Sum256([]byte(id))
	tlds := []string{"com", "net", "org", "co.uk"}
	out := make([]string, len(tlds))
	for i, tld := range tlds {
		n := i*512 + int(binary.BigEndian.Uint16(h[2*i:]))%512
		out[i] = fmt.Sprintf("ns-%d.awsdns-%02d.%s", n, int(h[8+i])%64, tld)
	}
	return out
}

// apexSets are the NS and SOA record sets Route 53 creates with a zone.
func apexSets(zone string, nameServers []string) []*rrset {
	ns := &rrset{Name: zone, Type: r53api.RRTypeNS, TTL: i64(nsTTL)}
	for _, n := range nameServers {
		ns.Values = append(ns.Values, n+".")
	}
	soa := &rrset{Name: zone, Type: r53api.RRTypeSOA, TTL: i64(soaTTL), Values: []string{nameServers[0] + "." + soaRest}}
	return []*rrset{ns, soa}
}

// required reports whether a record set is one of the two Route 53 keeps
// for the zone itself (the apex NS and SOA).
func (z *zoneRecord) required(r *rrset) bool {
	return r.Name == z.Name && r.SetID == "" && (r.Type == r53api.RRTypeNS || r.Type == r53api.RRTypeSOA)
}

// zoneName parses the name of a hosted zone, with Route 53's errors.
func zoneName(s string) (name, error) {
	n, err := parseName(s)
	if err != nil {
		return nil, errorf("InvalidDomainName", "%s is not a valid domain name: %s", s, err)
	}
	if len(n) == 1 {
		return nil, errorf("InvalidDomainName", "%s is reserved by AWS!", strings.TrimSuffix(n.String(), "."))
	}
	return n, nil
}

func (s *Service) createHostedZone(ctx context.Context, in *r53api.CreateHostedZoneRequest) (*r53api.CreateHostedZoneResponse, error) {
	acct := account(ctx)
	zn, err := zoneName(deref(in.Name))
	if err != nil {
		return nil, err
	}
	if in.DelegationSetId != nil {
		return nil, errorf("NoSuchDelegationSet", "A reusable delegation set with the specified ID does not exist.")
	}
	private := in.VPC != nil
	if in.HostedZoneConfig != nil && in.HostedZoneConfig.PrivateZone != nil && *in.HostedZoneConfig.PrivateZone && !private {
		return nil, invalidInput("When you create a private hosted zone (PrivateZone is true), you must specify VPCId and VPCRegion.")
	}
	var vpc vpcRef
	if private {
		if vpc, err = vpcOf(in.VPC); err != nil {
			return nil, err
		}
		vpc.Account = acct
	}
	out := &r53api.CreateHostedZoneResponse{}
	err = s.store.Update(func(tx *store.Tx) error {
		ref := deref(in.CallerReference)
		if ok, err := tx.Get(key(acct, kindCallerRef, ref), &struct{}{}); err != nil || ok {
			if err == nil {
				err = errorf("HostedZoneAlreadyExists", "A hosted zone has already been created with the specified caller reference.")
			}
			return err
		}
		n, err := tx.Count(acct, "", kindZone)
		if err != nil {
			return err
		}
		if n >= s.ZoneLimit {
			return errorf("TooManyHostedZones", "Limits Exceeded: MAX_HOSTED_ZONES_BY_OWNER - Cannot create more hosted zones.")
		}
		if private {
			if err := s.checkVPC(tx, vpc); err != nil {
				return err
			}
			if err := conflictingZone(tx, zn.String(), "", vpc); err != nil {
				return err
			}
		}
		seq, err := tx.NextID(acct, "", kindZone)
		if err != nil {
			return err
		}
		z := &zoneRecord{ID: newID("Z"), Seq: seq, Name: zn.String(), CallerReference: ref, Private: private, Created: s.now()}
		if c := in.HostedZoneConfig; c != nil && deref(c.Comment) != "" {
			z.Comment = *c.Comment
		}
		if private {
			z.VPCs = []vpcRef{vpc}
			z.NameServers = slices.Clone(privateNameServers)
		} else {
			z.NameServers = publicNameServers(z.ID)
		}
		if err := saveSets(tx, acct, z, apexSets(z.Name, z.NameServers)); err != nil {
			return err
		}
		if err := tx.Put(key(acct, kindCallerRef, ref), struct{}{}); err != nil {
			return err
		}
		ch, err := s.newChange(tx, acct, "")
		if err != nil {
			return err
		}
		out.HostedZone = z.api()
		out.ChangeInfo = s.changeInfo(ch)
		out.DelegationSet = &r53api.DelegationSet{NameServers: ptrs(z.NameServers)}
		out.Location = str("https://route53.amazonaws.com/2013-04-01/hostedzone/" + z.ID)
		if private {
			out.VPC = vpc.api()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// api is the zone as the API shows it.
func (z *zoneRecord) api() *r53api.HostedZone {
	h := &r53api.HostedZone{
		Id:                     str("/hostedzone/" + z.ID),
		Name:                   str(z.Name),
		CallerReference:        str(z.CallerReference),
		Config:                 &r53api.HostedZoneConfig{PrivateZone: boolp(z.Private)},
		ResourceRecordSetCount: i64(int64(z.RecordCount)),
	}
	if z.Comment != "" {
		h.Config.Comment = str(z.Comment)
	}
	return h
}

func ptrs(ss []string) []*string {
	out := make([]*string, len(ss))
	for i := range ss {
		out[i] = &ss[i]
	}
	return out
}

func (s *Service) getHostedZone(ctx context.Context, in *r53api.GetHostedZoneRequest) (*r53api.GetHostedZoneResponse, error) {
	var out *r53api.GetHostedZoneResponse
	err := s.store.View(func(tx *store.Tx) error {
		z, err := loadZone(tx, account(ctx), bareID(deref(in.Id)))
		if err != nil {
			return err
		}
		out = &r53api.GetHostedZoneResponse{HostedZone: z.api()}
		if z.Private {
			for _, v := range z.VPCs {
				out.VPCs = append(out.VPCs, v.api())
			}
		} else {
			out.DelegationSet = &r53api.DelegationSet{NameServers: ptrs(z.NameServers)}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// zones returns an account's zones in creation order.
func zones(tx *store.Tx, acct string) ([]*zoneRecord, error) {
	all, err := store.ListAll[zoneRecord](tx, acct, "", kindZone)
	slices.SortFunc(all, func(a, b *zoneRecord) int { return int(a.Seq) - int(b.Seq) })
	return all, err
}

// maxItems reads a list's MaxItems: the number asked for (at most max),
// and the value to echo.
func maxItems(p *string, max int) (int, string, error) {
	if p == nil {
		return max, strconv.Itoa(max), nil
	}
	n, err := strconv.Atoi(*p)
	if err != nil || n < 0 {
		return 0, "", invalidInput("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must be a number between 0 and %d", *p, max)
	}
	return min(n, max), *p, nil
}

func (s *Service) listHostedZones(ctx context.Context, in *r53api.ListHostedZonesRequest) (*r53api.ListHostedZonesResponse, error) {
	limit, shown, err := maxItems(in.MaxItems, defaultMaxZones)
	if err != nil {
		return nil, err
	}
	if in.DelegationSetId != nil {
		return nil, errorf("NoSuchDelegationSet", "A reusable delegation set with the specified ID does not exist.")
	}
	out := &r53api.ListHostedZonesResponse{HostedZones: []*r53api.HostedZone{}, MaxItems: str(shown), IsTruncated: boolp(false)}
	err = s.store.View(func(tx *store.Tx) error {
		all, err := zones(tx, account(ctx))
		if err != nil {
			return err
		}
		if t := deref(in.HostedZoneType); t != "" {
			if t != r53api.HostedZoneTypePrivateHostedZone {
				return invalidInput("1 validation error detected: Value '%s' at 'hostedZoneType' failed to satisfy constraint: Member must satisfy enum value set: [PrivateHostedZone]", t)
			}
			all = slices.DeleteFunc(all, func(z *zoneRecord) bool { return !z.Private })
		}
		start := 0
		if m := deref(in.Marker); m != "" {
			out.Marker = str(m)
			start = slices.IndexFunc(all, func(z *zoneRecord) bool { return z.ID == bareID(m) })
			if start < 0 {
				return invalidInput("The marker %s is not the id of a hosted zone", m)
			}
		}
		for i := start; i < len(all); i++ {
			if len(out.HostedZones) == limit {
				out.IsTruncated, out.NextMarker = boolp(true), str(all[i].ID)
				break
			}
			out.HostedZones = append(out.HostedZones, all[i].api())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) listHostedZonesByName(ctx context.Context, in *r53api.ListHostedZonesByNameRequest) (*r53api.ListHostedZonesByNameResponse, error) {
	limit, shown, err := maxItems(in.MaxItems, defaultMaxZones)
	if err != nil {
		return nil, err
	}
	out := &r53api.ListHostedZonesByNameResponse{HostedZones: []*r53api.HostedZone{}, MaxItems: str(shown), IsTruncated: boolp(false), DNSName: in.DNSName, HostedZoneId: in.HostedZoneId}
	startKey, startID := "", ""
	if in.DNSName != nil {
		n, err := parseName(*in.DNSName)
		if err != nil {
			return nil, errorf("InvalidDomainName", "%s is not a valid domain name: %s", *in.DNSName, err)
		}
		startKey = n.sortKey()
		startID = bareID(deref(in.HostedZoneId))
	} else if in.HostedZoneId != nil {
		return nil, invalidInput("When you specify HostedZoneId, you must also specify DNSName.")
	}
	err = s.store.View(func(tx *store.Tx) error {
		all, err := zones(tx, account(ctx))
		if err != nil {
			return err
		}
		slices.SortFunc(all, func(a, b *zoneRecord) int {
			if c := strings.Compare(sortKeyOf(a.Name), sortKeyOf(b.Name)); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		for _, z := range all {
			k := sortKeyOf(z.Name)
			if k < startKey || k == startKey && z.ID < startID {
				continue
			}
			if len(out.HostedZones) == limit {
				out.IsTruncated, out.NextDNSName, out.NextHostedZoneId = boolp(true), str(z.Name), str(z.ID)
				break
			}
			out.HostedZones = append(out.HostedZones, z.api())
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) getHostedZoneCount(ctx context.Context, _ *r53api.GetHostedZoneCountRequest) (*r53api.GetHostedZoneCountResponse, error) {
	var n int
	err := s.store.View(func(tx *store.Tx) (err error) {
		n, err = tx.Count(account(ctx), "", kindZone)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &r53api.GetHostedZoneCountResponse{HostedZoneCount: i64(int64(n))}, nil
}

func (s *Service) deleteHostedZone(ctx context.Context, in *r53api.DeleteHostedZoneRequest) (*r53api.DeleteHostedZoneResponse, error) {
	acct, id := account(ctx), bareID(deref(in.Id))
	out := &r53api.DeleteHostedZoneResponse{}
	err := s.store.Update(func(tx *store.Tx) error {
		z, err := loadZone(tx, acct, id)
		if err != nil {
			return err
		}
		sets, err := loadSets(tx, acct, id)
		if err != nil {
			return err
		}
		for _, r := range sets {
			if !z.required(r) {
				return errorf("HostedZoneNotEmpty", "The specified hosted zone contains non-required resource record sets and so cannot be deleted.")
			}
		}
		if _, err := tx.Delete(key(acct, kindZone, id)); err != nil {
			return err
		}
		if _, err := tx.Delete(key(acct, kindRRSets, id)); err != nil {
			return err
		}
		ch, err := s.newChange(tx, acct, "")
		out.ChangeInfo = s.changeInfo(ch)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) updateHostedZoneComment(ctx context.Context, in *r53api.UpdateHostedZoneCommentRequest) (*r53api.UpdateHostedZoneCommentResponse, error) {
	acct := account(ctx)
	out := &r53api.UpdateHostedZoneCommentResponse{}
	err := s.store.Update(func(tx *store.Tx) error {
		z, err := loadZone(tx, acct, bareID(deref(in.Id)))
		if err != nil {
			return err
		}
		z.Comment = deref(in.Comment)
		out.HostedZone = z.api()
		return saveZone(tx, acct, z)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

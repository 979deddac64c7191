package vpcdns

import (
	"math/rand/v2"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/cloudbox/cloudbox/desired"
)

// Lookup is the whole resolution a VPC's resolver (or the internet's)
// makes for one question: Route 53's private zones associated with the
// asking VPC, then the AWS names (Names), then the public zones; see the
// package comment for the rules. It is a Resolver itself (A and PTR
// through the whole path), and what Serve answers from.
type Lookup struct {
	// Names are the AWS names: instances', load balancers', the
	// mirror's. nil knows none.
	Names Resolver
	// World returns the latest world, read once per question: its zones
	// and the asking VPC (its region, its DNS support). nil has no zones.
	World func() *desired.World
	// Targets judges the AWS resources behind alias targets that
	// evaluate target health (load balancers); nil judges none, and only
	// a target without records is unhealthy.
	Targets TargetHealth

	indexes indexes
}

// TargetHealth says whether the AWS resource a name belongs to is healthy
// as Route 53 judges an alias target (a load balancer with a healthy
// target); known is false for a name it does not know.
type TargetHealth interface {
	NameHealthy(name string) (healthy, known bool)
}

// LookupA implements Resolver: the IPv4 addresses name ends at, through
// CNAMEs and aliases; ok when the name exists.
func (l *Lookup) LookupA(vpcID, name string) ([]netip.Addr, bool) {
	a := l.resolve(vpcID, name, dns.TypeA)
	if a.rcode != dns.RcodeSuccess {
		return nil, false
	}
	var addrs []netip.Addr
	for _, rr := range a.rrs {
		if r, ok := rr.(*dns.A); ok {
			if ip, ok := netip.AddrFromSlice(r.A); ok {
				addrs = append(addrs, ip.Unmap())
			}
		}
	}
	return addrs, true
}

// LookupPTR implements Resolver.
func (l *Lookup) LookupPTR(vpcID string, ip netip.Addr) (string, bool) {
	arpa, err := dns.ReverseAddr(ip.String())
	if err != nil {
		return "", false
	}
	for _, rr := range l.resolve(vpcID, arpa, dns.TypePTR).rrs {
		if r, ok := rr.(*dns.PTR); ok {
			return r.Ptr, true
		}
	}
	return "", false
}

// answer is what one name resolved to.
type answer struct {
	// rrs are the answer section: the CNAMEs followed, then the records.
	rrs   []dns.RR
	rcode int
	// soa goes in the authority section of a negative answer.
	soa dns.RR
}

const (
	// maxDepth bounds CNAME chains and alias targets followed for one
	// question; deeper is a loop, answered SERVFAIL.
	maxDepth = 16
	// maxSteps bounds the names resolved for one question, aliases of
	// routing policies included.
	maxSteps = 256
	// maxMultiValue is how many records a multivalue answer holds.
	maxMultiValue = 8
)

// resolve answers name (any case, trailing dot or not) of type qtype as
// asked from vpcID.
func (l *Lookup) resolve(vpcID, name string, qtype uint16) answer {
	q := &question{names: l.Names, targets: l.Targets, indexes: &l.indexes, vpcID: vpcID, steps: maxSteps}
	if l.World != nil {
		q.w = l.World()
	}
	if q.w == nil {
		q.w = &desired.World{}
	}
	if vpcID != Internet {
		if v := q.w.FindVPC(vpcID); v != nil {
			q.region = v.Region
			q.private = v.DNSSupport
		}
	}
	return q.resolve(norm(name), qtype, 0)
}

// question is the state of one question's resolution: one snapshot of
// the world for all the names it follows.
type question struct {
	names   Resolver
	targets TargetHealth
	indexes *indexes
	w       *desired.World
	vpcID   string
	region  string // the asking VPC's, "" on the internet
	private bool   // the asker sees its private zones
	steps   int    // names left to resolve
}

// resolve answers name (normalized) through private zones, AWS names and
// public zones.
func (q *question) resolve(name string, qtype uint16, depth int) answer {
	q.steps--
	if depth > maxDepth || q.steps < 0 {
		return answer{rcode: dns.RcodeServerFailure}
	}
	if z := q.zone(name, true); z != nil {
		return q.fromZone(z, name, qtype, depth)
	}
	if a, ok := q.fromNames(name, qtype); ok {
		return a
	}
	if z := q.zone(name, false); z != nil {
		return q.fromZone(z, name, qtype, depth)
	}
	return answer{rcode: dns.RcodeNameError, soa: negativeSOA()}
}

// zone returns the most specific private zone associated with the asking
// VPC, or public zone, that name lies in; the first of equals.
func (q *question) zone(name string, private bool) *desired.Zone {
	if private && !q.private {
		return nil
	}
	var best *desired.Zone
	bestLen := -1
	for _, z := range q.w.Zones {
		if z.Private != private || (private && !slices.Contains(z.VPCs, q.vpcID)) {
			continue
		}
		zn := norm(z.Name)
		if zn == "" || !inZone(name, zn) || len(zn) <= bestLen {
			continue
		}
		best, bestLen = z, len(zn)
	}
	return best
}

// inZone says whether name is zone or below it.
func inZone(name, zone string) bool {
	return name == zone || strings.HasSuffix(name, "."+zone)
}

// fromNames answers the AWS names; ok is false when none knows name.
func (q *question) fromNames(name string, qtype uint16) (answer, bool) {
	if q.names == nil {
		return answer{}, false
	}
	fqdn := name + "."
	addrs, knownA := q.names.LookupA(q.vpcID, fqdn)
	var ptr string
	knownPTR := false
	if ip, ok := reverseAddr(fqdn); ok {
		ptr, knownPTR = q.names.LookupPTR(q.vpcID, ip)
	}
	if !knownA && !knownPTR {
		return answer{}, false
	}
	hdr := func(t uint16) dns.RR_Header {
		return dns.RR_Header{Name: fqdn, Rrtype: t, Class: dns.ClassINET, Ttl: ttl}
	}
	var a answer
	if knownA && (qtype == dns.TypeA || qtype == dns.TypeAAAA || qtype == dns.TypeANY) {
		for _, ip := range addrs {
			switch {
			case ip.Is4() && qtype != dns.TypeAAAA:
				a.rrs = append(a.rrs, &dns.A{Hdr: hdr(dns.TypeA), A: ip.AsSlice()})
			case ip.Is6() && !ip.Is4In6() && qtype != dns.TypeA:
				a.rrs = append(a.rrs, &dns.AAAA{Hdr: hdr(dns.TypeAAAA), AAAA: ip.AsSlice()})
			}
		}
	}
	if knownPTR && (qtype == dns.TypePTR || qtype == dns.TypeANY) {
		a.rrs = append(a.rrs, &dns.PTR{Hdr: hdr(dns.TypePTR), Ptr: dns.Fqdn(strings.ToLower(ptr))})
	}
	if len(a.rrs) == 0 {
		a.soa = negativeSOA()
	}
	return a, true
}

// fromZone answers name from zone z, authoritatively: NXDOMAIN or NODATA
// with the zone's SOA when it has no such records, a CNAME followed
// through the whole path, a wildcard when name does not exist (RFC 4592).
func (q *question) fromZone(z *desired.Zone, name string, qtype uint16, depth int) answer {
	zx := q.indexes.of(q.w, z)
	apex := zx.apex
	recs := zx.named(name)
	if len(recs) == 0 && name != apex && !zx.exists(name) {
		// The source of synthesis is the wildcard child of the closest
		// encloser, the nearest ancestor that exists.
		ce := name
		for ce != apex {
			_, ce, _ = strings.Cut(ce, ".")
			if ce == apex || zx.exists(ce) {
				break
			}
		}
		recs = zx.named("*." + ce)
		if len(recs) == 0 {
			return answer{rcode: dns.RcodeNameError, soa: zoneSOA(zx, true)}
		}
	}
	owner := name + "."
	if qtype != dns.TypeCNAME && qtype != dns.TypeANY {
		if cnames := ofType(recs, dns.TypeCNAME); len(cnames) > 0 {
			rrs := q.rrset(zx, cnames, owner, dns.TypeCNAME, depth)
			if len(rrs) > 0 {
				if c, ok := rrs[0].(*dns.CNAME); ok {
					rrs = rrs[:1] // a name has one CNAME
					next := q.resolve(norm(c.Target), qtype, depth+1)
					if next.rcode == dns.RcodeServerFailure {
						return next
					}
					return answer{rrs: append(rrs, next.rrs...), rcode: next.rcode, soa: next.soa}
				}
			}
		}
	}
	var a answer
	types := []uint16{qtype}
	if qtype == dns.TypeANY {
		types = nil
		for _, r := range recs {
			if t := recordType(r); t != 0 && !slices.Contains(types, t) {
				types = append(types, t)
			}
		}
	}
	for _, t := range types {
		a.rrs = append(a.rrs, q.rrset(zx, ofType(recs, t), owner, t, depth)...)
	}
	if len(a.rrs) == 0 && qtype == dns.TypeSOA && name == apex {
		a.rrs = []dns.RR{zoneSOA(zx, false)}
	}
	if len(a.rrs) == 0 {
		a.soa = zoneSOA(zx, true)
	}
	return a
}

// candidate is one record of a record set with its data.
type candidate struct {
	rec     *desired.Record
	rrs     []dns.RR
	healthy bool
}

// rrset returns the records of type t at owner that recs (all of that
// name and type, of zone zx) answer, applying their routing policy.
func (q *question) rrset(zx *zoneIndex, recs []*desired.Record, owner string, t uint16, depth int) []dns.RR {
	if len(recs) == 0 {
		return nil
	}
	// Simple routing: the records without a set id (Route 53 allows one).
	var simple []*desired.Record
	for _, r := range recs {
		if r.SetID == "" {
			simple = append(simple, r)
		}
	}
	if len(simple) > 0 {
		var rrs []dns.RR
		for _, r := range simple {
			rrs = append(rrs, q.recordRRs(zx, r, owner, t, depth)...)
		}
		return rrs
	}
	cands := make([]candidate, len(recs))
	for i, r := range recs {
		rrs := q.recordRRs(zx, r, owner, t, depth)
		healthy := !(r.HealthCheck != "" && !r.Healthy) && !(r.AliasTarget != "" && r.EvaluateTargetHealth && (len(rrs) == 0 || !q.targetHealthy(r.AliasTarget)))
		cands[i] = candidate{rec: r, rrs: rrs, healthy: healthy}
	}
	var rrs []dns.RR
	for _, c := range choose(cands, q.region) {
		rrs = append(rrs, c.rrs...)
	}
	return rrs
}

// choose applies the routing policy of a record set whose records all
// have a set id; the first record's fields say which policy.
func choose(cands []candidate, region string) []candidate {
	first := cands[0].rec
	// healthy are the healthy candidates, or all of them when none is:
	// Route 53 then considers them all healthy.
	healthy := func() []candidate {
		var h []candidate
		for _, c := range cands {
			if c.healthy {
				h = append(h, c)
			}
		}
		if len(h) == 0 {
			return cands
		}
		return h
	}
	switch {
	case first.Weight != nil:
		pool := healthy()
		var total int64
		for _, c := range pool {
			total += weight(c.rec)
		}
		if total <= 0 { // all weights 0: each alike
			i := rand.IntN(len(pool))
			return pool[i : i+1]
		}
		n := rand.Int64N(total)
		for _, c := range pool {
			if n -= weight(c.rec); n < 0 {
				return []candidate{c}
			}
		}
		return pool[len(pool)-1:]
	case first.Failover != "":
		var primary, secondary *candidate
		for i := range cands {
			switch strings.ToUpper(cands[i].rec.Failover) {
			case "PRIMARY":
				primary = firstOf(primary, &cands[i])
			case "SECONDARY":
				secondary = firstOf(secondary, &cands[i])
			}
		}
		switch {
		case primary != nil && primary.healthy:
			return []candidate{*primary}
		case secondary != nil && (secondary.healthy || primary == nil):
			return []candidate{*secondary}
		case primary != nil: // both unhealthy: Route 53 answers the primary
			return []candidate{*primary}
		}
		return nil
	case first.MultiValue:
		pool := slices.Clone(healthy())
		rand.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
		return pool[:min(len(pool), maxMultiValue)]
	case first.Region != "":
		// The record of the asker's region, or the nearest one.
		if region == "" {
			region = internetRegion
		}
		pool := healthy()
		best := pool[0]
		for _, c := range pool[1:] {
			if distance(region, c.rec.Region) < distance(region, best.rec.Region) {
				best = c
			}
		}
		return []candidate{best}
	case first.GeoLocation != "":
		// The healthy record of the most specific location that covers
		// the asker; an unhealthy one gives way to the larger area's.
		for _, loc := range locations(region) {
			for _, c := range cands {
				if c.rec.GeoLocation == loc && c.healthy {
					return []candidate{c}
				}
			}
		}
		return nil
	}
	return cands
}

// targetHealthy judges an alias target that evaluates target health: an
// AWS resource by its own health; anything else (a record of a zone) by
// having records, which the caller checks.
func (q *question) targetHealthy(target string) bool {
	if q.targets == nil {
		return true
	}
	healthy, known := q.targets.NameHealthy(strings.TrimPrefix(norm(target), "dualstack."))
	return healthy || !known
}

// firstOf keeps the first of two candidates.
func firstOf(have, c *candidate) *candidate {
	if have != nil {
		return have
	}
	return c
}

func weight(r *desired.Record) int64 {
	if r.Weight == nil || *r.Weight < 0 {
		return 0
	}
	return *r.Weight
}

// recordRRs returns the records of r at owner: its values, or an alias's
// target's records of type t with the target's TTL.
func (q *question) recordRRs(zx *zoneIndex, r *desired.Record, owner string, t uint16, depth int) []dns.RR {
	if r.AliasTarget != "" {
		target := norm(r.AliasTarget)
		a := q.resolve(target, t, depth+1)
		if rest, ok := strings.CutPrefix(target, "dualstack."); ok && a.rcode == dns.RcodeNameError {
			a = q.resolve(rest, t, depth+1) // load balancers' dualstack names
		}
		var rrs []dns.RR
		for _, rr := range a.rrs {
			if rr.Header().Rrtype == t {
				c := dns.Copy(rr)
				c.Header().Name = owner
				rrs = append(rrs, c)
			}
		}
		return rrs
	}
	parsed := zx.parsed(r, t)
	rrs := make([]dns.RR, 0, len(parsed))
	for _, rr := range parsed {
		c := dns.Copy(rr)
		c.Header().Name = owner
		c.Header().Ttl = r.TTL
		rrs = append(rrs, c)
	}
	return rrs
}

// errValue is a record value that makes no record of its type.
type errValue string

func (e errValue) Error() string { return string(e) }

// NewRecord builds a record of type t from a value in zone-file
// presentation, with dns.NewRR; its owner is the root and its TTL 0. A
// value that is not exactly one record of type t (or does not pack) is
// an error.
func NewRecord(t uint16, value string) (dns.RR, error) {
	ts, ok := dns.TypeToString[t]
	if !ok || t == dns.TypeOPT || t == dns.TypeANY {
		return nil, errValue("vpcdns: no record type " + ts)
	}
	if strings.ContainsAny(value, "\n\r") || strings.TrimSpace(value) == "" {
		return nil, errValue("vpcdns: a value is one line of data")
	}
	rr, err := dns.NewRR(". 0 IN " + ts + " " + value)
	if err != nil {
		return nil, err
	}
	if rr == nil || rr.Header().Rrtype != t {
		return nil, errValue("vpcdns: " + ts + " value " + value + " makes no " + ts + " record")
	}
	buf := make([]byte, dns.Len(rr)+1)
	if _, err := dns.PackRR(rr, buf, 0, nil, false); err != nil {
		return nil, err
	}
	return rr, nil
}

// zoneSOA returns zone zx's SOA record (a default like Route 53's when the zone
// lists none); negative, it carries the TTL of negative answers, the
// lesser of its TTL and its minimum (RFC 2308).
func zoneSOA(zx *zoneIndex, negative bool) dns.RR {
	apex := zx.apex + "."
	var soa *dns.SOA
	for _, r := range zx.named(zx.apex) {
		if recordType(r) != dns.TypeSOA {
			continue
		}
		if rrs := zx.parsed(r, dns.TypeSOA); len(rrs) > 0 {
			soa = dns.Copy(rrs[0]).(*dns.SOA)
			soa.Hdr.Ttl = r.TTL
			break
		}
	}
	if soa == nil {
		soa = &dns.SOA{
			Hdr:     dns.RR_Header{Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 900},
			Ns:      "ns-1536.awsdns-00.co.uk.",
			Mbox:    "awsdns-hostmaster.amazon.com.",
			Serial:  1,
			Refresh: 7200,
			Retry:   900,
			Expire:  1209600,
			Minttl:  86400,
		}
	}
	soa.Hdr.Name = apex
	if negative {
		soa.Hdr.Ttl = min(soa.Hdr.Ttl, soa.Minttl)
	}
	return soa
}

func ofType(recs []*desired.Record, t uint16) []*desired.Record {
	var out []*desired.Record
	for _, r := range recs {
		if recordType(r) == t {
			out = append(out, r)
		}
	}
	return out
}

// recordType is the type of r, 0 for none known.
func recordType(r *desired.Record) uint16 {
	return dns.StringToType[strings.ToUpper(r.Type)] // an unknown type is 0
}

// norm is name in lower case without the trailing dot.
func norm(name string) string {
	return lowerASCII(strings.TrimSuffix(name, "."))
}

// lowerASCII lowers A-Z only: names compare case-insensitively in ASCII
// (RFC 4343), and other bytes, valid UTF-8 or not, stay as they are.
func lowerASCII(s string) string {
	i := strings.IndexFunc(s, func(r rune) bool { return 'A' <= r && r <= 'Z' })
	if i < 0 {
		return s
	}
	b := []byte(s)
	for j := i; j < len(b); j++ {
		if 'A' <= b[j] && b[j] <= 'Z' {
			b[j] += 'a' - 'A'
		}
	}
	return string(b)
}

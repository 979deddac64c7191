package route53_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
)

// show is a record set in one line: name type [setid] ttl values or alias,
// and its routing.
func show(s types.ResourceRecordSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s", aws.ToString(s.Name), s.Type)
	if s.SetIdentifier != nil {
		fmt.Fprintf(&b, " [%s]", *s.SetIdentifier)
	}
	if s.TTL != nil {
		fmt.Fprintf(&b, " %d", *s.TTL)
	}
	for _, r := range s.ResourceRecords {
		fmt.Fprintf(&b, " %s", aws.ToString(r.Value))
	}
	if a := s.AliasTarget; a != nil {
		fmt.Fprintf(&b, " alias(%s %s %v)", aws.ToString(a.HostedZoneId), aws.ToString(a.DNSName), a.EvaluateTargetHealth)
	}
	if s.Weight != nil {
		fmt.Fprintf(&b, " weight=%d", *s.Weight)
	}
	if s.Failover != "" {
		fmt.Fprintf(&b, " failover=%s", s.Failover)
	}
	if s.Region != "" {
		fmt.Fprintf(&b, " region=%s", s.Region)
	}
	if g := s.GeoLocation; g != nil {
		fmt.Fprintf(&b, " geo=%s/%s/%s", aws.ToString(g.ContinentCode), aws.ToString(g.CountryCode), aws.ToString(g.SubdivisionCode))
	}
	if s.MultiValueAnswer != nil {
		fmt.Fprintf(&b, " multivalue=%v", *s.MultiValueAnswer)
	}
	if s.HealthCheckId != nil {
		fmt.Fprintf(&b, " health=%s", *s.HealthCheckId)
	}
	return b.String()
}

func (c *cloud) shown(t *testing.T, zone string) []string {
	t.Helper()
	var out []string
	for _, s := range c.sets(t, zone) {
		if s.Type == types.RRTypeSoa || s.Type == types.RRTypeNs && aws.ToString(s.Name) == "example.com." {
			continue
		}
		out = append(out, show(s))
	}
	return out
}

func lines(ss ...string) string { return strings.Join(ss, "\n") }

// TestChangeResourceRecordSets: CREATE, UPSERT and DELETE of every record
// type, names as Route 53 keeps them, aliases and routing policies stored;
// a batch applied whole.
func TestChangeResourceRecordSets(t *testing.T) {
	c := newCloud(t)
	id := c.zone(t, "example.com")
	weighted := func(name, set string, w int64, v string) *types.ResourceRecordSet {
		s := rr(name, types.RRTypeA, 60, v)
		s.SetIdentifier, s.Weight = aws.String(set), aws.Int64(w)
		return s
	}
	alias := func(name string, typ types.RRType, zone, target string) *types.ResourceRecordSet {
		return &types.ResourceRecordSet{Name: aws.String(name), Type: typ, AliasTarget: &types.AliasTarget{HostedZoneId: aws.String(zone), DNSName: aws.String(target), EvaluateTargetHealth: true}}
	}
	out := must[*r53.ChangeResourceRecordSetsOutput](t)(c.r53.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{
		HostedZoneId: aws.String("/hostedzone/" + id),
		ChangeBatch: &types.ChangeBatch{Comment: aws.String("everything"), Changes: []types.Change{
			chg(types.ChangeActionCreate, rr("WWW.Example.com", types.RRTypeA, 300, "192.0.2.1", "192.0.2.2")),
			chg(types.ChangeActionCreate, rr("www.example.com.", types.RRTypeAaaa, 300, "2001:db8::1")),
			chg(types.ChangeActionCreate, rr("example.com", types.RRTypeMx, 3600, "10 mail.example.com", "20 mail2.example.com.")),
			chg(types.ChangeActionCreate, rr("example.com", types.RRTypeTxt, 300, `"v=spf1 include:amazonses.com ~all"`, `"a" "b"`)),
			chg(types.ChangeActionCreate, rr("example.com", types.RRTypeSpf, 300, `"v=spf1 -all"`)),
			chg(types.ChangeActionCreate, rr("example.com", types.RRTypeCaa, 300, `0 issue "amazon.com"`)),
			chg(types.ChangeActionCreate, rr("blog.example.com", types.RRTypeCname, 300, "www.example.com")),
			chg(types.ChangeActionCreate, rr("_sip._tcp.example.com", types.RRTypeSrv, 300, "1 10 5060 sip.example.com")),
			chg(types.ChangeActionCreate, rr("1.2.0.192.example.com", types.RRTypePtr, 300, "www.example.com")),
			chg(types.ChangeActionCreate, rr("sub.example.com", types.RRTypeNs, 172800, "ns1.other.net", "ns2.other.net")),
			chg(types.ChangeActionCreate, rr("sub.example.com", types.RRTypeDs, 300, "12345 8 2 49FD46E6C4B45C55D4AC49FD46E6C4B45C55D4AC")),
			chg(types.ChangeActionCreate, rr("example.com", types.RRTypeNaptr, 300, `100 10 "U" "E2U+sip" "!^.*$!sip:info@example.com!" .`)),
			chg(types.ChangeActionCreate, rr("*.Example.com", types.RRTypeA, 60, "192.0.2.9")),
			chg(types.ChangeActionCreate, weighted("api.example.com", "blue", 70, "192.0.2.10")),
			chg(types.ChangeActionCreate, weighted("api.example.com", "green", 30, "192.0.2.11")),
			chg(types.ChangeActionCreate, alias("example.com", types.RRTypeA, id, "WWW.example.com")),
			chg(types.ChangeActionCreate, alias("lb.example.com", types.RRTypeA, "Z35SXDOTRQ7X7K", "dualstack.My-LB-123.us-east-1.ELB.amazonaws.com")),
		}},
	}))
	if out.ChangeInfo.Status != types.ChangeStatusPending || aws.ToString(out.ChangeInfo.Comment) != "everything" {
		t.Errorf("change info %+v", out.ChangeInfo)
	}
	want := lines(
		"example.com. A alias("+id+" www.example.com. true)",
		`example.com. CAA 300 0 issue "amazon.com"`,
		"example.com. MX 3600 10 mail.example.com 20 mail2.example.com.",
		`example.com. NAPTR 300 100 10 "U" "E2U+sip" "!^.*$!sip:info@example.com!" .`,
		`example.com. SPF 300 "v=spf1 -all"`,
		`example.com. TXT 300 "v=spf1 include:amazonses.com ~all" "a" "b"`,
		`\052.example.com. A 60 192.0.2.9`,
		"1.2.0.192.example.com. PTR 300 www.example.com",
		"_sip._tcp.example.com. SRV 300 1 10 5060 sip.example.com",
		"api.example.com. A [blue] 60 192.0.2.10 weight=70",
		"api.example.com. A [green] 60 192.0.2.11 weight=30",
		"blog.example.com. CNAME 300 www.example.com",
		"lb.example.com. A alias(Z35SXDOTRQ7X7K dualstack.my-lb-123.us-east-1.elb.amazonaws.com. true)",
		"sub.example.com. DS 300 12345 8 2 49FD46E6C4B45C55D4AC49FD46E6C4B45C55D4AC",
		"sub.example.com. NS 172800 ns1.other.net ns2.other.net",
		"www.example.com. A 300 192.0.2.1 192.0.2.2",
		"www.example.com. AAAA 300 2001:db8::1",
	)
	if got := lines(c.shown(t, id)...); got != want {
		t.Errorf("record sets:\n%s\nwant:\n%s", got, want)
	}
	z := must[*r53.GetHostedZoneOutput](t)(c.r53.GetHostedZone(ctx, &r53.GetHostedZoneInput{Id: aws.String(id)}))
	if aws.ToInt64(z.HostedZone.ResourceRecordSetCount) != 19 {
		t.Errorf("ResourceRecordSetCount %d", aws.ToInt64(z.HostedZone.ResourceRecordSetCount))
	}

	// UPSERT replaces or creates; DELETE needs the values, in any order;
	// a DELETE then a CREATE of one record set is one change.
	must[*r53.ChangeResourceRecordSetsOutput](t)(c.change(id,
		chg(types.ChangeActionUpsert, rr("www.example.com", types.RRTypeA, 60, "192.0.2.3")),
		chg(types.ChangeActionUpsert, rr("new.example.com", types.RRTypeA, 60, "192.0.2.4")),
		chg(types.ChangeActionDelete, rr("example.com", types.RRTypeMx, 3600, "20 mail2.example.com.", "10 mail.example.com")),
		chg(types.ChangeActionDelete, rr("blog.example.com", types.RRTypeCname, 300, "www.example.com")),
		chg(types.ChangeActionCreate, rr("blog.example.com", types.RRTypeA, 300, "192.0.2.5")),
		chg(types.ChangeActionDelete, rr(`\052.example.com`, types.RRTypeA, 60, "192.0.2.9")),
		chg(types.ChangeActionUpsert, weighted("api.example.com", "green", 0, "192.0.2.11")),
		chg(types.ChangeActionDelete, alias("lb.example.com", types.RRTypeA, "Z35SXDOTRQ7X7K", "dualstack.my-lb-123.us-east-1.elb.amazonaws.com")),
		chg(types.ChangeActionUpsert, rr("example.com", types.RRTypeSoa, 60, "ns-1.awsdns-01.com. hostmaster.example.com. 2 7200 900 1209600 60")),
	))
	sets := strings.Join(c.shown(t, id), "\n")
	for _, s := range []string{"www.example.com. A 60 192.0.2.3", "new.example.com. A 60 192.0.2.4", "blog.example.com. A 300 192.0.2.5", "api.example.com. A [green] 60 192.0.2.11 weight=0"} {
		if !strings.Contains(sets, s+"\n") {
			t.Errorf("after the second batch, missing %q in\n%s", s, sets)
		}
	}
	for _, s := range []string{"MX", "CNAME", `\052`, "lb.example.com"} {
		if strings.Contains(sets, s) {
			t.Errorf("after the second batch, %q is still in\n%s", s, sets)
		}
	}
	for _, soa := range c.sets(t, id) {
		if soa.Type == types.RRTypeSoa && *soa.ResourceRecords[0].Value != "ns-1.awsdns-01.com. hostmaster.example.com. 2 7200 900 1209600 60" {
			t.Errorf("SOA after UPSERT: %s", show(soa))
		}
	}
}

// TestRoutingPolicies: each policy stored and shown as given.
func TestRoutingPolicies(t *testing.T) {
	c := newCloud(t)
	id := c.zone(t, "example.com")
	hc := c.healthCheck(t, "primary", &types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, IPAddress: aws.String("198.51.100.1")})
	with := func(name, set string, f func(*types.ResourceRecordSet)) types.Change {
		s := rr(name, types.RRTypeA, 60, "192.0.2.1")
		s.SetIdentifier = aws.String(set)
		f(s)
		return chg(types.ChangeActionCreate, s)
	}
	must[*r53.ChangeResourceRecordSetsOutput](t)(c.change(id,
		with("f.example.com", "primary", func(s *types.ResourceRecordSet) {
			s.Failover, s.HealthCheckId = types.ResourceRecordSetFailoverPrimary, aws.String(hc)
		}),
		with("f.example.com", "secondary", func(s *types.ResourceRecordSet) { s.Failover = types.ResourceRecordSetFailoverSecondary }),
		with("l.example.com", "seoul", func(s *types.ResourceRecordSet) { s.Region = types.ResourceRecordSetRegionApNortheast2 }),
		with("l.example.com", "paris", func(s *types.ResourceRecordSet) { s.Region = types.ResourceRecordSetRegionEuWest3 }),
		with("g.example.com", "eu", func(s *types.ResourceRecordSet) { s.GeoLocation = &types.GeoLocation{ContinentCode: aws.String("EU")} }),
		with("g.example.com", "wa", func(s *types.ResourceRecordSet) {
			s.GeoLocation = &types.GeoLocation{CountryCode: aws.String("US"), SubdivisionCode: aws.String("WA")}
		}),
		with("g.example.com", "default", func(s *types.ResourceRecordSet) { s.GeoLocation = &types.GeoLocation{CountryCode: aws.String("*")} }),
		with("m.example.com", "one", func(s *types.ResourceRecordSet) { s.MultiValueAnswer = aws.Bool(true) }),
		with("m.example.com", "two", func(s *types.ResourceRecordSet) { s.MultiValueAnswer = aws.Bool(true) }),
	))
	want := lines(
		"f.example.com. A [primary] 60 192.0.2.1 failover=PRIMARY health="+hc,
		"f.example.com. A [secondary] 60 192.0.2.1 failover=SECONDARY",
		"g.example.com. A [default] 60 192.0.2.1 geo=/*/",
		"g.example.com. A [eu] 60 192.0.2.1 geo=EU//",
		"g.example.com. A [wa] 60 192.0.2.1 geo=/US/WA",
		"l.example.com. A [paris] 60 192.0.2.1 region=eu-west-3",
		"l.example.com. A [seoul] 60 192.0.2.1 region=ap-northeast-2",
		"m.example.com. A [one] 60 192.0.2.1 multivalue=true",
		"m.example.com. A [two] 60 192.0.2.1 multivalue=true",
	)
	if got := lines(c.shown(t, id)...); got != want {
		t.Errorf("record sets:\n%s\nwant:\n%s", got, want)
	}
}

// TestChangeBatchErrors: each invalid batch's error, as Route 53 words it;
// a refused batch changes nothing.
func TestChangeBatchErrors(t *testing.T) {
	c := newCloud(t)
	id := c.zone(t, "example.com")
	other := c.zone(t, "other.com")
	must[*r53.ChangeResourceRecordSetsOutput](t)(c.change(id,
		chg(types.ChangeActionCreate, rr("www.example.com", types.RRTypeA, 300, "192.0.2.1")),
		chg(types.ChangeActionCreate, rr("cname.example.com", types.RRTypeCname, 300, "www.example.com")),
		chg(types.ChangeActionCreate, rr("w.example.com", types.RRTypeA, 60, "192.0.2.1")),
	))
	must[*r53.ChangeResourceRecordSetsOutput](t)(c.change(other, chg(types.ChangeActionCreate, rr("x.other.com", types.RRTypeA, 300, "192.0.2.8"))))
	before := c.shown(t, id)

	withSet := func(s *types.ResourceRecordSet, f func(*types.ResourceRecordSet)) *types.ResourceRecordSet {
		f(s)
		return s
	}
	weighted := func(name, set string) *types.ResourceRecordSet {
		return withSet(rr(name, types.RRTypeA, 60, "192.0.2.1"), func(s *types.ResourceRecordSet) { s.SetIdentifier, s.Weight = aws.String(set), aws.Int64(1) })
	}
	failover := func(name, set string, role types.ResourceRecordSetFailover) *types.ResourceRecordSet {
		return withSet(rr(name, types.RRTypeA, 60, "192.0.2.1"), func(s *types.ResourceRecordSet) { s.SetIdentifier, s.Failover = aws.String(set), role })
	}
	alias := func(name, zone, target string) *types.ResourceRecordSet {
		return &types.ResourceRecordSet{Name: aws.String(name), Type: types.RRTypeA, AliasTarget: &types.AliasTarget{HostedZoneId: aws.String(zone), DNSName: aws.String(target)}}
	}
	const icb = "InvalidChangeBatch"
	for _, tc := range []struct {
		name    string
		changes []types.Change
		code    string
		msg     string
	}{
		{"create existing", []types.Change{chg(types.ChangeActionCreate, rr("WWW.example.com", types.RRTypeA, 300, "192.0.2.1"))}, icb,
			"[Tried to create resource record set [name='www.example.com.', type='A'] but it already exists]"},
		{"delete missing", []types.Change{chg(types.ChangeActionDelete, rr("x.example.com", types.RRTypeA, 300, "192.0.2.1"))}, icb,
			"[Tried to delete resource record set [name='x.example.com.', type='A'] but it was not found]"},
		{"delete with other values", []types.Change{chg(types.ChangeActionDelete, rr("www.example.com", types.RRTypeA, 300, "192.0.2.2"))}, icb,
			"[Tried to delete resource record set [name='www.example.com.', type='A'] but the values provided do not match the current values]"},
		{"delete with another TTL", []types.Change{chg(types.ChangeActionDelete, rr("www.example.com", types.RRTypeA, 60, "192.0.2.1"))}, icb,
			"[Tried to delete resource record set [name='www.example.com.', type='A'] but the values provided do not match the current values]"},
		{"CNAME at the apex", []types.Change{chg(types.ChangeActionCreate, rr("example.com", types.RRTypeCname, 300, "www.example.com"))}, icb,
			"[RRSet of type CNAME with DNS name example.com. is not permitted at apex in zone example.com.]"},
		{"CNAME over an A", []types.Change{chg(types.ChangeActionCreate, rr("www.example.com", types.RRTypeCname, 300, "x.example.com"))}, icb,
			"[RRSet of type CNAME with DNS name www.example.com. is not permitted as it conflicts with other records with the same DNS name in zone example.com.]"},
		{"TXT beside a CNAME", []types.Change{chg(types.ChangeActionCreate, rr("cname.example.com", types.RRTypeTxt, 300, `"x"`))}, icb,
			"[RRSet of type TXT with DNS name cname.example.com. is not permitted because a conflicting RRSet of type  CNAME with the same DNS name already exists in zone example.com.]"},
		{"CNAME with two values", []types.Change{chg(types.ChangeActionCreate, rr("c2.example.com", types.RRTypeCname, 300, "a.example.com", "b.example.com"))}, icb,
			"[RRSet of type CNAME with DNS name c2.example.com. is not permitted as it has more than one value]"},
		{"outside the zone", []types.Change{
			chg(types.ChangeActionCreate, rr("www.example.org", types.RRTypeA, 300, "192.0.2.1")),
			chg(types.ChangeActionCreate, rr("badexample.com", types.RRTypeA, 300, "192.0.2.1")),
		}, icb, "[RRSet with DNS name www.example.org. is not permitted in zone example.com., RRSet with DNS name badexample.com. is not permitted in zone example.com.]"},
		{"bad IPv4", []types.Change{chg(types.ChangeActionCreate, rr("a.example.com", types.RRTypeA, 300, "192.0.2"))}, icb,
			"[Invalid Resource Record: 'FATAL problem: ARRTypeExpected (Value is not a valid IPv4 address) encountered with '192.0.2'']"},
		{"IPv6 in an A", []types.Change{chg(types.ChangeActionCreate, rr("a.example.com", types.RRTypeA, 300, "2001:db8::1"))}, icb,
			"[Invalid Resource Record: 'FATAL problem: ARRTypeExpected (Value is not a valid IPv4 address) encountered with '2001:db8::1'']"},
		{"IPv4 in an AAAA", []types.Change{chg(types.ChangeActionCreate, rr("a.example.com", types.RRTypeAaaa, 300, "192.0.2.1"))}, icb,
			"[Invalid Resource Record: 'FATAL problem: AAAARRTypeExpected (Value is not a valid IPv6 address) encountered with '192.0.2.1'']"},
		{"TXT without quotes", []types.Change{chg(types.ChangeActionCreate, rr("t.example.com", types.RRTypeTxt, 300, "v=spf1 include:amazonses.com ~all"))}, icb,
			"[Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with 'v=spf1 include:amazonses.com ~all'']"},
		{"TXT string too long", []types.Change{chg(types.ChangeActionCreate, rr("t.example.com", types.RRTypeTxt, 300, `"`+strings.Repeat("x", 256)+`"`))}, icb,
			`[Invalid Resource Record: 'FATAL problem: CharacterStringTooLong (Value is too long) encountered with '"` + strings.Repeat("x", 256) + `"'']`},
		{"MX without preference", []types.Change{chg(types.ChangeActionCreate, rr("example.com", types.RRTypeMx, 300, "mail.example.com"))}, icb,
			"[Invalid Resource Record: 'FATAL problem: UnparsableRData (Value is not valid data for a record of type MX) encountered with 'mail.example.com'']"},
		{"a comment in a value", []types.Change{chg(types.ChangeActionCreate, rr("a.example.com", types.RRTypeA, 300, "192.0.2.1 ; x"))}, icb,
			"[Invalid Resource Record: 'FATAL problem: ARRTypeExpected (Value is not a valid IPv4 address) encountered with '192.0.2.1 ; x'']"},
		{"two values on a line", []types.Change{chg(types.ChangeActionCreate, rr("a.example.com", types.RRTypeA, 300, "192.0.2.1\n192.0.2.2"))}, icb,
			"[Invalid Resource Record: 'FATAL problem: InvalidCharacter (Value contains a control character) encountered with '192.0.2.1\n192.0.2.2'']"},
		{"empty CNAME", []types.Change{chg(types.ChangeActionCreate, rr("e.example.com", types.RRTypeCname, 300, " "))}, icb,
			"[Invalid Resource Record: 'FATAL problem: DomainNameEmpty (Domain name is empty) encountered with ''']"},
		{"duplicate value", []types.Change{chg(types.ChangeActionCreate, rr("d.example.com", types.RRTypeA, 300, "192.0.2.1", "192.0.2.1"))}, icb,
			"[Duplicate Resource Record: '192.0.2.1']"},
		{"label too long", []types.Change{chg(types.ChangeActionCreate, rr(strings.Repeat("a", 64)+".example.com", types.RRTypeA, 300, "192.0.2.1"))}, icb,
			"[FATAL problem: DomainLabelTooLong (Domain label is too long) encountered with '" + strings.Repeat("a", 64) + ".example.com']"},
		{"one set twice", []types.Change{
			chg(types.ChangeActionUpsert, rr("n.example.com", types.RRTypeA, 300, "192.0.2.1")),
			chg(types.ChangeActionUpsert, rr("N.example.com", types.RRTypeA, 300, "192.0.2.2")),
		}, icb, "[The request contains an invalid set of changes for a resource record set 'A n.example.com.']"},
		{"delete twice", []types.Change{
			chg(types.ChangeActionDelete, rr("www.example.com", types.RRTypeA, 300, "192.0.2.1")),
			chg(types.ChangeActionDelete, rr("www.example.com", types.RRTypeA, 300, "192.0.2.1")),
		}, icb, "[The request contains an invalid set of changes for a resource record set 'A www.example.com.']"},
		{"delete the SOA", []types.Change{chg(types.ChangeActionDelete, rr("example.com", types.RRTypeSoa, 900, ""))}, icb,
			"[Tried to delete resource record set [name='example.com.', type='SOA'] but the values provided do not match the current values]"},
		{"a second SOA", []types.Change{chg(types.ChangeActionCreate, rr("s.example.com", types.RRTypeSoa, 900, "ns.example.com. h.example.com. 1 2 3 4 5"))}, icb,
			"[RRSet of type SOA with DNS name s.example.com. is not permitted: the only SOA record of a zone is at its apex, example.com.]"},
		{"wildcard NS", []types.Change{chg(types.ChangeActionCreate, rr("*.example.com", types.RRTypeNs, 300, "ns.other.net"))}, icb,
			`[RRSet of type NS with DNS name \052.example.com. is not permitted: NS records cannot have a wildcard name]`},
		{"simple beside weighted", []types.Change{
			chg(types.ChangeActionCreate, weighted("wt.example.com", "a")),
			chg(types.ChangeActionCreate, rr("wt.example.com", types.RRTypeA, 60, "192.0.2.1")),
		}, icb, "[RRSet with DNS name wt.example.com., type A cannot be created as other RRSets with a routing policy exist with the same name and type.]"},
		{"weighted beside simple", []types.Change{chg(types.ChangeActionCreate, weighted("www.example.com", "a"))}, icb,
			"[RRSet with DNS name www.example.com., type A, SetIdentifier a cannot be created as a non-weighted RRSet exists with the same name and type.]"},
		{"mixed policies", []types.Change{
			chg(types.ChangeActionCreate, weighted("mix.example.com", "a")),
			chg(types.ChangeActionCreate, failover("mix.example.com", "b", types.ResourceRecordSetFailoverPrimary)),
		}, icb, "[RRSet with DNS name mix.example.com., type A, SetIdentifier b cannot be created as a weighted RRSet exists with the same name and type.]"},
		{"two primaries", []types.Change{
			chg(types.ChangeActionCreate, failover("fo.example.com", "a", types.ResourceRecordSetFailoverPrimary)),
			chg(types.ChangeActionCreate, failover("fo.example.com", "b", types.ResourceRecordSetFailoverPrimary)),
		}, icb, "[RRSet with DNS name fo.example.com., type A, SetIdentifier b cannot be created as a PRIMARY failover RRSet (SetIdentifier a) exists with the same name and type.]"},
		{"create an existing set identifier", []types.Change{
			chg(types.ChangeActionCreate, weighted("ws.example.com", "a")),
			chg(types.ChangeActionCreate, weighted("ws.example.com", "a")),
		}, icb, "[The request contains an invalid set of changes for a resource record set 'A ws.example.com.']"},
		{"alias outside its zone, to nothing", []types.Change{chg(types.ChangeActionCreate, alias("al.example.com", other, "www.example.com"))}, icb,
			"[Tried to create an alias that targets www.example.com., type A in zone " + other + ", but the alias target name does not lie within the target zone, " +
				"Tried to create an alias that targets www.example.com., type A in zone " + other + ", but that target was not found]"},
		{"alias to nothing", []types.Change{chg(types.ChangeActionCreate, alias("al.example.com", id, "nothing.example.com"))}, icb,
			"[Tried to create an alias that targets nothing.example.com., type A in zone " + id + ", but that target was not found]"},
		{"alias to an empty name", []types.Change{chg(types.ChangeActionCreate, alias("al.example.com", id, ""))}, icb,
			"[FATAL problem: DomainNameEmpty (Domain name is empty) encountered with '']"},

		{"alias and values", []types.Change{chg(types.ChangeActionCreate, withSet(alias("al.example.com", id, "www.example.com"), func(s *types.ResourceRecordSet) { s.TTL = aws.Int64(60) }))}, "InvalidInput",
			"Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found more than one in Change with [Action=CREATE, Name=al.example.com, Type=A, SetIdentifier=null]"},
		{"values without TTL", []types.Change{chg(types.ChangeActionCreate, withSet(rr("n.example.com", types.RRTypeA, 0, "192.0.2.1"), func(s *types.ResourceRecordSet) { s.TTL = nil }))}, "InvalidInput",
			"Invalid request: Expected exactly one of [AliasTarget, all of [TTL, and ResourceRecords], or TrafficPolicyInstanceId], but found none in Change with [Action=CREATE, Name=n.example.com, Type=A, SetIdentifier=null]"},
		{"set identifier without policy", []types.Change{chg(types.ChangeActionCreate, withSet(rr("n.example.com", types.RRTypeA, 60, "192.0.2.1"), func(s *types.ResourceRecordSet) { s.SetIdentifier = aws.String("x") }))}, "InvalidInput",
			"Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, MultiValueAnswer, GeoProximityLocation, or CidrRoutingConfig], but found none in Change with [Action=CREATE, Name=n.example.com, Type=A, SetIdentifier=x]"},
		{"two policies", []types.Change{chg(types.ChangeActionCreate, withSet(weighted("n.example.com", "x"), func(s *types.ResourceRecordSet) { s.Region = types.ResourceRecordSetRegionUsEast1 }))}, "InvalidInput",
			"Invalid request: Expected exactly one of [Weight, Region, Failover, GeoLocation, MultiValueAnswer, GeoProximityLocation, or CidrRoutingConfig], but found more than one in Change with [Action=CREATE, Name=n.example.com, Type=A, SetIdentifier=x]"},
		{"policy without set identifier", []types.Change{chg(types.ChangeActionCreate, withSet(rr("n.example.com", types.RRTypeA, 60, "192.0.2.1"), func(s *types.ResourceRecordSet) { s.Weight = aws.Int64(1) }))}, "InvalidInput",
			"Invalid request: Missing field 'SetIdentifier' in Change with [Action=CREATE, Name=n.example.com, Type=A, SetIdentifier=null]"},
		{"negative TTL", []types.Change{chg(types.ChangeActionCreate, rr("n.example.com", types.RRTypeA, -1, "192.0.2.1"))}, "InvalidInput",
			"1 validation error detected: Value '-1' at 'changeBatch.changes.1.member.resourceRecordSet.tTL' failed to satisfy constraint: Member must have value greater than or equal to 0"},
		{"bad geolocation", []types.Change{chg(types.ChangeActionCreate, withSet(rr("n.example.com", types.RRTypeA, 60, "192.0.2.1"), func(s *types.ResourceRecordSet) {
			s.SetIdentifier, s.GeoLocation = aws.String("x"), &types.GeoLocation{ContinentCode: aws.String("XX")}
		}))}, "InvalidInput", "Invalid request: the geolocation XX is not valid in Change with [Action=CREATE, Name=n.example.com, Type=A, SetIdentifier=x]"},
		{"unknown health check", []types.Change{chg(types.ChangeActionCreate, withSet(rr("h.example.com", types.RRTypeA, 60, "192.0.2.1"), func(s *types.ResourceRecordSet) { s.HealthCheckId = aws.String("no-such-check") }))},
			"NoSuchHealthCheck", "No health check exists with the specified ID no-such-check"},
		{"unknown zone", nil, "NoSuchHostedZone", "No hosted zone found with ID: ZNOPE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			zone := id
			if tc.changes == nil {
				zone, tc.changes = "ZNOPE", []types.Change{chg(types.ChangeActionCreate, rr("a.example.com", types.RRTypeA, 60, "192.0.2.1"))}
			}
			_, err := c.change(zone, tc.changes...)
			status := 400
			if strings.HasPrefix(tc.code, "NoSuch") {
				status = 404
			}
			wantErr(t, err, tc.code, status, tc.msg)
		})
	}
	// A batch that fails applies none of its changes.
	_, err := c.change(id,
		chg(types.ChangeActionDelete, rr("www.example.com", types.RRTypeA, 300, "192.0.2.1")),
		chg(types.ChangeActionCreate, rr("fine.example.com", types.RRTypeA, 300, "192.0.2.7")),
		chg(types.ChangeActionCreate, rr("w.example.com", types.RRTypeA, 60, "192.0.2.1")),
	)
	wantErr(t, err, icb, 400, "[Tried to create resource record set [name='w.example.com.', type='A'] but it already exists]")
	if after := c.shown(t, id); lines(after...) != lines(before...) {
		t.Errorf("a refused batch changed the zone:\n%s\nwas:\n%s", lines(after...), lines(before...))
	}
}

// TestGetChange: a change is PENDING for ChangeDelay of virtual time, then
// INSYNC.
func TestGetChange(t *testing.T) {
	c := newCloud(t)
	id := c.zone(t, "example.com")
	out := must[*r53.ChangeResourceRecordSetsOutput](t)(c.change(id, chg(types.ChangeActionCreate, rr("www.example.com", types.RRTypeA, 60, "192.0.2.1"))))
	get := func() types.ChangeStatus {
		ch := must[*r53.GetChangeOutput](t)(c.r53.GetChange(ctx, &r53.GetChangeInput{Id: out.ChangeInfo.Id}))
		if *ch.ChangeInfo.Id != *out.ChangeInfo.Id || !ch.ChangeInfo.SubmittedAt.Equal(*out.ChangeInfo.SubmittedAt) {
			t.Errorf("change %+v", ch.ChangeInfo)
		}
		return ch.ChangeInfo.Status
	}
	if s := get(); s != types.ChangeStatusPending {
		t.Errorf("at once: %s", s)
	}
	c.clock.Advance(c.svc.ChangeDelay - time.Millisecond)
	if s := get(); s != types.ChangeStatusPending {
		t.Errorf("just before the delay: %s", s)
	}
	c.clock.Advance(time.Millisecond)
	if s := get(); s != types.ChangeStatusInsync {
		t.Errorf("after the delay: %s", s)
	}
	// The waiter sees it at its first call.
	w := r53.NewResourceRecordSetsChangedWaiter(c.r53)
	if err := w.Wait(ctx, &r53.GetChangeInput{Id: out.ChangeInfo.Id}, time.Minute); err != nil {
		t.Fatal(err)
	}
	_, err := c.r53.GetChange(ctx, &r53.GetChangeInput{Id: aws.String("CNOPE")})
	wantErr(t, err, "NoSuchChange", 404, "A change with the specified change ID does not exist.")
	// Another account has no such change.
	_, err = c.route53("111111111111").GetChange(ctx, &r53.GetChangeInput{Id: out.ChangeInfo.Id})
	wantErr(t, err, "NoSuchChange", 404, "A change with the specified change ID does not exist.")
}

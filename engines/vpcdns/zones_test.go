package vpcdns

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/cloudbox/cloudbox/desired"
)

func rec(name, typ string, ttl uint32, values ...string) *desired.Record {
	return &desired.Record{Name: name, Type: typ, TTL: ttl, Values: values}
}

func weightOf(n int64) *int64 { return &n }

// zoneWorld is a world of four VPCs, published names and zones:
//
//   - vprofile.in, private, associated with vpc-a and vpc-d (no DNS
//     support): the seed's db01, mc01, rmq01, and no SOA record;
//   - ap-northeast-2.compute.internal, private to vpc-a, shadowing the
//     AWS names of the region;
//   - example.com, public: every record type, CNAMEs, wildcards, aliases
//     and routing policies;
//   - deep.example.com, public, more specific than example.com;
//   - example.com, private to vpc-c, which then never sees the public one;
//   - elb.amazonaws.com, public, which the AWS names come before.
func zoneWorld() *desired.World {
	soa := rec("example.com", "SOA", 900, "ns-1.awsdns-01.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 300")
	public := &desired.Zone{ID: "ZPUB", Account: "111111111111", Name: "example.com", Records: []*desired.Record{
		soa,
		rec("example.com", "NS", 172800, "ns-1.awsdns-01.com.", "ns-2.awsdns-02.net."),
		rec("example.com", "A", 300, "192.0.2.1"),
		rec("example.com", "AAAA", 300, "2001:db8::1"),
		rec("example.com", "MX", 3600, "10 mail.example.com.", "20 mail2.example.com."),
		rec("example.com", "TXT", 120, `"v=spf1 -all"`, `"hello world" "second string"`),
		rec("example.com", "SPF", 120, `"v=spf1 -all"`),
		rec("example.com", "CAA", 3600, `0 issue "amazon.com"`),
		rec("_sip._tcp.example.com", "SRV", 600, "10 20 5060 sip.example.com."),
		rec("naptr.example.com", "NAPTR", 600, `100 50 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .`),
		rec("child.example.com", "DS", 3600, "12345 13 2 3B6E4F2ED6B0E4E02D5FA2D2B1E5B3C0A0F6D4C9B1C2D3E4F5A6B7C8D9E0F1A2"),
		rec("ptr.example.com", "PTR", 600, "host.example.com."),
		rec("www.example.com", "CNAME", 60, "example.com."),
		rec("lb.example.com", "CNAME", 60, "my-lb-1.ap-northeast-2.elb.amazonaws.com."),
		rec("two.example.com", "CNAME", 60, "www.example.com."),
		rec("dangling.example.com", "CNAME", 60, "nothing.example.com."),
		rec("loop1.example.com", "CNAME", 60, "loop2.example.com."),
		rec("loop2.example.com", "CNAME", 60, "loop1.example.com."),
		rec("*.wild.example.com", "A", 30, "192.0.2.50"),
		rec("exact.wild.example.com", "A", 30, "192.0.2.51"),
		rec("*.cn.example.com", "CNAME", 30, "example.com."),
		rec("a.ent.example.com", "A", 30, "192.0.2.52"),
		{Name: "alias.example.com", Type: "A", AliasTarget: "example.com"},
		{Name: "lbalias.example.com", Type: "A", AliasTarget: "dualstack.my-lb-1.ap-northeast-2.elb.amazonaws.com"},
		{Name: "dbalias.example.com", Type: "A", AliasTarget: "db01.vprofile.in"},
		{Name: "w.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.10"}, SetID: "one", Weight: weightOf(70)},
		{Name: "w.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.11"}, SetID: "two", Weight: weightOf(30)},
		{Name: "w.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.12"}, SetID: "zero", Weight: weightOf(0)},
		{Name: "w0.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.13"}, SetID: "a", Weight: weightOf(0)},
		{Name: "w0.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.14"}, SetID: "b", Weight: weightOf(0)},
		{Name: "f.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.20"}, SetID: "p", Failover: "PRIMARY", HealthCheck: "hc-1", Healthy: true},
		{Name: "f.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.21"}, SetID: "s", Failover: "SECONDARY"},
		{Name: "lat.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.30"}, SetID: "seoul", Region: "ap-northeast-2"},
		{Name: "lat.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.31"}, SetID: "virginia", Region: "us-east-1"},
		{Name: "lat2.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.32"}, SetID: "london", Region: "eu-west-2"},
		{Name: "lat2.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.33"}, SetID: "singapore", Region: "ap-southeast-1"},
		{Name: "geo.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.40"}, SetID: "eu", GeoLocation: "continent:EU"},
		{Name: "geo.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.41"}, SetID: "default", GeoLocation: "*"},
		{Name: "geo.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.42"}, SetID: "us", GeoLocation: "US"},
		{Name: "geo.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.43"}, SetID: "virginia", GeoLocation: "US-VA"},
		{Name: "geo2.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.44"}, SetID: "virginia", GeoLocation: "US-VA", HealthCheck: "hc-va"},
		{Name: "geo2.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.45"}, SetID: "us", GeoLocation: "US"},
		{Name: "geo2.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.46"}, SetID: "namibia", GeoLocation: "NA"},
		{Name: "ealias.example.com", Type: "A", AliasTarget: "nothing.example.com", EvaluateTargetHealth: true, SetID: "p", Failover: "PRIMARY"},
		{Name: "ealias.example.com", Type: "A", AliasTarget: "example.com", EvaluateTargetHealth: true, SetID: "s", Failover: "SECONDARY"},
	}}
	for i := range 10 {
		r := &desired.Record{Name: "mv.example.com", Type: "A", TTL: 60, Values: []string{fmt.Sprintf("192.0.2.%d", 100+i)},
			SetID: fmt.Sprint("mv", i), MultiValue: true}
		if i >= 8 {
			r.HealthCheck, r.Healthy = fmt.Sprint("hc-mv", i), false
		}
		public.Records = append(public.Records, r)
	}
	var big []string
	for i := range 30 {
		big = append(big, fmt.Sprintf(`"%02d %s"`, i, strings.Repeat("x", 96)))
	}
	public.Records = append(public.Records, rec("big.example.com", "TXT", 60, big...))

	return &desired.World{
		VPCs: []*desired.VPC{
			vpc("vpc-a", "ap-northeast-2", "10.0.0.0/16", true, true, "10.0.1.54", "198.18.3.4"),
			vpc("vpc-b", "us-east-1", "10.1.0.0/16", true, true, "10.1.0.10", "198.18.5.6"),
			vpc("vpc-c", "eu-west-1", "10.2.0.0/16", true, true, "10.2.0.5", "198.18.7.8"),
			vpc("vpc-d", "ap-northeast-2", "10.3.0.0/16", false, false, "10.3.0.5", "198.18.9.9"),
		},
		Names: []*desired.Name{
			{Name: "my-lb-1.ap-northeast-2.elb.amazonaws.com", Addrs: []netip.Addr{addr("198.18.4.1"), addr("198.18.4.2")}},
		},
		Zones: []*desired.Zone{
			{ID: "ZPRIV", Name: "vprofile.in", Private: true, VPCs: []string{"vpc-a", "vpc-d"}, Records: []*desired.Record{
				rec("db01.vprofile.in", "A", 300, "10.0.1.9"),
				rec("mc01.vprofile.in", "A", 300, "10.0.1.10"),
				rec("rmq01.vprofile.in", "A", 300, "10.0.1.11"),
			}},
			{ID: "ZSHADOW", Name: "ap-northeast-2.compute.internal", Private: true, VPCs: []string{"vpc-a"}, Records: []*desired.Record{
				rec("ip-10-0-1-54.ap-northeast-2.compute.internal", "A", 30, "10.9.9.9"),
			}},
			public,
			{ID: "ZDEEP", Name: "deep.example.com", Records: []*desired.Record{
				rec("x.deep.example.com", "A", 30, "192.0.2.60"),
			}},
			{ID: "ZCPRIV", Name: "example.com", Private: true, VPCs: []string{"vpc-c"}, Records: []*desired.Record{
				rec("example.com", "A", 30, "10.2.9.9"),
			}},
			{ID: "ZELB", Name: "elb.amazonaws.com", Records: []*desired.Record{
				rec("my-lb-1.ap-northeast-2.elb.amazonaws.com", "A", 30, "203.0.113.66"),
				rec("other.elb.amazonaws.com", "A", 30, "203.0.113.67"),
			}},
		},
	}
}

// zoneServers serves the world of *cur as the supervisor chains it, for
// vpc-a, vpc-b, vpc-c, vpc-d and the internet; the world may be swapped
// while they serve.
func zoneServers(t *testing.T, cur *atomic.Pointer[desired.World]) map[string]string {
	current := func() *desired.World { return cur.Load() }
	l := &Lookup{Names: Chain{WorldResolver{World: current}, NamesResolver{World: current}}, World: current}
	udp := map[string]string{}
	for _, v := range []string{"vpc-a", "vpc-b", "vpc-c", "vpc-d", Internet} {
		u, tc := serve(t, v, l)
		udp[v], udp[v+"/tcp"] = u, tc
	}
	return udp
}

func newWorld(w *desired.World) *atomic.Pointer[desired.World] {
	var p atomic.Pointer[desired.World]
	p.Store(w)
	return &p
}

// values are the answer's records of type t in presentation, without
// owner, TTL and class.
func values(m *dns.Msg, t uint16) []string {
	var out []string
	for _, rr := range m.Answer {
		if rr.Header().Rrtype == t {
			out = append(out, rdata(rr))
		}
	}
	return out
}

func rdata(rr dns.RR) string {
	return strings.TrimPrefix(rr.String(), rr.Header().String())
}

func TestZonesVisibility(t *testing.T) {
	srv := zoneServers(t, newWorld(zoneWorld()))
	for _, tc := range []struct {
		from, name string
		want       string // "" for NXDOMAIN
		soa        string // the negative answer's SOA owner
	}{
		// A private zone answers only in the VPCs it is associated with
		// (and that have DNS support).
		{"vpc-a", "db01.vprofile.in.", "10.0.1.9", ""},
		{"vpc-a", "RMQ01.Vprofile.IN.", "10.0.1.11", ""},
		{"vpc-b", "db01.vprofile.in.", "", "."},
		{"vpc-d", "db01.vprofile.in.", "", "."},
		{Internet, "db01.vprofile.in.", "", "."},
		{"vpc-a", "db02.vprofile.in.", "", "vprofile.in."},
		// A private zone comes before the AWS names, and does not fall
		// through to them.
		{"vpc-a", "ip-10-0-1-54.ap-northeast-2.compute.internal.", "10.9.9.9", ""},
		{"vpc-a", "ip-10-0-1-55.ap-northeast-2.compute.internal.", "", "ap-northeast-2.compute.internal."},
		{"vpc-d", "ip-10-3-0-5.ap-northeast-2.compute.internal.", "", "."},
		// The AWS names come before the public zones.
		{"vpc-a", "my-lb-1.ap-northeast-2.elb.amazonaws.com.", "198.18.4.1 198.18.4.2", ""},
		{Internet, "my-lb-1.ap-northeast-2.elb.amazonaws.com.", "198.18.4.1 198.18.4.2", ""},
		{Internet, "other.elb.amazonaws.com.", "203.0.113.67", ""},
		{Internet, "ec2-198-18-3-4.ap-northeast-2.compute.amazonaws.com.", "198.18.3.4", ""},
		{"vpc-a", "ec2-198-18-3-4.ap-northeast-2.compute.amazonaws.com.", "10.0.1.54", ""},
		// Public zones answer every VPC and the internet, but a VPC's
		// private zone of the same name shadows it.
		{"vpc-a", "example.com.", "192.0.2.1", ""},
		{"vpc-b", "example.com.", "192.0.2.1", ""},
		{"vpc-d", "example.com.", "192.0.2.1", ""},
		{Internet, "example.com.", "192.0.2.1", ""},
		{"vpc-c", "example.com.", "10.2.9.9", ""},
		{"vpc-c", "www.example.com.", "", "example.com."},
		// The most specific zone wins.
		{Internet, "x.deep.example.com.", "192.0.2.60", ""},
		{Internet, "y.deep.example.com.", "", "deep.example.com."},
		// Nobody's name.
		{"vpc-a", "www.example.org.", "", "."},
		{Internet, "www.example.org.", "", "."},
	} {
		m := exchange(t, "udp", srv[tc.from], tc.name, dns.TypeA)
		if tc.want == "" {
			if m.Rcode != dns.RcodeNameError || len(m.Answer) != 0 || !hasSOA(m) || m.Ns[0].Header().Name != tc.soa {
				t.Errorf("%q asks %s: want NXDOMAIN with the SOA of %s, got\n%v", tc.from, tc.name, tc.soa, m)
			}
			continue
		}
		if got := strings.Join(values(m, dns.TypeA), " "); m.Rcode != dns.RcodeSuccess || got != tc.want {
			t.Errorf("%q asks %s = %q, want %q\n%v", tc.from, tc.name, got, tc.want, m)
		}
		if len(m.Answer) > 0 && m.Answer[0].Header().Name != tc.name {
			t.Errorf("%q asks %s: answered as %s", tc.from, tc.name, m.Answer[0].Header().Name)
		}
	}
}

func TestZonesRecordTypes(t *testing.T) {
	srv := zoneServers(t, newWorld(zoneWorld()))
	for _, tc := range []struct {
		name  string
		qtype uint16
		ttl   uint32
		want  []string
	}{
		{"example.com.", dns.TypeA, 300, []string{"192.0.2.1"}},
		{"example.com.", dns.TypeAAAA, 300, []string{"2001:db8::1"}},
		{"example.com.", dns.TypeMX, 3600, []string{"10 mail.example.com.", "20 mail2.example.com."}},
		{"example.com.", dns.TypeTXT, 120, []string{`"v=spf1 -all"`, `"hello world" "second string"`}},
		{"example.com.", dns.TypeSPF, 120, []string{`"v=spf1 -all"`}},
		{"example.com.", dns.TypeCAA, 3600, []string{`0 issue "amazon.com"`}},
		{"example.com.", dns.TypeNS, 172800, []string{"ns-1.awsdns-01.com.", "ns-2.awsdns-02.net."}},
		{"example.com.", dns.TypeSOA, 900, []string{"ns-1.awsdns-01.com. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 300"}},
		{"_sip._tcp.example.com.", dns.TypeSRV, 600, []string{"10 20 5060 sip.example.com."}},
		{"naptr.example.com.", dns.TypeNAPTR, 600, []string{`100 50 "u" "E2U+sip" "!^.*$!sip:info@example.com!" .`}},
		{"child.example.com.", dns.TypeDS, 3600, []string{"12345 13 2 3B6E4F2ED6B0E4E02D5FA2D2B1E5B3C0A0F6D4C9B1C2D3E4F5A6B7C8D9E0F1A2"}},
		{"ptr.example.com.", dns.TypePTR, 600, []string{"host.example.com."}},
		{"www.example.com.", dns.TypeCNAME, 60, []string{"example.com."}},
		// A zone without an SOA record has Route 53's default.
		{"vprofile.in.", dns.TypeSOA, 900, []string{"ns-1536.awsdns-00.co.uk. awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"}},
	} {
		for _, net := range []string{"udp", "tcp"} {
			from := "vpc-a"
			if net == "tcp" {
				from += "/tcp"
			}
			m := exchange(t, net, srv[from], tc.name, tc.qtype)
			got := values(m, tc.qtype)
			if m.Rcode != dns.RcodeSuccess || !slices.Equal(got, tc.want) || len(m.Answer) != len(tc.want) {
				t.Errorf("%s %s %s = %q, want %q\n%v", net, tc.name, dns.TypeToString[tc.qtype], got, tc.want, m)
				continue
			}
			for _, rr := range m.Answer {
				if rr.Header().Ttl != tc.ttl || rr.Header().Name != tc.name {
					t.Errorf("%s %s %s: %v, want TTL %d", net, tc.name, dns.TypeToString[tc.qtype], rr, tc.ttl)
				}
			}
		}
	}
	m := exchange(t, "udp", srv["vpc-a"], "example.com.", dns.TypeANY)
	for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeMX, dns.TypeTXT, dns.TypeNS, dns.TypeSOA, dns.TypeCAA, dns.TypeSPF} {
		if len(values(m, qt)) == 0 {
			t.Errorf("ANY example.com has no %s: %v", dns.TypeToString[qt], m)
		}
	}
}

func TestZonesNegative(t *testing.T) {
	srv := zoneServers(t, newWorld(zoneWorld()))
	for _, tc := range []struct {
		from, name string
		qtype      uint16
		rcode      int
		soa        string
		soaTTL     uint32
	}{
		{"vpc-a", "nope.example.com.", dns.TypeA, dns.RcodeNameError, "example.com.", 300},             // min(900, minimum 300)
		{"vpc-a", "www.example.com.", dns.TypeSRV, dns.RcodeSuccess, "example.com.", 300},              // NODATA after the CNAME
		{"vpc-a", "example.com.", dns.TypeSRV, dns.RcodeSuccess, "example.com.", 300},                  // NODATA
		{"vpc-a", "ent.example.com.", dns.TypeA, dns.RcodeSuccess, "example.com.", 300},                // an empty non-terminal
		{"vpc-a", "db01.vprofile.in.", dns.TypeAAAA, dns.RcodeSuccess, "vprofile.in.", 900},            // the default SOA
		{"vpc-a", "x.exact.wild.example.com.", dns.TypeA, dns.RcodeNameError, "example.com.", 300},     // below an exact name: no wildcard
		{"vpc-a", "foo.wild.example.com.", dns.TypeAAAA, dns.RcodeSuccess, "example.com.", 300},        // the wildcard has no AAAA
		{"vpc-a", "geo.example.com.", dns.TypeAAAA, dns.RcodeSuccess, "example.com.", 300},             //
		{"vpc-a", "my-lb-1.ap-northeast-2.elb.amazonaws.com.", dns.TypeTXT, dns.RcodeSuccess, ".", 60}, // an AWS name
		{Internet, "nope.example.com.", dns.TypeA, dns.RcodeNameError, "example.com.", 300},
	} {
		m := exchange(t, "udp", srv[tc.from], tc.name, tc.qtype)
		wantAnswers := 0
		if tc.name == "www.example.com." {
			wantAnswers = 1 // the CNAME
		}
		if m.Rcode != tc.rcode || len(m.Answer) != wantAnswers || !hasSOA(m) || m.Ns[0].Header().Name != tc.soa || m.Ns[0].Header().Ttl != tc.soaTTL {
			t.Errorf("%q %s %s: want %s, %d answers, SOA %s TTL %d; got\n%v", tc.from, tc.name, dns.TypeToString[tc.qtype],
				dns.RcodeToString[tc.rcode], wantAnswers, tc.soa, tc.soaTTL, m)
		}
	}
}

func TestZonesCNAMEAndWildcard(t *testing.T) {
	srv := zoneServers(t, newWorld(zoneWorld()))
	type rr struct{ name, rdata string }
	for _, tc := range []struct {
		from, name string
		rcode      int
		want       []rr
	}{
		{"vpc-a", "www.example.com.", dns.RcodeSuccess, []rr{{"www.example.com.", "example.com."}, {"example.com.", "192.0.2.1"}}},
		{"vpc-a", "two.example.com.", dns.RcodeSuccess, []rr{{"two.example.com.", "www.example.com."}, {"www.example.com.", "example.com."}, {"example.com.", "192.0.2.1"}}},
		// Into the AWS names.
		{Internet, "lb.example.com.", dns.RcodeSuccess, []rr{{"lb.example.com.", "my-lb-1.ap-northeast-2.elb.amazonaws.com."},
			{"my-lb-1.ap-northeast-2.elb.amazonaws.com.", "198.18.4.1"}, {"my-lb-1.ap-northeast-2.elb.amazonaws.com.", "198.18.4.2"}}},
		// The target's rcode.
		{"vpc-a", "dangling.example.com.", dns.RcodeNameError, []rr{{"dangling.example.com.", "nothing.example.com."}}},
		{"vpc-a", "loop1.example.com.", dns.RcodeServerFailure, nil},
		// Wildcards: one label or more below, not where a name exists.
		{"vpc-a", "foo.wild.example.com.", dns.RcodeSuccess, []rr{{"foo.wild.example.com.", "192.0.2.50"}}},
		{"vpc-a", "a.b.c.wild.example.com.", dns.RcodeSuccess, []rr{{"a.b.c.wild.example.com.", "192.0.2.50"}}},
		{"vpc-a", "exact.wild.example.com.", dns.RcodeSuccess, []rr{{"exact.wild.example.com.", "192.0.2.51"}}},
		{"vpc-a", "*.wild.example.com.", dns.RcodeSuccess, []rr{{"*.wild.example.com.", "192.0.2.50"}}},
		{"vpc-a", "wild.example.com.", dns.RcodeSuccess, nil}, // an empty non-terminal
		{"vpc-a", "x.cn.example.com.", dns.RcodeSuccess, []rr{{"x.cn.example.com.", "example.com."}, {"example.com.", "192.0.2.1"}}},
	} {
		m := exchange(t, "udp", srv[tc.from], tc.name, dns.TypeA)
		var got []rr
		for _, a := range m.Answer {
			got = append(got, rr{a.Header().Name, rdata(a)})
		}
		if m.Rcode != tc.rcode || !slices.Equal(got, tc.want) {
			t.Errorf("%q %s = %s %q, want %s %q", tc.from, tc.name, dns.RcodeToString[m.Rcode], got, dns.RcodeToString[tc.rcode], tc.want)
		}
	}
}

func TestZonesAlias(t *testing.T) {
	srv := zoneServers(t, newWorld(zoneWorld()))
	for _, tc := range []struct {
		from, name string
		want       string
		ttl        uint32
	}{
		{"vpc-a", "alias.example.com.", "192.0.2.1", 300},               // another record: its TTL
		{Internet, "lbalias.example.com.", "198.18.4.1 198.18.4.2", 60}, // a load balancer (dualstack.)
		{"vpc-a", "dbalias.example.com.", "10.0.1.9", 300},              // a private record the asker sees
		{Internet, "dbalias.example.com.", "", 0},                       // ... and one it does not
		{"vpc-a", "ealias.example.com.", "192.0.2.1", 300},              // the primary's target has no address
		{"vpc-b", "ealias.example.com.", "192.0.2.1", 300},              //
		{"vpc-a", "lbalias.example.com.", "198.18.4.1 198.18.4.2", 60},
		{"vpc-c", "lbalias.example.com.", "", 0}, // vpc-c's private example.com
		{Internet, "my-lb-1.ap-northeast-2.elb.amazonaws.com.", "198.18.4.1 198.18.4.2", 60},
	} {
		m := exchange(t, "udp", srv[tc.from], tc.name, dns.TypeA)
		got := strings.Join(values(m, dns.TypeA), " ")
		if got != tc.want {
			t.Errorf("%q %s = %q, want %q\n%v", tc.from, tc.name, got, tc.want, m)
			continue
		}
		for _, a := range m.Answer {
			if a.Header().Ttl != tc.ttl || a.Header().Name != tc.name {
				t.Errorf("%q %s: %v, want TTL %d", tc.from, tc.name, a, tc.ttl)
			}
		}
	}
	// An alias of type A has no AAAA.
	if m := exchange(t, "udp", srv["vpc-a"], "alias.example.com.", dns.TypeAAAA); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 || !hasSOA(m) {
		t.Errorf("AAAA of an A alias: %v", m)
	}
}

// count asks name n times and counts the A answers' addresses.
func count(t *testing.T, server, name string, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		for _, v := range values(exchange(t, "udp", server, name, dns.TypeA), dns.TypeA) {
			got[v]++
		}
	}
	return got
}

func TestZonesWeighted(t *testing.T) {
	cur := newWorld(zoneWorld())
	srv := zoneServers(t, cur)
	const n = 2000
	got := count(t, srv["vpc-a"], "w.example.com.", n)
	if got["192.0.2.10"]+got["192.0.2.11"] != n || got["192.0.2.12"] != 0 {
		t.Fatalf("weighted: one answer each, never weight 0: %v", got)
	}
	if share := float64(got["192.0.2.10"]) / n; share < 0.65 || share > 0.75 {
		t.Errorf("weight 70 of 100 answered %.3f of %d: %v", share, n, got)
	}
	// All weights 0: each alike.
	got = count(t, srv["vpc-a"], "w0.example.com.", 400)
	if got["192.0.2.13"] < 120 || got["192.0.2.14"] < 120 {
		t.Errorf("weights all 0: %v", got)
	}
	// An unhealthy record is skipped; the weight-0 one answers only once
	// it is the last healthy one.
	w := zoneWorld()
	for _, r := range w.Zones[2].Records {
		if r.Name == "w.example.com" && r.SetID == "one" {
			r.HealthCheck, r.Healthy = "hc-w", false
		}
	}
	cur.Store(w)
	if got = count(t, srv["vpc-a"], "w.example.com.", 100); got["192.0.2.11"] != 100 {
		t.Errorf("weighted with the 70 unhealthy: %v", got)
	}
	w = zoneWorld()
	for _, r := range w.Zones[2].Records {
		if r.Name == "w.example.com" && r.SetID != "zero" {
			r.HealthCheck, r.Healthy = "hc-w", false
		}
	}
	cur.Store(w)
	if got = count(t, srv["vpc-a"], "w.example.com.", 50); got["192.0.2.12"] != 50 {
		t.Errorf("weighted with only the weight 0 healthy: %v", got)
	}
}

func TestZonesFailover(t *testing.T) {
	cur := newWorld(zoneWorld())
	srv := zoneServers(t, cur)
	set := func(primary, secondary bool) {
		w := zoneWorld()
		for _, r := range w.Zones[2].Records {
			if r.Name == "f.example.com" {
				r.HealthCheck = "hc-" + r.SetID
				r.Healthy = map[string]bool{"p": primary, "s": secondary}[r.SetID]
			}
		}
		cur.Store(w)
	}
	for _, tc := range []struct {
		primary, secondary bool
		want               string
	}{
		{true, true, "192.0.2.20"},
		{false, true, "192.0.2.21"},
		{true, false, "192.0.2.20"},
		{false, false, "192.0.2.20"}, // both unhealthy: the primary
		{true, true, "192.0.2.20"},
	} {
		set(tc.primary, tc.secondary)
		// The servers read every change at once: no restart, no cache.
		if got := count(t, srv["vpc-a"], "f.example.com.", 10); got[tc.want] != 10 {
			t.Errorf("primary healthy %v, secondary %v: %v, want %s", tc.primary, tc.secondary, got, tc.want)
		}
	}
}

func TestZonesMultiValue(t *testing.T) {
	srv := zoneServers(t, newWorld(zoneWorld()))
	seen := map[string]bool{}
	orders := map[string]bool{}
	for range 50 {
		got := values(exchange(t, "udp", srv["vpc-a"], "mv.example.com.", dns.TypeA), dns.TypeA)
		if len(got) != 8 {
			t.Fatalf("multivalue: %d records, want the 8 healthy: %v", len(got), got)
		}
		for _, v := range got {
			if v == "192.0.2.108" || v == "192.0.2.109" {
				t.Fatalf("an unhealthy record answered: %v", got)
			}
			seen[v] = true
		}
		orders[strings.Join(got, " ")] = true
	}
	if len(seen) != 8 || len(orders) < 10 {
		t.Errorf("multivalue: %d addresses in %d orders over 50 answers", len(seen), len(orders))
	}
}

func TestZonesLatencyAndGeo(t *testing.T) {
	srv := zoneServers(t, newWorld(zoneWorld()))
	for _, tc := range []struct{ from, name, want string }{
		{"vpc-a", "lat.example.com.", "192.0.2.30"},
		{"vpc-b", "lat.example.com.", "192.0.2.31"},
		{Internet, "lat.example.com.", "192.0.2.31"}, // the internet is taken to be in us-east-1
		// No record in the asker's region: the nearest region's.
		{"vpc-a", "lat2.example.com.", "192.0.2.33"},
		{"vpc-b", "lat2.example.com.", "192.0.2.32"},
		// Geolocation by the VPC's region: Seoul falls to the default,
		// Virginia has its own record, Ireland its continent's.
		{"vpc-a", "geo.example.com.", "192.0.2.41"},
		{"vpc-b", "geo.example.com.", "192.0.2.43"},
		{Internet, "geo.example.com.", "192.0.2.41"},
		// An unhealthy state gives way to its country; the continent
		// North America is not Namibia.
		{"vpc-b", "geo2.example.com.", "192.0.2.45"},
	} {
		if got := count(t, srv[tc.from], tc.name, 20); got[tc.want] != 20 {
			t.Errorf("%q %s = %v, want %s", tc.from, tc.name, got, tc.want)
		}
	}
	// No location covers Seoul and there is no default: no answer, and
	// the name exists (NODATA).
	m := exchange(t, "udp", srv["vpc-a"], "geo2.example.com.", dns.TypeA)
	if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 {
		t.Errorf("geo2 from Seoul: %v", m)
	}
}

func TestZonesEDNSAndTruncation(t *testing.T) {
	srv := zoneServers(t, newWorld(zoneWorld()))
	ask := func(net string, size uint16, version uint8) *dns.Msg {
		t.Helper()
		q := new(dns.Msg)
		q.SetQuestion("big.example.com.", dns.TypeTXT)
		if size > 0 {
			q.SetEdns0(size, false)
			q.IsEdns0().SetVersion(version)
		}
		server := srv["vpc-a"]
		if net == "tcp" {
			server = srv["vpc-a/tcp"]
		}
		m, _, err := (&dns.Client{Net: net, Timeout: 2 * time.Second, UDPSize: 65535}).Exchange(q, server)
		if err != nil {
			t.Fatalf("%s size %d: %v", net, size, err)
		}
		return m
	}
	wire := func(m *dns.Msg) int {
		m.Compress = true
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return len(b)
	}
	// Without EDNS, 512 bytes: truncated.
	m := ask("udp", 0, 0)
	if !m.Truncated || len(m.Answer) >= 30 || wire(m) > 512 || m.IsEdns0() != nil {
		t.Errorf("UDP without EDNS: TC %v, %d records, %d bytes", m.Truncated, len(m.Answer), wire(m))
	}
	// The client's size, within which the whole answer fits.
	m = ask("udp", 4096, 0)
	if m.Truncated || len(m.Answer) != 30 || m.IsEdns0() == nil || m.IsEdns0().UDPSize() != 4096 {
		t.Errorf("UDP with EDNS 4096: TC %v, %d records, OPT %v", m.Truncated, len(m.Answer), m.IsEdns0())
	}
	m = ask("udp", 1232, 0)
	if !m.Truncated || len(m.Answer) >= 30 || wire(m) > 1232 || m.IsEdns0() == nil {
		t.Errorf("UDP with EDNS 1232: TC %v, %d records, %d bytes", m.Truncated, len(m.Answer), wire(m))
	}
	// TCP answers whole.
	for _, size := range []uint16{0, 1232} {
		if m = ask("tcp", size, 0); m.Truncated || len(m.Answer) != 30 {
			t.Errorf("TCP (EDNS %d): TC %v, %d records", size, m.Truncated, len(m.Answer))
		}
	}
	// An EDNS version this server does not speak.
	if m = ask("udp", 1232, 1); m.Rcode != dns.RcodeBadVers || len(m.Answer) != 0 {
		t.Errorf("EDNS version 1: %s, %d records", dns.RcodeToString[m.Rcode], len(m.Answer))
	}
}

func TestLookupResolver(t *testing.T) {
	w := zoneWorld()
	current := func() *desired.World { return w }
	l := &Lookup{Names: Chain{WorldResolver{World: current}, NamesResolver{World: current}}, World: current}
	if got, ok := l.LookupA("vpc-a", "two.example.com."); !ok || !slices.Equal(got, []netip.Addr{addr("192.0.2.1")}) {
		t.Errorf("LookupA through CNAMEs = %v %v", got, ok)
	}
	if got, ok := l.LookupA("vpc-a", "db01.vprofile.in."); !ok || !slices.Equal(got, []netip.Addr{addr("10.0.1.9")}) {
		t.Errorf("LookupA private = %v %v", got, ok)
	}
	if got, ok := l.LookupA("vpc-b", "db01.vprofile.in."); ok {
		t.Errorf("LookupA private from another VPC = %v", got)
	}
	if got, ok := l.LookupPTR("vpc-a", addr("10.0.1.54")); !ok || got != "ip-10-0-1-54.ap-northeast-2.compute.internal." {
		t.Errorf("LookupPTR = %q %v", got, ok)
	}
}

func TestNewRecord(t *testing.T) {
	for _, tc := range []struct {
		t     uint16
		value string
		ok    bool
	}{
		{dns.TypeA, "192.0.2.1", true},
		{dns.TypeA, "2001:db8::1", false},
		{dns.TypeA, "192.0.2.1\n. IN A 192.0.2.2", false},
		{dns.TypeAAAA, "192.0.2.1", false},
		{dns.TypeMX, "10", false},
		{dns.TypeTXT, `"ok"`, true},
		{dns.TypeTXT, "", false},
		{dns.TypeCNAME, "; nothing", false},
		{dns.TypeOPT, "", false},
		{dns.TypeANY, "", false},
		{dns.TypeCAA, `0 issue "x"`, true},
	} {
		rr, err := NewRecord(tc.t, tc.value)
		if (err == nil) != tc.ok {
			t.Errorf("NewRecord(%s, %q) = %v, %v", dns.TypeToString[tc.t], tc.value, rr, err)
		}
	}
}

// TestAuthoritative: the public zones' name servers answer their zones'
// names with AA and without recursion (an alias resolved, NXDOMAIN with
// the SOA), refuse names outside every public zone (a private zone's, an
// AWS name) and resolve by their Route 53 names.
func TestAuthoritative(t *testing.T) {
	cur := newWorld(zoneWorld())
	current := func() *desired.World { return cur.Load() }
	ns := NameServers{"com": addr("198.18.0.20"), "co.uk": addr("198.18.0.23")}
	l := &Lookup{Names: Chain{WorldResolver{World: current}, NamesResolver{World: current}, ns}, World: current}
	srv, _ := serve(t, Authoritative, l)

	m := exchange(t, "udp", srv, "example.com.", dns.TypeA)
	if !m.Authoritative || m.RecursionAvailable || m.Rcode != dns.RcodeSuccess || !slices.Equal(values(m, dns.TypeA), []string{"192.0.2.1"}) {
		t.Errorf("example.com: %v", m)
	}
	if m := exchange(t, "udp", srv, "lbalias.example.com.", dns.TypeA); len(values(m, dns.TypeA)) != 2 || !m.Authoritative {
		t.Errorf("an alias to a load balancer: %v", m)
	}
	if m := exchange(t, "udp", srv, "nope.example.com.", dns.TypeA); m.Rcode != dns.RcodeNameError || !m.Authoritative || len(m.Ns) != 1 {
		t.Errorf("a name the zone lacks: %v", m)
	}
	for _, name := range []string{"db01.vprofile.in.", "my-lb-1.ap-northeast-2.elb.amazonaws.org.", "example.org."} {
		if m := exchange(t, "udp", srv, name, dns.TypeA); m.Rcode != dns.RcodeRefused || m.Authoritative {
			t.Errorf("%s: %v, want REFUSED", name, m)
		}
	}

	internet, _ := serve(t, Internet, l)
	for name, want := range map[string]string{"ns-1.awsdns-01.com.": "198.18.0.20", "NS-1536.awsdns-00.co.uk.": "198.18.0.23"} {
		if m := exchange(t, "udp", internet, name, dns.TypeA); !slices.Equal(values(m, dns.TypeA), []string{want}) {
			t.Errorf("%s: %v, want %s", name, m, want)
		}
	}
	if m := exchange(t, "udp", internet, "ns-1.awsdns-01.net.", dns.TypeA); m.Rcode != dns.RcodeNameError {
		t.Errorf("a name server of a domain without an address: %v", m)
	}
}

// lbHealth is ELB as a test sets it: one load balancer, healthy or not.
type lbHealth struct {
	name    string
	healthy atomic.Bool
}

func (h *lbHealth) NameHealthy(name string) (bool, bool) {
	if name != h.name {
		return false, false
	}
	return h.healthy.Load(), true
}

// TestAliasEvaluatesLoadBalancerHealth: a PRIMARY alias to a load
// balancer that evaluates target health gives way to the SECONDARY while
// the load balancer has no healthy target.
func TestAliasEvaluatesLoadBalancerHealth(t *testing.T) {
	w := zoneWorld()
	for _, z := range w.Zones {
		if z.ID == "ZPUB" {
			z.Records = append(z.Records,
				&desired.Record{Name: "site.example.com", Type: "A", AliasTarget: "dualstack.my-lb-1.ap-northeast-2.elb.amazonaws.com",
					EvaluateTargetHealth: true, SetID: "p", Failover: "PRIMARY"},
				&desired.Record{Name: "site.example.com", Type: "A", TTL: 60, Values: []string{"192.0.2.99"}, SetID: "s", Failover: "SECONDARY"})
		}
	}
	cur := newWorld(w)
	current := func() *desired.World { return cur.Load() }
	health := &lbHealth{name: "my-lb-1.ap-northeast-2.elb.amazonaws.com"}
	health.healthy.Store(true)
	l := &Lookup{Names: Chain{WorldResolver{World: current}, NamesResolver{World: current}}, World: current, Targets: health}
	srv, _ := serve(t, Internet, l)
	if got := values(exchange(t, "udp", srv, "site.example.com.", dns.TypeA), dns.TypeA); len(got) != 2 {
		t.Errorf("with healthy targets: %v, want the load balancer's two nodes", got)
	}
	health.healthy.Store(false)
	if got := values(exchange(t, "udp", srv, "site.example.com.", dns.TypeA), dns.TypeA); !slices.Equal(got, []string{"192.0.2.99"}) {
		t.Errorf("without healthy targets: %v, want the secondary", got)
	}
}

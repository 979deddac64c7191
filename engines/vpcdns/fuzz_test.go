package vpcdns

import (
	"net"
	"testing"

	"github.com/miekg/dns"

	"github.com/cloudbox/cloudbox/desired"
)

// FuzzZoneRecords builds zones from arbitrary record types, values and
// names, as the store may hold them, and answers arbitrary questions from
// them: nothing may panic, and every answer must pack.
func FuzzZoneRecords(f *testing.F) {
	f.Add("A", "192.0.2.1", "www.fuzz.test", "www.fuzz.test.", uint16(dns.TypeA), uint8(0))
	f.Add("TXT", `"v=spf1 -all" "x"`, "*.fuzz.test", "a.b.fuzz.test.", uint16(dns.TypeTXT), uint8(1))
	f.Add("CNAME", "www.fuzz.test.", "www.fuzz.test", "www.fuzz.test.", uint16(dns.TypeA), uint8(2))
	f.Add("MX", "10 mail.fuzz.test.", "fuzz.test", "fuzz.test.", uint16(dns.TypeANY), uint8(3))
	f.Add("SOA", "ns. host. 1 2 3 4 5", "fuzz.test", "nope.fuzz.test.", uint16(dns.TypeA), uint8(4))
	f.Add("NAPTR", `100 50 "u" "E2U+sip" "!^.*$!sip:x@y!" .`, "n.fuzz.test", "n.fuzz.test.", uint16(dns.TypeNAPTR), uint8(5))
	f.Add("DS", "1 13 2 ABCD", "c.fuzz.test", "c.fuzz.test.", uint16(dns.TypeDS), uint8(6))
	f.Add("CAA", `0 issue "amazon.com"`, "fuzz.test.", "FUZZ.test", uint16(dns.TypeCAA), uint8(7))
	f.Add("A", "1.2.3.4\n$INCLUDE /etc/passwd", "x.fuzz.test", "x.fuzz.test.", uint16(dns.TypeA), uint8(8))
	f.Fuzz(func(t *testing.T, typ, value, name, qname string, qtype uint16, policy uint8) {
		recs := []*desired.Record{
			{Name: name, Type: typ, TTL: 60, Values: []string{value, value}},
			{Name: "alias.fuzz.test", Type: typ, AliasTarget: name, EvaluateTargetHealth: true, SetID: "a", Failover: "PRIMARY"},
			{Name: "alias.fuzz.test", Type: typ, AliasTarget: value, SetID: "b", Failover: "SECONDARY"},
			{Name: "cname.fuzz.test", Type: "CNAME", TTL: 5, Values: []string{value}},
		}
		r := &desired.Record{Name: "*." + name, Type: typ, TTL: 7, Values: []string{value}, SetID: "p", HealthCheck: "hc", Healthy: policy&1 == 0}
		switch policy % 6 {
		case 1:
			w := int64(policy)
			r.Weight = &w
		case 2:
			r.Failover = "PRIMARY"
		case 3:
			r.MultiValue = true
		case 4:
			r.Region = "ap-northeast-2"
		case 5:
			r.GeoLocation = "*"
		}
		recs = append(recs, r, &desired.Record{Name: qname, Type: typ, Values: []string{value}, SetID: "q", Weight: r.Weight})
		w := &desired.World{
			VPCs: []*desired.VPC{{ID: "vpc-f", Region: "ap-northeast-2", DNSSupport: true}},
			Zones: []*desired.Zone{
				{Name: "fuzz.test", Private: true, VPCs: []string{"vpc-f"}, Records: recs},
				{Name: name, Records: recs},
				{Name: "fuzz.test", Records: []*desired.Record{{Name: "x.fuzz.test", Type: typ, Values: []string{value}}}},
			},
		}
		h := &handler{l: &Lookup{World: func() *desired.World { return w }}}
		for _, vpcID := range []string{"vpc-f", Internet} {
			h.vpcID = vpcID
			for _, q := range []struct {
				name string
				t    uint16
			}{{qname, qtype}, {qname, dns.TypeA}, {"alias.fuzz.test.", dns.StringToType[typ]}, {"cname.fuzz.test.", qtype}, {name, qtype}} {
				req := new(dns.Msg)
				req.SetQuestion(dns.Fqdn(q.name), q.t)
				if _, err := req.Pack(); err != nil {
					continue // not a question a client can send
				}
				w := &recorder{}
				h.ServeDNS(w, req)
				if w.msg == nil {
					t.Fatalf("%q %d: no answer", q.name, q.t)
				}
				if _, err := w.msg.Pack(); err != nil {
					t.Fatalf("%q %d: the answer does not pack: %v\n%v", q.name, q.t, err, w.msg)
				}
			}
		}
	})
}

// recorder is a dns.ResponseWriter over UDP that keeps the first message
// written.
type recorder struct {
	dns.ResponseWriter
	msg *dns.Msg
}

func (r *recorder) RemoteAddr() net.Addr { return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53} }

func (r *recorder) WriteMsg(m *dns.Msg) error {
	if r.msg == nil {
		r.msg = m
	}
	_, err := m.Pack()
	return err
}

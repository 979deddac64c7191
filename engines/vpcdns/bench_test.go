package vpcdns

import (
	"fmt"
	"testing"

	"github.com/miekg/dns"

	"github.com/cloudbox/cloudbox/desired"
)

// BenchmarkAnswer is one question's reply, built and packed, from a VPC
// whose private zone holds n A records (the route53-dns bench's shape):
// the answer's cost must not grow with the zone.
func BenchmarkAnswer(b *testing.B) {
	for _, n := range []int{10, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			z := &desired.Zone{ID: "Z1", Name: "bench.internal", Private: true, VPCs: []string{"vpc-a"}}
			for i := range n {
				z.Records = append(z.Records, rec(fmt.Sprintf("r%d.bench.internal", i), "A", 300, fmt.Sprintf("10.1.%d.%d", i/250, i%250+1)))
			}
			w := &desired.World{VPCs: []*desired.VPC{{ID: "vpc-a", Region: "us-east-1", DNSSupport: true}}, Zones: []*desired.Zone{z}}
			current := func() *desired.World { return w }
			h := &handler{vpcID: "vpc-a", l: &Lookup{Names: Chain{WorldResolver{World: current}, NamesResolver{World: current}}, World: current}}
			req := new(dns.Msg)
			buf := make([]byte, 512)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				req.SetQuestion(fmt.Sprintf("r%d.bench.internal.", i%n), dns.TypeA)
				m := h.answer(req)
				if len(m.Answer) != 1 {
					b.Fatalf("answer %v", m)
				}
				if _, err := m.PackBuffer(buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

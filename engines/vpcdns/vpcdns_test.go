package vpcdns

import (
	"context"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/cloudbox/cloudbox/desired"
)

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func vpc(id, region, cidr string, support, hostnames bool, priv, pub string) *desired.VPC {
	return &desired.VPC{
		ID: id, Region: region, CIDRs: []netip.Prefix{netip.MustParsePrefix(cidr)},
		DNSSupport: support, DNSHostnames: hostnames,
		ENIs: []*desired.ENI{{
			ID: "eni-" + id, PrivateIPs: []netip.Addr{addr(priv)},
			PublicIPs: map[netip.Addr]netip.Addr{addr(priv): addr(pub)},
		}},
	}
}

var world = &desired.World{VPCs: []*desired.VPC{
	vpc("vpc-a", "ap-northeast-2", "10.0.0.0/16", true, true, "10.0.1.54", "198.18.3.4"),
	vpc("vpc-b", "us-east-1", "10.1.0.0/16", true, true, "10.1.0.10", "198.18.5.6"),
	vpc("vpc-c", "ap-northeast-2", "10.2.0.0/16", true, false, "10.2.0.5", "198.18.7.8"),
	vpc("vpc-d", "ap-northeast-2", "10.3.0.0/16", false, true, "10.3.0.5", "198.18.9.9"),
}}

func TestWorldResolverA(t *testing.T) {
	wr := WorldResolver{World: func() *desired.World { return world }}
	for _, tc := range []struct {
		vpc, name string
		want      string // "" means unknown
	}{
		{"vpc-a", "ip-10-0-1-54.ap-northeast-2.compute.internal.", "10.0.1.54"},
		{"vpc-a", "ip-10-0-9-9.ap-northeast-2.compute.internal.", "10.0.9.9"}, // any address of the VPC
		{"vpc-a", "ip-10-1-0-10.ap-northeast-2.compute.internal.", ""},        // not in this VPC
		{"vpc-a", "ip-10-0-1-54.us-east-1.compute.internal.", ""},             // wrong region
		{"vpc-a", "ip-10-0-1-054.ap-northeast-2.compute.internal.", ""},
		{"vpc-b", "ip-10-1-0-10.ec2.internal.", "10.1.0.10"},
		{"vpc-b", "ip-10-1-0-10.us-east-1.compute.internal.", ""},
		// Split horizon: the owning VPC sees the private address.
		{"vpc-a", "ec2-198-18-3-4.ap-northeast-2.compute.amazonaws.com.", "10.0.1.54"},
		{"vpc-b", "ec2-198-18-3-4.ap-northeast-2.compute.amazonaws.com.", "198.18.3.4"},
		{"vpc-a", "ec2-198-18-5-6.compute-1.amazonaws.com.", "198.18.5.6"},
		{"vpc-b", "ec2-198-18-5-6.compute-1.amazonaws.com.", "10.1.0.10"},
		{"vpc-a", "ec2-198-18-5-6.us-east-1.compute.amazonaws.com.", ""},
		{"vpc-a", "ec2-198-18-3-4.eu-west-1.compute.amazonaws.com.", ""},
		{"vpc-a", "ec2-198-18-7-8.ap-northeast-2.compute.amazonaws.com.", ""}, // owner has no DNS hostnames
		{"vpc-c", "ec2-198-18-7-8.ap-northeast-2.compute.amazonaws.com.", ""},
		{"vpc-c", "ip-10-2-0-5.ap-northeast-2.compute.internal.", "10.2.0.5"}, // private names need only DNS support
		{"vpc-a", "ec2-198-18-100-1.ap-northeast-2.compute.amazonaws.com.", ""},
		{"vpc-d", "ip-10-3-0-5.ap-northeast-2.compute.internal.", ""}, // no DNS support
		{"vpc-x", "ip-10-0-1-54.ap-northeast-2.compute.internal.", ""},
		{"vpc-a", "example.com.", ""},
	} {
		got, ok := wr.LookupA(tc.vpc, tc.name)
		switch {
		case tc.want == "" && ok:
			t.Errorf("%s %s = %v, want unknown", tc.vpc, tc.name, got)
		case tc.want != "" && (!ok || !slices.Equal(got, []netip.Addr{addr(tc.want)})):
			t.Errorf("%s %s = %v %v, want %s", tc.vpc, tc.name, got, ok, tc.want)
		}
	}
}

func TestWorldResolverPTR(t *testing.T) {
	wr := WorldResolver{World: func() *desired.World { return world }}
	for _, tc := range []struct {
		vpc, ip, want string
	}{
		{"vpc-a", "10.0.1.54", "ip-10-0-1-54.ap-northeast-2.compute.internal."},
		{"vpc-b", "10.1.0.10", "ip-10-1-0-10.ec2.internal."},
		{"vpc-a", "10.1.0.10", ""},
		{"vpc-a", "198.18.5.6", "ec2-198-18-5-6.compute-1.amazonaws.com."},
		{"vpc-a", "198.18.7.8", ""},
		{"vpc-d", "10.3.0.5", ""},
	} {
		got, ok := wr.LookupPTR(tc.vpc, addr(tc.ip))
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%s PTR %s = %q %v, want %q", tc.vpc, tc.ip, got, ok, tc.want)
		}
	}
}

// static knows fixed names, standing for a private hosted zone.
type static map[string][]netip.Addr

func (s static) LookupA(_, name string) ([]netip.Addr, bool) { a, ok := s[name]; return a, ok }
func (s static) LookupPTR(string, netip.Addr) (string, bool) { return "", false }

// start runs Serve for vpc-a on loopback until the test ends, and returns
// its UDP and TCP addresses.
func start(t *testing.T, r Resolver) (udpAddr, tcpAddr string) {
	t.Helper()
	return serve(t, "vpc-a", r)
}

// serve runs Serve for vpcID on loopback until the test ends, and returns
// its UDP and TCP addresses.
func serve(t *testing.T, vpcID string, r Resolver) (udpAddr, tcpAddr string) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, vpcID, r, pc, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after cancel")
		}
	})
	return pc.LocalAddr().String(), ln.Addr().String()
}

func exchange(t *testing.T, net, server, name string, qtype uint16) *dns.Msg {
	t.Helper()
	c := &dns.Client{Net: net, Timeout: 2 * time.Second}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	r, _, err := c.Exchange(m, server)
	if err != nil {
		t.Fatalf("%s %s %s: %v", net, name, dns.TypeToString[qtype], err)
	}
	return r
}

func TestServe(t *testing.T) {
	r := Chain{
		static{"db.corp.internal.": {addr("10.0.2.20")}, "ip-10-0-1-54.ap-northeast-2.compute.internal.": {addr("10.0.0.1")}},
		WorldResolver{World: func() *desired.World { return world }},
	}
	udp, tcp := start(t, r)
	for _, srv := range []struct{ net, addr string }{{"udp", udp}, {"tcp", tcp}} {
		t.Run(srv.net, func(t *testing.T) {
			ask := func(name string, qtype uint16) *dns.Msg { return exchange(t, srv.net, srv.addr, name, qtype) }

			m := ask("ec2-198-18-3-4.ap-northeast-2.compute.amazonaws.com.", dns.TypeA)
			if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 1 || !m.RecursionAvailable {
				t.Fatalf("A public name: %v", m)
			}
			if a := m.Answer[0].(*dns.A); a.A.String() != "10.0.1.54" || a.Hdr.Ttl != 60 {
				t.Errorf("A public name = %v", a)
			}
			// Names are case-insensitive; the answer keeps the asked case.
			m = ask("DB.Corp.Internal.", dns.TypeA)
			if len(m.Answer) != 1 || m.Answer[0].Header().Name != "DB.Corp.Internal." || m.Answer[0].(*dns.A).A.String() != "10.0.2.20" {
				t.Errorf("A mixed case: %v", m)
			}
			// The first resolver of the chain wins.
			m = ask("ip-10-0-1-54.ap-northeast-2.compute.internal.", dns.TypeA)
			if len(m.Answer) != 1 || m.Answer[0].(*dns.A).A.String() != "10.0.0.1" {
				t.Errorf("A chain order: %v", m)
			}
			for _, qt := range []uint16{dns.TypeAAAA, dns.TypeMX, dns.TypeTXT} {
				m = ask("db.corp.internal.", qt)
				if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 || !hasSOA(m) {
					t.Errorf("%s known name: want empty NOERROR with SOA, got %v", dns.TypeToString[qt], m)
				}
			}
			for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
				m = ask("www.example.com.", qt)
				if m.Rcode != dns.RcodeNameError || len(m.Answer) != 0 || !hasSOA(m) {
					t.Errorf("%s unknown name: want NXDOMAIN with SOA, got %v", dns.TypeToString[qt], m)
				}
			}
			m = ask("54.1.0.10.in-addr.arpa.", dns.TypePTR)
			if len(m.Answer) != 1 || m.Answer[0].(*dns.PTR).Ptr != "ip-10-0-1-54.ap-northeast-2.compute.internal." {
				t.Errorf("PTR: %v", m)
			}
			if m = ask("1.2.3.4.in-addr.arpa.", dns.TypePTR); m.Rcode != dns.RcodeNameError {
				t.Errorf("PTR unknown: %v", m)
			}
			if m = ask("54.1.0.10.in-addr.arpa.", dns.TypeA); m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 {
				t.Errorf("A of a reverse name: %v", m)
			}
			if m = ask("db.corp.internal.", dns.TypeAXFR); m.Rcode != dns.RcodeRefused {
				t.Errorf("AXFR: %v", m)
			}
		})
	}

	q := new(dns.Msg)
	q.SetQuestion("version.bind.", dns.TypeTXT)
	q.Question[0].Qclass = dns.ClassCHAOS
	if m, _, err := new(dns.Client).Exchange(q, udp); err != nil || m.Rcode != dns.RcodeRefused {
		t.Errorf("CHAOS: %v %v", m, err)
	}
}

func hasSOA(m *dns.Msg) bool {
	return len(m.Ns) == 1 && m.Ns[0].Header().Rrtype == dns.TypeSOA
}

// TestServeSocketsClosed checks that Serve returns once both sockets are
// closed by their owner.
func TestServeSocketsClosed(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- Serve(context.Background(), "vpc-a", static{}, pc, ln) }()
	// The server answers before the sockets close.
	if m := exchange(t, "udp", pc.LocalAddr().String(), "x.", dns.TypeA); m.Rcode != dns.RcodeNameError {
		t.Fatalf("before close: %v", m)
	}
	pc.Close()
	ln.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after its sockets closed")
	}
}

func TestInternetView(t *testing.T) {
	w := &desired.World{VPCs: []*desired.VPC{{
		ID: "vpc-1", Region: "ap-northeast-2", DNSSupport: true, DNSHostnames: true,
		CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")},
		ENIs: []*desired.ENI{{ID: "eni-1", PrivateIPs: []netip.Addr{netip.MustParseAddr("10.0.1.5")},
			PublicIPs: map[netip.Addr]netip.Addr{netip.MustParseAddr("10.0.1.5"): netip.MustParseAddr("198.18.7.9")}}},
	}}}
	r := WorldResolver{World: func() *desired.World { return w }}
	got, ok := r.LookupA(Internet, "ec2-198-18-7-9.ap-northeast-2.compute.amazonaws.com.")
	if !ok || len(got) != 1 || got[0] != netip.MustParseAddr("198.18.7.9") {
		t.Errorf("public name from the internet = %v, %v", got, ok)
	}
	if got, ok := r.LookupA(Internet, "ip-10-0-1-5.ap-northeast-2.compute.internal."); ok {
		t.Errorf("a private name resolved on the internet: %v", got)
	}
	if name, ok := r.LookupPTR(Internet, netip.MustParseAddr("198.18.7.9")); !ok || name != "ec2-198-18-7-9.ap-northeast-2.compute.amazonaws.com." {
		t.Errorf("PTR of a public address = %q, %v", name, ok)
	}
}

package network

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/cloudbox/cloudbox/ca"
	"github.com/cloudbox/cloudbox/controllers/vpc"
	netns "github.com/cloudbox/cloudbox/dataplane/network"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/engines/endpoints"
	"github.com/cloudbox/cloudbox/engines/vpcdns"
)

func world(records ...*desired.Record) *desired.World {
	return &desired.World{
		VPCs: []*desired.VPC{
			{ID: "vpc-1", Account: "111111111111", Region: "ap-northeast-2", DNSSupport: true, DNSHostnames: true,
				CIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/16")}},
			{ID: "vpc-2", Account: "111111111111", Region: "ap-northeast-2", DNSSupport: true, DNSHostnames: true,
				CIDRs: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}},
		},
		Zones: []*desired.Zone{
			{ID: "Z1", Name: "vprofile.in", Private: true, VPCs: []string{"vpc-1"}, Records: records},
			{ID: "Z2", Name: "example.com", Records: []*desired.Record{{Name: "www.example.com", Type: "A", TTL: 300, Values: []string{"192.0.2.7"}}}},
		},
	}
}

// ask sends one question over TCP to the DNS server at addr inside the
// fake namespace ns.
func ask(t *testing.T, k *netns.Fake, ns string, addr netip.Addr, name string) *dns.Msg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := k.DialTCP(ctx, ns, netip.AddrPortFrom(addr, 53))
	if err != nil {
		t.Fatalf("dial %s in %s: %v", addr, ns, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	q := new(dns.Msg)
	q.SetQuestion(name, dns.TypeA)
	m, _, err := (&dns.Client{Net: "tcp"}).ExchangeWithConn(q, &dns.Conn{Conn: conn})
	if err != nil {
		t.Fatalf("%s from %s: %v", name, ns, err)
	}
	return m
}

func addrs(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		if a, ok := rr.(*dns.A); ok {
			out = append(out, a.A.String())
		}
	}
	return out
}

// TestZonesAnsweredFromTheSnapshot checks that the VPCs' and the
// internet's DNS servers answer the zones of the latest snapshot, each
// question afresh: a record added after the servers started answers at
// once, without a sync.
func TestZonesAnsweredFromTheSnapshot(t *testing.T) {
	k, err := netns.NewFake("nettest")
	if err != nil {
		t.Fatal(err)
	}
	var cur atomic.Pointer[desired.World]
	cur.Store(world(&desired.Record{Name: "db01.vprofile.in", Type: "A", TTL: 300, Values: []string{"10.0.1.9"}}))
	c := New(Config{Kernel: k, Names: vpcdns.Static{"deb.debian.org": {vpc.MirrorAddr}}, Desired: cur.Load,
		InternetResolv: filepath.Join(t.TempDir(), "resolv.conf"), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	t.Cleanup(func() { c.Close() })
	if err := c.Sync(context.Background(), cur.Load()); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	dns1 := desired.DNSServer(netip.MustParsePrefix("10.0.0.0/16"))
	dns2 := desired.DNSServer(netip.MustParsePrefix("10.1.0.0/16"))

	if m := ask(t, k, vpc.RouterNS("vpc-1"), dns1, "db01.vprofile.in."); !slices.Equal(addrs(m), []string{"10.0.1.9"}) {
		t.Errorf("vpc-1 db01: %v", m)
	}
	// 169.254.169.253 is each VPC's resolver too.
	if m := ask(t, k, vpc.RouterNS("vpc-1"), vpc.DNSLinkLocal, "db01.vprofile.in."); !slices.Equal(addrs(m), []string{"10.0.1.9"}) {
		t.Errorf("vpc-1 db01 at 169.254.169.253: %v", m)
	}
	if m := ask(t, k, vpc.RouterNS("vpc-2"), vpc.DNSLinkLocal, "db01.vprofile.in."); m.Rcode != dns.RcodeNameError {
		t.Errorf("vpc-2 sees vpc-1's private zone at 169.254.169.253: %v", m)
	}
	for _, tc := range []struct {
		ns   string
		addr netip.Addr
	}{{vpc.RouterNS("vpc-2"), dns2}, {vpc.InternetNS, vpc.EchoAddr}} {
		if m := ask(t, k, tc.ns, tc.addr, "db01.vprofile.in."); m.Rcode != dns.RcodeNameError {
			t.Errorf("%s sees the private zone: %v", tc.ns, m)
		}
		if m := ask(t, k, tc.ns, tc.addr, "www.example.com."); !slices.Equal(addrs(m), []string{"192.0.2.7"}) {
			t.Errorf("%s www.example.com: %v", tc.ns, m)
		}
		if m := ask(t, k, tc.ns, tc.addr, "deb.debian.org."); !slices.Equal(addrs(m), []string{vpc.MirrorAddr.String()}) {
			t.Errorf("%s the AWS names: %v", tc.ns, m)
		}
	}

	// A new record answers at once, without a sync or a restart.
	if m := ask(t, k, vpc.RouterNS("vpc-1"), dns1, "mc01.vprofile.in."); m.Rcode != dns.RcodeNameError {
		t.Errorf("mc01 before it exists: %v", m)
	}
	cur.Store(world(
		&desired.Record{Name: "db01.vprofile.in", Type: "A", TTL: 300, Values: []string{"10.0.1.9"}},
		&desired.Record{Name: "mc01.vprofile.in", Type: "A", TTL: 300, Values: []string{"10.0.1.10"}},
	))
	if m := ask(t, k, vpc.RouterNS("vpc-1"), dns1, "mc01.vprofile.in."); !slices.Equal(addrs(m), []string{"10.0.1.10"}) {
		t.Errorf("mc01 once added: %v", m)
	}
}

// TestEndpoints serves an API handler as AWS's endpoints: their names
// resolve on the internet and in a VPC to EndpointAddr, where HTTPS
// answers with a certificate of the name asked that the CA verifies, and
// the handler sees the Host as sent.
func TestEndpoints(t *testing.T) {
	k, err := netns.NewFake("nettest")
	if err != nil {
		t.Fatal(err)
	}
	authority, err := ca.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var cur atomic.Pointer[desired.World]
	cur.Store(world())
	var names vpcdns.Chain
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Host) })
	c := New(Config{Kernel: k, Names: &names, Desired: cur.Load, InternetResolv: filepath.Join(t.TempDir(), "resolv.conf"),
		API: api, Certs: endpoints.NewCerts(authority), EndpointPrefixes: []string{"sts", "ec2", "s3"},
		Log: slog.New(slog.DiscardHandler)})
	names = append(names, c.Names())
	t.Cleanup(func() { c.Close() })
	if err := c.Sync(context.Background(), cur.Load()); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	dns1 := desired.DNSServer(netip.MustParsePrefix("10.0.0.0/16"))
	for _, name := range []string{"sts.amazonaws.com.", "ec2.ap-northeast-2.amazonaws.com.", "my-bucket.s3.amazonaws.com."} {
		if m := ask(t, k, vpc.RouterNS("vpc-1"), dns1, name); !slices.Equal(addrs(m), []string{vpc.EndpointAddr.String()}) {
			t.Errorf("vpc-1 %s: %v", name, m)
		}
		if m := ask(t, k, vpc.InternetNS, vpc.EchoAddr, name); !slices.Equal(addrs(m), []string{vpc.EndpointAddr.String()}) {
			t.Errorf("internet %s: %v", name, m)
		}
	}
	if m := ask(t, k, vpc.InternetNS, vpc.EchoAddr, "lambda.us-east-1.amazonaws.com."); m.Rcode != dns.RcodeNameError {
		t.Errorf("a service cloudbox does not serve resolved: %v", m)
	}

	roots := x509.NewCertPool()
	roots.AddCert(authority.Certificate())
	get := func(url string, port uint16) (string, error) {
		client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				return k.DialTCP(ctx, vpc.InternetNS, netip.AddrPortFrom(vpc.EndpointAddr, port))
			},
			TLSClientConfig: &tls.Config{RootCAs: roots},
		}}
		resp, err := client.Get(url)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	for _, tc := range []struct {
		scheme, host string
		port         uint16
	}{{"https", "sts.amazonaws.com", 443}, {"http", "my-bucket.s3.amazonaws.com", 80}} {
		if got, err := get(tc.scheme+"://"+tc.host+"/", tc.port); err != nil || got != tc.host {
			t.Errorf("%s://%s/: %q, %v", tc.scheme, tc.host, got, err)
		}
	}
}

package loadbalancers

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"sync"
	"testing"

	"github.com/cloudbox/cloudbox/controllers/vpc"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/engines/edge"
)

// internet answers every connection to the internet's namespace with
// the address dialled and the Host it was asked for.
type internet struct{}

func (internet) ListenTCP(string, netip.AddrPort) (net.Listener, error) {
	return nil, errors.New("no listeners here")
}

func (internet) DialTCP(_ context.Context, ns string, addr netip.AddrPort) (net.Conn, error) {
	if ns != vpc.InternetNS {
		return nil, fmt.Errorf("dialled from %s", ns)
	}
	client, server := net.Pipe()
	go func() {
		defer server.Close()
		req, err := http.ReadRequest(bufio.NewReader(server))
		if err != nil {
			return
		}
		body := addr.String() + " " + req.Host
		fmt.Fprintf(server, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s", len(body), body)
	}()
	return client, nil
}

func world() *desired.World {
	return &desired.World{LoadBalancers: []*desired.LoadBalancer{
		{Name: "pub", DNSName: "pub-1.us-east-1.elb.amazonaws.com", Scheme: "internet-facing", Nodes: []*desired.LBNode{
			{ENI: "eni-1", PrivateIP: netip.MustParseAddr("10.0.1.5"), PublicIP: netip.MustParseAddr("198.18.1.5")},
			{ENI: "eni-2", PrivateIP: netip.MustParseAddr("10.0.2.5"), PublicIP: netip.MustParseAddr("198.18.2.5")},
		}},
		{Name: "int", DNSName: "internal-int-2.us-east-1.elb.amazonaws.com", Scheme: "internal", Nodes: []*desired.LBNode{
			{ENI: "eni-3", PrivateIP: netip.MustParseAddr("10.0.1.6")},
		}},
	}}
}

// TestEdge: the controller claims *.elb.amazonaws.com; an internet-facing
// load balancer is reached through the internet's namespace, at its
// nodes' public addresses in turn, with the Host the client gave.
func TestEdge(t *testing.T) {
	tb := edge.New()
	c := New(Config{Namespaces: internet{}, Desired: world, Edge: tb, TimeScale: 1, Log: slog.New(slog.DiscardHandler)})
	h := tb.Handler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "api") }))
	get := func(host string) (int, string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Code, rec.Body.String()
	}
	seen := map[string]bool{}
	for range 4 {
		code, body := get("pub-1.us-east-1.elb.amazonaws.com:4566")
		if code != 200 {
			t.Fatalf("through the edge: %d %s", code, body)
		}
		seen[body] = true
	}
	if !seen["198.18.1.5:80 pub-1.us-east-1.elb.amazonaws.com"] || !seen["198.18.2.5:80 pub-1.us-east-1.elb.amazonaws.com"] || len(seen) != 2 {
		t.Errorf("the edge reached %v, want both nodes' public addresses in turn", seen)
	}
	if code, _ := get("internal-int-2.us-east-1.elb.amazonaws.com"); code != http.StatusBadGateway {
		t.Errorf("an internal load balancer at the edge: %d", code)
	}
	if code, _ := get("nobody.us-east-1.elb.amazonaws.com"); code != http.StatusNotFound {
		t.Errorf("an unknown load balancer at the edge: %d", code)
	}
	c.Close()
	if _, body := get("pub-1.us-east-1.elb.amazonaws.com"); body != "api" {
		t.Errorf("after Close the edge still claims the load balancers' names")
	}
}

// reports records what ELB is told.
type reports struct {
	mu  sync.Mutex
	got []string
}

func (r *reports) ReportHealth(_, _, tg, target string, port int, healthy bool, reason, _ string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, fmt.Sprintf("%s %s:%d %v %s", tg, target, port, healthy, reason))
	return nil
}

// TestHealth: a target is healthy when every node checking it says so,
// and ELB hears only of changes.
func TestHealth(t *testing.T) {
	elb := &reports{}
	c := New(Config{Namespaces: internet{}, Desired: world, ELB: elb, TimeScale: 1, Log: slog.New(slog.DiscardHandler)})
	k := healthKey{"tg", "i-1", 80}
	c.nodeHealth("a", "r", "lb", "eni-1", k, nodeHealth{healthy: true})
	c.nodeHealth("a", "r", "lb", "eni-2", k, nodeHealth{healthy: true})
	c.nodeHealth("a", "r", "lb", "eni-2", k, nodeHealth{healthy: false, reason: "Target.Timeout"})
	c.nodeHealth("a", "r", "lb", "eni-1", k, nodeHealth{healthy: false, reason: "Target.Timeout"})
	c.nodeHealth("a", "r", "lb", "eni-2", k, nodeHealth{healthy: true})
	c.nodeHealth("a", "r", "lb", "eni-1", k, nodeHealth{healthy: true})
	want := []string{"tg i-1:80 true ", "tg i-1:80 false Target.Timeout", "tg i-1:80 true "}
	if !slices.Equal(elb.got, want) {
		t.Errorf("reported %q, want %q", elb.got, want)
	}
}

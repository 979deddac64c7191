package healthchecks

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/engines/vpcdns"
)

// loopback dials on the host's loopback: the tests' endpoints are local
// servers, not the simulated internet.
type loopback struct{}

func (loopback) DialTCP(ctx context.Context, _ string, addr netip.AddrPort) (net.Conn, error) {
	var d net.Dialer
	return d.DialContext(ctx, "tcp", addr.String())
}

type report struct {
	id      string
	healthy bool
	reason  string
}

// reports keeps each check's reports in order.
type reports struct {
	mu   sync.Mutex
	cond *sync.Cond
	byID map[string][]report
}

func (r *reports) ReportHealthCheck(_, id string, healthy bool, reason string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.byID[id] = append(r.byID[id], report{id, healthy, reason})
	r.cond.Broadcast()
	return nil
}

// next returns id's next report, waiting up to 10 s for it.
func (r *reports) next(t *testing.T, id string) report {
	t.Helper()
	deadline := time.AfterFunc(10*time.Second, func() { r.mu.Lock(); r.cond.Broadcast(); r.mu.Unlock() })
	defer deadline.Stop()
	start := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for len(r.byID[id]) == 0 {
		if time.Since(start) >= 10*time.Second {
			t.Fatalf("no report of %s", id)
		}
		r.cond.Wait()
	}
	rep := r.byID[id][0]
	r.byID[id] = r.byID[id][1:]
	return rep
}

func newController(t *testing.T, names vpcdns.Resolver) (*Controller, *reports) {
	rep := &reports{byID: map[string][]report{}}
	rep.cond = sync.NewCond(&rep.mu)
	c := New(Config{Dialer: loopback{}, Names: names, Reports: rep, TimeScale: 200, Log: slog.New(slog.DiscardHandler)})
	t.Cleanup(func() { c.Close() })
	return c, rep
}

func hostPort(t *testing.T, url string) (string, int) {
	ap := netip.MustParseAddrPort(strings.TrimPrefix(url, "http://"))
	return ap.Addr().String(), int(ap.Port())
}

// An HTTP check is healthy on 2xx, turns unhealthy only after
// FailureThreshold failures in a row, and back after as many successes.
func TestHTTPCheckThreshold(t *testing.T) {
	var failing atomic.Bool
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path != "/health" || !strings.HasPrefix(r.UserAgent(), "Amazon-Route53-Health-Check-Service") {
			w.WriteHeader(404)
			return
		}
		if failing.Load() {
			w.WriteHeader(503)
			return
		}
		io.WriteString(w, "all good")
	}))
	defer srv.Close()
	ip, port := hostPort(t, srv.URL)
	c, rep := newController(t, vpcdns.Static{})
	hc := &desired.DNSHealthCheck{ID: "hc-1", Account: "1", Type: "HTTP_STR_MATCH", IP: ip, Port: port, ResourcePath: "/health", SearchString: "good",
		RequestInterval: 10, FailureThreshold: 3}
	if err := c.Sync(context.Background(), &desired.World{HealthChecks: []*desired.DNSHealthCheck{hc}}); err != nil {
		t.Fatal(err)
	}
	if r := rep.next(t, "hc-1"); !r.healthy || r.reason != "Success: HTTP Status Code 200, OK" {
		t.Fatalf("first report: %+v", r)
	}
	before := hits.Load()
	failing.Store(true)
	r := rep.next(t, "hc-1")
	if r.healthy || r.reason != "Failure: HTTP Status Code 503, Service Unavailable" {
		t.Fatalf("after failures: %+v", r)
	}
	if n := hits.Load() - before; n < 3 {
		t.Errorf("unhealthy after %d failed checks, threshold 3", n)
	}
	failing.Store(false)
	if r := rep.next(t, "hc-1"); !r.healthy {
		t.Fatalf("after recovery: %+v", r)
	}
}

// TCP checks connect; an inverted check reports the opposite; an FQDN is
// resolved as the internet resolves it; a CALCULATED check counts its
// children; a removed check stops.
func TestTCPInvertedCalculated(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	ap := netip.MustParseAddrPort(ln.Addr().String())
	closed, _ := net.Listen("tcp", "127.0.0.1:0")
	deadPort := netip.MustParseAddrPort(closed.Addr().String()).Port()
	closed.Close()
	names := vpcdns.Static{"db.example.com": {ap.Addr()}}
	c, rep := newController(t, names)
	w := &desired.World{HealthChecks: []*desired.DNSHealthCheck{
		{ID: "up", Type: "TCP", FQDN: "db.example.com", Port: int(ap.Port()), RequestInterval: 10, FailureThreshold: 1},
		{ID: "down", Type: "TCP", IP: "127.0.0.1", Port: int(deadPort), RequestInterval: 10, FailureThreshold: 1},
		{ID: "inverted", Type: "TCP", IP: "127.0.0.1", Port: int(deadPort), Inverted: true, RequestInterval: 10, FailureThreshold: 1},
		{ID: "calc", Type: "CALCULATED", ChildHealthChecks: []string{"up", "down", "inverted"}, HealthThreshold: 2, RequestInterval: 10, FailureThreshold: 1},
	}}
	if err := c.Sync(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	if r := rep.next(t, "up"); !r.healthy || r.reason != "Success: TCP connection established" {
		t.Errorf("up: %+v", r)
	}
	if r := rep.next(t, "down"); r.healthy || !strings.HasPrefix(r.reason, "Failure: Connection refused") {
		t.Errorf("down: %+v", r)
	}
	if r := rep.next(t, "inverted"); !r.healthy {
		t.Errorf("inverted: %+v", r)
	}
	// The calculated check may first run before its children reported.
	deadline := time.Now().Add(10 * time.Second)
	for r := rep.next(t, "calc"); !r.healthy; r = rep.next(t, "calc") {
		if time.Now().After(deadline) {
			t.Fatalf("calc never healthy: %+v", r)
		}
	}
	if err := c.Sync(context.Background(), &desired.World{}); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	n := len(c.running)
	c.mu.Unlock()
	if n != 0 {
		t.Errorf("%d checkers still run after their checks went", n)
	}
}

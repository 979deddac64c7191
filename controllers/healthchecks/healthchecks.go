// Package healthchecks is the Route 53 health checks controller: it runs
// each health check of the desired world from the simulated internet (as
// Route 53's checkers reach endpoints from the internet), at its request
// interval on the virtual clock, and reports the status to Route 53 when
// FailureThreshold consecutive results agree. CALCULATED checks combine
// their children's statuses; CLOUDWATCH_METRIC checks are evaluated by
// Route 53 from their alarms, and their status (like a disabled check's,
// healthy) comes in with the world, for the CALCULATED checks.
package healthchecks

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/engines/vpcdns"
)

// Dialer opens connections from inside a namespace
// (dataplane/network.Linux).
type Dialer interface {
	DialTCP(ctx context.Context, ns string, addr netip.AddrPort) (net.Conn, error)
}

// Config is what the supervisor gives the controller.
type Config struct {
	Dialer Dialer
	// Namespace is where the checkers run: the simulated internet's.
	Namespace string
	// Names resolves an FQDN endpoint as the internet resolves it.
	Names   vpcdns.Resolver
	Reports desired.HealthCheckReporter
	// TimeScale divides the request intervals (1 if 0).
	TimeScale float64
	Log       *slog.Logger
}

// Route 53's timeouts: the connection within 4 s (10 s for TCP checks),
// the HTTP status within 2 s after it; they are wall time, since a real
// exchange cannot be compressed.
const (
	connectTimeout    = 4 * time.Second
	tcpConnectTimeout = 10 * time.Second
	responseTimeout   = 2 * time.Second
	// searchWindow is how much of the body a string match searches.
	searchWindow = 5120
)

// Controller runs the health checks.
type Controller struct {
	cfg Config

	mu      sync.Mutex
	running map[string]*checker // by health check id

	// smu guards status, each check's reported status, for CALCULATED
	// parents; the checkers take it, so it is never held while waiting
	// for one.
	smu    sync.Mutex
	status map[string]bool
}

type checker struct {
	spec   desired.DNSHealthCheck
	cancel context.CancelFunc
	done   chan struct{}
}

// New returns the controller.
func New(cfg Config) *Controller {
	if cfg.TimeScale <= 0 {
		cfg.TimeScale = 1
	}
	return &Controller{cfg: cfg, running: map[string]*checker{}, status: map[string]bool{}}
}

// Name implements controllers.Controller.
func (c *Controller) Name() string { return "healthchecks" }

// Sync starts a checker for each new or changed health check and stops
// those the world no longer has.
func (c *Controller) Sync(_ context.Context, snap *desired.World) error {
	want := map[string]*desired.DNSHealthCheck{}
	c.smu.Lock()
	for _, hc := range snap.HealthChecks {
		switch {
		case hc.Status != nil:
			c.status[hc.ID] = *hc.Status
		case !hc.Disabled && hc.Type != "CLOUDWATCH_METRIC":
			want[hc.ID] = hc
		}
	}
	c.smu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, ch := range c.running {
		if hc, ok := want[id]; !ok || !reflect.DeepEqual(*hc, ch.spec) {
			ch.stop()
			delete(c.running, id)
		}
	}
	for id, hc := range want {
		if _, ok := c.running[id]; ok {
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		ch := &checker{spec: *hc, cancel: cancel, done: make(chan struct{})}
		c.running[id] = ch
		go func() {
			defer close(ch.done)
			c.run(ctx, ch.spec)
		}()
	}
	return nil
}

// Close stops every checker.
func (c *Controller) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, ch := range c.running {
		ch.stop()
		delete(c.running, id)
	}
	return nil
}

func (ch *checker) stop() {
	ch.cancel()
	<-ch.done
}

// run checks hc every interval until ctx ends, reporting each change of
// status (and the first).
func (c *Controller) run(ctx context.Context, hc desired.DNSHealthCheck) {
	interval := time.Duration(max(hc.RequestInterval, 10)) * time.Second
	every := time.Duration(float64(interval) / c.cfg.TimeScale)
	threshold := max(hc.FailureThreshold, 1)
	var reported *bool
	streak, streakOf := 0, false
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		ok, reason := c.check(ctx, hc)
		if ctx.Err() != nil {
			return
		}
		if hc.Inverted {
			ok = !ok
		}
		if ok == streakOf {
			streak++
		} else {
			streak, streakOf = 1, ok
		}
		// The first result sets the status; later ones flip it once
		// FailureThreshold of them agree.
		if reported == nil || (*reported != ok && streak >= threshold) {
			reported = &ok
			c.smu.Lock()
			c.status[hc.ID] = ok
			c.smu.Unlock()
			if err := c.cfg.Reports.ReportHealthCheck(hc.Account, hc.ID, ok, reason); err != nil {
				c.cfg.Log.Warn("healthchecks: reporting", "health_check", hc.ID, "error", err)
			}
			c.cfg.Log.Info("healthchecks: status", "health_check", hc.ID, "healthy", ok, "reason", reason)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// check runs one check and says whether it passed, and why, in Route 53's
// words.
func (c *Controller) check(ctx context.Context, hc desired.DNSHealthCheck) (bool, string) {
	if hc.Type == "CALCULATED" {
		return c.calculated(hc)
	}
	addr, err := c.endpoint(hc)
	if err != nil {
		return false, "Failure: " + err.Error()
	}
	switch hc.Type {
	case "TCP":
		cctx, cancel := context.WithTimeout(ctx, tcpConnectTimeout)
		defer cancel()
		conn, err := c.cfg.Dialer.DialTCP(cctx, c.cfg.Namespace, addr)
		if err != nil {
			return false, "Failure: " + connectFailure(err)
		}
		conn.Close()
		return true, "Success: TCP connection established"
	}
	return c.httpCheck(ctx, hc, addr)
}

// endpoint is where a check connects: its IP, else its FQDN as the
// internet resolves it.
func (c *Controller) endpoint(hc desired.DNSHealthCheck) (netip.AddrPort, error) {
	port := hc.Port
	if port == 0 {
		port = 80
		if strings.HasPrefix(hc.Type, "HTTPS") {
			port = 443
		}
	}
	if ip, err := netip.ParseAddr(hc.IP); err == nil {
		return netip.AddrPortFrom(ip, uint16(port)), nil
	}
	addrs, ok := c.cfg.Names.LookupA(vpcdns.Internet, strings.ToLower(strings.TrimSuffix(hc.FQDN, "."))+".")
	if !ok || len(addrs) == 0 {
		return netip.AddrPort{}, fmt.Errorf("The endpoint %s could not be resolved.", hc.FQDN)
	}
	return netip.AddrPortFrom(addrs[0], uint16(port)), nil
}

func (c *Controller) httpCheck(ctx context.Context, hc desired.DNSHealthCheck, addr netip.AddrPort) (bool, string) {
	secure := strings.HasPrefix(hc.Type, "HTTPS")
	host := hc.FQDN
	if host == "" {
		host = addr.Addr().String()
	}
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(ctx, connectTimeout)
			defer cancel()
			return c.cfg.Dialer.DialTCP(ctx, c.cfg.Namespace, addr)
		},
		// Route 53 does not validate the endpoint's certificate.
		TLSClientConfig:       &tls.Config{InsecureSkipVerify: true, ServerName: hc.FQDN},
		ResponseHeaderTimeout: responseTimeout,
		DisableKeepAlives:     true,
		Proxy:                 nil,
	}
	defer tr.CloseIdleConnections()
	scheme := "http"
	if secure {
		scheme = "https"
	}
	path := hc.ResourcePath
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	u := scheme + "://" + net.JoinHostPort(host, strconv.Itoa(int(addr.Port()))) + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return false, "Failure: " + err.Error()
	}
	req.Header.Set("User-Agent", "Amazon-Route53-Health-Check-Service (ref cloudbox; report http://amzn.to/1vsZADi)")
	resp, err := (&http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		return false, "Failure: " + connectFailure(err)
	}
	defer resp.Body.Close()
	code := fmt.Sprintf("HTTP Status Code %d, %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return false, "Failure: " + code
	}
	if strings.HasSuffix(hc.Type, "_STR_MATCH") {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, searchWindow))
		if !strings.Contains(string(body), hc.SearchString) {
			return false, "Failure: " + code + ". Failed to find the search string in the first 5120 bytes of the response body."
		}
	}
	return true, "Success: " + code
}

// calculated is healthy when at least HealthThreshold children are.
func (c *Controller) calculated(hc desired.DNSHealthCheck) (bool, string) {
	c.smu.Lock()
	healthy := 0
	for _, id := range hc.ChildHealthChecks {
		if c.status[id] {
			healthy++
		}
	}
	c.smu.Unlock()
	ok := healthy >= hc.HealthThreshold
	word := "Failure"
	if ok {
		word = "Success"
	}
	return ok, fmt.Sprintf("%s: %d of %d child health checks are healthy (threshold %d)", word, healthy, len(hc.ChildHealthChecks), hc.HealthThreshold)
}

// connectFailure words a connection failure as Route 53 does.
func connectFailure(err error) string {
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout(), errors.Is(err, context.DeadlineExceeded):
		return "Connection timed out. The endpoint or the internet connection is down, or requests are being blocked by your firewall. See https://docs.aws.amazon.com/Route53/latest/DeveloperGuide/dns-failover-router-firewall-rules.html"
	case strings.Contains(err.Error(), "connection refused"):
		return "Connection refused. The endpoint is not listening on the port, or the port is blocked."
	}
	return err.Error()
}

package alb

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/desired"
)

// Reason codes of unhealthy targets, as DescribeTargetHealth shows them.
const (
	ReasonResponseCodeMismatch = "Target.ResponseCodeMismatch"
	ReasonTimeout              = "Target.Timeout"
	ReasonFailedHealthChecks   = "Target.FailedHealthChecks"
)

// startCheck (re)starts t's health checks when the check changed. Health
// state is kept across restarts. Called with n.mu held.
func (n *Node) startCheck(t *target, hc desired.HealthCheck) {
	if t.cancel != nil && t.hc == hc {
		return
	}
	n.stopCheck(t)
	t.hc = hc
	if !hc.Enabled {
		// Without health checks every target counts as healthy.
		if t.health.Swap(stateHealthy) != stateHealthy {
			t.healthySince.Store(n.cfg.Now().UnixNano())
			n.cfg.Health(t.key.tg, t.key.id, t.key.port, true, "", "")
		}
		t.cancel = func() {}
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.cancel = cancel
	n.checks.Add(1)
	go func() {
		defer n.checks.Done()
		n.runChecks(ctx, t, hc)
	}()
}

// stopCheck stops t's health checks. It does not wait for the checker
// (which may be inside Config.Health, and that may lead to an Update); a
// stopped checker reports nothing once it sees its context done. Called
// with n.mu held.
func (n *Node) stopCheck(t *target) {
	if t.cancel != nil {
		t.cancel()
		t.cancel = nil
	}
}

// checkResult is one health check's outcome; reason is empty on success.
type checkResult struct {
	reason, description string
}

// runChecks checks t at once, then every interval, and moves it between
// initial, healthy and unhealthy after the thresholds' consecutive
// results.
func (n *Node) runChecks(ctx context.Context, t *target, hc desired.HealthCheck) {
	interval := n.scaled(hc.IntervalSeconds)
	// A target's answer takes real time whatever the time scale: a
	// compressed timeout would fail a loaded instance that AWS would find
	// healthy. The timeout keeps at least Config.MinCheckTimeout; the
	// interval stays scaled, and as checks run one after another, a check
	// that waits out its timeout only delays the next one.
	timeout := max(n.scaled(hc.TimeoutSeconds), min(time.Duration(hc.TimeoutSeconds)*time.Second, n.cfg.MinCheckTimeout))
	port := t.key.port
	if p, err := strconv.Atoi(hc.Port); err == nil {
		port = p
	}
	addr := netip.AddrPortFrom(t.addr.Addr(), uint16(port))
	match := parseMatcher(hc.Matcher)
	client := n.checkClient(addr, hc.Protocol == "HTTPS")
	defer client.CloseIdleConnections()
	scheme := "http"
	if hc.Protocol == "HTTPS" {
		scheme = "https"
	}
	path := hc.Path
	if path == "" {
		path = "/"
	}
	u := scheme + "://" + addr.String() + path

	var ok, fail int
	var lastReason string
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		start := time.Now()
		res := probe(ctx, client, u, timeout, match)
		if ctx.Err() != nil {
			return
		}
		if res.reason == "" {
			ok, fail = ok+1, 0
			if ok >= max(hc.HealthyThreshold, 1) && t.health.Load() != stateHealthy {
				t.healthySince.Store(n.cfg.Now().UnixNano())
				t.health.Store(stateHealthy)
				lastReason = ""
				n.cfg.Log.Info("alb: target healthy", "targetGroup", t.key.tg, "target", t.key.id, "port", t.key.port)
				n.cfg.Health(t.key.tg, t.key.id, t.key.port, true, "", "")
			}
		} else {
			ok, fail = 0, fail+1
			if fail >= max(hc.UnhealthyThreshold, 1) && (t.health.Load() != stateUnhealthy || lastReason != res.reason+res.description) {
				t.health.Store(stateUnhealthy)
				lastReason = res.reason + res.description
				n.cfg.Log.Info("alb: target unhealthy", "targetGroup", t.key.tg, "target", t.key.id, "port", t.key.port, "reason", res.reason, "description", res.description)
				n.cfg.Health(t.key.tg, t.key.id, t.key.port, false, res.reason, res.description)
			}
		}
		timer.Reset(max(interval-time.Since(start), 0))
	}
}

// checkClient makes fresh connections for every check, so a refused or
// unreachable target shows at once.
func (n *Node) checkClient(addr netip.AddrPort, https bool) *http.Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return n.cfg.Dial(ctx, addr)
		},
		DisableKeepAlives:  true,
		DisableCompression: true,
	}
	if https {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

func probe(ctx context.Context, client *http.Client, u string, timeout time.Duration, match func(int) bool) checkResult {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return checkResult{ReasonFailedHealthChecks, "Health checks failed"}
	}
	req.Header.Set("User-Agent", "ELB-HealthChecker/2.0")
	resp, err := client.Do(req)
	if err == nil {
		_, err = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if err == nil && !match(resp.StatusCode) {
			return checkResult{ReasonResponseCodeMismatch, "Health checks failed with these codes: [" + strconv.Itoa(resp.StatusCode) + "]"}
		}
	}
	if err != nil {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
			return checkResult{ReasonTimeout, "Request timed out"}
		}
		return checkResult{ReasonFailedHealthChecks, "Health checks failed"}
	}
	return checkResult{}
}

// parseMatcher parses AWS's HttpCode: "200", "200,202", "200-299".
func parseMatcher(m string) func(int) bool {
	if m == "" {
		m = "200"
	}
	type span struct{ lo, hi int }
	var spans []span
	for _, part := range strings.Split(m, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 == nil && err2 == nil {
			spans = append(spans, span{a, b})
		}
	}
	return func(code int) bool {
		for _, s := range spans {
			if s.lo <= code && code <= s.hi {
				return true
			}
		}
		return false
	}
}

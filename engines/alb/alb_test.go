package alb

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/desired"
)

// backend is a target: an httptest server that answers with its name and
// echoes the request headers it got, with switches for health and
// behaviour.
type backend struct {
	name   string
	srv    *httptest.Server
	port   int
	hcCode atomic.Int32 // status of /health
	hcWait atomic.Bool  // /health hangs
	checks atomic.Int32 // /health requests seen
	conns  atomic.Int32 // connections accepted
	hits   atomic.Int32 // non-health requests
}

func newBackend(t testing.TB, name string) *backend {
	b := &backend{name: name}
	b.hcCode.Store(200)
	b.srv = httptest.NewUnstartedServer(http.HandlerFunc(b.serve))
	b.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			b.conns.Add(1)
		}
	}
	b.srv.Start()
	t.Cleanup(b.srv.Close)
	b.port = b.srv.Listener.Addr().(*net.TCPAddr).Port
	return b
}

func (b *backend) serve(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/health":
		b.checks.Add(1)
		if b.hcWait.Load() {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		w.WriteHeader(int(b.hcCode.Load()))
		return
	case "/block":
		b.hits.Add(1)
		<-blockCh(r)
		io.WriteString(w, b.name)
		return
	case "/sleep":
		time.Sleep(1500 * time.Millisecond)
	case "/session":
		http.SetCookie(w, &http.Cookie{Name: "SESSION", Value: "s-" + b.name, Path: "/"})
	case "/close":
		c, _, _ := w.(http.Hijacker).Hijack()
		c.Close()
		return
	case "/garbage":
		c, _, _ := w.(http.Hijacker).Hijack()
		io.WriteString(c, "NOT HTTP AT ALL\r\n\r\n")
		c.Close()
		return
	}
	if r.Header.Get("Upgrade") == "websocket" {
		c, rw, _ := w.(http.Hijacker).Hijack()
		defer c.Close()
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		buf := make([]byte, 64)
		for {
			k, err := rw.Read(buf)
			if err != nil {
				return
			}
			c.Write(append([]byte(b.name+":"), buf[:k]...))
		}
	}
	b.hits.Add(1)
	w.Header().Set("X-Backend", b.name)
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"name": b.name, "headers": r.Header, "host": r.Host})
}

// blocks lets tests hold /block?id= requests until released.
var (
	blocks   sync.Map
	blockSeq atomic.Int64
)

// newBlock returns a fresh block id and the function that releases it.
func newBlock() (string, func()) {
	id := strconv.FormatInt(blockSeq.Add(1), 10)
	ch := make(chan struct{})
	blocks.Store(id, ch)
	return id, func() { close(ch) }
}

func blockCh(r *http.Request) chan struct{} {
	ch, _ := blocks.LoadOrStore(r.URL.Query().Get("id"), make(chan struct{}))
	return ch.(chan struct{})
}

func (b *backend) target(extra ...func(*desired.Target)) *desired.Target {
	t := &desired.Target{ID: b.name, Port: b.port, IP: netip.MustParseAddr("127.0.0.1"), AZ: "us-east-1a"}
	for _, f := range extra {
		f(t)
	}
	return t
}

func healthCheck() desired.HealthCheck {
	return desired.HealthCheck{Enabled: true, Protocol: "HTTP", Port: "traffic-port", Path: "/health",
		IntervalSeconds: 5, TimeoutSeconds: 2, HealthyThreshold: 2, UnhealthyThreshold: 2, Matcher: "200"}
}

func targetGroup(arn string, attrs map[string]string, targets ...*desired.Target) *desired.TargetGroup {
	if attrs == nil {
		attrs = map[string]string{}
	}
	return &desired.TargetGroup{ARN: arn, Name: arn, Protocol: "HTTP", Port: 80, TargetType: "ip",
		HealthCheck: healthCheck(), Targets: targets, Attributes: attrs}
}

func forward(arns ...string) desired.Action {
	a := desired.Action{Type: "forward"}
	for _, arn := range arns {
		a.TargetGroups = append(a.TargetGroups, desired.WeightedTargetGroup{ARN: arn, Weight: 1})
	}
	return a
}

func defaultRule(a desired.Action) *desired.Rule {
	return &desired.Rule{Priority: "default", Actions: []desired.Action{a}}
}

// harness is a node serving one HTTP listener on loopback.
type harness struct {
	t      testing.TB
	node   *Node
	port   int
	url    string
	mu     sync.Mutex
	events []string
	now    atomic.Int64 // fake clock when nonzero
}

func newHarness(t testing.TB, cfg Config) *harness {
	h := &harness{t: t}
	if cfg.Dial == nil {
		cfg.Dial = func(ctx context.Context, a netip.AddrPort) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", a.String())
		}
	}
	if cfg.TimeScale == 0 {
		cfg.TimeScale = 100 // 5 s interval -> 50 ms
	}
	cfg.Health = func(tg, id string, port int, healthy bool, reason, desc string) {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.events = append(h.events, fmt.Sprintf("%s %v %s %s", id, healthy, reason, desc))
	}
	cfg.Now = func() time.Time {
		if v := h.now.Load(); v != 0 {
			return time.Unix(0, v)
		}
		return time.Now()
	}
	h.node = NewNode(cfg)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	h.port = l.Addr().(*net.TCPAddr).Port
	h.url = "http://127.0.0.1:" + strconv.Itoa(h.port)
	done := make(chan error, 1)
	go func() { done <- h.node.Serve(h.port, l) }()
	t.Cleanup(func() {
		h.node.Close()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return h
}

// update configures one listener (protocol HTTP unless certs are given)
// with rules, the default last.
func (h *harness) update(attrs map[string]string, rules []*desired.Rule, tgs ...*desired.TargetGroup) {
	if attrs == nil {
		attrs = map[string]string{}
	}
	lb := &desired.LoadBalancer{ARN: "arn:lb", Name: "lb", State: "active", Attributes: attrs,
		Listeners: []*desired.Listener{{ARN: "arn:listener", Port: h.port, Protocol: "HTTP", Rules: rules}}}
	m := map[string]*desired.TargetGroup{}
	for _, tg := range tgs {
		m[tg.ARN] = tg
	}
	h.node.Update(lb, m)
}

func (h *harness) healthEvents() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.events...)
}

// waitEvent waits for a health event with the given prefix.
func (h *harness) waitEvent(prefix string) {
	h.t.Helper()
	eventually(h.t, func() bool {
		for _, e := range h.healthEvents() {
			if strings.HasPrefix(e, prefix) {
				return true
			}
		}
		return false
	}, "health event %q; have %q", prefix, h.healthEvents())
}

func eventually(t testing.TB, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for "+format, args...)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

type reply struct {
	code    int
	name    string
	header  http.Header
	body    string
	fwd     http.Header
	fwdHost string
}

func get(t testing.TB, c *http.Client, req *http.Request) reply {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	r := reply{code: resp.StatusCode, header: resp.Header, body: string(body), name: resp.Header.Get("X-Backend")}
	var echo struct {
		Headers http.Header
		Host    string
	}
	if json.Unmarshal(body, &echo) == nil {
		r.fwd, r.fwdHost = echo.Headers, echo.Host
	}
	return r
}

func (h *harness) get(path string) reply {
	h.t.Helper()
	req, _ := http.NewRequest("GET", h.url+path, nil)
	return get(h.t, nil, req)
}

// waitHealthy waits until the node has reported the named targets healthy.
func (h *harness) waitHealthy(names ...string) {
	h.t.Helper()
	for _, n := range names {
		h.waitEvent(n + " true")
	}
}

func TestRoundRobinAlternates(t *testing.T) {
	h := newHarness(t, Config{})
	a, b := newBackend(t, "a"), newBackend(t, "b")
	h.update(nil, []*desired.Rule{defaultRule(forward("tg"))}, targetGroup("tg", nil, a.target(), b.target()))
	h.waitHealthy("a", "b")
	var seq []string
	for range 10 {
		r := h.get("/")
		if r.code != 200 {
			t.Fatalf("status %d", r.code)
		}
		seq = append(seq, r.name)
	}
	for i := 1; i < len(seq); i++ {
		if seq[i] == seq[i-1] {
			t.Fatalf("round robin did not alternate: %v", seq)
		}
	}
}

func TestKeepAliveReusesTargetConnections(t *testing.T) {
	h := newHarness(t, Config{})
	a := newBackend(t, "a")
	tg := targetGroup("tg", nil, a.target())
	tg.HealthCheck.Enabled = false
	h.update(nil, []*desired.Rule{defaultRule(forward("tg"))}, tg)
	for range 50 {
		if r := h.get("/"); r.code != 200 {
			t.Fatalf("status %d", r.code)
		}
	}
	if c := a.conns.Load(); c != 1 {
		t.Errorf("50 sequential requests used %d target connections, want 1", c)
	}
}

func TestLeastOutstandingPrefersIdleTarget(t *testing.T) {
	h := newHarness(t, Config{})
	a, b := newBackend(t, "a"), newBackend(t, "b")
	h.update(nil, []*desired.Rule{defaultRule(forward("tg"))},
		targetGroup("tg", map[string]string{"load_balancing.algorithm.type": "least_outstanding_requests"}, a.target(), b.target()))
	h.waitHealthy("a", "b")
	id, release := newBlock()
	done := make(chan reply)
	go func() {
		req, _ := http.NewRequest("GET", h.url+"/block?id="+id, nil)
		done <- get(t, nil, req)
	}()
	eventually(t, func() bool { return a.hits.Load()+b.hits.Load() == 1 }, "blocked request")
	busy, idle := "a", "b"
	if b.hits.Load() == 1 {
		busy, idle = "b", "a"
	}
	for range 6 {
		if r := h.get("/"); r.name != idle {
			t.Fatalf("request went to %q with %q busy", r.name, busy)
		}
	}
	release()
	if r := <-done; r.code != 200 || r.body != busy {
		t.Fatalf("blocked request: %d %q", r.code, r.body)
	}
}

func TestLBCookieStickiness(t *testing.T) {
	h := newHarness(t, Config{})
	a, b := newBackend(t, "a"), newBackend(t, "b")
	tgs := targetGroup("tg", map[string]string{"stickiness.enabled": "true", "stickiness.type": "lb_cookie",
		"stickiness.lb_cookie.duration_seconds": "3600"}, a.target(), b.target())
	h.update(nil, []*desired.Rule{defaultRule(forward("tg"))}, tgs)
	h.waitHealthy("a", "b")

	client := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar}
	}
	c1 := client()
	req, _ := http.NewRequest("GET", h.url+"/", nil)
	first := get(t, c1, req)
	cookies := strings.Join(first.header.Values("Set-Cookie"), "\n")
	if !strings.Contains(cookies, "AWSALB=") || !regexp.MustCompile(`AWSALBCORS=[^;]+; Expires=[^;]+; Path=/; SameSite=None; Secure`).MatchString(cookies) {
		t.Fatalf("stickiness cookies: %s", cookies)
	}
	for range 8 {
		req, _ := http.NewRequest("GET", h.url+"/", nil)
		if r := get(t, c1, req); r.name != first.name {
			t.Fatalf("sticky client moved from %s to %s", first.name, r.name)
		}
	}
	req, _ = http.NewRequest("GET", h.url+"/", nil)
	if r := get(t, client(), req); r.name == first.name {
		t.Fatalf("a new client landed on %s too (round robin should move it)", r.name)
	}

	// The sticky target turns unhealthy: the client moves.
	sticky := a
	if first.name == "b" {
		sticky = b
	}
	sticky.hcCode.Store(500)
	h.waitEvent(first.name + " false")
	req, _ = http.NewRequest("GET", h.url+"/", nil)
	if r := get(t, c1, req); r.name == first.name || r.code != 200 {
		t.Fatalf("client still on unhealthy sticky target: %d %s", r.code, r.name)
	}
}

func TestAppCookieStickiness(t *testing.T) {
	h := newHarness(t, Config{})
	a, b := newBackend(t, "a"), newBackend(t, "b")
	h.update(nil, []*desired.Rule{defaultRule(forward("tg"))}, targetGroup("tg", map[string]string{
		"stickiness.enabled": "true", "stickiness.type": "app_cookie",
		"stickiness.app_cookie.cookie_name": "SESSION", "stickiness.app_cookie.duration_seconds": "600",
	}, a.target(), b.target()))
	h.waitHealthy("a", "b")

	// No application cookie set: no load balancer cookie either.
	if r := h.get("/"); len(r.header.Values("Set-Cookie")) != 0 {
		t.Fatalf("cookies without an application cookie: %q", r.header.Values("Set-Cookie"))
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	req, _ := http.NewRequest("GET", h.url+"/session", nil)
	first := get(t, c, req)
	cookies := strings.Join(first.header.Values("Set-Cookie"), "\n")
	for _, want := range []string{"SESSION=s-" + first.name, "AWSALBAPP-0=", "AWSALBAPP-1=_remove_", "AWSALBAPP-3=_remove_"} {
		if !strings.Contains(cookies, want) {
			t.Fatalf("Set-Cookie lacks %q: %s", want, cookies)
		}
	}
	for range 6 {
		req, _ := http.NewRequest("GET", h.url+"/", nil)
		if r := get(t, c, req); r.name != first.name {
			t.Fatalf("app-cookie client moved from %s to %s", first.name, r.name)
		}
	}
}

func TestTargetGroupStickinessAndWeights(t *testing.T) {
	h := newHarness(t, Config{})
	a, b := newBackend(t, "a"), newBackend(t, "b")
	act := desired.Action{Type: "forward", StickinessEnabled: true, StickinessDuration: 300,
		TargetGroups: []desired.WeightedTargetGroup{{ARN: "tg1", Weight: 1}, {ARN: "tg2", Weight: 1}}}
	h.update(nil, []*desired.Rule{defaultRule(act)}, targetGroup("tg1", nil, a.target()), targetGroup("tg2", nil, b.target()))
	h.waitHealthy("a", "b")
	seen := map[string]bool{}
	for range 40 {
		seen[h.get("/").name] = true
	}
	if !seen["a"] || !seen["b"] {
		t.Fatalf("weighted forward used only %v", seen)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	req, _ := http.NewRequest("GET", h.url+"/", nil)
	first := get(t, c, req)
	if !strings.Contains(strings.Join(first.header.Values("Set-Cookie"), "\n"), "AWSALBTG=") {
		t.Fatalf("no AWSALBTG cookie: %q", first.header.Values("Set-Cookie"))
	}
	for range 10 {
		req, _ := http.NewRequest("GET", h.url+"/", nil)
		if r := get(t, c, req); r.name != first.name {
			t.Fatalf("group-sticky client moved from %s to %s", first.name, r.name)
		}
	}

	// Weight 0 takes no traffic.
	act.TargetGroups[1].Weight = 0
	h.update(nil, []*desired.Rule{defaultRule(act)}, targetGroup("tg1", nil, a.target()), targetGroup("tg2", nil, b.target()))
	for range 20 {
		if r := h.get("/"); r.name != "a" {
			t.Fatalf("weight 0 group got a request")
		}
	}
}

func fixed(body string) desired.Action {
	return desired.Action{Type: "fixed-response", FixedResponse: &desired.FixedResponse{StatusCode: "200", ContentType: "text/plain", MessageBody: body}}
}

func TestRuleConditions(t *testing.T) {
	h := newHarness(t, Config{})
	a, b := newBackend(t, "a"), newBackend(t, "b")
	rules := []*desired.Rule{
		{Priority: "1", Conditions: []desired.Condition{{Field: "path-pattern", Values: []string{"/api/*", "/v?/x"}}}, Actions: []desired.Action{forward("api")}},
		{Priority: "2", Conditions: []desired.Condition{{Field: "host-header", Values: []string{"*.example.com"}}}, Actions: []desired.Action{fixed("host")}},
		{Priority: "3", Conditions: []desired.Condition{{Field: "http-header", HeaderName: "x-env", Values: []string{"prod*"}}}, Actions: []desired.Action{fixed("header")}},
		{Priority: "4", Conditions: []desired.Condition{{Field: "http-request-method", Values: []string{"DELETE"}}}, Actions: []desired.Action{fixed("method")}},
		{Priority: "5", Conditions: []desired.Condition{{Field: "query-string", QueryValues: []desired.KeyValue{{Key: "version", Value: "v2*"}, {Value: "magic"}}}}, Actions: []desired.Action{fixed("query")}},
		{Priority: "6", Conditions: []desired.Condition{{Field: "source-ip", Values: []string{"10.0.0.0/8"}}}, Actions: []desired.Action{fixed("ten")}},
		{Priority: "7", Conditions: []desired.Condition{
			{Field: "source-ip", Values: []string{"127.0.0.0/8"}},
			{Field: "path-pattern", Values: []string{"/src"}},
		}, Actions: []desired.Action{fixed("loopback")}},
		defaultRule(forward("web")),
	}
	h.update(nil, rules, targetGroup("web", nil, a.target()), targetGroup("api", nil, b.target()))
	h.waitHealthy("a", "b")

	cases := []struct {
		method, path, host string
		header             [2]string
		want               string
	}{
		{"GET", "/api/users", "", [2]string{}, "b"},
		{"GET", "/v2/x", "", [2]string{}, "b"},
		{"GET", "/API/users", "", [2]string{}, "a"}, // path is case-sensitive
		{"GET", "/", "Shop.EXAMPLE.com", [2]string{}, "host"},
		{"GET", "/", "example.com", [2]string{}, "a"},
		{"GET", "/", "", [2]string{"X-Env", "Production"}, "header"},
		{"GET", "/", "", [2]string{"X-Env", "staging"}, "a"},
		{"DELETE", "/", "", [2]string{}, "method"},
		{"delete", "/", "", [2]string{}, "a"}, // method is case-sensitive
		{"GET", "/?version=V2beta", "", [2]string{}, "query"},
		{"GET", "/?other=magic", "", [2]string{}, "query"},
		{"GET", "/?version=v1", "", [2]string{}, "a"},
		{"GET", "/src", "", [2]string{}, "loopback"},
	}
	for _, c := range cases {
		req, _ := http.NewRequest(c.method, h.url+c.path, nil)
		if c.host != "" {
			req.Host = c.host
		}
		if c.header[0] != "" {
			req.Header.Set(c.header[0], c.header[1])
		}
		r := get(t, nil, req)
		got := r.name
		if got == "" {
			got = r.body
			if r.header.Get("Server") != "awselb/2.0" {
				t.Errorf("fixed response without Server: awselb/2.0")
			}
		}
		if got != c.want {
			t.Errorf("%s %s host=%q %v: got %q (%d), want %q", c.method, c.path, c.host, c.header, got, r.code, c.want)
		}
	}
}

func TestRedirectAndFixedResponse(t *testing.T) {
	h := newHarness(t, Config{})
	rules := []*desired.Rule{
		{Priority: "1", Conditions: []desired.Condition{{Field: "path-pattern", Values: []string{"/old/*"}}},
			Actions: []desired.Action{{Type: "redirect", Redirect: &desired.Redirect{Protocol: "#{protocol}", Host: "#{host}", Port: "#{port}", Path: "/new/#{path}", Query: "#{query}&moved=1", StatusCode: "HTTP_302"}}}},
		{Priority: "2", Conditions: []desired.Condition{{Field: "path-pattern", Values: []string{"/teapot"}}},
			Actions: []desired.Action{{Type: "fixed-response", FixedResponse: &desired.FixedResponse{StatusCode: "418", ContentType: "application/json", MessageBody: `{"tea":true}`}}}},
		defaultRule(desired.Action{Type: "redirect", Redirect: &desired.Redirect{Protocol: "HTTPS", Port: "443", StatusCode: "HTTP_301"}}),
	}
	h.update(nil, rules)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	req, _ := http.NewRequest("GET", h.url+"/a/b?x=1", nil)
	req.Host = "www.example.com"
	r := get(t, noFollow, req)
	if r.code != 301 || r.header.Get("Location") != "https://www.example.com:443/a/b?x=1" || r.header.Get("Server") != "awselb/2.0" {
		t.Errorf("HTTPS redirect: %d %q %q", r.code, r.header.Get("Location"), r.header.Get("Server"))
	}
	req, _ = http.NewRequest("GET", h.url+"/old/page?q=2", nil)
	req.Host = "site.test:" + strconv.Itoa(h.port)
	r = get(t, noFollow, req)
	want := "http://site.test:" + strconv.Itoa(h.port) + "/new/old/page?q=2&moved=1"
	if r.code != 302 || r.header.Get("Location") != want {
		t.Errorf("302 redirect: %d %q, want %q", r.code, r.header.Get("Location"), want)
	}
	r = h.get("/teapot")
	if r.code != 418 || r.body != `{"tea":true}` || r.header.Get("Content-Type") != "application/json" || r.header.Get("Server") != "awselb/2.0" {
		t.Errorf("fixed response: %d %q %q", r.code, r.body, r.header)
	}
}

func TestErrorStatuses(t *testing.T) {
	timeoutDial := func(ctx context.Context, a netip.AddrPort) (net.Conn, error) {
		if a.Port() == 1 {
			return nil, &net.OpError{Op: "dial", Net: "tcp", Err: timeoutErr{}}
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", a.String())
	}
	h := newHarness(t, Config{Dial: timeoutDial})
	a := newBackend(t, "a")
	web := targetGroup("web", nil, a.target())
	web.HealthCheck.Enabled = false
	unreachable := targetGroup("unreachable", nil, &desired.Target{ID: "gone", Port: 1, IP: netip.MustParseAddr("127.0.0.1")})
	unreachable.HealthCheck.Enabled = false
	rules := []*desired.Rule{
		{Priority: "1", Conditions: []desired.Condition{{Field: "path-pattern", Values: []string{"/empty"}}}, Actions: []desired.Action{forward("empty")}},
		{Priority: "2", Conditions: []desired.Condition{{Field: "path-pattern", Values: []string{"/unreachable"}}}, Actions: []desired.Action{forward("unreachable")}},
		defaultRule(forward("web")),
	}
	h.update(map[string]string{"idle_timeout.timeout_seconds": "1"}, rules, web, targetGroup("empty", nil), unreachable)

	for _, c := range []struct {
		path string
		code int
		body string
	}{
		{"/close", 502, "502 Bad Gateway"},
		{"/garbage", 502, "502 Bad Gateway"},
		{"/empty", 503, "503 Service Temporarily Unavailable"},
		{"/unreachable", 504, "504 Gateway Time-out"},
		{"/sleep", 504, "504 Gateway Time-out"}, // no answer within the 1 s idle timeout
	} {
		r := h.get(c.path)
		if r.code != c.code || !strings.Contains(r.body, c.body) || r.header.Get("Server") != "awselb/2.0" {
			t.Errorf("%s: %d %q Server=%q, want %d %q", c.path, r.code, r.body, r.header.Get("Server"), c.code, c.body)
		}
	}
	// Connection refused is a 502.
	refused := newBackend(t, "refused")
	refused.srv.Close()
	gone := targetGroup("web", nil, refused.target())
	gone.HealthCheck.Enabled = false
	h.update(nil, []*desired.Rule{defaultRule(forward("web"))}, gone)
	if r := h.get("/"); r.code != 502 {
		t.Errorf("refused target: %d, want 502", r.code)
	}
	// A malformed request is the front end's 400.
	conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(h.port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n")
	line, _ := bufio.NewReader(conn).ReadString('\n')
	if !strings.Contains(line, " 400 ") {
		t.Errorf("malformed request: %q", line)
	}
	s := h.node.Stats()
	if s.ELB[502] < 3 || s.ELB[503] != 1 || s.ELB[504] != 2 {
		t.Errorf("ELB counters %v", s.ELB)
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestClientClosedIs460(t *testing.T) {
	h := newHarness(t, Config{})
	a := newBackend(t, "a")
	tg := targetGroup("tg", nil, a.target())
	tg.HealthCheck.Enabled = false
	h.update(nil, []*desired.Rule{defaultRule(forward("tg"))}, tg)
	id, release := newBlock()
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", h.url+"/block?id="+id, nil)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
	}()
	eventually(t, func() bool { return a.hits.Load() == 1 }, "request at target")
	cancel()
	eventually(t, func() bool { return h.node.Stats().ELB[460] == 1 }, "460 counted")
}

func TestHealthTransitionsAndReasons(t *testing.T) {
	h := newHarness(t, Config{})
	a := newBackend(t, "a")
	tg := targetGroup("tg", nil, a.target())
	tg.HealthCheck.HealthyThreshold = 3
	tg.HealthCheck.Matcher = "200-299"
	h.update(nil, []*desired.Rule{defaultRule(forward("tg"))}, tg)
	h.waitEvent("a true")
	if c := a.checks.Load(); c < 3 {
		t.Errorf("healthy after %d checks, threshold 3", c)
	}
	if ev := h.healthEvents(); len(ev) != 1 {
		t.Errorf("events %q", ev)
	}

	a.hcCode.Store(503)
	h.waitEvent("a false Target.ResponseCodeMismatch Health checks failed with these codes: [503]")
	a.hcCode.Store(204) // in the 200-299 matcher
	eventually(t, func() bool { ev := h.healthEvents(); return ev[len(ev)-1] == "a true  " }, "healthy again: %q", h.healthEvents())

	a.hcWait.Store(true)
	h.waitEvent("a false Target.Timeout Request timed out")
	a.hcWait.Store(false)
	h.waitEvent("a true")

	a.srv.Close()
	h.waitEvent("a false Target.FailedHealthChecks")

	// The node's view is visible in Stats.
	for _, s := range h.node.Stats().Targets {
		if s.Healthy {
			t.Errorf("target %s healthy in stats", s.TargetID)
		}
	}
}

func TestUnhealthyTargetTakenOutWithout5xx(t *testing.T) {
	h := newHarness(t, Config{})
	a, b := newBackend(t, "a"), newBackend(t, "b")
	h.update(nil, []*desired.Rule{defaultRule(forward("tg"))}, targetGroup("tg", nil, a.target(), b.target()))
	h.waitHealthy("a", "b")
	b.srv.Close() // the instance stops
	h.waitEvent("b false Target.FailedHealthChecks")
	for range 20 {
		if r := h.get("/"); r.code != 200 || r.name != "a" {
			t.Fatalf("after b went unhealthy: %d from %q", r.code, r.name)
		}
	}
}

func TestFailOpen(t *testing.T) {
	h := newHarness(t, Config{})
	a, b := newBackend(t, "a"), newBackend(t, "b")
	a.hcCode.Store(500)
	b.hcCode.Store(500)
	h.update(nil, []*desired.Rule{defaultRule(forward("tg"))}, targetGroup("tg", nil, a.target(), b.target()))
	h.waitEvent("a false")
	h.waitEvent("b false")
	seen := map[string]bool{}
	for range 10 {
		r := h.get("/")
		if r.code != 200 {
			t.Fatalf("fail open: status %d", r.code)
		}
		seen[r.name] = true
	}
	if !seen["a"] || !seen["b"] {
		t.Errorf("fail open should route to every target, saw %v", seen)
	}
}

func TestDraining(t *testing.T) {
	h := newHarness(t, Config{})
	a, b := newBackend(t, "a"), newBackend(t, "b")
	rules := []*desired.Rule{defaultRule(forward("tg"))}
	h.update(nil, rules, targetGroup("tg", nil, a.target(), b.target()))
	h.waitHealthy("a", "b")

	// Put a request in flight on b.
	id, release := newBlock()
	done := make(chan reply, 2)
	for range 2 {
		go func() {
			req, _ := http.NewRequest("GET", h.url+"/block?id="+id, nil)
			done <- get(t, nil, req)
		}()
	}
	eventually(t, func() bool { return a.hits.Load() == 1 && b.hits.Load() == 1 }, "requests in flight on both")

	h.update(nil, rules, targetGroup("tg", nil, a.target(), b.target(func(t *desired.Target) { t.Draining = true })))
	for range 10 {
		if r := h.get("/"); r.name != "a" {
			t.Fatalf("draining target got a new request")
		}
	}
	release()
	for range 2 {
		if r := <-done; r.code != 200 {
			t.Fatalf("in-flight request: %d", r.code)
		}
	}
	// Deregistered: every target gone, the group answers 503.
	h.update(nil, rules, targetGroup("tg", nil))
	if r := h.get("/"); r.code != 503 {
		t.Fatalf("no targets: %d", r.code)
	}
}

func TestSlowStartRamp(t *testing.T) {
	h := newHarness(t, Config{})
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	h.now.Store(t0.UnixNano())
	a, b := newBackend(t, "a"), newBackend(t, "b")
	attrs := map[string]string{"slow_start.duration_seconds": "100"} // 1 s at this time scale
	rules := []*desired.Rule{defaultRule(forward("tg"))}
	h.update(nil, rules, targetGroup("tg", attrs, a.target()))
	h.waitHealthy("a")
	h.now.Store(t0.Add(time.Hour).UnixNano())
	h.update(nil, rules, targetGroup("tg", attrs, a.target(), b.target()))
	h.waitHealthy("b")

	share := func() int {
		nb := 0
		for range 400 {
			if h.get("/").name == "b" {
				nb++
			}
		}
		return nb
	}
	// A quarter into the ramp: weights 1 and 0.25, b gets 20%.
	h.now.Store(t0.Add(time.Hour + 250*time.Millisecond).UnixNano())
	if nb := share(); nb < 40 || nb > 125 {
		t.Errorf("a quarter into slow start b got %d of 400, want about 80", nb)
	}
	// Ramp over: an even share.
	h.now.Store(t0.Add(time.Hour + 2*time.Second).UnixNano())
	if nb := share(); nb < 180 || nb > 220 {
		t.Errorf("after slow start b got %d of 400, want about 200", nb)
	}
}

var traceRe = regexp.MustCompile(`^Root=1-[0-9a-f]{8}-[0-9a-f]{24}$`)

func TestForwardedHeadersAndTraceID(t *testing.T) {
	h := newHarness(t, Config{})
	a := newBackend(t, "a")
	h.update(map[string]string{"routing.http.drop_invalid_header_fields.enabled": "true"},
		[]*desired.Rule{defaultRule(forward("tg"))}, targetGroup("tg", nil, a.target()))
	h.waitHealthy("a")

	req, _ := http.NewRequest("GET", h.url+"/", nil)
	req.Host = "app.example.com"
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	req.Header["X_Invalid"] = []string{"dropped"}
	req.Header.Set("X-Valid-1", "kept")
	r := get(t, nil, req)
	if got := r.fwd.Get("X-Forwarded-For"); got != "203.0.113.9, 127.0.0.1" {
		t.Errorf("X-Forwarded-For %q", got)
	}
	if r.fwd.Get("X-Forwarded-Proto") != "http" || r.fwd.Get("X-Forwarded-Port") != strconv.Itoa(h.port) {
		t.Errorf("X-Forwarded-Proto/Port %q %q", r.fwd.Get("X-Forwarded-Proto"), r.fwd.Get("X-Forwarded-Port"))
	}
	if r.fwdHost != "app.example.com" {
		t.Errorf("Host %q", r.fwdHost)
	}
	if !traceRe.MatchString(r.fwd.Get("X-Amzn-Trace-Id")) {
		t.Errorf("trace id %q", r.fwd.Get("X-Amzn-Trace-Id"))
	}
	if r.fwd.Get("X_Invalid") != "" || r.fwd.Get("X-Valid-1") != "kept" {
		t.Errorf("invalid header fields: %v", r.fwd)
	}

	req, _ = http.NewRequest("GET", h.url+"/", nil)
	req.Header.Set("X-Amzn-Trace-Id", "Root=1-67891233-abcdef012345678912345678;CalledFrom=app")
	r = get(t, nil, req)
	if !regexp.MustCompile(`^Self=1-[0-9a-f]{8}-[0-9a-f]{24};Root=1-67891233-abcdef012345678912345678;CalledFrom=app$`).MatchString(r.fwd.Get("X-Amzn-Trace-Id")) {
		t.Errorf("extended trace id %q", r.fwd.Get("X-Amzn-Trace-Id"))
	}
	req, _ = http.NewRequest("GET", h.url+"/", nil)
	req.Header.Set("X-Amzn-Trace-Id", "Self=1-00000000-000000000000000000000000;Root=1-67891233-abcdef012345678912345678")
	r = get(t, nil, req)
	if got := r.fwd.Get("X-Amzn-Trace-Id"); strings.Contains(got, "Self=1-00000000") || !strings.HasSuffix(got, ";Root=1-67891233-abcdef012345678912345678") {
		t.Errorf("updated Self %q", got)
	}
}

func TestWebSocketUpgrade(t *testing.T) {
	h := newHarness(t, Config{})
	a := newBackend(t, "a")
	h.update(nil, []*desired.Rule{defaultRule(forward("tg"))}, targetGroup("tg", nil, a.target()))
	h.waitHealthy("a")
	conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(h.port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	for _, msg := range []string{"hello", "again"} {
		io.WriteString(conn, msg)
		buf := make([]byte, 64)
		k, err := br.Read(buf)
		if err != nil || string(buf[:k]) != "a:"+msg {
			t.Fatalf("echo: %q %v", buf[:k], err)
		}
	}
}

// selfSigned makes a certificate for names.
func selfSigned(t testing.TB, names ...string) (*tls.Certificate, *x509.Certificate) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: names[0]},
		DNSNames: names, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, leaf
}

func TestHTTPSWithHTTP2AndSNI(t *testing.T) {
	certA, leafA := selfSigned(t, "a.test")
	certB, leafB := selfSigned(t, "b.test")
	certs := map[string]*tls.Certificate{"arn:cert-a": certA, "arn:cert-b": certB}
	h := newHarness(t, Config{Certificate: func(arn string) (*tls.Certificate, error) {
		if c := certs[arn]; c != nil {
			return c, nil
		}
		return nil, fmt.Errorf("no certificate %s", arn)
	}})
	a := newBackend(t, "a")
	tgs := map[string]*desired.TargetGroup{"tg": targetGroup("tg", nil, a.target())}
	configure := func(h2 string) {
		lb := &desired.LoadBalancer{ARN: "arn:lb", State: "active", Attributes: map[string]string{"routing.http2.enabled": h2},
			Listeners: []*desired.Listener{{Port: h.port, Protocol: "HTTPS", Certificates: []string{"arn:cert-a", "arn:cert-b"},
				Rules: []*desired.Rule{defaultRule(forward("tg"))}}}}
		h.node.Update(lb, tgs)
	}
	configure("true")
	h.waitHealthy("a")

	pool := x509.NewCertPool()
	pool.AddCert(leafA)
	pool.AddCert(leafB)
	client := func(server string) *http.Client {
		return &http.Client{Transport: &http.Transport{ForceAttemptHTTP2: true,
			TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: server},
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "tcp", "127.0.0.1:"+strconv.Itoa(h.port))
			}}}
	}
	do := func(host string) (*http.Response, reply) {
		req, _ := http.NewRequest("GET", "https://"+host+"/", nil)
		resp, err := client(host).Do(req)
		if err != nil {
			t.Fatalf("https %s: %v", host, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var echo struct{ Headers http.Header }
		json.Unmarshal(body, &echo)
		return resp, reply{code: resp.StatusCode, fwd: echo.Headers}
	}
	resp, r := do("b.test")
	if resp.ProtoMajor != 2 || r.code != 200 {
		t.Fatalf("want HTTP/2 200, got %s %d", resp.Proto, r.code)
	}
	if got := resp.TLS.PeerCertificates[0].Subject.CommonName; got != "b.test" {
		t.Errorf("SNI b.test served %s", got)
	}
	if r.fwd.Get("X-Forwarded-Proto") != "https" {
		t.Errorf("X-Forwarded-Proto %q", r.fwd.Get("X-Forwarded-Proto"))
	}
	resp, _ = do("a.test")
	if got := resp.TLS.PeerCertificates[0].Subject.CommonName; got != "a.test" {
		t.Errorf("SNI a.test served %s", got)
	}

	configure("false")
	if resp, _ := do("a.test"); resp.ProtoMajor != 1 {
		t.Errorf("routing.http2.enabled=false still negotiated %s", resp.Proto)
	}
}

func TestIdleTimeoutClosesClientConnections(t *testing.T) {
	h := newHarness(t, Config{})
	h.update(map[string]string{"idle_timeout.timeout_seconds": "1"}, []*desired.Rule{defaultRule(fixed("ok"))})
	conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(h.port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("idle connection: %v", err)
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 3*time.Second {
		t.Errorf("closed after %v, want about 1 s", d)
	}
}

func TestUpdateUnderLoad(t *testing.T) {
	h := newHarness(t, Config{})
	a, b, c := newBackend(t, "a"), newBackend(t, "b"), newBackend(t, "c")
	rules := []*desired.Rule{defaultRule(forward("tg"))}
	two := targetGroup("tg", nil, a.target(), b.target())
	three := targetGroup("tg", nil, a.target(), b.target(), c.target())
	h.update(nil, rules, three)
	h.waitHealthy("a", "b", "c")

	var failed, total atomic.Int32
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				resp, err := http.Get(h.url + "/")
				total.Add(1)
				if err != nil {
					failed.Add(1)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					failed.Add(1)
				}
			}
		})
	}
	for i := range 100 {
		if i%2 == 0 {
			h.update(nil, rules, two)
		} else {
			h.update(nil, rules, three)
		}
		time.Sleep(2 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	if failed.Load() != 0 || total.Load() < 100 {
		t.Fatalf("%d of %d requests failed during updates", failed.Load(), total.Load())
	}
}

func TestStats(t *testing.T) {
	h := newHarness(t, Config{})
	a := newBackend(t, "a")
	h.update(nil, []*desired.Rule{defaultRule(forward("tg"))}, targetGroup("tg", nil, a.target()))
	h.waitHealthy("a")
	for range 5 {
		h.get("/")
	}
	h.get("/close")
	s := h.node.Stats()
	if len(s.Targets) != 1 {
		t.Fatalf("targets %+v", s.Targets)
	}
	ts := s.Targets[0]
	if s.Requests != 6 || ts.Requests != 6 || ts.Target2XX != 5 || ts.ConnectionErrors != 1 || !ts.Healthy || ts.ResponseTime <= 0 || s.ELB[502] != 1 {
		t.Errorf("stats %+v %+v", s, ts)
	}
}

func TestWildcard(t *testing.T) {
	for _, c := range []struct {
		p, s string
		fold bool
		want bool
	}{
		{"/api/*", "/api/", false, true},
		{"/api/*", "/api", false, false},
		{"*.example.com", "a.b.example.com", true, true},
		{"*.example.com", "example.com", true, false},
		{"a?c", "abc", false, true},
		{"a?c", "ac", false, false},
		{"*", "", false, true},
		{"ABC", "abc", false, false},
		{"ABC", "abc", true, true},
		{"*x*y", "axbxcy", false, true},
	} {
		if got := wildcard(c.p, c.s, c.fold); got != c.want {
			t.Errorf("wildcard(%q, %q, %v) = %v", c.p, c.s, c.fold, got)
		}
	}
}

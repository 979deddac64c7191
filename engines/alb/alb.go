// Package alb is the HTTP data plane of one Application Load Balancer node.
//
// A Node serves the listeners its caller opened (inside the node's network
// namespace) and reaches targets through the caller's Dial (which dials from
// inside it); it knows nothing of namespaces. It is configured from the
// topology model and reproduces what clients and targets observe of an ALB:
// rules evaluated in priority order, forward/redirect/fixed-response
// actions, round robin and least outstanding requests, slow start,
// stickiness cookies named as AWS names them, fail open, draining, health
// checks with AWS's thresholds and reason codes, X-Forwarded-* and
// X-Amzn-Trace-Id, and AWS's 502/503/504/460 status semantics.
//
// The request path reads one immutable compiled configuration through an
// atomic pointer; per-target state (health, outstanding requests, counters)
// is atomic, so no lock is taken per request.
package alb

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudbox/cloudbox/desired"
)

// Config is what a Node needs from its caller.
type Config struct {
	Node *desired.LBNode
	// Dial connects to a target from inside the node's namespace.
	Dial func(ctx context.Context, addr netip.AddrPort) (net.Conn, error)
	// Certificate returns the TLS certificate of an ACM ARN (HTTPS
	// listeners; SNI picks among a listener's certificates, default first).
	Certificate func(arn string) (*tls.Certificate, error)
	// Health is called on every health transition this node observes for a
	// target: healthy, or unhealthy with AWS's reason code
	// (Target.ResponseCodeMismatch, Target.Timeout, Target.FailedHealthChecks)
	// and description. It is also called when an unhealthy target's reason
	// changes. It must not block for long.
	Health func(tgARN, targetID string, port int, healthy bool, reason, description string)
	Log    *slog.Logger
	Now    func() time.Time
	// TimeScale is cloudbox's --time-scale: health-check intervals and
	// timeouts and the slow start run TimeScale times faster than AWS's (1,
	// or 0, means AWS's timings).
	TimeScale float64
	// MinCheckTimeout is the shortest a health check's timeout gets when
	// TimeScale compresses it (never beyond the configured timeout): a
	// loaded target answers in real time.
	MinCheckTimeout time.Duration
}

// connectTimeout is AWS's timeout for connecting to a target.
const connectTimeout = 10 * time.Second

// Node is the data plane of one load balancer node.
type Node struct {
	cfg   Config
	state atomic.Pointer[compiled]
	proxy *httputil.ReverseProxy
	stats lbCounters

	mu      sync.Mutex
	closed  bool
	targets map[targetKey]*target
	servers map[*http.Server]struct{}
	idle    time.Duration // idle timeout the transports were built with
	checks  sync.WaitGroup
}

// compiled is one configuration, immutable once published.
type compiled struct {
	listeners   map[int]*listener
	groups      map[string]*group
	idleTimeout time.Duration
	http2       bool
	dropInvalid bool
}

type listener struct {
	port int
	// portValue is the X-Forwarded-Port header value.
	portValue []string
	https     bool
	rules     []*rule
	tls       *tls.Config
}

// NewNode returns a node with no configuration; Update gives it one.
func NewNode(cfg Config) *Node {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.TimeScale <= 0 {
		cfg.TimeScale = 1
	}
	if cfg.Health == nil {
		cfg.Health = func(string, string, int, bool, string, string) {}
	}
	n := &Node{
		cfg:     cfg,
		targets: map[targetKey]*target{},
		servers: map[*http.Server]struct{}{},
		idle:    60 * time.Second,
	}
	n.proxy = n.newProxy()
	n.state.Store(&compiled{listeners: map[int]*listener{}, groups: map[string]*group{}, idleTimeout: n.idle, http2: true})
	return n
}

// scaled converts AWS seconds to this node's time.
func (n *Node) scaled(seconds int) time.Duration {
	return time.Duration(float64(seconds) / n.cfg.TimeScale * float64(time.Second))
}

// Update swaps in the load balancer's configuration and target groups
// (tgs by ARN). Requests in flight keep the configuration they started
// with; health state of targets that stay is kept; new targets start in
// "initial".
func (n *Node) Update(lb *desired.LoadBalancer, tgs map[string]*desired.TargetGroup) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return
	}
	c := &compiled{
		listeners:   map[int]*listener{},
		groups:      map[string]*group{},
		idleTimeout: 60 * time.Second,
		http2:       true,
	}
	if v, err := strconv.Atoi(lb.Attributes["idle_timeout.timeout_seconds"]); err == nil && v > 0 {
		c.idleTimeout = time.Duration(v) * time.Second
	}
	c.http2 = lb.Attributes["routing.http2.enabled"] != "false"
	c.dropInvalid = lb.Attributes["routing.http.drop_invalid_header_fields.enabled"] == "true"
	if c.idleTimeout != n.idle {
		n.idle = c.idleTimeout
		for _, t := range n.targets {
			t.setTransport(n.newTransport(t))
		}
	}

	// Only groups some listener forwards to are in use by this node.
	used := map[string]bool{}
	for _, l := range lb.Listeners {
		for _, r := range l.Rules {
			for _, a := range r.Actions {
				for _, w := range a.TargetGroups {
					used[w.ARN] = true
				}
			}
		}
	}
	seen := map[targetKey]bool{}
	for arn := range used {
		tg := tgs[arn]
		if tg == nil {
			continue
		}
		g := n.compileGroup(tg)
		for _, tt := range tg.Targets {
			k := targetKey{tg: arn, id: tt.ID, port: tt.Port}
			addr := netip.AddrPortFrom(tt.IP, uint16(tt.Port))
			t := n.targets[k]
			if t != nil && t.addr != addr {
				n.stopTarget(t)
				t = nil
			}
			if t == nil {
				t = n.newTarget(k, addr, tg.Protocol == "HTTPS")
				n.targets[k] = t
			}
			seen[k] = true
			t.draining.Store(tt.Draining)
			if tt.Draining {
				n.stopCheck(t)
			} else {
				n.startCheck(t, tg.HealthCheck)
			}
			g.targets = append(g.targets, t)
		}
		c.groups[arn] = g
	}
	for k, t := range n.targets {
		if !seen[k] {
			n.stopTarget(t)
			delete(n.targets, k)
		}
	}
	for _, l := range lb.Listeners {
		c.listeners[l.Port] = n.compileListener(l, c.http2)
	}
	n.state.Store(c)
}

// Serve serves the listener on port with l until Close. HTTPS listeners
// terminate TLS here (HTTP/2 by ALPN when routing.http2.enabled).
func (n *Node) Serve(port int, l net.Listener) error {
	srv := &http.Server{
		Handler:           &handler{n: n, port: port},
		ReadHeaderTimeout: n.state.Load().idleTimeout,
		IdleTimeout:       idleSentinel,
		ConnState:         n.connState,
		ErrorLog:          slog.NewLogLogger(n.cfg.Log.Handler(), slog.LevelDebug),
	}
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return http.ErrServerClosed
	}
	n.servers[srv] = struct{}{}
	n.mu.Unlock()
	err := srv.Serve(&tlsListener{Listener: l, n: n, port: port})
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// Close stops serving, closes client connections and stops health checks.
func (n *Node) Close() error {
	n.mu.Lock()
	n.closed = true
	servers := n.servers
	n.servers = nil
	for k, t := range n.targets {
		n.stopTarget(t)
		delete(n.targets, k)
	}
	n.mu.Unlock()
	var err error
	for srv := range servers {
		err = errors.Join(err, srv.Close())
	}
	n.checks.Wait()
	return err
}

// idleSentinel is the http.Server's IdleTimeout. The server arms it as a
// read deadline whenever a connection falls idle; clientConn replaces that
// deadline with the load balancer's current idle timeout, so an Update
// applies to open connections without touching the server.
const idleSentinel = 100 * 365 * 24 * time.Hour

// clientConn is a client connection of a node.
type clientConn struct {
	*net.TCPConn
	n *Node
}

func (c clientConn) SetReadDeadline(t time.Time) error {
	if !t.IsZero() && time.Until(t) > idleSentinel/2 {
		t = time.Now().Add(c.n.state.Load().idleTimeout)
	}
	return c.TCPConn.SetReadDeadline(t)
}

// connState applies the idle timeout to HTTP/2 connections, whose server
// reports idleness through these hooks only.
func (n *Node) connState(c net.Conn, s http.ConnState) {
	if _, ok := c.(*tls.Conn); !ok {
		return
	}
	switch s {
	case http.StateIdle:
		c.SetReadDeadline(time.Now().Add(n.state.Load().idleTimeout))
	case http.StateActive:
		c.SetReadDeadline(time.Time{})
	}
}

// tlsListener wraps accepted connections in TLS when the port's listener
// is HTTPS at accept time. The handshake runs later, in the server's
// connection goroutine.
type tlsListener struct {
	net.Listener
	n    *Node
	port int
}

func (l *tlsListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		c = clientConn{TCPConn: tc, n: l.n}
	}
	if li := l.n.state.Load().listeners[l.port]; li != nil && li.https {
		return tls.Server(c, li.tls), nil
	}
	return c, nil
}

func (n *Node) compileListener(l *desired.Listener, h2 bool) *listener {
	li := &listener{port: l.Port, portValue: []string{strconv.Itoa(l.Port)}, https: l.Protocol == "HTTPS"}
	for _, r := range l.Rules {
		li.rules = append(li.rules, compileRule(r))
	}
	if li.https {
		li.tls = n.tlsConfig(l.Certificates, h2)
	}
	return li
}

// tlsConfig serves a listener's certificates by SNI, the default (first)
// when none matches. Certificates are fetched on first use.
func (n *Node) tlsConfig(arns []string, h2 bool) *tls.Config {
	var (
		mu    sync.Mutex
		certs []*tls.Certificate
	)
	load := func() ([]*tls.Certificate, error) {
		mu.Lock()
		defer mu.Unlock()
		if certs != nil {
			return certs, nil
		}
		if n.cfg.Certificate == nil || len(arns) == 0 {
			return nil, errors.New("alb: listener has no certificate")
		}
		var cs []*tls.Certificate
		for _, arn := range arns {
			c, err := n.cfg.Certificate(arn)
			if err != nil {
				return nil, err
			}
			cs = append(cs, c)
		}
		certs = cs
		return certs, nil
	}
	protos := []string{"http/1.1"}
	if h2 {
		protos = []string{"h2", "http/1.1"}
	}
	return &tls.Config{
		NextProtos: protos,
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			cs, err := load()
			if err != nil {
				return nil, err
			}
			if hello.ServerName != "" {
				for _, c := range cs {
					if hello.SupportsCertificate(c) == nil {
						return c, nil
					}
				}
			}
			return cs[0], nil
		},
	}
}

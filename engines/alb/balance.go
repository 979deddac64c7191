package alb

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"hash/fnv"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/cloudbox/cloudbox/desired"
)

// Health states of a target as this node sees it.
const (
	stateInitial int32 = iota
	stateHealthy
	stateUnhealthy
)

type targetKey struct {
	tg   string
	id   string
	port int
}

// target is one registered target of one group. It outlives Updates that
// keep it, with its health, connection pool and counters.
type target struct {
	key   targetKey
	addr  netip.AddrPort
	https bool
	tr    atomic.Pointer[http.Transport]

	outstanding  atomic.Int64
	health       atomic.Int32
	healthySince atomic.Int64 // UnixNano of the last transition to healthy
	draining     atomic.Bool
	counters     targetCounters

	// Guarded by Node.mu.
	hc     desired.HealthCheck
	cancel func()
}

func (n *Node) newTarget(k targetKey, addr netip.AddrPort, https bool) *target {
	t := &target{key: k, addr: addr, https: https}
	t.tr.Store(n.newTransport(t))
	return t
}

// newTransport is the target's connection pool: keep-alive HTTP/1.1,
// dialled from the node, with the idle timeout as the time the target has
// to start answering.
func (n *Node) newTransport(t *target) *http.Transport {
	addr := t.addr
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			ctx, cancel := context.WithTimeout(ctx, connectTimeout)
			defer cancel()
			c, err := n.cfg.Dial(ctx, addr)
			if err != nil {
				return nil, err
			}
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetNoDelay(true)
			}
			return c, nil
		},
		MaxIdleConnsPerHost:   1024,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: n.idle,
		DisableCompression:    true,
	}
	if t.https {
		// AWS does not validate target certificates.
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	return tr
}

func (t *target) setTransport(tr *http.Transport) {
	if old := t.tr.Swap(tr); old != nil {
		old.CloseIdleConnections()
	}
}

// stopTarget stops health checks and lets the pool's connections go
// once requests in flight finish.
func (n *Node) stopTarget(t *target) {
	n.stopCheck(t)
	t.tr.Load().CloseIdleConnections()
}

// group is a target group compiled for one configuration.
type group struct {
	arn       string
	hash      string // short, stable id used in cookies
	targets   []*target
	lor       bool
	slowStart time.Duration
	// stickiness: "" (off), "lb_cookie" or "app_cookie".
	stickiness string
	stickyDur  time.Duration
	appCookie  string
	rr         atomic.Uint64
}

func (n *Node) compileGroup(tg *desired.TargetGroup) *group {
	a := tg.Attributes
	g := &group{arn: tg.ARN, hash: shortHash(tg.ARN)}
	g.lor = a["load_balancing.algorithm.type"] == "least_outstanding_requests"
	if v, _ := strconv.Atoi(a["slow_start.duration_seconds"]); v > 0 {
		g.slowStart = n.scaled(v)
	}
	if a["stickiness.enabled"] == "true" {
		switch a["stickiness.type"] {
		case "app_cookie":
			if a["stickiness.app_cookie.cookie_name"] != "" {
				g.stickiness = "app_cookie"
				g.appCookie = a["stickiness.app_cookie.cookie_name"]
				g.stickyDur = seconds(a["stickiness.app_cookie.duration_seconds"], 86400)
			}
		case "lb_cookie", "":
			g.stickiness = "lb_cookie"
			g.stickyDur = seconds(a["stickiness.lb_cookie.duration_seconds"], 86400)
		}
	}
	return g
}

func seconds(v string, def int) time.Duration {
	s, err := strconv.Atoi(v)
	if err != nil || s <= 0 {
		s = def
	}
	return time.Duration(s) * time.Second
}

func shortHash(s string) string {
	h := fnv.New64a()
	h.Write([]byte(s))
	return strconv.FormatUint(h.Sum64(), 36)
}

// eligible reports whether t may take a new request: not draining, and
// healthy unless the group fails open.
func (t *target) eligible(failOpen bool) bool {
	return !t.draining.Load() && (failOpen || t.health.Load() == stateHealthy)
}

// failOpen reports whether no target of g is healthy (AWS then routes to
// all of them) and whether any target can take requests at all.
func (g *group) failOpen() (open, any bool) {
	open = true
	for _, t := range g.targets {
		if t.draining.Load() {
			continue
		}
		any = true
		if t.health.Load() == stateHealthy {
			return false, true
		}
	}
	return open, any
}

// pick chooses a target for a new request, honouring a sticky target
// when it can still take requests; nil when no target can.
func (g *group) pick(sticky *target, now time.Time) *target {
	open, any := g.failOpen()
	if !any {
		return nil
	}
	if sticky != nil && sticky.eligible(open) {
		return sticky
	}
	if g.lor {
		return g.leastOutstanding(open)
	}
	if g.slowStart > 0 && !open {
		if t := g.weighted(now); t != nil {
			return t
		}
	}
	count := 0
	for _, t := range g.targets {
		if t.eligible(open) {
			count++
		}
	}
	k := int(g.rr.Add(1) % uint64(count))
	for _, t := range g.targets {
		if t.eligible(open) {
			if k == 0 {
				return t
			}
			k--
		}
	}
	return nil
}

// leastOutstanding picks the eligible target with the fewest requests in
// flight, starting the scan at a rotating offset so ties spread.
func (g *group) leastOutstanding(open bool) *target {
	var best *target
	var min int64
	start := int(g.rr.Add(1) % uint64(len(g.targets)))
	for i := range g.targets {
		t := g.targets[(start+i)%len(g.targets)]
		if !t.eligible(open) {
			continue
		}
		if o := t.outstanding.Load(); best == nil || o < min {
			best, min = t, o
		}
	}
	return best
}

// weighted picks among healthy targets by slow-start weight: a target
// that turned healthy less than slowStart ago gets a share that grows
// linearly from 0 to 1. It returns nil when no target is ramping, or when
// none has finished ramping (then all share equally, as AWS does when
// every target is new).
func (g *group) weighted(now time.Time) *target {
	var sum float64
	ramping, full := false, false
	for _, t := range g.targets {
		if !t.eligible(false) {
			continue
		}
		w := g.weight(t, now)
		ramping = ramping || w < 1
		full = full || w >= 1
		sum += w
	}
	if !ramping || !full {
		return nil
	}
	x := rand.Float64() * sum
	var last *target
	for _, t := range g.targets {
		if !t.eligible(false) {
			continue
		}
		last = t
		if x -= g.weight(t, now); x < 0 {
			return t
		}
	}
	return last
}

func (g *group) weight(t *target, now time.Time) float64 {
	since := now.Sub(time.Unix(0, t.healthySince.Load()))
	if since >= g.slowStart {
		return 1
	}
	if since <= 0 {
		return 0
	}
	return float64(since) / float64(g.slowStart)
}

// Stickiness cookies. AWS encrypts their values; ours only need to be
// opaque to clients and understood by every node of the load balancer, so
// they encode the target group's hash and the target.
const (
	cookieLB     = "AWSALB"
	cookieLBCORS = "AWSALBCORS"
	cookieTG     = "AWSALBTG"
	cookieTGCORS = "AWSALBTGCORS"
	// AWS splits its application stickiness cookie over AWSALBAPP-0..3,
	// marking unused parts "_remove_".
	cookieApp = "AWSALBAPP-"
)

func encodeTarget(g *group, t *target) string {
	return base64.RawURLEncoding.EncodeToString([]byte(g.hash + "|" + t.key.id + "|" + strconv.Itoa(t.key.port)))
}

// decodeTarget returns the target of g that v names, or nil.
func decodeTarget(g *group, v string) *target {
	// The decoder skips CR and LF and Strict rejects stray padding bits, so
	// only the one spelling this node gives out names a target.
	if strings.ContainsAny(v, "\r\n") {
		return nil
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(v)
	if err != nil {
		return nil
	}
	parts := strings.Split(string(b), "|")
	if len(parts) != 3 || parts[0] != g.hash {
		return nil
	}
	for _, t := range g.targets {
		if t.key.id == parts[1] && strconv.Itoa(t.key.port) == parts[2] {
			return t
		}
	}
	return nil
}

// stickyTarget returns the target the request's stickiness cookie names
// in g, if g is sticky and the cookie is present.
func stickyTarget(g *group, r *http.Request) *target {
	switch g.stickiness {
	case "lb_cookie":
		if c, err := r.Cookie(cookieLB); err == nil {
			return decodeTarget(g, c.Value)
		}
	case "app_cookie":
		// The application's cookie must still be there: stickiness
		// follows its lifetime.
		if _, err := r.Cookie(g.appCookie); err != nil {
			return nil
		}
		if c, err := r.Cookie(cookieApp + "0"); err == nil {
			return decodeTarget(g, c.Value)
		}
	}
	return nil
}

// setStickyCookies adds the group's stickiness cookies to a target's
// response.
func setStickyCookies(h http.Header, g *group, t *target, resp *http.Response, now time.Time) {
	switch g.stickiness {
	case "lb_cookie":
		v := encodeTarget(g, t)
		exp := now.Add(g.stickyDur).UTC().Format(http.TimeFormat)
		h.Add("Set-Cookie", cookieLB+"="+v+"; Expires="+exp+"; Path=/")
		h.Add("Set-Cookie", cookieLBCORS+"="+v+"; Expires="+exp+"; Path=/; SameSite=None; Secure")
	case "app_cookie":
		if !setsCookie(resp, g.appCookie) {
			return
		}
		exp := now.Add(g.stickyDur).UTC().Format(http.TimeFormat)
		h.Add("Set-Cookie", cookieApp+"0="+encodeTarget(g, t)+"; Expires="+exp+"; Path=/")
		for _, i := range []string{"1", "2", "3"} {
			h.Add("Set-Cookie", cookieApp+i+"=_remove_; Expires="+exp+"; Path=/")
		}
	}
}

// setsCookie reports whether resp sets the cookie name.
func setsCookie(resp *http.Response, name string) bool {
	for _, c := range resp.Header["Set-Cookie"] {
		if i := strings.IndexByte(c, '='); i > 0 && strings.TrimSpace(c[:i]) == name {
			return true
		}
	}
	return false
}

// pickGroup chooses among a forward action's target groups by weight,
// keeping a client on the group its AWSALBTG cookie names when group
// stickiness is on.
func pickGroup(c *compiled, cr *rule, r *http.Request) *group {
	tgs := cr.action.TargetGroups
	if len(tgs) == 1 {
		return c.groups[tgs[0].ARN]
	}
	if cr.action.StickinessEnabled {
		if ck, err := r.Cookie(cookieTG); err == nil {
			for i, w := range tgs {
				if cr.weights[i] > 0 && shortHash(w.ARN) == ck.Value {
					if g := c.groups[w.ARN]; g != nil {
						return g
					}
				}
			}
		}
	}
	if cr.sum <= 0 {
		return nil
	}
	x := rand.IntN(cr.sum)
	for i, w := range tgs {
		if x -= cr.weights[i]; x < 0 {
			return c.groups[w.ARN]
		}
	}
	return nil
}

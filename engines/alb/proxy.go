package alb

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// handler serves one listener.
type handler struct {
	n    *Node
	port int
}

// reqState travels with a forwarded request through the reverse proxy.
type reqState struct {
	c     *compiled
	g     *group
	t     *target
	li    *listener
	start time.Time
	// stickTG is the group to name in AWSALBTG cookies, nil when group
	// stickiness is off.
	stickTG  *group
	stickDur time.Duration
}

type stateKey struct{}

var statePool = sync.Pool{New: func() any { return new(reqState) }}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := h.n
	c := n.state.Load()
	n.stats.requests.Add(1)
	li := c.listeners[h.port]
	if li == nil {
		n.elbError(w, http.StatusServiceUnavailable)
		return
	}
	var q url.Values
	var cr *rule
	for _, ru := range li.rules {
		if ru.match(r, &q) {
			cr = ru
			break
		}
	}
	if cr == nil {
		n.elbError(w, http.StatusServiceUnavailable)
		return
	}
	switch cr.action.Type {
	case "redirect":
		n.redirect(w, r, cr, h.port)
		return
	case "fixed-response":
		n.fixedResponse(w, cr)
		return
	case "forward":
	default:
		n.elbError(w, http.StatusInternalServerError)
		return
	}
	g := pickGroup(c, cr, r)
	if g == nil {
		n.elbError(w, http.StatusServiceUnavailable)
		return
	}
	var sticky *target
	if g.stickiness != "" {
		sticky = stickyTarget(g, r)
	}
	now := n.cfg.Now()
	t := g.pick(sticky, now)
	if t == nil {
		// No registered target that can take requests.
		n.elbError(w, http.StatusServiceUnavailable)
		return
	}
	st := statePool.Get().(*reqState)
	*st = reqState{c: c, g: g, t: t, li: li, start: now}
	if cr.action.StickinessEnabled && len(cr.action.TargetGroups) > 1 {
		st.stickTG = g
		st.stickDur = time.Duration(cr.action.StickinessDuration) * time.Second
	}
	t.outstanding.Add(1)
	t.counters.requests.Add(1)
	// Deferred: the proxy panics with http.ErrAbortHandler when copying a
	// response body fails half way.
	defer func() {
		t.outstanding.Add(-1)
		*st = reqState{}
		statePool.Put(st)
	}()
	n.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), stateKey{}, st)))
}

func (n *Node) newProxy() *httputil.ReverseProxy {
	return &httputil.ReverseProxy{
		Rewrite:        n.rewrite,
		Transport:      roundTripper{},
		ModifyResponse: n.modifyResponse,
		ErrorHandler:   n.proxyError,
		BufferPool:     bufPool{},
		ErrorLog:       slog.NewLogLogger(n.cfg.Log.Handler(), slog.LevelDebug),
	}
}

// roundTripper sends a request through its chosen target's pool.
type roundTripper struct{}

func (roundTripper) RoundTrip(r *http.Request) (*http.Response, error) {
	st := r.Context().Value(stateKey{}).(*reqState)
	return st.t.tr.Load().RoundTrip(r)
}

// rewrite prepares the request for the target as an ALB does: Host kept,
// X-Forwarded-For appended, X-Forwarded-Proto and -Port set, the trace id
// added or extended, invalid header fields dropped when configured.
func (n *Node) rewrite(pr *httputil.ProxyRequest) {
	st := pr.In.Context().Value(stateKey{}).(*reqState)
	out := pr.Out
	out.URL.Scheme = "http"
	if st.t.https {
		out.URL.Scheme = "https"
	}
	out.URL.Host = st.t.addr.String()
	out.Host = pr.In.Host
	h := out.Header
	if st.c.dropInvalid {
		for k := range h {
			if !validHeaderName(k) {
				delete(h, k)
			}
		}
	}
	client, _, err := net.SplitHostPort(pr.In.RemoteAddr)
	if err != nil {
		client = pr.In.RemoteAddr
	}
	if prior := pr.In.Header["X-Forwarded-For"]; len(prior) > 0 {
		client = strings.Join(prior, ", ") + ", " + client
	}
	h["X-Forwarded-For"] = []string{client}
	// Header value slices are shared between requests: nothing downstream
	// modifies them in place.
	if pr.In.TLS != nil {
		h["X-Forwarded-Proto"] = protoHTTPS
	} else {
		h["X-Forwarded-Proto"] = protoHTTP
	}
	h["X-Forwarded-Port"] = st.li.portValue
	h["X-Amzn-Trace-Id"] = []string{traceID(h.Get("X-Amzn-Trace-Id"), st.start)}
}

var (
	protoHTTP  = []string{"http"}
	protoHTTPS = []string{"https"}
)

// validHeaderName is AWS's rule for drop_invalid_header_fields: letters,
// digits and hyphens only.
func validHeaderName(k string) bool {
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return k != ""
}

// traceID returns the X-Amzn-Trace-Id to send: a new Root when the
// request has none, else the incoming fields with Self inserted or
// updated.
func traceID(in string, now time.Time) string {
	id := newTraceValue(now)
	if !strings.Contains(in, "Root=") {
		if in == "" {
			return "Root=" + id
		}
		return "Root=" + id + ";" + in
	}
	fields := strings.Split(in, ";")
	for i, f := range fields {
		if strings.HasPrefix(strings.TrimSpace(f), "Self=") {
			fields[i] = "Self=" + id
			return strings.Join(fields, ";")
		}
	}
	return "Self=" + id + ";" + in
}

// newTraceValue is "1-<epoch seconds, 8 hex>-<24 hex>".
func newTraceValue(now time.Time) string {
	const hexd = "0123456789abcdef"
	var b [2 + 8 + 1 + 24]byte
	b[0], b[1] = '1', '-'
	sec := uint32(now.Unix())
	for i := 0; i < 8; i++ {
		b[2+i] = hexd[(sec>>(28-4*i))&0xf]
	}
	b[10] = '-'
	r1, r2 := rand.Uint64(), rand.Uint32()
	for i := 0; i < 16; i++ {
		b[11+i] = hexd[(r1>>(60-4*i))&0xf]
	}
	for i := 0; i < 8; i++ {
		b[27+i] = hexd[(r2>>(28-4*i))&0xf]
	}
	return string(b[:])
}

// modifyResponse counts the target's answer and adds stickiness cookies.
func (n *Node) modifyResponse(resp *http.Response) error {
	st := resp.Request.Context().Value(stateKey{}).(*reqState)
	now := n.cfg.Now()
	st.t.counters.record(resp.StatusCode, now.Sub(st.start))
	if st.g.stickiness != "" {
		setStickyCookies(resp.Header, st.g, st.t, resp, now)
	}
	if st.stickTG != nil {
		exp := now.Add(st.stickDur).UTC().Format(http.TimeFormat)
		resp.Header.Add("Set-Cookie", cookieTG+"="+st.stickTG.hash+"; Expires="+exp+"; Path=/")
		resp.Header.Add("Set-Cookie", cookieTGCORS+"="+st.stickTG.hash+"; Expires="+exp+"; Path=/; SameSite=None; Secure")
	}
	return nil
}

// statusClientClosed is AWS's 460: the client closed the connection
// before the load balancer could answer.
const statusClientClosed = 460

// proxyError maps a failure to reach or read the target to AWS's codes:
// 460 when the client went away, 504 when connecting or waiting for the
// answer timed out, 502 otherwise (refused, reset, malformed response).
func (n *Node) proxyError(w http.ResponseWriter, r *http.Request, err error) {
	st := r.Context().Value(stateKey{}).(*reqState)
	code := http.StatusBadGateway
	var ne net.Error
	switch {
	case r.Context().Err() != nil:
		code = statusClientClosed
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		code = http.StatusGatewayTimeout
	}
	if code != statusClientClosed {
		st.t.counters.connErrors.Add(1)
	}
	n.cfg.Log.Debug("alb: target error", "target", st.t.addr, "status", code, "err", err)
	n.elbError(w, code)
}

// Bodies of the load balancer's own error responses, as AWS writes them.
var errorPages = map[int]string{}

func init() {
	for code, text := range map[int]string{
		400: "400 Bad Request", 403: "403 Forbidden", 404: "404 Not Found",
		500: "500 Internal Server Error", 502: "502 Bad Gateway",
		503: "503 Service Temporarily Unavailable", 504: "504 Gateway Time-out",
	} {
		errorPages[code] = "<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text + "</h1></center>\r\n</body>\r\n</html>\r\n"
	}
}

// elbError answers from the load balancer itself.
func (n *Node) elbError(w http.ResponseWriter, code int) {
	n.stats.elb(code)
	if code == statusClientClosed {
		return
	}
	h := w.Header()
	h["Server"] = []string{"awselb/2.0"}
	h["Content-Type"] = []string{"text/html"}
	body := errorPages[code]
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(code)
	io.WriteString(w, body)
}

func (n *Node) redirect(w http.ResponseWriter, r *http.Request, cr *rule, port int) {
	code := http.StatusMovedPermanently
	if cr.action.Redirect == nil {
		n.elbError(w, http.StatusInternalServerError)
		return
	}
	if cr.action.Redirect.StatusCode == "HTTP_302" {
		code = http.StatusFound
	}
	n.stats.elb(code)
	text := strconv.Itoa(code) + " " + http.StatusText(code)
	body := "<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text + "</h1></center>\r\n</body>\r\n</html>\r\n"
	h := w.Header()
	h["Server"] = []string{"awselb/2.0"}
	h["Location"] = []string{redirectURL(cr.action.Redirect, r, port)}
	h["Content-Type"] = []string{"text/html"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(code)
	io.WriteString(w, body)
}

func (n *Node) fixedResponse(w http.ResponseWriter, cr *rule) {
	fr := cr.action.FixedResponse
	if fr == nil {
		n.elbError(w, http.StatusInternalServerError)
		return
	}
	code, err := strconv.Atoi(fr.StatusCode)
	if err != nil {
		code = http.StatusOK
	}
	n.stats.elb(code)
	h := w.Header()
	h["Server"] = []string{"awselb/2.0"}
	ct := fr.ContentType
	if ct == "" {
		ct = "text/plain; charset=utf-8"
	}
	h["Content-Type"] = []string{ct}
	h["Content-Length"] = []string{strconv.Itoa(len(fr.MessageBody))}
	w.WriteHeader(code)
	io.WriteString(w, fr.MessageBody)
}

// bufPool recycles the proxy's copy buffers.
type bufPool struct{}

var copyBufs = sync.Pool{New: func() any { b := make([]byte, 32*1024); return &b }}

func (bufPool) Get() []byte { return *copyBufs.Get().(*[]byte) }

func (bufPool) Put(b []byte) { copyBufs.Put(&b) }

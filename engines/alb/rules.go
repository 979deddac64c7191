package alb

import (
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/cloudbox/cloudbox/desired"
)

// rule is a listener rule compiled for matching.
type rule struct {
	conds  []condition
	action desired.Action
	// weights and sum are the forward action's positive target group
	// weights (AWS ignores the weight of a single group).
	weights []int
	sum     int
}

type condition struct {
	field    string
	values   []string
	header   string
	query    []desired.KeyValue
	prefixes []netip.Prefix
}

func compileRule(r *desired.Rule) *rule {
	cr := &rule{}
	for _, c := range r.Conditions {
		cc := condition{field: c.Field, values: c.Values, header: http.CanonicalHeaderKey(c.HeaderName), query: c.QueryValues}
		if c.Field == "source-ip" {
			for _, v := range c.Values {
				if p, err := netip.ParsePrefix(v); err == nil {
					cc.prefixes = append(cc.prefixes, p.Masked())
				} else if a, err := netip.ParseAddr(v); err == nil {
					cc.prefixes = append(cc.prefixes, netip.PrefixFrom(a, a.BitLen()))
				}
			}
		}
		cr.conds = append(cr.conds, cc)
	}
	// The last action is the terminal one; authenticate actions, which
	// would precede it, are not modelled.
	if len(r.Actions) > 0 {
		cr.action = r.Actions[len(r.Actions)-1]
	}
	for _, w := range cr.action.TargetGroups {
		wt := w.Weight
		if len(cr.action.TargetGroups) == 1 {
			wt = 1
		}
		cr.weights = append(cr.weights, wt)
		cr.sum += wt
	}
	return cr
}

// match reports whether every condition of the rule matches r. query is
// parsed lazily, once per request.
func (cr *rule) match(r *http.Request, q *url.Values) bool {
	for i := range cr.conds {
		if !cr.conds[i].match(r, q) {
			return false
		}
	}
	return true
}

func (c *condition) match(r *http.Request, q *url.Values) bool {
	switch c.field {
	case "path-pattern":
		for _, v := range c.values {
			if wildcard(v, r.URL.Path, false) {
				return true
			}
		}
	case "host-header":
		host := hostOnly(r.Host)
		for _, v := range c.values {
			if wildcard(v, host, true) {
				return true
			}
		}
	case "http-header":
		for _, hv := range r.Header[c.header] {
			for _, v := range c.values {
				if wildcard(v, hv, true) {
					return true
				}
			}
		}
	case "http-request-method":
		for _, v := range c.values {
			if v == r.Method {
				return true
			}
		}
	case "query-string":
		if *q == nil {
			*q = r.URL.Query()
		}
		for _, kv := range c.query {
			for key, vals := range *q {
				if kv.Key != "" && !wildcard(kv.Key, key, true) {
					continue
				}
				for _, v := range vals {
					if wildcard(kv.Value, v, true) {
						return true
					}
				}
			}
		}
	case "source-ip":
		ap, err := netip.ParseAddrPort(r.RemoteAddr)
		if err != nil {
			return false
		}
		a := ap.Addr().Unmap()
		for _, p := range c.prefixes {
			if p.Contains(a) {
				return true
			}
		}
	}
	return false
}

// wildcard matches s against pattern, where * is any run of characters
// and ? any one; fold makes ASCII letters match case-insensitively.
func wildcard(pattern, s string, fold bool) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && (pattern[p] == '?' || eqByte(pattern[p], s[i], fold)):
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func eqByte(a, b byte, fold bool) bool {
	if a == b {
		return true
	}
	if !fold {
		return false
	}
	if 'A' <= a && a <= 'Z' {
		a += 'a' - 'A'
	}
	if 'A' <= b && b <= 'Z' {
		b += 'a' - 'A'
	}
	return a == b
}

// hostOnly strips the port from a Host header.
func hostOnly(h string) string {
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		return h[:i]
	}
	return h
}

// redirectURL builds the Location of a redirect action, substituting
// #{protocol}, #{host}, #{port}, #{path} (without its leading slash) and
// #{query} from the request. Components left empty keep the request's.
func redirectURL(rd *desired.Redirect, r *http.Request, port int) string {
	proto := "http"
	if r.TLS != nil {
		proto = "https"
	}
	host := hostOnly(r.Host)
	p := strconv.Itoa(port)
	path := strings.TrimPrefix(r.URL.Path, "/")
	sub := strings.NewReplacer("#{protocol}", proto, "#{host}", host, "#{port}", p, "#{path}", path, "#{query}", r.URL.RawQuery)
	or := func(v, def string) string {
		if v == "" {
			return def
		}
		return sub.Replace(v)
	}
	scheme := strings.ToLower(or(rd.Protocol, proto))
	h := or(rd.Host, host)
	pt := or(rd.Port, p)
	pa := or(rd.Path, "/"+path)
	if !strings.HasPrefix(pa, "/") {
		pa = "/" + pa
	}
	q := or(rd.Query, r.URL.RawQuery)
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString("://")
	b.WriteString(h)
	// ALB always writes the port, default ones too ("https://host:443/").
	b.WriteString(":")
	b.WriteString(pt)
	b.WriteString(pa)
	if q != "" {
		b.WriteString("?")
		b.WriteString(q)
	}
	return b.String()
}

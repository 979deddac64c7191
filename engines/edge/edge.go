// Package edge is the front of the daemon's listener: a table of the host
// names the simulated world answers on the host's loopback. A handler
// claims names (load balancers claim *.elb.amazonaws.com, S3 its website
// endpoints; CloudFront distributions are to come); a request whose Host
// is claimed goes to its claimant, any other to the API. The same table
// answers inside the world too, where the daemon serves it as AWS's API
// endpoints (engines/endpoints).
//
// The table only routes: what a claimant does with a request (the load
// balancers carry it through the simulated internet, so the host never
// routes to a simulated address) is its own business.
package edge

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
)

// Table maps host names to the handlers that claimed them. It is safe for
// concurrent use; claims may come and go while requests are served.
type Table struct {
	mu    sync.RWMutex
	exact map[string]http.Handler
	// under are the wildcard claims by domain (".elb.amazonaws.com").
	under map[string]http.Handler
}

// New returns an empty table: every request goes to the API.
func New() *Table {
	return &Table{exact: map[string]http.Handler{}, under: map[string]http.Handler{}}
}

// Register claims pattern for h: a host name ("api.example.com") or, with
// a leading "*.", every name under a domain at any depth
// ("*.elb.amazonaws.com" claims "web-1.us-east-1.elb.amazonaws.com", not
// "elb.amazonaws.com"). Names are case-insensitive; the most specific
// claim wins. Claiming a pattern twice panics, as http.ServeMux does.
// unregister withdraws the claim.
func (t *Table) Register(pattern string, h http.Handler) (unregister func()) {
	p := strings.ToLower(pattern)
	m := t.exact
	if d, ok := strings.CutPrefix(p, "*"); ok {
		m, p = t.under, d
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, dup := m[p]; dup {
		panic(fmt.Sprintf("edge: %s is claimed twice", pattern))
	}
	m[p] = h
	return func() {
		t.mu.Lock()
		defer t.mu.Unlock()
		delete(m, p)
	}
}

// lookup returns the handler claiming host (a Host header: its port and
// case do not matter), nil if none does.
func (t *Table) lookup(host string) http.Handler {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	t.mu.RLock()
	defer t.mu.RUnlock()
	if h := t.exact[host]; h != nil {
		return h
	}
	// The longest domain first: from the name's first dot outwards.
	for i := strings.IndexByte(host, '.'); i >= 0; {
		if h := t.under[host[i:]]; h != nil {
			return h
		}
		j := strings.IndexByte(host[i+1:], '.')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return nil
}

// Handler serves a request whose Host is claimed by its claimant and any
// other by next (the API).
func (t *Table) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h := t.lookup(r.Host); h != nil {
			h.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

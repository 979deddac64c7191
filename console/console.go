// Package console serves cloudbox's web console at /_cloudbox/console: a
// live, read-only view of one account's and region's world (VPCs, zones,
// subnets, instances, load balancers and their targets' health, gateways,
// peerings, databases and caches, Route 53 records), its counters, each
// resource as its Describe operation returns it, and the reachability
// analyzer as a form.
//
// Everything it shows comes from what the daemon already has: the services'
// own Describe operations, called in-process as the account's root, and the
// desired world the data plane compiles (the load balancers' nodes and the
// managed database and cache nodes, which no Describe places in a subnet).
// The page itself is static files embedded in the binary.
package console

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"io/fs"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/events"
	"github.com/cloudbox/cloudbox/reachability"
	"github.com/cloudbox/cloudbox/store"
)

// Prefix is where the console is served on the daemon's listener.
const Prefix = "/_cloudbox/console"

//go:embed static
var static embed.FS

// Invoke runs a service's operation (by its generated package name, such
// as "ec2") in an account and region, with the typed input of the
// operation; the daemon answers it through the same handlers as its API.
type Invoke func(ctx context.Context, account, region, service, op string, in any) (any, error)

// Config is what the console reads the world through.
type Config struct {
	Store        *store.Store
	Contributors []desired.Contributor
	Invoke       Invoke
	// NewInput returns a new input of a service's operation (nil when the
	// daemon does not serve it).
	NewInput func(service, op string) any
	// Events returns the events kept for GET /_cloudbox/events.
	Events func() []events.Event
	// Now is the daemon's (virtual) clock, the one CloudWatch stamps its
	// datapoints with.
	Now func() time.Time
}

// Console is the console's HTTP handler.
type Console struct {
	cfg Config
	mux *http.ServeMux
}

// New returns the console over cfg.
func New(cfg Config) *Console {
	c := &Console{cfg: cfg, mux: http.NewServeMux()}
	assets, _ := fs.Sub(static, "static")
	files := http.StripPrefix(Prefix+"/", http.FileServerFS(assets))
	c.mux.HandleFunc("GET "+Prefix, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, Prefix+"/", http.StatusMovedPermanently)
	})
	c.mux.Handle("GET "+Prefix+"/", files)
	c.mux.HandleFunc("GET "+Prefix+"/api/scopes", c.scopes)
	c.mux.HandleFunc("GET "+Prefix+"/api/world", c.world)
	c.mux.HandleFunc("GET "+Prefix+"/api/counters", c.counters)
	c.mux.HandleFunc("GET "+Prefix+"/api/resource", c.resource)
	c.mux.HandleFunc("GET "+Prefix+"/api/reach", c.reach)
	return c
}

// ServeHTTP serves the console: GET and HEAD only, and only to a browser
// that names the daemon by a loopback address or "localhost", so that a
// web page elsewhere cannot read the world by rebinding its own name to
// 127.0.0.1.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		fail(w, http.StatusMethodNotAllowed, "MethodNotAllowed", "the console is read-only: GET only")
		return
	}
	if !localHost(r.Host) {
		fail(w, http.StatusForbidden, "Forbidden", "the console answers only to an IP address or localhost in the Host header")
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'")
	w.Header().Set("Cache-Control", "no-store")
	c.mux.ServeHTTP(w, r)
}

// localHost reports whether a Host header names the daemon by address or
// as localhost.
func localHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return host == "localhost" || net.ParseIP(host) != nil
}

// accountRE and regionRE are the shapes a selector takes.
var (
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	regionRE  = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)
)

// scopeOf reads and checks the account and region of a request. known
// says whether the world has resources there: the console asks the
// services nothing about another scope, since EC2 makes a region's
// default VPC at its first call there, and the console changes nothing.
func (c *Console) scopeOf(w http.ResponseWriter, r *http.Request) (account, region string, known, ok bool) {
	account, region = r.URL.Query().Get("account"), r.URL.Query().Get("region")
	if !accountRE.MatchString(account) {
		fail(w, http.StatusBadRequest, "InvalidParameterValue", "account must be a 12-digit account id")
		return "", "", false, false
	}
	if !regionRE.MatchString(region) {
		fail(w, http.StatusBadRequest, "InvalidParameterValue", "region must be a region name such as us-east-1")
		return "", "", false, false
	}
	scopes, err := c.knownScopes()
	if err != nil {
		fail(w, http.StatusInternalServerError, "InternalFailure", err.Error())
		return "", "", false, false
	}
	return account, region, slices.Contains(scopes, Scope{account, region}), true
}

// call runs an operation with parameters given as JSON members (the
// operation's input shape, as `aws --cli-input-json` takes it) and
// returns its output as the CLI prints it: members by their AWS names,
// absent ones left out.
func (c *Console) call(ctx context.Context, account, region, service, op string, params map[string]any) (map[string]any, error) {
	in := c.cfg.NewInput(service, op)
	if in == nil {
		return nil, api.NotImplemented(service, op)
	}
	if params != nil {
		b, _ := json.Marshal(params)
		if err := json.Unmarshal(b, in); err != nil {
			return nil, err
		}
	}
	out, err := c.cfg.Invoke(ctx, account, region, service, op, in)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	pruned, _ := prune(m).(map[string]any)
	if pruned == nil {
		pruned = map[string]any{}
	}
	return pruned, nil
}

// prune drops the members an output leaves unset (nil pointers marshal as
// null), as the aws CLI's JSON leaves them out.
func prune(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if x = prune(x); x == nil {
				delete(v, k)
			} else {
				v[k] = x
			}
		}
		return v
	case []any:
		out := v[:0]
		for _, x := range v {
			if x = prune(x); x != nil {
				out = append(out, x)
			}
		}
		return out
	}
	return v
}

// snapshot is the desired world of every scope, as the data plane and the
// reachability analyzer see it.
func (c *Console) snapshot() (*desired.World, error) {
	return desired.Snapshot(c.cfg.Store, c.cfg.Contributors...)
}

// reach answers the "why can't A reach B on port P?" form: the daemon's
// reachability analyzer over the same world (GET /_cloudbox/reachability).
func (c *Console) reach(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	port := 0
	if p := q.Get("port"); p != "" {
		n, err := parsePort(p)
		if err != nil {
			fail(w, http.StatusBadRequest, "InvalidParameterValue", err.Error())
			return
		}
		port = n
	}
	world, err := c.snapshot()
	if err != nil {
		fail(w, http.StatusInternalServerError, "InternalFailure", err.Error())
		return
	}
	res, err := reachability.Analyze(world, reachability.Query{From: q.Get("from"), To: q.Get("to"), Protocol: q.Get("protocol"), Port: port})
	if err != nil {
		fail(w, http.StatusBadRequest, "InvalidParameterValue", err.Error())
		return
	}
	writeJSON(w, res)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// fail answers an error as {"error": code, "message": ...}.
func fail(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "message": msg})
}

// failAPI answers a service's error with its AWS code, message and status.
func failAPI(w http.ResponseWriter, err error) {
	var e *api.Error
	if !errors.As(err, &e) {
		e = api.As(err)
	}
	fail(w, e.Status, e.Code, e.Message)
}

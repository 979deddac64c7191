// Package daemon assembles a running cloudbox: the store, identities, the
// services and the HTTP server, and runs them until told to stop.
package daemon

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/authz"
	"github.com/cloudbox/cloudbox/ca"
	"github.com/cloudbox/cloudbox/clock"
	"github.com/cloudbox/cloudbox/console"
	"github.com/cloudbox/cloudbox/controllers"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/engines/edge"
	"github.com/cloudbox/cloudbox/engines/vpcdns"
	"github.com/cloudbox/cloudbox/events"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/metric"
	"github.com/cloudbox/cloudbox/registry"
	"github.com/cloudbox/cloudbox/server"
	"github.com/cloudbox/cloudbox/store"
)

// Version is cloudbox's version, set at build time with
// -ldflags "-X github.com/cloudbox/cloudbox/daemon.Version=...".
var Version = "0.1.0-dev"

// Config is what `cloudbox up` is told.
type Config struct {
	Listen    string
	DataDir   string
	Ephemeral bool
	Auth      string
	KeysFile  string
	Logger    *slog.Logger
	// Dataplane is "on" (run the VPCs and instances for real when this
	// machine can; `cloudbox up`'s default) or "off" (the control plane
	// alone; the default of an embedded daemon, as API tests use it).
	Dataplane string
	// TimeScale runs every AWS timer (CloudWatch, Auto Scaling, EC2, ELB,
	// the data plane's metrics and health checks) N times faster than
	// AWS's (1, or 0: AWS's timings).
	TimeScale float64
	// DaemonID names this daemon's namespaces and cgroups; empty: the one
	// kept in DataDir (made on first start), or a random one when
	// ephemeral.
	DaemonID string
	// ImageDir holds the images' root file systems, built once and shared
	// (by several daemons too); empty: $CLOUDBOX_IMAGE_DIR, else
	// <DataDir>/images, even when ephemeral, since they are a cache.
	ImageDir string
	// ImageMirror is the Debian mirror images are built from.
	ImageMirror string
	// StrictImages refuses AMI ids the catalogue does not know, as AWS
	// does, instead of launching them as the region's default image.
	StrictImages bool
	// DNSListen is where the simulated internet's DNS answers on the host
	// (public hosted zones for dig); "" picks a free loopback port.
	DNSListen string
	// IAM is how IAM policies apply to API calls: "off" (the default:
	// not evaluated), "enforce" (denied calls are refused) or "audit"
	// (denied calls are logged and proceed). See package authz.
	IAM string
}

// Daemon is a configured cloudbox.
type Daemon struct {
	cfg      Config
	store    *store.Store
	ids      *identity.Resolver
	services []server.Service
	handler  http.Handler

	// world is the data plane, nil when off; dataplane says "on" or
	// "off: <reason>".
	world     *controllers.Supervisor
	dataplane string
	// hostDNS answers the public zones on the host when no data plane
	// runs (nil otherwise).
	hostDNS  *hostDNS
	stateDir string // the instances' disks; a temporary one when ephemeral
	edge     string // the listener's address once serving
	// edgeHosts are the names the data plane serves on the listener (the
	// load balancers'); any other Host is the API's.
	edgeHosts *edge.Table
	down      chan struct{}
	downOnce  sync.Once

	ca *ca.CA
	// tmpDir holds, when ephemeral, what the data directory would: the
	// CA and the services' files (S3's objects); removed on Close.
	tmpDir string
	// filesDir is where services keep files: the data directory, or
	// tmpDir.
	filesDir string
	// adminToken is what /_cloudbox/ mutations require (admin.go).
	adminToken string

	clock  *clock.Clock
	bus    *events.Bus
	built  []registry.Built // the services, in dependency order
	events *eventLog
	// authz authorizes API calls (--iam enforce or audit); nil when off.
	authz server.Authorizer
}

// New opens the store and builds the services.
func New(cfg Config) (*Daemon, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Auth == "" {
		cfg.Auth = server.AuthOff
	}
	if cfg.Auth != server.AuthOff && cfg.Auth != server.AuthStrict {
		return nil, fmt.Errorf("--auth must be %q or %q", server.AuthOff, server.AuthStrict)
	}
	iamMode, err := authz.ParseMode(cfg.IAM)
	if err != nil {
		return nil, err
	}
	keys := identity.DefaultKeys
	if cfg.KeysFile != "" {
		extra, err := identity.LoadKeys(cfg.KeysFile)
		if err != nil {
			return nil, err
		}
		keys = append(append([]identity.Key(nil), keys...), extra...)
	}
	if !cfg.Ephemeral && cfg.DataDir != "" {
		// Absolute, so that info names it the same for every command.
		if cfg.DataDir, err = filepath.Abs(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	var st *store.Store
	if cfg.Ephemeral {
		st = store.OpenMemory()
	} else {
		var err error
		if st, err = store.Open(cfg.DataDir); err != nil {
			return nil, fmt.Errorf("opening the store in %s: %w", cfg.DataDir, err)
		}
	}
	d := &Daemon{cfg: cfg, store: st, ids: identity.New(st, keys), down: make(chan struct{}), edgeHosts: edge.New()}
	d.filesDir = cfg.DataDir
	if cfg.Ephemeral {
		tmp, err := os.MkdirTemp("", "cloudbox-")
		if err != nil {
			st.Close()
			return nil, err
		}
		d.tmpDir, d.filesDir = tmp, tmp
	}
	if d.adminToken, err = openAdminToken(d.filesDir); err != nil {
		d.closeStore()
		return nil, fmt.Errorf("the admin token in %s: %w", d.filesDir, err)
	}
	caDir := filepath.Join(d.filesDir, "ca")
	authority, err := ca.Open(caDir)
	if err != nil {
		d.closeStore()
		return nil, fmt.Errorf("the certificate authority in %s: %w", caDir, err)
	}
	d.ca = authority
	if cfg.TimeScale <= 0 {
		cfg.TimeScale = 1
	}
	d.clock = clock.New(cfg.TimeScale)
	d.bus = events.NewBus()
	d.events = &eventLog{log: cfg.Logger}
	d.bus.Subscribe(d.events.add)
	// Whether the data plane runs is decided first: the services behave
	// differently with one (instances wait for it to boot them).
	dataPlane, err := d.wantDataplane()
	if err == nil {
		err = d.buildServices(authority, dataPlane)
	}
	if err == nil {
		d.authz = d.authorizer(iamMode)
	}
	if err == nil && dataPlane {
		err = d.openDataplane()
	}
	if err != nil {
		d.closeStore()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_cloudbox/health", d.health)
	mux.HandleFunc("POST /_cloudbox/reset", d.admin(d.reset))
	mux.HandleFunc("GET /_cloudbox/info", d.info)
	mux.HandleFunc("POST /_cloudbox/down", d.admin(d.downHandler))
	mux.HandleFunc("POST /_cloudbox/stop", d.admin(d.stopHandler))
	mux.HandleFunc("GET /_cloudbox/events", d.events.serve)
	mux.HandleFunc("GET /_cloudbox/reachability", d.reachability)
	// The console answers every method, so that it can refuse all but
	// GET itself: it is read-only.
	cons := d.newConsole()
	mux.Handle(console.Prefix, cons)
	mux.Handle(console.Prefix+"/", cons)
	d.handler = d.apiHandler(mux)
	return d, nil
}

// apiHandler serves the edge's claimed names, then the services' APIs
// and, when internal is set, cloudbox's own /_cloudbox/ endpoints.
func (d *Daemon) apiHandler(internal http.Handler) http.Handler {
	srv := server.New(server.Config{
		Services:   d.services,
		Identity:   d.ids,
		Auth:       d.cfg.Auth,
		Logger:     d.cfg.Logger,
		Internal:   internal,
		Authorizer: d.authz,
	})
	// The edge: a request for a name the data plane claimed (a load
	// balancer's, which goes to it through the simulated internet) is
	// served there; everything else is the API.
	return d.edgeHosts.Handler(srv)
}

// endpointPrefixes are the endpoint prefixes of the services served
// (api.Service.EndpointPrefix), whose names resolve to AWS's endpoints
// inside the world.
func (d *Daemon) endpointPrefixes() []string {
	var out []string
	for _, s := range d.services {
		out = append(out, s.API.EndpointPrefix)
	}
	return out
}

// closeStore closes the store and removes the temporary directory, for a
// New that fails half-way.
func (d *Daemon) closeStore() {
	d.store.Close()
	if d.tmpDir != "" {
		os.RemoveAll(d.tmpDir)
	}
}

// Handler is the daemon's HTTP handler.
func (d *Daemon) Handler() http.Handler { return d.handler }

// Services lists what the daemon serves.
func (d *Daemon) Services() []server.Service { return d.services }

// Close stops the data plane's engines and closes the store. A persistent
// daemon's world (namespaces, instances) stays for the next start to take
// over; an ephemeral daemon's goes, since no store will know it again.
func (d *Daemon) Close() error {
	var err error
	if d.world != nil {
		if d.cfg.Ephemeral {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			err = d.world.Down(ctx)
			cancel()
			os.RemoveAll(d.stateDir)
		} else {
			err = d.world.Close()
		}
	}
	for _, b := range d.built {
		if f, ok := b.Service.(registry.Flusher); ok {
			err = errors.Join(err, f.Flush())
		}
	}
	err = errors.Join(err, d.store.Close())
	if d.tmpDir != "" {
		os.RemoveAll(d.tmpDir)
	}
	return err
}

// Run serves on cfg.Listen until ctx is done, then shuts down cleanly: the
// listener closes, requests in flight finish, the store is flushed and closed.
func (d *Daemon) Run(ctx context.Context) error {
	ln, err := net.Listen("tcp", d.cfg.Listen)
	if err != nil {
		d.Close()
		return err
	}
	return d.Serve(ctx, ln)
}

// Serve is Run on an existing listener.
func (d *Daemon) Serve(ctx context.Context, ln net.Listener) error {
	d.edge = ln.Addr().String()
	if d.world != nil {
		if err := d.world.Start(ctx); err != nil {
			d.cfg.Logger.Error("data plane failed to start; serving the control plane alone", "error", err)
			d.dataplane = "off: " + err.Error()
		} else {
			d.cfg.Logger.Info("data plane on", "daemon_id", d.cfg.DaemonID, "state_dir", d.stateDir)
		}
	}
	// The services' own loops (Auto Scaling's reconciler, ...) run while
	// the daemon serves.
	runCtx, stopRunners := context.WithCancel(context.Background())
	defer stopRunners()
	if d.dataplane != "on" {
		h, err := startHostDNS(runCtx, d.store, provided[desired.Contributor](d.built), providedOne[vpcdns.TargetHealth](d.built),
			cmp.Or(d.cfg.DNSListen, "127.0.0.1:0"), d.cfg.Logger)
		if err != nil {
			d.cfg.Logger.Warn("the public hosted zones do not answer on the host", "error", err)
		}
		d.hostDNS = h
	}
	for _, b := range d.built {
		if r, ok := b.Service.(registry.Runner); ok {
			go r.Run(runCtx)
		}
	}
	srv := &http.Server{Handler: d.handler, ReadHeaderTimeout: 30 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	mode := "persistent"
	if d.cfg.Ephemeral {
		mode = "ephemeral"
	}
	d.cfg.Logger.Info("cloudbox ready", "listen", ln.Addr().String(), "store", mode, "data_dir", d.cfg.DataDir,
		"auth", d.cfg.Auth, "services", len(d.services), "dataplane", d.dataplane, "version", Version)
	var serveErr error
	select {
	case <-ctx.Done():
	case <-d.down:
	case serveErr = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		d.cfg.Logger.Warn("shutdown", "error", err)
	}
	closeErr := d.Close()
	d.cfg.Logger.Info("cloudbox stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return serveErr
	}
	return closeErr
}

type serviceHealth struct {
	State       string `json:"state"`
	Operations  int    `json:"operations"`
	Implemented int    `json:"implemented"`
}

func (d *Daemon) health(w http.ResponseWriter, r *http.Request) {
	services := map[string]serviceHealth{}
	for _, s := range d.services {
		n := len(s.Invoker.Implemented())
		state := "running"
		if n == 0 {
			state = "not implemented"
		}
		services[s.API.Package] = serviceHealth{State: state, Operations: len(s.API.Operations), Implemented: n}
	}
	writeJSON(w, map[string]any{"status": "ok", "version": Version, "services": services})
}

func (d *Daemon) reset(w http.ResponseWriter, r *http.Request) {
	if err := d.Reset(); err != nil {
		d.cfg.Logger.Error("reset", "error", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	d.cfg.Logger.Info("state reset")
	writeJSON(w, map[string]any{"reset": true})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

// ImplementedTable returns, per service, the operations implemented, for
// the README.
func ImplementedTable(services []server.Service) []ServiceOps {
	out := make([]ServiceOps, 0, len(services))
	for _, s := range services {
		out = append(out, ServiceOps{API: s.API, Implemented: s.Invoker.Implemented()})
	}
	return out
}

// ServiceOps is one row of the implemented-operations table.
type ServiceOps struct {
	API         *api.Service
	Implemented []string
}

// Reset wipes all state.
func (d *Daemon) Reset() error {
	d.events.clear()
	return d.store.Reset()
}

// wantDataplane decides whether the data plane runs: asked for, and
// possible on this machine.
func (d *Daemon) wantDataplane() (bool, error) {
	switch d.cfg.Dataplane {
	case "on":
	case "", "off":
		d.dataplane = "off: --dataplane=off"
		return false, nil
	default:
		return false, fmt.Errorf("--dataplane must be on or off, not %q", d.cfg.Dataplane)
	}
	if err := controllers.Check(); err != nil {
		d.dataplane = "off: " + err.Error()
		d.cfg.Logger.Warn("data plane off: serving the control plane alone", "reason", err.Error())
		return false, nil
	}
	return true, nil
}

// openDataplane prepares the data plane over what the services provide.
// The services were built for it, so failing here fails the daemon: its
// instances would wait for a data plane that never comes.
func (d *Daemon) openDataplane() error {
	id, stateDir, err := d.identify()
	if err != nil {
		return err
	}
	d.cfg.DaemonID, d.stateDir = id, stateDir
	w, err := controllers.New(controllers.Config{DaemonID: id, StateDir: stateDir, Store: d.store,
		Contributors: provided[desired.Contributor](d.built), Instances: providedOne[desired.InstanceReporter](d.built),
		Slots:  slotOwners(d.built),
		Health: providedOne[controllers.HealthReporter](d.built), Certs: providedOne[controllers.Certificates](d.built),
		Metrics: providedOne[metric.Publisher](d.built), HealthChecks: providedOne[desired.HealthCheckReporter](d.built), Targets: providedOne[vpcdns.TargetHealth](d.built),
		Images: providedOne[desired.ImageReporter](d.built), Volumes: providedOne[desired.VolumeReporter](d.built), ImageDir: d.imageDir(), ImageMirror: d.cfg.ImageMirror, DNSListen: cmp.Or(d.cfg.DNSListen, "127.0.0.1:0"),
		Identity: d.ids, Profiles: providedOne[desired.Profiles](d.built), Edge: d.edgeHosts, Now: d.clock.Now, TimeScale: d.clock.Scale(), Log: d.cfg.Logger,
		// AWS's endpoints on the simulated internet answer as the
		// daemon's listener does, less cloudbox's own endpoints: code in
		// an instance must not reset or stop the cloud it runs in.
		API: d.apiHandler(nil), EndpointPrefixes: d.endpointPrefixes(), CA: d.ca})
	if err != nil {
		return fmt.Errorf("the data plane: %w (cloudbox up --dataplane off serves the control plane alone)", err)
	}
	d.world, d.dataplane = w, "on"
	useSlotExec(d.built, w.SlotExec)
	return nil
}

// imageDir is where the images are built ("" lets the data plane keep
// them in its state directory).
func (d *Daemon) imageDir() string {
	switch {
	case d.cfg.ImageDir != "":
		return d.cfg.ImageDir
	case os.Getenv("CLOUDBOX_IMAGE_DIR") != "":
		return os.Getenv("CLOUDBOX_IMAGE_DIR")
	case d.cfg.DataDir != "":
		return filepath.Join(d.cfg.DataDir, "images")
	}
	return ""
}

// identify returns the daemon id and the directory of the instances'
// disks: kept in the data directory, so a restarted daemon finds its own
// namespaces and instances again; fresh ones when ephemeral.
func (d *Daemon) identify() (id, stateDir string, err error) {
	if d.cfg.Ephemeral {
		if stateDir, err = os.MkdirTemp("", "cloudbox-"); err != nil {
			return "", "", err
		}
		id = d.cfg.DaemonID
		if id == "" {
			id = randomID()
		}
		return id, stateDir, nil
	}
	stateDir = d.cfg.DataDir
	p := filepath.Join(d.cfg.DataDir, "daemon-id")
	if b, err := os.ReadFile(p); err == nil && d.cfg.DaemonID == "" {
		return strings.TrimSpace(string(b)), stateDir, nil
	}
	id = d.cfg.DaemonID
	if id == "" {
		id = randomID()
	}
	return id, stateDir, os.WriteFile(p, []byte(id+"\n"), 0o644)
}

// randomID is a daemon id: 8 characters of [a-z0-9].
func randomID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 8)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Info is what GET /_cloudbox/info answers (`cloudbox info --json`).
type Info struct {
	Version   string `json:"version"`
	Dataplane string `json:"dataplane"`
	// Edge is the host:port of the edge listener (the API's listener,
	// which also routes by Host header to the simulated world).
	Edge string `json:"edge"`
	// CA is the path of cloudbox's CA certificate, once there is one.
	CA string `json:"ca"`
	// Echo is the URL of the echo server on the simulated internet.
	Echo string `json:"echo,omitempty"`
	// DataDir is the daemon's data directory (an ephemeral daemon's is a
	// temporary one), where its admin token is.
	DataDir string `json:"data_dir"`
	// PID is the daemon's process id (`cloudbox status`).
	PID int `json:"pid"`
	// Console is the web console's URL.
	Console string `json:"console,omitempty"`
	controllers.Info
}

func (d *Daemon) info(w http.ResponseWriter, r *http.Request) {
	in := Info{Version: Version, Dataplane: d.dataplane, Edge: d.edge, CA: d.ca.CertPath(), DataDir: d.filesDir, PID: os.Getpid()}
	if d.edge != "" {
		in.Console = "http://" + d.edge + console.Prefix + "/"
	}
	if d.world != nil && d.dataplane == "on" {
		in.Info = d.world.Info()
		in.Echo = in.Info.Echo
	}
	if d.hostDNS != nil {
		in.DNS = d.hostDNS.addr
	}
	writeJSON(w, in)
}

// stopHandler frees the machine and stops the daemon: every instance
// and node process ends and the namespaces go, while the store and the
// disks stay. The next start boots the running instances again, as after
// a reboot (enabled services start; user data does not run again).
func (d *Daemon) stopHandler(w http.ResponseWriter, r *http.Request) {
	if d.world != nil {
		if err := d.world.Down(r.Context()); err != nil {
			d.cfg.Logger.Error("stop", "error", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	d.cfg.Logger.Info("stop: the world's processes and namespaces are gone, its state kept; stopping")
	writeJSON(w, map[string]any{"stopped": true})
	d.downOnce.Do(func() { close(d.down) })
}

// downHandler removes the world, its state with it, and stops the
// daemon.
func (d *Daemon) downHandler(w http.ResponseWriter, r *http.Request) {
	if d.world != nil {
		if err := d.world.Down(r.Context()); err != nil {
			d.cfg.Logger.Error("down", "error", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	if err := d.Reset(); err != nil {
		d.cfg.Logger.Error("down", "error", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	d.cfg.Logger.Info("down: the world and its state are removed; stopping")
	writeJSON(w, map[string]any{"down": true})
	d.downOnce.Do(func() { close(d.down) })
}

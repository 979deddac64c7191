// Package daemon assembles a running cloudbox: the store, identities, the
// services and the HTTP server, and runs them until told to stop.
package daemon

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/identity"
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
}

// Daemon is a configured cloudbox.
type Daemon struct {
	cfg      Config
	store    *store.Store
	ids      *identity.Resolver
	services []server.Service
	handler  http.Handler
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
	keys := identity.DefaultKeys
	if cfg.KeysFile != "" {
		extra, err := identity.LoadKeys(cfg.KeysFile)
		if err != nil {
			return nil, err
		}
		keys = append(append([]identity.Key(nil), keys...), extra...)
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
	d := &Daemon{cfg: cfg, store: st, ids: identity.New(st, keys)}
	d.services = registry(d.store, d.ids, time.Now, cfg.Logger)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /_cloudbox/health", d.health)
	mux.HandleFunc("POST /_cloudbox/reset", d.reset)
	d.handler = server.New(server.Config{
		Services: d.services,
		Identity: d.ids,
		Auth:     cfg.Auth,
		Logger:   cfg.Logger,
		Internal: mux,
	})
	return d, nil
}

// Handler is the daemon's HTTP handler.
func (d *Daemon) Handler() http.Handler { return d.handler }

// Services lists what the daemon serves.
func (d *Daemon) Services() []server.Service { return d.services }

// Close closes the store.
func (d *Daemon) Close() error { return d.store.Close() }

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
	srv := &http.Server{Handler: d.handler, ReadHeaderTimeout: 30 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	mode := "persistent"
	if d.cfg.Ephemeral {
		mode = "ephemeral"
	}
	d.cfg.Logger.Info("cloudbox ready", "listen", ln.Addr().String(), "store", mode, "data_dir", d.cfg.DataDir,
		"auth", d.cfg.Auth, "services", len(d.services), "version", Version)
	var serveErr error
	select {
	case <-ctx.Done():
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
func (d *Daemon) Reset() error { return d.store.Reset() }

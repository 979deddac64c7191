// Package images builds and keeps the root file systems instances boot:
// one Debian base made with mmdebstrap, a thin layer per image family
// (Amazon Linux, Ubuntu, Debian, CentOS: the family's os-release, default
// user and tools, see rootfs/README.md), and the layers CreateImage bakes
// from instances' disks. An instance's disk is an overlay whose lower
// layers are these, read-only and shared by every instance; the host's
// own root file system is never one of them.
//
// The base and family layers are a cache: they live under Config.Dir,
// named by a hash of their recipe, so a changed recipe builds anew and
// several daemons (parallel tests) can share one directory: builds are
// serialized by a lock file and published by rename. Baked layers are
// data: they live under Config.BakedDir, with the daemon's store.
package images

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/ami"
)

// Config configures a Store.
type Config struct {
	// Dir holds the built base and family layers (made if missing).
	Dir string
	// BakedDir holds the layers CreateImage makes (made if missing).
	BakedDir string
	// Mirror is the Debian mirror the base is built from ("" lets
	// mmdebstrap choose, which is deb.debian.org).
	Mirror string
	Log    *slog.Logger
}

// Status is where one family's image stands, for logs and `cloudbox info`.
type Status struct {
	Family ami.Family `json:"family"`
	// State is "missing", "building", "ready" or "failed".
	State string `json:"state"`
	// Step is the builder's latest progress line while building, the
	// error once failed.
	Step    string        `json:"step,omitempty"`
	Elapsed time.Duration `json:"elapsed_ns,omitempty"`
}

// Store builds images on demand and answers their layers.
type Store struct {
	cfg Config

	mu     sync.Mutex
	builds map[string]*build // by layer directory name
}

// build is one layer being made or made: waiters block on done.
type build struct {
	done    chan struct{}
	err     error
	started time.Time
	took    time.Duration
	step    string // latest progress, guarded by Store.mu
}

// Open returns a Store over cfg's directories.
func Open(cfg Config) (*Store, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	for _, d := range []string{cfg.Dir, cfg.BakedDir} {
		if d == "" || !filepath.IsAbs(d) {
			return nil, fmt.Errorf("images: %q must be an absolute directory", d)
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	return &Store{cfg: cfg, builds: map[string]*build{}}, nil
}

// Prepare starts building every family in the background, so that the
// first launch finds its image ready.
func (s *Store) Prepare() {
	for _, f := range ami.Families {
		go func() { _, _ = s.Layers(context.Background(), f, nil) }()
	}
}

// Layers returns the lower layers of an instance of family f booted from
// the baked images in baked (the image it was launched from last, then
// the ones that image was baked from), top first; it builds what is
// missing and waits for it, or until ctx ends.
func (s *Store) Layers(ctx context.Context, f ami.Family, baked []string) ([]string, error) {
	base, err := s.ensure(ctx, baseName(), func(dir string, progress func(string)) error {
		return s.buildBase(ctx, dir, progress)
	})
	if err != nil {
		return nil, err
	}
	fam, err := s.ensure(ctx, familyName(f), func(dir string, _ func(string)) error {
		return buildFamily(f, base, dir)
	})
	if err != nil {
		return nil, err
	}
	layers := make([]string, 0, len(baked)+2)
	for _, id := range baked {
		dir := s.bakedDir(id)
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("images: baked image %s: %w", id, err)
		}
		layers = append(layers, dir)
	}
	return append(layers, fam, base), nil
}

// Status returns where each family's image stands: its base's state
// until the base is ready, then its own layer's.
func (s *Store) Status() []Status {
	out := make([]Status, 0, len(ami.Families))
	for _, f := range ami.Families {
		st := s.layerStatus(baseName())
		if st.State == "ready" {
			st = s.layerStatus(familyName(f))
		}
		st.Family = f
		out = append(out, st)
	}
	return out
}

func (s *Store) layerStatus(name string) Status {
	s.mu.Lock()
	b := s.builds[name]
	s.mu.Unlock()
	if b == nil {
		if _, err := os.Stat(filepath.Join(s.cfg.Dir, name)); err == nil {
			return Status{State: "ready"}
		}
		return Status{State: "missing"}
	}
	select {
	case <-b.done:
		if b.err != nil {
			return Status{State: "failed", Step: b.err.Error()}
		}
		return Status{State: "ready", Elapsed: b.took}
	default:
		s.mu.Lock()
		defer s.mu.Unlock()
		return Status{State: "building", Step: b.step, Elapsed: time.Since(b.started)}
	}
}

// ensure returns the directory of layer name, building it once with make
// if it is missing: concurrent callers share the build, and a failed
// build is tried again by the next caller.
func (s *Store) ensure(ctx context.Context, name string, mk func(dir string, progress func(string)) error) (string, error) {
	dir := filepath.Join(s.cfg.Dir, name)
	s.mu.Lock()
	b := s.builds[name]
	if b != nil {
		select {
		case <-b.done:
			if b.err != nil {
				b = nil // try again
			}
		default:
		}
	}
	if b == nil {
		b = &build{done: make(chan struct{}), started: time.Now()}
		s.builds[name] = b
		go func() {
			b.err = s.make(name, dir, mk, func(step string) {
				s.mu.Lock()
				b.step = step
				s.mu.Unlock()
			})
			b.took = time.Since(b.started)
			close(b.done)
		}()
	}
	s.mu.Unlock()
	select {
	case <-b.done:
		if b.err != nil {
			return "", b.err
		}
		return dir, nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// make builds layer name into dir unless it exists, under the directory's
// lock, so that daemons sharing Dir build it once.
func (s *Store) make(name, dir string, mk func(dir string, progress func(string)) error, progress func(string)) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	unlock, err := lockDir(s.cfg.Dir, func() {
		s.cfg.Log.Info("images: waiting for another process building into the same directory", "layer", name, "dir", s.cfg.Dir)
	})
	if err != nil {
		return err
	}
	defer unlock()
	if _, err := os.Stat(dir); err == nil {
		return nil // built by the process that held the lock
	}
	start := time.Now()
	s.cfg.Log.Info("images: building", "layer", name, "dir", dir)
	tmp := dir + ".building"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := mk(tmp, func(step string) {
		progress(step)
		s.cfg.Log.Info("images: build progress", "layer", name, "step", step)
	}); err != nil {
		_ = os.RemoveAll(tmp)
		s.cfg.Log.Error("images: build failed", "layer", name, "error", err)
		return fmt.Errorf("images: building %s: %w", name, err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		return err
	}
	s.cfg.Log.Info("images: built", "layer", name, "duration_ms", time.Since(start).Milliseconds())
	return nil
}

// ErrNoBuilder says the host cannot build images, and how to fix it.
var ErrNoBuilder = errors.New("images: mmdebstrap is not installed and could not be installed (run: apt-get install -y mmdebstrap)")

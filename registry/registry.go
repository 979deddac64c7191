// Package registry is where the services register themselves. Each service
// package declares, in an init function, the API it serves, the services
// it calls and how to build it; the daemon builds whatever is registered,
// in dependency order, and serves it. Adding a service touches its own
// package and one import line (daemon/services.go), as CoreDNS plugins and
// containerd services are added.
package registry

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/ca"
	"github.com/cloudbox/cloudbox/clock"
	"github.com/cloudbox/cloudbox/events"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/store"
)

// Registration describes one service.
type Registration struct {
	// Name is what other registrations require it by ("ec2").
	Name string
	// API is the wire API served; nil for a service that only supports
	// others.
	API *api.Service
	// Requires names the services New may look up with Env.Service; they
	// are built first.
	Requires []string
	// New builds the service. Nil for an API cloudbox routes and decodes
	// but does not implement yet: every operation answers NotImplemented.
	New func(*Env) (Service, error)
}

// Service is a built service: the handlers of its API. Other services
// reach it through the interfaces they declare and assert (a service
// implements what its dependents need), or as its API's callers through
// its Invoker.
type Service interface {
	Invoker() api.Invoker
}

// Runner is a service with work of its own (a reconciler, a publisher):
// Run is called once the daemon serves and runs until ctx ends.
type Runner interface {
	Run(ctx context.Context)
}

// Flusher is a service that batches writes to the store (CloudWatch's
// datapoints): Flush writes what it holds. The daemon calls it once more
// before the store closes, so a clean stop loses nothing.
type Flusher interface {
	Flush() error
}

// Env is what the daemon gives every service.
type Env struct {
	Store *store.Store
	// Clock is the virtual clock of the time scale: AWS's timers run on it.
	Clock *clock.Clock
	// Now is the wall clock, for what real clients check against theirs
	// (certificates, credentials).
	Now      func() time.Time
	Log      *slog.Logger
	CA       *ca.CA
	Identity *identity.Resolver
	// StrictAuth: signatures are verified (--auth strict). A service that
	// authenticates requests the server does not (S3's browser-form
	// uploads, signed inside their form) checks them too.
	StrictAuth bool
	Events     *events.Bus
	// DataPlane says whether the VPCs run for real. Without it, services
	// move on timers what the data plane would have done (targets turn
	// healthy, instances boot).
	DataPlane bool
	// StrictImages: EC2 refuses AMI ids its catalogue does not know, as
	// AWS does (cloudbox up --strict-images).
	StrictImages bool
	// Files is the directory under which a service keeps files of its
	// own, in a subdirectory named for it (S3's objects): the data
	// directory, or a temporary one removed on exit when ephemeral. ""
	// in tests that give none.
	Files string

	name  string
	needs []string
	built map[string]Service
}

// Service returns the built service name, which must be among the
// caller's Requires: an undeclared dependency is a programming error and
// panics, so that the declared graph stays the true one.
func (e *Env) Service(name string) Service {
	if !slices.Contains(e.needs, name) {
		panic(fmt.Sprintf("registry: %s looks up %s without requiring it", e.name, name))
	}
	return e.built[name]
}

var (
	mu  sync.Mutex
	all = map[string]Registration{}
)

// Register adds a service; it panics on a second service of the same
// name, at init, where the mistake is made.
func Register(r Registration) {
	mu.Lock()
	defer mu.Unlock()
	if r.Name == "" {
		panic("registry: a registration without a name")
	}
	if _, dup := all[r.Name]; dup {
		panic("registry: " + r.Name + " registered twice")
	}
	all[r.Name] = r
}

// Registered returns every registration, by name.
func Registered() []Registration {
	mu.Lock()
	defer mu.Unlock()
	out := make([]Registration, 0, len(all))
	for _, r := range all {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Built is a registration and what it built.
type Built struct {
	Registration
	// Service is nil for a registration without New.
	Service Service
	// Invoker serves its API (every operation NotImplemented without New).
	Invoker api.Invoker
}

// Build builds regs in dependency order (ties by name), each with env.
// A missing or circular dependency is an error, as is a failed New.
func Build(env Env, regs []Registration) ([]Built, error) {
	byName := map[string]Registration{}
	for _, r := range regs {
		byName[r.Name] = r
	}
	order, err := order(byName)
	if err != nil {
		return nil, err
	}
	built := map[string]Service{}
	out := make([]Built, 0, len(order))
	for _, name := range order {
		r := byName[name]
		b := Built{Registration: r}
		if r.New == nil {
			b.Invoker = unimplemented{r.API}
		} else {
			e := env
			e.name, e.needs, e.built = r.Name, r.Requires, built
			s, err := r.New(&e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", r.Name, err)
			}
			b.Service, b.Invoker = s, s.Invoker()
			built[name] = s
		}
		out = append(out, b)
	}
	return out, nil
}

// order sorts the registrations so that each comes after what it requires.
func order(regs map[string]Registration) ([]string, error) {
	names := make([]string, 0, len(regs))
	for n := range regs {
		names = append(names, n)
	}
	sort.Strings(names)
	const (
		visiting = 1
		done     = 2
	)
	mark := map[string]int{}
	var out []string
	var visit func(n string, path []string) error
	visit = func(n string, path []string) error {
		switch mark[n] {
		case done:
			return nil
		case visiting:
			return fmt.Errorf("registry: circular dependency %v", append(path, n))
		}
		r, ok := regs[n]
		if !ok {
			return fmt.Errorf("registry: %s requires %s, which is not registered", path[len(path)-1], n)
		}
		mark[n] = visiting
		for _, d := range r.Requires {
			if err := visit(d, append(path, n)); err != nil {
				return err
			}
		}
		mark[n] = done
		out = append(out, n)
		return nil
	}
	for _, n := range names {
		if err := visit(n, nil); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// unimplemented serves an API with no operation implemented.
type unimplemented struct{ api *api.Service }

func (u unimplemented) Invoke(_ context.Context, op string, _ any) (any, error) {
	return nil, api.NotImplemented(u.api.ServiceID, op)
}

func (unimplemented) Implemented() []string { return nil }

package daemon

import (
	"net/http"
	"sort"
	"time"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/ca"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/registry"
	"github.com/cloudbox/cloudbox/server"
)

// edgeClaimant is a service that answers host names of its own outside
// its API (S3's website endpoints): the daemon's listener gives it the
// requests for them.
type edgeClaimant interface {
	EdgeClaims() map[string]http.Handler
}

// profileUser is a service that takes IAM's instance profiles
// (services/ec2), and sessionChecker one that says whether temporary
// credentials may still be used (services/ec2: those of an instance's
// profile stop with the instance or the profile).
type (
	profileUser    interface{ UseProfiles(desired.Profiles) }
	sessionChecker interface{ ValidSession(api.Principal) bool }
)

// buildServices builds every registered service (services.go lists them)
// over the daemon's store, clocks, CA, identities and event bus.
func (d *Daemon) buildServices(authority *ca.CA, dataPlane bool) error {
	env := registry.Env{Store: d.store, Clock: d.clock, Now: time.Now, Log: d.cfg.Logger, CA: authority,
		Identity: d.ids, StrictAuth: d.cfg.Auth == server.AuthStrict, Events: d.bus, DataPlane: dataPlane, StrictImages: d.cfg.StrictImages, Files: d.filesDir}
	built, err := registry.Build(env, registry.Registered())
	if err != nil {
		return err
	}
	d.built = built
	for _, b := range built {
		if b.API != nil {
			svc := server.Service{API: b.API, Invoker: b.Invoker}
			if hr, ok := b.Service.(server.HostRouter); ok {
				svc.Router = hr
			}
			if rh, ok := b.Service.(server.RawHandler); ok {
				svc.Raw = rh
			}
			if c, ok := b.Service.(edgeClaimant); ok {
				for pattern, h := range c.EdgeClaims() {
					d.edgeHosts.Register(pattern, h)
				}
			}
			d.services = append(d.services, svc)
		}
	}
	sort.Slice(d.services, func(i, j int) bool { return d.services[i].API.Package < d.services[j].API.Package })
	if profiles := providedOne[desired.Profiles](built); profiles != nil {
		for _, u := range provided[profileUser](built) {
			u.UseProfiles(profiles)
		}
	}
	if c := providedOne[sessionChecker](built); c != nil {
		d.ids.CheckSessions(c.ValidSession)
	}
	return nil
}

// service returns the built service name (nil if none).
func (d *Daemon) service(name string) registry.Service {
	for _, b := range d.built {
		if b.Name == name {
			return b.Service
		}
	}
	return nil
}

// provided returns the built services that provide T, in build order:
// the data plane finds what it needs of the services by what they do,
// not by which they are.
func provided[T any](built []registry.Built) []T {
	var out []T
	for _, b := range built {
		if t, ok := b.Service.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// providedOne is the first built service that provides T (zero if none).
func providedOne[T any](built []registry.Built) T {
	var zero T
	if all := provided[T](built); len(all) > 0 {
		return all[0]
	}
	return zero
}

// slotOwners are the services that own managed compute slots, by the
// name a slot gives as its owner.
func slotOwners(built []registry.Built) map[string]desired.SlotReporter {
	out := map[string]desired.SlotReporter{}
	for _, b := range built {
		if r, ok := b.Service.(desired.SlotReporter); ok {
			out[b.Name] = r
		}
	}
	return out
}

// useSlotExec gives each service that runs commands in its slots an exec
// bound to its own (exec of its registered name, which its slots give as
// their owner).
func useSlotExec(built []registry.Built, exec func(owner string) desired.SlotExec) {
	for _, b := range built {
		if u, ok := b.Service.(desired.SlotExecUser); ok {
			u.UseSlotExec(exec(b.Name))
		}
	}
}

package daemon

import (
	"sort"
	"time"

	"github.com/cloudbox/cloudbox/ca"
	"github.com/cloudbox/cloudbox/registry"
	"github.com/cloudbox/cloudbox/server"
	"github.com/cloudbox/cloudbox/services/acm"
	"github.com/cloudbox/cloudbox/services/cloudwatch"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/services/elbv2"
)

// buildServices builds every registered service (services.go lists them)
// over the daemon's store, clocks, CA, identities and event bus.
func (d *Daemon) buildServices(authority *ca.CA, dataPlane bool) error {
	env := registry.Env{Store: d.store, Clock: d.clock, Now: time.Now, Log: d.cfg.Logger, CA: authority,
		Identity: d.ids, Events: d.bus, DataPlane: dataPlane}
	built, err := registry.Build(env, registry.Registered())
	if err != nil {
		return err
	}
	d.built = built
	for _, b := range built {
		if b.API != nil {
			d.services = append(d.services, server.Service{API: b.API, Invoker: b.Invoker})
		}
	}
	sort.Slice(d.services, func(i, j int) bool { return d.services[i].API.Package < d.services[j].API.Package })
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

// backends are the services the data plane works with.
type backends struct {
	ec2        *ec2.Service
	elbv2      *elbv2.Service
	acm        *acm.Service
	cloudwatch *cloudwatch.Service
}

func (d *Daemon) backends() backends {
	b := backends{}
	b.ec2, _ = d.service("ec2").(*ec2.Service)
	b.elbv2, _ = d.service("elbv2").(*elbv2.Service)
	b.acm, _ = d.service("acm").(*acm.Service)
	b.cloudwatch, _ = d.service("cloudwatch").(*cloudwatch.Service)
	return b
}

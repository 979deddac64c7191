package daemon

import (
	"context"
	"slices"
	"time"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/api/protocol"
	"github.com/cloudbox/cloudbox/console"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/metric"
	"github.com/cloudbox/cloudbox/server"
	"github.com/cloudbox/cloudbox/uuid"
)

// newConsole builds the web console over the daemon's store, its desired
// world and its services' own operations.
func (d *Daemon) newConsole() *console.Console {
	return console.New(console.Config{
		Store:        d.store,
		Contributors: provided[desired.Contributor](d.built),
		Invoke:       d.invokeAs,
		NewInput:     d.newInput,
		Events:       d.events.all,
		Now:          d.clock.Now,
	})
}

// operation finds a served, implemented operation of a service by its
// generated package name.
func (d *Daemon) operation(service, op string) (*server.Service, *api.Operation) {
	for i := range d.services {
		s := &d.services[i]
		if s.API.Package != service {
			continue
		}
		o := s.API.Operations[op]
		if o == nil || !slices.Contains(s.Invoker.Implemented(), op) {
			return nil, nil
		}
		return s, o
	}
	return nil, nil
}

// newInput is a new input of an operation, nil when it is not served.
func (d *Daemon) newInput(service, op string) any {
	if _, o := d.operation(service, op); o != nil {
		return o.NewInput()
	}
	return nil
}

// invokeAs runs an operation as the account's root in a region, through
// the service's own handlers after the server's validation (the console's
// reads: the answers are the API's).
func (d *Daemon) invokeAs(ctx context.Context, account, region, service, op string, in any) (any, error) {
	svc, o := d.operation(service, op)
	if svc == nil {
		return nil, api.NotImplemented(service, op)
	}
	if err := protocol.Validate(svc.API, in); err != nil {
		return nil, err
	}
	caller, err := d.ids.Principal(account)
	if err != nil {
		return nil, err
	}
	ctx = api.WithRequest(ctx, &api.Request{ID: uuid.New(), Service: service, Operation: o.Name, Region: region, Caller: caller, Time: time.Now()})
	return svc.Invoker.Invoke(ctx, o.Name, in)
}

// MetricPublisher is where the built-in metrics are published (CloudWatch),
// as the data plane's publisher reaches it: a test without a data plane
// stands in for that publisher through it.
func (d *Daemon) MetricPublisher() metric.Publisher {
	return providedOne[metric.Publisher](d.built)
}

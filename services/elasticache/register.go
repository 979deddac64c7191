package elasticache

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ecapi "github.com/cloudbox/cloudbox/api/elasticache"
	"github.com/cloudbox/cloudbox/events"
	"github.com/cloudbox/cloudbox/metric"
	"github.com/cloudbox/cloudbox/registry"
)

// ElastiCache needs EC2 for the subnets and security groups it reads and
// the node interfaces it makes in its own transactions, and CloudWatch
// for its engines' metrics; its events go on the bus, its snapshots under
// the daemon's files.
func init() {
	registry.Register(registry.Registration{
		Name:     "elasticache",
		API:      ecapi.Service,
		Requires: []string{"ec2", "cloudwatch"},
		New: func(env *registry.Env) (registry.Service, error) {
			s := New(env.Store, env.Clock, env.Log, env.DataPlane, env.CA)
			s.OnEvent(func(ev BusEvent) {
				env.Events.Publish(events.Event{DetailType: ev.DetailType, Source: "aws.elasticache",
					Account: ev.Account, Region: ev.Region, Time: ev.Time, Resources: ev.Resources, Detail: ev.Detail})
			})
			s.UseFiles(env.Files)
			pub, ok := env.Service("cloudwatch").(metric.Publisher)
			if !ok {
				return nil, fmt.Errorf("cloudwatch does not publish built-in metrics")
			}
			return &registered{Service: s, metrics: pub}, nil
		},
	})
}

// registered is the service as the daemon runs it.
type registered struct {
	*Service
	metrics metric.Publisher
}

// Run moves the groups on and publishes the engines' metrics each
// virtual minute until ctx ends (registry.Runner).
func (r *registered) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.Service.RunEngineMetrics(ctx, r.metrics, time.Duration(float64(time.Minute)/r.clock.Scale()))
	}()
	r.Service.Run(ctx)
	wg.Wait()
}

// Invoker serves ElastiCache's API.
func (s *Service) Invoker() api.Invoker { return ecapi.Bind(s.Handlers()) }

package rds

import (
	"context"
	"fmt"
	"time"

	"github.com/cloudbox/cloudbox/api"
	rdsapi "github.com/cloudbox/cloudbox/api/rds"
	"github.com/cloudbox/cloudbox/events"
	"github.com/cloudbox/cloudbox/metric"
	"github.com/cloudbox/cloudbox/registry"
)

// RDS needs EC2 for the subnets, security groups and node interfaces it
// reads and makes in its own transactions, and CloudWatch for its engines'
// metrics; its events go on the bus.
func init() {
	registry.Register(registry.Registration{
		Name:     "rds",
		API:      rdsapi.Service,
		Requires: []string{"ec2", "cloudwatch"},
		New: func(env *registry.Env) (registry.Service, error) {
			s := New(env.Store, env.Clock.Now, env.Log, env.Clock.Scale(), env.DataPlane)
			s.OnEvent(func(ev BusEvent) {
				env.Events.Publish(events.Event{DetailType: ev.DetailType, Source: "aws.rds",
					Account: ev.Account, Region: ev.Region, Time: ev.Time, Resources: ev.Resources, Detail: ev.Detail})
			})
			s.UseFiles(env.Files)
			pub, ok := env.Service("cloudwatch").(metric.Publisher)
			if !ok {
				return nil, fmt.Errorf("cloudwatch does not publish built-in metrics")
			}
			return &registered{Service: s, env: env, metrics: pub}, nil
		},
	})
}

// registered is the service as the daemon runs it.
type registered struct {
	*Service
	env     *registry.Env
	metrics metric.Publisher
}

// Run publishes the engines' metrics each virtual minute until ctx ends
// (registry.Runner).
func (r *registered) Run(ctx context.Context) {
	r.Service.RunEngineMetrics(ctx, r.metrics, time.Duration(float64(time.Minute)/r.env.Clock.Scale()))
}

// Invoker serves RDS's API.
func (s *Service) Invoker() api.Invoker { return rdsapi.Bind(s.Handlers()) }

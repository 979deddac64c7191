package rds

import (
	"github.com/cloudbox/cloudbox/api"
	rdsapi "github.com/cloudbox/cloudbox/api/rds"
	"github.com/cloudbox/cloudbox/events"
	"github.com/cloudbox/cloudbox/registry"
)

// RDS needs EC2 for the subnets, security groups and node interfaces it
// reads and makes in its own transactions; its events go on the bus.
func init() {
	registry.Register(registry.Registration{
		Name:     "rds",
		API:      rdsapi.Service,
		Requires: []string{"ec2"},
		New: func(env *registry.Env) (registry.Service, error) {
			s := New(env.Store, env.Clock.Now, env.Log, env.Clock.Scale(), env.DataPlane)
			s.OnEvent(func(ev BusEvent) {
				env.Events.Publish(events.Event{DetailType: ev.DetailType, Source: "aws.rds",
					Account: ev.Account, Region: ev.Region, Time: ev.Time, Resources: ev.Resources, Detail: ev.Detail})
			})
			s.UseFiles(env.Files)
			return s, nil
		},
	})
}

// Invoker serves RDS's API.
func (s *Service) Invoker() api.Invoker { return rdsapi.Bind(s.Handlers()) }

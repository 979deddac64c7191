package elasticache

import (
	"github.com/cloudbox/cloudbox/api"
	ecapi "github.com/cloudbox/cloudbox/api/elasticache"
	"github.com/cloudbox/cloudbox/events"
	"github.com/cloudbox/cloudbox/registry"
)

// ElastiCache needs EC2 for the subnets and security groups it reads and
// the node interfaces it makes in its own transactions; its events go on
// the bus, its snapshots under the daemon's files.
func init() {
	registry.Register(registry.Registration{
		Name:     "elasticache",
		API:      ecapi.Service,
		Requires: []string{"ec2"},
		New: func(env *registry.Env) (registry.Service, error) {
			s := New(env.Store, env.Clock, env.Log, env.DataPlane, env.CA)
			s.OnEvent(func(ev BusEvent) {
				env.Events.Publish(events.Event{DetailType: ev.DetailType, Source: "aws.elasticache",
					Account: ev.Account, Region: ev.Region, Time: ev.Time, Resources: ev.Resources, Detail: ev.Detail})
			})
			s.UseFiles(env.Files)
			return s, nil
		},
	})
}

// Invoker serves ElastiCache's API.
func (s *Service) Invoker() api.Invoker { return ecapi.Bind(s.Handlers()) }

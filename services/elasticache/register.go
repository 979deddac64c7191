package elasticache

import (
	"github.com/cloudbox/cloudbox/api"
	ecapi "github.com/cloudbox/cloudbox/api/elasticache"
	"github.com/cloudbox/cloudbox/registry"
)

// ElastiCache needs EC2 for the subnets and security groups it reads and
// the node interfaces it makes in its own transactions.
func init() {
	registry.Register(registry.Registration{
		Name:     "elasticache",
		API:      ecapi.Service,
		Requires: []string{"ec2"},
		New: func(env *registry.Env) (registry.Service, error) {
			return New(env.Store, env.Clock, env.Log, env.DataPlane, env.CA), nil
		},
	})
}

// Invoker serves ElastiCache's API.
func (s *Service) Invoker() api.Invoker { return ecapi.Bind(s.Handlers()) }

package rds

import (
	"github.com/cloudbox/cloudbox/api"
	rdsapi "github.com/cloudbox/cloudbox/api/rds"
	"github.com/cloudbox/cloudbox/registry"
)

// RDS needs EC2 for the subnets, security groups and node interfaces it
// reads and makes in its own transactions.
func init() {
	registry.Register(registry.Registration{
		Name:     "rds",
		API:      rdsapi.Service,
		Requires: []string{"ec2"},
		New: func(env *registry.Env) (registry.Service, error) {
			return New(env.Store, env.Clock.Now, env.Log, env.Clock.Scale(), env.DataPlane), nil
		},
	})
}

// Invoker serves RDS's API.
func (s *Service) Invoker() api.Invoker { return rdsapi.Bind(s.Handlers()) }

package ssm

import (
	"github.com/cloudbox/cloudbox/api"
	ssmapi "github.com/cloudbox/cloudbox/api/ssm"
	"github.com/cloudbox/cloudbox/registry"
)

// SSM's timestamps follow the virtual clock, as every service without a
// real client checking them against its own clock does.
func init() {
	registry.Register(registry.Registration{
		Name: "ssm",
		API:  ssmapi.Service,
		New: func(env *registry.Env) (registry.Service, error) {
			return New(env.Store, env.Clock.Now, env.Log), nil
		},
	})
}

// Invoker serves SSM's API.
func (s *Service) Invoker() api.Invoker { return ssmapi.Bind(s.Handlers()) }

package acm

import (
	"github.com/cloudbox/cloudbox/api"
	acmapi "github.com/cloudbox/cloudbox/api/acm"
	"github.com/cloudbox/cloudbox/registry"
)

// ACM keeps wall time: real clients check its certificates against their
// own clocks.
func init() {
	registry.Register(registry.Registration{
		Name: "acm",
		API:  acmapi.Service,
		New: func(env *registry.Env) (registry.Service, error) {
			return New(env.Store, env.Now, env.Log, env.CA), nil
		},
	})
}

// Invoker serves ACM's API.
func (s *Service) Invoker() api.Invoker { return acmapi.Bind(s.Handlers()) }

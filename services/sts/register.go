package sts

import (
	"github.com/cloudbox/cloudbox/api"
	stsapi "github.com/cloudbox/cloudbox/api/sts"
	"github.com/cloudbox/cloudbox/registry"
)

func init() {
	registry.Register(registry.Registration{
		Name: "sts",
		API:  stsapi.Service,
		New: func(env *registry.Env) (registry.Service, error) {
			return New(env.Identity, env.Now), nil
		},
	})
}

// Invoker serves STS's API.
func (s *Service) Invoker() api.Invoker { return stsapi.Bind(s.Handlers()) }

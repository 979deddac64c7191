package sts

import (
	"github.com/cloudbox/cloudbox/api"
	stsapi "github.com/cloudbox/cloudbox/api/sts"
	"github.com/cloudbox/cloudbox/registry"
)

func init() {
	registry.Register(registry.Registration{
		Name:     "sts",
		API:      stsapi.Service,
		Requires: []string{"iam"},
		New: func(env *registry.Env) (registry.Service, error) {
			s := New(env.Identity, env.Now)
			if r, ok := env.Service("iam").(RoleReader); ok {
				s.UseRoles(r, false)
			}
			return s, nil
		},
	})
}

// Invoker serves STS's API.
func (s *Service) Invoker() api.Invoker { return stsapi.Bind(s.Handlers()) }

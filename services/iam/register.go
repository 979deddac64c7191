package iam

import (
	"github.com/cloudbox/cloudbox/api"
	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/registry"
)

// IAM's dates are the wall clock's: its credentials are checked by real
// clients against theirs.
func init() {
	registry.Register(registry.Registration{
		Name: "iam",
		API:  iamapi.Service,
		New: func(env *registry.Env) (registry.Service, error) {
			return New(env.Store, env.Now), nil
		},
	})
}

// Invoker serves IAM's API.
func (s *Service) Invoker() api.Invoker { return iamapi.Bind(s.Handlers()) }

package route53

import (
	"github.com/cloudbox/cloudbox/api"
	r53api "github.com/cloudbox/cloudbox/api/route53"
	"github.com/cloudbox/cloudbox/registry"
	"github.com/cloudbox/cloudbox/services/ec2"
)

// Route 53 reads EC2's VPCs, in its own transactions, to check those it
// associates private zones with. Its changes go INSYNC on the virtual
// clock.
func init() {
	registry.Register(registry.Registration{
		Name:     "route53",
		API:      r53api.Service,
		Requires: []string{"ec2"},
		New: func(env *registry.Env) (registry.Service, error) {
			return New(env.Store, env.Clock.Now, env.Log, ec2.VPCExists), nil
		},
	})
}

// Invoker serves Route 53's API.
func (s *Service) Invoker() api.Invoker { return r53api.Bind(s.Handlers()) }

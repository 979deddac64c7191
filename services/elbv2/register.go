package elbv2

import (
	"fmt"

	"github.com/cloudbox/cloudbox/api"
	elbv2api "github.com/cloudbox/cloudbox/api/elbv2"
	"github.com/cloudbox/cloudbox/registry"
)

// ELB needs ACM's certificates for HTTPS listeners, and EC2 for the
// subnets, security groups and node interfaces it reads and makes in its
// own transactions.
func init() {
	registry.Register(registry.Registration{
		Name:     "elbv2",
		API:      elbv2api.Service,
		Requires: []string{"acm", "ec2"},
		New: func(env *registry.Env) (registry.Service, error) {
			certs, ok := env.Service("acm").(Certificates)
			if !ok {
				return nil, fmt.Errorf("acm does not provide certificates")
			}
			s := New(env.Store, env.Clock.Now, env.Log, env.Clock.Scale(), certs)
			s.SetDataPlane(env.DataPlane)
			return s, nil
		},
	})
}

// Invoker serves Elastic Load Balancing's API.
func (s *Service) Invoker() api.Invoker { return elbv2api.Bind(s.Handlers()) }

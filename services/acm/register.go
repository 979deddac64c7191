package acm

import (
	"github.com/cloudbox/cloudbox/api"
	acmapi "github.com/cloudbox/cloudbox/api/acm"
	"github.com/cloudbox/cloudbox/registry"
)

// ACM keeps wall time: real clients check its certificates against their
// own clocks. It requires Route 53, whose public zones DNS validation
// looks in.
func init() {
	registry.Register(registry.Registration{
		Name:     "acm",
		API:      acmapi.Service,
		Requires: []string{"route53"},
		New: func(env *registry.Env) (registry.Service, error) {
			s := New(env.Store, env.Now, env.Log, env.CA)
			if dns, ok := env.Service("route53").(PublicDNS); ok {
				s.SetPublicDNS(dns)
			}
			return s, nil
		},
	})
}

// Invoker serves ACM's API.
func (s *Service) Invoker() api.Invoker { return acmapi.Bind(s.Handlers()) }

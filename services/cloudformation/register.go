package cloudformation

import (
	"github.com/cloudbox/cloudbox/api"
	cfnapi "github.com/cloudbox/cloudbox/api/cloudformation"
	"github.com/cloudbox/cloudbox/registry"
)

// The services CloudFormation's providers call, through their APIs.
var requires = []string{"acm", "autoscaling", "cloudwatch", "ec2", "elasticache", "elbv2", "iam", "rds", "route53", "s3", "ssm"}

// CloudFormation makes its stacks' resources through the other services'
// APIs, as the stack's caller.
func init() {
	registry.Register(registry.Registration{
		Name:     "cloudformation",
		API:      cfnapi.Service,
		Requires: requires,
		New: func(env *registry.Env) (registry.Service, error) {
			inv := map[string]api.Invoker{}
			for _, n := range requires {
				inv[n] = env.Service(n).Invoker()
			}
			s := New(env.Store, env.Clock.Now, env.Log, func(name string) api.Invoker { return inv[name] })
			// Nested stacks are made through the service's own API.
			inv["cloudformation"] = s.Invoker()
			return s, nil
		},
	})
}

// Invoker serves CloudFormation's API.
func (s *Service) Invoker() api.Invoker { return cfnapi.Bind(s.Handlers()) }

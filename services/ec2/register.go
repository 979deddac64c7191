package ec2

import (
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/registry"
)

func init() {
	registry.Register(registry.Registration{
		Name: "ec2",
		API:  ec2api.Service,
		// SSM resolves "resolve:ssm:" image ids.
		Requires: []string{"ssm"},
		New: func(env *registry.Env) (registry.Service, error) {
			s := New(env.Store, env.Clock.Now, env.Log, env.Clock.Scale())
			s.SetDataPlane(env.DataPlane)
			s.SetStrictImages(env.StrictImages)
			s.params, _ = env.Service("ssm").(Parameters)
			s.events = env.Events
			return s, nil
		},
	})
}

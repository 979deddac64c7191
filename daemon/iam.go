package daemon

import (
	"github.com/cloudbox/cloudbox/authz"
	"github.com/cloudbox/cloudbox/server"
	"github.com/cloudbox/cloudbox/services/sts"
)

// authorizer builds the IAM enforcement of cfg.IAM from the built
// services: IAM's records, S3's bucket policies, the services' actions
// and resources. nil when IAM is off.
func (d *Daemon) authorizer(mode authz.Mode) server.Authorizer {
	if mode == authz.Off {
		return nil
	}
	cfg := authz.Config{Mode: mode, Logger: d.cfg.Logger, Refiners: map[string]authz.Refiner{}}
	cfg.IAM = providedOne[authz.IAMReader](d.built)
	cfg.Buckets = providedOne[authz.BucketPolicies](d.built)
	for _, b := range d.built {
		if r, ok := b.Service.(authz.Refiner); ok && b.API != nil {
			cfg.Refiners[b.API.Package] = r
		}
		// STS refuses the roles IAM does not have, and reads the messages
		// of the denials.
		if s, ok := b.Service.(*sts.Service); ok {
			if r, ok := cfg.IAM.(sts.RoleReader); ok {
				s.UseRoles(r, true)
			}
			s.UseDecoder(authz.DecodeMessage)
		}
	}
	return authz.New(cfg)
}

package ec2

import ec2api "github.com/cloudbox/cloudbox/api/ec2"

// registerCompute registers the operations of instances, instance types,
// images and launch templates.
func (s *Service) registerCompute(h *ec2api.Handlers) {
}

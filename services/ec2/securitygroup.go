package ec2

import ec2api "github.com/cloudbox/cloudbox/api/ec2"

// registerSecurity registers the operations of security groups, network
// interfaces, Elastic IPs, NAT gateways and key pairs.
func (s *Service) registerSecurity(h *ec2api.Handlers) {
}

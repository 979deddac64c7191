package ec2

import ec2api "github.com/cloudbox/cloudbox/api/ec2"

// registerNetwork registers the operations of VPCs, subnets, internet
// gateways, route tables, network ACLs, DHCP options and peering.
func (s *Service) registerNetwork(h *ec2api.Handlers) {
}

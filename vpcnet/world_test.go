package vpcnet

import (
	"net"
	"net/netip"

	"github.com/cloudbox/cloudbox/topology"
)

var (
	pfx = netip.MustParsePrefix
	ip  = netip.MustParseAddr
)

func mac(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// Addresses of the test world.
var (
	webIP     = ip("10.0.1.10")
	bastionIP = ip("10.0.1.20")
	natIP     = ip("10.0.1.5")
	dbIP      = ip("10.0.2.30")
	peerIP    = ip("10.1.1.10")
	webPub    = ip("198.18.1.10")
	bastPub   = ip("198.18.1.20")
	natPub    = ip("198.18.1.5")
)

var allowAll = []topology.ACLEntry{{Number: 100, Protocol: topology.ProtoAll, CIDR: pfx("0.0.0.0/0"), Allow: true, ICMPType: -1, ICMPCode: -1}}

var egressAll = []topology.SGRule{{ID: "sgr-egress", Protocol: topology.ProtoAll, FromPort: -1, ToPort: -1, CIDRs: []netip.Prefix{pfx("0.0.0.0/0")}}}

// testWorld is a VPC with a public subnet (web, bastion and a NAT gateway,
// all with public IPs, routed to the internet gateway) and a private one
// (db, routed to the NAT gateway), and a second VPC (one instance, peer)
// that the peering test connects. Each call returns a fresh copy, for
// tests to edit.
func testWorld() *topology.World {
	web := &topology.ENI{ID: "eni-web", Subnet: "subnet-pub", MAC: mac("02:00:0a:00:01:0a"), PrivateIPs: []netip.Addr{webIP},
		PublicIPs: map[netip.Addr]netip.Addr{webIP: webPub}, Groups: []string{"sg-web"}, SourceDestCheck: true, OwnerKind: topology.OwnerInstance, OwnerID: "i-web"}
	bastion := &topology.ENI{ID: "eni-bastion", Subnet: "subnet-pub", MAC: mac("02:00:0a:00:01:14"), PrivateIPs: []netip.Addr{bastionIP},
		PublicIPs: map[netip.Addr]netip.Addr{bastionIP: bastPub}, Groups: []string{"sg-bastion"}, SourceDestCheck: true, OwnerKind: topology.OwnerInstance, OwnerID: "i-bastion"}
	nat := &topology.ENI{ID: "eni-nat", Subnet: "subnet-pub", MAC: mac("02:00:0a:00:01:05"), PrivateIPs: []netip.Addr{natIP},
		PublicIPs: map[netip.Addr]netip.Addr{natIP: natPub}, OwnerKind: topology.OwnerNATGateway, OwnerID: "nat-1"}
	db := &topology.ENI{ID: "eni-db", Subnet: "subnet-priv", MAC: mac("02:00:0a:00:02:1e"), PrivateIPs: []netip.Addr{dbIP},
		PublicIPs: map[netip.Addr]netip.Addr{}, Groups: []string{"sg-db"}, SourceDestCheck: true, OwnerKind: topology.OwnerInstance, OwnerID: "i-db"}
	detached := &topology.ENI{ID: "eni-spare", Subnet: "subnet-priv", MAC: mac("02:00:0a:00:02:63"), PrivateIPs: []netip.Addr{ip("10.0.2.99")}, Groups: []string{"sg-web"}}
	vpc := &topology.VPC{
		ID: "vpc-1", CIDRs: []netip.Prefix{pfx("10.0.0.0/16")}, InternetGateway: "igw-1",
		Subnets: []*topology.Subnet{
			{ID: "subnet-pub", CIDR: pfx("10.0.1.0/24"), RouteTable: "rtb-pub", NetworkACL: "acl-default"},
			{ID: "subnet-priv", CIDR: pfx("10.0.2.0/24"), RouteTable: "rtb-priv", NetworkACL: "acl-priv"},
		},
		RouteTables: []*topology.RouteTable{
			{ID: "rtb-pub", Routes: []topology.Route{
				{Dst: pfx("10.0.0.0/16"), Target: topology.TargetLocal},
				{Dst: pfx("0.0.0.0/0"), Target: topology.TargetIGW, TargetID: "igw-1"},
			}},
			{ID: "rtb-priv", Routes: []topology.Route{
				{Dst: pfx("10.0.0.0/16"), Target: topology.TargetLocal},
				{Dst: pfx("0.0.0.0/0"), Target: topology.TargetNAT, TargetID: "nat-1"},
			}},
		},
		SecurityGroups: []*topology.SecurityGroup{
			{ID: "sg-web", Ingress: []topology.SGRule{{ID: "sgr-http", Protocol: topology.ProtoTCP, FromPort: 80, ToPort: 80, CIDRs: []netip.Prefix{pfx("0.0.0.0/0")}}}, Egress: egressAll},
			{ID: "sg-bastion", Ingress: []topology.SGRule{{ID: "sgr-ssh", Protocol: topology.ProtoTCP, FromPort: 22, ToPort: 22, CIDRs: []netip.Prefix{pfx("0.0.0.0/0")}}}, Egress: egressAll},
			{ID: "sg-db", Ingress: []topology.SGRule{{ID: "sgr-mysql", Protocol: topology.ProtoTCP, FromPort: 3306, ToPort: 3306, Groups: []string{"sg-web"}}}, Egress: egressAll},
		},
		NetworkACLs: []*topology.NetworkACL{
			{ID: "acl-default", Ingress: allowAll, Egress: allowAll},
			{ID: "acl-priv", Ingress: allowAll, Egress: allowAll},
		},
		ENIs:        []*topology.ENI{web, bastion, nat, db, detached},
		NATGateways: []*topology.NATGateway{{ID: "nat-1", Subnet: "subnet-pub", ENI: "eni-nat", Public: true}},
	}
	peer := &topology.VPC{
		ID: "vpc-2", CIDRs: []netip.Prefix{pfx("10.1.0.0/16")},
		Subnets:     []*topology.Subnet{{ID: "subnet-peer", CIDR: pfx("10.1.1.0/24"), RouteTable: "rtb-peer", NetworkACL: "acl-peer"}},
		RouteTables: []*topology.RouteTable{{ID: "rtb-peer", Routes: []topology.Route{{Dst: pfx("10.1.0.0/16"), Target: topology.TargetLocal}}}},
		SecurityGroups: []*topology.SecurityGroup{
			{ID: "sg-peer", Ingress: []topology.SGRule{{ID: "sgr-peer-http", Protocol: topology.ProtoTCP, FromPort: 80, ToPort: 80, CIDRs: []netip.Prefix{pfx("10.0.0.0/16")}}}, Egress: egressAll},
		},
		NetworkACLs: []*topology.NetworkACL{{ID: "acl-peer", Ingress: allowAll, Egress: allowAll}},
		ENIs: []*topology.ENI{{ID: "eni-peer", Subnet: "subnet-peer", MAC: mac("02:00:0a:01:01:0a"), PrivateIPs: []netip.Addr{peerIP},
			PublicIPs: map[netip.Addr]netip.Addr{}, Groups: []string{"sg-peer"}, SourceDestCheck: true, OwnerKind: topology.OwnerInstance, OwnerID: "i-peer"}},
	}
	return &topology.World{
		VPCs: []*topology.VPC{vpc, peer},
		Instances: []*topology.Instance{
			{ID: "i-web", VPC: "vpc-1", ENIs: []string{"eni-web"}},
			{ID: "i-bastion", VPC: "vpc-1", ENIs: []string{"eni-bastion"}},
			{ID: "i-db", VPC: "vpc-1", ENIs: []string{"eni-db"}},
			{ID: "i-peer", VPC: "vpc-2", ENIs: []string{"eni-peer"}},
		},
	}
}

// addPeering peers vpc-1 and vpc-2 with pcx-1; with routes, both route
// tables involved route the other VPC through it.
func addPeering(w *topology.World, routeFrom1, routeFrom2 bool) {
	w.Peerings = []*topology.Peering{{ID: "pcx-1", RequesterVPC: "vpc-1", AccepterVPC: "vpc-2"}}
	if routeFrom1 {
		rt := w.FindVPC("vpc-1").RouteTables[0]
		rt.Routes = append(rt.Routes, topology.Route{Dst: pfx("10.1.0.0/16"), Target: topology.TargetPeering, TargetID: "pcx-1"})
	}
	if routeFrom2 {
		rt := w.FindVPC("vpc-2").RouteTables[0]
		rt.Routes = append(rt.Routes, topology.Route{Dst: pfx("10.0.0.0/16"), Target: topology.TargetPeering, TargetID: "pcx-1"})
	}
}

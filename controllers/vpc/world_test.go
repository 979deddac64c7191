package vpc

import (
	"net"
	"net/netip"

	"github.com/cloudbox/cloudbox/desired"
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

var allowAll = []desired.ACLEntry{{Number: 100, Protocol: desired.ProtoAll, CIDR: pfx("0.0.0.0/0"), Allow: true, ICMPType: -1, ICMPCode: -1}}

var egressAll = []desired.SGRule{{ID: "sgr-egress", Protocol: desired.ProtoAll, FromPort: -1, ToPort: -1, CIDRs: []netip.Prefix{pfx("0.0.0.0/0")}}}

// testWorld is a VPC with a public subnet (web, bastion and a NAT gateway,
// all with public IPs, routed to the internet gateway) and a private one
// (db, routed to the NAT gateway), and a second VPC (one instance, peer)
// that the peering test connects. Each call returns a fresh copy, for
// tests to edit.
func testWorld() *desired.World {
	web := &desired.ENI{ID: "eni-web", Subnet: "subnet-pub", MAC: mac("02:00:0a:00:01:0a"), PrivateIPs: []netip.Addr{webIP},
		PublicIPs: map[netip.Addr]netip.Addr{webIP: webPub}, Groups: []string{"sg-web"}, SourceDestCheck: true, OwnerKind: desired.OwnerInstance, OwnerID: "i-web"}
	bastion := &desired.ENI{ID: "eni-bastion", Subnet: "subnet-pub", MAC: mac("02:00:0a:00:01:14"), PrivateIPs: []netip.Addr{bastionIP},
		PublicIPs: map[netip.Addr]netip.Addr{bastionIP: bastPub}, Groups: []string{"sg-bastion"}, SourceDestCheck: true, OwnerKind: desired.OwnerInstance, OwnerID: "i-bastion"}
	nat := &desired.ENI{ID: "eni-nat", Subnet: "subnet-pub", MAC: mac("02:00:0a:00:01:05"), PrivateIPs: []netip.Addr{natIP},
		PublicIPs: map[netip.Addr]netip.Addr{natIP: natPub}, OwnerKind: desired.OwnerNATGateway, OwnerID: "nat-1"}
	db := &desired.ENI{ID: "eni-db", Subnet: "subnet-priv", MAC: mac("02:00:0a:00:02:1e"), PrivateIPs: []netip.Addr{dbIP},
		PublicIPs: map[netip.Addr]netip.Addr{}, Groups: []string{"sg-db"}, SourceDestCheck: true, OwnerKind: desired.OwnerInstance, OwnerID: "i-db"}
	detached := &desired.ENI{ID: "eni-spare", Subnet: "subnet-priv", MAC: mac("02:00:0a:00:02:63"), PrivateIPs: []netip.Addr{ip("10.0.2.99")}, Groups: []string{"sg-web"}}
	vpc := &desired.VPC{
		ID: "vpc-1", CIDRs: []netip.Prefix{pfx("10.0.0.0/16")}, InternetGateway: "igw-1",
		Subnets: []*desired.Subnet{
			{ID: "subnet-pub", CIDR: pfx("10.0.1.0/24"), RouteTable: "rtb-pub", NetworkACL: "acl-default"},
			{ID: "subnet-priv", CIDR: pfx("10.0.2.0/24"), RouteTable: "rtb-priv", NetworkACL: "acl-priv"},
		},
		RouteTables: []*desired.RouteTable{
			{ID: "rtb-pub", Routes: []desired.Route{
				{Dst: pfx("10.0.0.0/16"), Target: desired.TargetLocal},
				{Dst: pfx("0.0.0.0/0"), Target: desired.TargetIGW, TargetID: "igw-1"},
			}},
			{ID: "rtb-priv", Routes: []desired.Route{
				{Dst: pfx("10.0.0.0/16"), Target: desired.TargetLocal},
				{Dst: pfx("0.0.0.0/0"), Target: desired.TargetNAT, TargetID: "nat-1"},
			}},
		},
		SecurityGroups: []*desired.SecurityGroup{
			{ID: "sg-web", Ingress: []desired.SGRule{{ID: "sgr-http", Protocol: desired.ProtoTCP, FromPort: 80, ToPort: 80, CIDRs: []netip.Prefix{pfx("0.0.0.0/0")}}}, Egress: egressAll},
			{ID: "sg-bastion", Ingress: []desired.SGRule{{ID: "sgr-ssh", Protocol: desired.ProtoTCP, FromPort: 22, ToPort: 22, CIDRs: []netip.Prefix{pfx("0.0.0.0/0")}}}, Egress: egressAll},
			{ID: "sg-db", Ingress: []desired.SGRule{{ID: "sgr-mysql", Protocol: desired.ProtoTCP, FromPort: 3306, ToPort: 3306, Groups: []string{"sg-web"}}}, Egress: egressAll},
		},
		NetworkACLs: []*desired.NetworkACL{
			{ID: "acl-default", Ingress: allowAll, Egress: allowAll},
			{ID: "acl-priv", Ingress: allowAll, Egress: allowAll},
		},
		ENIs:        []*desired.ENI{web, bastion, nat, db, detached},
		NATGateways: []*desired.NATGateway{{ID: "nat-1", Subnet: "subnet-pub", ENI: "eni-nat", Public: true}},
	}
	peer := &desired.VPC{
		ID: "vpc-2", CIDRs: []netip.Prefix{pfx("10.1.0.0/16")},
		Subnets:     []*desired.Subnet{{ID: "subnet-peer", CIDR: pfx("10.1.1.0/24"), RouteTable: "rtb-peer", NetworkACL: "acl-peer"}},
		RouteTables: []*desired.RouteTable{{ID: "rtb-peer", Routes: []desired.Route{{Dst: pfx("10.1.0.0/16"), Target: desired.TargetLocal}}}},
		SecurityGroups: []*desired.SecurityGroup{
			{ID: "sg-peer", Ingress: []desired.SGRule{{ID: "sgr-peer-http", Protocol: desired.ProtoTCP, FromPort: 80, ToPort: 80, CIDRs: []netip.Prefix{pfx("10.0.0.0/16")}}}, Egress: egressAll},
		},
		NetworkACLs: []*desired.NetworkACL{{ID: "acl-peer", Ingress: allowAll, Egress: allowAll}},
		ENIs: []*desired.ENI{{ID: "eni-peer", Subnet: "subnet-peer", MAC: mac("02:00:0a:01:01:0a"), PrivateIPs: []netip.Addr{peerIP},
			PublicIPs: map[netip.Addr]netip.Addr{}, Groups: []string{"sg-peer"}, SourceDestCheck: true, OwnerKind: desired.OwnerInstance, OwnerID: "i-peer"}},
	}
	return &desired.World{
		VPCs: []*desired.VPC{vpc, peer},
		Instances: []*desired.Instance{
			{ID: "i-web", VPC: "vpc-1", ENIs: []string{"eni-web"}},
			{ID: "i-bastion", VPC: "vpc-1", ENIs: []string{"eni-bastion"}},
			{ID: "i-db", VPC: "vpc-1", ENIs: []string{"eni-db"}},
			{ID: "i-peer", VPC: "vpc-2", ENIs: []string{"eni-peer"}},
		},
	}
}

// addPeering peers vpc-1 and vpc-2 with pcx-1; with routes, both route
// tables involved route the other VPC through it.
func addPeering(w *desired.World, routeFrom1, routeFrom2 bool) {
	w.Peerings = []*desired.Peering{{ID: "pcx-1", RequesterVPC: "vpc-1", AccepterVPC: "vpc-2"}}
	if routeFrom1 {
		rt := w.FindVPC("vpc-1").RouteTables[0]
		rt.Routes = append(rt.Routes, desired.Route{Dst: pfx("10.1.0.0/16"), Target: desired.TargetPeering, TargetID: "pcx-1"})
	}
	if routeFrom2 {
		rt := w.FindVPC("vpc-2").RouteTables[0]
		rt.Routes = append(rt.Routes, desired.Route{Dst: pfx("10.0.0.0/16"), Target: desired.TargetPeering, TargetID: "pcx-1"})
	}
}

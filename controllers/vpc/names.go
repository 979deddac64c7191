// Package vpc compiles a desired.World into the kernel's network: one
// namespace for the simulated internet, one router namespace per VPC, one
// namespace per ENI owner, veths for ENIs, internet gateways and peerings,
// policy routing for route tables, and nftables for security groups,
// network ACLs and NAT. README.md describes the layout.
package vpc

import (
	"fmt"
	"hash/fnv"
	"net"
	"net/netip"
	"strings"
)

// InternetNS is the namespace of the simulated internet.
const InternetNS = "internet"

// EchoAddr is an address on the internet namespace's lo, for an echo server
// the daemon runs there.
var EchoAddr = netip.MustParseAddr("198.18.0.10")

// MirrorAddr is another address on the internet namespace's lo, for the
// package mirror (deb.debian.org as the instances resolve it).
var MirrorAddr = netip.MustParseAddr("198.18.0.11")

// EndpointAddr is where AWS's public API endpoints answer on the
// simulated internet (sts.amazonaws.com, ec2.<region>.amazonaws.com,
// <bucket>.s3.amazonaws.com...), also on the internet namespace's lo:
// instances reach the API there through their internet or NAT gateway,
// as on AWS.
var EndpointAddr = netip.MustParseAddr("198.18.0.12")

// NameServerAddrs are where the public hosted zones' name servers
// (ns-N.awsdns-NN.tld) answer on the simulated internet, one address per
// top-level domain of their names; also on the internet namespace's lo.
var NameServerAddrs = map[string]netip.Addr{
	"com":   netip.MustParseAddr("198.18.0.20"),
	"net":   netip.MustParseAddr("198.18.0.21"),
	"org":   netip.MustParseAddr("198.18.0.22"),
	"co.uk": netip.MustParseAddr("198.18.0.23"),
}

// IMDSAddr is the instance metadata service's address, on every router's lo.
var IMDSAddr = netip.MustParseAddr("169.254.169.254")

// DNSLinkLocal is the Amazon DNS server's link-local address, which
// answers in every VPC as base+2 does; also on every router's lo.
var DNSLinkLocal = netip.MustParseAddr("169.254.169.253")

// RouterNS returns the short name of a VPC's router namespace.
func RouterNS(vpcID string) string { return "r-" + vpcID }

// OwnerNS returns the short name of the namespace of an ENI owner: an
// instance "i-..." or a NAT gateway "nat-...".
func OwnerNS(ownerID string) string { return ownerID }

// igwLink is the router's end of its link to the internet namespace.
const igwLink = "igw"

// shortLink derives a link name of at most 15 characters from an AWS id:
// kind, then the end of the id after its "xxx-" prefix ("eni-0a1b..." ->
// "e" + the last 14 characters). AWS ids end in 17 random hex digits, so 56
// bits keep names apart; build still refuses a collision.
func shortLink(kind byte, id string) string {
	rest := id
	if i := strings.IndexByte(id, '-'); i >= 0 {
		rest = id[i+1:]
	}
	if len(rest) > 14 {
		rest = rest[len(rest)-14:]
	}
	return string(kind) + rest
}

// ethName is the name of an ENI's end in its owner's namespace.
func ethName(deviceIndex int) string { return fmt.Sprintf("eth%d", deviceIndex) }

// igwMAC is the fixed MAC of a router's internet end: the internet namespace
// holds permanent neighbour entries for public IPs pointing at it, so it must
// not change when the link is recreated.
func igwMAC(vpcID string) net.HardwareAddr {
	h := fnv.New32a()
	h.Write([]byte(vpcID))
	s := h.Sum32()
	return net.HardwareAddr{0x02, 0xcb, byte(s >> 24), byte(s >> 16), byte(s >> 8), byte(s)}
}

// routeTableID is the kernel routing table of a route table: a hash of its
// id, so it is the same after a restart without any bookkeeping. It stays
// clear of the kernel's reserved tables (0, 253-255).
func routeTableID(rtbID string) int {
	h := fnv.New32a()
	h.Write([]byte(rtbID))
	return 1000 + int(h.Sum32()%(1<<30))
}

// Policy rule priorities in a router: destinations in the VPC first (main
// table: the ENIs' host routes), then the source subnet's route table.
const (
	prioLocal  = 100
	prioSubnet = 1000
)

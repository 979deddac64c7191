package ec2

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// PublicRange is where simulated public IPv4 addresses (auto-assigned and
// Elastic IPs) come from: 198.18.0.0/16, half of the block set aside for
// benchmarking networks (RFC 2544) and routed nowhere on the real internet.
// The other half, 198.19.0.0/16, is one AWS lets VPCs use. The data plane
// routes this range only inside cloudbox's own "internet" namespace, never
// from the host. Its first /24 is cloudbox's own (the simulated internet's
// services) and never handed out.
var PublicRange = netip.MustParsePrefix("198.18.0.0/16")

// Public addresses are unique across every account and region, as they are
// on the internet, so they are recorded outside any account.
const (
	publicIPKind  = "ec2:public-ip"
	publicIPOwner = "global"
)

func publicIPKey(ip string) store.Key {
	return store.Key{Account: publicIPOwner, Kind: publicIPKind, ID: ip}
}

// allocatePublicIP takes a free public address for holder (an allocation
// id, or an ENI id for an auto-assigned address).
func allocatePublicIP(tx *store.Tx, holder string) (string, error) {
	size := uint32(1) << (32 - PublicRange.Bits())
	base := PublicRange.Addr().As4()
	start := binary.BigEndian.Uint32(base[:])
	var r [4]byte
	rand.Read(r[:])
	off := binary.BigEndian.Uint32(r[:]) % size
	for i := uint32(0); i < size; i++ {
		n := (off + i) % size
		if last := n & 0xff; last == 0 || last == 255 {
			continue // addresses that look like network or broadcast confuse people
		}
		if n < 256 {
			continue // 198.18.0.0/24 holds cloudbox's own internet services (the echo server)
		}
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], start+n)
		ip := netip.AddrFrom4(b).String()
		ok, err := tx.Get(publicIPKey(ip), new(string))
		if err != nil {
			return "", err
		}
		if !ok {
			return ip, tx.Put(publicIPKey(ip), holder)
		}
	}
	return "", api.Errorf("AddressLimitExceeded", "The maximum number of addresses has been reached.")
}

func releasePublicIP(tx *store.Tx, ip string) error {
	_, err := tx.Delete(publicIPKey(ip))
	return err
}

// publicDNSName is the public host name AWS gives an address.
func publicDNSName(region, ip string) string {
	host := "ec2-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return host + ".compute-1.amazonaws.com"
	}
	return host + "." + region + ".compute.amazonaws.com"
}

// privateDNSName is the private host name of a VPC address.
func privateDNSName(region, ip string) string {
	host := "ip-" + strings.ReplaceAll(ip, ".", "-")
	if region == "us-east-1" {
		return host + ".ec2.internal"
	}
	return host + "." + region + ".compute.internal"
}

// newMAC returns a locally administered unicast MAC address, the kind AWS
// gives ENIs (0a:... or 02:...).
func newMAC() string {
	var b [6]byte
	rand.Read(b[:])
	b[0] = 0x02
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5])
}

// checkSecurityGroups loads the groups ids, which must all be in vpcID.
func checkSecurityGroups(tx *store.Tx, sc scope, vpcID string, ids []string) ([]*securityGroupRecord, error) {
	var out []*securityGroupRecord
	for _, id := range ids {
		g, err := load[securityGroupRecord](tx, sc, kindSG, id)
		if err != nil {
			return nil, err
		}
		if deref(g.VpcId) != vpcID {
			return nil, api.Errorf("InvalidParameter", "Security group %s and the network %s belong to different networks.", id, vpcID)
		}
		out = append(out, g)
	}
	return out, nil
}

// eniSpec is what a new network interface is made from.
type eniSpec struct {
	subnet      *subnetRecord
	privateIP   string // "" for the next free address
	groups      []string
	description string
	// interfaceType is "interface" for instances and user ENIs,
	// "nat_gateway", "network_load_balancer"... for managed ones.
	interfaceType string
	// requesterManaged marks interfaces AWS manages for a service.
	requesterManaged bool
	tags             []*ec2api.Tag
}

// createENI makes a network interface in a subnet, taking its address.
// The subnet record is updated in place and saved.
func createENI(tx *store.Tx, sc scope, spec eniSpec) (*networkInterfaceRecord, error) {
	sn := spec.subnet
	groups, err := checkSecurityGroups(tx, sc, deref(sn.VpcId), spec.groups)
	if err != nil {
		return nil, err
	}
	id := kindENI.newID()
	ip, err := allocateIP(sn, spec.privateIP, id)
	if err != nil {
		return nil, err
	}
	if err := save(tx, sc, kindSubnet, *sn.SubnetId, sn); err != nil {
		return nil, err
	}
	var gids []*ec2api.GroupIdentifier
	for _, g := range groups {
		gids = append(gids, &ec2api.GroupIdentifier{GroupId: g.GroupId, GroupName: g.GroupName})
	}
	if gids == nil {
		gids = []*ec2api.GroupIdentifier{}
	}
	tags := spec.tags
	if tags == nil {
		tags = []*ec2api.Tag{}
	}
	itype := spec.interfaceType
	if itype == "" {
		itype = "interface"
	}
	dns := privateDNSName(sc.region, ip)
	e := &networkInterfaceRecord{NetworkInterface: ec2api.NetworkInterface{
		NetworkInterfaceId: str(id),
		SubnetId:           sn.SubnetId,
		VpcId:              sn.VpcId,
		AvailabilityZone:   sn.AvailabilityZone,
		Description:        str(spec.description),
		OwnerId:            str(sc.account),
		RequesterManaged:   boolp(spec.requesterManaged),
		Status:             str("available"),
		MacAddress:         str(newMAC()),
		PrivateIpAddress:   str(ip),
		PrivateDnsName:     str(dns),
		SourceDestCheck:    boolp(true),
		InterfaceType:      str(itype),
		Groups:             gids,
		Ipv6Addresses:      []*ec2api.NetworkInterfaceIpv6Address{},
		PrivateIpAddresses: []*ec2api.NetworkInterfacePrivateIpAddress{{Primary: boolp(true), PrivateIpAddress: str(ip), PrivateDnsName: str(dns)}},
		TagSet:             tags,
	}}
	return e, save(tx, sc, kindENI, id, e)
}

// deleteENI removes a network interface and frees its addresses (private
// ones in the subnet, an auto-assigned public one); an Elastic IP stays
// allocated and is disassociated by its owner.
func deleteENI(tx *store.Tx, sc scope, e *networkInterfaceRecord) error {
	sn, err := load[subnetRecord](tx, sc, kindSubnet, deref(e.SubnetId))
	if err != nil {
		return err
	}
	for _, a := range e.PrivateIpAddresses {
		sn.release(deref(a.PrivateIpAddress))
	}
	if err := save(tx, sc, kindSubnet, *sn.SubnetId, sn); err != nil {
		return err
	}
	if as := e.Association; as != nil && as.AllocationId == nil && as.PublicIp != nil {
		if err := releasePublicIP(tx, *as.PublicIp); err != nil {
			return err
		}
	}
	return remove(tx, sc, kindENI, *e.NetworkInterfaceId)
}

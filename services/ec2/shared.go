package ec2

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"

	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// What other services that live in a VPC (Elastic Load Balancing first)
// need of EC2. They share the store, so each function takes the caller's
// transaction: a load balancer and its network interfaces are made, or
// not, together. Errors are EC2's; a caller turns a not-found into its
// own service's error where AWS does.

// SubnetInfo describes a subnet.
type SubnetInfo struct {
	ID   string
	VPC  string
	AZ   string
	CIDR netip.Prefix
}

// LookupSubnet returns a subnet; ok is false when it does not exist.
func LookupSubnet(tx *store.Tx, account, region, id string) (SubnetInfo, bool, error) {
	sn, ok, err := store.Get[subnetRecord](tx, scope{account: account, region: region}.key(kindSubnet, id))
	if err != nil || !ok {
		return SubnetInfo{}, false, err
	}
	cidr, _ := netip.ParsePrefix(deref(sn.CidrBlock))
	return SubnetInfo{ID: id, VPC: deref(sn.VpcId), AZ: deref(sn.AvailabilityZone), CIDR: cidr}, true, nil
}

// VPCExists reports whether a VPC exists.
func VPCExists(tx *store.Tx, account, region, id string) (bool, error) {
	return tx.Get(scope{account: account, region: region}.key(kindVPC, id), &vpcRecord{})
}

// HasInternetGateway reports whether an internet gateway is attached to a
// VPC (services make their resources public by default then, as RDS).
func HasInternetGateway(tx *store.Tx, account, region, vpc string) (bool, error) {
	return vpcHasInternetGateway(tx, scope{account: account, region: region}, vpc)
}

// DefaultVPCSubnets returns the region's default VPC and its default
// subnets, one per zone in zone order (what a service that is given no
// subnets uses); ok is false when the region has no default VPC.
func DefaultVPCSubnets(tx *store.Tx, account, region string) (vpc string, subnets []SubnetInfo, ok bool, err error) {
	sc := scope{account: account, region: region}
	vpcs, err := listAll[vpcRecord](tx, sc, kindVPC)
	if err != nil {
		return "", nil, false, err
	}
	i := slices.IndexFunc(vpcs, func(v *vpcRecord) bool { return derefBool(v.IsDefault) })
	if i < 0 {
		return "", nil, false, nil
	}
	v := vpcs[i]
	all, err := listAll[subnetRecord](tx, sc, kindSubnet)
	if err != nil {
		return "", nil, false, err
	}
	for _, z := range zonesOf(region) {
		for _, sn := range all {
			if deref(sn.VpcId) == *v.VpcId && derefBool(sn.DefaultForAz) && deref(sn.AvailabilityZone) == z.Name {
				cidr, _ := netip.ParsePrefix(deref(sn.CidrBlock))
				subnets = append(subnets, SubnetInfo{ID: *sn.SubnetId, VPC: *v.VpcId, AZ: z.Name, CIDR: cidr})
			}
		}
	}
	return *v.VpcId, subnets, true, nil
}

// DefaultSecurityGroup returns the id of a VPC's default group.
func DefaultSecurityGroup(tx *store.Tx, account, region, vpc string) (string, error) {
	v, err := load[vpcRecord](tx, scope{account: account, region: region}, kindVPC, vpc)
	if err != nil {
		return "", err
	}
	return v.DefaultSecurityGroupID, nil
}

// SecurityGroupVPC returns the VPC a security group belongs to; ok is false
// when the group does not exist.
func SecurityGroupVPC(tx *store.Tx, account, region, id string) (vpc string, ok bool, err error) {
	g, ok, err := store.Get[securityGroupRecord](tx, scope{account: account, region: region}.key(kindSG, id))
	if err != nil || !ok {
		return "", false, err
	}
	return deref(g.VpcId), true, nil
}

// InstanceInfo describes an instance as a load balancer target.
type InstanceInfo struct {
	ID        string
	VPC       string
	Subnet    string
	AZ        string
	State     string
	PrivateIP netip.Addr
}

// LookupInstance returns an instance; ok is false when it does not exist.
// Auto Scaling and ELB ask it for every instance many times a second, so
// the decoded answer is remembered until the record changes.
func LookupInstance(tx *store.Tx, account, region, id string) (InstanceInfo, bool, error) {
	return instanceInfos.Get(tx, scope{account: account, region: region}.key(kindInstance, id))
}

// instanceInfos holds the InstanceInfo of the instances looked up lately.
var instanceInfos = store.NewMemo(100_000, func(k store.Key, raw []byte) (InstanceInfo, error) {
	var r instanceRecord
	if err := json.Unmarshal(raw, &r); err != nil {
		return InstanceInfo{}, fmt.Errorf("ec2: decode %s: %w", k.ID, err)
	}
	in := InstanceInfo{ID: k.ID, VPC: deref(r.VpcId), Subnet: deref(r.SubnetId), State: instanceStateName(&r)}
	if r.Placement != nil {
		in.AZ = deref(r.Placement.AvailabilityZone)
	}
	in.PrivateIP, _ = netip.ParseAddr(deref(r.PrivateIpAddress))
	return in, nil
})

// ServiceENISpec is a network interface a service makes for itself.
type ServiceENISpec struct {
	Subnet string
	Groups []string
	// Description as AWS writes it, e.g. "ELB app/my-alb/50dc6c495c0c9188".
	Description string
	// InterfaceType is AWS's, e.g. "interface" for an ALB node.
	InterfaceType string
	// Public gives the interface a public IP (an internet-facing node).
	Public bool
	// Owner names what holds it ("elb"): the data plane runs it as that.
	Owner string
	// Cluster groups the service's nodes that replicate to each other
	// (desired.ENI.Cluster): unique per owner within the account and
	// region, "" for none.
	Cluster string
}

// ServiceENI is a service's network interface, made.
type ServiceENI struct {
	ID        string
	PrivateIP netip.Addr
	PublicIP  netip.Addr
}

// CreateServiceENI makes a requester-managed interface in a subnet, with
// the next free address (and a public one when asked), in use at once.
func CreateServiceENI(tx *store.Tx, account, region string, spec ServiceENISpec) (ServiceENI, error) {
	sc := scope{account: account, region: region}
	sn, err := load[subnetRecord](tx, sc, kindSubnet, spec.Subnet)
	if err != nil {
		return ServiceENI{}, err
	}
	e, err := createENI(tx, sc, eniSpec{subnet: sn, groups: spec.Groups, description: spec.Description, interfaceType: spec.InterfaceType, requesterManaged: true})
	if err != nil {
		return ServiceENI{}, err
	}
	e.Status = str("in-use")
	e.ServiceOwner = spec.Owner
	if spec.Cluster != "" {
		e.ServiceCluster = spec.Owner + "/" + spec.Cluster
	}
	if spec.Public {
		if err := assignPublicIP(tx, e, region, false); err != nil {
			return ServiceENI{}, err
		}
	}
	if err := save(tx, sc, kindENI, *e.NetworkInterfaceId, e); err != nil {
		return ServiceENI{}, err
	}
	out := ServiceENI{ID: *e.NetworkInterfaceId}
	out.PrivateIP, _ = netip.ParseAddr(deref(e.PrivateIpAddress))
	if e.Association != nil {
		out.PublicIP, _ = netip.ParseAddr(deref(e.Association.PublicIp))
	}
	return out, nil
}

// DeleteServiceENI deletes a service's interface and frees its addresses.
// An interface already gone is not an error.
func DeleteServiceENI(tx *store.Tx, account, region, id string) error {
	sc := scope{account: account, region: region}
	e, ok, err := store.Get[networkInterfaceRecord](tx, sc.key(kindENI, id))
	if err != nil || !ok {
		return err
	}
	return deleteENI(tx, sc, e)
}

// SetServiceENIGroups replaces the security groups of a service's
// interface (SetSecurityGroups on a load balancer).
func SetServiceENIGroups(tx *store.Tx, account, region, id string, groups []string) error {
	sc := scope{account: account, region: region}
	e, err := load[networkInterfaceRecord](tx, sc, kindENI, id)
	if err != nil {
		return err
	}
	gs, err := checkSecurityGroups(tx, sc, deref(e.VpcId), groups)
	if err != nil {
		return err
	}
	e.Groups = e.Groups[:0]
	for _, g := range gs {
		e.Groups = append(e.Groups, &ec2api.GroupIdentifier{GroupId: g.GroupId, GroupName: g.GroupName})
	}
	return save(tx, sc, kindENI, id, e)
}

// SetServiceTags sets tags on a resource the way an AWS service does: keys
// in the reserved "aws:" space are allowed (aws:autoscaling:groupName,
// aws:cloudformation:stack-name), which users cannot set themselves.
func SetServiceTags(tx *store.Tx, account, region, id string, tags map[string]string) error {
	add := make([]*ec2api.Tag, 0, len(tags))
	for k, v := range tags {
		add = append(add, &ec2api.Tag{Key: str(k), Value: str(v)})
	}
	return retag(tx, scope{account: account, region: region}, id, func(have []*ec2api.Tag) ([]*ec2api.Tag, error) {
		return mergeTags(have, add)
	})
}

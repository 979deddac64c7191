// Package desired is the simulated world as the data plane needs to see it:
// VPCs with their subnets, route tables, security groups, network ACLs and
// network interfaces, the instances that own those interfaces, the peering
// connections between VPCs, and the load balancers.
//
// It is plain values, and the contract by which services declare them
// (Contributor): services/ec2 and services/elbv2 contribute their parts of
// each account and region from their records; controllers/vpc compiles a
// World into namespaces, links, routes and nftables rules; the controllers
// and engines (IMDS, VPC DNS, SSH, ALB) run and answer from it. Keeping it
// apart lets the services know nothing of Linux and the data plane know
// nothing of the services' records.
package desired

import (
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/cloudbox/cloudbox/ami"
)

// World is every account's and region's network at one moment.
type World struct {
	VPCs      []*VPC
	Instances []*Instance
	// Peerings lists the active VPC peering connections only.
	Peerings []*Peering
	// LoadBalancers and TargetGroups are elbv2's (services/elbv2 fills
	// them in).
	LoadBalancers []*LoadBalancer
	TargetGroups  []*TargetGroup
	// Slots are the services' managed compute slots.
	Slots []*Slot
	// Names are the DNS names services publish (load balancers' now).
	Names []*Name
	// Bakes are the images CreateImage waits for: the instance's disk to
	// copy into a new image layer.
	Bakes []*Bake
	// Zones are Route 53's hosted zones, HealthChecks its health checks.
	Zones        []*Zone
	HealthChecks []*DNSHealthCheck
	// Volumes and Snapshots are EBS's: the data plane keeps each one's
	// data in a file and attaches volumes to running instances.
	Volumes   []*Volume
	Snapshots []*VolumeSnapshot
}

// Volume is an EBS volume. Its data is a sparse file of SizeGiB the data
// plane makes (from Snapshot's data when set); attached (Instance, Device)
// to a running instance it is a block device there. A root volume is the
// instance's disk directory instead, and no file.
type Volume struct {
	ID              string
	Account, Region string
	SizeGiB         int64
	Snapshot        string
	// State is EBS's: creating, available, in-use, deleting...
	State string
	// Instance and Device are the attachment, Attachment its state
	// (attaching, attached, detaching); "" when the volume is available.
	Instance, Device, Attachment string
	Root                         bool
}

// VolumeSnapshot is an EBS snapshot: a copy of Volume's data (or, for a copy
// of a snapshot, of Source's) the data plane makes while State is pending.
type VolumeSnapshot struct {
	ID              string
	Account, Region string
	Volume, Source  string
	SizeGiB         int64
	State           string
}

// Image is what an instance or a slot boots: a root file system family
// (dataplane/images builds it) and the layers CreateImage baked over it,
// the image's own first.
type Image struct {
	Family ami.Family
	Baked  []string
}

// Bake asks the data plane to make image ImageID from instance
// Instance's disk; the outcome is reported (ImageReporter).
type Bake struct {
	ImageID         string
	Account, Region string
	Instance        string
}

// Slot is a managed compute slot: processes a service runs in the
// namespace of one of its requester-managed ENIs (a database or cache
// node), with cgroup limits and a disk that survives restarts. The
// instances controller runs it; it is no EC2 instance, and
// DescribeInstances never shows it.
type Slot struct {
	// ID names the slot's processes and disk; unique in the daemon, so
	// prefixed with the owner's name ("rds-bts-db-a").
	ID              string
	Account, Region string
	// Owner is the registered name of the service the slot belongs to:
	// its reports go there (SlotReporter).
	Owner string
	// ENI is the interface the slot's processes run behind.
	ENI              string
	VCPUs, MemoryMiB int
	// Image is what the slot boots (a Debian family image when zero).
	Image Image
	// Script runs once, at the slot's first boot, as user data does
	// (#!/bin/bash ...): it installs and starts the slot's engine.
	Script []byte
	// Running is what the owner wants: false stops the processes and
	// keeps the disk. A slot gone from the world is removed with its disk.
	Running bool
	// Metrics, when set, has the metric publisher publish the slot's CPU,
	// memory and network each period as the owner's AWS namespace does.
	Metrics *SlotMetrics
}

// SlotMetrics names a slot's metrics as its service publishes them.
type SlotMetrics struct {
	// Namespace is the service's ("AWS/RDS"); Dimensions identify the
	// resource ({"DBInstanceIdentifier": "bts-db"}).
	Namespace  string
	Dimensions map[string]string
	// Names are the service's names for CPU (percent of the slot's
	// vCPUs), freeable memory (bytes) and the bytes received and sent
	// (per second when PerSecond, else per period).
	CPU, FreeMemory, NetworkIn, NetworkOut string
	PerSecond                              bool
}

// Name is a DNS name a service publishes: it resolves to Addrs in the
// VPCs listed, or everywhere (every VPC and the simulated internet) when
// none is listed, as AWS's public records do. Moving a name (a failover)
// is contributing it again with other addresses.
type Name struct {
	// Name is fully qualified, lower case, without the trailing dot.
	Name  string
	VPCs  []string
	Addrs []netip.Addr
}

// Resolves reports whether the name is visible from VPC vpcID ("" for the
// simulated internet).
func (n *Name) Resolves(vpcID string) bool {
	return len(n.VPCs) == 0 || (vpcID != "" && slices.Contains(n.VPCs, vpcID))
}

// VPC is one VPC and everything inside it.
type VPC struct {
	ID      string
	Account string
	Region  string
	// CIDRs are the VPC's associated IPv4 blocks, primary first.
	CIDRs          []netip.Prefix
	DNSSupport     bool
	DNSHostnames   bool
	Subnets        []*Subnet
	RouteTables    []*RouteTable
	SecurityGroups []*SecurityGroup
	NetworkACLs    []*NetworkACL
	ENIs           []*ENI
	NATGateways    []*NATGateway
	// InternetGateway is the id of the attached internet gateway, "" if none.
	InternetGateway string
	// DHCP is the VPC's DHCP options set, nil for AWS's defaults (the
	// region's domain, the VPC's resolver).
	DHCP *DHCPOptions
}

// DHCPOptions is what a DHCP options set gives the instances of a VPC.
type DHCPOptions struct {
	// DomainName is the search list, space-separated ("" for none).
	DomainName string
	// DomainNameServers are "AmazonProvidedDNS" (the VPC's resolver) or
	// IPv4 addresses, in order; none means no name server at all.
	DomainNameServers []string
}

// Subnet is one subnet, with the route table and network ACL that apply to
// it (explicit association, else the VPC's main ones).
type Subnet struct {
	ID         string
	AZ         string
	CIDR       netip.Prefix
	RouteTable string
	NetworkACL string
}

// Gateway returns the subnet's router address (the base + 1), the default
// gateway of every ENI in it.
func (s *Subnet) Gateway() netip.Addr { return s.CIDR.Masked().Addr().Next() }

// DNSServer returns the address of the Amazon-provided DNS server of a VPC
// whose primary block is cidr: its base + 2.
func DNSServer(cidr netip.Prefix) netip.Addr { return cidr.Masked().Addr().Next().Next() }

// RouteTable is a route table; Routes include the local route.
type RouteTable struct {
	ID     string
	Routes []Route
}

// TargetKind says where a route sends packets.
type TargetKind string

// Route targets.
const (
	TargetLocal     TargetKind = "local"
	TargetIGW       TargetKind = "igw"       // TargetID igw-...
	TargetNAT       TargetKind = "nat"       // TargetID nat-...
	TargetPeering   TargetKind = "pcx"       // TargetID pcx-...
	TargetENI       TargetKind = "eni"       // TargetID eni-... (an instance target is resolved to its primary ENI)
	TargetBlackhole TargetKind = "blackhole" // a route whose target is gone
)

// Route is one route of a route table.
type Route struct {
	Dst      netip.Prefix
	Target   TargetKind
	TargetID string
}

// Protocol numbers of rules; ProtoAll is AWS's "-1".
const (
	ProtoAll  = -1
	ProtoICMP = 1
	ProtoTCP  = 6
	ProtoUDP  = 17
)

// SecurityGroup is a group and its rules.
type SecurityGroup struct {
	ID      string
	Ingress []SGRule
	Egress  []SGRule
}

// SGRule allows traffic. For TCP and UDP, FromPort..ToPort is the port
// range; for ICMP, FromPort is the type and ToPort the code (-1: any). For
// ProtoAll and other protocols the ports are ignored. The peer is any of
// CIDRs or any member of Groups (a group id; its members are the private
// addresses of the ENIs that carry it, in this VPC or a peered one).
type SGRule struct {
	ID       string // sgr-...
	Protocol int
	FromPort int
	ToPort   int
	CIDRs    []netip.Prefix
	Groups   []string
}

// NetworkACL is a network ACL; entries are in evaluation order (ascending
// rule number), the final deny (*) not included.
type NetworkACL struct {
	ID      string
	Ingress []ACLEntry
	Egress  []ACLEntry
}

// ACLEntry is one numbered entry of a network ACL.
type ACLEntry struct {
	Number   int
	Protocol int
	// FromPort..ToPort for TCP and UDP; for ICMP, ICMPType and ICMPCode
	// (-1: any).
	FromPort, ToPort   int
	ICMPType, ICMPCode int
	CIDR               netip.Prefix
	Allow              bool
}

// OwnerKind says what an ENI belongs to, and so what namespace it lives in.
// A requester-managed ENI that a service made for itself (ec2's
// CreateServiceENI) has the service's name as its kind ("elb", "rds",
// "elasticache") and its own id as OwnerID: it lives in a namespace of its
// own, where the service's listeners or slot run.
type OwnerKind string

// ENI owners.
const (
	OwnerNone       OwnerKind = ""            // detached: no namespace, no traffic
	OwnerInstance   OwnerKind = "instance"    // OwnerID i-...
	OwnerNATGateway OwnerKind = "nat-gateway" // OwnerID nat-...
)

// ENI is a network interface.
type ENI struct {
	ID     string
	Subnet string
	MAC    net.HardwareAddr
	// PrivateIPs are the interface's private addresses, primary first.
	PrivateIPs []netip.Addr
	// PublicIPs maps a private address to its public one (auto-assigned or
	// Elastic IP), translated 1:1 by the internet gateway.
	PublicIPs       map[netip.Addr]netip.Addr
	Groups          []string
	SourceDestCheck bool
	OwnerKind       OwnerKind
	OwnerID         string
	// DeviceIndex is the attachment's index: 0 is eth0.
	DeviceIndex int
	// Cluster, for a service's interfaces, names the group of nodes they
	// belong to (an ElastiCache replication group, an RDS instance and
	// its standby). Nodes of one cluster reach each other whatever their
	// security groups say: their replication is the service's own, which
	// AWS keeps outside the customer's groups.
	Cluster string
}

// NATGateway is an available NAT gateway; its ENI is in VPC.ENIs.
type NATGateway struct {
	ID     string
	Subnet string
	ENI    string
	Public bool // public (masquerade then IGW) or private connectivity
}

// Instance is what the data plane runs and what IMDS tells about it.
type Instance struct {
	ID           string
	Account      string
	Region       string
	VPC          string
	AZ           string
	State        string // EC2's state name: pending, running, stopping, ...
	ImageID      string
	Image        Image
	InstanceType string
	VCPUs        int
	MemoryMiB    int
	// UserData is decoded (not base64).
	UserData      []byte
	KeyName       string
	PublicKey     string // authorized_keys line of the key pair; "" without
	LoginUser     string // ec2-user, ubuntu or admin, by AMI
	ReservationID string
	LaunchIndex   int
	// PrivateDNSName is ip-10-0-1-54.<region>.compute.internal (or
	// ec2.internal in us-east-1); PublicDNSName is "" without one.
	PrivateDNSName string
	PublicDNSName  string
	// ENIs are the ids of the attached interfaces, by device index.
	ENIs []string
	// InstanceProfileARN and Role are set when an IAM instance profile is
	// attached (Role is the role name IMDS lists).
	InstanceProfileARN string
	Role               string
	// AutoScalingGroup is the group that launched the instance (its
	// aws:autoscaling:groupName tag), "" if none.
	AutoScalingGroup string
	// MetadataTokens ("optional" or "required") and MetadataEndpoint
	// ("enabled" or "disabled") are the instance's metadata options.
	MetadataTokens   string
	MetadataEndpoint string
	// Reboots counts the reboots asked of the instance (RebootInstances):
	// the data plane reboots it when the count grows.
	Reboots int
}

// Hostname returns the instance's short host name, "ip-10-0-1-54".
func (i *Instance) Hostname() string {
	for n, c := range i.PrivateDNSName {
		if c == '.' {
			return i.PrivateDNSName[:n]
		}
	}
	return i.PrivateDNSName
}

// Peering is an active peering connection between two VPCs, possibly of
// different accounts and regions.
type Peering struct {
	ID           string
	RequesterVPC string
	AccepterVPC  string
}

// FindVPC returns the VPC with the given id, or nil.
func (w *World) FindVPC(id string) *VPC {
	for _, v := range w.VPCs {
		if v.ID == id {
			return v
		}
	}
	return nil
}

// FindSlot returns the slot with the given id, or nil.
func (w *World) FindSlot(id string) *Slot {
	for _, s := range w.Slots {
		if s.ID == id {
			return s
		}
	}
	return nil
}

// FindInstance returns the instance with the given id, or nil.
func (w *World) FindInstance(id string) *Instance {
	for _, in := range w.Instances {
		if in.ID == id {
			return in
		}
	}
	return nil
}

// FindENI returns the ENI with the given id and its VPC, or nils.
func (w *World) FindENI(id string) (*ENI, *VPC) {
	for _, v := range w.VPCs {
		for _, e := range v.ENIs {
			if e.ID == id {
				return e, v
			}
		}
	}
	return nil, nil
}

// OwnerLoadBalancer marks the ENI of a load balancer node; OwnerID is the
// ENI's own id, and its namespace holds the node's listeners.
const OwnerLoadBalancer OwnerKind = "elb"

// LoadBalancer is an Application Load Balancer as its data plane needs it.
type LoadBalancer struct {
	ARN     string
	Name    string
	DNSName string
	Account string
	Region  string
	VPC     string
	// Scheme is "internet-facing" or "internal".
	Scheme string
	// State is provisioning, active, ...; nodes serve once active.
	State     string
	Nodes     []*LBNode
	Listeners []*Listener
	// Attributes, with AWS's keys and values (idle_timeout.timeout_seconds,
	// routing.http.drop_invalid_header_fields.enabled, routing.http2.enabled, ...).
	Attributes map[string]string
}

// LBNode is one node of a load balancer: an ENI in one enabled subnet.
type LBNode struct {
	ENI       string
	Subnet    string
	AZ        string
	PrivateIP netip.Addr
	// PublicIP is set for internet-facing load balancers.
	PublicIP netip.Addr
}

// Listener is a listener with its rules, default actions last.
type Listener struct {
	ARN      string
	Port     int
	Protocol string // HTTP or HTTPS
	// Certificates are ACM certificate ARNs, the default first (HTTPS).
	Certificates []string
	SSLPolicy    string
	// Rules are in priority order; the default rule comes last with no
	// conditions.
	Rules []*Rule
}

// Rule is a listener rule: all conditions must match.
type Rule struct {
	ARN        string
	Priority   string // "1".."50000" or "default"
	Conditions []Condition
	Actions    []Action
}

// Condition is one rule condition. Field is path-pattern, host-header,
// http-header, http-request-method, query-string or source-ip; Values
// are ORed. HeaderName is for http-header; QueryKey/Values for
// query-string (an empty key matches any key).
type Condition struct {
	Field       string
	Values      []string
	HeaderName  string
	QueryValues []KeyValue
}

// KeyValue is a query-string condition's pair.
type KeyValue struct{ Key, Value string }

// Action is what a rule does. Type is forward, redirect or fixed-response.
type Action struct {
	Type string
	// Forward: target groups with weights (one group: weight ignored), and
	// group stickiness.
	TargetGroups       []WeightedTargetGroup
	StickinessEnabled  bool
	StickinessDuration int // seconds
	Redirect           *Redirect
	FixedResponse      *FixedResponse
}

// WeightedTargetGroup is one target group of a forward action.
type WeightedTargetGroup struct {
	ARN    string
	Weight int
}

// Redirect is a redirect action; "#{host}" style placeholders as AWS.
type Redirect struct {
	Protocol, Host, Port, Path, Query string
	StatusCode                        string // HTTP_301 or HTTP_302
}

// FixedResponse is a fixed-response action.
type FixedResponse struct {
	StatusCode  string
	ContentType string
	MessageBody string
}

// TargetGroup is a target group with its targets and health check.
type TargetGroup struct {
	ARN      string
	Name     string
	Account  string
	Region   string
	VPC      string
	Protocol string // HTTP or HTTPS
	Port     int
	// TargetType is instance or ip.
	TargetType  string
	HealthCheck HealthCheck
	Targets     []*Target
	// Attributes with AWS's keys (deregistration_delay.timeout_seconds,
	// slow_start.duration_seconds, stickiness.enabled, stickiness.type,
	// stickiness.lb_cookie.duration_seconds, stickiness.app_cookie.cookie_name,
	// stickiness.app_cookie.duration_seconds,
	// load_balancing.algorithm.type).
	Attributes map[string]string
}

// HealthCheck is a target group's health check.
type HealthCheck struct {
	Enabled            bool
	Protocol           string // HTTP or HTTPS
	Port               string // "traffic-port" or a number
	Path               string
	IntervalSeconds    int
	TimeoutSeconds     int
	HealthyThreshold   int
	UnhealthyThreshold int
	// Matcher is AWS's HttpCode: "200", "200,302", "200-299".
	Matcher string
}

// Target is a registered target: its id (instance id or IP), the port it
// receives on, and the address it is reached at.
type Target struct {
	ID   string
	Port int
	IP   netip.Addr
	AZ   string
	// Draining is set while the target is being deregistered; it gets no
	// new requests.
	Draining bool
	// RegisteredAt starts the slow-start ramp.
	RegisteredAt time.Time
}

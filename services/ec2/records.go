package ec2

import (
	"time"

	"github.com/cloudbox/cloudbox/ami"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
)

// The records EC2 keeps in the store. Each embeds the API shape that
// Describe* returns, so describing is reading; the extra fields are state
// AWS keeps but does not show in that shape.

type vpcRecord struct {
	ec2api.Vpc
	EnableDNSSupport                 bool
	EnableDNSHostnames               bool
	EnableNetworkAddressUsageMetrics bool
	MainRouteTableID                 string
	DefaultSecurityGroupID           string
	DefaultNetworkACLID              string
}

type subnetRecord struct {
	ec2api.Subnet
	// Used maps each private IP taken in the subnet to what holds it (an
	// ENI id), so AvailableIpAddressCount and the next free address are
	// exact.
	Used map[string]string
}

type internetGatewayRecord struct {
	ec2api.InternetGateway
}

type routeTableRecord struct {
	ec2api.RouteTable
}

type networkACLRecord struct {
	ec2api.NetworkAcl
}

type securityGroupRecord struct {
	ec2api.SecurityGroup
	// Rules are the group's rules with their sgr- ids; IpPermissions and
	// IpPermissionsEgress of the embedded shape are derived from them when
	// the group is described.
	Rules []*ec2api.SecurityGroupRule
}

type networkInterfaceRecord struct {
	ec2api.NetworkInterface
	// ServiceOwner names the service that made a requester-managed
	// interface for itself ("elb"); the data plane runs it as that.
	ServiceOwner string `json:",omitempty"`
	// ServiceCluster is the spec's Cluster.
	ServiceCluster string `json:",omitempty"`
}

type addressRecord struct {
	ec2api.Address
}

type natGatewayRecord struct {
	ec2api.NatGateway
	// ENI is the gateway's network interface in its subnet.
	ENI string
}

type keyPairRecord struct {
	ec2api.KeyPairInfo
}

type instanceRecord struct {
	ec2api.Instance
	UserData   string // base64, as given to RunInstances
	VCPUs      int64
	MemoryMiB  int64
	StateSince time.Time
	// TerminatedAt is when the instance reached terminated; AWS keeps it
	// visible for about an hour after.
	TerminatedAt time.Time
	// Reboots counts the reboots asked (desired.Instance.Reboots).
	Reboots int `json:",omitempty"`
	// ProfileAssociation is the id (iip-assoc-...) of the association of
	// IamInstanceProfile with the instance, and ProfileAssociated when it
	// was made.
	ProfileAssociation string    `json:",omitempty"`
	ProfileAssociated  time.Time `json:",omitzero"`
}

type imageRecord struct {
	ec2api.Image
	// Family is the root file system family the image boots, inherited
	// from the image an instance was launched from; Baked are the layers
	// CreateImage made, this image's own first (dataplane/images).
	Family ami.Family `json:",omitempty"`
	Baked  []string   `json:",omitempty"`
	// SourceDisk is the instance whose disk the data plane bakes while
	// the image is pending.
	SourceDisk string `json:",omitempty"`
	// Adopted: a public AMI id the catalogue did not know, launched as
	// the region's default image (Service.SetStrictImages).
	Adopted bool `json:",omitempty"`
}

type launchTemplateRecord struct {
	ec2api.LaunchTemplate
	Versions []*ec2api.LaunchTemplateVersion
}

type peeringRecord struct {
	ec2api.VpcPeeringConnection
}

type dhcpOptionsRecord struct {
	ec2api.DhcpOptions
}

type volumeRecord struct {
	ec2api.Volume
	// Root: the volume is its instance's root device, which the data
	// plane keeps as the instance's disk directory, not as a file.
	Root bool `json:",omitempty"`
	// Modification is the last ModifyVolume's.
	Modification *ec2api.VolumeModification `json:",omitempty"`
}

type snapshotRecord struct {
	ec2api.Snapshot
	// Source is the snapshot a CopySnapshot copied.
	Source string `json:",omitempty"`
}

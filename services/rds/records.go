package rds

import (
	"crypto/rand"
	"net/netip"
	"time"

	rdsapi "github.com/cloudbox/cloudbox/api/rds"
	"github.com/cloudbox/cloudbox/store"
)

// Store kinds, one record per resource, by its (lower-case) name.
const (
	kindSubnetGroup = "rds:subnet-group"
	kindParamGroup  = "rds:parameter-group"
	kindInstance    = "rds:instance"
	// kindEvent holds DescribeEvents' records, by a zero-padded sequence.
	kindEvent = "rds:event"
	// kindAccount holds the account's endpoint label per region (id "endpoint").
	kindAccount = "rds:account"
)

type subnetGroupRecord struct {
	Name, Description, VPC string
	// Subnets are the group's subnets with their zones, in the order given.
	Subnets []groupSubnet
	Tags    []tag
}

type groupSubnet struct{ ID, AZ string }

type tag struct{ Key, Value string }

type paramGroupRecord struct {
	Name, Family, Description string
	// Values are the parameters the user set, by name; the rest are the
	// family's defaults.
	Values map[string]string
	Tags   []tag
}

// instanceRecord is one DB instance and its node.
type instanceRecord struct {
	ID         string // lower case, as RDS keeps it
	ResourceID string // db-XXXXXXXXXXXXXXXXXXXXXXXXXX
	Engine     string
	// EngineVersion is what the user asked for (or the default), shown as is.
	EngineVersion, Class        string
	MasterUsername, Password    string
	DBName                      string
	Port                        int
	AllocatedStorage            int
	SubnetGroup, ParameterGroup string
	VPC, AZ, Subnet             string
	SecurityGroups              []string
	Public                      bool
	BackupRetention             int
	DeletionProtection          bool
	Created                     time.Time
	Tags                        []tag
	// Endpoint is the instance's DNS name.
	Endpoint            string
	ENI                 string
	PrivateIP, PublicIP netip.Addr
	// Status is AWS's DBInstanceStatus; StatusSince when it was set (on
	// the virtual clock).
	Status      string
	StatusSince time.Time
	// Down marks a restart (reboot, class change) whose stop is done.
	Down bool
	// PendingClass is a class change waiting for the next reboot (or
	// being applied, while modifying).
	PendingClass string
	// ParamApply is the parameter group's ParameterApplyStatus.
	ParamApply string
	// Reason is why the slot failed, when Status is failed.
	Reason string
	// Slot names the primary's slot when it is not slotID's (after a
	// failover made the first standby the primary).
	Slot string
	// Booted is set once the primary's node first runs: a Multi-AZ
	// instance is made when both nodes are.
	Booted bool
	// Standby is the Multi-AZ standby, in another zone; nil for a
	// Single-AZ instance.
	Standby *node
	// Nodes counts the nodes made for the instance (0 for the origin
	// alone): a new standby's slot is numbered after them, so it never
	// takes the name of the primary or of a node just removed, whose slot
	// the data plane may not have reaped yet.
	Nodes int
	// Failover marks a reboot that fails over to the standby.
	Failover bool
	// ReplPassword is the nodes' replication user's (rdsrepl).
	ReplPassword string
	// Cluster groups the interfaces of the nodes that replicate each
	// other (desired.ENI.Cluster): the instance's id, or its source's
	// cluster for a read replica.
	Cluster string
	// Source is the instance a read replica replicates (nil otherwise);
	// Replicas are an instance's read replicas, in any region.
	Source   *instanceRef
	Replicas []instanceRef
	// Follow is the name a read replica's node follows to its source's
	// primary (promotion points it at the node itself); "" for the
	// others, whose nodes follow the endpoint.
	Follow string
	// OptionGroup is the option group the instance names; "" is its
	// engine's default.
	OptionGroup string
	// Promoting marks the restart of a read replica's promotion;
	// AddingStandby a modification that waits for a new standby (the
	// primary keeps running).
	Promoting, AddingStandby bool
	// Snapshotting is the snapshot being taken of the node: a stop or a
	// delete waits for it before the node stops.
	Snapshotting string
	// Restore is the snapshot a restored instance was made from;
	// RestoreFile its dump (relative to the files directory) until the
	// node has loaded it.
	Restore, RestoreFile string
	// RestoreSource is the instance a point-in-time restore came from,
	// RestoreTo its time; Replay the logs (links) its node replays after
	// the dump, up to ReplayStop on the node's clock.
	RestoreSource string
	RestoreTo     time.Time
	Replay        []replayLog
	ReplayStop    time.Time
}

// instanceRef names a DB instance in any account and region; a read
// replica's also carries its VPC and the name its node follows.
type instanceRef struct {
	Account, Region, ID string
	VPC, Follow         string
	// Addr is a replica's node address: a postgres source admits
	// replication from it.
	Addr netip.Addr
}

// node is a database server of an instance other than its primary: its
// slot behind its own interface in a subnet of the subnet group. The
// primary's are the instance record's own fields, so that failing over
// swaps the two.
type node struct {
	Slot                string
	AZ, Subnet, ENI     string
	PrivateIP, PublicIP netip.Addr
	// Up is whether the data plane last reported the slot running.
	Up bool
}

// eventRecord is one RDS event as DescribeEvents returns it.
type eventRecord struct {
	SourceID, SourceType, SourceArn, Message string
	Categories                               []string
	Date                                     time.Time
}

func toTags(in []*rdsapi.Tag) []tag {
	out := make([]tag, 0, len(in))
	for _, t := range in {
		out = append(out, tag{Key: deref(t.Key), Value: deref(t.Value)})
	}
	return out
}

func apiTags(in []tag) []*rdsapi.Tag {
	out := make([]*rdsapi.Tag, 0, len(in))
	for _, t := range in {
		out = append(out, &rdsapi.Tag{Key: ptr(t.Key), Value: ptr(t.Value)})
	}
	return out
}

// randomLabel returns n random lower-case letters and digits.
func randomLabel(n int) string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// endpointLabel is the account's random label in its endpoints' names
// (bts-db.<label>.ap-northeast-2.rds.amazonaws.com), made once per
// account and region and kept, as AWS's is.
func endpointLabel(tx *store.Tx, sc scope) (string, error) {
	k := sc.key(kindAccount, "endpoint")
	var label string
	if ok, err := tx.Get(k, &label); err != nil || ok {
		return label, err
	}
	label = randomLabel(12)
	return label, tx.Put(k, label)
}

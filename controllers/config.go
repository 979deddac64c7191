package controllers

import (
	"log/slog"
	"time"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/engines/edge"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/metric"
	"github.com/cloudbox/cloudbox/store"
)

// Snapshotter reads the world model (services/ec2 implements it).
type Snapshotter interface {
	Snapshot() (*desired.World, error)
}

// The three interfaces below restate those of the instances and load
// balancers controllers, so that this file builds where those do not
// (they need Linux's nftables, through controllers/vpc): the daemon
// configures the data plane everywhere.

// Issuer mints temporary credentials (identity.Resolver implements it):
// the role credentials IMDS hands to instances.
type Issuer interface {
	Issue(p api.Principal, now time.Time, d time.Duration) (identity.Credential, error)
}

// LoadBalancers is Elastic Load Balancing as the data plane needs it
// (services/elbv2 implements it): the load balancers for the snapshot,
// and the health their nodes see.
type LoadBalancers interface {
	Snapshot(tx *store.Tx) ([]*desired.LoadBalancer, []*desired.TargetGroup, error)
	ReportHealth(account, region, targetGroupARN, targetID string, port int, healthy bool, reason, description string) error
}

// Certificates hands out the key pairs of ACM certificates
// (services/acm implements it), for HTTPS listeners.
type Certificates interface {
	KeyPair(account, region, arn string) (certPEM, keyPEM []byte, err error)
}

// Config is what the daemon gives the data plane.
type Config struct {
	// DaemonID prefixes every namespace and cgroup of this daemon.
	DaemonID string
	// StateDir holds the instances' disks and SSH host keys.
	StateDir string
	Store    *store.Store
	EC2      Snapshotter
	Identity Issuer
	// ELB and Certs are optional: without them no load balancer runs.
	ELB   LoadBalancers
	Certs Certificates
	// Edge is optional: the load balancers claim their names in it.
	Edge *edge.Table
	// Metrics is optional: without it nothing is published.
	Metrics metric.Publisher
	// Now is the virtual clock of the time scale (time.Now if nil) and
	// TimeScale its speed (1 if 0): metric periods and the load
	// balancers' health checks run on it.
	Now       func() time.Time
	TimeScale float64
	Log       *slog.Logger
}

// Info is what `cloudbox info` and `cloudbox exec` need to know.
type Info struct {
	DaemonID     string `json:"daemon_id"`
	InstancesDir string `json:"instances_dir"`
	// InternetNetNS is the path of the simulated internet's namespace.
	InternetNetNS string `json:"internet_netns"`
	// InternetResolv is the resolv.conf of commands run on the internet
	// (its resolver knows the public names).
	InternetResolv string `json:"internet_resolv"`
	Echo           string `json:"echo"`
}

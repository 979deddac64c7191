// Package world runs the simulated world of one daemon: it follows the
// store and keeps the kernel's network (vpcnet), the instances' processes
// (dataplane/compute) and the engines that live inside the VPCs (IMDS, VPC
// DNS, an SSH server per instance, the internet's echo server) in step
// with what EC2 records.
//
// It is EC2's data plane (ec2.Machines): an instance is running when its
// processes are. Everything here is level-triggered: after a restart the
// first sync rebuilds the world from the store and removes what the store
// no longer knows.
package controllers

import (
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/store"
)

// Snapshotter reads the world model (services/ec2 implements it).
type Snapshotter interface {
	Snapshot() (*desired.World, error)
}

// Issuer mints temporary credentials (identity.Resolver implements it):
// the role credentials IMDS hands to instances.
type Issuer interface {
	Issue(p api.Principal, now time.Time, d time.Duration) (identity.Credential, error)
}

// LoadBalancers is Elastic Load Balancing as the world needs it
// (services/elbv2 implements it).
type LoadBalancers interface {
	Snapshot(tx *store.Tx) ([]*desired.LoadBalancer, []*desired.TargetGroup, error)
	ReportHealth(account, region, targetGroupARN, targetID string, port int, healthy bool, reason, description string) error
}

// Certificates hands out the key pairs of ACM certificates
// (services/acm implements it), for HTTPS listeners.
type Certificates interface {
	KeyPair(account, region, arn string) (certPEM, keyPEM []byte, err error)
}

// Metrics is CloudWatch as the world publishes the built-in metrics to it
// (AWS/EC2 CPUUtilization from the instances' cgroups).
type Metrics interface {
	Publish(account, region, namespace string, data []Datum) error
}

// Datum is one datapoint of a built-in metric.
type Datum struct {
	Name       string
	Dimensions map[string]string
	Value      float64
	Unit       string
	Time       time.Time // on the virtual clock
}

// Config is what the daemon gives the world.
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
	// Metrics is optional: without it nothing is published.
	Metrics Metrics
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

// EdgeHost reports whether host (a Host header) names a load balancer:
// the edge listener then hands the request to ServeEdge.
func EdgeHost(host string) bool {
	h, _, err := net.SplitHostPort(host)
	if err != nil {
		h = host
	}
	return strings.HasSuffix(strings.ToLower(h), ".elb.amazonaws.com")
}

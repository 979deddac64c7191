package controllers

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/ca"
	"github.com/cloudbox/cloudbox/dataplane/images"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/engines/edge"
	"github.com/cloudbox/cloudbox/engines/vpcdns"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/metric"
	"github.com/cloudbox/cloudbox/store"
)

// The three interfaces below restate those of the instances and load
// balancers controllers, so that this file builds where those do not
// (they need Linux's nftables, through controllers/vpc): the daemon
// configures the data plane everywhere.

// Issuer mints temporary credentials (identity.Resolver implements it):
// the role credentials IMDS hands to instances.
type Issuer interface {
	Issue(p api.Principal, now time.Time, d time.Duration) (identity.Credential, error)
}

// HealthReporter takes the health the load balancers' nodes see of their
// targets (services/elbv2 implements it): the one path by which target
// health flows back to the control plane.
type HealthReporter interface {
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
	// Contributors declare the desired world (services/ec2, services/elbv2),
	// in the order their parts are read.
	Contributors []desired.Contributor
	// Instances takes what became of the instances (services/ec2).
	Instances desired.InstanceReporter
	// Slots takes what became of the slots, by owning service.
	Slots map[string]desired.SlotReporter
	// Images takes what became of the images CreateImage asked to bake
	// (services/ec2).
	Images desired.ImageReporter
	// Volumes takes what became of EBS volumes and snapshots
	// (services/ec2).
	Volumes desired.VolumeReporter
	// ImageDir holds the built root file systems (default
	// <StateDir>/images); it may be shared by several daemons.
	ImageDir string
	// ImageMirror is the Debian mirror images are built from ("" for
	// mmdebstrap's default).
	ImageMirror string
	// DNSListen is a loopback address where the simulated internet's DNS
	// answers on the host ("" for none; port 0 picks one).
	DNSListen string
	Identity  Issuer
	// Profiles are IAM's instance profiles (services/iam); optional.
	Profiles desired.Profiles
	// Health and Certs are optional: without them load balancers report
	// no health and serve no HTTPS.
	Health HealthReporter
	Certs  Certificates
	// Edge is optional: the load balancers claim their names in it.
	Edge *edge.Table
	// API is the daemon's HTTP handler as the simulated world sees it
	// (the edge table, then the API server): AWS's public API endpoints
	// answer with it on the internet, over HTTP and over HTTPS with
	// certificates CA signs, and the names of the services whose endpoint
	// prefixes EndpointPrefixes lists (api.Service.EndpointPrefix)
	// resolve to them in the world. Optional: without API and CA,
	// instances reach no AWS API.
	API              http.Handler
	EndpointPrefixes []string
	// CA is cloudbox's certificate authority; instances trust it, as a
	// local root beside their image's. Optional.
	CA *ca.CA
	// HealthChecks is optional: Route 53's health checks run only with
	// it, which takes their status (services/route53).
	HealthChecks desired.HealthCheckReporter
	// Targets is optional: with it, alias records that evaluate target
	// health see whether a load balancer has healthy targets
	// (services/elbv2).
	Targets vpcdns.TargetHealth
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
	// Images says where each image family's root file system stands.
	Images []images.Status `json:"images"`
	// DNS is the host address answering the internet's names (public
	// hosted zones, load balancers): dig @127.0.0.1 -p PORT.
	DNS string `json:"dns,omitempty"`
}

// Package ec2 implements the EC2 and VPC control plane: every resource of
// the architectures people build (VPCs, subnets, gateways, route tables,
// security groups, network ACLs, addresses, key pairs, instances, images,
// launch templates, peering), with AWS's validation, errors, filters and
// pagination. It knows nothing of Linux: the data plane reads its records.
package ec2

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/events"
	"github.com/cloudbox/cloudbox/store"
)

// Service is the EC2 implementation.
type Service struct {
	store *store.Store
	now   func() time.Time
	scale float64 // virtual time runs this many times faster than wall time
	log   *slog.Logger
	lc    *lifecycle // moves instances and images through their states
	// dataPlane says whether a data plane runs the instances (machines.go).
	dataPlane bool
	// events takes the instances' state changes; nil: none are published.
	events *events.Bus
	// strictImages refuses AMI ids the catalogue does not know, as AWS
	// does; otherwise they launch as the region's default image.
	strictImages bool
	// params resolves "resolve:ssm:" image ids (SSM); nil: refused.
	params Parameters
	// profiles are IAM's instance profiles (profile.go); nil: any
	// well-formed profile name or ARN is taken.
	profiles desired.Profiles
	// regions remembers the region of each instance whose credentials
	// ValidSession checked: credentials do not say it.
	regions sync.Map // instance id -> region
}

// Parameters resolves SSM parameters (services/ssm implements it): what
// follows "resolve:ssm:" in an image id.
type Parameters interface {
	ResolveParameter(ctx context.Context, account, region, spec string) (string, error)
}

// SetStrictImages makes unknown AMI ids fail as on AWS
// (InvalidAMIID.NotFound) instead of launching as the default image.
func (s *Service) SetStrictImages(on bool) { s.strictImages = on }

// New returns EC2 over st. now is cloudbox's virtual clock (package
// clock), scale times faster than the wall clock: every timestamp and
// timed transition (NAT gateways, terminated instances' retention) is in
// virtual time, and only the controller's waits are divided by scale.
func New(st *store.Store, now func() time.Time, log *slog.Logger, scale float64) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: st, now: now, scale: max(scale, 1), log: log}
	if err := st.Index(kindSG.store, sgIndex, sgIndexValues); err != nil {
		// Without it lookups fall back to listing: slower, still right.
		log.Error("ec2: security group index", "error", err)
	}
	s.lc = &lifecycle{s: s, scopes: make(chan scope, 16), done: make(chan struct{})}
	return s
}

// Handlers returns the operations EC2 implements. Each area of EC2
// registers its own in its file.
func (s *Service) Handlers() *ec2api.Handlers {
	h := &ec2api.Handlers{}
	for _, register := range []func(*ec2api.Handlers){
		s.registerRegions,
		s.registerTags,
		s.registerNetwork,  // vpc.go and the files of the VPC resources
		s.registerSecurity, // securitygroup.go, networkinterface.go, address.go, natgateway.go, keypair.go
		s.registerCompute,  // instance.go, image.go, launchtemplate.go
		s.registerVolumes,  // volume.go, ebssnapshot.go
	} {
		register(h)
	}
	return h
}

// Invoker returns the api.Invoker of EC2: the handlers, behind the step
// every EC2 call takes first in a new region, making its default VPC.
func (s *Service) Invoker() api.Invoker {
	return invoker{Invoker: ec2api.Bind(s.Handlers()), s: s}
}

type invoker struct {
	api.Invoker
	s *Service
}

func (v invoker) Invoke(ctx context.Context, op string, in any) (any, error) {
	if err := v.s.ensureDefaultVPC(ctx); err != nil {
		return nil, err
	}
	return v.Invoker.Invoke(ctx, op, in)
}

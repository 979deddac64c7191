// Package elbv2 implements the Elastic Load Balancing v2 control plane for
// Application Load Balancers: load balancers with their nodes, target
// groups and targets, listeners and rules, certificates, tags, attributes
// and AWS's validation errors. Network and Gateway Load Balancers are
// refused with ValidationError (UnsupportedProtocol for their protocols).
//
// A load balancer has one node per enabled subnet, each a requester-managed
// network interface EC2 makes in the same transaction (ec2.CreateServiceENI).
// It is provisioning for about a second, then active: a small controller
// (lifecycle.go) follows the store and moves it on, and removes targets
// whose deregistration delay has passed.
//
// Target health combines what the control plane knows (registration in
// progress, draining, not in use, a stopped instance) with what the data
// plane's health checks report (ReportHealth). Without a data plane
// (SetDataPlane(false), the default), a registered target that can serve
// becomes healthy dataPlaneOffHealthyAfter (2 s) after its registration, so
// API tests and waiters such as TargetInService see the states a real
// balancer goes through.
package elbv2

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"math/big"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cloudbox/cloudbox/api"
	elbv2api "github.com/cloudbox/cloudbox/api/elbv2"
	"github.com/cloudbox/cloudbox/store"
)

// Certificates is what listeners need of ACM.
type Certificates interface {
	// Check returns nil if the certificate ARN exists in this account and
	// region and is ISSUED, else an error to return (CertificateNotFound).
	Check(tx *store.Tx, account, region, arn string) error
	// Use and Release record that a listener (by is its ARN) uses a
	// certificate (ACM shows InUseBy and refuses to delete it).
	Use(tx *store.Tx, account, region, arn, by string) error
	Release(tx *store.Tx, account, region, arn, by string) error
}

// Service is the Elastic Load Balancing v2 implementation.
type Service struct {
	store *store.Store
	now   func() time.Time
	scale float64 // virtual time runs this many times faster than wall time
	log   *slog.Logger
	certs Certificates

	dataPlane atomic.Bool
	healthMu  sync.Mutex
	health    map[healthKey]healthReport
}

// New returns Elastic Load Balancing v2 over st. certs may be nil: HTTPS
// listeners are then refused with CertificateNotFound. The lifecycle
// controller runs until the store closes. now is cloudbox's virtual clock
// (package clock), scale times faster than the wall clock: provisioning,
// registration and deregistration delays are in virtual time, and only
// the controller's waits are divided by scale.
func New(st *store.Store, now func() time.Time, log *slog.Logger, scale float64, certs Certificates) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: st, now: now, scale: max(scale, 1), log: log, certs: certs, health: map[healthKey]healthReport{}}
	events, _ := st.Watch(kindLB, kindTG)
	go s.runLifecycle(events)
	return s
}

// SetDataPlane says whether a data plane reports target health
// (ReportHealth). Without one, targets become healthy by themselves.
func (s *Service) SetDataPlane(on bool) { s.dataPlane.Store(on) }

// Handlers returns the operations implemented.
func (s *Service) Handlers() *elbv2api.Handlers {
	h := &elbv2api.Handlers{}
	for _, register := range []func(*elbv2api.Handlers){
		s.registerLoadBalancers,
		s.registerTargetGroups,
		s.registerListeners,
		s.registerRules,
		s.registerTags,
		s.registerInfo,
	} {
		register(h)
	}
	return h
}

// scope is one account's region.
type scope struct{ account, region string }

func scopeOf(ctx context.Context) scope {
	r := api.RequestFrom(ctx)
	return scope{account: r.Caller.Account, region: r.Region}
}

func (sc scope) key(kind, id string) store.Key {
	return store.Key{Account: sc.account, Region: sc.region, Kind: kind, ID: id}
}

// newID returns the 16 hex digits that end an ELB ARN.
func newID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// dnsNumber returns the 10 digits of a load balancer's DNS name.
func dnsNumber() string {
	n, _ := rand.Int(rand.Reader, big.NewInt(9_000_000_000))
	return n.Add(n, big.NewInt(1_000_000_000)).String()
}

func str(s string) *string { return &s }
func i64(n int64) *int64   { return &n }
func boolp(b bool) *bool   { return &b }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func derefInt(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func validation(format string, args ...any) error {
	return api.Errorf("ValidationError", format, args...)
}

func invalidConfig(format string, args ...any) error {
	return api.Errorf("InvalidConfigurationRequest", format, args...)
}

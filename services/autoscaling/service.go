// Package autoscaling implements the Auto Scaling control plane and its
// reconciler: launch configurations, groups kept at their desired capacity
// and balanced across zones, lifecycle hooks, health checks and the
// replacement of unhealthy instances, scheduled actions, instance refresh,
// scaling policies (target tracking, step, simple) and the activity history.
//
// It knows nothing of EC2, ELB or CloudWatch: it reaches them through the
// small interfaces below, which the daemon implements over those services.
package autoscaling

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/api"
	asapi "github.com/cloudbox/cloudbox/api/autoscaling"
	"github.com/cloudbox/cloudbox/store"
)

// Fleet is EC2 as Auto Scaling uses it.
type Fleet interface {
	// Launch starts one instance and returns its id.
	Launch(ctx context.Context, account, region string, spec LaunchSpec) (string, error)
	Terminate(ctx context.Context, account, region, instanceID string) error
	// State returns EC2's state name of an instance ("pending", "running",
	// ...; "" when EC2 no longer knows it) and its zone.
	State(account, region, instanceID string) (state, az string, err error)
	// Subnet returns a subnet's zone and VPC.
	Subnet(account, region, subnetID string) (az, vpc string, ok bool, err error)
	// LaunchTemplate finds a template (id or name) with the version
	// ("$Default", "$Latest" or a number): its id and name.
	LaunchTemplate(account, region, idOrName, version string) (id, name string, ok bool, err error)
	// Instance returns what a launch configuration derives from an
	// instance; ok is false when EC2 does not know it.
	Instance(ctx context.Context, account, region, instanceID string) (cfg InstanceConfig, ok bool, err error)
}

// InstanceConfig is an instance's configuration as a launch configuration
// derives it (CreateLaunchConfiguration and CreateAutoScalingGroup with
// InstanceId).
type InstanceConfig struct {
	ImageID, InstanceType, KeyName, IAMInstanceProfile string
	SubnetID, AvailabilityZone                         string
	SecurityGroups                                     []string
	Monitoring, EbsOptimized                           bool
}

// LoadBalancing is ELB's target groups as Auto Scaling uses them.
type LoadBalancing interface {
	Register(account, region, targetGroupARN string, instanceIDs []string) error
	Deregister(account, region, targetGroupARN string, instanceIDs []string) error
	// Health returns an instance's health in a target group: "healthy",
	// "unhealthy", or "initial"/"" when not known yet.
	Health(account, region, targetGroupARN, instanceID string) (string, error)
	TargetGroupExists(account, region, arn string) (bool, error)
}

// Alarms is CloudWatch as target tracking policies use it: they own the
// alarms they make.
type Alarms interface {
	PutAlarm(account, region string, a AlarmSpec) error
	DeleteAlarm(account, region, name string) error
}

// LaunchSpec is one instance to start.
type LaunchSpec struct {
	// A launch template (id or name, and version) or a launch
	// configuration.
	LaunchTemplateID, LaunchTemplateName, Version string
	LaunchConfiguration                           *LaunchConfiguration
	InstanceType                                  string // a mixed instances policy's override of the template's
	SubnetID                                      string // "" for a group over zones only
	AvailabilityZone                              string
	Tags                                          map[string]string
}

// LaunchConfiguration is what an instance launched from a launch
// configuration gets.
type LaunchConfiguration struct {
	Name, ImageID, InstanceType, KeyName, IAMInstanceProfile, UserData string
	SecurityGroups                                                     []string
	AssociatePublicIPAddress                                           *bool
}

// AlarmSpec is a CloudWatch metric alarm a target tracking policy owns.
type AlarmSpec struct {
	Name, Description     string
	Namespace, MetricName string
	Dimensions            []Dimension
	Statistic, Unit       string
	Period                int64 // seconds
	EvaluationPeriods     int64
	DatapointsToAlarm     int64
	Threshold             float64
	ComparisonOperator    string
	AlarmActions          []string // the policy's ARN
}

// Dimension is a metric dimension.
type Dimension struct{ Name, Value string }

// Event is an Auto Scaling event as EventBridge carries it.
type Event struct {
	Account, Region string
	DetailType      string // e.g. "EC2 Instance Launch Successful"
	Time            time.Time
	Resources       []string
	Detail          map[string]any
}

// Service is the Auto Scaling implementation.
type Service struct {
	store *store.Store
	now   func() time.Time
	log   *slog.Logger
	fleet Fleet
	lb    LoadBalancing
	cw    Alarms

	mu      sync.Mutex
	onEvent []func(Event)
	// rmu serializes reconciliation passes: the reconciler's decisions
	// assume no other pass acts on the same group meanwhile.
	rmu sync.Mutex
}

// New returns Auto Scaling over st. now is the clock of every timer
// (cooldowns, warm-ups, grace periods, heartbeats, schedules).
func New(st *store.Store, now func() time.Time, log *slog.Logger, fleet Fleet, lb LoadBalancing, cw Alarms) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: st, now: now, log: log, fleet: fleet, lb: lb, cw: cw}
}

// OnEvent registers fn to receive every event, in order, outside any
// transaction.
func (s *Service) OnEvent(fn func(Event)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onEvent = append(s.onEvent, fn)
}

func (s *Service) emit(evs []Event) {
	s.mu.Lock()
	fns := append([]func(Event){}, s.onEvent...)
	s.mu.Unlock()
	for _, ev := range evs {
		for _, fn := range fns {
			fn(ev)
		}
	}
}

// Handlers returns the operations Auto Scaling implements.
func (s *Service) Handlers() *asapi.Handlers {
	h := &asapi.Handlers{}
	s.registerGroups(h)
	s.registerInstances(h)
	s.registerHooks(h)
	s.registerPolicies(h)
	s.registerInfo(h)
	return h
}

// scope is an account and region.
type scope struct{ account, region string }

func scopeOf(ctx context.Context) scope {
	r := api.RequestFrom(ctx)
	return scope{account: r.Caller.Account, region: r.Region}
}

func str(s string) *string { return &s }
func i64(v int64) *int64   { return &v }
func boolp(b bool) *bool   { return &b }
func timep(t time.Time) *time.Time {
	t = t.UTC()
	return &t
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

func validation(format string, args ...any) error {
	return api.Errorf("ValidationError", format, args...)
}

// stamp formats a time as AWS's activity causes do.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

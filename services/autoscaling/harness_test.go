package autoscaling_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	assdk "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/smithy-go"

	asapi "github.com/cloudbox/cloudbox/api/autoscaling"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/server"
	"github.com/cloudbox/cloudbox/services/autoscaling"
	"github.com/cloudbox/cloudbox/store"
)

const (
	account = "000000000000"
	region  = "eu-west-1"
	tgARN   = "arn:aws:elasticloadbalancing:eu-west-1:000000000000:targetgroup/web/0123456789abcdef"
)

// clock is a virtual clock the test moves.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fleet is a fake EC2: launched instances run at once.
type fleet struct {
	mu        sync.Mutex
	n         int
	state     map[string]string
	az        map[string]string
	launches  []autoscaling.LaunchSpec
	terminate []string
}

// unavailableType is a type the fake fleet has no capacity for.
const unavailableType = "p9.unavailable"

var subnets = map[string]string{"subnet-a": "eu-west-1a", "subnet-b": "eu-west-1b", "subnet-c": "eu-west-1c"}

func (f *fleet) Launch(_ context.Context, _, _ string, spec autoscaling.LaunchSpec) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if spec.InstanceType == unavailableType {
		return "", errors.New("We currently do not have sufficient " + unavailableType + " capacity in the Availability Zone you requested.")
	}
	f.n++
	id := fmt.Sprintf("i-%017x", f.n)
	f.state[id], f.az[id] = "running", spec.AvailabilityZone
	f.launches = append(f.launches, spec)
	return id, nil
}

func (f *fleet) Terminate(_ context.Context, _, _, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state[id] = "terminated"
	f.terminate = append(f.terminate, id)
	return nil
}

func (f *fleet) State(_, _, id string) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state[id], f.az[id], nil
}

func (f *fleet) set(id, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.state[id] = state
}

func (f *fleet) Subnet(_, _, id string) (string, string, bool, error) {
	az, ok := subnets[id]
	return az, "vpc-1", ok, nil
}

func (f *fleet) LaunchTemplate(_, _, idOrName, _ string) (string, string, bool, error) {
	if idOrName == "web" || idOrName == "lt-0123456789abcdef0" {
		return "lt-0123456789abcdef0", "web", true, nil
	}
	return "", "", false, nil
}

// Instance knows one instance, the one a launch configuration is derived
// from in the tests.
func (f *fleet) Instance(_ context.Context, _, _, id string) (autoscaling.InstanceConfig, bool, error) {
	if id != sourceInstance {
		return autoscaling.InstanceConfig{}, false, nil
	}
	return autoscaling.InstanceConfig{ImageID: "ami-0123456789abcdef0", InstanceType: "m4.large", KeyName: "ops", SubnetID: "subnet-c",
		AvailabilityZone: "eu-west-1c", SecurityGroups: []string{"sg-0123456789abcdef0"}, Monitoring: true}, true, nil
}

const sourceInstance = "i-0123456789abcdef0"

func (f *fleet) launched() []autoscaling.LaunchSpec {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.launches)
}

// elb is a fake ELB.
type elb struct {
	mu      sync.Mutex
	members map[string][]string // target group -> instances
	health  map[string]string   // instance -> health
}

func (e *elb) Register(_, _, tg string, ids []string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, id := range ids {
		if !slices.Contains(e.members[tg], id) {
			e.members[tg] = append(e.members[tg], id)
		}
	}
	return nil
}

func (e *elb) Deregister(_, _, tg string, ids []string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.members[tg] = slices.DeleteFunc(e.members[tg], func(id string) bool { return slices.Contains(ids, id) })
	return nil
}

func (e *elb) Health(_, _, _, id string) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if h, ok := e.health[id]; ok {
		return h, nil
	}
	return "healthy", nil
}

func (e *elb) TargetGroupExists(_, _, arn string) (bool, error) { return arn == tgARN, nil }

func (e *elb) targets(tg string) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Sorted(slices.Values(e.members[tg]))
}

func (e *elb) setHealth(id, h string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.health[id] = h
}

// alarms is a fake CloudWatch.
type alarms struct {
	mu     sync.Mutex
	alarms map[string]autoscaling.AlarmSpec
}

func (a *alarms) PutAlarm(_, _ string, s autoscaling.AlarmSpec) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.alarms[s.Name] = s
	return nil
}

func (a *alarms) DeleteAlarm(_, _, name string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.alarms, name)
	return nil
}

func (a *alarms) all() map[string]autoscaling.AlarmSpec {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := map[string]autoscaling.AlarmSpec{}
	for k, v := range a.alarms {
		out[k] = v
	}
	return out
}

type env struct {
	svc    *autoscaling.Service
	client *assdk.Client
	clock  *clock
	fleet  *fleet
	elb    *elb
	cw     *alarms
	mu     sync.Mutex
	events []autoscaling.Event
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st := store.OpenMemory()
	t.Cleanup(func() { st.Close() })
	e := &env{
		clock: &clock{now: time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)},
		fleet: &fleet{state: map[string]string{}, az: map[string]string{}},
		elb:   &elb{members: map[string][]string{}, health: map[string]string{}},
		cw:    &alarms{alarms: map[string]autoscaling.AlarmSpec{}},
	}
	e.svc = autoscaling.New(st, e.clock.Now, nil, e.fleet, e.elb, e.cw)
	e.svc.OnEvent(func(ev autoscaling.Event) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.events = append(e.events, ev)
	})
	srv := httptest.NewServer(server.New(server.Config{
		Services: []server.Service{{API: asapi.Service, Invoker: asapi.Bind(e.svc.Handlers())}},
		Identity: identity.New(st, nil),
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.svc.Run(ctx, 2*time.Millisecond) }()
	t.Cleanup(func() { cancel(); <-done })
	e.client = assdk.New(assdk.Options{
		Region: region, BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("test", "secret", ""),
	})
	return e
}

func (e *env) eventTypes() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for _, ev := range e.events {
		out = append(out, ev.DetailType)
	}
	return out
}

// eventually polls cond until it holds or five seconds pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func errCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := errCode(err); got != code {
		t.Fatalf("error %v: got code %q, want %s", err, got, code)
	}
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

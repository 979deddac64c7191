package cloudwatch_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	cwsdk "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/smithy-go"

	cwapi "github.com/cloudbox/cloudbox/api/cloudwatch"
	"github.com/cloudbox/cloudbox/clock"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/server"
	"github.com/cloudbox/cloudbox/services/cloudwatch"
	"github.com/cloudbox/cloudbox/store"
)

const region = "eu-west-1"

// cloud is CloudWatch alone behind cloudbox's HTTP server, on a virtual
// clock running scale times faster than the wall clock.
type cloud struct {
	url   string
	clock *clock.Clock
	svc   *cloudwatch.Service
	cw    *cwsdk.Client
}

func newCloud(t *testing.T, scale float64) *cloud {
	t.Helper()
	st := store.OpenMemory()
	clk := clock.New(scale)
	svc := cloudwatch.New(st, clk.Now, nil, scale)
	srv := httptest.NewServer(server.New(server.Config{
		Services: []server.Service{{API: cwapi.Service, Invoker: cwapi.Bind(svc.Handlers())}},
		Identity: identity.New(st, identity.DefaultKeys),
		Auth:     server.AuthOff,
	}))
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	c := &cloud{url: srv.URL, clock: clk, svc: svc}
	c.cw = cwsdk.New(cwsdk.Options{
		Region:       region,
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("test", "secret", ""),
	})
	return c
}

var ctx = context.Background()

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := apiCode(err); got != code {
		t.Fatalf("error %v: got code %q, want %q", err, got, code)
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

// minute returns the start of the minute of t, d minutes later.
func minute(t time.Time, d int) time.Time {
	return t.Truncate(time.Minute).Add(time.Duration(d) * time.Minute).UTC()
}

// recorder collects what alarms hand to their subscribers.
type recorder struct {
	mu      sync.Mutex
	actions []string // "state arn"
	changes []cloudwatch.AlarmStateChange
}

func (r *recorder) attach(s *cloudwatch.Service) {
	s.OnAction(func(account, region, alarm, action, state string) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.actions = append(r.actions, state+" "+action)
	})
	s.OnStateChange(func(ev cloudwatch.AlarmStateChange) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.changes = append(r.changes, ev)
	})
}

func (r *recorder) snapshot() ([]string, []cloudwatch.AlarmStateChange) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.actions...), append([]cloudwatch.AlarmStateChange(nil), r.changes...)
}

// eventually polls f until it reports true or the deadline passes.
func eventually(t *testing.T, within time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

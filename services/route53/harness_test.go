package route53_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/aws/smithy-go"

	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	r53api "github.com/cloudbox/cloudbox/api/route53"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/server"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/services/route53"
	"github.com/cloudbox/cloudbox/store"
)

const (
	region  = "us-east-1"
	account = "000000000000"
)

var ctx = context.Background()

// clock is a virtual clock the tests move by hand.
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

// cloud is EC2 and Route 53 over one store behind cloudbox's HTTP server,
// reached by aws-sdk-go-v2.
type cloud struct {
	url   string
	st    *store.Store
	svc   *route53.Service
	clock *clock
	r53   *r53.Client
	ec2   *ec2sdk.Client
}

func newCloud(t *testing.T) *cloud {
	t.Helper()
	st := store.OpenMemory()
	t.Cleanup(func() { st.Close() })
	clk := &clock{now: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	svc := route53.New(st, clk.Now, nil, ec2.VPCExists)
	h := server.New(server.Config{
		Services: []server.Service{
			{API: ec2api.Service, Invoker: ec2.New(st, time.Now, nil, 1).Invoker()},
			{API: r53api.Service, Invoker: svc.Invoker()},
		},
		Identity: identity.New(st, identity.DefaultKeys),
		Auth:     server.AuthOff,
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := &cloud{url: srv.URL, st: st, svc: svc, clock: clk}
	c.r53 = c.route53(account)
	c.ec2 = c.ec2Client(account, region)
	return c
}

// route53 is a Route 53 client of account (a 12-digit key is that account).
func (c *cloud) route53(acct string) *r53.Client {
	return r53.New(r53.Options{
		Region:           region,
		BaseEndpoint:     aws.String(c.url),
		Credentials:      credentials.NewStaticCredentialsProvider(acct, "secret", ""),
		RetryMaxAttempts: 1,
	})
}

func (c *cloud) ec2Client(acct, region string) *ec2sdk.Client {
	return ec2sdk.New(ec2sdk.Options{
		Region:           region,
		BaseEndpoint:     aws.String(c.url),
		Credentials:      credentials.NewStaticCredentialsProvider(acct, "secret", ""),
		RetryMaxAttempts: 1,
	})
}

// vpc creates a VPC with the client and returns its id.
func vpc(t *testing.T, cl *ec2sdk.Client) string {
	t.Helper()
	out := must[*ec2sdk.CreateVpcOutput](t)(cl.CreateVpc(ctx, &ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")}))
	return *out.Vpc.VpcId
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

// wantErr fails the test unless err has the AWS error code, the message
// and the HTTP status.
func wantErr(t *testing.T, err error, code string, status int, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error %v: want code %s", err, code)
	}
	if ae.ErrorMessage() != msg {
		t.Errorf("%s message:\n got %q\nwant %q", code, ae.ErrorMessage(), msg)
	}
	var re *http.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Errorf("%s: status %d, want %d", code, re.HTTPStatusCode(), status)
	}
}

// zone creates a public hosted zone and returns its bare id.
func (c *cloud) zone(t *testing.T, name string) string {
	t.Helper()
	out := must[*r53.CreateHostedZoneOutput](t)(c.r53.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{Name: aws.String(name), CallerReference: aws.String(name + time.Now().String())}))
	return bare(*out.HostedZone.Id)
}

// privateZone creates a private hosted zone in vpc (of region).
func (c *cloud) privateZone(t *testing.T, name, vpc string) string {
	t.Helper()
	out := must[*r53.CreateHostedZoneOutput](t)(c.r53.CreateHostedZone(ctx, &r53.CreateHostedZoneInput{
		Name: aws.String(name), CallerReference: aws.String(name + time.Now().String()),
		VPC: &types.VPC{VPCId: aws.String(vpc), VPCRegion: types.VPCRegion(region)}, HostedZoneConfig: &types.HostedZoneConfig{PrivateZone: true},
	}))
	return bare(*out.HostedZone.Id)
}

func bare(id string) string {
	for _, p := range []string{"/hostedzone/", "/change/"} {
		if len(id) > len(p) && id[:len(p)] == p {
			return id[len(p):]
		}
	}
	return id
}

// rr is a simple record set.
func rr(name string, typ types.RRType, ttl int64, values ...string) *types.ResourceRecordSet {
	s := &types.ResourceRecordSet{Name: aws.String(name), Type: typ, TTL: aws.Int64(ttl)}
	for _, v := range values {
		s.ResourceRecords = append(s.ResourceRecords, types.ResourceRecord{Value: aws.String(v)})
	}
	return s
}

func chg(action types.ChangeAction, s *types.ResourceRecordSet) types.Change {
	return types.Change{Action: action, ResourceRecordSet: s}
}

// change applies a batch to a zone.
func (c *cloud) change(zone string, changes ...types.Change) (*r53.ChangeResourceRecordSetsOutput, error) {
	return c.r53.ChangeResourceRecordSets(ctx, &r53.ChangeResourceRecordSetsInput{HostedZoneId: aws.String(zone), ChangeBatch: &types.ChangeBatch{Changes: changes}})
}

// sets lists every record set of a zone as "name type [setid] ttl values".
func (c *cloud) sets(t *testing.T, zone string) []types.ResourceRecordSet {
	t.Helper()
	var out []types.ResourceRecordSet
	p := r53.NewListResourceRecordSetsPaginator(c.r53, &r53.ListResourceRecordSetsInput{HostedZoneId: aws.String(zone)})
	for p.HasMorePages() {
		page := must[*r53.ListResourceRecordSetsOutput](t)(p.NextPage(ctx))
		out = append(out, page.ResourceRecordSets...)
	}
	return out
}

// healthCheck creates a health check and returns its id.
func (c *cloud) healthCheck(t *testing.T, ref string, cfg *types.HealthCheckConfig) string {
	t.Helper()
	out := must[*r53.CreateHealthCheckOutput](t)(c.r53.CreateHealthCheck(ctx, &r53.CreateHealthCheckInput{CallerReference: aws.String(ref), HealthCheckConfig: cfg}))
	return *out.HealthCheck.Id
}

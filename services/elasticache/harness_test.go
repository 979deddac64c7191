package elasticache_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"

	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	ecapi "github.com/cloudbox/cloudbox/api/elasticache"
	"github.com/cloudbox/cloudbox/ca"
	"github.com/cloudbox/cloudbox/clock"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/server"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/services/elasticache"
	"github.com/cloudbox/cloudbox/store"
)

const region = "us-east-1"

// env is EC2 and ElastiCache over one store, served over loopback,
// reached by the aws CLI v1 (ElastiCache) and aws-sdk-go-v2 (EC2).
type env struct {
	st  *store.Store
	svc *elasticache.Service
	url string
	ec2 *ec2sdk.Client
	clk *clock.Clock
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvScaled(t, 10)
}

// newEnvScaled is newEnv with virtual time scale times faster than the
// wall clock.
func newEnvScaled(t *testing.T, scale float64) *env {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not installed")
	}
	st := store.OpenMemory()
	clk := clock.New(scale)
	authority, err := ca.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc := elasticache.New(st, clk, nil, false, authority)
	h := server.New(server.Config{
		Services: []server.Service{
			{API: ec2api.Service, Invoker: ec2.New(st, clk.Now, nil, clk.Scale()).Invoker()},
			{API: ecapi.Service, Invoker: svc.Invoker()},
		},
		Identity: identity.New(st, identity.DefaultKeys),
		Auth:     server.AuthOff,
	})
	srv := httptest.NewServer(h)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { svc.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
		st.Close()
	})
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	return &env{st: st, svc: svc, url: srv.URL, clk: clk,
		ec2: ec2sdk.New(ec2sdk.Options{Region: region, BaseEndpoint: aws.String(srv.URL), Credentials: creds})}
}

// cli runs `aws elasticache ...` and decodes its JSON output; a failure
// returns the CLI's stderr as the error.
func (e *env) cli(args ...string) (map[string]any, error) {
	cmd := exec.Command("aws", append([]string{"--endpoint-url", e.url, "--output", "json", "elasticache"}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION="+region,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, &cliError{stderr.String()}
	}
	out := map[string]any{}
	if len(bytes.TrimSpace(stdout.Bytes())) > 0 {
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

type cliError struct{ stderr string }

func (e *cliError) Error() string { return e.stderr }

// must runs the CLI and fails the test on an error.
func (e *env) must(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out, err := e.cli(args...)
	if err != nil {
		t.Fatalf("aws elasticache %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// fails runs the CLI and wants AWS's error code and message.
func (e *env) fails(t *testing.T, code, message string, args ...string) {
	t.Helper()
	_, err := e.cli(args...)
	if err == nil || !strings.Contains(err.Error(), "("+code+")") || !strings.Contains(err.Error(), message) {
		t.Fatalf("aws elasticache %s: got %v, want %s: %s", strings.Join(args, " "), err, code, message)
	}
}

// network is a VPC with private subnets in two AZs, a cache group and
// a web group, and a second VPC's subnet.
type network struct {
	vpc, cacheSG, webSG string
	subnets             []string
	otherSubnet         string
}

func (e *env) network(t *testing.T) network {
	t.Helper()
	ctx := context.Background()
	var n network
	vpc, err := e.ec2.CreateVpc(ctx, &ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	n.vpc = *vpc.Vpc.VpcId
	for i, az := range []string{"a", "c"} {
		sn, err := e.ec2.CreateSubnet(ctx, &ec2sdk.CreateSubnetInput{VpcId: aws.String(n.vpc), CidrBlock: aws.String([]string{"10.0.11.0/24", "10.0.12.0/24"}[i]), AvailabilityZone: aws.String(region + az)})
		if err != nil {
			t.Fatal(err)
		}
		n.subnets = append(n.subnets, *sn.Subnet.SubnetId)
	}
	for _, name := range []string{"cache", "web"} {
		g, err := e.ec2.CreateSecurityGroup(ctx, &ec2sdk.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(name), VpcId: aws.String(n.vpc)})
		if err != nil {
			t.Fatal(err)
		}
		if name == "cache" {
			n.cacheSG = *g.GroupId
		} else {
			n.webSG = *g.GroupId
		}
	}
	other, err := e.ec2.CreateVpc(ctx, &ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	sn, err := e.ec2.CreateSubnet(ctx, &ec2sdk.CreateSubnetInput{VpcId: other.Vpc.VpcId, CidrBlock: aws.String("10.1.1.0/24"), AvailabilityZone: aws.String(region + "b")})
	if err != nil {
		t.Fatal(err)
	}
	n.otherSubnet = *sn.Subnet.SubnetId
	return n
}

// world is the desired world ElastiCache contributes for the test's
// account and region.
func (e *env) world(t *testing.T) *desired.World {
	t.Helper()
	w := &desired.World{}
	err := e.st.View(func(tx *store.Tx) error {
		scopes, err := e.svc.Scopes(tx)
		for _, sc := range scopes {
			if err := e.svc.Contribute(tx, sc, w); err != nil {
				return err
			}
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dig walks a decoded JSON value along keys and list indexes.
func dig(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

package rds_test

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
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	rdsapi "github.com/cloudbox/cloudbox/api/rds"
	"github.com/cloudbox/cloudbox/clock"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/server"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/services/rds"
	"github.com/cloudbox/cloudbox/store"
)

const region = "ap-northeast-2"

// env is EC2 and RDS over one store, served over loopback, on a virtual
// clock 60 times faster than the wall's (RDS's steps take seconds of it).
type env struct {
	st  *store.Store
	svc *rds.Service
	url string
	ec2 *ec2sdk.Client
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, false)
}

// newEnvWith is newEnv whose instances move on slot reports when
// dataPlane is set (the test reports as the data plane would).
func newEnvWith(t *testing.T, dataPlane bool) *env {
	t.Helper()
	return newEnvAt(t, dataPlane, 60)
}

// newEnvAt is newEnvWith on a virtual clock scale times the wall clock.
func newEnvAt(t *testing.T, dataPlane bool, scale float64) *env {
	t.Helper()
	st := store.OpenMemory()
	clk := clock.New(scale)
	svc := rds.New(st, clk.Now, nil, clk.Scale(), dataPlane)
	h := server.New(server.Config{
		Services: []server.Service{
			{API: ec2api.Service, Invoker: ec2.New(st, clk.Now, nil, clk.Scale()).Invoker()},
			{API: rdsapi.Service, Invoker: svc.Invoker()},
		},
		Identity: identity.New(st, identity.DefaultKeys),
		Auth:     server.AuthOff,
	})
	srv := httptest.NewServer(h)
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	return &env{st: st, svc: svc, url: srv.URL,
		ec2: ec2sdk.New(ec2sdk.Options{Region: region, BaseEndpoint: aws.String(srv.URL), Credentials: creds})}
}

// rds runs `aws rds ...` (the aws CLI v1) and decodes its JSON output; a
// failure is returned as the CLI's error text.
func (e *env) rds(t *testing.T, args ...string) (map[string]any, error) {
	t.Helper()
	path, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not installed")
	}
	home := t.TempDir()
	cmd := exec.Command(path, append([]string{"--endpoint-url", e.url, "--output", "json", "rds"}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION="+region,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "HOME="+home, "AWS_PAGER=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, &cliError{strings.TrimSpace(stderr.String())}
	}
	var out map[string]any
	if len(bytes.TrimSpace(stdout.Bytes())) > 0 {
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatalf("aws rds %s: %v\n%s", strings.Join(args, " "), err, stdout.String())
		}
	}
	return out, nil
}

type cliError struct{ text string }

func (e *cliError) Error() string { return e.text }

// must runs `aws rds ...` and fails the test on an error.
func (e *env) must(t *testing.T, args ...string) map[string]any {
	t.Helper()
	out, err := e.rds(t, args...)
	if err != nil {
		t.Fatalf("aws rds %s: %v", strings.Join(args, " "), err)
	}
	return out
}

// fails runs `aws rds ...` and wants the error code and message part.
func (e *env) fails(t *testing.T, code, message string, args ...string) {
	t.Helper()
	_, err := e.rds(t, args...)
	if err == nil {
		t.Fatalf("aws rds %s: succeeded, want %s", strings.Join(args, " "), code)
	}
	if !strings.Contains(err.Error(), "("+code+")") || !strings.Contains(err.Error(), message) {
		t.Fatalf("aws rds %s: %v\nwant (%s) %q", strings.Join(args, " "), err, code, message)
	}
}

// network is seed 003's: a VPC with two private subnets in two zones, a
// web security group and a DB group allowing 3306 from it.
type network struct {
	vpc, privateA, privateC, otherZoneA string
	webSG, dbSG, otherVPCSG             string
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
	subnet := func(vpc, cidr, az string) string {
		out, err := e.ec2.CreateSubnet(ctx, &ec2sdk.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(az)})
		if err != nil {
			t.Fatal(err)
		}
		return *out.Subnet.SubnetId
	}
	n.privateA, n.privateC = subnet(n.vpc, "10.0.1.0/24", region+"a"), subnet(n.vpc, "10.0.3.0/24", region+"c")
	n.otherZoneA = subnet(n.vpc, "10.0.5.0/24", region+"a")
	sg := func(vpc, name string) string {
		out, err := e.ec2.CreateSecurityGroup(ctx, &ec2sdk.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(name), VpcId: aws.String(vpc)})
		if err != nil {
			t.Fatal(err)
		}
		return *out.GroupId
	}
	n.webSG, n.dbSG = sg(n.vpc, "web"), sg(n.vpc, "db")
	other, err := e.ec2.CreateVpc(ctx, &ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	n.otherVPCSG = sg(*other.Vpc.VpcId, "elsewhere")
	return n
}

// waitStatus polls DescribeDBInstances until the instance has status.
func (e *env) waitStatus(t *testing.T, id, status string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := e.must(t, "describe-db-instances", "--db-instance-identifier", id)
		db := out["DBInstances"].([]any)[0].(map[string]any)
		if db["DBInstanceStatus"] == status {
			return db
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: status %v, want %s", id, db["DBInstanceStatus"], status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// ec2Interfaces lists the network interfaces in a subnet.
func (e *env) ec2Interfaces(t *testing.T, subnet string) []ec2types.NetworkInterface {
	t.Helper()
	out, err := e.ec2.DescribeNetworkInterfaces(context.Background(), &ec2sdk.DescribeNetworkInterfacesInput{
		Filters: []ec2types.Filter{{Name: aws.String("subnet-id"), Values: []string{subnet}}}})
	if err != nil {
		t.Fatal(err)
	}
	return out.NetworkInterfaces
}

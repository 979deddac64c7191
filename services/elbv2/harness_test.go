package elbv2_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/smithy-go"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	elbv2api "github.com/cloudbox/cloudbox/api/elbv2"
	"github.com/cloudbox/cloudbox/clock"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/server"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/services/elbv2"
	"github.com/cloudbox/cloudbox/store"
)

const region = "ap-northeast-2"

// env is EC2 and Elastic Load Balancing v2 over one store, served over
// loopback and reached by aws-sdk-go-v2 clients.
type env struct {
	st  *store.Store
	svc *elbv2.Service
	url string
	ec2 *ec2sdk.Client
	elb *elb.Client
}

func newEnv(t *testing.T, certs elbv2.Certificates) *env {
	t.Helper()
	return newScaledEnv(t, certs, clock.New(1))
}

// newScaledEnv is newEnv on a virtual clock (cloudbox up --time-scale).
func newScaledEnv(t *testing.T, certs elbv2.Certificates, clk *clock.Clock) *env {
	t.Helper()
	st := store.OpenMemory()
	svc := elbv2.New(st, clk.Now, nil, clk.Scale(), certs)
	h := server.New(server.Config{
		Services: []server.Service{
			{API: ec2api.Service, Invoker: ec2.New(st, clk.Now, nil, clk.Scale()).Invoker()},
			{API: elbv2api.Service, Invoker: elbv2api.Bind(svc.Handlers())},
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
	return &env{
		st: st, svc: svc, url: srv.URL,
		ec2: ec2sdk.New(ec2sdk.Options{Region: region, BaseEndpoint: aws.String(srv.URL), Credentials: creds}),
		elb: elb.New(elb.Options{Region: region, BaseEndpoint: aws.String(srv.URL), Credentials: creds}),
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

// wantCode fails the test unless err carries the AWS error code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v: want code %q", err, code)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("error %v: got code %q, want %q", err, ae.ErrorCode(), code)
	}
}

// network is the seed's network: a VPC with two public and two private
// subnets in two zones, an ALB security group and an app group, and two
// running instances in the private subnets.
type network struct {
	vpc, other          string
	public, private     []string
	otherSubnet         string
	albSG, appSG, vpcSG string
	instances           []string
}

func (e *env) network(t *testing.T) network {
	t.Helper()
	ctx := context.Background()
	var n network
	vpc := must[*ec2sdk.CreateVpcOutput](t)(e.ec2.CreateVpc(ctx, &ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16")}))
	n.vpc = *vpc.Vpc.VpcId
	subnet := func(vpc, cidr, az string) string {
		out := must[*ec2sdk.CreateSubnetOutput](t)(e.ec2.CreateSubnet(ctx, &ec2sdk.CreateSubnetInput{VpcId: aws.String(vpc), CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(az)}))
		return *out.Subnet.SubnetId
	}
	n.public = []string{subnet(n.vpc, "10.0.1.0/24", region+"a"), subnet(n.vpc, "10.0.2.0/24", region+"c")}
	n.private = []string{subnet(n.vpc, "10.0.11.0/24", region+"a"), subnet(n.vpc, "10.0.12.0/24", region+"c")}
	igw := must[*ec2sdk.CreateInternetGatewayOutput](t)(e.ec2.CreateInternetGateway(ctx, &ec2sdk.CreateInternetGatewayInput{}))
	must[*ec2sdk.AttachInternetGatewayOutput](t)(e.ec2.AttachInternetGateway(ctx, &ec2sdk.AttachInternetGatewayInput{InternetGatewayId: igw.InternetGateway.InternetGatewayId, VpcId: aws.String(n.vpc)}))
	sg := func(name string) string {
		out := must[*ec2sdk.CreateSecurityGroupOutput](t)(e.ec2.CreateSecurityGroup(ctx, &ec2sdk.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(name), VpcId: aws.String(n.vpc)}))
		return *out.GroupId
	}
	n.albSG, n.appSG = sg("alb"), sg("app")
	must[*ec2sdk.AuthorizeSecurityGroupIngressOutput](t)(e.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2sdk.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(n.albSG), IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80), CidrIp: aws.String("0.0.0.0/0"),
	}))
	sgs := must[*ec2sdk.DescribeSecurityGroupsOutput](t)(e.ec2.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{
		{Name: aws.String("vpc-id"), Values: []string{n.vpc}}, {Name: aws.String("group-name"), Values: []string{"default"}},
	}}))
	n.vpcSG = *sgs.SecurityGroups[0].GroupId
	other := must[*ec2sdk.CreateVpcOutput](t)(e.ec2.CreateVpc(ctx, &ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.1.0.0/16")}))
	n.other = *other.Vpc.VpcId
	n.otherSubnet = subnet(n.other, "10.1.1.0/24", region+"b")
	images := must[*ec2sdk.DescribeImagesOutput](t)(e.ec2.DescribeImages(ctx, &ec2sdk.DescribeImagesInput{
		Owners: []string{"amazon"}, Filters: []ec2types.Filter{{Name: aws.String("architecture"), Values: []string{"x86_64"}}},
	}))
	for i, sn := range n.private {
		out := must[*ec2sdk.RunInstancesOutput](t)(e.ec2.RunInstances(ctx, &ec2sdk.RunInstancesInput{
			ImageId: images.Images[0].ImageId, InstanceType: "t3.micro", MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			SubnetId: aws.String(sn), SecurityGroupIds: []string{n.appSG},
			PrivateIpAddress: aws.String(fmt.Sprintf("10.0.1%d.10", i+1)),
		}))
		n.instances = append(n.instances, *out.Instances[0].InstanceId)
	}
	waiter := ec2sdk.NewInstanceRunningWaiter(e.ec2, func(o *ec2sdk.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = 100*time.Millisecond, 200*time.Millisecond
	})
	if err := waiter.Wait(ctx, &ec2sdk.DescribeInstancesInput{InstanceIds: n.instances}, 30*time.Second); err != nil {
		t.Fatal(err)
	}
	return n
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

// fakeCerts is an ACM with a fixed set of issued certificates.
type fakeCerts struct {
	mu     sync.Mutex
	issued map[string]bool
	inUse  map[string][]string // certificate -> listeners
}

func newFakeCerts(arns ...string) *fakeCerts {
	c := &fakeCerts{issued: map[string]bool{}, inUse: map[string][]string{}}
	for _, a := range arns {
		c.issued[a] = true
	}
	return c
}

func (c *fakeCerts) Check(_ *store.Tx, _, _, arn string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.issued[arn] {
		return api.Errorf("CertificateNotFound", "Certificate '%s' not found", arn)
	}
	return nil
}

func (c *fakeCerts) Use(_ *store.Tx, _, _, arn, by string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inUse[arn] = append(c.inUse[arn], by)
	return nil
}

func (c *fakeCerts) Release(_ *store.Tx, _, _, arn, by string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var keep []string
	for _, b := range c.inUse[arn] {
		if b != by {
			keep = append(keep, b)
		}
	}
	c.inUse[arn] = keep
	return nil
}

func (c *fakeCerts) users(arn string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.inUse[arn]...)
}

package console_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	r53types "github.com/aws/aws-sdk-go-v2/service/route53/types"
	"github.com/cloudbox/cloudbox/daemon"
	"github.com/cloudbox/cloudbox/metric"
)

const (
	account = "000000000000" // the test/test keys' account
	region  = "ap-northeast-2"
)

// cloud is a control-plane daemon serving on a loopback port, and the
// clients that build its world through the AWS API.
type cloud struct {
	URL string
	// handler is the daemon's, for requests without a connection.
	handler http.Handler
	// metrics is CloudWatch's built-in publisher, which the data plane
	// would feed.
	metrics metric.Publisher
	ec2     *ec2sdk.Client
	elb     *elb.Client
	r53     *route53.Client
}

// startCloud runs an ephemeral daemon without a data plane, ten times
// faster than AWS (instances leave pending and targets pass their checks
// sooner), until the test ends.
func startCloud(t testing.TB) *cloud {
	t.Helper()
	d, err := daemon.New(daemon.Config{Ephemeral: true, Dataplane: "off", TimeScale: 10})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		d.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
	c := &cloud{URL: "http://" + ln.Addr().String(), metrics: d.MetricPublisher(), handler: d.Handler()}
	creds := credentials.NewStaticCredentialsProvider("test", "test", "")
	base := aws.String(c.URL)
	c.ec2 = ec2sdk.New(ec2sdk.Options{Region: region, BaseEndpoint: base, Credentials: creds})
	c.elb = elb.New(elb.Options{Region: region, BaseEndpoint: base, Credentials: creds})
	c.r53 = route53.New(route53.Options{Region: "us-east-1", BaseEndpoint: base, Credentials: creds})
	return c
}

// seed is the world of the tutorial seed 000 builds in Seoul: VPC
// "devloop", a public and a private subnet in each of two zones, an
// internet gateway, a NAT gateway for the private subnets, a bastion and
// two application instances behind an internet-facing ALB, a MySQL
// database and a Memcached cluster in the private subnets, and a private
// hosted zone.
type seed struct {
	VPC, IGW, NAT       string
	PublicA, PublicC    string
	PrivateA, PrivateC  string
	Bastion, AppA, AppC string
	AppSG, WebSG, DBSG  string
	LB, LBDimension, TG string
	DB, Cache, Zone     string
	PublicRT, PrivateRT string
}

func must[T any](t testing.TB) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func nameTag(kind ec2types.ResourceType, name string) []ec2types.TagSpecification {
	return []ec2types.TagSpecification{{ResourceType: kind, Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String(name)}}}}
}

func (c *cloud) buildSeed(t testing.TB) *seed {
	t.Helper()
	ctx := context.Background()
	s := &seed{}
	s.VPC = *must[*ec2sdk.CreateVpcOutput](t)(c.ec2.CreateVpc(ctx, &ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.0.0.0/16"),
		TagSpecifications: nameTag(ec2types.ResourceTypeVpc, "devloop")})).Vpc.VpcId
	subnet := func(cidr, az, name string) string {
		return *must[*ec2sdk.CreateSubnetOutput](t)(c.ec2.CreateSubnet(ctx, &ec2sdk.CreateSubnetInput{VpcId: &s.VPC, CidrBlock: aws.String(cidr),
			AvailabilityZone: aws.String(az), TagSpecifications: nameTag(ec2types.ResourceTypeSubnet, name)})).Subnet.SubnetId
	}
	s.PublicA = subnet("10.0.1.0/24", region+"a", "devloop-public-a")
	s.PublicC = subnet("10.0.2.0/24", region+"c", "devloop-public-c")
	s.PrivateA = subnet("10.0.11.0/24", region+"a", "devloop-private-a")
	s.PrivateC = subnet("10.0.12.0/24", region+"c", "devloop-private-c")

	s.IGW = *must[*ec2sdk.CreateInternetGatewayOutput](t)(c.ec2.CreateInternetGateway(ctx, &ec2sdk.CreateInternetGatewayInput{})).InternetGateway.InternetGatewayId
	must[*ec2sdk.AttachInternetGatewayOutput](t)(c.ec2.AttachInternetGateway(ctx, &ec2sdk.AttachInternetGatewayInput{InternetGatewayId: &s.IGW, VpcId: &s.VPC}))
	table := func(subnets ...string) string {
		rt := *must[*ec2sdk.CreateRouteTableOutput](t)(c.ec2.CreateRouteTable(ctx, &ec2sdk.CreateRouteTableInput{VpcId: &s.VPC})).RouteTable.RouteTableId
		for _, sn := range subnets {
			must[*ec2sdk.AssociateRouteTableOutput](t)(c.ec2.AssociateRouteTable(ctx, &ec2sdk.AssociateRouteTableInput{RouteTableId: &rt, SubnetId: aws.String(sn)}))
		}
		return rt
	}
	s.PublicRT = table(s.PublicA, s.PublicC)
	must[*ec2sdk.CreateRouteOutput](t)(c.ec2.CreateRoute(ctx, &ec2sdk.CreateRouteInput{RouteTableId: &s.PublicRT, DestinationCidrBlock: aws.String("0.0.0.0/0"), GatewayId: &s.IGW}))
	eip := must[*ec2sdk.AllocateAddressOutput](t)(c.ec2.AllocateAddress(ctx, &ec2sdk.AllocateAddressInput{Domain: ec2types.DomainTypeVpc}))
	s.NAT = *must[*ec2sdk.CreateNatGatewayOutput](t)(c.ec2.CreateNatGateway(ctx, &ec2sdk.CreateNatGatewayInput{SubnetId: &s.PublicA, AllocationId: eip.AllocationId})).NatGateway.NatGatewayId
	s.PrivateRT = table(s.PrivateA, s.PrivateC)
	must[*ec2sdk.CreateRouteOutput](t)(c.ec2.CreateRoute(ctx, &ec2sdk.CreateRouteInput{RouteTableId: &s.PrivateRT, DestinationCidrBlock: aws.String("0.0.0.0/0"), NatGatewayId: &s.NAT}))

	group := func(name string) string {
		return *must[*ec2sdk.CreateSecurityGroupOutput](t)(c.ec2.CreateSecurityGroup(ctx, &ec2sdk.CreateSecurityGroupInput{GroupName: aws.String(name),
			Description: aws.String(name), VpcId: &s.VPC})).GroupId
	}
	allow := func(sg string, port int32, cidr, from string) {
		p := ec2types.IpPermission{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(port), ToPort: aws.Int32(port)}
		if cidr != "" {
			p.IpRanges = []ec2types.IpRange{{CidrIp: aws.String(cidr)}}
		} else {
			p.UserIdGroupPairs = []ec2types.UserIdGroupPair{{GroupId: aws.String(from)}}
		}
		must[*ec2sdk.AuthorizeSecurityGroupIngressOutput](t)(c.ec2.AuthorizeSecurityGroupIngress(ctx, &ec2sdk.AuthorizeSecurityGroupIngressInput{GroupId: &sg, IpPermissions: []ec2types.IpPermission{p}}))
	}
	s.WebSG, s.AppSG, s.DBSG = group("devloop-alb"), group("devloop-app"), group("devloop-db")
	allow(s.WebSG, 80, "0.0.0.0/0", "")
	allow(s.AppSG, 8080, "", s.WebSG)
	allow(s.AppSG, 22, "10.0.0.0/16", "")
	allow(s.DBSG, 3306, "", s.AppSG)

	run := func(subnet, sg, name string, public bool) string {
		in := &ec2sdk.RunInstancesInput{ImageId: aws.String("ami-0c9c942bd7bf113a2"), InstanceType: ec2types.InstanceTypeT2Micro, MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
			TagSpecifications: nameTag(ec2types.ResourceTypeInstance, name),
			NetworkInterfaces: []ec2types.InstanceNetworkInterfaceSpecification{{DeviceIndex: aws.Int32(0), SubnetId: aws.String(subnet), Groups: []string{sg},
				AssociatePublicIpAddress: aws.Bool(public)}}}
		return *must[*ec2sdk.RunInstancesOutput](t)(c.ec2.RunInstances(ctx, in)).Instances[0].InstanceId
	}
	s.Bastion = run(s.PublicA, s.AppSG, "devloop-bastion", true)
	s.AppA = run(s.PrivateA, s.AppSG, "devloop-app-a", false)
	s.AppC = run(s.PrivateC, s.AppSG, "devloop-app-c", false)

	lb := must[*elb.CreateLoadBalancerOutput](t)(c.elb.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{Name: aws.String("devloop-alb"),
		Subnets: []string{s.PublicA, s.PublicC}, SecurityGroups: []string{s.WebSG}})).LoadBalancers[0]
	s.LB = *lb.LoadBalancerArn
	_, s.LBDimension, _ = strings.Cut(s.LB, ":loadbalancer/")
	s.TG = *must[*elb.CreateTargetGroupOutput](t)(c.elb.CreateTargetGroup(ctx, &elb.CreateTargetGroupInput{Name: aws.String("devloop-app"),
		Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(8080), VpcId: &s.VPC})).TargetGroups[0].TargetGroupArn
	must[*elb.CreateListenerOutput](t)(c.elb.CreateListener(ctx, &elb.CreateListenerInput{LoadBalancerArn: &s.LB, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: &s.TG}}}))
	c.waitRunning(t, s.Bastion, s.AppA, s.AppC)
	must[*elb.RegisterTargetsOutput](t)(c.elb.RegisterTargets(ctx, &elb.RegisterTargetsInput{TargetGroupArn: &s.TG,
		Targets: []elbtypes.TargetDescription{{Id: &s.AppA}, {Id: &s.AppC}}}))

	// RDS and ElastiCache have no SDK client in this module: their query
	// APIs, signed.
	c.query(t, "rds", map[string]string{"Action": "CreateDBSubnetGroup", "DBSubnetGroupName": "devloop-db", "DBSubnetGroupDescription": "devloop",
		"SubnetIds.SubnetIdentifier.1": s.PrivateA, "SubnetIds.SubnetIdentifier.2": s.PrivateC})
	s.DB = "devloop-db"
	c.query(t, "rds", map[string]string{"Action": "CreateDBInstance", "DBInstanceIdentifier": s.DB, "Engine": "mysql", "DBInstanceClass": "db.t3.micro",
		"AllocatedStorage": "20", "MasterUsername": "admin", "MasterUserPassword": "devloop-secret", "DBSubnetGroupName": "devloop-db",
		"VpcSecurityGroupIds.VpcSecurityGroupId.1": s.DBSG, "AvailabilityZone": region + "a"})
	c.query(t, "elasticache", map[string]string{"Action": "CreateCacheSubnetGroup", "CacheSubnetGroupName": "devloop-cache", "CacheSubnetGroupDescription": "devloop",
		"SubnetIds.SubnetIdentifier.1": s.PrivateA, "SubnetIds.SubnetIdentifier.2": s.PrivateC})
	s.Cache = "devloop-mc"
	c.query(t, "elasticache", map[string]string{"Action": "CreateCacheCluster", "CacheClusterId": s.Cache, "Engine": "memcached", "CacheNodeType": "cache.t3.micro",
		"NumCacheNodes": "1", "CacheSubnetGroupName": "devloop-cache", "SecurityGroupIds.SecurityGroupId.1": s.DBSG, "PreferredAvailabilityZone": region + "c"})

	zone := must[*route53.CreateHostedZoneOutput](t)(c.r53.CreateHostedZone(ctx, &route53.CreateHostedZoneInput{Name: aws.String("devloop.internal"),
		CallerReference: aws.String("seed-000"), VPC: &r53types.VPC{VPCId: &s.VPC, VPCRegion: r53types.VPCRegion(region)}}))
	s.Zone = strings.TrimPrefix(*zone.HostedZone.Id, "/hostedzone/")
	must[*route53.ChangeResourceRecordSetsOutput](t)(c.r53.ChangeResourceRecordSets(ctx, &route53.ChangeResourceRecordSetsInput{HostedZoneId: &s.Zone,
		ChangeBatch: &r53types.ChangeBatch{Changes: []r53types.Change{{Action: r53types.ChangeActionCreate, ResourceRecordSet: &r53types.ResourceRecordSet{
			Name: aws.String("app.devloop.internal"), Type: r53types.RRTypeA, TTL: aws.Int64(60),
			ResourceRecords: []r53types.ResourceRecord{{Value: aws.String("10.0.11.10")}}}}}}}))
	return s
}

// waitRunning waits until EC2 says the instances run.
func (c *cloud) waitRunning(t testing.TB, ids ...string) {
	t.Helper()
	w := ec2sdk.NewInstanceRunningWaiter(c.ec2, func(o *ec2sdk.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = 200*time.Millisecond, time.Second
	})
	if err := w.Wait(context.Background(), &ec2sdk.DescribeInstancesInput{InstanceIds: ids}, time.Minute); err != nil {
		t.Fatal(err)
	}
}

// waitHealthy waits until every target of the group is healthy.
func (c *cloud) waitHealthy(t *testing.T, tg string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		out := must[*elb.DescribeTargetHealthOutput](t)(c.elb.DescribeTargetHealth(context.Background(), &elb.DescribeTargetHealthInput{TargetGroupArn: &tg}))
		healthy := len(out.TargetHealthDescriptions) > 0
		for _, d := range out.TargetHealthDescriptions {
			healthy = healthy && d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy
		}
		if healthy {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("targets of %s not healthy: %+v", tg, out.TargetHealthDescriptions)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// putMetrics stands in for the data plane's publisher: an instance's
// CPUUtilization and the load balancer's RequestCount for this minute.
func (c *cloud) putMetrics(t *testing.T, instance string, cpu float64, lbDimension string, requests float64) {
	t.Helper()
	if err := c.metrics.Publish(account, region, "AWS/EC2", []metric.Datum{{Name: "CPUUtilization", Unit: "Percent", Value: cpu,
		Dimensions: map[string]string{"InstanceId": instance}}}); err != nil {
		t.Fatal(err)
	}
	if err := c.metrics.Publish(account, region, "AWS/ApplicationELB", []metric.Datum{{Name: "RequestCount", Unit: "Count", Value: requests,
		Dimensions: map[string]string{"LoadBalancer": lbDimension}}}); err != nil {
		t.Fatal(err)
	}
}

// queryVersions are the API versions of the query services the seed calls.
var queryVersions = map[string]string{"rds": "2014-10-31", "elasticache": "2015-02-02"}

// query calls a query-protocol service, signed for the region.
func (c *cloud) query(t testing.TB, service string, params map[string]string) string {
	t.Helper()
	form := url.Values{"Version": {queryVersions[service]}}
	for k, v := range params {
		form.Set(k, v)
	}
	body := form.Encode()
	req, _ := http.NewRequest(http.MethodPost, c.URL+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	sum := sha256.Sum256([]byte(body))
	creds := aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, hex.EncodeToString(sum[:]), service, region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: %s: %s", service, params["Action"], resp.Status, b)
	}
	return string(b)
}

// get asks the console's API and decodes its JSON answer; the status is
// returned for the error cases.
func (c *cloud) get(t *testing.T, path string, params url.Values, out any) int {
	t.Helper()
	resp, err := http.Get(c.URL + "/_cloudbox/console/api/" + path + "?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s: %s: %v: %s", path, resp.Status, err, b)
	}
	return resp.StatusCode
}

func scopeParams(extra ...string) url.Values {
	v := url.Values{"account": {account}, "region": {region}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return v
}

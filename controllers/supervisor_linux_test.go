//go:build linux

package controllers

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	elbv2api "github.com/cloudbox/cloudbox/api/elbv2"
	"github.com/cloudbox/cloudbox/dataplane/compute"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/metric"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/services/elbv2"
	"github.com/cloudbox/cloudbox/store"
)

func TestMain(m *testing.M) {
	compute.InitMain() // an instance's init is this test binary
	os.Exit(m.Run())
}

// TestWorld drives the world through EC2 in-process, under the race
// detector: an instance boots into its namespace, answers commands, sees
// IMDS and its VPC's DNS, stops, starts, and everything goes with Down.
func TestWorld(t *testing.T) {
	if err := Check(); err != nil {
		t.Skipf("data plane unavailable: %v", err)
	}
	var b [3]byte
	rand.Read(b[:])
	id := "w" + hex.EncodeToString(b[:])
	st := store.OpenMemory()
	t.Cleanup(func() { st.Close() })
	svc := ec2.New(st, time.Now, nil, 1)
	svc.SetDataPlane(true)
	ids := identity.New(st, identity.DefaultKeys)
	elb := elbv2.New(st, time.Now, nil, 1, nil)
	elb.SetDataPlane(true)
	elbInv := elbv2api.Bind(elb.Handlers())
	// At 30 times AWS's speed the metrics of a minute come every 2 s.
	metrics := &recorder{}
	w, err := New(Config{DaemonID: id, StateDir: t.TempDir(), ImageDir: testImageDir(), Store: st, Contributors: []desired.Contributor{svc, elb}, Instances: svc, Images: svc, Health: elb, Identity: ids, Log: slog.New(slog.DiscardHandler),
		Metrics: metrics, TimeScale: 30})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Down(context.Background()); err != nil {
			t.Errorf("down: %v", err)
		}
		// A launch that comes after Down (Auto Scaling does not stop for
		// it) must not build anything again.
		if err := w.sync(); !errors.Is(err, errClosed) {
			t.Errorf("sync after down: %v, want errClosed", err)
		}
		if left, _ := filepath.Glob("/run/netns/cb-" + id + "-*"); len(left) > 0 {
			t.Errorf("namespaces left: %v", left)
		}
	})

	inv := svc.Invoker()
	rctx := api.WithRequest(ctx, &api.Request{Region: "ap-northeast-2", Caller: api.Principal{Account: "123456789012"}})
	call := func(op string, in any) any {
		t.Helper()
		out, err := inv.Invoke(rctx, op, in)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		return out
	}
	imgs := call("DescribeImages", &ec2api.DescribeImagesRequest{Filters: []*ec2api.Filter{{Name: ptr("architecture"), Values: []*string{ptr("x86_64")}}}}).(*ec2api.DescribeImagesResult)
	res := call("RunInstances", &ec2api.RunInstancesRequest{ImageId: imgs.Images[0].ImageId, InstanceType: ptr("t2.micro"),
		MinCount: ptr(int64(1)), MaxCount: ptr(int64(1)), IamInstanceProfile: &ec2api.IamInstanceProfileSpecification{Name: ptr("app")}}).(*ec2api.Reservation)
	inst := *res.Instances[0].InstanceId
	ip := *res.Instances[0].PrivateIpAddress
	state := func() string {
		out := call("DescribeInstances", &ec2api.DescribeInstancesRequest{InstanceIds: []*string{&inst}}).(*ec2api.DescribeInstancesResult)
		return *out.Reservations[0].Instances[0].State.Name
	}
	waitState := func(want string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for state() != want {
			if time.Now().After(deadline) {
				t.Fatalf("state %s, want %s", state(), want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitState("running")

	sh := func(script string) string {
		t.Helper()
		var out, errb bytes.Buffer
		code, err := w.Exec(ctx, inst, compute.ExecRequest{Argv: []string{"sh", "-c", script}, Stdout: &out, Stderr: &errb})
		if err != nil || code != 0 {
			t.Fatalf("%q: exit %d, %v: %s %s", script, code, err, out.String(), errb.String())
		}
		return strings.TrimSpace(out.String())
	}
	if got, want := sh("hostname"), "ip-"+strings.ReplaceAll(ip, ".", "-"); got != want {
		t.Errorf("hostname %q, want %q", got, want)
	}
	if got := sh("curl -s -f --max-time 3 http://169.254.169.254/latest/meta-data/instance-id"); got != inst {
		t.Errorf("IMDS instance-id %q", got)
	}
	var creds struct{ Code, AccessKeyId, SecretAccessKey, Token string }
	if err := json.Unmarshal([]byte(sh("curl -s -f --max-time 3 http://169.254.169.254/latest/meta-data/iam/security-credentials/app")), &creds); err != nil || creds.Code != "Success" {
		t.Fatalf("role credentials: %+v, %v", creds, err)
	}
	// cloudbox accepts them, as the instance's role.
	cred, ok, err := ids.Lookup(creds.AccessKeyId)
	if err != nil || !ok || cred.Secret != creds.SecretAccessKey || cred.SessionToken != creds.Token ||
		cred.Principal.ARN != "arn:aws:sts::123456789012:assumed-role/app/"+inst {
		t.Errorf("IMDS credentials resolve to %+v, %v, %v", cred.Principal, ok, err)
	}
	name := "ip-" + strings.ReplaceAll(ip, ".", "-") + ".ap-northeast-2.compute.internal"
	if got := sh(`python3 -c "import socket; print(socket.gethostbyname('` + name + `'))"`); got != ip {
		t.Errorf("VPC DNS %s = %q", name, got)
	}
	if got := sh("curl -s -f --max-time 3 http://198.18.0.10/ip"); got != *res.Instances[0].PublicIpAddress {
		t.Errorf("the internet saw %q, want the public IP %s", got, *res.Instances[0].PublicIpAddress)
	}

	// A load balancer in front of the instance: the node's health checks
	// reach elbv2, and a request from inside the VPC is answered.
	sh("mkdir -p /srv && echo lb-ok > /srv/index.html && cd /srv && (nohup python3 -m http.server 3000 >/dev/null 2>&1 &)")
	subnets := call("DescribeSubnets", &ec2api.DescribeSubnetsRequest{Filters: []*ec2api.Filter{{Name: ptr("default-for-az"), Values: []*string{ptr("true")}}}}).(*ec2api.DescribeSubnetsResult)
	lbCall := func(op string, in any) any {
		t.Helper()
		out, err := elbInv.Invoke(rctx, op, in)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		return out
	}
	lb := lbCall("CreateLoadBalancer", &elbv2api.CreateLoadBalancerInput{Name: ptr("web"), Scheme: ptr("internal"), Subnets: []*string{subnets.Subnets[0].SubnetId, subnets.Subnets[1].SubnetId}}).(*elbv2api.CreateLoadBalancerOutput).LoadBalancers[0]
	tg := lbCall("CreateTargetGroup", &elbv2api.CreateTargetGroupInput{Name: ptr("web"), Protocol: ptr("HTTP"), Port: ptr(int64(3000)), VpcId: lb.VpcId,
		HealthCheckIntervalSeconds: ptr(int64(5)), HealthCheckTimeoutSeconds: ptr(int64(2)), HealthyThresholdCount: ptr(int64(2))}).(*elbv2api.CreateTargetGroupOutput).TargetGroups[0]
	lbCall("RegisterTargets", &elbv2api.RegisterTargetsInput{TargetGroupArn: tg.TargetGroupArn, Targets: []*elbv2api.TargetDescription{{Id: &inst}}})
	lbCall("CreateListener", &elbv2api.CreateListenerInput{LoadBalancerArn: lb.LoadBalancerArn, Protocol: ptr("HTTP"), Port: ptr(int64(80)),
		DefaultActions: []*elbv2api.Action{{Type: ptr("forward"), TargetGroupArn: tg.TargetGroupArn}}})
	deadline := time.Now().Add(30 * time.Second)
	for {
		th := lbCall("DescribeTargetHealth", &elbv2api.DescribeTargetHealthInput{TargetGroupArn: tg.TargetGroupArn}).(*elbv2api.DescribeTargetHealthOutput)
		if *th.TargetHealthDescriptions[0].TargetHealth.State == "healthy" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("target health: %+v", th.TargetHealthDescriptions[0].TargetHealth)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := sh("curl -s -f --max-time 3 http://" + *lb.DNSName + "/"); got != "lb-ok" {
		t.Errorf("through the load balancer: %q", got)
	}

	// The built-in metrics: the instance's CPU and network, the load
	// balancer's requests and the target group's healthy host.
	lbDim := (*lb.LoadBalancerArn)[strings.Index(*lb.LoadBalancerArn, ":loadbalancer/")+len(":loadbalancer/"):]
	tgDim := (*tg.TargetGroupArn)[strings.Index(*tg.TargetGroupArn, ":targetgroup/")+1:]
	for _, want := range []struct {
		namespace, name string
		dims            map[string]string
		ok              func(float64) bool
	}{
		{"AWS/EC2", "CPUUtilization", map[string]string{"InstanceId": inst}, func(v float64) bool { return v >= 0 && v <= 100 }},
		{"AWS/EC2", "NetworkIn", map[string]string{"InstanceId": inst}, func(v float64) bool { return v > 0 }},
		{"AWS/EC2", "NetworkOut", map[string]string{"InstanceId": inst}, func(v float64) bool { return v > 0 }},
		{"AWS/ApplicationELB", "RequestCount", map[string]string{"LoadBalancer": lbDim}, func(v float64) bool { return v >= 1 }},
		{"AWS/ApplicationELB", "HTTPCode_Target_2XX_Count", map[string]string{"LoadBalancer": lbDim, "TargetGroup": tgDim}, func(v float64) bool { return v >= 1 }},
		{"AWS/ApplicationELB", "RequestCountPerTarget", map[string]string{"TargetGroup": tgDim}, func(v float64) bool { return v >= 1 }},
		{"AWS/ApplicationELB", "TargetResponseTime", map[string]string{"LoadBalancer": lbDim, "TargetGroup": tgDim}, func(v float64) bool { return v > 0 && v < 3 }},
		{"AWS/ApplicationELB", "HealthyHostCount", map[string]string{"LoadBalancer": lbDim, "TargetGroup": tgDim}, func(v float64) bool { return v == 1 }},
		{"AWS/ApplicationELB", "UnHealthyHostCount", map[string]string{"LoadBalancer": lbDim, "TargetGroup": tgDim}, func(v float64) bool { return v == 0 }},
	} {
		if !metrics.await(10*time.Second, want.namespace, want.name, want.dims, want.ok) {
			t.Errorf("no %s %s %v as expected; published: %v", want.namespace, want.name, want.dims, metrics.values(want.namespace, want.name))
		}
	}

	// An instance whose metadata options require tokens turns IMDSv1 away.
	res2 := call("RunInstances", &ec2api.RunInstancesRequest{ImageId: imgs.Images[0].ImageId, InstanceType: ptr("t2.micro"), MinCount: ptr(int64(1)), MaxCount: ptr(int64(1)),
		MetadataOptions: &ec2api.InstanceMetadataOptionsRequest{HttpTokens: ptr("required")}}).(*ec2api.Reservation)
	inst2 := *res2.Instances[0].InstanceId
	var v1 bytes.Buffer
	deadline = time.Now().Add(30 * time.Second)
	for {
		v1.Reset()
		code, err := w.Exec(ctx, inst2, compute.ExecRequest{Argv: []string{"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "3", "http://169.254.169.254/latest/meta-data/instance-id"}, Stdout: &v1})
		if err == nil && code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance %s never ran: %v", inst2, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if v1.String() != "401" {
		t.Errorf("IMDSv1 with tokens required answered %s, want 401", v1.String())
	}

	call("StopInstances", &ec2api.StopInstancesRequest{InstanceIds: []*string{&inst}})
	waitState("stopped")
	if _, err := w.Exec(ctx, inst, compute.ExecRequest{Argv: []string{"true"}}); err == nil {
		t.Errorf("exec in a stopped instance succeeded")
	}
	call("StartInstances", &ec2api.StartInstancesRequest{InstanceIds: []*string{&inst}})
	waitState("running")
	sh("true")
	call("TerminateInstances", &ec2api.TerminateInstancesRequest{InstanceIds: []*string{&inst}})
	waitState("terminated")
	if _, err := os.Stat(filepath.Join("/run/netns", "cb-"+id+"-"+inst)); err == nil {
		// The network follows the store a moment after the state.
		deadline := time.Now().Add(5 * time.Second)
		for {
			if _, err := os.Stat(filepath.Join("/run/netns", "cb-"+id+"-"+inst)); err != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the terminated instance's namespace stayed")
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// recorder keeps what the world publishes to CloudWatch.
type recorder struct {
	mu   sync.Mutex
	data map[string][]metric.Datum // by namespace
}

func (r *recorder) Publish(account, region, namespace string, data []metric.Datum) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.data == nil {
		r.data = map[string][]metric.Datum{}
	}
	r.data[namespace] = append(r.data[namespace], data...)
	return nil
}

// await waits until a datum of the metric with exactly dims satisfies ok.
func (r *recorder) await(within time.Duration, namespace, name string, dims map[string]string, ok func(float64) bool) bool {
	for deadline := time.Now().Add(within); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		r.mu.Lock()
		found := slices.ContainsFunc(r.data[namespace], func(d metric.Datum) bool { return d.Name == name && maps.Equal(d.Dimensions, dims) && ok(d.Value) })
		r.mu.Unlock()
		if found {
			return true
		}
	}
	return false
}

func (r *recorder) values(namespace, name string) []metric.Datum {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []metric.Datum
	for _, d := range r.data[namespace] {
		if d.Name == name {
			out = append(out, d)
		}
	}
	return out
}

// testImageDir is the image cache the test daemons share
// (scripts/test.sh builds it): $CLOUDBOX_IMAGE_DIR, else the default one
// outside the clone.
func testImageDir() string {
	if d := os.Getenv("CLOUDBOX_IMAGE_DIR"); d != "" {
		return d
	}
	return "/var/cache/cloudbox/images"
}

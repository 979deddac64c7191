package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/cloudbox/cloudbox/controllers"
)

// The ALB bench puts the load balancer and an nginx reverse proxy in the
// same place (public subnet A) between one client instance and the same
// two nginx targets in private subnets.
const (
	albPort      = 80 // the ALB's listener and the nginx proxy's
	albPubA      = "10.77.10.0/24"
	albPubB      = "10.77.11.0/24"
	albName      = "bench-alb"
	albWarmup    = "1s"
	albRunLength = "4s"
	// albGoalAddedP99 is the bound on the ALB's added p99 latency
	// at moderate load.
	albGoalAddedP99 = time.Millisecond
)

// An albLoad is one wrk load: threads and connections, and a pause after
// each response per connection (0: closed loop, as fast as answers come).
type albLoad struct {
	name    string
	threads int
	conns   int
	pauseMS int
}

var albLoads = []albLoad{
	{"moderate", 1, 8, 4},
	{"saturating", 2, 64, 0},
}

func (l albLoad) describe() string {
	s := fmt.Sprintf("`wrk -t%d -c%d -d%s --latency`", l.threads, l.conns, albRunLength)
	if l.pauseMS > 0 {
		s += fmt.Sprintf(" with a %d ms pause per connection after each response (at most %d req/s offered)", l.pauseMS, l.conns*1000/l.pauseMS)
	}
	return s
}

// An albPath is one way from the client to the targets.
type albPath struct {
	name string
	url  string
}

const (
	pathDirect = iota
	pathALB
	pathNginx
)

func benchALB(ctx context.Context, r *runner) (section, error) {
	const title = "Data plane: HTTP through the ALB vs direct vs nginx"
	if err := controllers.Check(); err != nil {
		return skipped(title, err), nil
	}
	runs := 3
	if dpQuick() {
		runs = 1
	}
	s := section{
		title: title,
		method: fmt.Sprintf("cloudbox runs with `--dataplane on --ephemeral`. One VPC %s: two targets (c5.large) in two private subnets, "+
			"each running nginx (Debian, `worker_processes auto`) that answers every request with a fixed 200 `ok`; an internet-facing ALB "+
			"in two public subnets %s and %s (listener %d → one target group of both targets, HTTP health checks every 5 s); an nginx reverse "+
			"proxy (c5.large) in public subnet %s, upstream both targets round-robin with `keepalive 128` over HTTP/1.1; and one client "+
			"instance (c5.large) in that same subnet running Debian's wrk against three URLs: **direct** to one target's private address, "+
			"the **ALB** node of the client's AZ at its private address, and the **nginx** proxy's private address. The client sits inside "+
			"the VPC rather than on the simulated internet so that every path crosses the same VPC router (client → router → target, or "+
			"client → router → middle → router → target) and no path pays for the internet gateway's NAT that the others skip; a real "+
			"client in the VPC would reach an internal ALB exactly so. Access logs are off in nginx and keep-alive is unlimited on every "+
			"hop, as on the ALB, so that wrk never reconnects on one path only. Loads: **moderate** %s; **saturating** %s. "+
			"Each path gets an untimed %s warm-up; then %d run(s) of each load on each path, interleaved; the table shows the median of each "+
			"column separately. Latency percentiles are wrk's (from writing the request to the end of the response). The machine's 2 cores are "+
			"shared by everything: wrk, the cloudbox daemon (where the ALB node runs, in Go), nginx and the targets, so the saturating numbers "+
			"measure how much CPU each middle needs per request as much as anything.",
			dpVPC, albPubA, albPubB, albPort, albPubA, albLoads[0].describe(), albLoads[1].describe(), albWarmup, runs),
		table: table{header: []string{"Load", "Path", "req/s", "p50", "p99", "Errors", "Runs"}},
	}

	c, err := startDataplane(ctx, r)
	if err != nil {
		return s, err
	}
	var results [][][]wrkResult // [load][path][run]
	var paths []albPath
	err = func() error {
		w, err := buildALBWorld(ctx, c)
		if err != nil {
			return err
		}
		paths = w.paths()
		results, err = w.measure(ctx, paths, runs)
		return err
	}()
	if err = errors.Join(err, c.close()); err != nil {
		return s, err
	}

	type med struct {
		rps      float64
		p50, p99 time.Duration
	}
	meds := make([][]med, len(albLoads))
	for li, l := range albLoads {
		meds[li] = make([]med, len(paths))
		for pi, p := range paths {
			var rps, p50, p99 []float64
			errs := 0
			for _, res := range results[li][pi] {
				rps = append(rps, res.rps)
				p50 = append(p50, float64(res.p50))
				p99 = append(p99, float64(res.p99))
				errs += res.errors
			}
			m := med{medianOf(rps), time.Duration(medianOf(p50)), time.Duration(medianOf(p99))}
			meds[li][pi] = m
			s.table.rows = append(s.table.rows, []string{l.name, p.name, fmt.Sprintf("%.0f", m.rps), usec(m.p50), usec(m.p99),
				strconv.Itoa(errs), strconv.Itoa(len(results[li][pi]))})
		}
	}
	mod, sat := meds[0], meds[1]
	for li, l := range albLoads {
		m := meds[li]
		s.notes = append(s.notes, fmt.Sprintf("%s load: ALB req/s are **%.2f** of nginx's and **%.2f** of direct's; "+
			"p99 ALB %s, nginx %s, direct %s.", strings.ToUpper(l.name[:1])+l.name[1:],
			m[pathALB].rps/m[pathNginx].rps, m[pathALB].rps/m[pathDirect].rps,
			usec(m[pathALB].p99), usec(m[pathNginx].p99), usec(m[pathDirect].p99)))
	}
	added := mod[pathALB].p99 - mod[pathDirect].p99
	s.notes = append(s.notes, fmt.Sprintf("At moderate load the ALB adds **%s** to p99 over direct (nginx adds %s).",
		usec(added), usec(mod[pathNginx].p99-mod[pathDirect].p99)))
	s.goals = append(s.goals,
		goal{
			name:   "ALB throughput vs nginx",
			target: "≥ nginx's req/s",
			result: fmt.Sprintf("%.2f× nginx at saturation (%.0f vs %.0f req/s)", sat[pathALB].rps/sat[pathNginx].rps, sat[pathALB].rps, sat[pathNginx].rps),
			met:    sat[pathALB].rps >= sat[pathNginx].rps,
		},
		goal{
			name:   "ALB added p99 at moderate load",
			target: "< " + usec(albGoalAddedP99),
			result: fmt.Sprintf("%s (p99 %s through the ALB, %s direct)", usec(added), usec(mod[pathALB].p99), usec(mod[pathDirect].p99)),
			met:    added < albGoalAddedP99,
		})
	return s, nil
}

// usec formats a latency in milliseconds with microsecond precision.
func usec(d time.Duration) string {
	return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond))
}

// albWorld is the VPC of the bench once everything in it serves.
type albWorld struct {
	c       *dpCloud
	client  string // instance ID
	targets []string
	proxy   string // private IP
	albNode string // private IP of the ALB node in the client's subnet
}

func (w *albWorld) paths() []albPath {
	return []albPath{
		pathDirect: {"direct (one target)", fmt.Sprintf("http://%s:%d/", w.targets[0], dpWebPort)},
		pathALB:    {"ALB", fmt.Sprintf("http://%s:%d/", w.albNode, albPort)},
		pathNginx:  {"nginx reverse proxy", fmt.Sprintf("http://%s:%d/", w.proxy, albPort)},
	}
}

func newELB(endpoint string) *elbv2.Client {
	return elbv2.New(elbv2.Options{
		Region:       ec2Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(testCreds.AccessKeyID, testCreds.SecretAccessKey, ""),
		HTTPClient:   &http.Client{Transport: &http.Transport{Proxy: nil}}, // loopback only
	})
}

// buildALBWorld adds the public subnets, the instances, the ALB and its
// target group to c's VPC, and returns once every path answers.
func buildALBWorld(ctx context.Context, c *dpCloud) (*albWorld, error) {
	api, elb := c.ec2.api, newELB(c.p.endpoint)
	if _, err := api.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{
		GroupId: aws.String(c.group), IpProtocol: aws.String("tcp"), FromPort: aws.Int32(albPort), ToPort: aws.Int32(albPort), CidrIp: aws.String(dpVPC),
	}); err != nil {
		return nil, err
	}
	// The instances install nginx and wrk from the mirror on the
	// simulated internet: every subnet routes to an internet gateway and
	// gives its instances public addresses.
	igw, err := api.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	if err != nil {
		return nil, err
	}
	if _, err := api.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{VpcId: aws.String(c.vpc), InternetGatewayId: igw.InternetGateway.InternetGatewayId}); err != nil {
		return nil, err
	}
	rts, err := api.DescribeRouteTables(ctx, &ec2.DescribeRouteTablesInput{Filters: []types.Filter{{Name: aws.String("vpc-id"), Values: []string{c.vpc}}}})
	if err != nil {
		return nil, err
	}
	if _, err := api.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rts.RouteTables[0].RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"),
		GatewayId: igw.InternetGateway.InternetGatewayId}); err != nil {
		return nil, err
	}
	var pub []string
	for i, cidr := range []string{albPubA, albPubB} {
		out, err := api.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: aws.String(c.vpc), CidrBlock: aws.String(cidr),
			AvailabilityZone: aws.String(ec2Region + string(rune('a'+i)))})
		if err != nil {
			return nil, err
		}
		pub = append(pub, aws.ToString(out.Subnet.SubnetId))
	}

	for _, sub := range append([]string{c.subnetA, c.subnetB}, pub...) {
		if _, err := api.ModifySubnetAttribute(ctx, &ec2.ModifySubnetAttributeInput{SubnetId: aws.String(sub), MapPublicIpOnLaunch: &types.AttributeBooleanValue{Value: aws.Bool(true)}}); err != nil {
			return nil, err
		}
	}
	w := &albWorld{c: c}
	var ids []string
	launch := func(subnet, userData string) (id, ip string, err error) {
		out, _, err := c.launch(ctx, subnet, types.InstanceTypeC5Large, 1, userData)
		if err != nil {
			return "", "", err
		}
		id = aws.ToString(out.Instances[0].InstanceId)
		ids = append(ids, id)
		return id, aws.ToString(out.Instances[0].PrivateIpAddress), nil
	}
	var targetIDs, upstreams []string
	for _, subnet := range []string{c.subnetA, c.subnetB} {
		id, ip, err := launch(subnet, nginxUserData(targetConf(dpWebPort)))
		if err != nil {
			return nil, err
		}
		targetIDs, w.targets = append(targetIDs, id), append(w.targets, ip)
		upstreams = append(upstreams, fmt.Sprintf("%s:%d", ip, dpWebPort))
	}
	if _, w.proxy, err = launch(pub[0], nginxUserData(proxyConf(albPort, upstreams))); err != nil {
		return nil, err
	}
	if w.client, _, err = launch(pub[0], "#!/bin/sh\nyum install -y wrk >/var/log/install.log 2>&1\n"); err != nil {
		return nil, err
	}

	lb, err := elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(albName), Subnets: pub, SecurityGroups: []string{c.group}})
	if err != nil {
		return nil, err
	}
	lbARN := aws.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	tg, err := elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String(albName), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(dpWebPort), VpcId: aws.String(c.vpc),
		HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2),
	})
	if err != nil {
		return nil, err
	}
	tgARN := aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	var regs []elbtypes.TargetDescription
	for _, id := range targetIDs {
		regs = append(regs, elbtypes.TargetDescription{Id: aws.String(id)})
	}
	if _, err := elb.RegisterTargets(ctx, &elbv2.RegisterTargetsInput{TargetGroupArn: aws.String(tgARN), Targets: regs}); err != nil {
		return nil, err
	}
	if _, err := elb.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: aws.String(lbARN), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(albPort),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(tgARN)}},
	}); err != nil {
		return nil, err
	}

	if _, err := c.waitRunning(ctx, ids, 30*time.Second); err != nil {
		return nil, err
	}
	if w.albNode, err = albNodeIP(ctx, c, pub[0]); err != nil {
		return nil, err
	}
	// The targets turn healthy once their user data installed nginx.
	if err := albPoll(ctx, 5*time.Minute, func() (bool, error) {
		out, err := elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(tgARN)})
		if err != nil {
			return false, err
		}
		healthy := 0
		for _, d := range out.TargetHealthDescriptions {
			if d.TargetHealth != nil && d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
				healthy++
			}
		}
		return healthy == len(targetIDs), nil
	}); err != nil {
		return nil, fmt.Errorf("targets healthy: %w", err)
	}
	if err := albPoll(ctx, 5*time.Minute, func() (bool, error) {
		return c.exec(ctx, w.client, "test", "-x", albWrk).Run() == nil, nil
	}); err != nil {
		return nil, fmt.Errorf("wrk installed in the client: %w", err)
	}
	argv := []string{dpPython, "-c", readyScript, albTargetMsg, "30"}
	for _, p := range w.paths() {
		argv = append(argv, p.url)
	}
	argv = append(argv, fmt.Sprintf("http://%s:%d/", w.targets[1], dpWebPort))
	if out, err := c.exec(ctx, w.client, argv...).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("waiting for the paths to answer: %w: %s", err, out)
	}
	return w, nil
}

// albNodeIP is the private address of the load balancer's node in subnet,
// from its requester-managed interface.
func albNodeIP(ctx context.Context, c *dpCloud, subnet string) (string, error) {
	out, err := c.ec2.api.DescribeNetworkInterfaces(ctx, &ec2.DescribeNetworkInterfacesInput{
		Filters: []types.Filter{{Name: aws.String("subnet-id"), Values: []string{subnet}}},
	})
	if err != nil {
		return "", err
	}
	for _, ni := range out.NetworkInterfaces {
		if strings.HasPrefix(aws.ToString(ni.Description), "ELB app/"+albName+"/") {
			return aws.ToString(ni.PrivateIpAddress), nil
		}
	}
	return "", fmt.Errorf("no interface of load balancer %s in subnet %s", albName, subnet)
}

// albPoll calls done every 200 ms until it says so, fails, or within passes.
func albPoll(ctx context.Context, within time.Duration, done func() (bool, error)) error {
	deadline := time.Now().Add(within)
	for {
		ok, err := done()
		if ok || err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not after %s", within)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// measure warms every path up, then runs every load on every path runs
// times, interleaved so that drift in the machine spreads over all paths.
func (w *albWorld) measure(ctx context.Context, paths []albPath, runs int) ([][][]wrkResult, error) {
	for _, l := range albLoads {
		if l.pauseMS > 0 {
			cmd := w.c.exec(ctx, w.client, "sh", "-c", "cat > "+pacePath(l.pauseMS))
			cmd.Stdin = strings.NewReader(paceLua(l.pauseMS))
			if out, err := cmd.CombinedOutput(); err != nil {
				return nil, fmt.Errorf("writing the wrk script: %w: %s", err, out)
			}
		}
	}
	for _, p := range paths {
		if _, err := w.wrk(ctx, albLoad{name: "warm-up", threads: 1, conns: 8}, albWarmup, p); err != nil {
			return nil, err
		}
	}
	res := make([][][]wrkResult, len(albLoads))
	for li := range albLoads {
		res[li] = make([][]wrkResult, len(paths))
	}
	for i := range runs {
		for li, l := range albLoads {
			for pi, p := range paths {
				w.c.r.logf("  %s, %s (%d/%d)", l.name, p.name, i+1, runs)
				v, err := w.wrk(ctx, l, albRunLength, p)
				if err != nil {
					return nil, err
				}
				res[li][pi] = append(res[li][pi], v)
			}
		}
	}
	return res, nil
}

// wrk runs one wrk in the client instance.
func (w *albWorld) wrk(ctx context.Context, l albLoad, dur string, p albPath) (wrkResult, error) {
	argv := []string{albWrk, "-t" + strconv.Itoa(l.threads), "-c" + strconv.Itoa(l.conns), "-d" + dur, "--latency"}
	if l.pauseMS > 0 {
		argv = append(argv, "-s", pacePath(l.pauseMS))
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := w.c.exec(ctx, w.client, append(argv, p.url)...).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("%s, %s: %w: %s", l.name, p.name, err, out)
	}
	v, err := parseWrk(string(out))
	if err != nil {
		return v, fmt.Errorf("%s, %s: %w", l.name, p.name, err)
	}
	return v, nil
}

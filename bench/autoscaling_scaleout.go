package main

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"

	"github.com/cloudbox/cloudbox/controllers"
)

const (
	// soScale is the time scale of the scale-out bench: a virtual minute,
	// CloudWatch's period, is one wall second.
	soScale   = 60
	soWebPort = 3000
	soGroup   = "bench-web"
	soTarget  = 50.0 // the policy's target average CPU, %
	// soPoll is how often the bench looks at every step: 3 s of AWS time.
	soPoll = 50 * time.Millisecond
	// soHog is a busy loop left running in an instance.
	soHog = `(nohup sh -c 'while :; do :; done' >/dev/null 2>&1 &)`
)

// soUserData serves the instance's ID (read from IMDSv2) on soWebPort.
const soUserData = `#!/bin/sh
T=$(curl -s -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 300")
mkdir -p /srv/www && curl -s -H "X-aws-ec2-metadata-token: $T" http://169.254.169.254/latest/meta-data/instance-id > /srv/www/index.html
cd /srv/www && nohup python3 -m http.server %d >/var/log/web.log 2>&1 &
`

// The steps of one scale-out, in the order they happen.
const (
	stepAlarm = iota
	stepDesired
	stepRunning
	stepRegistered
	stepHealthy
	stepServing
	numSteps
)

var stepNames = [numSteps]string{
	stepAlarm:      "policy's high alarm in ALARM",
	stepDesired:    "desired capacity raised (1 → 2)",
	stepRunning:    "new instance running",
	stepRegistered: "new instance registered in the target group",
	stepHealthy:    "new instance healthy in the target group",
	stepServing:    "new instance answers through the ALB",
}

func benchAutoScalingScaleOut(ctx context.Context, r *runner) (section, error) {
	const title = "Auto Scaling: CPU over the target to a new instance serving through the ALB"
	if err := controllers.Check(); err != nil {
		return skipped(title, err), nil
	}
	reps := 5
	if dpQuick() {
		reps = 1
	}
	s := section{
		title: title,
		method: fmt.Sprintf("cloudbox runs with `--dataplane on --ephemeral --time-scale %d` (a virtual minute is one wall second). "+
			"In the default VPC (aws-sdk-go-v2, as in e2e's TestAutoScalingLoop): an internet-facing ALB in two default subnets "+
			"(listener 80), a target group on port %d with HTTP health checks every 5 s (timeout 2 s, healthy after 2) and a 5 s "+
			"deregistration delay, a launch template (t2.micro: 1 vCPU) whose user data serves the instance's ID with `python3 -m http.server`, "+
			"and a group of min 1 / max 2 / desired 1 over both subnets with ELB health checks, behind the target group, with a "+
			"target-tracking policy on ASGAverageCPUUtilization at %.0f%%. Once its one instance serves through the ALB, a busy loop "+
			"is started in it (`cloudbox exec … sh -c \"%s\"`) and the clock starts when that command returns. Every %s of wall time "+
			"(%s of AWS time) the bench asks DescribeAlarms, DescribeAutoScalingGroups, DescribeInstances, DescribeTargetHealth and "+
			"GETs the ALB's DNS name through the daemon's edge listener on loopback (up to 4 requests, so both targets are reached), "+
			"and notes when it first sees each step. Then the loop is killed, the high alarm is awaited back in OK, the group is set "+
			"back to 1 instance (SetDesiredCapacity) and the next repetition starts. %d repetitions; AWS time is wall time × %d. "+
			"Percentiles are nearest-rank.",
			soScale, soWebPort, soTarget, soHog, soPoll, time.Duration(soScale)*soPoll, reps, soScale),
		table: table{header: []string{"From the busy loop's start to", "p50 (wall)", "p50 (AWS time)", "min (AWS)", "max (AWS)", "Runs"}},
	}

	c, err := startAutoScaling(ctx, r, soScale)
	if err != nil {
		return s, err
	}
	var runs [][numSteps]time.Duration
	err = func() error {
		w, err := buildScaleOutWorld(ctx, c)
		if err != nil {
			return err
		}
		for i := range reps {
			r.logf("  scale-out %d/%d", i+1, reps)
			marks, err := w.scaleOut(ctx)
			if err != nil {
				return err
			}
			runs = append(runs, marks)
			r.logf("  %v", marks)
			if i < reps-1 {
				if err := w.scaleIn(ctx); err != nil {
					return err
				}
			}
		}
		return nil
	}()
	if err = errors.Join(err, c.close()); err != nil {
		return s, err
	}

	p50 := make([]time.Duration, numSteps)
	for step := range numSteps {
		var v []time.Duration
		for _, m := range runs {
			v = append(v, m[step])
		}
		slices.Sort(v)
		p50[step] = percentile(v, 50)
		s.table.rows = append(s.table.rows, []string{stepNames[step], secs(p50[step]),
			awsTime(p50[step]), awsTime(v[0]), awsTime(v[len(v)-1]), strconv.Itoa(len(v))})
	}
	var between []string
	for step := 1; step < numSteps; step++ {
		between = append(between, fmt.Sprintf("%s %s", stepNames[step], awsTime(p50[step]-p50[step-1])))
	}
	s.notes = append(s.notes,
		fmt.Sprintf("Busy loop to a new instance serving through the ALB: **%s wall, %s of AWS time** (p50 of %d).",
			secs(p50[stepServing]), awsTime(p50[stepServing]), len(runs)),
		"Step by step (differences of p50s, AWS time): alarm "+awsTime(p50[stepAlarm])+", then "+strings.Join(between, ", ")+".",
		"Where the alarm's time goes: the world publishes each instance's CPUUtilization (from its cgroup) and the group's average once "+
			"per virtual minute, each datapoint the average over the minute before it; the policy's high alarm needs 3 consecutive "+
			"1-minute datapoints over the target and is evaluated once a minute, so ALARM comes 3 to 5 minutes after the loop starts "+
			"(3 datapoints, up to a minute until the next evaluation, and a busy loop that gets less than its vCPU on a loaded machine can leave a first datapoint under 50%), as on AWS, which adds its own metric delivery delay of a minute or more. "+
			"The group reconciles every virtual second (every 50 ms of wall time at this scale), so desired capacity and the launch follow at once.",
		"Registered → healthy: the target group's health checks run every scaled interval (5 s of AWS time, 83 ms of wall time "+
			"at 60x) and the target turns healthy after 2 passing checks; a check's timeout keeps at least 1 s of real time "+
			"(engines/alb, MinCheckTimeout), which only delays a target that does not answer.",
		fmt.Sprintf("The %s polling interval is %s of AWS time, so every AWS-time figure is late by up to that much; "+
			"differences between steps under that interval are noise. Other load on the 2 cores delays the busy loop's CPU share, and so the alarm.",
			soPoll, awsTime(soPoll)))
	return s, nil
}

// awsTime converts a wall duration at soScale into AWS time.
func awsTime(d time.Duration) string {
	v := d.Seconds() * soScale
	if v >= 100 {
		return fmt.Sprintf("%.0f s", v)
	}
	return fmt.Sprintf("%.1f s", v)
}

// scaleOutWorld is the ALB and the group of the scale-out bench.
type scaleOutWorld struct {
	c         *asCloud
	elb       *elbv2.Client
	tg        string
	dns       string
	alarmHigh string
	web       *http.Client
	hogged    string // the instance running the busy loop, if any
}

func buildScaleOutWorld(ctx context.Context, c *asCloud) (*scaleOutWorld, error) {
	api := c.ec2.api
	w := &scaleOutWorld{c: c, elb: newELB(c.p.endpoint),
		web: &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}}
	sg := func(name string) (string, error) {
		out, err := api.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(name), VpcId: aws.String(c.vpc)})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.GroupId), nil
	}
	albSG, err := sg("bench-alb")
	if err != nil {
		return nil, err
	}
	if _, err := api.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(albSG),
		IpProtocol: aws.String("tcp"), FromPort: aws.Int32(80), ToPort: aws.Int32(80), CidrIp: aws.String("0.0.0.0/0")}); err != nil {
		return nil, err
	}
	appSG, err := sg("bench-app")
	if err != nil {
		return nil, err
	}
	if _, err := api.AuthorizeSecurityGroupIngress(ctx, &ec2.AuthorizeSecurityGroupIngressInput{GroupId: aws.String(appSG),
		IpPermissions: []types.IpPermission{{IpProtocol: aws.String("tcp"), FromPort: aws.Int32(soWebPort), ToPort: aws.Int32(soWebPort),
			UserIdGroupPairs: []types.UserIdGroupPair{{GroupId: aws.String(albSG)}}}}}); err != nil {
		return nil, err
	}
	if _, err := api.CreateLaunchTemplate(ctx, &ec2.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String(soGroup),
		LaunchTemplateData: &types.RequestLaunchTemplateData{
			ImageId: aws.String(c.ami), InstanceType: types.InstanceTypeT2Micro, SecurityGroupIds: []string{appSG},
			UserData: aws.String(base64.StdEncoding.EncodeToString(fmt.Appendf(nil, soUserData, soWebPort))),
		},
	}); err != nil {
		return nil, err
	}

	tg, err := w.elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
		Name: aws.String(soGroup), Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(soWebPort), VpcId: aws.String(c.vpc),
		HealthCheckIntervalSeconds: aws.Int32(5), HealthCheckTimeoutSeconds: aws.Int32(2), HealthyThresholdCount: aws.Int32(2),
	})
	if err != nil {
		return nil, err
	}
	w.tg = aws.ToString(tg.TargetGroups[0].TargetGroupArn)
	if _, err := w.elb.ModifyTargetGroupAttributes(ctx, &elbv2.ModifyTargetGroupAttributesInput{TargetGroupArn: aws.String(w.tg),
		Attributes: []elbtypes.TargetGroupAttribute{{Key: aws.String("deregistration_delay.timeout_seconds"), Value: aws.String("5")}}}); err != nil {
		return nil, err
	}
	lb, err := w.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{Name: aws.String(soGroup), Subnets: c.subnets[:2], SecurityGroups: []string{albSG}})
	if err != nil {
		return nil, err
	}
	w.dns = aws.ToString(lb.LoadBalancers[0].DNSName)
	if _, err := w.elb.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: lb.LoadBalancers[0].LoadBalancerArn, Protocol: elbtypes.ProtocolEnumHttp, Port: aws.Int32(80),
		DefaultActions: []elbtypes.Action{{Type: elbtypes.ActionTypeEnumForward, TargetGroupArn: aws.String(w.tg)}},
	}); err != nil {
		return nil, err
	}

	if _, err := c.as.CreateAutoScalingGroup(ctx, &autoscaling.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(soGroup),
		LaunchTemplate:       &astypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String(soGroup), Version: aws.String("$Latest")},
		MinSize:              aws.Int32(1), MaxSize: aws.Int32(2), DesiredCapacity: aws.Int32(1),
		VPCZoneIdentifier: aws.String(strings.Join(c.subnets[:2], ",")),
		TargetGroupARNs:   []string{w.tg}, HealthCheckType: aws.String("ELB"), HealthCheckGracePeriod: aws.Int32(300),
	}); err != nil {
		return nil, err
	}
	pol, err := c.as.PutScalingPolicy(ctx, &autoscaling.PutScalingPolicyInput{
		AutoScalingGroupName: aws.String(soGroup), PolicyName: aws.String("cpu"), PolicyType: aws.String("TargetTrackingScaling"),
		EstimatedInstanceWarmup: aws.Int32(300),
		TargetTrackingConfiguration: &astypes.TargetTrackingConfiguration{
			PredefinedMetricSpecification: &astypes.PredefinedMetricSpecification{PredefinedMetricType: astypes.MetricTypeASGAverageCPUUtilization},
			TargetValue:                   aws.Float64(soTarget),
		},
	})
	if err != nil {
		return nil, err
	}
	for _, a := range pol.Alarms {
		if strings.Contains(aws.ToString(a.AlarmName), "AlarmHigh") {
			w.alarmHigh = aws.ToString(a.AlarmName)
		}
	}
	if w.alarmHigh == "" {
		return nil, fmt.Errorf("PutScalingPolicy: no AlarmHigh among %d alarms", len(pol.Alarms))
	}
	return w, w.settled(ctx)
}

// settled waits until the group has one instance, in service, healthy in
// the target group and answering through the ALB, and the high alarm is OK.
func (w *scaleOutWorld) settled(ctx context.Context) error {
	var last string
	err := albPoll(ctx, 2*time.Minute, func() (bool, error) {
		g, err := w.c.group(ctx, soGroup)
		if err != nil {
			return false, err
		}
		ids := inService(g)
		if len(g.Instances) != 1 || len(ids) != 1 {
			last = fmt.Sprintf("%d instances, %d in service", len(g.Instances), len(ids))
			return false, nil
		}
		th, err := w.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(w.tg)})
		if err != nil {
			return false, err
		}
		if len(th.TargetHealthDescriptions) != 1 || th.TargetHealthDescriptions[0].TargetHealth.State != elbtypes.TargetHealthStateEnumHealthy {
			last = fmt.Sprintf("%d targets, not one healthy", len(th.TargetHealthDescriptions))
			return false, nil
		}
		if body, err := w.get(); err != nil || body != ids[0] {
			last = fmt.Sprintf("the ALB answered %q (%v), want %s", body, err, ids[0])
			return false, nil
		}
		state, err := w.alarmState(ctx)
		last = "high alarm " + string(state)
		return state == cwtypes.StateValueOk, err
	})
	if err != nil {
		return fmt.Errorf("waiting for one instance serving through the ALB: %w (%s)", err, last)
	}
	return nil
}

func (w *scaleOutWorld) alarmState(ctx context.Context) (cwtypes.StateValue, error) {
	out, err := w.c.cw.DescribeAlarms(ctx, &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{w.alarmHigh}})
	if err != nil {
		return "", err
	}
	if len(out.MetricAlarms) != 1 {
		return "", fmt.Errorf("DescribeAlarms %s: %d alarms", w.alarmHigh, len(out.MetricAlarms))
	}
	return out.MetricAlarms[0].StateValue, nil
}

// get is one GET of the ALB's DNS name through the daemon's edge listener
// on loopback (as a browser on the host reaches an internet-facing ALB).
func (w *scaleOutWorld) get() (string, error) {
	req, err := http.NewRequest("GET", w.c.p.endpoint+"/", nil)
	if err != nil {
		return "", err
	}
	req.Host = w.dns
	resp, err := w.web.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", resp.Status, b)
	}
	return strings.TrimSpace(string(b)), err
}

// scaleOut starts a busy loop in the group's one instance and returns when
// each step was first seen, from the loop's start.
func (w *scaleOutWorld) scaleOut(ctx context.Context) ([numSteps]time.Duration, error) {
	var marks [numSteps]time.Duration
	g, err := w.c.group(ctx, soGroup)
	if err != nil {
		return marks, err
	}
	old := map[string]bool{}
	for _, in := range g.Instances {
		old[aws.ToString(in.InstanceId)] = true
	}
	w.hogged = inService(g)[0]
	if out, err := w.c.exec(ctx, w.hogged, "sh", "-c", soHog).CombinedOutput(); err != nil {
		return marks, fmt.Errorf("starting the busy loop: %w: %s", err, out)
	}
	t0 := time.Now()
	seen := [numSteps]bool{}
	mark := func(step int) {
		if !seen[step] {
			seen[step], marks[step] = true, time.Since(t0)
		}
	}
	var fresh string
	err = pollEvery(ctx, soPoll, 3*time.Minute, func() (bool, error) {
		if !seen[stepAlarm] {
			state, err := w.alarmState(ctx)
			if err != nil {
				return false, err
			}
			if state == cwtypes.StateValueAlarm {
				mark(stepAlarm)
			}
		}
		if fresh == "" {
			g, err := w.c.group(ctx, soGroup)
			if err != nil {
				return false, err
			}
			if aws.ToInt32(g.DesiredCapacity) > 1 {
				mark(stepDesired)
			}
			for _, in := range g.Instances {
				if id := aws.ToString(in.InstanceId); !old[id] {
					fresh = id
				}
			}
		}
		if fresh == "" {
			return false, nil
		}
		if !seen[stepRunning] {
			out, err := w.c.ec2.api.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{fresh}})
			if err != nil {
				return false, err
			}
			if len(out.Reservations) == 1 && out.Reservations[0].Instances[0].State.Name == types.InstanceStateNameRunning {
				mark(stepRunning)
			}
		}
		if !seen[stepHealthy] {
			th, err := w.elb.DescribeTargetHealth(ctx, &elbv2.DescribeTargetHealthInput{TargetGroupArn: aws.String(w.tg)})
			if err != nil {
				return false, err
			}
			for _, d := range th.TargetHealthDescriptions {
				if aws.ToString(d.Target.Id) != fresh {
					continue
				}
				mark(stepRegistered)
				if d.TargetHealth.State == elbtypes.TargetHealthStateEnumHealthy {
					mark(stepHealthy)
				}
			}
		}
		for range 4 {
			if body, err := w.get(); err == nil && body == fresh {
				mark(stepServing)
				break
			}
		}
		return seen[stepServing], nil
	})
	if err != nil {
		return marks, fmt.Errorf("scale-out: %w (steps seen %v at %v)", err, seen, marks)
	}
	// A step not yet seen when a later one was (both changed between two
	// calls of one poll) happened by then.
	for step := numSteps - 2; step >= 0; step-- {
		if !seen[step] || marks[step] > marks[step+1] {
			marks[step] = marks[step+1]
		}
	}
	return marks, nil
}

// scaleIn kills the busy loop, waits for the high alarm to clear and sets
// the group back to one instance.
func (w *scaleOutWorld) scaleIn(ctx context.Context) error {
	if out, err := w.c.exec(ctx, w.hogged, "sh", "-c", "pkill -f 'while [:]' || true").CombinedOutput(); err != nil {
		return fmt.Errorf("killing the busy loop: %w: %s", err, out)
	}
	if err := albPoll(ctx, time.Minute, func() (bool, error) {
		state, err := w.alarmState(ctx)
		return state == cwtypes.StateValueOk, err
	}); err != nil {
		return fmt.Errorf("waiting for the high alarm to clear: %w", err)
	}
	if _, err := w.c.as.SetDesiredCapacity(ctx, &autoscaling.SetDesiredCapacityInput{
		AutoScalingGroupName: aws.String(soGroup), DesiredCapacity: aws.Int32(1), HonorCooldown: aws.Bool(false)}); err != nil {
		return err
	}
	return w.settled(ctx)
}

// pollEvery is albPoll with a chosen interval.
func pollEvery(ctx context.Context, every, within time.Duration, done func() (bool, error)) error {
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
		case <-time.After(every):
		}
	}
}

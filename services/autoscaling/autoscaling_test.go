package autoscaling_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	assdk "github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
)

var ctx = context.Background()

func createGroup(t *testing.T, e *env, name string, minSize, maxSize int32, mod func(*assdk.CreateAutoScalingGroupInput)) {
	t.Helper()
	in := &assdk.CreateAutoScalingGroupInput{
		AutoScalingGroupName: aws.String(name), MinSize: aws.Int32(minSize), MaxSize: aws.Int32(maxSize),
		LaunchTemplate:    &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("web")},
		VPCZoneIdentifier: aws.String("subnet-a,subnet-b"),
	}
	if mod != nil {
		mod(in)
	}
	must[*assdk.CreateAutoScalingGroupOutput](t)(e.client.CreateAutoScalingGroup(ctx, in))
}

func group(t *testing.T, e *env, name string) types.AutoScalingGroup {
	t.Helper()
	out := must[*assdk.DescribeAutoScalingGroupsOutput](t)(e.client.DescribeAutoScalingGroups(ctx, &assdk.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{name}}))
	if len(out.AutoScalingGroups) != 1 {
		t.Fatalf("group %s: %d found", name, len(out.AutoScalingGroups))
	}
	return out.AutoScalingGroups[0]
}

// inService returns the ids of a group's in-service instances, sorted.
func inService(t *testing.T, e *env, name string) []string {
	t.Helper()
	var ids []string
	for _, in := range group(t, e, name).Instances {
		if in.LifecycleState == types.LifecycleStateInService {
			ids = append(ids, *in.InstanceId)
		}
	}
	slices.Sort(ids)
	return ids
}

func waitInService(t *testing.T, e *env, name string, n int) []string {
	t.Helper()
	var ids []string
	eventually(t, "in-service instances", func() bool {
		g := group(t, e, name)
		ids = inService(t, e, name)
		return len(ids) == n && len(g.Instances) == n
	})
	return ids
}

func TestCapacityBalanceReplacement(t *testing.T) {
	e := newEnv(t)
	createGroup(t, e, "web", 2, 4, func(in *assdk.CreateAutoScalingGroupInput) {
		in.TargetGroupARNs = []string{tgARN}
		in.HealthCheckType = aws.String("ELB")
		in.HealthCheckGracePeriod = aws.Int32(60)
		in.Tags = []types.Tag{{Key: aws.String("team"), Value: aws.String("blue"), PropagateAtLaunch: aws.Bool(true)}}
	})
	ids := waitInService(t, e, "web", 2)
	eventually(t, "target group membership", func() bool { return slices.Equal(e.elb.targets(tgARN), ids) })

	// One per zone, tagged.
	g := group(t, e, "web")
	zones := map[string]bool{}
	for _, in := range g.Instances {
		zones[*in.AvailabilityZone] = true
		if *in.HealthStatus != "Healthy" || in.LaunchTemplate == nil || *in.LaunchTemplate.LaunchTemplateName != "web" {
			t.Errorf("instance %+v", in)
		}
	}
	if len(zones) != 2 {
		t.Errorf("zones %v, want two", zones)
	}
	// The template as AWS shows it: id and name, and no version when none
	// was given (each launch takes the template's default).
	if lt := group(t, e, "web").LaunchTemplate; lt == nil || aws.ToString(lt.LaunchTemplateId) != "lt-0123456789abcdef0" || aws.ToString(lt.LaunchTemplateName) != "web" || lt.Version != nil {
		t.Errorf("LaunchTemplate %+v, want id, name and no version", lt)
	}
	for _, spec := range e.fleet.launched() {
		if spec.Tags["team"] != "blue" || spec.Tags["aws:autoscaling:groupName"] != "web" || spec.LaunchTemplateName != "web" || spec.LaunchTemplateID != "lt-0123456789abcdef0" || spec.Version != "" {
			t.Errorf("launch spec %+v", spec)
		}
	}

	// Activities in AWS's words.
	acts := must[*assdk.DescribeScalingActivitiesOutput](t)(e.client.DescribeScalingActivities(ctx, &assdk.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String("web")}))
	if len(acts.Activities) != 2 {
		t.Fatalf("%d activities", len(acts.Activities))
	}
	wantCause := "At 2026-11-22T10:00:00Z a user request created an AutoScalingGroup changing the desired capacity from 0 to 2.  " +
		"At 2026-11-22T10:00:00Z an instance was started in response to a difference between desired and actual capacity, increasing the capacity from 0 to 2."
	for _, a := range acts.Activities {
		if !strings.HasPrefix(*a.Description, "Launching a new EC2 instance: i-") || *a.Cause != wantCause || a.StatusCode != types.ScalingActivityStatusCodeSuccessful {
			t.Errorf("activity %q / %q / %s", *a.Description, *a.Cause, a.StatusCode)
		}
	}
	if got := e.eventTypes(); len(got) != 2 || got[0] != "EC2 Instance Launch Successful" {
		t.Errorf("events %v", got)
	}

	// An instance terminated by hand is replaced and deregistered.
	e.fleet.set(ids[0], "terminated")
	eventually(t, "replacement", func() bool {
		now := inService(t, e, "web")
		return len(now) == 2 && !slices.Contains(now, ids[0]) && len(group(t, e, "web").Instances) == 2
	})
	eventually(t, "deregistration", func() bool { return !slices.Contains(e.elb.targets(tgARN), ids[0]) })

	// ELB-unhealthy: kept during the grace period, replaced after it.
	e.clock.Advance(10 * time.Second)
	ids = waitInService(t, e, "web", 2)
	newest := ids[len(ids)-1]
	e.elb.setHealth(newest, "unhealthy")
	time.Sleep(20 * time.Millisecond) // several passes inside the grace period
	if !slices.Contains(inService(t, e, "web"), newest) {
		t.Fatal("unhealthy instance replaced inside its grace period")
	}
	e.clock.Advance(2 * time.Minute)
	eventually(t, "unhealthy replacement", func() bool {
		now := inService(t, e, "web")
		return len(now) == 2 && !slices.Contains(now, newest)
	})
	acts = must[*assdk.DescribeScalingActivitiesOutput](t)(e.client.DescribeScalingActivities(ctx, &assdk.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String("web")}))
	if !slices.ContainsFunc(acts.Activities, func(a types.Activity) bool {
		return strings.Contains(*a.Cause, "in response to an ELB system health check failure.") && *a.Description == "Terminating EC2 instance: "+newest
	}) {
		t.Error("no activity for the ELB health check replacement")
	}
	if !slices.Contains(e.eventTypes(), "EC2 Instance Terminate Successful") {
		t.Error("no terminate event")
	}

	// Terminating by hand with decrement below the minimum is refused;
	// deleting a group with instances is too, until forced.
	_, err := e.client.TerminateInstanceInAutoScalingGroup(ctx, &assdk.TerminateInstanceInAutoScalingGroupInput{InstanceId: aws.String(inService(t, e, "web")[0]), ShouldDecrementDesiredCapacity: aws.Bool(true)})
	wantCode(t, err, "ValidationError")
	waitInService(t, e, "web", 2)
	_, err = e.client.DeleteAutoScalingGroup(ctx, &assdk.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("web")})
	wantCode(t, err, "ResourceInUse")
	must[*assdk.DeleteAutoScalingGroupOutput](t)(e.client.DeleteAutoScalingGroup(ctx, &assdk.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("web"), ForceDelete: aws.Bool(true)}))
	eventually(t, "group deleted", func() bool {
		out := must[*assdk.DescribeAutoScalingGroupsOutput](t)(e.client.DescribeAutoScalingGroups(ctx, &assdk.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}}))
		return len(out.AutoScalingGroups) == 0
	})
	if len(e.elb.targets(tgARN)) != 0 {
		t.Errorf("targets left: %v", e.elb.targets(tgARN))
	}
}

func TestScaleInAndProtection(t *testing.T) {
	e := newEnv(t)
	createGroup(t, e, "app", 0, 4, func(in *assdk.CreateAutoScalingGroupInput) { in.DesiredCapacity = aws.Int32(3) })
	ids := waitInService(t, e, "app", 3)
	zone := map[string]string{}
	perZone := map[string]int{}
	for _, in := range group(t, e, "app").Instances {
		zone[*in.InstanceId] = *in.AvailabilityZone
		perZone[*in.AvailabilityZone]++
	}
	must[*assdk.SetInstanceProtectionOutput](t)(e.client.SetInstanceProtection(ctx, &assdk.SetInstanceProtectionInput{
		AutoScalingGroupName: aws.String("app"), InstanceIds: ids, ProtectedFromScaleIn: aws.Bool(true)}))
	must[*assdk.SetDesiredCapacityOutput](t)(e.client.SetDesiredCapacity(ctx, &assdk.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("app"), DesiredCapacity: aws.Int32(1)}))
	time.Sleep(20 * time.Millisecond)
	if got := inService(t, e, "app"); len(got) != 3 {
		t.Fatalf("protected instances terminated: %v", got)
	}
	_, err := e.client.SetDesiredCapacity(ctx, &assdk.SetDesiredCapacityInput{AutoScalingGroupName: aws.String("app"), DesiredCapacity: aws.Int32(2), HonorCooldown: aws.Bool(true)})
	wantCode(t, err, "ScalingActivityInProgress")
	must[*assdk.SetInstanceProtectionOutput](t)(e.client.SetInstanceProtection(ctx, &assdk.SetInstanceProtectionInput{
		AutoScalingGroupName: aws.String("app"), InstanceIds: ids, ProtectedFromScaleIn: aws.Bool(false)}))
	waitInService(t, e, "app", 1)
	// Zone balance first: the first instance chosen was in the zone with two.
	acts := must[*assdk.DescribeScalingActivitiesOutput](t)(e.client.DescribeScalingActivities(ctx, &assdk.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String("app"), MaxRecords: aws.Int32(2)}))
	first := strings.TrimPrefix(*acts.Activities[1].Description, "Terminating EC2 instance: ")
	if perZone[zone[first]] != 2 {
		t.Errorf("first victim %s in zone %s holding %d", first, zone[first], perZone[zone[first]])
	}
	if c := *acts.Activities[0].Cause; !strings.Contains(c, "a user request explicitly set group desired capacity changing the desired capacity from 3 to 1.") ||
		!strings.Contains(c, "shrinking the capacity from 3 to 1.") || acts.NextToken == nil {
		t.Errorf("scale-in cause %q", c)
	}
}

func TestLifecycleHookHoldsLaunch(t *testing.T) {
	e := newEnv(t)
	createGroup(t, e, "hooked", 1, 2, func(in *assdk.CreateAutoScalingGroupInput) {
		in.TargetGroupARNs = []string{tgARN}
		in.LifecycleHookSpecificationList = []types.LifecycleHookSpecification{{
			LifecycleHookName: aws.String("warm"), LifecycleTransition: aws.String("autoscaling:EC2_INSTANCE_LAUNCHING"), HeartbeatTimeout: aws.Int32(300)}}
	})
	var id string
	eventually(t, "Pending:Wait", func() bool {
		g := group(t, e, "hooked")
		if len(g.Instances) == 1 && g.Instances[0].LifecycleState == types.LifecycleStatePendingWait {
			id = *g.Instances[0].InstanceId
			return true
		}
		return false
	})
	time.Sleep(20 * time.Millisecond)
	if got := group(t, e, "hooked").Instances[0].LifecycleState; got != types.LifecycleStatePendingWait || len(e.elb.targets(tgARN)) != 0 {
		t.Fatalf("hook did not hold the launch: %s, targets %v", got, e.elb.targets(tgARN))
	}
	if !slices.Contains(e.eventTypes(), "EC2 Instance-launch Lifecycle Action") {
		t.Error("no lifecycle action event")
	}
	// A heartbeat pushes the timeout out; completing lets it go on.
	e.clock.Advance(200 * time.Second)
	must[*assdk.RecordLifecycleActionHeartbeatOutput](t)(e.client.RecordLifecycleActionHeartbeat(ctx, &assdk.RecordLifecycleActionHeartbeatInput{
		AutoScalingGroupName: aws.String("hooked"), LifecycleHookName: aws.String("warm"), InstanceId: aws.String(id)}))
	e.clock.Advance(200 * time.Second)
	time.Sleep(20 * time.Millisecond)
	if got := group(t, e, "hooked").Instances[0].LifecycleState; got != types.LifecycleStatePendingWait {
		t.Fatalf("state %s after a heartbeat", got)
	}
	must[*assdk.CompleteLifecycleActionOutput](t)(e.client.CompleteLifecycleAction(ctx, &assdk.CompleteLifecycleActionInput{
		AutoScalingGroupName: aws.String("hooked"), LifecycleHookName: aws.String("warm"), InstanceId: aws.String(id), LifecycleActionResult: aws.String("CONTINUE")}))
	waitInService(t, e, "hooked", 1)
	eventually(t, "registration", func() bool { return slices.Equal(e.elb.targets(tgARN), []string{id}) })
	_, err := e.client.CompleteLifecycleAction(ctx, &assdk.CompleteLifecycleActionInput{
		AutoScalingGroupName: aws.String("hooked"), LifecycleHookName: aws.String("warm"), InstanceId: aws.String(id), LifecycleActionResult: aws.String("CONTINUE")})
	wantCode(t, err, "ValidationError")
}

func TestTargetTracking(t *testing.T) {
	e := newEnv(t)
	createGroup(t, e, "cpu", 2, 4, nil)
	waitInService(t, e, "cpu", 2)
	out := must[*assdk.PutScalingPolicyOutput](t)(e.client.PutScalingPolicy(ctx, &assdk.PutScalingPolicyInput{
		AutoScalingGroupName: aws.String("cpu"), PolicyName: aws.String("cpu75"), PolicyType: aws.String("TargetTrackingScaling"),
		EstimatedInstanceWarmup: aws.Int32(300),
		TargetTrackingConfiguration: &types.TargetTrackingConfiguration{TargetValue: aws.Float64(50),
			PredefinedMetricSpecification: &types.PredefinedMetricSpecification{PredefinedMetricType: types.MetricTypeASGAverageCPUUtilization}},
	}))
	if len(out.Alarms) != 2 {
		t.Fatalf("alarms %+v", out.Alarms)
	}
	var high, low string
	for name, a := range e.cw.all() {
		switch {
		case strings.HasPrefix(name, "TargetTracking-cpu-AlarmHigh-"):
			high = name
			if a.Threshold != 50 || a.ComparisonOperator != "GreaterThanThreshold" || a.MetricName != "CPUUtilization" || a.EvaluationPeriods != 3 || a.AlarmActions[0] != *out.PolicyARN {
				t.Errorf("high alarm %+v", a)
			}
		case strings.HasPrefix(name, "TargetTracking-cpu-AlarmLow-"):
			low = name
			if a.Threshold != 45 || a.ComparisonOperator != "LessThanThreshold" || a.EvaluationPeriods != 15 {
				t.Errorf("low alarm %+v", a)
			}
		}
	}
	if high == "" || low == "" {
		t.Fatalf("alarms %v", e.cw.all())
	}
	// The instances are still warming up: the metric is taken with the
	// desired capacity, 2 * 90 / 50 -> 4.
	e.svc.AlarmAction(account, region, *out.PolicyARN, high, "ALARM", 90, 50)
	if d := *group(t, e, "cpu").DesiredCapacity; d != 4 {
		t.Fatalf("desired %d after high CPU, want 4", d)
	}
	waitInService(t, e, "cpu", 4)
	// Scale-in waits for warm-up.
	e.svc.AlarmAction(account, region, *out.PolicyARN, low, "ALARM", 10, 45)
	if d := *group(t, e, "cpu").DesiredCapacity; d != 4 {
		t.Fatalf("scaled in during warm-up: desired %d", d)
	}
	e.clock.Advance(301 * time.Second)
	e.svc.AlarmAction(account, region, *out.PolicyARN, low, "ALARM", 10, 45)
	if d := *group(t, e, "cpu").DesiredCapacity; d != 2 {
		t.Fatalf("desired %d after low CPU, want 2", d)
	}
	waitInService(t, e, "cpu", 2)
	acts := must[*assdk.DescribeScalingActivitiesOutput](t)(e.client.DescribeScalingActivities(ctx, &assdk.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String("cpu")}))
	if c := *acts.Activities[0].Cause; !strings.Contains(c, "a monitor alarm "+low+" in state ALARM triggered policy cpu75 changing the desired capacity from 4 to 2.") {
		t.Errorf("cause %q", c)
	}
	// Suspended AlarmNotification ignores alarms.
	must[*assdk.SuspendProcessesOutput](t)(e.client.SuspendProcesses(ctx, &assdk.SuspendProcessesInput{AutoScalingGroupName: aws.String("cpu"), ScalingProcesses: []string{"AlarmNotification"}}))
	e.svc.AlarmAction(account, region, *out.PolicyARN, high, "ALARM", 100, 50)
	if d := *group(t, e, "cpu").DesiredCapacity; d != 2 {
		t.Fatalf("suspended alarm notification scaled to %d", d)
	}
	must[*assdk.DeletePolicyOutput](t)(e.client.DeletePolicy(ctx, &assdk.DeletePolicyInput{AutoScalingGroupName: aws.String("cpu"), PolicyName: aws.String("cpu75")}))
	if len(e.cw.all()) != 0 {
		t.Errorf("alarms left: %v", e.cw.all())
	}
}

func TestStepAndSimpleScaling(t *testing.T) {
	e := newEnv(t)
	createGroup(t, e, "steps", 1, 6, nil)
	step := must[*assdk.PutScalingPolicyOutput](t)(e.client.PutScalingPolicy(ctx, &assdk.PutScalingPolicyInput{
		AutoScalingGroupName: aws.String("steps"), PolicyName: aws.String("out"), PolicyType: aws.String("StepScaling"),
		AdjustmentType: aws.String("ChangeInCapacity"), EstimatedInstanceWarmup: aws.Int32(60),
		StepAdjustments: []types.StepAdjustment{
			{MetricIntervalLowerBound: aws.Float64(0), MetricIntervalUpperBound: aws.Float64(20), ScalingAdjustment: aws.Int32(1)},
			{MetricIntervalLowerBound: aws.Float64(20), ScalingAdjustment: aws.Int32(3)},
		},
	}))
	e.svc.AlarmAction(account, region, *step.PolicyARN, "cpu-high", "ALARM", 70, 60) // breach 10: +1
	if d := *group(t, e, "steps").DesiredCapacity; d != 2 {
		t.Fatalf("desired %d, want 2", d)
	}
	// A bigger breach during warm-up adds only what the first step did not.
	e.svc.AlarmAction(account, region, *step.PolicyARN, "cpu-high", "ALARM", 90, 60) // breach 30: +3 from 1
	if d := *group(t, e, "steps").DesiredCapacity; d != 4 {
		t.Fatalf("desired %d, want 4", d)
	}
	e.clock.Advance(61 * time.Second)
	e.svc.AlarmAction(account, region, *step.PolicyARN, "cpu-high", "ALARM", 90, 60) // +3 from 4
	if d := *group(t, e, "steps").DesiredCapacity; d != 6 {
		t.Fatalf("desired %d, want 6 (max)", d)
	}

	simple := must[*assdk.PutScalingPolicyOutput](t)(e.client.PutScalingPolicy(ctx, &assdk.PutScalingPolicyInput{
		AutoScalingGroupName: aws.String("steps"), PolicyName: aws.String("in"), AdjustmentType: aws.String("ChangeInCapacity"),
		ScalingAdjustment: aws.Int32(-2), Cooldown: aws.Int32(120),
	}))
	must[*assdk.ExecutePolicyOutput](t)(e.client.ExecutePolicy(ctx, &assdk.ExecutePolicyInput{AutoScalingGroupName: aws.String("steps"), PolicyName: aws.String("in")}))
	if d := *group(t, e, "steps").DesiredCapacity; d != 4 {
		t.Fatalf("desired %d, want 4", d)
	}
	_, err := e.client.ExecutePolicy(ctx, &assdk.ExecutePolicyInput{PolicyName: simple.PolicyARN, HonorCooldown: aws.Bool(true)})
	wantCode(t, err, "ScalingActivityInProgress")
	e.svc.AlarmAction(account, region, *simple.PolicyARN, "cpu-low", "ALARM", 5, 20) // in cooldown: ignored
	if d := *group(t, e, "steps").DesiredCapacity; d != 4 {
		t.Fatalf("desired %d during cooldown, want 4", d)
	}
	e.clock.Advance(121 * time.Second)
	e.svc.AlarmAction(account, region, *simple.PolicyARN, "cpu-low", "ALARM", 5, 20)
	if d := *group(t, e, "steps").DesiredCapacity; d != 2 {
		t.Fatalf("desired %d after cooldown, want 2", d)
	}
	pols := must[*assdk.DescribePoliciesOutput](t)(e.client.DescribePolicies(ctx, &assdk.DescribePoliciesInput{AutoScalingGroupName: aws.String("steps")}))
	if len(pols.ScalingPolicies) != 2 {
		t.Errorf("%d policies", len(pols.ScalingPolicies))
	}
}

func TestScheduledAction(t *testing.T) {
	e := newEnv(t)
	createGroup(t, e, "sched", 1, 5, nil)
	waitInService(t, e, "sched", 1)
	must[*assdk.PutScheduledUpdateGroupActionOutput](t)(e.client.PutScheduledUpdateGroupAction(ctx, &assdk.PutScheduledUpdateGroupActionInput{
		AutoScalingGroupName: aws.String("sched"), ScheduledActionName: aws.String("morning"), Recurrence: aws.String("30 11 * * *"), DesiredCapacity: aws.Int32(3)}))
	acts := must[*assdk.DescribeScheduledActionsOutput](t)(e.client.DescribeScheduledActions(ctx, &assdk.DescribeScheduledActionsInput{AutoScalingGroupName: aws.String("sched")}))
	if len(acts.ScheduledUpdateGroupActions) != 1 || !acts.ScheduledUpdateGroupActions[0].StartTime.Equal(time.Date(2026, 11, 22, 11, 30, 0, 0, time.UTC)) {
		t.Fatalf("scheduled actions %+v", acts.ScheduledUpdateGroupActions)
	}
	e.clock.Advance(89 * time.Minute)
	time.Sleep(20 * time.Millisecond)
	if d := *group(t, e, "sched").DesiredCapacity; d != 1 {
		t.Fatalf("ran early: desired %d", d)
	}
	e.clock.Advance(time.Minute)
	waitInService(t, e, "sched", 3)
	acts = must[*assdk.DescribeScheduledActionsOutput](t)(e.client.DescribeScheduledActions(ctx, &assdk.DescribeScheduledActionsInput{AutoScalingGroupName: aws.String("sched")}))
	if !acts.ScheduledUpdateGroupActions[0].StartTime.Equal(time.Date(2026, 11, 23, 11, 30, 0, 0, time.UTC)) {
		t.Errorf("next run %v", acts.ScheduledUpdateGroupActions[0].StartTime)
	}
	a := must[*assdk.DescribeScalingActivitiesOutput](t)(e.client.DescribeScalingActivities(ctx, &assdk.DescribeScalingActivitiesInput{AutoScalingGroupName: aws.String("sched"), MaxRecords: aws.Int32(1)}))
	if c := *a.Activities[0].Cause; !strings.HasPrefix(c, "At 2026-11-22T11:30:00Z a scheduled action update of AutoScalingGroup constraints to min: 1, max: 5, desired: 3 changing the desired capacity from 1 to 3.") {
		t.Errorf("cause %q", c)
	}
	_, err := e.client.PutScheduledUpdateGroupAction(ctx, &assdk.PutScheduledUpdateGroupActionInput{
		AutoScalingGroupName: aws.String("sched"), ScheduledActionName: aws.String("past"), StartTime: aws.Time(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)), MinSize: aws.Int32(0)})
	wantCode(t, err, "ValidationError")
}

func TestInstanceRefresh(t *testing.T) {
	e := newEnv(t)
	createGroup(t, e, "roll", 2, 4, func(in *assdk.CreateAutoScalingGroupInput) { in.DefaultInstanceWarmup = aws.Int32(0) })
	old := waitInService(t, e, "roll", 2)
	// Suspended, the refresh waits, so a second one meets it in progress.
	must[*assdk.SuspendProcessesOutput](t)(e.client.SuspendProcesses(ctx, &assdk.SuspendProcessesInput{AutoScalingGroupName: aws.String("roll"), ScalingProcesses: []string{"InstanceRefresh"}}))
	id := must[*assdk.StartInstanceRefreshOutput](t)(e.client.StartInstanceRefresh(ctx, &assdk.StartInstanceRefreshInput{
		AutoScalingGroupName: aws.String("roll"), Preferences: &types.RefreshPreferences{MinHealthyPercentage: aws.Int32(50)}}))
	_, err := e.client.StartInstanceRefresh(ctx, &assdk.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("roll")})
	wantCode(t, err, "InstanceRefreshInProgress")
	must[*assdk.ResumeProcessesOutput](t)(e.client.ResumeProcesses(ctx, &assdk.ResumeProcessesInput{AutoScalingGroupName: aws.String("roll")}))
	eventually(t, "refresh success", func() bool {
		out := must[*assdk.DescribeInstanceRefreshesOutput](t)(e.client.DescribeInstanceRefreshes(ctx, &assdk.DescribeInstanceRefreshesInput{AutoScalingGroupName: aws.String("roll")}))
		return *out.InstanceRefreshes[0].InstanceRefreshId == *id.InstanceRefreshId && out.InstanceRefreshes[0].Status == types.InstanceRefreshStatusSuccessful
	})
	now := inService(t, e, "roll")
	if len(now) != 2 || slices.Contains(now, old[0]) || slices.Contains(now, old[1]) {
		t.Errorf("after refresh %v (old %v)", now, old)
	}
}

func TestErrors(t *testing.T) {
	e := newEnv(t)
	createGroup(t, e, "g", 1, 1, nil)
	in := &assdk.CreateAutoScalingGroupInput{AutoScalingGroupName: aws.String("g"), MinSize: aws.Int32(1), MaxSize: aws.Int32(1),
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("web")}, VPCZoneIdentifier: aws.String("subnet-a")}
	_, err := e.client.CreateAutoScalingGroup(ctx, in)
	wantCode(t, err, "AlreadyExists")
	for _, mod := range []func(*assdk.CreateAutoScalingGroupInput){
		func(in *assdk.CreateAutoScalingGroupInput) { in.MinSize = aws.Int32(3) },
		func(in *assdk.CreateAutoScalingGroupInput) { in.LaunchTemplate.LaunchTemplateName = aws.String("nope") },
		func(in *assdk.CreateAutoScalingGroupInput) { in.VPCZoneIdentifier = aws.String("subnet-x") },
		func(in *assdk.CreateAutoScalingGroupInput) {
			in.TargetGroupARNs = []string{"arn:aws:elasticloadbalancing:eu-west-1:000000000000:targetgroup/x/1"}
		},
		func(in *assdk.CreateAutoScalingGroupInput) { in.HealthCheckType = aws.String("HTTP") },
		func(in *assdk.CreateAutoScalingGroupInput) {
			in.MixedInstancesPolicy = &types.MixedInstancesPolicy{}
			in.LaunchTemplate = nil
		},
	} {
		c := *in
		lt := *in.LaunchTemplate
		c.LaunchTemplate, c.AutoScalingGroupName = &lt, aws.String("other")
		mod(&c)
		_, err := e.client.CreateAutoScalingGroup(ctx, &c)
		wantCode(t, err, "ValidationError")
	}
	_, err = e.client.UpdateAutoScalingGroup(ctx, &assdk.UpdateAutoScalingGroupInput{AutoScalingGroupName: aws.String("missing"), MaxSize: aws.Int32(2)})
	wantCode(t, err, "ValidationError")

	must[*assdk.CreateLaunchConfigurationOutput](t)(e.client.CreateLaunchConfiguration(ctx, &assdk.CreateLaunchConfigurationInput{
		LaunchConfigurationName: aws.String("lc"), ImageId: aws.String("ami-1"), InstanceType: aws.String("t3.micro")}))
	_, err = e.client.CreateLaunchConfiguration(ctx, &assdk.CreateLaunchConfigurationInput{LaunchConfigurationName: aws.String("lc"), ImageId: aws.String("ami-1"), InstanceType: aws.String("t3.micro")})
	wantCode(t, err, "AlreadyExists")
	createGroup(t, e, "lcg", 0, 1, func(in *assdk.CreateAutoScalingGroupInput) {
		in.LaunchTemplate, in.LaunchConfigurationName = nil, aws.String("lc")
	})
	_, err = e.client.DeleteLaunchConfiguration(ctx, &assdk.DeleteLaunchConfigurationInput{LaunchConfigurationName: aws.String("lc")})
	wantCode(t, err, "ResourceInUse")
	for i := range 50 {
		must[*assdk.PutLifecycleHookOutput](t)(e.client.PutLifecycleHook(ctx, &assdk.PutLifecycleHookInput{AutoScalingGroupName: aws.String("lcg"),
			LifecycleHookName: aws.String("h" + string(rune('A'+i%26)) + string(rune('a'+i/26))), LifecycleTransition: aws.String("autoscaling:EC2_INSTANCE_TERMINATING")}))
	}
	_, err = e.client.PutLifecycleHook(ctx, &assdk.PutLifecycleHookInput{AutoScalingGroupName: aws.String("lcg"), LifecycleHookName: aws.String("one-too-many"),
		LifecycleTransition: aws.String("autoscaling:EC2_INSTANCE_TERMINATING")})
	wantCode(t, err, "LimitExceeded")

	// Instances in flight: ScalingActivityInProgress; the group "g" has one launching or in service.
	_, err = e.client.DeleteAutoScalingGroup(ctx, &assdk.DeleteAutoScalingGroupInput{AutoScalingGroupName: aws.String("g")})
	if code := errCode(err); code != "ResourceInUse" && code != "ScalingActivityInProgress" {
		t.Fatalf("deleting a group with instances: %v", err)
	}
	limits := must[*assdk.DescribeAccountLimitsOutput](t)(e.client.DescribeAccountLimits(ctx, &assdk.DescribeAccountLimitsInput{}))
	if *limits.NumberOfAutoScalingGroups != 2 || *limits.MaxNumberOfAutoScalingGroups != 500 || *limits.NumberOfLaunchConfigurations != 1 {
		t.Errorf("limits %+v", limits)
	}
	procs := must[*assdk.DescribeScalingProcessTypesOutput](t)(e.client.DescribeScalingProcessTypes(ctx, &assdk.DescribeScalingProcessTypesInput{}))
	if len(procs.Processes) < 8 {
		t.Errorf("processes %d", len(procs.Processes))
	}
	must[*assdk.CreateOrUpdateTagsOutput](t)(e.client.CreateOrUpdateTags(ctx, &assdk.CreateOrUpdateTagsInput{Tags: []types.Tag{{ResourceId: aws.String("g"), ResourceType: aws.String("auto-scaling-group"), Key: aws.String("env"), Value: aws.String("prod")}}}))
	tags := must[*assdk.DescribeTagsOutput](t)(e.client.DescribeTags(ctx, &assdk.DescribeTagsInput{Filters: []types.Filter{{Name: aws.String("key"), Values: []string{"env"}}}}))
	if len(tags.Tags) != 1 || *tags.Tags[0].ResourceId != "g" {
		t.Errorf("tags %+v", tags.Tags)
	}
}

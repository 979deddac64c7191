package e2e

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// These tests drive Auto Scaling and CloudWatch with the aws CLI v2 against
// a control-plane cloudbox (no data plane: instances are EC2 records that go
// pending -> running) at 60 times AWS's speed, so a virtual minute lasts a
// wall second.

// asScale is the time scale of these tests.
const asScale = 60

// cpCloud is a control-plane cloudbox driven with the aws CLI v2.
type cpCloud struct {
	t   *testing.T
	c   *Cloud
	cli CLI
	cr  Creds
}

func newCPCloud(t *testing.T) *cpCloud {
	t.Helper()
	cli := clis()[1]
	cli.need(t)
	return &cpCloud{t: t, c: startBinary(t, Opts{TimeScale: asScale}), cli: cli, cr: testCreds}
}

func (p *cpCloud) aws(args ...string) map[string]any {
	p.t.Helper()
	return p.c.awsOK(p.t, p.cli, p.cr, args...)
}

// virtual converts a wall duration into the virtual time it spans.
func virtual(d time.Duration) time.Duration { return d * asScale }

// waitUntil polls check until it reports done, failing with what it last
// saw once within (wall time) has passed.
func (p *cpCloud) waitUntil(what string, within time.Duration, check func() (bool, string)) {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for {
		done, seen := check()
		if done {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: not within %v (%v virtual); last seen: %s", what, within, virtual(within), seen)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// launchTemplate creates a launch template of a public AMI.
func (p *cpCloud) launchTemplate(name string) {
	p.t.Helper()
	ami := get(p.aws("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=al2023-ami-2023.*-kernel-6.1-x86_64"), "Images", 0, "ImageId")
	if ami == "" {
		p.t.Fatal("no Amazon Linux 2023 AMI")
	}
	p.aws("ec2", "create-launch-template", "--launch-template-name", name, "--launch-template-data",
		fmt.Sprintf(`{"ImageId":%q,"InstanceType":"t2.micro"}`, ami))
}

// asgInstance is an instance of a group as describe-auto-scaling-groups
// lists it.
type asgInstance struct {
	InstanceId, LifecycleState, HealthStatus string
}

// group returns a group's desired capacity and instances.
func (p *cpCloud) group(name string) (desired string, insts []asgInstance) {
	p.t.Helper()
	out := p.aws("autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", name)
	var v struct {
		AutoScalingGroups []struct {
			DesiredCapacity int
			Instances       []asgInstance
		}
	}
	decodeInto(p.t, out, &v)
	if len(v.AutoScalingGroups) != 1 {
		p.t.Fatalf("describe-auto-scaling-groups %s: %v", name, out)
	}
	return fmt.Sprint(v.AutoScalingGroups[0].DesiredCapacity), v.AutoScalingGroups[0].Instances
}

// activity is one item of describe-scaling-activities.
type activity struct {
	ActivityId, Description, Cause, StatusCode, StatusMessage string
	StartTime                                                 time.Time
}

func (a activity) String() string {
	return fmt.Sprintf("{%s | %s | %s | %s}", a.Description, a.StatusCode, a.StatusMessage, a.Cause)
}

// activities returns a group's activities, newest first.
func (p *cpCloud) activities(group string) []activity {
	p.t.Helper()
	var v struct{ Activities []activity }
	decodeInto(p.t, p.aws("autoscaling", "describe-scaling-activities", "--auto-scaling-group-name", group), &v)
	return v.Activities
}

// decodeInto re-decodes a CLI answer into a typed value.
func decodeInto(t *testing.T, in map[string]any, out any) {
	t.Helper()
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("decoding %s: %v", b, err)
	}
}

// stampRE is how Auto Scaling writes times in causes.
const stampRE = `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ`

// lifecycleState is an instance's lifecycle state in its group, or
// "(gone)".
func (p *cpCloud) lifecycleState(group, id string) string {
	p.t.Helper()
	_, insts := p.group(group)
	for _, in := range insts {
		if in.InstanceId == id {
			return in.LifecycleState
		}
	}
	return "(gone)"
}

// waiting returns the group's instance in Pending:Wait (other than those
// listed), once there is one.
func (p *cpCloud) waiting(group string, not ...string) string {
	p.t.Helper()
	var id string
	p.waitUntil("an instance of "+group+" in Pending:Wait", 20*time.Second, func() (bool, string) {
		_, insts := p.group(group)
		for _, in := range insts {
			if in.LifecycleState == "Pending:Wait" && !slices.Contains(not, in.InstanceId) {
				id = in.InstanceId
				return true, ""
			}
		}
		return false, fmt.Sprint(insts)
	})
	return id
}

// TestLifecycleHookHoldsLaunch: a launch lifecycle hook keeps a new
// instance in Pending:Wait until CompleteLifecycleAction; heartbeats
// extend the wait; a wait that times out with DefaultResult ABANDON ends
// the instance and the group launches another.
func TestLifecycleHookHoldsLaunch(t *testing.T) {
	p := newCPCloud(t)
	p.launchTemplate("hooked")

	t.Run("continue", func(t *testing.T) {
		p := &cpCloud{t: t, c: p.c, cli: p.cli, cr: p.cr}
		p.aws("autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", "held",
			"--launch-template", "LaunchTemplateName=hooked", "--min-size", "1", "--max-size", "1", "--desired-capacity", "1",
			"--availability-zones", "us-east-1a", "--lifecycle-hook-specification-list",
			"LifecycleHookName=warm,LifecycleTransition=autoscaling:EC2_INSTANCE_LAUNCHING,HeartbeatTimeout=1200,DefaultResult=ABANDON")
		hooks := p.aws("autoscaling", "describe-lifecycle-hooks", "--auto-scaling-group-name", "held")
		if got := get(hooks, "LifecycleHooks", 0, "HeartbeatTimeout") + " " + get(hooks, "LifecycleHooks", 0, "DefaultResult"); got != "1200 ABANDON" {
			t.Errorf("describe-lifecycle-hooks: %v", hooks)
		}
		id := p.waiting("held")
		since := time.Now()

		// holdUntil checks the instance stays in Pending:Wait until a
		// virtual time after since, polling throughout.
		holdUntil := func(after time.Duration) {
			t.Helper()
			for end := since.Add(after / asScale); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
				if st := p.lifecycleState("held", id); st != "Pending:Wait" {
					t.Fatalf("instance %s is %s after %v virtual of Pending:Wait, want Pending:Wait; activities: %v", id, st, virtual(time.Since(since)), p.activities("held"))
				}
			}
			out := p.aws("autoscaling", "describe-auto-scaling-instances", "--instance-ids", id)
			if st := get(out, "AutoScalingInstances", 0, "LifecycleState"); st != "Pending:Wait" {
				t.Fatalf("describe-auto-scaling-instances says %s, want Pending:Wait: %v", st, out)
			}
		}
		// Five virtual minutes of the twenty the heartbeat timeout allows,
		// then a heartbeat, then on to 21 minutes: past the first timeout,
		// the instance still waits. (A CLI call lasts half a virtual minute
		// or more, hence the margins.)
		holdUntil(5 * time.Minute)
		p.aws("autoscaling", "record-lifecycle-action-heartbeat", "--auto-scaling-group-name", "held",
			"--lifecycle-hook-name", "warm", "--instance-id", id)
		holdUntil(21 * time.Minute)
		if acts := p.activities("held"); len(acts) != 1 || acts[0].StatusCode != "MidLifecycleAction" {
			t.Errorf("the launch activity during the wait: %v, want StatusCode MidLifecycleAction", acts)
		}

		p.aws("autoscaling", "complete-lifecycle-action", "--auto-scaling-group-name", "held", "--lifecycle-hook-name", "warm",
			"--instance-id", id, "--lifecycle-action-result", "CONTINUE")
		p.waitUntil("the instance in service after CONTINUE", 10*time.Second, func() (bool, string) {
			st := p.lifecycleState("held", id)
			return st == "InService", st
		})
		acts := p.activities("held")
		if len(acts) != 1 || acts[0].Description != "Launching a new EC2 instance: "+id || acts[0].StatusCode != "Successful" {
			t.Errorf("activities: %v, want one successful launch of %s", acts, id)
		}
		e := p.c.awsErr(t, p.cli, p.cr, "autoscaling", "complete-lifecycle-action", "--auto-scaling-group-name", "held",
			"--lifecycle-hook-name", "warm", "--instance-id", id, "--lifecycle-action-result", "CONTINUE")
		if e.Code != "ValidationError" || !strings.Contains(e.Message, "No active Lifecycle Action found with instance ID "+id) {
			t.Errorf("completing the action again: %+v", e)
		}
	})

	t.Run("abandon", func(t *testing.T) {
		p := &cpCloud{t: t, c: p.c, cli: p.cli, cr: p.cr}
		p.aws("autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", "dropped",
			"--launch-template", "LaunchTemplateName=hooked", "--min-size", "0", "--max-size", "1", "--desired-capacity", "0",
			"--availability-zones", "us-east-1a")
		p.aws("autoscaling", "put-lifecycle-hook", "--auto-scaling-group-name", "dropped", "--lifecycle-hook-name", "gate",
			"--lifecycle-transition", "autoscaling:EC2_INSTANCE_LAUNCHING", "--heartbeat-timeout", "300", "--default-result", "ABANDON")
		p.aws("autoscaling", "set-desired-capacity", "--auto-scaling-group-name", "dropped", "--desired-capacity", "1")
		first := p.waiting("dropped")
		// Nobody answers: after the heartbeat timeout (five virtual
		// minutes) the instance is abandoned and a replacement launched.
		second := p.waiting("dropped", first)
		p.waitUntil("the abandoned instance gone", 10*time.Second, func() (bool, string) {
			st := p.lifecycleState("dropped", first)
			return st == "(gone)", st
		})
		out := p.aws("ec2", "describe-instances", "--instance-ids", first)
		if st := get(out, "Reservations", 0, "Instances", 0, "State", "Name"); st != "terminated" && st != "shutting-down" {
			t.Errorf("the abandoned instance is %q in EC2, want terminated", st)
		}
		p.aws("autoscaling", "complete-lifecycle-action", "--auto-scaling-group-name", "dropped", "--lifecycle-hook-name", "gate",
			"--instance-id", second, "--lifecycle-action-result", "CONTINUE")
		p.waitUntil("the replacement in service", 10*time.Second, func() (bool, string) {
			st := p.lifecycleState("dropped", second)
			return st == "InService", st
		})

		acts := p.activities("dropped")
		find := func(desc string) (activity, bool) {
			for _, a := range acts {
				if a.Description == desc {
					return a, true
				}
			}
			return activity{}, false
		}
		launch1, ok := find("Launching a new EC2 instance: " + first)
		if !ok || launch1.StatusCode != "Cancelled" {
			t.Errorf("the abandoned launch: %v (found %v), want StatusCode Cancelled; all: %v", launch1, ok, acts)
		}
		// AWS: "Instance failed to complete user's Lifecycle Action:
		// Lifecycle Action with token <token> was abandoned: Heartbeat Timeout".
		if !regexp.MustCompile(`^Instance failed to complete user's Lifecycle Action: Lifecycle Action with token [0-9a-f-]{36} was abandoned: Heartbeat Timeout$`).MatchString(launch1.StatusMessage) {
			t.Errorf("the abandoned launch's StatusMessage = %q, want AWS's heartbeat-timeout text", launch1.StatusMessage)
		}
		term, ok := find("Terminating EC2 instance: " + first)
		if !ok || term.StatusCode != "Successful" {
			t.Errorf("the abandoned instance's termination: %v (found %v); all: %v", term, ok, acts)
		}
		if waited := term.StartTime.Sub(launch1.StartTime); waited < 5*time.Minute || waited > 7*time.Minute {
			t.Errorf("the abandoned instance was terminated %v (virtual) after its launch, want just over the 5 minute heartbeat timeout", waited)
		}
		launch2, ok := find("Launching a new EC2 instance: " + second)
		if !ok || launch2.StatusCode != "Successful" ||
			!regexp.MustCompile(`^At `+stampRE+` an instance was started in response to a difference between desired and actual capacity, increasing the capacity from 0 to 1\.$`).MatchString(launch2.Cause) {
			t.Errorf("the replacement's launch: %v (found %v); all: %v", launch2, ok, acts)
		}
	})
}

// TestStepScalingTwoSteps: a step scaling policy with two steps, on an
// alarm of a custom metric. Steps are bounds on the breach, the metric's
// distance above the alarm's threshold (50): 60 breaches by 10, in the
// first step [0, 20), and adds 1; 80 breaches by 30, in the second step
// [20, +inf), and adds 3. Each group has its own alarm and metric.
func TestStepScalingTwoSteps(t *testing.T) {
	p := newCPCloud(t)
	p.launchTemplate("steps")
	steps := `[{"MetricIntervalLowerBound":0,"MetricIntervalUpperBound":20,"ScalingAdjustment":1},{"MetricIntervalLowerBound":20,"ScalingAdjustment":3}]`
	setup := func(group string) {
		p.aws("autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", group,
			"--launch-template", "LaunchTemplateName=steps", "--min-size", "1", "--max-size", "6", "--desired-capacity", "1",
			"--availability-zones", "us-east-1a", "us-east-1b")
		policy := get(p.aws("autoscaling", "put-scaling-policy", "--auto-scaling-group-name", group, "--policy-name", group+"-out",
			"--policy-type", "StepScaling", "--adjustment-type", "ChangeInCapacity", "--metric-aggregation-type", "Average",
			"--step-adjustments", steps), "PolicyARN")
		if !strings.HasPrefix(policy, "arn:aws:autoscaling:") {
			t.Fatalf("put-scaling-policy returned PolicyARN %q", policy)
		}
		p.aws("cloudwatch", "put-metric-alarm", "--alarm-name", group+"-high", "--namespace", "Cloudbox/Test",
			"--metric-name", "QueueDepth", "--dimensions", "Name=Group,Value="+group, "--statistic", "Average",
			"--period", "60", "--evaluation-periods", "1", "--threshold", "50", "--comparison-operator", "GreaterThanThreshold",
			"--alarm-actions", policy)
		p.waitUntil(group+" at one instance in service", 20*time.Second, func() (bool, string) {
			_, insts := p.group(group)
			return len(insts) == 1 && insts[0].LifecycleState == "InService", fmt.Sprint(insts)
		})
	}
	setup("step-small")
	setup("step-big")
	put := func(group, value string) {
		p.aws("cloudwatch", "put-metric-data", "--namespace", "Cloudbox/Test", "--metric-name", "QueueDepth",
			"--dimensions", "Group="+group, "--value", value)
	}
	put("step-small", "60")
	put("step-big", "80")

	for _, c := range []struct {
		group, want string
		launched    int
	}{{"step-small", "2", 1}, {"step-big", "4", 3}} {
		p.waitUntil(c.group+" at desired "+c.want, 20*time.Second, func() (bool, string) {
			d, insts := p.group(c.group)
			return d == c.want, "desired " + d + ", " + fmt.Sprint(insts)
		})
		p.waitUntil(c.group+" with all its instances in service", 20*time.Second, func() (bool, string) {
			_, insts := p.group(c.group)
			n := 0
			for _, in := range insts {
				if in.LifecycleState == "InService" {
					n++
				}
			}
			return n == c.launched+1, fmt.Sprint(insts)
		})
	}
	// The alarm's one datapoint is followed by none: it leaves ALARM and
	// the groups stay where the steps put them.
	p.waitUntil("the alarms out of ALARM", 20*time.Second, func() (bool, string) {
		out := p.aws("cloudwatch", "describe-alarms", "--alarm-names", "step-small-high", "step-big-high")
		s1, s2 := get(out, "MetricAlarms", 0, "StateValue"), get(out, "MetricAlarms", 1, "StateValue")
		return s1 != "ALARM" && s2 != "ALARM" && s1 != "" && s2 != "", s1 + " " + s2
	})
	for _, c := range []struct{ group, want string }{{"step-small", "2"}, {"step-big", "4"}} {
		if d, _ := p.group(c.group); d != c.want {
			t.Errorf("%s: desired %s after the alarm, want %s", c.group, d, c.want)
		}
	}

	for _, c := range []struct {
		group, to string
		launched  int
	}{{"step-small", "2", 1}, {"step-big", "4", 3}} {
		causeRE := regexp.MustCompile(`^At ` + stampRE + ` a monitor alarm ` + c.group + `-high in state ALARM triggered policy ` + c.group +
			`-out changing the desired capacity from 1 to ` + c.to + `\.  At ` + stampRE +
			` an instance was started in response to a difference between desired and actual capacity, increasing the capacity from 1 to ` + c.to + `\.$`)
		n := 0
		acts := p.activities(c.group)
		for _, a := range acts {
			if strings.HasPrefix(a.Description, "Launching a new EC2 instance: i-") && causeRE.MatchString(a.Cause) && a.StatusCode == "Successful" {
				n++
			}
		}
		if n != c.launched {
			t.Errorf("%s: %d successful launches caused by the alarm, want %d; activities:\n%v", c.group, n, c.launched, acts)
		}
		if len(acts) != c.launched+1 {
			t.Errorf("%s: %d activities, want %d (the first launch and the step's)", c.group, len(acts), c.launched+1)
		}
	}
}

// TestCustomMetricAlarm: an alarm on a metric put with PutMetricData. It
// starts in INSUFFICIENT_DATA, goes to OK on a value under the threshold,
// to ALARM on one above, back to OK on one under, with AWS's reasons and
// history; GetMetricStatistics returns what was put.
func TestCustomMetricAlarm(t *testing.T) {
	p := newCPCloud(t)
	const alarm = "checkout-latency"
	// Missing data is ignored: between the values put, the state stays.
	p.aws("cloudwatch", "put-metric-alarm", "--alarm-name", alarm, "--namespace", "Cloudbox/Test", "--metric-name", "Latency",
		"--dimensions", "Name=Service,Value=checkout", "--statistic", "Average", "--period", "60", "--evaluation-periods", "1",
		"--threshold", "50", "--comparison-operator", "GreaterThanThreshold", "--treat-missing-data", "ignore")
	// The same alarm as an "M out of N" one (DatapointsToAlarm set, as the
	// console always sets it) gives its reasons in the longer form.
	p.aws("cloudwatch", "put-metric-alarm", "--alarm-name", alarm+"-m-of-n", "--namespace", "Cloudbox/Test", "--metric-name", "Latency",
		"--dimensions", "Name=Service,Value=checkout", "--statistic", "Average", "--period", "60", "--evaluation-periods", "1",
		"--datapoints-to-alarm", "1", "--threshold", "50", "--comparison-operator", "GreaterThanThreshold", "--treat-missing-data", "ignore")

	describeAlarm := func(name string) (state, reason string) {
		out := p.aws("cloudwatch", "describe-alarms", "--alarm-names", name)
		return get(out, "MetricAlarms", 0, "StateValue"), get(out, "MetricAlarms", 0, "StateReason")
	}
	describe := func() (state, reason string) { return describeAlarm(alarm) }
	if st, reason := describe(); st != "INSUFFICIENT_DATA" || reason != "Unchecked: Initial alarm creation" {
		t.Errorf("a new alarm is %s (%q), want INSUFFICIENT_DATA (Unchecked: Initial alarm creation)", st, reason)
	}
	// Without data the alarm stays in INSUFFICIENT_DATA, over several
	// evaluations.
	quiet := time.Now().Add(3 * time.Second)
	for time.Now().Before(quiet) {
		if st, reason := describe(); st != "INSUFFICIENT_DATA" {
			t.Fatalf("with no data the alarm went to %s (%q)", st, reason)
		}
		time.Sleep(250 * time.Millisecond)
	}

	// step puts one value and waits for the alarm to reach a state on it;
	// waiting for the evaluation of its period means the next value falls
	// in a later period.
	step := func(value, state, words string) {
		t.Helper()
		p.aws("cloudwatch", "put-metric-data", "--namespace", "Cloudbox/Test", "--metric-name", "Latency",
			"--dimensions", "Service=checkout", "--value", value, "--unit", "Milliseconds")
		// AWS, for an alarm without DatapointsToAlarm: "Threshold Crossed:
		// 1 datapoint [75.0 (22/11/26 10:01:00)] was greater than the
		// threshold (50.0)."
		want := regexp.MustCompile(`^Threshold Crossed: 1 datapoint \[` + regexp.QuoteMeta(value) + `\.0 \(\d\d/\d\d/\d\d \d\d:\d\d:00\)\] was ` + words + ` the threshold \(50\.0\)\.$`)
		loose := regexp.MustCompile(`\[` + regexp.QuoteMeta(value) + `\.0 \(`)
		var reason string
		p.waitUntil("the alarm in "+state+" on "+value, 15*time.Second, func() (bool, string) {
			var st string
			st, reason = describe()
			return st == state && loose.MatchString(reason), st + ": " + reason
		})
		if !want.MatchString(reason) {
			t.Errorf("StateReason on %s = %q, want %v", value, reason, want)
		}
	}
	step("20", "OK", "not greater than")
	step("75", "ALARM", "greater than")
	step("10", "OK", "not greater than")
	mOfN := regexp.MustCompile(`^Threshold Crossed: 1 out of the last 1 datapoints \[10\.0 \(\d\d/\d\d/\d\d \d\d:\d\d:00\)\] was not greater than the threshold \(50\.0\) \(minimum 1 datapoint for ALARM -> OK transition\)\.$`)
	p.waitUntil("the M out of N alarm back in OK", 10*time.Second, func() (bool, string) {
		st, reason := describeAlarm(alarm + "-m-of-n")
		return st == "OK" && mOfN.MatchString(reason), st + ": " + reason
	})

	var hist struct {
		AlarmHistoryItems []struct {
			AlarmName, HistoryItemType, HistorySummary, HistoryData string
			Timestamp                                               time.Time
		}
	}
	decodeInto(t, p.aws("cloudwatch", "describe-alarm-history", "--alarm-name", alarm, "--history-item-type", "StateUpdate"), &hist)
	var summaries []string
	for _, h := range hist.AlarmHistoryItems {
		summaries = append(summaries, h.HistorySummary)
		var data struct {
			OldState, NewState struct{ StateValue, StateReason string }
		}
		if err := json.Unmarshal([]byte(h.HistoryData), &data); err != nil || "Alarm updated from "+data.OldState.StateValue+" to "+data.NewState.StateValue != h.HistorySummary {
			t.Errorf("history item %q has HistoryData %s (%v)", h.HistorySummary, h.HistoryData, err)
		}
		if h.AlarmName != alarm || h.HistoryItemType != "StateUpdate" {
			t.Errorf("history item %+v", h)
		}
	}
	wantSummaries := []string{"Alarm updated from ALARM to OK", "Alarm updated from OK to ALARM", "Alarm updated from INSUFFICIENT_DATA to OK"}
	if !slices.Equal(summaries, wantSummaries) {
		t.Fatalf("describe-alarm-history summaries (newest first) = %q, want %q", summaries, wantSummaries)
	}

	// The datapoints put, in virtual time: around the history's.
	items := hist.AlarmHistoryItems
	from := items[len(items)-1].Timestamp.Add(-time.Hour).UTC().Format(time.RFC3339)
	to := items[0].Timestamp.Add(time.Hour).UTC().Format(time.RFC3339)
	type datapoint struct {
		Timestamp                     time.Time
		Average, Maximum, SampleCount float64
		Unit                          string
	}
	var stats struct {
		Label      string
		Datapoints []datapoint
	}
	decodeInto(t, p.aws("cloudwatch", "get-metric-statistics", "--namespace", "Cloudbox/Test", "--metric-name", "Latency",
		"--dimensions", "Name=Service,Value=checkout", "--start-time", from, "--end-time", to, "--period", "60",
		"--statistics", "Average", "Maximum", "SampleCount"), &stats)
	dps := stats.Datapoints
	slices.SortFunc(dps, func(a, b datapoint) int { return a.Timestamp.Compare(b.Timestamp) })
	var got []string
	for _, d := range dps {
		got = append(got, fmt.Sprintf("%g/%g/%g %s", d.Average, d.Maximum, d.SampleCount, d.Unit))
		if d.Timestamp.Second() != 0 {
			t.Errorf("datapoint at %v: not on a period boundary", d.Timestamp)
		}
	}
	want := []string{"20/20/1 Milliseconds", "75/75/1 Milliseconds", "10/10/1 Milliseconds"}
	if stats.Label != "Latency" || !slices.Equal(got, want) {
		t.Errorf("get-metric-statistics: label %q, datapoints (average/maximum/samples unit) %q, want %q", stats.Label, got, want)
	}
}

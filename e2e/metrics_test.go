package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestGroupMetrics: with EnableMetricsCollection, a group's AWS/AutoScaling
// metrics reach CloudWatch every (virtual) minute, and the aws CLI reads
// them with list-metrics and get-metric-statistics, as on AWS. At 60 times
// AWS's speed, without a data plane.
func TestGroupMetrics(t *testing.T) {
	cli := clis()[1]
	if cli.Path == "" {
		cli = clis()[0]
	}
	cli.need(t)
	c := startBinary(t, Opts{TimeScale: 60})
	cr := testCreds
	cr.Region = "us-west-2"
	aws := func(args ...string) map[string]any {
		t.Helper()
		return c.awsOK(t, cli, cr, args...)
	}
	ami := get(aws("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=al2023-ami-2023.*-kernel-6.1-x86_64"), "Images", 0, "ImageId")
	aws("ec2", "create-launch-template", "--launch-template-name", "metrics", "--launch-template-data", fmt.Sprintf(`{"ImageId":%q,"InstanceType":"t3.micro"}`, ami))
	aws("autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", "metered", "--launch-template", "LaunchTemplateName=metrics",
		"--min-size", "1", "--max-size", "3", "--desired-capacity", "2", "--availability-zones", "us-west-2a", "us-west-2b")
	aws("autoscaling", "enable-metrics-collection", "--auto-scaling-group-name", "metered", "--granularity", "1Minute",
		"--metrics", "GroupDesiredCapacity", "GroupInServiceInstances", "GroupMaxSize", "GroupTotalCapacity")
	if got := fmt.Sprint(aws("autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", "metered")["AutoScalingGroups"]); !strings.Contains(got, "GroupInServiceInstances") {
		t.Errorf("describe-auto-scaling-groups shows no enabled metrics: %s", got)
	}

	// The last datapoint of a group metric, as an operator reads it.
	latest := func(metric string) (float64, bool) {
		end := time.Now().Add(6 * time.Hour) // virtual time runs ahead of the wall clock
		out := aws("cloudwatch", "get-metric-statistics", "--namespace", "AWS/AutoScaling", "--metric-name", metric,
			"--dimensions", "Name=AutoScalingGroupName,Value=metered", "--statistics", "Maximum", "--period", "60",
			"--start-time", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "--end-time", end.UTC().Format(time.RFC3339))
		points, _ := out["Datapoints"].([]any)
		var at string
		var v float64
		for _, p := range points {
			m := p.(map[string]any)
			if ts := m["Timestamp"].(string); ts > at {
				at, v = ts, m["Maximum"].(float64)
			}
		}
		return v, at != ""
	}
	want := map[string]float64{"GroupDesiredCapacity": 2, "GroupInServiceInstances": 2, "GroupMaxSize": 3, "GroupTotalCapacity": 2}
	deadline := time.Now().Add(30 * time.Second)
	for metric, v := range want {
		for {
			got, ok := latest(metric)
			if ok && got == v {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("AWS/AutoScaling %s: latest %v (any: %v), want %v", metric, got, ok, v)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	listed := fmt.Sprint(aws("cloudwatch", "list-metrics", "--namespace", "AWS/AutoScaling", "--dimensions", "Name=AutoScalingGroupName,Value=metered"))
	for metric := range want {
		if !strings.Contains(listed, metric) {
			t.Errorf("list-metrics does not show %s: %s", metric, listed)
		}
	}
	if strings.Contains(listed, "GroupPendingInstances") {
		t.Errorf("list-metrics shows a metric that was not enabled: %s", listed)
	}

	// Each launch was recorded as the event EventBridge would carry.
	resp, err := http.Get(c.URL + "/_cloudbox/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var events []struct {
		Source     string `json:"source"`
		DetailType string `json:"detail-type"`
		Account    string `json:"account"`
		Region     string `json:"region"`
		Resources  []string
		Detail     struct{ AutoScalingGroupName, EC2InstanceId, StatusCode string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&events); err != nil {
		t.Fatal(err)
	}
	launched := 0
	for _, ev := range events {
		if ev.Source == "aws.autoscaling" && ev.DetailType == "EC2 Instance Launch Successful" && ev.Region == "us-west-2" &&
			ev.Detail.AutoScalingGroupName == "metered" && strings.HasPrefix(ev.Detail.EC2InstanceId, "i-") && ev.Detail.StatusCode == "Successful" && len(ev.Resources) == 2 {
			launched++
		}
	}
	if launched != 2 {
		t.Errorf("%d EC2 Instance Launch Successful events for the group's 2 launches: %+v", launched, events)
	}
	defer func() {
		// cloudbox reset forgets the events with the rest; without the
		// daemon's admin token it is refused.
		if resp := c.adminPost(t, "/_cloudbox/reset", false); resp.StatusCode != http.StatusForbidden {
			t.Errorf("reset without the admin token: %s, want 403", resp.Status)
		}
		if resp := c.adminPost(t, "/_cloudbox/reset", true); resp.StatusCode != http.StatusOK {
			t.Errorf("reset with the admin token: %s", resp.Status)
		}
		resp, err := http.Get(c.URL + "/_cloudbox/events")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var left []any
		if err := json.NewDecoder(resp.Body).Decode(&left); err != nil || len(left) != 0 {
			t.Errorf("events after reset: %v, %v", left, err)
		}
	}()

	// Disabled, the group lists none, and the publisher skips it.
	aws("autoscaling", "disable-metrics-collection", "--auto-scaling-group-name", "metered")
	if got := fmt.Sprint(aws("autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", "metered")["AutoScalingGroups"]); strings.Contains(got, "GroupInServiceInstances") {
		t.Errorf("metrics still enabled after disable-metrics-collection: %s", got)
	}
}

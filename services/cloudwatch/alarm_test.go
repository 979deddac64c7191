package cloudwatch_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cwsdk "github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
)

const (
	alarmTopic = "arn:aws:sns:eu-west-1:000000000000:alarm"
	okTopic    = "arn:aws:sns:eu-west-1:000000000000:ok"
)

func stateUpdates(t *testing.T, c *cloud, name string) []types.AlarmHistoryItem {
	t.Helper()
	out := must[*cwsdk.DescribeAlarmHistoryOutput](t)(c.cw.DescribeAlarmHistory(ctx, &cwsdk.DescribeAlarmHistoryInput{
		AlarmName: aws.String(name), HistoryItemType: types.HistoryItemTypeStateUpdate, ScanBy: types.ScanByTimestampAscending}))
	return out.AlarmHistoryItems
}

// An alarm on a custom metric goes OK -> ALARM -> OK on a clock 120 times
// faster than AWS's (a 60 s period lasts half a second).
func TestAlarmOKAlarmOK(t *testing.T) {
	c := newCloud(t, 120)
	var rec recorder
	rec.attach(c.svc)
	p0 := minute(c.clock.Now(), 1) // the next period
	var data []types.MetricDatum
	for i, v := range []float64{10, 10, 10, 90, 90, 90, 10, 10, 10} {
		at := p0.Add(time.Duration(i) * time.Minute)
		data = append(data, types.MetricDatum{MetricName: aws.String("QueueDepth"), Dimensions: dims("Queue", "jobs"), Timestamp: &at, Value: aws.Float64(v)})
	}
	must[*cwsdk.PutMetricDataOutput](t)(c.cw.PutMetricData(ctx, &cwsdk.PutMetricDataInput{Namespace: aws.String("Workers"), MetricData: data}))
	must[*cwsdk.PutMetricAlarmOutput](t)(c.cw.PutMetricAlarm(ctx, &cwsdk.PutMetricAlarmInput{
		AlarmName: aws.String("deep-queue"), Namespace: aws.String("Workers"), MetricName: aws.String("QueueDepth"), Dimensions: dims("Queue", "jobs"),
		Statistic: types.StatisticAverage, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(2), DatapointsToAlarm: aws.Int32(2),
		Threshold: aws.Float64(50), ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold,
		AlarmActions: []string{alarmTopic}, OKActions: []string{okTopic},
	}))
	a := must[*cwsdk.DescribeAlarmsOutput](t)(c.cw.DescribeAlarms(ctx, &cwsdk.DescribeAlarmsInput{AlarmNames: []string{"deep-queue"}})).MetricAlarms[0]
	if a.StateValue != types.StateValueInsufficientData || aws.ToString(a.StateReason) != "Unchecked: Initial alarm creation" || aws.ToString(a.TreatMissingData) != "missing" {
		t.Fatalf("new alarm: %s %q %q", a.StateValue, aws.ToString(a.StateReason), aws.ToString(a.TreatMissingData))
	}

	var items []types.AlarmHistoryItem
	eventually(t, 30*time.Second, "three state changes", func() bool {
		items = stateUpdates(t, c, "deep-queue")
		return len(items) >= 3
	})
	f := func(i int) string { return p0.Add(time.Duration(i) * time.Minute).Format("02/01/06 15:04:05") }
	wantSummaries := []string{"Alarm updated from INSUFFICIENT_DATA to OK", "Alarm updated from OK to ALARM", "Alarm updated from ALARM to OK"}
	wantReasons := []string{
		fmt.Sprintf("Threshold Crossed: 1 out of the last 1 datapoints [10.0 (%s)] was not greater than the threshold (50.0) (minimum 1 datapoint for INSUFFICIENT_DATA -> OK transition).", f(0)),
		fmt.Sprintf("Threshold Crossed: 2 out of the last 2 datapoints [90.0 (%s), 90.0 (%s)] were greater than the threshold (50.0) (minimum 2 datapoints for OK -> ALARM transition).", f(4), f(3)),
		fmt.Sprintf("Threshold Crossed: 1 out of the last 2 datapoints [10.0 (%s)] was not greater than the threshold (50.0) (minimum 1 datapoint for ALARM -> OK transition).", f(6)),
	}
	for i, it := range items[:3] {
		if aws.ToString(it.HistorySummary) != wantSummaries[i] {
			t.Errorf("history %d: %q, want %q", i, aws.ToString(it.HistorySummary), wantSummaries[i])
		}
		var hd struct {
			NewState struct {
				StateReason     string
				StateReasonData struct {
					Statistic        string
					Period           int
					Threshold        float64
					RecentDatapoints []float64
				}
			}
		}
		if err := json.Unmarshal([]byte(aws.ToString(it.HistoryData)), &hd); err != nil {
			t.Fatalf("history data %s: %v", aws.ToString(it.HistoryData), err)
		}
		if hd.NewState.StateReason != wantReasons[i] {
			t.Errorf("reason %d:\n got %q\nwant %q", i, hd.NewState.StateReason, wantReasons[i])
		}
		if d := hd.NewState.StateReasonData; d.Statistic != "Average" || d.Period != 60 || d.Threshold != 50 {
			t.Errorf("reason data %d: %+v", i, d)
		}
	}
	if !strings.Contains(aws.ToString(items[1].HistoryData), `"threshold":50.0`) {
		t.Errorf("reason data does not write numbers as AWS does: %s", aws.ToString(items[1].HistoryData))
	}

	// Actions ran once per transition into their state.
	actions, changes := rec.snapshot()
	if n := strings.Count(strings.Join(actions, "\n"), "ALARM "+alarmTopic); n != 1 {
		t.Errorf("alarm action ran %d times: %v", n, actions)
	}
	if n := strings.Count(strings.Join(actions, "\n"), "OK "+okTopic); n != 2 {
		t.Errorf("OK action ran %d times, want 2 (from INSUFFICIENT_DATA and from ALARM): %v", n, actions)
	}
	if len(changes) < 3 || changes[1].State.Value != "ALARM" || changes[1].PreviousState.Value != "OK" || changes[1].AlarmName != "deep-queue" ||
		changes[1].State.Reason != wantReasons[1] || changes[1].Configuration.Metrics[0].MetricStat.Metric.Dimensions["Queue"] != "jobs" ||
		changes[1].AlarmARN != "arn:aws:cloudwatch:eu-west-1:000000000000:alarm:deep-queue" {
		t.Errorf("state change events %+v", changes)
	}
	detail, _ := json.Marshal(changes[1])
	for _, key := range []string{`"alarmName":"deep-queue"`, `"previousState":{"value":"OK"`, `"configuration":{"metrics":[{"id":"m1","metricStat":{"metric":{"namespace":"Workers","name":"QueueDepth"`} {
		if !strings.Contains(string(detail), key) {
			t.Errorf("event detail %s lacks %s", detail, key)
		}
	}
	actHist := must[*cwsdk.DescribeAlarmHistoryOutput](t)(c.cw.DescribeAlarmHistory(ctx, &cwsdk.DescribeAlarmHistoryInput{AlarmName: aws.String("deep-queue"), HistoryItemType: types.HistoryItemTypeAction}))
	if len(actHist.AlarmHistoryItems) < 3 || aws.ToString(actHist.AlarmHistoryItems[0].HistorySummary) != "Successfully executed action "+okTopic {
		t.Errorf("action history %+v", actHist.AlarmHistoryItems)
	}
}

// Auto Scaling actions run again every period while the alarm stays in
// their state; other actions run once.
func TestScalingActionRepeats(t *testing.T) {
	c := newCloud(t, 240)
	var rec recorder
	rec.attach(c.svc)
	policy := "arn:aws:autoscaling:eu-west-1:000000000000:scalingPolicy:1:autoScalingGroupName/web:policyName/up"
	must[*cwsdk.PutMetricAlarmOutput](t)(c.cw.PutMetricAlarm(ctx, &cwsdk.PutMetricAlarmInput{
		AlarmName: aws.String("silent"), Namespace: aws.String("App"), MetricName: aws.String("Heartbeat"),
		Statistic: types.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1),
		Threshold: aws.Float64(1), ComparisonOperator: types.ComparisonOperatorLessThanThreshold,
		TreatMissingData: aws.String("breaching"), AlarmActions: []string{policy, alarmTopic},
	}))
	eventually(t, 30*time.Second, "the scaling action to run three times", func() bool {
		actions, _ := rec.snapshot()
		return strings.Count(strings.Join(actions, "\n"), policy) >= 3
	})
	actions, _ := rec.snapshot()
	if n := strings.Count(strings.Join(actions, "\n"), alarmTopic); n != 1 {
		t.Fatalf("SNS action ran %d times: %v", n, actions)
	}
	items := stateUpdates(t, c, "silent")
	want := "Threshold Crossed: no datapoints were received for 1 period and 1 missing datapoint was treated as [Breaching]."
	if len(items) != 1 || !strings.Contains(aws.ToString(items[0].HistoryData), want) {
		t.Fatalf("history %+v, want one change with %q", items, want)
	}
}

func TestSetAlarmStateDescribeAndTags(t *testing.T) {
	c := newCloud(t, 1)
	var rec recorder
	rec.attach(c.svc)
	for _, n := range []string{"web-cpu", "web-mem", "db-cpu"} {
		must[*cwsdk.PutMetricAlarmOutput](t)(c.cw.PutMetricAlarm(ctx, &cwsdk.PutMetricAlarmInput{
			AlarmName: aws.String(n), Namespace: aws.String("AWS/EC2"), MetricName: aws.String("CPUUtilization"), Dimensions: dims("InstanceId", n),
			Statistic: types.StatisticMaximum, Period: aws.Int32(300), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(80),
			ComparisonOperator: types.ComparisonOperatorGreaterThanOrEqualToThreshold, AlarmActions: []string{alarmTopic},
			Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String(n)}},
			// A new alarm is evaluated at once, which may come after
			// SetAlarmState below: with no data, ignore keeps the state it
			// set rather than racing it.
			TreatMissingData: aws.String("ignore"),
		}))
	}
	must[*cwsdk.SetAlarmStateOutput](t)(c.cw.SetAlarmState(ctx, &cwsdk.SetAlarmStateInput{AlarmName: aws.String("web-cpu"),
		StateValue: types.StateValueAlarm, StateReason: aws.String("testing"), StateReasonData: aws.String(`{"by":"test"}`)}))
	a := must[*cwsdk.DescribeAlarmsOutput](t)(c.cw.DescribeAlarms(ctx, &cwsdk.DescribeAlarmsInput{StateValue: types.StateValueAlarm}))
	if len(a.MetricAlarms) != 1 || aws.ToString(a.MetricAlarms[0].StateReason) != "testing" || aws.ToString(a.MetricAlarms[0].StateReasonData) != `{"by":"test"}` {
		t.Fatalf("alarms in ALARM: %+v", a.MetricAlarms)
	}
	if actions, changes := rec.snapshot(); !slices.Equal(actions, []string{"ALARM " + alarmTopic}) || len(changes) != 1 || changes[0].State.Reason != "testing" {
		t.Fatalf("SetAlarmState delivered actions %v, changes %+v", actions, changes)
	}

	// Disabled actions do not run.
	must[*cwsdk.DisableAlarmActionsOutput](t)(c.cw.DisableAlarmActions(ctx, &cwsdk.DisableAlarmActionsInput{AlarmNames: []string{"web-mem", "nope"}}))
	must[*cwsdk.SetAlarmStateOutput](t)(c.cw.SetAlarmState(ctx, &cwsdk.SetAlarmStateInput{AlarmName: aws.String("web-mem"), StateValue: types.StateValueAlarm, StateReason: aws.String("x")}))
	if actions, _ := rec.snapshot(); len(actions) != 1 {
		t.Fatalf("actions ran with actions disabled: %v", actions)
	}
	d := must[*cwsdk.DescribeAlarmsOutput](t)(c.cw.DescribeAlarms(ctx, &cwsdk.DescribeAlarmsInput{AlarmNames: []string{"web-mem"}}))
	if aws.ToBool(d.MetricAlarms[0].ActionsEnabled) {
		t.Fatal("DisableAlarmActions did not disable")
	}

	names := func(in *cwsdk.DescribeAlarmsInput) []string {
		var out []string
		for {
			p := must[*cwsdk.DescribeAlarmsOutput](t)(c.cw.DescribeAlarms(ctx, in))
			for _, a := range p.MetricAlarms {
				out = append(out, aws.ToString(a.AlarmName))
			}
			if in.NextToken = p.NextToken; in.NextToken == nil {
				return out
			}
		}
	}
	if got := names(&cwsdk.DescribeAlarmsInput{AlarmNamePrefix: aws.String("web-")}); !slices.Equal(got, []string{"web-cpu", "web-mem"}) {
		t.Errorf("prefix web-: %v", got)
	}
	if got := names(&cwsdk.DescribeAlarmsInput{MaxRecords: aws.Int32(1)}); !slices.Equal(got, []string{"db-cpu", "web-cpu", "web-mem"}) {
		t.Errorf("paged: %v", got)
	}
	if got := names(&cwsdk.DescribeAlarmsInput{ActionPrefix: aws.String("arn:aws:sns:")}); len(got) != 3 {
		t.Errorf("action prefix: %v", got)
	}
	if got := names(&cwsdk.DescribeAlarmsInput{AlarmTypes: []types.AlarmType{types.AlarmTypeCompositeAlarm}}); len(got) != 0 {
		t.Errorf("composite alarms: %v", got)
	}
	fm := must[*cwsdk.DescribeAlarmsForMetricOutput](t)(c.cw.DescribeAlarmsForMetric(ctx, &cwsdk.DescribeAlarmsForMetricInput{
		Namespace: aws.String("AWS/EC2"), MetricName: aws.String("CPUUtilization"), Dimensions: dims("InstanceId", "db-cpu")}))
	if len(fm.MetricAlarms) != 1 || aws.ToString(fm.MetricAlarms[0].AlarmName) != "db-cpu" {
		t.Errorf("alarms for metric: %+v", fm.MetricAlarms)
	}

	// History: creation, then the state change, newest first by default.
	h := must[*cwsdk.DescribeAlarmHistoryOutput](t)(c.cw.DescribeAlarmHistory(ctx, &cwsdk.DescribeAlarmHistoryInput{AlarmName: aws.String("web-cpu")}))
	var kinds []string
	for _, it := range h.AlarmHistoryItems {
		kinds = append(kinds, string(it.HistoryItemType)+": "+aws.ToString(it.HistorySummary))
	}
	want := []string{"Action: Successfully executed action " + alarmTopic, "StateUpdate: Alarm updated from INSUFFICIENT_DATA to ALARM", `ConfigurationUpdate: Alarm "web-cpu" created`}
	if !slices.Equal(kinds, want) {
		t.Errorf("history %q, want %q", kinds, want)
	}

	// Tags.
	arnOf := "arn:aws:cloudwatch:eu-west-1:000000000000:alarm:web-cpu"
	must[*cwsdk.TagResourceOutput](t)(c.cw.TagResource(ctx, &cwsdk.TagResourceInput{ResourceARN: aws.String(arnOf), Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}}}))
	must[*cwsdk.UntagResourceOutput](t)(c.cw.UntagResource(ctx, &cwsdk.UntagResourceInput{ResourceARN: aws.String(arnOf), TagKeys: []string{"team"}}))
	tags := must[*cwsdk.ListTagsForResourceOutput](t)(c.cw.ListTagsForResource(ctx, &cwsdk.ListTagsForResourceInput{ResourceARN: aws.String(arnOf)}))
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].Key) != "env" {
		t.Errorf("tags %+v", tags.Tags)
	}
	_, err := c.cw.ListTagsForResource(ctx, &cwsdk.ListTagsForResourceInput{ResourceARN: aws.String(arnOf + "x")})
	wantCode(t, err, "ResourceNotFoundException")

	// Errors.
	_, err = c.cw.SetAlarmState(ctx, &cwsdk.SetAlarmStateInput{AlarmName: aws.String("nope"), StateValue: types.StateValueOk, StateReason: aws.String("x")})
	wantCode(t, err, "ResourceNotFound")
	_, err = c.cw.SetAlarmState(ctx, &cwsdk.SetAlarmStateInput{AlarmName: aws.String("web-cpu"), StateValue: types.StateValueOk, StateReason: aws.String("x"), StateReasonData: aws.String("{")})
	wantCode(t, err, "InvalidFormat")
	// Names no alarm has are skipped, as CloudWatch does.
	if _, err := c.cw.DeleteAlarms(ctx, &cwsdk.DeleteAlarmsInput{AlarmNames: []string{"nope", "nope-either"}}); err != nil {
		t.Errorf("DeleteAlarms of unknown names: %v, want success", err)
	}
	_, err = c.cw.DescribeAlarms(ctx, &cwsdk.DescribeAlarmsInput{AlarmNames: []string{"a"}, AlarmNamePrefix: aws.String("a")})
	wantCode(t, err, "InvalidParameterCombination")
	bad := func(mod func(in *cwsdk.PutMetricAlarmInput)) error {
		in := &cwsdk.PutMetricAlarmInput{AlarmName: aws.String("bad"), Namespace: aws.String("App"), MetricName: aws.String("M"),
			Statistic: types.StatisticSum, Period: aws.Int32(60), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(1),
			ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold}
		mod(in)
		_, err := c.cw.PutMetricAlarm(ctx, in)
		return err
	}
	wantCode(t, bad(func(in *cwsdk.PutMetricAlarmInput) { in.Period = aws.Int32(45) }), "InvalidParameterValue")
	wantCode(t, bad(func(in *cwsdk.PutMetricAlarmInput) { in.TreatMissingData = aws.String("sometimes") }), "InvalidParameterValue")
	wantCode(t, bad(func(in *cwsdk.PutMetricAlarmInput) { in.DatapointsToAlarm = aws.Int32(2) }), "InvalidParameterValue")
	wantCode(t, bad(func(in *cwsdk.PutMetricAlarmInput) { in.ExtendedStatistic = aws.String("p99") }), "InvalidParameterCombination")
	wantCode(t, bad(func(in *cwsdk.PutMetricAlarmInput) { in.Threshold = nil }), "MissingParameter")

	must[*cwsdk.DeleteAlarmsOutput](t)(c.cw.DeleteAlarms(ctx, &cwsdk.DeleteAlarmsInput{AlarmNames: []string{"web-cpu", "web-mem"}}))
	if got := names(&cwsdk.DescribeAlarmsInput{}); !slices.Equal(got, []string{"db-cpu"}) {
		t.Errorf("after delete: %v", got)
	}
}

// A metric math alarm: the error rate of two metrics.
func TestMetricMathAlarm(t *testing.T) {
	c := newCloud(t, 240)
	// The same rate every minute from the last one on for an hour: on a
	// loaded machine the alarm's first evaluation may come several virtual
	// minutes after the data is put, and it must still find a datapoint.
	var data []types.MetricDatum
	for i := -1; i < 60; i++ {
		at := minute(c.clock.Now(), i)
		data = append(data,
			types.MetricDatum{MetricName: aws.String("Errors"), Timestamp: &at, Value: aws.Float64(30)},
			types.MetricDatum{MetricName: aws.String("Requests"), Timestamp: &at, Value: aws.Float64(100)})
	}
	must[*cwsdk.PutMetricDataOutput](t)(c.cw.PutMetricData(ctx, &cwsdk.PutMetricDataInput{Namespace: aws.String("Shop"), MetricData: data}))
	stat := func(id, name string) types.MetricDataQuery {
		return types.MetricDataQuery{Id: aws.String(id), ReturnData: aws.Bool(false), MetricStat: &types.MetricStat{
			Metric: &types.Metric{Namespace: aws.String("Shop"), MetricName: aws.String(name)}, Period: aws.Int32(60), Stat: aws.String("Sum")}}
	}
	must[*cwsdk.PutMetricAlarmOutput](t)(c.cw.PutMetricAlarm(ctx, &cwsdk.PutMetricAlarmInput{
		AlarmName: aws.String("error-rate"), EvaluationPeriods: aws.Int32(1), Threshold: aws.Float64(25),
		ComparisonOperator: types.ComparisonOperatorGreaterThanThreshold,
		Metrics: []types.MetricDataQuery{stat("e", "Errors"), stat("r", "Requests"),
			{Id: aws.String("rate"), Expression: aws.String("e/r*100"), ReturnData: aws.Bool(true)}},
	}))
	var items []types.AlarmHistoryItem
	eventually(t, 20*time.Second, "the math alarm to fire", func() bool {
		items = stateUpdates(t, c, "error-rate")
		return len(items) >= 1
	})
	if !strings.Contains(aws.ToString(items[0].HistoryData), "Threshold Crossed: 1 datapoint [30.0 (") {
		t.Fatalf("history %s", aws.ToString(items[0].HistoryData))
	}
}

// The aws CLI v1 (botocore, awsJson 1.0 or query) reads and writes the
// same shapes.
func TestCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not installed")
	}
	c := newCloud(t, 1)
	run := func(out any, args ...string) {
		t.Helper()
		cmd := exec.Command("aws", append([]string{"--endpoint-url", c.url, "--output", "json", "cloudwatch"}, args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION="+region,
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "HOME="+t.TempDir(), "AWS_PAGER=")
		b, err := cmd.Output()
		if err != nil {
			var stderr string
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = string(ee.Stderr)
			}
			t.Fatalf("aws cloudwatch %s: %v\n%s", strings.Join(args, " "), err, stderr)
		}
		if out != nil {
			if err := json.Unmarshal(b, out); err != nil {
				t.Fatalf("%s: %v", b, err)
			}
		}
	}
	run(nil, "put-metric-data", "--namespace", "CLI", "--metric-name", "Hits", "--dimensions", "Page=home", "--value", "7", "--unit", "Count")
	run(nil, "put-metric-data", "--namespace", "CLI", "--metric-data", `[{"MetricName":"Hits","Dimensions":[{"Name":"Page","Value":"home"}],"StatisticValues":{"SampleCount":2,"Sum":5,"Minimum":2,"Maximum":3},"Unit":"Count"}]`)
	var lm struct {
		Metrics []struct{ Namespace, MetricName string }
	}
	run(&lm, "list-metrics", "--namespace", "CLI")
	if len(lm.Metrics) != 1 || lm.Metrics[0].MetricName != "Hits" {
		t.Fatalf("list-metrics %+v", lm)
	}
	now := c.clock.Now()
	var st struct {
		Datapoints []struct{ Sum, SampleCount float64 }
	}
	run(&st, "get-metric-statistics", "--namespace", "CLI", "--metric-name", "Hits", "--dimensions", "Name=Page,Value=home",
		"--start-time", now.Add(-5*time.Minute).Format(time.RFC3339), "--end-time", now.Add(time.Minute).Format(time.RFC3339), "--period", "60", "--statistics", "Sum", "SampleCount")
	var sum, count float64
	for _, d := range st.Datapoints {
		sum, count = sum+d.Sum, count+d.SampleCount
	}
	if sum != 12 || count != 3 {
		t.Fatalf("get-metric-statistics %+v", st)
	}
	run(nil, "put-metric-alarm", "--alarm-name", "hits", "--namespace", "CLI", "--metric-name", "Hits", "--dimensions", "Name=Page,Value=home",
		"--statistic", "Sum", "--period", "60", "--evaluation-periods", "1", "--threshold", "100", "--comparison-operator", "GreaterThanThreshold")
	var da struct {
		MetricAlarms []struct {
			AlarmName, AlarmArn, StateValue string
			Threshold                       float64
			Dimensions                      []struct{ Name, Value string }
		}
	}
	run(&da, "describe-alarms", "--alarm-names", "hits")
	if len(da.MetricAlarms) != 1 || da.MetricAlarms[0].AlarmArn != "arn:aws:cloudwatch:"+region+":000000000000:alarm:hits" || da.MetricAlarms[0].Threshold != 100 || da.MetricAlarms[0].Dimensions[0].Value != "home" {
		t.Fatalf("describe-alarms %+v", da)
	}
}

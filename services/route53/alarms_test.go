package route53_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	r53 "github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/route53/types"

	"github.com/cloudbox/cloudbox/services/route53"
)

// alarms is CloudWatch as a test sets it: alarm states by region/name.
type alarms map[string]string

func (a alarms) Alarm(_, region, name string) (route53.Alarm, bool, error) {
	st, ok := a[region+"/"+name]
	return route53.Alarm{State: st, Namespace: "NS", MetricName: "M", Statistic: "Average", Period: 60,
		EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: "GreaterThanThreshold"}, ok, nil
}

// TestHealthMetrics: the metric checks follow their alarms, and the
// AWS/Route53 metrics say each check's status, a CALCULATED check's
// healthy children and an endpoint check's share of healthy checkers; a
// disabled check is healthy.
func TestHealthMetrics(t *testing.T) {
	c := newCloud(t)
	create := func(ref string, cfg types.HealthCheckConfig) string {
		t.Helper()
		out := must[*r53.CreateHealthCheckOutput](t)(c.r53.CreateHealthCheck(ctx, &r53.CreateHealthCheckInput{CallerReference: aws.String(ref), HealthCheckConfig: &cfg}))
		return *out.HealthCheck.Id
	}
	web := create("web", types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, IPAddress: aws.String("192.0.2.1")})
	off := create("off", types.HealthCheckConfig{Type: types.HealthCheckTypeHttp, IPAddress: aws.String("192.0.2.2"), Disabled: aws.Bool(true)})
	queue := create("queue", types.HealthCheckConfig{Type: types.HealthCheckTypeCloudwatchMetric,
		AlarmIdentifier: &types.AlarmIdentifier{Region: types.CloudWatchRegionEuWest1, Name: aws.String("deep")}})
	sum := create("sum", types.HealthCheckConfig{Type: types.HealthCheckTypeCalculated, HealthThreshold: aws.Int32(2),
		ChildHealthChecks: []string{web, off, queue}})

	cw := alarms{"eu-west-1/deep": "ALARM"}
	if err := c.svc.EvaluateAlarms(cw); err != nil {
		t.Fatal(err)
	}
	if err := c.svc.ReportHealthCheck(account, web, true, "Success: HTTP Status Code 200, OK"); err != nil {
		t.Fatal(err)
	}
	values := func() map[string]float64 {
		t.Helper()
		m, err := c.svc.HealthMetrics(c.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, d := range m[account] {
			got[d.Dimensions["HealthCheckId"]+" "+d.Name] = d.Value
		}
		return got
	}
	got := values()
	want := map[string]float64{
		web + " HealthCheckStatus": 1, web + " HealthCheckPercentageHealthy": 100,
		off + " HealthCheckStatus":   1,
		queue + " HealthCheckStatus": 0,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	if _, ok := got[sum+" HealthCheckStatus"]; ok {
		t.Errorf("a calculated check that has no status yet published one: %v", got)
	}

	// The alarm goes OK: the metric check is healthy, and says why.
	cw["eu-west-1/deep"] = "OK"
	if err := c.svc.EvaluateAlarms(cw); err != nil {
		t.Fatal(err)
	}
	if got := values()[queue+" HealthCheckStatus"]; got != 1 {
		t.Errorf("HealthCheckStatus after the alarm went OK = %v, want 1", got)
	}
	st := must[*r53.GetHealthCheckStatusOutput](t)(c.r53.GetHealthCheckStatus(ctx, &r53.GetHealthCheckStatusInput{HealthCheckId: aws.String(queue)}))
	if s := *st.HealthCheckObservations[0].StatusReport.Status; s != "Success: The CloudWatch alarm deep is in the OK state." {
		t.Errorf("status %q", s)
	}
	hc := must[*r53.GetHealthCheckOutput](t)(c.r53.GetHealthCheck(ctx, &r53.GetHealthCheckInput{HealthCheckId: aws.String(queue)}))
	if a := hc.HealthCheck.CloudWatchAlarmConfiguration; a == nil || *a.MetricName != "M" || a.ComparisonOperator != types.ComparisonOperatorGreaterThanThreshold {
		t.Errorf("CloudWatchAlarmConfiguration %+v", a)
	}

	// Insufficient data keeps the last known status by default.
	delete(cw, "eu-west-1/deep")
	if err := c.svc.EvaluateAlarms(cw); err != nil {
		t.Fatal(err)
	}
	if got := values()[queue+" HealthCheckStatus"]; got != 1 {
		t.Errorf("HealthCheckStatus with the alarm gone = %v, want the last known 1", got)
	}

	// Reported, the calculated check counts its healthy children.
	if err := c.svc.ReportHealthCheck(account, sum, true, "Success"); err != nil {
		t.Fatal(err)
	}
	if got := values()[sum+" ChildHealthCheckHealthyCount"]; got != 3 {
		t.Errorf("ChildHealthCheckHealthyCount = %v, want 3", got)
	}
}

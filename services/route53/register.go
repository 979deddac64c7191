package route53

import (
	"context"
	"fmt"
	"time"

	"github.com/cloudbox/cloudbox/api"
	cwapi "github.com/cloudbox/cloudbox/api/cloudwatch"
	r53api "github.com/cloudbox/cloudbox/api/route53"
	"github.com/cloudbox/cloudbox/metric"
	"github.com/cloudbox/cloudbox/registry"
	"github.com/cloudbox/cloudbox/services/ec2"
)

// Route 53 reads EC2's VPCs, in its own transactions, to check those it
// associates private zones with. Its changes go INSYNC on the virtual
// clock. It reads CloudWatch alarms for CLOUDWATCH_METRIC health checks,
// through CloudWatch's API, and publishes its health check metrics to
// CloudWatch.
func init() {
	registry.Register(registry.Registration{
		Name:     "route53",
		API:      r53api.Service,
		Requires: []string{"ec2", "cloudwatch"},
		New: func(env *registry.Env) (registry.Service, error) {
			cw := env.Service("cloudwatch")
			pub, ok := cw.(metric.Publisher)
			if !ok {
				return nil, fmt.Errorf("cloudwatch does not publish built-in metrics")
			}
			s := New(env.Store, env.Clock.Now, env.Log, ec2.VPCExists)
			return &registered{Service: s, env: env, metrics: pub, alarms: alarmReader{cw.Invoker()}}, nil
		},
	})
}

// registered is the service as the daemon runs it.
type registered struct {
	*Service
	env     *registry.Env
	metrics metric.Publisher
	alarms  Alarms
}

// Invoker serves Route 53's API.
func (s *Service) Invoker() api.Invoker { return r53api.Bind(s.Handlers()) }

// alarmEvery is how often (virtual time) metric health checks read their
// alarms; Route 53 follows an alarm's state within about this.
const alarmEvery = 10 * time.Second

// Run evaluates the CLOUDWATCH_METRIC health checks every alarmEvery and
// publishes the health check metrics once a virtual minute (their period),
// until ctx ends.
func (r *registered) Run(ctx context.Context) {
	clk := r.env.Clock
	alarms := time.NewTicker(clk.Wall(alarmEvery))
	defer alarms.Stop()
	minute := time.NewTicker(clk.Wall(time.Minute))
	defer minute.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-alarms.C:
			if err := r.EvaluateAlarms(r.alarms); err != nil {
				r.env.Log.Warn("route53: evaluating alarms", "error", err)
			}
		case <-minute.C:
			data, err := r.HealthMetrics(clk.Now())
			if err != nil {
				r.env.Log.Warn("route53: health check metrics", "error", err)
				continue
			}
			for acct, d := range data {
				if err := r.metrics.Publish(acct, MetricsRegion, "AWS/Route53", d); err != nil {
					r.env.Log.Warn("route53: publishing health check metrics", "account", acct, "error", err)
				}
			}
		}
	}
}

// alarmReader reads alarms through CloudWatch's API, as Route 53's service
// principal would.
type alarmReader struct{ cw api.Invoker }

func (a alarmReader) Alarm(account, region, name string) (Alarm, bool, error) {
	ctx := api.WithRequest(context.Background(), &api.Request{Region: region, Caller: api.Principal{
		Account: account, ARN: "arn:aws:sts::" + account + ":assumed-role/AWSServiceRoleForRoute53/Route53"}})
	out, err := a.cw.Invoke(ctx, "DescribeAlarms", &cwapi.DescribeAlarmsInput{AlarmNames: []*string{&name}})
	if err != nil {
		return Alarm{}, false, err
	}
	alarms := out.(*cwapi.DescribeAlarmsOutput).MetricAlarms
	if len(alarms) == 0 {
		return Alarm{}, false, nil
	}
	m := alarms[0]
	al := Alarm{State: deref(m.StateValue), Namespace: deref(m.Namespace), MetricName: deref(m.MetricName),
		Statistic: deref(m.Statistic), ComparisonOperator: deref(m.ComparisonOperator)}
	if m.Period != nil {
		al.Period = *m.Period
	}
	if m.EvaluationPeriods != nil {
		al.EvaluationPeriods = *m.EvaluationPeriods
	}
	if m.Threshold != nil {
		al.Threshold = *m.Threshold
	}
	for _, d := range m.Dimensions {
		al.Dimensions = append(al.Dimensions, [2]string{deref(d.Name), deref(d.Value)})
	}
	return al, true, nil
}

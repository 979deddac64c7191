package autoscaling

import (
	"context"
	"fmt"
	"time"

	"github.com/cloudbox/cloudbox/api"
	asapi "github.com/cloudbox/cloudbox/api/autoscaling"
	"github.com/cloudbox/cloudbox/events"
	"github.com/cloudbox/cloudbox/metric"
	"github.com/cloudbox/cloudbox/registry"
)

// Auto Scaling launches through EC2's API, registers targets through ELB's,
// owns the alarms of its target tracking policies through CloudWatch's and
// publishes its group metrics to CloudWatch; its events go on the bus, and
// it runs the alarm actions that name its policies.
func init() {
	registry.Register(registry.Registration{
		Name:     "autoscaling",
		API:      asapi.Service,
		Requires: []string{"ec2", "elbv2", "cloudwatch"},
		New: func(env *registry.Env) (registry.Service, error) {
			cw := env.Service("cloudwatch")
			pub, ok := cw.(metric.Publisher)
			if !ok {
				return nil, fmt.Errorf("cloudwatch does not publish built-in metrics")
			}
			s := New(env.Store, env.Clock.Now, env.Log,
				fleet{st: env.Store, ec2: env.Service("ec2").Invoker()},
				targetGroups{elb: env.Service("elbv2").Invoker()},
				alarms{cw: cw.Invoker()})
			s.OnEvent(func(ev Event) {
				env.Events.Publish(events.Event{DetailType: ev.DetailType, Source: "aws.autoscaling",
					Account: ev.Account, Region: ev.Region, Time: ev.Time, Resources: ev.Resources, Detail: ev.Detail})
			})
			env.Events.HandleActions("arn:aws:autoscaling:", func(a events.AlarmAction) {
				s.AlarmAction(a.Account, a.Region, a.ARN, a.AlarmName, a.State, a.Value, a.Threshold)
			})
			return &registered{Service: s, env: env, metrics: pub}, nil
		},
	})
}

// registered is the service as the daemon runs it.
type registered struct {
	*Service
	env     *registry.Env
	metrics metric.Publisher
}

// Invoker serves Auto Scaling's API.
func (r *registered) Invoker() api.Invoker { return asapi.Bind(r.Handlers()) }

// Run runs the reconciler once a (virtual) second, and no more often than
// every 50 ms of wall time, and publishes the group metrics, until ctx ends.
func (r *registered) Run(ctx context.Context) {
	clk := r.env.Clock
	go publishGroupMetrics(ctx, r.Service, r.metrics, clk, r.env.Log)
	r.Service.Run(ctx, max(time.Duration(float64(time.Second)/clk.Scale()), 50*time.Millisecond))
}

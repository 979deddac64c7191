package cloudwatch

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/cloudbox/cloudbox/api"
	cwapi "github.com/cloudbox/cloudbox/api/cloudwatch"
	"github.com/cloudbox/cloudbox/events"
	"github.com/cloudbox/cloudbox/registry"
)

// CloudWatch publishes its alarms' state changes on the event bus and runs
// their actions through it: the service that handles an action's ARN
// (Auto Scaling for its policies) does the work.
func init() {
	registry.Register(registry.Registration{
		Name: "cloudwatch",
		API:  cwapi.Service,
		New: func(env *registry.Env) (registry.Service, error) {
			s := New(env.Store, env.Clock.Now, env.Log, env.Clock.Scale())
			s.OnStateChange(func(ev AlarmStateChange) {
				env.Events.Publish(events.Event{DetailType: "CloudWatch Alarm State Change", Source: "aws.cloudwatch",
					Account: ev.Account, Region: ev.Region, Time: ev.Time, Resources: []string{ev.AlarmARN}, Detail: ev})
			})
			s.OnAction(func(account, region, alarm, action, state string) {
				value, threshold, err := s.latest(account, region, alarm)
				if err != nil {
					env.Log.Warn("alarm action", "alarm", alarm, "action", action, "error", err)
					return
				}
				a := events.AlarmAction{Account: account, Region: region, ARN: action, AlarmName: alarm, State: state, Value: value, Threshold: threshold}
				if !env.Events.RunAction(a) {
					env.Log.Debug("alarm action: no service runs it", "alarm", alarm, "action", action)
				}
			})
			return s, nil
		},
	})
}

// Invoker serves CloudWatch's API.
func (s *Service) Invoker() api.Invoker { return cwapi.Bind(s.Handlers()) }

// latest returns an alarm's most recent datapoint and its threshold, from
// the StateReasonData it wrote as AWS does.
func (s *Service) latest(account, region, name string) (value, threshold float64, err error) {
	ctx := api.WithRequest(context.Background(), &api.Request{Region: region, Caller: api.Principal{Account: account}})
	out, err := s.describeAlarms(ctx, &cwapi.DescribeAlarmsInput{AlarmNames: []*string{&name}})
	if err != nil {
		return 0, 0, err
	}
	if len(out.MetricAlarms) == 0 {
		return 0, 0, fmt.Errorf("no alarm %s", name)
	}
	al := out.MetricAlarms[0]
	if al.Threshold != nil {
		threshold = *al.Threshold
	}
	var data struct {
		RecentDatapoints []float64 `json:"recentDatapoints"`
	}
	if al.StateReasonData != nil {
		json.Unmarshal([]byte(*al.StateReasonData), &data)
	}
	if n := len(data.RecentDatapoints); n > 0 {
		value = data.RecentDatapoints[n-1]
	}
	return value, threshold, nil
}

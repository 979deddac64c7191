package cloudformation

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/api"
	cfnapi "github.com/cloudbox/cloudbox/api/cloudformation"
	cwapi "github.com/cloudbox/cloudbox/api/cloudwatch"
	"github.com/cloudbox/cloudbox/uuid"
)

// rollbackConfig is a stack's RollbackConfiguration: the CloudWatch
// alarms watched during its operations and for Monitoring minutes after
// their resources are deployed.
type rollbackConfig struct {
	Triggers   []trigger `json:",omitempty"`
	Monitoring int64     `json:",omitempty"`
}

type trigger struct{ Arn, Type string }

// Alarm types a trigger may watch.
const (
	alarmType     = "AWS::CloudWatch::Alarm"
	compositeType = "AWS::CloudWatch::CompositeAlarm"
)

// rollbackConfigOf checks a request's RollbackConfiguration; nil when it
// gives none.
func rollbackConfigOf(in *cfnapi.RollbackConfiguration) (*rollbackConfig, error) {
	if in == nil {
		return nil, nil
	}
	rc := &rollbackConfig{Monitoring: deref64(in.MonitoringTimeInMinutes)}
	if rc.Monitoring < 0 || rc.Monitoring > 180 {
		return nil, api.Errorf("ValidationError", "1 validation error detected: Value '%d' at 'rollbackConfiguration.monitoringTimeInMinutes' failed to satisfy constraint: Member must have value less than or equal to 180", rc.Monitoring)
	}
	if len(in.RollbackTriggers) > 5 {
		return nil, api.Errorf("ValidationError", "1 validation error detected: Value at 'rollbackConfiguration.rollbackTriggers' failed to satisfy constraint: Member must have length less than or equal to 5")
	}
	seen := map[string]bool{}
	for _, t := range in.RollbackTriggers {
		tr := trigger{Arn: deref(t.Arn), Type: deref(t.Type)}
		if tr.Type != alarmType && tr.Type != compositeType {
			return nil, api.Errorf("ValidationError", "Rollback Trigger type %s is not supported. Supported types are [%s, %s]", tr.Type, alarmType, compositeType)
		}
		if _, _, _, ok := alarmARN(tr.Arn); !ok {
			return nil, api.Errorf("ValidationError", "Rollback Trigger ARN %s is not a valid CloudWatch alarm ARN", tr.Arn)
		}
		if seen[tr.Arn] {
			return nil, api.Errorf("ValidationError", "Rollback Trigger ARN %s is specified more than once", tr.Arn)
		}
		seen[tr.Arn] = true
		rc.Triggers = append(rc.Triggers, tr)
	}
	return rc, nil
}

func deref64(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// alarmARN splits arn:partition:cloudwatch:region:account:alarm:name.
func alarmARN(arn string) (region, account, name string, ok bool) {
	p := strings.SplitN(arn, ":", 7)
	if len(p) != 7 || p[0] != "arn" || p[1] == "" || p[2] != "cloudwatch" || p[3] == "" || p[4] == "" || p[5] != "alarm" || p[6] == "" {
		return "", "", "", false
	}
	return p[3], p[4], p[6], true
}

// describe gives the configuration as DescribeStacks shows it.
func (rc *rollbackConfig) describe() *cfnapi.RollbackConfiguration {
	out := &cfnapi.RollbackConfiguration{}
	if rc == nil {
		return out
	}
	if rc.Monitoring > 0 {
		out.MonitoringTimeInMinutes = &rc.Monitoring
	}
	for _, t := range rc.Triggers {
		out.RollbackTriggers = append(out.RollbackTriggers, &cfnapi.RollbackTrigger{Arn: str(t.Arn), Type: str(t.Type)})
	}
	return out
}

// alarmed checks the triggers' alarms through CloudWatch's API as the
// stack's caller: a reason to roll back when one is in ALARM or missing,
// "" otherwise.
func (d *deployment) alarmed() string {
	if d.triggers == nil {
		return ""
	}
	for _, t := range d.triggers.Triggers {
		region, account, name, _ := alarmARN(t.Arn)
		if account != d.account {
			return fmt.Sprintf("Rollback trigger %s does not exist", t.Arn)
		}
		ctx := api.WithRequest(context.Background(), &api.Request{ID: uuid.New(), Region: region, Caller: d.caller})
		types := []*string{str("MetricAlarm")}
		if t.Type == compositeType {
			types = []*string{str("CompositeAlarm")}
		}
		out, err := d.s.invoker("cloudwatch").Invoke(ctx, "DescribeAlarms", &cwapi.DescribeAlarmsInput{AlarmNames: []*string{&name}, AlarmTypes: types})
		if err != nil {
			d.s.log.Error("cloudformation: reading a rollback trigger", "stack", d.name, "alarm", t.Arn, "err", err)
			return fmt.Sprintf("Unable to read rollback trigger %s", t.Arn)
		}
		res := out.(*cwapi.DescribeAlarmsOutput)
		state := ""
		for _, a := range res.MetricAlarms {
			state = deref(a.StateValue)
		}
		for _, a := range res.CompositeAlarms {
			state = deref(a.StateValue)
		}
		switch state {
		case "":
			return fmt.Sprintf("Rollback trigger %s does not exist", t.Arn)
		case "ALARM":
			return fmt.Sprintf("Rollback triggered by alarm %s in ALARM state", t.Arn)
		}
	}
	return ""
}

// watch checks the triggers while the operation's resources are made,
// until stop is called; the first alarm cancels the operation (through
// cancel) and is what tripped returns.
func (d *deployment) watch(cancel context.CancelFunc) (stop func(), tripped func() string) {
	var mu sync.Mutex
	why := ""
	tripped = func() string {
		mu.Lock()
		defer mu.Unlock()
		return why
	}
	if d.triggers == nil || len(d.triggers.Triggers) == 0 {
		return func() {}, tripped
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			if r := d.alarmed(); r != "" {
				mu.Lock()
				why = r
				mu.Unlock()
				d.s.log.Info("cloudformation: rollback trigger", "stack", d.name, "reason", r)
				cancel()
				return
			}
			select {
			case <-done:
				return
			case <-time.After(d.s.poll):
			}
		}
	}()
	return func() { close(done); <-finished }, tripped
}

// monitor waits, once the resources are deployed, for the monitoring
// period on the virtual clock, checking the triggers; it returns the
// reason to roll back, "" when the period passed quietly.
func (d *deployment) monitor() string {
	if d.triggers == nil || d.triggers.Monitoring == 0 {
		return d.alarmed()
	}
	deadline := d.s.now().Add(time.Duration(d.triggers.Monitoring) * time.Minute)
	d.s.log.Info("cloudformation: monitoring rollback triggers", "stack", d.name, "minutes", d.triggers.Monitoring)
	for {
		if r := d.alarmed(); r != "" {
			return r
		}
		if !d.s.now().Before(deadline) {
			return ""
		}
		time.Sleep(d.s.poll)
	}
}

package route53

import (
	"fmt"
	"slices"
	"time"

	r53api "github.com/cloudbox/cloudbox/api/route53"
	"github.com/cloudbox/cloudbox/metric"
	"github.com/cloudbox/cloudbox/store"
)

// Alarm is a CloudWatch alarm as a CLOUDWATCH_METRIC health check sees it:
// its state and the configuration Route 53 shows as
// CloudWatchAlarmConfiguration.
type Alarm struct {
	State              string // OK, ALARM or INSUFFICIENT_DATA
	Namespace          string
	MetricName         string
	Dimensions         [][2]string `json:",omitempty"`
	Statistic          string
	Period             int64
	EvaluationPeriods  int64
	Threshold          float64
	ComparisonOperator string
}

// Alarms finds CloudWatch alarms (CloudWatch answers, through its API).
type Alarms interface {
	Alarm(account, region, name string) (a Alarm, ok bool, err error)
}

// EvaluateAlarms sets the status of every CLOUDWATCH_METRIC health check
// from its alarm's state, as Route 53 does: OK is healthy, ALARM
// unhealthy, and INSUFFICIENT_DATA (or an alarm that does not exist)
// what the check's InsufficientDataHealthStatus says: Healthy, Unhealthy,
// or the last known status (healthy for a check that has none).
func (s *Service) EvaluateAlarms(alarms Alarms) error {
	var checks []*healthCheckRecord
	var accounts []string
	err := s.store.View(func(tx *store.Tx) error {
		return eachHealthCheck(tx, func(acct string, h *healthCheckRecord) {
			if h.Config.Type == r53api.HealthCheckTypeCLOUDWATCHMETRIC && !h.Config.Disabled {
				checks, accounts = append(checks, h), append(accounts, acct)
			}
		})
	})
	if err != nil {
		return err
	}
	for i, h := range checks {
		a, ok, err := alarms.Alarm(accounts[i], h.Config.AlarmRegion, h.Config.AlarmName)
		if err != nil {
			return err
		}
		healthy, reason := alarmStatus(h, a, ok)
		if h.Reported && h.Healthy == healthy && h.Reason == reason && (!ok || alarmEqual(h.Alarm, a)) {
			continue
		}
		if err := s.reportAlarm(accounts[i], h.ID, healthy, reason, a, ok); err != nil {
			return err
		}
	}
	return nil
}

// alarmStatus is a metric check's status given its alarm.
func alarmStatus(h *healthCheckRecord, a Alarm, ok bool) (healthy bool, reason string) {
	switch {
	case ok && a.State == "OK":
		return true, "Success: The CloudWatch alarm " + h.Config.AlarmName + " is in the OK state."
	case ok && a.State == "ALARM":
		return false, "Failure: The CloudWatch alarm " + h.Config.AlarmName + " is in the ALARM state."
	}
	why := "has insufficient data"
	if !ok {
		why = "does not exist in " + h.Config.AlarmRegion
	}
	switch h.Config.InsufficientDataStatus {
	case r53api.InsufficientDataHealthStatusUnhealthy:
		return false, "Failure: The CloudWatch alarm " + h.Config.AlarmName + " " + why + "."
	case r53api.InsufficientDataHealthStatusHealthy:
		return true, "Success: The CloudWatch alarm " + h.Config.AlarmName + " " + why + "."
	}
	// LastKnownStatus, the default.
	if h.Reported {
		return h.Healthy, h.Reason
	}
	return true, "Success: The CloudWatch alarm " + h.Config.AlarmName + " " + why + "; no last known status."
}

func alarmEqual(a *Alarm, b Alarm) bool {
	if a == nil {
		return false
	}
	b.State = a.State // the state is kept as the check's status, not here
	return a.Namespace == b.Namespace && a.MetricName == b.MetricName && slices.Equal(a.Dimensions, b.Dimensions) &&
		a.Statistic == b.Statistic && a.Period == b.Period && a.EvaluationPeriods == b.EvaluationPeriods &&
		a.Threshold == b.Threshold && a.ComparisonOperator == b.ComparisonOperator
}

// reportAlarm records a metric check's status and, when the alarm exists,
// its configuration.
func (s *Service) reportAlarm(acct, id string, healthy bool, reason string, a Alarm, ok bool) error {
	return s.store.Update(func(tx *store.Tx) error {
		h, found, err := store.Get[healthCheckRecord](tx, key(acct, kindHealthCheck, id))
		if err != nil || !found {
			return err
		}
		h.Reported, h.Healthy, h.Reason, h.CheckedAt = true, healthy, reason, s.now()
		if ok {
			a.State = ""
			h.Alarm = &a
		}
		return saveHealthCheck(tx, acct, h)
	})
}

// alarmConfiguration is the CloudWatchAlarmConfiguration GetHealthCheck
// shows once the alarm has been read.
func (a *Alarm) api() *r53api.CloudWatchAlarmConfiguration {
	if a == nil {
		return nil
	}
	c := &r53api.CloudWatchAlarmConfiguration{
		ComparisonOperator: str(a.ComparisonOperator), EvaluationPeriods: i64(a.EvaluationPeriods),
		MetricName: str(a.MetricName), Namespace: str(a.Namespace), Period: i64(a.Period),
		Statistic: str(a.Statistic), Threshold: &a.Threshold,
	}
	for _, d := range a.Dimensions {
		c.Dimensions = append(c.Dimensions, &r53api.Dimension{Name: str(d[0]), Value: str(d[1])})
	}
	return c
}

// MetricsRegion is where Route 53 publishes its health check metrics.
const MetricsRegion = "us-east-1"

// HealthMetrics are the AWS/Route53 metrics of every health check with a
// status, by account: HealthCheckStatus (1 healthy, 0 not), for checks of
// an endpoint HealthCheckPercentageHealthy (the share of checkers that
// see it healthy: cloudbox has one checker, so 100 or 0), and for
// CALCULATED checks ChildHealthCheckHealthyCount. Disabled checks
// publish nothing but their status, which is healthy, as Route 53
// considers them.
func (s *Service) HealthMetrics(now time.Time) (map[string][]metric.Datum, error) {
	out := map[string][]metric.Datum{}
	err := s.store.View(func(tx *store.Tx) error {
		byID := map[string]*healthCheckRecord{}
		var all []*healthCheckRecord
		var accts []string
		if err := eachHealthCheck(tx, func(acct string, h *healthCheckRecord) {
			byID[acct+"/"+h.ID] = h
			all, accts = append(all, h), append(accts, acct)
		}); err != nil {
			return err
		}
		for i, h := range all {
			acct := accts[i]
			healthy, known := h.status()
			if !known {
				continue
			}
			dims := map[string]string{"HealthCheckId": h.ID}
			datum := func(name string, v float64, unit string) {
				out[acct] = append(out[acct], metric.Datum{Name: name, Dimensions: dims, Value: v, Unit: unit, Time: now})
			}
			datum("HealthCheckStatus", b2f(healthy), "None")
			if h.Config.Disabled {
				continue
			}
			if h.Config.endpoint() {
				datum("HealthCheckPercentageHealthy", 100*b2f(healthy), "Percent")
			}
			if h.Config.Type == r53api.HealthCheckTypeCALCULATED {
				n := 0
				for _, c := range h.Config.ChildHealthChecks {
					if child := byID[acct+"/"+c]; child != nil {
						if ok, known := child.status(); ok || !known {
							n++
						}
					}
				}
				datum("ChildHealthCheckHealthyCount", float64(n), "Count")
			}
		}
		return nil
	})
	return out, err
}

// status is the health check's status as records and metrics see it: a
// disabled check is healthy; otherwise the last report, if any.
func (h *healthCheckRecord) status() (healthy, known bool) {
	if h.Config.Disabled {
		return true, true
	}
	return h.Healthy, h.Reported
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// eachHealthCheck calls f with every health check of every account.
func eachHealthCheck(tx *store.Tx, f func(acct string, h *healthCheckRecord)) error {
	scopes, err := tx.Scopes(kindHealthCheck)
	if err != nil {
		return err
	}
	for _, sc := range scopes {
		checks, err := healthChecks(tx, sc[0])
		if err != nil {
			return fmt.Errorf("route53: health checks of %s: %w", sc[0], err)
		}
		for _, h := range checks {
			f(sc[0], h)
		}
	}
	return nil
}

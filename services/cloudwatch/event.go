package cloudwatch

import (
	"time"

	cwapi "github.com/cloudbox/cloudbox/api/cloudwatch"
)

// AlarmStateChange is an alarm's change of state as EventBridge's
// "CloudWatch Alarm State Change" event reports it: the JSON encoding of
// the struct is the event's detail; the fields without JSON names go in
// the event's envelope (account, region, time, resources).
type AlarmStateChange struct {
	Account  string    `json:"-"`
	Region   string    `json:"-"`
	Time     time.Time `json:"-"`
	AlarmARN string    `json:"-"`

	AlarmName     string             `json:"alarmName"`
	State         AlarmState         `json:"state"`
	PreviousState AlarmState         `json:"previousState"`
	Configuration AlarmConfiguration `json:"configuration"`
}

// AlarmState is one state of an alarm in an AlarmStateChange.
type AlarmState struct {
	Value      string `json:"value"`
	Reason     string `json:"reason"`
	ReasonData string `json:"reasonData,omitempty"` // JSON text
	Timestamp  string `json:"timestamp"`            // 2019-10-02T17:04:40.985+0000
}

// AlarmConfiguration is the alarm's configuration in an AlarmStateChange.
type AlarmConfiguration struct {
	Description string        `json:"description,omitempty"`
	Metrics     []EventMetric `json:"metrics"`
}

// EventMetric is one metric (or expression) of an alarm's configuration.
type EventMetric struct {
	ID         string           `json:"id"`
	MetricStat *EventMetricStat `json:"metricStat,omitempty"`
	Expression string           `json:"expression,omitempty"`
	Label      string           `json:"label,omitempty"`
	ReturnData bool             `json:"returnData"`
}

// EventMetricStat is a metric and its statistic in an EventMetric.
type EventMetricStat struct {
	Metric EventMetricName `json:"metric"`
	Period int64           `json:"period"`
	Stat   string          `json:"stat"`
	Unit   string          `json:"unit,omitempty"`
}

// EventMetricName names a metric in an EventMetricStat.
type EventMetricName struct {
	Namespace  string            `json:"namespace"`
	Name       string            `json:"name"`
	Dimensions map[string]string `json:"dimensions"`
}

func eventTime(t time.Time) string { return t.UTC().Format(reasonTime) }

func eventConfiguration(r *alarmRecord) AlarmConfiguration {
	c := AlarmConfiguration{Description: deref(r.AlarmDescription)}
	stat := func(m *cwapi.Metric, period int64, st, unit string) *EventMetricStat {
		if m == nil {
			m = &cwapi.Metric{}
		}
		dims := map[string]string{}
		for _, d := range m.Dimensions {
			dims[deref(d.Name)] = deref(d.Value)
		}
		return &EventMetricStat{Metric: EventMetricName{Namespace: deref(m.Namespace), Name: deref(m.MetricName), Dimensions: dims}, Period: period, Stat: st, Unit: unit}
	}
	if len(r.Metrics) == 0 {
		m := &cwapi.Metric{Namespace: r.Namespace, MetricName: r.MetricName, Dimensions: r.Dimensions}
		st := deref(r.Statistic) + deref(r.ExtendedStatistic)
		c.Metrics = []EventMetric{{ID: "m1", MetricStat: stat(m, deref(r.Period), st, deref(r.Unit)), ReturnData: true}}
		return c
	}
	for _, q := range r.Metrics {
		em := EventMetric{ID: deref(q.Id), Expression: deref(q.Expression), Label: deref(q.Label), ReturnData: q.ReturnData == nil || *q.ReturnData}
		if ms := q.MetricStat; ms != nil {
			em.MetricStat = stat(ms.Metric, deref(ms.Period), deref(ms.Stat), deref(ms.Unit))
		}
		c.Metrics = append(c.Metrics, em)
	}
	return c
}

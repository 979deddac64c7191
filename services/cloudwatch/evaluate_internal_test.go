package cloudwatch

import (
	"strings"
	"testing"
	"time"

	cwapi "github.com/cloudbox/cloudbox/api/cloudwatch"
	"github.com/cloudbox/cloudbox/store"
)

// The treat-missing-data table, 3 periods, 3 datapoints to alarm (or 2),
// threshold 50, GreaterThanThreshold; a pattern reads oldest first: "0" is
// fine, "X" breaching, "-" missing.
func TestTreatMissingData(t *testing.T) {
	st := store.OpenMemory()
	defer st.Close()
	now := time.Date(2026, 11, 22, 10, 5, 30, 0, time.UTC)
	s := New(st, func() time.Time { return now }, nil, 1)
	sc := scope{"000000000000", "eu-west-1"}
	for _, tc := range []struct {
		pattern string
		m       int64
		want    map[string]string // treatment -> state ("keep" for no change)
	}{
		{"000", 3, map[string]string{"missing": "OK", "ignore": "OK", "breaching": "OK", "notBreaching": "OK"}},
		{"XXX", 3, map[string]string{"missing": "ALARM", "ignore": "ALARM", "breaching": "ALARM", "notBreaching": "ALARM"}},
		{"---", 3, map[string]string{"missing": "INSUFFICIENT_DATA", "ignore": "keep", "breaching": "ALARM", "notBreaching": "OK"}},
		{"0--", 3, map[string]string{"missing": "OK", "ignore": "OK", "breaching": "OK", "notBreaching": "OK"}},
		{"0--", 2, map[string]string{"missing": "OK", "ignore": "OK", "breaching": "ALARM", "notBreaching": "OK"}},
		{"--X", 3, map[string]string{"missing": "ALARM", "ignore": "ALARM", "breaching": "ALARM", "notBreaching": "OK"}},
		{"X-0", 2, map[string]string{"missing": "OK", "ignore": "OK", "breaching": "ALARM", "notBreaching": "OK"}},
	} {
		s.metrics.clear()
		end := alignStart(now, 60)
		var samples []sample
		for i, c := range tc.pattern {
			v := map[rune]float64{'0': 10, 'X': 90}
			if c == '-' {
				continue
			}
			smp := sample{ref: metricRef{Namespace: "T", MetricName: "M"}, at: end.Add(time.Duration(i-3) * time.Minute), unit: "None", resolution: 60}
			smp.set.add(v[c], 1)
			samples = append(samples, smp)
		}
		s.metrics.record(sc, samples, now)
		for tmd, want := range tc.want {
			r := &alarmRecord{MetricAlarm: cwapi.MetricAlarm{
				AlarmName: str("a"), Namespace: str("T"), MetricName: str("M"), Statistic: str("Average"), Period: i64(60),
				EvaluationPeriods: i64(3), DatapointsToAlarm: i64(tc.m), Threshold: f64(50), TreatMissingData: str(tmd),
				ComparisonOperator: str(cwapi.ComparisonOperatorGreaterThanThreshold), StateValue: str("OK"),
			}}
			o := s.assess(sc, r, now)
			got := o.state
			if o.keep {
				got = "keep"
			}
			if got != want {
				t.Errorf("%s, %d of 3, %s: %s, want %s (%s)", tc.pattern, tc.m, tmd, got, want, o.reason)
			}
		}
	}
}

func TestReasonTexts(t *testing.T) {
	st := store.OpenMemory()
	defer st.Close()
	now := time.Date(2026, 11, 22, 10, 5, 30, 0, time.UTC)
	s := New(st, func() time.Time { return now }, nil, 1)
	sc := scope{"000000000000", "eu-west-1"}
	r := &alarmRecord{MetricAlarm: cwapi.MetricAlarm{
		AlarmName: str("a"), Namespace: str("T"), MetricName: str("M"), Statistic: str("Average"), Period: i64(60),
		EvaluationPeriods: i64(3), Threshold: f64(75), TreatMissingData: str("missing"),
		ComparisonOperator: str(cwapi.ComparisonOperatorGreaterThanThreshold), StateValue: str("OK"),
	}}
	if o := s.assess(sc, r, now); o.reason != "Insufficient Data: 3 datapoints were unknown." {
		t.Errorf("no data: %q", o.reason)
	}
	var samples []sample
	for i, v := range []float64{82.5, 90, 1e7} {
		smp := sample{ref: metricRef{Namespace: "T", MetricName: "M"}, at: time.Date(2026, 11, 22, 10, 2+i, 0, 0, time.UTC), unit: "None", resolution: 60}
		smp.set.add(v, 1)
		samples = append(samples, smp)
	}
	s.metrics.record(sc, samples, now)
	// Without DatapointsToAlarm AWS names the datapoints alone; an
	// "M out of N" alarm gets both counts and the transition's minimum.
	if o := s.assess(sc, r, now); o.reason != "Threshold Crossed: 3 datapoints [1.0E7 (22/11/26 10:04:00), 90.0 (22/11/26 10:03:00), 82.5 (22/11/26 10:02:00)] were greater than the threshold (75.0)." {
		t.Errorf("without DatapointsToAlarm: %q", o.reason)
	}
	r.DatapointsToAlarm = i64(3)
	o := s.assess(sc, r, now)
	want := "Threshold Crossed: 3 out of the last 3 datapoints [1.0E7 (22/11/26 10:04:00), 90.0 (22/11/26 10:03:00), 82.5 (22/11/26 10:02:00)] were greater than the threshold (75.0) (minimum 3 datapoints for OK -> ALARM transition)."
	if o.state != "ALARM" || o.reason != want {
		t.Errorf("got %s %q\nwant %q", o.state, o.reason, want)
	}
	for _, part := range []string{`"queryDate":"2026-11-22T10:05:30.000+0000"`, `"startDate":"2026-11-22T10:02:00.000+0000"`, `"recentDatapoints":[82.5,90.0,1.0E7]`, `"threshold":75.0`, `"period":60`, `"statistic":"Average"`} {
		if !strings.Contains(o.reasonData, part) {
			t.Errorf("reason data %s lacks %s", o.reasonData, part)
		}
	}
}

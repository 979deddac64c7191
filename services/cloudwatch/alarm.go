package cloudwatch

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	cwapi "github.com/cloudbox/cloudbox/api/cloudwatch"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/store"
)

const (
	maxAlarmPage     = 100
	defaultAlarmPage = 50
	maxAlarmWindow   = 7 * 24 * time.Hour // Period × EvaluationPeriods
	initialReason    = "Unchecked: Initial alarm creation"
)

var treatMissing = []string{"missing", "ignore", "breaching", "notBreaching"}

var comparisons = map[string]string{ // operator -> words in reasons
	cwapi.ComparisonOperatorGreaterThanThreshold:          "greater than",
	cwapi.ComparisonOperatorGreaterThanOrEqualToThreshold: "greater than or equal to",
	cwapi.ComparisonOperatorLessThanThreshold:             "less than",
	cwapi.ComparisonOperatorLessThanOrEqualToThreshold:    "less than or equal to",
}

// alarmRecord is a metric alarm as DescribeAlarms shows it, plus its tags.
type alarmRecord struct {
	cwapi.MetricAlarm
	Tags []tag `json:"tags,omitempty"`
}

type tag struct{ Key, Value string }

func alarmKey(sc scope, name string) store.Key {
	return store.Key{Account: sc.account, Region: sc.region, Kind: kindAlarm, ID: name}
}

func alarmARN(sc scope, name string) string {
	return arn.New("cloudwatch", sc.region, sc.account, "alarm:"+name).String()
}

func (s *Service) registerAlarms(h *cwapi.Handlers) {
	h.PutMetricAlarm = s.putMetricAlarm
	h.DescribeAlarms = s.describeAlarms
	h.DescribeAlarmsForMetric = s.describeAlarmsForMetric
	h.DescribeAlarmHistory = s.describeAlarmHistory
	h.DeleteAlarms = s.deleteAlarms
	h.EnableAlarmActions = func(ctx context.Context, in *cwapi.EnableAlarmActionsInput) (*cwapi.EnableAlarmActionsOutput, error) {
		return &cwapi.EnableAlarmActionsOutput{}, s.setActionsEnabled(ctx, in.AlarmNames, true)
	}
	h.DisableAlarmActions = func(ctx context.Context, in *cwapi.DisableAlarmActionsInput) (*cwapi.DisableAlarmActionsOutput, error) {
		return &cwapi.DisableAlarmActionsOutput{}, s.setActionsEnabled(ctx, in.AlarmNames, false)
	}
	h.SetAlarmState = s.setAlarmState
	h.TagResource = s.tagResource
	h.UntagResource = s.untagResource
	h.ListTagsForResource = s.listTagsForResource
}

// checkAlarm validates PutMetricAlarm as AWS does.
func checkAlarm(in *cwapi.PutMetricAlarmInput) error {
	single := in.MetricName != nil || in.Namespace != nil || in.Statistic != nil || in.ExtendedStatistic != nil || len(in.Dimensions) > 0 || in.Period != nil || in.Unit != nil
	if len(in.Metrics) > 0 && single {
		return api.Errorf("InvalidParameterCombination", "The parameters Metrics and MetricName, Namespace, Dimensions, Statistic, ExtendedStatistic, Period and Unit are mutually exclusive.")
	}
	if _, ok := comparisons[deref(in.ComparisonOperator)]; !ok {
		return api.Errorf("InvalidParameterValue", "The comparison operator %s requires an anomaly detection band (ThresholdMetricId), which cloudbox does not support.", deref(in.ComparisonOperator))
	}
	if in.ThresholdMetricId != nil {
		return api.Errorf("InvalidParameterCombination", "ThresholdMetricId is only allowed with the LessThanLowerOrGreaterThanUpperThreshold, LessThanLowerThreshold and GreaterThanUpperThreshold comparison operators.")
	}
	if in.Threshold == nil {
		return api.Errorf("MissingParameter", "The parameter Threshold is required.")
	}
	if tmd := in.TreatMissingData; tmd != nil && !slices.Contains(treatMissing, *tmd) {
		return api.Errorf("InvalidParameterValue", "The value %s for parameter TreatMissingData is invalid. Valid values are: breaching, notBreaching, ignore, missing.", *tmd)
	}
	n := *in.EvaluationPeriods
	if m := in.DatapointsToAlarm; m != nil && *m > n {
		return api.Errorf("InvalidParameterValue", "DatapointsToAlarm (%d) must be less than or equal to EvaluationPeriods (%d).", *m, n)
	}
	var period int64
	if len(in.Metrics) > 0 {
		if err := checkQueries("Metrics", in.Metrics); err != nil {
			return err
		}
		returned := 0
		for _, q := range in.Metrics {
			if q.ReturnData == nil || *q.ReturnData {
				returned++
			}
		}
		if returned != 1 {
			return api.Errorf("ValidationError", "Exactly one element of the metrics list should return data.")
		}
		period = alarmPeriod(in.Metrics, 0)
	} else {
		switch {
		case in.MetricName == nil:
			return api.Errorf("MissingParameter", "The parameter MetricName is required.")
		case in.Namespace == nil:
			return api.Errorf("MissingParameter", "The parameter Namespace is required.")
		case in.Period == nil:
			return api.Errorf("MissingParameter", "The parameter Period is required.")
		case (in.Statistic == nil) == (in.ExtendedStatistic == nil):
			return api.Errorf("InvalidParameterCombination", "Exactly one of the parameters Statistic and ExtendedStatistic must be specified.")
		}
		if es := in.ExtendedStatistic; es != nil {
			if _, ok := percentile(*es); !ok {
				return invalidValue("ExtendedStatistic", *es)
			}
		}
		period = *in.Period
	}
	if period != 10 && period != 30 && period%60 != 0 {
		return api.Errorf("InvalidParameterValue", "The parameter Period must be 10, 30 or a multiple of 60.")
	}
	if time.Duration(period*n)*time.Second > maxAlarmWindow {
		return api.Errorf("InvalidParameterCombination", "The evaluation period (Period × EvaluationPeriods) must not exceed 7 days.")
	}
	return nil
}

// alarmPeriod is the period of an alarm's datapoints: Period, or that of
// its metric math (the returned query's own, else its metrics').
func alarmPeriod(qs []*cwapi.MetricDataQuery, single int64) int64 {
	if len(qs) == 0 {
		return single
	}
	for _, q := range qs {
		if q.ReturnData == nil || *q.ReturnData {
			if q.MetricStat != nil {
				return deref(q.MetricStat.Period)
			}
			return queryPeriod(q, qs)
		}
	}
	return defaultExpressionSecs
}

func (s *Service) putMetricAlarm(ctx context.Context, in *cwapi.PutMetricAlarmInput) (*cwapi.PutMetricAlarmOutput, error) {
	if err := checkAlarm(in); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	now := s.now()
	name := *in.AlarmName
	err := s.store.Update(func(tx *store.Tx) error {
		var old alarmRecord
		exists, err := tx.Get(alarmKey(sc, name), &old)
		if err != nil {
			return err
		}
		rec := alarmRecord{MetricAlarm: cwapi.MetricAlarm{
			AlarmName:                          str(name),
			AlarmArn:                           str(alarmARN(sc, name)),
			AlarmDescription:                   in.AlarmDescription,
			ActionsEnabled:                     boolp(in.ActionsEnabled == nil || *in.ActionsEnabled),
			AlarmActions:                       nonNil(in.AlarmActions),
			OKActions:                          nonNil(in.OKActions),
			InsufficientDataActions:            nonNil(in.InsufficientDataActions),
			AlarmConfigurationUpdatedTimestamp: tm(now),
			ComparisonOperator:                 in.ComparisonOperator,
			DatapointsToAlarm:                  in.DatapointsToAlarm,
			EvaluationPeriods:                  in.EvaluationPeriods,
			EvaluateLowSampleCountPercentile:   in.EvaluateLowSampleCountPercentile,
			Threshold:                          in.Threshold,
			TreatMissingData:                   in.TreatMissingData,
			MetricName:                         in.MetricName,
			Namespace:                          in.Namespace,
			Dimensions:                         nonNil(in.Dimensions),
			Period:                             in.Period,
			Statistic:                          in.Statistic,
			ExtendedStatistic:                  in.ExtendedStatistic,
			Unit:                               in.Unit,
			Metrics:                            in.Metrics,
			StateValue:                         str(cwapi.StateValueINSUFFICIENTDATA),
			StateReason:                        str(initialReason),
			StateUpdatedTimestamp:              tm(now),
			StateTransitionedTimestamp:         tm(now),
		}}
		if rec.TreatMissingData == nil {
			rec.TreatMissingData = str("missing")
		}
		if len(rec.Metrics) == 0 {
			rec.Metrics = nil
		}
		summary, data := fmt.Sprintf("Alarm %q created", name), map[string]any{"version": "1.0", "type": "Create", "createdAlarm": historyAlarm(&rec)}
		if exists {
			// An update keeps the alarm's state and tags; the evaluator
			// re-evaluates it at once.
			rec.StateValue, rec.StateReason, rec.StateReasonData = old.StateValue, old.StateReason, old.StateReasonData
			rec.StateUpdatedTimestamp, rec.StateTransitionedTimestamp = old.StateUpdatedTimestamp, old.StateTransitionedTimestamp
			rec.Tags = old.Tags
			summary, data = fmt.Sprintf("Alarm %q updated", name), map[string]any{"version": "1.0", "type": "Update", "originalAlarm": historyAlarm(&old), "updatedAlarm": historyAlarm(&rec)}
		} else {
			for _, t := range in.Tags {
				rec.Tags = setTag(rec.Tags, deref(t.Key), deref(t.Value))
			}
		}
		if err := tx.Put(alarmKey(sc, name), rec); err != nil {
			return err
		}
		return s.addHistory(tx, sc, name, cwapi.HistoryItemTypeConfigurationUpdate, summary, data, now)
	})
	if err != nil {
		return nil, err
	}
	return &cwapi.PutMetricAlarmOutput{}, nil
}

// historyAlarm is the alarm as history data shows it (without tags).
func historyAlarm(r *alarmRecord) cwapi.MetricAlarm { return r.MetricAlarm }

func nonNil[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}

func setTag(tags []tag, k, v string) []tag {
	for i := range tags {
		if tags[i].Key == k {
			tags[i].Value = v
			return tags
		}
	}
	return append(tags, tag{k, v})
}

// listAlarms returns the scope's alarms, by name.
func (s *Service) listAlarms(sc scope) ([]alarmRecord, error) {
	var out []alarmRecord
	err := s.store.View(func(tx *store.Tx) error {
		return tx.List(sc.account, sc.region, kindAlarm, func(_ string, raw []byte) error {
			var r alarmRecord
			if err := json.Unmarshal(raw, &r); err != nil {
				return err
			}
			out = append(out, r)
			return nil
		})
	})
	return out, err
}

func (s *Service) describeAlarms(ctx context.Context, in *cwapi.DescribeAlarmsInput) (*cwapi.DescribeAlarmsOutput, error) {
	if len(in.AlarmNames) > 0 && in.AlarmNamePrefix != nil {
		return nil, api.Errorf("InvalidParameterCombination", "AlarmNames and AlarmNamePrefix are mutually exclusive.")
	}
	if in.ChildrenOfAlarmName != nil || in.ParentsOfAlarmName != nil {
		// Only composite alarms have children or parents: there are none.
		return &cwapi.DescribeAlarmsOutput{MetricAlarms: []*cwapi.MetricAlarm{}, CompositeAlarms: []*cwapi.CompositeAlarm{}}, nil
	}
	offset, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	page := int(deref(in.MaxRecords))
	if page == 0 {
		page = defaultAlarmPage
	}
	metricType := len(in.AlarmTypes) == 0
	for _, t := range in.AlarmTypes {
		if deref(t) == cwapi.AlarmTypeMetricAlarm {
			metricType = true
		}
	}
	alarms, err := s.listAlarms(scopeOf(ctx))
	if err != nil {
		return nil, err
	}
	var matched []*cwapi.MetricAlarm
	for i := range alarms {
		a := &alarms[i].MetricAlarm
		name := deref(a.AlarmName)
		switch {
		case !metricType,
			len(in.AlarmNames) > 0 && !slices.ContainsFunc(in.AlarmNames, func(n *string) bool { return deref(n) == name }),
			in.AlarmNamePrefix != nil && !strings.HasPrefix(name, *in.AlarmNamePrefix),
			in.StateValue != nil && deref(a.StateValue) != *in.StateValue,
			in.ActionPrefix != nil && !hasActionPrefix(a, *in.ActionPrefix):
			continue
		}
		matched = append(matched, a)
	}
	if offset > len(matched) {
		return nil, api.Errorf("InvalidNextToken", "The service couldn't process the pagination token.")
	}
	end := min(offset+page, len(matched))
	out := &cwapi.DescribeAlarmsOutput{MetricAlarms: matched[offset:end], CompositeAlarms: []*cwapi.CompositeAlarm{}}
	if out.MetricAlarms == nil {
		out.MetricAlarms = []*cwapi.MetricAlarm{}
	}
	if end < len(matched) {
		out.NextToken = encodeToken(end)
	}
	return out, nil
}

func hasActionPrefix(a *cwapi.MetricAlarm, prefix string) bool {
	for _, list := range [][]*string{a.AlarmActions, a.OKActions, a.InsufficientDataActions} {
		for _, act := range list {
			if strings.HasPrefix(deref(act), prefix) {
				return true
			}
		}
	}
	return false
}

func (s *Service) describeAlarmsForMetric(ctx context.Context, in *cwapi.DescribeAlarmsForMetricInput) (*cwapi.DescribeAlarmsForMetricOutput, error) {
	alarms, err := s.listAlarms(scopeOf(ctx))
	if err != nil {
		return nil, err
	}
	want := newRef(*in.Namespace, *in.MetricName, in.Dimensions).id()
	out := &cwapi.DescribeAlarmsForMetricOutput{MetricAlarms: []*cwapi.MetricAlarm{}}
	for i := range alarms {
		a := &alarms[i].MetricAlarm
		if a.MetricName == nil || newRef(deref(a.Namespace), *a.MetricName, a.Dimensions).id() != want ||
			in.Period != nil && deref(a.Period) != *in.Period ||
			in.Statistic != nil && deref(a.Statistic) != *in.Statistic ||
			in.ExtendedStatistic != nil && deref(a.ExtendedStatistic) != *in.ExtendedStatistic ||
			in.Unit != nil && deref(a.Unit) != *in.Unit {
			continue
		}
		out.MetricAlarms = append(out.MetricAlarms, a)
	}
	return out, nil
}

func (s *Service) deleteAlarms(ctx context.Context, in *cwapi.DeleteAlarmsInput) (*cwapi.DeleteAlarmsOutput, error) {
	sc := scopeOf(ctx)
	// A name no alarm has is skipped, as CloudWatch does (its model lists
	// ResourceNotFound, but the service answers success: CloudFormation's
	// handler contract notes it).
	err := s.store.Update(func(tx *store.Tx) error {
		for _, n := range in.AlarmNames {
			if _, err := tx.Delete(alarmKey(sc, deref(n))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &cwapi.DeleteAlarmsOutput{}, nil
}

// setActionsEnabled: names of alarms that do not exist are ignored, as on
// AWS.
func (s *Service) setActionsEnabled(ctx context.Context, names []*string, enabled bool) error {
	sc := scopeOf(ctx)
	return s.store.Update(func(tx *store.Tx) error {
		for _, n := range names {
			var r alarmRecord
			ok, err := tx.Get(alarmKey(sc, deref(n)), &r)
			if err != nil || !ok || deref(r.ActionsEnabled) == enabled {
				if err != nil {
					return err
				}
				continue
			}
			r.ActionsEnabled = boolp(enabled)
			if err := tx.Put(alarmKey(sc, deref(n)), r); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *Service) setAlarmState(ctx context.Context, in *cwapi.SetAlarmStateInput) (*cwapi.SetAlarmStateOutput, error) {
	sc := scopeOf(ctx)
	if d := in.StateReasonData; d != nil && !json.Valid([]byte(*d)) {
		return nil, api.Errorf("InvalidFormat", "The StateReasonData is not valid JSON.")
	}
	now := s.now()
	var tr *transition
	err := s.store.Update(func(tx *store.Tx) error {
		var r alarmRecord
		ok, err := tx.Get(alarmKey(sc, *in.AlarmName), &r)
		if err != nil {
			return err
		}
		if !ok {
			return api.NewError(404, "ResourceNotFound", "Alarm %s not found", *in.AlarmName)
		}
		tr, err = s.changeState(tx, sc, &r, *in.StateValue, *in.StateReason, deref(in.StateReasonData), now)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.deliver(tr)
	return &cwapi.SetAlarmStateOutput{}, nil
}

// alarmFromARN finds the alarm a tagging call names.
func alarmFromARN(s string) (scope, string, error) {
	a, err := arn.Parse(s)
	if err != nil || a.Service != "cloudwatch" || !strings.HasPrefix(a.Resource, "alarm:") {
		return scope{}, "", invalidValue("ResourceARN", s)
	}
	return scope{a.Account, a.Region}, strings.TrimPrefix(a.Resource, "alarm:"), nil
}

// withAlarmTags runs f on the tags of the alarm arnStr names, writing
// them back when write is set.
func (s *Service) withAlarmTags(ctx context.Context, arnStr string, write bool, f func(r *alarmRecord)) error {
	sc, name, err := alarmFromARN(arnStr)
	if err != nil {
		return err
	}
	if caller := scopeOf(ctx); caller != sc {
		return api.NewError(404, "ResourceNotFoundException", "The specified resource %s does not exist.", arnStr)
	}
	run := s.store.View
	if write {
		run = s.store.Update
	}
	return run(func(tx *store.Tx) error {
		var r alarmRecord
		ok, err := tx.Get(alarmKey(sc, name), &r)
		if err != nil {
			return err
		}
		if !ok {
			return api.NewError(404, "ResourceNotFoundException", "The specified resource %s does not exist.", arnStr)
		}
		f(&r)
		if !write {
			return nil
		}
		return tx.Put(alarmKey(sc, name), r)
	})
}

func (s *Service) tagResource(ctx context.Context, in *cwapi.TagResourceInput) (*cwapi.TagResourceOutput, error) {
	err := s.withAlarmTags(ctx, *in.ResourceARN, true, func(r *alarmRecord) {
		for _, t := range in.Tags {
			r.Tags = setTag(r.Tags, deref(t.Key), deref(t.Value))
		}
	})
	if err != nil {
		return nil, err
	}
	return &cwapi.TagResourceOutput{}, nil
}

func (s *Service) untagResource(ctx context.Context, in *cwapi.UntagResourceInput) (*cwapi.UntagResourceOutput, error) {
	err := s.withAlarmTags(ctx, *in.ResourceARN, true, func(r *alarmRecord) {
		r.Tags = slices.DeleteFunc(r.Tags, func(t tag) bool {
			return slices.ContainsFunc(in.TagKeys, func(k *string) bool { return deref(k) == t.Key })
		})
	})
	if err != nil {
		return nil, err
	}
	return &cwapi.UntagResourceOutput{}, nil
}

func (s *Service) listTagsForResource(ctx context.Context, in *cwapi.ListTagsForResourceInput) (*cwapi.ListTagsForResourceOutput, error) {
	out := &cwapi.ListTagsForResourceOutput{Tags: []*cwapi.Tag{}}
	err := s.withAlarmTags(ctx, *in.ResourceARN, false, func(r *alarmRecord) {
		for _, t := range r.Tags {
			out.Tags = append(out.Tags, &cwapi.Tag{Key: str(t.Key), Value: str(t.Value)})
		}
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

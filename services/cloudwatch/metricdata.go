package cloudwatch

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	cwapi "github.com/cloudbox/cloudbox/api/cloudwatch"
)

const (
	maxQueries            = 500
	defaultMaxDatapoints  = 100800
	defaultExpressionSecs = 60
)

var queryIDRE = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

// checkQueries validates metric data queries as GetMetricData and
// PutMetricAlarm do; param names the list in messages.
func checkQueries(param string, qs []*cwapi.MetricDataQuery) error {
	if len(qs) > maxQueries {
		return api.Errorf("InvalidParameterValue", "The collection %s must not have a size greater than %d.", param, maxQueries)
	}
	seen := map[string]bool{}
	for i, q := range qs {
		p := fmt.Sprintf("%s.member.%d", param, i+1)
		id := deref(q.Id)
		if !queryIDRE.MatchString(id) {
			return api.Errorf("InvalidParameterValue", "The value %s for parameter %s.Id is invalid.", id, p)
		}
		if seen[id] {
			return api.Errorf("InvalidParameterValue", "The values for parameter id in %s are not unique.", param)
		}
		seen[id] = true
		if (q.MetricStat == nil) == (q.Expression == nil) {
			return api.Errorf("InvalidParameterCombination", "Exactly one element of %[1]s.MetricStat and %[1]s.Expression must be present.", p)
		}
		if ms := q.MetricStat; ms != nil {
			if !validPeriod(deref(ms.Period)) {
				return api.Errorf("InvalidParameterValue", "The parameter %s.MetricStat.Period must be 1, 5, 10, 30 or a multiple of 60.", p)
			}
			if !validStat(deref(ms.Stat)) {
				return api.Errorf("InvalidParameterValue", "The value %s for parameter %s.MetricStat.Stat is invalid.", deref(ms.Stat), p)
			}
			continue
		}
		if _, err := parseExpr(*q.Expression); err != nil {
			return api.Errorf("ValidationError", "Error in expression '%s': %s", id, err)
		}
	}
	return nil
}

// runQueries evaluates every query over [start, end) and returns each
// query's value by id. Queries must have passed checkQueries.
func (s *Service) runQueries(sc scope, qs []*cwapi.MetricDataQuery, start, end time.Time) (map[string]mvalue, error) {
	byID := map[string]*cwapi.MetricDataQuery{}
	for _, q := range qs {
		byID[*q.Id] = q
	}
	done := map[string]mvalue{}
	busy := map[string]bool{}
	env := &mathEnv{}
	env.metrics = func(filter string) []tseries {
		var out []tseries
		for _, q := range qs {
			if q.MetricStat == nil {
				continue
			}
			v, _ := env.resolve(*q.Id)
			for _, t := range v.list {
				if strings.Contains(t.label, filter) {
					out = append(out, t)
				}
			}
		}
		return out
	}
	env.resolve = func(id string) (mvalue, error) {
		if v, ok := done[id]; ok {
			return v, nil
		}
		q := byID[id]
		if q == nil {
			return mvalue{}, exprErrorf("Unknown metric id %s", id)
		}
		if busy[id] {
			return mvalue{}, exprErrorf("Circular dependency on %s", id)
		}
		busy[id] = true
		defer delete(busy, id)
		var v mvalue
		if q.MetricStat != nil {
			v = mvalue{list: []tseries{s.statSeries(sc, q, start, end)}}
		} else {
			n, err := parseExpr(*q.Expression)
			if err != nil {
				return v, err
			}
			if v, err = n.eval(env); err != nil {
				return v, err
			}
			if v.scalar {
				v = spread(v.num, queryPeriod(q, qs), start, end)
			}
			label := deref(q.Label)
			if label == "" {
				label = id
			}
			for i := range v.list {
				if len(v.list) == 1 || v.list[i].label == "" {
					v.list[i].label = label
				}
			}
		}
		done[id] = v
		return v, nil
	}
	for _, q := range qs {
		if _, err := env.resolve(*q.Id); err != nil {
			return nil, api.Errorf("ValidationError", "Error in expression '%s': %s", *q.Id, err)
		}
	}
	return done, nil
}

// statSeries is a MetricStat query's series.
func (s *Service) statSeries(sc scope, q *cwapi.MetricDataQuery, start, end time.Time) tseries {
	ms := q.MetricStat
	m := deref(ms.Metric)
	ref := newRef(deref(m.Namespace), deref(m.MetricName), m.Dimensions)
	period := *ms.Period
	label := deref(q.Label)
	if label == "" {
		label = ref.MetricName
	}
	out := tseries{label: label, points: map[int64]float64{}}
	for _, ps := range s.metrics.aggregate(sc, ref, deref(ms.Unit), alignStart(start, period), end, time.Duration(period)*time.Second) {
		if v, ok := statValue(&ps, *ms.Stat); ok {
			out.points[ps.start.Unix()] = v
		}
	}
	return out
}

// queryPeriod is an expression's period: its own, else the largest of the
// request's metrics.
func queryPeriod(q *cwapi.MetricDataQuery, qs []*cwapi.MetricDataQuery) int64 {
	if q.Period != nil {
		return *q.Period
	}
	p := int64(0)
	for _, o := range qs {
		if o.MetricStat != nil {
			p = max(p, deref(o.MetricStat.Period))
		}
	}
	if p == 0 {
		p = defaultExpressionSecs
	}
	return p
}

// spread turns a scalar result into a series with the value at every
// period.
func spread(v float64, period int64, start, end time.Time) mvalue {
	t := tseries{points: map[int64]float64{}}
	if !math.IsNaN(v) {
		for at := alignStart(start, period); at.Before(end); at = at.Add(time.Duration(period) * time.Second) {
			t.points[at.Unix()] = v
		}
	}
	return mvalue{list: []tseries{t}}
}

func (s *Service) getMetricData(ctx context.Context, in *cwapi.GetMetricDataInput) (*cwapi.GetMetricDataOutput, error) {
	if len(in.MetricDataQueries) == 0 {
		return nil, api.Errorf("MissingParameter", "The parameter MetricDataQueries is required.")
	}
	if err := checkQueries("MetricDataQueries", in.MetricDataQueries); err != nil {
		return nil, err
	}
	start, end := *in.StartTime, *in.EndTime
	if !start.Before(end) {
		return nil, api.Errorf("InvalidParameterValue", "The parameter StartTime must be less than the parameter EndTime.")
	}
	offset, err := decodeToken(in.NextToken)
	if err != nil {
		return nil, err
	}
	maxPoints := int(deref(in.MaxDatapoints))
	if maxPoints <= 0 {
		maxPoints = defaultMaxDatapoints
	}
	values, err := s.runQueries(scopeOf(ctx), in.MetricDataQueries, start, end)
	if err != nil {
		return nil, err
	}
	ascending := deref(in.ScanBy) == cwapi.ScanByTimestampAscending
	out := &cwapi.GetMetricDataOutput{MetricDataResults: []*cwapi.MetricDataResult{}, Messages: []*cwapi.MessageData{}}
	skip, room, total := offset, maxPoints, 0
	for _, q := range in.MetricDataQueries {
		if q.ReturnData != nil && !*q.ReturnData {
			continue
		}
		for _, t := range values[*q.Id].list {
			times := sortedTimes(t.points, ascending)
			total += len(times)
			from := min(skip, len(times))
			skip -= from
			to := from + min(room, len(times)-from)
			room -= to - from
			if to == from && (offset > 0 || len(times) > 0) {
				continue // nothing of it on this page
			}
			r := &cwapi.MetricDataResult{Id: q.Id, Label: str(t.label), StatusCode: str(cwapi.StatusCodeComplete), Timestamps: []*time.Time{}, Values: []*float64{}, Messages: []*cwapi.MessageData{}}
			for _, at := range times[from:to] {
				r.Timestamps = append(r.Timestamps, tm(time.Unix(at, 0)))
				r.Values = append(r.Values, f64(t.points[at]))
			}
			if to < len(times) {
				r.StatusCode = str(cwapi.StatusCodePartialData)
			}
			out.MetricDataResults = append(out.MetricDataResults, r)
		}
	}
	if next := offset + maxPoints; next < total {
		out.NextToken = encodeToken(next)
	}
	return out, nil
}

func sortedTimes(points map[int64]float64, ascending bool) []int64 {
	times := make([]int64, 0, len(points))
	for at := range points {
		times = append(times, at)
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] == ascending })
	return times
}

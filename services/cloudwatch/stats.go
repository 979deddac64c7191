package cloudwatch

import (
	"context"

	"math"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/cloudbox/cloudbox/api"
	cwapi "github.com/cloudbox/cloudbox/api/cloudwatch"
)

const maxDatapoints = 1440 // GetMetricStatistics' limit per call

var basicStats = []string{cwapi.StatisticSampleCount, cwapi.StatisticAverage, cwapi.StatisticSum, cwapi.StatisticMinimum, cwapi.StatisticMaximum}

var percentileRE = regexp.MustCompile(`^p(\d{1,2}(\.\d{1,2})?|100(\.0{1,2})?)$`)

// percentile parses a pNN.NN statistic.
func percentile(stat string) (float64, bool) {
	m := percentileRE.FindStringSubmatch(stat)
	if m == nil {
		return 0, false
	}
	p, err := strconv.ParseFloat(m[1], 64)
	return p, err == nil
}

func validStat(stat string) bool {
	if slices.Contains(basicStats, stat) {
		return true
	}
	_, ok := percentile(stat)
	return ok
}

// statValue is one statistic of a period's aggregate; ok is false when
// it cannot be computed (a percentile of statistic sets without values).
func statValue(ps *periodStat, stat string) (float64, bool) {
	switch stat {
	case cwapi.StatisticSampleCount:
		return ps.count, true
	case cwapi.StatisticAverage:
		return ps.sum / ps.count, true
	case cwapi.StatisticSum:
		return ps.sum, true
	case cwapi.StatisticMinimum:
		return ps.min, true
	case cwapi.StatisticMaximum:
		return ps.max, true
	}
	p, ok := percentile(stat)
	if !ok || len(ps.values) == 0 {
		return 0, false
	}
	// Nearest rank over the sorted values.
	rank := int(math.Ceil(p / 100 * float64(len(ps.values))))
	return ps.values[min(max(rank, 1), len(ps.values))-1], true
}

// validPeriod: 1, 5, 10, 30 or a multiple of 60 seconds.
func validPeriod(p int64) bool {
	return p == 1 || p == 5 || p == 10 || p == 30 || (p > 0 && p%60 == 0)
}

// alignStart rounds t down to a multiple of the period since the epoch,
// so every query and alarm sees the same periods.
func alignStart(t time.Time, period int64) time.Time {
	u := t.Unix()
	return time.Unix(u-mod(u, period), 0).UTC()
}

func (s *Service) getMetricStatistics(ctx context.Context, in *cwapi.GetMetricStatisticsInput) (*cwapi.GetMetricStatisticsOutput, error) {
	if len(in.Statistics) == 0 && len(in.ExtendedStatistics) == 0 {
		return nil, api.Errorf("MissingParameter", "Must specify either Statistics or ExtendedStatistics.")
	}
	if len(in.Statistics) > 0 && len(in.ExtendedStatistics) > 0 {
		return nil, api.Errorf("InvalidParameterCombination", "Statistics and ExtendedStatistics are mutually exclusive; specify only one of them.")
	}
	for i, st := range in.Statistics {
		if !slices.Contains(basicStats, deref(st)) {
			return nil, api.Errorf("InvalidParameterValue", "The parameter Statistics.member.%d must be a value in the set [ SampleCount, Average, Sum, Minimum, Maximum ].", i+1)
		}
	}
	for i, st := range in.ExtendedStatistics {
		if _, ok := percentile(deref(st)); !ok {
			return nil, api.Errorf("InvalidParameterValue", "The value %s for parameter ExtendedStatistics.member.%d is invalid.", deref(st), i+1)
		}
	}
	period := deref(in.Period)
	if !validPeriod(period) {
		return nil, api.Errorf("InvalidParameterValue", "The parameter Period must be 1, 5, 10, 30 or a multiple of 60.")
	}
	start, end := *in.StartTime, *in.EndTime
	if !start.Before(end) {
		return nil, api.Errorf("InvalidParameterValue", "The parameter StartTime must be less than the parameter EndTime.")
	}
	if n := int64(math.Ceil(end.Sub(start).Seconds() / float64(period))); n > maxDatapoints {
		return nil, api.Errorf("InvalidParameterCombination",
			"You have requested up to %s datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.", thousands(n))
	}
	start = alignStart(start, period)
	ref := newRef(deref(in.Namespace), deref(in.MetricName), in.Dimensions)
	out := &cwapi.GetMetricStatisticsOutput{Label: in.MetricName, Datapoints: []*cwapi.Datapoint{}}
	for _, ps := range s.metrics.aggregate(scopeOf(ctx), ref, deref(in.Unit), start, end, time.Duration(period)*time.Second) {
		dp := &cwapi.Datapoint{Timestamp: tm(ps.start), Unit: str(pointUnit(ps, deref(in.Unit)))}
		for _, st := range in.Statistics {
			v, _ := statValue(&ps, *st)
			switch *st {
			case cwapi.StatisticSampleCount:
				dp.SampleCount = f64(v)
			case cwapi.StatisticAverage:
				dp.Average = f64(v)
			case cwapi.StatisticSum:
				dp.Sum = f64(v)
			case cwapi.StatisticMinimum:
				dp.Minimum = f64(v)
			case cwapi.StatisticMaximum:
				dp.Maximum = f64(v)
			}
		}
		for _, st := range in.ExtendedStatistics {
			if v, ok := statValue(&ps, *st); ok {
				if dp.ExtendedStatistics == nil {
					dp.ExtendedStatistics = map[string]*float64{}
				}
				dp.ExtendedStatistics[*st] = f64(v)
			}
		}
		out.Datapoints = append(out.Datapoints, dp)
	}
	return out, nil
}

// pointUnit is the unit a datapoint reports: the one asked for, else the
// data's own when it has one, else None.
func pointUnit(ps periodStat, asked string) string {
	if asked != "" {
		return asked
	}
	if len(ps.units) == 1 {
		for u := range ps.units {
			return u
		}
	}
	return cwapi.StandardUnitNone
}

// thousands formats n with comma separators, as AWS's messages do.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

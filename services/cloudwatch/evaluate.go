package cloudwatch

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	cwapi "github.com/cloudbox/cloudbox/api/cloudwatch"
	"github.com/cloudbox/cloudbox/store"
)

// Alarm evaluation, as AWS documents it:
//
//   - An alarm's datapoints are its statistic (or the value of its metric
//     math) over the last EvaluationPeriods complete periods, periods
//     being aligned on multiples of Period since the epoch.
//   - It goes to ALARM when at least DatapointsToAlarm (M, default
//     EvaluationPeriods, N) of them breach the threshold, else to OK.
//   - Missing datapoints: breaching and notBreaching count them as such;
//     missing and ignore leave them out: with none present, missing goes
//     to INSUFFICIENT_DATA and ignore keeps the state; with fewer present
//     than M, the alarm goes to ALARM when all of them breach.
//   - Evaluation runs every minute, or every period when shorter.
//   - Actions run when the alarm enters a state with actions enabled; Auto
//     Scaling actions (arn:aws:autoscaling:...) run again every period
//     the alarm stays in that state, as AWS does for them.

// outcome is the result of assessing an alarm.
type outcome struct {
	state, reason, reasonData string
	keep                      bool // ignore with no data: the state stays
}

// slot is one period of an evaluation.
type slot struct {
	start   time.Time
	value   float64
	present bool
}

// assess evaluates r at now.
func (s *Service) assess(sc scope, r *alarmRecord, now time.Time) outcome {
	period := alarmPeriod(r.Metrics, deref(r.Period))
	n := deref(r.EvaluationPeriods)
	m := n
	if r.DatapointsToAlarm != nil {
		m = *r.DatapointsToAlarm
	}
	p := time.Duration(period) * time.Second
	end := alignStart(now, period)
	start := end.Add(-time.Duration(n) * p)
	points := s.alarmPoints(sc, r, start, end, p)
	slots := make([]slot, n) // most recent first
	var present []slot
	for i := range slots {
		at := end.Add(-time.Duration(i+1) * p)
		v, ok := points[at.Unix()]
		slots[i] = slot{at, v, ok}
		if ok {
			present = append(present, slots[i])
		}
	}
	threshold := deref(r.Threshold)
	op := deref(r.ComparisonOperator)
	breaches := func(v float64) bool {
		switch op {
		case cwapi.ComparisonOperatorGreaterThanThreshold:
			return v > threshold
		case cwapi.ComparisonOperatorGreaterThanOrEqualToThreshold:
			return v >= threshold
		case cwapi.ComparisonOperatorLessThanThreshold:
			return v < threshold
		}
		return v <= threshold
	}
	tmd := deref(r.TreatMissingData)
	prev := deref(r.StateValue)
	var o outcome
	o.reasonData = reasonData(r, now, start, period, slots)
	if len(present) == 0 {
		switch tmd {
		case "ignore":
			return outcome{keep: true}
		case "breaching", "notBreaching":
			treated := "Breaching"
			o.state = cwapi.StateValueALARM
			if tmd == "notBreaching" {
				o.state, treated = cwapi.StateValueOK, "NonBreaching"
			}
			o.reason = fmt.Sprintf("Threshold Crossed: no datapoints were received for %s and %s treated as [%s].",
				plural(n, "period", "periods"), plural(n, "missing datapoint was", "missing datapoints were"), treated)
		default:
			o.state = cwapi.StateValueINSUFFICIENTDATA
			o.reason = fmt.Sprintf("Insufficient Data: %s unknown.", plural(n, "datapoint was", "datapoints were"))
		}
		return o
	}
	var breaching, calm []slot
	for _, sl := range present {
		if breaches(sl.value) {
			breaching = append(breaching, sl)
		} else {
			calm = append(calm, sl)
		}
	}
	evaluated, b := int64(len(present)), int64(len(breaching))
	switch tmd {
	case "breaching":
		evaluated, b = n, b+n-int64(len(present))
	case "notBreaching":
		evaluated = n
	}
	alarm := b >= m || (tmd == "missing" || tmd == "ignore" || tmd == "") && evaluated < m && b == evaluated
	words, shown, count, minimum := comparisons[op], breaching, b, m
	o.state = cwapi.StateValueALARM
	if !alarm {
		o.state = cwapi.StateValueOK
		words, shown, count, minimum = "not "+words, calm, evaluated-b, max(n-m+1, 1)
	}
	var list []string
	for _, sl := range shown {
		list = append(list, javaDouble(sl.value)+" ("+sl.start.UTC().Format("02/01/06 15:04:05")+")")
	}
	verb := "were"
	if count == 1 {
		verb = "was"
	}
	// AWS words the reason of an "M out of N" alarm (DatapointsToAlarm
	// set) with both counts and the transition's minimum; without it, the
	// datapoints alone.
	if r.DatapointsToAlarm == nil {
		o.reason = fmt.Sprintf("Threshold Crossed: %s [%s] %s %s the threshold (%s).",
			plural(count, "datapoint", "datapoints"), strings.Join(list, ", "), verb, words, javaDouble(threshold))
		return o
	}
	o.reason = fmt.Sprintf("Threshold Crossed: %d out of the last %d datapoints [%s] %s %s the threshold (%s) (minimum %s for %s -> %s transition).",
		count, evaluated, strings.Join(list, ", "), verb, words, javaDouble(threshold),
		plural(minimum, "datapoint", "datapoints"), prev, o.state)
	return o
}

// alarmPoints returns the alarm's value per period start (unix seconds).
func (s *Service) alarmPoints(sc scope, r *alarmRecord, start, end time.Time, p time.Duration) map[int64]float64 {
	if len(r.Metrics) > 0 {
		values, err := s.runQueries(sc, r.Metrics, start, end)
		if err != nil {
			s.log.Warn("cloudwatch alarm metrics", "alarm", deref(r.AlarmName), "error", err)
			return nil
		}
		for _, q := range r.Metrics {
			if v := values[*q.Id]; (q.ReturnData == nil || *q.ReturnData) && len(v.list) > 0 {
				return v.list[0].points
			}
		}
		return nil
	}
	stat := deref(r.Statistic)
	if stat == "" {
		stat = deref(r.ExtendedStatistic)
	}
	ref := newRef(deref(r.Namespace), deref(r.MetricName), r.Dimensions)
	out := map[int64]float64{}
	for _, ps := range s.metrics.aggregate(sc, ref, deref(r.Unit), start, end, p) {
		if v, ok := statValue(&ps, stat); ok {
			out[ps.start.Unix()] = v
		}
	}
	return out
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

// jnum is a number written the way AWS's (Java) reason data writes it.
type jnum float64

func (v jnum) MarshalJSON() ([]byte, error) { return []byte(javaDouble(float64(v))), nil }

// javaDouble formats v as Java's Double.toString does: 75.0, 82.5, 1.0E7.
func javaDouble(v float64) string {
	a := math.Abs(v)
	if a == 0 || (a >= 1e-3 && a < 1e7) {
		s := strconv.FormatFloat(v, 'f', -1, 64)
		if !strings.Contains(s, ".") {
			s += ".0"
		}
		return s
	}
	mant, exp, _ := strings.Cut(strconv.FormatFloat(v, 'E', -1, 64), "E")
	if !strings.Contains(mant, ".") {
		mant += ".0"
	}
	e, _ := strconv.Atoi(exp)
	return mant + "E" + strconv.Itoa(e)
}

const reasonTime = "2006-01-02T15:04:05.000+0000"

// reasonData is the alarm's StateReasonData for an evaluation.
func reasonData(r *alarmRecord, now, start time.Time, period int64, slots []slot) string {
	type point struct {
		Timestamp string `json:"timestamp"`
		Value     *jnum  `json:"value,omitempty"`
	}
	d := struct {
		Version   string  `json:"version"`
		QueryDate string  `json:"queryDate"`
		StartDate string  `json:"startDate"`
		Statistic string  `json:"statistic,omitempty"`
		Unit      string  `json:"unit,omitempty"`
		Period    int64   `json:"period"`
		Recent    []jnum  `json:"recentDatapoints"`
		Threshold jnum    `json:"threshold"`
		Evaluated []point `json:"evaluatedDatapoints"`
	}{
		Version: "1.0", QueryDate: now.UTC().Format(reasonTime), StartDate: start.UTC().Format(reasonTime),
		Statistic: deref(r.Statistic) + deref(r.ExtendedStatistic), Unit: deref(r.Unit), Period: period,
		Recent: []jnum{}, Threshold: jnum(deref(r.Threshold)), Evaluated: []point{},
	}
	for i := len(slots) - 1; i >= 0; i-- {
		if slots[i].present {
			d.Recent = append(d.Recent, jnum(slots[i].value))
		}
	}
	for _, sl := range slots {
		pt := point{Timestamp: sl.start.UTC().Format(reasonTime)}
		if sl.present {
			v := jnum(sl.value)
			pt.Value = &v
		}
		d.Evaluated = append(d.Evaluated, pt)
	}
	raw, _ := json.Marshal(d)
	return string(raw)
}

// transition is a committed state change, to deliver after the commit.
type transition struct {
	sc      scope
	alarm   string
	state   string
	actions []string
	event   AlarmStateChange
}

// changeState moves r to state in tx, with its history, and returns what
// to deliver once committed (nil when the state value does not change).
func (s *Service) changeState(tx *store.Tx, sc scope, r *alarmRecord, state, reason, data string, now time.Time) (*transition, error) {
	name := deref(r.AlarmName)
	prev := AlarmState{Value: deref(r.StateValue), Reason: deref(r.StateReason), ReasonData: deref(r.StateReasonData), Timestamp: eventTime(deref(r.StateUpdatedTimestamp))}
	r.StateReason, r.StateUpdatedTimestamp = str(reason), tm(now)
	r.StateReasonData = nil
	if data != "" {
		r.StateReasonData = str(data)
	}
	if prev.Value == state {
		return nil, tx.Put(alarmKey(sc, name), r)
	}
	r.StateValue, r.StateTransitionedTimestamp = str(state), tm(now)
	if err := tx.Put(alarmKey(sc, name), r); err != nil {
		return nil, err
	}
	newState := map[string]any{"stateValue": state, "stateReason": reason}
	if data != "" {
		newState["stateReasonData"] = json.RawMessage(data)
	}
	hist := map[string]any{"version": "1.0", "oldState": map[string]any{"stateValue": prev.Value, "stateReason": prev.Reason}, "newState": newState}
	if err := s.addHistory(tx, sc, name, cwapi.HistoryItemTypeStateUpdate, fmt.Sprintf("Alarm updated from %s to %s", prev.Value, state), hist, now); err != nil {
		return nil, err
	}
	tr := &transition{sc: sc, alarm: name, state: state, event: AlarmStateChange{
		Account: sc.account, Region: sc.region, Time: now, AlarmARN: deref(r.AlarmArn), AlarmName: name,
		State:         AlarmState{Value: state, Reason: reason, ReasonData: data, Timestamp: eventTime(now)},
		PreviousState: prev, Configuration: eventConfiguration(r),
	}}
	if deref(r.ActionsEnabled) {
		tr.actions = actionsFor(r, state)
		for _, a := range tr.actions {
			data := map[string]any{"actionState": "Succeeded", "notificationResource": a, "stateUpdateTimestamp": now.UnixMilli()}
			if err := s.addHistory(tx, sc, name, cwapi.HistoryItemTypeAction, "Successfully executed action "+a, data, now); err != nil {
				return nil, err
			}
		}
	}
	return tr, nil
}

func actionsFor(r *alarmRecord, state string) []string {
	var list []*string
	switch state {
	case cwapi.StateValueALARM:
		list = r.AlarmActions
	case cwapi.StateValueOK:
		list = r.OKActions
	default:
		list = r.InsufficientDataActions
	}
	out := make([]string, 0, len(list))
	for _, a := range list {
		out = append(out, deref(a))
	}
	return out
}

// deliver hands a committed transition to the state-change subscribers,
// then runs its actions.
func (s *Service) deliver(tr *transition) {
	if tr == nil {
		return
	}
	s.log.Info("cloudwatch alarm state", "account", tr.sc.account, "region", tr.sc.region, "alarm", tr.alarm,
		"from", tr.event.PreviousState.Value, "to", tr.state)
	s.mu.Lock()
	watchers, handlers := s.watchers, s.actions
	s.mu.Unlock()
	for _, w := range watchers {
		w(tr.event)
	}
	s.runActions(handlers, tr.sc, tr.alarm, tr.state, tr.actions)
}

func (s *Service) runActions(handlers []ActionHandler, sc scope, alarm, state string, actions []string) {
	for _, a := range actions {
		for _, h := range handlers {
			h(sc.account, sc.region, alarm, a, state)
		}
	}
}

// Package cloudwatch implements the CloudWatch control plane: custom and
// built-in metrics (PutMetricData, GetMetricStatistics, GetMetricData with
// simple metric math, ListMetrics) and metric alarms (PutMetricAlarm,
// DescribeAlarms, history, SetAlarmState, actions, tags), with an alarm
// evaluator that moves alarms between OK, ALARM and INSUFFICIENT_DATA as
// AWS does and hands their actions to the services that registered for
// them (OnAction) and their state changes to event consumers
// (OnStateChange).
//
// Storage. Alarms, their tags and their history are records in the store
// and survive a restart, as does the catalogue of metrics (namespace, name,
// dimensions) that ListMetrics reads. The datapoints themselves live in
// memory and are written to the store in batches (persist.go), so they
// survive a restart too. Datapoints are aggregated on arrival into
// statistic sets per second (StorageResolution 1) or per minute (the
// default, 60), keeping up to maxValues raw values per set for
// percentiles; as they age they roll up as AWS's retention does (tiers:
// 1-second data for 3 hours, 1-minute for 15 days, 5-minute for 63 days,
// 1-hour for 455 days).
//
// Time. The now function New receives is cloudbox's virtual clock
// (package clock), which runs scale times faster than the wall clock.
// Every timestamp, period and evaluation is in virtual time; only the
// evaluator's waits are divided by scale. PutMetricData without a
// Timestamp uses virtual now; clients that pass their own wall-clock
// timestamps under a scale above 1 put data in the virtual past.
package cloudwatch

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/api"
	cwapi "github.com/cloudbox/cloudbox/api/cloudwatch"
	"github.com/cloudbox/cloudbox/store"
)

// Store kinds of CloudWatch's records.
const (
	kindAlarm   = "cloudwatch:alarm"   // id: the alarm name
	kindHistory = "cloudwatch:history" // id: zero-padded sequence, oldest first
	kindMetric  = "cloudwatch:metric"  // id: metricRef.id()
)

// ActionHandler runs one action of an alarm that entered newState (OK,
// ALARM or INSUFFICIENT_DATA) with its actions enabled. It is called from
// the evaluator or from SetAlarmState, outside any store transaction, and
// should return quickly.
type ActionHandler func(account, region, alarmName, actionARN string, newState string)

// Service is the CloudWatch implementation.
type Service struct {
	store   *store.Store
	now     func() time.Time
	log     *slog.Logger
	scale   float64
	metrics *metricStore
	eval    *evaluator
	flushMu sync.Mutex // one flush at a time, so an older one never lands last

	mu       sync.Mutex // guards the subscribers below
	actions  []ActionHandler
	watchers []func(AlarmStateChange)
}

// New returns CloudWatch over st. now is the virtual clock and scale how
// many times faster than the wall clock it runs (values below 1 mean 1).
// The alarm evaluator starts at once, picks up the alarms already in the
// store, and ends when the store closes.
func New(st *store.Store, now func() time.Time, log *slog.Logger, scale float64) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{store: st, now: now, log: log, scale: max(scale, 1), metrics: newMetricStore()}
	if err := s.metrics.load(st); err != nil {
		log.Error("cloudwatch: stored datapoints not read; starting without them", "error", err)
	}
	events, _ := st.Watch(kindDatapoints)
	go s.persist(events)
	s.eval = newEvaluator(s)
	return s
}

// OnAction registers h for every action alarms run.
func (s *Service) OnAction(h ActionHandler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.actions = append(s.actions, h)
}

// OnStateChange registers f for every alarm state change, whether the
// evaluator or SetAlarmState made it.
func (s *Service) OnStateChange(f func(ev AlarmStateChange)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watchers = append(s.watchers, f)
}

// Handlers returns the operations CloudWatch implements.
func (s *Service) Handlers() *cwapi.Handlers {
	h := &cwapi.Handlers{}
	s.registerMetrics(h)
	s.registerAlarms(h)
	return h
}

// scope is an account and region.
type scope struct{ account, region string }

func scopeOf(ctx context.Context) scope {
	r := api.RequestFrom(ctx)
	return scope{r.Caller.Account, r.Region}
}

// wall converts a virtual duration to wall time.
func (s *Service) wall(d time.Duration) time.Duration {
	return time.Duration(float64(d) / s.scale)
}

func str(s string) *string      { return &s }
func i64(v int64) *int64        { return &v }
func f64(v float64) *float64    { return &v }
func boolp(v bool) *bool        { return &v }
func tm(t time.Time) *time.Time { t = t.UTC(); return &t }
func deref[T any](p *T) (v T) {
	if p != nil {
		v = *p
	}
	return v
}

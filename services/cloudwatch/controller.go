package cloudwatch

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/store"
)

// evaluator is the controller that evaluates alarms. It follows the
// store's alarm records (Watch), keeps when each alarm is next due, and
// evaluates it then; it starts with the Service and ends when the store
// closes.
type evaluator struct {
	s *Service
}

type alarmID struct {
	sc   scope
	name string
}

// schedule is what the evaluator knows of one alarm.
type schedule struct {
	due        time.Time // virtual
	configured time.Time // AlarmConfigurationUpdatedTimestamp last seen
	lastAction time.Time // when its Auto Scaling actions last ran
}

func newEvaluator(s *Service) *evaluator {
	e := &evaluator{s: s}
	events, _ := s.store.Watch(kindAlarm)
	go e.run(events)
	return e
}

// interval is how often an alarm is evaluated: every minute, or every
// period when shorter.
func interval(r *alarmRecord) time.Duration {
	return time.Duration(min(alarmPeriod(r.Metrics, deref(r.Period)), 60)) * time.Second
}

func (e *evaluator) run(events <-chan store.Event) {
	alarms := map[alarmID]*schedule{}
	e.rescan(alarms)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		timer.Stop()
		if next, ok := earliest(alarms); ok {
			timer.Reset(max(e.s.wall(next.Sub(e.s.now())), 0))
		}
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			switch ev.Op {
			case store.Put, store.Delete:
				e.follow(alarms, alarmID{scope{ev.Key.Account, ev.Key.Region}, ev.Key.ID})
			default: // Reset, Resync
				e.rescan(alarms)
			}
		case <-timer.C:
			now := e.s.now()
			for id, sch := range alarms {
				if !sch.due.After(now) {
					e.evaluate(alarms, id, now)
				}
			}
		}
	}
}

func earliest(alarms map[alarmID]*schedule) (time.Time, bool) {
	var t time.Time
	for _, sch := range alarms {
		if t.IsZero() || sch.due.Before(t) {
			t = sch.due
		}
	}
	return t, !t.IsZero()
}

func (e *evaluator) load(id alarmID) (*alarmRecord, error) {
	var r alarmRecord
	var ok bool
	err := e.s.store.View(func(tx *store.Tx) (err error) {
		ok, err = tx.Get(alarmKey(id.sc, id.name), &r)
		return err
	})
	if err != nil || !ok {
		return nil, err
	}
	return &r, nil
}

// follow updates one alarm's schedule after a change of its record: a new
// or reconfigured alarm is evaluated at once, others keep their time.
func (e *evaluator) follow(alarms map[alarmID]*schedule, id alarmID) {
	r, err := e.load(id)
	if err != nil {
		e.s.log.Warn("cloudwatch alarm", "alarm", id.name, "error", err)
		return
	}
	if r == nil {
		delete(alarms, id)
		return
	}
	configured := deref(r.AlarmConfigurationUpdatedTimestamp)
	if sch := alarms[id]; sch != nil && sch.configured.Equal(configured) {
		return
	}
	alarms[id] = &schedule{due: e.s.now(), configured: configured}
}

// rescan schedules every alarm of the store, at once.
func (e *evaluator) rescan(alarms map[alarmID]*schedule) {
	clear(alarms)
	now := e.s.now()
	err := e.s.store.View(func(tx *store.Tx) error {
		scopes, err := tx.Scopes(kindAlarm)
		if err != nil {
			return err
		}
		for _, sc := range scopes {
			err := tx.List(sc[0], sc[1], kindAlarm, func(id string, raw []byte) error {
				var r alarmRecord
				if err := json.Unmarshal(raw, &r); err != nil {
					return err
				}
				alarms[alarmID{scope{sc[0], sc[1]}, id}] = &schedule{due: now, configured: deref(r.AlarmConfigurationUpdatedTimestamp)}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		e.s.log.Warn("cloudwatch alarms", "error", err)
	}
}

// evaluate assesses one alarm at now, commits a change of state and
// delivers it, and schedules the next evaluation.
func (e *evaluator) evaluate(alarms map[alarmID]*schedule, id alarmID, now time.Time) {
	sch := alarms[id]
	r, err := e.load(id)
	if err != nil || r == nil {
		delete(alarms, id)
		return
	}
	every := interval(r)
	sch.due = alignStart(now, int64(every/time.Second)).Add(every)
	o := e.s.assess(id.sc, r, now)
	if o.keep {
		return
	}
	if o.state == deref(r.StateValue) {
		e.repeatScalingActions(sch, id, r, now)
		return
	}
	var tr *transition
	err = e.s.store.Update(func(tx *store.Tx) error {
		var cur alarmRecord
		ok, err := tx.Get(alarmKey(id.sc, id.name), &cur)
		// A change since the assessment (a new configuration, SetAlarmState)
		// wins; the next evaluation sees it.
		if err != nil || !ok || !deref(cur.AlarmConfigurationUpdatedTimestamp).Equal(deref(r.AlarmConfigurationUpdatedTimestamp)) ||
			deref(cur.StateValue) != deref(r.StateValue) {
			return err
		}
		tr, err = e.s.changeState(tx, id.sc, &cur, o.state, o.reason, o.reasonData, now)
		return err
	})
	if err != nil {
		e.s.log.Warn("cloudwatch alarm state", "alarm", id.name, "error", err)
		return
	}
	if tr != nil {
		sch.lastAction = now
	}
	e.s.deliver(tr)
}

// repeatScalingActions runs an alarm's Auto Scaling actions again once a
// period while it stays in their state, as AWS does.
func (e *evaluator) repeatScalingActions(sch *schedule, id alarmID, r *alarmRecord, now time.Time) {
	period := time.Duration(alarmPeriod(r.Metrics, deref(r.Period))) * time.Second
	if !deref(r.ActionsEnabled) || now.Sub(sch.lastAction) < period {
		return
	}
	var scaling []string
	for _, a := range actionsFor(r, deref(r.StateValue)) {
		if strings.HasPrefix(a, "arn:aws:autoscaling:") {
			scaling = append(scaling, a)
		}
	}
	if len(scaling) == 0 {
		return
	}
	sch.lastAction = now
	e.s.mu.Lock()
	handlers := e.s.actions
	e.s.mu.Unlock()
	e.s.runActions(handlers, id.sc, id.name, deref(r.StateValue), scaling)
}

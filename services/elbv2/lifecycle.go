package elbv2

import (
	"slices"
	"time"

	elbv2api "github.com/cloudbox/cloudbox/api/elbv2"
	"github.com/cloudbox/cloudbox/store"
)

// provisionTime is how long a new load balancer is provisioning.
const provisionTime = time.Second

// runLifecycle is the controller that moves load balancers from
// provisioning to active and removes targets whose deregistration delay
// has passed. It follows the store (events), keeping the time each record
// is next due, and ends when the store closes. It first scans what the
// store already holds, so a restart moves earlier records on too.
func (s *Service) runLifecycle(events <-chan store.Event) {
	due := store.Due{}
	s.scanAll(due)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		due.Arm(timer, s.now(), s.scale)
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			due.Follow(ev, func(k store.Key) { s.schedule(due, k) }, func() { s.scanAll(due) })
		case <-timer.C:
			s.advanceDue(due)
		}
	}
}

// dueTime returns when a record next changes by itself.
func dueTime(tx *store.Tx, k store.Key) (time.Time, bool, error) {
	switch k.Kind {
	case kindLB:
		r, ok, err := store.Get[lbRecord](tx, k)
		if err != nil || !ok || r.State == nil || deref(r.State.Code) != elbv2api.LoadBalancerStateEnumProvisioning || r.CreatedTime == nil {
			return time.Time{}, false, err
		}
		return r.CreatedTime.Add(provisionTime), true, nil
	case kindTG:
		r, ok, err := store.Get[tgRecord](tx, k)
		if err != nil || !ok {
			return time.Time{}, false, err
		}
		var at time.Time
		for _, t := range r.Targets {
			if t.draining() && (at.IsZero() || t.DrainUntil.Before(at)) {
				at = t.DrainUntil
			}
		}
		return at, !at.IsZero(), nil
	}
	return time.Time{}, false, nil
}

func (s *Service) schedule(due map[store.Key]time.Time, k store.Key) {
	err := s.store.View(func(tx *store.Tx) error {
		at, ok, err := dueTime(tx, k)
		if ok {
			due[k] = at
		} else {
			delete(due, k)
		}
		return err
	})
	if err != nil {
		s.log.Warn("elbv2 lifecycle: reading a record", "key", k.ID, "error", err)
	}
}

// scanAll schedules every load balancer and target group in the store.
func (s *Service) scanAll(due map[store.Key]time.Time) {
	err := s.store.View(func(tx *store.Tx) error {
		for _, kind := range []string{kindLB, kindTG} {
			scopes, err := tx.Scopes(kind)
			if err != nil {
				return err
			}
			for _, p := range scopes {
				err := tx.List(p[0], p[1], kind, func(id string, _ []byte) error {
					k := store.Key{Account: p[0], Region: p[1], Kind: kind, ID: id}
					at, ok, err := dueTime(tx, k)
					if ok {
						due[k] = at
					}
					return err
				})
				if err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		s.log.Warn("elbv2 lifecycle: scanning", "error", err)
	}
}

// advanceDue moves every record whose time has come, each in its own
// transaction so one bad record holds up no other. A moved record comes
// back as a Put event and is scheduled again if it has more to do.
func (s *Service) advanceDue(due map[store.Key]time.Time) {
	now := s.now()
	for k, t := range due {
		if t.After(now) {
			continue
		}
		delete(due, k)
		var drained []healthKey
		err := s.store.Update(func(tx *store.Tx) error {
			var err error
			drained, err = s.advance(tx, k, now)
			return err
		})
		if err != nil {
			s.log.Warn("elbv2 lifecycle: advancing", "key", k.ID, "error", err)
			continue
		}
		s.forgetHealth(func(h healthKey) bool { return slices.Contains(drained, h) })
	}
}

// advance moves one record on if it is (still) due, and returns the
// registrations it removed.
func (s *Service) advance(tx *store.Tx, k store.Key, now time.Time) ([]healthKey, error) {
	switch k.Kind {
	case kindLB:
		r, ok, err := store.Get[lbRecord](tx, k)
		if err != nil || !ok || deref(r.State.Code) != elbv2api.LoadBalancerStateEnumProvisioning || r.CreatedTime.Add(provisionTime).After(now) {
			return nil, err
		}
		r.State = &elbv2api.LoadBalancerState{Code: str(elbv2api.LoadBalancerStateEnumActive)}
		s.log.Info("elbv2 load balancer state", "account", k.Account, "region", k.Region, "arn", deref(r.LoadBalancerArn), "from", "provisioning", "to", "active")
		return nil, tx.Put(k, r)
	case kindTG:
		r, ok, err := store.Get[tgRecord](tx, k)
		if err != nil || !ok {
			return nil, err
		}
		var gone []healthKey
		r.Targets = slices.DeleteFunc(r.Targets, func(t *target) bool {
			if t.draining() && !t.DrainUntil.After(now) {
				gone = append(gone, healthKey{k.Account, k.Region, deref(r.TargetGroupArn), t.ID, t.Port})
				s.log.Info("elbv2 target deregistered", "account", k.Account, "region", k.Region, "target_group", deref(r.TargetGroupArn), "target", t.ID, "port", t.Port)
				return true
			}
			return false
		})
		if len(gone) == 0 {
			return nil, nil
		}
		return gone, tx.Put(k, r)
	}
	return nil, nil
}

package rds

import (
	"time"

	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// How long (virtual time) the steps the data plane would take last
// without one, and the initial backup with one.
const (
	createDelay = 5 * time.Second
	stepDelay   = 2 * time.Second
	backupDelay = 2 * time.Second
	// maxStopped is how long an instance stays stopped: RDS starts it
	// again after seven days.
	maxStopped = 7 * 24 * time.Hour
)

// runLifecycle moves instances on: from backing-up to available once the
// first backup's time has passed, and, without a data plane, through the
// states the slots' reports would move them through. It looks at the
// instances when one changes and when the next step falls due (a timer
// on the virtual clock), never on a fixed tick, until the store closes.
func (s *Service) runLifecycle(events <-chan store.Event) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case _, ok := <-events:
			if !ok {
				return
			}
			for len(events) > 0 { // one look for a burst of changes
				<-events
			}
		case <-timer.C:
		}
		next, err := s.step()
		if err != nil {
			s.log.Warn("rds: lifecycle", "error", err)
			next = time.Second // a failed write is tried again
		}
		timer.Stop()
		select { // a timer that fired while events were handled
		case <-timer.C:
		default:
		}
		if next >= 0 {
			timer.Reset(time.Duration(float64(next) / s.scale))
		}
	}
}

// step moves every instance whose time has come (it writes only then)
// and returns the virtual time until the next one's, or -1 if none waits.
func (s *Service) step() (time.Duration, error) {
	now := s.now()
	due, next := false, time.Duration(-1)
	err := s.store.View(func(tx *store.Tx) error {
		return s.eachInstance(tx, func(_ scope, r *instanceRecord) error {
			wait, ok := s.wait(r)
			switch {
			case !ok:
			case now.Sub(r.StatusSince) >= wait:
				due = true
			case next < 0 || wait-now.Sub(r.StatusSince) < next:
				next = wait - now.Sub(r.StatusSince)
			}
			return nil
		})
	})
	if err != nil || !due {
		return next, err
	}
	err = s.store.Update(func(tx *store.Tx) error {
		return s.eachInstance(tx, func(sc scope, r *instanceRecord) error {
			if wait, ok := s.wait(r); !ok || now.Sub(r.StatusSince) < wait {
				return nil
			}
			return s.stepOne(tx, sc, r, now)
		})
	})
	// What the step wrote comes back as events, which look again.
	return next, err
}

func (s *Service) eachInstance(tx *store.Tx, fn func(scope, *instanceRecord) error) error {
	scopes, err := tx.Scopes(kindInstance)
	if err != nil {
		return err
	}
	for _, p := range scopes {
		sc := scope{account: p[0], region: p[1]}
		insts, err := store.ListAll[instanceRecord](tx, sc.account, sc.region, kindInstance)
		if err != nil {
			return err
		}
		for _, r := range insts {
			if err := fn(sc, r); err != nil {
				return err
			}
		}
	}
	return nil
}

// wait is how long (virtual time) an instance's current step lasts; ok is
// false when nothing but a report or a request moves it on.
func (s *Service) wait(r *instanceRecord) (time.Duration, bool) {
	switch r.Status {
	case "backing-up":
		return backupDelay, r.Snapshotting == "" // a snapshot ends its own
	case "creating":
		return createDelay, !s.dataPlane.Load()
	case "starting", "stopping", "deleting", "rebooting", "modifying":
		return stepDelay, !s.dataPlane.Load()
	case "stopped":
		return maxStopped, true
	}
	return 0, false
}

// stepOne takes a due instance's step: the backup ends, or (without a
// data plane) its nodes do what the data plane would report.
func (s *Service) stepOne(tx *store.Tx, sc scope, r *instanceRecord, now time.Time) error {
	primary := primarySlot(r)
	switch r.Status {
	case "backing-up":
		return s.move(tx, sc, r, "available", now, msgBackupDone)
	case "stopped":
		return s.move(tx, sc, r, "starting", now, msgAutoStart)
	case "creating", "starting":
		if err := s.reportSlot(tx, sc, r, primary, desired.Running, "", now); err != nil || r.Standby == nil {
			return err
		}
		return s.reportSlot(tx, sc, r, r.Standby.Slot, desired.Running, "", now)
	case "stopping", "deleting":
		return s.reportSlot(tx, sc, r, primary, desired.Stopped, "", now)
	case "modifying":
		if r.AddingStandby {
			return s.reportSlot(tx, sc, r, r.Standby.Slot, desired.Running, "", now)
		}
		fallthrough
	case "rebooting":
		// The node that stopped starts again: after a failover it is the
		// standby.
		if err := s.reportSlot(tx, sc, r, primary, desired.Stopped, "", now); err != nil {
			return err
		}
		return s.reportSlot(tx, sc, r, primary, desired.Running, "", now)
	}
	return nil
}

// move sets a status, records its events and stores the instance.
func (s *Service) move(tx *store.Tx, sc scope, r *instanceRecord, status string, now time.Time, msgs ...string) error {
	r.setStatus(status, now)
	for _, m := range msgs {
		if err := event(tx, sc, r.ID, now, m); err != nil {
			return err
		}
	}
	s.log.Info("rds: DB instance", "account", sc.account, "region", sc.region, "id", r.ID, "status", status)
	return tx.Put(sc.key(kindInstance, r.ID), r)
}

// ReportSlot implements desired.SlotReporter: the data plane's word on a
// node moves its instance on.
func (s *Service) ReportSlot(account, region, id, state, reason string) error {
	sc := scope{account: account, region: region}
	now := s.now()
	return s.store.Update(func(tx *store.Tx) error {
		insts, err := store.ListAll[instanceRecord](tx, account, region, kindInstance)
		if err != nil {
			return err
		}
		for _, r := range insts {
			if primarySlot(r) == id || r.Standby != nil && r.Standby.Slot == id {
				return s.reportSlot(tx, sc, r, id, state, reason, now)
			}
		}
		return nil // an instance already deleted
	})
}

// reportSlot hands a node's state to what its role makes of it.
func (s *Service) reportSlot(tx *store.Tx, sc scope, r *instanceRecord, slot, state, reason string, now time.Time) error {
	if slot == primarySlot(r) {
		return s.report(tx, sc, r, state, reason, now)
	}
	if state == desired.Failed {
		s.log.Warn("rds: standby node failed", "id", r.ID, "slot", slot, "reason", reason)
	}
	return s.reportStandby(tx, sc, r, state == desired.Running, now)
}

// report is what a node's state means for its instance.
func (s *Service) report(tx *store.Tx, sc scope, r *instanceRecord, state, reason string, now time.Time) error {
	switch state {
	case desired.Failed:
		r.Reason = reason
		return s.move(tx, sc, r, "failed", now, msgFailed)
	case desired.Running:
		switch r.Status {
		case "creating":
			r.Booted = true
			if r.Standby != nil && !r.Standby.Up {
				return tx.Put(sc.key(kindInstance, r.ID), r) // made once the standby is too
			}
			if err := s.firstBackup(tx, sc, r); err != nil {
				return err
			}
			return s.move(tx, sc, r, "backing-up", now, msgCreated, msgBackingUp)
		case "starting":
			r.restarted()
			return s.move(tx, sc, r, "available", now, msgStarted)
		case "rebooting":
			if r.Down {
				r.restarted()
				return s.move(tx, sc, r, "available", now, msgRestarted)
			}
		case "modifying":
			if r.Down && r.Promoting {
				r.Promoting = false
				return s.move(tx, sc, r, "backing-up", now, msgRestarted, msgBackingUp)
			}
			if r.Down {
				r.restarted()
				return s.move(tx, sc, r, "available", now, msgClassFinished, msgRestarted)
			}
		}
	case desired.Stopped:
		switch r.Status {
		case "stopping":
			return s.move(tx, sc, r, "stopped", now, msgStopped)
		case "deleting":
			if err := ec2.DeleteServiceENI(tx, sc.account, sc.region, r.ENI); err != nil {
				return err
			}
			if r.Standby != nil {
				if err := ec2.DeleteServiceENI(tx, sc.account, sc.region, r.Standby.ENI); err != nil {
					return err
				}
			}
			if err := event(tx, sc, r.ID, now, msgDeleted); err != nil {
				return err
			}
			if err := s.orphanReplicas(tx, sc, r, now); err != nil {
				return err
			}
			_, err := tx.Delete(sc.key(kindInstance, r.ID))
			return err
		case "rebooting", "modifying":
			if r.Down {
				return nil
			}
			// The stop of a restart is done: start again, with the new
			// class (its limits) when one is pending. A failover first
			// makes the standby the primary, which moves the endpoint.
			if r.Failover {
				r.swapPrimary()
				r.Down = true
				s.log.Info("rds: failed over", "id", r.ID, "primary", primarySlot(r), "az", r.AZ, "ip", r.PrivateIP)
				return tx.Put(sc.key(kindInstance, r.ID), r)
			}
			if r.PendingClass != "" {
				r.Class, r.PendingClass = r.PendingClass, ""
			}
			r.Down = true
			if err := event(tx, sc, r.ID, now, msgShutdown); err != nil {
				return err
			}
			return tx.Put(sc.key(kindInstance, r.ID), r)
		}
	}
	return nil
}

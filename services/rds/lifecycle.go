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
)

// runLifecycle moves instances on: from backing-up to available once the
// first backup's time has passed, and, without a data plane, through the
// states the slots' reports would move them through. It checks a few
// times a second of wall time until the store closes.
func (s *Service) runLifecycle(events <-chan store.Event) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case _, ok := <-events:
			if !ok {
				return
			}
		case <-tick.C:
			if err := s.step(); err != nil {
				s.log.Warn("rds: lifecycle", "error", err)
			}
		}
	}
}

// step moves every instance whose time has come; it writes only then.
func (s *Service) step() error {
	now := s.now()
	due := false
	err := s.store.View(func(tx *store.Tx) error {
		return s.eachInstance(tx, func(_ scope, r *instanceRecord) error {
			due = due || s.due(r, now)
			return nil
		})
	})
	if err != nil || !due {
		return err
	}
	return s.store.Update(func(tx *store.Tx) error {
		return s.eachInstance(tx, func(sc scope, r *instanceRecord) error {
			if !s.due(r, now) {
				return nil
			}
			return s.stepOne(tx, sc, r, now)
		})
	})
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

// due is whether an instance's current step is over.
func (s *Service) due(r *instanceRecord, now time.Time) bool {
	since := now.Sub(r.StatusSince)
	switch r.Status {
	case "backing-up":
		return since >= backupDelay
	case "creating":
		return !s.dataPlane.Load() && since >= createDelay
	case "starting", "stopping", "deleting", "rebooting", "modifying":
		return !s.dataPlane.Load() && since >= stepDelay
	}
	return false
}

// stepOne takes a due instance's step: the backup ends, or (without a
// data plane) its nodes do what the data plane would report.
func (s *Service) stepOne(tx *store.Tx, sc scope, r *instanceRecord, now time.Time) error {
	primary := primarySlot(r)
	switch r.Status {
	case "backing-up":
		return s.move(tx, sc, r, "available", now, msgBackupDone)
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
			return s.move(tx, sc, r, "backing-up", now, msgCreated, msgBackingUp)
		case "starting":
			return s.move(tx, sc, r, "available", now, msgStarted)
		case "rebooting":
			if r.Down {
				return s.move(tx, sc, r, "available", now, msgRestarted)
			}
		case "modifying":
			if r.Down && r.Promoting {
				r.Promoting = false
				return s.move(tx, sc, r, "backing-up", now, msgRestarted, msgBackingUp)
			}
			if r.Down {
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

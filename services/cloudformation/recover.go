package cloudformation

import (
	"context"
	"strings"

	"github.com/cloudbox/cloudbox/store"
)

// Run ends, when the daemon starts, the operations a previous run left
// in progress: their worker is gone, so the stack fails where it stood
// (a resource half made stays for a later delete-stack to remove).
func (s *Service) Run(ctx context.Context) {
	var stuck [][3]string
	err := s.store.View(func(tx *store.Tx) error {
		scopes, err := tx.Scopes(kindStack)
		if err != nil {
			return err
		}
		for _, sc := range scopes {
			all, err := stacks(tx, sc[0], sc[1])
			if err != nil {
				return err
			}
			for _, st := range all {
				// Operations begun since this daemon started have their
				// worker.
				if st.inProgress() && len(st.Events) > 0 && st.Events[len(st.Events)-1].Time.Before(s.started) {
					stuck = append(stuck, [3]string{st.Account, st.Region, st.ID})
				}
			}
		}
		return nil
	})
	if err != nil {
		s.log.Error("cloudformation: reading stacks", "err", err)
	}
	for _, k := range stuck {
		var status string
		_ = s.store.View(func(tx *store.Tx) error {
			st := new(stack)
			_, err := tx.Get(stackKey(k[0], k[1], k[2]), st)
			status = st.Status
			return err
		})
		failed := map[string]string{"CREATE": "CREATE_FAILED", "ROLLBACK": "ROLLBACK_FAILED", "DELETE": "DELETE_FAILED",
			"UPDATE": "UPDATE_FAILED", "UPDATE_ROLLBACK": "UPDATE_ROLLBACK_FAILED"}
		op := strings.TrimSuffix(strings.TrimSuffix(status, "_IN_PROGRESS"), "_COMPLETE_CLEANUP")
		next, ok := failed[op]
		if !ok {
			next = "UPDATE_ROLLBACK_FAILED"
		}
		s.setStackStatus(k[0], k[1], k[2], next, "cloudbox stopped while the stack was "+status)
	}
	s.endInterruptedOps()
	<-ctx.Done()
}

// endInterruptedOps fails the stack set operations a previous run left
// running, so the sets take new ones.
func (s *Service) endInterruptedOps() {
	err := s.store.Update(func(tx *store.Tx) error {
		scopes, err := tx.Scopes(kindStackSetOp)
		if err != nil {
			return err
		}
		for _, sc := range scopes {
			var stuck []*stackSetOp
			err := tx.List(sc[0], sc[1], kindStackSetOp, func(_ string, raw []byte) error {
				op := new(stackSetOp)
				if err := jsonUnmarshal(raw, op); err != nil {
					return err
				}
				if op.Status == "RUNNING" && op.Created.Before(s.started) {
					stuck = append(stuck, op)
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, op := range stuck {
				op.Status, op.Reason, op.Ended = "FAILED", "cloudbox stopped while the operation was running", s.now()
				for i := range op.Results {
					if r := &op.Results[i]; r.Status == "PENDING" || r.Status == "RUNNING" {
						r.Status, r.Reason = "CANCELLED", op.Reason
					}
				}
				if err := tx.Put(opKey(sc[0], sc[1], op.SetName, op.ID), op); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		s.log.Error("cloudformation: stack set operations", "err", err)
	}
}

package route53

import (
	"context"

	r53api "github.com/cloudbox/cloudbox/api/route53"
	"github.com/cloudbox/cloudbox/store"
)

// newChange records a change submitted now in the caller's account.
func (s *Service) newChange(tx *store.Tx, acct, comment string) (*changeRecord, error) {
	ch := &changeRecord{ID: newID("C"), Submitted: s.now(), Comment: comment}
	return ch, tx.Put(key(acct, kindChange, ch.ID), ch)
}

// changeInfo is a change as the API shows it: PENDING until ChangeDelay
// has passed since it was submitted, INSYNC after.
func (s *Service) changeInfo(ch *changeRecord) *r53api.ChangeInfo {
	if ch == nil {
		return nil
	}
	status := r53api.ChangeStatusPENDING
	if !s.now().Before(ch.Submitted.Add(s.ChangeDelay)) {
		status = r53api.ChangeStatusINSYNC
	}
	ci := &r53api.ChangeInfo{Id: str("/change/" + ch.ID), Status: str(status), SubmittedAt: timePtr(ch.Submitted)}
	if ch.Comment != "" {
		ci.Comment = str(ch.Comment)
	}
	return ci
}

func (s *Service) getChange(ctx context.Context, in *r53api.GetChangeRequest) (*r53api.GetChangeResponse, error) {
	id := bareID(deref(in.Id))
	var ch *changeRecord
	err := s.store.View(func(tx *store.Tx) error {
		var ok bool
		var err error
		ch, ok, err = store.Get[changeRecord](tx, key(account(ctx), kindChange, id))
		if err == nil && !ok {
			err = errorf("NoSuchChange", "A change with the specified change ID does not exist.")
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &r53api.GetChangeResponse{ChangeInfo: s.changeInfo(ch)}, nil
}

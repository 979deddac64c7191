package cloudformation

import (
	"context"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/store"
)

// TestRecover: an operation a previous daemon left in progress fails
// where it stood; one begun by this daemon is left to its worker.
func TestRecover(t *testing.T) {
	st := store.OpenMemory()
	defer st.Close()
	boot := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	put := func(id, status string, at time.Time) {
		err := st.Update(func(tx *store.Tx) error {
			return tx.Put(stackKey("123456789012", "eu-west-1", id), &stack{ID: id, Name: id, Account: "123456789012", Region: "eu-west-1",
				Status: status, Events: []event{{ID: "e", Status: status, Time: at}}})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	put("old", "CREATE_IN_PROGRESS", boot.Add(-time.Minute))
	put("new", "CREATE_IN_PROGRESS", boot.Add(time.Second))
	put("done", "CREATE_COMPLETE", boot.Add(-time.Minute))
	s := New(st, func() time.Time { return boot }, nil, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s.Run(ctx)
	for id, want := range map[string]string{"old": "CREATE_FAILED", "new": "CREATE_IN_PROGRESS", "done": "CREATE_COMPLETE"} {
		var got stack
		_ = st.View(func(tx *store.Tx) error {
			_, err := tx.Get(stackKey("123456789012", "eu-west-1", id), &got)
			return err
		})
		if got.Status != want {
			t.Errorf("%s: %s, want %s", id, got.Status, want)
		}
	}
}

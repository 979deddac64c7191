package cloudformation

import (
	"context"
	"errors"
	"reflect"
	"sync"
	"testing"
)

// TestRunGraph: dependencies first, independent nodes together, nothing
// started after a failure, and the running ones see their context end.
func TestRunGraph(t *testing.T) {
	deps := map[string][]string{"b": {"a"}, "c": {"a"}, "d": {"b", "c"}}
	var mu sync.Mutex
	var order []string
	failed := runGraph(context.Background(), []string{"d", "c", "b", "a"}, deps, func(_ context.Context, n string) error {
		mu.Lock()
		order = append(order, n)
		mu.Unlock()
		return nil
	})
	pos := map[string]int{}
	for i, n := range order {
		pos[n] = i
	}
	if len(failed) != 0 || len(order) != 4 || pos["a"] != 0 || pos["d"] != 3 {
		t.Fatalf("order %v, failed %v", order, failed)
	}

	// b and c run together: c fails while b waits, b sees the
	// cancellation, d never starts.
	started := make(chan struct{})
	var ran []string
	failed = runGraph(context.Background(), []string{"a", "b", "c", "d"}, deps, func(ctx context.Context, n string) error {
		mu.Lock()
		ran = append(ran, n)
		mu.Unlock()
		switch n {
		case "b":
			close(started)
			<-ctx.Done()
			return errors.New("Resource creation cancelled")
		case "c":
			<-started
			return errors.New("failed")
		}
		return nil
	})
	if !reflect.DeepEqual(failed, []string{"b", "c"}) || len(ran) != 3 {
		t.Fatalf("failed %v, ran %v", failed, ran)
	}
}

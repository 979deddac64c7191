package store

import (
	"testing"
	"time"
)

func TestDue(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	a, b := Key{Kind: "k", ID: "a"}, Key{Kind: "k", ID: "b"}
	d := Due{}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	d.Arm(timer, now, 1)
	select {
	case <-timer.C:
		t.Fatal("a timer with nothing due fired")
	case <-time.After(20 * time.Millisecond):
	}

	// Put schedules; the earliest wins; at 600x a virtual minute is 100 ms.
	d.Follow(Event{Op: Put, Key: a}, func(k Key) { d[k] = now.Add(time.Hour) }, nil)
	d.Follow(Event{Op: Put, Key: b}, func(k Key) { d[k] = now.Add(time.Minute) }, nil)
	start := time.Now()
	d.Arm(timer, now, 600)
	<-timer.C
	if took := time.Since(start); took < 80*time.Millisecond || took > 2*time.Second {
		t.Errorf("a virtual minute at 600x took %v of wall time", took)
	}

	d.Follow(Event{Op: Delete, Key: b}, nil, nil)
	if first, ok := d.Earliest(); !ok || !first.Equal(now.Add(time.Hour)) {
		t.Errorf("after delete: %v %v", first, ok)
	}
	rescanned := false
	d.Follow(Event{Op: Resync}, nil, func() { rescanned = true })
	if len(d) != 0 || !rescanned {
		t.Errorf("resync: %v, rescanned %v", d, rescanned)
	}
	d[a] = now
	d.Follow(Event{Op: Reset}, nil, nil)
	if len(d) != 0 {
		t.Errorf("reset left %v", d)
	}
}

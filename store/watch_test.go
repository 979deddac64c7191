package store

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"
)

// next receives one event, failing the test if none comes.
func next(t *testing.T, ch <-chan Event) Event {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("watch channel closed")
		}
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	panic("unreachable")
}

// quiet fails the test if ch holds an event.
func quiet(t *testing.T, ch <-chan Event) {
	t.Helper()
	select {
	case ev := <-ch:
		t.Fatalf("unexpected event %v %+v", ev.Op, ev.Key)
	default:
	}
}

func TestWatch(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		all, cancelAll := s.Watch()
		defer cancelAll()
		vpcs, cancelVPCs := s.Watch("ec2:vpc")
		defer cancelVPCs()

		a, b := vpcKey(acct, east, "a"), vpcKey(acct, east, "b")
		sub := Key{Account: acct, Region: east, Kind: "ec2:subnet", ID: "s"}
		mustUpdate(t, s, func(tx *Tx) error {
			for _, k := range []Key{b, sub, a} {
				if err := tx.Put(k, 1); err != nil {
					return err
				}
			}
			// A second change to b in the same tx updates its event.
			_, err := tx.Delete(b)
			return err
		})
		mustUpdate(t, s, func(tx *Tx) error {
			if _, err := tx.Delete(vpcKey(acct, east, "absent")); err != nil {
				return err
			}
			return tx.Put(a, 2)
		})
		// Rolled back and read-only transactions produce nothing.
		s.Update(func(tx *Tx) error {
			tx.Put(a, 3)
			return errors.New("rollback")
		})
		s.View(func(tx *Tx) error { return nil })

		want := []Event{{Delete, b}, {Put, sub}, {Put, a}, {Put, a}}
		for _, w := range want {
			if ev := next(t, all); ev != w {
				t.Errorf("all: got %v %+v, want %v %+v", ev.Op, ev.Key, w.Op, w.Key)
			}
		}
		quiet(t, all)
		for _, w := range slices.DeleteFunc(want, func(ev Event) bool { return ev.Key.Kind != "ec2:vpc" }) {
			if ev := next(t, vpcs); ev != w {
				t.Errorf("vpcs: got %v %+v, want %v %+v", ev.Op, ev.Key, w.Op, w.Key)
			}
		}
		quiet(t, vpcs)

		// Reset reaches every watcher, whatever its kinds.
		buckets, cancelBuckets := s.Watch("s3:bucket")
		defer cancelBuckets()
		if err := s.Reset(); err != nil {
			t.Fatal(err)
		}
		for _, ch := range []<-chan Event{all, vpcs, buckets} {
			if ev := next(t, ch); ev != (Event{Op: Reset}) {
				t.Errorf("got %v %+v, want Reset", ev.Op, ev.Key)
			}
			quiet(t, ch)
		}

		// Cancel closes the channel, once.
		cancelVPCs()
		cancelVPCs()
		mustUpdate(t, s, func(tx *Tx) error { return tx.Put(a, 4) })
		if ev, ok := <-vpcs; ok {
			t.Errorf("event %v %+v after cancel", ev.Op, ev.Key)
		}
		if ev := next(t, all); ev != (Event{Put, a}) {
			t.Errorf("got %v %+v after other watcher's cancel", ev.Op, ev.Key)
		}

		// Close closes the remaining channels; cancel afterwards is harmless.
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if _, ok := <-all; ok {
			t.Error("channel open after Close")
		}
		cancelAll()
		if _, ok := <-buckets; ok {
			t.Error("channel open after Close")
		}
		ch, cancel := s.Watch()
		if _, ok := <-ch; ok {
			t.Error("Watch after Close returned an open channel")
		}
		cancel()
	})
}

// TestWatchSlow checks that a watcher that does not read never blocks
// writers, and that what it missed is coalesced into one Resync followed
// by later events as usual.
func TestWatchSlow(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		slow, cancel := s.Watch()
		defer cancel()
		key := func(i int) Key { return vpcKey(acct, east, fmt.Sprintf("vpc-%05d", i)) }

		// One transaction alone overflows the buffer, and later
		// transactions overflow it again.
		mustUpdate(t, s, func(tx *Tx) error {
			for i := range watchBuffer + 10 {
				if err := tx.Put(key(i), i); err != nil {
					return err
				}
			}
			return nil
		})
		for i := 0; i < watchBuffer+10; i += 10 {
			mustUpdate(t, s, func(tx *Tx) error {
				for j := i; j < i+10; j++ {
					if err := tx.Put(key(j), -j); err != nil {
						return err
					}
				}
				return nil
			})
		}
		if n := len(slow); n > watchBuffer {
			t.Fatalf("%d events buffered", n)
		}

		// Whatever happened last, the watcher is told to resync before it
		// sees events again, and only once.
		resyncs := 0
		for len(slow) > 0 {
			if ev := <-slow; ev.Op == Resync {
				resyncs++
			} else if resyncs == 0 {
				t.Fatalf("event %v %+v before Resync", ev.Op, ev.Key)
			}
		}
		if resyncs != 1 {
			t.Errorf("%d Resync events, want 1", resyncs)
		}

		// Once the watcher keeps up, events flow again.
		mustUpdate(t, s, func(tx *Tx) error { return tx.Put(key(0), "last") })
		if ev := next(t, slow); ev != (Event{Put, key(0)}) {
			t.Errorf("got %v %+v after catching up", ev.Op, ev.Key)
		}
	})
}

// TestWatchConcurrent runs a watcher that falls behind while a writer
// commits: every record must be either announced or covered by a later
// Resync.
func TestWatchConcurrent(t *testing.T) {
	s := OpenMemory()
	defer s.Close()
	ch, cancel := s.Watch("ec2:vpc")
	defer cancel()
	const n = 2 * watchBuffer
	release := make(chan struct{}) // closed once the watcher surely overflowed
	done := make(chan map[string]bool)
	go func() {
		seen := make(map[string]bool)
		resyncs := 0
		for ev := range ch {
			if ev.Op == Resync {
				resyncs++
				// A level-triggered controller re-lists here.
				err := s.View(func(tx *Tx) error {
					return tx.List(acct, east, "ec2:vpc", func(id string, _ []byte) error {
						seen[id] = true
						return nil
					})
				})
				if err != nil {
					t.Error(err)
				}
			} else {
				seen[ev.Key.ID] = true
			}
			<-release
			// The last record is written last: once it is accounted for,
			// so is everything else.
			if seen["end"] {
				break
			}
		}
		if resyncs == 0 {
			t.Error("no Resync")
		}
		done <- seen
	}()
	for i := range n {
		id := fmt.Sprint(i)
		if i == n-1 {
			id = "end"
		}
		mustUpdate(t, s, func(tx *Tx) error { return tx.Put(vpcKey(acct, east, id), i) })
		if i == watchBuffer+1 {
			close(release)
		}
	}
	if seen := <-done; len(seen) != n {
		t.Errorf("watcher accounted for %d of %d records", len(seen), n)
	}
}

// An unheard transaction commits its records but reaches no watcher; the
// next heard one does.
func TestUnheard(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		all, cancel := s.Watch()
		defer cancel()
		k := Key{Account: "000000000000", Region: "eu-west-1", Kind: "cloudwatch:datapoints", ID: "a"}
		gen := s.Generation("cloudwatch")
		if err := s.Update(func(tx *Tx) error {
			tx.Unheard()
			return tx.Put(k, 1)
		}); err != nil {
			t.Fatal(err)
		}
		quiet(t, all)
		if s.Generation("cloudwatch") == gen {
			t.Error("an unheard write did not move its service's generation")
		}
		if err := s.View(func(tx *Tx) error {
			if ok, err := tx.Get(k, new(int)); !ok || err != nil {
				t.Errorf("the unheard record: found %v, %v", ok, err)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		k.ID = "b"
		if err := s.Update(func(tx *Tx) error { return tx.Put(k, 2) }); err != nil {
			t.Fatal(err)
		}
		if ev := next(t, all); ev.Key != k {
			t.Errorf("event %+v, want the heard write of %+v", ev, k)
		}
	})
}

package store

import "strconv"

// Op is the kind of change an Event reports.
type Op int

const (
	// Put: the record at Key was created or replaced.
	Put Op = iota
	// Delete: the record at Key was deleted.
	Delete
	// Reset: every record was deleted (Key is zero).
	Reset
	// Resync: the watcher fell behind and some events were dropped (Key is
	// zero); re-list everything of interest.
	Resync
)

func (op Op) String() string {
	switch op {
	case Put:
		return "Put"
	case Delete:
		return "Delete"
	case Reset:
		return "Reset"
	case Resync:
		return "Resync"
	}
	return "Op(" + strconv.Itoa(int(op)) + ")"
}

// Event reports a committed change.
type Event struct {
	Op  Op
	Key Key
}

// watchBuffer is the capacity of each watch channel.
const watchBuffer = 1024

type watcher struct {
	kinds map[string]bool // nil means every kind
	ch    chan Event
}

func (w *watcher) wants(ev Event) bool {
	return w.kinds == nil || ev.Op == Reset || w.kinds[ev.Key.Kind]
}

// send delivers ev without ever blocking the writer. If the channel is
// full, the watcher is too slow to follow individual events: its pending
// events are discarded and replaced by a single Resync, which reaches it as
// soon as it reads the channel again, and send reports false so the caller
// drops the rest of the transaction's events too. Everything dropped was
// committed before the Resync was queued, so a controller that re-lists on
// Resync misses nothing; events committed later follow the Resync as usual.
func (w *watcher) send(ev Event) bool {
	select {
	case w.ch <- ev:
		return true
	default:
	}
	for drained := false; !drained; {
		select {
		case <-w.ch:
		default:
			drained = true
		}
	}
	// Only publish sends, under Store.watchMu, so the room just made is
	// still there.
	w.ch <- Event{Op: Resync}
	return false
}

// Watch returns a channel of the events committed after the call for
// records of the given kinds (no kinds means all kinds), and a function
// that stops the watch and closes the channel. Reset events are delivered
// to every watcher.
//
// Delivery never blocks a writer: each watcher has a buffered channel, and
// a watcher that lets it fill up gets a single Event{Op: Resync} in place of
// the events it could not take (see the Resync constant), so watchers
// should be level-triggered. Close also closes every watch channel.
func (s *Store) Watch(kinds ...string) (<-chan Event, func()) {
	w := &watcher{ch: make(chan Event, watchBuffer)}
	if len(kinds) > 0 {
		w.kinds = make(map[string]bool, len(kinds))
		for _, k := range kinds {
			w.kinds[k] = true
		}
	}
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	if s.watchers == nil { // closed
		close(w.ch)
		return w.ch, func() {}
	}
	s.watchers[w] = struct{}{}
	cancel := func() {
		s.watchMu.Lock()
		defer s.watchMu.Unlock()
		if _, ok := s.watchers[w]; ok {
			delete(s.watchers, w)
			close(w.ch)
		}
	}
	return w.ch, cancel
}

// publish delivers the events of a committed transaction.
func (s *Store) publish(events []Event) {
	if len(events) == 0 {
		return
	}
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	for w := range s.watchers {
		for _, ev := range events {
			if w.wants(ev) && !w.send(ev) {
				break
			}
		}
	}
}

func (s *Store) closeWatchers() {
	s.watchMu.Lock()
	defer s.watchMu.Unlock()
	for w := range s.watchers {
		close(w.ch)
	}
	s.watchers = nil
}

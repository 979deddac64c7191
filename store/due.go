package store

import "time"

// Due maps records to the time each next changes by itself: what a
// controller following the store (Watch) keeps to know when to wake.
type Due map[Key]time.Time

// Earliest returns the soonest time in d; ok is false when d is empty.
func (d Due) Earliest() (first time.Time, ok bool) {
	for _, t := range d {
		if !ok || t.Before(first) {
			first, ok = t, true
		}
	}
	return first, ok
}

// Arm sets timer to fire when the earliest record is due. Times are on a
// virtual clock running scale times faster than the wall clock (now is
// its reading), so the wait is divided by scale. With nothing due the
// timer stays stopped.
func (d Due) Arm(timer *time.Timer, now time.Time, scale float64) {
	timer.Stop()
	if next, ok := d.Earliest(); ok {
		timer.Reset(max(time.Duration(float64(next.Sub(now))/max(scale, 1)), 0))
	}
}

// Follow applies one watch event to d: schedule reads a changed record
// (and notes when it is due, if ever), a deleted record is forgotten, and
// after a Resync (the watcher fell behind) rescan fills d again.
func (d Due) Follow(ev Event, schedule func(Key), rescan func()) {
	switch ev.Op {
	case Put:
		schedule(ev.Key)
	case Delete:
		delete(d, ev.Key)
	case Reset:
		clear(d)
	case Resync:
		clear(d)
		rescan()
	}
}

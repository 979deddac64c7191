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

// Package clock is cloudbox's virtual time.
//
// cloudbox can run N times faster than AWS (`--time-scale N`): every timer
// of the emulated cloud (metric periods, alarm evaluation, health checks,
// cooldowns, warm-ups) keeps its AWS value in virtual time, and virtual
// time runs Scale() times faster than the wall clock:
//
//	virtual now = origin + (wall now − origin) × scale
//
// where origin is the wall time the Clock was made. At scale 1 virtual time
// is wall time. Everything a service records (timestamps of metrics,
// alarm states, activities) is virtual; only the waits are converted back
// to wall time (Wall, Sleep, After), so an AWS-timed scenario of an hour
// runs in a minute at scale 60 with no special case in any service.
package clock

import "time"

// Clock is a virtual clock. It is safe for concurrent use.
type Clock struct {
	scale  float64
	origin time.Time // wall time at New, with its monotonic reading
}

// New returns a clock running scale times faster than the wall clock; a
// scale below 1 is taken as 1.
func New(scale float64) *Clock {
	return &Clock{scale: max(scale, 1), origin: time.Now()}
}

// Scale is how many times faster than the wall clock virtual time runs.
func (c *Clock) Scale() float64 { return c.scale }

// Now returns the virtual time.
func (c *Clock) Now() time.Time {
	elapsed := time.Since(c.origin) // monotonic: immune to wall clock steps
	return c.origin.Add(time.Duration(float64(elapsed) * c.scale)).Round(0)
}

// Wall converts a virtual duration to the wall duration it lasts.
func (c *Clock) Wall(d time.Duration) time.Duration {
	return time.Duration(float64(d) / c.scale)
}

// Sleep pauses for the virtual duration d.
func (c *Clock) Sleep(d time.Duration) { time.Sleep(c.Wall(d)) }

// After returns a channel that receives the virtual time once the virtual
// duration d has passed.
func (c *Clock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	time.AfterFunc(c.Wall(d), func() { ch <- c.Now() })
	return ch
}

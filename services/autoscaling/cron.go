package autoscaling

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// cron is a Unix cron expression (minute hour day-of-month month
// day-of-week), the form of a scheduled action's Recurrence.
type cron struct {
	minute, hour, dom, month, dow uint64 // bit sets
	domAny, dowAny                bool
}

func parseCron(expr string) (*cron, error) {
	f := strings.Fields(expr)
	if len(f) != 5 {
		return nil, errors.New("want 5 fields: minute hour day-of-month month day-of-week")
	}
	c := &cron{domAny: f[2] == "*" || f[2] == "?", dowAny: f[4] == "*" || f[4] == "?"}
	var err error
	for _, p := range []struct {
		dst    *uint64
		field  string
		lo, hi int
	}{{&c.minute, f[0], 0, 59}, {&c.hour, f[1], 0, 23}, {&c.dom, f[2], 1, 31}, {&c.month, f[3], 1, 12}, {&c.dow, f[4], 0, 7}} {
		if *p.dst, err = cronField(p.field, p.lo, p.hi); err != nil {
			return nil, err
		}
	}
	if c.dow&(1<<7) != 0 { // 7 is Sunday too
		c.dow |= 1
	}
	return c, nil
}

func cronField(field string, lo, hi int) (uint64, error) {
	var set uint64
	for _, part := range strings.Split(field, ",") {
		step := 1
		if i := strings.Index(part, "/"); i >= 0 {
			n, err := strconv.Atoi(part[i+1:])
			if err != nil || n < 1 {
				return 0, fmt.Errorf("bad step in %q", part)
			}
			step, part = n, part[:i]
		}
		from, to := lo, hi
		if part != "*" && part != "?" {
			a, b, isRange := strings.Cut(part, "-")
			x, err := strconv.Atoi(a)
			if err != nil {
				return 0, fmt.Errorf("bad value %q", part)
			}
			from, to = x, x
			if isRange {
				if to, err = strconv.Atoi(b); err != nil {
					return 0, fmt.Errorf("bad range %q", part)
				}
			} else if step > 1 {
				to = hi
			}
		}
		if from < lo || to > hi || from > to {
			return 0, fmt.Errorf("%q out of range %d-%d", part, lo, hi)
		}
		for v := from; v <= to; v += step {
			set |= 1 << v
		}
	}
	return set, nil
}

func has(set uint64, v int) bool { return set&(1<<v) != 0 }

func (c *cron) dayMatches(t time.Time) bool {
	dom, dow := has(c.dom, t.Day()), has(c.dow, int(t.Weekday()))
	switch {
	case c.domAny && c.dowAny:
		return true
	case c.domAny:
		return dow
	case c.dowAny:
		return dom
	}
	return dom || dow
}

// next returns the first time after t that the expression names, read in
// loc; zero if none within five years.
func (c *cron) next(t time.Time, loc *time.Location) time.Time {
	t = t.In(loc).Truncate(time.Minute).Add(time.Minute)
	limit := t.AddDate(5, 0, 0)
	for t.Before(limit) {
		switch {
		case !has(c.month, int(t.Month())):
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, loc)
		case !c.dayMatches(t):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, loc)
		case !has(c.hour, t.Hour()):
			t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour()+1, 0, 0, 0, loc)
		case !has(c.minute, t.Minute()):
			t = t.Add(time.Minute)
		default:
			return t.UTC()
		}
	}
	return time.Time{}
}

package alb

import (
	"cmp"
	"slices"
	"sync/atomic"
	"time"
)

// Stats is a snapshot of a node's counters since it started, the raw
// material of CloudWatch's AWS/ApplicationELB metrics.
type Stats struct {
	// Requests counts every request the node received (RequestCount).
	Requests int64
	// ELB counts the load balancer's own answers by status code
	// (HTTPCode_ELB_*: 3xx redirects, 4xx, 5xx, fixed responses, and 460).
	ELB     map[int]int64
	Targets []TargetStats
}

// TargetStats are one target's counters on this node.
type TargetStats struct {
	TargetGroupARN string
	TargetID       string
	Port           int
	// Healthy is this node's view of the target.
	Healthy  bool
	Draining bool
	// Requests forwarded to the target (RequestCountPerTarget).
	Requests int64
	// Target2XX..Target5XX count the target's answers by class
	// (HTTPCode_Target_*).
	Target2XX, Target3XX, Target4XX, Target5XX int64
	// ConnectionErrors counts failures to connect or to get an answer
	// (TargetConnectionErrorCount).
	ConnectionErrors int64
	// ResponseTime is the sum of the time to the target's response headers
	// over the answered requests (TargetResponseTime = ResponseTime /
	// answered).
	ResponseTime time.Duration
	// Outstanding is the number of requests in flight now.
	Outstanding int64
}

type targetCounters struct {
	requests, c2, c3, c4, c5, connErrors, respNanos atomic.Int64
}

func (c *targetCounters) record(code int, d time.Duration) {
	switch code / 100 {
	case 2:
		c.c2.Add(1)
	case 3:
		c.c3.Add(1)
	case 4:
		c.c4.Add(1)
	case 5:
		c.c5.Add(1)
	}
	c.respNanos.Add(int64(d))
}

// lbCounters are the node's own counters; codes it answers with are few,
// so a fixed table of atomics keeps the hot path lock-free.
type lbCounters struct {
	requests atomic.Int64
	codes    [600]atomic.Int64
}

func (c *lbCounters) elb(code int) {
	if code >= 0 && code < len(c.codes) {
		c.codes[code].Add(1)
	}
}

// Stats returns a snapshot of the node's counters.
func (n *Node) Stats() Stats {
	s := Stats{Requests: n.stats.requests.Load(), ELB: map[int]int64{}}
	for code := range n.stats.codes {
		if v := n.stats.codes[code].Load(); v > 0 {
			s.ELB[code] = v
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, t := range n.targets {
		c := &t.counters
		s.Targets = append(s.Targets, TargetStats{
			TargetGroupARN:   t.key.tg,
			TargetID:         t.key.id,
			Port:             t.key.port,
			Healthy:          t.health.Load() == stateHealthy,
			Draining:         t.draining.Load(),
			Requests:         c.requests.Load(),
			Target2XX:        c.c2.Load(),
			Target3XX:        c.c3.Load(),
			Target4XX:        c.c4.Load(),
			Target5XX:        c.c5.Load(),
			ConnectionErrors: c.connErrors.Load(),
			ResponseTime:     time.Duration(c.respNanos.Load()),
			Outstanding:      t.outstanding.Load(),
		})
	}
	slices.SortFunc(s.Targets, func(a, b TargetStats) int {
		return cmp.Or(cmp.Compare(a.TargetGroupARN, b.TargetGroupARN), cmp.Compare(a.TargetID, b.TargetID), cmp.Compare(a.Port, b.Port))
	})
	return s
}

// Package events is the bus the services publish AWS events on and run
// alarm actions through, so that producers and consumers never know each
// other: Auto Scaling publishes "EC2 Instance Launch Successful" once, and
// whoever subscribed (the daemon's event log today, EventBridge and SNS
// later) receives it; CloudWatch runs an alarm action by its ARN, and the
// service that handles that ARN's prefix (Auto Scaling for its policies)
// does the work.
package events

import (
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Event is an AWS event in EventBridge's envelope.
type Event struct {
	Version    string    `json:"version"`
	ID         string    `json:"id"`
	DetailType string    `json:"detail-type"`
	Source     string    `json:"source"`
	Account    string    `json:"account"`
	Time       time.Time `json:"time"`
	Region     string    `json:"region"`
	Resources  []string  `json:"resources"`
	Detail     any       `json:"detail"`
}

// AlarmAction is one action of a CloudWatch alarm to run: the alarm entered
// State, or (for Auto Scaling actions) stays in it another period.
type AlarmAction struct {
	Account, Region string
	// ARN is the action: a scaling policy's ARN, later an SNS topic's.
	ARN       string
	AlarmName string
	State     string
	// Value is the alarm's latest datapoint and Threshold its threshold:
	// step scaling picks its step from their difference.
	Value, Threshold float64
}

// Bus delivers events and alarm actions. Delivery is synchronous and in
// the order of publication, outside any store transaction; handlers must
// return quickly.
type Bus struct {
	mu      sync.RWMutex
	subs    []subscriber
	next    int
	actions map[string]func(AlarmAction) // by ARN prefix
}

type subscriber struct {
	id int
	fn func(Event)
}

// NewBus returns an empty bus.
func NewBus() *Bus {
	return &Bus{actions: map[string]func(AlarmAction){}}
}

// Publish fills the envelope's version, id and time precision as
// EventBridge does and hands the event to every subscriber.
func (b *Bus) Publish(ev Event) {
	var id [16]byte
	rand.Read(id[:])
	ev.Version = "0"
	ev.ID = fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:])
	ev.Time = ev.Time.UTC().Truncate(time.Second)
	if ev.Resources == nil {
		ev.Resources = []string{}
	}
	b.mu.RLock()
	subs := b.subs // never changed in place: Subscribe and cancel copy
	b.mu.RUnlock()
	for _, s := range subs {
		s.fn(ev)
	}
}

// Subscribe has fn receive every event published from now on, until the
// returned function is called.
func (b *Bus) Subscribe(fn func(Event)) (cancel func()) {
	b.mu.Lock()
	defer b.mu.Unlock()
	id := b.next
	b.next++
	b.subs = append(slices.Clip(b.subs), subscriber{id, fn})
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.subs = slices.DeleteFunc(slices.Clone(b.subs), func(s subscriber) bool { return s.id == id })
	}
}

// HandleActions makes fn the runner of the alarm actions whose ARN starts
// with prefix ("arn:aws:autoscaling:"). A later call for the same prefix
// replaces the earlier one.
func (b *Bus) HandleActions(prefix string, fn func(AlarmAction)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.actions[prefix] = fn
}

// RunAction runs an alarm action with the handler of the longest prefix
// of its ARN; it reports false when no service handles it (an SNS topic
// before SNS exists), which the caller may log.
func (b *Bus) RunAction(a AlarmAction) bool {
	b.mu.RLock()
	var best string
	var fn func(AlarmAction)
	for p, h := range b.actions {
		if strings.HasPrefix(a.ARN, p) && len(p) >= len(best) {
			best, fn = p, h
		}
	}
	b.mu.RUnlock()
	if fn == nil {
		return false
	}
	fn(a)
	return true
}

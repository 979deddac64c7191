package daemon

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"sync"

	"github.com/cloudbox/cloudbox/events"
)

// The events the services publish on the bus, in EventBridge's envelope,
// until EventBridge exists to route them: each is logged, and the latest
// are kept for GET /_cloudbox/events, so that a user (or a test) sees the
// "EC2 Instance Launch Successful" or "CloudWatch Alarm State Change"
// AWS would have sent.

// maxEvents bounds the events kept in memory.
const maxEvents = 1000

// eventLog keeps the latest events of the bus.
type eventLog struct {
	log *slog.Logger
	mu  sync.Mutex
	buf []events.Event
}

// add logs an event and keeps it; the bus calls it for every event.
func (l *eventLog) add(ev events.Event) {
	l.log.Info("event", "source", ev.Source, "detail_type", ev.DetailType, "account", ev.Account, "region", ev.Region, "resources", ev.Resources)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) == maxEvents {
		l.buf = append(l.buf[:0], l.buf[1:]...)
	}
	l.buf = append(l.buf, ev)
}

// clear forgets the events (cloudbox reset).
func (l *eventLog) clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = nil
}

// serve answers GET /_cloudbox/events: the kept events, oldest first.
func (l *eventLog) serve(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(l.all())
}

// all returns the kept events, oldest first.
func (l *eventLog) all() []events.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]events.Event{}, l.buf...)
}

package daemon

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/services/autoscaling"
	"github.com/cloudbox/cloudbox/services/cloudwatch"
)

// The events the services emit, in EventBridge's envelope, until
// EventBridge exists to route them: each is logged, and the latest are
// kept for GET /_cloudbox/events, so that a user (or a test) sees the
// "EC2 Instance Launch Successful" or "CloudWatch Alarm State Change"
// AWS would have sent.

// maxEvents bounds the events kept in memory.
const maxEvents = 1000

// Event is an event as EventBridge delivers it.
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

// eventLog keeps the latest events.
type eventLog struct {
	log *slog.Logger
	mu  sync.Mutex
	buf []Event
}

func (l *eventLog) add(ev Event) {
	var id [16]byte
	rand.Read(id[:])
	ev.Version = "0"
	ev.ID = fmt.Sprintf("%x-%x-%x-%x-%x", id[0:4], id[4:6], id[6:8], id[8:10], id[10:])
	ev.Time = ev.Time.UTC().Truncate(time.Second)
	if ev.Resources == nil {
		ev.Resources = []string{}
	}
	l.log.Info("event", "source", ev.Source, "detail_type", ev.DetailType, "account", ev.Account, "region", ev.Region, "resources", ev.Resources)
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) == maxEvents {
		l.buf = append(l.buf[:0], l.buf[1:]...)
	}
	l.buf = append(l.buf, ev)
}

// follow records the events of Auto Scaling and CloudWatch.
func (l *eventLog) follow(as *autoscaling.Service, cw *cloudwatch.Service) {
	as.OnEvent(func(ev autoscaling.Event) {
		l.add(Event{DetailType: ev.DetailType, Source: "aws.autoscaling", Account: ev.Account, Region: ev.Region, Time: ev.Time, Resources: ev.Resources, Detail: ev.Detail})
	})
	cw.OnStateChange(func(ev cloudwatch.AlarmStateChange) {
		l.add(Event{DetailType: "CloudWatch Alarm State Change", Source: "aws.cloudwatch", Account: ev.Account, Region: ev.Region, Time: ev.Time, Resources: []string{ev.AlarmARN}, Detail: ev})
	})
}

// clear forgets the events (cloudbox reset).
func (l *eventLog) clear() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = nil
}

// serve answers GET /_cloudbox/events: the kept events, oldest first.
func (l *eventLog) serve(w http.ResponseWriter, _ *http.Request) {
	l.mu.Lock()
	out := append([]Event{}, l.buf...)
	l.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

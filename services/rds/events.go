package rds

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	rdsapi "github.com/cloudbox/cloudbox/api/rds"
	"github.com/cloudbox/cloudbox/store"
)

// AWS's messages for what befalls a DB instance; categories gives each
// its event category.
const (
	msgCreated        = "DB instance created"
	msgBackingUp      = "Backing up DB instance"
	msgBackupDone     = "Finished DB Instance backup"
	msgStopped        = "DB instance stopped"
	msgStarted        = "DB instance started"
	msgAutoStart      = "DB instance is being started due to it exceeding the maximum allowed time being stopped."
	msgRestarted      = "DB instance restarted"
	msgShutdown       = "DB instance shutdown"
	msgDeleted        = "DB instance deleted"
	msgClassApplying  = "Applying modification to database instance class"
	msgClassFinished  = "Finished applying modification to DB instance class"
	msgFailed         = "DB instance failed to start"
	msgSecurityGroups = "Applied change to security group"

	// A DB snapshot's.
	msgSnapshotCreating     = "Creating manual snapshot"
	msgSnapshotCreated      = "Manual snapshot created"
	msgSnapshotDeleted      = "Deleted manual snapshot"
	msgSnapshotFailed       = "Snapshot failed"
	msgAutoSnapshotCreating = "Creating automated snapshot"
	msgAutoSnapshotCreated  = "Automated snapshot created"
	msgAutoSnapshotDeleted  = "Deleted automated snapshot"
)

func msgRestored(snapshot string) string { return "Restored from snapshot " + snapshot }

func msgCopyStarted(source, region string) string {
	return "Started copy of snapshot " + source + " from region " + region
}

func msgCopyFinished(source, region string) string {
	return "Finished copy of snapshot " + source + " from region " + region
}

var categories = map[string]string{
	msgCreated: "creation", msgBackingUp: "backup", msgBackupDone: "backup", msgStopped: "notification",
	msgStarted: "notification", msgAutoStart: "notification", msgRestarted: "availability", msgShutdown: "availability", msgDeleted: "deletion",
	msgClassApplying: "configuration change", msgClassFinished: "configuration change", msgFailed: "failure",
	msgSecurityGroups:   "configuration change",
	msgSnapshotCreating: "creation", msgSnapshotCreated: "creation", msgSnapshotDeleted: "deletion", msgSnapshotFailed: "failure",
	msgAutoSnapshotCreating: "creation", msgAutoSnapshotCreated: "creation", msgAutoSnapshotDeleted: "deletion",
}

// category is a message's event category (those with an identifier in
// them are notifications, the restore's a restoration).
func category(msg string) string {
	if c, ok := categories[msg]; ok {
		return c
	}
	if strings.HasPrefix(msg, "Restored from snapshot ") || strings.HasPrefix(msg, "Restored from DB instance ") {
		return "restoration"
	}
	return "notification"
}

// eventIDs are RDS's ids of the events it sends to EventBridge.
var eventIDs = map[string]string{
	msgBackingUp: "RDS-EVENT-0001", msgBackupDone: "RDS-EVENT-0002", msgDeleted: "RDS-EVENT-0003", msgShutdown: "RDS-EVENT-0004",
	msgCreated: "RDS-EVENT-0005", msgRestarted: "RDS-EVENT-0006", msgFailoverStarted: "RDS-EVENT-0013", msgClassApplying: "RDS-EVENT-0014",
	msgFailoverCompleted: "RDS-EVENT-0015", msgClassFinished: "RDS-EVENT-0017", msgStopped: "RDS-EVENT-0087", msgStarted: "RDS-EVENT-0088",
	msgAutoStart: "RDS-EVENT-0154",
}

// BusEvent is an RDS event as EventBridge carries it ("RDS DB Instance
// Event" from aws.rds).
type BusEvent struct {
	// DetailType is EventBridge's: "RDS DB Instance Event" or "RDS DB
	// Snapshot Event".
	DetailType      string
	Account, Region string
	Time            time.Time
	Resources       []string
	Detail          map[string]any
}

// OnEvent registers fn to receive every event recorded, once committed,
// in order (the daemon puts them on its event bus).
func (s *Service) OnEvent(fn func(BusEvent)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onEvent = append(s.onEvent, fn)
}

// publishEvents hands each committed event record to the OnEvent
// functions until the store closes.
func (s *Service) publishEvents(recorded <-chan store.Event) {
	for ev := range recorded {
		if ev.Op != store.Put {
			continue
		}
		var r eventRecord
		var ok bool
		err := s.store.View(func(tx *store.Tx) (err error) {
			ok, err = tx.Get(ev.Key, &r)
			return err
		})
		if err != nil || !ok {
			continue
		}
		kind, sourceType := "RDS DB Instance Event", "DB_INSTANCE"
		if r.SourceType == "db-snapshot" {
			kind, sourceType = "RDS DB Snapshot Event", "SNAPSHOT"
		}
		detail := map[string]any{"EventCategories": r.Categories, "SourceType": sourceType, "SourceArn": r.SourceArn,
			"Date": r.Date.UTC().Format("2006-01-02T15:04:05.000Z"), "Message": r.Message, "SourceIdentifier": r.SourceID}
		if id := eventIDs[r.Message]; id != "" {
			detail["EventID"] = id
		}
		s.mu.Lock()
		fns := slices.Clone(s.onEvent)
		s.mu.Unlock()
		for _, fn := range fns {
			fn(BusEvent{DetailType: kind, Account: ev.Key.Account, Region: ev.Key.Region, Time: r.Date, Resources: []string{r.SourceArn}, Detail: detail})
		}
	}
}

// event records an event on a DB instance in tx.
func event(tx *store.Tx, sc scope, id string, at time.Time, msg string) error {
	seq, err := tx.NextID(sc.account, sc.region, kindEvent)
	if err != nil {
		return err
	}
	return tx.Put(sc.key(kindEvent, fmt.Sprintf("%016d", seq)), eventRecord{SourceID: id, SourceType: "db-instance",
		SourceArn: sc.arn("db", id), Message: msg, Categories: []string{category(msg)}, Date: at})
}

// snapshotEvent records an event on a DB snapshot in tx.
func snapshotEvent(tx *store.Tx, sc scope, id string, at time.Time, msg string) error {
	seq, err := tx.NextID(sc.account, sc.region, kindEvent)
	if err != nil {
		return err
	}
	return tx.Put(sc.key(kindEvent, fmt.Sprintf("%016d", seq)), eventRecord{SourceID: id, SourceType: "db-snapshot",
		SourceArn: sc.arn("snapshot", id), Message: msg, Categories: []string{category(msg)}, Date: at})
}

func (s *Service) DescribeEvents(ctx context.Context, in *rdsapi.DescribeEventsMessage) (*rdsapi.EventsMessage, error) {
	sc := scopeOf(ctx)
	now := s.now()
	start, end := now.Add(-time.Hour), now
	if in.Duration != nil {
		start = end.Add(-time.Duration(*in.Duration) * time.Minute)
	}
	if in.StartTime != nil {
		start = *in.StartTime
	}
	if in.EndTime != nil {
		end = *in.EndTime
	}
	var evs []*eventRecord
	err := s.store.View(func(tx *store.Tx) error {
		all, err := store.ListAll[eventRecord](tx, sc.account, sc.region, kindEvent)
		for _, e := range all {
			if e.Date.Before(start) || e.Date.After(end) || (in.SourceIdentifier != nil && *in.SourceIdentifier != e.SourceID) ||
				(in.SourceType != nil && *in.SourceType != e.SourceType) {
				continue
			}
			if len(in.EventCategories) > 0 && !slices.ContainsFunc(in.EventCategories, func(c *string) bool { return slices.Contains(e.Categories, deref(c)) }) {
				continue
			}
			evs = append(evs, e)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	// Markers are the events' positions.
	type indexed struct {
		i int
		e *eventRecord
	}
	list := make([]indexed, len(evs))
	for i, e := range evs {
		list[i] = indexed{i, e}
	}
	list, next, err := page(list, func(x indexed) string { return fmt.Sprint(x.i) }, in.Marker, in.MaxRecords)
	if err != nil {
		return nil, err
	}
	out := &rdsapi.EventsMessage{Marker: next, Events: []*rdsapi.Event{}}
	for _, x := range list {
		e := x.e
		out.Events = append(out.Events, &rdsapi.Event{SourceIdentifier: ptr(e.SourceID), SourceType: ptr(e.SourceType), SourceArn: ptr(e.SourceArn),
			Message: ptr(e.Message), EventCategories: ptrs(e.Categories), Date: ptr(e.Date)})
	}
	return out, nil
}

func ptrs(ss []string) []*string {
	out := make([]*string, len(ss))
	for i := range ss {
		out[i] = &ss[i]
	}
	return out
}

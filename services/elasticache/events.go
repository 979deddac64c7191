package elasticache

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	ecapi "github.com/cloudbox/cloudbox/api/elasticache"
	"github.com/cloudbox/cloudbox/store"
)

// event is one of ElastiCache's events, kept in the order they happened
// (ids are a zero-padded sequence).
type event struct {
	Date                 time.Time
	SourceType, SourceID string
	Message              string
}

// recordEvent adds an event in the caller's transaction.
func recordEvent(tx *store.Tx, sc scope, at time.Time, sourceType, sourceID, msg string) error {
	seq, err := tx.NextID(sc.account, sc.region, kindEvent)
	if err != nil {
		return err
	}
	return tx.Put(sc.key(kindEvent, fmt.Sprintf("%012d", seq)), event{Date: at, SourceType: sourceType, SourceID: sourceID, Message: msg})
}

func (s *Service) describeEvents(ctx context.Context, in *ecapi.DescribeEventsMessage) (*ecapi.EventsMessage, error) {
	sc := scopeOf(ctx)
	end := s.now()
	if in.EndTime != nil {
		end = *in.EndTime
	}
	// The last hour by default, or Duration minutes before the end.
	start := end.Add(-time.Hour)
	if in.Duration != nil {
		if *in.Duration < 0 || *in.Duration > 20160 {
			return nil, invalidValue("Duration must be between 0 and 20160 minutes.")
		}
		start = end.Add(-time.Duration(*in.Duration) * time.Minute)
	}
	if in.StartTime != nil {
		start = *in.StartTime
	}
	var all []*ecapi.Event
	err := s.store.View(func(tx *store.Tx) error {
		evs, err := store.ListAll[event](tx, sc.account, sc.region, kindEvent)
		for _, e := range evs {
			if e.Date.Before(start) || e.Date.After(end) ||
				deref(in.SourceType) != "" && deref(in.SourceType) != e.SourceType ||
				deref(in.SourceIdentifier) != "" && deref(in.SourceIdentifier) != e.SourceID {
				continue
			}
			all = append(all, &ecapi.Event{Date: &e.Date, SourceType: str(e.SourceType), SourceIdentifier: str(e.SourceID), Message: str(e.Message)})
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out, next, err := page(all, in.Marker, in.MaxRecords)
	return &ecapi.EventsMessage{Events: out, Marker: next}, err
}

// BusEvent is an ElastiCache event as EventBridge carries it (source
// aws.elasticache).
type BusEvent struct {
	// DetailType is EventBridge's: "Cache Created", "Cache Deleted",
	// "Cache Updated", "Cache Update Failed", "Snapshot Created" or
	// "Snapshot Creation Failed".
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

// detailType is the EventBridge detail type of an event's message: the
// kinds of event ElastiCache sends there.
func detailType(msg string) string {
	switch {
	case strings.HasPrefix(msg, "Snapshot succeeded"):
		return "Snapshot Created"
	case strings.HasPrefix(msg, "Snapshot failed"):
		return "Snapshot Creation Failed"
	case strings.HasPrefix(msg, "Failed to"):
		return "Cache Update Failed"
	case strings.HasSuffix(msg, " created"):
		return "Cache Created"
	case strings.HasSuffix(msg, " deleted"):
		return "Cache Deleted"
	}
	return "Cache Updated"
}

// sourceARN is the ARN of an event's source.
func (sc scope) sourceARN(sourceType, id string) string {
	switch sourceType {
	case "replication-group":
		return sc.arn("replicationgroup", id)
	case "cache-cluster":
		return sc.arn("cluster", id)
	}
	return sc.arn(strings.ReplaceAll(strings.TrimPrefix(sourceType, "cache-"), "-", ""), id)
}

// publishEvents hands each committed event record to the OnEvent
// functions until the store closes.
func (s *Service) publishEvents(recorded <-chan store.Event) {
	for ev := range recorded {
		if ev.Op != store.Put {
			continue
		}
		var e event
		var ok bool
		err := s.store.View(func(tx *store.Tx) (err error) {
			ok, err = tx.Get(ev.Key, &e)
			return err
		})
		if err != nil || !ok {
			continue
		}
		sc := scope{account: ev.Key.Account, region: ev.Key.Region}
		arn := sc.sourceARN(e.SourceType, e.SourceID)
		detail := map[string]any{"SourceType": e.SourceType, "SourceIdentifier": e.SourceID, "SourceArn": arn,
			"Message": e.Message, "Date": e.Date.UTC().Format("2006-01-02T15:04:05.000Z")}
		s.mu.Lock()
		fns := slices.Clone(s.onEvent)
		s.mu.Unlock()
		for _, fn := range fns {
			fn(BusEvent{DetailType: detailType(e.Message), Account: sc.account, Region: sc.region, Time: e.Date, Resources: []string{arn}, Detail: detail})
		}
	}
}

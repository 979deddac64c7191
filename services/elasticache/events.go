package elasticache

import (
	"context"
	"fmt"
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

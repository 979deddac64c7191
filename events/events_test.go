package events

import (
	"slices"
	"testing"
	"time"
)

func TestPublishOrderAndCancel(t *testing.T) {
	b := NewBus()
	var a, c []string
	cancelA := b.Subscribe(func(ev Event) { a = append(a, ev.DetailType) })
	b.Subscribe(func(ev Event) { c = append(c, ev.DetailType) })
	b.Publish(Event{DetailType: "one", Time: time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("x", 3600))})
	cancelA()
	b.Publish(Event{DetailType: "two"})
	if !slices.Equal(a, []string{"one"}) || !slices.Equal(c, []string{"one", "two"}) {
		t.Fatalf("a=%v c=%v", a, c)
	}
}

func TestEnvelope(t *testing.T) {
	b := NewBus()
	var got Event
	b.Subscribe(func(ev Event) { got = ev })
	b.Publish(Event{DetailType: "x", Time: time.Date(2026, 1, 2, 3, 4, 5, 600, time.FixedZone("x", 3600))})
	if got.Version != "0" || len(got.ID) != 36 || got.Resources == nil {
		t.Fatalf("envelope: %+v", got)
	}
	if want := time.Date(2026, 1, 2, 2, 4, 5, 0, time.UTC); !got.Time.Equal(want) || got.Time.Location() != time.UTC {
		t.Fatalf("time %v, want %v in UTC", got.Time, want)
	}
}

func TestRunActionLongestPrefix(t *testing.T) {
	b := NewBus()
	var who string
	b.HandleActions("arn:aws:", func(AlarmAction) { who = "any" })
	b.HandleActions("arn:aws:autoscaling:", func(a AlarmAction) { who = "autoscaling " + a.AlarmName })
	if !b.RunAction(AlarmAction{ARN: "arn:aws:autoscaling:us-east-1:1:scalingPolicy:x", AlarmName: "hot"}) || who != "autoscaling hot" {
		t.Fatalf("who=%q", who)
	}
	if !b.RunAction(AlarmAction{ARN: "arn:aws:sns:us-east-1:1:t"}) || who != "any" {
		t.Fatalf("who=%q", who)
	}
	if NewBus().RunAction(AlarmAction{ARN: "arn:aws:sns:us-east-1:1:t"}) {
		t.Fatal("an action nobody handles ran")
	}
}

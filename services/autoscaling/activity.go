package autoscaling

import (
	"context"
	"github.com/cloudbox/cloudbox/uuid"
	"slices"
	"strconv"
	"time"

	asapi "github.com/cloudbox/cloudbox/api/autoscaling"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/store"
)

// Activity status codes.
const (
	statusInProgress = asapi.ScalingActivityStatusCodeInProgress
	statusMidHook    = asapi.ScalingActivityStatusCodeMidLifecycleAction
	statusSuccessful = asapi.ScalingActivityStatusCodeSuccessful
	statusFailed     = asapi.ScalingActivityStatusCodeFailed
	statusCancelled  = asapi.ScalingActivityStatusCodeCancelled
)

// Causes of capacity changes, in AWS's words.
func causeCreate(now time.Time, from, to int64) string {
	return "At " + stamp(now) + " a user request created an AutoScalingGroup changing the desired capacity from " + itoa(from) + " to " + itoa(to) + "."
}

func causeUpdate(now time.Time, min, max, desired, from int64) string {
	return "At " + stamp(now) + " a user request update of AutoScalingGroup constraints to min: " + itoa(min) + ", max: " + itoa(max) +
		", desired: " + itoa(desired) + " changing the desired capacity from " + itoa(from) + " to " + itoa(desired) + "."
}

func causeScheduled(now time.Time, min, max, desired, from int64) string {
	return "At " + stamp(now) + " a scheduled action update of AutoScalingGroup constraints to min: " + itoa(min) + ", max: " + itoa(max) +
		", desired: " + itoa(desired) + " changing the desired capacity from " + itoa(from) + " to " + itoa(desired) + "."
}

func causeSetDesired(now time.Time, from, to int64) string {
	return "At " + stamp(now) + " a user request explicitly set group desired capacity changing the desired capacity from " + itoa(from) + " to " + itoa(to) + "."
}

func causeAlarm(now time.Time, alarm, state, policy string, from, to int64) string {
	return "At " + stamp(now) + " a monitor alarm " + alarm + " in state " + state + " triggered policy " + policy +
		" changing the desired capacity from " + itoa(from) + " to " + itoa(to) + "."
}

func causeExecute(now time.Time, policy string, from, to int64) string {
	return "At " + stamp(now) + " a user request executed policy " + policy + " changing the desired capacity from " + itoa(from) + " to " + itoa(to) + "."
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

// newActivity records an activity for a group, in progress.
func newActivity(tx *store.Tx, sc scope, g *groupRecord, now time.Time, description, cause, details string) (*asapi.Activity, error) {
	a := &asapi.Activity{
		ActivityId:           str(uuid.New()),
		AutoScalingGroupARN:  g.G.AutoScalingGroupARN,
		AutoScalingGroupName: g.G.AutoScalingGroupName,
		Cause:                str(cause),
		Description:          str(description),
		Details:              str(details),
		Progress:             i64(0),
		StartTime:            timep(now),
		StatusCode:           str(statusInProgress),
	}
	return a, putActivity(tx, sc, a)
}

// finishActivity ends an instance's activity with a status and returns
// the event EventBridge would carry (nil for a status without one).
func finishActivity(tx *store.Tx, sc scope, g *groupRecord, in *instanceRecord, now time.Time, status, message, detailType string) (*Event, error) {
	var done asapi.Activity
	err := updateActivity(tx, sc, in.ActivityID, func(a *asapi.Activity) {
		a.StatusCode, a.Progress, a.EndTime = str(status), i64(100), timep(now)
		if message != "" {
			a.StatusMessage = str(message)
		}
		done = *a
	})
	if err == errNoActivity {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	in.ActivityID = ""
	if detailType == "" {
		return nil, nil
	}
	ev := activityEvent(sc, g, in, &done, detailType, now)
	return &ev, nil
}

func activityEvent(sc scope, g *groupRecord, in *instanceRecord, a *asapi.Activity, detailType string, now time.Time) Event {
	details := map[string]any{"Availability Zone": in.AZ}
	if in.SubnetID != "" {
		details["Subnet ID"] = in.SubnetID
	}
	detail := map[string]any{
		"StatusCode":           deref(a.StatusCode),
		"AutoScalingGroupName": g.name(),
		"ActivityId":           deref(a.ActivityId),
		"Details":              details,
		"RequestId":            deref(a.ActivityId),
		"StatusMessage":        deref(a.StatusMessage),
		"StartTime":            stamp(deref(a.StartTime)),
		"EndTime":              stamp(now),
		"EC2InstanceId":        in.ID,
		"Cause":                deref(a.Cause),
		"Description":          deref(a.Description),
	}
	return Event{
		Account: sc.account, Region: sc.region, DetailType: detailType, Time: now,
		Resources: []string{deref(g.G.AutoScalingGroupARN), arn.New("ec2", sc.region, sc.account, "instance/"+in.ID).String()},
		Detail:    detail,
	}
}

func setActivityStatus(tx *store.Tx, sc scope, id, status string) error {
	err := updateActivity(tx, sc, id, func(a *asapi.Activity) { a.StatusCode = str(status) })
	if err == errNoActivity {
		return nil
	}
	return err
}

// DescribeScalingActivities lists activities, newest first.
func (s *Service) DescribeScalingActivities(ctx context.Context, in *asapi.DescribeScalingActivitiesType) (*asapi.ActivitiesType, error) {
	sc := scopeOf(ctx)
	var out []*asapi.Activity
	err := s.store.View(func(tx *store.Tx) error {
		group := deref(in.AutoScalingGroupName)
		if group != "" && !deref(in.IncludeDeletedGroups) {
			if _, err := loadGroup(tx, sc, group); err != nil {
				return err
			}
		}
		all, err := store.ListAll[activityRecord](tx, sc.account, sc.region, kindActivity)
		if err != nil {
			return err
		}
		ids := derefAll(in.ActivityIds)
		for _, r := range slices.Backward(all) {
			if group != "" && deref(r.A.AutoScalingGroupName) != group {
				continue
			}
			if len(ids) > 0 && !slices.Contains(ids, deref(r.A.ActivityId)) {
				continue
			}
			out = append(out, &r.A)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	items, next, err := page(out, in.MaxRecords, in.NextToken, 100)
	if err != nil {
		return nil, err
	}
	return &asapi.ActivitiesType{Activities: items, NextToken: next}, nil
}

func derefAll(ps []*string) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, deref(p))
	}
	return out
}

package autoscaling

import (
	"context"
	"github.com/cloudbox/cloudbox/uuid"
	"slices"
	"time"

	"github.com/cloudbox/cloudbox/api"
	asapi "github.com/cloudbox/cloudbox/api/autoscaling"
	"github.com/cloudbox/cloudbox/store"
)

const (
	transitionLaunching   = "autoscaling:EC2_INSTANCE_LAUNCHING"
	transitionTerminating = "autoscaling:EC2_INSTANCE_TERMINATING"
	maxHooks              = 50
	maxScheduled          = 125
)

func (s *Service) registerHooks(h *asapi.Handlers) {
	h.PutLifecycleHook = s.PutLifecycleHook
	h.DescribeLifecycleHooks = s.DescribeLifecycleHooks
	h.DeleteLifecycleHook = s.DeleteLifecycleHook
	h.CompleteLifecycleAction = s.CompleteLifecycleAction
	h.RecordLifecycleActionHeartbeat = s.RecordLifecycleActionHeartbeat
	h.PutScheduledUpdateGroupAction = s.PutScheduledUpdateGroupAction
	h.DescribeScheduledActions = s.DescribeScheduledActions
	h.DeleteScheduledAction = s.DeleteScheduledAction
	h.StartInstanceRefresh = s.StartInstanceRefresh
	h.DescribeInstanceRefreshes = s.DescribeInstanceRefreshes
	h.CancelInstanceRefresh = s.CancelInstanceRefresh
}

func newHook(group string, name, transition, result *string, heartbeat *int64, metadata, target, role *string) (*asapi.LifecycleHook, error) {
	if t := deref(transition); t != transitionLaunching && t != transitionTerminating {
		return nil, validation("Invalid Lifecycle Transition: %s", t)
	}
	if result == nil {
		result = str("ABANDON")
	}
	if *result != "CONTINUE" && *result != "ABANDON" {
		return nil, validation("Valid values for DefaultResult are CONTINUE and ABANDON")
	}
	hb := int64(3600)
	if heartbeat != nil {
		hb = *heartbeat
	}
	if hb < 30 || hb > 7200 {
		return nil, validation("Heartbeat timeout must be between 30 and 7200 seconds")
	}
	return &asapi.LifecycleHook{
		AutoScalingGroupName: str(group), DefaultResult: result, GlobalTimeout: i64(min(100*hb, 172800)),
		HeartbeatTimeout: i64(hb), LifecycleHookName: name, LifecycleTransition: transition,
		NotificationMetadata: metadata, NotificationTargetARN: target, RoleARN: role,
	}, nil
}

// PutLifecycleHook creates or replaces a lifecycle hook.
func (s *Service) PutLifecycleHook(ctx context.Context, in *asapi.PutLifecycleHookType) (*asapi.PutLifecycleHookAnswer, error) {
	err := s.mutate(scopeOf(ctx), deref(in.AutoScalingGroupName), func(_ *store.Tx, g *groupRecord) ([]Event, error) {
		i := slices.IndexFunc(g.Hooks, func(h *asapi.LifecycleHook) bool { return deref(h.LifecycleHookName) == deref(in.LifecycleHookName) })
		transition, result, hb := in.LifecycleTransition, in.DefaultResult, in.HeartbeatTimeout
		if i >= 0 {
			old := g.Hooks[i]
			transition = orElse(transition, old.LifecycleTransition)
			result = orElse(result, old.DefaultResult)
			hb = orElse(hb, old.HeartbeatTimeout)
		} else if transition == nil {
			return nil, validation("LifecycleTransition is required to create a lifecycle hook")
		}
		h, err := newHook(g.name(), in.LifecycleHookName, transition, result, hb, in.NotificationMetadata, in.NotificationTargetARN, in.RoleARN)
		if err != nil {
			return nil, err
		}
		if i >= 0 {
			g.Hooks[i] = h
			return nil, nil
		}
		if len(g.Hooks) >= maxHooks {
			return nil, api.Errorf("LimitExceeded", "Maximum number of lifecycle hooks (%d) for the group %s reached", maxHooks, g.name())
		}
		g.Hooks = append(g.Hooks, h)
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return &asapi.PutLifecycleHookAnswer{}, nil
}

func orElse[T any](v, def *T) *T {
	if v != nil {
		return v
	}
	return def
}

// DescribeLifecycleHooks lists a group's hooks.
func (s *Service) DescribeLifecycleHooks(ctx context.Context, in *asapi.DescribeLifecycleHooksType) (*asapi.DescribeLifecycleHooksAnswer, error) {
	g, err := s.viewGroup(ctx, deref(in.AutoScalingGroupName))
	if err != nil {
		return nil, err
	}
	names := derefAll(in.LifecycleHookNames)
	out := []*asapi.LifecycleHook{}
	for _, h := range g.Hooks {
		if len(names) == 0 || slices.Contains(names, deref(h.LifecycleHookName)) {
			out = append(out, h)
		}
	}
	return &asapi.DescribeLifecycleHooksAnswer{LifecycleHooks: out}, nil
}

// DeleteLifecycleHook deletes a hook; instances waiting on it go on.
func (s *Service) DeleteLifecycleHook(ctx context.Context, in *asapi.DeleteLifecycleHookType) (*asapi.DeleteLifecycleHookAnswer, error) {
	name := deref(in.LifecycleHookName)
	err := s.mutate(scopeOf(ctx), deref(in.AutoScalingGroupName), func(_ *store.Tx, g *groupRecord) ([]Event, error) {
		n := len(g.Hooks)
		g.Hooks = slices.DeleteFunc(g.Hooks, func(h *asapi.LifecycleHook) bool { return deref(h.LifecycleHookName) == name })
		if len(g.Hooks) == n {
			return nil, validation("No Lifecycle Hook found with name %s for group %s", name, g.name())
		}
		for _, r := range g.Instances {
			r.Waits = slices.DeleteFunc(r.Waits, func(w *hookWait) bool { return w.Hook == name })
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return &asapi.DeleteLifecycleHookAnswer{}, nil
}

// waitFor finds the wait a lifecycle action names, by instance or token.
func waitFor(g *groupRecord, hook, instanceID, token string) (*instanceRecord, *hookWait, error) {
	for _, r := range g.Instances {
		if instanceID != "" && r.ID != instanceID {
			continue
		}
		for _, w := range r.Waits {
			if w.Hook == hook && w.Result == "" && (token == "" || w.Token == token) {
				return r, w, nil
			}
		}
	}
	if instanceID != "" {
		return nil, nil, validation("No active Lifecycle Action found with instance ID %s", instanceID)
	}
	return nil, nil, validation("No active Lifecycle Action found with token %s", token)
}

// CompleteLifecycleAction ends an instance's wait on a hook.
func (s *Service) CompleteLifecycleAction(ctx context.Context, in *asapi.CompleteLifecycleActionType) (*asapi.CompleteLifecycleActionAnswer, error) {
	result := deref(in.LifecycleActionResult)
	if result != "CONTINUE" && result != "ABANDON" {
		return nil, validation("Valid values for LifecycleActionResult are CONTINUE and ABANDON")
	}
	if in.InstanceId == nil && in.LifecycleActionToken == nil {
		return nil, validation("Either InstanceId or LifecycleActionToken must be specified")
	}
	err := s.mutate(scopeOf(ctx), deref(in.AutoScalingGroupName), func(_ *store.Tx, g *groupRecord) ([]Event, error) {
		_, w, err := waitFor(g, deref(in.LifecycleHookName), deref(in.InstanceId), deref(in.LifecycleActionToken))
		if err != nil {
			return nil, err
		}
		w.Result = result
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return &asapi.CompleteLifecycleActionAnswer{}, nil
}

// RecordLifecycleActionHeartbeat restarts a wait's heartbeat timeout.
func (s *Service) RecordLifecycleActionHeartbeat(ctx context.Context, in *asapi.RecordLifecycleActionHeartbeatType) (*asapi.RecordLifecycleActionHeartbeatAnswer, error) {
	if in.InstanceId == nil && in.LifecycleActionToken == nil {
		return nil, validation("Either InstanceId or LifecycleActionToken must be specified")
	}
	now := s.now()
	err := s.mutate(scopeOf(ctx), deref(in.AutoScalingGroupName), func(_ *store.Tx, g *groupRecord) ([]Event, error) {
		_, w, err := waitFor(g, deref(in.LifecycleHookName), deref(in.InstanceId), deref(in.LifecycleActionToken))
		if err != nil {
			return nil, err
		}
		for _, h := range g.Hooks {
			if deref(h.LifecycleHookName) == w.Hook {
				w.Deadline = minTime(now.Add(seconds(deref(h.HeartbeatTimeout))), w.Global)
			}
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return &asapi.RecordLifecycleActionHeartbeatAnswer{}, nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// PutScheduledUpdateGroupAction creates or replaces a scheduled action.
func (s *Service) PutScheduledUpdateGroupAction(ctx context.Context, in *asapi.PutScheduledUpdateGroupActionType) (*asapi.PutScheduledUpdateGroupActionOutput, error) {
	sc := scopeOf(ctx)
	now := s.now()
	if in.MinSize == nil && in.MaxSize == nil && in.DesiredCapacity == nil {
		return nil, validation("At least one of MinSize, MaxSize or DesiredCapacity must be specified.")
	}
	start := orElse(in.StartTime, in.Time)
	if in.Time != nil && in.StartTime != nil && !in.Time.Equal(*in.StartTime) {
		return nil, validation("Time and StartTime must be the same when both are given")
	}
	loc := time.UTC
	if tz := deref(in.TimeZone); tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return nil, validation("Invalid time zone: %s", tz)
		}
		loc = l
	}
	a := asapi.ScheduledUpdateGroupAction{
		AutoScalingGroupName: in.AutoScalingGroupName, DesiredCapacity: in.DesiredCapacity, EndTime: in.EndTime,
		MaxSize: in.MaxSize, MinSize: in.MinSize, Recurrence: in.Recurrence, ScheduledActionName: in.ScheduledActionName,
		StartTime: start, Time: start, TimeZone: in.TimeZone,
	}
	var next time.Time
	if in.Recurrence != nil {
		c, err := parseCron(*in.Recurrence)
		if err != nil {
			return nil, validation("Given recurrence string %s is invalid: %v", *in.Recurrence, err)
		}
		from := now
		if start != nil && start.After(now) {
			from = start.Add(-time.Minute)
		}
		next = c.next(from, loc)
		if a.StartTime == nil {
			a.StartTime, a.Time = timep(next), timep(next)
		}
	} else {
		if start == nil {
			return nil, validation("Either Recurrence or StartTime must be specified")
		}
		if start.Before(now) {
			return nil, validation("Given start time is in the past")
		}
		next = *start
	}
	if in.EndTime != nil && (in.EndTime.Before(now) || (start != nil && in.EndTime.Before(*start))) {
		return nil, validation("End time must be after the start time and in the future")
	}
	err := s.mutate(sc, deref(in.AutoScalingGroupName), func(_ *store.Tx, g *groupRecord) ([]Event, error) {
		name := deref(in.ScheduledActionName)
		a.ScheduledActionARN = str(resourceARN(sc, "scheduledUpdateGroupAction", uuid.New(), "autoScalingGroupName", g.name(), "scheduledActionName", name))
		rec := &scheduledRecord{A: a, Next: next}
		for i, old := range g.Scheduled {
			if deref(old.A.ScheduledActionName) == name {
				rec.A.ScheduledActionARN = old.A.ScheduledActionARN
				g.Scheduled[i] = rec
				return nil, nil
			}
		}
		if len(g.Scheduled) >= maxScheduled {
			return nil, api.Errorf("LimitExceeded", "Maximum number of scheduled actions (%d) for the group %s reached", maxScheduled, g.name())
		}
		g.Scheduled = append(g.Scheduled, rec)
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return &asapi.PutScheduledUpdateGroupActionOutput{}, nil
}

// DescribeScheduledActions lists scheduled actions.
func (s *Service) DescribeScheduledActions(ctx context.Context, in *asapi.DescribeScheduledActionsType) (*asapi.ScheduledActionsType, error) {
	sc := scopeOf(ctx)
	names := derefAll(in.ScheduledActionNames)
	var out []*asapi.ScheduledUpdateGroupAction
	err := s.store.View(func(tx *store.Tx) error {
		groups, err := groupsNamed(tx, sc, deref(in.AutoScalingGroupName))
		if err != nil {
			return err
		}
		for _, g := range groups {
			for _, r := range g.Scheduled {
				if len(names) > 0 && !slices.Contains(names, deref(r.A.ScheduledActionName)) {
					continue
				}
				if in.StartTime != nil && r.Next.Before(*in.StartTime) || in.EndTime != nil && r.Next.After(*in.EndTime) {
					continue
				}
				a := r.A
				if !r.Next.IsZero() {
					a.StartTime, a.Time = timep(r.Next), timep(r.Next)
				}
				out = append(out, &a)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	items, next, err := page(out, in.MaxRecords, in.NextToken, 50)
	if err != nil {
		return nil, err
	}
	return &asapi.ScheduledActionsType{ScheduledUpdateGroupActions: items, NextToken: next}, nil
}

// DeleteScheduledAction deletes a scheduled action.
func (s *Service) DeleteScheduledAction(ctx context.Context, in *asapi.DeleteScheduledActionType) (*asapi.DeleteScheduledActionOutput, error) {
	name := deref(in.ScheduledActionName)
	err := s.mutate(scopeOf(ctx), deref(in.AutoScalingGroupName), func(_ *store.Tx, g *groupRecord) ([]Event, error) {
		n := len(g.Scheduled)
		g.Scheduled = slices.DeleteFunc(g.Scheduled, func(r *scheduledRecord) bool { return deref(r.A.ScheduledActionName) == name })
		if len(g.Scheduled) == n {
			return nil, validation("Scheduled Update Group Action name not found - Could not find scheduled action %s for group %s", name, g.name())
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return &asapi.DeleteScheduledActionOutput{}, nil
}

func refreshActive(r *refreshRecord) bool {
	st := deref(r.R.Status)
	return st == asapi.InstanceRefreshStatusPending || st == asapi.InstanceRefreshStatusInProgress
}

// StartInstanceRefresh replaces the group's instances in batches, keeping
// MinHealthyPercentage of the desired capacity in service.
func (s *Service) StartInstanceRefresh(ctx context.Context, in *asapi.StartInstanceRefreshType) (*asapi.StartInstanceRefreshAnswer, error) {
	sc := scopeOf(ctx)
	now := s.now()
	if st := deref(in.Strategy); st != "" && st != asapi.RefreshStrategyRolling {
		return nil, validation("Valid strategy is Rolling")
	}
	prefs := in.Preferences
	if prefs == nil {
		prefs = &asapi.RefreshPreferences{}
	}
	if prefs.MinHealthyPercentage == nil {
		prefs.MinHealthyPercentage = i64(90)
	}
	if prefs.SkipMatching == nil {
		prefs.SkipMatching = boolp(false)
	}
	id := uuid.New()
	err := s.mutate(sc, deref(in.AutoScalingGroupName), func(tx *store.Tx, g *groupRecord) ([]Event, error) {
		if slices.ContainsFunc(g.Refreshes, refreshActive) {
			return nil, api.Errorf("InstanceRefreshInProgress", "An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.")
		}
		if dc := in.DesiredConfiguration; dc != nil {
			src, err := s.checkSource(tx, sc, dc.LaunchTemplate, nil, dc.MixedInstancesPolicy, nil)
			if err != nil {
				return nil, err
			}
			g.setSource(src)
		}
		r := &refreshRecord{R: asapi.InstanceRefresh{
			AutoScalingGroupName: g.G.AutoScalingGroupName, DesiredConfiguration: in.DesiredConfiguration,
			InstanceRefreshId: str(id), PercentageComplete: i64(0), Preferences: prefs, StartTime: timep(now),
			Status: str(asapi.InstanceRefreshStatusInProgress), StatusReason: str("Waiting for instances to warm up before continuing."),
		}}
		for _, x := range g.Instances {
			if inFlight(x) && x.Lifecycle != asapi.LifecycleStatePending {
				continue
			}
			if *prefs.SkipMatching && matchesGroup(g, x) {
				continue
			}
			r.Old = append(r.Old, x.ID)
		}
		r.R.InstancesToUpdate = i64(int64(len(r.Old)))
		g.Refreshes = append(g.Refreshes, r)
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return &asapi.StartInstanceRefreshAnswer{InstanceRefreshId: str(id)}, nil
}

// matchesGroup reports whether an instance was launched as the group
// launches now.
func matchesGroup(g *groupRecord, r *instanceRecord) bool {
	if g.G.LaunchConfigurationName != nil {
		return r.LaunchConfig == *g.G.LaunchConfigurationName
	}
	if g.G.MixedInstancesPolicy != nil {
		return matchesMixed(g, r)
	}
	return sameTemplate(g.G.LaunchTemplate, r.LaunchTemplate)
}

// DescribeInstanceRefreshes lists a group's refreshes, newest first.
func (s *Service) DescribeInstanceRefreshes(ctx context.Context, in *asapi.DescribeInstanceRefreshesType) (*asapi.DescribeInstanceRefreshesAnswer, error) {
	g, err := s.viewGroup(ctx, deref(in.AutoScalingGroupName))
	if err != nil {
		return nil, err
	}
	ids := derefAll(in.InstanceRefreshIds)
	var out []*asapi.InstanceRefresh
	for _, r := range slices.Backward(g.Refreshes) {
		if len(ids) == 0 || slices.Contains(ids, deref(r.R.InstanceRefreshId)) {
			x := r.R
			x.ProgressDetails = &asapi.InstanceRefreshProgressDetails{LivePoolProgress: &asapi.InstanceRefreshLivePoolProgress{
				InstancesToUpdate: i64(int64(len(r.Old))), PercentageComplete: x.PercentageComplete}}
			x.InstancesToUpdate = i64(int64(len(r.Old)))
			out = append(out, &x)
		}
	}
	items, next, err := page(out, in.MaxRecords, in.NextToken, 50)
	if err != nil {
		return nil, err
	}
	return &asapi.DescribeInstanceRefreshesAnswer{InstanceRefreshes: items, NextToken: next}, nil
}

// CancelInstanceRefresh stops the refresh in progress.
func (s *Service) CancelInstanceRefresh(ctx context.Context, in *asapi.CancelInstanceRefreshType) (*asapi.CancelInstanceRefreshAnswer, error) {
	now := s.now()
	var id string
	err := s.mutate(scopeOf(ctx), deref(in.AutoScalingGroupName), func(_ *store.Tx, g *groupRecord) ([]Event, error) {
		i := slices.IndexFunc(g.Refreshes, refreshActive)
		if i < 0 {
			return nil, api.Errorf("ActiveInstanceRefreshNotFound", "No in progress or pending Instance Refresh found for Auto Scaling group %s", g.name())
		}
		r := g.Refreshes[i]
		r.R.Status, r.R.EndTime, r.R.StatusReason = str(asapi.InstanceRefreshStatusCancelled), timep(now), str("Cancelled by user request.")
		id = deref(r.R.InstanceRefreshId)
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return &asapi.CancelInstanceRefreshAnswer{InstanceRefreshId: str(id)}, nil
}

package autoscaling

import (
	"context"
	"errors"
	"github.com/cloudbox/cloudbox/uuid"
	"math"
	"slices"
	"strings"
	"time"

	asapi "github.com/cloudbox/cloudbox/api/autoscaling"
	"github.com/cloudbox/cloudbox/store"
)

// The reconciler. Each pass reads every group and moves it one step
// closer to what it should be: scheduled actions run, instances move
// through their lifecycle states, unhealthy ones are replaced, refreshes
// go on by batch, and the group is brought to its desired capacity. EC2,
// ELB and CloudWatch are called outside any store transaction (they write
// to the same store); every write re-reads the group and checks that what
// it acts on still holds, so an API call in between is never overwritten.

// launchRetry is how long a group waits after a failed launch.
const launchRetry = 10 * time.Second

// Run reconciles every group, then again every interval, until ctx ends.
// Timers are read from the Service's clock, so a compressed clock with a
// short interval compresses the whole control loop.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		s.Reconcile(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Reconcile makes one pass over every group of every account and region.
func (s *Service) Reconcile(ctx context.Context) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	type ref struct {
		sc   scope
		name string
	}
	var refs []ref
	err := s.store.View(func(tx *store.Tx) error {
		scopes, err := tx.Scopes(kindGroup)
		if err != nil {
			return err
		}
		for _, sc := range scopes {
			err := tx.List(sc[0], sc[1], kindGroup, func(id string, _ []byte) error {
				refs = append(refs, ref{scope{sc[0], sc[1]}, id})
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.log.Warn("autoscaling: listing groups", "error", err)
		return
	}
	for _, r := range refs {
		if ctx.Err() != nil {
			return
		}
		s.reconcileGroup(ctx, r.sc, r.name)
	}
}

func (s *Service) load(sc scope, name string) *groupRecord {
	var g *groupRecord
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		g, _, err = store.Get[groupRecord](tx, groupKey(sc, name))
		return err
	})
	if err != nil {
		s.log.Warn("autoscaling: reading a group", "group", name, "error", err)
	}
	return g
}

// step is mutate for the reconciler: a group gone meanwhile is no error.
func (s *Service) step(sc scope, name string, fn func(tx *store.Tx, g *groupRecord) ([]Event, error)) {
	if err := s.mutate(sc, name, fn); err != nil && !strings.Contains(err.Error(), "not found") {
		s.log.Warn("autoscaling: reconciling", "account", sc.account, "region", sc.region, "group", name, "error", err)
	}
}

// onInstance runs fn on an instance if it is still in the state the
// reconciler saw.
func (s *Service) onInstance(sc scope, name, id, state string, fn func(tx *store.Tx, g *groupRecord, r *instanceRecord) ([]Event, error)) {
	s.step(sc, name, func(tx *store.Tx, g *groupRecord) ([]Event, error) {
		r := g.instance(id)
		if r == nil || r.Lifecycle != state {
			return nil, nil
		}
		return fn(tx, g, r)
	})
}

func (s *Service) reconcileGroup(ctx context.Context, sc scope, name string) {
	now := s.now()
	g := s.load(sc, name)
	if g == nil {
		return
	}
	if slices.ContainsFunc(g.Scheduled, func(r *scheduledRecord) bool { return !r.Next.IsZero() && !r.Next.After(now) }) {
		s.step(sc, name, func(_ *store.Tx, g *groupRecord) ([]Event, error) { runScheduled(g, now); return nil, nil })
	}
	for _, r := range g.Instances {
		s.advance(ctx, sc, g, r, now)
	}
	if g = s.load(sc, name); g == nil {
		return
	}
	if slices.ContainsFunc(g.Refreshes, refreshActive) {
		s.step(sc, name, func(tx *store.Tx, g *groupRecord) ([]Event, error) { return nil, refreshStep(tx, sc, g, now) })
	}
	if g = s.load(sc, name); g == nil {
		return
	}
	s.scale(ctx, sc, g, now)
}

// runScheduled applies the scheduled actions whose time has come.
func runScheduled(g *groupRecord, now time.Time) {
	if g.suspended("ScheduledActions") {
		return
	}
	var keep []*scheduledRecord
	for _, r := range g.Scheduled {
		if r.Next.IsZero() || r.Next.After(now) {
			keep = append(keep, r)
			continue
		}
		minSize, maxSize, from := deref(g.G.MinSize), deref(g.G.MaxSize), deref(g.G.DesiredCapacity)
		minSize, maxSize = deref(orElse(r.A.MinSize, &minSize)), deref(orElse(r.A.MaxSize, &maxSize))
		desired := min(max(deref(orElse(r.A.DesiredCapacity, &from)), minSize), maxSize)
		if minSize <= maxSize {
			g.G.MinSize, g.G.MaxSize, g.G.DesiredCapacity = i64(minSize), i64(maxSize), i64(desired)
			if desired != from {
				g.LastCause = causeScheduled(now, minSize, maxSize, desired, from)
			}
		}
		if r.A.Recurrence == nil {
			continue // a one-time action is gone once run
		}
		c, err := parseCron(*r.A.Recurrence)
		if err != nil {
			continue
		}
		loc := time.UTC
		if tz := deref(r.A.TimeZone); tz != "" {
			if l, err := time.LoadLocation(tz); err == nil {
				loc = l
			}
		}
		r.Next = c.next(now, loc)
		if r.Next.IsZero() || r.A.EndTime != nil && r.Next.After(*r.A.EndTime) {
			continue
		}
		keep = append(keep, r)
	}
	g.Scheduled = keep
}

func hooksFor(g *groupRecord, transition string) []*asapi.LifecycleHook {
	var out []*asapi.LifecycleHook
	for _, h := range g.Hooks {
		if deref(h.LifecycleTransition) == transition {
			out = append(out, h)
		}
	}
	return out
}

func newWaits(hooks []*asapi.LifecycleHook, now time.Time) []*hookWait {
	var out []*hookWait
	for _, h := range hooks {
		out = append(out, &hookWait{Hook: deref(h.LifecycleHookName), Token: uuid.New(),
			Deadline: now.Add(seconds(deref(h.HeartbeatTimeout))), Global: now.Add(seconds(deref(h.GlobalTimeout)))})
	}
	return out
}

// waitsDone returns the outcome of an instance's hooks once all are
// complete or timed out: ABANDON if any says so.
func waitsDone(g *groupRecord, r *instanceRecord, now time.Time) (result, why string, done bool) {
	result = "CONTINUE"
	for _, w := range r.Waits {
		res, how := w.Result, "Lifecycle Action Completed with ABANDON Result"
		if res == "" && (!now.Before(w.Deadline) || !now.Before(w.Global)) {
			res, how = "ABANDON", "Heartbeat Timeout"
			if !now.Before(w.Global) {
				how = "Global Timeout"
			}
			for _, h := range g.Hooks {
				if deref(h.LifecycleHookName) == w.Hook {
					res = deref(h.DefaultResult)
				}
			}
		}
		switch res {
		case "":
			return "", "", false
		case "ABANDON":
			if result != "ABANDON" {
				why = "Lifecycle Action with token " + w.Token + " was abandoned: " + how
			}
			result = res
		}
	}
	return result, why, true
}

func lifecycleEvents(sc scope, g *groupRecord, r *instanceRecord, transition string, now time.Time) []Event {
	kind := "EC2 Instance-launch Lifecycle Action"
	if transition == transitionTerminating {
		kind = "EC2 Instance-terminate Lifecycle Action"
	}
	var evs []Event
	for _, w := range r.Waits {
		detail := map[string]any{"LifecycleActionToken": w.Token, "AutoScalingGroupName": g.name(), "LifecycleHookName": w.Hook,
			"EC2InstanceId": r.ID, "LifecycleTransition": transition}
		for _, h := range g.Hooks {
			if deref(h.LifecycleHookName) == w.Hook && h.NotificationMetadata != nil {
				detail["NotificationMetadata"] = *h.NotificationMetadata
			}
		}
		evs = append(evs, Event{Account: sc.account, Region: sc.region, DetailType: kind, Time: now,
			Resources: []string{deref(g.G.AutoScalingGroupARN)}, Detail: detail})
	}
	return evs
}

func gone(state string) bool {
	return state != "pending" && state != "running"
}

// advance moves one instance one step through its lifecycle.
func (s *Service) advance(ctx context.Context, sc scope, g *groupRecord, r *instanceRecord, now time.Time) {
	name := g.name()
	state, _, err := s.fleet.State(sc.account, sc.region, r.ID)
	if err != nil {
		s.log.Warn("autoscaling: instance state", "instance", r.ID, "error", err)
		return
	}
	switch r.Lifecycle {
	case asapi.LifecycleStatePending:
		switch {
		case state == "running" && len(hooksFor(g, transitionLaunching)) > 0:
			s.onInstance(sc, name, r.ID, r.Lifecycle, func(tx *store.Tx, g *groupRecord, r *instanceRecord) ([]Event, error) {
				r.Lifecycle, r.Waits = asapi.LifecycleStatePendingWait, newWaits(hooksFor(g, transitionLaunching), now)
				return lifecycleEvents(sc, g, r, transitionLaunching, now), setActivityStatus(tx, sc, r.ActivityID, statusMidHook)
			})
		case state == "running":
			s.enterService(sc, g, r, now)
		case gone(state):
			s.replace(sc, name, r, now, "an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.", "")
		}
	case asapi.LifecycleStatePendingWait:
		result, why, done := waitsDone(g, r, now)
		switch {
		case gone(state):
			s.replace(sc, name, r, now, "an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.", "")
		case done && result == "CONTINUE":
			s.onInstance(sc, name, r.ID, r.Lifecycle, func(_ *store.Tx, _ *groupRecord, r *instanceRecord) ([]Event, error) {
				r.Lifecycle, r.Waits = asapi.LifecycleStatePendingProceed, nil
				return nil, nil
			})
		case done:
			s.replace(sc, name, r, now, "instance "+r.ID+" was abandoned by a launch lifecycle hook.", "Instance failed to complete user's Lifecycle Action: "+why)
		}
	case asapi.LifecycleStatePendingProceed:
		s.enterService(sc, g, r, now)
	case asapi.LifecycleStateInService:
		s.checkHealth(sc, g, r, state, now)
	case asapi.LifecycleStateTerminating:
		if len(r.Registered) > 0 {
			// Deregister, then wait out the deregistration delay (the
			// requests in flight finish) before going on, as AWS does.
			s.deregister(sc, r, r.Registered)
			s.onInstance(sc, name, r.ID, r.Lifecycle, func(_ *store.Tx, _ *groupRecord, r *instanceRecord) ([]Event, error) {
				r.Draining, r.Registered = r.Registered, nil
				return nil, nil
			})
			return
		}
		if !gone(state) && s.draining(sc, r) {
			return
		}
		s.onInstance(sc, name, r.ID, r.Lifecycle, func(tx *store.Tx, g *groupRecord, r *instanceRecord) ([]Event, error) {
			r.Draining = nil
			hooks := hooksFor(g, transitionTerminating)
			if len(hooks) == 0 || gone(state) {
				r.Lifecycle = asapi.LifecycleStateTerminatingProceed
				return nil, nil
			}
			r.Lifecycle, r.Waits = asapi.LifecycleStateTerminatingWait, newWaits(hooks, now)
			return lifecycleEvents(sc, g, r, transitionTerminating, now), setActivityStatus(tx, sc, r.ActivityID, statusMidHook)
		})
	case asapi.LifecycleStateTerminatingWait:
		if _, _, done := waitsDone(g, r, now); done || gone(state) {
			s.onInstance(sc, name, r.ID, r.Lifecycle, func(_ *store.Tx, _ *groupRecord, r *instanceRecord) ([]Event, error) {
				r.Lifecycle, r.Waits = asapi.LifecycleStateTerminatingProceed, nil
				return nil, nil
			})
		}
	case asapi.LifecycleStateTerminatingProceed:
		if state != "" && state != "terminated" && state != "shutting-down" {
			if err := s.fleet.Terminate(ctx, sc.account, sc.region, r.ID); err != nil {
				s.log.Warn("autoscaling: terminating an instance", "instance", r.ID, "error", err)
				return
			}
		}
		s.onInstance(sc, name, r.ID, r.Lifecycle, func(tx *store.Tx, g *groupRecord, r *instanceRecord) ([]Event, error) {
			r.Lifecycle = asapi.LifecycleStateTerminated
			ev, err := finishActivity(tx, sc, g, r, now, statusSuccessful, "", "EC2 Instance Terminate Successful")
			g.Instances = slices.DeleteFunc(g.Instances, func(x *instanceRecord) bool { return x.ID == r.ID })
			if g.Deleting && len(g.Instances) == 0 {
				if _, err := tx.Delete(groupKey(sc, g.name())); err != nil {
					return nil, err
				}
				return eventList(ev), errGroupGone
			}
			return eventList(ev), err
		})
	}
}

// errGroupGone ends a step whose transaction deleted the group: the
// deletion is the write, so mutate must not save the group back.
var errGroupGone = errors.New("group deleted")

func eventList(ev *Event) []Event {
	if ev == nil {
		return nil
	}
	return []Event{*ev}
}

// enterService registers an instance with the group's target groups and
// puts it in service.
func (s *Service) enterService(sc scope, g *groupRecord, r *instanceRecord, now time.Time) {
	var tgs []string
	if !g.suspended("AddToLoadBalancer") {
		tgs = derefAll(g.G.TargetGroupARNs)
	}
	for _, tg := range tgs {
		if err := s.lb.Register(sc.account, sc.region, tg, []string{r.ID}); err != nil {
			s.log.Warn("autoscaling: registering an instance", "instance", r.ID, "target_group", tg, "error", err)
			return
		}
	}
	s.onInstance(sc, g.name(), r.ID, r.Lifecycle, func(tx *store.Tx, g *groupRecord, r *instanceRecord) ([]Event, error) {
		r.Lifecycle, r.InServiceAt, r.Registered, r.Waits = asapi.LifecycleStateInService, now, tgs, nil
		ev, err := finishActivity(tx, sc, g, r, now, statusSuccessful, "", "EC2 Instance Launch Successful")
		return eventList(ev), err
	})
}

// draining reports whether a target group still drains the instance.
func (s *Service) draining(sc scope, r *instanceRecord) bool {
	for _, tg := range r.Draining {
		if h, err := s.lb.Health(sc.account, sc.region, tg, r.ID); err == nil && h == "draining" {
			return true
		}
	}
	return false
}

func (s *Service) deregister(sc scope, r *instanceRecord, tgs []string) {
	for _, tg := range tgs {
		if err := s.lb.Deregister(sc.account, sc.region, tg, []string{r.ID}); err != nil {
			s.log.Warn("autoscaling: deregistering an instance", "instance", r.ID, "target_group", tg, "error", err)
		}
	}
}

// replace takes an instance out of service for a reason; the group's
// desired capacity stays, so another is launched.
func (s *Service) replace(sc scope, name string, r *instanceRecord, now time.Time, reason, launchEnd string) {
	s.onInstance(sc, name, r.ID, r.Lifecycle, func(tx *store.Tx, g *groupRecord, r *instanceRecord) ([]Event, error) {
		r.Health = unhealthy
		_, err := beginTerminate(tx, sc, g, r, now, "At "+stamp(now)+" "+reason, launchEnd)
		return nil, err
	})
}

// checkHealth runs the EC2 and ELB health checks of an in-service
// instance and keeps its target group registrations in step with the
// group's.
func (s *Service) checkHealth(sc scope, g *groupRecord, r *instanceRecord, state string, now time.Time) {
	if !g.suspended("AddToLoadBalancer") {
		want := derefAll(g.G.TargetGroupARNs)
		var add []string
		for _, tg := range want {
			if !slices.Contains(r.Registered, tg) {
				if err := s.lb.Register(sc.account, sc.region, tg, []string{r.ID}); err != nil {
					s.log.Warn("autoscaling: registering an instance", "instance", r.ID, "target_group", tg, "error", err)
					continue
				}
				add = append(add, tg)
			}
		}
		drop := slices.DeleteFunc(slices.Clone(r.Registered), func(tg string) bool { return slices.Contains(want, tg) })
		s.deregister(sc, r, drop)
		if len(add)+len(drop) > 0 {
			s.onInstance(sc, g.name(), r.ID, r.Lifecycle, func(_ *store.Tx, _ *groupRecord, x *instanceRecord) ([]Event, error) {
				x.Registered = append(slices.DeleteFunc(x.Registered, func(tg string) bool { return slices.Contains(drop, tg) }), add...)
				return nil, nil
			})
		}
	}
	if g.suspended("HealthCheck") && r.Health == healthy {
		return
	}
	reason := ""
	switch {
	case r.Health == unhealthy:
		reason = "an instance was taken out of service in response to a user health-check."
	case gone(state):
		reason = "an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped."
	case deref(g.G.HealthCheckType) == "ELB" && !inGrace(g, r, now):
		for _, tg := range r.Registered {
			h, err := s.lb.Health(sc.account, sc.region, tg, r.ID)
			if err == nil && h == "unhealthy" {
				reason = "an instance was taken out of service in response to an ELB system health check failure."
			}
		}
	}
	if reason == "" {
		return
	}
	if g.suspended("ReplaceUnhealthy") {
		s.onInstance(sc, g.name(), r.ID, r.Lifecycle, func(_ *store.Tx, _ *groupRecord, x *instanceRecord) ([]Event, error) {
			x.Health = unhealthy
			return nil, nil
		})
		return
	}
	s.replace(sc, g.name(), r, now, reason, "")
}

func terminating(r *instanceRecord) bool {
	return strings.HasPrefix(r.Lifecycle, "Terminat")
}

func active(g *groupRecord) []*instanceRecord {
	return slices.DeleteFunc(slices.Clone(g.Instances), terminating)
}

// scale launches or terminates instances toward the desired capacity.
func (s *Service) scale(ctx context.Context, sc scope, g *groupRecord, now time.Time) {
	name := g.name()
	if g.Deleting {
		s.step(sc, name, func(tx *store.Tx, g *groupRecord) ([]Event, error) {
			for _, r := range active(g) {
				if _, err := beginTerminate(tx, sc, g, r, now, "At "+stamp(now)+" an instance was taken out of service in response to a user request to delete the group.", ""); err != nil {
					return nil, err
				}
			}
			if len(g.Instances) == 0 {
				if _, err := tx.Delete(groupKey(sc, name)); err != nil {
					return nil, err
				}
				return nil, errGroupGone
			}
			return nil, nil
		})
		return
	}
	// Capacity is weighted: an instance of a weighted override counts its
	// weight, so a launch may pass the desired capacity by less than the
	// largest weight, and scale-in never goes below it.
	have, desired := capacity(active(g)), deref(g.G.DesiredCapacity)
	switch {
	case have < desired && !g.suspended("Launch") && !now.Before(g.LaunchRetryAt):
		for range desired - have {
			if !s.launchOne(ctx, sc, name, have, desired, now) {
				return
			}
		}
	case have > desired && !g.suspended("Terminate"):
		s.step(sc, name, func(tx *store.Tx, g *groupRecord) ([]Event, error) {
			from, to := capacity(active(g)), deref(g.G.DesiredCapacity)
			for c := from; c > to; {
				v := pickVictim(g, active(g))
				if v == nil {
					break
				}
				if c-v.weight() < to {
					// What is left over is less than the weight of an
					// instance: the capacity stays as it is.
					g.LastCause = ""
					break
				}
				c -= v.weight()
				cause := g.LastCause + "  At " + stamp(now) + " an instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from " +
					itoa(from) + " to " + itoa(to) + ".  At " + stamp(now) + " instance " + v.ID + " was selected for termination."
				if _, err := beginTerminate(tx, sc, g, v, now, strings.TrimSpace(cause), ""); err != nil {
					return nil, err
				}
			}
			return nil, nil
		})
	case have >= desired && g.LastCause != "":
		// The change of capacity the cause explains is fulfilled: a later
		// launch or termination (a replacement) has a cause of its own.
		s.step(sc, name, func(_ *store.Tx, g *groupRecord) ([]Event, error) {
			if capacity(active(g)) >= deref(g.G.DesiredCapacity) {
				g.LastCause = ""
			}
			return nil, nil
		})
	}
}

// placement picks the zone with the fewest instances and a subnet in it.
func (s *Service) placement(sc scope, g *groupRecord) (az, subnet string, err error) {
	count := map[string]int{}
	for _, r := range active(g) {
		count[r.AZ]++
	}
	zoneSubnets := map[string][]string{}
	var zones []string
	if v := deref(g.G.VPCZoneIdentifier); v != "" {
		for _, sn := range strings.Split(v, ",") {
			z, _, ok, err := s.fleet.Subnet(sc.account, sc.region, sn)
			if err != nil {
				return "", "", err
			}
			if !ok {
				continue
			}
			if _, seen := zoneSubnets[z]; !seen {
				zones = append(zones, z)
			}
			zoneSubnets[z] = append(zoneSubnets[z], sn)
		}
	} else {
		zones = derefAll(g.G.AvailabilityZones)
	}
	if len(zones) == 0 {
		return "", "", errors.New("no subnet of the group exists")
	}
	best := zones[0]
	for _, z := range zones[1:] {
		if count[z] < count[best] {
			best = z
		}
	}
	if sns := zoneSubnets[best]; len(sns) > 0 {
		subnet = sns[g.NextSubnet%len(sns)]
	}
	return best, subnet, nil
}

// launchOne starts one instance, recording the activity; false when the
// launch failed and the group waits before trying again.
func (s *Service) launchOne(ctx context.Context, sc scope, name string, from, to int64, now time.Time) bool {
	g := s.load(sc, name)
	if g == nil || capacity(active(g)) >= deref(g.G.DesiredCapacity) {
		return false
	}
	spec := LaunchSpec{Tags: launchTags(g)}
	var instanceType string
	if lcName := deref(g.G.LaunchConfigurationName); lcName != "" {
		var lc *asapi.LaunchConfiguration
		err := s.store.View(func(tx *store.Tx) error {
			var err error
			lc, _, err = store.Get[asapi.LaunchConfiguration](tx, lcKey(sc, lcName))
			return err
		})
		if err != nil || lc == nil {
			return false
		}
		instanceType = deref(lc.InstanceType)
		spec.LaunchConfiguration = &LaunchConfiguration{Name: lcName, ImageID: deref(lc.ImageId), InstanceType: instanceType,
			KeyName: deref(lc.KeyName), IAMInstanceProfile: deref(lc.IamInstanceProfile), UserData: deref(lc.UserData),
			SecurityGroups: derefAll(lc.SecurityGroups), AssociatePublicIPAddress: lc.AssociatePublicIpAddress}
	}
	az, subnet, err := s.placement(sc, g)
	var id string
	var chosen launchChoice
	if err == nil {
		spec.AvailabilityZone, spec.SubnetID = az, subnet
		// The prioritized strategy: the first choice that launches.
		for _, c := range launchChoices(g) {
			chosen = c
			if lt := c.lt; lt != nil {
				spec.LaunchTemplateID, spec.LaunchTemplateName, spec.Version = deref(lt.LaunchTemplateId), deref(lt.LaunchTemplateName), deref(lt.Version)
			}
			spec.InstanceType = c.itype
			if id, err = s.fleet.Launch(ctx, sc.account, sc.region, spec); err == nil {
				break
			}
		}
		if chosen.itype != "" {
			instanceType = chosen.itype
		}
	}
	cause := strings.TrimSpace(g.LastCause + "  At " + stamp(now) + " an instance was started in response to a difference between desired and actual capacity, increasing the capacity from " +
		itoa(from) + " to " + itoa(to) + ".")
	if err != nil {
		s.step(sc, name, func(tx *store.Tx, g *groupRecord) ([]Event, error) {
			g.LaunchRetryAt = now.Add(launchRetry)
			r := &instanceRecord{AZ: az, SubnetID: subnet}
			a, err2 := newActivity(tx, sc, g, now, "Launching a new EC2 instance.  Status Reason: "+err.Error(), cause, azDetails(r))
			if err2 != nil {
				return nil, err2
			}
			r.ActivityID = deref(a.ActivityId)
			ev, err2 := finishActivity(tx, sc, g, r, now, statusFailed, truncate(err.Error(), 255), "EC2 Instance Launch Unsuccessful")
			return eventList(ev), err2
		})
		return false
	}
	s.step(sc, name, func(tx *store.Tx, g *groupRecord) ([]Event, error) {
		r := &instanceRecord{ID: id, AZ: az, SubnetID: subnet, Lifecycle: asapi.LifecycleStatePending, Health: healthy,
			LaunchTemplate: chosen.lt, LaunchConfig: deref(g.G.LaunchConfigurationName), InstanceType: instanceType, Weight: chosen.weight,
			Protected: deref(g.G.NewInstancesProtectedFromScaleIn), LaunchedAt: now}
		a, err := newActivity(tx, sc, g, now, "Launching a new EC2 instance: "+id, cause, azDetails(r))
		if err != nil {
			return nil, err
		}
		r.ActivityID = deref(a.ActivityId)
		g.Instances = append(g.Instances, r)
		g.NextSubnet++
		return nil, nil
	})
	return true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// pickVictim chooses the instance to terminate on scale-in: from the zone
// with the most instances, unprotected, then by the termination policies
// (an instance launched from an older template or configuration first,
// then the oldest, or the newest for NewestInstance).
func pickVictim(g *groupRecord, act []*instanceRecord) *instanceRecord {
	count := map[string]int{}
	for _, r := range act {
		count[r.AZ]++
	}
	cands := slices.DeleteFunc(slices.Clone(act), func(r *instanceRecord) bool { return r.Protected })
	if len(cands) == 0 {
		return nil
	}
	most := 0
	for _, r := range cands {
		most = max(most, count[r.AZ])
	}
	cands = slices.DeleteFunc(cands, func(r *instanceRecord) bool { return count[r.AZ] < most })
	newest := slices.ContainsFunc(g.G.TerminationPolicies, func(p *string) bool { return *p == "NewestInstance" })
	slices.SortStableFunc(cands, func(a, b *instanceRecord) int {
		if ma, mb := matchesGroup(g, a), matchesGroup(g, b); ma != mb {
			if mb {
				return -1
			}
			return 1
		}
		c := a.LaunchedAt.Compare(b.LaunchedAt)
		if newest {
			c = -c
		}
		return c
	})
	return cands[0]
}

// refreshStep moves an instance refresh on by one batch: it terminates
// old instances while MinHealthyPercentage of the desired capacity stays
// in service and warm, and succeeds once none is left.
func refreshStep(tx *store.Tx, sc scope, g *groupRecord, now time.Time) error {
	i := slices.IndexFunc(g.Refreshes, refreshActive)
	if i < 0 || g.suspended("InstanceRefresh") {
		return nil
	}
	ref := g.Refreshes[i]
	ref.Old = slices.DeleteFunc(ref.Old, func(id string) bool { r := g.instance(id); return r == nil || terminating(r) })
	total := deref(ref.R.InstancesToUpdate)
	if total > 0 {
		ref.R.PercentageComplete = i64((total - int64(len(ref.Old))) * 100 / total)
	}
	warm := seconds(deref(orElse(ref.R.Preferences.InstanceWarmup, i64(int64(warmup(g, nil)/time.Second)))))
	var ready, busy int
	for _, r := range active(g) {
		if r.Lifecycle == asapi.LifecycleStateInService && now.Sub(r.InServiceAt) >= warm {
			ready++
		} else {
			busy++
		}
	}
	if len(ref.Old) == 0 {
		if busy == 0 {
			ref.R.Status, ref.R.EndTime, ref.R.PercentageComplete = str(asapi.InstanceRefreshStatusSuccessful), timep(now), i64(100)
			ref.R.StatusReason = nil
		}
		return nil
	}
	if busy > 0 {
		return nil // a batch is still coming into service
	}
	minHealthy := int(math.Ceil(float64(deref(g.G.DesiredCapacity)) * float64(deref(ref.R.Preferences.MinHealthyPercentage)) / 100))
	batch := max(ready-minHealthy, 1)
	for _, id := range slices.Clone(ref.Old) {
		if batch == 0 {
			break
		}
		r := g.instance(id)
		if r.Lifecycle != asapi.LifecycleStateInService {
			continue
		}
		cause := "At " + stamp(now) + " an instance was taken out of service in response to an instance refresh.  At " + stamp(now) + " instance " + id + " was selected for termination."
		if _, err := beginTerminate(tx, sc, g, r, now, cause, ""); err != nil {
			return err
		}
		ref.Old = slices.DeleteFunc(ref.Old, func(x string) bool { return x == id })
		batch--
	}
	ref.R.StatusReason = str("Waiting for instances to warm up before continuing. For example: " + strings.Join(ref.Old[:min(1, len(ref.Old))], "") + " is warming up.")
	return nil
}

package autoscaling

import (
	"context"
	"slices"
	"strings"
	"time"

	asapi "github.com/cloudbox/cloudbox/api/autoscaling"
	"github.com/cloudbox/cloudbox/store"
)

const (
	healthy   = "Healthy"
	unhealthy = "Unhealthy"
)

func (s *Service) registerInstances(h *asapi.Handlers) {
	h.DescribeAutoScalingInstances = s.DescribeAutoScalingInstances
	h.TerminateInstanceInAutoScalingGroup = s.TerminateInstanceInAutoScalingGroup
	h.SetInstanceHealth = s.SetInstanceHealth
	h.SetInstanceProtection = s.SetInstanceProtection
	h.AttachInstances = s.AttachInstances
	h.DetachInstances = s.DetachInstances
}

// DescribeAutoScalingInstances lists the instances of every group.
func (s *Service) DescribeAutoScalingInstances(ctx context.Context, in *asapi.DescribeAutoScalingInstancesType) (*asapi.AutoScalingInstancesType, error) {
	sc := scopeOf(ctx)
	ids := derefAll(in.InstanceIds)
	var out []*asapi.AutoScalingInstanceDetails
	err := s.store.View(func(tx *store.Tx) error {
		all, err := store.ListAll[groupRecord](tx, sc.account, sc.region, kindGroup)
		for _, g := range all {
			for _, r := range g.Instances {
				if len(ids) > 0 && !slices.Contains(ids, r.ID) {
					continue
				}
				out = append(out, &asapi.AutoScalingInstanceDetails{
					AutoScalingGroupName: g.G.AutoScalingGroupName, AvailabilityZone: str(r.AZ),
					HealthStatus: str(strings.ToUpper(r.Health)), InstanceId: str(r.ID), InstanceType: optional(r.InstanceType), WeightedCapacity: optional(r.Weight),
					LaunchConfigurationName: optional(r.LaunchConfig), LaunchTemplate: r.LaunchTemplate,
					LifecycleState: str(r.Lifecycle), ProtectedFromScaleIn: boolp(r.Protected),
				})
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	items, next, err := page(out, in.MaxRecords, in.NextToken, 50)
	if err != nil {
		return nil, err
	}
	return &asapi.AutoScalingInstancesType{AutoScalingInstances: items, NextToken: next}, nil
}

func instanceNotFound(id string) error {
	return validation("Instance Id not found - No managed instance found for instance ID: %s", id)
}

// beginTerminate takes an instance out of service with an activity; the
// reconciler deregisters and terminates it. A launch still in progress
// ends Cancelled, with launchEnd as its status message if given.
func beginTerminate(tx *store.Tx, sc scope, g *groupRecord, in *instanceRecord, now time.Time, cause, launchEnd string) (*asapi.Activity, error) {
	if in.ActivityID != "" {
		if launchEnd == "" {
			launchEnd = "Instance was taken out of service before it was in service"
		}
		if _, err := finishActivity(tx, sc, g, in, now, statusCancelled, launchEnd, ""); err != nil {
			return nil, err
		}
	}
	in.Lifecycle = asapi.LifecycleStateTerminating
	in.Waits = nil
	a, err := newActivity(tx, sc, g, now, "Terminating EC2 instance: "+in.ID, cause, azDetails(in))
	if err != nil {
		return nil, err
	}
	in.ActivityID = deref(a.ActivityId)
	return a, nil
}

func azDetails(in *instanceRecord) string {
	if in.SubnetID != "" {
		return `{"Subnet ID":"` + in.SubnetID + `","Availability Zone":"` + in.AZ + `"}`
	}
	return `{"Availability Zone":"` + in.AZ + `"}`
}

// TerminateInstanceInAutoScalingGroup terminates an instance, replacing it
// unless the desired capacity is lowered.
func (s *Service) TerminateInstanceInAutoScalingGroup(ctx context.Context, in *asapi.TerminateInstanceInAutoScalingGroupType) (*asapi.ActivityType, error) {
	sc := scopeOf(ctx)
	id := deref(in.InstanceId)
	now := s.now()
	var out *asapi.Activity
	err := s.store.Update(func(tx *store.Tx) error {
		g, r, err := findInstance(tx, sc, id)
		if err != nil {
			return err
		}
		if r == nil {
			return instanceNotFound(id)
		}
		if strings.HasPrefix(r.Lifecycle, "Terminating") {
			return validation("Instance %s is already terminating", id)
		}
		cause := "At " + stamp(now) + " instance " + id + " was taken out of service in response to a user request."
		if deref(in.ShouldDecrementDesiredCapacity) {
			d, minSize := deref(g.G.DesiredCapacity), deref(g.G.MinSize)
			if d <= minSize {
				return validation("Currently, desiredSize equals minSize (%d). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.", minSize)
			}
			g.G.DesiredCapacity = i64(d - 1)
			r.Decrement = true
			cause = "At " + stamp(now) + " instance " + id + " was taken out of service in response to a user request, shrinking the capacity from " + itoa(d) + " to " + itoa(d-1) + "."
		}
		out, err = beginTerminate(tx, sc, g, r, now, cause, "")
		if err != nil {
			return err
		}
		return saveGroup(tx, sc, g)
	})
	if err != nil {
		return nil, err
	}
	return &asapi.ActivityType{Activity: out}, nil
}

// SetInstanceHealth sets an instance's health; an unhealthy one is
// replaced.
func (s *Service) SetInstanceHealth(ctx context.Context, in *asapi.SetInstanceHealthQuery) (*asapi.SetInstanceHealthOutput, error) {
	sc := scopeOf(ctx)
	id := deref(in.InstanceId)
	status := deref(in.HealthStatus)
	if status != healthy && status != unhealthy {
		return nil, validation("Valid values for HealthStatus are Healthy and Unhealthy")
	}
	now := s.now()
	err := s.store.Update(func(tx *store.Tx) error {
		g, r, err := findInstance(tx, sc, id)
		if err != nil {
			return err
		}
		if r == nil {
			return instanceNotFound(id)
		}
		if status == unhealthy && (in.ShouldRespectGracePeriod == nil || *in.ShouldRespectGracePeriod) && inGrace(g, r, now) {
			return nil
		}
		r.Health = status
		return saveGroup(tx, sc, g)
	})
	if err != nil {
		return nil, err
	}
	return &asapi.SetInstanceHealthOutput{}, nil
}

func inGrace(g *groupRecord, r *instanceRecord, now time.Time) bool {
	return now.Before(r.LaunchedAt.Add(seconds(deref(g.G.HealthCheckGracePeriod))))
}

// SetInstanceProtection protects instances from scale-in, or not.
func (s *Service) SetInstanceProtection(ctx context.Context, in *asapi.SetInstanceProtectionQuery) (*asapi.SetInstanceProtectionAnswer, error) {
	err := s.mutate(scopeOf(ctx), deref(in.AutoScalingGroupName), func(_ *store.Tx, g *groupRecord) ([]Event, error) {
		for _, id := range derefAll(in.InstanceIds) {
			r := g.instance(id)
			if r == nil {
				return nil, validation("The instance %s is not part of Auto Scaling group %s.", id, g.name())
			}
			r.Protected = deref(in.ProtectedFromScaleIn)
		}
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	return &asapi.SetInstanceProtectionAnswer{}, nil
}

// AttachInstances adds running instances to a group, raising its desired
// capacity.
func (s *Service) AttachInstances(ctx context.Context, in *asapi.AttachInstancesQuery) (*asapi.AttachInstancesOutput, error) {
	sc := scopeOf(ctx)
	ids := derefAll(in.InstanceIds)
	zones := map[string]string{}
	for _, id := range ids {
		state, az, err := s.fleet.State(sc.account, sc.region, id)
		if err != nil {
			return nil, err
		}
		if state != "running" {
			return nil, validation("Instance %s is not in correct state: instances must be running to be attached", id)
		}
		zones[id] = az
	}
	now := s.now()
	err := s.store.Update(func(tx *store.Tx) error {
		g, err := loadGroup(tx, sc, deref(in.AutoScalingGroupName))
		if err != nil {
			return err
		}
		from := deref(g.G.DesiredCapacity)
		to := from + int64(len(ids))
		if to > deref(g.G.MaxSize) {
			return validation("Desired capacity:%d must be between the specified min size:%d and max size:%d", to, deref(g.G.MinSize), deref(g.G.MaxSize))
		}
		for _, id := range ids {
			if other, r, err := findInstance(tx, sc, id); err != nil || r != nil {
				if err != nil {
					return err
				}
				return validation("The instance %s is already part of Auto Scaling group %s", id, other.name())
			}
			if !slices.ContainsFunc(g.G.AvailabilityZones, func(z *string) bool { return *z == zones[id] }) {
				return validation("The instance %s is in zone %s, which is not one of the group's zones", id, zones[id])
			}
		}
		g.G.DesiredCapacity = i64(to)
		for i, id := range ids {
			r := &instanceRecord{ID: id, AZ: zones[id], Lifecycle: asapi.LifecycleStatePending, Health: healthy,
				LaunchedAt: now, Protected: deref(g.G.NewInstancesProtectedFromScaleIn)}
			cause := "At " + stamp(now) + " a user request attached instance " + id + " to the group, increasing the capacity from " +
				itoa(from+int64(i)) + " to " + itoa(from+int64(i)+1) + "."
			a, err := newActivity(tx, sc, g, now, "Attaching an existing EC2 instance: "+id, cause, azDetails(r))
			if err != nil {
				return err
			}
			r.ActivityID = deref(a.ActivityId)
			g.Instances = append(g.Instances, r)
		}
		return saveGroup(tx, sc, g)
	})
	if err != nil {
		return nil, err
	}
	return &asapi.AttachInstancesOutput{}, nil
}

// DetachInstances removes in-service instances from a group without
// terminating them.
func (s *Service) DetachInstances(ctx context.Context, in *asapi.DetachInstancesQuery) (*asapi.DetachInstancesAnswer, error) {
	sc := scopeOf(ctx)
	ids := derefAll(in.InstanceIds)
	now := s.now()
	var out []*asapi.Activity
	var detached []*instanceRecord
	err := s.store.Update(func(tx *store.Tx) error {
		g, err := loadGroup(tx, sc, deref(in.AutoScalingGroupName))
		if err != nil {
			return err
		}
		d := deref(g.G.DesiredCapacity)
		if deref(in.ShouldDecrementDesiredCapacity) && d-int64(len(ids)) < deref(g.G.MinSize) {
			return validation("Detaching %d instances with ShouldDecrementDesiredCapacity would violate the group's min size %d", len(ids), deref(g.G.MinSize))
		}
		for _, id := range ids {
			r := g.instance(id)
			if r == nil {
				return validation("The instance %s is not part of Auto Scaling group %s.", id, g.name())
			}
			if r.Lifecycle != asapi.LifecycleStateInService {
				return validation("The instance %s is not in InService.", id)
			}
			cause := "At " + stamp(now) + " instance " + id + " was detached in response to a user request."
			if deref(in.ShouldDecrementDesiredCapacity) {
				cause = "At " + stamp(now) + " instance " + id + " was detached in response to a user request, shrinking the capacity from " + itoa(d) + " to " + itoa(d-1) + "."
				d--
			}
			a, err := newActivity(tx, sc, g, now, "Detaching EC2 instance: "+id, cause, azDetails(r))
			if err != nil {
				return err
			}
			a.StatusCode, a.Progress, a.EndTime = str(statusSuccessful), i64(100), timep(now)
			if err := updateActivity(tx, sc, deref(a.ActivityId), func(x *asapi.Activity) { *x = *a }); err != nil {
				return err
			}
			out = append(out, a)
			detached = append(detached, r)
			g.Instances = slices.DeleteFunc(g.Instances, func(x *instanceRecord) bool { return x.ID == id })
		}
		g.G.DesiredCapacity = i64(d)
		return saveGroup(tx, sc, g)
	})
	if err != nil {
		return nil, err
	}
	for _, r := range detached {
		for _, tg := range r.Registered {
			if err := s.lb.Deregister(sc.account, sc.region, tg, []string{r.ID}); err != nil {
				s.log.Warn("autoscaling: deregistering a detached instance", "instance", r.ID, "target_group", tg, "error", err)
			}
		}
	}
	return &asapi.DetachInstancesAnswer{Activities: out}, nil
}

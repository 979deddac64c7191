package autoscaling

import (
	"context"
	"slices"
	"strconv"
	"strings"

	asapi "github.com/cloudbox/cloudbox/api/autoscaling"
	"github.com/cloudbox/cloudbox/store"
)

const tagResourceType = "auto-scaling-group"

// groupTags validates the tags given at a group's creation.
func groupTags(group string, tags []*asapi.Tag) ([]*asapi.TagDescription, error) {
	out := []*asapi.TagDescription{}
	for _, t := range tags {
		if id := deref(t.ResourceId); id != "" && id != group {
			return nil, validation("Tag ResourceId %s must be the group's name %s", id, group)
		}
		d, err := tagDescription(group, t)
		if err != nil {
			return nil, err
		}
		out = setTag(out, d)
	}
	if len(out) > maxTags {
		return nil, api50()
	}
	return out, nil
}

func api50() error {
	return validation("Number of tags for the group exceeds the limit of %d", maxTags)
}

func tagDescription(group string, t *asapi.Tag) (*asapi.TagDescription, error) {
	if rt := deref(t.ResourceType); rt != "" && rt != tagResourceType {
		return nil, validation("Invalid ResourceType %s: the only valid value is %s", rt, tagResourceType)
	}
	if strings.HasPrefix(strings.ToLower(deref(t.Key)), "aws:") {
		return nil, validation("Tag keys starting with 'aws:' are reserved for internal use")
	}
	v := deref(t.Value)
	return &asapi.TagDescription{Key: t.Key, Value: &v, PropagateAtLaunch: boolp(deref(t.PropagateAtLaunch)),
		ResourceId: str(group), ResourceType: str(tagResourceType)}, nil
}

func setTag(tags []*asapi.TagDescription, d *asapi.TagDescription) []*asapi.TagDescription {
	for i, t := range tags {
		if deref(t.Key) == deref(d.Key) {
			tags[i] = d
			return tags
		}
	}
	return append(tags, d)
}

// byGroup groups tags by the group they name.
func byGroup(tags []*asapi.Tag) (map[string][]*asapi.Tag, []string, error) {
	m := map[string][]*asapi.Tag{}
	var order []string
	for _, t := range tags {
		id := deref(t.ResourceId)
		if id == "" {
			return nil, nil, validation("ResourceId is required for each tag")
		}
		if _, ok := m[id]; !ok {
			order = append(order, id)
		}
		m[id] = append(m[id], t)
	}
	return m, order, nil
}

// CreateOrUpdateTags sets tags on groups.
func (s *Service) CreateOrUpdateTags(ctx context.Context, in *asapi.CreateOrUpdateTagsType) (*asapi.CreateOrUpdateTagsOutput, error) {
	sc := scopeOf(ctx)
	m, order, err := byGroup(in.Tags)
	if err != nil {
		return nil, err
	}
	err = s.store.Update(func(tx *store.Tx) error {
		for _, name := range order {
			g, err := loadGroup(tx, sc, name)
			if err != nil {
				return err
			}
			for _, t := range m[name] {
				d, err := tagDescription(name, t)
				if err != nil {
					return err
				}
				g.G.Tags = setTag(g.G.Tags, d)
			}
			if len(g.G.Tags) > maxTags {
				return api50()
			}
			if err := saveGroup(tx, sc, g); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &asapi.CreateOrUpdateTagsOutput{}, nil
}

// DeleteTags removes tags from groups.
func (s *Service) DeleteTags(ctx context.Context, in *asapi.DeleteTagsType) (*asapi.DeleteTagsOutput, error) {
	sc := scopeOf(ctx)
	m, order, err := byGroup(in.Tags)
	if err != nil {
		return nil, err
	}
	err = s.store.Update(func(tx *store.Tx) error {
		for _, name := range order {
			g, err := loadGroup(tx, sc, name)
			if err != nil {
				return err
			}
			for _, t := range m[name] {
				g.G.Tags = slices.DeleteFunc(g.G.Tags, func(d *asapi.TagDescription) bool {
					return deref(d.Key) == deref(t.Key) && (t.Value == nil || deref(d.Value) == deref(t.Value))
				})
			}
			if err := saveGroup(tx, sc, g); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &asapi.DeleteTagsOutput{}, nil
}

// DescribeTags lists the tags of every group, filtered.
func (s *Service) DescribeTags(ctx context.Context, in *asapi.DescribeTagsType) (*asapi.TagsType, error) {
	sc := scopeOf(ctx)
	for _, f := range in.Filters {
		if !slices.Contains([]string{"auto-scaling-group", "key", "value", "propagate-at-launch"}, deref(f.Name)) {
			return nil, validation("Filter type %s is not supported", deref(f.Name))
		}
	}
	var out []*asapi.TagDescription
	err := s.store.View(func(tx *store.Tx) error {
		all, err := store.ListAll[groupRecord](tx, sc.account, sc.region, kindGroup)
		for _, g := range all {
			for _, t := range g.G.Tags {
				if tagFilter(t, in.Filters) {
					out = append(out, t)
				}
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
	return &asapi.TagsType{Tags: items, NextToken: next}, nil
}

func tagFilter(t *asapi.TagDescription, filters []*asapi.Filter) bool {
	for _, f := range filters {
		var v string
		switch deref(f.Name) {
		case "auto-scaling-group":
			v = deref(t.ResourceId)
		case "key":
			v = deref(t.Key)
		case "value":
			v = deref(t.Value)
		case "propagate-at-launch":
			v = strconv.FormatBool(deref(t.PropagateAtLaunch))
		}
		if !slices.Contains(derefAll(f.Values), v) {
			return false
		}
	}
	return true
}

// launchTags are the tags an instance of the group gets.
func launchTags(g *groupRecord) map[string]string {
	tags := map[string]string{"aws:autoscaling:groupName": g.name()}
	for _, t := range g.G.Tags {
		if deref(t.PropagateAtLaunch) {
			tags[deref(t.Key)] = deref(t.Value)
		}
	}
	return tags
}

// AttachLoadBalancerTargetGroups attaches target groups; the reconciler
// registers the group's instances.
func (s *Service) AttachLoadBalancerTargetGroups(ctx context.Context, in *asapi.AttachLoadBalancerTargetGroupsType) (*asapi.AttachLoadBalancerTargetGroupsResultType, error) {
	if err := s.attachTargetGroups(ctx, deref(in.AutoScalingGroupName), in.TargetGroupARNs, nil); err != nil {
		return nil, err
	}
	return &asapi.AttachLoadBalancerTargetGroupsResultType{}, nil
}

// AttachTrafficSources attaches target groups given as traffic sources.
func (s *Service) AttachTrafficSources(ctx context.Context, in *asapi.AttachTrafficSourcesType) (*asapi.AttachTrafficSourcesResultType, error) {
	if err := s.attachTargetGroups(ctx, deref(in.AutoScalingGroupName), nil, in.TrafficSources); err != nil {
		return nil, err
	}
	return &asapi.AttachTrafficSourcesResultType{}, nil
}

func (s *Service) attachTargetGroups(ctx context.Context, group string, arns []*string, sources []*asapi.TrafficSourceIdentifier) error {
	sc := scopeOf(ctx)
	tgs, err := trafficTargetGroups(arns, sources)
	if err != nil {
		return err
	}
	if err := s.checkTargetGroups(sc, tgs); err != nil {
		return err
	}
	return s.mutate(sc, group, func(_ *store.Tx, g *groupRecord) ([]Event, error) {
		for _, tg := range tgs {
			if !slices.ContainsFunc(g.G.TargetGroupARNs, func(p *string) bool { return *p == *tg }) {
				g.G.TargetGroupARNs = append(g.G.TargetGroupARNs, tg)
			}
		}
		return nil, nil
	})
}

// DetachLoadBalancerTargetGroups detaches target groups; the reconciler
// deregisters the group's instances.
func (s *Service) DetachLoadBalancerTargetGroups(ctx context.Context, in *asapi.DetachLoadBalancerTargetGroupsType) (*asapi.DetachLoadBalancerTargetGroupsResultType, error) {
	if err := s.detachTargetGroups(ctx, deref(in.AutoScalingGroupName), in.TargetGroupARNs, nil); err != nil {
		return nil, err
	}
	return &asapi.DetachLoadBalancerTargetGroupsResultType{}, nil
}

// DetachTrafficSources detaches target groups given as traffic sources.
func (s *Service) DetachTrafficSources(ctx context.Context, in *asapi.DetachTrafficSourcesType) (*asapi.DetachTrafficSourcesResultType, error) {
	if err := s.detachTargetGroups(ctx, deref(in.AutoScalingGroupName), nil, in.TrafficSources); err != nil {
		return nil, err
	}
	return &asapi.DetachTrafficSourcesResultType{}, nil
}

func (s *Service) detachTargetGroups(ctx context.Context, group string, arns []*string, sources []*asapi.TrafficSourceIdentifier) error {
	tgs, err := trafficTargetGroups(arns, sources)
	if err != nil {
		return err
	}
	gone := derefAll(tgs)
	return s.mutate(scopeOf(ctx), group, func(_ *store.Tx, g *groupRecord) ([]Event, error) {
		g.G.TargetGroupARNs = slices.DeleteFunc(g.G.TargetGroupARNs, func(p *string) bool { return slices.Contains(gone, *p) })
		return nil, nil
	})
}

// DescribeLoadBalancerTargetGroups lists a group's target groups.
func (s *Service) DescribeLoadBalancerTargetGroups(ctx context.Context, in *asapi.DescribeLoadBalancerTargetGroupsRequest) (*asapi.DescribeLoadBalancerTargetGroupsResponse, error) {
	g, err := s.viewGroup(ctx, deref(in.AutoScalingGroupName))
	if err != nil {
		return nil, err
	}
	var out []*asapi.LoadBalancerTargetGroupState
	for _, tg := range g.G.TargetGroupARNs {
		out = append(out, &asapi.LoadBalancerTargetGroupState{LoadBalancerTargetGroupARN: tg, State: str(attachState(g, *tg))})
	}
	items, next, err := page(out, in.MaxRecords, in.NextToken, 100)
	if err != nil {
		return nil, err
	}
	return &asapi.DescribeLoadBalancerTargetGroupsResponse{LoadBalancerTargetGroups: items, NextToken: next}, nil
}

// DescribeTrafficSources lists a group's target groups as traffic sources.
func (s *Service) DescribeTrafficSources(ctx context.Context, in *asapi.DescribeTrafficSourcesRequest) (*asapi.DescribeTrafficSourcesResponse, error) {
	g, err := s.viewGroup(ctx, deref(in.AutoScalingGroupName))
	if err != nil {
		return nil, err
	}
	var out []*asapi.TrafficSourceState
	if t := deref(in.TrafficSourceType); t == "" || t == "elbv2" {
		for _, tg := range g.G.TargetGroupARNs {
			out = append(out, &asapi.TrafficSourceState{Identifier: tg, TrafficSource: tg, Type: str("elbv2"), State: str(attachState(g, *tg))})
		}
	}
	items, next, err := page(out, in.MaxRecords, in.NextToken, 50)
	if err != nil {
		return nil, err
	}
	return &asapi.DescribeTrafficSourcesResponse{TrafficSources: items, NextToken: next}, nil
}

// attachState is "InService" once every in-service instance is
// registered, "Added" before.
func attachState(g *groupRecord, tg string) string {
	for _, in := range g.Instances {
		if in.Lifecycle == asapi.LifecycleStateInService && !slices.Contains(in.Registered, tg) {
			return "Added"
		}
	}
	return "InService"
}

func (s *Service) viewGroup(ctx context.Context, name string) (*groupRecord, error) {
	sc := scopeOf(ctx)
	var g *groupRecord
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		g, err = loadGroup(tx, sc, name)
		return err
	})
	return g, err
}

package autoscaling

import (
	"strconv"

	asapi "github.com/cloudbox/cloudbox/api/autoscaling"
)

// Mixed instances policies: a launch template with instance type
// overrides, launched in the overrides' order (the prioritized strategy:
// the first type that launches), each override's weight counting toward
// the desired capacity. Every instance cloudbox launches is On-Demand, so
// the InstancesDistribution is validated and shown but decides nothing.

var (
	onDemandStrategies = []string{"prioritized", "lowest-price"}
	spotStrategies     = []string{"lowest-price", "capacity-optimized", "capacity-optimized-prioritized", "price-capacity-optimized"}
)

// maxOverrides is AWS's limit of instance types in a policy.
const maxOverrides = 40

// checkMixed validates a mixed instances policy and returns it as the
// group keeps and shows it: templates resolved to id and name, the
// distribution's defaults filled in.
func (s *Service) checkMixed(sc scope, p *asapi.MixedInstancesPolicy) (*asapi.MixedInstancesPolicy, error) {
	if p.LaunchTemplate == nil || p.LaunchTemplate.LaunchTemplateSpecification == nil {
		return nil, validation("The launch template specification is required for a mixed instances policy.")
	}
	lt, err := s.checkTemplate(sc, p.LaunchTemplate.LaunchTemplateSpecification)
	if err != nil {
		return nil, err
	}
	out := &asapi.MixedInstancesPolicy{LaunchTemplate: &asapi.LaunchTemplate{LaunchTemplateSpecification: lt, Overrides: []*asapi.LaunchTemplateOverrides{}}}
	if len(p.LaunchTemplate.Overrides) > maxOverrides {
		return nil, validation("The number of overrides (%d) exceeds the maximum of %d.", len(p.LaunchTemplate.Overrides), maxOverrides)
	}
	weighted := 0
	for _, o := range p.LaunchTemplate.Overrides {
		if o.InstanceRequirements != nil {
			return nil, validation("InstanceRequirements (attribute-based instance type selection) is not supported by cloudbox; list the InstanceType of each override")
		}
		if o.InstanceType == nil {
			return nil, validation("An InstanceType must be specified for each launch template override.")
		}
		c := &asapi.LaunchTemplateOverrides{InstanceType: o.InstanceType}
		if o.WeightedCapacity != nil {
			if _, err := weightOf(*o.WeightedCapacity); err != nil {
				return nil, err
			}
			c.WeightedCapacity = o.WeightedCapacity
			weighted++
		}
		if o.LaunchTemplateSpecification != nil {
			if c.LaunchTemplateSpecification, err = s.checkTemplate(sc, o.LaunchTemplateSpecification); err != nil {
				return nil, err
			}
		}
		out.LaunchTemplate.Overrides = append(out.LaunchTemplate.Overrides, c)
	}
	if weighted != 0 && weighted != len(out.LaunchTemplate.Overrides) {
		return nil, validation("If you specify WeightedCapacity for an override, you must specify it for all overrides.")
	}
	d := p.InstancesDistribution
	if d == nil {
		d = &asapi.InstancesDistribution{}
	}
	od := &asapi.InstancesDistribution{
		OnDemandAllocationStrategy:          orElse(d.OnDemandAllocationStrategy, str("prioritized")),
		OnDemandBaseCapacity:                orElse(d.OnDemandBaseCapacity, i64(0)),
		OnDemandPercentageAboveBaseCapacity: orElse(d.OnDemandPercentageAboveBaseCapacity, i64(100)),
		SpotAllocationStrategy:              orElse(d.SpotAllocationStrategy, str("lowest-price")),
		SpotInstancePools:                   d.SpotInstancePools,
		SpotMaxPrice:                        d.SpotMaxPrice,
	}
	if !contains(onDemandStrategies, *od.OnDemandAllocationStrategy) {
		return nil, validation("Valid OnDemandAllocationStrategy values are: [prioritized, lowest-price]")
	}
	if !contains(spotStrategies, *od.SpotAllocationStrategy) {
		return nil, validation("Valid SpotAllocationStrategy values are: [lowest-price, capacity-optimized, capacity-optimized-prioritized, price-capacity-optimized]")
	}
	if *od.OnDemandBaseCapacity < 0 {
		return nil, validation("OnDemandBaseCapacity must be greater than or equal to 0.")
	}
	if v := *od.OnDemandPercentageAboveBaseCapacity; v < 0 || v > 100 {
		return nil, validation("OnDemandPercentageAboveBaseCapacity must be between 0 and 100.")
	}
	if od.SpotInstancePools == nil && *od.SpotAllocationStrategy == "lowest-price" {
		od.SpotInstancePools = i64(2)
	}
	if n := od.SpotInstancePools; n != nil && (*n < 1 || *n > 20) {
		return nil, validation("SpotInstancePools must be between 1 and 20.")
	}
	out.InstancesDistribution = od
	return out, nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// weightOf parses an override's WeightedCapacity, 1 to 999 as AWS allows.
func weightOf(w string) (int64, error) {
	n, err := strconv.ParseInt(w, 10, 64)
	if err != nil || n < 1 || n > 999 {
		return 0, validation("The WeightedCapacity value %s is not valid. Valid values are integers from 1 to 999.", w)
	}
	return n, nil
}

// weight is what an instance counts toward the desired capacity.
func (r *instanceRecord) weight() int64 {
	if r.Weight == "" {
		return 1
	}
	n, err := strconv.ParseInt(r.Weight, 10, 64)
	if err != nil {
		return 1
	}
	return n
}

// capacity is the weighted count of instances.
func capacity(rs []*instanceRecord) int64 {
	var n int64
	for _, r := range rs {
		n += r.weight()
	}
	return n
}

// launchChoice is one way to launch an instance of the group: a template
// (or the group's configuration), a type and its weight.
type launchChoice struct {
	lt     *asapi.LaunchTemplateSpecification
	itype  string
	weight string
}

// launchChoices lists what the group launches, in priority order.
func launchChoices(g *groupRecord) []launchChoice {
	p := g.G.MixedInstancesPolicy
	if p == nil {
		return []launchChoice{{lt: g.G.LaunchTemplate}}
	}
	base := p.LaunchTemplate.LaunchTemplateSpecification
	if len(p.LaunchTemplate.Overrides) == 0 {
		return []launchChoice{{lt: base}}
	}
	var out []launchChoice
	for _, o := range p.LaunchTemplate.Overrides {
		c := launchChoice{lt: base, itype: deref(o.InstanceType), weight: deref(o.WeightedCapacity)}
		if o.LaunchTemplateSpecification != nil {
			c.lt = o.LaunchTemplateSpecification
		}
		out = append(out, c)
	}
	return out
}

// matchesMixed reports whether an instance is one the group's mixed
// instances policy would launch now.
func matchesMixed(g *groupRecord, r *instanceRecord) bool {
	for _, c := range launchChoices(g) {
		if sameTemplate(c.lt, r.LaunchTemplate) && (c.itype == "" || c.itype == r.InstanceType) {
			return true
		}
	}
	return false
}

func sameTemplate(a, b *asapi.LaunchTemplateSpecification) bool {
	return a != nil && b != nil &&
		deref(a.LaunchTemplateId)+deref(a.LaunchTemplateName) == deref(b.LaunchTemplateId)+deref(b.LaunchTemplateName) &&
		deref(a.Version) == deref(b.Version)
}

// setSource sets how the group launches, clearing the other ways.
func (g *groupRecord) setSource(src source) {
	g.G.LaunchTemplate, g.G.LaunchConfigurationName, g.G.MixedInstancesPolicy = src.lt, optional(src.lc), src.mixed
}

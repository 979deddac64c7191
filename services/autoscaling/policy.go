package autoscaling

import (
	"context"
	"github.com/cloudbox/cloudbox/uuid"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	asapi "github.com/cloudbox/cloudbox/api/autoscaling"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/store"
)

const (
	policySimple   = "SimpleScaling"
	policyStep     = "StepScaling"
	policyTracking = "TargetTrackingScaling"
	maxPolicies    = 50
)

var adjustmentTypes = []string{"ChangeInCapacity", "ExactCapacity", "PercentChangeInCapacity"}

func (s *Service) registerPolicies(h *asapi.Handlers) {
	h.PutScalingPolicy = s.PutScalingPolicy
	h.DescribePolicies = s.DescribePolicies
	h.DeletePolicy = s.DeletePolicy
	h.ExecutePolicy = s.ExecutePolicy
}

// checkPolicy validates a policy's shape for its type.
func checkPolicy(in *asapi.PutScalingPolicyType, typ string) error {
	needAdjustment := func() error {
		if !slices.Contains(adjustmentTypes, deref(in.AdjustmentType)) {
			return validation("AdjustmentType must be one of %s", strings.Join(adjustmentTypes, ", "))
		}
		return nil
	}
	switch typ {
	case policySimple:
		if in.ScalingAdjustment == nil {
			return validation("ScalingAdjustment is required for a SimpleScaling policy")
		}
		if len(in.StepAdjustments) > 0 || in.TargetTrackingConfiguration != nil {
			return validation("StepAdjustments and TargetTrackingConfiguration are not allowed for a SimpleScaling policy")
		}
		return needAdjustment()
	case policyStep:
		if len(in.StepAdjustments) == 0 {
			return validation("StepAdjustments is required for a StepScaling policy")
		}
		if in.ScalingAdjustment != nil || in.Cooldown != nil || in.TargetTrackingConfiguration != nil {
			return validation("ScalingAdjustment, Cooldown and TargetTrackingConfiguration are not allowed for a StepScaling policy")
		}
		if err := checkSteps(in.StepAdjustments); err != nil {
			return err
		}
		return needAdjustment()
	case policyTracking:
		tt := in.TargetTrackingConfiguration
		if tt == nil {
			return validation("TargetTrackingConfiguration is required for a TargetTrackingScaling policy")
		}
		if in.ScalingAdjustment != nil || len(in.StepAdjustments) > 0 || in.AdjustmentType != nil || in.Cooldown != nil {
			return validation("ScalingAdjustment, StepAdjustments, AdjustmentType and Cooldown are not allowed for a TargetTrackingScaling policy")
		}
		if (tt.PredefinedMetricSpecification == nil) == (tt.CustomizedMetricSpecification == nil) {
			return validation("Exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification must be specified")
		}
		if p := tt.PredefinedMetricSpecification; p != nil && deref(p.PredefinedMetricType) == asapi.MetricTypeALBRequestCountPerTarget {
			if !strings.Contains(deref(p.ResourceLabel), "/targetgroup/") {
				return validation("ResourceLabel is required for ALBRequestCountPerTarget: app/<load-balancer-name>/<id>/targetgroup/<target-group-name>/<id>")
			}
		}
		if c := tt.CustomizedMetricSpecification; c != nil {
			if len(c.Metrics) > 0 {
				return validation("Metric math in CustomizedMetricSpecification is not supported by cloudbox; use MetricName and Namespace")
			}
			if c.MetricName == nil || c.Namespace == nil || c.Statistic == nil {
				return validation("MetricName, Namespace and Statistic are required in CustomizedMetricSpecification")
			}
		}
		if deref(tt.TargetValue) <= 0 {
			return validation("TargetValue must be greater than zero")
		}
		return nil
	case "PredictiveScaling":
		return validation("PredictiveScaling policies are not supported by cloudbox")
	}
	return validation("Invalid policy type %s: valid types are SimpleScaling, StepScaling and TargetTrackingScaling", typ)
}

// checkSteps refuses overlapping or unbounded-twice step intervals.
func checkSteps(steps []*asapi.StepAdjustment) error {
	sorted := slices.Clone(steps)
	lower := func(s *asapi.StepAdjustment) float64 {
		if s.MetricIntervalLowerBound == nil {
			return math.Inf(-1)
		}
		return *s.MetricIntervalLowerBound
	}
	upper := func(s *asapi.StepAdjustment) float64 {
		if s.MetricIntervalUpperBound == nil {
			return math.Inf(1)
		}
		return *s.MetricIntervalUpperBound
	}
	slices.SortFunc(sorted, func(a, b *asapi.StepAdjustment) int { return cmpFloat(lower(a), lower(b)) })
	for i, st := range sorted {
		if lower(st) >= upper(st) {
			return validation("Step adjustment lower bound must be less than its upper bound")
		}
		if i > 0 && upper(sorted[i-1]) > lower(st) {
			return validation("Step adjustments must not overlap")
		}
		if i > 0 && upper(sorted[i-1]) < lower(st) {
			return validation("Step adjustments must not have gaps between them")
		}
	}
	return nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// trackingAlarms are the alarms a target tracking policy owns.
func trackingAlarms(sc scope, group, policyARN string, tt *asapi.TargetTrackingConfiguration, high, low string) []AlarmSpec {
	spec := AlarmSpec{Period: 60, Dimensions: []Dimension{{"AutoScalingGroupName", group}}, Statistic: "Average", AlarmActions: []string{policyARN},
		Description: "DO NOT EDIT OR DELETE. For TargetTrackingScaling policy " + policyARN + "."}
	if p := tt.PredefinedMetricSpecification; p != nil {
		switch deref(p.PredefinedMetricType) {
		case asapi.MetricTypeASGAverageCPUUtilization:
			spec.Namespace, spec.MetricName, spec.Unit = "AWS/EC2", "CPUUtilization", "Percent"
		case asapi.MetricTypeASGAverageNetworkIn:
			spec.Namespace, spec.MetricName, spec.Unit = "AWS/EC2", "NetworkIn", "Bytes"
		case asapi.MetricTypeASGAverageNetworkOut:
			spec.Namespace, spec.MetricName, spec.Unit = "AWS/EC2", "NetworkOut", "Bytes"
		case asapi.MetricTypeALBRequestCountPerTarget:
			label := deref(p.ResourceLabel)
			tg := label[strings.Index(label, "/targetgroup/")+1:]
			spec.Namespace, spec.MetricName, spec.Statistic = "AWS/ApplicationELB", "RequestCountPerTarget", "Sum"
			spec.Dimensions = []Dimension{{"TargetGroup", tg}}
		}
	} else {
		c := tt.CustomizedMetricSpecification
		spec.Namespace, spec.MetricName, spec.Statistic, spec.Unit = deref(c.Namespace), deref(c.MetricName), deref(c.Statistic), deref(c.Unit)
		spec.Dimensions = nil
		for _, d := range c.Dimensions {
			spec.Dimensions = append(spec.Dimensions, Dimension{deref(d.Name), deref(d.Value)})
		}
	}
	target := deref(tt.TargetValue)
	h := spec
	h.Name, h.Threshold, h.ComparisonOperator, h.EvaluationPeriods, h.DatapointsToAlarm = high, target, "GreaterThanThreshold", 3, 3
	out := []AlarmSpec{h}
	if !deref(tt.DisableScaleIn) {
		l := spec
		l.Name, l.Threshold, l.ComparisonOperator, l.EvaluationPeriods, l.DatapointsToAlarm = low, target*0.9, "LessThanThreshold", 15, 15
		out = append(out, l)
	}
	return out
}

func alarmARN(sc scope, name string) string {
	return arn.New("cloudwatch", sc.region, sc.account, "alarm:"+name).String()
}

func policyAlarms(ps []*policyRecord) []string {
	var out []string
	for _, p := range ps {
		for _, a := range p.P.Alarms {
			out = append(out, deref(a.AlarmName))
		}
	}
	return out
}

func (s *Service) deleteAlarms(sc scope, names []string) {
	for _, n := range names {
		if err := s.cw.DeleteAlarm(sc.account, sc.region, n); err != nil {
			s.log.Warn("autoscaling: deleting a policy's alarm", "alarm", n, "error", err)
		}
	}
}

// PutScalingPolicy creates or replaces a policy; a target tracking policy
// makes its alarms.
func (s *Service) PutScalingPolicy(ctx context.Context, in *asapi.PutScalingPolicyType) (*asapi.PolicyARNType, error) {
	sc := scopeOf(ctx)
	group, name := deref(in.AutoScalingGroupName), deref(in.PolicyName)
	typ := deref(in.PolicyType)
	if typ == "" {
		typ = policySimple
	}
	if err := checkPolicy(in, typ); err != nil {
		return nil, err
	}
	var old *policyRecord
	var count int
	err := s.store.View(func(tx *store.Tx) error {
		g, err := loadGroup(tx, sc, group)
		if err != nil {
			return err
		}
		old, count = g.policy(name), len(g.Policies)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if old == nil && count >= maxPolicies {
		return nil, api.Errorf("LimitExceeded", "Maximum number of scaling policies (%d) for the group %s reached", maxPolicies, group)
	}
	policyARN := resourceARN(sc, "scalingPolicy", uuid.New(), "autoScalingGroupName", group, "policyName", name)
	var oldAlarms []string
	if old != nil {
		policyARN = deref(old.P.PolicyARN)
		oldAlarms = policyAlarms([]*policyRecord{old})
	}
	p := &policyRecord{P: asapi.ScalingPolicy{
		AdjustmentType: in.AdjustmentType, AutoScalingGroupName: in.AutoScalingGroupName, Cooldown: in.Cooldown,
		Enabled: boolp(in.Enabled == nil || *in.Enabled), EstimatedInstanceWarmup: in.EstimatedInstanceWarmup,
		MetricAggregationType: in.MetricAggregationType, MinAdjustmentMagnitude: in.MinAdjustmentMagnitude,
		PolicyARN: str(policyARN), PolicyName: in.PolicyName, PolicyType: str(typ), ScalingAdjustment: in.ScalingAdjustment,
		StepAdjustments: in.StepAdjustments, TargetTrackingConfiguration: in.TargetTrackingConfiguration, Alarms: []*asapi.Alarm{},
	}}
	if typ == policyStep && p.P.MetricAggregationType == nil {
		p.P.MetricAggregationType = str("Average")
	}
	var made []string
	if typ == policyTracking {
		high, low := "TargetTracking-"+group+"-AlarmHigh-"+uuid.New(), "TargetTracking-"+group+"-AlarmLow-"+uuid.New()
		for _, n := range oldAlarms { // keep the names an update had
			if strings.Contains(n, "-AlarmHigh-") {
				high = n
			} else if strings.Contains(n, "-AlarmLow-") {
				low = n
			}
		}
		for _, a := range trackingAlarms(sc, group, policyARN, in.TargetTrackingConfiguration, high, low) {
			if err := s.cw.PutAlarm(sc.account, sc.region, a); err != nil {
				s.deleteAlarms(sc, made)
				return nil, err
			}
			made = append(made, a.Name)
			p.P.Alarms = append(p.P.Alarms, &asapi.Alarm{AlarmName: str(a.Name), AlarmARN: str(alarmARN(sc, a.Name))})
		}
	}
	err = s.mutate(sc, group, func(_ *store.Tx, g *groupRecord) ([]Event, error) {
		if prev := g.policy(name); prev != nil {
			p.LastScaled, p.PrevDesired = prev.LastScaled, prev.PrevDesired
			*prev = *p
			return nil, nil
		}
		g.Policies = append(g.Policies, p)
		return nil, nil
	})
	if err != nil {
		s.deleteAlarms(sc, slices.DeleteFunc(made, func(n string) bool { return slices.Contains(oldAlarms, n) }))
		return nil, err
	}
	s.deleteAlarms(sc, slices.DeleteFunc(oldAlarms, func(n string) bool { return slices.Contains(made, n) }))
	return &asapi.PolicyARNType{PolicyARN: str(policyARN), Alarms: p.P.Alarms}, nil
}

// DescribePolicies lists policies.
func (s *Service) DescribePolicies(ctx context.Context, in *asapi.DescribePoliciesType) (*asapi.PoliciesType, error) {
	sc := scopeOf(ctx)
	names, types := derefAll(in.PolicyNames), derefAll(in.PolicyTypes)
	var out []*asapi.ScalingPolicy
	err := s.store.View(func(tx *store.Tx) error {
		groups, err := groupsNamed(tx, sc, deref(in.AutoScalingGroupName))
		if err != nil {
			return err
		}
		for _, g := range groups {
			for _, p := range g.Policies {
				if len(names) > 0 && !slices.Contains(names, deref(p.P.PolicyName)) && !slices.Contains(names, deref(p.P.PolicyARN)) {
					continue
				}
				if len(types) > 0 && !slices.Contains(types, deref(p.P.PolicyType)) {
					continue
				}
				x := p.P
				out = append(out, &x)
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
	return &asapi.PoliciesType{ScalingPolicies: items, NextToken: next}, nil
}

// groupOfPolicy returns the group a policy ARN names.
func groupOfPolicy(policyARN string) string {
	for _, part := range strings.Split(policyARN, ":") {
		if g, ok := strings.CutPrefix(part, "autoScalingGroupName/"); ok {
			return g
		}
	}
	return ""
}

// policyGroup is the group of a policy given by name (with its group) or
// by ARN.
func policyGroup(group, policy string) (string, error) {
	if strings.HasPrefix(policy, "arn:") {
		if g := groupOfPolicy(policy); g != "" {
			return g, nil
		}
		return "", validation("Invalid policy ARN %s", policy)
	}
	if group == "" {
		return "", validation("AutoScalingGroupName is required when PolicyName is not an ARN")
	}
	return group, nil
}

// DeletePolicy deletes a policy and the alarms it owns.
func (s *Service) DeletePolicy(ctx context.Context, in *asapi.DeletePolicyType) (*asapi.DeletePolicyOutput, error) {
	sc := scopeOf(ctx)
	group, err := policyGroup(deref(in.AutoScalingGroupName), deref(in.PolicyName))
	if err != nil {
		return nil, err
	}
	var alarms []string
	err = s.mutate(sc, group, func(_ *store.Tx, g *groupRecord) ([]Event, error) {
		p := g.policy(deref(in.PolicyName))
		if p == nil {
			return nil, validation("Scaling policy %s not found for group %s", deref(in.PolicyName), g.name())
		}
		alarms = policyAlarms([]*policyRecord{p})
		g.Policies = slices.DeleteFunc(g.Policies, func(x *policyRecord) bool { return x == p })
		return nil, nil
	})
	if err != nil {
		return nil, err
	}
	s.deleteAlarms(sc, alarms)
	return &asapi.DeletePolicyOutput{}, nil
}

// ExecutePolicy runs a simple or step policy by hand.
func (s *Service) ExecutePolicy(ctx context.Context, in *asapi.ExecutePolicyType) (*asapi.ExecutePolicyOutput, error) {
	sc := scopeOf(ctx)
	group, err := policyGroup(deref(in.AutoScalingGroupName), deref(in.PolicyName))
	if err != nil {
		return nil, err
	}
	now := s.now()
	err = s.mutate(sc, group, func(_ *store.Tx, g *groupRecord) ([]Event, error) {
		p := g.policy(deref(in.PolicyName))
		if p == nil {
			return nil, validation("No scaling policy found for service namespace: autoscaling, resource ID: autoScalingGroupName/%s, policy name: %s", g.name(), deref(in.PolicyName))
		}
		trigger := trigger{user: true, honorCooldown: deref(in.HonorCooldown)}
		switch deref(p.P.PolicyType) {
		case policyTracking:
			return nil, validation("ExecutePolicy is not supported for target tracking scaling policies")
		case policyStep:
			if in.MetricValue == nil || in.BreachThreshold == nil {
				return nil, validation("MetricValue and BreachThreshold are required to execute a step scaling policy")
			}
			trigger.value, trigger.threshold = *in.MetricValue, *in.BreachThreshold
		}
		return nil, s.applyPolicy(g, p, now, trigger)
	})
	if err != nil {
		return nil, err
	}
	return &asapi.ExecutePolicyOutput{}, nil
}

// trigger is what set a policy off: an alarm or a user.
type trigger struct {
	user             bool
	honorCooldown    bool
	alarm, state     string
	value, threshold float64
}

var errCooldown = api.Errorf("ScalingActivityInProgress", "Scaling activity in progress: the cooldown period has not elapsed")

// AlarmAction runs the policy an alarm's action names, as CloudWatch does
// when the alarm is (or stays) in ALARM. value is the alarm's latest
// metric value and threshold its threshold. CloudWatch invokes it again
// every period the alarm stays in ALARM, as AWS does for Auto Scaling
// actions.
func (s *Service) AlarmAction(account, region, policyARN, alarmName, state string, value, threshold float64) {
	if state != "ALARM" {
		return
	}
	sc := scope{account, region}
	group := groupOfPolicy(policyARN)
	now := s.now()
	err := s.mutate(sc, group, func(_ *store.Tx, g *groupRecord) ([]Event, error) {
		p := g.policy(policyARN)
		if p == nil || !deref(p.P.Enabled) || g.suspended("AlarmNotification") || g.Deleting {
			return nil, nil
		}
		err := s.applyPolicy(g, p, now, trigger{alarm: alarmName, state: state, value: value, threshold: threshold})
		if err == errCooldown {
			return nil, nil
		}
		return nil, err
	})
	if err != nil {
		s.log.Warn("autoscaling: alarm action", "policy", policyARN, "alarm", alarmName, "error", err)
	}
}

// warmup is how long a new instance's metrics are left out.
func warmup(g *groupRecord, p *policyRecord) time.Duration {
	switch {
	case p != nil && p.P.EstimatedInstanceWarmup != nil:
		return seconds(*p.P.EstimatedInstanceWarmup)
	case g.G.DefaultInstanceWarmup != nil:
		return seconds(*g.G.DefaultInstanceWarmup)
	}
	return seconds(deref(g.G.DefaultCooldown))
}

// applyPolicy computes and sets the group's new desired capacity.
func (s *Service) applyPolicy(g *groupRecord, p *policyRecord, now time.Time, t trigger) error {
	from := deref(g.G.DesiredCapacity)
	lo, hi := deref(g.G.MinSize), deref(g.G.MaxSize)
	to := from
	warm := warmup(g, p)
	switch deref(p.P.PolicyType) {
	case policyTracking:
		tt := p.P.TargetTrackingConfiguration
		var settled, warming int64
		for _, r := range g.Instances {
			switch {
			case r.Lifecycle == asapi.LifecycleStateInService && now.Sub(r.InServiceAt) >= warm:
				settled++
			case !strings.HasPrefix(r.Lifecycle, "Terminating"):
				warming++
			}
		}
		base := settled
		if base == 0 {
			base = from
		}
		want := int64(math.Ceil(float64(base) * t.value / deref(tt.TargetValue)))
		if strings.Contains(t.alarm, "-AlarmLow-") {
			// Scale in only once every instance's metrics count, and never
			// below what the metric asks for, rounded up.
			if deref(tt.DisableScaleIn) || warming > 0 || want >= from {
				return nil
			}
		} else if want <= from {
			return nil // instances warming up already cover it
		}
		to = want
	case policyStep:
		adj, ok := stepFor(p.P.StepAdjustments, t.value-t.threshold)
		if !ok {
			return nil
		}
		base := from
		if now.Before(p.LastScaled.Add(warm)) && adj > 0 {
			// During warm-up a bigger step adds only what the last one did not.
			base = p.PrevDesired
		}
		to = adjust(base, deref(p.P.AdjustmentType), adj, deref(p.P.MinAdjustmentMagnitude))
		if adj > 0 && to <= from {
			return nil
		}
	default:
		cooldown := seconds(deref(g.G.DefaultCooldown))
		if p.P.Cooldown != nil {
			cooldown = seconds(*p.P.Cooldown)
		}
		if (!t.user || t.honorCooldown) && (now.Before(p.LastScaled.Add(cooldown)) || now.Before(g.CooldownUntil)) {
			return errCooldown
		}
		to = adjust(from, deref(p.P.AdjustmentType), deref(p.P.ScalingAdjustment), deref(p.P.MinAdjustmentMagnitude))
		g.CooldownUntil = now.Add(cooldown)
	}
	to = min(max(to, lo), hi)
	p.LastScaled, p.PrevDesired = now, from
	if to == from {
		return nil
	}
	g.G.DesiredCapacity = i64(to)
	if t.user {
		g.LastCause = causeExecute(now, deref(p.P.PolicyName), from, to)
	} else {
		g.LastCause = causeAlarm(now, t.alarm, t.state, deref(p.P.PolicyName), from, to)
	}
	return nil
}

// stepFor returns the adjustment of the step the breach falls in.
func stepFor(steps []*asapi.StepAdjustment, breach float64) (int64, bool) {
	for _, st := range steps {
		lo, hi := math.Inf(-1), math.Inf(1)
		if st.MetricIntervalLowerBound != nil {
			lo = *st.MetricIntervalLowerBound
		}
		if st.MetricIntervalUpperBound != nil {
			hi = *st.MetricIntervalUpperBound
		}
		if breach >= lo && breach < hi || breach < 0 && breach > lo && breach <= hi {
			return deref(st.ScalingAdjustment), true
		}
	}
	return 0, false
}

// adjust applies an adjustment as AWS rounds it.
func adjust(from int64, typ string, adj, minMagnitude int64) int64 {
	switch typ {
	case "ExactCapacity":
		return adj
	case "PercentChangeInCapacity":
		d := float64(from) * float64(adj) / 100
		var n int64
		switch {
		case d > 1:
			n = int64(math.Floor(d))
		case d > 0:
			n = 1
		case d < -1:
			n = int64(math.Ceil(d))
		case d < 0:
			n = -1
		}
		if minMagnitude > 0 && n != 0 && abs(n) < minMagnitude {
			n = minMagnitude * (n / abs(n))
		}
		return from + n
	}
	return from + adj
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

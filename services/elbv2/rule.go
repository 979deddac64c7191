package elbv2

import (
	"context"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	elbv2api "github.com/cloudbox/cloudbox/api/elbv2"
	"github.com/cloudbox/cloudbox/store"
)

func (s *Service) registerRules(h *elbv2api.Handlers) {
	h.CreateRule = s.CreateRule
	h.DescribeRules = s.DescribeRules
	h.ModifyRule = s.ModifyRule
	h.DeleteRule = s.DeleteRule
	h.SetRulePriorities = s.SetRulePriorities
}

// AWS's default quotas.
const (
	maxRulesPerLB          = 100
	maxConditionValues     = 5
	maxConditionWildcards  = 5
	maxConditionValueChars = 128
)

// Characters AWS accepts in condition values.
const (
	alnum       = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	hostChars   = alnum + "-.*?"
	pathChars   = alnum + "_-.$/~\"'@:+&*?;%=,!()[]"
	methodChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ_-"
	tokenChars  = alnum + "!#$%&'*+-.^_`|~"
)

func onlyChars(s, allowed string) bool {
	for _, c := range s {
		if !strings.ContainsRune(allowed, c) {
			return false
		}
	}
	return true
}

// conditionValues returns a condition's values, from its Values (for
// path-pattern and host-header) or its *Config, and refuses configs that
// do not belong to its field.
func conditionValues(c *elbv2api.RuleCondition, field string) ([]*string, error) {
	configs := map[string]bool{
		"path-pattern":        c.PathPatternConfig != nil,
		"host-header":         c.HostHeaderConfig != nil,
		"http-header":         c.HttpHeaderConfig != nil,
		"http-request-method": c.HttpRequestMethodConfig != nil,
		"query-string":        c.QueryStringConfig != nil,
		"source-ip":           c.SourceIpConfig != nil,
	}
	for f, set := range configs {
		if set && f != field {
			return nil, validation("A '%s' condition cannot have a configuration for '%s'", field, f)
		}
	}
	var cfg []*string
	switch field {
	case "path-pattern":
		if c.PathPatternConfig != nil {
			cfg = c.PathPatternConfig.Values
		}
	case "host-header":
		if c.HostHeaderConfig != nil {
			cfg = c.HostHeaderConfig.Values
		}
	default:
		if len(c.Values) > 0 {
			return nil, validation("A '%s' condition takes its values in its configuration, not in Values", field)
		}
		if field == "http-request-method" && c.HttpRequestMethodConfig != nil {
			cfg = c.HttpRequestMethodConfig.Values
		}
		if field == "source-ip" && c.SourceIpConfig != nil {
			cfg = c.SourceIpConfig.Values
		}
	}
	if len(c.Values) > 0 && configs[field] {
		return nil, validation("A '%s' condition can have Values or a configuration, not both", field)
	}
	if len(c.Values) > 0 {
		return c.Values, nil
	}
	return cfg, nil
}

// checkConditions validates rule conditions and returns them as AWS
// describes them (path-pattern and host-header in both forms).
func checkConditions(conds []*elbv2api.RuleCondition) ([]*elbv2api.RuleCondition, error) {
	if len(conds) == 0 {
		return nil, validation("A rule must have at least one condition")
	}
	var out []*elbv2api.RuleCondition
	seen := map[string]bool{}
	values, wildcards := 0, 0
	count := func(vs ...string) error {
		for _, v := range vs {
			if len(v) > maxConditionValueChars {
				return validation("Condition value '%s' is longer than %d characters", v, maxConditionValueChars)
			}
			values++
			if strings.ContainsAny(v, "*?") {
				wildcards++
			}
		}
		return nil
	}
	for _, c := range conds {
		field := deref(c.Field)
		switch field {
		case "path-pattern", "host-header", "http-request-method", "source-ip":
			if seen[field] {
				return nil, validation("A rule can have only one '%s' condition", field)
			}
			seen[field] = true
		case "http-header", "query-string":
		default:
			return nil, validation("Condition field '%s' must be one of [path-pattern, host-header, http-header, http-request-method, query-string, source-ip]", field)
		}
		vs, err := conditionValues(c, field)
		if err != nil {
			return nil, err
		}
		nc := &elbv2api.RuleCondition{Field: str(field)}
		switch field {
		case "path-pattern", "host-header", "http-request-method", "source-ip":
			if len(vs) == 0 {
				return nil, validation("A '%s' condition must have at least one value", field)
			}
			plain := derefAll(vs)
			for _, v := range plain {
				if err := checkConditionValue(field, v); err != nil {
					return nil, err
				}
			}
			if err := count(plain...); err != nil {
				return nil, err
			}
			switch field {
			case "path-pattern":
				nc.Values, nc.PathPatternConfig = strs(plain), &elbv2api.PathPatternConditionConfig{Values: strs(plain)}
			case "host-header":
				nc.Values, nc.HostHeaderConfig = strs(plain), &elbv2api.HostHeaderConditionConfig{Values: strs(plain)}
			case "http-request-method":
				nc.HttpRequestMethodConfig = &elbv2api.HttpRequestMethodConditionConfig{Values: strs(plain)}
			case "source-ip":
				nc.SourceIpConfig = &elbv2api.SourceIpConditionConfig{Values: strs(plain)}
			}
		case "http-header":
			hc := c.HttpHeaderConfig
			if hc == nil || deref(hc.HttpHeaderName) == "" || len(hc.Values) == 0 {
				return nil, validation("An 'http-header' condition must have an HttpHeaderConfig with a header name and at least one value")
			}
			name := *hc.HttpHeaderName
			if len(name) > 40 || !onlyChars(name, tokenChars) {
				return nil, validation("HTTP header name '%s' is not valid", name)
			}
			if err := count(derefAll(hc.Values)...); err != nil {
				return nil, err
			}
			nc.HttpHeaderConfig = &elbv2api.HttpHeaderConditionConfig{HttpHeaderName: str(name), Values: strs(derefAll(hc.Values))}
		case "query-string":
			qc := c.QueryStringConfig
			if qc == nil || len(qc.Values) == 0 {
				return nil, validation("A 'query-string' condition must have a QueryStringConfig with at least one key/value pair")
			}
			var pairs []*elbv2api.QueryStringKeyValuePair
			for _, p := range qc.Values {
				if deref(p.Value) == "" {
					return nil, validation("Each query-string key/value pair must have a value")
				}
				if err := count(deref(p.Key) + deref(p.Value)); err != nil {
					return nil, err
				}
				pairs = append(pairs, &elbv2api.QueryStringKeyValuePair{Key: p.Key, Value: p.Value})
			}
			nc.QueryStringConfig = &elbv2api.QueryStringConditionConfig{Values: pairs}
		}
		out = append(out, nc)
	}
	if values > maxConditionValues {
		return nil, validation("A rule can only have '%d' condition values", maxConditionValues)
	}
	if wildcards > maxConditionWildcards {
		return nil, validation("A rule can only have '%d' wildcards", maxConditionWildcards)
	}
	return out, nil
}

func checkConditionValue(field, v string) error {
	ok := v != ""
	switch field {
	case "path-pattern":
		ok = ok && onlyChars(v, pathChars)
	case "host-header":
		ok = ok && onlyChars(v, hostChars)
	case "http-request-method":
		ok = ok && len(v) <= 40 && onlyChars(v, methodChars)
	case "source-ip":
		_, err := netip.ParsePrefix(v)
		ok = ok && err == nil
	}
	if !ok {
		return validation("Condition value '%s' is not valid for field '%s'", v, field)
	}
	return nil
}

// listenerRules returns a listener's rules (not the default), by priority.
func listenerRules(tx *store.Tx, sc scope, listenerID string) ([]*ruleRecord, error) {
	all, err := listAll[ruleRecord](tx, sc, kindRule)
	if err != nil {
		return nil, err
	}
	all = slices.DeleteFunc(all, func(r *ruleRecord) bool { return r.ListenerID != listenerID })
	slices.SortFunc(all, func(a, b *ruleRecord) int { return a.priority() - b.priority() })
	return all, nil
}

func defaultRule(sc scope, l *listenerRecord, lb *lbRecord) *elbv2api.Rule {
	return &elbv2api.Rule{
		RuleArn:    str(ruleARN(sc, deref(lb.LoadBalancerName), lb.ID, l.ID, l.DefaultRuleID)),
		Priority:   str("default"),
		Conditions: []*elbv2api.RuleCondition{},
		Actions:    l.DefaultActions,
		IsDefault:  boolp(true),
	}
}

func (s *Service) CreateRule(ctx context.Context, in *elbv2api.CreateRuleInput) (*elbv2api.CreateRuleOutput, error) {
	sc := scopeOf(ctx)
	conds, err := checkConditions(in.Conditions)
	if err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	prio := derefInt(in.Priority)
	var out *elbv2api.Rule
	err = s.store.Update(func(tx *store.Tx) error {
		l, err := loadListener(tx, sc, deref(in.ListenerArn))
		if err != nil {
			return err
		}
		lb, err := lbByID(tx, sc, l.LBID)
		if err != nil {
			return err
		}
		rules, err := listenerRules(tx, sc, l.ID)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(rules, func(r *ruleRecord) bool { return int64(r.priority()) == prio }) {
			return api.Errorf("PriorityInUse", "Priority '%d' is currently in use", prio)
		}
		if n, err := lbRuleCount(tx, sc, l.LBID); err != nil || n >= maxRulesPerLB {
			return cmpErr(err, api.Errorf("TooManyRules", "You've reached the limit on the number of rules per load balancer (%d)", maxRulesPerLB))
		}
		actions, err := checkActions(tx, sc, lb, in.Actions)
		if err != nil {
			return err
		}
		id := newID()
		r := &ruleRecord{ID: id, ListenerID: l.ID, Tags: in.Tags}
		r.Rule = elbv2api.Rule{
			RuleArn:    str(ruleARN(sc, deref(lb.LoadBalancerName), lb.ID, l.ID, id)),
			Priority:   str(strconv.FormatInt(prio, 10)),
			Conditions: conds,
			Actions:    actions,
			IsDefault:  boolp(false),
		}
		out = &r.Rule
		return put(tx, sc, kindRule, id, r)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.CreateRuleOutput{Rules: []*elbv2api.Rule{out}}, nil
}

// lbRuleCount counts the rules (not the default ones) of a load balancer.
func lbRuleCount(tx *store.Tx, sc scope, lbID string) (int, error) {
	listeners, err := lbListeners(tx, sc, lbID)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, l := range listeners {
		rules, err := listenerRules(tx, sc, l.ID)
		if err != nil {
			return 0, err
		}
		n += len(rules)
	}
	return n, nil
}

func (s *Service) DescribeRules(ctx context.Context, in *elbv2api.DescribeRulesInput) (*elbv2api.DescribeRulesOutput, error) {
	sc := scopeOf(ctx)
	if (in.ListenerArn == nil) == (len(in.RuleArns) == 0) {
		return nil, validation("You must specify either listener ARN or rule ARNs")
	}
	var rules []*elbv2api.Rule
	err := s.store.View(func(tx *store.Tx) error {
		if in.ListenerArn != nil {
			l, err := loadListener(tx, sc, *in.ListenerArn)
			if err != nil {
				return err
			}
			recs, err := listenerRules(tx, sc, l.ID)
			if err != nil {
				return err
			}
			for _, r := range recs {
				rules = append(rules, &r.Rule)
			}
			lb, err := lbByID(tx, sc, l.LBID)
			if err != nil {
				return err
			}
			rules = append(rules, defaultRule(sc, l, lb))
			return nil
		}
		for _, a := range in.RuleArns {
			r, err := describeRule(tx, sc, deref(a))
			if err != nil {
				return err
			}
			rules = append(rules, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(rules, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	return &elbv2api.DescribeRulesOutput{Rules: append([]*elbv2api.Rule{}, pg...), NextMarker: next}, nil
}

func describeRule(tx *store.Tx, sc scope, ruleArn string) (*elbv2api.Rule, error) {
	r, l, err := loadRule(tx, sc, ruleArn)
	if err != nil {
		return nil, err
	}
	if r != nil {
		return &r.Rule, nil
	}
	lb, err := lbByID(tx, sc, l.LBID)
	if err != nil {
		return nil, err
	}
	return defaultRule(sc, l, lb), nil
}

func (s *Service) ModifyRule(ctx context.Context, in *elbv2api.ModifyRuleInput) (*elbv2api.ModifyRuleOutput, error) {
	sc := scopeOf(ctx)
	var out *elbv2api.Rule
	err := s.store.Update(func(tx *store.Tx) error {
		r, l, err := loadRule(tx, sc, deref(in.RuleArn))
		if err != nil {
			return err
		}
		lb, err := lbByID(tx, sc, l.LBID)
		if err != nil {
			return err
		}
		var actions []*elbv2api.Action
		if len(in.Actions) > 0 {
			if actions, err = checkActions(tx, sc, lb, in.Actions); err != nil {
				return err
			}
		}
		if r == nil { // the default rule: its actions are the listener's
			if len(in.Conditions) > 0 {
				return api.Errorf("OperationNotPermitted", "The conditions of a default rule cannot be modified")
			}
			if actions != nil {
				l.DefaultActions = actions
			}
			out = defaultRule(sc, l, lb)
			return put(tx, sc, kindListener, l.ID, l)
		}
		if len(in.Conditions) > 0 {
			if r.Conditions, err = checkConditions(in.Conditions); err != nil {
				return err
			}
		}
		if actions != nil {
			r.Actions = actions
		}
		out = &r.Rule
		return put(tx, sc, kindRule, r.ID, r)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.ModifyRuleOutput{Rules: []*elbv2api.Rule{out}}, nil
}

func (s *Service) DeleteRule(ctx context.Context, in *elbv2api.DeleteRuleInput) (*elbv2api.DeleteRuleOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		r, _, err := loadRule(tx, sc, deref(in.RuleArn))
		if err != nil {
			return err
		}
		if r == nil {
			return api.Errorf("OperationNotPermitted", "Default rule '%s' cannot be deleted", deref(in.RuleArn))
		}
		_, err = tx.Delete(sc.key(kindRule, r.ID))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.DeleteRuleOutput{}, nil
}

func (s *Service) SetRulePriorities(ctx context.Context, in *elbv2api.SetRulePrioritiesInput) (*elbv2api.SetRulePrioritiesOutput, error) {
	sc := scopeOf(ctx)
	var out []*elbv2api.Rule
	err := s.store.Update(func(tx *store.Tx) error {
		changed := map[string]*ruleRecord{}
		for _, p := range in.RulePriorities {
			r, _, err := loadRule(tx, sc, deref(p.RuleArn))
			if err != nil {
				return err
			}
			if r == nil {
				return api.Errorf("OperationNotPermitted", "The priority of default rule '%s' cannot be changed", deref(p.RuleArn))
			}
			if c, ok := changed[r.ID]; ok {
				r = c
			}
			r.Priority = str(strconv.FormatInt(derefInt(p.Priority), 10))
			changed[r.ID] = r
		}
		for _, r := range changed {
			rules, err := listenerRules(tx, sc, r.ListenerID)
			if err != nil {
				return err
			}
			for _, o := range rules {
				if c, ok := changed[o.ID]; ok {
					o = c
				}
				if o.ID != r.ID && o.priority() == r.priority() {
					return api.Errorf("PriorityInUse", "Priority '%d' is currently in use", r.priority())
				}
			}
		}
		for _, r := range sortedBy(mapValues(changed), func(r *ruleRecord) string { return deref(r.RuleArn) }) {
			if err := put(tx, sc, kindRule, r.ID, r); err != nil {
				return err
			}
			out = append(out, &r.Rule)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.SetRulePrioritiesOutput{Rules: out}, nil
}

func mapValues[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

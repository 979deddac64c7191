package elbv2

import (
	"regexp"
	"slices"

	"github.com/cloudbox/cloudbox/api"
	elbv2api "github.com/cloudbox/cloudbox/api/elbv2"
	"github.com/cloudbox/cloudbox/store"
)

// maxTargetGroupsPerAction is AWS's quota of target groups in one forward
// action.
const maxTargetGroupsPerAction = 5

var (
	fixedStatus  = regexp.MustCompile(`^[245]\d\d$`)
	contentTypes = []string{"text/plain", "text/css", "text/html", "application/javascript", "application/json"}
)

// actionTargetGroups lists the target groups actions forward to.
func actionTargetGroups(actions []*elbv2api.Action) []string {
	var out []string
	for _, a := range actions {
		if a.ForwardConfig != nil {
			for _, t := range a.ForwardConfig.TargetGroups {
				out = append(out, deref(t.TargetGroupArn))
			}
		} else if a.TargetGroupArn != nil {
			out = append(out, *a.TargetGroupArn)
		}
	}
	return out
}

// checkActions validates the actions of a listener or rule of lb and
// returns them as AWS describes them: ordered, with every default filled
// in (a forward to one group also as a ForwardConfig, a redirect with its
// #{...} placeholders).
func checkActions(tx *store.Tx, sc scope, lb *lbRecord, actions []*elbv2api.Action) ([]*elbv2api.Action, error) {
	if len(actions) == 0 {
		return nil, validation("At least one action must be specified")
	}
	out := make([]*elbv2api.Action, len(actions))
	for i, a := range actions {
		c := *a
		if c.Order == nil {
			c.Order = i64(int64(i + 1))
		}
		out[i] = &c
	}
	slices.SortStableFunc(out, func(a, b *elbv2api.Action) int { return int(*a.Order - *b.Order) })
	u, err := usage(tx, sc)
	if err != nil {
		return nil, err
	}
	for i, a := range out {
		if i > 0 && *a.Order == *out[i-1].Order {
			return nil, validation("Action order '%d' is used by more than one action", *a.Order)
		}
		terminal := true
		switch t := deref(a.Type); t {
		case elbv2api.ActionTypeEnumForward:
			err = checkForward(tx, sc, lb, a, u)
		case elbv2api.ActionTypeEnumRedirect:
			err = checkRedirect(a)
		case elbv2api.ActionTypeEnumFixedResponse:
			err = checkFixedResponse(a)
		default:
			terminal = false
			err = api.Errorf("InvalidLoadBalancerAction", "Action type '%s' is not supported by cloudbox", t)
		}
		if err != nil {
			return nil, err
		}
		if terminal != (i == len(out)-1) {
			return nil, api.Errorf("InvalidLoadBalancerAction", "A forward, redirect or fixed-response action must be the last action, and there can be only one")
		}
	}
	return out, nil
}

func checkForward(tx *store.Tx, sc scope, lb *lbRecord, a *elbv2api.Action, u map[string][]string) error {
	if a.RedirectConfig != nil || a.FixedResponseConfig != nil {
		return validation("A forward action cannot have a redirect or fixed-response configuration")
	}
	fc := &elbv2api.ForwardActionConfig{}
	if a.ForwardConfig != nil {
		fc.TargetGroups = a.ForwardConfig.TargetGroups
		fc.TargetGroupStickinessConfig = a.ForwardConfig.TargetGroupStickinessConfig
	}
	if a.TargetGroupArn != nil {
		if len(fc.TargetGroups) > 1 || len(fc.TargetGroups) == 1 && deref(fc.TargetGroups[0].TargetGroupArn) != *a.TargetGroupArn {
			return validation("You cannot specify both a target group ARN and a forward configuration with other target groups")
		}
		if len(fc.TargetGroups) == 0 {
			fc.TargetGroups = []*elbv2api.TargetGroupTuple{{TargetGroupArn: a.TargetGroupArn}}
		}
	}
	switch n := len(fc.TargetGroups); {
	case n == 0:
		return validation("A forward action must specify a target group")
	case n > maxTargetGroupsPerAction:
		return validation("A forward action can have at most %d target groups", maxTargetGroupsPerAction)
	}
	var seen []string
	tuples := make([]*elbv2api.TargetGroupTuple, 0, len(fc.TargetGroups))
	for _, t := range fc.TargetGroups {
		tgArn := deref(t.TargetGroupArn)
		if slices.Contains(seen, tgArn) {
			return validation("Target group '%s' is specified more than once in a forward action", tgArn)
		}
		seen = append(seen, tgArn)
		tg, err := loadTG(tx, sc, tgArn)
		if err != nil {
			return err
		}
		if deref(tg.VpcId) != deref(lb.VpcId) {
			return invalidConfig("Target group '%s' is in VPC '%s', not in the load balancer's VPC '%s'", tgArn, deref(tg.VpcId), deref(lb.VpcId))
		}
		for _, other := range u[tgArn] {
			if other != *lb.LoadBalancerArn {
				return api.Errorf("TargetGroupAssociationLimit", "The following target groups cannot be associated with more than one load balancer: %s", tgArn)
			}
		}
		w := int64(1)
		if t.Weight != nil {
			w = *t.Weight
		}
		if w < 0 || w > 999 {
			return validation("Target group weight '%d' must be from 0 to 999", w)
		}
		tuples = append(tuples, &elbv2api.TargetGroupTuple{TargetGroupArn: str(tgArn), Weight: i64(w)})
	}
	st := &elbv2api.TargetGroupStickinessConfig{Enabled: boolp(false)}
	if c := fc.TargetGroupStickinessConfig; c != nil && c.Enabled != nil && *c.Enabled {
		d := derefInt(c.DurationSeconds)
		if d < 1 || d > 604800 {
			return validation("Target group stickiness duration must be from 1 to 604800 seconds")
		}
		st = &elbv2api.TargetGroupStickinessConfig{Enabled: boolp(true), DurationSeconds: i64(d)}
	}
	a.ForwardConfig = &elbv2api.ForwardActionConfig{TargetGroups: tuples, TargetGroupStickinessConfig: st}
	a.TargetGroupArn = nil
	if len(tuples) == 1 {
		a.TargetGroupArn = tuples[0].TargetGroupArn
	}
	return nil
}

func checkRedirect(a *elbv2api.Action) error {
	rc := a.RedirectConfig
	if rc == nil || a.TargetGroupArn != nil || a.ForwardConfig != nil || a.FixedResponseConfig != nil {
		return validation("A redirect action must have a redirect configuration, and nothing else")
	}
	c := *rc
	orDefault := func(p **string, def string) {
		if deref(*p) == "" {
			*p = str(def)
		}
	}
	orDefault(&c.Protocol, "#{protocol}")
	orDefault(&c.Host, "#{host}")
	orDefault(&c.Port, "#{port}")
	orDefault(&c.Path, "/#{path}")
	if c.Query == nil {
		c.Query = str("#{query}")
	}
	switch *c.Protocol {
	case "HTTP", "HTTPS", "#{protocol}":
	default:
		return validation("Redirect protocol '%s' must be HTTP, HTTPS or #{protocol}", *c.Protocol)
	}
	if p := *c.Port; p != "#{port}" {
		if n, err := parsePort(p); err != nil || n < 1 || n > 65535 {
			return validation("Redirect port '%s' must be #{port} or a port from 1 to 65535", p)
		}
	}
	if (*c.Path)[0] != '/' {
		return validation("Redirect path '%s' must begin with '/'", *c.Path)
	}
	if *c.Protocol == "#{protocol}" && *c.Host == "#{host}" && *c.Port == "#{port}" && *c.Path == "/#{path}" && *c.Query == "#{query}" {
		return api.Errorf("InvalidLoadBalancerAction", "The redirect action would redirect a request to itself: change at least one of protocol, host, port, path or query")
	}
	a.RedirectConfig = &c
	return nil
}

func checkFixedResponse(a *elbv2api.Action) error {
	fr := a.FixedResponseConfig
	if fr == nil || a.TargetGroupArn != nil || a.ForwardConfig != nil || a.RedirectConfig != nil {
		return validation("A fixed-response action must have a fixed-response configuration, and nothing else")
	}
	if !fixedStatus.MatchString(deref(fr.StatusCode)) {
		return validation("Fixed response status code '%s' must be a 2XX, 4XX or 5XX code", deref(fr.StatusCode))
	}
	if ct := fr.ContentType; ct != nil && !slices.Contains(contentTypes, *ct) {
		return validation("Fixed response content type '%s' must be one of text/plain, text/css, text/html, application/javascript or application/json", *ct)
	}
	if len(deref(fr.MessageBody)) > 1024 {
		return validation("Fixed response message body can be at most 1024 characters")
	}
	return nil
}

package elbv2

import (
	"context"
	"slices"
	"strconv"
	"strings"

	elbv2api "github.com/cloudbox/cloudbox/api/elbv2"
	"github.com/cloudbox/cloudbox/store"
)

// attr is one attribute key with its default and what values it takes.
type attr struct {
	key, def string
	valid    func(string) bool
	// want describes the valid values, for the error.
	want string
}

func boolAttr(key, def string) attr {
	return attr{key, def, func(v string) bool { return v == "true" || v == "false" }, "true or false"}
}

func intAttr(key, def string, lo, hi int) attr {
	return attr{key, def, func(v string) bool {
		n, err := strconv.Atoi(v)
		return err == nil && n >= lo && n <= hi
	}, "an integer from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi)}
}

func enumAttr(key, def string, values ...string) attr {
	return attr{key, def, func(v string) bool { return slices.Contains(values, v) }, "one of " + strings.Join(values, ", ")}
}

func strAttr(key string) attr {
	return attr{key, "", func(v string) bool { return len(v) <= 1024 }, "at most 1024 characters"}
}

// lbAttrs are an Application Load Balancer's attributes, in the order
// DescribeLoadBalancerAttributes lists them.
var lbAttrs = []attr{
	boolAttr("access_logs.s3.enabled", "false"),
	strAttr("access_logs.s3.bucket"),
	strAttr("access_logs.s3.prefix"),
	boolAttr("connection_logs.s3.enabled", "false"),
	strAttr("connection_logs.s3.bucket"),
	strAttr("connection_logs.s3.prefix"),
	boolAttr("deletion_protection.enabled", "false"),
	intAttr("idle_timeout.timeout_seconds", "60", 1, 4000),
	intAttr("client_keep_alive.seconds", "3600", 60, 604800),
	enumAttr("routing.http.desync_mitigation_mode", "defensive", "monitor", "defensive", "strictest"),
	boolAttr("routing.http.drop_invalid_header_fields.enabled", "false"),
	boolAttr("routing.http.preserve_host_header.enabled", "false"),
	boolAttr("routing.http.x_amzn_tls_version_and_cipher_suite.enabled", "false"),
	boolAttr("routing.http.xff_client_port.enabled", "false"),
	enumAttr("routing.http.xff_header_processing.mode", "append", "append", "preserve", "remove"),
	boolAttr("routing.http2.enabled", "true"),
	boolAttr("waf.fail_open.enabled", "false"),
	boolAttr("zonal_shift.config.enabled", "false"),
}

// tgAttrs are the attributes of an HTTP(S) target group of instances or
// IP addresses.
var tgAttrs = []attr{
	intAttr("deregistration_delay.timeout_seconds", "300", 0, 3600),
	boolAttr("stickiness.enabled", "false"),
	enumAttr("stickiness.type", "lb_cookie", "lb_cookie", "app_cookie"),
	intAttr("stickiness.lb_cookie.duration_seconds", "86400", 1, 604800),
	{"stickiness.app_cookie.cookie_name", "", validCookieName, "a cookie name of at most 256 characters that does not start with AWSALB, AWSALBAPP or AWSALBTG"},
	intAttr("stickiness.app_cookie.duration_seconds", "86400", 1, 604800),
	{"slow_start.duration_seconds", "0", func(v string) bool {
		n, err := strconv.Atoi(v)
		return err == nil && (n == 0 || n >= 30 && n <= 900)
	}, "0, or an integer from 30 to 900"},
	enumAttr("load_balancing.algorithm.type", "round_robin", "round_robin", "least_outstanding_requests", "weighted_random"),
	enumAttr("load_balancing.algorithm.anomaly_mitigation", "off", "on", "off"),
	enumAttr("load_balancing.cross_zone.enabled", "use_load_balancer_configuration", "true", "false", "use_load_balancer_configuration"),
	intAttr("target_group_health.dns_failover.minimum_healthy_targets.count", "1", 1, 1000000),
	{"target_group_health.dns_failover.minimum_healthy_targets.percentage", "off", percentOrOff, "off or an integer from 1 to 100"},
	intAttr("target_group_health.unhealthy_state_routing.minimum_healthy_targets.count", "1", 1, 1000000),
	{"target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage", "off", percentOrOff, "off or an integer from 1 to 100"},
}

func validCookieName(v string) bool {
	return len(v) <= 256 && !strings.HasPrefix(v, "AWSALB")
}

func percentOrOff(v string) bool {
	n, err := strconv.Atoi(v)
	return v == "off" || err == nil && n >= 1 && n <= 100
}

func defaults(specs []attr) map[string]string {
	m := make(map[string]string, len(specs))
	for _, a := range specs {
		m[a.key] = a.def
	}
	return m
}

func lbAttrDefaults() map[string]string { return defaults(lbAttrs) }
func tgAttrDefaults() map[string]string { return defaults(tgAttrs) }

// applyAttrs checks key/value pairs against specs and sets them in m; what
// names the resource in errors.
func applyAttrs(what string, specs []attr, m map[string]string, kv [][2]string) error {
	for _, p := range kv {
		i := slices.IndexFunc(specs, func(a attr) bool { return a.key == p[0] })
		if i < 0 {
			return validation("%s attribute key '%s' is not recognized", what, p[0])
		}
		if !specs[i].valid(p[1]) {
			return validation("%s attribute '%s' value '%s' is not valid: it must be %s", what, p[0], p[1], specs[i].want)
		}
		m[p[0]] = p[1]
	}
	return nil
}

func (s *Service) DescribeLoadBalancerAttributes(ctx context.Context, in *elbv2api.DescribeLoadBalancerAttributesInput) (*elbv2api.DescribeLoadBalancerAttributesOutput, error) {
	sc := scopeOf(ctx)
	var out []*elbv2api.LoadBalancerAttribute
	err := s.store.View(func(tx *store.Tx) error {
		r, err := loadLB(tx, sc, deref(in.LoadBalancerArn))
		if err != nil {
			return err
		}
		out = lbAttrList(r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.DescribeLoadBalancerAttributesOutput{Attributes: out}, nil
}

func lbAttrList(r *lbRecord) []*elbv2api.LoadBalancerAttribute {
	out := make([]*elbv2api.LoadBalancerAttribute, 0, len(lbAttrs))
	for _, a := range lbAttrs {
		out = append(out, &elbv2api.LoadBalancerAttribute{Key: str(a.key), Value: str(r.Attributes[a.key])})
	}
	return out
}

func (s *Service) ModifyLoadBalancerAttributes(ctx context.Context, in *elbv2api.ModifyLoadBalancerAttributesInput) (*elbv2api.ModifyLoadBalancerAttributesOutput, error) {
	sc := scopeOf(ctx)
	var kv [][2]string
	for _, a := range in.Attributes {
		kv = append(kv, [2]string{deref(a.Key), deref(a.Value)})
	}
	var out []*elbv2api.LoadBalancerAttribute
	err := s.store.Update(func(tx *store.Tx) error {
		r, err := loadLB(tx, sc, deref(in.LoadBalancerArn))
		if err != nil {
			return err
		}
		if err := applyAttrs("Load balancer", lbAttrs, r.Attributes, kv); err != nil {
			return err
		}
		out = lbAttrList(r)
		return put(tx, sc, kindLB, r.ID, r)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.ModifyLoadBalancerAttributesOutput{Attributes: out}, nil
}

func tgAttrList(r *tgRecord) []*elbv2api.TargetGroupAttribute {
	out := make([]*elbv2api.TargetGroupAttribute, 0, len(tgAttrs))
	for _, a := range tgAttrs {
		out = append(out, &elbv2api.TargetGroupAttribute{Key: str(a.key), Value: str(r.Attributes[a.key])})
	}
	return out
}

func (s *Service) DescribeTargetGroupAttributes(ctx context.Context, in *elbv2api.DescribeTargetGroupAttributesInput) (*elbv2api.DescribeTargetGroupAttributesOutput, error) {
	sc := scopeOf(ctx)
	var out []*elbv2api.TargetGroupAttribute
	err := s.store.View(func(tx *store.Tx) error {
		r, err := loadTG(tx, sc, deref(in.TargetGroupArn))
		if err != nil {
			return err
		}
		out = tgAttrList(r)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.DescribeTargetGroupAttributesOutput{Attributes: out}, nil
}

func (s *Service) ModifyTargetGroupAttributes(ctx context.Context, in *elbv2api.ModifyTargetGroupAttributesInput) (*elbv2api.ModifyTargetGroupAttributesOutput, error) {
	sc := scopeOf(ctx)
	var kv [][2]string
	for _, a := range in.Attributes {
		kv = append(kv, [2]string{deref(a.Key), deref(a.Value)})
	}
	var out []*elbv2api.TargetGroupAttribute
	err := s.store.Update(func(tx *store.Tx) error {
		r, err := loadTG(tx, sc, deref(in.TargetGroupArn))
		if err != nil {
			return err
		}
		if err := applyAttrs("Target group", tgAttrs, r.Attributes, kv); err != nil {
			return err
		}
		if r.Attributes["stickiness.enabled"] == "true" && r.Attributes["stickiness.type"] == "app_cookie" && r.Attributes["stickiness.app_cookie.cookie_name"] == "" {
			return validation("Target group attribute 'stickiness.app_cookie.cookie_name' must be set for app_cookie stickiness")
		}
		out = tgAttrList(r)
		return put(tx, sc, kindTG, r.ID, r)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.ModifyTargetGroupAttributesOutput{Attributes: out}, nil
}

package elbv2

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	elbv2api "github.com/cloudbox/cloudbox/api/elbv2"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/store"
)

func (s *Service) registerTargetGroups(h *elbv2api.Handlers) {
	h.CreateTargetGroup = s.CreateTargetGroup
	h.DescribeTargetGroups = s.DescribeTargetGroups
	h.ModifyTargetGroup = s.ModifyTargetGroup
	h.DeleteTargetGroup = s.DeleteTargetGroup
	h.DescribeTargetGroupAttributes = s.DescribeTargetGroupAttributes
	h.ModifyTargetGroupAttributes = s.ModifyTargetGroupAttributes
	h.RegisterTargets = s.RegisterTargets
	h.DeregisterTargets = s.DeregisterTargets
	h.DescribeTargetHealth = s.DescribeTargetHealth
}

// AWS's default quotas.
const (
	maxTargetGroups      = 3000
	maxTargetsPerGroup   = 1000
	maxTargetGroupsPerLB = 100
)

// protocols is the model's ProtocolEnum, in its order.
var protocols = []string{elbv2api.ProtocolEnumHTTP, elbv2api.ProtocolEnumHTTPS, elbv2api.ProtocolEnumTCP, elbv2api.ProtocolEnumTLS,
	elbv2api.ProtocolEnumUDP, elbv2api.ProtocolEnumTCPUDP, elbv2api.ProtocolEnumGENEVE}

// checkProtocol accepts the protocols of Application Load Balancers. A
// value outside the model's enum is AWS's ValidationError on field; a
// protocol of other load balancer kinds is refused as unsupported here.
func checkProtocol(field, p string) error {
	if !slices.Contains(protocols, p) {
		return validation("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy enum value set: [%s]", p, field, strings.Join(protocols, ", "))
	}
	if p != elbv2api.ProtocolEnumHTTP && p != elbv2api.ProtocolEnumHTTPS {
		return api.Errorf("UnsupportedProtocol", "Protocol '%s' is not supported: cloudbox supports application load balancers, whose protocols are HTTP and HTTPS", p)
	}
	return nil
}

// healthCheck is the part of CreateTargetGroup and ModifyTargetGroup that
// sets the health check.
type healthCheck struct {
	Enabled              *bool
	Protocol, Port, Path *string
	Interval, Timeout    *int64
	Healthy, Unhealthy   *int64
	Matcher              *elbv2api.Matcher
}

// applyHealthCheck sets the given health check settings on tg and checks
// the result.
func applyHealthCheck(tg *elbv2api.TargetGroup, hc healthCheck) error {
	if hc.Enabled != nil {
		tg.HealthCheckEnabled = hc.Enabled
	}
	if hc.Protocol != nil {
		if err := checkProtocol("healthCheckProtocol", *hc.Protocol); err != nil {
			return err
		}
		tg.HealthCheckProtocol = hc.Protocol
	}
	if hc.Port != nil {
		if p := *hc.Port; p != "traffic-port" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				return validation("Health check port '%s' must be 'traffic-port' or a port from 1 to 65535", p)
			}
		}
		tg.HealthCheckPort = hc.Port
	}
	if hc.Path != nil {
		if !strings.HasPrefix(*hc.Path, "/") {
			return validation("Health check path '%s' must begin with '/'", *hc.Path)
		}
		tg.HealthCheckPath = hc.Path
	}
	for _, set := range []struct {
		dst **int64
		src *int64
	}{{&tg.HealthCheckIntervalSeconds, hc.Interval}, {&tg.HealthCheckTimeoutSeconds, hc.Timeout}, {&tg.HealthyThresholdCount, hc.Healthy}, {&tg.UnhealthyThresholdCount, hc.Unhealthy}} {
		if set.src != nil {
			*set.dst = set.src
		}
	}
	if *tg.HealthCheckTimeoutSeconds >= *tg.HealthCheckIntervalSeconds {
		return validation("Health check timeout '%d' must be smaller than the interval '%d'", *tg.HealthCheckTimeoutSeconds, *tg.HealthCheckIntervalSeconds)
	}
	if m := hc.Matcher; m != nil {
		if m.GrpcCode != nil {
			return validation("A gRPC matcher is only valid for target groups whose protocol version is GRPC")
		}
		if err := checkMatcher(deref(m.HttpCode)); err != nil {
			return err
		}
		tg.Matcher = &elbv2api.Matcher{HttpCode: m.HttpCode}
	}
	return nil
}

// checkMatcher accepts AWS's HttpCode forms: "200", "200,202", "200-299",
// codes from 200 to 499.
func checkMatcher(m string) error {
	bad := validation("Health check matcher HTTP code '%s' must be codes or ranges of codes from 200 to 499, such as '200', '200,202' or '200-299'", m)
	if m == "" {
		return bad
	}
	code := func(s string) (int, bool) {
		n, err := strconv.Atoi(s)
		return n, err == nil && n >= 200 && n <= 499
	}
	for part := range strings.SplitSeq(m, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, ok := code(lo)
		if !ok {
			return bad
		}
		if isRange {
			if b, ok := code(hi); !ok || b < a {
				return bad
			}
		}
	}
	return nil
}

func (s *Service) CreateTargetGroup(ctx context.Context, in *elbv2api.CreateTargetGroupInput) (*elbv2api.CreateTargetGroupOutput, error) {
	sc := scopeOf(ctx)
	name := deref(in.Name)
	if err := checkName("Target group", name); err != nil {
		return nil, err
	}
	typ := deref(in.TargetType)
	if typ == "" {
		typ = elbv2api.TargetTypeEnumInstance
	}
	if typ != elbv2api.TargetTypeEnumInstance && typ != elbv2api.TargetTypeEnumIp {
		return nil, validation("Target type '%s' is not supported: cloudbox target groups take instance or ip targets", typ)
	}
	if in.Protocol == nil {
		return nil, validation("A protocol must be specified")
	}
	if err := checkProtocol("protocol", *in.Protocol); err != nil {
		return nil, err
	}
	if in.Port == nil {
		return nil, validation("A port must be specified")
	}
	if deref(in.VpcId) == "" {
		return nil, validation("A VPC ID must be specified")
	}
	if v := deref(in.ProtocolVersion); v != "" && v != "HTTP1" {
		return nil, validation("Protocol version '%s' is not supported: cloudbox target groups speak HTTP1", v)
	}
	if t := deref(in.IpAddressType); t != "" && t != elbv2api.TargetGroupIpAddressTypeEnumIpv4 {
		return nil, validation("IP address type '%s' is not supported: cloudbox target groups are ipv4", t)
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	tg := elbv2api.TargetGroup{
		TargetGroupName:            str(name),
		Protocol:                   in.Protocol,
		ProtocolVersion:            str("HTTP1"),
		Port:                       in.Port,
		VpcId:                      in.VpcId,
		TargetType:                 str(typ),
		IpAddressType:              str(elbv2api.TargetGroupIpAddressTypeEnumIpv4),
		HealthCheckEnabled:         boolp(true),
		HealthCheckProtocol:        in.Protocol,
		HealthCheckPort:            str("traffic-port"),
		HealthCheckPath:            str("/"),
		HealthCheckIntervalSeconds: i64(30),
		HealthCheckTimeoutSeconds:  i64(5),
		HealthyThresholdCount:      i64(5),
		UnhealthyThresholdCount:    i64(2),
		Matcher:                    &elbv2api.Matcher{HttpCode: str("200")},
	}
	err := applyHealthCheck(&tg, healthCheck{in.HealthCheckEnabled, in.HealthCheckProtocol, in.HealthCheckPort, in.HealthCheckPath,
		in.HealthCheckIntervalSeconds, in.HealthCheckTimeoutSeconds, in.HealthyThresholdCount, in.UnhealthyThresholdCount, in.Matcher})
	if err != nil {
		return nil, err
	}
	var out *elbv2api.TargetGroup
	err = s.store.Update(func(tx *store.Tx) error {
		ok, err := ec2.VPCExists(tx, sc.account, sc.region, *in.VpcId)
		if err != nil {
			return err
		}
		if !ok {
			return validation("The VPC ID '%s' is not found", *in.VpcId)
		}
		all, err := listAll[tgRecord](tx, sc, kindTG)
		if err != nil {
			return err
		}
		for _, r := range all {
			if deref(r.TargetGroupName) != name {
				continue
			}
			// The same request again answers the same group.
			prev := r.TargetGroup
			tg.TargetGroupArn = prev.TargetGroupArn
			if fmt.Sprint(derefTG(prev)) == fmt.Sprint(derefTG(tg)) {
				out, err = s.tgOutput(tx, sc, r)
				return err
			}
			return api.Errorf("DuplicateTargetGroupName", "A target group with the same name '%s' exists, but with different settings", name)
		}
		if len(all) >= maxTargetGroups {
			return api.Errorf("TooManyTargetGroups", "The maximum number of target groups (%d) has been reached", maxTargetGroups)
		}
		id := newID()
		tg.TargetGroupArn = str(tgARN(sc, name, id))
		r := &tgRecord{TargetGroup: tg, ID: id, Attributes: tgAttrDefaults(), Tags: in.Tags}
		if out, err = s.tgOutput(tx, sc, r); err != nil {
			return err
		}
		return put(tx, sc, kindTG, id, r)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.CreateTargetGroupOutput{TargetGroups: []*elbv2api.TargetGroup{out}}, nil
}

// derefTG is a group's settings as comparable values.
func derefTG(tg elbv2api.TargetGroup) []any {
	return []any{deref(tg.TargetGroupArn), deref(tg.Protocol), derefInt(tg.Port), deref(tg.VpcId), deref(tg.TargetType),
		*tg.HealthCheckEnabled, deref(tg.HealthCheckProtocol), deref(tg.HealthCheckPort), deref(tg.HealthCheckPath),
		derefInt(tg.HealthCheckIntervalSeconds), derefInt(tg.HealthCheckTimeoutSeconds), derefInt(tg.HealthyThresholdCount),
		derefInt(tg.UnhealthyThresholdCount), deref(tg.Matcher.HttpCode)}
}

// usage maps each target group ARN to the ARNs of the load balancers
// whose listeners or rules forward to it.
func usage(tx *store.Tx, sc scope) (map[string][]string, error) {
	listeners, err := listAll[listenerRecord](tx, sc, kindListener)
	if err != nil {
		return nil, err
	}
	rules, err := listAll[ruleRecord](tx, sc, kindRule)
	if err != nil {
		return nil, err
	}
	lbOf := map[string]string{}
	out := map[string][]string{}
	add := func(lb string, actions []*elbv2api.Action) {
		for _, tg := range actionTargetGroups(actions) {
			if !slices.Contains(out[tg], lb) {
				out[tg] = append(out[tg], lb)
			}
		}
	}
	for _, l := range listeners {
		lbOf[l.ID] = deref(l.LoadBalancerArn)
		add(lbOf[l.ID], l.DefaultActions)
	}
	for _, r := range rules {
		add(lbOf[r.ListenerID], r.Actions)
	}
	return out, nil
}

func (s *Service) tgOutput(tx *store.Tx, sc scope, r *tgRecord) (*elbv2api.TargetGroup, error) {
	u, err := usage(tx, sc)
	if err != nil {
		return nil, err
	}
	out := r.TargetGroup
	out.LoadBalancerArns = strs(u[*r.TargetGroupArn])
	return &out, nil
}

func (s *Service) DescribeTargetGroups(ctx context.Context, in *elbv2api.DescribeTargetGroupsInput) (*elbv2api.DescribeTargetGroupsOutput, error) {
	sc := scopeOf(ctx)
	n := 0
	for _, set := range []bool{in.LoadBalancerArn != nil, len(in.Names) > 0, len(in.TargetGroupArns) > 0} {
		if set {
			n++
		}
	}
	if n > 1 {
		return nil, validation("Only one of load balancer ARN, target group names or target group ARNs can be specified")
	}
	var tgs []*elbv2api.TargetGroup
	err := s.store.View(func(tx *store.Tx) error {
		u, err := usage(tx, sc)
		if err != nil {
			return err
		}
		all, err := listAll[tgRecord](tx, sc, kindTG)
		if err != nil {
			return err
		}
		all = sortedBy(all, func(r *tgRecord) string { return deref(r.TargetGroupName) })
		var recs []*tgRecord
		switch {
		case len(in.TargetGroupArns) > 0:
			for _, a := range in.TargetGroupArns {
				r, err := loadTG(tx, sc, deref(a))
				if err != nil {
					return err
				}
				recs = append(recs, r)
			}
		case len(in.Names) > 0:
			for _, name := range in.Names {
				i := slices.IndexFunc(all, func(r *tgRecord) bool { return deref(r.TargetGroupName) == deref(name) })
				if i < 0 {
					return api.Errorf("TargetGroupNotFound", "One or more target groups not found")
				}
				recs = append(recs, all[i])
			}
		case in.LoadBalancerArn != nil:
			lb, err := loadLB(tx, sc, *in.LoadBalancerArn)
			if err != nil {
				return err
			}
			for _, r := range all {
				if slices.Contains(u[*r.TargetGroupArn], *lb.LoadBalancerArn) {
					recs = append(recs, r)
				}
			}
		default:
			recs = all
		}
		for _, r := range recs {
			tg := r.TargetGroup
			tg.LoadBalancerArns = strs(u[*r.TargetGroupArn])
			tgs = append(tgs, &tg)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(tgs, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	return &elbv2api.DescribeTargetGroupsOutput{TargetGroups: append([]*elbv2api.TargetGroup{}, pg...), NextMarker: next}, nil
}

func (s *Service) ModifyTargetGroup(ctx context.Context, in *elbv2api.ModifyTargetGroupInput) (*elbv2api.ModifyTargetGroupOutput, error) {
	sc := scopeOf(ctx)
	var out *elbv2api.TargetGroup
	err := s.store.Update(func(tx *store.Tx) error {
		r, err := loadTG(tx, sc, deref(in.TargetGroupArn))
		if err != nil {
			return err
		}
		err = applyHealthCheck(&r.TargetGroup, healthCheck{in.HealthCheckEnabled, in.HealthCheckProtocol, in.HealthCheckPort, in.HealthCheckPath,
			in.HealthCheckIntervalSeconds, in.HealthCheckTimeoutSeconds, in.HealthyThresholdCount, in.UnhealthyThresholdCount, in.Matcher})
		if err != nil {
			return err
		}
		if out, err = s.tgOutput(tx, sc, r); err != nil {
			return err
		}
		return put(tx, sc, kindTG, r.ID, r)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.ModifyTargetGroupOutput{TargetGroups: []*elbv2api.TargetGroup{out}}, nil
}

func (s *Service) DeleteTargetGroup(ctx context.Context, in *elbv2api.DeleteTargetGroupInput) (*elbv2api.DeleteTargetGroupOutput, error) {
	sc := scopeOf(ctx)
	var gone string
	err := s.store.Update(func(tx *store.Tx) error {
		r, err := loadTG(tx, sc, deref(in.TargetGroupArn))
		if err != nil {
			// Deleting a group that is already gone succeeds.
			if api.As(err).Code == "TargetGroupNotFound" {
				return nil
			}
			return err
		}
		u, err := usage(tx, sc)
		if err != nil {
			return err
		}
		if len(u[*r.TargetGroupArn]) > 0 {
			return api.Errorf("ResourceInUse", "Target group '%s' is currently in use by a listener or a rule", *r.TargetGroupArn)
		}
		gone = *r.TargetGroupArn
		_, err = tx.Delete(sc.key(kindTG, r.ID))
		return err
	})
	if err != nil {
		return nil, err
	}
	if gone != "" {
		s.forgetHealth(func(k healthKey) bool { return k.group == gone })
	}
	return &elbv2api.DeleteTargetGroupOutput{}, nil
}

// targetPort is a registration's port: the override, or the group's.
func targetPort(tg *tgRecord, d *elbv2api.TargetDescription) int64 {
	if d.Port != nil {
		return *d.Port
	}
	return derefInt(tg.Port)
}

func findTarget(tg *tgRecord, id string, port int64) *target {
	for _, t := range tg.Targets {
		if t.ID == id && t.Port == port {
			return t
		}
	}
	return nil
}

// resolvedTarget is what a target id stands for: its address and zone.
type resolvedTarget struct {
	ip, az string
}

// checkTarget checks that a target can be registered in tg.
func checkTarget(tx *store.Tx, sc scope, tg *tgRecord, d *elbv2api.TargetDescription) error {
	id := deref(d.Id)
	if deref(tg.TargetType) == elbv2api.TargetTypeEnumInstance {
		in, ok, err := ec2.LookupInstance(tx, sc.account, sc.region, id)
		switch {
		case err != nil:
			return err
		case !ok:
			return api.Errorf("InvalidTarget", "The following targets are not valid instances: '%s'", id)
		case in.VPC != deref(tg.VpcId):
			return api.Errorf("InvalidTarget", "The following targets are not in the target group VPC '%s': '%s'", deref(tg.VpcId), id)
		case in.State != "pending" && in.State != "running":
			return api.Errorf("InvalidTarget", "The following targets are not in a running state and cannot be registered: '%s'", id)
		}
		return nil
	}
	_, err := resolveIP(tx, sc, tg, id, deref(d.AvailabilityZone))
	return err
}

// resolveIP finds the subnet of an ip target in the group's VPC. A private
// address outside the VPC is accepted with AvailabilityZone "all".
func resolveIP(tx *store.Tx, sc scope, tg *tgRecord, id, az string) (resolvedTarget, error) {
	ip, err := parseIPv4(id)
	if err != nil {
		return resolvedTarget{}, validation("The IP address '%s' is not a valid IPv4 address", id)
	}
	var found resolvedTarget
	err = tx.List(sc.account, sc.region, "ec2:subnet", func(sid string, _ []byte) error {
		sn, ok, err := ec2.LookupSubnet(tx, sc.account, sc.region, sid)
		if err != nil || !ok || sn.VPC != deref(tg.VpcId) || !sn.CIDR.Contains(ip) {
			return err
		}
		found = resolvedTarget{ip: id, az: sn.AZ}
		return store.ErrStop
	})
	if err != nil && err != store.ErrStop {
		return resolvedTarget{}, err
	}
	if found.ip != "" {
		if az != "" && az != found.az && az != "all" {
			return resolvedTarget{}, validation("The Availability Zone '%s' does not match the Availability Zone '%s' of target '%s'", az, found.az, id)
		}
		return found, nil
	}
	if az == "all" && ip.IsPrivate() {
		return resolvedTarget{ip: id, az: "all"}, nil
	}
	return resolvedTarget{}, api.Errorf("InvalidTarget", "The IP address '%s' is not within a subnet of the target group VPC '%s'", id, deref(tg.VpcId))
}

func (s *Service) RegisterTargets(ctx context.Context, in *elbv2api.RegisterTargetsInput) (*elbv2api.RegisterTargetsOutput, error) {
	sc := scopeOf(ctx)
	if len(in.Targets) == 0 {
		return nil, validation("At least one target must be specified")
	}
	err := s.store.Update(func(tx *store.Tx) error {
		tg, err := loadTG(tx, sc, deref(in.TargetGroupArn))
		if err != nil {
			return err
		}
		now := s.now().UTC()
		for _, d := range in.Targets {
			if err := checkTarget(tx, sc, tg, d); err != nil {
				return err
			}
			port := targetPort(tg, d)
			if t := findTarget(tg, *d.Id, port); t != nil {
				if t.draining() {
					t.DrainUntil, t.RegisteredAt = time.Time{}, now
				}
				continue
			}
			if len(tg.Targets) >= maxTargetsPerGroup {
				return api.Errorf("TooManyTargets", "You cannot register more than %d targets in a target group", maxTargetsPerGroup)
			}
			tg.Targets = append(tg.Targets, &target{ID: *d.Id, Port: port, AZ: deref(d.AvailabilityZone), RegisteredAt: now})
		}
		return put(tx, sc, kindTG, tg.ID, tg)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.RegisterTargetsOutput{}, nil
}

func (s *Service) DeregisterTargets(ctx context.Context, in *elbv2api.DeregisterTargetsInput) (*elbv2api.DeregisterTargetsOutput, error) {
	sc := scopeOf(ctx)
	if len(in.Targets) == 0 {
		return nil, validation("At least one target must be specified")
	}
	err := s.store.Update(func(tx *store.Tx) error {
		tg, err := loadTG(tx, sc, deref(in.TargetGroupArn))
		if err != nil {
			return err
		}
		u, err := usage(tx, sc)
		if err != nil {
			return err
		}
		delay, _ := strconv.Atoi(tg.Attributes["deregistration_delay.timeout_seconds"])
		until := s.now().UTC().Add(time.Duration(delay) * time.Second)
		for _, d := range in.Targets {
			t := findTarget(tg, deref(d.Id), targetPort(tg, d))
			if t == nil {
				return api.Errorf("InvalidTarget", "The following targets are not registered in target group '%s': '%s'", *tg.TargetGroupArn, deref(d.Id))
			}
			if t.draining() {
				continue
			}
			t.DrainUntil = until
			if delay == 0 || len(u[*tg.TargetGroupArn]) == 0 {
				// Nothing to drain: the target goes at once.
				tg.Targets = slices.DeleteFunc(tg.Targets, func(x *target) bool { return x == t })
			}
		}
		return put(tx, sc, kindTG, tg.ID, tg)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.DeregisterTargetsOutput{}, nil
}

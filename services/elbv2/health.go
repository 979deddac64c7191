package elbv2

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	elbv2api "github.com/cloudbox/cloudbox/api/elbv2"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// dataPlaneOffHealthyAfter is how long a registered target stays initial
// when no data plane checks it.
const dataPlaneOffHealthyAfter = 2 * time.Second

// registrationTime is how long a registration is "in progress" before the
// first health checks, with a data plane.
const registrationTime = time.Second

// healthKey names one registration of one target group.
type healthKey struct {
	account, region, group, id string
	port                       int64
}

// healthReport is the data plane's last conclusion about a target. Reports
// live in memory: after a restart the data plane checks again.
type healthReport struct {
	at          time.Time
	healthy     bool
	reason      string
	description string
}

// ReportHealth records what the data plane's health checks concluded for
// one target of a group: healthy, or not with a reason code
// (Target.ResponseCodeMismatch, Target.Timeout, Target.FailedHealthChecks)
// and a description. DescribeTargetHealth combines it with what the
// control plane knows. It fails for a group that does not exist.
func (s *Service) ReportHealth(account, region, targetGroupARN, targetID string, port int, healthy bool, reason, description string) error {
	sc := scope{account: account, region: region}
	err := s.store.View(func(tx *store.Tx) error {
		_, err := loadTG(tx, sc, targetGroupARN)
		return err
	})
	if err != nil {
		return err
	}
	if !healthy && reason == "" {
		reason, description = elbv2api.TargetHealthReasonEnumTargetFailedHealthChecks, "Health checks failed"
	}
	k := healthKey{account, region, targetGroupARN, targetID, int64(port)}
	s.healthMu.Lock()
	prev, seen := s.health[k]
	s.health[k] = healthReport{at: s.now(), healthy: healthy, reason: reason, description: description}
	s.healthMu.Unlock()
	if !seen || prev.healthy != healthy {
		s.log.Info("elbv2 target health", "account", account, "region", region, "target_group", targetGroupARN,
			"target", targetID, "port", port, "healthy", healthy, "reason", reason, "description", description)
	}
	return nil
}

func (s *Service) report(k healthKey) (healthReport, bool) {
	s.healthMu.Lock()
	defer s.healthMu.Unlock()
	r, ok := s.health[k]
	return r, ok
}

// forgetHealth drops the reports of registrations that are gone.
func (s *Service) forgetHealth(gone func(healthKey) bool) {
	s.healthMu.Lock()
	defer s.healthMu.Unlock()
	for k := range s.health {
		if gone(k) {
			delete(s.health, k)
		}
	}
}

func targetHealth(state, reason, description string) *elbv2api.TargetHealth {
	h := &elbv2api.TargetHealth{State: str(state)}
	if reason != "" {
		h.Reason, h.Description = str(reason), str(description)
	}
	return h
}

// health is a registration's state as DescribeTargetHealth tells it; t is
// nil for a target that is not registered.
func (s *Service) targetHealth(tx *store.Tx, sc scope, tg *tgRecord, t *target, inUse bool, now time.Time) (*elbv2api.TargetHealth, error) {
	switch {
	case t == nil:
		return targetHealth(elbv2api.TargetHealthStateEnumUnused, elbv2api.TargetHealthReasonEnumTargetNotRegistered, "Target is not registered to the target group"), nil
	case t.draining():
		return targetHealth(elbv2api.TargetHealthStateEnumDraining, elbv2api.TargetHealthReasonEnumTargetDeregistrationInProgress, "Target deregistration is in progress"), nil
	case !inUse:
		return targetHealth(elbv2api.TargetHealthStateEnumUnused, elbv2api.TargetHealthReasonEnumTargetNotInUse, "Target group is not configured to receive traffic from the load balancer"), nil
	}
	if deref(tg.TargetType) == elbv2api.TargetTypeEnumInstance {
		in, ok, err := ec2.LookupInstance(tx, sc.account, sc.region, t.ID)
		if err != nil {
			return nil, err
		}
		state := "terminated"
		if ok {
			state = in.State
		}
		if state != "running" && state != "pending" {
			return targetHealth(elbv2api.TargetHealthStateEnumUnused, elbv2api.TargetHealthReasonEnumTargetInvalidState, fmt.Sprintf("Target is in the %s state", state)), nil
		}
		if state == "pending" {
			return targetHealth(elbv2api.TargetHealthStateEnumInitial, elbv2api.TargetHealthReasonEnumElbRegistrationInProgress, "Target registration is in progress"), nil
		}
	}
	if tg.HealthCheckEnabled != nil && !*tg.HealthCheckEnabled {
		return targetHealth(elbv2api.TargetHealthStateEnumUnavailable, elbv2api.TargetHealthReasonEnumTargetHealthCheckDisabled, "Health checks disabled"), nil
	}
	if !s.dataPlane.Load() {
		if now.Sub(t.RegisteredAt) >= dataPlaneOffHealthyAfter {
			return targetHealth(elbv2api.TargetHealthStateEnumHealthy, "", ""), nil
		}
		return targetHealth(elbv2api.TargetHealthStateEnumInitial, elbv2api.TargetHealthReasonEnumElbRegistrationInProgress, "Target registration is in progress"), nil
	}
	if r, ok := s.report(healthKey{sc.account, sc.region, *tg.TargetGroupArn, t.ID, t.Port}); ok && !r.at.Before(t.RegisteredAt) {
		if r.healthy {
			return targetHealth(elbv2api.TargetHealthStateEnumHealthy, "", ""), nil
		}
		return targetHealth(elbv2api.TargetHealthStateEnumUnhealthy, r.reason, r.description), nil
	}
	if now.Sub(t.RegisteredAt) < registrationTime {
		return targetHealth(elbv2api.TargetHealthStateEnumInitial, elbv2api.TargetHealthReasonEnumElbRegistrationInProgress, "Target registration is in progress"), nil
	}
	return targetHealth(elbv2api.TargetHealthStateEnumInitial, elbv2api.TargetHealthReasonEnumElbInitialHealthChecking, "Initial health checks in progress"), nil
}

func (s *Service) DescribeTargetHealth(ctx context.Context, in *elbv2api.DescribeTargetHealthInput) (*elbv2api.DescribeTargetHealthOutput, error) {
	sc := scopeOf(ctx)
	out := &elbv2api.DescribeTargetHealthOutput{TargetHealthDescriptions: []*elbv2api.TargetHealthDescription{}}
	err := s.store.View(func(tx *store.Tx) error {
		tg, err := loadTG(tx, sc, deref(in.TargetGroupArn))
		if err != nil {
			return err
		}
		u, err := usage(tx, sc)
		if err != nil {
			return err
		}
		inUse := len(u[*tg.TargetGroupArn]) > 0
		now := s.now()
		describe := func(id string, port int64, t *target) error {
			h, err := s.targetHealth(tx, sc, tg, t, inUse, now)
			if err != nil {
				return err
			}
			d := &elbv2api.TargetHealthDescription{Target: &elbv2api.TargetDescription{Id: str(id), Port: i64(port)}, TargetHealth: h}
			if t != nil {
				d.HealthCheckPort = str(healthCheckPort(tg, port))
				if t.AZ != "" {
					d.Target.AvailabilityZone = str(t.AZ)
				}
			}
			out.TargetHealthDescriptions = append(out.TargetHealthDescriptions, d)
			return nil
		}
		if len(in.Targets) == 0 {
			for _, t := range tg.Targets {
				if err := describe(t.ID, t.Port, t); err != nil {
					return err
				}
			}
			return nil
		}
		for _, d := range in.Targets {
			id := deref(d.Id)
			matched := false
			for _, t := range tg.Targets {
				if t.ID == id && (d.Port == nil || *d.Port == t.Port) {
					matched = true
					if err := describe(id, t.Port, t); err != nil {
						return err
					}
				}
			}
			if !matched {
				if err := describe(id, targetPort(tg, d), nil); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// healthCheckPort is the port health checks of a target on port go to.
func healthCheckPort(tg *tgRecord, port int64) string {
	if p := deref(tg.HealthCheckPort); p != "" && p != "traffic-port" {
		return p
	}
	return strconv.FormatInt(port, 10)
}

func parseIPv4(s string) (netip.Addr, error) {
	ip, err := netip.ParseAddr(s)
	if err != nil || !ip.Is4() {
		return netip.Addr{}, fmt.Errorf("%q is not an IPv4 address", s)
	}
	return ip, nil
}

// NameHealthy implements vpcdns.TargetHealth: a load balancer, by its DNS
// name (lower case, with or without the trailing dot and "dualstack."),
// is healthy for an alias record that evaluates target health when a
// target group its listeners forward to has a healthy target, as Route 53
// judges an ALB; known is false for a name that is no load balancer's.
func (s *Service) NameHealthy(name string) (healthy, known bool) {
	name = strings.TrimPrefix(strings.TrimSuffix(name, "."), "dualstack.")
	s.store.View(func(tx *store.Tx) error {
		scopes, err := tx.Scopes(kindLB)
		if err != nil {
			return err
		}
		for _, p := range scopes {
			sc := scope{account: p[0], region: p[1]}
			lbs, err := listAll[lbRecord](tx, sc, kindLB)
			if err != nil {
				return err
			}
			for _, lb := range lbs {
				if strings.EqualFold(deref(lb.DNSName), name) {
					known = true
					healthy, err = s.lbHealthy(tx, sc, deref(lb.LoadBalancerArn))
					return err
				}
			}
		}
		return nil
	})
	return healthy, known
}

// lbHealthy reports whether a target group the load balancer forwards to
// has a healthy target.
func (s *Service) lbHealthy(tx *store.Tx, sc scope, lbARN string) (bool, error) {
	u, err := usage(tx, sc)
	if err != nil {
		return false, err
	}
	now := s.now()
	for tgARN, lbs := range u {
		if !slices.Contains(lbs, lbARN) {
			continue
		}
		tg, err := loadTG(tx, sc, tgARN)
		if err != nil {
			continue // forwarded to a group since deleted
		}
		for _, t := range tg.Targets {
			h, err := s.targetHealth(tx, sc, tg, t, true, now)
			if err != nil {
				return false, err
			}
			if deref(h.State) == elbv2api.TargetHealthStateEnumHealthy {
				return true, nil
			}
		}
	}
	return false, nil
}

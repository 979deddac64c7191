package elbv2

import (
	"maps"
	"net/netip"
	"slices"
	"strings"

	elbv2api "github.com/cloudbox/cloudbox/api/elbv2"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/services/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// Follows implements desired.Contributor: load balancers change with
// their own records and with EC2's (a target's address and state, a node's
// interface).
func (s *Service) Follows(kind string) bool {
	return strings.HasPrefix(kind, "elbv2:") || strings.HasPrefix(kind, "ec2:")
}

// Scopes implements desired.Contributor: the accounts and regions with load
// balancers or target groups.
func (s *Service) Scopes(tx *store.Tx) ([]desired.Scope, error) {
	lbs, err := tx.Scopes(kindLB)
	if err != nil {
		return nil, err
	}
	tgs, err := tx.Scopes(kindTG)
	return desired.ScopesOf(append(lbs, tgs...)), err
}

// Contribute implements desired.Contributor: one account's and region's
// load balancers (with their nodes, and listeners whose rules are in
// priority order with the default last) and target groups (with their
// targets) as the data plane sees them.
func (s *Service) Contribute(tx *store.Tx, ds desired.Scope, w *desired.World) error {
	lbs, tgs, err := snapshotScope(tx, scope{account: ds.Account, region: ds.Region})
	w.LoadBalancers, w.TargetGroups = append(w.LoadBalancers, lbs...), append(w.TargetGroups, tgs...)
	for _, lb := range lbs {
		w.Names = append(w.Names, lbName(lb))
	}
	return err
}

// lbName is the DNS record ELB publishes for a load balancer: an
// internet-facing one's name resolves to its nodes' public addresses, an
// internal one's to their private addresses, from everywhere (they are
// public records on AWS too).
func lbName(lb *desired.LoadBalancer) *desired.Name {
	n := &desired.Name{Name: strings.ToLower(lb.DNSName)}
	for _, nd := range lb.Nodes {
		if lb.Scheme == "internet-facing" && nd.PublicIP.IsValid() {
			n.Addrs = append(n.Addrs, nd.PublicIP)
		} else if lb.Scheme != "internet-facing" && nd.PrivateIP.IsValid() {
			n.Addrs = append(n.Addrs, nd.PrivateIP)
		}
	}
	return n
}

func snapshotScope(tx *store.Tx, sc scope) ([]*desired.LoadBalancer, []*desired.TargetGroup, error) {
	var lbs []*desired.LoadBalancer
	recs, err := listAll[lbRecord](tx, sc, kindLB)
	if err != nil {
		return nil, nil, err
	}
	for _, r := range sortedBy(recs, func(r *lbRecord) string { return deref(r.LoadBalancerName) }) {
		lb := &desired.LoadBalancer{
			ARN: deref(r.LoadBalancerArn), Name: deref(r.LoadBalancerName), DNSName: deref(r.DNSName),
			Account: sc.account, Region: sc.region, VPC: deref(r.VpcId), Scheme: deref(r.Scheme),
			State: deref(r.State.Code), Attributes: maps.Clone(r.Attributes),
		}
		for _, n := range r.Nodes {
			lb.Nodes = append(lb.Nodes, &desired.LBNode{ENI: n.ENI, Subnet: n.Subnet, AZ: n.AZ, PrivateIP: n.PrivateIP, PublicIP: n.PublicIP})
		}
		listeners, err := lbListeners(tx, sc, r.ID)
		if err != nil {
			return nil, nil, err
		}
		for _, l := range listeners {
			tl := &desired.Listener{ARN: deref(l.ListenerArn), Port: int(derefInt(l.Port)), Protocol: deref(l.Protocol), Certificates: certsOf(l), SSLPolicy: deref(l.SslPolicy)}
			rules, err := listenerRules(tx, sc, l.ID)
			if err != nil {
				return nil, nil, err
			}
			for _, rr := range rules {
				tl.Rules = append(tl.Rules, topologyRule(&rr.Rule))
			}
			tl.Rules = append(tl.Rules, topologyRule(defaultRule(sc, l, r)))
			lb.Listeners = append(lb.Listeners, tl)
		}
		lbs = append(lbs, lb)
	}
	var tgs []*desired.TargetGroup
	groups, err := listAll[tgRecord](tx, sc, kindTG)
	if err != nil {
		return nil, nil, err
	}
	for _, g := range sortedBy(groups, func(r *tgRecord) string { return deref(r.TargetGroupName) }) {
		tg, err := topologyTargetGroup(tx, sc, g)
		if err != nil {
			return nil, nil, err
		}
		tgs = append(tgs, tg)
	}
	return lbs, tgs, nil
}

func topologyTargetGroup(tx *store.Tx, sc scope, g *tgRecord) (*desired.TargetGroup, error) {
	tg := &desired.TargetGroup{
		ARN: deref(g.TargetGroupArn), Name: deref(g.TargetGroupName), Account: sc.account, Region: sc.region,
		VPC: deref(g.VpcId), Protocol: deref(g.Protocol), Port: int(derefInt(g.Port)), TargetType: deref(g.TargetType),
		Attributes: maps.Clone(g.Attributes),
		HealthCheck: desired.HealthCheck{
			Enabled: g.HealthCheckEnabled == nil || *g.HealthCheckEnabled, Protocol: deref(g.HealthCheckProtocol),
			Port: deref(g.HealthCheckPort), Path: deref(g.HealthCheckPath),
			IntervalSeconds: int(derefInt(g.HealthCheckIntervalSeconds)), TimeoutSeconds: int(derefInt(g.HealthCheckTimeoutSeconds)),
			HealthyThreshold: int(derefInt(g.HealthyThresholdCount)), UnhealthyThreshold: int(derefInt(g.UnhealthyThresholdCount)),
		},
	}
	if g.Matcher != nil {
		tg.HealthCheck.Matcher = deref(g.Matcher.HttpCode)
	}
	for _, t := range g.Targets {
		tt := &desired.Target{ID: t.ID, Port: int(t.Port), AZ: t.AZ, Draining: t.draining(), RegisteredAt: t.RegisteredAt}
		if tg.TargetType == elbv2api.TargetTypeEnumInstance {
			in, ok, err := ec2.LookupInstance(tx, sc.account, sc.region, t.ID)
			if err != nil {
				return nil, err
			}
			if !ok || !in.PrivateIP.IsValid() || in.State != "running" {
				// Terminated, or not running (Target.InvalidState): a
				// load balancer sends it nothing and does not check it.
				continue
			}
			tt.IP, tt.AZ = in.PrivateIP, in.AZ
		} else {
			r, err := resolveIP(tx, sc, g, t.ID, t.AZ)
			if err != nil {
				// The subnet went away; the address is still the target.
				tt.IP, _ = netip.ParseAddr(t.ID)
			} else {
				tt.IP, tt.AZ = netip.MustParseAddr(r.ip), r.az
			}
		}
		tg.Targets = append(tg.Targets, tt)
	}
	return tg, nil
}

func topologyRule(r *elbv2api.Rule) *desired.Rule {
	out := &desired.Rule{ARN: deref(r.RuleArn), Priority: deref(r.Priority)}
	for _, c := range r.Conditions {
		tc := desired.Condition{Field: deref(c.Field)}
		switch {
		case c.PathPatternConfig != nil:
			tc.Values = derefAll(c.PathPatternConfig.Values)
		case c.HostHeaderConfig != nil:
			tc.Values = derefAll(c.HostHeaderConfig.Values)
		case c.HttpHeaderConfig != nil:
			tc.HeaderName, tc.Values = deref(c.HttpHeaderConfig.HttpHeaderName), derefAll(c.HttpHeaderConfig.Values)
		case c.HttpRequestMethodConfig != nil:
			tc.Values = derefAll(c.HttpRequestMethodConfig.Values)
		case c.SourceIpConfig != nil:
			tc.Values = derefAll(c.SourceIpConfig.Values)
		case c.QueryStringConfig != nil:
			for _, p := range c.QueryStringConfig.Values {
				tc.QueryValues = append(tc.QueryValues, desired.KeyValue{Key: deref(p.Key), Value: deref(p.Value)})
			}
		}
		out.Conditions = append(out.Conditions, tc)
	}
	actions := slices.Clone(r.Actions)
	slices.SortStableFunc(actions, func(a, b *elbv2api.Action) int { return int(derefInt(a.Order) - derefInt(b.Order)) })
	for _, a := range actions {
		ta := desired.Action{Type: deref(a.Type)}
		if fc := a.ForwardConfig; fc != nil {
			for _, t := range fc.TargetGroups {
				ta.TargetGroups = append(ta.TargetGroups, desired.WeightedTargetGroup{ARN: deref(t.TargetGroupArn), Weight: int(derefInt(t.Weight))})
			}
			if st := fc.TargetGroupStickinessConfig; st != nil && st.Enabled != nil && *st.Enabled {
				ta.StickinessEnabled, ta.StickinessDuration = true, int(derefInt(st.DurationSeconds))
			}
		}
		if rc := a.RedirectConfig; rc != nil {
			ta.Redirect = &desired.Redirect{Protocol: deref(rc.Protocol), Host: deref(rc.Host), Port: deref(rc.Port), Path: deref(rc.Path), Query: deref(rc.Query), StatusCode: deref(rc.StatusCode)}
		}
		if fr := a.FixedResponseConfig; fr != nil {
			ta.FixedResponse = &desired.FixedResponse{StatusCode: deref(fr.StatusCode), ContentType: deref(fr.ContentType), MessageBody: deref(fr.MessageBody)}
		}
		out.Actions = append(out.Actions, ta)
	}
	return out
}

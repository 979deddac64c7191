package elbv2

import (
	"context"
	"slices"
	"strconv"

	"github.com/cloudbox/cloudbox/api"
	elbv2api "github.com/cloudbox/cloudbox/api/elbv2"
)

func (s *Service) registerInfo(h *elbv2api.Handlers) {
	h.DescribeSSLPolicies = s.DescribeSSLPolicies
	h.DescribeAccountLimits = s.DescribeAccountLimits
}

// sslPolicy is one of AWS's predefined security policies.
type sslPolicy struct {
	name      string
	protocols []string
	ciphers   []string
}

// Cipher lists shared by several policies.
var (
	tls13Ciphers    = []string{"TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256"}
	fsGCMCiphers    = []string{"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384"}
	tls12Ciphers    = []string{"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384", "ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384"}
	tls12RSACiphers = []string{"AES128-GCM-SHA256", "AES128-SHA256", "AES256-GCM-SHA384", "AES256-SHA256"}
	legacyCiphers   = []string{
		"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES128-SHA256", "ECDHE-RSA-AES128-SHA256",
		"ECDHE-ECDSA-AES128-SHA", "ECDHE-RSA-AES128-SHA", "ECDHE-ECDSA-AES256-GCM-SHA384", "ECDHE-RSA-AES256-GCM-SHA384",
		"ECDHE-ECDSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA384", "ECDHE-RSA-AES256-SHA", "ECDHE-ECDSA-AES256-SHA",
		"AES128-GCM-SHA256", "AES128-SHA256", "AES128-SHA", "AES256-GCM-SHA384", "AES256-SHA256", "AES256-SHA",
	}
)

func join(lists ...[]string) []string { return slices.Concat(lists...) }

// sslPolicies are the common ELBSecurityPolicy-* policies, newest first.
var sslPolicies = []sslPolicy{
	{"ELBSecurityPolicy-TLS13-1-2-2021-06", []string{"TLSv1.2", "TLSv1.3"}, join(tls13Ciphers, tls12Ciphers, tls12RSACiphers)},
	{"ELBSecurityPolicy-TLS13-1-2-Res-2021-06", []string{"TLSv1.2", "TLSv1.3"}, join(tls13Ciphers, fsGCMCiphers)},
	{"ELBSecurityPolicy-TLS13-1-2-Ext1-2021-06", []string{"TLSv1.2", "TLSv1.3"}, join(tls13Ciphers, tls12Ciphers, tls12RSACiphers)},
	{"ELBSecurityPolicy-TLS13-1-3-2021-06", []string{"TLSv1.3"}, tls13Ciphers},
	{"ELBSecurityPolicy-FS-1-2-Res-2020-10", []string{"TLSv1.2"}, fsGCMCiphers},
	{"ELBSecurityPolicy-FS-1-2-2019-08", []string{"TLSv1.2"}, tls12Ciphers},
	{"ELBSecurityPolicy-TLS-1-2-Ext-2018-06", []string{"TLSv1.2"}, legacyCiphers},
	{"ELBSecurityPolicy-TLS-1-2-2017-01", []string{"TLSv1.2"}, join(tls12Ciphers, tls12RSACiphers)},
	{"ELBSecurityPolicy-TLS-1-1-2017-01", []string{"TLSv1.1", "TLSv1.2"}, legacyCiphers},
	{"ELBSecurityPolicy-2016-08", []string{"TLSv1", "TLSv1.1", "TLSv1.2"}, legacyCiphers},
	{"ELBSecurityPolicy-2015-05", []string{"TLSv1", "TLSv1.1", "TLSv1.2"}, legacyCiphers},
}

func findPolicy(name string) *sslPolicy {
	for i := range sslPolicies {
		if sslPolicies[i].name == name {
			return &sslPolicies[i]
		}
	}
	return nil
}

func (p *sslPolicy) api() *elbv2api.SslPolicy {
	out := &elbv2api.SslPolicy{
		Name:                       str(p.name),
		SslProtocols:               strs(p.protocols),
		SupportedLoadBalancerTypes: strs([]string{elbv2api.LoadBalancerTypeEnumApplication, elbv2api.LoadBalancerTypeEnumNetwork}),
	}
	for i, c := range p.ciphers {
		out.Ciphers = append(out.Ciphers, &elbv2api.Cipher{Name: str(c), Priority: i64(int64(i + 1))})
	}
	return out
}

func (s *Service) DescribeSSLPolicies(_ context.Context, in *elbv2api.DescribeSSLPoliciesInput) (*elbv2api.DescribeSSLPoliciesOutput, error) {
	var out []*elbv2api.SslPolicy
	if len(in.Names) > 0 {
		for _, n := range in.Names {
			p := findPolicy(deref(n))
			if p == nil {
				return nil, api.Errorf("SSLPolicyNotFound", "One or more of the specified SSL policies could not be found: %s", deref(n))
			}
			out = append(out, p.api())
		}
	} else {
		for i := range sslPolicies {
			out = append(out, sslPolicies[i].api())
		}
	}
	pg, next, err := page(out, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	return &elbv2api.DescribeSSLPoliciesOutput{SslPolicies: append([]*elbv2api.SslPolicy{}, pg...), NextMarker: next}, nil
}

// accountLimits are AWS's default Elastic Load Balancing quotas.
var accountLimits = []struct {
	name string
	max  int
}{
	{"application-load-balancers", maxLoadBalancers},
	{"target-groups", maxTargetGroups},
	{"targets-per-application-load-balancer", 1000},
	{"listeners-per-application-load-balancer", maxListenersPerLB},
	{"rules-per-application-load-balancer", maxRulesPerLB},
	{"certificates-per-application-load-balancer", maxCertificatesPerLB},
	{"target-groups-per-application-load-balancer", maxTargetGroupsPerLB},
	{"target-groups-per-action-on-application-load-balancer", maxTargetGroupsPerAction},
	{"condition-values-per-alb-rule", maxConditionValues},
	{"condition-wildcards-per-alb-rule", maxConditionWildcards},
	{"target-id-registrations-per-application-load-balancer", 1000},
	{"network-load-balancers", 50},
	{"listeners-per-network-load-balancer", 50},
	{"targets-per-network-load-balancer-per-az", 500},
	{"target-groups-per-action-on-network-load-balancer", 1},
	{"network-load-balancer-enis-per-vpc", 1200},
	{"gateway-load-balancers", 100},
	{"gateway-load-balancers-per-vpc", 100},
	{"geneve-target-groups", 100},
	{"targets-per-availability-zone-per-gateway-load-balancer", 300},
}

func (s *Service) DescribeAccountLimits(_ context.Context, in *elbv2api.DescribeAccountLimitsInput) (*elbv2api.DescribeAccountLimitsOutput, error) {
	var all []*elbv2api.Limit
	for _, l := range accountLimits {
		all = append(all, &elbv2api.Limit{Name: str(l.name), Max: str(strconv.Itoa(l.max))})
	}
	pg, next, err := page(all, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	return &elbv2api.DescribeAccountLimitsOutput{Limits: append([]*elbv2api.Limit{}, pg...), NextMarker: next}, nil
}

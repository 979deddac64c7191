package elbv2

import (
	"context"
	"slices"
	"strconv"

	"github.com/cloudbox/cloudbox/api"
	elbv2api "github.com/cloudbox/cloudbox/api/elbv2"
	"github.com/cloudbox/cloudbox/store"
)

func (s *Service) registerListeners(h *elbv2api.Handlers) {
	h.CreateListener = s.CreateListener
	h.DescribeListeners = s.DescribeListeners
	h.ModifyListener = s.ModifyListener
	h.DeleteListener = s.DeleteListener
	h.AddListenerCertificates = s.AddListenerCertificates
	h.RemoveListenerCertificates = s.RemoveListenerCertificates
	h.DescribeListenerCertificates = s.DescribeListenerCertificates
}

// AWS's default quotas.
const (
	maxListenersPerLB        = 50
	maxCertificatesPerLB     = 25
	defaultSSLPolicy         = "ELBSecurityPolicy-2016-08"
	mutualAuthenticationNone = "off"
)

func parsePort(s string) (int, error) { return strconv.Atoi(s) }

// lbListeners returns the listeners of a load balancer, by port.
func lbListeners(tx *store.Tx, sc scope, lbID string) ([]*listenerRecord, error) {
	all, err := listAll[listenerRecord](tx, sc, kindListener)
	if err != nil {
		return nil, err
	}
	all = slices.DeleteFunc(all, func(l *listenerRecord) bool { return l.LBID != lbID })
	slices.SortFunc(all, func(a, b *listenerRecord) int { return int(*a.Port - *b.Port) })
	return all, nil
}

// checkCertificate checks one certificate ARN with ACM.
func (s *Service) checkCertificate(tx *store.Tx, sc scope, certArn string) error {
	if s.certs == nil {
		return api.Errorf("CertificateNotFound", "Certificate '%s' not found", certArn)
	}
	return s.certs.Check(tx, sc.account, sc.region, certArn)
}

// certsOf lists every certificate a listener uses, the default first.
func certsOf(l *listenerRecord) []string {
	var out []string
	for _, c := range l.Certificates {
		out = append(out, deref(c.CertificateArn))
	}
	return append(out, l.Extra...)
}

// useCerts tells ACM which certificates a listener now uses, given what it
// used before.
func (s *Service) useCerts(tx *store.Tx, sc scope, listenerArn string, before, after []string) error {
	for _, c := range before {
		if !slices.Contains(after, c) {
			if err := s.certs.Release(tx, sc.account, sc.region, c, listenerArn); err != nil {
				return err
			}
		}
	}
	for _, c := range after {
		if !slices.Contains(before, c) {
			if err := s.certs.Use(tx, sc.account, sc.region, c, listenerArn); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyTLS sets a listener's protocol-dependent settings: for HTTPS a
// default certificate (given, or kept) and an SSL policy; for HTTP none.
func (s *Service) applyTLS(tx *store.Tx, sc scope, l *listenerRecord, certs []*elbv2api.Certificate, policy *string) error {
	if deref(l.Protocol) == elbv2api.ProtocolEnumHTTP {
		if len(certs) > 0 || policy != nil {
			return validation("Certificates and SSL policies can only be specified for HTTPS listeners")
		}
		l.Certificates, l.SslPolicy, l.Extra = nil, nil, nil
		return nil
	}
	if len(certs) > 1 {
		return validation("A listener can have only one default certificate; add others with AddListenerCertificates")
	}
	if len(certs) == 1 {
		c := deref(certs[0].CertificateArn)
		if err := s.checkCertificate(tx, sc, c); err != nil {
			return err
		}
		l.Certificates = []*elbv2api.Certificate{{CertificateArn: str(c)}}
		l.Extra = slices.DeleteFunc(l.Extra, func(e string) bool { return e == c })
	}
	if len(l.Certificates) == 0 {
		return validation("A certificate must be specified for HTTPS listeners")
	}
	if policy != nil {
		if findPolicy(*policy) == nil {
			return api.Errorf("SSLPolicyNotFound", "SSL policy '%s' not found", *policy)
		}
		l.SslPolicy = policy
	}
	if l.SslPolicy == nil {
		l.SslPolicy = str(defaultSSLPolicy)
	}
	return nil
}

func checkListenerExtras(alpn []*string, ma *elbv2api.MutualAuthenticationAttributes) error {
	if len(alpn) > 0 {
		return validation("ALPN policies can only be specified for TLS listeners")
	}
	if ma != nil && deref(ma.Mode) != "" && deref(ma.Mode) != mutualAuthenticationNone {
		return validation("Mutual authentication mode '%s' is not supported by cloudbox", deref(ma.Mode))
	}
	return nil
}

func (s *Service) CreateListener(ctx context.Context, in *elbv2api.CreateListenerInput) (*elbv2api.CreateListenerOutput, error) {
	sc := scopeOf(ctx)
	if in.Protocol == nil {
		return nil, validation("A listener protocol must be specified for application load balancers")
	}
	if err := checkProtocol("protocol", *in.Protocol); err != nil {
		return nil, err
	}
	if in.Port == nil {
		return nil, validation("A listener port must be specified for application load balancers")
	}
	if err := checkListenerExtras(in.AlpnPolicy, in.MutualAuthentication); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	var out *elbv2api.Listener
	err := s.store.Update(func(tx *store.Tx) error {
		lb, err := loadLB(tx, sc, deref(in.LoadBalancerArn))
		if err != nil {
			return err
		}
		existing, err := lbListeners(tx, sc, lb.ID)
		if err != nil {
			return err
		}
		for _, l := range existing {
			if *l.Port == *in.Port {
				return api.Errorf("DuplicateListener", "A listener already exists on this port for this load balancer '%s'", *lb.LoadBalancerArn)
			}
		}
		if len(existing) >= maxListenersPerLB {
			return api.Errorf("TooManyListeners", "You've reached the limit on the number of listeners per load balancer (%d)", maxListenersPerLB)
		}
		id := newID()
		l := &listenerRecord{ID: id, LBID: lb.ID, DefaultRuleID: newID(), Tags: in.Tags}
		l.Listener = elbv2api.Listener{
			ListenerArn:     str(listenerARN(sc, deref(lb.LoadBalancerName), lb.ID, id)),
			LoadBalancerArn: lb.LoadBalancerArn,
			Port:            in.Port,
			Protocol:        in.Protocol,
		}
		if err := s.applyTLS(tx, sc, l, in.Certificates, in.SslPolicy); err != nil {
			return err
		}
		if l.DefaultActions, err = checkActions(tx, sc, lb, in.DefaultActions); err != nil {
			return err
		}
		if len(l.Certificates) > 0 {
			if err := s.useCerts(tx, sc, *l.ListenerArn, nil, certsOf(l)); err != nil {
				return err
			}
		}
		out = &l.Listener
		return put(tx, sc, kindListener, id, l)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.CreateListenerOutput{Listeners: []*elbv2api.Listener{out}}, nil
}

func (s *Service) DescribeListeners(ctx context.Context, in *elbv2api.DescribeListenersInput) (*elbv2api.DescribeListenersOutput, error) {
	sc := scopeOf(ctx)
	if (in.LoadBalancerArn == nil) == (len(in.ListenerArns) == 0) {
		return nil, validation("You must specify either listener ARNs or a load balancer ARN")
	}
	var recs []*listenerRecord
	err := s.store.View(func(tx *store.Tx) error {
		if in.LoadBalancerArn != nil {
			lb, err := loadLB(tx, sc, *in.LoadBalancerArn)
			if err != nil {
				return err
			}
			recs, err = lbListeners(tx, sc, lb.ID)
			return err
		}
		for _, a := range in.ListenerArns {
			l, err := loadListener(tx, sc, deref(a))
			if err != nil {
				return err
			}
			recs = append(recs, l)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(recs, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	out := &elbv2api.DescribeListenersOutput{Listeners: []*elbv2api.Listener{}, NextMarker: next}
	for _, l := range pg {
		out.Listeners = append(out.Listeners, &l.Listener)
	}
	return out, nil
}

func (s *Service) ModifyListener(ctx context.Context, in *elbv2api.ModifyListenerInput) (*elbv2api.ModifyListenerOutput, error) {
	sc := scopeOf(ctx)
	if in.Protocol != nil {
		if err := checkProtocol("protocol", *in.Protocol); err != nil {
			return nil, err
		}
	}
	if err := checkListenerExtras(in.AlpnPolicy, in.MutualAuthentication); err != nil {
		return nil, err
	}
	var out *elbv2api.Listener
	err := s.store.Update(func(tx *store.Tx) error {
		l, err := loadListener(tx, sc, deref(in.ListenerArn))
		if err != nil {
			return err
		}
		lb, err := lbByID(tx, sc, l.LBID)
		if err != nil {
			return err
		}
		before := certsOf(l)
		if in.Port != nil && *in.Port != *l.Port {
			others, err := lbListeners(tx, sc, l.LBID)
			if err != nil {
				return err
			}
			for _, o := range others {
				if *o.Port == *in.Port {
					return api.Errorf("DuplicateListener", "A listener already exists on this port for this load balancer '%s'", *l.LoadBalancerArn)
				}
			}
			l.Port = in.Port
		}
		if in.Protocol != nil {
			l.Protocol = in.Protocol
		}
		if err := s.applyTLS(tx, sc, l, in.Certificates, in.SslPolicy); err != nil {
			return err
		}
		if len(in.DefaultActions) > 0 {
			if l.DefaultActions, err = checkActions(tx, sc, lb, in.DefaultActions); err != nil {
				return err
			}
		}
		if after := certsOf(l); len(before) > 0 || len(after) > 0 {
			if err := s.useCerts(tx, sc, *l.ListenerArn, before, after); err != nil {
				return err
			}
		}
		out = &l.Listener
		return put(tx, sc, kindListener, l.ID, l)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.ModifyListenerOutput{Listeners: []*elbv2api.Listener{out}}, nil
}

func (s *Service) DeleteListener(ctx context.Context, in *elbv2api.DeleteListenerInput) (*elbv2api.DeleteListenerOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		l, err := loadListener(tx, sc, deref(in.ListenerArn))
		if err != nil {
			return err
		}
		return s.deleteListener(tx, sc, l)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.DeleteListenerOutput{}, nil
}

// deleteListener deletes a listener with its rules and releases its
// certificates.
func (s *Service) deleteListener(tx *store.Tx, sc scope, l *listenerRecord) error {
	rules, err := listAll[ruleRecord](tx, sc, kindRule)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if r.ListenerID == l.ID {
			if _, err := tx.Delete(sc.key(kindRule, r.ID)); err != nil {
				return err
			}
		}
	}
	if certs := certsOf(l); len(certs) > 0 {
		if err := s.useCerts(tx, sc, *l.ListenerArn, certs, nil); err != nil {
			return err
		}
	}
	_, err = tx.Delete(sc.key(kindListener, l.ID))
	return err
}

func (s *Service) AddListenerCertificates(ctx context.Context, in *elbv2api.AddListenerCertificatesInput) (*elbv2api.AddListenerCertificatesOutput, error) {
	sc := scopeOf(ctx)
	var added []*elbv2api.Certificate
	err := s.store.Update(func(tx *store.Tx) error {
		l, err := loadListener(tx, sc, deref(in.ListenerArn))
		if err != nil {
			return err
		}
		if deref(l.Protocol) != elbv2api.ProtocolEnumHTTPS {
			return validation("Certificates can only be added to HTTPS listeners")
		}
		before := certsOf(l)
		for _, c := range in.Certificates {
			if c.IsDefault != nil && *c.IsDefault {
				return validation("The default certificate cannot be added: set it with ModifyListener")
			}
			a := deref(c.CertificateArn)
			if err := s.checkCertificate(tx, sc, a); err != nil {
				return err
			}
			if !slices.Contains(certsOf(l), a) {
				l.Extra = append(l.Extra, a)
			}
			added = append(added, &elbv2api.Certificate{CertificateArn: str(a), IsDefault: boolp(false)})
		}
		if len(certsOf(l)) > maxCertificatesPerLB {
			return api.Errorf("TooManyCertificates", "You've reached the limit on the number of certificates per load balancer (%d)", maxCertificatesPerLB)
		}
		if err := s.useCerts(tx, sc, *l.ListenerArn, before, certsOf(l)); err != nil {
			return err
		}
		return put(tx, sc, kindListener, l.ID, l)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.AddListenerCertificatesOutput{Certificates: added}, nil
}

func (s *Service) RemoveListenerCertificates(ctx context.Context, in *elbv2api.RemoveListenerCertificatesInput) (*elbv2api.RemoveListenerCertificatesOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		l, err := loadListener(tx, sc, deref(in.ListenerArn))
		if err != nil {
			return err
		}
		before := certsOf(l)
		for _, c := range in.Certificates {
			a := deref(c.CertificateArn)
			if len(l.Certificates) > 0 && deref(l.Certificates[0].CertificateArn) == a {
				return api.Errorf("OperationNotPermitted", "The default certificate '%s' cannot be removed from a listener: replace it with ModifyListener", a)
			}
			l.Extra = slices.DeleteFunc(l.Extra, func(e string) bool { return e == a })
		}
		if len(before) > 0 {
			if err := s.useCerts(tx, sc, *l.ListenerArn, before, certsOf(l)); err != nil {
				return err
			}
		}
		return put(tx, sc, kindListener, l.ID, l)
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.RemoveListenerCertificatesOutput{}, nil
}

func (s *Service) DescribeListenerCertificates(ctx context.Context, in *elbv2api.DescribeListenerCertificatesInput) (*elbv2api.DescribeListenerCertificatesOutput, error) {
	sc := scopeOf(ctx)
	var certs []*elbv2api.Certificate
	err := s.store.View(func(tx *store.Tx) error {
		l, err := loadListener(tx, sc, deref(in.ListenerArn))
		if err != nil {
			return err
		}
		for i, c := range certsOf(l) {
			certs = append(certs, &elbv2api.Certificate{CertificateArn: str(c), IsDefault: boolp(i == 0 && len(l.Certificates) > 0)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(certs, in.Marker, in.PageSize)
	if err != nil {
		return nil, err
	}
	return &elbv2api.DescribeListenerCertificatesOutput{Certificates: append([]*elbv2api.Certificate{}, pg...), NextMarker: next}, nil
}

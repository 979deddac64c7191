package acm

import (
	"context"
	"strings"
	"time"

	acmapi "github.com/cloudbox/cloudbox/api/acm"
	"github.com/cloudbox/cloudbox/store"
)

// PublicDNS answers what the simulated internet resolves: Route 53's
// public hosted zones (services/route53 implements it).
type PublicDNS interface {
	// PublicRecords returns the values of the records of name and type
	// the internet sees (name without the trailing dot, lower case).
	PublicRecords(name, rtype string) []string
}

// SetPublicDNS makes DNS validation real: a certificate requested with
// ValidationMethod DNS stays PENDING_VALIDATION until every CNAME it asks
// for resolves on the simulated internet (Run checks), as ACM does; with
// none, requests are issued after ValidationDelay.
func (s *Service) SetPublicDNS(d PublicDNS) { s.dns = d }

// validateEvery is how often pending DNS validations are looked up (ACM
// checks within minutes; a short period keeps tests and tutorials quick).
const validateEvery = time.Second

// Run looks up the records of pending DNS validations until ctx ends
// (registry.Runner).
func (s *Service) Run(ctx context.Context) {
	if s.dns == nil {
		return
	}
	t := time.NewTicker(validateEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := s.validatePending(); err != nil {
			s.log.Warn("acm: DNS validation", "error", err)
		}
	}
}

// validatePending issues every pending DNS-validated certificate whose
// records all resolve.
func (s *Service) validatePending() error {
	var due []store.Key
	err := s.store.View(func(tx *store.Tx) error {
		scopes, err := tx.Scopes(certKind)
		if err != nil {
			return err
		}
		for _, p := range scopes {
			err := tx.List(p[0], p[1], certKind, func(id string, _ []byte) error {
				k := scope{account: p[0], region: p[1]}.key(id)
				r, ok, err := store.Get[certRecord](tx, k)
				if err == nil && ok && s.awaitsDNS(r) && s.validated(r) {
					due = append(due, k)
				}
				return err
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || len(due) == 0 {
		return err
	}
	now := s.now()
	return s.store.Update(func(tx *store.Tx) error {
		for _, k := range due {
			r, ok, err := store.Get[certRecord](tx, k)
			if err != nil {
				return err
			}
			if !ok || !s.awaitsDNS(r) {
				continue
			}
			r.Status, r.IssuedAt = acmapi.CertificateStatusISSUED, now
			s.log.Info("acm: certificate issued, its DNS validation records resolve", "certificate", r.ARN)
			if err := tx.Put(k, r); err != nil {
				return err
			}
		}
		return nil
	})
}

// awaitsDNS reports whether a certificate waits for its DNS records
// rather than for a delay.
func (s *Service) awaitsDNS(r *certRecord) bool {
	return r.Status == acmapi.CertificateStatusPENDINGVALIDATION && r.ValidationMethod == acmapi.ValidationMethodDNS && r.ValidAt.IsZero()
}

// validated reports whether every validation CNAME of r resolves to the
// value ACM asked for.
func (s *Service) validated(r *certRecord) bool {
	for _, v := range r.Validations {
		want := canonical(v.RecordValue)
		ok := false
		for _, got := range s.dns.PublicRecords(canonical(v.RecordName), acmapi.RecordTypeCNAME) {
			if canonical(got) == want {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

func canonical(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

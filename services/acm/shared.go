package acm

import (
	"errors"
	"slices"

	"github.com/cloudbox/cloudbox/api"
	acmapi "github.com/cloudbox/cloudbox/api/acm"
	"github.com/cloudbox/cloudbox/store"
)

// What other services call: the load balancer checks, uses and releases
// certificates inside its own transactions, and its data plane reads the
// key pair it serves.

// KeyPair returns the PEM certificate (followed by its chain) and the
// private key of an issued or imported certificate, for the load
// balancer's HTTPS listeners.
func (s *Service) KeyPair(account, region, arn string) (certPEM, keyPEM []byte, err error) {
	sc := scope{account: account, region: region}
	err = s.store.View(func(tx *store.Tx) error {
		r, err := s.load(tx, sc, arn)
		if err != nil {
			return err
		}
		if !r.hasCertificate() {
			return notIssued(r)
		}
		certPEM = append([]byte(r.CertPEM), r.ChainPEM...)
		keyPEM = []byte(r.KeyPEM)
		return nil
	})
	return certPEM, keyPEM, err
}

// certificateNotFound is the error elbv2 gives for a certificate it cannot
// use.
func certificateNotFound(arn string) error {
	return api.Errorf("CertificateNotFound", "Certificate '%s' not found", arn)
}

// loadForLB reads a certificate for the load balancer, any failure being
// CertificateNotFound.
func (s *Service) loadForLB(tx *store.Tx, account, region, arn string) (*certRecord, error) {
	r, err := s.load(tx, scope{account: account, region: region}, arn)
	if err != nil {
		if _, ok := errors.AsType[*api.Error](err); ok {
			return nil, certificateNotFound(arn)
		}
		return nil, err
	}
	return r, nil
}

// Check returns nil if the certificate exists and is ISSUED, else an error
// whose code is CertificateNotFound, as elbv2 answers.
func (s *Service) Check(tx *store.Tx, account, region, arn string) error {
	r, err := s.loadForLB(tx, account, region, arn)
	if err != nil {
		return err
	}
	if r.Status != acmapi.CertificateStatusISSUED {
		return certificateNotFound(arn)
	}
	return nil
}

// Use records that the resource by (a load balancer's ARN) uses the
// certificate: it shows in InUseBy and the certificate cannot be deleted.
func (s *Service) Use(tx *store.Tx, account, region, arn, by string) error {
	r, err := s.loadForLB(tx, account, region, arn)
	if err != nil {
		return err
	}
	if slices.Contains(r.InUseBy, by) {
		return nil
	}
	r.InUseBy = append(r.InUseBy, by)
	slices.Sort(r.InUseBy)
	return s.save(tx, scope{account: account, region: region}, r)
}

// Release undoes Use. Releasing a certificate that is gone, or that by does
// not use, does nothing.
func (s *Service) Release(tx *store.Tx, account, region, arn, by string) error {
	r, err := s.loadForLB(tx, account, region, arn)
	if err != nil {
		if _, ok := errors.AsType[*api.Error](err); ok {
			return nil
		}
		return err
	}
	i := slices.Index(r.InUseBy, by)
	if i < 0 {
		return nil
	}
	r.InUseBy = slices.Delete(r.InUseBy, i, i+1)
	return s.save(tx, scope{account: account, region: region}, r)
}

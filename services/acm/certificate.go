package acm

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"github.com/cloudbox/cloudbox/uuid"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	acmapi "github.com/cloudbox/cloudbox/api/acm"
	"github.com/cloudbox/cloudbox/ca"
	"github.com/cloudbox/cloudbox/store"
)

// maxDomains is ACM's default quota of names per certificate.
const maxDomains = 10

func validationError(format string, args ...any) error {
	return api.Errorf("ValidationException", format, args...)
}

// parsedImport is what ImportCertificate was given, checked.
type parsedImport struct {
	cert     *x509.Certificate
	certPEM  string
	chainPEM string
	keyPEM   string
	keyAlgo  string
}

func parseImport(in *acmapi.ImportCertificateRequest, now time.Time) (*parsedImport, error) {
	cert, err := ca.ParseCertificate(in.Certificate)
	if err != nil {
		return nil, validationError("Unable to parse certificate. Please ensure the certificate is in PEM format.")
	}
	key, err := ca.ParsePrivateKey(in.PrivateKey)
	if err != nil {
		return nil, validationError("Unable to parse private key. Please ensure the private key is in PEM format and not encrypted.")
	}
	algo := keyAlgorithm(cert.PublicKey)
	if algo == "" {
		return nil, validationError("The certificate's key algorithm is not supported.")
	}
	if pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
		return nil, validationError("The private key does not match the public key in the certificate.")
	}
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return nil, validationError("The certificate is not valid at this time: it is valid from %s to %s.", cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
	}
	var chain []byte
	if len(in.CertificateChain) > 0 {
		rest := in.CertificateChain
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				break
			}
			if b.Type != "CERTIFICATE" {
				continue
			}
			if _, err := x509.ParseCertificate(b.Bytes); err != nil {
				return nil, validationError("Unable to parse certificate chain. Please ensure the chain is in PEM format.")
			}
			chain = append(chain, pem.EncodeToMemory(b)...)
		}
		if chain == nil {
			return nil, validationError("Unable to parse certificate chain. Please ensure the chain is in PEM format.")
		}
	}
	keyPEM, err := ca.EncodePrivateKey(key)
	if err != nil {
		return nil, err
	}
	return &parsedImport{
		cert:     cert,
		certPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})),
		chainPEM: string(chain),
		keyPEM:   string(keyPEM),
		keyAlgo:  algo,
	}, nil
}

// certNames returns a certificate's domain name and SANs as ACM shows them:
// the subject's common name (else the first DNS name), then every DNS name.
func certNames(c *x509.Certificate) (string, []string) {
	domain := c.Subject.CommonName
	if domain == "" && len(c.DNSNames) > 0 {
		domain = c.DNSNames[0]
	}
	sans := slices.Clone(c.DNSNames)
	if domain != "" && !slices.Contains(sans, domain) {
		sans = append([]string{domain}, sans...)
	}
	return domain, sans
}

func (s *Service) importCertificate(ctx context.Context, in *acmapi.ImportCertificateRequest) (*acmapi.ImportCertificateResponse, error) {
	sc := scopeOf(ctx)
	now := s.now()
	p, err := parseImport(in, now)
	if err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	domain, sans := certNames(p.cert)
	var out string
	err = s.store.Update(func(tx *store.Tx) error {
		var r *certRecord
		if in.CertificateArn != nil {
			if len(in.Tags) > 0 {
				return api.Errorf("InvalidParameterException", "Tags cannot be applied when reimporting a certificate.")
			}
			var err error
			if r, err = s.load(tx, sc, *in.CertificateArn); err != nil {
				return err
			}
			if r.Type != acmapi.CertificateTypeIMPORTED {
				return validationError("Certificate %s is not an imported certificate; only imported certificates can be reimported.", r.ARN)
			}
		} else {
			if err := s.checkLimit(tx, sc); err != nil {
				return err
			}
			id := uuid.New()
			r = &certRecord{
				ID: id, ARN: sc.arn(id), Type: acmapi.CertificateTypeIMPORTED, CreatedAt: now,
				CTLogging: acmapi.CertificateTransparencyLoggingPreferenceENABLED,
			}
			r.Tags = mergeTags(nil, in.Tags)
		}
		r.Status = acmapi.CertificateStatusISSUED
		r.Domain, r.SANs, r.KeyAlgo = domain, sans, p.keyAlgo
		r.CertPEM, r.ChainPEM, r.KeyPEM = p.certPEM, p.chainPEM, p.keyPEM
		r.ImportedAt = now
		r.settle(now)
		out = r.ARN
		return s.save(tx, sc, r)
	})
	if err != nil {
		return nil, err
	}
	return &acmapi.ImportCertificateResponse{CertificateArn: str(out)}, nil
}

// checkDomain refuses a name ACM's pattern refuses: an optional leading
// "*.", then at least two labels of letters, digits and inner hyphens.
func checkDomain(name, member string) error {
	bad := validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: ^(\\*\\.)?(((?!-)[A-Za-z0-9-]{0,62}[A-Za-z0-9])\\.)+((?!-)[A-Za-z0-9-]{1,62}[A-Za-z0-9])$", name, member)
	if len(name) > 253 {
		return bad
	}
	labels := strings.Split(strings.TrimPrefix(name, "*."), ".")
	if len(labels) < 2 || len(labels[len(labels)-1]) < 2 {
		return bad
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return bad
		}
		for _, c := range l {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return bad
			}
		}
	}
	return nil
}

// newKey makes a key of an ACM key algorithm a public certificate may have.
func newKey(algo string) (crypto.Signer, error) {
	switch algo {
	case acmapi.KeyAlgorithmRSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	case acmapi.KeyAlgorithmECPrime256v1:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case acmapi.KeyAlgorithmECSecp384r1:
		return ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	}
	return nil, api.Errorf("InvalidParameterException", "The key algorithm %s is not supported for public certificates. Supported: RSA_2048, EC_prime256v1, EC_secp384r1.", algo)
}

// tokenRecord remembers which certificate a request with an idempotency
// token made, under the token and a digest of the request, so a retry within
// the hour gets the same ARN and the same token with other parameters makes
// another certificate.
type tokenRecord struct {
	ARN string
	At  time.Time
}

const tokenKind = "acm:idempotency-token"

func tokenID(in *acmapi.RequestCertificateRequest) (string, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	return *in.IdempotencyToken + "/" + hex.EncodeToString(h[:]), nil
}

// earlierRequest returns the certificate an earlier request with the same
// token and parameters made within the hour, if it still exists.
func earlierRequest(tx *store.Tx, sc scope, k store.Key, now time.Time) (string, error) {
	t, ok, err := store.Get[tokenRecord](tx, k)
	if err != nil || !ok || now.Sub(t.At) >= tokenTTL {
		return "", err
	}
	certID, err := sc.certID(t.ARN)
	if err != nil {
		return "", err
	}
	if _, ok, err := store.Get[certRecord](tx, sc.key(certID)); !ok {
		return "", err
	}
	return t.ARN, nil
}

func (s *Service) requestCertificate(ctx context.Context, in *acmapi.RequestCertificateRequest) (*acmapi.RequestCertificateResponse, error) {
	sc := scopeOf(ctx)
	now := s.now()
	domain := deref(in.DomainName)
	if err := checkDomain(domain, "domainName"); err != nil {
		return nil, err
	}
	names := []string{domain}
	for i, san := range in.SubjectAlternativeNames {
		if err := checkDomain(deref(san), "subjectAlternativeNames."+strconv.Itoa(i+1)+".member"); err != nil {
			return nil, err
		}
		if !slices.Contains(names, *san) {
			names = append(names, *san)
		}
	}
	if len(names) > maxDomains {
		return nil, api.Errorf("LimitExceededException", "Cannot issue certificate with more than %d domain names: %d were requested.", maxDomains, len(names))
	}
	if in.CertificateAuthorityArn != nil {
		return nil, api.Errorf("InvalidParameterException", "Private certificates are not available: cloudbox has no AWS Private CA. Omit CertificateAuthorityArn to have cloudbox's CA issue the certificate.")
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	method := deref(in.ValidationMethod)
	if method == "" {
		method = acmapi.ValidationMethodEMAIL
	}
	validationDomains := map[string]string{}
	for _, o := range in.DomainValidationOptions {
		d, vd := deref(o.DomainName), deref(o.ValidationDomain)
		if !slices.Contains(names, d) {
			return nil, api.Errorf("InvalidDomainValidationOptionsException", "DomainValidationOption %s is not one of the certificate's domain names.", d)
		}
		base := strings.TrimPrefix(d, "*.")
		if vd != base && !strings.HasSuffix(base, "."+vd) {
			return nil, api.Errorf("InvalidDomainValidationOptionsException", "Validation domain %s is not %s or a superdomain of it.", vd, base)
		}
		validationDomains[d] = vd
	}
	algo := deref(in.KeyAlgorithm)
	if algo == "" {
		algo = acmapi.KeyAlgorithmRSA2048
	}
	ctPref := acmapi.CertificateTransparencyLoggingPreferenceENABLED
	if in.Options != nil && in.Options.CertificateTransparencyLoggingPreference != nil {
		ctPref = *in.Options.CertificateTransparencyLoggingPreference
	}

	var tokKey store.Key
	if in.IdempotencyToken != nil {
		id, err := tokenID(in)
		if err != nil {
			return nil, err
		}
		tokKey = store.Key{Account: sc.account, Region: sc.region, Kind: tokenKind, ID: id}
		var earlier string
		err = s.store.View(func(tx *store.Tx) error {
			earlier, err = earlierRequest(tx, sc, tokKey, now)
			return err
		})
		if err != nil {
			return nil, err
		}
		if earlier != "" {
			return &acmapi.RequestCertificateResponse{CertificateArn: str(earlier)}, nil
		}
	}

	// The key and the certificate are made now, outside the transaction (an
	// RSA key takes a while), and shown once validation has "passed".
	key, err := newKey(algo)
	if err != nil {
		return nil, err
	}
	certPEM, chainPEM, err := s.ca.Sign(names, issuedValidity, key.Public())
	if err != nil {
		return nil, err
	}
	keyPEM, err := ca.EncodePrivateKey(key)
	if err != nil {
		return nil, err
	}
	id := uuid.New()
	r := &certRecord{
		ID: id, ARN: sc.arn(id), Type: acmapi.CertificateTypeAMAZONISSUED,
		Status: acmapi.CertificateStatusPENDINGVALIDATION,
		Domain: domain, SANs: names, KeyAlgo: algo, CTLogging: ctPref,
		CertPEM: string(certPEM), ChainPEM: string(chainPEM), KeyPEM: string(keyPEM),
		CreatedAt: now, ValidAt: now.Add(s.ValidationDelay),
		ValidationMethod: method,
		Tags:             mergeTags(nil, in.Tags),
	}
	r.Validations = newValidations(names, validationDomains)
	if method == acmapi.ValidationMethodDNS && s.dns != nil {
		r.ValidAt = time.Time{} // issued when its records resolve
	}
	var out string
	err = s.store.Update(func(tx *store.Tx) error {
		// A concurrent retry with the same token may have won the race.
		if in.IdempotencyToken != nil {
			earlier, err := earlierRequest(tx, sc, tokKey, now)
			if err != nil || earlier != "" {
				out = earlier
				return err
			}
			if err := tx.Put(tokKey, tokenRecord{ARN: r.ARN, At: now}); err != nil {
				return err
			}
		}
		if err := s.checkLimit(tx, sc); err != nil {
			return err
		}
		out = r.ARN
		return s.save(tx, sc, r)
	})
	if err != nil {
		return nil, err
	}
	if out == r.ARN {
		s.log.Info("acm certificate requested; cloudbox's CA issues it without real validation",
			"arn", r.ARN, "domain", domain, "validation", method, "issued_in", s.ValidationDelay.String())
	}
	return &acmapi.RequestCertificateResponse{CertificateArn: str(out)}, nil
}

// newValidations makes the validation of each name: AWS's CNAME record, one
// per distinct domain (a wildcard shares its base domain's record), and the
// domain the e-mails would go to.
func newValidations(names []string, validationDomains map[string]string) []domainValidation {
	records := map[string][2]string{}
	var out []domainValidation
	for _, n := range names {
		base := strings.TrimPrefix(n, "*.")
		rec, ok := records[base]
		if !ok {
			rec = [2]string{
				"_" + randomHex(16) + "." + base + ".",
				"_" + randomHex(16) + "." + randomLetters(10) + ".acm-validations.aws.",
			}
			records[base] = rec
		}
		vd := validationDomains[n]
		if vd == "" {
			vd = base
		}
		out = append(out, domainValidation{Domain: n, ValidationDomain: vd, RecordName: rec[0], RecordValue: rec[1]})
	}
	return out
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func randomLetters(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = 'a' + b[i]%26
	}
	return string(b)
}

func (s *Service) view(ctx context.Context, certARN string) (*certRecord, error) {
	sc := scopeOf(ctx)
	var r *certRecord
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		r, err = s.load(tx, sc, certARN)
		return err
	})
	return r, err
}

func (s *Service) describeCertificate(ctx context.Context, in *acmapi.DescribeCertificateRequest) (*acmapi.DescribeCertificateResponse, error) {
	r, err := s.view(ctx, deref(in.CertificateArn))
	if err != nil {
		return nil, err
	}
	return &acmapi.DescribeCertificateResponse{Certificate: r.detail()}, nil
}

func notIssued(r *certRecord) error {
	return api.Errorf("RequestInProgressException", "Certificate %s is in status %s: it is not issued yet.", r.ARN, r.Status)
}

func (s *Service) getCertificate(ctx context.Context, in *acmapi.GetCertificateRequest) (*acmapi.GetCertificateResponse, error) {
	r, err := s.view(ctx, deref(in.CertificateArn))
	if err != nil {
		return nil, err
	}
	if !r.hasCertificate() {
		return nil, notIssued(r)
	}
	out := &acmapi.GetCertificateResponse{Certificate: str(r.CertPEM)}
	if r.ChainPEM != "" {
		out.CertificateChain = str(r.ChainPEM)
	}
	return out, nil
}

func (s *Service) deleteCertificate(ctx context.Context, in *acmapi.DeleteCertificateRequest) (*acmapi.DeleteCertificateOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		r, err := s.load(tx, sc, deref(in.CertificateArn))
		if err != nil {
			return err
		}
		if len(r.InUseBy) > 0 {
			return api.Errorf("ResourceInUseException", "Certificate %s in account %s is in use.", r.ARN, sc.account)
		}
		_, err = tx.Delete(sc.key(r.ID))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &acmapi.DeleteCertificateOutput{}, nil
}

// exportCertificate refuses every certificate cloudbox holds: AWS exports
// private certificates (issued by AWS Private CA) only, and cloudbox has
// none.
func (s *Service) exportCertificate(ctx context.Context, in *acmapi.ExportCertificateRequest) (*acmapi.ExportCertificateResponse, error) {
	r, err := s.view(ctx, deref(in.CertificateArn))
	if err != nil {
		return nil, err
	}
	return nil, validationError("Certificate ARN: %s is not a private certificate", r.ARN)
}

func (s *Service) updateCertificateOptions(ctx context.Context, in *acmapi.UpdateCertificateOptionsRequest) (*acmapi.UpdateCertificateOptionsOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		r, err := s.load(tx, sc, deref(in.CertificateArn))
		if err != nil {
			return err
		}
		if r.Type == acmapi.CertificateTypeIMPORTED {
			return api.Errorf("InvalidStateException", "Certificate %s is imported: its options cannot be updated.", r.ARN)
		}
		if p := in.Options.CertificateTransparencyLoggingPreference; p != nil {
			r.CTLogging = *p
		}
		return s.save(tx, sc, r)
	})
	if err != nil {
		return nil, err
	}
	return &acmapi.UpdateCertificateOptionsOutput{}, nil
}

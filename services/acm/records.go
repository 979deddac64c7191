package acm

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	acmapi "github.com/cloudbox/cloudbox/api/acm"
	"github.com/cloudbox/cloudbox/ca"
)

// certRecord is one certificate, under the store kind acm:certificate with
// the ARN's UUID as id. The details DescribeCertificate shows of the
// certificate itself (serial, issuer, validity, usages) are read from
// CertPEM when shown, so they never disagree with it.
type certRecord struct {
	ID      string
	ARN     string
	Type    string // IMPORTED or AMAZON_ISSUED
	Status  string
	Domain  string
	SANs    []string
	KeyAlgo string
	// CTLogging is the certificate transparency logging preference.
	CTLogging string

	CertPEM  string
	ChainPEM string
	KeyPEM   string

	CreatedAt  time.Time
	ImportedAt time.Time `json:",omitzero"`
	IssuedAt   time.Time `json:",omitzero"`
	// ValidAt is when a pending request becomes ISSUED; zero while it waits
	// for its DNS records (validate.go).
	ValidAt time.Time `json:",omitzero"`

	ValidationMethod string             `json:",omitempty"`
	Validations      []domainValidation `json:",omitempty"`

	InUseBy []string      `json:",omitempty"`
	Tags    []*acmapi.Tag `json:",omitempty"`
}

// domainValidation is how one name of a request proves ownership.
type domainValidation struct {
	Domain           string
	ValidationDomain string
	RecordName       string `json:",omitempty"` // DNS
	RecordValue      string `json:",omitempty"`
}

// settle moves the record to the state it has reached by now: a pending
// request is issued once its validation delay has passed, and a certificate
// past its NotAfter has expired.
func (r *certRecord) settle(now time.Time) {
	if r.Status == acmapi.CertificateStatusPENDINGVALIDATION && !r.ValidAt.IsZero() && !now.Before(r.ValidAt) {
		r.Status = acmapi.CertificateStatusISSUED
		r.IssuedAt = r.ValidAt
	}
	if r.Status == acmapi.CertificateStatusISSUED {
		if c, err := ca.ParseCertificate([]byte(r.CertPEM)); err == nil && now.After(c.NotAfter) {
			r.Status = acmapi.CertificateStatusEXPIRED
		}
	}
}

// hasCertificate reports whether the record's certificate can be shown and
// served: it is issued (or imported), possibly expired since.
func (r *certRecord) hasCertificate() bool {
	return r.Status == acmapi.CertificateStatusISSUED || r.Status == acmapi.CertificateStatusEXPIRED
}

func (r *certRecord) renewalEligibility() string {
	if r.Type == acmapi.CertificateTypeAMAZONISSUED && len(r.InUseBy) > 0 {
		return acmapi.RenewalEligibilityELIGIBLE
	}
	return acmapi.RenewalEligibilityINELIGIBLE
}

func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// detail is the record as DescribeCertificate shows it.
func (r *certRecord) detail() *acmapi.CertificateDetail {
	d := &acmapi.CertificateDetail{
		CertificateArn:          str(r.ARN),
		DomainName:              str(r.Domain),
		SubjectAlternativeNames: ptrs(r.SANs),
		Status:                  str(r.Status),
		Type:                    str(r.Type),
		KeyAlgorithm:            str(r.KeyAlgo),
		InUseBy:                 ptrs(shownUsers(r.InUseBy)),
		RenewalEligibility:      str(r.renewalEligibility()),
		Options:                 &acmapi.CertificateOptions{CertificateTransparencyLoggingPreference: str(r.CTLogging)},
		ImportedAt:              timePtr(r.ImportedAt),
		IssuedAt:                timePtr(r.IssuedAt),
	}
	if d.InUseBy == nil {
		d.InUseBy = []*string{} // AWS shows an empty list
	}
	if r.Type == acmapi.CertificateTypeAMAZONISSUED {
		d.CreatedAt = timePtr(r.CreatedAt)
		d.DomainValidationOptions = r.domainValidations()
	}
	if !r.hasCertificate() {
		return d
	}
	c, err := ca.ParseCertificate([]byte(r.CertPEM))
	if err != nil {
		return d
	}
	d.Serial = str(serial(c))
	d.Subject = str(c.Subject.String())
	d.Issuer = str(issuerName(c))
	d.NotBefore = timePtr(c.NotBefore)
	d.NotAfter = timePtr(c.NotAfter)
	d.SignatureAlgorithm = str(signatureAlgorithm(c.SignatureAlgorithm))
	for _, u := range keyUsages(c) {
		d.KeyUsages = append(d.KeyUsages, &acmapi.KeyUsage{Name: str(u)})
	}
	for _, u := range c.ExtKeyUsage {
		if name, oid := extKeyUsage(u); name != "" {
			d.ExtendedKeyUsages = append(d.ExtendedKeyUsages, &acmapi.ExtendedKeyUsage{Name: str(name), OID: str(oid)})
		}
	}
	return d
}

// summary is the record as ListCertificates shows it.
func (r *certRecord) summary() *acmapi.CertificateSummary {
	inUse := len(r.InUseBy) > 0
	more := len(r.SANs) > 100
	exported := false
	sum := &acmapi.CertificateSummary{
		CertificateArn:                       str(r.ARN),
		DomainName:                           str(r.Domain),
		SubjectAlternativeNameSummaries:      ptrs(r.SANs[:min(len(r.SANs), 100)]),
		HasAdditionalSubjectAlternativeNames: &more,
		Status:                               str(r.Status),
		Type:                                 str(r.Type),
		KeyAlgorithm:                         str(r.KeyAlgo),
		InUse:                                &inUse,
		Exported:                             &exported,
		RenewalEligibility:                   str(r.renewalEligibility()),
		ImportedAt:                           timePtr(r.ImportedAt),
		IssuedAt:                             timePtr(r.IssuedAt),
	}
	if r.Type == acmapi.CertificateTypeAMAZONISSUED {
		sum.CreatedAt = timePtr(r.CreatedAt)
	}
	if !r.hasCertificate() {
		return sum
	}
	if c, err := ca.ParseCertificate([]byte(r.CertPEM)); err == nil {
		sum.NotBefore = timePtr(c.NotBefore)
		sum.NotAfter = timePtr(c.NotAfter)
		sum.KeyUsages = ptrs(keyUsages(c))
		for _, u := range c.ExtKeyUsage {
			if name, _ := extKeyUsage(u); name != "" {
				sum.ExtendedKeyUsages = append(sum.ExtendedKeyUsages, str(name))
			}
		}
	}
	return sum
}

func (r *certRecord) domainValidations() []*acmapi.DomainValidation {
	status := acmapi.DomainStatusPENDINGVALIDATION
	if r.Status != acmapi.CertificateStatusPENDINGVALIDATION {
		status = acmapi.DomainStatusSUCCESS
	}
	var out []*acmapi.DomainValidation
	for _, v := range r.Validations {
		dv := &acmapi.DomainValidation{
			DomainName:       str(v.Domain),
			ValidationDomain: str(v.ValidationDomain),
			ValidationStatus: str(status),
			ValidationMethod: str(r.ValidationMethod),
		}
		if r.ValidationMethod == acmapi.ValidationMethodDNS {
			dv.ResourceRecord = &acmapi.ResourceRecord{Name: str(v.RecordName), Type: str(acmapi.RecordTypeCNAME), Value: str(v.RecordValue)}
		} else {
			for _, box := range []string{"admin", "administrator", "hostmaster", "postmaster", "webmaster"} {
				dv.ValidationEmails = append(dv.ValidationEmails, str(box+"@"+v.ValidationDomain))
			}
		}
		out = append(out, dv)
	}
	return out
}

// ptrs returns ss as the API's list of string pointers (nil for none).
func ptrs(ss []string) []*string {
	if len(ss) == 0 {
		return nil
	}
	out := make([]*string, len(ss))
	for i := range ss {
		out[i] = &ss[i]
	}
	return out
}

// keyAlgorithm names a public key as ACM does; "" for a key ACM does not
// support.
func keyAlgorithm(pub any) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch n := k.N.BitLen(); n {
		case 1024, 2048, 3072, 4096:
			return fmt.Sprintf("RSA_%d", n)
		}
	case *ecdsa.PublicKey:
		switch k.Curve.Params().Name {
		case "P-256":
			return acmapi.KeyAlgorithmECPrime256v1
		case "P-384":
			return acmapi.KeyAlgorithmECSecp384r1
		case "P-521":
			return acmapi.KeyAlgorithmECSecp521r1
		}
	}
	return ""
}

// serial formats a serial number as ACM does: hex bytes joined by colons.
func serial(c *x509.Certificate) string {
	b := c.SerialNumber.Bytes()
	parts := make([]string, len(b))
	for i := range b {
		parts[i] = hex.EncodeToString(b[i : i+1])
	}
	return strings.Join(parts, ":")
}

// issuerName is the issuer as ACM names it: its organization, else its
// common name.
func issuerName(c *x509.Certificate) string {
	if len(c.Issuer.Organization) > 0 {
		return c.Issuer.Organization[0]
	}
	return c.Issuer.CommonName
}

func signatureAlgorithm(a x509.SignatureAlgorithm) string {
	switch a {
	case x509.SHA256WithRSA:
		return "SHA256WITHRSA"
	case x509.SHA384WithRSA:
		return "SHA384WITHRSA"
	case x509.SHA512WithRSA:
		return "SHA512WITHRSA"
	case x509.SHA1WithRSA:
		return "SHA1WITHRSA"
	case x509.SHA256WithRSAPSS:
		return "SHA256WITHRSAANDMGF1"
	case x509.ECDSAWithSHA256:
		return "SHA256WITHECDSA"
	case x509.ECDSAWithSHA384:
		return "SHA384WITHECDSA"
	case x509.ECDSAWithSHA512:
		return "SHA512WITHECDSA"
	}
	return strings.ToUpper(a.String())
}

func keyUsages(c *x509.Certificate) []string {
	var out []string
	for _, u := range []struct {
		bit  x509.KeyUsage
		name string
	}{
		{x509.KeyUsageDigitalSignature, acmapi.KeyUsageNameDIGITALSIGNATURE},
		{x509.KeyUsageContentCommitment, acmapi.KeyUsageNameNONREPUDIATION},
		{x509.KeyUsageKeyEncipherment, acmapi.KeyUsageNameKEYENCIPHERMENT},
		{x509.KeyUsageDataEncipherment, acmapi.KeyUsageNameDATAENCIPHERMENT},
		{x509.KeyUsageKeyAgreement, acmapi.KeyUsageNameKEYAGREEMENT},
		{x509.KeyUsageCertSign, acmapi.KeyUsageNameCERTIFICATESIGNING},
		{x509.KeyUsageCRLSign, acmapi.KeyUsageNameCRLSIGNING},
		{x509.KeyUsageEncipherOnly, acmapi.KeyUsageNameENCIPHERONLY},
		{x509.KeyUsageDecipherOnly, acmapi.KeyUsageNameDECIPHERONLY},
	} {
		if c.KeyUsage&u.bit != 0 {
			out = append(out, u.name)
		}
	}
	return out
}

func extKeyUsage(u x509.ExtKeyUsage) (name, oid string) {
	switch u {
	case x509.ExtKeyUsageServerAuth:
		return acmapi.ExtendedKeyUsageNameTLSWEBSERVERAUTHENTICATION, "1.3.6.1.5.5.7.3.1"
	case x509.ExtKeyUsageClientAuth:
		return acmapi.ExtendedKeyUsageNameTLSWEBCLIENTAUTHENTICATION, "1.3.6.1.5.5.7.3.2"
	case x509.ExtKeyUsageCodeSigning:
		return acmapi.ExtendedKeyUsageNameCODESIGNING, "1.3.6.1.5.5.7.3.3"
	case x509.ExtKeyUsageEmailProtection:
		return acmapi.ExtendedKeyUsageNameEMAILPROTECTION, "1.3.6.1.5.5.7.3.4"
	case x509.ExtKeyUsageTimeStamping:
		return acmapi.ExtendedKeyUsageNameTIMESTAMPING, "1.3.6.1.5.5.7.3.8"
	case x509.ExtKeyUsageOCSPSigning:
		return acmapi.ExtendedKeyUsageNameOCSPSIGNING, "1.3.6.1.5.5.7.3.9"
	case x509.ExtKeyUsageAny:
		return acmapi.ExtendedKeyUsageNameANY, "2.5.29.37.0"
	}
	return "", ""
}

// shownUsers is InUseBy as AWS shows it: the resources that use the
// certificate, once each. Users are recorded at the finest grain (a load
// balancer's listeners, so that releasing one listener keeps the
// certificate in use by another); AWS names the load balancer.
func shownUsers(users []string) []string {
	var out []string
	for _, u := range users {
		// arn:...:listener/app/<name>/<lb id>/<listener id> belongs to
		// arn:...:loadbalancer/app/<name>/<lb id>.
		if i := strings.Index(u, ":listener/"); i >= 0 {
			rest := u[i+len(":listener/"):]
			if j := strings.LastIndexByte(rest, '/'); j >= 0 {
				u = u[:i] + ":loadbalancer/" + rest[:j]
			}
		}
		if !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

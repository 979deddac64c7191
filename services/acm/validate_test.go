package acm_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	acmsdk "github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acm/types"
)

// publicZone stands in for Route 53's public zones.
type publicZone struct {
	mu      sync.Mutex
	records map[string]string // "name type" -> value
}

func (z *publicZone) PublicRecords(name, rtype string) []string {
	z.mu.Lock()
	defer z.mu.Unlock()
	if v, ok := z.records[name+" "+rtype]; ok {
		return []string{v}
	}
	return nil
}

func (z *publicZone) set(name, rtype, value string) {
	z.mu.Lock()
	defer z.mu.Unlock()
	z.records[strings.ToLower(strings.TrimSuffix(name, "."))+" "+rtype] = value
}

// With public DNS to look in, a DNS-validated request stays pending until
// every CNAME it asks for resolves, then is issued; e-mail validation
// still completes by itself.
func TestDNSValidationWaitsForRecords(t *testing.T) {
	c := newCloud(t)
	zone := &publicZone{records: map[string]string{}}
	c.svc.SetPublicDNS(zone)
	validate := func() {
		t.Helper()
		if err := c.svc.ValidatePending(); err != nil {
			t.Fatal(err)
		}
	}

	out := must[*acmsdk.RequestCertificateOutput](t)(c.certs.RequestCertificate(ctx, &acmsdk.RequestCertificateInput{
		DomainName: aws.String("www.hybridbts.com"), SubjectAlternativeNames: []string{"api.hybridbts.com"}, ValidationMethod: types.ValidationMethodDns,
	}))
	arn := out.CertificateArn
	describe := func() *types.CertificateDetail {
		return must[*acmsdk.DescribeCertificateOutput](t)(c.certs.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: arn})).Certificate
	}
	validate()
	d := describe()
	if d.Status != types.CertificateStatusPendingValidation {
		t.Fatalf("issued without its records: %s", d.Status)
	}
	// One of the two records is not enough.
	rr := d.DomainValidationOptions[0].ResourceRecord
	zone.set(aws.ToString(rr.Name), "CNAME", aws.ToString(rr.Value))
	validate()
	if d = describe(); d.Status != types.CertificateStatusPendingValidation {
		t.Fatalf("issued with one record of two: %s", d.Status)
	}
	rr = d.DomainValidationOptions[1].ResourceRecord
	zone.set(aws.ToString(rr.Name), "CNAME", strings.ToUpper(aws.ToString(rr.Value))) // DNS names compare case-insensitively
	validate()
	if d = describe(); d.Status != types.CertificateStatusIssued || d.IssuedAt == nil || d.DomainValidationOptions[0].ValidationStatus != types.DomainStatusSuccess {
		t.Fatalf("with both records: %s issued %v", d.Status, d.IssuedAt)
	}

	email := must[*acmsdk.RequestCertificateOutput](t)(c.certs.RequestCertificate(ctx, &acmsdk.RequestCertificateInput{
		DomainName: aws.String("mail.hybridbts.com"), ValidationMethod: types.ValidationMethodEmail,
	}))
	deadline := time.Now().Add(10 * time.Second)
	for {
		st := must[*acmsdk.DescribeCertificateOutput](t)(c.certs.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: email.CertificateArn})).Certificate.Status
		if st == types.CertificateStatusIssued {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the e-mail validated request stayed %s", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

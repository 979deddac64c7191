package acm_test

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	acmsdk "github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acm/types"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/ca"
	"github.com/cloudbox/cloudbox/store"
)

var arnRE = regexp.MustCompile(`^arn:aws:acm:eu-west-3:000000000000:certificate/[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestImportDescribeGetDelete(t *testing.T) {
	c := newCloud(t)
	now := time.Now()
	certPEM, keyPEM := selfSigned(t, "www.example.com", []string{"www.example.com", "example.com"}, now.Add(-time.Hour), now.Add(48*time.Hour))
	chainPEM, _ := selfSigned(t, "Example Root", nil, now.Add(-time.Hour), now.Add(48*time.Hour))
	imp := must[*acmsdk.ImportCertificateOutput](t)(c.certs.ImportCertificate(ctx, &acmsdk.ImportCertificateInput{
		Certificate: certPEM, PrivateKey: keyPEM, CertificateChain: chainPEM,
		Tags: []types.Tag{{Key: aws.String("env"), Value: aws.String("prod")}},
	}))
	certARN := aws.ToString(imp.CertificateArn)
	if !arnRE.MatchString(certARN) {
		t.Fatalf("ARN %s", certARN)
	}
	d := must[*acmsdk.DescribeCertificateOutput](t)(c.certs.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: &certARN})).Certificate
	if aws.ToString(d.DomainName) != "www.example.com" || !slices.Equal(d.SubjectAlternativeNames, []string{"www.example.com", "example.com"}) {
		t.Errorf("names %s %v", aws.ToString(d.DomainName), d.SubjectAlternativeNames)
	}
	if d.Status != types.CertificateStatusIssued || d.Type != types.CertificateTypeImported || d.KeyAlgorithm != types.KeyAlgorithmRsa2048 {
		t.Errorf("status %s type %s key %s", d.Status, d.Type, d.KeyAlgorithm)
	}
	if aws.ToString(d.Serial) != "0a:1b:2c:3d" || aws.ToString(d.Subject) != "CN=www.example.com,O=Example Org" || aws.ToString(d.Issuer) != "Example Org" {
		t.Errorf("serial %s subject %s issuer %s", aws.ToString(d.Serial), aws.ToString(d.Subject), aws.ToString(d.Issuer))
	}
	if aws.ToString(d.SignatureAlgorithm) != "SHA256WITHRSA" || d.RenewalEligibility != types.RenewalEligibilityIneligible {
		t.Errorf("sig %s renewal %s", aws.ToString(d.SignatureAlgorithm), d.RenewalEligibility)
	}
	if d.ImportedAt == nil || d.CreatedAt != nil || d.IssuedAt != nil || d.NotBefore == nil || d.NotAfter == nil || d.DomainValidationOptions != nil {
		t.Errorf("times: imported %v created %v issued %v; validations %v", d.ImportedAt, d.CreatedAt, d.IssuedAt, d.DomainValidationOptions)
	}
	if len(d.InUseBy) != 0 || len(d.KeyUsages) != 2 || len(d.ExtendedKeyUsages) != 2 || aws.ToString(d.ExtendedKeyUsages[0].OID) != "1.3.6.1.5.5.7.3.1" {
		t.Errorf("in use %v, usages %+v %+v", d.InUseBy, d.KeyUsages, d.ExtendedKeyUsages)
	}
	got := must[*acmsdk.GetCertificateOutput](t)(c.certs.GetCertificate(ctx, &acmsdk.GetCertificateInput{CertificateArn: &certARN}))
	if aws.ToString(got.Certificate) != string(certPEM) || aws.ToString(got.CertificateChain) != string(chainPEM) {
		t.Errorf("GetCertificate returned other PEMs")
	}
	certAndChain, key, err := c.svc.KeyPair(account, region, certARN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(certAndChain, key); err != nil {
		t.Errorf("KeyPair: %v", err)
	}

	// Reimport keeps the ARN and the tags.
	cert2, key2 := selfSigned(t, "new.example.com", []string{"new.example.com"}, now.Add(-time.Hour), now.Add(24*time.Hour))
	re := must[*acmsdk.ImportCertificateOutput](t)(c.certs.ImportCertificate(ctx, &acmsdk.ImportCertificateInput{CertificateArn: &certARN, Certificate: cert2, PrivateKey: key2}))
	if aws.ToString(re.CertificateArn) != certARN {
		t.Errorf("reimport ARN %s", aws.ToString(re.CertificateArn))
	}
	d = must[*acmsdk.DescribeCertificateOutput](t)(c.certs.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: &certARN})).Certificate
	if aws.ToString(d.DomainName) != "new.example.com" {
		t.Errorf("after reimport: %s", aws.ToString(d.DomainName))
	}
	tags := must[*acmsdk.ListTagsForCertificateOutput](t)(c.certs.ListTagsForCertificate(ctx, &acmsdk.ListTagsForCertificateInput{CertificateArn: &certARN})).Tags
	if len(tags) != 1 || aws.ToString(tags[0].Key) != "env" {
		t.Errorf("tags after reimport %+v", tags)
	}
	_, err = c.certs.ImportCertificate(ctx, &acmsdk.ImportCertificateInput{CertificateArn: &certARN, Certificate: cert2, PrivateKey: key2, Tags: []types.Tag{{Key: aws.String("a")}}})
	wantCode(t, err, "InvalidParameterException")

	must[*acmsdk.DeleteCertificateOutput](t)(c.certs.DeleteCertificate(ctx, &acmsdk.DeleteCertificateInput{CertificateArn: &certARN}))
	_, err = c.certs.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: &certARN})
	if msg := wantCode(t, err, "ResourceNotFoundException"); msg != "Could not find certificate with arn "+certARN+"." {
		t.Errorf("message %q", msg)
	}
	_, err = c.certs.DeleteCertificate(ctx, &acmsdk.DeleteCertificateInput{CertificateArn: &certARN})
	wantCode(t, err, "ResourceNotFoundException")
}

func TestImportValidation(t *testing.T) {
	c := newCloud(t)
	now := time.Now()
	certPEM, keyPEM := selfSigned(t, "a.example.com", nil, now.Add(-time.Hour), now.Add(time.Hour))
	_, otherKey := selfSigned(t, "b.example.com", nil, now.Add(-time.Hour), now.Add(time.Hour))
	expired, expiredKey := selfSigned(t, "old.example.com", nil, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	for name, in := range map[string]*acmsdk.ImportCertificateInput{
		"not PEM":       {Certificate: []byte("hello"), PrivateKey: keyPEM},
		"key not PEM":   {Certificate: certPEM, PrivateKey: []byte("nope")},
		"key mismatch":  {Certificate: certPEM, PrivateKey: otherKey},
		"bad chain":     {Certificate: certPEM, PrivateKey: keyPEM, CertificateChain: []byte("garbage")},
		"expired":       {Certificate: expired, PrivateKey: expiredKey},
		"cert is a key": {Certificate: keyPEM, PrivateKey: keyPEM},
	} {
		_, err := c.certs.ImportCertificate(ctx, in)
		t.Run(name, func(t *testing.T) { wantCode(t, err, "ValidationException") })
	}
	_, err := c.certs.ImportCertificate(ctx, &acmsdk.ImportCertificateInput{Certificate: certPEM, PrivateKey: keyPEM, Tags: []types.Tag{{Key: aws.String("aws:x")}}})
	wantCode(t, err, "InvalidTagException")
	// The key in PKCS #8 and the certificate among other blocks work too.
	key, _ := ca.ParsePrivateKey(keyPEM)
	pkcs8, _ := ca.EncodePrivateKey(key)
	must[*acmsdk.ImportCertificateOutput](t)(c.certs.ImportCertificate(ctx, &acmsdk.ImportCertificateInput{Certificate: certPEM, PrivateKey: pkcs8}))
}

func TestRequestDNSValidation(t *testing.T) {
	c := newCloud(t)
	out := must[*acmsdk.RequestCertificateOutput](t)(c.certs.RequestCertificate(ctx, &acmsdk.RequestCertificateInput{
		DomainName:              aws.String("shop.example.com"),
		SubjectAlternativeNames: []string{"*.shop.example.com", "api.example.com"},
		ValidationMethod:        types.ValidationMethodDns,
		KeyAlgorithm:            types.KeyAlgorithmEcPrime256v1,
		Tags:                    []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	}))
	certARN := aws.ToString(out.CertificateArn)
	d := must[*acmsdk.DescribeCertificateOutput](t)(c.certs.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: &certARN})).Certificate
	if d.Status != types.CertificateStatusPendingValidation || d.Type != types.CertificateTypeAmazonIssued || d.CreatedAt == nil || d.IssuedAt != nil || d.Serial != nil {
		t.Fatalf("pending: status %s type %s created %v issued %v serial %v", d.Status, d.Type, d.CreatedAt, d.IssuedAt, d.Serial)
	}
	if !slices.Equal(d.SubjectAlternativeNames, []string{"shop.example.com", "*.shop.example.com", "api.example.com"}) {
		t.Errorf("SANs %v", d.SubjectAlternativeNames)
	}
	if len(d.DomainValidationOptions) != 3 {
		t.Fatalf("validations %+v", d.DomainValidationOptions)
	}
	nameRE := regexp.MustCompile(`^_[0-9a-f]{32}\.(shop|api)\.example\.com\.$`)
	valueRE := regexp.MustCompile(`^_[0-9a-f]{32}\.[a-z]{10}\.acm-validations\.aws\.$`)
	for _, v := range d.DomainValidationOptions {
		rr := v.ResourceRecord
		if rr == nil || rr.Type != types.RecordTypeCname || !nameRE.MatchString(aws.ToString(rr.Name)) || !valueRE.MatchString(aws.ToString(rr.Value)) {
			t.Errorf("record of %s: %+v", aws.ToString(v.DomainName), rr)
		}
		if v.ValidationStatus != types.DomainStatusPendingValidation || v.ValidationMethod != types.ValidationMethodDns {
			t.Errorf("%s: %s %s", aws.ToString(v.DomainName), v.ValidationStatus, v.ValidationMethod)
		}
	}
	// The wildcard shares its base domain's record.
	if *d.DomainValidationOptions[0].ResourceRecord.Name != *d.DomainValidationOptions[1].ResourceRecord.Name {
		t.Error("wildcard and base domain have different records")
	}
	_, err := c.certs.GetCertificate(ctx, &acmsdk.GetCertificateInput{CertificateArn: &certARN})
	wantCode(t, err, "RequestInProgressException")
	if _, _, err := c.svc.KeyPair(account, region, certARN); err == nil {
		t.Error("KeyPair of a pending certificate")
	}
	c.st.View(func(tx *store.Tx) error {
		if err := c.svc.Check(tx, account, region, certARN); err == nil {
			t.Error("Check passed a pending certificate")
		}
		return nil
	})

	w := acmsdk.NewCertificateValidatedWaiter(c.certs, func(o *acmsdk.CertificateValidatedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 50*time.Millisecond, 100*time.Millisecond
	})
	if err := w.Wait(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: &certARN}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	d = must[*acmsdk.DescribeCertificateOutput](t)(c.certs.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: &certARN})).Certificate
	if d.Status != types.CertificateStatusIssued || d.IssuedAt == nil || d.KeyAlgorithm != types.KeyAlgorithmEcPrime256v1 || aws.ToString(d.Issuer) != ca.Name {
		t.Errorf("issued: %s issued %v key %s issuer %s", d.Status, d.IssuedAt, d.KeyAlgorithm, aws.ToString(d.Issuer))
	}
	if aws.ToString(d.SignatureAlgorithm) != "SHA256WITHECDSA" || d.Options.CertificateTransparencyLoggingPreference != types.CertificateTransparencyLoggingPreferenceEnabled {
		t.Errorf("sig %s options %+v", aws.ToString(d.SignatureAlgorithm), d.Options)
	}
	for _, v := range d.DomainValidationOptions {
		if v.ValidationStatus != types.DomainStatusSuccess {
			t.Errorf("%s still %s", aws.ToString(v.DomainName), v.ValidationStatus)
		}
	}
	if days := d.NotAfter.Sub(*d.NotBefore).Hours() / 24; days < 394 || days > 396 {
		t.Errorf("valid %.0f days", days)
	}

	got := must[*acmsdk.GetCertificateOutput](t)(c.certs.GetCertificate(ctx, &acmsdk.GetCertificateInput{CertificateArn: &certARN}))
	if aws.ToString(got.CertificateChain) != string(c.ca.CertPEM()) {
		t.Error("chain is not cloudbox's CA")
	}
	leaf, err := ca.ParseCertificate([]byte(aws.ToString(got.Certificate)))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(c.ca.Certificate())
	for _, name := range []string{"shop.example.com", "cart.shop.example.com", "api.example.com"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: roots, DNSName: name}); err != nil {
			t.Errorf("verify %s: %v", name, err)
		}
	}
	certAndChain, keyPEM, err := c.svc.KeyPair(account, region, certARN)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tls.X509KeyPair(certAndChain, keyPEM); err != nil {
		t.Errorf("KeyPair: %v", err)
	}
	// Export is for private certificates only.
	_, err = c.certs.ExportCertificate(ctx, &acmsdk.ExportCertificateInput{CertificateArn: &certARN, Passphrase: []byte("secret")})
	wantCode(t, err, "ValidationException")
}

func TestRequestEmailValidationAndDefaults(t *testing.T) {
	c := newCloud(t)
	out := must[*acmsdk.RequestCertificateOutput](t)(c.certs.RequestCertificate(ctx, &acmsdk.RequestCertificateInput{
		DomainName:              aws.String("www.example.org"),
		DomainValidationOptions: []types.DomainValidationOption{{DomainName: aws.String("www.example.org"), ValidationDomain: aws.String("example.org")}},
	}))
	d := must[*acmsdk.DescribeCertificateOutput](t)(c.certs.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: out.CertificateArn})).Certificate
	v := d.DomainValidationOptions[0]
	if v.ValidationMethod != types.ValidationMethodEmail || v.ResourceRecord != nil || aws.ToString(v.ValidationDomain) != "example.org" ||
		!slices.Contains(v.ValidationEmails, "admin@example.org") || len(v.ValidationEmails) != 5 {
		t.Errorf("email validation %+v", v)
	}
	if d.KeyAlgorithm != types.KeyAlgorithmRsa2048 {
		t.Errorf("default key %s", d.KeyAlgorithm)
	}
	_, err := c.certs.RequestCertificate(ctx, &acmsdk.RequestCertificateInput{
		DomainName:              aws.String("www.example.org"),
		DomainValidationOptions: []types.DomainValidationOption{{DomainName: aws.String("other.example.org"), ValidationDomain: aws.String("example.org")}},
	})
	wantCode(t, err, "InvalidDomainValidationOptionsException")
}

func TestIdempotencyToken(t *testing.T) {
	c := newCloud(t)
	req := func(token, domain string) string {
		out := must[*acmsdk.RequestCertificateOutput](t)(c.certs.RequestCertificate(ctx, &acmsdk.RequestCertificateInput{
			DomainName: aws.String(domain), IdempotencyToken: aws.String(token), KeyAlgorithm: types.KeyAlgorithmEcPrime256v1,
		}))
		return aws.ToString(out.CertificateArn)
	}
	a := req("tok1", "a.example.com")
	if b := req("tok1", "a.example.com"); b != a {
		t.Errorf("same token and parameters: %s then %s", a, b)
	}
	if b := req("tok1", "b.example.com"); b == a {
		t.Error("same token, other parameters: same certificate")
	}
	if b := req("tok2", "a.example.com"); b == a {
		t.Error("other token: same certificate")
	}
	must[*acmsdk.DeleteCertificateOutput](t)(c.certs.DeleteCertificate(ctx, &acmsdk.DeleteCertificateInput{CertificateArn: &a}))
	if b := req("tok1", "a.example.com"); b == a {
		t.Error("the token returned a deleted certificate")
	}
}

func TestListCertificates(t *testing.T) {
	c := newCloud(t)
	c.svc.ValidationDelay = time.Hour
	var rsaARNs []string
	for i := range 5 {
		out := must[*acmsdk.RequestCertificateOutput](t)(c.certs.RequestCertificate(ctx, &acmsdk.RequestCertificateInput{DomainName: aws.String(fmt.Sprintf("n%d.example.com", i))}))
		rsaARNs = append(rsaARNs, aws.ToString(out.CertificateArn))
	}
	ec := must[*acmsdk.ImportCertificateOutput](t)(c.certs.ImportCertificate(ctx, importable(t, c, "ec.example.com")))
	// By default only RSA_1024 and RSA_2048 certificates are listed.
	all := listAll(t, c, &acmsdk.ListCertificatesInput{MaxItems: aws.Int32(2)})
	if !slices.Equal(all, rsaARNs) {
		t.Errorf("pages: %v, want %v", all, rsaARNs)
	}
	withEC := listAll(t, c, &acmsdk.ListCertificatesInput{Includes: &types.Filters{KeyTypes: []types.KeyAlgorithm{types.KeyAlgorithmEcPrime256v1, types.KeyAlgorithmRsa2048}}})
	if len(withEC) != 6 || withEC[5] != aws.ToString(ec.CertificateArn) {
		t.Errorf("with EC: %v", withEC)
	}
	issued := listAll(t, c, &acmsdk.ListCertificatesInput{CertificateStatuses: []types.CertificateStatus{types.CertificateStatusIssued}, Includes: &types.Filters{KeyTypes: []types.KeyAlgorithm{types.KeyAlgorithmEcPrime256v1}}})
	if !slices.Equal(issued, []string{aws.ToString(ec.CertificateArn)}) {
		t.Errorf("issued: %v", issued)
	}
	pending := listAll(t, c, &acmsdk.ListCertificatesInput{CertificateStatuses: []types.CertificateStatus{types.CertificateStatusPendingValidation}, SortOrder: types.SortOrderDescending, SortBy: types.SortByCreatedAt})
	if len(pending) != 5 || pending[0] != rsaARNs[4] {
		t.Errorf("pending, newest first: %v", pending)
	}
	usage := listAll(t, c, &acmsdk.ListCertificatesInput{Includes: &types.Filters{
		KeyTypes:         []types.KeyAlgorithm{types.KeyAlgorithmEcPrime256v1, types.KeyAlgorithmRsa2048},
		ExtendedKeyUsage: []types.ExtendedKeyUsageName{types.ExtendedKeyUsageNameTlsWebServerAuthentication},
	}})
	if !slices.Equal(usage, []string{aws.ToString(ec.CertificateArn)}) {
		t.Errorf("serverAuth: %v", usage)
	}
	page := must[*acmsdk.ListCertificatesOutput](t)(c.certs.ListCertificates(ctx, &acmsdk.ListCertificatesInput{Includes: &types.Filters{KeyTypes: []types.KeyAlgorithm{types.KeyAlgorithmEcPrime256v1}}}))
	s := page.CertificateSummaryList[0]
	if s.Status != types.CertificateStatusIssued || s.Type != types.CertificateTypeImported || aws.ToBool(s.InUse) || s.NotAfter == nil || !slices.Equal(s.SubjectAlternativeNameSummaries, []string{"ec.example.com"}) {
		t.Errorf("summary %+v", s)
	}
	_, err := c.certs.ListCertificates(ctx, &acmsdk.ListCertificatesInput{NextToken: aws.String("!!")})
	wantCode(t, err, "InvalidArgsException")
	// Another region sees none of them.
	other := must[*acmsdk.ListCertificatesOutput](t)(c.client("us-east-1", "test").ListCertificates(ctx, &acmsdk.ListCertificatesInput{}))
	if len(other.CertificateSummaryList) != 0 {
		t.Errorf("us-east-1 lists %d", len(other.CertificateSummaryList))
	}
}

func listAll(t *testing.T, c *cloud, in *acmsdk.ListCertificatesInput) []string {
	t.Helper()
	var arns []string
	p := acmsdk.NewListCertificatesPaginator(c.certs, in)
	for p.HasMorePages() {
		page := must[*acmsdk.ListCertificatesOutput](t)(p.NextPage(ctx))
		if in.MaxItems != nil && len(page.CertificateSummaryList) > int(*in.MaxItems) {
			t.Errorf("page of %d", len(page.CertificateSummaryList))
		}
		for _, s := range page.CertificateSummaryList {
			arns = append(arns, aws.ToString(s.CertificateArn))
		}
	}
	return arns
}

// importable is an import of a certificate from another CA (an ECDSA one).
func importable(t *testing.T, c *cloud, domain string) *acmsdk.ImportCertificateInput {
	other, err := ca.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, chainPEM, err := other.Issue([]string{domain}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return &acmsdk.ImportCertificateInput{Certificate: certPEM, PrivateKey: keyPEM, CertificateChain: chainPEM}
}

func TestTags(t *testing.T) {
	c := newCloud(t)
	arn := aws.ToString(must[*acmsdk.ImportCertificateOutput](t)(c.certs.ImportCertificate(ctx, importable(t, c, "t.example.com"))).CertificateArn)
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	must[*acmsdk.AddTagsToCertificateOutput](t)(c.certs.AddTagsToCertificate(ctx, &acmsdk.AddTagsToCertificateInput{CertificateArn: &arn, Tags: []types.Tag{tag("a", "1"), tag("b", "2"), tag("c", "3")}}))
	must[*acmsdk.AddTagsToCertificateOutput](t)(c.certs.AddTagsToCertificate(ctx, &acmsdk.AddTagsToCertificateInput{CertificateArn: &arn, Tags: []types.Tag{tag("a", "9")}}))
	// A tag named with a value is removed only if the value matches.
	must[*acmsdk.RemoveTagsFromCertificateOutput](t)(c.certs.RemoveTagsFromCertificate(ctx, &acmsdk.RemoveTagsFromCertificateInput{CertificateArn: &arn, Tags: []types.Tag{tag("b", "wrong"), {Key: aws.String("c")}}}))
	tags := must[*acmsdk.ListTagsForCertificateOutput](t)(c.certs.ListTagsForCertificate(ctx, &acmsdk.ListTagsForCertificateInput{CertificateArn: &arn})).Tags
	var got []string
	for _, tg := range tags {
		got = append(got, aws.ToString(tg.Key)+"="+aws.ToString(tg.Value))
	}
	if !slices.Equal(got, []string{"a=9", "b=2"}) {
		t.Errorf("tags %v", got)
	}
	var many []types.Tag
	for i := range 49 {
		many = append(many, tag(fmt.Sprintf("k%d", i), "v"))
	}
	_, err := c.certs.AddTagsToCertificate(ctx, &acmsdk.AddTagsToCertificateInput{CertificateArn: &arn, Tags: many})
	wantCode(t, err, "TooManyTagsException")
	_, err = c.certs.AddTagsToCertificate(ctx, &acmsdk.AddTagsToCertificateInput{CertificateArn: &arn, Tags: []types.Tag{tag("aws:cloudformation", "x")}})
	wantCode(t, err, "InvalidTagException")
}

func TestErrors(t *testing.T) {
	c := newCloud(t)
	arn := aws.ToString(must[*acmsdk.ImportCertificateOutput](t)(c.certs.ImportCertificate(ctx, importable(t, c, "e.example.com"))).CertificateArn)
	describe := func(a string) error {
		_, err := c.certs.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: &a})
		return err
	}
	wantCode(t, describe("not-an-arn-at-all-really"), "ValidationException")
	wantCode(t, describe("arn:aws:ec2:eu-west-3:000000000000:instance/i-0123456789"), "InvalidArnException")
	wantCode(t, describe("arn:aws:acm:eu-west-3:000000000000:certificate"), "InvalidArnException")
	wantCode(t, describe(strings.Replace(arn, "eu-west-3", "us-east-1", 1)), "ResourceNotFoundException")
	wantCode(t, describe(strings.Replace(arn, "000000000000", "111111111111", 1)), "ResourceNotFoundException")
	// Another account sees nothing of this one's certificates.
	_, err := c.client(region, "111111111111").DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: &arn})
	wantCode(t, err, "ResourceNotFoundException")

	for _, bad := range []string{"nodot", "-bad.example.com", "a..example.com", "sp ace.example.com", "x.*.example.com", "example.c"} {
		_, err := c.certs.RequestCertificate(ctx, &acmsdk.RequestCertificateInput{DomainName: aws.String(bad)})
		wantCode(t, err, "ValidationException")
	}
	var sans []string
	for i := range 10 {
		sans = append(sans, fmt.Sprintf("s%d.example.com", i))
	}
	_, err = c.certs.RequestCertificate(ctx, &acmsdk.RequestCertificateInput{DomainName: aws.String("example.com"), SubjectAlternativeNames: sans})
	wantCode(t, err, "LimitExceededException")
	_, err = c.certs.RequestCertificate(ctx, &acmsdk.RequestCertificateInput{DomainName: aws.String("example.com"), KeyAlgorithm: types.KeyAlgorithmRsa4096})
	wantCode(t, err, "InvalidParameterException")
	_, err = c.certs.RequestCertificate(ctx, &acmsdk.RequestCertificateInput{DomainName: aws.String("example.com"), CertificateAuthorityArn: aws.String("arn:aws:acm-pca:eu-west-3:000000000000:certificate-authority/x")})
	wantCode(t, err, "InvalidParameterException")

	// A requested certificate cannot be reimported.
	req := aws.ToString(must[*acmsdk.RequestCertificateOutput](t)(c.certs.RequestCertificate(ctx, &acmsdk.RequestCertificateInput{DomainName: aws.String("r.example.com"), KeyAlgorithm: types.KeyAlgorithmEcPrime256v1})).CertificateArn)
	in := importable(t, c, "r.example.com")
	in.CertificateArn = &req
	_, err = c.certs.ImportCertificate(ctx, in)
	wantCode(t, err, "ValidationException")

	// The quota of certificates per account and region.
	c.svc.Limit = 2
	_, err = c.certs.ImportCertificate(ctx, importable(t, c, "f.example.com"))
	wantCode(t, err, "LimitExceededException")
	_, err = c.certs.RequestCertificate(ctx, &acmsdk.RequestCertificateInput{DomainName: aws.String("g.example.com"), KeyAlgorithm: types.KeyAlgorithmEcPrime256v1})
	wantCode(t, err, "LimitExceededException")
}

func TestInUseByLoadBalancer(t *testing.T) {
	c := newCloud(t)
	arn := aws.ToString(must[*acmsdk.ImportCertificateOutput](t)(c.certs.ImportCertificate(ctx, importable(t, c, "lb.example.com"))).CertificateArn)
	const lb = "arn:aws:elasticloadbalancing:eu-west-3:000000000000:loadbalancer/app/web/0123456789abcdef"
	err := c.st.Update(func(tx *store.Tx) error {
		if err := c.svc.Check(tx, account, region, arn); err != nil {
			return err
		}
		if err := c.svc.Use(tx, account, region, arn, lb); err != nil {
			return err
		}
		return c.svc.Use(tx, account, region, arn, lb) // twice is once
	})
	if err != nil {
		t.Fatal(err)
	}
	d := must[*acmsdk.DescribeCertificateOutput](t)(c.certs.DescribeCertificate(ctx, &acmsdk.DescribeCertificateInput{CertificateArn: &arn})).Certificate
	if !slices.Equal(d.InUseBy, []string{lb}) {
		t.Errorf("InUseBy %v", d.InUseBy)
	}
	_, err = c.certs.DeleteCertificate(ctx, &acmsdk.DeleteCertificateInput{CertificateArn: &arn})
	wantCode(t, err, "ResourceInUseException")
	sum := must[*acmsdk.ListCertificatesOutput](t)(c.certs.ListCertificates(ctx, &acmsdk.ListCertificatesInput{Includes: &types.Filters{KeyTypes: []types.KeyAlgorithm{types.KeyAlgorithmEcPrime256v1}}})).CertificateSummaryList
	if !aws.ToBool(sum[0].InUse) {
		t.Error("summary not in use")
	}

	missing := strings.Replace(arn, arn[len(arn)-4:], "0000", 1)
	c.st.Update(func(tx *store.Tx) error {
		for _, err := range []error{
			c.svc.Check(tx, account, region, missing),
			c.svc.Use(tx, account, region, missing, lb),
			c.svc.Check(tx, account, region, "garbage"),
		} {
			ae, ok := errors.AsType[*api.Error](err)
			if !ok || ae.Code != "CertificateNotFound" || !strings.HasPrefix(ae.Message, "Certificate '") {
				t.Errorf("error %v, want CertificateNotFound", err)
			}
		}
		if err := c.svc.Release(tx, account, region, missing, lb); err != nil {
			t.Errorf("Release of a missing certificate: %v", err)
		}
		return c.svc.Release(tx, account, region, arn, lb)
	})
	must[*acmsdk.DeleteCertificateOutput](t)(c.certs.DeleteCertificate(ctx, &acmsdk.DeleteCertificateInput{CertificateArn: &arn}))
}

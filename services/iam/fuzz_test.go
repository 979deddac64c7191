package iam

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"io"
	"math/big"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/cloudbox/cloudbox/api"
	iamapi "github.com/cloudbox/cloudbox/api/iam"
)

// fuzzAWSError fails t unless err is an *api.Error with one of codes.
func fuzzAWSError(t *testing.T, err error, codes ...string) *api.Error {
	t.Helper()
	var ae *api.Error
	if !errors.As(err, &ae) || !slices.Contains(codes, ae.Code) || ae.Message == "" || ae.Status == 0 {
		t.Fatalf("error %#v is not an AWS error with a code of %v", err, codes)
	}
	return ae
}

func fuzzPEM(typ string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

// fuzzCert makes a certificate for name, signed by parent (self-signed
// when nil), and its key.
func fuzzCert(f *testing.F, name string, parent *x509.Certificate, parentKey crypto.Signer) (*x509.Certificate, *ecdsa.PrivateKey) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		f.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2034, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA: parent == nil, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	var signer crypto.Signer = k
	if parent == nil {
		parent = tmpl
	} else {
		signer = parentKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &k.PublicKey, signer)
	if err != nil {
		f.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		f.Fatal(err)
	}
	return c, k
}

// FuzzSAMLMetadata: a metadata document is refused with InvalidInput
// unless it is well-formed XML whose one root is an EntityDescriptor; the
// validUntil written in one comes back.
func FuzzSAMLMetadata(f *testing.F) {
	const md = `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com/saml" validUntil="2031-01-01T00:00:00Z">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
  <!-- comment -->
</md:EntityDescriptor>
`
	for _, doc := range []string{
		md,
		`<EntityDescriptor entityID="x"/>`,
		`<EntityDescriptor validUntil="2031-13-01T00:00:00Z"></EntityDescriptor>`,
		`<EntitiesDescriptor><EntityDescriptor/></EntitiesDescriptor>`,
		`<!DOCTYPE x><EntityDescriptor/>`,
		`<EntityDescriptor>`,
		`<EntityDescriptor/><EntityDescriptor/>`,
		`<EntityDescriptor/>trailing`,
		`leading<EntityDescriptor/>`,
		strings.Repeat("not xml ", 20), "", "\xff",
	} {
		f.Add(doc, "https://idp.example.com/saml", int64(1924992000))
	}
	f.Fuzz(func(t *testing.T, doc, entityID string, until int64) {
		got, err := samlMetadata(doc)
		if err != nil {
			fuzzAWSError(t, err, "InvalidInput")
		} else {
			if !wellFormedMetadata(doc) {
				t.Fatalf("malformed metadata %q accepted", doc)
			}
			if !got.IsZero() && (got.Location() != time.UTC || !strings.Contains(doc, "validUntil")) {
				t.Fatalf("metadata %q valid until %v", doc, got)
			}
		}

		// A document made of a validUntil and an entityID is accepted,
		// with its validUntil.
		// A time of the years 0001 to 9999, which RFC 3339 writes.
		const first, span = -62135596800, 253402300800 + 62135596800
		at := time.Unix(first+(until%span+span)%span, 0).UTC()
		var id bytes.Buffer
		xml.EscapeText(&id, []byte(entityID))
		made := `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="` + id.String() +
			`" validUntil="` + at.Format(time.RFC3339) + `"><md:IDPSSODescriptor/></md:EntityDescriptor>` + "\n"
		got, err = samlMetadata(made)
		if err != nil {
			// xml.EscapeText keeps characters XML does not allow.
			if wellFormedMetadata(made) {
				t.Fatalf("metadata %q refused: %v", made, err)
			}
			return
		}
		if !got.Equal(at) {
			t.Fatalf("metadata valid until %v came back as %v", at, got)
		}
	})
}

// wellFormedMetadata reports whether doc is XML with nothing but one
// EntityDescriptor element (and prolog, comments, spaces) at its top.
func wellFormedMetadata(doc string) bool {
	d := xml.NewDecoder(strings.NewReader(doc))
	depth, roots := 0, 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return roots == 1 && depth == 0
		}
		if err != nil {
			return false
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if roots > 1 || tok.Name.Local != "EntityDescriptor" {
					return false
				}
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && len(bytes.TrimSpace(tok)) > 0 {
				return false
			}
		}
	}
}

// FuzzServerCertificate: UploadServerCertificate's body, chain and key
// are refused with MalformedCertificate or KeyPairMismatch, or are a
// certificate whose key is the one given, with a chain that signs it.
func FuzzServerCertificate(f *testing.F) {
	ca, caKey := fuzzCert(f, "ca", nil, nil)
	mid, midKey := fuzzCert(f, "intermediate", ca, caKey)
	leaf, leafKey := fuzzCert(f, "www.example.com", mid, midKey)
	body := fuzzPEM("CERTIFICATE", leaf.Raw)
	chain := fuzzPEM("CERTIFICATE", mid.Raw) + fuzzPEM("CERTIFICATE", ca.Raw)
	p8, _ := x509.MarshalPKCS8PrivateKey(leafKey)
	sec1, _ := x509.MarshalECPrivateKey(leafKey)
	rk, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		f.Fatal(err)
	}
	key := fuzzPEM("PRIVATE KEY", p8)
	for _, in := range [][3]string{
		{body, chain, key},
		{body, "", "\n" + fuzzPEM("EC PRIVATE KEY", sec1) + "\n"},
		{body, fuzzPEM("CERTIFICATE", mid.Raw), key},
		{body, fuzzPEM("CERTIFICATE", ca.Raw), key},
		{body, fuzzPEM("CERTIFICATE", ca.Raw) + fuzzPEM("CERTIFICATE", mid.Raw), key},
		{body, chain + "junk", key},
		{body + body, "", key},
		{body, "", fuzzPEM("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk))},
		{body, "", fuzzPEM("PRIVATE KEY", []byte("not a key"))},
		{"not a certificate", "", key},
		{strings.Replace(body, "CERTIFICATE", "PUBLIC KEY", 2), "", key},
		{"-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n", "-----BEGIN CERTIFICATE-----", "-----BEGIN"},
	} {
		f.Add(in[0], in[1], in[2])
	}
	f.Fuzz(func(t *testing.T, body, chain, key string) {
		cert, err := checkServerCert(body, chain, key)
		if err != nil {
			fuzzAWSError(t, err, "MalformedCertificate", "KeyPairMismatch")
		} else {
			if c, err := parseCertPEM(body); err != nil || !c.Equal(cert) {
				t.Fatalf("certificate %q accepted as another: %v", body, err)
			}
			k, err := parseKeyPEM(key)
			if err != nil {
				t.Fatalf("key %q refused after it was accepted: %v", key, err)
			}
			if pub, ok := k.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(cert.PublicKey) {
				t.Fatalf("key %q is not the certificate's", key)
			}
			if chain != "" {
				certs, err := parseChainPEM(chain)
				if err != nil || len(certs) == 0 || cert.CheckSignatureFrom(certs[0]) != nil {
					t.Fatalf("chain %q accepted for %q: %v", chain, body, err)
				}
			}
		}
		certs, err := parseChainPEM(chain)
		if err != nil {
			fuzzAWSError(t, err, "MalformedCertificate")
		} else {
			// The chain comes back the same from its certificates.
			var again strings.Builder
			for _, c := range certs {
				again.WriteString(fuzzPEM("CERTIFICATE", c.Raw))
			}
			back, err := parseChainPEM(again.String())
			if err != nil || len(back) != len(certs) || strings.TrimSpace(chain) == "" && len(certs) > 0 {
				t.Fatalf("chain %q came back as %d certificates: %v", chain, len(back), err)
			}
			for i := range back {
				if !back[i].Equal(certs[i]) {
					t.Fatalf("chain %q: certificate %d came back another", chain, i)
				}
			}
		}
		if k, err := parseKeyPEM(key); err != nil {
			fuzzAWSError(t, err, "MalformedCertificate")
		} else {
			der, err := x509.MarshalPKCS8PrivateKey(k)
			if err != nil {
				t.Fatalf("key %q accepted as %T: %v", key, k, err)
			}
			back, err := parseKeyPEM(fuzzPEM("PRIVATE KEY", der))
			if err != nil || !back.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(k.Public()) {
				t.Fatalf("key %q came back another: %v", key, err)
			}
		}
	})
}

// FuzzSigningCertificate: UploadSigningCertificate's body is one PEM
// certificate, refused with MalformedCertificate otherwise; the body kept
// (trimmed) reads as the same certificate, as does its PEM made again.
func FuzzSigningCertificate(f *testing.F) {
	c, _ := fuzzCert(f, "alice", nil, nil)
	body := fuzzPEM("CERTIFICATE", c.Raw)
	for _, b := range []string{
		body, "\r\n  " + body + "\n\n", strings.ReplaceAll(body, "\n", "\r\n"), body + body, body + "trailing",
		body[:len(body)/2], strings.Replace(body, "CERTIFICATE", "X509 CRL", 2), fuzzPEM("CERTIFICATE", []byte{0x30, 0x03, 0x02, 0x01, 0x01}),
		"", "-----BEGIN CERTIFICATE-----\n\xff\n-----END CERTIFICATE-----",
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body string) {
		c, err := parseCertPEM(body)
		if err != nil {
			fuzzAWSError(t, err, "MalformedCertificate")
			return
		}
		kept := strings.TrimSpace(body)
		b, rest := pem.Decode([]byte(kept))
		if b == nil || b.Type != "CERTIFICATE" || strings.TrimSpace(string(rest)) != "" || !bytes.Equal(b.Bytes, c.Raw) {
			t.Fatalf("body %q is not one PEM certificate", body)
		}
		for _, again := range []string{kept, fuzzPEM("CERTIFICATE", c.Raw)} {
			if back, err := parseCertPEM(again); err != nil || !back.Equal(c) {
				t.Fatalf("certificate of %q came back from %q as another: %v", body, again, err)
			}
		}
	})
}

var md5FingerprintRE = regexp.MustCompile(`^[0-9a-f]{2}(:[0-9a-f]{2}){15}$`)

// FuzzSSHPublicKey: an SSH public key is refused with
// UnrecognizedPublicKeyEncoding or InvalidPublicKey, or is an RSA key of
// at least 2048 bits whose OpenSSH form (the body IAM keeps) and PEM
// forms read as the same key, with the same MD5 fingerprint.
func FuzzSSHPublicKey(f *testing.F) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		f.Fatal(err)
	}
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := ssh.NewPublicKey(&rk.PublicKey)
	smallPub, _ := ssh.NewPublicKey(&small.PublicKey)
	ecPub, _ := ssh.NewPublicKey(&ek.PublicKey)
	pkixDER, _ := x509.MarshalPKIXPublicKey(&rk.PublicKey)
	ecPKIX, _ := x509.MarshalPKIXPublicKey(&ek.PublicKey)
	authorized := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
	for _, b := range []string{
		authorized + " alice@laptop",
		"\n" + authorized + "\n",
		`command="ls",no-pty ` + authorized,
		fuzzPEM("PUBLIC KEY", pkixDER),
		fuzzPEM("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rk.PublicKey)),
		string(ssh.MarshalAuthorizedKey(smallPub)),
		string(ssh.MarshalAuthorizedKey(ecPub)),
		fuzzPEM("PUBLIC KEY", ecPKIX),
		"ssh-rsa AAAA", "ssh-rsa !!!", "ssh-dss AAAAB3NzaC1kc3M=", "",
		fuzzPEM("PUBLIC KEY", []byte("garbage")),
	} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, body string) {
		k, err := parseSSHKey(body)
		if err != nil {
			fuzzAWSError(t, err, "UnrecognizedPublicKeyEncoding", "InvalidPublicKey")
			return
		}
		rk, ok := k.(ssh.CryptoPublicKey).CryptoPublicKey().(*rsa.PublicKey)
		if k.Type() != ssh.KeyAlgoRSA || !ok || rk.N.BitLen() < 2048 {
			t.Fatalf("key %q accepted as %s", body, k.Type())
		}
		fp := ssh.FingerprintLegacyMD5(k)
		if !md5FingerprintRE.MatchString(fp) {
			t.Fatalf("fingerprint %q of %q", fp, body)
		}
		kept := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(k)))
		der, err := x509.MarshalPKIXPublicKey(rk)
		if err != nil {
			t.Fatal(err)
		}
		for _, again := range []string{kept, fuzzPEM("PUBLIC KEY", der), fuzzPEM("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(rk))} {
			back, err := parseSSHKey(again)
			if err != nil || !bytes.Equal(back.Marshal(), k.Marshal()) || ssh.FingerprintLegacyMD5(back) != fp {
				t.Fatalf("key of %q came back from %q as another: %v", body, again, err)
			}
		}
	})
}

// FuzzOIDCProvider: a provider URL is refused with ValidationError or is
// https with a host and no query or fragment, and its provider id comes
// back from the ARN it makes; thumbprints and client ids are refused with
// AWS errors or are within IAM's constraints.
func FuzzOIDCProvider(f *testing.F) {
	for _, u := range []string{
		"https://token.actions.githubusercontent.com", "https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE",
		"https://accounts.google.com/", "https://issuer.example.com:8443/a/b", "http://insecure.example.com", "https://", "https:///path",
		"https://x.example.com?q=1", "https://x.example.com/#f", "https://x.example.com/%zz", "token.example.com", "", "https://[::1]/",
	} {
		f.Add(u, "990F4193972F2BECF12DDEDA5237F9C952F20D9E", "sts.amazonaws.com")
	}
	f.Add("https://a.example.com", "990f4193972f2becf12ddeda5237f9c952f20d9", "")
	f.Add("https://a.example.com", "zz0F4193972F2BECF12DDEDA5237F9C952F20D9E", strings.Repeat("c", 256))
	const acct = "111122223333"
	f.Fuzz(func(t *testing.T, raw, thumb, clientID string) {
		if err := checkIssuerURL(raw); err != nil {
			fuzzAWSError(t, err, "ValidationError")
		} else {
			u, err := url.Parse(raw)
			if err != nil || u.Scheme != "https" || u.Host == "" || !strings.HasPrefix(raw, "https://") || strings.ContainsAny(raw, "?#") {
				t.Fatalf("provider URL %q accepted", raw)
			}
			id := oidcID(raw)
			if got, ok := oidcIDOf(acct, oidcARN(acct, id)); !ok || got != id {
				t.Fatalf("provider id %q of %q came back from %s as %q, %v", id, raw, oidcARN(acct, id), got, ok)
			}
			if _, ok := oidcIDOf("444455556666", oidcARN(acct, id)); ok {
				t.Fatalf("provider %q found in another account", id)
			}
		}
		for _, ts := range [][]*string{{&thumb}, {&thumb, &thumb, &thumb, &thumb, &thumb, &thumb}} {
			err := checkThumbprints(ts)
			if err != nil {
				fuzzAWSError(t, err, "ValidationError", "InvalidInput")
				continue
			}
			if len(ts) > maxThumbprints || len(thumb) != 40 || strings.Trim(strings.ToLower(thumb), "0123456789abcdef") != "" {
				t.Fatalf("thumbprints %q accepted", values(ts))
			}
		}
		ids, err := addClientIDs([]string{"sts.amazonaws.com"}, clientID, clientID)
		if err != nil {
			fuzzAWSError(t, err, "ValidationError", "LimitExceeded")
			if clientID != "" && len(clientID) <= 255 {
				t.Fatalf("client id %q refused: %v", clientID, err)
			}
			return
		}
		if clientID == "" || len(clientID) > 255 || !slices.Contains(ids, clientID) || len(slices.Compact(slices.Sorted(slices.Values(ids)))) != len(ids) || ids[0] != "sts.amazonaws.com" {
			t.Fatalf("client id %q added as %q", clientID, ids)
		}
	})
}

// FuzzSimulateContext: the simulator takes any context entry values, of
// whatever ContextKeyType, for the keys a policy tests with numeric, date,
// IP address, boolean, binary and ARN conditions: it answers a decision
// for every action and resource, and reports missing only the keys not
// given, or refuses the request with InvalidInput.
func FuzzSimulateContext(f *testing.F) {
	const doc = `{"Version":"2012-10-17","Statement":[
{"Sid":"Numeric","Effect":"Allow","Action":"s3:ListBucket","Resource":"*","Condition":{"NumericLessThanEquals":{"s3:max-keys":"100"},"ForAnyValue:NumericGreaterThan":{"s3:max-keys":["-1.5","1e3"]}}},
{"Sid":"Date","Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":{"DateGreaterThan":{"aws:CurrentTime":"2020-01-01T00:00:00Z"},"DateLessThanIfExists":{"aws:EpochTime":"1893456000"}}},
{"Sid":"Ip","Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"NotIpAddress":{"aws:SourceIp":["10.0.0.0/8","2001:db8::/32"]}}},
{"Sid":"Bool","Effect":"Allow","Action":"s3:PutObject","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true","aws:MultiFactorAuthPresent":"${aws:ViaAWSService}"}}},
{"Sid":"Binary","Effect":"Allow","Action":"s3:DeleteObject","Resource":"*","Condition":{"BinaryEquals":{"s3:x-amz-content-sha256":"QmluYXJ5VmFsdWU="}}},
{"Sid":"Arn","Effect":"Allow","Action":"s3:PutObjectAcl","Resource":"arn:aws:s3:::${aws:username}/*","Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:111122223333:*"},"StringLike":{"aws:PrincipalTag/team":"${aws:PrincipalTag/dept, 'ops'}"}}}
]}`
	for _, v := range [][3]string{
		{"string", "10.1.2.3", "2001:db8::1"},
		{"stringList", "10.0.0.0/8", "not an ip"},
		{"numeric", "50", "1e3"},
		{"numericList", "0x10", "NaN"},
		{"date", "2024-05-01T12:00:00Z", "1700000000"},
		{"dateList", "2024-05", "2024-13-45T99:99:99Z"},
		{"boolean", "true", "FALSE"},
		{"booleanList", "yes", ""},
		{"binary", "QmluYXJ5VmFsdWU=", "!!"},
		{"ip", "::ffff:10.1.1.1", "300.1.1.1/33"},
		{"ipList", "10.0.0.1/8", "fe80::1%eth0"},
		{"string", "arn:aws:sns:us-east-1:111122223333:topic", "arn:"},
		{"", "${aws:username}", "\xff"},
	} {
		f.Add(v[0], v[1], v[2], "aws:SourceIp")
	}
	f.Add("string", "1", "2", "")
	f.Add("string", "1", "2", "s3:Max-Keys")
	keys := []string{"s3:max-keys", "aws:CurrentTime", "aws:EpochTime", "aws:SourceIp", "aws:SecureTransport", "aws:MultiFactorAuthPresent",
		"aws:ViaAWSService", "s3:x-amz-content-sha256", "aws:SourceArn", "aws:username", "aws:PrincipalTag/team", "aws:PrincipalTag/dept"}
	actions := []*string{str("s3:ListBucket"), str("s3:GetObject"), str("s3:PutObject"), str("s3:DeleteObject"), str("s3:PutObjectAcl")}
	resources := []*string{str("arn:aws:s3:::alice/x"), str("arn:aws:s3:::b")}
	f.Fuzz(func(t *testing.T, typ, v1, v2, name string) {
		sim := &simulation{}
		if err := sim.inputs([]*string{str(doc)}, nil); err != nil {
			t.Fatal(err)
		}
		var entries []*iamapi.ContextEntry
		for i, k := range keys {
			vs := []*string{&v1, &v2}
			if i%2 == 1 {
				vs = vs[:1]
			}
			entries = append(entries, &iamapi.ContextEntry{ContextKeyName: str(k), ContextKeyType: &typ, ContextKeyValues: vs})
		}
		entries = append(entries, &iamapi.ContextEntry{ContextKeyName: &name, ContextKeyType: &typ, ContextKeyValues: []*string{&v2}})
		if err := sim.request("111122223333", nil, nil, nil, entries); err != nil {
			if fuzzAWSError(t, err, "InvalidInput"); name != "" {
				t.Fatalf("context entry %q refused: %v", name, err)
			}
			return
		}
		for _, res := range [][]*string{nil, resources} {
			results, err := sim.run(actions, res)
			if err != nil {
				t.Fatalf("simulation refused: %v", err)
			}
			if want := len(actions) * max(len(res), 1); len(results) != want {
				t.Fatalf("%d results for %d", len(results), want)
			}
			for _, r := range results {
				switch deref(r.EvalDecision) {
				case "allowed", "explicitDeny", "implicitDeny":
				default:
					t.Fatalf("decision %q", deref(r.EvalDecision))
				}
				missing := r.MissingContextValues
				if len(res) > 0 {
					missing = r.ResourceSpecificResults[0].MissingContextValues
				}
				for _, m := range missing {
					if containsFold(keys, deref(m)) || strings.EqualFold(deref(m), name) {
						t.Fatalf("%s given but reported missing", deref(m))
					}
				}
				for _, s := range r.MatchedStatements {
					if s.StartPosition == nil || s.EndPosition == nil || *s.StartPosition.Line < 1 || *s.EndPosition.Line < *s.StartPosition.Line {
						t.Fatalf("matched statement %+v", s)
					}
				}
			}
		}
	})
}

// FuzzMFACodes: authentication codes are refused with ValidationError
// unless they are digits; only the codes of two consecutive steps of the
// device's secret are taken, and those are.
func FuzzMFACodes(f *testing.F) {
	secret := []byte("12345678901234567890") // RFC 6238's test secret
	for _, c := range [][2]string{{"287082", "359152"}, {"123456", "654321"}, {"", "1"}, {"12a456", "123456"}, {"１２３４５６", "123456"}, {"0000000", "-1"}} {
		f.Add(c[0], c[1], secret, int64(59))
	}
	f.Fuzz(func(t *testing.T, code1, code2 string, secret []byte, unix int64) {
		if err := checkCodes(code1, code2); err != nil {
			fuzzAWSError(t, err, "ValidationError")
		} else if strings.Trim(code1+code2, "0123456789") != "" || code1 == "" || code2 == "" {
			t.Fatalf("codes %q and %q accepted", code1, code2)
		}
		now := time.Unix(unix, 0)
		if consecutive(secret, now, 1, code1, code2) {
			if len(code1) != 6 || len(code2) != 6 || checkCodes(code1, code2) != nil {
				t.Fatalf("codes %q and %q taken", code1, code2)
			}
		}
		c := step(now)
		a, b := totp(secret, c), totp(secret, c+1)
		if len(a) != 6 || checkCodes(a, b) != nil || !consecutive(secret, now, 1, a, b) || !consecutive(secret, now.Add(30*time.Second), 1, a, b) {
			t.Fatalf("codes %s %s of step %d not taken", a, b, c)
		}
	})
}

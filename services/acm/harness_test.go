package acm_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	acmsdk "github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/smithy-go"

	acmapi "github.com/cloudbox/cloudbox/api/acm"
	"github.com/cloudbox/cloudbox/ca"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/server"
	"github.com/cloudbox/cloudbox/services/acm"
	"github.com/cloudbox/cloudbox/store"
)

const (
	region  = "eu-west-3"
	account = "000000000000"
)

// cloud is ACM alone behind cloudbox's HTTP server, reached by the SDK.
type cloud struct {
	url   string
	svc   *acm.Service
	st    *store.Store
	ca    *ca.CA
	dir   string
	certs *acmsdk.Client
}

func newCloud(t *testing.T) *cloud {
	t.Helper()
	dir := t.TempDir()
	authority, err := ca.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	st := store.OpenMemory()
	t.Cleanup(func() { st.Close() })
	svc := acm.New(st, time.Now, nil, authority)
	svc.ValidationDelay = 300 * time.Millisecond
	h := server.New(server.Config{
		Services: []server.Service{{API: acmapi.Service, Invoker: acmapi.Bind(svc.Handlers())}},
		Identity: identity.New(st, identity.DefaultKeys),
		Auth:     server.AuthOff,
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := &cloud{url: srv.URL, svc: svc, st: st, ca: authority, dir: dir}
	c.certs = c.client(region, "test")
	return c
}

func (c *cloud) client(region, akid string) *acmsdk.Client {
	return acmsdk.New(acmsdk.Options{
		Region:       region,
		BaseEndpoint: aws.String(c.url),
		Credentials:  credentials.NewStaticCredentialsProvider(akid, "secret", ""),
	})
}

var ctx = context.Background()

// wantCode fails the test unless err carries the AWS error code, and
// returns the error's message.
func wantCode(t *testing.T, err error, code string) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error %v: want code %s", err, code)
	}
	return ae.ErrorMessage()
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// selfSigned returns a self-signed RSA 2048 certificate and its key, in
// PEM, valid from notBefore to notAfter.
func selfSigned(t *testing.T, cn string, sans []string, notBefore, notAfter time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(0x0a1b2c3d),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"Example Org"}},
		Issuer:       pkix.Name{CommonName: cn},
		DNSNames:     sans,
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
}

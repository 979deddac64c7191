package ca_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/ca"
)

func TestOpenKeepsTheRoot(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ca")
	a, err := ca.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if a.CertPath() != filepath.Join(dir, "ca.pem") {
		t.Errorf("CertPath = %s", a.CertPath())
	}
	st, err := os.Stat(filepath.Join(dir, "ca-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v, want 0600", st.Mode().Perm())
	}
	root := a.Certificate()
	if !root.IsCA || root.Subject.CommonName != ca.Name {
		t.Errorf("root: IsCA %v, subject %v", root.IsCA, root.Subject)
	}
	if years := root.NotAfter.Sub(root.NotBefore).Hours() / 24 / 365; years < 9.9 {
		t.Errorf("root valid for %.1f years", years)
	}
	b, err := ca.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.CertPEM(), b.CertPEM()) {
		t.Error("a second Open made a new root")
	}
	// A leaf from the reopened CA chains to the first root.
	certPEM, _, _, err := b.Issue([]string{"x.example.com"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	verify(t, a, certPEM, "x.example.com")
}

func TestIssueVerifies(t *testing.T) {
	a, err := ca.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	certPEM, keyPEM, chainPEM, err := a.Issue([]string{"www.example.com", "*.api.example.com"}, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(chainPEM, a.CertPEM()) {
		t.Error("chain is not the root")
	}
	leaf := verify(t, a, certPEM, "www.example.com")
	verify(t, a, certPEM, "v1.api.example.com")
	if leaf.Subject.CommonName != "www.example.com" {
		t.Errorf("CN %q", leaf.Subject.CommonName)
	}
	if len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Errorf("EKU %v", leaf.ExtKeyUsage)
	}
	if d := leaf.NotAfter.Sub(time.Now()); d < 23*time.Hour || d > 25*time.Hour {
		t.Errorf("NotAfter in %v", d)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Errorf("key does not match: %v", err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool(a), DNSName: "other.example.com"}); err == nil {
		t.Error("verified for a name it does not carry")
	}
	if _, _, _, err := a.Issue(nil, time.Hour); err == nil {
		t.Error("issued a certificate without a domain")
	}
}

func TestCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed")
	}
	a, err := ca.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	const name = "shop.example.test"
	certPEM, keyPEM, chainPEM, err := a.Issue([]string{name}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(append(certPEM, chainPEM...), keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello over tls")
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
	srv.StartTLS()
	defer srv.Close()
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	url := "https://" + name + ":" + port + "/"
	resolve := name + ":" + port + ":127.0.0.1"

	out, err := exec.Command("curl", "-sS", "--max-time", "10", "--cacert", a.CertPath(), "--resolve", resolve, url).CombinedOutput()
	if err != nil || string(out) != "hello over tls" {
		t.Fatalf("curl --cacert: %v: %s", err, out)
	}
	out, err = exec.Command("curl", "-sS", "--max-time", "10", "--resolve", resolve, url).CombinedOutput()
	if err == nil {
		t.Fatalf("curl without --cacert succeeded: %s", out)
	}
}

func verify(t *testing.T, a *ca.CA, certPEM []byte, name string) *x509.Certificate {
	t.Helper()
	leaf, err := ca.ParseCertificate(certPEM)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool(a), DNSName: name, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		t.Fatalf("verify %s: %v", name, err)
	}
	return leaf
}

func pool(a *ca.CA) *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(a.Certificate())
	return p
}

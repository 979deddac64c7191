package endpoints

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/ca"
)

func newCerts(t *testing.T) (*Certs, *x509.CertPool) {
	t.Helper()
	authority, err := ca.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(authority.Certificate())
	return NewCerts(authority), roots
}

func TestCertsMintPerName(t *testing.T) {
	c, roots := newCerts(t)
	for _, name := range []string{"sts.amazonaws.com", "my.dotted.bucket.s3.us-east-1.amazonaws.com", "ec2.cn-north-1.amazonaws.com.cn"} {
		cert, err := c.Get(strings.ToUpper(name) + ".")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if _, err := cert.Leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots}); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if !slices.Equal(cert.Leaf.DNSNames, []string{name}) {
			t.Errorf("%s: certificate names %v", name, cert.Leaf.DNSNames)
		}
		again, err := c.Get(name)
		if err != nil || again != cert {
			t.Errorf("%s: minted again (%v)", name, err)
		}
	}
	for _, name := range []string{"", "example.com", "amazonaws.com", "evil.amazonaws.com.example.com", "*.s3.amazonaws.com", "a..s3.amazonaws.com"} {
		if _, err := c.Get(name); err == nil {
			t.Errorf("%q got a certificate", name)
		}
	}
}

func TestCertsRenew(t *testing.T) {
	c, _ := newCerts(t)
	first, err := c.Get("sts.amazonaws.com")
	if err != nil {
		t.Fatal(err)
	}
	c.now = func() time.Time { return first.Leaf.NotAfter.Add(-renewBefore / 2) }
	second, err := c.Get("sts.amazonaws.com")
	if err != nil {
		t.Fatal(err)
	}
	if second == first {
		t.Errorf("a certificate near its end was not minted anew")
	}
}

// TestServerHTTPS serves a handler as the internet's endpoint address
// does, and calls it as a client that trusts the CA alone: the
// certificate verifies for the name asked, the Host arrives intact, and
// the client's address is the request's RemoteAddr.
func TestServerHTTPS(t *testing.T) {
	c, roots := newCerts(t)
	srv := Server(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.Proto+" "+r.Host+" "+r.RemoteAddr)
	}), c, slog.New(slog.DiscardHandler))
	plain, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	secure, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(plain)
	go srv.ServeTLS(secure, "", "")
	t.Cleanup(func() { srv.Close() })

	// Every name dials the listener, as the world's DNS makes it.
	dial := func(ln net.Listener) func(string, string) (net.Conn, error) {
		return func(string, string) (net.Conn, error) { return net.Dial("tcp", ln.Addr().String()) }
	}
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		Dial:              dial(secure),
		TLSClientConfig:   &tls.Config{RootCAs: roots},
		ForceAttemptHTTP2: true,
	}}
	get := func(c *http.Client, url string) (string, error) {
		resp, err := c.Get(url)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	got, err := get(client, "https://my-bucket.s3.us-east-1.amazonaws.com/key")
	if err != nil {
		t.Fatal(err)
	}
	if want := "HTTP/1.1 my-bucket.s3.us-east-1.amazonaws.com 127.0.0.1:"; !strings.HasPrefix(got, want) {
		t.Errorf("over HTTPS: %q, want %q...", got, want)
	}
	if _, err := get(client, "https://example.com/"); err == nil {
		t.Errorf("a name outside amazonaws.com got a certificate")
	}
	plainClient := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Dial: dial(plain)}}
	if got, err := get(plainClient, "http://sts.amazonaws.com/"); err != nil || !strings.HasPrefix(got, "HTTP/1.1 sts.amazonaws.com 127.0.0.1:") {
		t.Errorf("over HTTP: %q, %v", got, err)
	}
}

// Package endpoints is AWS's public API endpoints as the simulated
// internet reaches them: the daemon's HTTP handler (its edge table, then
// the API server) served over HTTP and HTTPS, with a certificate from
// cloudbox's CA for each endpoint name a client asks for. Instances that
// trust the CA call sts.amazonaws.com or <bucket>.s3.amazonaws.com as
// they would on AWS, with no endpoint configured.
//
// The names are the DNS's business (vpcdns.Endpoints resolves them to the
// address this is served on); the sockets are the network controller's.
package endpoints

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/ca"
)

// Server returns the server of handler h: HTTP on the listeners given to
// Serve, HTTPS with certs on those given to ServeTLS(ln, "", ""). It
// speaks HTTP/1.1 only, as S3 does, so a request takes the same path
// through the API server as on the daemon's own listener. The server's
// own errors (a client's failed handshake) go to log at debug level.
func Server(h http.Handler, certs *Certs, log *slog.Logger) *http.Server {
	var protos http.Protocols
	protos.SetHTTP1(true)
	return &http.Server{
		Handler:           h,
		TLSConfig:         certs.TLSConfig(),
		Protocols:         &protos,
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
}

const (
	// validity is how long a minted certificate lasts (the longest a
	// public CA may issue); renewBefore is how long before it ends one is
	// minted anew, so a daemon that runs for a year still serves valid
	// ones.
	validity    = 397 * 24 * time.Hour
	renewBefore = 24 * time.Hour
	// maxCerts bounds the cache: bucket names are the clients' to choose.
	maxCerts = 4096
)

// Certs mints certificates for the endpoints' names, signed by cloudbox's
// CA, when a TLS client first asks for a name (SNI), and keeps them. A
// certificate names exactly the name asked for: a wildcard covers one
// label only, and a bucket's name may hold dots. It is safe for
// concurrent use.
type Certs struct {
	ca *ca.CA
	// now is the wall clock: TLS clients check validity against theirs.
	now func() time.Time

	mu     sync.Mutex
	byName map[string]*tls.Certificate
}

// NewCerts returns the certificates authority signs.
func NewCerts(authority *ca.CA) *Certs {
	return &Certs{ca: authority, now: time.Now, byName: map[string]*tls.Certificate{}}
}

// TLSConfig serves the certificate of the name each client asks for.
func (c *Certs) TLSConfig() *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetCertificate: func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
			return c.Get(hello.ServerName)
		},
	}
}

// Get returns the certificate of an endpoint name, minting it the first
// time (and again when it nears its end). Only names under amazonaws.com
// and amazonaws.com.cn get one: the CA certifies AWS's endpoints, not
// whatever a client names.
func (c *Certs) Get(name string) (*tls.Certificate, error) {
	name = strings.ToLower(strings.TrimSuffix(name, "."))
	if !Covered(name) {
		if name == "" {
			return nil, errors.New("endpoints: the client named no server (SNI); AWS's endpoints are reached by name")
		}
		return nil, fmt.Errorf("endpoints: %q is not an AWS endpoint name", name)
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if cert := c.byName[name]; cert != nil && now.Add(renewBefore).Before(cert.Leaf.NotAfter) {
		return cert, nil
	}
	// Minting under the lock: a P-256 key and a signature take well
	// under a millisecond, and a name is minted once.
	certPEM, keyPEM, _, err := c.ca.Issue([]string{name}, validity)
	if err != nil {
		return nil, err
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	if len(c.byName) >= maxCerts {
		for n := range c.byName {
			delete(c.byName, n) // any one: it is minted again if asked for
			break
		}
	}
	c.byName[name] = &cert
	return &cert, nil
}

// Covered reports whether name (lower case, no trailing dot) is a host
// name under amazonaws.com or amazonaws.com.cn.
func Covered(name string) bool {
	rest, ok := strings.CutSuffix(name, ".amazonaws.com")
	if !ok {
		if rest, ok = strings.CutSuffix(name, ".amazonaws.com.cn"); !ok {
			return false
		}
	}
	for label := range strings.SplitSeq(rest, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
		for _, r := range label {
			if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}

// Package ca is cloudbox's certificate authority: one root, made once and
// kept in the data directory, that signs the certificates ACM issues. Users
// trust it by passing its certificate (CertPath) to their clients, e.g.
// `curl --cacert`.
package ca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// Name is the root's common name and organization.
const Name = "cloudbox local CA"

const (
	certFile     = "ca.pem"
	keyFile      = "ca-key.pem"
	rootValidity = 10 * 365 * 24 * time.Hour
)

// CA is a loaded root. It is safe for concurrent use.
type CA struct {
	dir     string
	cert    *x509.Certificate
	certPEM []byte
	key     crypto.Signer
}

// Open loads the root kept in dir, creating it (and dir) the first time.
func Open(dir string) (*CA, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, certFile))
	if errors.Is(err, fs.ErrNotExist) {
		return create(dir)
	}
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, keyFile))
	if err != nil {
		return nil, err
	}
	cert, err := ParseCertificate(certPEM)
	if err != nil {
		return nil, fmt.Errorf("ca: %s: %w", certFile, err)
	}
	key, err := ParsePrivateKey(keyPEM)
	if err != nil {
		return nil, fmt.Errorf("ca: %s: %w", keyFile, err)
	}
	return &CA{dir: dir, cert: cert, certPEM: certPEM, key: key}, nil
}

func create(dir string) (*CA, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          newSerial(),
		Subject:               pkix.Name{CommonName: Name, Organization: []string{Name}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(rootValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	keyPEM, err := EncodePrivateKey(key)
	if err != nil {
		return nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	// The key first: a certificate on disk without its key would make every
	// later Open fail.
	if err := writeFile(filepath.Join(dir, keyFile), keyPEM, 0o600); err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(dir, certFile), certPEM, 0o644); err != nil {
		return nil, err
	}
	return &CA{dir: dir, cert: cert, certPEM: certPEM, key: key}, nil
}

// writeFile writes through a temporary file and a rename, so a crash never
// leaves half a file behind.
func writeFile(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	if err := os.Chmod(tmp, mode); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// CertPath is the file of the root certificate, the one clients trust.
func (c *CA) CertPath() string { return filepath.Join(c.dir, certFile) }

// Certificate returns the root certificate.
func (c *CA) Certificate() *x509.Certificate { return c.cert }

// CertPEM returns the root certificate in PEM.
func (c *CA) CertPEM() []byte { return c.certPEM }

// Issue makes a new ECDSA P-256 key and a server certificate for domains
// (the first is the subject's common name; every one is a DNS SAN,
// wildcards allowed), valid from now for validity. chainPEM is the root.
func (c *CA) Issue(domains []string, validity time.Duration) (certPEM, keyPEM, chainPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	certPEM, chainPEM, err = c.Sign(domains, validity, key.Public())
	if err != nil {
		return nil, nil, nil, err
	}
	keyPEM, err = EncodePrivateKey(key)
	if err != nil {
		return nil, nil, nil, err
	}
	return certPEM, keyPEM, chainPEM, nil
}

// Sign is Issue for a key the caller made (ACM lets the requester choose
// the key algorithm).
func (c *CA) Sign(domains []string, validity time.Duration, pub crypto.PublicKey) (certPEM, chainPEM []byte, err error) {
	if len(domains) == 0 {
		return nil, nil, errors.New("ca: no domain to certify")
	}
	usage := x509.KeyUsageDigitalSignature
	if _, ok := pub.(*ecdsa.PublicKey); !ok {
		usage |= x509.KeyUsageKeyEncipherment // RSA key exchange
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: newSerial(),
		Subject:      pkix.Name{CommonName: domains[0]},
		DNSNames:     domains,
		// A minute back absorbs clock skew between cloudbox and its clients.
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(validity),
		KeyUsage:              usage,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, c.cert, pub, c.key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), c.certPEM, nil
}

// newSerial returns a random positive 128-bit serial number.
func newSerial() *big.Int {
	b := make([]byte, 16)
	rand.Read(b)
	b[0] &= 0x7f
	b[0] |= 0x40 // keep all 16 bytes significant
	return new(big.Int).SetBytes(b)
}

// EncodePrivateKey returns key as a PKCS #8 PEM block.
func EncodePrivateKey(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseCertificate returns the first certificate of a PEM text.
func ParseCertificate(data []byte) (*x509.Certificate, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PEM certificate found")
		}
		if b.Type == "CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
}

// ParsePrivateKey returns the first private key of a PEM text, in any of
// the forms OpenSSL writes (PKCS #8, PKCS #1, SEC 1).
func ParsePrivateKey(data []byte) (crypto.Signer, error) {
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, errors.New("no PEM private key found")
		}
		var key any
		var err error
		switch b.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(b.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, err
		}
		signer, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported private key type %T", key)
		}
		return signer, nil
	}
}

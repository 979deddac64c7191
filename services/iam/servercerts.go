package iam

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"time"

	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/store"
)

// kindServerCert is a server certificate (serverCertRecord), by the
// lower-case name.
const kindServerCert = "iam:servercert"

// maxServerCerts is the quota of server certificates in an account.
const maxServerCerts = 20

// serverCertRecord is an uploaded server certificate. The private key is
// kept (never shown) for the load balancers that may serve it.
type serverCertRecord struct {
	Name       string
	Path       string
	ID         string
	Body       string
	Chain      string `json:",omitempty"`
	PrivateKey string
	Expiration time.Time
	Uploaded   time.Time
	Tags       []tag `json:",omitempty"`
}

func (c *serverCertRecord) recordPath() string { return c.Path }

func (c *serverCertRecord) metadata(acct string) *iamapi.ServerCertificateMetadata {
	return &iamapi.ServerCertificateMetadata{
		Arn: str("arn:aws:iam::" + acct + ":server-certificate" + c.Path + c.Name), Path: str(c.Path),
		ServerCertificateId: str(c.ID), ServerCertificateName: str(c.Name),
		Expiration: timePtr(c.Expiration), UploadDate: timePtr(c.Uploaded),
	}
}

func noSuchServerCert(name string) error {
	return errorf("NoSuchEntity", "The Server Certificate with name %s cannot be found.", name)
}

func loadServerCert(tx *store.Tx, acct, name string) (*serverCertRecord, error) {
	c, ok, err := store.Get[serverCertRecord](tx, key(acct, kindServerCert, name))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, noSuchServerCert(name)
	}
	return c, nil
}

func malformed(format string, args ...any) error {
	return errorf("MalformedCertificate", format, args...)
}

// parseCertPEM parses the one certificate of a PEM body.
func parseCertPEM(body string) (*x509.Certificate, error) {
	b, rest := pem.Decode([]byte(strings.TrimSpace(body)))
	if b == nil || b.Type != "CERTIFICATE" || len(strings.TrimSpace(string(rest))) > 0 {
		return nil, malformed("Unable to parse certificate. Please ensure the certificate is in PEM format.")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, malformed("Unable to parse certificate. Please ensure the certificate is in PEM format.")
	}
	return c, nil
}

// parseChainPEM parses the certificates of a chain, in order.
func parseChainPEM(chain string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := []byte(strings.TrimSpace(chain))
	for len(rest) > 0 {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil || b.Type != "CERTIFICATE" {
			return nil, malformed("Unable to parse certificate chain. Please ensure the certificate chain is in PEM format.")
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, malformed("Unable to parse certificate chain. Please ensure the certificate chain is in PEM format.")
		}
		out = append(out, c)
		rest = []byte(strings.TrimSpace(string(rest)))
	}
	return out, nil
}

// parseKeyPEM parses a PEM private key: PKCS #1, PKCS #8 or SEC 1.
func parseKeyPEM(s string) (crypto.Signer, error) {
	b, _ := pem.Decode([]byte(strings.TrimSpace(s)))
	if b != nil {
		if k, err := x509.ParsePKCS1PrivateKey(b.Bytes); err == nil {
			return k, nil
		}
		if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
			if sg, ok := k.(crypto.Signer); ok {
				return sg, nil
			}
		}
		if k, err := x509.ParseECPrivateKey(b.Bytes); err == nil {
			return k, nil
		}
	}
	return nil, malformed("Unable to parse private key. Please ensure the private key is in PEM format.")
}

// checkServerCert validates what UploadServerCertificate is given, as IAM
// does: each part parses, the key is the certificate's, and the chain
// starts with the certificate's issuer, each certificate signed by the next.
func checkServerCert(body, chain, privateKey string) (*x509.Certificate, error) {
	cert, err := parseCertPEM(body)
	if err != nil {
		return nil, err
	}
	k, err := parseKeyPEM(privateKey)
	if err != nil {
		return nil, err
	}
	pub, ok := k.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, errorf("KeyPairMismatch", "The private key did not match the public key provided. Please verify the key material and try again.")
	}
	if chain == "" {
		return cert, nil
	}
	certs, err := parseChainPEM(chain)
	if err != nil {
		return nil, err
	}
	for i, c := range append([]*x509.Certificate{cert}, certs...) {
		if i == len(certs) {
			break
		}
		if c.CheckSignatureFrom(certs[i]) != nil {
			return nil, malformed("Unable to validate certificate chain. The certificate chain must start with the immediate signing certificate, followed by any intermediaries in order. The index within the chain of the invalid certificate is: %d", i-1)
		}
	}
	return cert, nil
}

func (s *Service) uploadServerCertificate(ctx context.Context, in *iamapi.UploadServerCertificateRequest) (*iamapi.UploadServerCertificateResponse, error) {
	acct, name := account(ctx), *in.ServerCertificateName
	if err := checkName("serverCertificateName", name); err != nil {
		return nil, err
	}
	path, err := pathOf(in.Path)
	if err != nil {
		return nil, err
	}
	tags, err := newTags(in.Tags)
	if err != nil {
		return nil, err
	}
	cert, err := checkServerCert(*in.CertificateBody, deref(in.CertificateChain), *in.PrivateKey)
	if err != nil {
		return nil, err
	}
	rec := serverCertRecord{
		Name: name, Path: path, ID: newID("ASCA"), Body: strings.TrimSpace(*in.CertificateBody),
		Chain: strings.TrimSpace(deref(in.CertificateChain)), PrivateKey: *in.PrivateKey,
		Expiration: cert.NotAfter.UTC(), Uploaded: s.nowUTC(), Tags: tags,
	}
	err = s.store.Update(func(tx *store.Tx) error {
		if err := unused(tx, acct, kindServerCert, name, errorf("EntityAlreadyExists", "The Server Certificate with name %s already exists.", name)); err != nil {
			return err
		}
		n, err := tx.Count(acct, "", kindServerCert)
		if err != nil {
			return err
		}
		if n >= maxServerCerts {
			return limitExceeded("Cannot exceed quota for ServerCertificatesPerAccount: %d", maxServerCerts)
		}
		return tx.Put(key(acct, kindServerCert, name), rec)
	})
	if err != nil {
		return nil, err
	}
	out := &iamapi.UploadServerCertificateResponse{ServerCertificateMetadata: rec.metadata(acct)}
	if len(tags) > 0 {
		out.Tags = apiTags(tags)
	}
	return out, nil
}

func (s *Service) getServerCertificate(ctx context.Context, in *iamapi.GetServerCertificateRequest) (*iamapi.GetServerCertificateResponse, error) {
	acct := account(ctx)
	var c *serverCertRecord
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		c, err = loadServerCert(tx, acct, *in.ServerCertificateName)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &iamapi.ServerCertificate{CertificateBody: str(c.Body), ServerCertificateMetadata: c.metadata(acct), Tags: apiTags(c.Tags)}
	if c.Chain != "" {
		out.CertificateChain = str(c.Chain)
	}
	return &iamapi.GetServerCertificateResponse{ServerCertificate: out}, nil
}

func (s *Service) listServerCertificates(ctx context.Context, in *iamapi.ListServerCertificatesRequest) (*iamapi.ListServerCertificatesResponse, error) {
	acct := account(ctx)
	prefix, err := pathPrefixOf(in.PathPrefix)
	if err != nil {
		return nil, err
	}
	var certs []*serverCertRecord
	err = s.store.View(func(tx *store.Tx) error {
		all, err := store.ListAll[serverCertRecord](tx, acct, "", kindServerCert)
		for _, c := range all {
			if strings.HasPrefix(c.Path, prefix) {
				certs = append(certs, c)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	p, err := page(certs, func(c *serverCertRecord) string { return strings.ToLower(c.Name) }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListServerCertificatesResponse{ServerCertificateMetadataList: []*iamapi.ServerCertificateMetadata{}, Marker: p.marker, IsTruncated: p.truncated}
	for _, c := range p.items {
		out.ServerCertificateMetadataList = append(out.ServerCertificateMetadataList, c.metadata(acct))
	}
	return out, nil
}

func (s *Service) updateServerCertificate(ctx context.Context, in *iamapi.UpdateServerCertificateRequest) (*iamapi.UpdateServerCertificateOutput, error) {
	acct := account(ctx)
	newPath, err := renameArgs("newServerCertificateName", in.NewServerCertificateName, in.NewPath)
	if err != nil {
		return nil, err
	}
	err = s.store.Update(func(tx *store.Tx) error {
		c, err := loadServerCert(tx, acct, *in.ServerCertificateName)
		if err != nil {
			return err
		}
		if n := in.NewServerCertificateName; n != nil && !strings.EqualFold(*n, c.Name) {
			if err := unused(tx, acct, kindServerCert, *n, errorf("EntityAlreadyExists", "The Server Certificate with name %s already exists.", *n)); err != nil {
				return err
			}
		}
		if _, err := tx.Delete(key(acct, kindServerCert, c.Name)); err != nil {
			return err
		}
		if in.NewServerCertificateName != nil {
			c.Name = *in.NewServerCertificateName
		}
		if in.NewPath != nil {
			c.Path = newPath
		}
		return tx.Put(key(acct, kindServerCert, c.Name), c)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UpdateServerCertificateOutput{}, nil
}

func (s *Service) deleteServerCertificate(ctx context.Context, in *iamapi.DeleteServerCertificateRequest) (*iamapi.DeleteServerCertificateOutput, error) {
	acct := account(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		c, err := loadServerCert(tx, acct, *in.ServerCertificateName)
		if err != nil {
			return err
		}
		_, err = tx.Delete(key(acct, kindServerCert, c.Name))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteServerCertificateOutput{}, nil
}

func serverCertTagging(tx *store.Tx, acct, name string) (tagging, error) {
	c, err := loadServerCert(tx, acct, name)
	if err != nil {
		return tagging{}, err
	}
	return tagging{&c.Tags, func() error { return tx.Put(key(acct, kindServerCert, c.Name), c) }}, nil
}

func (s *Service) tagServerCertificate(ctx context.Context, in *iamapi.TagServerCertificateRequest) (*iamapi.TagServerCertificateOutput, error) {
	return &iamapi.TagServerCertificateOutput{}, s.tag(ctx, serverCertTagging, *in.ServerCertificateName, in.Tags)
}

func (s *Service) untagServerCertificate(ctx context.Context, in *iamapi.UntagServerCertificateRequest) (*iamapi.UntagServerCertificateOutput, error) {
	return &iamapi.UntagServerCertificateOutput{}, s.untag(ctx, serverCertTagging, *in.ServerCertificateName, in.TagKeys)
}

func (s *Service) listServerCertificateTags(ctx context.Context, in *iamapi.ListServerCertificateTagsRequest) (*iamapi.ListServerCertificateTagsResponse, error) {
	p, err := s.listTags(ctx, serverCertTagging, *in.ServerCertificateName, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListServerCertificateTagsResponse{Tags: apiTags(p.items), Marker: p.marker, IsTruncated: p.truncated}, nil
}

package iam

import (
	"context"
	"crypto/rand"
	"strings"
	"time"

	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/store"
)

// The kinds of a user's other credentials, each by its id. They name their
// user by its unique id, so they follow the user through renames.
const (
	kindSigningCert = "iam:signingcert" // signingCertRecord
	kindSSHKey      = "iam:sshkey"      // sshKeyRecord
	kindServiceCred = "iam:servicecred" // serviceCredRecord
)

// maxSigningCerts is the quota of signing certificates per user.
const maxSigningCerts = 2

// userCred is what a user's signing certificates, SSH public keys and
// service-specific credentials share.
type userCred struct {
	ID      string
	UserID  string
	Active  bool
	Created time.Time
}

func (c *userCred) cred() *userCred { return c }

func (c *userCred) status() string {
	if c.Active {
		return "Active"
	}
	return "Inactive"
}

type credential interface{ cred() *userCred }

// userCreds returns the credentials of kind that belong to the user with
// id userID, in the order of their ids.
func userCreds[T any, P interface {
	*T
	credential
}](tx *store.Tx, acct, kind, userID string) ([]*T, error) {
	all, err := store.ListAll[T](tx, acct, "", kind)
	var out []*T
	for _, c := range all {
		if P(c).cred().UserID == userID {
			out = append(out, c)
		}
	}
	return out, err
}

// randomID returns n characters of IAM's id alphabet.
func randomID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return string(b)
}

// credentialConflict is DeleteUser's refusal of a user who still has MFA
// devices, signing certificates, SSH public keys or service-specific
// credentials, in IAM's words.
func credentialConflict(tx *store.Tx, acct string, u *userRecord) error {
	if n, err := countMFA(tx, acct, u.ID); err != nil || n > 0 {
		if err != nil {
			return err
		}
		return deleteConflict("Cannot delete entity, must delete MFA device first.")
	}
	for _, c := range []struct{ kind, what string }{
		{kindSigningCert, "signing certificates"},
		{kindSSHKey, "SSH public keys"},
		{kindServiceCred, "service specific credentials"},
	} {
		held, err := userCreds[userCred](tx, acct, c.kind, u.ID)
		if err != nil {
			return err
		}
		if len(held) > 0 {
			return deleteConflict("Cannot delete entity, must delete %s first.", c.what)
		}
	}
	return nil
}

// signingCertRecord is an X.509 signing certificate of a user.
type signingCertRecord struct {
	userCred
	Body string
}

func (c *signingCertRecord) api(user string) *iamapi.SigningCertificate {
	return &iamapi.SigningCertificate{
		UserName: str(user), CertificateId: str(c.ID), CertificateBody: str(c.Body),
		Status: str(c.status()), UploadDate: timePtr(c.Created),
	}
}

// credOwner loads the user a credential call is about: the one named, or
// the calling user. The root user has none of these credentials here.
func credOwner(ctx context.Context, tx *store.Tx, userName *string) (*userRecord, error) {
	name, root, err := keyOwner(ctx, userName)
	if err != nil {
		return nil, err
	}
	if root {
		return nil, validationError("cloudbox keeps no credentials of the root user: name an IAM user (UserName)")
	}
	return loadUser(tx, account(ctx), name)
}

func noSuchSigningCert(id string) error {
	return errorf("NoSuchEntity", "The Certificate with id %s cannot be found.", id)
}

func (s *Service) uploadSigningCertificate(ctx context.Context, in *iamapi.UploadSigningCertificateRequest) (*iamapi.UploadSigningCertificateResponse, error) {
	acct := account(ctx)
	if _, err := parseCertPEM(*in.CertificateBody); err != nil {
		return nil, err
	}
	body := strings.TrimSpace(*in.CertificateBody)
	var (
		rec   signingCertRecord
		owner string
	)
	err := s.store.Update(func(tx *store.Tx) error {
		u, err := credOwner(ctx, tx, in.UserName)
		if err != nil {
			return err
		}
		all, err := store.ListAll[signingCertRecord](tx, acct, "", kindSigningCert)
		if err != nil {
			return err
		}
		n := 0
		for _, c := range all {
			if c.Body == body {
				return errorf("DuplicateCertificate", "The request was rejected because the same certificate is associated with an IAM user in the account.")
			}
			if c.UserID == u.ID {
				n++
			}
		}
		if n >= maxSigningCerts {
			return limitExceeded("Cannot exceed quota for SigningCertificatesPerUser: %d", maxSigningCerts)
		}
		rec = signingCertRecord{userCred{ID: randomID(32), UserID: u.ID, Active: true, Created: s.nowUTC()}, body}
		owner = u.Name
		return tx.Put(key(acct, kindSigningCert, rec.ID), rec)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UploadSigningCertificateResponse{Certificate: rec.api(owner)}, nil
}

func (s *Service) listSigningCertificates(ctx context.Context, in *iamapi.ListSigningCertificatesRequest) (*iamapi.ListSigningCertificatesResponse, error) {
	acct := account(ctx)
	var (
		certs []*signingCertRecord
		owner string
	)
	err := s.store.View(func(tx *store.Tx) error {
		u, err := credOwner(ctx, tx, in.UserName)
		if err != nil {
			return err
		}
		owner = u.Name
		certs, err = userCreds[signingCertRecord](tx, acct, kindSigningCert, u.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	p, err := page(certs, func(c *signingCertRecord) string { return c.ID }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListSigningCertificatesResponse{Certificates: []*iamapi.SigningCertificate{}, Marker: p.marker, IsTruncated: p.truncated}
	for _, c := range p.items {
		out.Certificates = append(out.Certificates, c.api(owner))
	}
	return out, nil
}

// changeSigningCert applies fn to the user's signing certificate id;
// fn says whether to keep (true) or delete it.
func (s *Service) changeSigningCert(ctx context.Context, userName *string, id string, fn func(c *signingCertRecord) bool) error {
	acct := account(ctx)
	return s.store.Update(func(tx *store.Tx) error {
		u, err := credOwner(ctx, tx, userName)
		if err != nil {
			return err
		}
		c, ok, err := store.Get[signingCertRecord](tx, key(acct, kindSigningCert, id))
		if err != nil {
			return err
		}
		if !ok || c.UserID != u.ID {
			return noSuchSigningCert(id)
		}
		if fn(c) {
			return tx.Put(key(acct, kindSigningCert, id), c)
		}
		_, err = tx.Delete(key(acct, kindSigningCert, id))
		return err
	})
}

func (s *Service) updateSigningCertificate(ctx context.Context, in *iamapi.UpdateSigningCertificateRequest) (*iamapi.UpdateSigningCertificateOutput, error) {
	if err := checkEnum("status", in.Status, "Active", "Inactive"); err != nil {
		return nil, err
	}
	err := s.changeSigningCert(ctx, in.UserName, *in.CertificateId, func(c *signingCertRecord) bool {
		c.Active = *in.Status == "Active"
		return true
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UpdateSigningCertificateOutput{}, nil
}

func (s *Service) deleteSigningCertificate(ctx context.Context, in *iamapi.DeleteSigningCertificateRequest) (*iamapi.DeleteSigningCertificateOutput, error) {
	err := s.changeSigningCert(ctx, in.UserName, *in.CertificateId, func(*signingCertRecord) bool { return false })
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteSigningCertificateOutput{}, nil
}

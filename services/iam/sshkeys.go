package iam

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"

	"golang.org/x/crypto/ssh"

	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/store"
)

// maxSSHKeys is the quota of SSH public keys per user.
const maxSSHKeys = 5

// sshKeyRecord is an SSH public key of a user (for CodeCommit), kept in
// OpenSSH's one-line form.
type sshKeyRecord struct {
	userCred
	Body        string
	Fingerprint string
}

// parseSSHKey reads an SSH public key in OpenSSH's form ("ssh-rsa AAAA...")
// or PEM, which IAM takes: an RSA key of at least 2048 bits.
func parseSSHKey(body string) (ssh.PublicKey, error) {
	body = strings.TrimSpace(body)
	var k ssh.PublicKey
	if b, _ := pem.Decode([]byte(body)); b != nil {
		var pub any
		var err error
		if pub, err = x509.ParsePKIXPublicKey(b.Bytes); err != nil {
			pub, err = x509.ParsePKCS1PublicKey(b.Bytes)
		}
		if err == nil {
			k, err = ssh.NewPublicKey(pub)
		}
		if err != nil {
			return nil, errorf("UnrecognizedPublicKeyEncoding", "The request was rejected because the public key encoding format is unsupported or unrecognized.")
		}
	} else {
		var err error
		if k, _, _, _, err = ssh.ParseAuthorizedKey([]byte(body)); err != nil {
			return nil, errorf("UnrecognizedPublicKeyEncoding", "The request was rejected because the public key encoding format is unsupported or unrecognized.")
		}
	}
	ck, ok := k.(ssh.CryptoPublicKey)
	if !ok {
		return nil, invalidSSHKey()
	}
	rk, ok := ck.CryptoPublicKey().(*rsa.PublicKey)
	if !ok || rk.N.BitLen() < 2048 {
		return nil, invalidSSHKey()
	}
	return k, nil
}

func invalidSSHKey() error {
	return errorf("InvalidPublicKey", "The request was rejected because the public key is malformed or otherwise invalid. The key must be an ssh-rsa key of at least 2048 bits.")
}

func noSuchSSHKey(id string) error {
	return errorf("NoSuchEntity", "The Public Key with id %s cannot be found.", id)
}

func (k *sshKeyRecord) metadata(user string) *iamapi.SSHPublicKeyMetadata {
	return &iamapi.SSHPublicKeyMetadata{UserName: str(user), SSHPublicKeyId: str(k.ID), Status: str(k.status()), UploadDate: timePtr(k.Created)}
}

func (k *sshKeyRecord) api(user, body string) *iamapi.SSHPublicKey {
	return &iamapi.SSHPublicKey{
		UserName: str(user), SSHPublicKeyId: str(k.ID), Fingerprint: str(k.Fingerprint),
		SSHPublicKeyBody: str(body), Status: str(k.status()), UploadDate: timePtr(k.Created),
	}
}

func (s *Service) uploadSSHPublicKey(ctx context.Context, in *iamapi.UploadSSHPublicKeyRequest) (*iamapi.UploadSSHPublicKeyResponse, error) {
	acct := account(ctx)
	pk, err := parseSSHKey(*in.SSHPublicKeyBody)
	if err != nil {
		return nil, err
	}
	body := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pk)))
	var (
		rec   sshKeyRecord
		owner string
	)
	err = s.store.Update(func(tx *store.Tx) error {
		u, err := loadUser(tx, acct, *in.UserName)
		if err != nil {
			return err
		}
		have, err := userCreds[sshKeyRecord](tx, acct, kindSSHKey, u.ID)
		if err != nil {
			return err
		}
		for _, k := range have {
			if k.Body == body {
				return errorf("DuplicateSSHPublicKey", "The request was rejected because the SSH public key is already associated with the specified IAM user.")
			}
		}
		if len(have) >= maxSSHKeys {
			return limitExceeded("Cannot exceed quota for PublicKeysPerUser: %d", maxSSHKeys)
		}
		// IAM's fingerprint is the MD5 one, as ssh-keygen -E md5 shows it.
		rec = sshKeyRecord{userCred{ID: "APKA" + randomID(17), UserID: u.ID, Active: true, Created: s.nowUTC()}, body, ssh.FingerprintLegacyMD5(pk)}
		owner = u.Name
		return tx.Put(key(acct, kindSSHKey, rec.ID), rec)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UploadSSHPublicKeyResponse{SSHPublicKey: rec.api(owner, rec.Body)}, nil
}

// userSSHKey loads the user named and their key id.
func userSSHKey(tx *store.Tx, acct, userName, id string) (*userRecord, *sshKeyRecord, error) {
	u, err := loadUser(tx, acct, userName)
	if err != nil {
		return nil, nil, err
	}
	k, ok, err := store.Get[sshKeyRecord](tx, key(acct, kindSSHKey, id))
	if err != nil {
		return nil, nil, err
	}
	if !ok || k.UserID != u.ID {
		return nil, nil, noSuchSSHKey(id)
	}
	return u, k, nil
}

func (s *Service) getSSHPublicKey(ctx context.Context, in *iamapi.GetSSHPublicKeyRequest) (*iamapi.GetSSHPublicKeyResponse, error) {
	acct := account(ctx)
	if err := checkEnum("encoding", in.Encoding, "SSH", "PEM"); err != nil {
		return nil, err
	}
	var out *iamapi.SSHPublicKey
	err := s.store.View(func(tx *store.Tx) error {
		u, k, err := userSSHKey(tx, acct, *in.UserName, *in.SSHPublicKeyId)
		if err != nil {
			return err
		}
		body := k.Body
		if *in.Encoding == "PEM" {
			pk, _, _, _, err := ssh.ParseAuthorizedKey([]byte(k.Body))
			if err != nil {
				return err
			}
			der, err := x509.MarshalPKIXPublicKey(pk.(ssh.CryptoPublicKey).CryptoPublicKey())
			if err != nil {
				return err
			}
			body = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
		}
		out = k.api(u.Name, body)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetSSHPublicKeyResponse{SSHPublicKey: out}, nil
}

func (s *Service) listSSHPublicKeys(ctx context.Context, in *iamapi.ListSSHPublicKeysRequest) (*iamapi.ListSSHPublicKeysResponse, error) {
	acct := account(ctx)
	name, root, err := keyOwner(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	var (
		keys  []*sshKeyRecord
		owner string
	)
	if !root {
		err = s.store.View(func(tx *store.Tx) error {
			u, err := loadUser(tx, acct, name)
			if err != nil {
				return err
			}
			owner = u.Name
			keys, err = userCreds[sshKeyRecord](tx, acct, kindSSHKey, u.ID)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	p, err := page(keys, func(k *sshKeyRecord) string { return k.ID }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListSSHPublicKeysResponse{SSHPublicKeys: []*iamapi.SSHPublicKeyMetadata{}, Marker: p.marker, IsTruncated: p.truncated}
	for _, k := range p.items {
		out.SSHPublicKeys = append(out.SSHPublicKeys, k.metadata(owner))
	}
	return out, nil
}

func (s *Service) updateSSHPublicKey(ctx context.Context, in *iamapi.UpdateSSHPublicKeyRequest) (*iamapi.UpdateSSHPublicKeyOutput, error) {
	acct := account(ctx)
	if err := checkEnum("status", in.Status, "Active", "Inactive"); err != nil {
		return nil, err
	}
	err := s.store.Update(func(tx *store.Tx) error {
		_, k, err := userSSHKey(tx, acct, *in.UserName, *in.SSHPublicKeyId)
		if err != nil {
			return err
		}
		k.Active = *in.Status == "Active"
		return tx.Put(key(acct, kindSSHKey, k.ID), k)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UpdateSSHPublicKeyOutput{}, nil
}

func (s *Service) deleteSSHPublicKey(ctx context.Context, in *iamapi.DeleteSSHPublicKeyRequest) (*iamapi.DeleteSSHPublicKeyOutput, error) {
	acct := account(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		_, k, err := userSSHKey(tx, acct, *in.UserName, *in.SSHPublicKeyId)
		if err != nil {
			return err
		}
		_, err = tx.Delete(key(acct, kindSSHKey, k.ID))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteSSHPublicKeyOutput{}, nil
}

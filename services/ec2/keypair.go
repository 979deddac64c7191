package ec2

import (
	"context"
	"crypto/ed25519"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"strings"

	"golang.org/x/crypto/ssh"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// Key pairs. cloudbox keeps only the public key, in OpenSSH
// authorized_keys form (what an instance's SSH server needs); the private
// key of a created pair is returned once and forgotten, as in AWS.
// Fingerprints are computed as AWS does: for a created RSA key, the SHA-1
// of its PKCS#8 DER private key; for an imported RSA key, the MD5 of its
// DER public key (SubjectPublicKeyInfo); for ED25519, the base64 SHA-256 of
// the OpenSSH public key, with its padding.

// rsaKeyBits is the size of the RSA keys CreateKeyPair makes, as AWS.
const rsaKeyBits = 2048

// colonHex writes a digest as AWS shows RSA fingerprints: 1f:51:ae:...
func colonHex(sum []byte) string {
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02x", b)
	}
	return strings.Join(parts, ":")
}

func ed25519Fingerprint(pub ssh.PublicKey) string {
	sum := sha256.Sum256(pub.Marshal())
	return base64.StdEncoding.EncodeToString(sum[:])
}

// authorizedKey is pub as a line of authorized_keys, with a comment if any.
func authorizedKey(pub ssh.PublicKey, comment string) string {
	line := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(pub)))
	if comment != "" {
		line += " " + comment
	}
	return line
}

// checkKeyName checks a key pair name: 1 to 255 ASCII characters.
func checkKeyName(name string) error {
	if name == "" {
		return api.Errorf("MissingParameter", "The request must contain the parameter KeyName")
	}
	if len(name) > 255 {
		return invalidParameter("Value (%s) for parameter keyName is invalid. Length exceeds maximum of 255 characters.", name)
	}
	for _, r := range name {
		if r < 0x20 || r > 0x7e {
			return invalidParameter("Value (%s) for parameter keyName is invalid. Character sets beyond ASCII are not supported.", name)
		}
	}
	return nil
}

// keyByName returns the key pair with that name, or nil.
func keyByName(tx *store.Tx, sc scope, name string) (*keyPairRecord, error) {
	all, err := listAll[keyPairRecord](tx, sc, kindKeyPair)
	if err != nil {
		return nil, err
	}
	for _, k := range all {
		if deref(k.KeyName) == name {
			return k, nil
		}
	}
	return nil, nil
}

// keyNameFree refuses a name one of the account's key pairs has already.
func keyNameFree(tx *store.Tx, sc scope, name string) error {
	dup, err := keyByName(tx, sc, name)
	if err == nil && dup != nil {
		err = api.Errorf("InvalidKeyPair.Duplicate", "The keypair '%s' already exists.", name)
	}
	return err
}

// newKey is a key pair made by CreateKeyPair.
type newKey struct {
	private     string // PEM, returned to the caller only
	public      ssh.PublicKey
	fingerprint string
}

func generateKey(keyType string) (*newKey, error) {
	if keyType == "ed25519" {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, err
		}
		block, err := ssh.MarshalPrivateKey(priv, "")
		if err != nil {
			return nil, err
		}
		sp, err := ssh.NewPublicKey(pub)
		if err != nil {
			return nil, err
		}
		return &newKey{private: string(pem.EncodeToMemory(block)), public: sp, fingerprint: ed25519Fingerprint(sp)}, nil
	}
	k, err := rsa.GenerateKey(rand.Reader, rsaKeyBits)
	if err != nil {
		return nil, err
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	sp, err := ssh.NewPublicKey(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	sum := sha1.Sum(pkcs8)
	block := &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}
	return &newKey{private: string(pem.EncodeToMemory(block)), public: sp, fingerprint: colonHex(sum[:])}, nil
}

func (s *Service) CreateKeyPair(ctx context.Context, in *ec2api.CreateKeyPairRequest) (*ec2api.KeyPair, error) {
	sc := scopeOf(ctx)
	name := deref(in.KeyName)
	if err := checkKeyName(name); err != nil {
		return nil, err
	}
	keyType := deref(in.KeyType)
	if keyType == "" {
		keyType = "rsa"
	}
	if keyType != "rsa" && keyType != "ed25519" {
		return nil, invalidParameter("Value (%s) for parameter keyType is invalid. Valid values: rsa, ed25519.", keyType)
	}
	switch f := deref(in.KeyFormat); f {
	case "", "pem":
	case "ppk":
		return nil, api.Errorf("UnsupportedOperation", "cloudbox does not create key pairs in the ppk format: create one in pem format and convert it with puttygen.")
	default:
		return nil, invalidParameter("Value (%s) for parameter keyFormat is invalid. Valid values: pem, ppk.", f)
	}
	tags, err := tagsFor(in.TagSpecifications, "key-pair")
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = []*ec2api.Tag{}
	}
	// Making an RSA key takes a while: not inside the transaction, and not
	// for a dry run.
	var key *newKey
	if in.DryRun == nil || !*in.DryRun {
		if key, err = generateKey(keyType); err != nil {
			return nil, err
		}
	}
	k := &keyPairRecord{KeyPairInfo: ec2api.KeyPairInfo{
		KeyName: str(name), KeyPairId: str(kindKeyPair.newID()), KeyType: str(keyType), Tags: tags,
	}}
	err = s.store.Update(func(tx *store.Tx) error {
		if err := keyNameFree(tx, sc, name); err != nil {
			return err
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		now := s.now().UTC()
		k.CreateTime = &now
		k.KeyFingerprint = str(key.fingerprint)
		k.PublicKey = str(authorizedKey(key.public, name))
		return save(tx, sc, kindKeyPair, *k.KeyPairId, k)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.KeyPair{
		KeyName: k.KeyName, KeyPairId: k.KeyPairId, KeyFingerprint: k.KeyFingerprint, Tags: k.Tags,
		KeyMaterial: str(strings.TrimSuffix(key.private, "\n")),
	}, nil
}

func errKeyFormat() error {
	return api.Errorf("InvalidKey.Format", "Key is not in valid OpenSSH public key format")
}

// parsePublicKey reads the public key material ImportKeyPair accepts:
// OpenSSH (authorized_keys) form, the SSH2 form of RFC 4716, or a DER
// public key (PKIX or PKCS#1), raw, base64 or PEM. It returns the key and
// its comment.
func parsePublicKey(b []byte) (ssh.PublicKey, string, error) {
	text := strings.TrimSpace(string(b))
	if pub, comment, _, _, err := ssh.ParseAuthorizedKey([]byte(text)); err == nil {
		return pub, comment, nil
	}
	if strings.HasPrefix(text, "---- BEGIN SSH2 PUBLIC KEY ----") {
		return parseSSH2(text)
	}
	der := b
	if block, _ := pem.Decode(b); block != nil {
		der = block.Bytes
	} else if d, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(text), "")); err == nil {
		der = d
	}
	if k, err := x509.ParsePKIXPublicKey(der); err == nil {
		pub, err := ssh.NewPublicKey(k)
		return pub, "", err
	}
	if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
		pub, err := ssh.NewPublicKey(k)
		return pub, "", err
	}
	return nil, "", errKeyFormat()
}

// parseSSH2 reads an RFC 4716 public key: headers ("Name: value", lines
// continued with a backslash), then the base64 key, between BEGIN and END.
func parseSSH2(text string) (ssh.PublicKey, string, error) {
	var body strings.Builder
	comment := ""
	continued := false
	for _, line := range strings.Split(text, "\n")[1:] {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "---- END SSH2 PUBLIC KEY ----"):
			blob, err := base64.StdEncoding.DecodeString(body.String())
			if err != nil {
				return nil, "", errKeyFormat()
			}
			pub, err := ssh.ParsePublicKey(blob)
			if err != nil {
				return nil, "", errKeyFormat()
			}
			return pub, comment, nil
		case continued:
			continued = strings.HasSuffix(line, `\`)
		case strings.Contains(line, ":"):
			name, value, _ := strings.Cut(line, ":")
			continued = strings.HasSuffix(line, `\`)
			if strings.EqualFold(strings.TrimSpace(name), "Comment") {
				comment = strings.Trim(strings.TrimSpace(value), `"`)
			}
		default:
			body.WriteString(line)
		}
	}
	return nil, "", errKeyFormat()
}

// importedFingerprint is the fingerprint AWS gives an imported key, which
// must be RSA (1024 bits or more) or ED25519.
func importedFingerprint(pub ssh.PublicKey) (keyType, fingerprint string, err error) {
	switch pub.Type() {
	case ssh.KeyAlgoED25519:
		return "ed25519", ed25519Fingerprint(pub), nil
	case ssh.KeyAlgoRSA:
		k, ok := pub.(ssh.CryptoPublicKey).CryptoPublicKey().(*rsa.PublicKey)
		if !ok || k.N.BitLen() < 1024 || k.N.BitLen() > 16384 {
			return "", "", api.Errorf("InvalidKey.Format", "RSA keys must be between 1024 and 16384 bits long")
		}
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			return "", "", err
		}
		sum := md5.Sum(der)
		return "rsa", colonHex(sum[:]), nil
	}
	return "", "", api.Errorf("InvalidKey.Format", "Key type %s is not supported: use rsa or ed25519", pub.Type())
}

func (s *Service) ImportKeyPair(ctx context.Context, in *ec2api.ImportKeyPairRequest) (*ec2api.ImportKeyPairResult, error) {
	sc := scopeOf(ctx)
	name := deref(in.KeyName)
	if err := checkKeyName(name); err != nil {
		return nil, err
	}
	pub, comment, err := parsePublicKey(in.PublicKeyMaterial)
	if err != nil {
		return nil, err
	}
	keyType, fp, err := importedFingerprint(pub)
	if err != nil {
		return nil, err
	}
	tags, err := tagsFor(in.TagSpecifications, "key-pair")
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = []*ec2api.Tag{}
	}
	now := s.now().UTC()
	k := &keyPairRecord{KeyPairInfo: ec2api.KeyPairInfo{
		KeyName: str(name), KeyPairId: str(kindKeyPair.newID()), KeyType: str(keyType), KeyFingerprint: str(fp),
		PublicKey: str(authorizedKey(pub, comment)), CreateTime: &now, Tags: tags,
	}}
	err = s.store.Update(func(tx *store.Tx) error {
		if err := keyNameFree(tx, sc, name); err != nil {
			return err
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		return save(tx, sc, kindKeyPair, *k.KeyPairId, k)
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.ImportKeyPairResult{KeyName: k.KeyName, KeyPairId: k.KeyPairId, KeyFingerprint: k.KeyFingerprint, Tags: k.Tags}, nil
}

func (s *Service) DescribeKeyPairs(ctx context.Context, in *ec2api.DescribeKeyPairsRequest) (*ec2api.DescribeKeyPairsResult, error) {
	if err := dryRun(in.DryRun); err != nil {
		return nil, err
	}
	sc := scopeOf(ctx)
	type rec = keyPairRecord
	fs := fields[rec]{
		"key-pair-id": func(k *rec) []string { return one(k.KeyPairId) },
		"key-name":    func(k *rec) []string { return one(k.KeyName) },
		"fingerprint": func(k *rec) []string { return one(k.KeyFingerprint) },
	}
	if err := checkFilterNames(in.Filters, fs); err != nil {
		return nil, err
	}
	var page []*rec
	err := s.store.View(func(tx *store.Tx) error {
		ids := append([]*string(nil), in.KeyPairIds...)
		for _, name := range derefAll(in.KeyNames) {
			k, err := keyByName(tx, sc, name)
			if err != nil {
				return err
			}
			if k == nil {
				return api.Errorf("InvalidKeyPair.NotFound", "The key pair '%s' does not exist", name)
			}
			ids = append(ids, k.KeyPairId)
		}
		var err error
		page, _, err = describe(tx, sc, kindKeyPair, query{ids: ids, filters: in.Filters},
			func(k *rec) string { return *k.KeyPairId },
			func(k *rec) []*ec2api.Tag { return k.Tags }, fs)
		return err
	})
	if err != nil {
		return nil, err
	}
	withPublic := in.IncludePublicKey != nil && *in.IncludePublicKey
	out := &ec2api.DescribeKeyPairsResult{KeyPairs: []*ec2api.KeyPairInfo{}}
	for _, k := range page {
		info := k.KeyPairInfo
		if !withPublic {
			info.PublicKey = nil
		}
		out.KeyPairs = append(out.KeyPairs, &info)
	}
	return out, nil
}

// DeleteKeyPair deletes a key pair by name or id. Deleting one that does
// not exist succeeds, as in AWS.
func (s *Service) DeleteKeyPair(ctx context.Context, in *ec2api.DeleteKeyPairRequest) (*ec2api.DeleteKeyPairResult, error) {
	sc := scopeOf(ctx)
	name, id := deref(in.KeyName), deref(in.KeyPairId)
	if name == "" && id == "" {
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter KeyName or KeyPairId")
	}
	out := &ec2api.DeleteKeyPairResult{Return: boolp(true)}
	err := s.store.Update(func(tx *store.Tx) error {
		var k *keyPairRecord
		var err error
		if id != "" {
			if err := kindKeyPair.checkID(id); err != nil {
				return err
			}
			if k, _, err = store.Get[keyPairRecord](tx, sc.key(kindKeyPair, id)); err != nil {
				return err
			}
		} else if k, err = keyByName(tx, sc, name); err != nil {
			return err
		}
		if err := dryRun(in.DryRun); err != nil {
			return err
		}
		if k == nil {
			return nil
		}
		out.KeyPairId = k.KeyPairId
		return remove(tx, sc, kindKeyPair, *k.KeyPairId)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

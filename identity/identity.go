// Package identity resolves access keys to accounts and principals: the
// long-term keys cloudbox is configured with, the access keys IAM creates
// for its users, and the temporary credentials STS issues; the last two are
// kept in the store so they outlive a restart.
package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"sync/atomic"
	"time"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/store"
)

// DefaultAccount owns every access key cloudbox was not told about.
const DefaultAccount = "000000000000"

// Key is a configured long-term access key.
type Key struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	Account         string `json:"account"`
	// User is the IAM user name; empty means the account's root user.
	User string `json:"user,omitempty"`
}

// DefaultKeys are accepted even in strict mode: the "test"/"test" pair that
// local AWS tooling conventionally uses.
var DefaultKeys = []Key{{AccessKeyID: "test", SecretAccessKey: "test", Account: DefaultAccount}}

// Credential is what an access key resolves to.
type Credential struct {
	Principal    api.Principal
	Secret       string
	SessionToken string    `json:",omitempty"`
	Expires      time.Time `json:",omitzero"`
}

// sessionKind is the store kind of temporary credentials and userKeyKind
// that of IAM users' active access keys. Both are looked up by access key
// alone, so they live outside any account.
const (
	sessionKind  = "identity:session"
	userKeyKind  = "identity:userkey"
	sessionOwner = "global"
)

// Resolver maps access keys to credentials.
type Resolver struct {
	keys  map[string]Key
	store *store.Store
	// valid, when set, is asked about every temporary credential found:
	// false revokes it (an instance profile's credentials after the
	// instance is terminated).
	valid atomic.Pointer[func(api.Principal) bool]
	used  usage // keys' last uses (lastused.go)
}

// CheckSessions makes Lookup ask valid about every temporary credential
// it finds; one it refuses resolves as unknown, which the server answers
// with InvalidClientTokenId as AWS does for a revoked token.
func (r *Resolver) CheckSessions(valid func(api.Principal) bool) {
	r.valid.Store(&valid)
}

// New returns a resolver over the configured keys and the temporary
// credentials kept in st.
func New(st *store.Store, keys []Key) *Resolver {
	r := &Resolver{keys: map[string]Key{}, store: st}
	for _, k := range keys {
		r.keys[k.AccessKeyID] = k
	}
	return r
}

// LoadKeys reads a JSON array of keys from path.
func LoadKeys(path string) ([]Key, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var keys []Key
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	for _, k := range keys {
		if k.AccessKeyID == "" || k.SecretAccessKey == "" || !accountRE.MatchString(k.Account) {
			return nil, fmt.Errorf("%s: each key needs access_key_id, secret_access_key and a 12-digit account", path)
		}
	}
	return keys, nil
}

var accountRE = regexp.MustCompile(`^[0-9]{12}$`)

// Lookup returns the credential of a known access key: a configured one, an
// IAM user's active key, or temporary credentials from STS (which may have
// expired; the caller checks).
func (r *Resolver) Lookup(akid string) (Credential, bool, error) {
	if akid == "" {
		return Credential{}, false, nil // an unsigned request
	}
	if k, ok := r.keys[akid]; ok {
		return Credential{Principal: principalOf(k), Secret: k.SecretAccessKey}, true, nil
	}
	var c *Credential
	err := r.store.View(func(tx *store.Tx) error {
		var err error
		for _, kind := range []string{sessionKind, userKeyKind} {
			if c, _, err = store.Get[Credential](tx, store.Key{Account: sessionOwner, Kind: kind, ID: akid}); c != nil || err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || c == nil {
		return Credential{}, false, err
	}
	if v := r.valid.Load(); v != nil && c.Principal.Session != nil && !(*v)(c.Principal) {
		return Credential{}, false, nil
	}
	return *c, true, nil
}

// Principal returns who a key stands for when signatures are not checked:
// known keys as configured, a 12-digit key as the root of that account (so
// tests can pick accounts by key), anything else as the default account.
func (r *Resolver) Principal(akid string) (api.Principal, error) {
	c, ok, err := r.Lookup(akid)
	if err != nil {
		return api.Principal{}, err
	}
	if ok {
		return c.Principal, nil
	}
	account := DefaultAccount
	if accountRE.MatchString(akid) {
		account = akid
	}
	return rootOf(account, akid), nil
}

func principalOf(k Key) api.Principal {
	if k.User == "" {
		return rootOf(k.Account, k.AccessKeyID)
	}
	return api.Principal{
		Account:     k.Account,
		ARN:         arn.New("iam", "", k.Account, "user/"+k.User).String(),
		UserID:      UniqueID("AIDA", k.Account+"/"+k.User),
		AccessKeyID: k.AccessKeyID,
	}
}

func rootOf(account, akid string) api.Principal {
	return api.Principal{Account: account, ARN: arn.New("iam", "", account, "root").String(), UserID: account, AccessKeyID: akid}
}

// UniqueID derives a stable AWS-style unique id (AIDA..., AROA...) from a
// name, so the same user or role has the same id across restarts.
func UniqueID(prefix, name string) string {
	sum := sha256.Sum256([]byte(name))
	return prefix + base32.StdEncoding.EncodeToString(sum[:])[:17]
}

// PutUserKey makes an IAM user's access key resolve to c, from the commit of
// tx on: IAM calls it in the transaction that creates or activates the key,
// so a new key signs requests at once.
func PutUserKey(tx *store.Tx, c Credential) error {
	return tx.Put(store.Key{Account: sessionOwner, Kind: userKeyKind, ID: c.Principal.AccessKeyID}, c)
}

// NewUserKey returns a new long-term access key id (AKIA and 16
// characters) and its 40-character secret, in AWS's forms.
func NewUserKey() (akid, secret string) {
	return "AKIA" + randomString(idAlphabet, 16), randomString(secretAlphabet, 40)
}

// DeleteUserKey stops an IAM user's access key from resolving, in the
// transaction that deactivates or deletes it.
func DeleteUserKey(tx *store.Tx, akid string) error {
	_, err := tx.Delete(store.Key{Account: sessionOwner, Kind: userKeyKind, ID: akid})
	return err
}

// Issue creates temporary credentials for p, valid for d from now, and keeps
// them in the store.
func (r *Resolver) Issue(p api.Principal, now time.Time, d time.Duration) (Credential, error) {
	akid := "ASIA" + randomString(idAlphabet, 16)
	p.AccessKeyID = akid
	c := Credential{
		Principal:    p,
		Secret:       randomString(secretAlphabet, 40),
		SessionToken: "FwoGZXIvYXdzE" + randomString(secretAlphabet, 240),
		Expires:      now.Add(d).UTC().Truncate(time.Second),
	}
	err := r.store.Update(func(tx *store.Tx) error {
		return tx.Put(store.Key{Account: sessionOwner, Kind: sessionKind, ID: akid}, c)
	})
	return c, err
}

const (
	idAlphabet     = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	secretAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// randomString returns n characters of alphabet from crypto/rand (the
// modulo bias of a 62- or 32-letter alphabet over a byte is irrelevant here).
func randomString(alphabet string, n int) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

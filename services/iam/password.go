package iam

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
	"time"
	"unicode"

	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/store"
)

const (
	// kindPasswordPolicy is the account's password policy
	// (passwordPolicy, under passwordPolicyID).
	kindPasswordPolicy = "iam:passwordpolicy"
	passwordPolicyID   = "policy"
	// kindPassword is a user's console password (passwordRecord), by the
	// user's unique id: it follows the user through renames.
	kindPassword = "iam:password"
)

// passwordPolicy is the account's custom password policy. Zero MaxAge and
// Reuse are "not set".
type passwordPolicy struct {
	MinLength                              int64
	Symbols, Numbers, Upper, Lower, Change bool
	MaxAge, Reuse                          int64 `json:",omitempty"`
	HardExpiry                             bool  `json:",omitempty"`
}

// defaultPolicy is what IAM asks of passwords in an account without a
// custom policy: 8 characters, of three of the four kinds.
var defaultPolicy = passwordPolicy{MinLength: 8}

// passwordRecord is a user's console password, salted and hashed: the
// current one first, then as many earlier ones as reuse prevention may
// ask for.
type passwordRecord struct {
	Hashes  []string
	Changed time.Time
}

// maxReuse is the largest PasswordReusePrevention IAM allows.
const maxReuse = 24

func hashPassword(pw string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	return saltedHash(salt, pw)
}

func saltedHash(salt []byte, pw string) string {
	h := sha256.Sum256(append(append([]byte{}, salt...), pw...))
	return hex.EncodeToString(salt) + "$" + hex.EncodeToString(h[:])
}

// matches reports whether the stored hash is of pw.
func matches(stored, pw string) bool {
	saltHex, _, ok := strings.Cut(stored, "$")
	salt, err := hex.DecodeString(saltHex)
	if !ok || err != nil {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(saltedHash(salt, pw)), []byte(stored)) == 1
}

func policyViolation() error {
	return errorf("PasswordPolicyViolation", "Password does not conform to the account password policy.")
}

// loadPasswordPolicy returns the account's custom policy, or nil.
func loadPasswordPolicy(tx *store.Tx, acct string) (*passwordPolicy, error) {
	p, _, err := store.Get[passwordPolicy](tx, store.Key{Account: acct, Kind: kindPasswordPolicy, ID: passwordPolicyID})
	return p, err
}

// checkPassword checks a new password of the user with id against the
// account's policy (or IAM's default one) and its reuse prevention.
func checkPassword(tx *store.Tx, acct, userID, pw string) error {
	p, err := loadPasswordPolicy(tx, acct)
	if err != nil {
		return err
	}
	var upper, lower, digit, symbol bool
	for _, r := range pw {
		switch {
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsLower(r):
			lower = true
		case unicode.IsDigit(r):
			digit = true
		default:
			symbol = true
		}
	}
	if p == nil {
		kinds := 0
		for _, b := range []bool{upper, lower, digit, symbol} {
			if b {
				kinds++
			}
		}
		if int64(len([]rune(pw))) < defaultPolicy.MinLength || kinds < 3 {
			return policyViolation()
		}
		return nil
	}
	if int64(len([]rune(pw))) < p.MinLength || p.Upper && !upper || p.Lower && !lower || p.Numbers && !digit || p.Symbols && !symbol {
		return policyViolation()
	}
	if p.Reuse > 0 {
		rec, _, err := store.Get[passwordRecord](tx, key(acct, kindPassword, userID))
		if err != nil {
			return err
		}
		if rec != nil {
			for i, h := range rec.Hashes {
				if int64(i) < p.Reuse && matches(h, pw) {
					return policyViolation()
				}
			}
		}
	}
	return nil
}

// setPassword makes pw the user's password, keeping the earlier ones
// reuse prevention may look at.
func (s *Service) setPassword(tx *store.Tx, acct, userID, pw string) error {
	k := key(acct, kindPassword, userID)
	rec, _, err := store.Get[passwordRecord](tx, k)
	if err != nil {
		return err
	}
	if rec == nil {
		rec = &passwordRecord{}
	}
	rec.Hashes = append([]string{hashPassword(pw)}, rec.Hashes...)
	if len(rec.Hashes) > maxReuse {
		rec.Hashes = rec.Hashes[:maxReuse]
	}
	rec.Changed = s.nowUTC()
	return tx.Put(k, rec)
}

// loginPassword checks, before a login profile is created or changed, what
// the login profile operation would refuse first (the user; whether it has
// a login profile) and then the password. It returns the user's id.
func (s *Service) loginPassword(ctx context.Context, userName string, pw *string, create bool) (string, error) {
	acct := account(ctx)
	var id string
	err := s.store.View(func(tx *store.Tx) error {
		u, err := loadUser(tx, acct, userName)
		if err != nil {
			return err
		}
		switch {
		case create && u.Login != nil:
			return errorf("EntityAlreadyExists", "Login Profile for user %s already exists.", u.Name)
		case !create && u.Login == nil:
			return noSuchLogin(u.Name)
		}
		id = u.ID
		if pw == nil {
			return nil
		}
		return checkPassword(tx, acct, u.ID, *pw)
	})
	return id, err
}

func (s *Service) storePassword(ctx context.Context, userID string, pw *string) error {
	if pw == nil {
		return nil
	}
	acct := account(ctx)
	return s.store.Update(func(tx *store.Tx) error { return s.setPassword(tx, acct, userID, *pw) })
}

// createLoginProfileChecked is CreateLoginProfile under the password policy.
func (s *Service) createLoginProfileChecked(ctx context.Context, in *iamapi.CreateLoginProfileRequest) (*iamapi.CreateLoginProfileResponse, error) {
	id, err := s.loginPassword(ctx, *in.UserName, in.Password, true)
	if err != nil {
		return nil, err
	}
	out, err := s.createLoginProfile(ctx, in)
	if err != nil {
		return nil, err
	}
	return out, s.storePassword(ctx, id, in.Password)
}

// updateLoginProfileChecked is UpdateLoginProfile under the password policy.
func (s *Service) updateLoginProfileChecked(ctx context.Context, in *iamapi.UpdateLoginProfileRequest) (*iamapi.UpdateLoginProfileOutput, error) {
	id, err := s.loginPassword(ctx, *in.UserName, in.Password, false)
	if err != nil {
		return nil, err
	}
	out, err := s.updateLoginProfile(ctx, in)
	if err != nil {
		return nil, err
	}
	return out, s.storePassword(ctx, id, in.Password)
}

// deleteLoginProfileChecked is DeleteLoginProfile, forgetting the password.
func (s *Service) deleteLoginProfileChecked(ctx context.Context, in *iamapi.DeleteLoginProfileRequest) (*iamapi.DeleteLoginProfileOutput, error) {
	acct := account(ctx)
	var id string
	err := s.store.View(func(tx *store.Tx) error {
		u, err := loadUser(tx, acct, *in.UserName)
		if err == nil {
			id = u.ID
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out, err := s.deleteLoginProfile(ctx, in)
	if err != nil {
		return nil, err
	}
	return out, s.store.Update(func(tx *store.Tx) error {
		_, err := tx.Delete(key(acct, kindPassword, id))
		return err
	})
}

func (s *Service) changePassword(ctx context.Context, in *iamapi.ChangePasswordRequest) (*iamapi.ChangePasswordOutput, error) {
	acct := account(ctx)
	name, root, err := callerUser(ctx)
	if root || err != nil {
		return nil, errorf("InvalidUserType", "Only IAM Users can change their own password.")
	}
	err = s.store.Update(func(tx *store.Tx) error {
		u, err := loadUser(tx, acct, name)
		if err != nil {
			return err
		}
		if u.Login == nil {
			return noSuchLogin(u.Name)
		}
		rec, _, err := store.Get[passwordRecord](tx, key(acct, kindPassword, u.ID))
		if err != nil {
			return err
		}
		if rec == nil || len(rec.Hashes) == 0 || !matches(rec.Hashes[0], *in.OldPassword) {
			return errorf("InvalidUserType", "The old password is incorrect.")
		}
		if err := checkPassword(tx, acct, u.ID, *in.NewPassword); err != nil {
			return err
		}
		if u.Login.ResetRequired {
			u.Login.ResetRequired = false
			if err := users.save(tx, acct, u); err != nil {
				return err
			}
		}
		return s.setPassword(tx, acct, u.ID, *in.NewPassword)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.ChangePasswordOutput{}, nil
}

func (s *Service) updateAccountPasswordPolicy(ctx context.Context, in *iamapi.UpdateAccountPasswordPolicyRequest) (*iamapi.UpdateAccountPasswordPolicyOutput, error) {
	acct := account(ctx)
	flag := func(b *bool) bool { return b != nil && *b }
	num := func(n *int64, def int64) int64 {
		if n == nil {
			return def
		}
		return *n
	}
	// What is not given takes its default, as IAM does: an update replaces
	// the whole policy.
	p := passwordPolicy{
		MinLength: num(in.MinimumPasswordLength, 6),
		Symbols:   flag(in.RequireSymbols), Numbers: flag(in.RequireNumbers),
		Upper: flag(in.RequireUppercaseCharacters), Lower: flag(in.RequireLowercaseCharacters),
		Change: flag(in.AllowUsersToChangePassword), HardExpiry: flag(in.HardExpiry),
		MaxAge: num(in.MaxPasswordAge, 0), Reuse: num(in.PasswordReusePrevention, 0),
	}
	err := s.store.Update(func(tx *store.Tx) error {
		return tx.Put(store.Key{Account: acct, Kind: kindPasswordPolicy, ID: passwordPolicyID}, p)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UpdateAccountPasswordPolicyOutput{}, nil
}

func noPasswordPolicy(acct string) error {
	return errorf("NoSuchEntity", "The Password Policy with domain name %s cannot be found.", acct)
}

func (s *Service) getAccountPasswordPolicy(ctx context.Context, _ *iamapi.GetAccountPasswordPolicyInput) (*iamapi.GetAccountPasswordPolicyResponse, error) {
	acct := account(ctx)
	var p *passwordPolicy
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		p, err = loadPasswordPolicy(tx, acct)
		return err
	})
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, noPasswordPolicy(acct)
	}
	out := &iamapi.PasswordPolicy{
		MinimumPasswordLength: i64(p.MinLength), RequireSymbols: boolp(p.Symbols), RequireNumbers: boolp(p.Numbers),
		RequireUppercaseCharacters: boolp(p.Upper), RequireLowercaseCharacters: boolp(p.Lower),
		AllowUsersToChangePassword: boolp(p.Change), ExpirePasswords: boolp(p.MaxAge > 0),
	}
	if p.MaxAge > 0 {
		out.MaxPasswordAge = i64(p.MaxAge)
	}
	if p.Reuse > 0 {
		out.PasswordReusePrevention = i64(p.Reuse)
	}
	if p.HardExpiry {
		out.HardExpiry = boolp(true)
	}
	return &iamapi.GetAccountPasswordPolicyResponse{PasswordPolicy: out}, nil
}

func (s *Service) deleteAccountPasswordPolicy(ctx context.Context, _ *iamapi.DeleteAccountPasswordPolicyInput) (*iamapi.DeleteAccountPasswordPolicyOutput, error) {
	acct := account(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		ok, err := tx.Delete(store.Key{Account: acct, Kind: kindPasswordPolicy, ID: passwordPolicyID})
		if err == nil && !ok {
			return noPasswordPolicy(acct)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteAccountPasswordPolicyOutput{}, nil
}

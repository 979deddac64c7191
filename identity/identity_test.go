package identity_test

import (
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/store"
)

// TestUserKeys: a user's key resolves from the commit that puts it until
// the one that deletes it, and a rolled-back put leaves nothing.
func TestUserKeys(t *testing.T) {
	st := store.OpenMemory()
	defer st.Close()
	r := identity.New(st, identity.DefaultKeys)
	akid, secret := identity.NewUserKey()
	if !regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`).MatchString(akid) || len(secret) != 40 {
		t.Fatalf("NewUserKey: %q %q", akid, secret)
	}
	p := api.Principal{Account: "111111111111", ARN: "arn:aws:iam::111111111111:user/ops/alice", UserID: "AIDAEXAMPLEEXAMPLE1", AccessKeyID: akid}

	if _, ok, err := r.Lookup(akid); ok || err != nil {
		t.Fatalf("unknown key resolved: %v %v", ok, err)
	}
	st.Update(func(tx *store.Tx) error {
		identity.PutUserKey(tx, identity.Credential{Principal: p, Secret: secret})
		return errRollback
	})
	if _, ok, _ := r.Lookup(akid); ok {
		t.Fatal("a rolled-back key resolves")
	}
	if err := st.Update(func(tx *store.Tx) error {
		return identity.PutUserKey(tx, identity.Credential{Principal: p, Secret: secret})
	}); err != nil {
		t.Fatal(err)
	}
	c, ok, err := r.Lookup(akid)
	if !ok || err != nil || c.Principal != p || c.Secret != secret || c.SessionToken != "" || !c.Expires.IsZero() {
		t.Fatalf("Lookup: %+v %v %v", c, ok, err)
	}
	if got, _ := r.Principal(akid); got != p {
		t.Errorf("Principal: %+v", got)
	}
	if err := st.Update(func(tx *store.Tx) error { return identity.DeleteUserKey(tx, akid) }); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := r.Lookup(akid); ok {
		t.Fatal("a deleted key resolves")
	}
	// Without the key, the unsigned-mode principal is the default account's.
	if got, _ := r.Principal(akid); got.Account != identity.DefaultAccount {
		t.Errorf("Principal of a deleted key: %+v", got)
	}
}

// TestSessionsStillResolve: STS credentials resolve beside users' keys.
func TestSessionsStillResolve(t *testing.T) {
	st := store.OpenMemory()
	defer st.Close()
	r := identity.New(st, identity.DefaultKeys)
	c, err := r.Issue(api.Principal{Account: "222222222222", ARN: "arn:aws:sts::222222222222:assumed-role/r/s"}, time.Now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	got, ok, err := r.Lookup(c.Principal.AccessKeyID)
	if !ok || err != nil || got.SessionToken != c.SessionToken {
		t.Fatalf("session: %+v %v %v", got, ok, err)
	}
}

var errRollback = errors.New("rollback")

package ec2

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/store"
)

// thing is what the test's create calls make.
type thing struct{ ID, Name string }

func TestCreate(t *testing.T) {
	s := New(store.OpenMemory(), time.Now, nil, 1)
	sc := scope{account: "123456789012", region: "us-east-1"}
	made := 0
	key := func(id string) store.Key {
		return store.Key{Account: sc.account, Region: sc.region, Kind: "test:thing", ID: id}
	}
	call := func(token, name string, replay bool, fail error) (*thing, error) {
		c := creation[thing]{
			op: "CreateThing", token: &token, req: name,
			make: func(tx *store.Tx) (*thing, string, error) {
				made++
				th := &thing{ID: fmt.Sprint("t-", made), Name: name}
				if err := tx.Put(key(th.ID), th); err != nil {
					return nil, "", err
				}
				return th, th.ID, fail
			},
		}
		if !replay {
			c.made = func(tx *store.Tx, id string) (*thing, error) {
				th, _, err := store.Get[thing](tx, key(id))
				return th, err
			}
		}
		return create(s, sc, c)
	}
	count := func() int {
		var n int
		s.store.View(func(tx *store.Tx) error {
			all, err := store.ListAll[thing](tx, sc.account, sc.region, "test:thing")
			n = len(all)
			return err
		})
		return n
	}

	for _, replay := range []bool{false, true} {
		a, err := call("tok", "a", replay, nil)
		if err != nil {
			t.Fatal(err)
		}
		again, err := call("tok", "a", replay, nil)
		if err != nil || *again != *a {
			t.Fatalf("replay %v: retry got %v, %v; want %v", replay, again, err, a)
		}
		_, err = call("tok", "b", replay, nil)
		var ae *api.Error
		if !errors.As(err, &ae) || ae.Code != "IdempotentParameterMismatch" {
			t.Fatalf("replay %v: token reused for another request: %v", replay, err)
		}
		if b, err := call("", "a", replay, nil); err != nil || b.ID == a.ID {
			t.Fatalf("replay %v: without a token got %v, %v; want a new one", replay, b, err)
		}
		// Tokens are per mode here: the next round starts afresh.
		s.store.Update(func(tx *store.Tx) error { _, err := tx.Delete(tokenKey(sc, "CreateThing", "tok")); return err })
	}
	if n := count(); n != 4 {
		t.Fatalf("%d things, want 4", n)
	}

	// A failed call leaves neither its resource nor its token behind.
	boom := errors.New("boom")
	if _, err := call("tok2", "c", false, boom); err != boom {
		t.Fatalf("got %v, want boom", err)
	}
	if n := count(); n != 4 {
		t.Fatalf("%d things after a failed call, want 4", n)
	}
	if c, err := call("tok2", "d", false, nil); err != nil || c.Name != "d" {
		t.Fatalf("token of a failed call was kept: %v, %v", c, err)
	}

	// A resource gone since is made again when made says so.
	c, _ := call("tok3", "e", false, nil)
	s.store.Update(func(tx *store.Tx) error { _, err := tx.Delete(key(c.ID)); return err })
	if again, err := call("tok3", "e", false, nil); err != nil || again.ID == c.ID {
		t.Fatalf("after the first was deleted got %v, %v; want a new one", again, err)
	}
}

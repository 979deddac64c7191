package store

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	acct  = "123456789012"
	acct2 = "210987654321"
	east  = "us-east-1"
	west  = "us-west-2"
)

type vpc struct {
	ID   string
	CIDR string
}

type backendCase struct {
	name string
	open func(t testing.TB) *Store
}

var backends = []backendCase{
	{"memory", func(t testing.TB) *Store {
		s := OpenMemory()
		t.Cleanup(func() { s.Close() })
		return s
	}},
	{"bolt", func(t testing.TB) *Store {
		s, err := Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}},
}

// eachBackend runs fn as a subtest against a fresh store of every backend.
func eachBackend(t *testing.T, fn func(t *testing.T, s *Store)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) { fn(t, b.open(t)) })
	}
}

func vpcKey(account, region, id string) Key {
	return Key{Account: account, Region: region, Kind: "ec2:vpc", ID: id}
}

func mustUpdate(t testing.TB, s *Store, fn func(tx *Tx) error) {
	t.Helper()
	if err := s.Update(fn); err != nil {
		t.Fatal(err)
	}
}

// ids lists the IDs of kind in (account, region).
func ids(t testing.TB, s *Store, account, region, kind string) []string {
	t.Helper()
	var got []string
	err := s.View(func(tx *Tx) error {
		return tx.List(account, region, kind, func(id string, _ []byte) error {
			got = append(got, id)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func count(t testing.TB, s *Store, account, region, kind string) int {
	t.Helper()
	var n int
	err := s.View(func(tx *Tx) error {
		var err error
		n, err = tx.Count(account, region, kind)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCRUD(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		k := vpcKey(acct, east, "vpc-1")
		mustUpdate(t, s, func(tx *Tx) error {
			if ok, err := tx.Get(k, &vpc{}); ok || err != nil {
				t.Errorf("Get before Put = %v, %v", ok, err)
			}
			if err := tx.Put(k, vpc{ID: "vpc-1", CIDR: "10.0.0.0/16"}); err != nil {
				return err
			}
			// A transaction sees its own writes.
			var v vpc
			if ok, err := tx.Get(k, &v); !ok || err != nil || v.CIDR != "10.0.0.0/16" {
				t.Errorf("Get in tx = %v, %v, %+v", ok, err, v)
			}
			return nil
		})
		mustUpdate(t, s, func(tx *Tx) error {
			return tx.Put(k, vpc{ID: "vpc-1", CIDR: "10.1.0.0/16"})
		})
		err := s.View(func(tx *Tx) error {
			v, ok, err := Get[vpc](tx, k)
			if !ok || err != nil || v.CIDR != "10.1.0.0/16" {
				t.Errorf("Get after replace = %+v, %v, %v", v, ok, err)
			}
			n, err := tx.Count(acct, east, "ec2:vpc")
			if n != 1 || err != nil {
				t.Errorf("Count after replace = %d, %v", n, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		mustUpdate(t, s, func(tx *Tx) error {
			for _, want := range []bool{true, false} {
				if existed, err := tx.Delete(k); existed != want || err != nil {
					t.Errorf("Delete = %v, %v; want %v", existed, err, want)
				}
			}
			return nil
		})
		err = s.View(func(tx *Tx) error {
			v, ok, err := Get[vpc](tx, k)
			if v != nil || ok || err != nil {
				t.Errorf("Get after Delete = %+v, %v, %v", v, ok, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, s, acct, east, "ec2:vpc"); n != 0 {
			t.Errorf("Count after Delete = %d", n)
		}
	})
}

func TestScopes(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		keys := []Key{
			vpcKey(acct, east, "a"),
			vpcKey(acct, west, "b"),
			vpcKey(acct2, east, "c"),
			{Account: acct, Region: east, Kind: "ec2:subnet", ID: "d"},
			{Account: acct, Region: "", Kind: "iam:role", ID: "e"},
			{Account: acct, Region: "", Kind: "iam:role", ID: "f"},
			// Prefixes of another scope's parts must not leak into it.
			{Account: acct, Region: "us-east", Kind: "1", ID: "g"},
			{Account: acct, Region: east, Kind: "ec2:vpc2", ID: "h"},
		}
		mustUpdate(t, s, func(tx *Tx) error {
			for _, k := range keys {
				if err := tx.Put(k, k.ID); err != nil {
					return err
				}
			}
			return nil
		})
		for _, k := range keys {
			want := 1
			if k.Kind == "iam:role" {
				want = 2
			}
			if n := count(t, s, k.Account, k.Region, k.Kind); n != want {
				t.Errorf("Count(%q, %q, %q) = %d, want %d", k.Account, k.Region, k.Kind, n, want)
			}
		}
		if got := ids(t, s, acct, "", "iam:role"); !slices.Equal(got, []string{"e", "f"}) {
			t.Errorf("global roles = %q", got)
		}
		if got := ids(t, s, acct, east, "ec2:vpc"); !slices.Equal(got, []string{"a"}) {
			t.Errorf("vpcs = %q", got)
		}
		if got := ids(t, s, acct, "", "ec2:vpc"); len(got) != 0 {
			t.Errorf("global vpcs = %q", got)
		}
	})
}

func TestList(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		var want []string
		mustUpdate(t, s, func(tx *Tx) error {
			for _, i := range rand.Perm(200) {
				id := fmt.Sprintf("vpc-%03d", i)
				want = append(want, id)
				if err := tx.Put(vpcKey(acct, east, id), vpc{ID: id}); err != nil {
					return err
				}
			}
			return nil
		})
		slices.Sort(want)
		if got := ids(t, s, acct, east, "ec2:vpc"); !slices.Equal(got, want) {
			t.Errorf("List order = %q", got)
		}
		err := s.View(func(tx *Tx) error {
			all, err := ListAll[vpc](tx, acct, east, "ec2:vpc")
			if err != nil || len(all) != len(want) || all[0].ID != want[0] || all[199].ID != want[199] {
				t.Errorf("ListAll = %d records, %v", len(all), err)
			}
			var seen []string
			err = tx.List(acct, east, "ec2:vpc", func(id string, _ []byte) error {
				seen = append(seen, id)
				if len(seen) == 3 {
					return ErrStop
				}
				return nil
			})
			if err != nil || !slices.Equal(seen, want[:3]) {
				t.Errorf("List with ErrStop = %q, %v", seen, err)
			}
			// ListFrom starts at the first id >= from, existing or not.
			for _, from := range []string{"vpc-100", "vpc-100a", "vpc-199", "vpc-2", ""} {
				var rest []string
				if err := tx.ListFrom(acct, east, "ec2:vpc", from, func(id string, _ []byte) error {
					rest = append(rest, id)
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				i, _ := slices.BinarySearch(want, from)
				if !slices.Equal(rest, want[i:]) {
					t.Errorf("ListFrom(%q) = %d ids from %q, want %d", from, len(rest), rest, len(want)-i)
				}
			}
			boom := errors.New("boom")
			err = tx.List(acct, east, "ec2:vpc", func(string, []byte) error { return boom })
			if err != boom {
				t.Errorf("List error = %v, want %v", err, boom)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestInvalid(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		err := s.Update(func(tx *Tx) error {
			for _, k := range []Key{
				{Region: east, Kind: "ec2:vpc", ID: "x"},
				{Account: acct, Region: east, ID: "x"},
				{Account: acct, Region: east, Kind: "ec2:vpc"},
			} {
				if err := tx.Put(k, 1); err == nil {
					t.Errorf("Put(%+v) succeeded", k)
				}
			}
			if _, err := tx.Count("", east, "ec2:vpc"); err == nil {
				t.Error("Count without account succeeded")
			}
			if err := tx.Put(vpcKey(acct, east, "x"), func() {}); err == nil {
				t.Error("Put of an unencodable value succeeded")
			}
			if err := tx.Put(vpcKey(acct, east, "y"), "not a vpc"); err != nil {
				return err
			}
			if _, _, err := Get[vpc](tx, vpcKey(acct, east, "y")); err == nil {
				t.Error("Get into the wrong type succeeded")
			}
			if _, err := ListAll[vpc](tx, acct, east, "ec2:vpc"); err == nil {
				t.Error("ListAll into the wrong type succeeded")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestReadOnly(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		k := vpcKey(acct, east, "vpc-1")
		err := s.View(func(tx *Tx) error {
			if err := tx.Put(k, vpc{}); err != ErrReadOnly {
				t.Errorf("Put = %v", err)
			}
			if _, err := tx.Delete(k); err != ErrReadOnly {
				t.Errorf("Delete = %v", err)
			}
			if _, err := tx.NextID(acct, east, "seq"); err != ErrReadOnly {
				t.Errorf("NextID = %v", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := count(t, s, acct, east, "ec2:vpc"); n != 0 {
			t.Errorf("Count = %d", n)
		}
	})
}

func TestRollback(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		keep, drop := vpcKey(acct, east, "keep"), vpcKey(acct, east, "drop")
		mustUpdate(t, s, func(tx *Tx) error {
			if _, err := tx.NextID(acct, east, "seq"); err != nil {
				return err
			}
			return tx.Put(keep, vpc{CIDR: "old"})
		})
		write := func(tx *Tx) {
			if err := tx.Put(keep, vpc{CIDR: "new"}); err != nil {
				t.Fatal(err)
			}
			if err := tx.Put(drop, vpc{}); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.NextID(acct, east, "seq"); err != nil {
				t.Fatal(err)
			}
		}
		check := func(when string) {
			t.Helper()
			if got := ids(t, s, acct, east, "ec2:vpc"); !slices.Equal(got, []string{"keep"}) {
				t.Errorf("%s: ids = %q", when, got)
			}
			if n := count(t, s, acct, east, "ec2:vpc"); n != 1 {
				t.Errorf("%s: Count = %d", when, n)
			}
			err := s.View(func(tx *Tx) error {
				v, _, err := Get[vpc](tx, keep)
				if err != nil || v.CIDR != "old" {
					t.Errorf("%s: kept record = %+v, %v", when, v, err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}

		boom := errors.New("boom")
		err := s.Update(func(tx *Tx) error {
			write(tx)
			return boom
		})
		if err != boom {
			t.Fatalf("Update = %v, want %v", err, boom)
		}
		check("after error")

		func() {
			defer func() {
				if r := recover(); r != "panic in tx" {
					t.Errorf("recovered %v", r)
				}
			}()
			s.Update(func(tx *Tx) error {
				write(tx)
				panic("panic in tx")
			})
		}()
		check("after panic")

		// The store is still writable and the rolled-back NextIDs were not
		// consumed.
		mustUpdate(t, s, func(tx *Tx) error {
			n, err := tx.NextID(acct, east, "seq")
			if n != 2 || err != nil {
				t.Errorf("NextID = %d, %v; want 2", n, err)
			}
			return err
		})
	})
}

func TestNextID(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		mustUpdate(t, s, func(tx *Tx) error {
			for i := uint64(1); i <= 3; i++ {
				n, err := tx.NextID(acct, east, "ec2:vpc")
				if n != i || err != nil {
					t.Errorf("NextID = %d, %v; want %d", n, err, i)
				}
			}
			// Counters are per scope.
			n, err := tx.NextID(acct, west, "ec2:vpc")
			if n != 1 || err != nil {
				t.Errorf("NextID other region = %d, %v", n, err)
			}
			// The counter does not count as a record.
			if c, _ := tx.Count(acct, east, "ec2:vpc"); c != 0 {
				t.Errorf("Count = %d", c)
			}
			return nil
		})
		mustUpdate(t, s, func(tx *Tx) error {
			n, err := tx.NextID(acct, east, "ec2:vpc")
			if n != 4 || err != nil {
				t.Errorf("NextID in next tx = %d, %v", n, err)
			}
			return err
		})
	})
}

func TestReset(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		keys := []Key{vpcKey(acct, east, "a"), vpcKey(acct2, west, "b"), {Account: acct, Kind: "iam:user", ID: "c"}}
		mustUpdate(t, s, func(tx *Tx) error {
			for _, k := range keys {
				if err := tx.Put(k, k.ID); err != nil {
					return err
				}
			}
			_, err := tx.NextID(acct, east, "ec2:vpc")
			return err
		})
		if err := s.Reset(); err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if n := count(t, s, k.Account, k.Region, k.Kind); n != 0 {
				t.Errorf("Count(%+v) = %d after Reset", k, n)
			}
			if got := ids(t, s, k.Account, k.Region, k.Kind); len(got) != 0 {
				t.Errorf("List(%+v) = %q after Reset", k, got)
			}
		}
		mustUpdate(t, s, func(tx *Tx) error {
			n, err := tx.NextID(acct, east, "ec2:vpc")
			if n != 1 || err != nil {
				t.Errorf("NextID after Reset = %d, %v", n, err)
			}
			return tx.Put(keys[0], "again")
		})
		if n := count(t, s, acct, east, "ec2:vpc"); n != 1 {
			t.Errorf("Count after Reset and Put = %d", n)
		}
	})
}

func TestClosed(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if err := s.Update(func(*Tx) error { return nil }); err == nil {
			t.Error("Update after Close succeeded")
		}
		if err := s.View(func(*Tx) error { return nil }); err == nil {
			t.Error("View after Close succeeded")
		}
	})
}

// TestPersistence checks that records and counters survive a reopen.
func TestPersistence(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, s, func(tx *Tx) error {
		for range 5 {
			if _, err := tx.NextID(acct, "", "sts:credentials"); err != nil {
				return err
			}
		}
		if err := tx.Put(vpcKey(acct, east, "vpc-1"), vpc{ID: "vpc-1"}); err != nil {
			return err
		}
		return tx.Put(vpcKey(acct, east, "vpc-2"), vpc{ID: "vpc-2"})
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	mustUpdate(t, s, func(tx *Tx) error {
		n, err := tx.NextID(acct, "", "sts:credentials")
		if n != 6 || err != nil {
			t.Errorf("NextID after reopen = %d, %v; want 6", n, err)
		}
		c, err := tx.Count(acct, east, "ec2:vpc")
		if c != 2 || err != nil {
			t.Errorf("Count after reopen = %d, %v", c, err)
		}
		v, ok, err := Get[vpc](tx, vpcKey(acct, east, "vpc-2"))
		if !ok || err != nil || v.ID != "vpc-2" {
			t.Errorf("Get after reopen = %+v, %v, %v", v, ok, err)
		}
		return nil
	})
}

func TestOpenLocked(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// bbolt's flock is per open file description, so a second Open in the
	// same process stands in for a second cloudbox process.
	if s2, err := Open(dir); err == nil {
		s2.Close()
		t.Fatal("second Open of a locked store succeeded")
	}
}

// TestConcurrent moves amounts between accounts in concurrent writers while
// readers check that every snapshot holds the same total and that Count
// agrees with List.
func TestConcurrent(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		const accounts, total = 10, 1000
		key := func(i int) Key {
			return Key{Account: acct, Region: east, Kind: "bank:account", ID: fmt.Sprintf("acc-%02d", i)}
		}
		mustUpdate(t, s, func(tx *Tx) error {
			for i := range accounts {
				if err := tx.Put(key(i), total/accounts); err != nil {
					return err
				}
			}
			return nil
		})
		writes, reads := 50, 200
		if testing.Short() {
			writes, reads = 10, 20
		}
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(w), 0))
				for range writes {
					err := s.Update(func(tx *Tx) error {
						from, to := key(r.IntN(accounts)), key(r.IntN(accounts))
						var a, b int
						if _, err := tx.Get(from, &a); err != nil {
							return err
						}
						if err := tx.Put(from, a-1); err != nil {
							return err
						}
						if _, err := tx.Get(to, &b); err != nil {
							return err
						}
						return tx.Put(to, b+1)
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		for range 4 {
			wg.Go(func() {
				for range reads {
					err := s.View(func(tx *Tx) error {
						all, err := ListAll[int](tx, acct, east, "bank:account")
						if err != nil {
							return err
						}
						sum := 0
						for _, v := range all {
							sum += *v
						}
						n, err := tx.Count(acct, east, "bank:account")
						if sum != total || n != len(all) || err != nil {
							t.Errorf("snapshot: sum %d, count %d, listed %d, %v", sum, n, len(all), err)
						}
						return nil
					})
					if err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	})
}

func TestScopesOfKind(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		mustUpdate(t, s, func(tx *Tx) error {
			for _, k := range []Key{vpcKey(acct2, west, "vpc-1"), vpcKey(acct, east, "vpc-2"), vpcKey(acct, west, "vpc-3"), vpcKey(acct, west, "vpc-4"),
				{Account: acct, Region: "eu-west-1", Kind: "ec2:subnet", ID: "subnet-1"}} {
				if err := tx.Put(k, vpc{ID: k.ID}); err != nil {
					return err
				}
			}
			return nil
		})
		// A scope whose records were all deleted is not listed.
		mustUpdate(t, s, func(tx *Tx) error {
			_, err := tx.Delete(vpcKey(acct2, west, "vpc-1"))
			return err
		})
		err := s.View(func(tx *Tx) error {
			got, err := tx.Scopes("ec2:vpc")
			want := [][2]string{{acct, east}, {acct, west}}
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("Scopes = %v, %v; want %v", got, err, want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestDueEarliest(t *testing.T) {
	now := time.Now()
	d := Due{vpcKey(acct, east, "a"): now.Add(time.Minute), vpcKey(acct, east, "b"): now, vpcKey(acct, east, "c"): now.Add(time.Hour)}
	if got, ok := d.Earliest(); !ok || !got.Equal(now) {
		t.Errorf("Earliest = %v, %v", got, ok)
	}
	if _, ok := (Due{}).Earliest(); ok {
		t.Errorf("an empty Due has an earliest time")
	}
}

func TestOnCommit(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		var ran []string
		k := Key{Account: "111111111111", Region: "r", Kind: "k", ID: "a"}
		err := s.Update(func(tx *Tx) error {
			tx.OnCommit(func() {
				// Durable and visible by the time it runs.
				var v string
				s.View(func(tx *Tx) error { _, err := tx.Get(k, &v); return err })
				ran = append(ran, "first "+v)
			})
			tx.OnCommit(func() { ran = append(ran, "second") })
			return tx.Put(k, "x")
		})
		if err != nil {
			t.Fatal(err)
		}
		failed := errors.New("no")
		if err := s.Update(func(tx *Tx) error {
			tx.OnCommit(func() { ran = append(ran, "rolled back") })
			return failed
		}); err != failed {
			t.Fatal(err)
		}
		if strings.Join(ran, ",") != "first x,second" {
			t.Fatalf("ran %v", ran)
		}
	})
}

func TestGeneration(t *testing.T) {
	s := OpenMemory()
	defer s.Close()
	iam0, ec20 := s.Generation("iam"), s.Generation("ec2")
	put := func(kind string) {
		t.Helper()
		if err := s.Update(func(tx *Tx) error {
			return tx.Put(Key{Account: "111122223333", Kind: kind, ID: "a"}, map[string]int{"n": 1})
		}); err != nil {
			t.Fatal(err)
		}
	}
	put("iam:user")
	if s.Generation("iam") != iam0+1 || s.Generation("ec2") != ec20 {
		t.Fatalf("after an IAM write: iam %d, ec2 %d", s.Generation("iam"), s.Generation("ec2"))
	}
	// A failed transaction changes nothing.
	s.Update(func(tx *Tx) error {
		tx.Put(Key{Account: "111122223333", Kind: "iam:user", ID: "b"}, 1)
		return errors.New("no")
	})
	if s.Generation("iam") != iam0+1 {
		t.Fatalf("a rolled-back write moved the generation")
	}
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	if s.Generation("iam") != iam0+2 || s.Generation("ec2") != ec20+1 {
		t.Fatalf("after Reset: iam %d, ec2 %d", s.Generation("iam"), s.Generation("ec2"))
	}
}

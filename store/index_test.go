package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
)

func lookup(s *Store, account, region, cidr string) (ids []string) {
	s.View(func(tx *Tx) error {
		ids, _ = tx.Lookup(account, region, "ec2:vpc", "cidr", cidr)
		return nil
	})
	return ids
}

// byCIDR indexes VPC records by their CIDR.
func byCIDR(raw []byte) []string {
	var v vpc
	json.Unmarshal(raw, &v)
	return []string{v.CIDR}
}

func TestIndex(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		put := func(id, cidr string) {
			mustUpdate(t, s, func(tx *Tx) error { return tx.Put(vpcKey(acct, east, id), vpc{id, cidr}) })
		}
		put("vpc-1", "10.0.0.0/16") // before the index: found by its build
		if err := s.Index("ec2:vpc", "cidr", byCIDR); err != nil {
			t.Fatal(err)
		}
		want := func(cidr string, ids ...string) {
			t.Helper()
			if got := lookup(s, acct, east, cidr); !slices.Equal(got, ids) && !(len(got) == 0 && len(ids) == 0) {
				t.Fatalf("IDs(%s) = %v, want %v", cidr, got, ids)
			}
		}
		want("10.0.0.0/16", "vpc-1")
		put("vpc-2", "10.0.0.0/16")
		put("vpc-3", "10.1.0.0/16")
		want("10.0.0.0/16", "vpc-1", "vpc-2")
		if got := lookup(s, acct2, east, "10.0.0.0/16"); len(got) != 0 {
			t.Fatalf("another account's: %v", got)
		}
		put("vpc-2", "10.2.0.0/16") // a changed value leaves the old one
		want("10.0.0.0/16", "vpc-1")
		want("10.2.0.0/16", "vpc-2")

		// A rolled-back write leaves nothing; a value given back in the
		// same transaction stays.
		err := s.Update(func(tx *Tx) error {
			tx.Put(vpcKey(acct, east, "vpc-4"), vpc{"vpc-4", "10.0.0.0/16"})
			return errors.New("no")
		})
		if err == nil {
			t.Fatal("the update did not fail")
		}
		want("10.0.0.0/16", "vpc-1")
		mustUpdate(t, s, func(tx *Tx) error {
			tx.Put(vpcKey(acct, east, "vpc-3"), vpc{"vpc-3", "10.9.0.0/16"})
			return tx.Put(vpcKey(acct, east, "vpc-3"), vpc{"vpc-3", "10.1.0.0/16"})
		})
		want("10.1.0.0/16", "vpc-3")
		want("10.9.0.0/16")

		mustUpdate(t, s, func(tx *Tx) error { _, err := tx.Delete(vpcKey(acct, east, "vpc-1")); return err })
		want("10.0.0.0/16")
		if err := s.Reset(); err != nil {
			t.Fatal(err)
		}
		want("10.2.0.0/16")
	})
}

// Concurrent writers move records between two values; between their
// transactions the index is exact.
func TestIndexConcurrent(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *Store) {
		if err := s.Index("ec2:vpc", "cidr", byCIDR); err != nil {
			t.Fatal(err)
		}
		const n = 20
		for i := range n {
			mustUpdate(t, s, func(tx *Tx) error { return tx.Put(vpcKey(acct, east, fmt.Sprint(i)), vpc{fmt.Sprint(i), "a"}) })
		}
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for w := range 2 {
			wg.Go(func() {
				for j := 0; ; j++ {
					select {
					case <-stop:
						return
					default:
					}
					id := fmt.Sprint((j*7 + w) % n)
					cidr := []string{"a", "b"}[j%2]
					s.Update(func(tx *Tx) error { return tx.Put(vpcKey(acct, east, id), vpc{id, cidr}) })
				}
			})
		}
		// Between write transactions (the write lock held) the index is
		// exactly the records' values, however the writers interleaved.
		exact := func() {
			t.Helper()
			var a, b []string
			s.View(func(tx *Tx) error {
				return tx.List(acct, east, "ec2:vpc", func(id string, raw []byte) error {
					if byCIDR(raw)[0] == "a" {
						a = append(a, id)
					} else {
						b = append(b, id)
					}
					return nil
				})
			})
			slices.Sort(a)
			slices.Sort(b)
			if got := lookup(s, acct, east, "a"); !slices.Equal(got, a) && len(a)+len(got) > 0 {
				t.Fatalf("a: index %v, store %v", got, a)
			}
			if got := lookup(s, acct, east, "b"); !slices.Equal(got, b) && len(b)+len(got) > 0 {
				t.Fatalf("b: index %v, store %v", got, b)
			}
		}
		for range 200 {
			s.wmu.Lock()
			exact()
			s.wmu.Unlock()
		}
		close(stop)
		wg.Wait()
		exact()
	})
}

package store

import (
	"fmt"
	"testing"
)

const benchRecords = 1000

func benchID(i int) string { return fmt.Sprintf("vpc-%08x", i*2654435761%(1<<32)) }

// eachBackendBench runs fn against a store of every backend holding
// benchRecords vpcs.
func eachBackendBench(b *testing.B, fn func(b *testing.B, s *Store)) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			s := be.open(b)
			mustUpdate(b, s, func(tx *Tx) error {
				for i := range benchRecords {
					if err := tx.Put(vpcKey(acct, east, benchID(i)), vpc{ID: benchID(i), CIDR: "10.0.0.0/16"}); err != nil {
						return err
					}
				}
				return nil
			})
			b.ReportAllocs()
			b.ResetTimer()
			fn(b, s)
		})
	}
}

func BenchmarkGet(b *testing.B) {
	eachBackendBench(b, func(b *testing.B, s *Store) {
		k := vpcKey(acct, east, benchID(benchRecords/2))
		for b.Loop() {
			err := s.View(func(tx *Tx) error {
				_, ok, err := Get[vpc](tx, k)
				if !ok {
					b.Fatal("missing")
				}
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkPut commits one Put per transaction.
func BenchmarkPut(b *testing.B) {
	eachBackendBench(b, func(b *testing.B, s *Store) {
		i := 0
		for b.Loop() {
			i++
			mustUpdate(b, s, func(tx *Tx) error {
				return tx.Put(vpcKey(acct, east, benchID(i%(2*benchRecords))), vpc{ID: "x", CIDR: "10.0.0.0/16"})
			})
		}
	})
}

// BenchmarkPut100 commits 100 Puts per transaction.
func BenchmarkPut100(b *testing.B) {
	eachBackendBench(b, func(b *testing.B, s *Store) {
		i := 0
		for b.Loop() {
			mustUpdate(b, s, func(tx *Tx) error {
				for range 100 {
					i++
					if err := tx.Put(vpcKey(acct, east, benchID(i%(2*benchRecords))), vpc{ID: "x", CIDR: "10.0.0.0/16"}); err != nil {
						return err
					}
				}
				return nil
			})
		}
	})
}

// BenchmarkList decodes all benchRecords records of a scope.
func BenchmarkList(b *testing.B) {
	eachBackendBench(b, func(b *testing.B, s *Store) {
		for b.Loop() {
			err := s.View(func(tx *Tx) error {
				all, err := ListAll[vpc](tx, acct, east, "ec2:vpc")
				if len(all) != benchRecords {
					b.Fatalf("listed %d", len(all))
				}
				return err
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

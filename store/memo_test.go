package store

import (
	"encoding/json"
	"testing"
)

func TestMemo(t *testing.T) {
	for name, open := range map[string]func(t *testing.T) *Store{
		"memory": func(t *testing.T) *Store { return OpenMemory() },
		"bolt": func(t *testing.T) *Store {
			s, err := Open(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	} {
		t.Run(name, func(t *testing.T) {
			s := open(t)
			defer s.Close()
			type rec struct{ State string }
			calls := 0
			memo := NewMemo(2, func(k Key, raw []byte) (string, error) {
				calls++
				var r rec
				err := json.Unmarshal(raw, &r)
				return k.ID + ":" + r.State, err
			})
			k := Key{Account: "1", Region: "r", Kind: "thing", ID: "a"}
			put := func(state string) {
				if err := s.Update(func(tx *Tx) error { return tx.Put(k, rec{state}) }); err != nil {
					t.Fatal(err)
				}
			}
			get := func(k Key) (v string, ok bool) {
				err := s.View(func(tx *Tx) error {
					var err error
					v, ok, err = memo.Get(tx, k)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				return v, ok
			}
			if _, ok := get(k); ok {
				t.Fatal("a missing record was found")
			}
			put("pending")
			for range 3 {
				if v, ok := get(k); !ok || v != "a:pending" {
					t.Fatalf("got %q, %v", v, ok)
				}
			}
			if calls != 1 {
				t.Errorf("an unchanged record was decoded %d times", calls)
			}
			put("running")
			if v, _ := get(k); v != "a:running" {
				t.Errorf("after a change: %q", v)
			}
			for _, id := range []string{"b", "c", "d"} {
				other := Key{Account: "1", Region: "r", Kind: "thing", ID: id}
				if err := s.Update(func(tx *Tx) error { return tx.Put(other, rec{id}) }); err != nil {
					t.Fatal(err)
				}
				if v, _ := get(other); v != id+":"+id {
					t.Errorf("%s: %q", id, v)
				}
			}
			if len(memo.entries) > 2 {
				t.Errorf("%d entries kept, want at most 2", len(memo.entries))
			}
		})
	}
}

package desired

import (
	"strings"
	"testing"

	"github.com/cloudbox/cloudbox/store"
)

// vpcs contributes a VPC per record of kind "test:vpc", and the peering
// "pcx-1" from every scope that has a record "peer".
type vpcs struct{ reads map[Scope]int }

func (vpcs) Follows(kind string) bool { return strings.HasPrefix(kind, "test:") }

func (vpcs) Scopes(tx *store.Tx) ([]Scope, error) {
	pairs, err := tx.Scopes("test:vpc")
	return ScopesOf(pairs), err
}

func (v vpcs) Contribute(tx *store.Tx, sc Scope, w *World) error {
	v.reads[sc]++
	return tx.List(sc.Account, sc.Region, "test:vpc", func(id string, _ []byte) error {
		if id == "peer" {
			w.Peerings = append(w.Peerings, &Peering{ID: "pcx-1"})
			return nil
		}
		w.VPCs = append(w.VPCs, &VPC{ID: id, Account: sc.Account, Region: sc.Region})
		return nil
	})
}

func TestParts(t *testing.T) {
	st := store.OpenMemory()
	defer st.Close()
	put := func(account, region, id string) {
		t.Helper()
		if err := st.Update(func(tx *store.Tx) error {
			return tx.Put(store.Key{Account: account, Region: region, Kind: "test:vpc", ID: id}, 1)
		}); err != nil {
			t.Fatal(err)
		}
	}
	put("222222222222", "us-east-1", "vpc-c")
	put("111111111111", "eu-west-1", "vpc-b")
	put("111111111111", "eu-west-1", "peer")
	put("111111111111", "ap-south-1", "vpc-a")
	put("111111111111", "ap-south-1", "peer")

	c := vpcs{reads: map[Scope]int{}}
	p := Parts{}
	read := func(scopes []Scope, all bool) *World {
		t.Helper()
		if err := st.View(func(tx *store.Tx) error { return p.Read(tx, []Contributor{c}, scopes, all) }); err != nil {
			t.Fatal(err)
		}
		return p.World()
	}
	ids := func(w *World) string {
		var out []string
		for _, v := range w.VPCs {
			out = append(out, v.ID)
		}
		return strings.Join(out, ",")
	}

	w := read(nil, true)
	if ids(w) != "vpc-a,vpc-b,vpc-c" || len(w.Peerings) != 1 {
		t.Fatalf("full read: vpcs %s, peerings %d", ids(w), len(w.Peerings))
	}
	// A change in one scope re-reads that scope alone.
	put("222222222222", "us-east-1", "vpc-d")
	w = read([]Scope{{"222222222222", "us-east-1"}}, false)
	if ids(w) != "vpc-a,vpc-b,vpc-c,vpc-d" || c.reads[Scope{"111111111111", "eu-west-1"}] != 1 || c.reads[Scope{"222222222222", "us-east-1"}] != 2 {
		t.Fatalf("after one scope: vpcs %s, reads %v", ids(w), c.reads)
	}
	// A scope whose records are gone leaves the world.
	st.Update(func(tx *store.Tx) error {
		for _, id := range []string{"vpc-c", "vpc-d"} {
			tx.Delete(store.Key{Account: "222222222222", Region: "us-east-1", Kind: "test:vpc", ID: id})
		}
		return nil
	})
	if w = read([]Scope{{"222222222222", "us-east-1"}}, false); ids(w) != "vpc-a,vpc-b" {
		t.Fatalf("after deletion: vpcs %s", ids(w))
	}
	if w, err := Snapshot(st, c); err != nil || ids(w) != "vpc-a,vpc-b" || len(w.Peerings) != 1 {
		t.Fatalf("snapshot: %v %+v", err, w)
	}
}

package rds

import (
	"strings"
	"testing"
)

// FuzzSnapshotRef: a snapshot named by identifier or ARN resolves without
// a panic; an ARN RDS made resolves back to its scope and identifier, and
// a plain identifier to the caller's scope.
func FuzzSnapshotRef(f *testing.F) {
	f.Add("bts-snap", "ap-northeast-2")
	f.Add("arn:aws:rds:us-east-1:000000000000:snapshot:bts-snap", "us-east-1")
	f.Add("rds:bts-db-2026-12-07-17-00", "eu-west-1")
	f.Add("arn:aws:rds:us-east-1:000000000000:db:x", "")
	f.Fuzz(func(t *testing.T, ref, region string) {
		sc := scope{account: "000000000000", region: "ap-northeast-2"}
		got, id := snapshotRef(sc, ref)
		if !strings.HasPrefix(ref, "arn:aws:rds:") && (got != sc || id != strings.ToLower(ref)) {
			t.Fatalf("%q: %v %q", ref, got, id)
		}
		if strings.Contains(region, ":") {
			return
		}
		other := scope{account: sc.account, region: region}
		if got, id2 := snapshotRef(sc, other.arn("snapshot", ref)); got != other || id2 != strings.ToLower(ref) {
			t.Fatalf("the ARN of %q in %q resolves to %v %q", ref, region, got, id2)
		}
	})
}

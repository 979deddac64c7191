package identity

import (
	"sync"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/store"
)

func TestUsed(t *testing.T) {
	st := store.OpenMemory()
	defer st.Close()
	r := New(st, nil)
	p := api.Principal{Account: "111122223333", ARN: "arn:aws:iam::111122223333:user/alice", AccessKeyID: "AKIAAAAAAAAAAAAAAAAA"}
	if err := st.Update(func(tx *store.Tx) error { return PutUserKey(tx, Credential{Principal: p, Secret: "s"}) }); err != nil {
		t.Fatal(err)
	}
	last := func() (LastUse, bool) {
		var use LastUse
		var ok bool
		if err := st.View(func(tx *store.Tx) (err error) { use, ok, err = LastUsed(tx, p.AccessKeyID); return }); err != nil {
			t.Fatal(err)
		}
		return use, ok
	}
	if _, ok := last(); ok {
		t.Fatal("a key never used has a last use")
	}
	t0 := time.Date(2026, 3, 1, 12, 0, 10, 0, time.UTC)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Used(p, "sts", "us-east-1", t0.Add(time.Duration(i)*time.Second))
		}()
	}
	wg.Wait()
	minute := LastUse{Date: t0.Truncate(time.Minute), Service: "sts", Region: "us-east-1"}
	if use, ok := last(); !ok || use != minute {
		t.Fatalf("after use: %+v %v, want %+v", use, ok, minute)
	}

	// Another service within the minute waits for the minute's end.
	r.Used(p, "s3", "eu-west-1", t0.Add(20*time.Second))
	if use, _ := last(); use != minute {
		t.Fatalf("written within the minute: %+v", use)
	}
	r.flushUses()
	if use, _ := last(); use.Service != "s3" || use.Region != "eu-west-1" || !use.Date.Equal(minute.Date) {
		t.Fatalf("after the minute: %+v", use)
	}

	// A later minute is written at once; an older one never overwrites it.
	r.Used(p, "ec2", "us-west-2", t0.Add(2*time.Minute))
	r.writeUses(map[string]LastUse{p.AccessKeyID: minute})
	if use, _ := last(); use.Service != "ec2" || !use.Date.Equal(t0.Add(2*time.Minute).Truncate(time.Minute)) {
		t.Fatalf("a later minute: %+v", use)
	}

	// Sessions, roots and keys IAM does not have are not recorded.
	for _, q := range []api.Principal{
		{ARN: p.ARN, AccessKeyID: "ASIAAAAAAAAAAAAAAAAA", Session: &api.Session{}},
		{ARN: "arn:aws:iam::111122223333:root", AccessKeyID: "AKIABBBBBBBBBBBBBBBB"},
		{ARN: "arn:aws:iam::111122223333:user/bob", AccessKeyID: "AKIACCCCCCCCCCCCCCCC"},
	} {
		r.Used(q, "sts", "us-east-1", t0)
		var ok bool
		st.View(func(tx *store.Tx) (err error) { _, ok, err = LastUsed(tx, q.AccessKeyID); return })
		if ok {
			t.Errorf("%s recorded", q.AccessKeyID)
		}
	}
}

package identity

import (
	"strings"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/store"
)

// lastUsedKind keeps the last use of each IAM user's access key
// (LastUse), by key id, for GetAccessKeyLastUsed.
const lastUsedKind = "identity:lastused"

// LastUse is when an access key last signed a request, for which service
// and in which region. IAM reports the time to the minute.
type LastUse struct {
	Date            time.Time
	Service, Region string
}

// usage is what the resolver remembers of keys' uses, so that a key
// signing many requests costs a store write at most once a minute: the
// first use in a minute is written at once, a change of service or
// region later in that minute when the minute is over.
type usage struct {
	mu      sync.Mutex
	written map[string]LastUse // what the store holds, by key id
	pending map[string]LastUse // newer uses in a written minute
	timer   *time.Timer        // writes pending at the next minute
}

// Used records that an IAM user's long-term access key (p's) signed a
// request for service in region at the time given. Other callers
// (temporary credentials, root and unknown keys) are not recorded: IAM
// reports the last use of users' keys only.
func (r *Resolver) Used(p api.Principal, service, region string, at time.Time) {
	if p.Session != nil || !strings.HasPrefix(p.AccessKeyID, "AKIA") || !strings.Contains(p.ARN, ":user/") {
		return
	}
	use := LastUse{Date: at.UTC().Truncate(time.Minute), Service: service, Region: region}
	u := &r.used
	u.mu.Lock()
	w, ok := u.written[p.AccessKeyID]
	if ok && w.Date.Equal(use.Date) {
		if w != use {
			if u.pending == nil {
				u.pending = map[string]LastUse{}
			}
			u.pending[p.AccessKeyID] = use
			if u.timer == nil {
				// At the end of the wall clock's minute, whatever clock at is.
				now := time.Now()
				u.timer = time.AfterFunc(now.Truncate(time.Minute).Add(time.Minute).Sub(now), r.flushUses)
			}
		}
		u.mu.Unlock()
		return
	}
	if u.written == nil {
		u.written = map[string]LastUse{}
	}
	u.written[p.AccessKeyID] = use
	delete(u.pending, p.AccessKeyID)
	u.mu.Unlock()
	r.writeUses(map[string]LastUse{p.AccessKeyID: use})
}

// flushUses writes the pending uses.
func (r *Resolver) flushUses() {
	u := &r.used
	u.mu.Lock()
	pending := u.pending
	u.pending, u.timer = nil, nil
	for k, use := range pending {
		u.written[k] = use
	}
	u.mu.Unlock()
	if len(pending) > 0 {
		r.writeUses(pending)
	}
}

// writeUses keeps uses of keys that still sign, none older than what the
// store has (writes of two minutes may cross). Failures are dropped: the
// record is advisory, and AWS calls it eventually consistent too.
func (r *Resolver) writeUses(uses map[string]LastUse) {
	r.store.Update(func(tx *store.Tx) error {
		for akid, use := range uses {
			var c Credential
			if ok, err := tx.Get(store.Key{Account: sessionOwner, Kind: userKeyKind, ID: akid}, &c); err != nil || !ok {
				continue
			}
			k := store.Key{Account: sessionOwner, Kind: lastUsedKind, ID: akid}
			var old LastUse
			if ok, err := tx.Get(k, &old); err != nil || ok && old.Date.After(use.Date) {
				continue
			}
			if err := tx.Put(k, use); err != nil {
				return err
			}
		}
		return nil
	})
}

// LastUsed returns the recorded last use of an IAM user's access key; ok
// is false for a key never used.
func LastUsed(tx *store.Tx, akid string) (use LastUse, ok bool, err error) {
	ok, err = tx.Get(store.Key{Account: sessionOwner, Kind: lastUsedKind, ID: akid}, &use)
	return use, ok, err
}

// ForgetLastUse removes a deleted key's record, in the transaction that
// deletes the key.
func ForgetLastUse(tx *store.Tx, akid string) error {
	_, err := tx.Delete(store.Key{Account: sessionOwner, Kind: lastUsedKind, ID: akid})
	return err
}

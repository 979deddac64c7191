package s3

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/store"
)

// Lifecycle rules are applied on the virtual clock (Run calls
// applyLifecycle about every virtual hour): current versions expire,
// noncurrent versions and expired delete markers are removed, incomplete
// multipart uploads are aborted. S3 counts a rule's days from the
// object's creation (for a noncurrent version, from when its successor
// was made; for an upload, from its initiation) and rounds the moment to
// the next midnight UTC: an object made on 15 January at 10:30 with a
// 3-day rule expires at 00:00 on 19 January. Transitions are stored, not
// applied: every storage class reads at once.

// lifecyclePage is how many keys one transaction of a lifecycle pass
// handles, so that a large bucket does not hold the store's write lock.
const lifecyclePage = 256

// dueAfter is when a rule of days applies to something made at t.
func dueAfter(t time.Time, days int64) time.Time {
	return t.UTC().Add(time.Duration(days) * 24 * time.Hour).Truncate(24 * time.Hour).Add(24 * time.Hour)
}

// ruleFilter is what a lifecycle rule selects: a key prefix, tags every
// one of which an object must have, and bounds on its size.
type ruleFilter struct {
	prefix  string
	tags    []tag
	gt, lt  *int64
	hasTags bool
}

func filterOf(r *s3api.LifecycleRule) ruleFilter {
	f := ruleFilter{prefix: deref(r.Prefix)}
	lf := r.Filter
	if lf == nil {
		return f
	}
	f.prefix, f.gt, f.lt = deref(lf.Prefix), lf.ObjectSizeGreaterThan, lf.ObjectSizeLessThan
	tags := []*s3api.Tag{lf.Tag}
	if a := lf.And; a != nil {
		f.prefix, f.gt, f.lt, tags = deref(a.Prefix), a.ObjectSizeGreaterThan, a.ObjectSizeLessThan, a.Tags
	}
	for _, t := range tags {
		if t != nil {
			f.tags = append(f.tags, tag{deref(t.Key), deref(t.Value)})
		}
	}
	f.hasTags = len(f.tags) > 0
	return f
}

// selects says whether the filter selects version v of key. A delete
// marker has no tags and no size: a rule filtering by tags does not
// select it, and size bounds do not apply to it.
func (f ruleFilter) selects(key string, v *version) bool {
	if !strings.HasPrefix(key, f.prefix) {
		return false
	}
	if v.DeleteMarker {
		return !f.hasTags
	}
	for _, t := range f.tags {
		if !slices.Contains(v.Tags, t) {
			return false
		}
	}
	return (f.gt == nil || v.Size > *f.gt) && (f.lt == nil || v.Size < *f.lt)
}

// enabledRules are a bucket's rules that are on.
func enabledRules(b *bucketRecord) []*s3api.LifecycleRule {
	if b.Config.Lifecycle == nil {
		return nil
	}
	var out []*s3api.LifecycleRule
	for _, r := range b.Config.Lifecycle.Rules {
		if r != nil && deref(r.Status) == "Enabled" {
			out = append(out, r)
		}
	}
	return out
}

// applyLifecycle applies every bucket's lifecycle rules as of now.
func (s *Service) applyLifecycle(now time.Time) error {
	var buckets []*bucketRecord
	err := s.store.View(func(tx *store.Tx) error {
		scopes, err := tx.Scopes(kindBucket)
		if err != nil {
			return err
		}
		for _, sc := range scopes {
			bs, err := store.ListAll[bucketRecord](tx, sc[0], "", kindBucket)
			if err != nil {
				return err
			}
			for _, b := range bs {
				if len(enabledRules(b)) > 0 {
					buckets = append(buckets, b)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, b := range buckets {
		if err := s.lifecycleBucket(b.Owner, b.Name, kindObjects+b.Name, now, s.expireObject); err != nil {
			return err
		}
		if err := s.lifecycleBucket(b.Owner, b.Name, kindUploads+b.Name, now, s.abortUpload); err != nil {
			return err
		}
	}
	return nil
}

// lifecycleBucket walks the records of kind (a bucket's objects or
// uploads) a page per transaction, reading the bucket again in each, and
// applies act to each record.
func (s *Service) lifecycleBucket(owner, name, kind string, now time.Time,
	act func(tx *store.Tx, b *bucketRecord, rules []*s3api.LifecycleRule, id string, raw []byte, now time.Time) error) error {
	from := ""
	for {
		done := true
		err := s.store.Update(func(tx *store.Tx) error {
			b, ok, err := store.Get[bucketRecord](tx, store.Key{Account: owner, Kind: kindBucket, ID: name})
			if err != nil || !ok {
				return err
			}
			rules := enabledRules(b)
			type record struct {
				id  string
				raw []byte
			}
			var page []record
			if err := tx.ListFrom(owner, "", kind, from, func(id string, raw []byte) error {
				if len(page) == lifecyclePage {
					done = false
					return errStop
				}
				page = append(page, record{id, slices.Clone(raw)})
				return nil
			}); err != nil {
				return err
			}
			for _, r := range page {
				if err := act(tx, b, rules, r.id, r.raw, now); err != nil {
					return err
				}
			}
			if len(page) > 0 {
				from = page[len(page)-1].id + "\x00"
			}
			return nil
		})
		if err != nil || done {
			return err
		}
	}
}

// expireObject applies the rules to one key's versions: noncurrent
// versions past their days go; then the current version expires (a
// delete marker takes its place when the bucket is versioned), or, when
// it is a delete marker left alone, the marker goes.
func (s *Service) expireObject(tx *store.Tx, b *bucketRecord, rules []*s3api.LifecycleRule, key string, raw []byte, now time.Time) error {
	var o objectRecord
	if err := json.Unmarshal(raw, &o); err != nil {
		return err
	}
	if len(o.Versions) == 0 {
		return nil
	}
	remove := map[string]bool{}
	for i := 1; i < len(o.Versions); i++ {
		// A version became noncurrent when the next one was made.
		v, since, newer := o.Versions[i], o.Versions[i-1].Modified, int64(i-1)
		for _, r := range rules {
			n := r.NoncurrentVersionExpiration
			if n == nil || n.NoncurrentDays == nil || !filterOf(r).selects(key, v) {
				continue
			}
			if k := n.NewerNoncurrentVersions; k != nil && newer < *k {
				continue
			}
			if !now.Before(dueAfter(since, *n.NoncurrentDays)) {
				remove[v.ID] = true
			}
		}
	}
	for id := range remove {
		v, err := removeVersion(tx, b, key, id)
		if err != nil {
			return err
		}
		if v != nil {
			s.removeBlobsOnCommit(tx, b.Name, v.Blobs)
		}
	}
	left := slices.DeleteFunc(slices.Clone(o.Versions), func(v *version) bool { return remove[v.ID] })
	if len(left) == 0 {
		return nil
	}
	cur := left[0]
	for _, r := range rules {
		e := r.Expiration
		if e == nil || !filterOf(r).selects(key, cur) {
			continue
		}
		if !cur.DeleteMarker {
			if e.Days != nil && !now.Before(dueAfter(cur.Modified, *e.Days)) || e.Date != nil && !now.Before(*e.Date) {
				// Expiring is deleting, as DeleteObject does for the
				// bucket's versioning state.
				_, err := s.deleteOne(tx, b, key, "", b.Owner)
				return err
			}
			continue
		}
		// A delete marker with no versions behind it is an expired
		// object delete marker: removed at once when the rule says so,
		// and by a rule of days once it is as old as the rule's days.
		alone := len(left) == 1
		if alone && (e.ExpiredObjectDeleteMarker != nil && *e.ExpiredObjectDeleteMarker ||
			e.Days != nil && !now.Before(dueAfter(cur.Modified, *e.Days))) {
			_, err := removeVersion(tx, b, key, cur.ID)
			return err
		}
	}
	return nil
}

// abortUpload aborts a multipart upload a rule's days have passed for.
// Only the prefix of a rule selects uploads: they have neither tags nor
// a size yet.
func (s *Service) abortUpload(tx *store.Tx, b *bucketRecord, rules []*s3api.LifecycleRule, id string, raw []byte, now time.Time) error {
	var u uploadRecord
	if err := json.Unmarshal(raw, &u); err != nil {
		return err
	}
	for _, r := range rules {
		a := r.AbortIncompleteMultipartUpload
		if a == nil || a.DaysAfterInitiation == nil || !strings.HasPrefix(u.Key, filterOf(r).prefix) {
			continue
		}
		if now.Before(dueAfter(u.Initiated, *a.DaysAfterInitiation)) {
			continue
		}
		var blobs []blobRef
		for _, p := range u.Parts {
			blobs = append(blobs, blobRef{ID: p.Blob, Size: p.Size})
		}
		s.removeBlobsOnCommit(tx, b.Name, blobs)
		_, err := tx.Delete(store.Key{Account: b.Owner, Kind: kindUploads + b.Name, ID: id})
		return err
	}
	return nil
}

package s3

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"time"

	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/clock"
	"github.com/cloudbox/cloudbox/engines/objectstore"
	"github.com/cloudbox/cloudbox/metric"
	"github.com/cloudbox/cloudbox/registry"
	"github.com/cloudbox/cloudbox/store"
)

// S3 keeps its objects' bytes under <files>/s3 and its metadata in the
// store; what a crash left between the two is swept before it serves. It
// publishes its daily storage metrics to CloudWatch.
func init() {
	registry.Register(registry.Registration{
		Name:     "s3",
		API:      s3api.Service,
		Requires: []string{"cloudwatch"},
		New: func(env *registry.Env) (registry.Service, error) {
			pub, ok := env.Service("cloudwatch").(metric.Publisher)
			if !ok {
				return nil, fmt.Errorf("cloudwatch does not publish built-in metrics")
			}
			if env.Files == "" {
				return nil, fmt.Errorf("s3 needs a directory for its files")
			}
			blobs, err := objectstore.Open(filepath.Join(env.Files, "s3"))
			if err != nil {
				return nil, err
			}
			s := New(env.Store, blobs, env.Clock.Now, env.Log)
			if err := s.Sweep(); err != nil {
				return nil, err
			}
			return &registered{Service: s, clock: env.Clock, metrics: pub,
				form: formAuth{ids: env.Identity, strict: env.StrictAuth, now: env.Now}}, nil
		},
	})
}

// registered is S3 as the daemon runs it: on its clock, publishing to
// CloudWatch, authenticating form uploads as the daemon does.
type registered struct {
	*Service
	clock   *clock.Clock
	metrics metric.Publisher
	form    formAuth
}

// ServeRaw is the Service's, with the daemon's authentication for form
// uploads.
func (r *registered) ServeRaw(w http.ResponseWriter, req *http.Request) bool {
	return r.serveRaw(w, req, r.form)
}

// housekeepEvery is how often (virtual time) lifecycle rules are applied
// and the day's storage metrics looked for: S3 acts on rules within a day
// of their midnight.
const housekeepEvery = time.Hour

// Run sweeps the object files again whenever the store is reset, so a
// reset world keeps no bytes of the old one, and about every virtual
// hour applies lifecycle rules and, once a day, publishes the storage
// metrics.
func (r *registered) Run(ctx context.Context) {
	events, cancel := r.store.Watch(kindBucket)
	defer cancel()
	tick := time.NewTicker(r.clock.Wall(housekeepEvery))
	defer tick.Stop()
	r.housekeep(r.clock.Now())
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			if ev.Op == store.Reset {
				if err := r.Sweep(); err != nil {
					r.log.Warn("s3: sweeping object files after a reset", "error", err)
				}
			}
		case <-tick.C:
			r.housekeep(r.clock.Now())
		}
	}
}

// publishedKey is the record of the last day whose storage metrics were
// published: kept in the store, so that a restart does not publish a day
// twice (CloudWatch would sum both).
var publishedKey = store.Key{Account: "global", Kind: "s3:metrics", ID: "published"}

// housekeep applies lifecycle rules as of now, and publishes the storage
// metrics of now's day unless they have been.
func (r *registered) housekeep(now time.Time) {
	if err := r.applyLifecycle(now); err != nil {
		r.log.Warn("s3: applying lifecycle rules", "error", err)
	}
	day := now.UTC().Truncate(24 * time.Hour)
	var published *time.Time
	err := r.store.View(func(tx *store.Tx) error {
		var err error
		published, _, err = store.Get[time.Time](tx, publishedKey)
		return err
	})
	if err != nil || published != nil && !day.After(*published) {
		return
	}
	data, err := r.storageMetrics(day)
	if err != nil {
		r.log.Warn("s3: storage metrics", "error", err)
		return
	}
	for where, d := range data {
		if err := r.metrics.Publish(where.account, where.region, "AWS/S3", d); err != nil {
			r.log.Warn("s3: publishing storage metrics", "account", where.account, "region", where.region, "error", err)
		}
	}
	if err := r.store.Update(func(tx *store.Tx) error { return tx.Put(publishedKey, day) }); err != nil {
		r.log.Warn("s3: recording the storage metrics' day", "error", err)
	}
}

// Sweep removes every object file no record names, and every temporary
// one. It is safe only when no object is being written.
func (s *Service) Sweep() error {
	keep := map[string]bool{} // bucket/blob
	err := s.store.View(func(tx *store.Tx) error {
		scopes, err := tx.Scopes(kindBucket)
		if err != nil {
			return err
		}
		for _, sc := range scopes {
			buckets, err := store.ListAll[bucketRecord](tx, sc[0], "", kindBucket)
			if err != nil {
				return err
			}
			for _, b := range buckets {
				if err := tx.List(b.Owner, "", kindObjects+b.Name, func(_ string, raw []byte) error {
					var o objectRecord
					if err := json.Unmarshal(raw, &o); err != nil {
						return err
					}
					for _, v := range o.Versions {
						for _, bl := range v.Blobs {
							keep[b.Name+"/"+bl.ID] = true
						}
					}
					return nil
				}); err != nil {
					return err
				}
				if err := tx.List(b.Owner, "", kindUploads+b.Name, func(_ string, raw []byte) error {
					var u uploadRecord
					if err := json.Unmarshal(raw, &u); err != nil {
						return err
					}
					for _, p := range u.Parts {
						keep[b.Name+"/"+p.Blob] = true
					}
					return nil
				}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	n, err := s.blobs.Sweep(func(bucket, id string) bool { return keep[bucket+"/"+id] })
	if n > 0 {
		s.log.Info("s3: removed object files no record names", "files", n)
	}
	return err
}

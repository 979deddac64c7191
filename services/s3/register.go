package s3

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/engines/objectstore"
	"github.com/cloudbox/cloudbox/registry"
	"github.com/cloudbox/cloudbox/store"
)

// S3 keeps its objects' bytes under <files>/s3 and its metadata in the
// store; what a crash left between the two is swept before it serves.
func init() {
	registry.Register(registry.Registration{
		Name: "s3",
		API:  s3api.Service,
		New: func(env *registry.Env) (registry.Service, error) {
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
			return s, nil
		},
	})
}

// Run sweeps the object files again whenever the store is reset, so a
// reset world keeps no bytes of the old one.
func (s *Service) Run(ctx context.Context) {
	events, cancel := s.store.Watch(kindBucket)
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-events:
			if !ok {
				return
			}
			if ev.Op == store.Reset {
				if err := s.Sweep(); err != nil {
					s.log.Warn("s3: sweeping object files after a reset", "error", err)
				}
			}
		}
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

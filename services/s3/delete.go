package s3

import (
	"context"
	"errors"
	"time"

	"github.com/cloudbox/cloudbox/api"
	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/store"
)

// maxDeleteObjects is how many keys one DeleteObjects may name.
const maxDeleteObjects = 1000

// deleted is what deleting one key or version did.
type deleted struct {
	marker   bool   // a delete marker was made, or removed
	version  string // the version removed or the marker made, "" when unversioned
	markerID string
}

// deleteOne deletes key (or, with id, one version of it) in tx, as the
// bucket's versioning state has it: without versioning the object goes;
// with it a delete marker is added (its id "null" when suspended).
func (s *Service) deleteOne(tx *store.Tx, b *bucketRecord, key, id, acct string) (deleted, error) {
	if id != "" {
		v, err := removeVersion(tx, b, key, id)
		if err != nil || v == nil {
			if err == nil && id != "null" && !validVersionID(id) {
				err = invalidArgument("versionId", id, "Invalid version id specified")
			}
			return deleted{version: id}, err
		}
		s.removeBlobsOnCommit(tx, b.Name, v.Blobs)
		d := deleted{version: id}
		if v.DeleteMarker {
			d.marker, d.markerID = true, id
		}
		return d, nil
	}
	if b.Versioning == "" {
		o, err := getObjectRecord(tx, b, key)
		if err != nil || o == nil {
			return deleted{}, err
		}
		for _, v := range o.Versions {
			s.removeBlobsOnCommit(tx, b.Name, v.Blobs)
		}
		_, err = tx.Delete(objectKey(b, key))
		return deleted{}, err
	}
	marker := &version{DeleteMarker: true, Modified: s.now().UTC().Truncate(time.Millisecond), Owner: acct}
	dropped, err := putVersion(tx, b, key, marker)
	s.removeBlobsOnCommit(tx, b.Name, dropped)
	return deleted{marker: true, version: marker.ID, markerID: marker.ID}, err
}

func (s *Service) deleteObject(ctx context.Context, in *s3api.DeleteObjectRequest) (*s3api.DeleteObjectOutput, error) {
	var d deleted
	var b *bucketRecord
	err := s.store.Update(func(tx *store.Tx) error {
		var err error
		if b, err = s.bucketFor(ctx, tx, deref(in.Bucket)); err != nil {
			return err
		}
		d, err = s.deleteOne(tx, b, deref(in.Key), deref(in.VersionId), caller(ctx))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &s3api.DeleteObjectOutput{}
	if d.marker {
		out.DeleteMarker = boolp(true)
	}
	if b.Versioning != "" || in.VersionId != nil {
		out.VersionId = str(d.version)
	}
	return out, nil
}

func (s *Service) deleteObjects(ctx context.Context, in *s3api.DeleteObjectsRequest) (*s3api.DeleteObjectsOutput, error) {
	if in.Delete == nil || len(in.Delete.Objects) == 0 || len(in.Delete.Objects) > maxDeleteObjects {
		return nil, malformedXML()
	}
	quiet := in.Delete.Quiet != nil && *in.Delete.Quiet
	out := &s3api.DeleteObjectsOutput{}
	err := s.store.Update(func(tx *store.Tx) error {
		b, err := s.bucketFor(ctx, tx, deref(in.Bucket))
		if err != nil {
			return err
		}
		for _, o := range in.Delete.Objects {
			key, id := deref(o.Key), deref(o.VersionId)
			d, err := s.deleteOne(tx, b, key, id, caller(ctx))
			var e *api.Error
			if errors.As(err, &e) {
				out.Errors = append(out.Errors, &s3api.Error{Key: str(key), Code: str(e.Code), Message: str(e.Message), VersionId: o.VersionId})
				continue
			}
			if err != nil {
				return err
			}
			if quiet {
				continue
			}
			r := &s3api.DeletedObject{Key: str(key)}
			if id != "" {
				r.VersionId = str(id)
			}
			if d.marker {
				r.DeleteMarker = boolp(true)
				r.DeleteMarkerVersionId = str(d.markerID)
			}
			out.Deleted = append(out.Deleted, r)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

package s3

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/store"
)

// maxObjectTags and maxBucketTags are S3's limits.
const (
	maxObjectTags = 10
	maxBucketTags = 50
)

func init() {
	extraHandlers = append(extraHandlers, func(s *Service, h *s3api.Handlers) {
		h.GetObjectTagging = s.getObjectTagging
		h.PutObjectTagging = s.putObjectTagging
		h.DeleteObjectTagging = s.deleteObjectTagging
		h.GetBucketTagging = s.getBucketTagging
		h.PutBucketTagging = s.putBucketTagging
		h.DeleteBucketTagging = s.deleteBucketTagging
	})
}

func invalidTag(format string, args ...any) error {
	return errorf(http.StatusBadRequest, "InvalidTag", format, args...)
}

// checkTags applies S3's rules for tags (object and bucket alike).
func checkTags(tags []tag) error {
	seen := map[string]bool{}
	for _, t := range tags {
		if t.Key == "" || utf8.RuneCountInString(t.Key) > 128 {
			return invalidTag("The TagKey you have provided is invalid")
		}
		if utf8.RuneCountInString(t.Value) > 256 {
			return invalidTag("The TagValue you have provided is invalid")
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return invalidTag("Your TagKey cannot be prefixed with aws:")
		}
		if seen[t.Key] {
			return invalidTag("Cannot provide multiple Tags with the same key")
		}
		seen[t.Key] = true
	}
	return nil
}

func sortTags(tags []tag) {
	slices.SortFunc(tags, func(a, b tag) int { return strings.Compare(a.Key, b.Key) })
}

// tagsIn reads a Tagging document.
func tagsIn(t *s3api.Tagging, limit int) ([]tag, error) {
	if t == nil {
		return nil, malformedXML()
	}
	var tags []tag
	for _, x := range t.TagSet {
		if x == nil || x.Key == nil || x.Value == nil {
			return nil, malformedXML()
		}
		tags = append(tags, tag{*x.Key, *x.Value})
	}
	if len(tags) > limit {
		if limit == maxObjectTags {
			// S3's code for this one is BadRequest, not InvalidTag.
			return nil, errorf(http.StatusBadRequest, "BadRequest", "Object tags cannot be greater than %d", limit)
		}
		return nil, invalidTag("Bucket tag count cannot be greater than %d", limit)
	}
	if err := checkTags(tags); err != nil {
		return nil, err
	}
	sortTags(tags)
	return tags, nil
}

func tagSet(tags []tag) []*s3api.Tag {
	out := []*s3api.Tag{}
	for _, t := range tags {
		out = append(out, &s3api.Tag{Key: str(t.Key), Value: str(t.Value)})
	}
	return out
}

// objectVersion finds a version to tag: the current one, or id.
func objectVersion(o *objectRecord, key, id string) (*version, error) {
	var v *version
	if id != "" {
		if o != nil {
			v = o.find(id)
		}
		if v == nil {
			return nil, errorf(http.StatusNotFound, "NoSuchVersion", "The specified version does not exist.").With("Key", key).With("VersionId", id)
		}
	} else if v = o.current(); v == nil || v.DeleteMarker {
		return nil, noSuchKey(key)
	}
	if v.DeleteMarker {
		return nil, errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
	}
	return v, nil
}

// updateObject changes one version of key in a transaction.
func (s *Service) updateObject(ctx context.Context, bucket, key, id string, change func(b *bucketRecord, v *version) error) (*bucketRecord, *version, error) {
	var b *bucketRecord
	var v *version
	err := s.store.Update(func(tx *store.Tx) error {
		var err error
		if b, err = s.bucketFor(ctx, tx, bucket); err != nil {
			return err
		}
		o, err := getObjectRecord(tx, b, key)
		if err != nil {
			return err
		}
		if v, err = objectVersion(o, key, id); err != nil {
			return err
		}
		if err := change(b, v); err != nil {
			return err
		}
		return tx.Put(objectKey(b, key), o)
	})
	return b, v, err
}

func versionHeader(b *bucketRecord, v *version) *string {
	if b.Versioning == "" {
		return nil
	}
	return str(v.ID)
}

func (s *Service) getObjectTagging(ctx context.Context, in *s3api.GetObjectTaggingRequest) (*s3api.GetObjectTaggingOutput, error) {
	var b *bucketRecord
	var v *version
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		if b, err = s.bucketFor(ctx, tx, deref(in.Bucket)); err != nil {
			return err
		}
		o, err := getObjectRecord(tx, b, deref(in.Key))
		if err != nil {
			return err
		}
		v, err = objectVersion(o, deref(in.Key), deref(in.VersionId))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &s3api.GetObjectTaggingOutput{TagSet: tagSet(v.Tags), VersionId: versionHeader(b, v)}, nil
}

func (s *Service) putObjectTagging(ctx context.Context, in *s3api.PutObjectTaggingRequest) (*s3api.PutObjectTaggingOutput, error) {
	tags, err := tagsIn(in.Tagging, maxObjectTags)
	if err != nil {
		return nil, err
	}
	b, v, err := s.updateObject(ctx, deref(in.Bucket), deref(in.Key), deref(in.VersionId), func(_ *bucketRecord, v *version) error {
		v.Tags = tags
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s3api.PutObjectTaggingOutput{VersionId: versionHeader(b, v)}, nil
}

func (s *Service) deleteObjectTagging(ctx context.Context, in *s3api.DeleteObjectTaggingRequest) (*s3api.DeleteObjectTaggingOutput, error) {
	b, v, err := s.updateObject(ctx, deref(in.Bucket), deref(in.Key), deref(in.VersionId), func(_ *bucketRecord, v *version) error {
		v.Tags = nil
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s3api.DeleteObjectTaggingOutput{VersionId: versionHeader(b, v)}, nil
}

// updateBucket changes a bucket in a transaction.
func (s *Service) updateBucket(ctx context.Context, name string, change func(b *bucketRecord) error) error {
	return s.store.Update(func(tx *store.Tx) error {
		b, err := s.bucketFor(ctx, tx, name)
		if err != nil {
			return err
		}
		if err := change(b); err != nil {
			return err
		}
		return s.putBucket(tx, b)
	})
}

// viewBucket reads a bucket the caller may use.
func (s *Service) viewBucket(ctx context.Context, name string) (*bucketRecord, error) {
	var b *bucketRecord
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		b, err = s.bucketFor(ctx, tx, name)
		return err
	})
	return b, err
}

func (s *Service) getBucketTagging(ctx context.Context, in *s3api.GetBucketTaggingRequest) (*s3api.GetBucketTaggingOutput, error) {
	b, err := s.viewBucket(ctx, deref(in.Bucket))
	if err != nil {
		return nil, err
	}
	if len(b.Tags) == 0 {
		return nil, errorf(http.StatusNotFound, "NoSuchTagSet", "The TagSet does not exist").With("BucketName", b.Name)
	}
	return &s3api.GetBucketTaggingOutput{TagSet: tagSet(b.Tags)}, nil
}

func (s *Service) putBucketTagging(ctx context.Context, in *s3api.PutBucketTaggingRequest) (*s3api.PutBucketTaggingOutput, error) {
	tags, err := tagsIn(in.Tagging, maxBucketTags)
	if err != nil {
		return nil, err
	}
	if err := s.updateBucket(ctx, deref(in.Bucket), func(b *bucketRecord) error {
		b.Tags = tags
		return nil
	}); err != nil {
		return nil, err
	}
	return &s3api.PutBucketTaggingOutput{}, nil
}

func (s *Service) deleteBucketTagging(ctx context.Context, in *s3api.DeleteBucketTaggingRequest) (*s3api.DeleteBucketTaggingOutput, error) {
	if err := s.updateBucket(ctx, deref(in.Bucket), func(b *bucketRecord) error {
		b.Tags = nil
		return nil
	}); err != nil {
		return nil, err
	}
	return &s3api.DeleteBucketTaggingOutput{}, nil
}

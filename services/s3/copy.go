package s3

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/store"
)

// maxCopySize is the largest source CopyObject copies in one piece.
const maxCopySize = 5 << 30

// copySource is what an x-amz-copy-source header names.
type copySource struct {
	bucket, key, versionID string
}

// parseCopySource reads "bucket/key" or "/bucket/key", URL-encoded, with
// an optional "?versionId=".
func parseCopySource(h string) (copySource, error) {
	bad := invalidArgument("x-amz-copy-source", h, "Invalid copy source encoding.")
	path, query, _ := strings.Cut(h, "?")
	path, err := url.PathUnescape(path)
	if err != nil {
		return copySource{}, bad
	}
	path = strings.TrimPrefix(path, "/")
	bucket, key, ok := strings.Cut(path, "/")
	if !ok || bucket == "" || key == "" {
		return copySource{}, invalidArgument("x-amz-copy-source", h, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	}
	cs := copySource{bucket: bucket, key: key}
	if query != "" {
		q, err := url.ParseQuery(query)
		if err != nil {
			return copySource{}, bad
		}
		cs.versionID = q.Get("versionId")
	}
	return cs, nil
}

// source returns the version a copy reads, applying the
// x-amz-copy-source-if-* conditions (all failures are 412 for a copy).
func (s *Service) source(ctx context.Context, tx *store.Tx, cs copySource) (*bucketRecord, *version, error) {
	b, err := findBucket(tx, cs.bucket)
	if err != nil {
		return nil, nil, err
	}
	if b == nil {
		return nil, nil, noSuchBucket(cs.bucket)
	}
	if b.Owner != caller(ctx) {
		return nil, nil, accessDenied()
	}
	o, err := getObjectRecord(tx, b, cs.key)
	if err != nil {
		return nil, nil, err
	}
	var v *version
	if cs.versionID != "" {
		if o != nil {
			v = o.find(cs.versionID)
		}
		if v == nil {
			return nil, nil, errorf(http.StatusNotFound, "NoSuchVersion", "The specified version does not exist.").With("Key", cs.key).With("VersionId", cs.versionID)
		}
		if v.DeleteMarker {
			return nil, nil, invalidRequest("The source of a copy request may not specifically refer to a delete marker by version id.")
		}
	} else if v = o.current(); v == nil || v.DeleteMarker {
		return nil, nil, noSuchKey(cs.key)
	}
	return b, v, nil
}

// copyConditions applies x-amz-copy-source-if-*: a copy answers 412
// where a GET would answer 304.
func copyConditions(v *version, ifMatch, ifNoneMatch *string, ifModified, ifUnmodified *time.Time) error {
	err := preconditions(v, ifMatch, ifNoneMatch, ifModified, ifUnmodified)
	if e, ok := err.(*api.Error); ok && e.Status == http.StatusNotModified {
		cond := "x-amz-copy-source-If-None-Match"
		if ifNoneMatch == nil {
			cond = "x-amz-copy-source-If-Modified-Since"
		}
		return preconditionFailed(cond)
	}
	return err
}

func (s *Service) copyObject(ctx context.Context, in *s3api.CopyObjectRequest) (*s3api.CopyObjectOutput, error) {
	bucket, key := deref(in.Bucket), deref(in.Key)
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := checkStorageClass(in.StorageClass); err != nil {
		return nil, err
	}
	cs, err := parseCopySource(deref(in.CopySource))
	if err != nil {
		return nil, err
	}
	directive := deref(in.MetadataDirective)
	if directive != "" && directive != "COPY" && directive != "REPLACE" {
		return nil, invalidArgument("x-amz-metadata-directive", directive, "Unknown metadata directive.")
	}
	tagDirective := deref(in.TaggingDirective)
	if tagDirective != "" && tagDirective != "COPY" && tagDirective != "REPLACE" {
		return nil, invalidArgument("x-amz-tagging-directive", tagDirective, "Unknown tagging directive.")
	}
	tags, err := parseTagging(in.Tagging)
	if err != nil {
		return nil, err
	}
	// Read the source and link its blobs: the copy shares the bytes until
	// one of them is replaced.
	var src *version
	var srcBucket *bucketRecord
	err = s.store.View(func(tx *store.Tx) error {
		if _, err := s.bucketFor(ctx, tx, bucket); err != nil {
			return err
		}
		srcBucket, src, err = s.source(ctx, tx, cs)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := copyConditions(src, in.CopySourceIfMatch, in.CopySourceIfNoneMatch, in.CopySourceIfModifiedSince, in.CopySourceIfUnmodifiedSince); err != nil {
		return nil, err
	}
	if src.Size > maxCopySize {
		return nil, invalidRequest("The specified copy source is larger than the maximum allowable size for a copy source: %d", maxCopySize)
	}
	if cs.bucket == bucket && cs.key == key && cs.versionID == "" && directive != "REPLACE" &&
		in.StorageClass == nil && in.WebsiteRedirectLocation == nil && in.ServerSideEncryption == nil {
		return nil, invalidRequest("This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	v := *src
	v.Blobs = nil
	v.Modified = s.now().UTC().Truncate(time.Millisecond)
	v.Owner = caller(ctx)
	v.StorageClass = deref(in.StorageClass)
	v.WebsiteRedirect = deref(in.WebsiteRedirectLocation)
	v.ACL = deref(in.ACL)
	if directive == "REPLACE" {
		v.ContentType, v.ContentEncoding = deref(in.ContentType), contentEncoding(in.ContentEncoding)
		v.ContentDisposition, v.ContentLanguage = deref(in.ContentDisposition), deref(in.ContentLanguage)
		v.CacheControl, v.Expires, v.Metadata = deref(in.CacheControl), in.Expires, lowerKeys(in.Metadata)
	}
	if tagDirective == "REPLACE" {
		v.Tags = tags
	}
	if partCount(src) > 1 {
		// A copy is written in one piece: its ETag is its bytes' MD5, its
		// checksums the whole object's, not the parts' composite ones.
		if v.ETag, v.Checksums, err = s.wholeDigests(srcBucket.Name, src); err != nil {
			return nil, err
		}
	}
	for _, bl := range src.Blobs {
		id, err := s.blobs.Link(srcBucket.Name, bl.ID, bucket)
		if err != nil {
			s.removeBlobs(bucket, v.Blobs)
			return nil, err
		}
		v.Blobs = append(v.Blobs, blobRef{ID: id, Size: bl.Size})
	}
	var b *bucketRecord
	err = s.store.Update(func(tx *store.Tx) error {
		var err error
		if b, err = s.bucketFor(ctx, tx, bucket); err != nil {
			return err
		}
		dropped, err := putVersion(tx, b, key, &v)
		s.removeBlobsOnCommit(tx, bucket, dropped)
		return err
	})
	if err != nil {
		s.removeBlobs(bucket, v.Blobs)
		return nil, err
	}
	res := &s3api.CopyObjectResult{ETag: str(v.ETag), LastModified: timep(v.Modified)}
	setChecksums(v.Checksums, &res.ChecksumCRC32, &res.ChecksumCRC32C, &res.ChecksumSHA1, &res.ChecksumSHA256)
	out := &s3api.CopyObjectOutput{CopyObjectResult: res, ServerSideEncryption: str("AES256")}
	if srcBucket.Versioning != "" {
		out.CopySourceVersionId = str(src.ID)
	}
	if b.Versioning != "" {
		out.VersionId = str(v.ID)
	}
	return out, nil
}

// removeBlobs removes blobs no record names (a failed write's).
func (s *Service) removeBlobs(bucket string, blobs []blobRef) {
	for _, bl := range blobs {
		s.blobs.Remove(bucket, bl.ID)
	}
}

// wholeDigests reads v's bytes for the ETag and checksums (of the
// algorithms v has) of an object written in one piece.
func (s *Service) wholeDigests(bucket string, v *version) (string, map[string]string, error) {
	var algs []string
	for a := range v.Checksums {
		algs = append(algs, a)
	}
	r, err := s.open(bucket, v, 0, v.Size)
	if err != nil {
		return "", nil, err
	}
	defer r.Close()
	d := newDigests(algs...)
	if _, err := io.Copy(d, r); err != nil {
		return "", nil, err
	}
	return etag(d.md5.Sum(nil)), d.sums(), nil
}

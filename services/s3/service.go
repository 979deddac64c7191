// Package s3 implements Amazon S3: buckets (global names, one region
// each) and their objects, whose bytes stream to and from files
// (engines/objectstore) while their metadata — keys, versions, which
// blobs hold their bytes — lives in the resource store.
//
// Records:
//
//   - a bucket is kindBucket in its owner's account (region "": bucket
//     names are global, so a name is looked up across accounts);
//   - a key's versions, newest first, are one record of kind
//     kindObjects+bucket with the key as id, so a listing is an in-order
//     walk of the store (byte order, as S3 lists) that can start at any
//     key (Tx.ListFrom);
//   - a multipart upload in progress is kindUploads+bucket, by key and
//     upload id.
//
// An object is written as a blob first (synced, renamed into place), then
// recorded in one transaction; the blobs a transaction stops naming are
// removed once it commits. Orphans a crash leaves between the two steps
// are swept at start.
//
// What differs from AWS:
//
//   - Bucket policies and ACLs are stored and returned; they decide what
//     anonymous requests (website endpoints, public reads) may do, with
//     Block Public Access. Authenticated requests are judged by IAM's
//     enforcement when it is on; otherwise a bucket is its owner's only.
//   - Server-side encryption is reported (SSE-S3, AES256, as S3 encrypts
//     every object by default) but the files are not encrypted.
//   - Storage classes are recorded and shown; every class reads at once.
//     Lifecycle expirations and multipart aborts run on the virtual
//     clock; transitions are stored only, as are notification,
//     replication and logging configurations (nothing is delivered).
//   - The API is generated from a 2024 model: CRC64NVME checksums, the
//     checksum type of multipart uploads and conditional writes
//     (If-None-Match on PutObject) are not there yet.
//   - A request signed with S3's legacy signature (V2) is taken to be for
//     the bucket's region.
package s3

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/cloudbox/cloudbox/api"
	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/engines/objectstore"
	"github.com/cloudbox/cloudbox/store"
)

// The store kinds; all records have region "".
const (
	kindBucket = "s3:bucket"
	// kindObjects is followed by the bucket's name.
	kindObjects = "s3:objects:"
	// kindUploads is followed by the bucket's name.
	kindUploads = "s3:uploads:"
)

// Service is Amazon S3.
type Service struct {
	store *store.Store
	blobs *objectstore.Store
	// now is the virtual clock: object times, lifecycle.
	now func() time.Time
	log *slog.Logger
	// policies are buckets' policies and owners for the authorizer.
	policies *store.Memo[bucketPolicy]
}

// New returns S3 keeping metadata in st and bytes in blobs.
func New(st *store.Store, blobs *objectstore.Store, now func() time.Time, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Service{store: st, blobs: blobs, now: now, log: log, policies: newPolicyMemo()}
}

// Invoker serves S3's API.
func (s *Service) Invoker() api.Invoker { return s3api.Bind(s.Handlers()) }

// Handlers returns the operations S3 implements.
func (s *Service) Handlers() *s3api.Handlers {
	h := &s3api.Handlers{
		CreateBucket:      s.createBucket,
		DeleteBucket:      s.deleteBucket,
		HeadBucket:        s.headBucket,
		ListBuckets:       s.listBuckets,
		GetBucketLocation: s.getBucketLocation,

		PutObject:     s.putObject,
		GetObject:     s.getObject,
		HeadObject:    s.headObject,
		DeleteObject:  s.deleteObject,
		DeleteObjects: s.deleteObjects,
		CopyObject:    s.copyObject,

		ListObjects:        s.listObjects,
		ListObjectsV2:      s.listObjectsV2,
		ListObjectVersions: s.listObjectVersions,

		GetBucketVersioning: s.getBucketVersioning,
		PutBucketVersioning: s.putBucketVersioning,
	}
	for _, add := range extraHandlers {
		add(s, h)
	}
	return h
}

// extraHandlers add the operations of the package's other files
// (configuration, multipart), each registering its own in an init.
var extraHandlers []func(*Service, *s3api.Handlers)

// caller is the account a request is made in.
func caller(ctx context.Context) string { return api.RequestFrom(ctx).Caller.Account }

// errorf is an S3 error with its HTTP status.
func errorf(status int, code, format string, args ...any) *api.Error {
	return api.NewError(status, code, format, args...)
}

func noSuchBucket(name string) *api.Error {
	return errorf(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist").With("BucketName", name)
}

func noSuchKey(key string) *api.Error {
	return errorf(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.").With("Key", key)
}

func invalidArgument(name, value, format string, args ...any) *api.Error {
	return errorf(http.StatusBadRequest, "InvalidArgument", format, args...).With("ArgumentName", name).With("ArgumentValue", value)
}

func invalidRequest(format string, args ...any) *api.Error {
	return errorf(http.StatusBadRequest, "InvalidRequest", format, args...)
}

func malformedXML() *api.Error {
	return errorf(http.StatusBadRequest, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema")
}

// canonicalID is the canonical user id S3 shows for an account: 64 hex
// digits, stable.
func canonicalID(account string) string {
	sum := sha256.Sum256([]byte("cloudbox-s3-owner:" + account))
	return hex.EncodeToString(sum[:])
}

func owner(account string) *s3api.Owner {
	return &s3api.Owner{ID: str(canonicalID(account)), DisplayName: str("cloudbox-" + account)}
}

func str(s string) *string { return &s }

func i64(n int64) *int64 { return &n }

func boolp(b bool) *bool { return &b }

func timep(t time.Time) *time.Time { return &t }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

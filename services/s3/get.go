package s3

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/store"
)

// readRequest is what GetObject and HeadObject share.
type readRequest struct {
	bucket, key, versionID    string
	ifMatch, ifNoneMatch      *string
	ifModified, ifUnmodified  *time.Time
	rangeHeader               string
	partNumber                *int64
	checksumMode              string
	respType, respDisposition *string
	respEncoding, respLang    *string
	respCache                 *string
	respExpires               *time.Time
}

// read finds the version a GET or HEAD asks for and applies its
// conditions and range: the output's headers, and the reader of the
// bytes to send when body is true.
func (s *Service) read(ctx context.Context, rq readRequest, body bool) (*s3api.GetObjectOutput, error) {
	// A version replaced between reading its record and opening its blob
	// is gone; reading the record again finds its successor.
	for attempt := 0; ; attempt++ {
		out, err := s.readOnce(ctx, rq, body)
		if err != nil && errors.Is(err, fs.ErrNotExist) && attempt < 3 {
			continue
		}
		return out, err
	}
}

func (s *Service) readOnce(ctx context.Context, rq readRequest, body bool) (*s3api.GetObjectOutput, error) {
	var b *bucketRecord
	var v *version
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		if b, err = s.bucketFor(ctx, tx, rq.bucket); err != nil {
			return err
		}
		o, err := getObjectRecord(tx, b, rq.key)
		if err != nil {
			return err
		}
		if rq.versionID != "" {
			if o != nil {
				v = o.find(rq.versionID)
			}
			if v == nil {
				if rq.versionID != "null" && !validVersionID(rq.versionID) {
					return invalidArgument("versionId", rq.versionID, "Invalid version id specified")
				}
				return errorf(http.StatusNotFound, "NoSuchVersion", "The specified version does not exist.").With("Key", rq.key).With("VersionId", rq.versionID)
			}
			if v.DeleteMarker {
				e := errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.").
					With("Method", "GET").With("ResourceType", "DeleteMarker")
				e.Header = map[string]string{"x-amz-delete-marker": "true", "x-amz-version-id": v.ID, "Last-Modified": v.Modified.Format(http.TimeFormat)}
				return e
			}
			return nil
		}
		v = o.current()
		if v == nil {
			return noSuchKey(rq.key)
		}
		if v.DeleteMarker {
			e := noSuchKey(rq.key)
			e.Header = map[string]string{"x-amz-delete-marker": "true", "x-amz-version-id": v.ID}
			return e
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := preconditions(v, rq.ifMatch, rq.ifNoneMatch, rq.ifModified, rq.ifUnmodified); err != nil {
		return nil, err
	}
	out := headers(b, v)
	start, length := int64(0), v.Size
	req := api.RequestFrom(ctx)
	switch {
	case rq.partNumber != nil:
		n := *rq.partNumber
		if n < 1 || n > 10000 {
			return nil, invalidArgument("partNumber", fmt.Sprint(n), "Part number must be an integer between 1 and 10000, inclusive")
		}
		parts := partCount(v)
		if int(n) > parts {
			return nil, errorf(http.StatusRequestedRangeNotSatisfiable, "InvalidPartNumber", "The requested partnumber is not satisfiable").
				With("PartNumberRequested", fmt.Sprint(n)).With("ActualPartCount", fmt.Sprint(parts))
		}
		if parts > 1 { // a completed upload's blobs are its parts
			for _, bl := range v.Blobs[:n-1] {
				start += bl.Size
			}
			length = v.Blobs[n-1].Size
			out.PartsCount = i64(int64(parts))
		}
		if length > 0 {
			out.ContentRange = str(fmt.Sprintf("bytes %d-%d/%d", start, start+length-1, v.Size))
			req.Status = http.StatusPartialContent
		}
	case rq.rangeHeader != "":
		r, ok, err := parseRange(rq.rangeHeader, v.Size)
		if err != nil {
			return nil, err
		}
		if ok {
			start, length = r.start, r.end-r.start+1
			out.ContentRange = str(fmt.Sprintf("bytes %d-%d/%d", r.start, r.end, v.Size))
			req.Status = http.StatusPartialContent
		}
	}
	out.ContentLength = i64(length)
	if rq.checksumMode == "ENABLED" && rq.rangeHeader == "" {
		setChecksums(v.Checksums, &out.ChecksumCRC32, &out.ChecksumCRC32C, &out.ChecksumSHA1, &out.ChecksumSHA256)
	}
	// response-* query parameters override what is sent back.
	for _, o := range []struct {
		dst **string
		src *string
	}{{&out.ContentType, rq.respType}, {&out.ContentDisposition, rq.respDisposition}, {&out.ContentEncoding, rq.respEncoding},
		{&out.ContentLanguage, rq.respLang}, {&out.CacheControl, rq.respCache}} {
		if o.src != nil {
			*o.dst = o.src
		}
	}
	if rq.respExpires != nil {
		out.Expires = rq.respExpires
	}
	if body {
		r, err := s.open(b.Name, v, start, length)
		if err != nil {
			return nil, err
		}
		out.Body = r
	}
	return out, nil
}

// partCount is how many parts v was uploaded in: the count its ETag
// ends with for a multipart upload, else 1. (A copy of a multipart
// object is one part, whatever blobs hold its bytes.)
func partCount(v *version) int {
	if i := strings.LastIndexByte(v.ETag, '-'); i >= 0 {
		if n, err := strconv.Atoi(strings.TrimSuffix(v.ETag[i+1:], `"`)); err == nil && n > 0 && n <= len(v.Blobs) {
			return n
		}
	}
	return 1
}

// validVersionID says whether id could be a version id S3 made.
func validVersionID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '_') {
			return false
		}
	}
	return true
}

// headers are the headers a GET or HEAD of v answers with.
func headers(b *bucketRecord, v *version) *s3api.GetObjectOutput {
	out := &s3api.GetObjectOutput{
		AcceptRanges: str("bytes"), ETag: str(v.ETag), LastModified: timep(v.Modified),
		ContentType: str("binary/octet-stream"), ServerSideEncryption: str("AES256"),
	}
	if v.ContentType != "" {
		out.ContentType = str(v.ContentType)
	}
	for _, f := range []struct {
		dst **string
		val string
	}{{&out.ContentEncoding, v.ContentEncoding}, {&out.ContentDisposition, v.ContentDisposition},
		{&out.ContentLanguage, v.ContentLanguage}, {&out.CacheControl, v.CacheControl},
		{&out.WebsiteRedirectLocation, v.WebsiteRedirect}} {
		if f.val != "" {
			*f.dst = str(f.val)
		}
	}
	out.Expires = v.Expires
	if v.StorageClass != "" && v.StorageClass != "STANDARD" {
		out.StorageClass = str(v.StorageClass)
	}
	if b.Versioning != "" {
		out.VersionId = str(v.ID)
	}
	if len(v.Metadata) > 0 {
		out.Metadata = map[string]*string{}
		for k, val := range v.Metadata {
			out.Metadata[k] = str(val)
		}
	}
	if len(v.Tags) > 0 {
		out.TagCount = i64(int64(len(v.Tags)))
	}
	return out
}

func (s *Service) getObject(ctx context.Context, in *s3api.GetObjectRequest) (*s3api.GetObjectOutput, error) {
	return s.read(ctx, readRequest{
		bucket: deref(in.Bucket), key: deref(in.Key), versionID: deref(in.VersionId),
		ifMatch: in.IfMatch, ifNoneMatch: in.IfNoneMatch, ifModified: in.IfModifiedSince, ifUnmodified: in.IfUnmodifiedSince,
		rangeHeader: deref(in.Range), partNumber: in.PartNumber, checksumMode: deref(in.ChecksumMode),
		respType: in.ResponseContentType, respDisposition: in.ResponseContentDisposition, respEncoding: in.ResponseContentEncoding,
		respLang: in.ResponseContentLanguage, respCache: in.ResponseCacheControl, respExpires: in.ResponseExpires,
	}, true)
}

func (s *Service) headObject(ctx context.Context, in *s3api.HeadObjectRequest) (*s3api.HeadObjectOutput, error) {
	got, err := s.read(ctx, readRequest{
		bucket: deref(in.Bucket), key: deref(in.Key), versionID: deref(in.VersionId),
		ifMatch: in.IfMatch, ifNoneMatch: in.IfNoneMatch, ifModified: in.IfModifiedSince, ifUnmodified: in.IfUnmodifiedSince,
		rangeHeader: deref(in.Range), partNumber: in.PartNumber, checksumMode: deref(in.ChecksumMode),
		respType: in.ResponseContentType, respDisposition: in.ResponseContentDisposition, respEncoding: in.ResponseContentEncoding,
		respLang: in.ResponseContentLanguage, respCache: in.ResponseCacheControl, respExpires: in.ResponseExpires,
	}, false)
	if err != nil {
		return nil, err
	}
	out := &s3api.HeadObjectOutput{}
	copyFields(out, got)
	return out, nil
}

// copyFields sets each field of *dst from the field of *src with the same
// name and type: HeadObject answers what GetObject does, in its own type.
func copyFields(dst, src any) {
	d, sv := reflect.ValueOf(dst).Elem(), reflect.ValueOf(src).Elem()
	for i := 0; i < d.NumField(); i++ {
		f := d.Type().Field(i)
		if !f.IsExported() {
			continue
		}
		if sf := sv.FieldByName(f.Name); sf.IsValid() && sf.Type() == f.Type {
			d.Field(i).Set(sf)
		}
	}
}

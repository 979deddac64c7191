package s3

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/engines/objectstore"
	"github.com/cloudbox/cloudbox/store"
)

// maxObjectSize is the largest object one PUT may write (5 GiB).
const maxObjectSize = 5 << 30

// received is a payload written to a blob, with its digests.
type received struct {
	blob      *objectstore.Writer
	size      int64
	md5       []byte
	checksums map[string]string // what was computed, by algorithm
}

// checksumsSent are the additional checksums a request carries in its
// headers, by algorithm.
type checksumsSent map[string]string

// receive streams body into a new blob of bucket, hashing it as it goes,
// and checks it against Content-MD5 and the checksums sent (in headers,
// or in the trailer of an aws-chunked body). The blob is committed; on
// any error it is gone.
func (s *Service) receive(bucket string, body io.Reader, contentMD5 string, alg string, sent checksumsSent) (*received, error) {
	if body == nil {
		body = strings.NewReader("")
	}
	algs := []string{}
	if alg != "" {
		algs = append(algs, strings.ToUpper(alg))
	}
	for a := range sent {
		algs = append(algs, a)
	}
	// A checksum sent as a trailer is announced in x-amz-trailer (the
	// SDKs send no x-amz-sdk-checksum-algorithm with it).
	if t, ok := body.(interface{ TrailerNames() []string }); ok {
		for _, name := range t.TrailerNames() {
			if a, ok := strings.CutPrefix(name, "x-amz-checksum-"); ok {
				algs = append(algs, strings.ToUpper(a))
			}
		}
	}
	w, err := s.blobs.Create(bucket)
	if err != nil {
		return nil, err
	}
	d := newDigests(algs...)
	n, err := copyHashing(w, io.LimitReader(body, maxObjectSize+1), d)
	if err != nil {
		w.Abort()
		var e *api.Error
		if errors.As(err, &e) {
			return nil, e
		}
		return nil, errorf(http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
	}
	if n > maxObjectSize {
		w.Abort()
		return nil, errorf(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size").
			With("ProposedSize", strconv.FormatInt(n, 10)).With("MaxSizeAllowed", strconv.Itoa(maxObjectSize))
	}
	r := &received{blob: w, size: n, md5: d.md5.Sum(nil), checksums: d.sums()}
	if err := checkContentMD5(contentMD5, r.md5); err != nil {
		w.Abort()
		return nil, err
	}
	trailer, _ := body.(interface{ Trailer(string) string })
	for a, computed := range r.checksums {
		want := sent[a]
		if want == "" && trailer != nil {
			want = trailer.Trailer(checksumHeader(a))
		}
		if err := checkChecksum(a, want, computed); err != nil {
			w.Abort()
			return nil, err
		}
	}
	if err := w.Commit(); err != nil {
		return nil, err
	}
	return r, nil
}

// sentChecksums collects the checksum headers of a request.
func sentChecksums(crc32, crc32c, sha1, sha256 *string) checksumsSent {
	out := checksumsSent{}
	for a, v := range map[string]*string{"CRC32": crc32, "CRC32C": crc32c, "SHA1": sha1, "SHA256": sha256} {
		if v != nil && *v != "" {
			out[a] = *v
		}
	}
	return out
}

// contentEncoding is the Content-Encoding to keep: aws-chunked is the
// upload's framing, not the object's.
func contentEncoding(h *string) string {
	var keep []string
	for _, e := range strings.Split(deref(h), ",") {
		if e = strings.TrimSpace(e); e != "" && !strings.EqualFold(e, "aws-chunked") {
			keep = append(keep, e)
		}
	}
	return strings.Join(keep, ",")
}

// parseTagging reads tags in the x-amz-tagging header's form (a URL
// query).
func parseTagging(h *string) ([]tag, error) {
	if h == nil || *h == "" {
		return nil, nil
	}
	q, err := url.ParseQuery(*h)
	if err != nil {
		return nil, invalidArgument("x-amz-tagging", *h, "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
	}
	var tags []tag
	for k, vs := range q {
		if len(vs) != 1 {
			return nil, invalidArgument("x-amz-tagging", *h, "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
		}
		tags = append(tags, tag{k, vs[0]})
	}
	if err := checkTags(tags); err != nil {
		return nil, err
	}
	sortTags(tags)
	return tags, nil
}

// lowerKeys returns user metadata with lower-case names, as S3 keeps
// them.
func lowerKeys(m map[string]*string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.ToLower(k)] = deref(v)
	}
	return out
}

func (s *Service) putObject(ctx context.Context, in *s3api.PutObjectRequest) (*s3api.PutObjectOutput, error) {
	bucket, key := deref(in.Bucket), deref(in.Key)
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := checkStorageClass(in.StorageClass); err != nil {
		return nil, err
	}
	tags, err := parseTagging(in.Tagging)
	if err != nil {
		return nil, err
	}
	if err := s.store.View(func(tx *store.Tx) error {
		_, err := s.bucketFor(ctx, tx, bucket)
		return err
	}); err != nil {
		return nil, err
	}
	got, err := s.receive(bucket, in.Body, deref(in.ContentMD5), deref(in.ChecksumAlgorithm),
		sentChecksums(in.ChecksumCRC32, in.ChecksumCRC32C, in.ChecksumSHA1, in.ChecksumSHA256))
	if err != nil {
		return nil, err
	}
	v := &version{
		Modified: s.now().UTC().Truncate(time.Millisecond), Size: got.size, ETag: etag(got.md5),
		Blobs:       []blobRef{{ID: got.blob.ID(), Size: got.size}},
		ContentType: deref(in.ContentType), ContentEncoding: contentEncoding(in.ContentEncoding),
		ContentDisposition: deref(in.ContentDisposition), ContentLanguage: deref(in.ContentLanguage),
		CacheControl: deref(in.CacheControl), Expires: in.Expires, Metadata: lowerKeys(in.Metadata),
		StorageClass: deref(in.StorageClass), WebsiteRedirect: deref(in.WebsiteRedirectLocation), Tags: tags,
		Checksums: got.checksums, ACL: deref(in.ACL), Owner: caller(ctx),
	}
	var b *bucketRecord
	err = s.store.Update(func(tx *store.Tx) error {
		var err error
		if b, err = s.bucketFor(ctx, tx, bucket); err != nil {
			return err
		}
		dropped, err := putVersion(tx, b, key, v)
		s.removeBlobsOnCommit(tx, bucket, dropped)
		return err
	})
	if err != nil {
		s.blobs.Remove(bucket, got.blob.ID())
		return nil, err
	}
	out := &s3api.PutObjectOutput{ETag: str(v.ETag), ServerSideEncryption: str("AES256")}
	if b.Versioning != "" {
		out.VersionId = str(v.ID)
	}
	setChecksums(v.Checksums, &out.ChecksumCRC32, &out.ChecksumCRC32C, &out.ChecksumSHA1, &out.ChecksumSHA256)
	return out, nil
}

// setChecksums fills the checksum members of an output.
func setChecksums(sums map[string]string, crc32, crc32c, sha1, sha256 **string) {
	for a, p := range map[string]**string{"CRC32": crc32, "CRC32C": crc32c, "SHA1": sha1, "SHA256": sha256} {
		if v, ok := sums[a]; ok {
			*p = str(v)
		}
	}
}

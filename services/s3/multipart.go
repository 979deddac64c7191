package s3

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/store"
)

// Multipart upload limits.
const (
	minPartSize = 5 << 20 // every part but the last
	maxPartSize = 5 << 30
	maxParts    = 10000
)

func init() {
	extraHandlers = append(extraHandlers, func(s *Service, h *s3api.Handlers) {
		h.CreateMultipartUpload = s.createMultipartUpload
		h.UploadPart = s.uploadPart
		h.UploadPartCopy = s.uploadPartCopy
		h.CompleteMultipartUpload = s.completeMultipartUpload
		h.AbortMultipartUpload = s.abortMultipartUpload
		h.ListParts = s.listParts
		h.ListMultipartUploads = s.listMultipartUploads
	})
}

// uploadRecord is a multipart upload in progress, kindUploads+bucket by
// uploadID(key, id): uploads list by key, then by when they began.
type uploadRecord struct {
	Key       string
	ID        string
	Initiated time.Time
	Initiator string // account
	// Object is what the completed object will be, but its bytes.
	Object    version
	Algorithm string `json:",omitempty"` // the checksum algorithm asked for
	Parts     []partRecord
}

// partRecord is one uploaded part.
type partRecord struct {
	Number    int
	Blob      string
	Size      int64
	ETag      string
	MD5       string // hex, for the object's ETag
	Modified  time.Time
	Checksums map[string]string `json:",omitempty"`
}

func uploadID(key, id string) string { return key + "\x00" + id }

func uploadKey(b *bucketRecord, key, id string) store.Key {
	return store.Key{Account: b.Owner, Kind: kindUploads + b.Name, ID: uploadID(key, id)}
}

// newUploadID returns an upload id that sorts by creation time.
func newUploadID(now time.Time) string {
	return fmt.Sprintf("%016x", now.UnixNano()) + strings.ReplaceAll(newVersionID(), ".", "-")
}

func noSuchUpload(id string) error {
	return errorf(http.StatusNotFound, "NoSuchUpload",
		"The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.").With("UploadId", id)
}

// getUpload reads an upload the caller may use.
func (s *Service) getUpload(ctx context.Context, tx *store.Tx, bucket, key, id string) (*bucketRecord, *uploadRecord, error) {
	b, err := s.bucketFor(ctx, tx, bucket)
	if err != nil {
		return nil, nil, err
	}
	u, ok, err := store.Get[uploadRecord](tx, uploadKey(b, key, id))
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, noSuchUpload(id)
	}
	return b, u, nil
}

func checkPartNumber(n *int64) (int, error) {
	if n == nil || *n < 1 || *n > maxParts {
		v := ""
		if n != nil {
			v = strconv.FormatInt(*n, 10)
		}
		return 0, invalidArgument("partNumber", v, "Part number must be an integer between 1 and 10000, inclusive")
	}
	return int(*n), nil
}

func (s *Service) createMultipartUpload(ctx context.Context, in *s3api.CreateMultipartUploadRequest) (*s3api.CreateMultipartUploadOutput, error) {
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
	alg := strings.ToUpper(deref(in.ChecksumAlgorithm))
	if alg != "" && !slices.Contains(checksumAlgorithms, alg) {
		return nil, invalidRequest("Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")
	}
	now := s.now().UTC()
	u := &uploadRecord{Key: key, ID: newUploadID(now), Initiated: now.Truncate(time.Millisecond), Initiator: caller(ctx), Algorithm: alg,
		Object: version{ContentType: deref(in.ContentType), ContentEncoding: contentEncoding(in.ContentEncoding),
			ContentDisposition: deref(in.ContentDisposition), ContentLanguage: deref(in.ContentLanguage),
			CacheControl: deref(in.CacheControl), Expires: in.Expires, Metadata: lowerKeys(in.Metadata),
			StorageClass: deref(in.StorageClass), WebsiteRedirect: deref(in.WebsiteRedirectLocation), Tags: tags,
			ACL: deref(in.ACL), Owner: caller(ctx)}}
	err = s.store.Update(func(tx *store.Tx) error {
		b, err := s.bucketFor(ctx, tx, bucket)
		if err != nil {
			return err
		}
		return tx.Put(uploadKey(b, key, u.ID), u)
	})
	if err != nil {
		return nil, err
	}
	out := &s3api.CreateMultipartUploadOutput{Bucket: str(bucket), Key: str(key), UploadId: str(u.ID), ServerSideEncryption: str("AES256")}
	if alg != "" {
		out.ChecksumAlgorithm = str(alg)
	}
	return out, nil
}

// addPart records a part whose bytes are in a committed blob, replacing
// any earlier part of that number; the blob is removed if that fails.
func (s *Service) addPart(ctx context.Context, bucket, key, id string, p partRecord) error {
	err := s.store.Update(func(tx *store.Tx) error {
		b, u, err := s.getUpload(ctx, tx, bucket, key, id)
		if err != nil {
			return err
		}
		i, found := slices.BinarySearchFunc(u.Parts, p.Number, func(q partRecord, n int) int { return q.Number - n })
		if found {
			s.removeBlobsOnCommit(tx, bucket, []blobRef{{ID: u.Parts[i].Blob}})
			u.Parts[i] = p
		} else {
			u.Parts = slices.Insert(u.Parts, i, p)
		}
		return tx.Put(uploadKey(b, key, id), u)
	})
	if err != nil {
		s.blobs.Remove(bucket, p.Blob)
	}
	return err
}

func (s *Service) uploadPart(ctx context.Context, in *s3api.UploadPartRequest) (*s3api.UploadPartOutput, error) {
	bucket, key, id := deref(in.Bucket), deref(in.Key), deref(in.UploadId)
	n, err := checkPartNumber(in.PartNumber)
	if err != nil {
		return nil, err
	}
	var alg string
	if err := s.store.View(func(tx *store.Tx) error {
		_, u, err := s.getUpload(ctx, tx, bucket, key, id)
		if err == nil {
			alg = u.Algorithm
		}
		return err
	}); err != nil {
		return nil, err
	}
	if a := deref(in.ChecksumAlgorithm); a != "" {
		alg = a
	}
	got, err := s.receive(bucket, in.Body, deref(in.ContentMD5), alg,
		sentChecksums(in.ChecksumCRC32, in.ChecksumCRC32C, in.ChecksumSHA1, in.ChecksumSHA256))
	if err != nil {
		return nil, err
	}
	if got.size > maxPartSize {
		s.blobs.Remove(bucket, got.blob.ID())
		return nil, errorf(http.StatusBadRequest, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
	}
	p := partRecord{Number: n, Blob: got.blob.ID(), Size: got.size, ETag: etag(got.md5), MD5: hex.EncodeToString(got.md5),
		Modified: s.now().UTC().Truncate(time.Millisecond), Checksums: got.checksums}
	if err := s.addPart(ctx, bucket, key, id, p); err != nil {
		return nil, err
	}
	out := &s3api.UploadPartOutput{ETag: str(p.ETag), ServerSideEncryption: str("AES256")}
	setChecksums(p.Checksums, &out.ChecksumCRC32, &out.ChecksumCRC32C, &out.ChecksumSHA1, &out.ChecksumSHA256)
	return out, nil
}

func (s *Service) uploadPartCopy(ctx context.Context, in *s3api.UploadPartCopyRequest) (*s3api.UploadPartCopyOutput, error) {
	bucket, key, id := deref(in.Bucket), deref(in.Key), deref(in.UploadId)
	n, err := checkPartNumber(in.PartNumber)
	if err != nil {
		return nil, err
	}
	cs, err := parseCopySource(deref(in.CopySource))
	if err != nil {
		return nil, err
	}
	var src *version
	var srcBucket *bucketRecord
	var alg string
	err = s.store.View(func(tx *store.Tx) error {
		_, u, err := s.getUpload(ctx, tx, bucket, key, id)
		if err != nil {
			return err
		}
		alg = u.Algorithm
		srcBucket, src, err = s.source(ctx, tx, cs)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := copyConditions(src, in.CopySourceIfMatch, in.CopySourceIfNoneMatch, in.CopySourceIfModifiedSince, in.CopySourceIfUnmodifiedSince); err != nil {
		return nil, err
	}
	start, length := int64(0), src.Size
	if h := deref(in.CopySourceRange); h != "" {
		r, ok := parseCopyRange(h, src.Size)
		if !ok {
			return nil, invalidArgument("x-amz-copy-source-range", h, "Range specified is not valid for source object of size: %d", src.Size)
		}
		start, length = r.start, r.end-r.start+1
	}
	if length > maxPartSize {
		return nil, invalidRequest("The specified copy source is larger than the maximum allowable size for a copy source: %d", int64(maxPartSize))
	}
	rd, err := s.open(srcBucket.Name, src, start, length)
	if err != nil {
		return nil, err
	}
	got, err := s.receive(bucket, io.Reader(rd), "", alg, nil)
	rd.Close()
	if err != nil {
		return nil, err
	}
	p := partRecord{Number: n, Blob: got.blob.ID(), Size: got.size, ETag: etag(got.md5), MD5: hex.EncodeToString(got.md5),
		Modified: s.now().UTC().Truncate(time.Millisecond), Checksums: got.checksums}
	if err := s.addPart(ctx, bucket, key, id, p); err != nil {
		return nil, err
	}
	res := &s3api.CopyPartResult{ETag: str(p.ETag), LastModified: timep(p.Modified)}
	setChecksums(p.Checksums, &res.ChecksumCRC32, &res.ChecksumCRC32C, &res.ChecksumSHA1, &res.ChecksumSHA256)
	out := &s3api.UploadPartCopyOutput{CopyPartResult: res, ServerSideEncryption: str("AES256")}
	if srcBucket.Versioning != "" {
		out.CopySourceVersionId = str(src.ID)
	}
	return out, nil
}

// parseCopyRange reads an x-amz-copy-source-range: unlike a GET's Range,
// it must be "bytes=first-last" with both ends inside the source.
func parseCopyRange(h string, size int64) (byteRange, bool) {
	first, last, ok := strings.Cut(strings.TrimPrefix(h, "bytes="), "-")
	if !ok || !strings.HasPrefix(h, "bytes=") {
		return byteRange{}, false
	}
	start, err1 := strconv.ParseUint(first, 10, 63)
	end, err2 := strconv.ParseUint(last, 10, 63)
	if err1 != nil || err2 != nil || start > end || int64(end) >= size {
		return byteRange{}, false
	}
	return byteRange{int64(start), int64(end)}, true
}

func (s *Service) completeMultipartUpload(ctx context.Context, in *s3api.CompleteMultipartUploadRequest) (*s3api.CompleteMultipartUploadOutput, error) {
	bucket, key, id := deref(in.Bucket), deref(in.Key), deref(in.UploadId)
	if in.MultipartUpload == nil || len(in.MultipartUpload.Parts) == 0 {
		return nil, malformedXML()
	}
	var b *bucketRecord
	var v *version
	err := s.store.Update(func(tx *store.Tx) error {
		var u *uploadRecord
		var err error
		if b, u, err = s.getUpload(ctx, tx, bucket, key, id); err != nil {
			return err
		}
		have := map[int]partRecord{}
		for _, p := range u.Parts {
			have[p.Number] = p
		}
		md5s := md5.New()
		var parts []partRecord
		last := 0
		for i, cp := range in.MultipartUpload.Parts {
			if cp == nil || cp.PartNumber == nil {
				return malformedXML()
			}
			num := int(*cp.PartNumber)
			if num <= last {
				return errorf(http.StatusBadRequest, "InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number.").With("UploadId", id)
			}
			last = num
			p, ok := have[num]
			if !ok || strings.Trim(deref(cp.ETag), `"`) != strings.Trim(p.ETag, `"`) {
				return errorf(http.StatusBadRequest, "InvalidPart",
					"One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.").
					With("UploadId", id).With("PartNumber", strconv.Itoa(num)).With("ETag", deref(cp.ETag))
			}
			if i < len(in.MultipartUpload.Parts)-1 && p.Size < minPartSize {
				return errorf(http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size").
					With("ProposedSize", strconv.FormatInt(p.Size, 10)).With("MinSizeAllowed", strconv.Itoa(minPartSize)).
					With("PartNumber", strconv.Itoa(num)).With("ETag", p.ETag)
			}
			raw, _ := hex.DecodeString(p.MD5)
			md5s.Write(raw)
			parts = append(parts, p)
		}
		obj := u.Object
		v = &obj
		v.Modified = s.now().UTC().Truncate(time.Millisecond)
		v.ETag = `"` + hex.EncodeToString(md5s.Sum(nil)) + "-" + strconv.Itoa(len(parts)) + `"`
		listed := map[string]bool{}
		for _, p := range parts {
			v.Blobs = append(v.Blobs, blobRef{ID: p.Blob, Size: p.Size})
			v.Size += p.Size
			listed[p.Blob] = true
		}
		if u.Algorithm != "" {
			var sums []string
			for _, p := range parts {
				sums = append(sums, p.Checksums[u.Algorithm])
			}
			v.Checksums = map[string]string{u.Algorithm: compositeChecksum(u.Algorithm, sums)}
		}
		// Parts uploaded but not listed are dropped with the upload.
		var unlisted []blobRef
		for _, p := range u.Parts {
			if !listed[p.Blob] {
				unlisted = append(unlisted, blobRef{ID: p.Blob})
			}
		}
		s.removeBlobsOnCommit(tx, bucket, unlisted)
		if _, err := tx.Delete(uploadKey(b, key, id)); err != nil {
			return err
		}
		dropped, err := putVersion(tx, b, key, v)
		s.removeBlobsOnCommit(tx, bucket, dropped)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &s3api.CompleteMultipartUploadOutput{Bucket: str(bucket), Key: str(key), ETag: str(v.ETag), ServerSideEncryption: str("AES256"),
		Location: str("http://" + bucket + ".s3." + b.Region + ".amazonaws.com/" + escapeKey(key))}
	if b.Versioning != "" {
		out.VersionId = str(v.ID)
	}
	setChecksums(v.Checksums, &out.ChecksumCRC32, &out.ChecksumCRC32C, &out.ChecksumSHA1, &out.ChecksumSHA256)
	return out, nil
}

// escapeKey escapes a key for a URL path, keeping its slashes.
func escapeKey(key string) string {
	parts := strings.Split(key, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

func (s *Service) abortMultipartUpload(ctx context.Context, in *s3api.AbortMultipartUploadRequest) (*s3api.AbortMultipartUploadOutput, error) {
	bucket, key, id := deref(in.Bucket), deref(in.Key), deref(in.UploadId)
	err := s.store.Update(func(tx *store.Tx) error {
		b, u, err := s.getUpload(ctx, tx, bucket, key, id)
		if err != nil {
			return err
		}
		var blobs []blobRef
		for _, p := range u.Parts {
			blobs = append(blobs, blobRef{ID: p.Blob})
		}
		s.removeBlobsOnCommit(tx, bucket, blobs)
		_, err = tx.Delete(uploadKey(b, key, id))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &s3api.AbortMultipartUploadOutput{}, nil
}

func (s *Service) listParts(ctx context.Context, in *s3api.ListPartsRequest) (*s3api.ListPartsOutput, error) {
	bucket, key, id := deref(in.Bucket), deref(in.Key), deref(in.UploadId)
	maxN := int64(1000)
	if in.MaxParts != nil {
		if *in.MaxParts < 0 {
			return nil, invalidArgument("max-parts", fmt.Sprint(*in.MaxParts), "Argument max-parts must be an integer between 0 and 2147483647")
		}
		maxN = min(*in.MaxParts, 1000)
	}
	marker := int64(0)
	if in.PartNumberMarker != nil {
		marker = *in.PartNumberMarker
	}
	var u *uploadRecord
	if err := s.store.View(func(tx *store.Tx) error {
		var err error
		_, u, err = s.getUpload(ctx, tx, bucket, key, id)
		return err
	}); err != nil {
		return nil, err
	}
	out := &s3api.ListPartsOutput{Bucket: str(bucket), Key: str(key), UploadId: str(id), MaxParts: i64(maxN), PartNumberMarker: i64(marker),
		Initiator: &s3api.Initiator{ID: str(canonicalID(u.Initiator)), DisplayName: str("cloudbox-" + u.Initiator)},
		Owner:     owner(u.Initiator), StorageClass: str("STANDARD"), IsTruncated: boolp(false)}
	if u.Object.StorageClass != "" {
		out.StorageClass = str(u.Object.StorageClass)
	}
	if u.Algorithm != "" {
		out.ChecksumAlgorithm = str(u.Algorithm)
	}
	for _, p := range u.Parts {
		if int64(p.Number) <= marker {
			continue
		}
		if int64(len(out.Parts)) == maxN {
			out.IsTruncated = boolp(true)
			break
		}
		part := &s3api.Part{PartNumber: i64(int64(p.Number)), ETag: str(p.ETag), Size: i64(p.Size), LastModified: timep(p.Modified)}
		setChecksums(p.Checksums, &part.ChecksumCRC32, &part.ChecksumCRC32C, &part.ChecksumSHA1, &part.ChecksumSHA256)
		out.Parts = append(out.Parts, part)
		out.NextPartNumberMarker = i64(int64(p.Number))
	}
	return out, nil
}

func (s *Service) listMultipartUploads(ctx context.Context, in *s3api.ListMultipartUploadsRequest) (*s3api.ListMultipartUploadsOutput, error) {
	n, err := maxKeys(in.MaxUploads)
	if err != nil {
		return nil, err
	}
	enc, err := encoder(in.EncodingType)
	if err != nil {
		return nil, err
	}
	prefix, delim := deref(in.Prefix), deref(in.Delimiter)
	keyMarker, idMarker := deref(in.KeyMarker), deref(in.UploadIdMarker)
	out := &s3api.ListMultipartUploadsOutput{Bucket: in.Bucket, Prefix: str(enc(prefix)), KeyMarker: str(enc(keyMarker)), UploadIdMarker: str(idMarker),
		MaxUploads: i64(int64(n)), Delimiter: encodedp(enc, in.Delimiter), EncodingType: in.EncodingType, IsTruncated: boolp(false)}
	from := prefix
	if keyMarker != "" {
		after := uploadID(keyMarker, "\xff") // past every upload of the marker's key
		if idMarker != "" {
			after = uploadID(keyMarker, idMarker) + "\x00"
		}
		from = max(from, after)
	}
	count := 0
	var lastKey, lastID, lastCP string
	err = s.store.View(func(tx *store.Tx) error {
		b, err := s.bucketFor(ctx, tx, deref(in.Bucket))
		if err != nil {
			return err
		}
		return tx.ListFrom(b.Owner, "", kindUploads+b.Name, from, func(rid string, raw []byte) error {
			key, _, _ := strings.Cut(rid, "\x00")
			if !strings.HasPrefix(key, prefix) {
				return errStop
			}
			if delim != "" {
				if i := strings.Index(key[len(prefix):], delim); i >= 0 {
					cp := key[:len(prefix)+i+len(delim)]
					if cp == lastCP {
						return nil
					}
					if count == n {
						// max-keys=0 asks for nothing: a whole answer, not a truncated one.
						out.IsTruncated = boolp(n > 0)
						return errStop
					}
					count++
					lastCP = cp
					out.CommonPrefixes = append(out.CommonPrefixes, &s3api.CommonPrefix{Prefix: str(enc(cp))})
					lastKey, lastID = cp, ""
					return nil
				}
			}
			if count == n {
				out.IsTruncated = boolp(n > 0)
				return errStop
			}
			count++
			var u uploadRecord
			if err := json.Unmarshal(raw, &u); err != nil {
				return err
			}
			up := &s3api.MultipartUpload{Key: str(enc(u.Key)), UploadId: str(u.ID), Initiated: timep(u.Initiated), StorageClass: str("STANDARD"),
				Initiator: &s3api.Initiator{ID: str(canonicalID(u.Initiator)), DisplayName: str("cloudbox-" + u.Initiator)}, Owner: owner(u.Initiator)}
			if u.Object.StorageClass != "" {
				up.StorageClass = str(u.Object.StorageClass)
			}
			if u.Algorithm != "" {
				up.ChecksumAlgorithm = str(u.Algorithm)
			}
			out.Uploads = append(out.Uploads, up)
			lastKey, lastID = u.Key, u.ID
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	if *out.IsTruncated {
		out.NextKeyMarker = str(enc(lastKey))
		out.NextUploadIdMarker = str(lastID)
	}
	return out, nil
}

package s3_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

const mib = 1 << 20

// randomBytes are n reproducible bytes.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// multipartETag is S3's ETag of an object uploaded in parts.
func multipartETag(parts ...[]byte) string {
	all := md5.New()
	for _, p := range parts {
		sum := md5.Sum(p)
		all.Write(sum[:])
	}
	return fmt.Sprintf(`"%s-%d"`, hex.EncodeToString(all.Sum(nil)), len(parts))
}

func (c *cloud) create(t *testing.T, bucket, key string, mod ...func(*s3sdk.CreateMultipartUploadInput)) string {
	t.Helper()
	in := &s3sdk.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	for _, m := range mod {
		m(in)
	}
	return aws.ToString(must(c.s3.CreateMultipartUpload(ctx, in))(t).UploadId)
}

func (c *cloud) part(t *testing.T, bucket, key, id string, n int32, data []byte) s3types.CompletedPart {
	t.Helper()
	out := must(c.s3.UploadPart(ctx, &s3sdk.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id),
		PartNumber: aws.Int32(n), Body: bytes.NewReader(data)}))(t)
	return s3types.CompletedPart{PartNumber: aws.Int32(n), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32}
}

func (c *cloud) complete(bucket, key, id string, parts ...s3types.CompletedPart) (*s3sdk.CompleteMultipartUploadOutput, error) {
	return c.s3.CompleteMultipartUpload(ctx, &s3sdk.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: aws.String(id),
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}})
}

func TestMultipart(t *testing.T) {
	c := newCloud(t)
	b := c.bucket(t, "multi")
	p1, p2, p3 := randomBytes(5*mib, 1), randomBytes(5*mib, 2), []byte("the last part may be small")
	id := c.create(t, b, "big", func(in *s3sdk.CreateMultipartUploadInput) {
		in.ContentType = aws.String("application/x-big")
		in.Metadata = map[string]string{"origin": "parts"}
	})
	// Parts in any order; a part sent again replaces the first.
	c3 := c.part(t, b, "big", id, 3, p3)
	c.part(t, b, "big", id, 1, p2)
	c1 := c.part(t, b, "big", id, 1, p1)
	c2 := c.part(t, b, "big", id, 2, p2)

	lp := must(c.s3.ListParts(ctx, &s3sdk.ListPartsInput{Bucket: aws.String(b), Key: aws.String("big"), UploadId: aws.String(id)}))(t)
	if len(lp.Parts) != 3 || aws.ToInt64(lp.Parts[0].Size) != 5*mib || aws.ToString(lp.Parts[0].ETag) != aws.ToString(c1.ETag) ||
		aws.ToInt32(lp.Parts[2].PartNumber) != 3 || aws.ToBool(lp.IsTruncated) {
		t.Errorf("ListParts: %+v", lp.Parts)
	}
	lp = must(c.s3.ListParts(ctx, &s3sdk.ListPartsInput{Bucket: aws.String(b), Key: aws.String("big"), UploadId: aws.String(id), MaxParts: aws.Int32(2)}))(t)
	if len(lp.Parts) != 2 || !aws.ToBool(lp.IsTruncated) || aws.ToString(lp.NextPartNumberMarker) != "2" {
		t.Errorf("ListParts page: %d parts, truncated %v, next %q", len(lp.Parts), aws.ToBool(lp.IsTruncated), aws.ToString(lp.NextPartNumberMarker))
	}
	lp = must(c.s3.ListParts(ctx, &s3sdk.ListPartsInput{Bucket: aws.String(b), Key: aws.String("big"), UploadId: aws.String(id), PartNumberMarker: lp.NextPartNumberMarker}))(t)
	if len(lp.Parts) != 1 || aws.ToInt32(lp.Parts[0].PartNumber) != 3 {
		t.Errorf("ListParts second page: %+v", lp.Parts)
	}
	ups := must(c.s3.ListMultipartUploads(ctx, &s3sdk.ListMultipartUploadsInput{Bucket: aws.String(b)}))(t)
	if len(ups.Uploads) != 1 || aws.ToString(ups.Uploads[0].UploadId) != id || aws.ToString(ups.Uploads[0].Key) != "big" {
		t.Errorf("ListMultipartUploads: %+v", ups.Uploads)
	}

	// Out of order, unknown parts, wrong ETags.
	_, err := c.complete(b, "big", id, c2, c1, c3)
	wantErr(t, err, "InvalidPartOrder", http.StatusBadRequest)
	_, err = c.complete(b, "big", id, c1, c2, s3types.CompletedPart{PartNumber: aws.Int32(4), ETag: c3.ETag})
	wantErr(t, err, "InvalidPart", http.StatusBadRequest)
	_, err = c.complete(b, "big", id, c1, c2, s3types.CompletedPart{PartNumber: aws.Int32(3), ETag: c1.ETag})
	wantErr(t, err, "InvalidPart", http.StatusBadRequest)
	// A part smaller than 5 MiB before the last.
	id2 := c.create(t, b, "small-middle")
	s1 := c.part(t, b, "small-middle", id2, 1, []byte("tiny"))
	s2 := c.part(t, b, "small-middle", id2, 2, []byte("tiny too"))
	_, err = c.complete(b, "small-middle", id2, s1, s2)
	wantErr(t, err, "EntityTooSmall", http.StatusBadRequest)

	out := must(c.complete(b, "big", id, c1, c2, c3))(t)
	if aws.ToString(out.ETag) != multipartETag(p1, p2, p3) {
		t.Errorf("ETag %s, want %s", aws.ToString(out.ETag), multipartETag(p1, p2, p3))
	}
	if aws.ToString(out.Key) != "big" || aws.ToString(out.Bucket) != b || aws.ToString(out.Location) == "" {
		t.Errorf("Complete: %+v", out)
	}
	_, err = c.complete(b, "big", id, c1, c2, c3)
	wantErr(t, err, "NoSuchUpload", http.StatusNotFound)

	got := must(c.s3.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(b), Key: aws.String("big")}))(t)
	data := must(io.ReadAll(got.Body))(t)
	got.Body.Close()
	want := append(append(append([]byte{}, p1...), p2...), p3...)
	if !bytes.Equal(data, want) || aws.ToString(got.ContentType) != "application/x-big" || got.Metadata["origin"] != "parts" {
		t.Errorf("GET of the completed object: %d bytes, %s %v", len(data), aws.ToString(got.ContentType), got.Metadata)
	}
	// A range across parts.
	rg := must(c.s3.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(b), Key: aws.String("big"), Range: aws.String(fmt.Sprintf("bytes=%d-%d", 5*mib-3, 10*mib+2))}))(t)
	data = must(io.ReadAll(rg.Body))(t)
	rg.Body.Close()
	if !bytes.Equal(data, want[5*mib-3:10*mib+3]) {
		t.Errorf("range across parts: %d bytes", len(data))
	}
	// One part by number.
	pn := must(c.s3.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(b), Key: aws.String("big"), PartNumber: aws.Int32(2)}))(t)
	data = must(io.ReadAll(pn.Body))(t)
	pn.Body.Close()
	if !bytes.Equal(data, p2) || aws.ToInt32(pn.PartsCount) != 3 || aws.ToString(pn.ContentRange) != fmt.Sprintf("bytes %d-%d/%d", 5*mib, 10*mib-1, len(want)) {
		t.Errorf("part 2: %d bytes, PartsCount %d, Content-Range %q", len(data), aws.ToInt32(pn.PartsCount), aws.ToString(pn.ContentRange))
	}
	_, err = c.s3.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(b), Key: aws.String("big"), PartNumber: aws.Int32(4)})
	wantErr(t, err, "InvalidPartNumber", http.StatusRequestedRangeNotSatisfiable)
	head := must(c.s3.HeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("big"), PartNumber: aws.Int32(1)}))(t)
	if aws.ToInt64(head.ContentLength) != 5*mib || aws.ToInt32(head.PartsCount) != 3 {
		t.Errorf("HEAD part 1: %d, PartsCount %d", aws.ToInt64(head.ContentLength), aws.ToInt32(head.PartsCount))
	}

	// A copy is one part: its ETag is its bytes' MD5.
	cp := must(c.s3.CopyObject(ctx, &s3sdk.CopyObjectInput{Bucket: aws.String(b), Key: aws.String("big-copy"), CopySource: aws.String(b + "/big")}))(t)
	if aws.ToString(cp.CopyObjectResult.ETag) != md5hex(string(want)) {
		t.Errorf("copy's ETag %s", aws.ToString(cp.CopyObjectResult.ETag))
	}
	pn = must(c.s3.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(b), Key: aws.String("big-copy"), PartNumber: aws.Int32(1)}))(t)
	data = must(io.ReadAll(pn.Body))(t)
	pn.Body.Close()
	if !bytes.Equal(data, want) || pn.PartsCount != nil {
		t.Errorf("part 1 of the copy: %d bytes, PartsCount %v", len(data), pn.PartsCount)
	}
	must(c.s3.DeleteObject(ctx, &s3sdk.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("big-copy")}))(t)

	// Abort: the upload and its parts go.
	id3 := c.create(t, b, "aborted")
	c.part(t, b, "aborted", id3, 1, []byte("x"))
	must(c.s3.AbortMultipartUpload(ctx, &s3sdk.AbortMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("aborted"), UploadId: aws.String(id3)}))(t)
	_, err = c.s3.UploadPart(ctx, &s3sdk.UploadPartInput{Bucket: aws.String(b), Key: aws.String("aborted"), UploadId: aws.String(id3),
		PartNumber: aws.Int32(2), Body: bytes.NewReader([]byte("y"))})
	wantErr(t, err, "NoSuchUpload", http.StatusNotFound)
	_, err = c.s3.AbortMultipartUpload(ctx, &s3sdk.AbortMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("aborted"), UploadId: aws.String(id3)})
	wantErr(t, err, "NoSuchUpload", http.StatusNotFound)
	_, err = c.s3.ListParts(ctx, &s3sdk.ListPartsInput{Bucket: aws.String(b), Key: aws.String("aborted"), UploadId: aws.String("nope")})
	wantErr(t, err, "NoSuchUpload", http.StatusNotFound)
	_, err = c.s3.UploadPart(ctx, &s3sdk.UploadPartInput{Bucket: aws.String(b), Key: aws.String("small-middle"), UploadId: aws.String(id2),
		PartNumber: aws.Int32(10001), Body: bytes.NewReader([]byte("y"))})
	wantErr(t, err, "InvalidArgument", http.StatusBadRequest)

	// Only the pending "small-middle" upload is left, and the files are
	// the completed object's three and its two parts.
	must(c.s3.AbortMultipartUpload(ctx, &s3sdk.AbortMultipartUploadInput{Bucket: aws.String(b), Key: aws.String("small-middle"), UploadId: aws.String(id2)}))(t)
	ups = must(c.s3.ListMultipartUploads(ctx, &s3sdk.ListMultipartUploadsInput{Bucket: aws.String(b)}))(t)
	if len(ups.Uploads) != 0 {
		t.Errorf("uploads left: %+v", ups.Uploads)
	}
	if n := countBlobs(t, c, b); n != 3 {
		t.Errorf("%d object files, want 3", n)
	}
}

func TestUploadPartCopy(t *testing.T) {
	c := newCloud(t)
	b := c.bucket(t, "part-copy")
	src := randomBytes(12*mib, 3)
	must(c.s3.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String(b), Key: aws.String("src"), Body: bytes.NewReader(src)}))(t)
	id := c.create(t, b, "dst")
	var parts []s3types.CompletedPart
	for i, r := range [][2]int{{0, 6*mib - 1}, {6 * mib, 12*mib - 1}} {
		out := must(c.s3.UploadPartCopy(ctx, &s3sdk.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String("dst"), UploadId: aws.String(id),
			PartNumber: aws.Int32(int32(i + 1)), CopySource: aws.String(b + "/src"), CopySourceRange: aws.String(fmt.Sprintf("bytes=%d-%d", r[0], r[1]))}))(t)
		if aws.ToString(out.CopyPartResult.ETag) != md5hex(string(src[r[0]:r[1]+1])) {
			t.Errorf("part %d ETag %s", i+1, aws.ToString(out.CopyPartResult.ETag))
		}
		parts = append(parts, s3types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.CopyPartResult.ETag})
	}
	_, err := c.s3.UploadPartCopy(ctx, &s3sdk.UploadPartCopyInput{Bucket: aws.String(b), Key: aws.String("dst"), UploadId: aws.String(id),
		PartNumber: aws.Int32(3), CopySource: aws.String(b + "/src"), CopySourceRange: aws.String(fmt.Sprintf("bytes=0-%d", 12*mib))})
	wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
	must(c.complete(b, "dst", id, parts...))(t)
	got := c.get(t, b, "dst")
	if got != string(src) {
		t.Errorf("copied object: %d bytes", len(got))
	}
}

func TestMultipartChecksums(t *testing.T) {
	c := newCloud(t)
	b := c.bucket(t, "multi-crc")
	id := c.create(t, b, "k", func(in *s3sdk.CreateMultipartUploadInput) { in.ChecksumAlgorithm = s3types.ChecksumAlgorithmCrc32 })
	p1, p2 := randomBytes(5*mib, 4), []byte("end")
	var parts []s3types.CompletedPart
	var raw []byte
	for i, p := range [][]byte{p1, p2} {
		out := must(c.s3.UploadPart(ctx, &s3sdk.UploadPartInput{Bucket: aws.String(b), Key: aws.String("k"), UploadId: aws.String(id),
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(p), ChecksumAlgorithm: s3types.ChecksumAlgorithmCrc32}))(t)
		h := crc32.NewIEEE()
		h.Write(p)
		if aws.ToString(out.ChecksumCRC32) != b64(h.Sum(nil)) {
			t.Errorf("part %d CRC32 %q", i+1, aws.ToString(out.ChecksumCRC32))
		}
		raw = append(raw, h.Sum(nil)...)
		parts = append(parts, s3types.CompletedPart{PartNumber: aws.Int32(int32(i + 1)), ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
	}
	out := must(c.complete(b, "k", id, parts...))(t)
	h := crc32.NewIEEE()
	h.Write(raw)
	if want := b64(h.Sum(nil)) + "-2"; aws.ToString(out.ChecksumCRC32) != want {
		t.Errorf("composite CRC32 %q, want %q", aws.ToString(out.ChecksumCRC32), want)
	}
	// The SDK skips validating a composite checksum on GET, but reads it.
	got := must(c.s3.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k"), ChecksumMode: s3types.ChecksumModeEnabled}))(t)
	data := must(io.ReadAll(got.Body))(t)
	got.Body.Close()
	if !bytes.Equal(data, append(append([]byte{}, p1...), p2...)) {
		t.Error("bytes")
	}
}

// The transfer manager uploads ~50 MiB in concurrent parts and downloads
// it in concurrent ranges.
func TestTransferManager(t *testing.T) {
	c := newCloud(t)
	b := c.bucket(t, "transfer")
	data := randomBytes(50*mib+12345, 5)
	for _, style := range []bool{true, false} {
		cl := c.client(t, "test", "test", region, style)
		key := fmt.Sprintf("big-%v.bin", style)
		up := manager.NewUploader(cl, func(u *manager.Uploader) { u.Concurrency = 4; u.PartSize = 8 * mib })
		res := must(up.Upload(ctx, &s3sdk.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: bytes.NewReader(data)}))(t)
		if len(res.CompletedParts) != 7 || res.UploadID == "" {
			t.Errorf("upload: %d parts, id %q", len(res.CompletedParts), res.UploadID)
		}
		var parts [][]byte
		for off := 0; off < len(data); off += 8 * mib {
			parts = append(parts, data[off:min(off+8*mib, len(data))])
		}
		if aws.ToString(res.ETag) != multipartETag(parts...) {
			t.Errorf("ETag %s, want %s", aws.ToString(res.ETag), multipartETag(parts...))
		}
		down := manager.NewDownloader(cl, func(d *manager.Downloader) { d.Concurrency = 4; d.PartSize = 5 * mib })
		buf := manager.NewWriteAtBuffer(make([]byte, 0, len(data)))
		n := must(down.Download(ctx, buf, &s3sdk.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key)}))(t)
		if n != int64(len(data)) || sha256.Sum256(buf.Bytes()) != sha256.Sum256(data) {
			t.Errorf("downloaded %d bytes, not what was uploaded", n)
		}
	}
	// A small body goes up in one PutObject.
	up := manager.NewUploader(c.s3)
	res := must(up.Upload(ctx, &s3sdk.PutObjectInput{Bucket: aws.String(b), Key: aws.String("small"), Body: bytes.NewReader([]byte("small"))}))(t)
	if res.UploadID != "" || aws.ToString(res.ETag) != md5hex("small") {
		t.Errorf("small upload: %+v", res)
	}
}

package s3_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"hash/crc32"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func md5hex(s string) string {
	sum := md5.Sum([]byte(s))
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func TestPutGetHead(t *testing.T) {
	c := newCloud(t)
	for _, style := range []struct {
		name string
		path bool
	}{{"path", true}, {"virtual", false}} {
		t.Run(style.name, func(t *testing.T) {
			cl := c.client(t, "test", "test", region, style.path)
			b := "objects-" + style.name
			must(cl.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String(b)}))(t)
			const body = "hello, world\n"
			expires := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
			put := must(cl.PutObject(ctx, &s3sdk.PutObjectInput{
				Bucket: aws.String(b), Key: aws.String("dir/hello.txt"), Body: strings.NewReader(body),
				ContentType: aws.String("text/plain"), ContentEncoding: aws.String("identity"), ContentLanguage: aws.String("en"),
				ContentDisposition: aws.String(`attachment; filename="h.txt"`), CacheControl: aws.String("max-age=60"), Expires: &expires,
				Metadata:     map[string]string{"Color": "blue", "x-Mixed": "Case Value"},
				StorageClass: s3types.StorageClassStandardIa, Tagging: aws.String("a=1&b=two"),
			}))(t)
			if aws.ToString(put.ETag) != md5hex(body) {
				t.Errorf("ETag %s, want %s", aws.ToString(put.ETag), md5hex(body))
			}
			if put.VersionId != nil {
				t.Errorf("unversioned bucket answered a version id %q", aws.ToString(put.VersionId))
			}
			if put.ServerSideEncryption != s3types.ServerSideEncryptionAes256 {
				t.Errorf("SSE %q", put.ServerSideEncryption)
			}
			got := must(cl.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(b), Key: aws.String("dir/hello.txt")}))(t)
			data, _ := io.ReadAll(got.Body)
			got.Body.Close()
			if string(data) != body || aws.ToInt64(got.ContentLength) != int64(len(body)) {
				t.Errorf("GET: %q (%d)", data, aws.ToInt64(got.ContentLength))
			}
			if aws.ToString(got.ContentType) != "text/plain" || aws.ToString(got.ContentEncoding) != "identity" ||
				aws.ToString(got.ContentLanguage) != "en" || aws.ToString(got.ContentDisposition) != `attachment; filename="h.txt"` ||
				aws.ToString(got.CacheControl) != "max-age=60" || got.StorageClass != s3types.StorageClassStandardIa ||
				aws.ToString(got.ETag) != md5hex(body) || aws.ToInt32(got.TagCount) != 2 || aws.ToString(got.AcceptRanges) != "bytes" {
				t.Errorf("GET headers: %+v", got)
			}
			if got.ExpiresString == nil || !strings.Contains(*got.ExpiresString, "2030") {
				t.Errorf("Expires %v", got.ExpiresString)
			}
			if got.Metadata["color"] != "blue" || got.Metadata["x-mixed"] != "Case Value" || len(got.Metadata) != 2 {
				t.Errorf("metadata %v", got.Metadata)
			}
			if got.LastModified == nil || time.Since(*got.LastModified) > time.Hour {
				t.Errorf("LastModified %v", got.LastModified)
			}
			head := must(cl.HeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("dir/hello.txt")}))(t)
			if aws.ToInt64(head.ContentLength) != int64(len(body)) || aws.ToString(head.ETag) != md5hex(body) ||
				head.Metadata["color"] != "blue" || aws.ToString(head.ContentType) != "text/plain" {
				t.Errorf("HEAD: %+v", head)
			}

			// An empty object (the SDK sends its own default type).
			must(cl.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String(b), Key: aws.String("empty")}))(t)
			got = must(cl.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(b), Key: aws.String("empty")}))(t)
			data, _ = io.ReadAll(got.Body)
			got.Body.Close()
			if len(data) != 0 || aws.ToString(got.ETag) != md5hex("") || aws.ToString(got.ContentType) != "application/octet-stream" {
				t.Errorf("empty object: %q %s %s", data, aws.ToString(got.ETag), aws.ToString(got.ContentType))
			}

			// Keys with characters that need escaping, and a trailing slash.
			for _, key := range []string{"a b+c", "ünï/cödé", "x?y=z&w", "percent%2F", "dir/", "a//b", "tab\there", "~!@$'()*,;:"} {
				must(cl.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: strings.NewReader(key)}))(t)
				out := must(cl.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key)}))(t)
				data, _ := io.ReadAll(out.Body)
				out.Body.Close()
				if string(data) != key {
					t.Errorf("key %q read back %q", key, data)
				}
			}

			must(cl.DeleteObject(ctx, &s3sdk.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("dir/hello.txt")}))(t)
			_, err := cl.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(b), Key: aws.String("dir/hello.txt")})
			var nsk *s3types.NoSuchKey
			if wantErr(t, err, "NoSuchKey", http.StatusNotFound); !errorsAs(err, &nsk) {
				t.Errorf("%v is not a NoSuchKey", err)
			}
			// Deleting a key that is not there succeeds.
			must(cl.DeleteObject(ctx, &s3sdk.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("dir/hello.txt")}))(t)
			_, err = cl.HeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("dir/hello.txt")})
			var nf *s3types.NotFound
			if !errorsAs(err, &nf) || status(err) != http.StatusNotFound {
				t.Errorf("HEAD of a deleted key: %v", err)
			}
		})
	}
	if !c.sawHost("objects-virtual.s3.localhost:" + port(c.url)) {
		t.Errorf("no virtual-hosted-style request reached the server: %v", c.hosts)
	}
}

func TestRanges(t *testing.T) {
	c := newCloud(t)
	b := c.bucket(t, "ranges")
	const body = "0123456789abcdefghij" // 20 bytes
	c.put(t, b, "k", body)
	for _, tc := range []struct {
		rng, want, contentRange string
	}{
		{"bytes=0-4", "01234", "bytes 0-4/20"},
		{"bytes=5-", "56789abcdefghij", "bytes 5-19/20"},
		{"bytes=-3", "hij", "bytes 17-19/20"},
		{"bytes=-100", body, "bytes 0-19/20"},
		{"bytes=15-100", "fghij", "bytes 15-19/20"},
		{"bytes=19-19", "j", "bytes 19-19/20"},
	} {
		out, err := c.s3.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Range: aws.String(tc.rng)})
		if err != nil {
			t.Errorf("%s: %v", tc.rng, err)
			continue
		}
		data, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(data) != tc.want || aws.ToString(out.ContentRange) != tc.contentRange || aws.ToInt64(out.ContentLength) != int64(len(tc.want)) {
			t.Errorf("%s: %q, Content-Range %q, length %d", tc.rng, data, aws.ToString(out.ContentRange), aws.ToInt64(out.ContentLength))
		}
	}
	resp, _ := c.signedRaw(t, http.MethodGet, "/ranges/k", nil, region, "Range", "bytes=2-3")
	if resp.StatusCode != http.StatusPartialContent {
		t.Errorf("range GET answered %d", resp.StatusCode)
	}
	// Past the end: 416 InvalidRange.
	for _, rng := range []string{"bytes=20-", "bytes=25-30", "bytes=-0"} {
		_, err := c.s3.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Range: aws.String(rng)})
		wantErr(t, err, "InvalidRange", http.StatusRequestedRangeNotSatisfiable)
	}
	// What is not one satisfiable bytes range is ignored: the whole object.
	for _, rng := range []string{"bytes=5-2", "items=0-1", "bytes=0-1,3-4", "bytes=x-y"} {
		out, err := c.s3.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Range: aws.String(rng)})
		if err != nil {
			t.Errorf("%s: %v", rng, err)
			continue
		}
		data, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(data) != body || out.ContentRange != nil {
			t.Errorf("%s: %q, Content-Range %v", rng, data, aws.ToString(out.ContentRange))
		}
	}
	// HEAD with a range answers its length. (The API model cloudbox is
	// generated from has no Content-Range for HeadObject.)
	head := must(c.s3.HeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k"), Range: aws.String("bytes=0-9")}))(t)
	if aws.ToInt64(head.ContentLength) != 10 {
		t.Errorf("HEAD range: %d", aws.ToInt64(head.ContentLength))
	}
	// An empty object has no byte to range over.
	c.put(t, b, "empty", "")
	_, err := c.s3.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(b), Key: aws.String("empty"), Range: aws.String("bytes=0-")})
	wantErr(t, err, "InvalidRange", http.StatusRequestedRangeNotSatisfiable)
}

func TestConditionals(t *testing.T) {
	c := newCloud(t)
	b := c.bucket(t, "conditions")
	put := c.put(t, b, "k", "data")
	etag := aws.ToString(put.ETag)
	head := must(c.s3.HeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k")}))(t)
	mod := *head.LastModified
	before, after := mod.Add(-time.Hour), mod.Add(time.Hour)

	get := func(in s3sdk.GetObjectInput) error {
		in.Bucket, in.Key = aws.String(b), aws.String("k")
		out, err := c.s3.GetObject(ctx, &in)
		if err == nil {
			out.Body.Close()
		}
		return err
	}
	for name, tc := range map[string]struct {
		in     s3sdk.GetObjectInput
		status int
	}{
		"If-Match ok":                       {s3sdk.GetObjectInput{IfMatch: aws.String(etag)}, 200},
		"If-Match unquoted":                 {s3sdk.GetObjectInput{IfMatch: aws.String(strings.Trim(etag, `"`))}, 200},
		"If-Match star":                     {s3sdk.GetObjectInput{IfMatch: aws.String("*")}, 200},
		"If-Match fails":                    {s3sdk.GetObjectInput{IfMatch: aws.String(`"nope"`)}, 412},
		"If-None-Match matches":             {s3sdk.GetObjectInput{IfNoneMatch: aws.String(etag)}, 304},
		"If-None-Match other":               {s3sdk.GetObjectInput{IfNoneMatch: aws.String(`"nope"`)}, 200},
		"If-Modified-Since before":          {s3sdk.GetObjectInput{IfModifiedSince: &before}, 200},
		"If-Modified-Since after":           {s3sdk.GetObjectInput{IfModifiedSince: &after}, 304},
		"If-Unmodified-Since before":        {s3sdk.GetObjectInput{IfUnmodifiedSince: &before}, 412},
		"If-Unmodified-Since after":         {s3sdk.GetObjectInput{IfUnmodifiedSince: &after}, 200},
		"If-Match wins over Unmodified":     {s3sdk.GetObjectInput{IfMatch: aws.String(etag), IfUnmodifiedSince: &before}, 200},
		"If-None-Match wins over Modified":  {s3sdk.GetObjectInput{IfNoneMatch: aws.String(`"nope"`), IfModifiedSince: &after}, 200},
		"If-Match fails before None-Match":  {s3sdk.GetObjectInput{IfMatch: aws.String(`"nope"`), IfNoneMatch: aws.String(etag)}, 412},
		"If-None-Match and Unmodified fail": {s3sdk.GetObjectInput{IfNoneMatch: aws.String(etag), IfUnmodifiedSince: &before}, 412},
	} {
		err := get(tc.in)
		got := 200
		if err != nil {
			got = status(err)
		}
		if got != tc.status {
			t.Errorf("%s: %d (%v), want %d", name, got, err, tc.status)
		}
		if tc.status == 412 {
			wantErr(t, err, "PreconditionFailed", 412)
		}
	}
	// A 304 carries the ETag and no body; HEAD alike.
	resp, body := c.signedRaw(t, http.MethodGet, "/conditions/k", nil, region, "If-None-Match", etag)
	if resp.StatusCode != http.StatusNotModified || resp.Header.Get("ETag") != etag || len(body) != 0 {
		t.Errorf("304: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	resp, body = c.signedRaw(t, http.MethodHead, "/conditions/k", nil, region, "If-Match", `"nope"`)
	if resp.StatusCode != http.StatusPreconditionFailed || len(body) != 0 {
		t.Errorf("HEAD 412: %d %q", resp.StatusCode, body)
	}
}

func TestChecksums(t *testing.T) {
	c := newCloud(t)
	b := c.bucket(t, "checksums")
	const body = "checksummed bytes"

	// The SDK's default: CRC32, sent as an aws-chunked trailer over TLS.
	put := must(c.s3.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String(b), Key: aws.String("crc"), Body: strings.NewReader(body)}))(t)
	h := crc32.NewIEEE()
	h.Write([]byte(body))
	want := b64(h.Sum(nil))
	if aws.ToString(put.ChecksumCRC32) != want {
		t.Errorf("PutObject CRC32 %q, want %q", aws.ToString(put.ChecksumCRC32), want)
	}
	got := must(c.s3.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(b), Key: aws.String("crc"), ChecksumMode: s3types.ChecksumModeEnabled}))(t)
	data, _ := io.ReadAll(got.Body) // the SDK validates the checksum as it reads
	got.Body.Close()
	if string(data) != body || aws.ToString(got.ChecksumCRC32) != want {
		t.Errorf("GET: %q CRC32 %q", data, aws.ToString(got.ChecksumCRC32))
	}

	// SHA256, and the same over plain HTTP (a header, not a trailer).
	sum := sha256.Sum256([]byte(body))
	plain := c.client(t, "test", "test", region, true, func(o *s3sdk.Options) { o.BaseEndpoint = aws.String(c.httpURL); o.HTTPClient = http.DefaultClient })
	for name, cl := range map[string]*s3sdk.Client{"tls": c.s3, "plain": plain} {
		put = must(cl.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String(b), Key: aws.String("sha-" + name), Body: strings.NewReader(body),
			ChecksumAlgorithm: s3types.ChecksumAlgorithmSha256}))(t)
		if aws.ToString(put.ChecksumSHA256) != b64(sum[:]) {
			t.Errorf("%s: SHA256 %q", name, aws.ToString(put.ChecksumSHA256))
		}
		head := must(cl.HeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("sha-" + name), ChecksumMode: s3types.ChecksumModeEnabled}))(t)
		if aws.ToString(head.ChecksumSHA256) != b64(sum[:]) {
			t.Errorf("%s: HEAD SHA256 %q", name, aws.ToString(head.ChecksumSHA256))
		}
	}

	// A checksum that does not match the bytes.
	bad := sha256.Sum256([]byte("other"))
	_, err := c.s3.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String(b), Key: aws.String("bad"), Body: strings.NewReader(body),
		ChecksumSHA256: aws.String(b64(bad[:]))})
	wantErr(t, err, "BadDigest", http.StatusBadRequest)

	// Content-MD5: right, wrong (BadDigest), malformed (InvalidDigest).
	sumMD5 := md5.Sum([]byte(body))
	must(plain.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String(b), Key: aws.String("md5"), Body: strings.NewReader(body), ContentMD5: aws.String(b64(sumMD5[:]))}))(t)
	wrong := md5.Sum([]byte("x"))
	_, err = plain.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String(b), Key: aws.String("md5"), Body: strings.NewReader(body), ContentMD5: aws.String(b64(wrong[:]))})
	ae := wantErr(t, err, "BadDigest", http.StatusBadRequest)
	if ae.ErrorMessage() != "The Content-MD5 you specified did not match what we received." {
		t.Errorf("BadDigest message %q", ae.ErrorMessage())
	}
	_, err = plain.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String(b), Key: aws.String("md5"), Body: strings.NewReader(body), ContentMD5: aws.String("not-md5")})
	wantErr(t, err, "InvalidDigest", http.StatusBadRequest)
	// The object written with the right digest is still the one there.
	if c.get(t, b, "md5") != body {
		t.Error("a failed PUT replaced the object")
	}
	// A failed PUT leaves no file behind.
	if n := countBlobs(t, c, b); n != 4 {
		t.Errorf("%d object files, want 4", n)
	}
}

func TestDeleteObjects(t *testing.T) {
	c := newCloud(t)
	b := c.bucket(t, "many")
	for _, k := range []string{"a", "b", "c", "d"} {
		c.put(t, b, k, k)
	}
	ids := func(keys ...string) []s3types.ObjectIdentifier {
		var out []s3types.ObjectIdentifier
		for _, k := range keys {
			out = append(out, s3types.ObjectIdentifier{Key: aws.String(k)})
		}
		return out
	}
	out := must(c.s3.DeleteObjects(ctx, &s3sdk.DeleteObjectsInput{Bucket: aws.String(b), Delete: &s3types.Delete{Objects: ids("a", "b", "missing")}}))(t)
	var keys []string
	for _, d := range out.Deleted {
		keys = append(keys, aws.ToString(d.Key))
	}
	if strings.Join(keys, ",") != "a,b,missing" || len(out.Errors) != 0 {
		t.Errorf("Deleted %v, errors %v", keys, out.Errors)
	}
	out = must(c.s3.DeleteObjects(ctx, &s3sdk.DeleteObjectsInput{Bucket: aws.String(b), Delete: &s3types.Delete{Objects: ids("c"), Quiet: aws.Bool(true)}}))(t)
	if len(out.Deleted) != 0 || len(out.Errors) != 0 {
		t.Errorf("quiet: %+v", out)
	}
	list := must(c.s3.ListObjectsV2(ctx, &s3sdk.ListObjectsV2Input{Bucket: aws.String(b)}))(t)
	if len(list.Contents) != 1 || aws.ToString(list.Contents[0].Key) != "d" {
		t.Errorf("left: %+v", list.Contents)
	}
	// A bad version id is a per-key error.
	out = must(c.s3.DeleteObjects(ctx, &s3sdk.DeleteObjectsInput{Bucket: aws.String(b), Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{
		{Key: aws.String("d"), VersionId: aws.String("not-a-version")}}}}))(t)
	if len(out.Errors) != 1 || aws.ToString(out.Errors[0].Code) != "InvalidArgument" {
		t.Errorf("bad version: %s %s", aws.ToString(out.Errors[0].Code), aws.ToString(out.Errors[0].Message))
	}
	// More than 1,000 keys, or none, is malformed.
	var lots []s3types.ObjectIdentifier
	for i := 0; i < 1001; i++ {
		lots = append(lots, s3types.ObjectIdentifier{Key: aws.String("k")})
	}
	_, err := c.s3.DeleteObjects(ctx, &s3sdk.DeleteObjectsInput{Bucket: aws.String(b), Delete: &s3types.Delete{Objects: lots}})
	wantErr(t, err, "MalformedXML", http.StatusBadRequest)
}

func TestCopyObject(t *testing.T) {
	c := newCloud(t)
	src := c.bucket(t, "copy-src")
	dst := c.bucket(t, "copy-dst")
	must(c.s3.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String(src), Key: aws.String("orig key"), Body: strings.NewReader("copied"),
		ContentType: aws.String("text/x-orig"), Metadata: map[string]string{"m": "1"}, Tagging: aws.String("t=1")}))(t)

	// COPY (the default) keeps metadata and tags.
	out := must(c.s3.CopyObject(ctx, &s3sdk.CopyObjectInput{Bucket: aws.String(dst), Key: aws.String("copy"), CopySource: aws.String(src + "/orig%20key")}))(t)
	if aws.ToString(out.CopyObjectResult.ETag) != md5hex("copied") || out.CopyObjectResult.LastModified == nil {
		t.Errorf("CopyObjectResult %+v", out.CopyObjectResult)
	}
	head := must(c.s3.HeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: aws.String(dst), Key: aws.String("copy")}))(t)
	if aws.ToString(head.ContentType) != "text/x-orig" || head.Metadata["m"] != "1" {
		t.Errorf("COPY: %s %v", aws.ToString(head.ContentType), head.Metadata)
	}
	tags := must(c.s3.GetObjectTagging(ctx, &s3sdk.GetObjectTaggingInput{Bucket: aws.String(dst), Key: aws.String("copy")}))(t)
	if len(tags.TagSet) != 1 {
		t.Errorf("COPY tags %v", tags.TagSet)
	}
	if c.get(t, dst, "copy") != "copied" {
		t.Error("copy's bytes")
	}

	// REPLACE takes the request's.
	must(c.s3.CopyObject(ctx, &s3sdk.CopyObjectInput{Bucket: aws.String(dst), Key: aws.String("replaced"), CopySource: aws.String(src + "/orig%20key"),
		MetadataDirective: s3types.MetadataDirectiveReplace, ContentType: aws.String("text/x-new"), Metadata: map[string]string{"n": "2"},
		TaggingDirective: s3types.TaggingDirectiveReplace, Tagging: aws.String("u=2&v=3")}))(t)
	head = must(c.s3.HeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: aws.String(dst), Key: aws.String("replaced")}))(t)
	if aws.ToString(head.ContentType) != "text/x-new" || head.Metadata["n"] != "2" || head.Metadata["m"] != "" {
		t.Errorf("REPLACE: %s %v", aws.ToString(head.ContentType), head.Metadata)
	}
	tags = must(c.s3.GetObjectTagging(ctx, &s3sdk.GetObjectTaggingInput{Bucket: aws.String(dst), Key: aws.String("replaced")}))(t)
	if len(tags.TagSet) != 2 {
		t.Errorf("REPLACE tags %v", tags.TagSet)
	}

	// To itself: refused unless something changes.
	_, err := c.s3.CopyObject(ctx, &s3sdk.CopyObjectInput{Bucket: aws.String(src), Key: aws.String("orig key"), CopySource: aws.String(src + "/orig%20key")})
	ae := wantErr(t, err, "InvalidRequest", http.StatusBadRequest)
	if !strings.Contains(ae.ErrorMessage(), "copy an object to itself without changing the object's metadata") {
		t.Errorf("message %q", ae.ErrorMessage())
	}
	must(c.s3.CopyObject(ctx, &s3sdk.CopyObjectInput{Bucket: aws.String(src), Key: aws.String("orig key"), CopySource: aws.String(src + "/orig%20key"),
		MetadataDirective: s3types.MetadataDirectiveReplace, Metadata: map[string]string{"m": "changed"}}))(t)
	head = must(c.s3.HeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: aws.String(src), Key: aws.String("orig key")}))(t)
	if head.Metadata["m"] != "changed" {
		t.Errorf("metadata after copying onto itself: %v", head.Metadata)
	}
	if c.get(t, src, "orig key") != "copied" {
		t.Error("bytes after copying onto itself")
	}

	// Missing sources, conditions.
	_, err = c.s3.CopyObject(ctx, &s3sdk.CopyObjectInput{Bucket: aws.String(dst), Key: aws.String("x"), CopySource: aws.String(src + "/none")})
	wantErr(t, err, "NoSuchKey", http.StatusNotFound)
	_, err = c.s3.CopyObject(ctx, &s3sdk.CopyObjectInput{Bucket: aws.String(dst), Key: aws.String("x"), CopySource: aws.String("no-such-bucket-x/k")})
	wantErr(t, err, "NoSuchBucket", http.StatusNotFound)
	_, err = c.s3.CopyObject(ctx, &s3sdk.CopyObjectInput{Bucket: aws.String(dst), Key: aws.String("x"), CopySource: aws.String(src + "/orig%20key"),
		CopySourceIfMatch: aws.String(`"nope"`)})
	wantErr(t, err, "PreconditionFailed", http.StatusPreconditionFailed)
	_, err = c.s3.CopyObject(ctx, &s3sdk.CopyObjectInput{Bucket: aws.String(dst), Key: aws.String("x"), CopySource: aws.String(src + "/orig%20key"),
		CopySourceIfNoneMatch: aws.String(md5hex("copied"))})
	wantErr(t, err, "PreconditionFailed", http.StatusPreconditionFailed)

	// Deleting the source leaves the copy whole (the bytes are shared).
	must(c.s3.DeleteObject(ctx, &s3sdk.DeleteObjectInput{Bucket: aws.String(src), Key: aws.String("orig key")}))(t)
	if c.get(t, dst, "copy") != "copied" {
		t.Error("copy lost its bytes with its source")
	}
}

func TestTagging(t *testing.T) {
	c := newCloud(t)
	b := c.bucket(t, "tags")
	c.put(t, b, "k", "v")
	must(c.s3.PutObjectTagging(ctx, &s3sdk.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("k"), Tagging: &s3types.Tagging{
		TagSet: []s3types.Tag{{Key: aws.String("z"), Value: aws.String("1")}, {Key: aws.String("a"), Value: aws.String("")}}}}))(t)
	got := must(c.s3.GetObjectTagging(ctx, &s3sdk.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("k")}))(t)
	if len(got.TagSet) != 2 {
		t.Errorf("tags %+v", got.TagSet)
	}
	var many []s3types.Tag
	for i := 0; i < 11; i++ {
		many = append(many, s3types.Tag{Key: aws.String(strings.Repeat("k", i+1)), Value: aws.String("v")})
	}
	_, err := c.s3.PutObjectTagging(ctx, &s3sdk.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("k"), Tagging: &s3types.Tagging{TagSet: many}})
	wantErr(t, err, "BadRequest", http.StatusBadRequest)
	_, err = c.s3.PutObjectTagging(ctx, &s3sdk.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("k"), Tagging: &s3types.Tagging{
		TagSet: []s3types.Tag{{Key: aws.String("d"), Value: aws.String("1")}, {Key: aws.String("d"), Value: aws.String("2")}}}})
	wantErr(t, err, "InvalidTag", http.StatusBadRequest)
	_, err = c.s3.PutObjectTagging(ctx, &s3sdk.PutObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("none"), Tagging: &s3types.Tagging{TagSet: []s3types.Tag{}}})
	wantErr(t, err, "NoSuchKey", http.StatusNotFound)
	must(c.s3.DeleteObjectTagging(ctx, &s3sdk.DeleteObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("k")}))(t)
	got = must(c.s3.GetObjectTagging(ctx, &s3sdk.GetObjectTaggingInput{Bucket: aws.String(b), Key: aws.String("k")}))(t)
	if len(got.TagSet) != 0 {
		t.Errorf("tags after delete %+v", got.TagSet)
	}
	// The raw answer has an empty TagSet element.
	resp, body := c.signedRaw(t, http.MethodGet, "/tags/k?tagging", nil, region)
	if resp.StatusCode != 200 || !bytes.Contains(body, []byte("<TagSet></TagSet>")) && !bytes.Contains(body, []byte("<TagSet/>")) {
		t.Errorf("GetObjectTagging: %d %s", resp.StatusCode, body)
	}

	// Buckets.
	_, err = c.s3.GetBucketTagging(ctx, &s3sdk.GetBucketTaggingInput{Bucket: aws.String(b)})
	wantErr(t, err, "NoSuchTagSet", http.StatusNotFound)
	must(c.s3.PutBucketTagging(ctx, &s3sdk.PutBucketTaggingInput{Bucket: aws.String(b), Tagging: &s3types.Tagging{
		TagSet: []s3types.Tag{{Key: aws.String("env"), Value: aws.String("test")}}}}))(t)
	bt := must(c.s3.GetBucketTagging(ctx, &s3sdk.GetBucketTaggingInput{Bucket: aws.String(b)}))(t)
	if len(bt.TagSet) != 1 || aws.ToString(bt.TagSet[0].Key) != "env" {
		t.Errorf("bucket tags %+v", bt.TagSet)
	}
	_, err = c.s3.PutBucketTagging(ctx, &s3sdk.PutBucketTaggingInput{Bucket: aws.String(b), Tagging: &s3types.Tagging{
		TagSet: []s3types.Tag{{Key: aws.String("aws:reserved"), Value: aws.String("x")}}}})
	wantErr(t, err, "InvalidTag", http.StatusBadRequest)
	must(c.s3.DeleteBucketTagging(ctx, &s3sdk.DeleteBucketTaggingInput{Bucket: aws.String(b)}))(t)
	_, err = c.s3.GetBucketTagging(ctx, &s3sdk.GetBucketTaggingInput{Bucket: aws.String(b)})
	wantErr(t, err, "NoSuchTagSet", http.StatusNotFound)
}

// s3Error is S3's error document.
type s3Error struct {
	XMLName    xml.Name `xml:"Error"`
	Code       string
	Message    string
	Key        string
	BucketName string
	RequestID  string `xml:"RequestId"`
	HostID     string `xml:"HostId"`
}

func TestErrorShape(t *testing.T) {
	c := newCloud(t)
	b := c.bucket(t, "errors")
	resp, body := c.signedRaw(t, http.MethodGet, "/errors/missing/key", nil, region)
	var e s3Error
	if err := xml.Unmarshal(body, &e); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	if resp.StatusCode != 404 || e.Code != "NoSuchKey" || e.Message != "The specified key does not exist." || e.Key != "missing/key" ||
		e.RequestID == "" || e.RequestID != resp.Header.Get("X-Amz-Request-Id") || e.HostID == "" {
		t.Errorf("NoSuchKey: %d %+v %s", resp.StatusCode, e, body)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/xml" {
		t.Errorf("Content-Type %q", ct)
	}
	resp, body = c.signedRaw(t, http.MethodGet, "/no-such-bucket-here?list-type=2", nil, region)
	e = s3Error{}
	if err := xml.Unmarshal(body, &e); err != nil || resp.StatusCode != 404 || e.Code != "NoSuchBucket" || e.BucketName != "no-such-bucket-here" {
		t.Errorf("NoSuchBucket: %d %s", resp.StatusCode, body)
	}
	// Without a Content-Type an object is binary/octet-stream.
	resp, _ = c.signedRaw(t, http.MethodPut, "/"+b+"/untyped", []byte("x"), region)
	if resp.StatusCode != 200 {
		t.Fatalf("PUT: %d", resp.StatusCode)
	}
	head := must(c.s3.HeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("untyped")}))(t)
	if aws.ToString(head.ContentType) != "binary/octet-stream" {
		t.Errorf("untyped object: %q", aws.ToString(head.ContentType))
	}
	// HEAD errors have no body, only the status.
	resp, body = c.signedRaw(t, http.MethodHead, "/"+b+"/missing", nil, region)
	if resp.StatusCode != 404 || len(body) != 0 || resp.Header.Get("X-Amz-Request-Id") == "" {
		t.Errorf("HEAD 404: %d %q", resp.StatusCode, body)
	}
	resp, body = c.signedRaw(t, http.MethodHead, "/no-such-bucket-here/k", nil, region)
	if resp.StatusCode != 404 || len(body) != 0 {
		t.Errorf("HEAD of a missing bucket: %d %q", resp.StatusCode, body)
	}
}

// countBlobs counts the object files of a bucket.
func countBlobs(t *testing.T, c *cloud, bucket string) int {
	t.Helper()
	return countFiles(t, c.blobs.Dir()+"/"+bucket)
}

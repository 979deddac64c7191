package s3_test

import (
	"cmp"
	"io"
	"net/http"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func (c *cloud) getVersion(t *testing.T, bucket, key, id string) string {
	t.Helper()
	out := must(c.s3.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), VersionId: aws.String(id)}))(t)
	defer out.Body.Close()
	if aws.ToString(out.VersionId) != id {
		t.Errorf("GET of version %s answered version %s", id, aws.ToString(out.VersionId))
	}
	return string(must(io.ReadAll(out.Body))(t))
}

// versions lists every version and delete marker of a bucket as
// "key@id" (markers "key@id!"), newest first per key, paging by pageSize.
func (c *cloud) versions(t *testing.T, bucket string, pageSize int32) []string {
	t.Helper()
	var out []string
	in := &s3sdk.ListObjectVersionsInput{Bucket: aws.String(bucket), MaxKeys: aws.Int32(pageSize)}
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatal("too many pages")
		}
		p := must(c.s3.ListObjectVersions(ctx, in))(t)
		// A page holds versions and markers apart; merge them back by key
		// in the order S3 keeps them (newest first).
		type entry struct {
			key, s string
			latest bool
		}
		var page []entry
		for _, v := range p.Versions {
			page = append(page, entry{aws.ToString(v.Key), aws.ToString(v.Key) + "@" + aws.ToString(v.VersionId), aws.ToBool(v.IsLatest)})
		}
		for _, m := range p.DeleteMarkers {
			page = append(page, entry{aws.ToString(m.Key), aws.ToString(m.Key) + "@" + aws.ToString(m.VersionId) + "!", aws.ToBool(m.IsLatest)})
		}
		// Within a key, the latest first; then as the page had them.
		slices.SortStableFunc(page, func(a, b entry) int {
			if c := cmp.Compare(a.key, b.key); c != 0 {
				return c
			}
			switch {
			case a.latest && !b.latest:
				return -1
			case b.latest && !a.latest:
				return 1
			}
			return 0
		})
		for _, e := range page {
			out = append(out, e.s)
		}
		if !aws.ToBool(p.IsTruncated) {
			return out
		}
		in.KeyMarker, in.VersionIdMarker = p.NextKeyMarker, p.NextVersionIdMarker
	}
}

func TestVersioning(t *testing.T) {
	c := newCloud(t)
	b := c.bucket(t, "versions")
	c.put(t, b, "k", "before") // the "null" version
	st := must(c.s3.GetBucketVersioning(ctx, &s3sdk.GetBucketVersioningInput{Bucket: aws.String(b)}))(t)
	if st.Status != "" {
		t.Errorf("new bucket's versioning: %q", st.Status)
	}
	_, err := c.s3.PutBucketVersioning(ctx, &s3sdk.PutBucketVersioningInput{Bucket: aws.String(b),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: "On"}})
	wantErr(t, err, "MalformedXML", http.StatusBadRequest)
	must(c.s3.PutBucketVersioning(ctx, &s3sdk.PutBucketVersioningInput{Bucket: aws.String(b),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}))(t)
	st = must(c.s3.GetBucketVersioning(ctx, &s3sdk.GetBucketVersioningInput{Bucket: aws.String(b)}))(t)
	if st.Status != s3types.BucketVersioningStatusEnabled {
		t.Errorf("versioning: %q", st.Status)
	}

	v1 := aws.ToString(c.put(t, b, "k", "one").VersionId)
	v2 := aws.ToString(c.put(t, b, "k", "two").VersionId)
	if len(v1) != 32 || len(v2) != 32 || v1 == v2 {
		t.Fatalf("version ids %q %q", v1, v2)
	}
	if c.get(t, b, "k") != "two" || c.getVersion(t, b, "k", v1) != "one" || c.getVersion(t, b, "k", "null") != "before" {
		t.Error("versions' bytes")
	}
	head := must(c.s3.HeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("k")}))(t)
	if aws.ToString(head.VersionId) != v2 {
		t.Errorf("HEAD version %q", aws.ToString(head.VersionId))
	}

	// A delete adds a marker; the key is gone from GET and listings.
	del := must(c.s3.DeleteObject(ctx, &s3sdk.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("k")}))(t)
	marker := aws.ToString(del.VersionId)
	if !aws.ToBool(del.DeleteMarker) || len(marker) != 32 {
		t.Fatalf("delete: marker %v id %q", aws.ToBool(del.DeleteMarker), marker)
	}
	resp, body := c.signedRaw(t, http.MethodGet, "/versions/k", nil, region)
	if resp.StatusCode != 404 || resp.Header.Get("X-Amz-Delete-Marker") != "true" || resp.Header.Get("X-Amz-Version-Id") != marker {
		t.Errorf("GET of a deleted key: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	// GET of the marker itself: 405.
	resp, body = c.signedRaw(t, http.MethodGet, "/versions/k?versionId="+marker, nil, region)
	if resp.StatusCode != 405 || resp.Header.Get("X-Amz-Delete-Marker") != "true" {
		t.Errorf("GET of a delete marker: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	_, err = c.s3.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k"), VersionId: aws.String(marker)})
	wantErr(t, err, "MethodNotAllowed", http.StatusMethodNotAllowed)
	resp, body = c.signedRaw(t, http.MethodHead, "/versions/k?versionId="+marker, nil, region)
	if resp.StatusCode != 405 || len(body) != 0 {
		t.Errorf("HEAD of a delete marker: %d %q", resp.StatusCode, body)
	}
	list := must(c.s3.ListObjectsV2(ctx, &s3sdk.ListObjectsV2Input{Bucket: aws.String(b)}))(t)
	if len(list.Contents) != 0 {
		t.Errorf("a deleted key is listed: %q", keysOf(list.Contents))
	}
	if got, want := c.versions(t, b, 1000), []string{"k@" + marker + "!", "k@" + v2, "k@" + v1, "k@null"}; !slices.Equal(got, want) {
		t.Errorf("versions %q, want %q", got, want)
	}
	// IsLatest marks the marker.
	lv := must(c.s3.ListObjectVersions(ctx, &s3sdk.ListObjectVersionsInput{Bucket: aws.String(b)}))(t)
	if len(lv.DeleteMarkers) != 1 || !aws.ToBool(lv.DeleteMarkers[0].IsLatest) || aws.ToBool(lv.Versions[0].IsLatest) {
		t.Errorf("IsLatest: %+v", lv)
	}

	// Deleting the marker brings the object back.
	del = must(c.s3.DeleteObject(ctx, &s3sdk.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("k"), VersionId: aws.String(marker)}))(t)
	if !aws.ToBool(del.DeleteMarker) || aws.ToString(del.VersionId) != marker {
		t.Errorf("deleting the marker: %v %q", aws.ToBool(del.DeleteMarker), aws.ToString(del.VersionId))
	}
	if c.get(t, b, "k") != "two" {
		t.Error("the object is not back")
	}
	// Deleting a version for good.
	del = must(c.s3.DeleteObject(ctx, &s3sdk.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("k"), VersionId: aws.String(v1)}))(t)
	if aws.ToBool(del.DeleteMarker) || aws.ToString(del.VersionId) != v1 {
		t.Errorf("deleting a version: %+v", del)
	}
	_, err = c.s3.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k"), VersionId: aws.String(v1)})
	wantErr(t, err, "NoSuchVersion", http.StatusNotFound)
	_, err = c.s3.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(b), Key: aws.String("k"), VersionId: aws.String("bad")})
	wantErr(t, err, "InvalidArgument", http.StatusBadRequest)

	// Suspended: writes are the "null" version, replacing it.
	must(c.s3.PutBucketVersioning(ctx, &s3sdk.PutBucketVersioningInput{Bucket: aws.String(b),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusSuspended}}))(t)
	c.put(t, b, "k", "suspended")
	if c.getVersion(t, b, "k", "null") != "suspended" || c.getVersion(t, b, "k", v2) != "two" {
		t.Error("suspended write")
	}
	if got, want := c.versions(t, b, 1000), []string{"k@null", "k@" + v2}; !slices.Equal(got, want) {
		t.Errorf("suspended versions %q, want %q", got, want)
	}
	del = must(c.s3.DeleteObject(ctx, &s3sdk.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("k")}))(t)
	if !aws.ToBool(del.DeleteMarker) || aws.ToString(del.VersionId) != "null" {
		t.Errorf("suspended delete: %v %q", aws.ToBool(del.DeleteMarker), aws.ToString(del.VersionId))
	}
	if got, want := c.versions(t, b, 1000), []string{"k@null!", "k@" + v2}; !slices.Equal(got, want) {
		t.Errorf("after a suspended delete %q, want %q", got, want)
	}
	// The bucket can never go back to unversioned.
	st = must(c.s3.GetBucketVersioning(ctx, &s3sdk.GetBucketVersioningInput{Bucket: aws.String(b)}))(t)
	if st.Status != s3types.BucketVersioningStatusSuspended {
		t.Errorf("versioning: %q", st.Status)
	}
}

func TestListObjectVersionsPaging(t *testing.T) {
	c := newCloud(t)
	b := c.versioned(t, "version-pages")
	var want []string
	for _, k := range []string{"a", "b/c", "b/d", "e"} {
		var ids []string
		for i := 0; i < 3; i++ {
			ids = append(ids, k+"@"+aws.ToString(c.put(t, b, k, k).VersionId))
		}
		slices.Reverse(ids)
		want = append(want, ids...)
	}
	del := must(c.s3.DeleteObject(ctx, &s3sdk.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("e")}))(t)
	want = slices.Insert(want, 9, "e@"+aws.ToString(del.VersionId)+"!")
	for _, size := range []int32{1, 2, 3, 5, 1000} {
		if got := c.versions(t, b, size); !slices.Equal(got, want) {
			t.Errorf("pages of %d: %q\nwant %q", size, got, want)
		}
	}
	// Prefix and delimiter.
	p := must(c.s3.ListObjectVersions(ctx, &s3sdk.ListObjectVersionsInput{Bucket: aws.String(b), Delimiter: aws.String("/")}))(t)
	if !slices.Equal(prefixesOf(p.CommonPrefixes), []string{"b/"}) || len(p.Versions) != 6 || len(p.DeleteMarkers) != 1 {
		t.Errorf("delimited: %q, %d versions", prefixesOf(p.CommonPrefixes), len(p.Versions))
	}
	p = must(c.s3.ListObjectVersions(ctx, &s3sdk.ListObjectVersionsInput{Bucket: aws.String(b), Prefix: aws.String("b/")}))(t)
	if len(p.Versions) != 6 {
		t.Errorf("prefix b/: %d versions", len(p.Versions))
	}
	// The paginator.
	pg := s3sdk.NewListObjectVersionsPaginator(c.s3, &s3sdk.ListObjectVersionsInput{Bucket: aws.String(b), MaxKeys: aws.Int32(4)})
	n := 0
	for pg.HasMorePages() {
		page := must(pg.NextPage(ctx))(t)
		n += len(page.Versions) + len(page.DeleteMarkers)
	}
	if n != len(want) {
		t.Errorf("paginator: %d entries, want %d", n, len(want))
	}
	_, err := c.s3.ListObjectVersions(ctx, &s3sdk.ListObjectVersionsInput{Bucket: aws.String(b), VersionIdMarker: aws.String("x")})
	wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
}

func TestDeleteObjectsVersioned(t *testing.T) {
	c := newCloud(t)
	b := c.versioned(t, "batch-versions")
	v1 := aws.ToString(c.put(t, b, "k", "1").VersionId)
	c.put(t, b, "k", "2")
	out := must(c.s3.DeleteObjects(ctx, &s3sdk.DeleteObjectsInput{Bucket: aws.String(b), Delete: &s3types.Delete{Objects: []s3types.ObjectIdentifier{
		{Key: aws.String("k")}, {Key: aws.String("k"), VersionId: aws.String(v1)}}}}))(t)
	if len(out.Deleted) != 2 || len(out.Errors) != 0 {
		t.Fatalf("%+v", out)
	}
	d := out.Deleted[0]
	if !aws.ToBool(d.DeleteMarker) || len(aws.ToString(d.DeleteMarkerVersionId)) != 32 || d.VersionId != nil {
		t.Errorf("marker entry: %+v", d)
	}
	d = out.Deleted[1]
	if aws.ToBool(d.DeleteMarker) || aws.ToString(d.VersionId) != v1 {
		t.Errorf("version entry: %+v", d)
	}
	if got := c.versions(t, b, 1000); len(got) != 2 {
		t.Errorf("left: %q", got)
	}
}

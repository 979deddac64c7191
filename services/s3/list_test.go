package s3_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// listKeys are written in no order; S3 lists them in UTF-8 byte order.
var listKeys = []string{"é", "b", "a/c/d", "a%", "a", "a/b", "a b", "c/x", "c/y/z"}

func keysOf(objs []s3types.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, aws.ToString(o.Key))
	}
	return out
}

func prefixesOf(cps []s3types.CommonPrefix) []string {
	var out []string
	for _, p := range cps {
		out = append(out, aws.ToString(p.Prefix))
	}
	return out
}

func TestListObjectsV2(t *testing.T) {
	c := newCloud(t)
	b := c.bucket(t, "list-v2")
	for _, k := range listKeys {
		c.put(t, b, k, k)
	}
	list := func(in s3sdk.ListObjectsV2Input) *s3sdk.ListObjectsV2Output {
		t.Helper()
		in.Bucket = aws.String(b)
		return must(c.s3.ListObjectsV2(ctx, &in))(t)
	}
	all := list(s3sdk.ListObjectsV2Input{})
	if want := []string{"a", "a b", "a%", "a/b", "a/c/d", "b", "c/x", "c/y/z", "é"}; !slices.Equal(keysOf(all.Contents), want) {
		t.Errorf("order: %q, want %q", keysOf(all.Contents), want)
	}
	if aws.ToInt32(all.KeyCount) != 9 || aws.ToBool(all.IsTruncated) || aws.ToInt32(all.MaxKeys) != 1000 || all.Contents[0].Owner != nil {
		t.Errorf("KeyCount %d truncated %v MaxKeys %d", aws.ToInt32(all.KeyCount), aws.ToBool(all.IsTruncated), aws.ToInt32(all.MaxKeys))
	}
	o := all.Contents[0]
	if aws.ToString(o.ETag) != md5hex("a") || aws.ToInt64(o.Size) != 1 || o.StorageClass != s3types.ObjectStorageClassStandard || o.LastModified == nil {
		t.Errorf("entry %+v", o)
	}
	owned := list(s3sdk.ListObjectsV2Input{FetchOwner: aws.Bool(true), MaxKeys: aws.Int32(1)})
	if owned.Contents[0].Owner == nil || aws.ToString(owned.Contents[0].Owner.ID) == "" {
		t.Errorf("FetchOwner: no owner")
	}

	// Delimiter: common prefixes count against MaxKeys.
	d := list(s3sdk.ListObjectsV2Input{Delimiter: aws.String("/")})
	if !slices.Equal(keysOf(d.Contents), []string{"a", "a b", "a%", "b", "é"}) || !slices.Equal(prefixesOf(d.CommonPrefixes), []string{"a/", "c/"}) ||
		aws.ToInt32(d.KeyCount) != 7 {
		t.Errorf("delimiter: %q %q %d", keysOf(d.Contents), prefixesOf(d.CommonPrefixes), aws.ToInt32(d.KeyCount))
	}
	d = list(s3sdk.ListObjectsV2Input{Delimiter: aws.String("/"), Prefix: aws.String("a/")})
	if !slices.Equal(keysOf(d.Contents), []string{"a/b"}) || !slices.Equal(prefixesOf(d.CommonPrefixes), []string{"a/c/"}) || aws.ToString(d.Prefix) != "a/" {
		t.Errorf("prefix a/: %q %q", keysOf(d.Contents), prefixesOf(d.CommonPrefixes))
	}
	d = list(s3sdk.ListObjectsV2Input{Prefix: aws.String("zzz")})
	if len(d.Contents) != 0 || aws.ToInt32(d.KeyCount) != 0 {
		t.Errorf("no match: %q", keysOf(d.Contents))
	}

	// Pages of 2 with a delimiter: every entry once, in order.
	var got []string
	var token *string
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("too many pages")
		}
		p := list(s3sdk.ListObjectsV2Input{Delimiter: aws.String("/"), MaxKeys: aws.Int32(2), ContinuationToken: token})
		got = append(got, keysOf(p.Contents)...)
		got = append(got, prefixesOf(p.CommonPrefixes)...)
		if aws.ToString(p.ContinuationToken) != aws.ToString(token) {
			t.Errorf("ContinuationToken not echoed")
		}
		if !aws.ToBool(p.IsTruncated) {
			if p.NextContinuationToken != nil {
				t.Errorf("last page has a NextContinuationToken")
			}
			break
		}
		token = p.NextContinuationToken
	}
	slices.Sort(got)
	if want := []string{"a", "a b", "a%", "a/", "b", "c/", "é"}; !slices.Equal(got, want) {
		t.Errorf("paged with delimiter: %q, want %q", got, want)
	}

	// StartAfter, also with a continuation token (which wins).
	sa := list(s3sdk.ListObjectsV2Input{StartAfter: aws.String("a/b")})
	if !slices.Equal(keysOf(sa.Contents), []string{"a/c/d", "b", "c/x", "c/y/z", "é"}) || aws.ToString(sa.StartAfter) != "a/b" {
		t.Errorf("StartAfter: %q", keysOf(sa.Contents))
	}
	first := list(s3sdk.ListObjectsV2Input{MaxKeys: aws.Int32(6)})
	sa = list(s3sdk.ListObjectsV2Input{StartAfter: aws.String("a"), ContinuationToken: first.NextContinuationToken})
	if !slices.Equal(keysOf(sa.Contents), []string{"c/x", "c/y/z", "é"}) {
		t.Errorf("token after StartAfter: %q", keysOf(sa.Contents))
	}

	// The paginator.
	var paged []string
	pg := s3sdk.NewListObjectsV2Paginator(c.s3, &s3sdk.ListObjectsV2Input{Bucket: aws.String(b), MaxKeys: aws.Int32(4)})
	pages := 0
	for pg.HasMorePages() {
		p := must(pg.NextPage(ctx))(t)
		paged = append(paged, keysOf(p.Contents)...)
		pages++
	}
	if pages != 3 || !slices.Equal(paged, keysOf(all.Contents)) {
		t.Errorf("paginator: %d pages %q", pages, paged)
	}

	// encoding-type=url encodes keys and prefixes as a form does.
	enc := list(s3sdk.ListObjectsV2Input{EncodingType: s3types.EncodingTypeUrl, Delimiter: aws.String("/")})
	if want := []string{"a", "a+b", "a%25", "b", "%C3%A9"}; !slices.Equal(keysOf(enc.Contents), want) {
		t.Errorf("url-encoded keys %q, want %q", keysOf(enc.Contents), want)
	}
	if enc.EncodingType != s3types.EncodingTypeUrl || aws.ToString(enc.Delimiter) != "%2F" && aws.ToString(enc.Delimiter) != "/" {
		t.Errorf("EncodingType %q Delimiter %q", enc.EncodingType, aws.ToString(enc.Delimiter))
	}

	// MaxKeys 0: nothing, and nothing more to ask for.
	zero := list(s3sdk.ListObjectsV2Input{MaxKeys: aws.Int32(0)})
	if len(zero.Contents) != 0 || aws.ToBool(zero.IsTruncated) || zero.NextContinuationToken != nil || aws.ToInt32(zero.KeyCount) != 0 {
		t.Errorf("MaxKeys 0: %q truncated %v token %v", keysOf(zero.Contents), aws.ToBool(zero.IsTruncated), zero.NextContinuationToken)
	}

	// Bad arguments.
	_, err := c.s3.ListObjectsV2(ctx, &s3sdk.ListObjectsV2Input{Bucket: aws.String(b), ContinuationToken: aws.String("!!not a token")})
	wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
	_, err = c.s3.ListObjectsV2(ctx, &s3sdk.ListObjectsV2Input{Bucket: aws.String(b), EncodingType: "base64"})
	wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
	_, err = c.s3.ListObjectsV2(ctx, &s3sdk.ListObjectsV2Input{Bucket: aws.String("no-such-list-bucket")})
	wantErr(t, err, "NoSuchBucket", http.StatusNotFound)
}

func TestListObjectsV1(t *testing.T) {
	c := newCloud(t)
	b := c.bucket(t, "list-v1")
	for _, k := range listKeys {
		c.put(t, b, k, k)
	}
	list := func(in s3sdk.ListObjectsInput) *s3sdk.ListObjectsOutput {
		t.Helper()
		in.Bucket = aws.String(b)
		return must(c.s3.ListObjects(ctx, &in))(t)
	}
	all := list(s3sdk.ListObjectsInput{})
	if len(all.Contents) != 9 || all.Contents[0].Owner == nil || aws.ToBool(all.IsTruncated) {
		t.Errorf("v1: %q (owner %v)", keysOf(all.Contents), all.Contents[0].Owner)
	}
	// Without a delimiter there is no NextMarker: the last key is the marker.
	p := list(s3sdk.ListObjectsInput{MaxKeys: aws.Int32(3)})
	if !aws.ToBool(p.IsTruncated) || p.NextMarker != nil || !slices.Equal(keysOf(p.Contents), []string{"a", "a b", "a%"}) {
		t.Errorf("page 1: %q truncated %v NextMarker %v", keysOf(p.Contents), aws.ToBool(p.IsTruncated), p.NextMarker)
	}
	p = list(s3sdk.ListObjectsInput{MaxKeys: aws.Int32(3), Marker: aws.String("a%")})
	if !slices.Equal(keysOf(p.Contents), []string{"a/b", "a/c/d", "b"}) || aws.ToString(p.Marker) != "a%" {
		t.Errorf("page 2: %q", keysOf(p.Contents))
	}
	// With one, NextMarker is the last entry, key or prefix.
	p = list(s3sdk.ListObjectsInput{MaxKeys: aws.Int32(4), Delimiter: aws.String("/")})
	if aws.ToString(p.NextMarker) != "a/" || !slices.Equal(prefixesOf(p.CommonPrefixes), []string{"a/"}) {
		t.Errorf("delimited page: %q %q NextMarker %q", keysOf(p.Contents), prefixesOf(p.CommonPrefixes), aws.ToString(p.NextMarker))
	}
	p = list(s3sdk.ListObjectsInput{MaxKeys: aws.Int32(4), Delimiter: aws.String("/"), Marker: p.NextMarker})
	if !slices.Equal(keysOf(p.Contents), []string{"b", "é"}) || !slices.Equal(prefixesOf(p.CommonPrefixes), []string{"c/"}) || aws.ToBool(p.IsTruncated) {
		t.Errorf("second delimited page: %q %q", keysOf(p.Contents), prefixesOf(p.CommonPrefixes))
	}
	enc := list(s3sdk.ListObjectsInput{EncodingType: s3types.EncodingTypeUrl, Prefix: aws.String("a ")})
	if !slices.Equal(keysOf(enc.Contents), []string{"a+b"}) || aws.ToString(enc.Prefix) != "a+" {
		t.Errorf("v1 url encoding: %q prefix %q", keysOf(enc.Contents), aws.ToString(enc.Prefix))
	}
	zero := list(s3sdk.ListObjectsInput{MaxKeys: aws.Int32(0), Delimiter: aws.String("/")})
	if len(zero.Contents)+len(zero.CommonPrefixes) != 0 || aws.ToBool(zero.IsTruncated) || zero.NextMarker != nil {
		t.Errorf("MaxKeys 0: %+v", zero)
	}
	_, err := c.s3.ListObjects(ctx, &s3sdk.ListObjectsInput{Bucket: aws.String(b), MaxKeys: aws.Int32(-1)})
	wantErr(t, err, "InvalidArgument", http.StatusBadRequest)
}

// A listing of many keys pages through all of them, whatever the page.
func TestListManyKeys(t *testing.T) {
	c := newCloud(t)
	b := c.bucket(t, "list-many")
	var want []string
	for i := 0; i < 1100; i++ {
		k := fmt.Sprintf("dir%d/key-%04d", i%3, i)
		want = append(want, k)
	}
	// Written concurrently, a few at a time.
	sem := make(chan struct{}, 8)
	errs := make(chan error, len(want))
	for _, k := range want {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			_, err := c.s3.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String(b), Key: aws.String(k), Body: strings.NewReader("")})
			errs <- err
		}()
	}
	for range want {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	slices.Sort(want)
	var got []string
	pg := s3sdk.NewListObjectsV2Paginator(c.s3, &s3sdk.ListObjectsV2Input{Bucket: aws.String(b)})
	pages := 0
	for pg.HasMorePages() {
		p := must(pg.NextPage(ctx))(t)
		if len(p.Contents) > 1000 {
			t.Errorf("a page of %d", len(p.Contents))
		}
		got = append(got, keysOf(p.Contents)...)
		pages++
	}
	if pages != 2 || !slices.Equal(got, want) {
		t.Errorf("%d pages, %d keys", pages, len(got))
	}
	// MaxKeys above 1,000 is 1,000.
	p := must(c.s3.ListObjectsV2(ctx, &s3sdk.ListObjectsV2Input{Bucket: aws.String(b), MaxKeys: aws.Int32(5000)}))(t)
	if len(p.Contents) != 1000 || !aws.ToBool(p.IsTruncated) {
		t.Errorf("MaxKeys 5000: %d keys", len(p.Contents))
	}
	d := must(c.s3.ListObjectsV2(ctx, &s3sdk.ListObjectsV2Input{Bucket: aws.String(b), Delimiter: aws.String("/")}))(t)
	if !slices.Equal(prefixesOf(d.CommonPrefixes), []string{"dir0/", "dir1/", "dir2/"}) || len(d.Contents) != 0 {
		t.Errorf("prefixes %q", prefixesOf(d.CommonPrefixes))
	}
}

package s3_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestBucketNames(t *testing.T) {
	c := newCloud(t)
	for _, name := range []string{"ab", strings.Repeat("a", 64), "Upper", "under_score", "-dash", "dash-", ".dot", "dot.",
		"two..dots", "dot.-dash", "192.168.5.4", "xn--punycode", "sthree-x", "amzn-s3-demo-x", "x-s3alias", "x--ol-s3", "a b"} {
		_, err := c.s3.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String(name)})
		if err == nil {
			t.Errorf("bucket %q was created", name)
			continue
		}
		if ae := wantErr(t, err, "InvalidBucketName", http.StatusBadRequest); ae.ErrorMessage() != "The specified bucket is not valid." {
			t.Errorf("%q: message %q", name, ae.ErrorMessage())
		}
	}
	for _, name := range []string{"abc", strings.Repeat("a", 63), "my.bucket-1", "0numbers9", "1.2.3.4.5"} {
		must(c.s3.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String(name)}))(t)
	}
}

func TestLocationConstraint(t *testing.T) {
	c := newCloud(t)
	eu := c.in(t, "eu-west-1")
	cfg := func(r string) *s3types.CreateBucketConfiguration {
		return &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(r)}
	}

	// us-east-1 takes no constraint; naming it is invalid.
	_, err := c.s3.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("explicit-use1"), CreateBucketConfiguration: cfg("us-east-1")})
	wantErr(t, err, "InvalidLocationConstraint", http.StatusBadRequest)
	_, err = c.s3.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("moon"), CreateBucketConfiguration: cfg("moon-west-1")})
	wantErr(t, err, "InvalidLocationConstraint", http.StatusBadRequest)

	// Another region's endpoint needs its own region named.
	_, err = eu.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("no-constraint")})
	ae := wantErr(t, err, "IllegalLocationConstraintException", http.StatusBadRequest)
	if want := "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to."; ae.ErrorMessage() != want {
		t.Errorf("message %q", ae.ErrorMessage())
	}
	_, err = eu.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("other-constraint"), CreateBucketConfiguration: cfg("us-west-2")})
	ae = wantErr(t, err, "IllegalLocationConstraintException", http.StatusBadRequest)
	if want := "The us-west-2 location constraint is incompatible for the region specific endpoint this request was sent to."; ae.ErrorMessage() != want {
		t.Errorf("message %q", ae.ErrorMessage())
	}

	// Its own region, and any region from us-east-1's endpoint.
	out := must(eu.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("in-eu"), CreateBucketConfiguration: cfg("eu-west-1")}))(t)
	if aws.ToString(out.Location) != "http://in-eu.s3.amazonaws.com/" {
		t.Errorf("Location %q", aws.ToString(out.Location))
	}
	must(c.s3.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("in-usw2"), CreateBucketConfiguration: cfg("us-west-2")}))(t)
	out = must(c.s3.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("in-use1")}))(t)
	if aws.ToString(out.Location) != "/in-use1" {
		t.Errorf("Location %q", aws.ToString(out.Location))
	}

	for name, want := range map[string]string{"in-eu": "eu-west-1", "in-usw2": "us-west-2", "in-use1": ""} {
		loc := must(c.s3.GetBucketLocation(ctx, &s3sdk.GetBucketLocationInput{Bucket: aws.String(name)}))(t)
		if string(loc.LocationConstraint) != want {
			t.Errorf("%s: LocationConstraint %q, want %q", name, loc.LocationConstraint, want)
		}
		r := want
		if r == "" {
			r = "us-east-1"
		}
		head := must(c.in(t, r).HeadBucket(ctx, &s3sdk.HeadBucketInput{Bucket: aws.String(name)}))(t)
		if got := aws.ToString(head.BucketRegion); got != r {
			t.Errorf("%s: HeadBucket region %q", name, got)
		}
	}
	// GetBucketLocation answers from any region's endpoint.
	loc := must(c.in(t, "ap-south-1").GetBucketLocation(ctx, &s3sdk.GetBucketLocationInput{Bucket: aws.String("in-eu")}))(t)
	if loc.LocationConstraint != "eu-west-1" {
		t.Errorf("LocationConstraint %q from ap-south-1", loc.LocationConstraint)
	}

	// "EU" is eu-west-1's old name.
	must(eu.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("old-eu"), CreateBucketConfiguration: cfg("EU")}))(t)
}

func TestBucketAlreadyExists(t *testing.T) {
	c := newCloud(t)
	mine := c.bucket(t, "taken")
	// us-east-1 answers 200 to its owner creating it again.
	must(c.s3.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String(mine)}))(t)

	eu := c.in(t, "eu-west-1")
	must(eu.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("taken-eu"),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}}))(t)
	_, err := eu.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("taken-eu"),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}})
	var owned *s3types.BucketAlreadyOwnedByYou
	wantErr(t, err, "BucketAlreadyOwnedByYou", http.StatusConflict)
	if !errorsAs(err, &owned) {
		t.Errorf("%v is not a BucketAlreadyOwnedByYou", err)
	}

	them := c.client(t, "AKIAOTHERACCOUNT0001", "other-secret", region, true)
	_, err = them.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String(mine)})
	var exists *s3types.BucketAlreadyExists
	wantErr(t, err, "BucketAlreadyExists", http.StatusConflict)
	if !errorsAs(err, &exists) {
		t.Errorf("%v is not a BucketAlreadyExists", err)
	}
	// Another account's bucket is theirs alone.
	_, err = them.HeadBucket(ctx, &s3sdk.HeadBucketInput{Bucket: aws.String(mine)})
	if status(err) != http.StatusForbidden {
		t.Errorf("HeadBucket of another account's bucket: %v", err)
	}
	_, err = them.ListObjectsV2(ctx, &s3sdk.ListObjectsV2Input{Bucket: aws.String(mine)})
	wantErr(t, err, "AccessDenied", http.StatusForbidden)

	list := must(them.ListBuckets(ctx, &s3sdk.ListBucketsInput{}))(t)
	if len(list.Buckets) != 0 {
		t.Errorf("the other account lists %d buckets", len(list.Buckets))
	}
	list = must(c.s3.ListBuckets(ctx, &s3sdk.ListBucketsInput{}))(t)
	var names []string
	for _, b := range list.Buckets {
		names = append(names, aws.ToString(b.Name))
		if b.CreationDate == nil {
			t.Errorf("%s has no CreationDate", aws.ToString(b.Name))
		}
	}
	if !slices.Equal(names, []string{"taken", "taken-eu"}) {
		t.Errorf("ListBuckets: %v", names)
	}
	if list.Owner == nil || len(aws.ToString(list.Owner.ID)) != 64 {
		t.Errorf("ListBuckets owner %+v", list.Owner)
	}
}

func TestHeadBucket(t *testing.T) {
	c := newCloud(t)
	eu := c.in(t, "eu-west-1")
	must(eu.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("eu-bucket"),
		CreateBucketConfiguration: &s3types.CreateBucketConfiguration{LocationConstraint: "eu-west-1"}}))(t)
	out := must(eu.HeadBucket(ctx, &s3sdk.HeadBucketInput{Bucket: aws.String("eu-bucket")}))(t)
	if aws.ToString(out.BucketRegion) != "eu-west-1" {
		t.Errorf("BucketRegion %q", aws.ToString(out.BucketRegion))
	}

	// Signed for the wrong region: 301 with the bucket's region in a
	// header, no body (HEAD).
	resp, body := c.signedRaw(t, http.MethodHead, "/eu-bucket", nil, "us-east-1")
	if resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("X-Amz-Bucket-Region") != "eu-west-1" || len(body) != 0 {
		t.Errorf("HEAD signed for us-east-1: %d %v %q", resp.StatusCode, resp.Header, body)
	}
	// Other operations answer AuthorizationHeaderMalformed naming it.
	_, err := c.s3.ListObjectsV2(ctx, &s3sdk.ListObjectsV2Input{Bucket: aws.String("eu-bucket")})
	ae := wantErr(t, err, "AuthorizationHeaderMalformed", http.StatusBadRequest)
	if !strings.Contains(ae.ErrorMessage(), "'us-east-1' is wrong; expecting 'eu-west-1'") {
		t.Errorf("message %q", ae.ErrorMessage())
	}

	_, err = c.s3.HeadBucket(ctx, &s3sdk.HeadBucketInput{Bucket: aws.String("missing-bucket")})
	var nf *s3types.NotFound
	if !errorsAs(err, &nf) || status(err) != http.StatusNotFound {
		t.Errorf("HeadBucket of a missing bucket: %v", err)
	}
}

func TestDeleteBucket(t *testing.T) {
	c := newCloud(t)
	b := c.bucket(t, "full")
	c.put(t, b, "k", "v")
	_, err := c.s3.DeleteBucket(ctx, &s3sdk.DeleteBucketInput{Bucket: aws.String(b)})
	ae := wantErr(t, err, "BucketNotEmpty", http.StatusConflict)
	if ae.ErrorMessage() != "The bucket you tried to delete is not empty" {
		t.Errorf("message %q", ae.ErrorMessage())
	}
	must(c.s3.DeleteObject(ctx, &s3sdk.DeleteObjectInput{Bucket: aws.String(b), Key: aws.String("k")}))(t)
	must(c.s3.DeleteBucket(ctx, &s3sdk.DeleteBucketInput{Bucket: aws.String(b)}))(t)
	_, err = c.s3.DeleteBucket(ctx, &s3sdk.DeleteBucketInput{Bucket: aws.String(b)})
	wantErr(t, err, "NoSuchBucket", http.StatusNotFound)

	// A versioned bucket with only a delete marker left is not empty.
	v := c.versioned(t, "versioned")
	c.put(t, v, "k", "v")
	must(c.s3.DeleteObject(ctx, &s3sdk.DeleteObjectInput{Bucket: aws.String(v), Key: aws.String("k")}))(t)
	_, err = c.s3.DeleteBucket(ctx, &s3sdk.DeleteBucketInput{Bucket: aws.String(v)})
	wantErr(t, err, "BucketNotEmpty", http.StatusConflict)

	// The name is free again for anyone.
	them := c.client(t, "AKIAOTHERACCOUNT0001", "other-secret", region, true)
	must(them.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String(b)}))(t)
}

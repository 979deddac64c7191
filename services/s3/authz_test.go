package s3

import (
	"context"
	"slices"
	"testing"

	s3api "github.com/cloudbox/cloudbox/api/s3"
)

func TestAuthorization(t *testing.T) {
	s := &Service{}
	b, k, v, src := "reports", "dir/q1.csv", "v1", "src/a%20b.txt"
	for _, c := range []struct {
		op     string
		in     any
		action string
		res    []string
	}{
		{"ListObjectsV2", &s3api.ListObjectsV2Request{Bucket: &b}, "s3:ListBucket", []string{"arn:aws:s3:::reports"}},
		{"ListObjects", &s3api.ListObjectsRequest{Bucket: &b}, "s3:ListBucket", []string{"arn:aws:s3:::reports"}},
		{"GetObject", &s3api.GetObjectRequest{Bucket: &b, Key: &k}, "s3:GetObject", []string{"arn:aws:s3:::reports/dir/q1.csv"}},
		{"GetObject", &s3api.GetObjectRequest{Bucket: &b, Key: &k, VersionId: &v}, "s3:GetObjectVersion", []string{"arn:aws:s3:::reports/dir/q1.csv"}},
		{"HeadObject", &s3api.HeadObjectRequest{Bucket: &b, Key: &k}, "s3:GetObject", []string{"arn:aws:s3:::reports/dir/q1.csv"}},
		{"PutObject", &s3api.PutObjectRequest{Bucket: &b, Key: &k}, "s3:PutObject", []string{"arn:aws:s3:::reports/dir/q1.csv"}},
		{"CopyObject", &s3api.CopyObjectRequest{Bucket: &b, Key: &k, CopySource: &src}, "s3:PutObject", []string{"arn:aws:s3:::reports/dir/q1.csv", "arn:aws:s3:::src/a b.txt"}},
		{"UploadPart", &s3api.UploadPartRequest{Bucket: &b, Key: &k}, "s3:PutObject", []string{"arn:aws:s3:::reports/dir/q1.csv"}},
		{"CompleteMultipartUpload", &s3api.CompleteMultipartUploadRequest{Bucket: &b, Key: &k}, "s3:PutObject", []string{"arn:aws:s3:::reports/dir/q1.csv"}},
		{"DeleteObject", &s3api.DeleteObjectRequest{Bucket: &b, Key: &k}, "s3:DeleteObject", []string{"arn:aws:s3:::reports/dir/q1.csv"}},
		{"DeleteObjects", &s3api.DeleteObjectsRequest{Bucket: &b, Delete: &s3api.Delete{Objects: []*s3api.ObjectIdentifier{{Key: &k}}}}, "s3:DeleteObject", []string{"arn:aws:s3:::reports/dir/q1.csv"}},
		{"ListBuckets", &s3api.ListBucketsInput{}, "s3:ListAllMyBuckets", nil},
		{"CreateBucket", &s3api.CreateBucketRequest{Bucket: &b}, "s3:CreateBucket", []string{"arn:aws:s3:::reports"}},
		{"GetBucketPolicy", &s3api.GetBucketPolicyRequest{Bucket: &b}, "s3:GetBucketPolicy", []string{"arn:aws:s3:::reports"}},
		{"PutBucketCors", &s3api.PutBucketCorsRequest{Bucket: &b}, "s3:PutBucketCORS", []string{"arn:aws:s3:::reports"}},
	} {
		acc := s.Authorization(context.Background(), c.op, c.in)
		action, res := acc[0].Action, []string(nil)
		for _, a := range acc {
			if a.Resource != "" {
				res = append(res, a.Resource)
			}
		}
		if action != c.action || !slices.Equal(res, c.res) {
			t.Errorf("%s: %s %v, want %s %v", c.op, action, res, c.action, c.res)
		}
	}
}

// The condition keys of a listing, a write and a copy, as S3's
// "Actions, resources, and condition keys" lists them.
func TestAuthorizationKeys(t *testing.T) {
	s := &Service{}
	b, k, p, d, acl, tags, src := "reports", "q.csv", "home/alice/", "/", "public-read", "team=blue&env=prod", "/src/a.txt?versionId=v9"
	var n int64 = 50
	acc := s.Authorization(context.Background(), "ListObjectsV2", &s3api.ListObjectsV2Request{Bucket: &b, Prefix: &p, Delimiter: &d, MaxKeys: &n})
	if keys := acc[0].Keys; !slices.Equal(keys["s3:prefix"], []string{p}) || !slices.Equal(keys["s3:delimiter"], []string{d}) || !slices.Equal(keys["s3:max-keys"], []string{"50"}) {
		t.Errorf("ListObjectsV2 keys %v", keys)
	}
	// The bucket's root: s3:prefix is "".
	acc = s.Authorization(context.Background(), "ListObjects", &s3api.ListObjectsRequest{Bucket: &b})
	if keys := acc[0].Keys; !slices.Equal(keys["s3:prefix"], []string{""}) {
		t.Errorf("ListObjects keys %v", keys)
	}
	acc = s.Authorization(context.Background(), "PutObject", &s3api.PutObjectRequest{Bucket: &b, Key: &k, ACL: &acl, Tagging: &tags})
	if keys := acc[0].Keys; !slices.Equal(keys["s3:x-amz-acl"], []string{acl}) || !slices.Equal(keys["s3:RequestObjectTag/team"], []string{"blue"}) ||
		!slices.Equal(keys["s3:RequestObjectTagKeys"], []string{"env", "team"}) {
		t.Errorf("PutObject keys %v", keys)
	}
	// A copy of a version reads it with s3:GetObjectVersion.
	acc = s.Authorization(context.Background(), "UploadPartCopy", &s3api.UploadPartCopyRequest{Bucket: &b, Key: &k, CopySource: &src})
	if len(acc) != 2 || acc[1].Action != "s3:GetObjectVersion" || acc[1].Resource != "arn:aws:s3:::src/a.txt" || !slices.Equal(acc[0].Keys["s3:x-amz-copy-source"], []string{src}) {
		t.Errorf("UploadPartCopy: %+v", acc)
	}
}

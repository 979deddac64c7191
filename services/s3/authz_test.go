package s3

import (
	"context"
	"slices"
	"testing"

	s3api "github.com/cloudbox/cloudbox/api/s3"
)

func TestAuthorization(t *testing.T) {
	s := &Service{}
	b, k, v := "reports", "dir/q1.csv", "v1"
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
		{"CopyObject", &s3api.CopyObjectRequest{Bucket: &b, Key: &k}, "s3:PutObject", []string{"arn:aws:s3:::reports/dir/q1.csv"}},
		{"UploadPart", &s3api.UploadPartRequest{Bucket: &b, Key: &k}, "s3:PutObject", []string{"arn:aws:s3:::reports/dir/q1.csv"}},
		{"CompleteMultipartUpload", &s3api.CompleteMultipartUploadRequest{Bucket: &b, Key: &k}, "s3:PutObject", []string{"arn:aws:s3:::reports/dir/q1.csv"}},
		{"DeleteObject", &s3api.DeleteObjectRequest{Bucket: &b, Key: &k}, "s3:DeleteObject", []string{"arn:aws:s3:::reports/dir/q1.csv"}},
		{"DeleteObjects", &s3api.DeleteObjectsRequest{Bucket: &b, Delete: &s3api.Delete{Objects: []*s3api.ObjectIdentifier{{Key: &k}}}}, "s3:DeleteObject", []string{"arn:aws:s3:::reports/dir/q1.csv"}},
		{"ListBuckets", &s3api.ListBucketsInput{}, "s3:ListAllMyBuckets", nil},
		{"CreateBucket", &s3api.CreateBucketRequest{Bucket: &b}, "s3:CreateBucket", []string{"arn:aws:s3:::reports"}},
		{"GetBucketPolicy", &s3api.GetBucketPolicyRequest{Bucket: &b}, "s3:GetBucketPolicy", []string{"arn:aws:s3:::reports"}},
		{"PutBucketCors", &s3api.PutBucketCorsRequest{Bucket: &b}, "s3:PutBucketCORS", []string{"arn:aws:s3:::reports"}},
	} {
		action, res := s.Authorization(context.Background(), c.op, c.in)
		if action != c.action || !slices.Equal(res, c.res) {
			t.Errorf("%s: %s %v, want %s %v", c.op, action, res, c.action, c.res)
		}
	}
}

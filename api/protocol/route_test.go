package protocol

import (
	"net/http/httptest"
	"testing"

	s3api "github.com/cloudbox/cloudbox/api/s3"
)

// S3's operations that share a method and URI are told apart by the
// query members and headers they require, and the current operation wins
// over a deprecated one.
func TestS3Routes(t *testing.T) {
	cases := []struct {
		method, target string
		header         string
		want           string
	}{
		{"GET", "/", "", "ListBuckets"},
		{"PUT", "/b", "", "CreateBucket"},
		{"GET", "/b", "", "ListObjects"},
		{"GET", "/b?list-type=2&prefix=a", "", "ListObjectsV2"},
		{"GET", "/b?versions", "", "ListObjectVersions"},
		{"GET", "/b?uploads", "", "ListMultipartUploads"},
		{"POST", "/b?delete", "", "DeleteObjects"},
		{"GET", "/b?lifecycle", "", "GetBucketLifecycleConfiguration"},
		{"PUT", "/b?lifecycle", "", "PutBucketLifecycleConfiguration"},
		{"GET", "/b?notification", "", "GetBucketNotificationConfiguration"},
		{"GET", "/b?inventory", "", "ListBucketInventoryConfigurations"},
		{"GET", "/b?inventory&id=x", "", "GetBucketInventoryConfiguration"},
		{"PUT", "/b/k", "", "PutObject"},
		{"PUT", "/b/dir/k", "x-amz-copy-source", "CopyObject"},
		{"PUT", "/b/k?partNumber=1&uploadId=u", "", "UploadPart"},
		{"PUT", "/b/k?partNumber=1&uploadId=u", "x-amz-copy-source", "UploadPartCopy"},
		{"GET", "/b/k", "", "GetObject"},
		{"GET", "/b/k?uploadId=u", "", "ListParts"},
		{"GET", "/b/k?tagging", "", "GetObjectTagging"},
		{"DELETE", "/b/k", "", "DeleteObject"},
		{"DELETE", "/b/k?uploadId=u", "", "AbortMultipartUpload"},
		{"POST", "/b/k?uploads", "", "CreateMultipartUpload"},
		{"POST", "/b/k?uploadId=u", "", "CompleteMultipartUpload"},
		{"HEAD", "/b/k", "", "HeadObject"},
		{"HEAD", "/b", "", "HeadBucket"},
	}
	for _, c := range cases {
		r := httptest.NewRequest(c.method, c.target, nil)
		if c.header != "" {
			r.Header.Set(c.header, "src/key")
		}
		op, err := restCodec{}.Operation(r, nil, s3api.Service)
		if err != nil {
			t.Errorf("%s %s: %v", c.method, c.target, err)
			continue
		}
		if op.Name != c.want {
			t.Errorf("%s %s (%s): %s, want %s", c.method, c.target, c.header, op.Name, c.want)
		}
	}
}

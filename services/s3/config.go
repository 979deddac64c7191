package s3

import (
	s3api "github.com/cloudbox/cloudbox/api/s3"
)

// bucketConfig is what a bucket is configured with besides versioning:
// its subresources, as their operations store and return them.
type bucketConfig struct {
	// ACL is the canned ACL the bucket was created or last set with.
	ACL string `json:",omitempty"`
	// Ownership is the object ownership setting (BucketOwnerEnforced
	// unless the bucket was created with another).
	Ownership string `json:",omitempty"`
	// Website is the static website configuration, nil for none.
	Website *s3api.WebsiteConfiguration `json:",omitempty"`
	// CORS is the CORS configuration, nil for none.
	CORS *s3api.CORSConfiguration `json:",omitempty"`
}

// newBucketConfig is a new bucket's configuration, as CreateBucket's
// headers ask and S3's defaults for new buckets have it.
func newBucketConfig(in *s3api.CreateBucketRequest) bucketConfig {
	c := bucketConfig{ACL: "private", Ownership: "BucketOwnerEnforced"}
	if in.ACL != nil {
		c.ACL = *in.ACL
	}
	if in.ObjectOwnership != nil {
		c.Ownership = *in.ObjectOwnership
	}
	return c
}

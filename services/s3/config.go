package s3

import (
	s3api "github.com/cloudbox/cloudbox/api/s3"
)

// bucketConfig is what a bucket is configured with besides versioning:
// its subresources, as their operations store and return them. Each has
// its own file (config_<subresource>.go); a nil or empty member is one the
// bucket does not have.
type bucketConfig struct {
	// ACL is the canned ACL the bucket was created or last set with, ""
	// when Grants hold an ACL given grant by grant (config_acl.go).
	ACL    string  `json:",omitempty"`
	Grants []grant `json:",omitempty"`
	// Ownership is the object ownership setting (BucketOwnerEnforced
	// unless the bucket was created with another); "" once its ownership
	// controls are deleted, which S3 treats as ObjectWriter.
	Ownership string `json:",omitempty"`
	// Website is the static website configuration, nil for none.
	Website *s3api.WebsiteConfiguration `json:",omitempty"`
	// CORS is the CORS configuration, nil for none.
	CORS *s3api.CORSConfiguration `json:",omitempty"`
	// Policy is the bucket policy document as it was put.
	Policy string `json:",omitempty"`
	// PublicAccessBlock is the bucket's Block Public Access settings.
	PublicAccessBlock *s3api.PublicAccessBlockConfiguration `json:",omitempty"`
	Lifecycle         *s3api.BucketLifecycleConfiguration   `json:",omitempty"`
	// Encryption is the default encryption put on the bucket; nil is
	// S3's default, SSE-S3.
	Encryption   *s3api.ServerSideEncryptionConfiguration `json:",omitempty"`
	Notification *s3api.NotificationConfiguration         `json:",omitempty"`
	// Accelerate is Transfer Acceleration's status: "", Enabled or
	// Suspended.
	Accelerate string `json:",omitempty"`
	// RequestPayer is "Requester" when requesters pay; "" is the owner.
	RequestPayer string                          `json:",omitempty"`
	Logging      *s3api.LoggingEnabled           `json:",omitempty"`
	Replication  *s3api.ReplicationConfiguration `json:",omitempty"`
}

// newBucketConfig is a new bucket's configuration, as CreateBucket's
// headers ask and S3's defaults for new buckets have it: since April 2023
// ACLs are disabled (BucketOwnerEnforced) and Block Public Access is on.
func newBucketConfig(in *s3api.CreateBucketRequest) bucketConfig {
	c := bucketConfig{ACL: "private", Ownership: "BucketOwnerEnforced", PublicAccessBlock: &s3api.PublicAccessBlockConfiguration{
		BlockPublicAcls: boolp(true), IgnorePublicAcls: boolp(true), BlockPublicPolicy: boolp(true), RestrictPublicBuckets: boolp(true),
	}}
	if in.ACL != nil {
		c.ACL = *in.ACL
	}
	if in.ObjectOwnership != nil {
		c.Ownership = *in.ObjectOwnership
	}
	return c
}

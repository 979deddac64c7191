package s3

import (
	"context"
	"reflect"
	"strings"

	s3api "github.com/cloudbox/cloudbox/api/s3"
)

// s3Actions are the IAM actions of the operations whose action is not
// "s3:<Operation>", as AWS's "Actions, resources, and condition keys for
// Amazon S3" lists them. Operations not here authorize as s3:<Operation>.
var s3Actions = map[string]string{
	"ListObjects":                                 "ListBucket",
	"ListObjectsV2":                               "ListBucket",
	"HeadBucket":                                  "ListBucket",
	"ListObjectVersions":                          "ListBucketVersions",
	"ListMultipartUploads":                        "ListBucketMultipartUploads",
	"ListParts":                                   "ListMultipartUploadParts",
	"ListBuckets":                                 "ListAllMyBuckets",
	"ListDirectoryBuckets":                        "ListAllMyDirectoryBuckets",
	"HeadObject":                                  "GetObject",
	"GetObjectAttributes":                         "GetObject",
	"SelectObjectContent":                         "GetObject",
	"PutObject":                                   "PutObject",
	"CopyObject":                                  "PutObject",
	"UploadPart":                                  "PutObject",
	"UploadPartCopy":                              "PutObject",
	"CreateMultipartUpload":                       "PutObject",
	"CompleteMultipartUpload":                     "PutObject",
	"DeleteObjects":                               "DeleteObject",
	"GetBucketCors":                               "GetBucketCORS",
	"PutBucketCors":                               "PutBucketCORS",
	"DeleteBucketCors":                            "PutBucketCORS",
	"GetBucketLifecycle":                          "GetLifecycleConfiguration",
	"GetBucketLifecycleConfiguration":             "GetLifecycleConfiguration",
	"PutBucketLifecycle":                          "PutLifecycleConfiguration",
	"PutBucketLifecycleConfiguration":             "PutLifecycleConfiguration",
	"DeleteBucketLifecycle":                       "PutLifecycleConfiguration",
	"GetBucketEncryption":                         "GetEncryptionConfiguration",
	"PutBucketEncryption":                         "PutEncryptionConfiguration",
	"DeleteBucketEncryption":                      "PutEncryptionConfiguration",
	"DeleteBucketTagging":                         "PutBucketTagging",
	"GetBucketNotificationConfiguration":          "GetBucketNotification",
	"PutBucketNotificationConfiguration":          "PutBucketNotification",
	"GetBucketReplication":                        "GetReplicationConfiguration",
	"PutBucketReplication":                        "PutReplicationConfiguration",
	"DeleteBucketReplication":                     "PutReplicationConfiguration",
	"GetPublicAccessBlock":                        "GetBucketPublicAccessBlock",
	"PutPublicAccessBlock":                        "PutBucketPublicAccessBlock",
	"DeletePublicAccessBlock":                     "PutBucketPublicAccessBlock",
	"DeleteBucketOwnershipControls":               "PutBucketOwnershipControls",
	"GetBucketAccelerateConfiguration":            "GetAccelerateConfiguration",
	"PutBucketAccelerateConfiguration":            "PutAccelerateConfiguration",
	"GetObjectLockConfiguration":                  "GetBucketObjectLockConfiguration",
	"PutObjectLockConfiguration":                  "PutBucketObjectLockConfiguration",
	"DeleteBucketWebsite":                         "DeleteBucketWebsite",
	"GetBucketAnalyticsConfiguration":             "GetAnalyticsConfiguration",
	"PutBucketAnalyticsConfiguration":             "PutAnalyticsConfiguration",
	"DeleteBucketAnalyticsConfiguration":          "PutAnalyticsConfiguration",
	"ListBucketAnalyticsConfigurations":           "GetAnalyticsConfiguration",
	"GetBucketInventoryConfiguration":             "GetInventoryConfiguration",
	"PutBucketInventoryConfiguration":             "PutInventoryConfiguration",
	"DeleteBucketInventoryConfiguration":          "PutInventoryConfiguration",
	"ListBucketInventoryConfigurations":           "GetInventoryConfiguration",
	"GetBucketMetricsConfiguration":               "GetMetricsConfiguration",
	"PutBucketMetricsConfiguration":               "PutMetricsConfiguration",
	"DeleteBucketMetricsConfiguration":            "PutMetricsConfiguration",
	"ListBucketMetricsConfigurations":             "GetMetricsConfiguration",
	"GetBucketIntelligentTieringConfiguration":    "GetIntelligentTieringConfiguration",
	"PutBucketIntelligentTieringConfiguration":    "PutIntelligentTieringConfiguration",
	"DeleteBucketIntelligentTieringConfiguration": "PutIntelligentTieringConfiguration",
	"ListBucketIntelligentTieringConfigurations":  "GetIntelligentTieringConfiguration",
	"GetObjectTorrent":                            "GetObjectTorrent",
	"WriteGetObjectResponse":                      "WriteGetObjectResponse",
}

// s3NoResource are the operations on no bucket: their resource is "*".
var s3NoResource = map[string]bool{"ListBuckets": true, "ListDirectoryBuckets": true, "WriteGetObjectResponse": true}

// Authorization is the IAM action and resources of an S3 call, for the
// authorizer (cloudbox up --iam): the bucket's ARN for operations on a
// bucket, the object's for operations on an object (CopyObject's
// destination), every key's for DeleteObjects. A GetObject or HeadObject
// of a version is s3:GetObjectVersion, a DeleteObject of one
// s3:DeleteObjectVersion.
func (s *Service) Authorization(_ context.Context, op string, in any) (string, []string) {
	action := op
	if a, ok := s3Actions[op]; ok {
		action = a
	}
	if s3NoResource[op] {
		return "s3:" + action, nil
	}
	bucket, key, version := s3Target(in)
	if bucket == "" {
		return "s3:" + action, nil
	}
	res := "arn:aws:s3:::" + bucket
	if d, ok := in.(*s3api.DeleteObjectsRequest); ok && d.Delete != nil {
		var out []string
		for _, o := range d.Delete.Objects {
			if o != nil && o.Key != nil {
				out = append(out, res+"/"+*o.Key)
			}
		}
		if len(out) == 0 {
			out = []string{res + "/*"}
		}
		return "s3:" + action, out
	}
	if key == "" || strings.HasPrefix(op, "ListObject") || op == "ListMultipartUploads" {
		return "s3:" + action, []string{res}
	}
	if version != "" {
		switch action {
		case "GetObject", "DeleteObject", "GetObjectAcl", "PutObjectAcl", "GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging":
			action += "Version"
		}
	}
	return "s3:" + action, []string{res + "/" + key}
}

// s3Target reads the Bucket, Key and VersionId members of an input.
func s3Target(in any) (bucket, key, version string) {
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return "", "", ""
	}
	v = v.Elem()
	str := func(name string) string {
		f := v.FieldByName(name)
		if f.IsValid() && f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().Kind() == reflect.String {
			return f.Elem().String()
		}
		return ""
	}
	return str("Bucket"), str("Key"), str("VersionId")
}

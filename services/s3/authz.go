package s3

import (
	"context"
	"net/url"
	"reflect"
	"sort"
	"strconv"
	"strings"

	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/authz"
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

// Authorization is the accesses of an S3 call, for the authorizer
// (cloudbox up --iam): the action on the bucket's ARN for operations on
// a bucket, on the object's for operations on an object, on every key's
// for DeleteObjects. A GetObject or HeadObject of a version is
// s3:GetObjectVersion, a DeleteObject of one s3:DeleteObjectVersion.
// CopyObject and UploadPartCopy also read their source (s3:GetObject on
// it). The condition keys are those the request carries: s3:prefix,
// s3:delimiter and s3:max-keys of a listing, the x-amz-* headers of a
// write (s3:x-amz-acl...), the tags it sets (s3:RequestObjectTag/).
func (s *Service) Authorization(_ context.Context, op string, in any) []authz.Access {
	action := op
	if a, ok := s3Actions[op]; ok {
		action = a
	}
	if s3NoResource[op] {
		return []authz.Access{{Action: "s3:" + action}}
	}
	bucket, key, version := s3Target(in)
	if bucket == "" {
		return []authz.Access{{Action: "s3:" + action}}
	}
	keys := s3Keys(in)
	res := "arn:aws:s3:::" + bucket
	if d, ok := in.(*s3api.DeleteObjectsRequest); ok && d.Delete != nil {
		var out []authz.Access
		for _, o := range d.Delete.Objects {
			if o != nil && o.Key != nil {
				out = append(out, authz.Access{Action: "s3:" + action, Resource: res + "/" + *o.Key})
			}
		}
		if len(out) == 0 {
			out = []authz.Access{{Action: "s3:" + action, Resource: res + "/*"}}
		}
		return out
	}
	if key == "" || strings.HasPrefix(op, "ListObject") || op == "ListMultipartUploads" {
		return []authz.Access{{Action: "s3:" + action, Resource: res, Keys: keys}}
	}
	if version != "" {
		switch action {
		case "GetObject", "DeleteObject", "GetObjectAcl", "PutObjectAcl", "GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging":
			action += "Version"
		}
	}
	out := []authz.Access{{Action: "s3:" + action, Resource: res + "/" + key, Keys: keys}}
	if op == "CopyObject" || op == "UploadPartCopy" {
		if src, ok := copySourceOf(in); ok {
			read := "s3:GetObject"
			if src.versionID != "" {
				read = "s3:GetObjectVersion"
			}
			out = append(out, authz.Access{Action: read, Resource: "arn:aws:s3:::" + src.bucket + "/" + src.key})
		}
	}
	return out
}

// s3Members are the condition keys S3 documents for request members
// (x-amz-* headers, a listing's delimiter), by input member.
var s3Members = map[string]string{
	"ACL":                  "s3:x-amz-acl",
	"CopySource":           "s3:x-amz-copy-source",
	"MetadataDirective":    "s3:x-amz-metadata-directive",
	"ServerSideEncryption": "s3:x-amz-server-side-encryption",
	"StorageClass":         "s3:x-amz-storage-class",
	"GrantRead":            "s3:x-amz-grant-read",
	"GrantWrite":           "s3:x-amz-grant-write",
	"GrantReadACP":         "s3:x-amz-grant-read-acp",
	"GrantWriteACP":        "s3:x-amz-grant-write-acp",
	"GrantFullControl":     "s3:x-amz-grant-full-control",
	"Delimiter":            "s3:delimiter",
}

// s3Keys are the S3 condition keys an input carries. A listing without
// a prefix has s3:prefix "" (AWS's examples allow the bucket's root
// listing with "s3:prefix": [""]).
func s3Keys(in any) map[string][]string {
	v := reflect.ValueOf(in)
	if v.Kind() != reflect.Pointer || v.IsNil() || v.Elem().Kind() != reflect.Struct {
		return nil
	}
	v = v.Elem()
	keys := map[string][]string{}
	str := func(name string) (string, bool) {
		f := v.FieldByName(name)
		if f.IsValid() && f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().Kind() == reflect.String {
			return f.Elem().String(), true
		}
		return "", false
	}
	for member, key := range s3Members {
		if s, ok := str(member); ok {
			keys[key] = []string{s}
		}
	}
	if f := v.FieldByName("Prefix"); f.IsValid() && f.Type() == reflect.TypeFor[*string]() {
		p, _ := str("Prefix")
		keys["s3:prefix"] = []string{p}
	}
	if f := v.FieldByName("MaxKeys"); f.IsValid() && f.Kind() == reflect.Pointer && !f.IsNil() && f.Elem().Kind() == reflect.Int64 {
		keys["s3:max-keys"] = []string{strconv.FormatInt(f.Elem().Int(), 10)}
	}
	if t, ok := str("Tagging"); ok {
		if q, err := url.ParseQuery(t); err == nil && len(q) > 0 {
			var names []string
			for k, vs := range q {
				names = append(names, k)
				keys["s3:RequestObjectTag/"+k] = vs
			}
			sort.Strings(names)
			keys["s3:RequestObjectTagKeys"] = names
		}
	}
	if len(keys) == 0 {
		return nil
	}
	return keys
}

// copySourceOf is the object a copy reads.
func copySourceOf(in any) (copySource, bool) {
	var h *string
	switch r := in.(type) {
	case *s3api.CopyObjectRequest:
		h = r.CopySource
	case *s3api.UploadPartCopyRequest:
		h = r.CopySource
	}
	if h == nil {
		return copySource{}, false
	}
	cs, err := parseCopySource(*h)
	return cs, err == nil
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

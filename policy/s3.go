package policy

import "strings"

// s3Target is what an S3 action acts on, as the Service Authorization
// Reference lists its resource types: S3 rejects a bucket policy statement
// whose action applies to none of its resources.
type s3Target uint8

const (
	s3Object s3Target = iota // arn:aws:s3:::bucket/key
	s3Bucket                 // arn:aws:s3:::bucket
	s3Other                  // the account, access points, jobs, Storage Lens
)

// s3Actions are S3's IAM actions (lowercased, without "s3:").
var s3Actions = func() map[string]s3Target {
	m := map[string]s3Target{}
	add := func(t s3Target, names ...string) {
		for _, n := range names {
			m[strings.ToLower(n)] = t
		}
	}
	add(s3Object,
		"AbortMultipartUpload", "BypassGovernanceRetention", "DeleteObject", "DeleteObjectTagging",
		"DeleteObjectVersion", "DeleteObjectVersionTagging", "GetObject", "GetObjectAcl",
		"GetObjectAttributes", "GetObjectLegalHold", "GetObjectRetention", "GetObjectTagging",
		"GetObjectTorrent", "GetObjectVersion", "GetObjectVersionAcl", "GetObjectVersionAttributes",
		"GetObjectVersionForReplication", "GetObjectVersionTagging", "GetObjectVersionTorrent",
		"InitiateReplication", "ListMultipartUploadParts", "ObjectOwnerOverrideToBucketOwner",
		"PutObject", "PutObjectAcl", "PutObjectLegalHold", "PutObjectRetention", "PutObjectTagging",
		"PutObjectVersionAcl", "PutObjectVersionTagging", "ReplicateDelete", "ReplicateObject",
		"ReplicateTags", "RestoreObject")
	add(s3Bucket,
		"CreateBucket", "DeleteBucket", "DeleteBucketOwnershipControls", "DeleteBucketPolicy",
		"DeleteBucketWebsite", "GetAccelerateConfiguration", "GetAnalyticsConfiguration",
		"GetBucketAcl", "GetBucketCORS", "GetBucketLocation", "GetBucketLogging",
		"GetBucketNotification", "GetBucketObjectLockConfiguration", "GetBucketOwnershipControls",
		"GetBucketPolicy", "GetBucketPolicyStatus", "GetBucketPublicAccessBlock",
		"GetBucketRequestPayment", "GetBucketTagging", "GetBucketVersioning", "GetBucketWebsite",
		"GetEncryptionConfiguration", "GetIntelligentTieringConfiguration",
		"GetInventoryConfiguration", "GetLifecycleConfiguration", "GetMetricsConfiguration",
		"GetReplicationConfiguration", "ListBucket", "ListBucketMultipartUploads",
		"ListBucketVersions", "PutAccelerateConfiguration", "PutAnalyticsConfiguration",
		"PutBucketAcl", "PutBucketCORS", "PutBucketLogging", "PutBucketNotification",
		"PutBucketObjectLockConfiguration", "PutBucketOwnershipControls", "PutBucketPolicy",
		"PutBucketPublicAccessBlock", "PutBucketRequestPayment", "PutBucketTagging",
		"PutBucketVersioning", "PutBucketWebsite", "PutEncryptionConfiguration",
		"PutIntelligentTieringConfiguration", "PutInventoryConfiguration",
		"PutLifecycleConfiguration", "PutMetricsConfiguration", "PutReplicationConfiguration")
	add(s3Other,
		"CreateAccessPoint", "CreateJob", "DeleteAccessPoint", "DeleteAccessPointPolicy",
		"DescribeJob", "GetAccessPoint", "GetAccessPointPolicy", "GetAccessPointPolicyStatus",
		"GetAccountPublicAccessBlock", "GetStorageLensConfiguration", "ListAccessPoints",
		"ListAllMyBuckets", "ListJobs", "ListStorageLensConfigurations", "PutAccessPointPolicy",
		"PutAccountPublicAccessBlock", "PutStorageLensConfiguration", "UpdateJobPriority",
		"UpdateJobStatus")
	return m
}()

// s3Matches calls f with the target of every S3 action a lowercased
// pattern (s3:get*, *) matches, until f returns true.
func s3Matches(pattern string, f func(s3Target) bool) bool {
	g := compileGlob(pattern, false)
	for name, t := range s3Actions {
		if g.match("s3:"+name, nil) && f(t) {
			return true
		}
	}
	return false
}

// validS3Action accepts an action of a bucket policy: an S3 action, or a
// pattern that matches one.
func validS3Action(a string) bool {
	a = strings.ToLower(a)
	if !strings.HasPrefix(a, "s3:") {
		return false
	}
	return s3Matches(a, func(s3Target) bool { return true })
}

// bucketResource accepts a resource of a bucket policy: the bucket's ARN
// or its objects' (arn:aws:s3:::bucket, arn:aws:s3:::bucket/*), the bucket
// name possibly a pattern that matches the policy's bucket.
func (v *validator) bucketResource(r string) bool {
	f := strings.SplitN(r, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[1] == "" || f[2] != "s3" || f[3] != "" || f[4] != "" || f[5] == "" {
		return false
	}
	name, _, _ := strings.Cut(f[5], "/")
	if name == "" {
		return false
	}
	if v.bucket == "" {
		return true
	}
	g := compileGlob(name, false)
	return g.match(v.bucket, nil)
}

// checkBucketActions fails a statement with an action that applies to
// none of its resources (s3:GetObject on the bucket alone).
func checkBucketActions(s *Statement) error {
	var objects, buckets bool
	for _, r := range s.Resource {
		res := strings.SplitN(r, ":", 6)[5]
		name, _, hasKey := strings.Cut(res, "/")
		if hasKey {
			objects = true
			continue
		}
		buckets = true
		// A trailing * ranges over "/": arn:aws:s3:::bucket* also covers
		// the bucket's objects.
		objects = objects || strings.HasSuffix(name, "*")
	}
	for _, a := range s.Action {
		applies := s3Matches(strings.ToLower(a), func(t s3Target) bool {
			return t == s3Object && objects || t == s3Bucket && buckets
		})
		if !applies {
			return malformed(Bucket, s3ActionResource)
		}
	}
	return nil
}

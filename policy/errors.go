package policy

import (
	"fmt"
	"net/http"

	"github.com/cloudbox/cloudbox/api"
)

// IAM's MalformedPolicyDocument messages, as the IAM and STS APIs return
// them.
const (
	msgSyntax          = "Syntax errors in policy."
	msgVersion         = "Policy document must be version 2012-10-17 or greater."
	msgLegacy          = "The policy failed legacy parsing"
	msgNoPrincipal     = "Policy document should not specify a principal."
	msgProhibited      = "Has prohibited field %s"
	msgMissing         = "Missing required field %s"
	msgResources       = "Policy statement must contain resources."
	msgActions         = "Policy statement must contain actions."
	msgVendor          = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."
	msgColon           = "Actions/Condition can contain only one colon."
	msgVendorWildcard  = "Action vendors (e.g., aws, ec2, etc.) must not contain wildcards"
	msgResourceARN     = "Resource %s must be in ARN format or \"*\"."
	msgResourceVendor  = "Resource vendor must be fully qualified and cannot contain regexes."
	msgIAMRegion       = "IAM resource %s cannot contain region information."
	msgPrincipal       = "Invalid principal in policy: \"%s\":\"%s\""
	msgNoPrincipals    = "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: The passed in policy has a statement with no principals!"
	msgAssumeRole      = "AssumeRole policy may only specify STS AssumeRole actions."
	msgSidUnique       = "Statement IDs (SID) in a single policy must be unique."
	msgSidAlphanumeric = "Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*"
)

// S3's MalformedPolicy messages for PutBucketPolicy.
const (
	s3FirstByte        = "Policies must be valid JSON and the first byte must be '{'"
	s3InvalidJSON      = "This policy contains invalid Json"
	s3MissingStatement = "Missing required field Statement"
	s3EmptyStatement   = "Could not parse the policy: Statement is empty!"
	s3Version          = "The policy must contain a valid version string"
	s3Syntax           = "Invalid policy syntax."
	s3Effect           = "Invalid effect: %s"
	s3Missing          = "Missing required field %s"
	s3MissingElement   = "Statement is missing required element"
	s3Principal        = "Invalid principal in policy"
	s3Action           = "Policy has invalid action"
	s3Resource         = "Policy has invalid resource"
	s3ConditionKey     = "Policy has an invalid condition key"
	s3ActionResource   = "Action does not apply to any resource(s) in statement"
	s3TooLarge         = "Policy exceeds the maximum allowed document size."
)

// malformed is the error a document of the kind fails validation with.
func malformed(kind Kind, format string, args ...any) error {
	code := "MalformedPolicyDocument"
	if kind == Bucket {
		code = "MalformedPolicy"
	}
	return &api.Error{Code: code, Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

// limitExceeded is IAM's LimitExceeded (HTTP 409).
func limitExceeded(format string, args ...any) error {
	return api.NewError(http.StatusConflict, "LimitExceeded", format, args...)
}

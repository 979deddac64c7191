// Package policy is cloudbox's IAM policy language: documents parsed and
// validated with the errors AWS returns for them, and requests evaluated
// as AWS's "Policy evaluation logic" documents.
//
// # Parsing
//
// Parse(kind, document) validates a document for what it is (Kind): a
// managed policy or permissions boundary, a user's, group's or role's
// inline policy, a role's trust policy, a session policy, an S3 bucket
// policy (ParseBucket also checks the resources name the bucket) or
// another service's resource-based policy. Failures are *api.Error as the
// services answer: IAM's and STS's MalformedPolicyDocument ("Syntax errors
// in policy.", "Policy document must be version 2012-10-17 or greater.",
// "Policy statement must contain resources.", "Invalid principal in
// policy: \"AWS\":\"...\""...), S3's MalformedPolicy ("Policy has invalid
// resource", "Action does not apply to any resource(s) in statement"...),
// IAM's LimitExceeded over a managed or trust policy's quota. The flexible
// forms are accepted: Statement as one object or a list, one value or a
// list for Action, Resource, principals and condition values, condition
// values as strings, numbers or booleans, Principal "*". Inline policies'
// quota counts all of an entity's inline policies: CheckInlineSize; names
// of users and roles that must exist: (*Policy).CheckPrincipals. A parsed
// Policy is immutable: parse once, evaluate many times.
//
// # Evaluating
//
// Evaluate(request, set) decides one request (who, which action, which
// resource and its account, the condition keys) against the policies that
// apply (Set: identity-based policies, permissions boundary, session
// policies, the resource's policy):
//
//   - an explicit Deny in any of them wins;
//   - the root user may do anything in its own account;
//   - within an account, an Allow in the identity-based policies (also
//     allowed by the boundary and the session policies, if any; a
//     federated user needs its session policy) or in the resource policy
//     allows. A resource policy naming the caller itself (an IAM user, a
//     role session, a federated user, "*", a service) allows on its own;
//     naming a session's role, or the IAM user a federated user came
//     from, it allows within the boundary and session policies; naming
//     the account, it leaves the decision to the account's identity-based
//     policies;
//   - across accounts both sides must allow: the caller's identity-based
//     side and the resource policy. A role's trust policy must allow even
//     within its account.
//
// The Decision says the outcome (Allowed, ExplicitDeny, ImplicitDeny),
// the policy type that decided it and the deciding statements (policy
// Name, Sid, index), for audit logs; Reason gives the end of AWS's
// AccessDenied message ("because no identity-based policy allows the
// s3:PutObject action").
//
// Matching follows the documentation: actions case-insensitively with *
// and ?; resources field by field (wildcards stay within the partition,
// service, region and account, and range over the resource part); "*" as
// the only pattern matching the "*" resource of actions on no resource;
// principals by account (id or root ARN), user, role (its sessions),
// session, federated user, unique id, service, identity provider, "*";
// NotAction, NotResource, NotPrincipal. Policy variables (2012-10-17
// only) in resources and in string, ARN and Bool conditions: any
// single-valued key, ${key, 'default'}, ${*}, ${?}, ${$}; a variable
// without a value matches nothing. Conditions: every String, Numeric,
// Date (ISO 8601 or epoch), Bool, BinaryEquals, IpAddress/NotIpAddress
// (IPv4, IPv6, CIDR), Arn and Null operator, ...IfExists,
// ForAllValues:/ForAnyValue: with their documented behaviour on missing
// and empty keys (ForAllValues true, ForAnyValue false), negated
// operators true on a missing key. Keys derived from the principal
// (aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, aws:userid,
// aws:username, aws:PrincipalTag/*, aws:PrincipalIsAWSService,
// aws:PrincipalServiceName), from the request (aws:CurrentTime,
// aws:EpochTime, aws:ResourceAccount); every other key (aws:SourceIp,
// aws:SecureTransport, aws:RequestedRegion, aws:MultiFactorAuthPresent,
// aws:TokenIssueTime, aws:ResourceTag/*, aws:RequestTag/*, aws:TagKeys,
// s3:prefix, ec2:ResourceTag/*...) is what the caller puts in the
// request's Context. Key names are case-insensitive, tag keys included.
//
// # Differences from AWS
//
//   - Organizations SCPs and RCPs, VPC endpoint policies, ACLs and KMS
//     grants are not evaluated; nor is session-tag transitivity: the
//     caller gives the session's tags in Principal.Tags.
//   - Actions are not checked against services' action lists (IAM
//     accepts unknown actions too), except in S3 bucket policies, whose
//     actions are S3's; condition keys are not checked against the
//     actions and resources they apply to ("Conditions do not apply to
//     combination of actions and resources in statement" is never
//     returned).
//   - A CanonicalUser principal is accepted in bucket policies but never
//     matches a request: cloudbox has no canonical user ids.
//   - Where no report of AWS's text for a fault could be found, the
//     nearest known one is used: "Syntax errors in policy." for unknown
//     elements, duplicate keys, a missing Effect or an unknown Version or
//     condition operator; S3's "Policy exceeds the maximum allowed
//     document size." for a bucket policy over 20 KB (counted, as IAM
//     counts, without white space).
//   - aws:PrincipalType is "Service" for service principals and
//     "WebIdentityUser" for OIDC and SAML users; AWS documents neither.
//     Numbers compare as float64.
//   - A NotPrincipal element exempts a caller only when it lists every
//     identity the caller acts as (account, role or user, session), the
//     safe reading of AWS's "might validate the account first"; a Deny
//     with NotPrincipal applies to any principal with a permissions
//     boundary, as AWS documents.
package policy

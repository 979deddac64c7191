package policy

import (
	"fmt"
	"strings"
	"unicode"
)

// Quotas of policy sizes, in characters without white space. A session
// policy's 2,048 characters are a length constraint of the STS API, which
// the API's validation enforces.
const (
	ManagedPolicySize = 6144
	UserInlineSize    = 2048 // all of a user's inline policies together
	GroupInlineSize   = 5120
	RoleInlineSize    = 10240
	TrustPolicySize   = 2048
	BucketPolicySize  = 20 * 1024
)

// Size is a document's size as AWS counts it against policy quotas: its
// characters, white space excepted.
func Size(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
}

// CheckInlineSize returns IAM's LimitExceeded when the inline policies of
// a user, group or role (kind UserInline, GroupInline or RoleInline), of
// total Size together, pass the entity's quota; entity is its name.
func CheckInlineSize(kind Kind, entity string, total int) error {
	var limit int
	var what string
	switch kind {
	case UserInline:
		limit, what = UserInlineSize, "user"
	case GroupInline:
		limit, what = GroupInlineSize, "group"
	case RoleInline:
		limit, what = RoleInlineSize, "role"
	default:
		return nil
	}
	if total > limit {
		return limitExceeded("Maximum policy size of %d bytes exceeded for %s %s", limit, what, entity)
	}
	return nil
}

// CheckPrincipals fails as IAM and S3 do when a resource policy names an
// IAM user or role that does not exist: they store such principals as the
// entity's unique id, so a missing one is an invalid principal. exists
// reports whether the user or role, an ARN or a unique id (AIDA...,
// AROA...), exists.
func (p *Policy) CheckPrincipals(exists func(arn string) bool) error {
	for i := range p.Statements {
		s := &p.Statements[i]
		for _, ps := range []*Principals{s.Principal, s.NotPrincipal} {
			if ps == nil {
				continue
			}
			for _, a := range ps.AWS {
				if (isEntityARN(a) || uniqueID(a)) && !exists(a) {
					if p.Kind == Bucket {
						return malformed(Bucket, s3Principal)
					}
					return malformed(p.Kind, msgPrincipal, "AWS", a)
				}
			}
		}
	}
	return nil
}

// isEntityARN reports whether a principal is an IAM user's or role's ARN.
func isEntityARN(s string) bool {
	f := strings.SplitN(s, ":", 6)
	return len(f) == 6 && f[2] == "iam" && (strings.HasPrefix(f[5], "user/") || strings.HasPrefix(f[5], "role/"))
}

func (v *validator) size(doc string) error {
	if v.noQuota {
		return nil
	}
	n := Size(doc)
	switch {
	case v.kind == Managed && n > ManagedPolicySize:
		return limitExceeded("Cannot exceed quota for PolicySize: %d", ManagedPolicySize)
	case v.kind == Trust && n > TrustPolicySize:
		return limitExceeded("Cannot exceed quota for ACLSizePerRole: %d", TrustPolicySize)
	case v.kind == Bucket && n > BucketPolicySize:
		return malformed(Bucket, s3TooLarge)
	}
	return nil
}

func alphanumeric(s string) bool {
	for _, r := range s {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			return false
		}
	}
	return true
}

// statement reads and validates one statement into s.
func (v *validator) checkPrincipals(s *Statement) error {
	if !v.kind.resource() {
		if s.Principal != nil || s.NotPrincipal != nil {
			return malformed(v.kind, msgNoPrincipal)
		}
		return nil
	}
	if v.kind == Trust && s.NotPrincipal != nil {
		return malformed(Trust, msgProhibited, "NotPrincipal")
	}
	ps := s.Principal
	if ps == nil {
		ps = s.NotPrincipal
	}
	if ps == nil {
		return v.fail(fmt.Sprintf(msgMissing, "Principal"), fmt.Sprintf(s3Missing, "Principal"))
	}
	if ps.empty() {
		return v.fail(msgNoPrincipals, s3Principal)
	}
	// IAM names the type in capitals: "SERVICE":"amazonaws.com"
	// (aws-samples/aws-cdk-examples#801).
	bad := func(typ, value string) error {
		return v.fail(fmt.Sprintf(msgPrincipal, strings.ToUpper(typ), value), s3Principal)
	}
	for _, a := range ps.AWS {
		if !validAWSPrincipal(a) {
			return bad("AWS", a)
		}
	}
	for _, sv := range ps.Service {
		if !validServicePrincipal(sv) {
			return bad("Service", sv)
		}
	}
	for _, f := range ps.Federated {
		if f == "" || strings.ContainsAny(f, "*?") {
			return bad("Federated", f)
		}
	}
	for _, c := range ps.CanonicalUser {
		if v.kind != Bucket || !canonicalUserID(c) {
			return bad("CanonicalUser", c)
		}
	}
	return nil
}

// validAWSPrincipal accepts what an "AWS" principal may be: an account id,
// the ARN of an account's root, a user, a role, a role session or a
// federated user, or a user's or role's unique id (which IAM shows for
// principals since deleted). No wildcards: "You cannot use a wildcard to
// match part of a principal name or ARN".
func validAWSPrincipal(s string) bool {
	if accountID(s) {
		return true
	}
	if uniqueID(s) {
		return true
	}
	if strings.ContainsAny(s, "*?") {
		return false
	}
	f := strings.SplitN(s, ":", 6)
	if len(f) != 6 || f[0] != "arn" || f[1] == "" || f[3] != "" {
		return false
	}
	// CloudFront origin access identities are users of the "cloudfront"
	// account.
	if !accountID(f[4]) && !(f[4] == "cloudfront" && f[2] == "iam") {
		return false
	}
	res := f[5]
	switch f[2] {
	case "iam":
		if res == "root" {
			return true
		}
		for _, prefix := range []string{"user/", "role/"} {
			if name, ok := strings.CutPrefix(res, prefix); ok {
				return name != "" && !strings.HasSuffix(name, "/")
			}
		}
	case "sts":
		if rest, ok := strings.CutPrefix(res, "assumed-role/"); ok {
			role, session, ok := strings.Cut(rest, "/")
			return ok && role != "" && session != ""
		}
		if name, ok := strings.CutPrefix(res, "federated-user/"); ok {
			return name != ""
		}
	}
	return false
}

func accountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// uniqueID recognizes IAM's unique ids of users (AIDA) and roles (AROA).
func uniqueID(s string) bool {
	if len(s) < 16 || !(strings.HasPrefix(s, "AIDA") || strings.HasPrefix(s, "AROA")) {
		return false
	}
	for _, c := range s {
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return true
}

// validServicePrincipal accepts a service principal's shape
// (ec2.amazonaws.com, logging.s3.amazonaws.com, ec2.amazonaws.com.cn).
func validServicePrincipal(s string) bool {
	name, ok := strings.CutSuffix(s, ".amazonaws.com")
	if !ok {
		name, ok = strings.CutSuffix(s, ".amazonaws.com.cn")
	}
	if !ok || name == "" || name[0] == '.' || name[len(name)-1] == '.' {
		return false
	}
	for _, c := range name {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

func canonicalUserID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// trustActions are the actions a trust policy may grant: the AssumeRole
// operations and what a session may carry along.
var trustActions = []string{
	"sts:assumerole", "sts:assumerolewithsaml", "sts:assumerolewithwebidentity",
	"sts:tagsession", "sts:setsourceidentity", "sts:setcontext",
}

func (v *validator) checkActions(s *Statement) error {
	list := s.Action
	if list == nil {
		list = s.NotAction
	}
	if len(list) == 0 {
		return v.fail(msgActions, s3MissingElement)
	}
	for _, a := range list {
		if err := v.checkAction(a); err != nil {
			return err
		}
	}
	return nil
}

func (v *validator) checkAction(a string) error {
	if a == "*" {
		return nil
	}
	if v.kind == Bucket {
		if !validS3Action(a) {
			return malformed(Bucket, s3Action)
		}
		return nil
	}
	vendor, _, found := strings.Cut(a, ":")
	switch {
	case !found || vendor == "":
		return malformed(v.kind, msgVendor)
	case strings.Count(a, ":") > 1:
		return malformed(v.kind, msgColon)
	case strings.ContainsAny(vendor, "*?"):
		return malformed(v.kind, msgVendorWildcard)
	}
	if v.kind == Trust {
		g := compileGlob(strings.ToLower(a), false)
		for _, t := range trustActions {
			if g.match(t, nil) {
				return nil
			}
		}
		return malformed(Trust, msgAssumeRole)
	}
	return nil
}

func (v *validator) checkResources(s *Statement) error {
	if v.kind == Trust {
		switch {
		case s.Resource != nil:
			return malformed(Trust, msgProhibited, "Resource")
		case s.NotResource != nil:
			return malformed(Trust, msgProhibited, "NotResource")
		}
		return nil
	}
	list := s.Resource
	if list == nil {
		list = s.NotResource
	}
	if len(list) == 0 {
		return v.fail(msgResources, s3MissingElement)
	}
	for _, r := range list {
		if v.kind == Bucket {
			if !v.bucketResource(r) {
				return malformed(Bucket, s3Resource)
			}
			continue
		}
		if r == "*" {
			continue
		}
		f := strings.SplitN(r, ":", 6)
		switch {
		case f[0] != "arn" || len(f) < 3:
			return malformed(v.kind, msgResourceARN, r)
		case f[2] == "" || strings.ContainsAny(f[2], "*?"):
			return malformed(v.kind, msgResourceVendor)
		case f[2] == "iam" && len(f) > 3 && f[3] != "":
			return malformed(v.kind, msgIAMRegion, r)
		}
	}
	return nil
}

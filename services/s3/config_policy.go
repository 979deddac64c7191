package s3

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/netip"
	"strings"

	s3api "github.com/cloudbox/cloudbox/api/s3"
)

func init() {
	extraHandlers = append(extraHandlers, func(s *Service, h *s3api.Handlers) {
		h.GetBucketPolicy = s.getBucketPolicy
		h.PutBucketPolicy = s.putBucketPolicy
		h.DeleteBucketPolicy = s.deleteBucketPolicy
		h.GetBucketPolicyStatus = s.getBucketPolicyStatus
	})
}

func malformedPolicy(msg string) error {
	return errorf(http.StatusBadRequest, "MalformedPolicy", "%s", msg)
}

func noSuchBucketPolicy(bucket string) error {
	return errorf(http.StatusNotFound, "NoSuchBucketPolicy", "The bucket policy does not exist").With("BucketName", bucket)
}

// policyDocument is a bucket policy as far as S3 checks it.
type policyDocument struct {
	Version   *string
	Statement json.RawMessage
}

// policyStatement is one statement of a bucket policy.
type policyStatement struct {
	Sid          string
	Effect       string
	Principal    json.RawMessage
	NotPrincipal json.RawMessage
	Action       json.RawMessage
	NotAction    json.RawMessage
	Resource     json.RawMessage
	NotResource  json.RawMessage
	Condition    map[string]map[string]json.RawMessage
}

// parsePolicy checks a bucket policy for bucket as S3 does and returns its
// statements.
func parsePolicy(doc, bucket string) ([]policyStatement, error) {
	if !strings.HasPrefix(doc, "{") {
		return nil, malformedPolicy("Policies must be valid JSON and the first byte must be '{'")
	}
	var p policyDocument
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return nil, malformedPolicy("This policy contains invalid Json")
	}
	if p.Version != nil && *p.Version != "2012-10-17" && *p.Version != "2008-10-17" {
		return nil, malformedPolicy("The policy must contain a valid version string")
	}
	if p.Statement == nil {
		return nil, malformedPolicy("Missing required field Statement")
	}
	// Statement is one statement or a list of them.
	var stmts []policyStatement
	if bytes.HasPrefix(bytes.TrimSpace(p.Statement), []byte("[")) {
		if err := json.Unmarshal(p.Statement, &stmts); err != nil {
			return nil, malformedPolicy("This policy contains invalid Json")
		}
	} else {
		var one policyStatement
		if err := json.Unmarshal(p.Statement, &one); err != nil {
			return nil, malformedPolicy("This policy contains invalid Json")
		}
		stmts = []policyStatement{one}
	}
	if len(stmts) == 0 {
		return nil, malformedPolicy("Could not parse the policy: Statement is empty!")
	}
	for _, st := range stmts {
		if err := st.check(bucket); err != nil {
			return nil, err
		}
	}
	return stmts, nil
}

// check applies S3's rules for a statement of a policy on bucket.
func (st policyStatement) check(bucket string) error {
	if st.Effect != "Allow" && st.Effect != "Deny" {
		return malformedPolicy("Invalid effect: " + st.Effect)
	}
	if st.Principal == nil && st.NotPrincipal == nil {
		return malformedPolicy("Missing required field Principal")
	}
	if !validPrincipal(st.Principal) || !validPrincipal(st.NotPrincipal) {
		return malformedPolicy("Invalid principal in policy")
	}
	actions, ok := stringList(st.Action, st.NotAction)
	if !ok {
		return malformedPolicy("Missing required field Action")
	}
	for _, a := range actions {
		if a != "*" && !strings.HasPrefix(strings.ToLower(a), "s3:") {
			return malformedPolicy("Policy has invalid action")
		}
	}
	resources, ok := stringList(st.Resource, st.NotResource)
	if !ok {
		return malformedPolicy("Missing required field Resource")
	}
	for _, r := range resources {
		if r == "*" {
			continue
		}
		name, found := strings.CutPrefix(r, "arn:aws:s3:::")
		if name, _, _ = strings.Cut(name, "/"); !found || name != bucket && name != "*" {
			return malformedPolicy("Policy has invalid resource")
		}
	}
	return nil
}

// stringList reads the first of the members given that is present: a
// string or a list of strings. ok is false when none is.
func stringList(members ...json.RawMessage) (list []string, ok bool) {
	for _, m := range members {
		if m == nil {
			continue
		}
		var one string
		if json.Unmarshal(m, &one) == nil {
			return []string{one}, one != ""
		}
		if json.Unmarshal(m, &list) == nil {
			return list, len(list) > 0
		}
		return nil, false
	}
	return nil, false
}

// validPrincipal says whether a Principal (or NotPrincipal) member, when
// present, has the forms S3 takes: "*", or an object of AWS, Service,
// Federated or CanonicalUser principals.
func validPrincipal(m json.RawMessage) bool {
	if m == nil {
		return true
	}
	var star string
	if json.Unmarshal(m, &star) == nil {
		return star == "*"
	}
	var byKind map[string]json.RawMessage
	if json.Unmarshal(m, &byKind) != nil || len(byKind) == 0 {
		return false
	}
	for kind, v := range byKind {
		switch kind {
		case "AWS", "Service", "Federated", "CanonicalUser":
		default:
			return false
		}
		if _, ok := stringList(v); !ok {
			return false
		}
	}
	return true
}

// everyone says whether a statement's principal is everyone: "*", or
// "*" among its AWS principals.
func (st policyStatement) everyone() bool {
	if st.Principal == nil {
		return false
	}
	var star string
	if json.Unmarshal(st.Principal, &star) == nil {
		return star == "*"
	}
	var byKind map[string]json.RawMessage
	if json.Unmarshal(st.Principal, &byKind) != nil {
		return false
	}
	aws, _ := stringList(byKind["AWS"])
	for _, p := range aws {
		if p == "*" {
			return true
		}
	}
	return false
}

// public says whether a statement grants access to everyone: an Allow
// for the principal "*" that no condition narrows to known callers or
// networks (S3's "The meaning of public").
func (st policyStatement) public() bool {
	if st.Effect != "Allow" || !st.everyone() {
		return false
	}
	for _, byKey := range st.Condition {
		for key, v := range byKey {
			if narrows(strings.ToLower(key), v) {
				return false
			}
		}
	}
	return true
}

// narrows says whether a condition on key with values v limits a
// statement to fixed callers: S3 counts a statement so limited as not
// public.
func narrows(key string, v json.RawMessage) bool {
	switch key {
	case "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceaccount", "aws:sourceowner",
		"aws:principalorgid", "aws:principalaccount", "aws:principalarn", "aws:userid", "aws:principalservicename",
		"s3:dataaccesspointarn", "s3:dataaccesspointaccount":
		return true
	case "aws:sourceip":
		// A range narrower than the whole internet narrows.
		values, _ := stringList(v)
		for _, cidr := range values {
			if p, err := netip.ParsePrefix(cidr); err != nil || p.Bits() > 8 {
				return true
			}
		}
	}
	return false
}

// matches says whether a statement names action on resource (an ARN),
// its patterns' * and ? matching as IAM's do.
func (st policyStatement) matches(action, resource string) bool {
	named := func(m, not json.RawMessage, value string, fold bool) bool {
		list, _ := stringList(m)
		if m == nil {
			list, _ = stringList(not)
		}
		found := false
		for _, p := range list {
			if fold {
				p, value = strings.ToLower(p), strings.ToLower(value)
			}
			found = found || glob(p, value)
		}
		return found == (m != nil)
	}
	return named(st.Action, st.NotAction, action, true) && named(st.Resource, st.NotResource, resource, false)
}

// glob matches s against pattern, where * is any run of characters and ?
// any one.
func glob(pattern, s string) bool {
	for len(pattern) > 0 {
		switch pattern[0] {
		case '*':
			for i := len(s); i >= 0; i-- {
				if glob(pattern[1:], s[i:]) {
					return true
				}
			}
			return false
		case '?':
			if s == "" {
				return false
			}
		default:
			if s == "" || s[0] != pattern[0] {
				return false
			}
		}
		pattern, s = pattern[1:], s[1:]
	}
	return s == ""
}

// anonymousAllowed says whether anyone, unauthenticated, may do action
// (s3:PutObject, s3:GetObject) on key of b, as its ACLs and policy say
// and its Block Public Access settings let them: a public grant of the
// bucket's ACL (WRITE) or of version v's (READ), unless public ACLs are
// ignored; or a public statement of its policy that no Deny overrides,
// unless public policies are restricted.
func anonymousAllowed(b *bucketRecord, action, key string, v *version) bool {
	if !ignoresPublicACLs(b) {
		gs, perm := bucketGrants(b), "WRITE"
		if v != nil {
			gs, perm = objectGrants(b, v), "READ"
		}
		for _, g := range gs {
			if g.Type == "Group" && g.URI == allUsers && (g.Permission == perm || g.Permission == "FULL_CONTROL") {
				return true
			}
		}
	}
	if b.Config.Policy == "" || restrictsPublicPolicy(b) {
		return false
	}
	stmts, err := parsePolicy(b.Config.Policy, b.Name)
	if err != nil {
		return false
	}
	resource := "arn:aws:s3:::" + b.Name + "/" + key
	allowed := false
	for _, st := range stmts {
		if !st.matches(action, resource) {
			continue
		}
		if st.Effect == "Deny" && st.everyone() && st.Condition == nil {
			return false
		}
		allowed = allowed || st.public()
	}
	return allowed
}

// publicPolicy says whether a policy document grants public access.
func publicPolicy(doc, bucket string) bool {
	stmts, err := parsePolicy(doc, bucket)
	if err != nil {
		return false
	}
	for _, st := range stmts {
		if st.public() {
			return true
		}
	}
	return false
}

func (s *Service) getBucketPolicy(ctx context.Context, in *s3api.GetBucketPolicyRequest) (*s3api.GetBucketPolicyOutput, error) {
	b, err := s.viewBucket(ctx, deref(in.Bucket))
	if err != nil {
		return nil, err
	}
	if b.Config.Policy == "" {
		return nil, noSuchBucketPolicy(b.Name)
	}
	return &s3api.GetBucketPolicyOutput{Policy: str(b.Config.Policy)}, nil
}

func (s *Service) putBucketPolicy(ctx context.Context, in *s3api.PutBucketPolicyRequest) (*s3api.PutBucketPolicyOutput, error) {
	doc := deref(in.Policy)
	err := s.updateBucket(ctx, deref(in.Bucket), func(b *bucketRecord) error {
		if _, err := parsePolicy(doc, b.Name); err != nil {
			return err
		}
		if pab := b.Config.PublicAccessBlock; pab != nil && pab.BlockPublicPolicy != nil && *pab.BlockPublicPolicy && publicPolicy(doc, b.Name) {
			return notAuthorized(ctx, "PutBucketPolicy", b.Name, "public policies are blocked by the BlockPublicPolicy block public access setting.")
		}
		b.Config.Policy = doc
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &s3api.PutBucketPolicyOutput{}, nil
}

func (s *Service) deleteBucketPolicy(ctx context.Context, in *s3api.DeleteBucketPolicyRequest) (*s3api.DeleteBucketPolicyOutput, error) {
	if err := s.updateBucket(ctx, deref(in.Bucket), func(b *bucketRecord) error {
		b.Config.Policy = ""
		return nil
	}); err != nil {
		return nil, err
	}
	return &s3api.DeleteBucketPolicyOutput{}, nil
}

func (s *Service) getBucketPolicyStatus(ctx context.Context, in *s3api.GetBucketPolicyStatusRequest) (*s3api.GetBucketPolicyStatusOutput, error) {
	b, err := s.viewBucket(ctx, deref(in.Bucket))
	if err != nil {
		return nil, err
	}
	if b.Config.Policy == "" {
		return nil, noSuchBucketPolicy(b.Name)
	}
	return &s3api.GetBucketPolicyStatusOutput{PolicyStatus: &s3api.PolicyStatus{IsPublic: boolp(publicPolicy(b.Config.Policy, b.Name))}}, nil
}

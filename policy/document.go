package policy

import (
	"fmt"
	"strings"
)

// Kind is what a policy document is for. It decides the rules the
// document is validated against and the errors it fails with.
type Kind uint8

const (
	// Managed is a managed policy (CreatePolicy, CreatePolicyVersion, the
	// AWS managed policies); a permissions boundary is a managed policy.
	Managed Kind = iota
	// UserInline, GroupInline and RoleInline are inline policies
	// (PutUserPolicy, PutGroupPolicy, PutRolePolicy).
	UserInline
	GroupInline
	RoleInline
	// Trust is a role's assume-role policy (CreateRole,
	// UpdateAssumeRolePolicy): Principal required, sts:AssumeRole* actions,
	// no Resource.
	Trust
	// Session is a session policy passed to AssumeRole* or
	// GetFederationToken.
	Session
	// Bucket is an S3 bucket policy (PutBucketPolicy): S3's errors.
	Bucket
	// ResourceBased is the resource-based policy of another service (an
	// SQS queue's, an SNS topic's...): IAM's rules and messages, Principal
	// and Resource required. Services map the error to their own code.
	ResourceBased
)

func (k Kind) String() string {
	switch k {
	case Managed:
		return "managed"
	case UserInline:
		return "user inline"
	case GroupInline:
		return "group inline"
	case RoleInline:
		return "role inline"
	case Trust:
		return "trust"
	case Session:
		return "session"
	case Bucket:
		return "bucket"
	case ResourceBased:
		return "resource-based"
	}
	return "unknown"
}

// resource reports whether documents of the kind are resource-based
// policies, which name principals.
func (k Kind) resource() bool { return k == Trust || k == Bucket || k == ResourceBased }

// Policy versions: variables are substituted only in 2012-10-17 policies.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

// Policy is a parsed and validated policy document. Make one with Parse or
// ParseBucket; it is read-only afterwards and safe for concurrent use.
type Policy struct {
	// Name identifies the policy in decisions (an ARN, or
	// "user/alice/inline-name" for an inline policy). Parse leaves it
	// empty: set it before the policy is shared.
	Name       string
	Kind       Kind
	Version    string // as written: "2012-10-17", "2008-10-17" or ""
	ID         string
	Statements []Statement
}

// Effect is a statement's effect.
type Effect string

const (
	Allow Effect = "Allow"
	Deny  Effect = "Deny"
)

// Statement is one statement of a policy, with its elements as written
// (one-value forms widened to lists) and their compiled matchers.
type Statement struct {
	Sid    string
	Effect Effect
	// Principal and NotPrincipal are nil when the element is absent.
	Principal, NotPrincipal *Principals
	// Exactly one of Action and NotAction is set; Resource and NotResource
	// are both nil in trust policies.
	Action, NotAction     []string
	Resource, NotResource []string
	Condition             []Condition

	actions   []glob // lowercased, Action or NotAction
	resources []arnPattern
	conds     []condition
}

// Principals is a Principal or NotPrincipal element. "*" and {"AWS": "*"}
// both set Any.
type Principals struct {
	Any           bool
	AWS           []string
	Service       []string
	Federated     []string
	CanonicalUser []string
}

// Condition is one key of one operator of a Condition element.
type Condition struct {
	Operator string // as written: "ForAnyValue:StringLikeIfExists"
	Key      string
	Values   []string
}

// empty reports whether the element names no principal at all ({}).
func (p *Principals) empty() bool {
	return !p.Any && len(p.AWS)+len(p.Service)+len(p.Federated)+len(p.CanonicalUser) == 0
}

// build compiles the elements of a statement into matchers.
func (s *Statement) build(vars bool) {
	list := s.Action
	if list == nil {
		list = s.NotAction
	}
	s.actions = make([]glob, len(list))
	for i, a := range list {
		s.actions[i] = compileGlob(strings.ToLower(a), false)
	}
	list = s.Resource
	if list == nil {
		list = s.NotResource
	}
	s.resources = make([]arnPattern, len(list))
	for i, r := range list {
		s.resources[i] = compileARNPattern(r, vars)
	}
}

// Parse parses a policy document of the kind and validates it as IAM, STS
// or S3 would, failing with the *api.Error they return: IAM's and STS's
// MalformedPolicyDocument, S3's MalformedPolicy, IAM's LimitExceeded for a
// managed policy or a trust policy over its quota. The size of inline
// policies counts per user, group or role: see CheckInlineSize. For a
// bucket policy, ParseBucket also checks that it names its bucket.
func Parse(kind Kind, doc string) (*Policy, error) {
	v := validator{kind: kind}
	return v.parse(doc)
}

// ParseBucket parses and validates the policy of the named S3 bucket: its
// resources must be the bucket or its objects.
func ParseBucket(bucket, doc string) (*Policy, error) {
	v := validator{kind: Bucket, bucket: bucket}
	return v.parse(doc)
}

// ParseAWSManaged parses one of AWS's own managed policies: a Managed
// document without the customer quota on its size, which AWS's documents
// (ReadOnlyAccess) exceed.
func ParseAWSManaged(doc string) (*Policy, error) {
	v := validator{kind: Managed, noQuota: true}
	return v.parse(doc)
}

type validator struct {
	kind    Kind
	bucket  string // ParseBucket's bucket
	noQuota bool   // ParseAWSManaged: no size quota
}

// fail returns IAM's message, or S3's for a bucket policy.
func (v *validator) fail(iam, s3 string) error {
	if v.kind == Bucket {
		return malformed(Bucket, "%s", s3)
	}
	return malformed(v.kind, "%s", iam)
}

func (v *validator) syntax() error { return v.fail(msgSyntax, s3Syntax) }

func (v *validator) parse(doc string) (*Policy, error) {
	if v.kind == Bucket && (doc == "" || doc[0] != '{') {
		return nil, malformed(Bucket, s3FirstByte)
	}
	root, err := parseJSON(doc)
	if err != nil || root.kind != objectNode {
		return nil, v.fail(msgSyntax, s3InvalidJSON)
	}
	p := &Policy{Kind: v.kind}
	var stmts *node
	for _, m := range root.members {
		switch m.key {
		case "Version":
			if m.value.kind != stringNode {
				return nil, v.fail(msgSyntax, s3Version)
			}
			p.Version = m.value.text
		case "Id":
			if m.value.kind != stringNode {
				return nil, v.syntax()
			}
			p.ID = m.value.text
		case "Statement":
			stmts = m.value
		default:
			return nil, v.syntax()
		}
	}
	switch {
	case v.kind == Managed && p.Version != Version2012:
		return nil, malformed(Managed, msgVersion)
	case p.Version != "" && p.Version != Version2012 && p.Version != Version2008:
		return nil, v.fail(msgSyntax, s3Version)
	}
	if stmts == nil {
		return nil, v.fail(msgSyntax, s3MissingStatement)
	}
	items := []*node{stmts}
	switch stmts.kind {
	case arrayNode:
		items = stmts.items
	case objectNode:
	default:
		return nil, v.syntax()
	}
	if len(items) == 0 {
		return nil, v.fail(msgSyntax, s3EmptyStatement)
	}
	vars := p.Version == Version2012
	sids := map[string]bool{}
	p.Statements = make([]Statement, len(items))
	for i, it := range items {
		s := &p.Statements[i]
		if err := v.statement(it, s); err != nil {
			return nil, err
		}
		if v.kind != Bucket && s.Sid != "" {
			if v.kind == Managed && !alphanumeric(s.Sid) {
				return nil, malformed(v.kind, msgSidAlphanumeric)
			}
			if sids[s.Sid] {
				return nil, malformed(v.kind, msgSidUnique)
			}
			sids[s.Sid] = true
		}
		s.build(vars)
		s.conds = make([]condition, len(s.Condition))
		for j, c := range s.Condition {
			s.conds[j] = compileCondition(c, vars)
		}
	}
	if err := v.size(doc); err != nil {
		return nil, err
	}
	return p, nil
}

func (v *validator) statement(n *node, s *Statement) error {
	if n.kind != objectNode {
		return v.syntax()
	}
	var effect *node
	var seenAction, seenResource bool
	for _, m := range n.members {
		var ok bool
		switch m.key {
		case "Sid":
			s.Sid, ok = m.value.text, m.value.kind == stringNode
		case "Effect":
			effect, ok = m.value, m.value.kind == stringNode
		case "Principal", "NotPrincipal":
			ps, err := v.principals(m.value)
			if err != nil {
				return err
			}
			if m.key == "Principal" {
				s.Principal = ps
			} else {
				s.NotPrincipal = ps
			}
			ok = true
		case "Action":
			s.Action, ok = m.value.strings()
			ok = ok && !seenAction
			seenAction = true
		case "NotAction":
			s.NotAction, ok = m.value.strings()
			ok = ok && !seenAction
			seenAction = true
		case "Resource":
			s.Resource, ok = m.value.strings()
			ok = ok && !seenResource
			seenResource = true
		case "NotResource":
			s.NotResource, ok = m.value.strings()
			ok = ok && !seenResource
			seenResource = true
		case "Condition":
			conds, err := v.conditions(m.value)
			if err != nil {
				return err
			}
			s.Condition, ok = conds, true
		}
		if !ok {
			return v.syntax()
		}
	}
	if s.Principal != nil && s.NotPrincipal != nil {
		return v.syntax()
	}
	switch {
	case effect == nil:
		return v.fail(msgSyntax, fmt.Sprintf(s3Missing, "Effect"))
	case effect.text == string(Allow) || effect.text == string(Deny):
		s.Effect = Effect(effect.text)
	case v.kind == Bucket:
		return malformed(Bucket, s3Effect, effect.text)
	default:
		return malformed(v.kind, msgLegacy)
	}
	if err := v.checkPrincipals(s); err != nil {
		return err
	}
	if err := v.checkActions(s); err != nil {
		return err
	}
	if err := v.checkResources(s); err != nil {
		return err
	}
	if v.kind == Bucket && s.Action != nil && s.Resource != nil {
		return checkBucketActions(s)
	}
	return nil
}

// principals reads a Principal or NotPrincipal element: "*" or a map of
// principal types to one value or a list.
func (v *validator) principals(n *node) (*Principals, error) {
	ps := &Principals{}
	switch n.kind {
	case stringNode:
		if n.text != "*" {
			return nil, v.syntax()
		}
		ps.Any = true
		return ps, nil
	case objectNode:
	default:
		return nil, v.syntax()
	}
	for _, m := range n.members {
		vals, ok := m.value.strings()
		if !ok {
			return nil, v.syntax()
		}
		switch m.key {
		case "AWS":
			for _, a := range vals {
				if a == "*" {
					ps.Any = true
				} else {
					ps.AWS = append(ps.AWS, a)
				}
			}
		case "Service":
			ps.Service = vals
		case "Federated":
			ps.Federated = vals
		case "CanonicalUser":
			ps.CanonicalUser = vals
		default:
			first := ""
			if len(vals) > 0 {
				first = vals[0]
			}
			return nil, v.fail(fmt.Sprintf(msgPrincipal, strings.ToUpper(m.key), first), s3Principal)
		}
	}
	return ps, nil
}

// checkPrincipals applies the kind's rules on Principal and NotPrincipal.
func (v *validator) conditions(n *node) ([]Condition, error) {
	if n.kind != objectNode {
		return nil, v.syntax()
	}
	var conds []Condition
	for _, op := range n.members {
		if _, _, _, ok := parseOperator(op.key); !ok || op.value.kind != objectNode {
			return nil, v.syntax()
		}
		for _, k := range op.value.members {
			vals, ok := k.value.scalars()
			if !ok {
				return nil, v.syntax()
			}
			if vendor, _, found := strings.Cut(k.key, ":"); !found || vendor == "" {
				return nil, v.fail(msgVendor, s3ConditionKey)
			}
			conds = append(conds, Condition{Operator: op.key, Key: k.key, Values: vals})
		}
	}
	return conds, nil
}

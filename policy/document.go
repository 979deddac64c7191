package policy

import "strings"

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

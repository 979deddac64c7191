package policy

import (
	"strconv"
	"strings"
)

// Set is the policies that apply to a request.
type Set struct {
	// Identity holds the principal's identity-based policies: a user's
	// inline and attached policies and its groups', or a role's.
	Identity []*Policy
	// Boundary is the user's or role's permissions boundary, if any.
	Boundary *Policy
	// Session holds the session policies (inline and managed) passed when
	// a role or federated user session was made; none is no session
	// policy.
	Session []*Policy
	// Resource is the resource's policy: a bucket policy, or the role's
	// trust policy when the action is sts:AssumeRole*.
	Resource *Policy
}

// PolicyType is a type of policy in a decision.
type PolicyType uint8

const (
	IdentityPolicy PolicyType = iota
	ResourcePolicy
	PermissionsBoundary
	SessionPolicy
)

// String names the type as AWS's AccessDenied messages do.
func (t PolicyType) String() string {
	switch t {
	case ResourcePolicy:
		return "resource-based policy"
	case PermissionsBoundary:
		return "permissions boundary"
	case SessionPolicy:
		return "session policy"
	}
	return "identity-based policy"
}

// Outcome is a decision's result.
type Outcome uint8

const (
	// ImplicitDeny: nothing allows the request.
	ImplicitDeny Outcome = iota
	Allowed
	// ExplicitDeny: a Deny statement applies.
	ExplicitDeny
)

func (o Outcome) String() string {
	switch o {
	case Allowed:
		return "Allow"
	case ExplicitDeny:
		return "ExplicitDeny"
	}
	return "ImplicitDeny"
}

// Decision is the result of an evaluation and why.
type Decision struct {
	Outcome Outcome
	// By is the policy type that decided: the type of the first Deny that
	// applies, the type in which no Allow was found, or the type whose
	// Allow granted the request (IdentityPolicy for the root user).
	By PolicyType
	// Statements are the deciding statements: every Deny that applies, or
	// the Allows that granted the request; none for an implicit deny.
	Statements []StatementRef
}

// Allowed reports whether the request is allowed.
func (d Decision) Allowed() bool { return d.Outcome == Allowed }

// Reason is the end of AWS's AccessDenied message for a denied action:
// "with an explicit deny in a resource-based policy", "because no
// identity-based policy allows the s3:PutObject action".
func (d Decision) Reason(action string) string {
	switch d.Outcome {
	case ExplicitDeny:
		article := "a "
		if d.By == IdentityPolicy {
			article = "an "
		}
		return "with an explicit deny in " + article + d.By.String()
	case ImplicitDeny:
		return "because no " + d.By.String() + " allows the " + action + " action"
	}
	return ""
}

// StatementRef names a statement of a policy.
type StatementRef struct {
	Policy string // the policy's Name
	Type   PolicyType
	Index  int // the statement's place in the policy, from 0
	Sid    string
	Effect Effect
}

func (r StatementRef) String() string {
	s := r.Policy + " statement "
	if r.Sid != "" {
		return s + r.Sid
	}
	return s + "#" + strconv.Itoa(r.Index)
}

// grant is how a resource policy's Principal matched the caller; a
// stronger grant needs fewer other policies to agree.
type grant uint8

const (
	noGrant grant = iota
	// accountGrant: the caller's account is named; the account's own
	// policies must allow ("This delegates authority to the account").
	accountGrant
	// limitedGrant: the role of a role session, or the IAM user of a
	// federated user session, is named; its permissions boundary and
	// session policies still limit the grant.
	limitedGrant
	// directGrant: the caller itself (a user, a session, the root user, a
	// service), or "*".
	directGrant
)

// found is what a scan of the policies of one type found.
type found struct {
	allows, denies []StatementRef
	grants         []grant // of allows, for the resource policy
}

// Evaluate decides whether the request is allowed by the policies, as
// AWS's "Policy evaluation logic" documents:
//   - a Deny that applies in any policy denies;
//   - the root user is allowed anything in its own account;
//   - within an account, an Allow in the identity-based policies (within
//     the permissions boundary and the session policies, which must also
//     allow) or in the resource policy allows. A resource policy naming
//     the caller (the user, the session, "*") allows on its own; naming
//     the role of a session or the user of a federated user session, it
//     allows within the boundary and session policies; naming the account,
//     it leaves the decision to the identity-based policies;
//   - across accounts, and for a role's trust policy, the resource policy
//     must allow and, for IAM principals, the identity side too (a trust
//     policy naming the caller directly suffices within its account).
func Evaluate(req *Request, set *Set) Decision {
	e := newEvalCtx(req)
	p := &req.Principal
	iamPrincipal := p.Type == User || p.Type == AssumedRole || p.Type == FederatedUser

	var identity, boundary, session, resource found
	if iamPrincipal {
		e.scan(set.Identity, IdentityPolicy, &identity)
		if set.Boundary != nil {
			e.scan([]*Policy{set.Boundary}, PermissionsBoundary, &boundary)
		}
		e.scan(set.Session, SessionPolicy, &session)
	}
	if set.Resource != nil {
		e.scanResource(set.Resource, set.Boundary != nil && iamPrincipal, &resource)
	}

	for _, f := range []*found{&resource, &identity, &boundary, &session} {
		if len(f.denies) > 0 {
			var all []StatementRef
			for _, f := range []*found{&resource, &identity, &boundary, &session} {
				all = append(all, f.denies...)
			}
			return Decision{Outcome: ExplicitDeny, By: f.denies[0].Type, Statements: all}
		}
	}

	// The limits on a session's permissions: its boundary and, if it has
	// any (a federated user always needs one), its session policies.
	limitsMissing := func() (PolicyType, bool) {
		if set.Boundary != nil && len(boundary.allows) == 0 {
			return PermissionsBoundary, true
		}
		if (len(set.Session) > 0 || p.Type == FederatedUser) && len(session.allows) == 0 {
			return SessionPolicy, true
		}
		return 0, false
	}
	// The identity side: Identity ∩ Boundary ∩ Session.
	identityMissing := func() (PolicyType, bool) {
		switch {
		case p.Type == Root:
			return 0, false
		case !iamPrincipal:
			return ResourcePolicy, true
		case len(identity.allows) == 0:
			return IdentityPolicy, true
		}
		return limitsMissing()
	}
	identityRefs := func() []StatementRef {
		refs := append(append([]StatementRef(nil), identity.allows...), boundary.allows...)
		return append(refs, session.allows...)
	}
	limitRefs := func() []StatementRef {
		return append(append([]StatementRef(nil), boundary.allows...), session.allows...)
	}
	best, resRefs := resource.best()

	account := req.ResourceAccount
	crossAccount := (iamPrincipal || p.Type == Root) && account != "" && account != p.Account
	trust := set.Resource != nil && set.Resource.Kind == Trust
	if !crossAccount && !trust {
		if p.Type == Root {
			return Decision{Outcome: Allowed, By: IdentityPolicy}
		}
		if best == directGrant {
			return Decision{Outcome: Allowed, By: ResourcePolicy, Statements: resRefs}
		}
		if _, missing := limitsMissing(); best == limitedGrant && !missing {
			return Decision{Outcome: Allowed, By: ResourcePolicy, Statements: append(resRefs, limitRefs()...)}
		}
		if t, missing := identityMissing(); missing {
			return Decision{Outcome: ImplicitDeny, By: t}
		}
		return Decision{Outcome: Allowed, By: IdentityPolicy, Statements: identityRefs()}
	}

	// The resource policy must allow.
	if best == noGrant {
		return Decision{Outcome: ImplicitDeny, By: ResourcePolicy}
	}
	switch {
	case p.Type == Root || !iamPrincipal:
	case crossAccount || best == accountGrant:
		if t, missing := identityMissing(); missing {
			return Decision{Outcome: ImplicitDeny, By: t}
		}
		resRefs = append(resRefs, identityRefs()...)
	case best == limitedGrant:
		if t, missing := limitsMissing(); missing {
			return Decision{Outcome: ImplicitDeny, By: t}
		}
		resRefs = append(resRefs, limitRefs()...)
	}
	return Decision{Outcome: Allowed, By: ResourcePolicy, Statements: resRefs}
}

// best returns the strongest grant of a resource policy's Allows and the
// statements that made it.
func (f *found) best() (grant, []StatementRef) {
	best := noGrant
	for _, g := range f.grants {
		best = max(best, g)
	}
	if best == noGrant {
		return noGrant, nil
	}
	var refs []StatementRef
	for i, g := range f.grants {
		if g == best {
			refs = append(refs, f.allows[i])
		}
	}
	return best, refs
}

// scan evaluates identity-side policies.
func (e *evalCtx) scan(ps []*Policy, t PolicyType, f *found) {
	for _, p := range ps {
		for i := range p.Statements {
			s := &p.Statements[i]
			if !s.appliesTo(e) {
				continue
			}
			ref := StatementRef{Policy: p.Name, Type: t, Index: i, Sid: s.Sid, Effect: s.Effect}
			if s.Effect == Deny {
				f.denies = append(f.denies, ref)
			} else {
				f.allows = append(f.allows, ref)
			}
		}
	}
}

// scanResource evaluates a resource policy, whose statements also name
// principals. bounded is whether the caller has a permissions boundary.
func (e *evalCtx) scanResource(p *Policy, bounded bool, f *found) {
	for i := range p.Statements {
		s := &p.Statements[i]
		if !s.matchAction(e.action) || !s.matchResource(e) {
			continue
		}
		g := noGrant
		switch {
		case s.Principal != nil:
			g = e.grantOf(s.Principal)
		case s.NotPrincipal != nil:
			// "The NotPrincipal element with a Deny effect will always deny
			// any IAM principal that has a permissions boundary policy
			// attached, regardless of the values specified."
			if !e.exempt(s.NotPrincipal) || s.Effect == Deny && bounded {
				g = directGrant
			}
		}
		if g == noGrant || !s.matchConditions(e) {
			continue
		}
		ref := StatementRef{Policy: p.Name, Type: ResourcePolicy, Index: i, Sid: s.Sid, Effect: s.Effect}
		if s.Effect == Deny {
			f.denies = append(f.denies, ref)
		} else {
			f.allows = append(f.allows, ref)
			f.grants = append(f.grants, g)
		}
	}
}

// appliesTo reports whether an identity-side statement applies.
func (s *Statement) appliesTo(e *evalCtx) bool {
	return s.matchAction(e.action) && s.matchResource(e) && s.matchConditions(e)
}

func (s *Statement) matchAction(action string) bool {
	return s.actionListed(action) != (s.NotAction != nil)
}

func (s *Statement) matchResource(e *evalCtx) bool {
	if s.Resource == nil && s.NotResource == nil {
		return true // trust policies have no Resource
	}
	hit := false
	for i := range s.resources {
		if s.resources[i].match(e.req.Resource, e) {
			hit = true
			break
		}
	}
	return hit != (s.NotResource != nil)
}

func (s *Statement) matchConditions(e *evalCtx) bool {
	for i := range s.conds {
		if !s.conds[i].eval(e) {
			return false
		}
	}
	return true
}

// grantOf matches a Principal element against the caller.
func (e *evalCtx) grantOf(ps *Principals) grant {
	if ps.Any {
		return directGrant
	}
	p := &e.req.Principal
	best := noGrant
	switch p.Type {
	case Service:
		for _, s := range ps.Service {
			if strings.EqualFold(s, p.ARN) {
				return directGrant
			}
		}
		return noGrant
	case WebIdentity:
		for _, f := range ps.Federated {
			if f == p.ARN {
				return directGrant
			}
		}
		return noGrant
	case Anonymous:
		return noGrant
	}
	root := rootARN(p)
	for _, a := range ps.AWS {
		g := noGrant
		switch {
		case a == p.ARN, p.UserID != "" && a == p.UserID:
			g = directGrant
		case a == p.Account || a == root:
			g = accountGrant
			if p.Type == Root {
				g = directGrant
			}
		case e.parent != "" && a == e.parent:
			g = limitedGrant
		case p.Type == AssumedRole && p.UserID != "" && strings.HasPrefix(p.UserID, a+":"):
			// The role's unique id, as IAM stores a role ARN.
			g = limitedGrant
		}
		best = max(best, g)
	}
	return best
}

// exempt reports whether a NotPrincipal element lists every identity the
// caller acts as (its account, its role or user, itself): AWS may check
// each, so one left out is enough for the statement to apply.
func (e *evalCtx) exempt(ps *Principals) bool {
	if ps.Any {
		return true
	}
	p := &e.req.Principal
	listed := func(s string) bool {
		for _, a := range ps.AWS {
			if a == s {
				return true
			}
		}
		return false
	}
	switch p.Type {
	case Anonymous:
		return false
	case Service:
		for _, s := range ps.Service {
			if strings.EqualFold(s, p.ARN) {
				return true
			}
		}
		return false
	case WebIdentity:
		for _, f := range ps.Federated {
			if f == p.ARN {
				return true
			}
		}
		return false
	}
	if !listed(p.Account) && !listed(rootARN(p)) {
		return false
	}
	if p.Type != Root && !listed(p.ARN) {
		return false
	}
	return p.Type != AssumedRole || listed(e.parent)
}

// rootARN is the ARN of the caller's account root, in its partition.
func rootARN(p *Principal) string {
	partition := "aws"
	if rest, ok := strings.CutPrefix(p.ARN, "arn:"); ok {
		if i := strings.IndexByte(rest, ':'); i > 0 {
			partition = rest[:i]
		}
	}
	return "arn:" + partition + ":iam::" + p.Account + ":root"
}

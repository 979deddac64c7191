package policy

import (
	"strconv"
	"strings"
	"time"
)

// PrincipalType is the kind of caller a request comes from.
type PrincipalType uint8

const (
	// Anonymous is an unsigned request (S3).
	Anonymous PrincipalType = iota
	// Root is an account's root user.
	Root
	// User is an IAM user with long-term keys.
	User
	// AssumedRole is a role session (AssumeRole*, instance profiles).
	AssumedRole
	// FederatedUser is a GetFederationToken session of an IAM user.
	FederatedUser
	// Service is an AWS service acting as its service principal
	// (ec2.amazonaws.com assuming a role, logging.s3.amazonaws.com...).
	Service
	// WebIdentity is a user of an OIDC or SAML provider presenting its
	// token to AssumeRoleWithWebIdentity or AssumeRoleWithSAML; trust
	// policies name the provider in "Federated".
	WebIdentity
)

// contextValue is aws:PrincipalType's value for the type.
func (t PrincipalType) contextValue() string {
	switch t {
	case Root:
		return "Account"
	case User:
		return "User"
	case AssumedRole:
		return "AssumedRole"
	case FederatedUser:
		return "FederatedUser"
	case WebIdentity:
		return "WebIdentityUser"
	case Service:
		return "Service"
	}
	return "Anonymous"
}

// Principal is who makes a request.
type Principal struct {
	Type PrincipalType
	// ARN is the caller's ARN: arn:aws:iam::111122223333:root, a user's
	// ARN, arn:aws:sts::111122223333:assumed-role/role/session,
	// arn:aws:sts::111122223333:federated-user/name; for Service the
	// service principal (ec2.amazonaws.com), for WebIdentity the provider
	// (accounts.google.com, or a saml-provider or oidc-provider ARN).
	ARN     string
	Account string
	// UserID is aws:userid: AIDA... for a user, AROA...:session for a role
	// session, the account for the root user, account:name for a federated
	// user. Empty derives what can be derived.
	UserID string
	// Parent is the IAM identity a session comes from: the role's ARN
	// with its path for AssumedRole (empty derives
	// arn:aws:iam::account:role/name from ARN), the IAM user's ARN for
	// FederatedUser. Resource policies naming it grant to the session
	// within the limits of its permissions boundary and session policies.
	Parent string
	// Tags are aws:PrincipalTag/*: the user's or role's tags, session tags
	// overriding them.
	Tags map[string]string
}

// PrincipalOf describes the caller a signed request's ARN names: the root
// user (arn:aws:iam::111122223333:root), an IAM user, a role session or a
// federated user; an empty ARN is an anonymous caller. userID is its
// aws:userid; tags, and a role's path (Parent), are the caller's to add.
func PrincipalOf(arn, userID string) Principal {
	f := strings.SplitN(arn, ":", 6)
	if len(f) != 6 || f[0] != "arn" {
		return Principal{Type: Anonymous}
	}
	p := Principal{ARN: arn, Account: f[4], UserID: userID}
	switch res := f[5]; {
	case f[2] == "iam" && res == "root":
		p.Type = Root
	case f[2] == "iam" && strings.HasPrefix(res, "user/"):
		p.Type = User
	case f[2] == "sts" && strings.HasPrefix(res, "assumed-role/"):
		p.Type = AssumedRole
	case f[2] == "sts" && strings.HasPrefix(res, "federated-user/"):
		p.Type = FederatedUser
	default:
		return Principal{Type: Anonymous}
	}
	return p
}

// Request is the request context of one authorization: who, what, on
// which resource, and the condition keys.
type Request struct {
	Principal Principal
	// Action is service:Action ("s3:GetObject"); case does not matter.
	Action string
	// Resource is the resource's ARN, or "*" for actions on no resource
	// (s3:ListAllMyBuckets, ec2:DescribeInstances).
	Resource string
	// ResourceAccount owns the resource: a request from another account
	// is cross-account. Empty means the principal's account (S3 ARNs carry
	// no account: S3 must say whose bucket it is).
	ResourceAccount string
	// Time is aws:CurrentTime and aws:EpochTime; zero means now.
	Time time.Time
	// Context holds the other condition keys: aws:SourceIp,
	// aws:SecureTransport, aws:RequestedRegion, aws:MultiFactorAuthPresent,
	// aws:ResourceTag/*, aws:RequestTag/*, aws:TagKeys, s3:prefix...
	// A key set here overrides the one derived from the principal.
	Context Context
	// ContextOnly: the keys are Context's alone, none is derived from the
	// principal or the time, as IAM's policy simulator evaluates only the
	// context entries it is given.
	ContextOnly bool
}

// Context is a set of condition keys and their values. Keys are
// case-insensitive (aws:SourceIp is AWS:sourceip); a key with several
// values is multivalued (aws:TagKeys). Booleans are "true"/"false", dates
// ISO 8601 or epoch seconds, numbers decimal text.
type Context struct {
	keys map[string][]string
}

// Set sets key to values, replacing what it had.
func (c *Context) Set(key string, values ...string) {
	if c.keys == nil {
		c.keys = map[string][]string{}
	}
	c.keys[strings.ToLower(key)] = values
}

// Get returns key's values and whether the key is present.
func (c *Context) Get(key string) ([]string, bool) {
	v, ok := c.keys[strings.ToLower(key)]
	return v, ok
}

// evalCtx is one evaluation's view of a request. Derived keys are computed
// when a policy asks for them.
type evalCtx struct {
	req    *Request
	action string // lowercased
	now    time.Time
	// the principal's identities as resource policies name them
	parent string
}

func newEvalCtx(req *Request) *evalCtx {
	e := &evalCtx{req: req, action: strings.ToLower(req.Action), now: req.Time}
	if e.now.IsZero() {
		e.now = time.Now()
	}
	p := &req.Principal
	e.parent = p.Parent
	if e.parent == "" && p.Type == AssumedRole {
		e.parent = roleOfSession(p.ARN)
	}
	return e
}

// roleOfSession derives the role ARN (without its path, which a session
// ARN does not carry) of arn:aws:sts::acct:assumed-role/name/session.
func roleOfSession(session string) string {
	const marker = ":assumed-role/"
	i := strings.Index(session, marker)
	if i < 0 || !strings.HasPrefix(session, "arn:") {
		return ""
	}
	head := session[:i] // arn:partition:sts::account
	rest := session[i+len(marker):]
	j := strings.IndexByte(rest, '/')
	if j < 0 {
		return ""
	}
	fields := strings.SplitN(head, ":", 5)
	if len(fields) != 5 {
		return ""
	}
	return "arn:" + fields[1] + ":iam::" + fields[4] + ":role/" + rest[:j]
}

// lookup returns a lowercased key's values in the request.
func (e *evalCtx) lookup(key string) ([]string, bool) {
	if v, ok := e.req.Context.keys[key]; ok || e.req.ContextOnly {
		return v, ok
	}
	p := &e.req.Principal
	one := func(s string) ([]string, bool) { return []string{s}, true }
	switch key {
	case "aws:currenttime":
		return one(e.now.UTC().Format(time.RFC3339))
	case "aws:epochtime":
		return one(strconv.FormatInt(e.now.Unix(), 10))
	case "aws:principaltype":
		return one(p.Type.contextValue())
	case "aws:principalaccount":
		switch p.Type {
		case Anonymous:
			return one("anonymous")
		case Service, WebIdentity:
			return nil, false
		}
		return one(p.Account)
	case "aws:principalarn":
		switch p.Type {
		case AssumedRole:
			return one(e.parent)
		case Root, User, FederatedUser:
			return one(p.ARN)
		}
		return nil, false
	case "aws:userid":
		if p.UserID != "" {
			return one(p.UserID)
		}
		switch p.Type {
		case Anonymous:
			return one("anonymous")
		case Root:
			return one(p.Account)
		case FederatedUser:
			return one(p.Account + ":" + lastSegment(p.ARN))
		}
		return nil, false
	case "aws:username":
		if p.Type == User {
			return one(lastSegment(p.ARN))
		}
		return nil, false
	case "aws:principalisawsservice":
		switch p.Type {
		case Anonymous, WebIdentity:
			return nil, false
		case Service:
			return one("true")
		}
		return one("false")
	case "aws:principalservicename":
		if p.Type == Service {
			return one(p.ARN)
		}
		return nil, false
	case "aws:resourceaccount":
		if e.req.ResourceAccount != "" {
			return one(e.req.ResourceAccount)
		}
		if p.Account != "" {
			return one(p.Account)
		}
		return nil, false
	}
	if tag, ok := strings.CutPrefix(key, "aws:principaltag/"); ok {
		// IAM tag keys are case-insensitive: Dept and dept are one key.
		for k, v := range p.Tags {
			if strings.EqualFold(k, tag) {
				return one(v)
			}
		}
	}
	return nil, false
}

// lastSegment is the name at the end of a user or session ARN.
func lastSegment(arn string) string {
	return arn[strings.LastIndexByte(arn, '/')+1:]
}

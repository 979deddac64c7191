// Package authz is cloudbox's IAM enforcement (cloudbox up --iam): the
// server's Authorizer, which decides every call before its handler runs
// with the policy package, from IAM's records (the caller's identity-based
// policies and permissions boundary, read through IAMReader) and the
// resource-based policies of the services that have them (S3's bucket
// policies, roles' trust policies).
//
// Each call is one or more accesses, an action on a resource with the
// condition keys the request carries for it: by default
// "<prefix>:<Operation>" on the resource the input names (its ARN
// members, or the names of resources.go's table) or "*", where prefix is
// the service's IAM prefix; services refine that through Refiner (S3's
// s3:ListBucket on the bucket with s3:prefix, CopyObject's read of its
// source, EC2's resource ARNs with their tags). Every access also carries
// the request's own keys (context.go): aws:SourceIp,
// aws:SecureTransport, aws:CurrentTime, the principal's keys and tags.
// A session's policies (AssumeRole's Policy and PolicyArns) limit what
// its role's policies allow. The root user is allowed everything in its
// account, as on AWS; so are the default principals of the keys file and
// of unknown keys, which are roots.
//
// In Enforce mode a denied call is answered with the protocol's
// AccessDenied as AWS words it; in Audit mode the decision is logged (a
// structured line with principal, action, resource, reason and deciding
// statements) and the call proceeds.
package authz

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/policy"
)

// Mode is how IAM policies are applied.
type Mode string

const (
	Off     Mode = "off"     // nothing is evaluated
	Enforce Mode = "enforce" // denied calls are refused
	Audit   Mode = "audit"   // denied calls are logged and proceed
)

// ParseMode reads --iam's value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Off, Enforce, Audit:
		return m, nil
	case "":
		return Off, nil
	}
	return "", fmt.Errorf("--iam must be off, enforce or audit, not %q", s)
}

// Document is one policy document as IAM keeps it.
type Document struct {
	// Name names the policy in decisions: a managed policy's ARN, or
	// "user/alice/inline-name".
	Name string
	Kind policy.Kind
	// AWSManaged documents are AWS's own, parsed without the customer
	// size quota.
	AWSManaged bool
	Text       string
}

// Identity is what IAM holds about a caller.
type Identity struct {
	// Policies are the identity-based policies: a user's inline and
	// attached policies and its groups' inline and attached policies, or a
	// session's role's inline and attached policies.
	Policies []Document
	Boundary *Document
	// Parent is a role session's role ARN, with its path.
	Parent string
	Tags   map[string]string
}

// IAMReader is what the authorizer reads from IAM.
type IAMReader interface {
	// Identity returns the policies of the IAM user or role session that
	// principalARN names; ok is false when IAM has no such user or role.
	Identity(principalARN string) (id Identity, ok bool, err error)
	// RoleTrust returns a role's ARN with its path and its trust policy;
	// ok is false when IAM has no such role.
	RoleTrust(roleARN string) (arn, trust string, ok bool, err error)
	// Policy returns the default version of a managed policy (a
	// session's PolicyArns); ok is false when IAM has no such policy.
	Policy(policyARN string) (doc Document, ok bool, err error)
}

// BucketPolicies is S3: a bucket's policy ("" for none) and the account
// that owns the bucket ("" when there is no such bucket).
type BucketPolicies interface {
	ResourcePolicy(bucket string) (doc, owner string, err error)
}

// Access is one permission a call needs: an action on one resource, with
// the condition keys the request carries for it.
type Access struct {
	// Action is "service:Action"; empty is "<prefix>:<Operation>".
	Action string
	// Resource is the resource's ARN; empty is "*".
	Resource string
	// Keys are the condition keys of this access: the service's
	// (s3:prefix, ec2:InstanceType, ec2:ResourceTag/Name) and the tags
	// (aws:ResourceTag/, aws:RequestTag/, aws:TagKeys).
	Keys map[string][]string
}

// Refiner is a service whose operations need other accesses than the
// default "<prefix>:<Operation>" on the resource the input names. No
// accesses keeps the default. ctx carries the api.Request.
type Refiner interface {
	Authorization(ctx context.Context, op string, in any) []Access
}

// Config configures an Authorizer.
type Config struct {
	Mode Mode
	IAM  IAMReader
	// Refiners are by the service's api.Service.Package.
	Refiners map[string]Refiner
	Buckets  BucketPolicies
	Logger   *slog.Logger
}

// Authorizer implements server.Authorizer.
type Authorizer struct {
	cfg Config
	// parsed caches parsed documents by kind and text.
	mu     sync.Mutex
	parsed map[cacheKey]*policy.Policy
}

type cacheKey struct {
	kind   policy.Kind
	aws    bool
	bucket string
	text   string
}

// New returns the authorizer of cfg.
func New(cfg Config) *Authorizer {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Authorizer{cfg: cfg, parsed: map[cacheKey]*policy.Policy{}}
}

// alwaysAllowed are the actions no policy can deny, as on AWS.
// AssumeRoleWithWebIdentity is called unsigned: the role's trust policy,
// which STS checks, is all that decides it.
var alwaysAllowed = map[string]bool{"sts:getcalleridentity": true, "sts:assumerolewithwebidentity": true, "sts:getsessiontoken": true}

// Prefix is a service's IAM action prefix.
func Prefix(svc *api.Service) string {
	switch svc.SigningName {
	case "monitoring":
		return "cloudwatch"
	case "":
		return svc.EndpointPrefix
	}
	return svc.SigningName
}

// parse returns d parsed, from the cache when its text was seen before.
func (a *Authorizer) parse(d Document, bucket string) (*policy.Policy, error) {
	k := cacheKey{d.Kind, d.AWSManaged, bucket, d.Text}
	a.mu.Lock()
	p, ok := a.parsed[k]
	a.mu.Unlock()
	if ok {
		return p, nil
	}
	var err error
	switch {
	case d.AWSManaged:
		p, err = policy.ParseAWSManaged(d.Text)
	case d.Kind == policy.Bucket:
		p, err = policy.ParseBucket(bucket, d.Text)
	default:
		p, err = policy.Parse(d.Kind, d.Text)
	}
	if err != nil {
		return nil, fmt.Errorf("authz: policy %s: %w", d.Name, err)
	}
	p.Name = d.Name
	a.mu.Lock()
	if len(a.parsed) > 4096 {
		clear(a.parsed)
	}
	a.parsed[k] = p
	a.mu.Unlock()
	return p, nil
}

// Check is one authorization: a principal, an action and one resource.
type Check struct {
	Principal policy.Principal
	Action    string
	Resource  string
	Decision  policy.Decision
}

// Authorize decides one call; see server.Authorizer.
func (a *Authorizer) Authorize(ctx context.Context, svc *api.Service, op string, in any) error {
	if a.cfg.Mode == Off || a.cfg.Mode == "" {
		return nil
	}
	req := api.RequestFrom(ctx)
	for _, acc := range a.Accesses(ctx, svc, op, in) {
		if alwaysAllowed[strings.ToLower(acc.Action)] {
			continue
		}
		c, err := a.Decide(req, acc)
		if err != nil {
			return err
		}
		if c.Decision.Allowed() {
			continue
		}
		action, res := acc.Action, acc.Resource
		if a.cfg.Mode == Audit {
			a.cfg.Logger.Warn("iam audit: would deny", "principal", c.Principal.ARN, "action", action, "resource", res,
				"outcome", c.Decision.Outcome.String(), "reason", c.Decision.Reason(action), "statements", refs(c.Decision.Statements),
				"request_id", req.ID)
			continue
		}
		a.cfg.Logger.Info("iam deny", "principal", c.Principal.ARN, "action", action, "resource", res,
			"reason", c.Decision.Reason(action), "statements", refs(c.Decision.Statements), "request_id", req.ID)
		return Denied(svc, c)
	}
	return nil
}

func refs(rs []policy.StatementRef) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.String()
	}
	return out
}

// rootPolicies stand for the root user's permissions, all of its
// account's, as the identity side of its federated users.
var rootPolicies = func() *policy.Policy {
	p, err := policy.Parse(policy.Managed, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)
	if err != nil {
		panic(err)
	}
	p.Name = "(the root user's permissions)"
	return p
}()

// Decide evaluates one access for the request's caller.
func (a *Authorizer) Decide(req *api.Request, acc Access) (Check, error) {
	p := policy.Principal{Type: policy.Anonymous, ARN: "anonymous"}
	if !req.Anonymous {
		p = policy.PrincipalOf(req.Caller.ARN, req.Caller.UserID)
	}
	c := Check{Principal: p, Action: acc.Action, Resource: acc.Resource}
	set := &policy.Set{}
	// A federated user acts with the policies of the user it was issued
	// to (all of the root user's), within its session policies.
	identityARN := p.ARN
	if p.Type == policy.FederatedUser {
		identityARN = ""
		if s := req.Caller.Session; s != nil {
			identityARN = s.User
		}
		if strings.HasSuffix(identityARN, ":root") {
			set.Identity, identityARN = []*policy.Policy{rootPolicies}, ""
		}
	}
	if (p.Type == policy.User || p.Type == policy.AssumedRole || p.Type == policy.FederatedUser) && identityARN != "" && a.cfg.IAM != nil {
		id, ok, err := a.cfg.IAM.Identity(identityARN)
		if err != nil {
			return c, err
		}
		if ok {
			for _, d := range id.Policies {
				pol, err := a.parse(d, "")
				if err != nil {
					return c, err
				}
				set.Identity = append(set.Identity, pol)
			}
			if id.Boundary != nil {
				if set.Boundary, err = a.parse(*id.Boundary, ""); err != nil {
					return c, err
				}
			}
			p.Parent, p.Tags = id.Parent, id.Tags
		}
	}
	if s := req.Caller.Session; s != nil && (p.Type == policy.AssumedRole || p.Type == policy.FederatedUser) {
		var err error
		if set.Session, err = a.sessionPolicies(p.ARN, s); err != nil {
			return c, err
		}
		p.Tags = sessionTags(p.Tags, s.Tags)
	}
	r := &policy.Request{Principal: p, Action: acc.Action, Resource: acc.Resource}
	requestKeys(r, req)
	for k, v := range acc.Keys {
		r.Context.Set(k, v...)
	}
	if err := a.resourcePolicy(r, set); err != nil {
		return c, err
	}
	c.Principal = p
	c.Decision = policy.Evaluate(r, set)
	return c, nil
}

// sessionPolicies are the policies a session was made with: its inline
// policy and its managed ones as IAM has them now.
func (a *Authorizer) sessionPolicies(session string, s *api.Session) ([]*policy.Policy, error) {
	var out []*policy.Policy
	if s.Policy != "" {
		p, err := a.parse(Document{Name: session + " session policy", Kind: policy.Session, Text: s.Policy}, "")
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	for _, arn := range s.PolicyARNs {
		if a.cfg.IAM == nil {
			break
		}
		d, ok, err := a.cfg.IAM.Policy(arn)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		p, err := a.parse(d, "")
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	if len(out) == 0 && (s.Policy != "" || len(s.PolicyARNs) > 0) {
		// The session was limited by policies that are gone: it keeps
		// being limited, to nothing.
		out = append(out, &policy.Policy{Name: session + " session policies (deleted)", Kind: policy.Session})
	}
	return out, nil
}

// resourcePolicy adds the policy of the request's resource, if it has one,
// and says whose the resource is.
func (a *Authorizer) resourcePolicy(r *policy.Request, set *policy.Set) error {
	switch {
	case strings.HasPrefix(r.Resource, "arn:aws:s3:::") && a.cfg.Buckets != nil:
		bucket, _, _ := strings.Cut(strings.TrimPrefix(r.Resource, "arn:aws:s3:::"), "/")
		doc, owner, err := a.cfg.Buckets.ResourcePolicy(bucket)
		if err != nil {
			return err
		}
		r.ResourceAccount = owner
		if doc != "" {
			p, err := a.parse(Document{Name: "arn:aws:s3:::" + bucket, Kind: policy.Bucket, Text: doc}, bucket)
			if err != nil {
				return err
			}
			set.Resource = p
		}
	case strings.HasPrefix(strings.ToLower(r.Action), "sts:assumerole") && strings.HasPrefix(r.Resource, "arn:aws:iam::") && a.cfg.IAM != nil:
		_, trust, ok, err := a.cfg.IAM.RoleTrust(r.Resource)
		if err != nil {
			return err
		}
		r.ResourceAccount = accountOf(r.Resource)
		if ok {
			p, err := a.parse(Document{Name: r.Resource + " trust policy", Kind: policy.Trust, Text: trust}, "")
			if err != nil {
				return err
			}
			set.Resource = p
		}
	default:
		r.ResourceAccount = accountOf(r.Resource)
	}
	return nil
}

// accountOf is the account an ARN names, "" for none (the caller's).
func accountOf(s string) string {
	f := strings.SplitN(s, ":", 6)
	if len(f) == 6 {
		return f[4]
	}
	return ""
}

// Denied is the AccessDenied a service answers for a denied check, in
// AWS's words for its protocol.
func Denied(svc *api.Service, c Check) *api.Error {
	who := c.Principal.ARN
	reason := c.Decision.Reason(c.Action)
	switch {
	case strings.EqualFold(c.Action, "sts:AssumeRole"):
		// STS names no reason.
		return api.NewError(http.StatusForbidden, "AccessDenied", "User: %s is not authorized to perform: %s on resource: %s", who, c.Action, c.Resource)
	case svc.ServiceID == "S3":
		return api.NewError(http.StatusForbidden, "AccessDenied", "User: %s is not authorized to perform: %s on resource: \"%s\" %s", who, c.Action, c.Resource, reason)
	case svc.Package == "ec2":
		return api.NewError(http.StatusForbidden, "UnauthorizedOperation", "You are not authorized to perform this operation. User: %s is not authorized to perform: %s on resource: %s %s. Encoded authorization failure message: %s",
			who, c.Action, c.Resource, reason, EncodeMessage(c))
	case svc.Protocol == "json" || svc.Protocol == "smithy-rpc-v2-cbor" || svc.Protocol == "rest-json":
		return api.NewError(http.StatusBadRequest, "AccessDeniedException", "User: %s is not authorized to perform: %s on resource: %s %s", who, c.Action, c.Resource, reason)
	}
	return api.NewError(http.StatusForbidden, "AccessDenied", "User: %s is not authorized to perform: %s on resource: %s %s", who, c.Action, c.Resource, reason)
}

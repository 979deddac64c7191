package sts

import (
	"bytes"
	"compress/flate"
	"context"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	stsapi "github.com/cloudbox/cloudbox/api/sts"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/authz"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/policy"
)

// Authorization is what an STS call needs the authorizer to allow:
// AssumeRole is sts:AssumeRole on the role, and sts:TagSession when it
// passes tags, with the keys its trust policy may test (sts:ExternalId,
// aws:RequestTag/, aws:TagKeys...). Others keep the default.
func (s *Service) Authorization(ctx context.Context, op string, in any) []authz.Access {
	r, ok := in.(*stsapi.AssumeRoleRequest)
	if !ok || r.RoleArn == nil {
		return nil
	}
	// Input STS refuses gets no keys: AssumeRole answers its error.
	_, keys, _, _ := assumeSession(api.RequestFrom(ctx).Caller, r)
	acc := []authz.Access{{Action: "sts:AssumeRole", Resource: *r.RoleArn, Keys: keys}}
	if len(r.Tags) > 0 {
		acc = append(acc, authz.Access{Action: "sts:TagSession", Resource: *r.RoleArn, Keys: keys})
	}
	return acc
}

// allowAll stands for the caller's identity-based side when STS checks
// only the trust policy (the authorizer decides the identity side).
var allowAll = func() *policy.Policy {
	p, err := policy.Parse(policy.Managed, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)
	if err != nil {
		panic(err)
	}
	p.Name = "(identity-based policies not enforced)"
	return p
}()

// trustCheck is one question to a role's trust policy: may principal do
// the actions (sts:AssumeRole, and sts:TagSession when it passes tags)
// with these condition keys.
type trustCheck struct {
	role      string
	principal policy.Principal
	actions   []string
	keys      map[string][]string
	// denied is the error a refusal of action answers.
	denied func(action string) error
	// strict refuses a role IAM does not have whatever the mode: such a
	// role trusts nobody.
	strict bool
}

// checkTrust refuses what the role's trust policy does not allow; it
// returns the role's ARN with its path ("" when IAM is not consulted or,
// outside strict mode, has no such role).
func (s *Service) checkTrust(c trustCheck) (string, error) {
	if s.roles == nil {
		return "", nil
	}
	full, trust, ok, err := s.roles.RoleTrust(c.role)
	if err != nil {
		return "", err
	}
	if !ok {
		if s.strictRoles || c.strict {
			return "", c.denied(c.actions[0])
		}
		return "", nil
	}
	tp, err := policy.Parse(policy.Trust, trust)
	if err != nil {
		return "", c.denied(c.actions[0])
	}
	tp.Name = full + " trust policy"
	for _, action := range c.actions {
		req := &policy.Request{Principal: c.principal, Action: action, Resource: full}
		for k, v := range c.keys {
			req.Context.Set(k, v...)
		}
		if d := policy.Evaluate(req, &policy.Set{Identity: []*policy.Policy{allowAll}, Resource: tp}); !d.Allowed() {
			return "", c.denied(action)
		}
	}
	return full, nil
}

var sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]*$`)

func checkSessionName(name string) error {
	if !sessionNameRE.MatchString(name) {
		return api.Errorf("ValidationError", "1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", name)
	}
	return nil
}

// role is the role a session is for, as IAM knows it.
type role struct {
	arn     arn.ARN
	name    string
	id      string        // AROA...
	maxLife time.Duration // its MaxSessionDuration
}

// loadRole parses roleARN and reads the role's id and maximum session
// duration from IAM; a role IAM does not have gets a derived id and an
// hour.
func (s *Service) loadRole(roleARN string) (role, error) {
	a, err := arn.Parse(roleARN)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") || len(a.Account) != 12 {
		return role{}, api.Errorf("ValidationError", "%s is invalid", roleARN)
	}
	r := role{arn: a, name: a.Resource[strings.LastIndexByte(a.Resource, '/')+1:], maxLife: time.Hour}
	r.id = identity.UniqueID("AROA", a.Account+"/"+r.name)
	if s.roles != nil {
		id, max, ok, err := s.roles.RoleSession(roleARN)
		if err != nil {
			return role{}, err
		}
		if ok {
			r.id, r.maxLife = id, max
		}
	}
	return r, nil
}

// duration is the session's life: requested (nil for the default hour),
// within the role's maximum and, for role chaining, an hour.
func (r role) duration(requested *int64, chained bool) (time.Duration, error) {
	if requested == nil {
		return time.Hour, nil
	}
	d := time.Duration(*requested) * time.Second
	if chained && d > time.Hour {
		return 0, api.Errorf("ValidationError", "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	}
	if d > r.maxLife {
		return 0, api.Errorf("ValidationError", "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}
	return d, nil
}

// principal is the session's identity: its assumed-role ARN and its id.
func (r role) principal(session string, sess *api.Session) api.Principal {
	a := arn.ARN{Partition: r.arn.Partition, Service: "sts", Account: r.arn.Account, Resource: "assumed-role/" + r.name + "/" + session}
	return api.Principal{Account: r.arn.Account, ARN: a.String(), UserID: r.id + ":" + session, Session: sess}
}

// sessionInput is what AssumeRole*, and GetFederationToken, may attach to
// a session.
type sessionInput struct {
	policy     *string
	policyARNs []*stsapi.PolicyDescriptorType
	tags       []*stsapi.Tag
	transitive []*string
}

// The limits of session policies and tags. maxPacked is the packed
// space (compressed bytes) AWS's PackedPolicySize is a percentage of.
const (
	maxSessionPolicy = 2048
	maxPolicyARNs    = 10
	maxPacked        = 2048
)

var tagRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

// session validates in and returns the session it describes, the
// condition keys it adds to the trust policy (aws:RequestTag/, aws:TagKeys,
// sts:TransitiveTagKeys), and the PackedPolicySize percentage (nil when
// nothing was passed). inherited are the caller's transitive session tags
// (role chaining).
func session(in sessionInput, inherited map[string]string) (*api.Session, map[string][]string, *int64, error) {
	sess := &api.Session{}
	keys := map[string][]string{}
	var packedPolicy, packedTags bytes.Buffer
	if in.policy != nil {
		if len(*in.policy) > maxSessionPolicy {
			return nil, nil, nil, api.Errorf("ValidationError", "1 validation error detected: Value '%s' at 'policy' failed to satisfy constraint: Member must have length less than or equal to %d", *in.policy, maxSessionPolicy)
		}
		if _, err := policy.Parse(policy.Session, *in.policy); err != nil {
			return nil, nil, nil, err
		}
		sess.Policy = *in.policy
		packedPolicy.WriteString(*in.policy)
	}
	if len(in.policyARNs) > maxPolicyARNs {
		return nil, nil, nil, api.Errorf("ValidationError", "1 validation error detected: Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to %d", maxPolicyARNs)
	}
	for _, p := range in.policyARNs {
		a := ""
		if p != nil && p.Arn != nil {
			a = *p.Arn
		}
		if pa, err := arn.Parse(a); err != nil || pa.Service != "iam" || !strings.HasPrefix(pa.Resource, "policy/") {
			return nil, nil, nil, api.Errorf("ValidationError", "%s is invalid", a)
		}
		sess.PolicyARNs = append(sess.PolicyARNs, a)
		packedPolicy.WriteString(a)
	}
	tags := map[string]string{}
	for k, v := range inherited {
		tags[k] = v
	}
	var tagKeys []string
	given := map[string]string{} // lower-case key -> key as given
	for _, t := range in.tags {
		k, v := deref(t.Key), deref(t.Value)
		if !tagRE.MatchString(k) || !tagRE.MatchString(v) {
			return nil, nil, nil, api.Errorf("ValidationError", "1 validation error detected: Value '%s' at 'tags' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*", k)
		}
		if _, dup := given[strings.ToLower(k)]; dup {
			return nil, nil, nil, api.Errorf("InvalidParameterValue", "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		given[strings.ToLower(k)] = k
		tags[k] = v
		tagKeys = append(tagKeys, k)
		keys["aws:RequestTag/"+k] = []string{v}
		packedTags.WriteString(k + "=" + v + ";")
	}
	if len(tagKeys) > 0 {
		keys["aws:TagKeys"] = tagKeys
	}
	var transitive []string
	for _, k := range in.transitive {
		orig, ok := given[strings.ToLower(deref(k))]
		if !ok {
			return nil, nil, nil, api.Errorf("InvalidParameterValue", "The specified transitive tag key must be included in the requested tags.")
		}
		transitive = append(transitive, orig)
	}
	if len(transitive) > 0 {
		keys["sts:TransitiveTagKeys"] = transitive
	}
	if len(tags) > 0 {
		sess.Tags = tags
	}
	sess.TransitiveTagKeys = transitive
	for k := range inherited {
		sess.TransitiveTagKeys = append(sess.TransitiveTagKeys, k)
	}
	if packedPolicy.Len() == 0 && packedTags.Len() == 0 {
		return sess, keys, nil, nil
	}
	pp, pt := packedPercent(packedPolicy.Bytes()), packedPercent(packedTags.Bytes())
	if pp > 100 {
		return nil, nil, nil, api.Errorf("PackedPolicyTooLarge", "Packed policy consumes %d%% of allotted space, please use smaller policy.", pp)
	}
	if pt > 100 {
		return nil, nil, nil, api.Errorf("PackedPolicyTooLarge", "Packed size of session tags consumes %d%% of allotted space.", pt)
	}
	size := max(pp, pt)
	return sess, keys, &size, nil
}

// packedPercent is how much of the packed space b takes once compressed,
// as AWS packs session policies and tags into the session token.
func packedPercent(b []byte) int64 {
	if len(b) == 0 {
		return 0
	}
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.BestCompression)
	w.Write(b)
	w.Close()
	return int64((z.Len()*100 + maxPacked - 1) / maxPacked)
}

// transitiveTags are the session tags a role session passes on to the
// sessions it assumes.
func transitiveTags(p api.Principal) map[string]string {
	if p.Session == nil || len(p.Session.TransitiveTagKeys) == 0 {
		return nil
	}
	out := map[string]string{}
	for _, k := range p.Session.TransitiveTagKeys {
		if v, ok := p.Session.Tags[k]; ok {
			out[k] = v
		}
	}
	return out
}

func (s *Service) AssumeRole(ctx context.Context, in *stsapi.AssumeRoleRequest) (*stsapi.AssumeRoleResponse, error) {
	r, err := s.loadRole(*in.RoleArn)
	if err != nil {
		return nil, err
	}
	if err := checkSessionName(*in.RoleSessionName); err != nil {
		return nil, err
	}
	caller := api.RequestFrom(ctx).Caller
	chained := strings.Contains(caller.ARN, ":assumed-role/")
	d, err := r.duration(in.DurationSeconds, chained)
	if err != nil {
		return nil, err
	}
	if _, err := s.checkMFA(caller.Account, in.SerialNumber, in.TokenCode); err != nil {
		return nil, err
	}
	sess, keys, packed, err := assumeSession(caller, in)
	if err != nil {
		return nil, err
	}
	p := policy.PrincipalOf(caller.ARN, caller.UserID)
	if caller.Session != nil {
		p.Tags = caller.Session.Tags
	}
	actions := []string{"sts:AssumeRole"}
	if len(in.Tags) > 0 {
		actions = append(actions, "sts:TagSession")
	}
	_, err = s.checkTrust(trustCheck{
		role: *in.RoleArn, principal: p, actions: actions, keys: keys,
		denied: func(action string) error {
			return api.NewError(http.StatusForbidden, "AccessDenied", "User: %s is not authorized to perform: %s on resource: %s", caller.ARN, action, *in.RoleArn)
		},
	})
	if err != nil {
		return nil, err
	}
	cred, err := s.ids.Issue(r.principal(*in.RoleSessionName, sess), s.now(), d)
	if err != nil {
		return nil, err
	}
	p2 := cred.Principal
	return &stsapi.AssumeRoleResponse{
		Credentials:      credentials(cred),
		AssumedRoleUser:  &stsapi.AssumedRoleUser{Arn: &p2.ARN, AssumedRoleId: &p2.UserID},
		SourceIdentity:   in.SourceIdentity,
		PackedPolicySize: packed,
	}, nil
}

// assumeSession is the session AssumeRole asks for and the condition
// keys the call carries.
func assumeSession(caller api.Principal, in *stsapi.AssumeRoleRequest) (*api.Session, map[string][]string, *int64, error) {
	sess, keys, packed, err := session(sessionInput{in.Policy, in.PolicyArns, in.Tags, in.TransitiveTagKeys}, transitiveTags(caller))
	if err != nil {
		return nil, nil, nil, err
	}
	if in.ExternalId != nil {
		keys["sts:ExternalId"] = []string{*in.ExternalId}
	}
	// AssumeRole has checked the code against the device (checkMFA).
	sess.MFA = in.SerialNumber != nil && in.TokenCode != nil
	keys["aws:MultiFactorAuthPresent"] = []string{boolString(sess.MFA || caller.Session != nil && caller.Session.MFA)}
	if in.SourceIdentity != nil {
		keys["sts:SourceIdentity"] = []string{*in.SourceIdentity}
	}
	return sess, keys, packed, nil
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

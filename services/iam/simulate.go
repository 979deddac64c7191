package iam

import (
	"context"
	"strconv"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/authz"
	"github.com/cloudbox/cloudbox/policy"
	"github.com/cloudbox/cloudbox/store"
)

// IAM's policy simulator (SimulatePrincipalPolicy, SimulateCustomPolicy)
// runs the evaluator the authorizer enforces with (policy.Evaluate) on the
// documents given or gathered, with only the context entries given: no
// key is derived from the caller or the clock, and every key the policies
// use that was not given is reported missing, as AWS's simulator does.

// SourcePolicyType values: AWS answers these words, not its model's enum.
const (
	identitySource = "IAM Policy"
	resourceSource = "Resource Policy"
)

// source is one policy in a simulation, as the simulator names it.
type source struct {
	id, typ string
	spans   []policy.Span
}

// simulation is what a simulation evaluates: the policies and the request
// context shared by every action and resource.
type simulation struct {
	sources []source // by the parsed policies' Name, an index here
	set     policy.Set
	keys    []string // the context keys the policies use
	caller  policy.Principal
	owner   string // ResourceOwner: the account of resources whose ARN names none
	context policy.Context
	given   map[string]bool // the context entries' keys, lowercased
}

func invalidInput(format string, args ...any) error {
	return errorf("InvalidInput", format, args...)
}

// add parses a document of the simulation; a malformed one is
// InvalidInput.
func (sim *simulation) add(id, typ string, kind policy.Kind, text string, awsManaged bool) (*policy.Policy, error) {
	var p *policy.Policy
	var err error
	if awsManaged {
		p, err = policy.ParseAWSManaged(text)
	} else {
		p, err = policy.Parse(kind, text)
	}
	if err != nil {
		return nil, invalidInput("%s: %s", id, strings.TrimSuffix(api.As(err).Message, "."))
	}
	p.Name = strconv.Itoa(len(sim.sources))
	sim.sources = append(sim.sources, source{id: id, typ: typ, spans: policy.StatementSpans(text)})
	for _, k := range p.ContextKeys() {
		if !containsFold(sim.keys, k) {
			sim.keys = append(sim.keys, k)
		}
	}
	return p, nil
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// inputs adds the documents of PolicyInputList and
// PermissionsBoundaryPolicyInputList; the boundary given replaces the
// entity's own.
func (sim *simulation) inputs(identity, boundaries []*string) error {
	for i, doc := range identity {
		p, err := sim.add("PolicyInputList."+strconv.Itoa(i+1), identitySource, policy.UserInline, deref(doc), false)
		if err != nil {
			return err
		}
		sim.set.Identity = append(sim.set.Identity, p)
	}
	if len(boundaries) > 1 {
		return invalidInput("Only one permissions boundary policy may be given: PermissionsBoundaryPolicyInputList has %d.", len(boundaries))
	}
	for _, doc := range boundaries {
		p, err := sim.add("PermissionsBoundaryPolicyInputList.1", identitySource, policy.Managed, deref(doc), false)
		if err != nil {
			return err
		}
		sim.set.Boundary = p
	}
	return nil
}

// request reads what SimulatePrincipalPolicy and SimulateCustomPolicy
// share: the resource policy, its owner, the caller and the context.
func (sim *simulation) request(acct string, resourcePolicy, owner, callerARN *string, entries []*iamapi.ContextEntry) error {
	sim.caller = policy.Principal{Type: policy.User, Account: acct}
	if callerARN != nil {
		a, err := arn.Parse(*callerARN)
		if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "user/") {
			return invalidInput("Invalid CallerArn: %s. The caller must be an IAM user.", *callerARN)
		}
		sim.caller.ARN, sim.caller.Account = *callerARN, a.Account
	}
	if resourcePolicy != nil {
		if sim.caller.ARN == "" {
			return invalidInput("CallerArn is required to simulate a ResourcePolicy: its Principal element needs a caller to match.")
		}
		p, err := sim.add("ResourcePolicy", resourceSource, policy.ResourceBased, *resourcePolicy, false)
		if err != nil {
			return err
		}
		sim.set.Resource = p
	}
	if owner != nil {
		sim.owner = *owner
		if a, err := arn.Parse(*owner); err == nil {
			sim.owner = a.Account // arn:aws:iam::111122223333:root
		}
		if !isAccountID(sim.owner) {
			return invalidInput("Invalid ResourceOwner: %s. It must be an AWS account ID.", *owner)
		}
	}
	sim.given = map[string]bool{}
	for _, e := range entries {
		name := deref(e.ContextKeyName)
		if name == "" {
			return invalidInput("A ContextEntry needs a ContextKeyName.")
		}
		values := make([]string, len(e.ContextKeyValues))
		for i, v := range e.ContextKeyValues {
			values[i] = deref(v)
		}
		sim.context.Set(name, values...)
		sim.given[strings.ToLower(name)] = true
	}
	return nil
}

func isAccountID(s string) bool {
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

// run evaluates each action on each resource ("*" when none is given).
func (sim *simulation) run(actions, resourceARNs []*string) ([]*iamapi.EvaluationResult, error) {
	resources := []string{"*"}
	if len(resourceARNs) > 0 {
		resources = make([]string, len(resourceARNs))
		for i, r := range resourceARNs {
			resources[i] = deref(r)
		}
	}
	var missing []string
	for _, k := range sim.keys {
		if !sim.given[strings.ToLower(k)] {
			missing = append(missing, k)
		}
	}
	if missing == nil {
		missing = []string{}
	}
	var results []*iamapi.EvaluationResult
	for _, a := range actions {
		action := deref(a)
		if svc, name, ok := strings.Cut(action, ":"); !ok || svc == "" || name == "" {
			return nil, invalidInput("Invalid action name: %s. An action name is a service prefix and an operation, such as iam:CreateUser.", action)
		}
		for _, res := range resources {
			results = append(results, sim.evaluate(action, res, len(resourceARNs) > 0, missing))
		}
	}
	return results, nil
}

// evaluate simulates one action on one resource. With resources named,
// the details are in ResourceSpecificResults, as AWS answers.
func (sim *simulation) evaluate(action, resource string, named bool, missing []string) *iamapi.EvaluationResult {
	req := &policy.Request{
		Principal:       sim.caller,
		Action:          action,
		Resource:        resource,
		ResourceAccount: sim.resourceAccount(resource),
		Context:         sim.context,
		ContextOnly:     true,
	}
	d := policy.Evaluate(req, &sim.set)
	decision, matched := decisionName(d.Outcome), sim.statements(d)
	var boundary *iamapi.PermissionsBoundaryDecisionDetail
	if sim.set.Boundary != nil {
		// The boundary alone, as if it were the only identity policy.
		only := policy.Evaluate(req, &policy.Set{Identity: []*policy.Policy{sim.set.Boundary}})
		boundary = &iamapi.PermissionsBoundaryDecisionDetail{AllowedByPermissionsBoundary: boolp(only.Allowed())}
	}
	r := &iamapi.EvaluationResult{
		EvalActionName:                    str(action),
		EvalResourceName:                  str(resource),
		EvalDecision:                      str(decision),
		MatchedStatements:                 matched,
		PermissionsBoundaryDecisionDetail: boundary,
	}
	if !named {
		r.MissingContextValues = strPtrs(missing)
		return r
	}
	r.MissingContextValues = []*string{}
	r.EvalDecisionDetails = map[string]*string{}
	r.ResourceSpecificResults = []*iamapi.ResourceSpecificResult{{
		EvalResourceName:                  str(resource),
		EvalResourceDecision:              str(decision),
		MatchedStatements:                 matched,
		MissingContextValues:              strPtrs(missing),
		PermissionsBoundaryDecisionDetail: boundary,
	}}
	return r
}

// resourceAccount is the account that owns a resource: the one its ARN
// names, else ResourceOwner, else the caller's.
func (sim *simulation) resourceAccount(resource string) string {
	if a, err := arn.Parse(resource); err == nil && a.Account != "" {
		return a.Account
	}
	if sim.owner != "" {
		return sim.owner
	}
	return sim.caller.Account
}

// statements are the deciding statements, named as the simulator names
// them, with their place in their policy's text.
func (sim *simulation) statements(d policy.Decision) []*iamapi.Statement {
	out := []*iamapi.Statement{}
	for _, ref := range d.Statements {
		i, err := strconv.Atoi(ref.Policy)
		if err != nil || i < 0 || i >= len(sim.sources) {
			continue
		}
		src := sim.sources[i]
		st := &iamapi.Statement{SourcePolicyId: str(src.id), SourcePolicyType: str(src.typ)}
		if ref.Index < len(src.spans) {
			sp := src.spans[ref.Index]
			st.StartPosition = &iamapi.Position{Line: i64(int64(sp.Start.Line)), Column: i64(int64(sp.Start.Column))}
			st.EndPosition = &iamapi.Position{Line: i64(int64(sp.End.Line)), Column: i64(int64(sp.End.Column))}
		}
		out = append(out, st)
	}
	return out
}

func decisionName(o policy.Outcome) string {
	switch o {
	case policy.Allowed:
		return "allowed"
	case policy.ExplicitDeny:
		return "explicitDeny"
	}
	return "implicitDeny"
}

func strPtrs(ss []string) []*string {
	out := make([]*string, len(ss))
	for i := range ss {
		out[i] = &ss[i]
	}
	return out
}

// respond pages the results.
func respond(results []*iamapi.EvaluationResult, marker *string, maxItems *int64) (*iamapi.SimulatePolicyResponse, error) {
	p, err := pageInOrder(results, marker, maxItems)
	if err != nil {
		return nil, err
	}
	items := p.items
	if items == nil {
		items = []*iamapi.EvaluationResult{}
	}
	return &iamapi.SimulatePolicyResponse{EvaluationResults: items, IsTruncated: p.truncated, Marker: p.marker}, nil
}

func (s *Service) simulateCustomPolicy(ctx context.Context, in *iamapi.SimulateCustomPolicyRequest) (*iamapi.SimulatePolicyResponse, error) {
	sim := &simulation{}
	if err := sim.inputs(in.PolicyInputList, in.PermissionsBoundaryPolicyInputList); err != nil {
		return nil, err
	}
	if err := sim.request(account(ctx), in.ResourcePolicy, in.ResourceOwner, in.CallerArn, in.ContextEntries); err != nil {
		return nil, err
	}
	for _, a := range in.ActionNames {
		if strings.ContainsAny(deref(a), "*?") {
			return nil, invalidInput("Invalid action name: %s. SimulateCustomPolicy does not support wildcards in action names.", deref(a))
		}
	}
	results, err := sim.run(in.ActionNames, in.ResourceArns)
	if err != nil {
		return nil, err
	}
	return respond(results, in.Marker, in.MaxItems)
}

func (s *Service) simulatePrincipalPolicy(ctx context.Context, in *iamapi.SimulatePrincipalPolicyRequest) (*iamapi.SimulatePolicyResponse, error) {
	acct := account(ctx)
	sim := &simulation{}
	src, err := s.entityPolicies(acct, *in.PolicySourceArn)
	if err != nil {
		return nil, err
	}
	for _, d := range src.policies {
		p, err := sim.add(d.id, identitySource, d.Kind, d.Text, d.AWSManaged)
		if err != nil {
			return nil, err
		}
		sim.set.Identity = append(sim.set.Identity, p)
	}
	if src.boundary != nil && len(in.PermissionsBoundaryPolicyInputList) == 0 {
		d := src.boundary
		if sim.set.Boundary, err = sim.add(d.id, identitySource, d.Kind, d.Text, d.AWSManaged); err != nil {
			return nil, err
		}
	}
	if err := sim.inputs(in.PolicyInputList, in.PermissionsBoundaryPolicyInputList); err != nil {
		return nil, err
	}
	caller := in.CallerArn
	if caller == nil && src.user {
		caller = in.PolicySourceArn // the user is the caller
	}
	if err := sim.request(acct, in.ResourcePolicy, in.ResourceOwner, caller, in.ContextEntries); err != nil {
		return nil, err
	}
	results, err := sim.run(in.ActionNames, in.ResourceArns)
	if err != nil {
		return nil, err
	}
	return respond(results, in.Marker, in.MaxItems)
}

// sourceDoc is a document of an entity with the simulator's name for it:
// a managed policy's name, "<user|group|role>_<entity>_<policy>" for an
// inline policy.
type sourceDoc struct {
	authz.Document
	id string
}

// entitySources are the policies of the user, group or role a
// PolicySourceArn names.
type entitySources struct {
	policies []sourceDoc
	boundary *sourceDoc
	user     bool
}

// entityPolicies gathers the policies of the user (with its groups'),
// group or role sourceARN names.
func (s *Service) entityPolicies(acct, sourceARN string) (entitySources, error) {
	var src entitySources
	a, err := arn.Parse(sourceARN)
	var c class
	switch {
	case err != nil || a.Service != "iam":
		return src, invalidEntity(sourceARN)
	case strings.HasPrefix(a.Resource, "user/"):
		c, src.user = users, true
	case strings.HasPrefix(a.Resource, "group/"):
		c = groups
	case strings.HasPrefix(a.Resource, "role/"):
		c = roles
	default:
		return src, invalidEntity(sourceARN)
	}
	name := a.Resource[strings.LastIndexByte(a.Resource, '/')+1:]
	if a.Account != acct {
		return src, c.notFound(name)
	}
	err = s.store.View(func(tx *store.Tx) error {
		h, err := c.load(tx, acct, name)
		if err != nil {
			return err
		}
		var id authz.Identity
		add := func(c class, e *entity) error {
			n := len(id.Policies)
			if err := addPolicies(tx, acct, &id, c, e); err != nil {
				return err
			}
			for _, d := range id.Policies[n:] {
				src.policies = append(src.policies, sourceDoc{d, sourceID(d)})
			}
			return nil
		}
		if err := add(c, h.common()); err != nil {
			return err
		}
		var bound string
		switch r := h.(type) {
		case *userRecord:
			bound = r.Boundary
			for _, g := range r.Groups {
				gh, found, err := groups.find(tx, acct, g)
				if err != nil {
					return err
				}
				if found {
					if err := add(groups, gh.common()); err != nil {
						return err
					}
				}
			}
		case *roleRecord:
			bound = r.Boundary
		}
		if err := boundary(tx, acct, &id, bound); err != nil || id.Boundary == nil {
			return err
		}
		src.boundary = &sourceDoc{*id.Boundary, sourceID(*id.Boundary)}
		return nil
	})
	return src, err
}

// sourceID names a document as the simulator does: an inline policy
// (authz's "user/alice/name") as user_alice_name, a managed one by its
// name.
func sourceID(d authz.Document) string {
	if strings.HasPrefix(d.Name, "arn:") {
		return d.Name[strings.LastIndexByte(d.Name, '/')+1:]
	}
	return strings.ReplaceAll(d.Name, "/", "_")
}

func invalidEntity(sourceARN string) error {
	return invalidInput("Invalid Entity Arn: %s does not clearly define entity type and name.", sourceARN)
}

func (s *Service) getContextKeysForCustomPolicy(ctx context.Context, in *iamapi.GetContextKeysForCustomPolicyRequest) (*iamapi.GetContextKeysForPolicyResponse, error) {
	sim := &simulation{}
	if err := sim.inputs(in.PolicyInputList, nil); err != nil {
		return nil, err
	}
	return &iamapi.GetContextKeysForPolicyResponse{ContextKeyNames: strPtrs(sim.keys)}, nil
}

func (s *Service) getContextKeysForPrincipalPolicy(ctx context.Context, in *iamapi.GetContextKeysForPrincipalPolicyRequest) (*iamapi.GetContextKeysForPolicyResponse, error) {
	src, err := s.entityPolicies(account(ctx), *in.PolicySourceArn)
	if err != nil {
		return nil, err
	}
	sim := &simulation{}
	for _, d := range src.policies {
		if _, err := sim.add(d.id, identitySource, d.Kind, d.Text, d.AWSManaged); err != nil {
			return nil, err
		}
	}
	if err := sim.inputs(in.PolicyInputList, nil); err != nil {
		return nil, err
	}
	return &iamapi.GetContextKeysForPolicyResponse{ContextKeyNames: strPtrs(sim.keys)}, nil
}

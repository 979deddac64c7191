package cloudformation

import (
	"context"
	"sort"

	"github.com/cloudbox/cloudbox/api"
	cfnapi "github.com/cloudbox/cloudbox/api/cloudformation"
	"github.com/cloudbox/cloudbox/services/cloudformation/stackpolicy"
	"github.com/cloudbox/cloudbox/store"
)

// maxPolicy is the largest stack policy AWS takes (16 KB), by URL too.
const maxPolicy = 16384

// policyOf reads and checks the stack policy a request gives by body or
// by S3 URL ("" when it gives none); bodyName and urlName are the
// request's members.
func (s *Service) policyOf(ctx context.Context, body, url *string, bodyName, urlName string) (string, error) {
	if body != nil && url != nil {
		return "", api.Errorf("ValidationError", "You cannot specify both %s and %s", urlName, bodyName)
	}
	text := deref(body)
	if url != nil {
		var err error
		text, err = s.readURL(ctx, *url, urlName, maxPolicy)
		if err == errTooLarge {
			return "", api.Errorf("ValidationError", "%s", stackpolicy.ErrInvalid.Error())
		}
		if err != nil {
			return "", err
		}
	}
	if body == nil && url == nil {
		return "", nil
	}
	if _, err := stackpolicy.Parse(text); err != nil {
		return "", api.Errorf("ValidationError", "%s", err.Error())
	}
	return text, nil
}

// updateOpts are what an update brings besides its template: the stack
// policy it is checked against instead of the stack's (during) and the
// one the stack gets once it succeeds (next), "" for none given; and the
// stack as it was (prior), whose template and parameters a rollback
// puts back.
type updateOpts struct {
	during, next string
	prior        *stack
}

// policyFor is the policy a deployment checks its changes against: none
// (everything allowed) when the stack has none.
func policyFor(st *stack, pol updateOpts) *stackpolicy.Policy {
	text := st.Policy
	if pol.during != "" {
		text = pol.during
	}
	if text == "" {
		return nil
	}
	p, err := stackpolicy.Parse(text)
	if err != nil {
		// Checked when set: a record that does not parse protects all.
		p, _ = stackpolicy.Parse("{}")
	}
	return p
}

// SetStackPolicy sets a stack's policy.
func (s *Service) SetStackPolicy(ctx context.Context, in *cfnapi.SetStackPolicyInput) (*cfnapi.SetStackPolicyOutput, error) {
	r := api.RequestFrom(ctx)
	if in.StackPolicyBody == nil && in.StackPolicyURL == nil {
		return nil, api.Errorf("ValidationError", "Either StackPolicyBody or StackPolicyURL must be specified")
	}
	text, err := s.policyOf(ctx, in.StackPolicyBody, in.StackPolicyURL, "StackPolicyBody", "StackPolicyURL")
	if err != nil {
		return nil, err
	}
	err = s.store.Update(func(tx *store.Tx) error {
		st, err := findStack(tx, r.Caller.Account, r.Region, deref(in.StackName))
		if err != nil {
			return err
		}
		st.Policy = text
		return tx.Put(stackKey(st.Account, st.Region, st.ID), st)
	})
	if err != nil {
		return nil, err
	}
	return &cfnapi.SetStackPolicyOutput{}, nil
}

// GetStackPolicy returns a stack's policy; a stack without one answers
// without a body.
func (s *Service) GetStackPolicy(ctx context.Context, in *cfnapi.GetStackPolicyInput) (*cfnapi.GetStackPolicyOutput, error) {
	st, err := s.lookup(ctx, deref(in.StackName))
	if err != nil {
		return nil, err
	}
	return &cfnapi.GetStackPolicyOutput{StackPolicyBody: optional(st.Policy)}, nil
}

// allowed checks an update action on a resource against the
// deployment's stack policy; a refusal fails the resource with AWS's
// reason.
func (d *deployment) allowed(action string, r *resource) error {
	if d.policy == nil {
		return nil
	}
	ok, why := d.policy.Check(action, r.Logical, r.Type)
	if ok {
		return nil
	}
	cp := *r
	d.resourceEvent(&cp, "UPDATE_FAILED", why)
	return policyError(why)
}

type policyError string

func (e policyError) Error() string { return string(e) }

// deletionsAllowed checks, before an update changes anything, that the
// stack policy allows deleting the resources the new template drops
// (they go in the cleanup phase, when nothing can be rolled back); it
// returns those refused.
func (d *deployment) deletionsAllowed(names []string) []string {
	if d.policy == nil {
		return nil
	}
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = true
	}
	var refused []string
	for _, n := range sortedKeys(d.old) {
		if r := d.old[n]; !keep[n] && r.Physical != "" && d.allowed(stackpolicy.Delete, r) != nil {
			refused = append(refused, n)
		}
	}
	return refused
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

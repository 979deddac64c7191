package cloudformation

import (
	"context"
	"encoding/json"
	"reflect"
	"sort"
	"strconv"
	"time"

	"github.com/cloudbox/cloudbox/api"
	cfnapi "github.com/cloudbox/cloudbox/api/cloudformation"
	"github.com/cloudbox/cloudbox/services/cloudformation/template"
	"github.com/cloudbox/cloudbox/store"
	"github.com/cloudbox/cloudbox/uuid"
)

// Drift: a provider with a reader reports a resource's current
// properties in its template's terms; they are compared with the
// properties the stack made it with. Types without a reader are
// NOT_CHECKED, as AWS reports the types it cannot check.

// drift is one resource's last drift check.
type drift struct {
	Status           string
	Expected, Actual string       `json:",omitempty"`
	Diffs            []difference `json:",omitempty"`
	Time             time.Time
}

type difference struct{ Path, Expected, Actual, Type string }

// stackDrift is a stack's last drift detection.
type stackDrift struct {
	ID, Status string
	Count      int64
	Time       time.Time
}

// DetectStackDrift checks the stack's resources (or the ones named)
// against their services. The detection is complete when it answers.
func (s *Service) DetectStackDrift(ctx context.Context, in *cfnapi.DetectStackDriftInput) (*cfnapi.DetectStackDriftOutput, error) {
	st, err := s.lookup(ctx, deref(in.StackName))
	if err != nil {
		return nil, err
	}
	if st.inProgress() || st.Status == "REVIEW_IN_PROGRESS" {
		return nil, api.Errorf("ValidationError", "Drift detection cannot be performed on stack %s in status %s", st.ID, st.Status)
	}
	only := map[string]bool{}
	for _, n := range in.LogicalResourceIds {
		only[*n] = true
	}
	results := map[string]*drift{}
	for n, r := range st.Resources {
		if len(only) > 0 && !only[n] || r.Physical == "" || r.Status == "DELETE_COMPLETE" {
			continue
		}
		results[n] = s.checkDrift(st, r)
	}
	d := &stackDrift{ID: uuid.New(), Status: "IN_SYNC", Time: s.now()}
	for _, x := range results {
		if x.Status == "MODIFIED" || x.Status == "DELETED" {
			d.Status = "DRIFTED"
			d.Count++
		}
	}
	err = s.store.Update(func(tx *store.Tx) error {
		cur := new(stack)
		k := stackKey(st.Account, st.Region, st.ID)
		if _, err := tx.Get(k, cur); err != nil {
			return err
		}
		for n, x := range results {
			if r := cur.Resources[n]; r != nil {
				r.Drift = x
			}
		}
		cur.Drift = d
		return tx.Put(k, cur)
	})
	if err != nil {
		return nil, err
	}
	return &cfnapi.DetectStackDriftOutput{StackDriftDetectionId: &d.ID}, nil
}

// checkDrift compares one resource with what its service has now.
func (s *Service) checkDrift(st *stack, r *resource) *drift {
	out := &drift{Status: "NOT_CHECKED", Time: s.now()}
	prov := providers[r.Type]
	if prov == nil || prov.Read == nil {
		return out
	}
	c := &call{ctx: api.WithRequest(context.Background(), &api.Request{ID: uuid.New(), Region: st.Region, Caller: st.Caller}),
		svc: s.invoker, account: st.Account, region: st.Region, stackName: st.Name, logical: r.Logical, poll: s.poll, log: s.log}
	actual, err := prov.Read(c, stateOf(r), props(r.Props))
	if gone(err) {
		out.Status = "DELETED"
		return out
	}
	if err != nil {
		s.log.Warn("cloudformation: drift check", "stack", st.Name, "resource", r.Logical, "err", err)
		return out
	}
	made := withCompanions(st, r)
	if prov.Normalize != nil {
		made = prov.Normalize(made)
	}
	expected := map[string]any{}
	for k, v := range made {
		if _, ok := actual[k]; ok {
			expected[k] = stringify(v)
		}
	}
	act := stringify(map[string]any(actual)).(map[string]any)
	eb, _ := json.Marshal(expected)
	ab, _ := json.Marshal(act)
	out.Expected, out.Actual = string(eb), string(ab)
	compare(expected, act, "", &out.Diffs)
	out.Status = "IN_SYNC"
	if len(out.Diffs) > 0 {
		out.Status = "MODIFIED"
	}
	return out
}

// withCompanions adds to a security group's expected rules those the
// stack's standalone SecurityGroupIngress and SecurityGroupEgress
// resources put on it: they are the stack's too.
func withCompanions(st *stack, r *resource) props {
	made := props{}
	for k, v := range r.Props {
		made[k] = v
	}
	if r.Type != "AWS::EC2::SecurityGroup" {
		return made
	}
	for _, o := range sortedResources(st) {
		key := map[string]string{"AWS::EC2::SecurityGroupIngress": "SecurityGroupIngress", "AWS::EC2::SecurityGroupEgress": "SecurityGroupEgress"}[o.Type]
		if key == "" || o.Physical == "" || props(o.Props).str("GroupId") != r.Physical {
			continue
		}
		rule := map[string]any{}
		for k, v := range o.Props {
			if k != "GroupId" && k != "GroupName" {
				rule[k] = v
			}
		}
		list, _ := made[key].([]any)
		made[key] = append(append([]any(nil), list...), rule)
	}
	return made
}

// stringify makes every scalar a string: templates and services spell
// numbers and booleans differently.
func stringify(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = stringify(e)
		}
		return m
	case props:
		return stringify(map[string]any(x))
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = stringify(e)
		}
		return l
	case nil:
		return nil
	}
	return template.String(v)
}

// compare records the differences between expected and actual under
// path. Lists compare as sets (rules, tags): an item only one side has is
// ADD or REMOVE.
func compare(expected, actual any, path string, diffs *[]difference) {
	switch e := expected.(type) {
	case map[string]any:
		a, ok := actual.(map[string]any)
		if !ok {
			break
		}
		keys := make([]string, 0, len(e))
		for k := range e {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if av, ok := a[k]; ok {
				compare(e[k], av, path+"/"+k, diffs)
			} else {
				*diffs = append(*diffs, difference{Path: path + "/" + k, Expected: jsonText(e[k]), Type: "REMOVE"})
			}
		}
		return
	case []any:
		a, ok := actual.([]any)
		if !ok {
			break
		}
		for i, x := range e {
			if !containsValue(a, x) {
				*diffs = append(*diffs, difference{Path: path + "/" + strconv.Itoa(i), Expected: jsonText(x), Type: "REMOVE"})
			}
		}
		for i, x := range a {
			if !containsValue(e, x) {
				*diffs = append(*diffs, difference{Path: path + "/" + strconv.Itoa(i), Actual: jsonText(x), Type: "ADD"})
			}
		}
		return
	}
	if !reflect.DeepEqual(expected, actual) {
		*diffs = append(*diffs, difference{Path: path, Expected: jsonText(expected), Actual: jsonText(actual), Type: "NOT_EQUAL"})
	}
}

func containsValue(l []any, x any) bool {
	for _, e := range l {
		if reflect.DeepEqual(e, x) {
			return true
		}
	}
	return false
}

func jsonText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// DescribeStackDriftDetectionStatus reports a drift detection.
func (s *Service) DescribeStackDriftDetectionStatus(ctx context.Context, in *cfnapi.DescribeStackDriftDetectionStatusInput) (*cfnapi.DescribeStackDriftDetectionStatusOutput, error) {
	r := api.RequestFrom(ctx)
	id := deref(in.StackDriftDetectionId)
	var found *stack
	err := s.store.View(func(tx *store.Tx) error {
		all, err := stacks(tx, r.Caller.Account, r.Region)
		for _, st := range all {
			if st.Drift != nil && st.Drift.ID == id {
				found = st
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	if found == nil {
		return nil, api.Errorf("ValidationError", "Drift detection %s does not exist", id)
	}
	d := found.Drift
	return &cfnapi.DescribeStackDriftDetectionStatusOutput{StackId: str(found.ID), StackDriftDetectionId: str(d.ID),
		StackDriftStatus: str(d.Status), DetectionStatus: str("DETECTION_COMPLETE"), DriftedStackResourceCount: &d.Count,
		Timestamp: timep(d.Time)}, nil
}

func resourceDrift(st *stack, r *resource) *cfnapi.StackResourceDrift {
	d := r.Drift
	out := &cfnapi.StackResourceDrift{StackId: str(st.ID), LogicalResourceId: str(r.Logical), PhysicalResourceId: str(r.Physical),
		ResourceType: str(r.Type), StackResourceDriftStatus: str(d.Status), Timestamp: timep(d.Time), PropertyDifferences: []*cfnapi.PropertyDifference{}}
	if d.Expected != "" {
		out.ExpectedProperties, out.ActualProperties = str(d.Expected), str(d.Actual)
	}
	for _, x := range d.Diffs {
		out.PropertyDifferences = append(out.PropertyDifferences, &cfnapi.PropertyDifference{PropertyPath: str(x.Path),
			ExpectedValue: str(x.Expected), ActualValue: str(x.Actual), DifferenceType: str(x.Type)})
	}
	return out
}

// DescribeStackResourceDrifts lists the last drift check of the stack's
// resources.
func (s *Service) DescribeStackResourceDrifts(ctx context.Context, in *cfnapi.DescribeStackResourceDriftsInput) (*cfnapi.DescribeStackResourceDriftsOutput, error) {
	st, err := s.lookup(ctx, deref(in.StackName))
	if err != nil {
		return nil, err
	}
	filter := map[string]bool{}
	for _, f := range in.StackResourceDriftStatusFilters {
		filter[*f] = true
	}
	var list []*cfnapi.StackResourceDrift
	for _, r := range sortedResources(st) {
		if r.Drift == nil || len(filter) > 0 && !filter[r.Drift.Status] {
			continue
		}
		list = append(list, resourceDrift(st, r))
	}
	size := 100
	if in.MaxResults != nil && *in.MaxResults > 0 {
		size = int(*in.MaxResults)
	}
	pg, next, err := page(list, in.NextToken, size)
	if err != nil {
		return nil, err
	}
	return &cfnapi.DescribeStackResourceDriftsOutput{StackResourceDrifts: append([]*cfnapi.StackResourceDrift{}, pg...), NextToken: next}, nil
}

// DetectStackResourceDrift checks one resource.
func (s *Service) DetectStackResourceDrift(ctx context.Context, in *cfnapi.DetectStackResourceDriftInput) (*cfnapi.DetectStackResourceDriftOutput, error) {
	st, err := s.lookup(ctx, deref(in.StackName))
	if err != nil {
		return nil, err
	}
	r, ok := st.Resources[deref(in.LogicalResourceId)]
	if !ok || r.Physical == "" {
		return nil, api.Errorf("ValidationError", "Resource %s does not exist for stack %s", deref(in.LogicalResourceId), st.Name)
	}
	r.Drift = s.checkDrift(st, r)
	err = s.store.Update(func(tx *store.Tx) error {
		cur := new(stack)
		k := stackKey(st.Account, st.Region, st.ID)
		if _, err := tx.Get(k, cur); err != nil {
			return err
		}
		if x := cur.Resources[r.Logical]; x != nil {
			x.Drift = r.Drift
		}
		return tx.Put(k, cur)
	})
	if err != nil {
		return nil, err
	}
	return &cfnapi.DetectStackResourceDriftOutput{StackResourceDrift: resourceDrift(st, r)}, nil
}

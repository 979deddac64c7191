package cloudformation

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	cfnapi "github.com/cloudbox/cloudbox/api/cloudformation"
	ssmapi "github.com/cloudbox/cloudbox/api/ssm"
	"github.com/cloudbox/cloudbox/services/cloudformation/template"
	"github.com/cloudbox/cloudbox/store"
	"github.com/cloudbox/cloudbox/uuid"
)

var stackName = regexp.MustCompile(`^[a-zA-Z][-a-zA-Z0-9]{0,127}$`)

func checkStackName(name string) error {
	if !stackName.MatchString(name) {
		return api.Errorf("ValidationError", "1 validation error detected: Value '%s' at 'stackName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*", name)
	}
	return nil
}

// prepared is a template checked for a stack: its parameters' values and
// the exports it imports.
type prepared struct {
	body    string
	tpl     *template.Template
	given   map[string]string
	values  map[string]any
	imports []string
}

// prepare parses and checks a template with its parameters as CreateStack,
// UpdateStack and CreateChangeSet do before anything is made.
func (s *Service) prepare(ctx context.Context, body string, in []*cfnapi.Parameter, prev *stack, caps []*string) (*prepared, error) {
	r := api.RequestFrom(ctx)
	if body == "" {
		return nil, api.Errorf("ValidationError", "Either Template URL or Template Body must be specified.")
	}
	tpl, err := template.Parse(body)
	if err != nil {
		return nil, validation(err)
	}
	given := map[string]string{}
	for _, p := range in {
		k := deref(p.ParameterKey)
		if p.UsePreviousValue != nil && *p.UsePreviousValue {
			if prev == nil {
				return nil, api.Errorf("ValidationError", "Invalid input for parameter key %s. Cannot specify usePreviousValue as true for a parameter key not in the previous template", k)
			}
			v, ok := prev.Params[k]
			if !ok {
				return nil, api.Errorf("ValidationError", "Invalid input for parameter key %s. Cannot specify usePreviousValue as true for a parameter key not in the previous template", k)
			}
			given[k] = v
			continue
		}
		given[k] = deref(p.ParameterValue)
	}
	values, err := tpl.ParamValues(given, func(name string) (string, error) { return s.ssmValue(r, name) })
	if err != nil {
		return nil, validation(err)
	}
	// Record every value, defaults included, as DescribeStacks shows them.
	for n, p := range tpl.Parameters {
		if _, ok := given[n]; !ok && p.Default != nil {
			given[n] = *p.Default
		}
	}
	if err := checkCapabilities(tpl, caps); err != nil {
		return nil, err
	}
	imports, err := s.imports(r, tpl, values)
	if err != nil {
		return nil, err
	}
	return &prepared{body: body, tpl: tpl, given: given, values: values, imports: imports}, nil
}

func validation(err error) error {
	if e, ok := err.(*api.Error); ok {
		return e
	}
	return api.Errorf("ValidationError", "%s", err.Error())
}

// ssmValue reads a parameter through SSM's API
// (AWS::SSM::Parameter::Value types).
func (s *Service) ssmValue(r *api.Request, name string) (string, error) {
	ctx := api.WithRequest(context.Background(), &api.Request{ID: uuid.New(), Region: r.Region, Caller: r.Caller})
	out, err := s.invoker("ssm").Invoke(ctx, "GetParameter", &ssmapi.GetParameterRequest{Name: &name})
	if err != nil {
		if e, ok := err.(*api.Error); ok && e.Code == "ParameterNotFound" {
			return "", api.Errorf("ValidationError", "Parameters: [%s] referenced by template have types not supported by CloudFormation.", name)
		}
		return "", err
	}
	return deref(out.(*ssmapi.GetParameterResult).Parameter.Value), nil
}

// iamNames are the properties that name IAM resources: a template that
// sets them needs CAPABILITY_NAMED_IAM.
var iamNames = map[string]string{"AWS::IAM::Role": "RoleName", "AWS::IAM::User": "UserName", "AWS::IAM::Group": "GroupName",
	"AWS::IAM::ManagedPolicy": "ManagedPolicyName", "AWS::IAM::InstanceProfile": "InstanceProfileName"}

func checkCapabilities(tpl *template.Template, caps []*string) error {
	need := ""
	for _, r := range tpl.Resources {
		p := providers[r.Type]
		if p == nil || p.Capability == "" {
			continue
		}
		if need == "" {
			need = "CAPABILITY_IAM"
		}
		if k, ok := iamNames[r.Type]; ok {
			if _, named := r.Properties[k]; named {
				need = "CAPABILITY_NAMED_IAM"
			}
		}
	}
	if need == "" {
		return nil
	}
	for _, c := range caps {
		if *c == need || *c == "CAPABILITY_NAMED_IAM" {
			return nil
		}
	}
	return api.Errorf("InsufficientCapabilitiesException", "Requires capabilities : [%s]", need)
}

// imports finds the export names a template imports (their names may not
// depend on resources) and checks that each exists.
func (s *Service) imports(r *api.Request, tpl *template.Template, values map[string]any) ([]string, error) {
	var exprs []any
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e)
			}
		case map[string]any:
			if a, ok := x["Fn::ImportValue"]; ok && len(x) == 1 {
				exprs = append(exprs, a)
				return
			}
			for _, e := range x {
				walk(e)
			}
		}
	}
	for _, res := range tpl.Resources {
		walk(res.Properties)
	}
	for _, o := range tpl.Outputs {
		walk(o.Value)
	}
	if len(exprs) == 0 {
		return nil, nil
	}
	c := &template.Context{Region: r.Region, Account: r.Caller.Account, Params: values}
	var names []string
	err := s.store.View(func(tx *store.Tx) error {
		ex, err := exportsOf(tx, r.Caller.Account, r.Region)
		if err != nil {
			return err
		}
		for _, e := range exprs {
			v, err := tpl.Resolve(e, c)
			if err != nil {
				return api.Errorf("ValidationError", "Template error: the attribute in Fn::ImportValue must not depend on any resources, imported values, or Fn::GetAZs")
			}
			name := template.String(v)
			if _, ok := ex[name]; !ok {
				return api.Errorf("ValidationError", "No export named %s found", name)
			}
			names = append(names, name)
		}
		return nil
	})
	sort.Strings(names)
	return dedupe(names), err
}

func dedupe(s []string) []string {
	var out []string
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func tagPairs(tags []*cfnapi.Tag) [][2]string {
	var out [][2]string
	for _, t := range tags {
		out = append(out, [2]string{deref(t.Key), deref(t.Value)})
	}
	return out
}

func strs(p []*string) []string {
	var out []string
	for _, s := range p {
		out = append(out, deref(s))
	}
	return out
}

// CreateStack creates a stack and starts making its resources.
func (s *Service) CreateStack(ctx context.Context, in *cfnapi.CreateStackInput) (*cfnapi.CreateStackOutput, error) {
	r := api.RequestFrom(ctx)
	name := deref(in.StackName)
	if err := checkStackName(name); err != nil {
		return nil, err
	}
	body, err := s.templateBody(ctx, in.TemplateBody, in.TemplateURL)
	if err != nil {
		return nil, err
	}
	p, err := s.prepare(ctx, body, in.Parameters, nil, in.Capabilities)
	if err != nil {
		return nil, err
	}
	policy, err := s.policyOf(ctx, in.StackPolicyBody, in.StackPolicyURL, "StackPolicyBody", "StackPolicyURL")
	if err != nil {
		return nil, err
	}
	rc, err := rollbackConfigOf(in.RollbackConfiguration)
	if err != nil {
		return nil, err
	}
	onFailure := deref(in.OnFailure)
	if in.DisableRollback != nil && *in.DisableRollback {
		if onFailure != "" {
			return nil, api.Errorf("ValidationError", "Parameters: [OnFailure, DisableRollback] are mutually exclusive")
		}
		onFailure = "DO_NOTHING"
	}
	st := &stack{ID: stackARN(r.Region, r.Caller.Account, name, uuid.New()), Name: name, Account: r.Caller.Account,
		Region: r.Region, Caller: r.Caller, Created: s.now(), Template: p.body, Description: p.tpl.Description,
		Params: p.given, NoEcho: noEcho(p.tpl), Resolved: resolved(p), OnFailure: onFailure, DisableRollback: onFailure == "DO_NOTHING",
		Capabilities: strs(in.Capabilities), NotificationARNs: strs(in.NotificationARNs), Tags: tagPairs(in.Tags),
		Protected: in.EnableTerminationProtection != nil && *in.EnableTerminationProtection,
		Imports:   p.imports, Resources: map[string]*resource{}, Policy: policy, Rollback: rc}
	if in.TimeoutInMinutes != nil {
		st.TimeoutInMinutes = *in.TimeoutInMinutes
	}
	err = s.store.Update(func(tx *store.Tx) error {
		if old, err := findStack(tx, r.Caller.Account, r.Region, name); err == nil && old != nil {
			return api.Errorf("AlreadyExistsException", "Stack [%s] already exists", name)
		}
		return s.begin(tx, st, "CREATE_IN_PROGRESS")
	})
	if err != nil {
		return nil, err
	}
	s.startDeploy(st, p, true, "", updateOpts{})
	return &cfnapi.CreateStackOutput{StackId: &st.ID}, nil
}

// resolved are the values SSM gave the parameters of SSM types.
func resolved(p *prepared) map[string]string {
	m := map[string]string{}
	for n, param := range p.tpl.Parameters {
		if _, ok := template.SSMType(param.Type); !ok {
			continue
		}
		switch v := p.values[n].(type) {
		case string:
			m[n] = v
		case []string:
			m[n] = strings.Join(v, ",")
		}
	}
	return m
}

func noEcho(tpl *template.Template) map[string]bool {
	m := map[string]bool{}
	for n, p := range tpl.Parameters {
		if p.NoEcho {
			m[n] = true
		}
	}
	return m
}

// begin writes a stack in status with the stack's "User Initiated" event.
func (s *Service) begin(tx *store.Tx, st *stack, status string) error {
	st.Status, st.Reason = status, "User Initiated"
	if status != "REVIEW_IN_PROGRESS" && status != "CREATE_IN_PROGRESS" {
		st.Updated = s.now()
	}
	st.Events = append(st.Events, event{ID: uuid.New(), Logical: st.Name, Physical: st.ID,
		Type: "AWS::CloudFormation::Stack", Status: status, Reason: "User Initiated", Time: s.now()})
	return tx.Put(stackKey(st.Account, st.Region, st.ID), st)
}

// startDeploy runs a deployment of p on the stack worker.
func (s *Service) startDeploy(st *stack, p *prepared, create bool, changeSet string, pol updateOpts) {
	d := &deployment{s: s, account: st.Account, region: st.Region, stackID: st.ID, name: st.Name,
		caller: st.Caller, tags: st.Tags, tpl: p.tpl, params: p.values, create: create,
		rollback: st.OnFailure != "DO_NOTHING", deleteOnFailure: st.OnFailure == "DELETE",
		changeSetID: changeSet, cur: map[string]*resource{}, old: map[string]*resource{},
		policy: policyFor(st, pol), nextPolicy: pol.next, prior: pol.prior, triggers: st.Rollback}
	for n, r := range st.Resources {
		if r.Status != "DELETE_COMPLETE" {
			d.old[n] = r
			d.cur[n] = r
		}
	}
	go d.run()
}

// UpdateStack changes a stack to a new template or parameters.
func (s *Service) UpdateStack(ctx context.Context, in *cfnapi.UpdateStackInput) (*cfnapi.UpdateStackOutput, error) {
	r := api.RequestFrom(ctx)
	var st *stack
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		st, err = findStack(tx, r.Caller.Account, r.Region, deref(in.StackName))
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := updatable(st); err != nil {
		return nil, err
	}
	body := st.Template
	if in.UsePreviousTemplate == nil || !*in.UsePreviousTemplate {
		if body, err = s.templateBody(ctx, in.TemplateBody, in.TemplateURL); err != nil {
			return nil, err
		}
	}
	p, err := s.prepare(ctx, body, in.Parameters, st, in.Capabilities)
	if err != nil {
		return nil, err
	}
	var pol updateOpts
	rc, err := rollbackConfigOf(in.RollbackConfiguration)
	if err != nil {
		return nil, err
	}
	if pol.next, err = s.policyOf(ctx, in.StackPolicyBody, in.StackPolicyURL, "StackPolicyBody", "StackPolicyURL"); err != nil {
		return nil, err
	}
	if pol.during, err = s.policyOf(ctx, in.StackPolicyDuringUpdateBody, in.StackPolicyDuringUpdateURL,
		"StackPolicyDuringUpdateBody", "StackPolicyDuringUpdateURL"); err != nil {
		return nil, err
	}
	tags := st.Tags
	if in.Tags != nil {
		tags = tagPairs(in.Tags)
	}
	if p.body == st.Template && equalParams(p.given, st.Params) && equalTags(tags, st.Tags) {
		return nil, api.Errorf("ValidationError", "No updates are to be performed.")
	}
	err = s.store.Update(func(tx *store.Tx) error {
		cur := new(stack)
		if _, err := tx.Get(stackKey(st.Account, st.Region, st.ID), cur); err != nil {
			return err
		}
		if err := updatable(cur); err != nil {
			return err
		}
		prior := *cur
		pol.prior = &prior
		cur.Template, cur.Params, cur.NoEcho, cur.Tags, cur.Imports = p.body, p.given, noEcho(p.tpl), tags, p.imports
		cur.Resolved = resolved(p)
		cur.Description, cur.Caller, cur.Capabilities = p.tpl.Description, r.Caller, strs(in.Capabilities)
		cur.OnFailure = ""
		if rc != nil {
			cur.Rollback = rc
		}
		if in.DisableRollback != nil && *in.DisableRollback {
			cur.OnFailure = "DO_NOTHING"
		}
		st = cur
		return s.begin(tx, cur, "UPDATE_IN_PROGRESS")
	})
	if err != nil {
		return nil, err
	}
	s.startDeploy(st, p, false, "", pol)
	return &cfnapi.UpdateStackOutput{StackId: &st.ID}, nil
}

func updatable(st *stack) error {
	switch st.Status {
	case "CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE", "IMPORT_ROLLBACK_COMPLETE":
		return nil
	}
	return api.Errorf("ValidationError", "Stack:%s is in %s state and can not be updated.", st.ID, st.Status)
}

func equalParams(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func equalTags(a, b [][2]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// DeleteStack starts deleting a stack; a stack that does not exist is
// no error, as in AWS.
func (s *Service) DeleteStack(ctx context.Context, in *cfnapi.DeleteStackInput) (*cfnapi.DeleteStackOutput, error) {
	r := api.RequestFrom(ctx)
	retain := map[string]bool{}
	for _, n := range in.RetainResources {
		retain[*n] = true
	}
	var run *stack
	err := s.store.Update(func(tx *store.Tx) error {
		st, err := findStack(tx, r.Caller.Account, r.Region, deref(in.StackName))
		if err != nil || !st.live() {
			return nil
		}
		if st.Protected {
			return api.Errorf("ValidationError", "Stack [%s] cannot be deleted while TerminationProtection is enabled", st.Name)
		}
		if st.Status == "DELETE_IN_PROGRESS" {
			return nil
		}
		if st.inProgress() {
			return api.Errorf("ValidationError", "Stack [%s] cannot be deleted while in status %s", st.Name, st.Status)
		}
		if len(retain) > 0 && st.Status != "DELETE_FAILED" {
			return api.Errorf("ValidationError", "Invalid operation on stack %s. RetainResources can only be specified when the stack is in the DELETE_FAILED state", st.ID)
		}
		if st.Status == "REVIEW_IN_PROGRESS" {
			// Nothing was made: the stack goes at once.
			st.Status, st.Reason, st.Deleted = "DELETE_COMPLETE", "", s.now()
			st.Events = append(st.Events, event{ID: uuid.New(), Logical: st.Name, Physical: st.ID,
				Type: "AWS::CloudFormation::Stack", Status: "DELETE_COMPLETE", Time: s.now()})
			return tx.Put(stackKey(st.Account, st.Region, st.ID), st)
		}
		st.Caller = r.Caller
		run = st
		st.Status = "DELETE_IN_PROGRESS"
		return tx.Put(stackKey(st.Account, st.Region, st.ID), st)
	})
	if err != nil {
		return nil, err
	}
	if run != nil {
		go s.deleteStack(run.Account, run.Region, run.ID, retain)
	}
	return &cfnapi.DeleteStackOutput{}, nil
}

// page cuts a list at a NextToken (an offset) into pages of size.
func page[T any](all []T, token *string, size int) ([]T, *string, error) {
	start := 0
	if token != nil {
		n, err := strconv.Atoi(*token)
		if err != nil || n < 0 || n > len(all) {
			return nil, nil, api.Errorf("ValidationError", "Invalid NextToken")
		}
		start = n
	}
	end := min(start+size, len(all))
	var next *string
	if end < len(all) {
		next = str(strconv.Itoa(end))
	}
	return all[start:end], next, nil
}

// DescribeStacks describes one stack or every live one.
func (s *Service) DescribeStacks(ctx context.Context, in *cfnapi.DescribeStacksInput) (*cfnapi.DescribeStacksOutput, error) {
	r := api.RequestFrom(ctx)
	var list []*stack
	err := s.store.View(func(tx *store.Tx) error {
		if in.StackName != nil {
			st, err := findStack(tx, r.Caller.Account, r.Region, *in.StackName)
			if err != nil {
				return err
			}
			list = []*stack{st}
			return nil
		}
		all, err := stacks(tx, r.Caller.Account, r.Region)
		for _, st := range all {
			if st.live() {
				list = append(list, st)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(list, in.NextToken, 100)
	if err != nil {
		return nil, err
	}
	out := &cfnapi.DescribeStacksOutput{NextToken: next, Stacks: []*cfnapi.Stack{}}
	for _, st := range pg {
		out.Stacks = append(out.Stacks, describe(st))
	}
	return out, nil
}

func timep(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func describe(st *stack) *cfnapi.Stack {
	out := &cfnapi.Stack{StackId: str(st.ID), StackName: str(st.Name), StackStatus: str(st.Status),
		CreationTime: timep(st.Created), LastUpdatedTime: timep(st.Updated), DeletionTime: timep(st.Deleted),
		DisableRollback: boolp(st.DisableRollback), EnableTerminationProtection: boolp(st.Protected),
		NotificationARNs: []*string{}, Tags: []*cfnapi.Tag{},
		DriftInformation:      &cfnapi.StackDriftInformation{StackDriftStatus: str("NOT_CHECKED")},
		RollbackConfiguration: st.Rollback.describe()}
	if st.Reason != "" {
		out.StackStatusReason = str(st.Reason)
	}
	if st.Drift != nil {
		out.DriftInformation = &cfnapi.StackDriftInformation{StackDriftStatus: str(st.Drift.Status), LastCheckTimestamp: timep(st.Drift.Time)}
	}
	if st.Description != "" {
		out.Description = str(st.Description)
	}
	if st.ChangeSetID != "" {
		out.ChangeSetId = str(st.ChangeSetID)
	}
	if st.TimeoutInMinutes > 0 {
		out.TimeoutInMinutes = &st.TimeoutInMinutes
	}
	for _, c := range st.Capabilities {
		out.Capabilities = append(out.Capabilities, str(c))
	}
	for _, a := range st.NotificationARNs {
		out.NotificationARNs = append(out.NotificationARNs, str(a))
	}
	for _, t := range st.Tags {
		out.Tags = append(out.Tags, &cfnapi.Tag{Key: str(t[0]), Value: str(t[1])})
	}
	keys := make([]string, 0, len(st.Params))
	for k := range st.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := st.Params[k]
		if st.NoEcho[k] {
			v = "****"
		}
		param := &cfnapi.Parameter{ParameterKey: str(k), ParameterValue: str(v)}
		if r, ok := st.Resolved[k]; ok {
			param.ResolvedValue = str(r)
		}
		out.Parameters = append(out.Parameters, param)
	}
	for _, o := range st.Outputs {
		co := &cfnapi.Output{OutputKey: str(o.Key), OutputValue: str(o.Value)}
		if o.Description != "" {
			co.Description = str(o.Description)
		}
		if o.Export != "" {
			co.ExportName = str(o.Export)
		}
		out.Outputs = append(out.Outputs, co)
	}
	return out
}

func boolp(b bool) *bool { return &b }

// ListStacks lists the stacks, deleted ones too, newest first.
func (s *Service) ListStacks(ctx context.Context, in *cfnapi.ListStacksInput) (*cfnapi.ListStacksOutput, error) {
	r := api.RequestFrom(ctx)
	filter := map[string]bool{}
	for _, f := range in.StackStatusFilter {
		filter[*f] = true
	}
	var list []*stack
	err := s.store.View(func(tx *store.Tx) error {
		all, err := stacks(tx, r.Caller.Account, r.Region)
		for i := len(all) - 1; i >= 0; i-- {
			if len(filter) == 0 || filter[all[i].Status] {
				list = append(list, all[i])
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(list, in.NextToken, 100)
	if err != nil {
		return nil, err
	}
	out := &cfnapi.ListStacksOutput{NextToken: next, StackSummaries: []*cfnapi.StackSummary{}}
	for _, st := range pg {
		sum := &cfnapi.StackSummary{StackId: str(st.ID), StackName: str(st.Name), StackStatus: str(st.Status),
			CreationTime: timep(st.Created), LastUpdatedTime: timep(st.Updated), DeletionTime: timep(st.Deleted),
			DriftInformation: &cfnapi.StackDriftInformationSummary{StackDriftStatus: str("NOT_CHECKED")}}
		if st.Reason != "" {
			sum.StackStatusReason = str(st.Reason)
		}
		if st.Description != "" {
			sum.TemplateDescription = str(st.Description)
		}
		out.StackSummaries = append(out.StackSummaries, sum)
	}
	return out, nil
}

// DescribeStackEvents lists a stack's events, newest first.
func (s *Service) DescribeStackEvents(ctx context.Context, in *cfnapi.DescribeStackEventsInput) (*cfnapi.DescribeStackEventsOutput, error) {
	st, err := s.lookup(ctx, deref(in.StackName))
	if err != nil {
		return nil, err
	}
	evs := make([]event, len(st.Events))
	for i, e := range st.Events {
		evs[len(evs)-1-i] = e
	}
	pg, next, err := page(evs, in.NextToken, 100)
	if err != nil {
		return nil, err
	}
	out := &cfnapi.DescribeStackEventsOutput{NextToken: next, StackEvents: []*cfnapi.StackEvent{}}
	for _, e := range pg {
		ev := &cfnapi.StackEvent{EventId: str(e.ID), StackId: str(st.ID), StackName: str(st.Name),
			LogicalResourceId: str(e.Logical), PhysicalResourceId: str(e.Physical), ResourceType: str(e.Type),
			ResourceStatus: str(e.Status), Timestamp: timep(e.Time)}
		if e.Reason != "" {
			ev.ResourceStatusReason = str(e.Reason)
		}
		if e.Props != "" {
			ev.ResourceProperties = str(e.Props)
		}
		out.StackEvents = append(out.StackEvents, ev)
	}
	return out, nil
}

// lookup reads a stack by name or id for a describing call.
func (s *Service) lookup(ctx context.Context, name string) (*stack, error) {
	r := api.RequestFrom(ctx)
	var st *stack
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		st, err = findStack(tx, r.Caller.Account, r.Region, name)
		return err
	})
	return st, err
}

func sortedResources(st *stack) []*resource {
	out := make([]*resource, 0, len(st.Resources))
	for _, r := range st.Resources {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Logical < out[j].Logical })
	return out
}

// DescribeStackResources describes a stack's resources, found by stack or
// by one resource's physical id.
func (s *Service) DescribeStackResources(ctx context.Context, in *cfnapi.DescribeStackResourcesInput) (*cfnapi.DescribeStackResourcesOutput, error) {
	r := api.RequestFrom(ctx)
	var st *stack
	err := s.store.View(func(tx *store.Tx) error {
		if in.StackName != nil {
			var err error
			st, err = findStack(tx, r.Caller.Account, r.Region, *in.StackName)
			return err
		}
		if in.PhysicalResourceId == nil {
			return api.Errorf("ValidationError", "Either StackName or PhysicalResourceId must be specified.")
		}
		all, err := stacks(tx, r.Caller.Account, r.Region)
		for _, x := range all {
			for _, res := range x.Resources {
				if res.Physical == *in.PhysicalResourceId && x.live() {
					st = x
				}
			}
		}
		if err == nil && st == nil {
			return api.Errorf("ValidationError", "Stack for %s does not exist", *in.PhysicalResourceId)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	out := &cfnapi.DescribeStackResourcesOutput{StackResources: []*cfnapi.StackResource{}}
	for _, res := range sortedResources(st) {
		if in.LogicalResourceId != nil && *in.LogicalResourceId != res.Logical {
			continue
		}
		sr := &cfnapi.StackResource{StackId: str(st.ID), StackName: str(st.Name), LogicalResourceId: str(res.Logical),
			ResourceType: str(res.Type), ResourceStatus: str(res.Status), Timestamp: timep(res.Updated),
			DriftInformation: driftInfo(res)}
		if res.Physical != "" {
			sr.PhysicalResourceId = str(res.Physical)
		}
		if res.Reason != "" {
			sr.ResourceStatusReason = str(res.Reason)
		}
		out.StackResources = append(out.StackResources, sr)
	}
	return out, nil
}

// ListStackResources summarizes a stack's resources.
func (s *Service) ListStackResources(ctx context.Context, in *cfnapi.ListStackResourcesInput) (*cfnapi.ListStackResourcesOutput, error) {
	st, err := s.lookup(ctx, deref(in.StackName))
	if err != nil {
		return nil, err
	}
	pg, next, err := page(sortedResources(st), in.NextToken, 100)
	if err != nil {
		return nil, err
	}
	out := &cfnapi.ListStackResourcesOutput{NextToken: next, StackResourceSummaries: []*cfnapi.StackResourceSummary{}}
	for _, res := range pg {
		sr := &cfnapi.StackResourceSummary{LogicalResourceId: str(res.Logical), ResourceType: str(res.Type),
			ResourceStatus: str(res.Status), LastUpdatedTimestamp: timep(res.Updated),
			DriftInformation: &cfnapi.StackResourceDriftInformationSummary{StackResourceDriftStatus: str("NOT_CHECKED")}}
		if res.Physical != "" {
			sr.PhysicalResourceId = str(res.Physical)
		}
		if res.Reason != "" {
			sr.ResourceStatusReason = str(res.Reason)
		}
		out.StackResourceSummaries = append(out.StackResourceSummaries, sr)
	}
	return out, nil
}

// DescribeStackResource describes one resource of a stack.
func (s *Service) DescribeStackResource(ctx context.Context, in *cfnapi.DescribeStackResourceInput) (*cfnapi.DescribeStackResourceOutput, error) {
	st, err := s.lookup(ctx, deref(in.StackName))
	if err != nil {
		return nil, err
	}
	res, ok := st.Resources[deref(in.LogicalResourceId)]
	if !ok {
		return nil, api.Errorf("ValidationError", "Resource %s does not exist for stack %s", deref(in.LogicalResourceId), st.Name)
	}
	d := &cfnapi.StackResourceDetail{StackId: str(st.ID), StackName: str(st.Name), LogicalResourceId: str(res.Logical),
		ResourceType: str(res.Type), ResourceStatus: str(res.Status), LastUpdatedTimestamp: timep(res.Updated),
		DriftInformation: driftInfo(res)}
	if res.Physical != "" {
		d.PhysicalResourceId = str(res.Physical)
	}
	if res.Reason != "" {
		d.ResourceStatusReason = str(res.Reason)
	}
	if res.Metadata != "" {
		d.Metadata = str(res.Metadata)
	}
	return &cfnapi.DescribeStackResourceOutput{StackResourceDetail: d}, nil
}

// GetTemplate returns a stack's template (or a change set's).
func (s *Service) GetTemplate(ctx context.Context, in *cfnapi.GetTemplateInput) (*cfnapi.GetTemplateOutput, error) {
	stages := []*string{str("Original"), str("Processed")}
	if in.ChangeSetName != nil {
		cs, err := s.findChangeSet(ctx, deref(in.ChangeSetName), deref(in.StackName))
		if err != nil {
			return nil, err
		}
		return &cfnapi.GetTemplateOutput{TemplateBody: str(cs.Template), StagesAvailable: stages}, nil
	}
	st, err := s.lookup(ctx, deref(in.StackName))
	if err != nil {
		return nil, err
	}
	return &cfnapi.GetTemplateOutput{TemplateBody: str(st.Template), StagesAvailable: stages}, nil
}

// ValidateTemplate checks a template.
func (s *Service) ValidateTemplate(ctx context.Context, in *cfnapi.ValidateTemplateInput) (*cfnapi.ValidateTemplateOutput, error) {
	body, err := s.templateBody(ctx, in.TemplateBody, in.TemplateURL)
	if err != nil {
		return nil, err
	}
	tpl, err := template.Parse(body)
	if err != nil {
		return nil, validation(err)
	}
	out := &cfnapi.ValidateTemplateOutput{Parameters: []*cfnapi.TemplateParameter{}}
	if tpl.Description != "" {
		out.Description = str(tpl.Description)
	}
	for _, n := range sortedParams(tpl) {
		p := tpl.Parameters[n]
		out.Parameters = append(out.Parameters, &cfnapi.TemplateParameter{ParameterKey: str(n), DefaultValue: p.Default,
			NoEcho: boolp(p.NoEcho), Description: optional(p.Description)})
	}
	out.Capabilities, out.CapabilitiesReason = capabilities(tpl)
	for _, t := range tpl.Transform {
		out.DeclaredTransforms = append(out.DeclaredTransforms, str(t))
	}
	return out, nil
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func sortedParams(tpl *template.Template) []string {
	names := make([]string, 0, len(tpl.Parameters))
	for n := range tpl.Parameters {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// capabilities are the capabilities a template needs, and why.
func capabilities(tpl *template.Template) ([]*string, *string) {
	err := checkCapabilities(tpl, nil)
	if err == nil {
		return nil, nil
	}
	need := strings.TrimSuffix(strings.TrimPrefix(err.(*api.Error).Message, "Requires capabilities : ["), "]")
	var types []string
	for _, r := range tpl.Resources {
		if p := providers[r.Type]; p != nil && p.Capability != "" {
			types = append(types, r.Type)
		}
	}
	sort.Strings(types)
	return []*string{str(need)}, str(fmt.Sprintf("The following resource(s) require capabilities: [%s]", strings.Join(dedupe(types), ", ")))
}

// GetTemplateSummary summarizes a template or a stack's.
func (s *Service) GetTemplateSummary(ctx context.Context, in *cfnapi.GetTemplateSummaryInput) (*cfnapi.GetTemplateSummaryOutput, error) {
	var body string
	if in.StackName != nil {
		st, err := s.lookup(ctx, *in.StackName)
		if err != nil {
			return nil, err
		}
		body = st.Template
	} else {
		var err error
		if body, err = s.templateBody(ctx, in.TemplateBody, in.TemplateURL); err != nil {
			return nil, err
		}
	}
	tpl, err := template.Parse(body)
	if err != nil {
		return nil, validation(err)
	}
	out := &cfnapi.GetTemplateSummaryOutput{Version: str("2010-09-09"), Parameters: []*cfnapi.ParameterDeclaration{}}
	if tpl.Description != "" {
		out.Description = str(tpl.Description)
	}
	if tpl.Metadata != nil {
		b, _ := json.Marshal(tpl.Metadata)
		out.Metadata = str(string(b))
	}
	for _, n := range sortedParams(tpl) {
		p := tpl.Parameters[n]
		d := &cfnapi.ParameterDeclaration{ParameterKey: str(n), ParameterType: str(p.Type), DefaultValue: p.Default,
			NoEcho: boolp(p.NoEcho), Description: optional(p.Description), ParameterConstraints: &cfnapi.ParameterConstraints{}}
		for _, v := range p.AllowedValues {
			d.ParameterConstraints.AllowedValues = append(d.ParameterConstraints.AllowedValues, str(v))
		}
		out.Parameters = append(out.Parameters, d)
	}
	var types []string
	for _, r := range tpl.Resources {
		types = append(types, r.Type)
	}
	sort.Strings(types)
	for _, t := range dedupe(types) {
		out.ResourceTypes = append(out.ResourceTypes, str(t))
	}
	out.Capabilities, out.CapabilitiesReason = capabilities(tpl)
	for _, t := range tpl.Transform {
		out.DeclaredTransforms = append(out.DeclaredTransforms, str(t))
	}
	return out, nil
}

// ListExports lists the region's exports.
func (s *Service) ListExports(ctx context.Context, in *cfnapi.ListExportsInput) (*cfnapi.ListExportsOutput, error) {
	r := api.RequestFrom(ctx)
	var ex map[string][2]string
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		ex, err = exportsOf(tx, r.Caller.Account, r.Region)
		return err
	})
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ex))
	for n := range ex {
		names = append(names, n)
	}
	sort.Strings(names)
	pg, next, err := page(names, in.NextToken, 100)
	if err != nil {
		return nil, err
	}
	out := &cfnapi.ListExportsOutput{NextToken: next, Exports: []*cfnapi.Export{}}
	for _, n := range pg {
		out.Exports = append(out.Exports, &cfnapi.Export{Name: str(n), Value: str(ex[n][0]), ExportingStackId: str(ex[n][1])})
	}
	return out, nil
}

// ListImports lists the stacks importing an export.
func (s *Service) ListImports(ctx context.Context, in *cfnapi.ListImportsInput) (*cfnapi.ListImportsOutput, error) {
	r := api.RequestFrom(ctx)
	name := deref(in.ExportName)
	var users []string
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		users, err = importers(tx, r.Caller.Account, r.Region, name, "")
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return nil, api.Errorf("ValidationError", "Export '%s' is not imported by any stack.", name)
	}
	pg, next, err := page(users, in.NextToken, 100)
	if err != nil {
		return nil, err
	}
	return &cfnapi.ListImportsOutput{Imports: str2p(pg), NextToken: next}, nil
}

func str2p(l []string) []*string {
	out := make([]*string, len(l))
	for i := range l {
		out[i] = &l[i]
	}
	return out
}

// UpdateTerminationProtection turns a stack's termination protection on
// or off.
func (s *Service) UpdateTerminationProtection(ctx context.Context, in *cfnapi.UpdateTerminationProtectionInput) (*cfnapi.UpdateTerminationProtectionOutput, error) {
	r := api.RequestFrom(ctx)
	var id string
	err := s.store.Update(func(tx *store.Tx) error {
		st, err := findStack(tx, r.Caller.Account, r.Region, deref(in.StackName))
		if err != nil {
			return err
		}
		st.Protected, id = in.EnableTerminationProtection != nil && *in.EnableTerminationProtection, st.ID
		return tx.Put(stackKey(st.Account, st.Region, st.ID), st)
	})
	if err != nil {
		return nil, err
	}
	return &cfnapi.UpdateTerminationProtectionOutput{StackId: &id}, nil
}

func driftInfo(r *resource) *cfnapi.StackResourceDriftInformation {
	if r.Drift == nil {
		return &cfnapi.StackResourceDriftInformation{StackResourceDriftStatus: str("NOT_CHECKED")}
	}
	return &cfnapi.StackResourceDriftInformation{StackResourceDriftStatus: str(r.Drift.Status), LastCheckTimestamp: timep(r.Drift.Time)}
}

// SignalResource records a signal for a resource whose creation waits
// for them (cfn-signal calls it).
func (s *Service) SignalResource(ctx context.Context, in *cfnapi.SignalResourceInput) (*cfnapi.SignalResourceOutput, error) {
	r := api.RequestFrom(ctx)
	logical := deref(in.LogicalResourceId)
	now := s.now()
	err := s.store.Update(func(tx *store.Tx) error {
		st, err := findStack(tx, r.Caller.Account, r.Region, deref(in.StackName))
		if err != nil {
			return err
		}
		res, ok := st.Resources[logical]
		if !ok {
			return api.Errorf("ValidationError", "Resource %s does not exist for stack %s", logical, st.Name)
		}
		if !res.Awaiting {
			return api.Errorf("ValidationError", "Resource %s is in %s state and cannot be signaled", logical, res.Status)
		}
		res.Signals = append(res.Signals, signal{ID: deref(in.UniqueId), Status: deref(in.Status)})
		st.Events = append(st.Events, event{ID: uuid.New(), Logical: logical, Physical: res.Physical, Type: res.Type,
			Status: res.Status, Reason: fmt.Sprintf("Received %s signal with UniqueId %s", deref(in.Status), deref(in.UniqueId)), Time: now})
		return tx.Put(stackKey(st.Account, st.Region, st.ID), st)
	})
	if err != nil {
		return nil, err
	}
	return &cfnapi.SignalResourceOutput{}, nil
}

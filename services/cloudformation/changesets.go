package cloudformation

import (
	"context"
	"regexp"
	"sort"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	cfnapi "github.com/cloudbox/cloudbox/api/cloudformation"
	"github.com/cloudbox/cloudbox/store"
	"github.com/cloudbox/cloudbox/uuid"
)

var changeSetName = regexp.MustCompile(`^[a-zA-Z][-a-zA-Z0-9]{0,127}$`)

const noChanges = "The submitted information didn't contain changes. Submit different information to create a change set."

// CreateChangeSet records a change set with its changes.
func (s *Service) CreateChangeSet(ctx context.Context, in *cfnapi.CreateChangeSetInput) (*cfnapi.CreateChangeSetOutput, error) {
	r := api.RequestFrom(ctx)
	name, stackName := deref(in.ChangeSetName), deref(in.StackName)
	if !changeSetName.MatchString(name) {
		return nil, api.Errorf("ValidationError", "1 validation error detected: Value '%s' at 'changeSetName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*", name)
	}
	if err := checkStackName(stackName); err != nil {
		return nil, err
	}
	typ := deref(in.ChangeSetType)
	if typ == "" {
		typ = "UPDATE"
	}
	if typ == "IMPORT" {
		return nil, api.Errorf("ValidationError", "ChangeSetType IMPORT is not supported by cloudbox")
	}
	var prev *stack
	err := s.store.View(func(tx *store.Tx) error {
		st, err := findStack(tx, r.Caller.Account, r.Region, stackName)
		if err == nil {
			prev = st
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch {
	case typ == "CREATE" && prev != nil && prev.Status != "REVIEW_IN_PROGRESS":
		return nil, api.Errorf("ValidationError", "Stack [%s] already exists and cannot be created again with the changeSet [%s].", stackName, name)
	case typ == "UPDATE" && prev == nil:
		return nil, api.Errorf("ValidationError", "Stack [%s] does not exist", stackName)
	case typ == "UPDATE" && prev.Status == "REVIEW_IN_PROGRESS":
		return nil, api.Errorf("ValidationError", "Stack [%s] does not exist", stackName)
	case typ == "UPDATE":
		if err := updatable(prev); err != nil {
			return nil, err
		}
	}
	var body string
	if in.UsePreviousTemplate != nil && *in.UsePreviousTemplate {
		if prev == nil {
			return nil, api.Errorf("ValidationError", "Stack [%s] does not exist", stackName)
		}
		body = prev.Template
	} else if body, err = s.templateBody(ctx, in.TemplateBody, in.TemplateURL); err != nil {
		return nil, err
	}
	var before *stack
	if typ == "UPDATE" {
		before = prev
	}
	p, err := s.prepare(ctx, body, in.Parameters, before, in.Capabilities)
	if err != nil {
		return nil, err
	}
	rc, err := rollbackConfigOf(in.RollbackConfiguration)
	if err != nil {
		return nil, err
	}
	cs := &changeSet{Rollback: rc, Name: name, StackName: stackName, Type: typ, Execution: "UNAVAILABLE",
		Created: s.now(), Description: deref(in.Description), Template: p.body, Params: p.given,
		Capabilities: strs(in.Capabilities), NotificationARNs: strs(in.NotificationARNs), Tags: tagPairs(in.Tags),
		OnFailure: deref(in.OnStackFailure)}
	s.settle(cs, p, prev, typ == "CREATE")
	err = s.store.Update(func(tx *store.Tx) error {
		st, _ := findStack(tx, r.Caller.Account, r.Region, stackName)
		if st == nil {
			st = &stack{ID: stackARN(r.Region, r.Caller.Account, stackName, uuid.New()), Name: stackName,
				Account: r.Caller.Account, Region: r.Region, Caller: r.Caller, Created: s.now(),
				Resources: map[string]*resource{}, Params: map[string]string{}}
			if err := s.begin(tx, st, "REVIEW_IN_PROGRESS"); err != nil {
				return err
			}
		}
		all, err := changeSets(tx, r.Caller.Account, r.Region, st.ID)
		if err != nil {
			return err
		}
		for _, other := range all {
			if other.Name == name {
				return api.Errorf("AlreadyExistsException", "ChangeSet [%s] already exists", name)
			}
		}
		cs.StackID = st.ID
		cs.ID = changeSetARN(r.Region, r.Caller.Account, name, uuid.New())
		return tx.Put(changeSetKey(r.Caller.Account, r.Region, cs.ID), cs)
	})
	if err != nil {
		return nil, err
	}
	return &cfnapi.CreateChangeSetOutput{Id: str(cs.ID), StackId: str(cs.StackID)}, nil
}

func changeSets(tx *store.Tx, account, region, stackID string) ([]*changeSet, error) {
	var out []*changeSet
	err := tx.List(account, region, kindChangeSet, func(_ string, raw []byte) error {
		cs := new(changeSet)
		if err := jsonUnmarshal(raw, cs); err != nil {
			return err
		}
		if stackID == "" || cs.StackID == stackID {
			out = append(out, cs)
		}
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, err
}

// settle records what executing the change set would do: its changes
// (CREATE_COMPLETE, executable) or why there are none (FAILED). The work
// is a comparison of records, done before CreateChangeSet answers.
func (s *Service) settle(cs *changeSet, p *prepared, prev *stack, create bool) {
	changes, err := s.changes(p, prev, create)
	switch {
	case err != nil:
		cs.Status, cs.Reason = "FAILED", err.Error()
	case len(changes) == 0 && !create && prev != nil && p.body == prev.Template && equalParams(p.given, prev.Params) &&
		(cs.Tags == nil || equalTags(cs.Tags, prev.Tags)):
		cs.Status, cs.Reason = "FAILED", noChanges
	default:
		cs.Status, cs.Execution, cs.Changes = "CREATE_COMPLETE", "AVAILABLE", changes
	}
}

// changes compares the template with the stack's resources. A resource's
// new properties are evaluated against the resources as they are; one
// that refers to a resource still to be made changes "Conditional"ly.
func (s *Service) changes(p *prepared, prev *stack, create bool) ([]change, error) {
	old := map[string]*resource{}
	if prev != nil && !create {
		for n, r := range prev.Resources {
			if r.Status != "DELETE_COMPLETE" && r.Physical != "" {
				old[n] = r
			}
		}
	}
	d := &deployment{s: s, account: prev0(prev).Account, region: prev0(prev).Region, stackID: prev0(prev).ID,
		name: prev0(prev).Name, caller: prev0(prev).Caller, tpl: p.tpl, params: p.values, cur: old}
	names, err := d.wanted()
	if err != nil {
		return nil, err
	}
	var out []change
	for _, n := range names {
		def := p.tpl.Resources[n]
		o := old[n]
		if o == nil {
			out = append(out, change{Action: "Add", Logical: n, Type: def.Type})
			continue
		}
		c := change{Action: "Modify", Logical: n, Physical: o.Physical, Type: def.Type, Scope: []string{"Properties"}}
		resolved, err := p.tpl.Resolve(def.Properties, d.context())
		m, _ := resolved.(map[string]any)
		prov := providers[def.Type]
		switch {
		case o.Type != def.Type:
			c.Replacement = "True"
		case err != nil:
			c.Replacement = "Conditional"
		case sameProps(o.Props, m):
			continue
		case prov == nil || prov.Update == nil:
			c.Replacement = "True"
		default:
			c.Replacement = "False"
			if replaces(prov, o.Props, m) {
				c.Replacement = "True"
			}
		}
		out = append(out, c)
	}
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = true
	}
	var removed []string
	for n := range old {
		if !keep[n] {
			removed = append(removed, n)
		}
	}
	sort.Strings(removed)
	for _, n := range removed {
		out = append(out, change{Action: "Remove", Logical: n, Physical: old[n].Physical, Type: old[n].Type})
	}
	return out, nil
}

// prev0 is the stack or an empty one (a change set creating its stack).
func prev0(st *stack) *stack {
	if st == nil {
		return &stack{}
	}
	return st
}

// findChangeSet finds a change set by ARN, or by name within a stack.
func (s *Service) findChangeSet(ctx context.Context, name, stackName string) (*changeSet, error) {
	r := api.RequestFrom(ctx)
	var found *changeSet
	err := s.store.View(func(tx *store.Tx) error {
		if strings.HasPrefix(name, "arn:") {
			cs := new(changeSet)
			ok, err := tx.Get(changeSetKey(r.Caller.Account, r.Region, name), cs)
			if ok {
				found = cs
			}
			return err
		}
		if stackName == "" {
			return api.Errorf("ValidationError", "StackName must be specified if ChangeSetName is not specified as an ARN.")
		}
		st, err := findStack(tx, r.Caller.Account, r.Region, stackName)
		if err != nil {
			return api.Errorf("ChangeSetNotFound", "ChangeSet [%s] does not exist", name)
		}
		all, err := changeSets(tx, r.Caller.Account, r.Region, st.ID)
		for _, cs := range all {
			if cs.Name == name {
				found = cs
			}
		}
		return err
	})
	if err == nil && found == nil {
		err = api.Errorf("ChangeSetNotFound", "ChangeSet [%s] does not exist", name)
	}
	return found, err
}

// DescribeChangeSet describes a change set and its changes.
func (s *Service) DescribeChangeSet(ctx context.Context, in *cfnapi.DescribeChangeSetInput) (*cfnapi.DescribeChangeSetOutput, error) {
	cs, err := s.findChangeSet(ctx, deref(in.ChangeSetName), deref(in.StackName))
	if err != nil {
		return nil, err
	}
	out := &cfnapi.DescribeChangeSetOutput{ChangeSetId: str(cs.ID), ChangeSetName: str(cs.Name), StackId: str(cs.StackID),
		StackName: str(cs.StackName), Status: str(cs.Status), ExecutionStatus: str(cs.Execution),
		CreationTime: timep(cs.Created), Changes: []*cfnapi.Change{}, NotificationARNs: str2p(cs.NotificationARNs),
		Capabilities: str2p(cs.Capabilities), IncludeNestedStacks: boolp(false), RollbackConfiguration: &cfnapi.RollbackConfiguration{}}
	if cs.Reason != "" {
		out.StatusReason = str(cs.Reason)
	}
	if cs.Description != "" {
		out.Description = str(cs.Description)
	}
	if cs.OnFailure != "" {
		out.OnStackFailure = str(cs.OnFailure)
	}
	for _, t := range cs.Tags {
		out.Tags = append(out.Tags, &cfnapi.Tag{Key: str(t[0]), Value: str(t[1])})
	}
	keys := make([]string, 0, len(cs.Params))
	for k := range cs.Params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		out.Parameters = append(out.Parameters, &cfnapi.Parameter{ParameterKey: str(k), ParameterValue: str(cs.Params[k])})
	}
	for _, c := range cs.Changes {
		rc := &cfnapi.ResourceChange{Action: str(c.Action), LogicalResourceId: str(c.Logical), ResourceType: str(c.Type),
			Scope: str2p(c.Scope), Details: []*cfnapi.ResourceChangeDetail{}}
		if c.Physical != "" {
			rc.PhysicalResourceId = str(c.Physical)
		}
		if c.Replacement != "" {
			rc.Replacement = str(c.Replacement)
		}
		out.Changes = append(out.Changes, &cfnapi.Change{Type: str("Resource"), ResourceChange: rc})
	}
	return out, nil
}

// ExecuteChangeSet deploys a change set to its stack.
func (s *Service) ExecuteChangeSet(ctx context.Context, in *cfnapi.ExecuteChangeSetInput) (*cfnapi.ExecuteChangeSetOutput, error) {
	r := api.RequestFrom(ctx)
	cs, err := s.findChangeSet(ctx, deref(in.ChangeSetName), deref(in.StackName))
	if err != nil {
		return nil, err
	}
	if cs.Execution != "AVAILABLE" {
		return nil, api.Errorf("InvalidChangeSetStatus", "ChangeSet [%s] cannot be executed in its current status of [%s]", cs.ID, cs.Status)
	}
	var params []*cfnapi.Parameter
	for k, v := range cs.Params {
		params = append(params, &cfnapi.Parameter{ParameterKey: str(k), ParameterValue: str(v)})
	}
	caps := str2p(cs.Capabilities)
	p, err := s.prepare(ctx, cs.Template, params, nil, caps)
	if err != nil {
		return nil, err
	}
	var st *stack
	var opts updateOpts
	err = s.store.Update(func(tx *store.Tx) error {
		st = new(stack)
		if _, err := tx.Get(stackKey(r.Caller.Account, r.Region, cs.StackID), st); err != nil {
			return err
		}
		status := "UPDATE_IN_PROGRESS"
		if cs.Type == "CREATE" {
			status = "CREATE_IN_PROGRESS"
		} else if err := updatable(st); err != nil {
			return err
		}
		if cs.Type != "CREATE" {
			prior := *st
			opts.prior = &prior
		}
		st.Template, st.Params, st.NoEcho, st.Imports = p.body, p.given, noEcho(p.tpl), p.imports
		st.Resolved = resolved(p)
		st.Description, st.Caller, st.Capabilities, st.ChangeSetID = p.tpl.Description, r.Caller, cs.Capabilities, cs.ID
		st.NotificationARNs = cs.NotificationARNs
		if cs.Tags != nil {
			st.Tags = cs.Tags
		}
		st.OnFailure = cs.OnFailure
		if cs.Rollback != nil {
			st.Rollback = cs.Rollback
		}
		if in.DisableRollback != nil && *in.DisableRollback {
			st.OnFailure = "DO_NOTHING"
		}
		st.DisableRollback = st.OnFailure == "DO_NOTHING"
		// Executing a change set ends the stack's other change sets.
		others, err := changeSets(tx, r.Caller.Account, r.Region, st.ID)
		if err != nil {
			return err
		}
		for _, o := range others {
			if o.ID != cs.ID {
				if _, err := tx.Delete(changeSetKey(r.Caller.Account, r.Region, o.ID)); err != nil {
					return err
				}
			}
		}
		cs.Execution = "EXECUTE_IN_PROGRESS"
		if err := tx.Put(changeSetKey(r.Caller.Account, r.Region, cs.ID), cs); err != nil {
			return err
		}
		return s.begin(tx, st, status)
	})
	if err != nil {
		return nil, err
	}
	s.startDeploy(st, p, cs.Type == "CREATE", cs.ID, opts)
	return &cfnapi.ExecuteChangeSetOutput{}, nil
}

// finishChangeSet records how a change set's execution ended.
func (s *Service) finishChangeSet(account, region, id string, ok bool) {
	err := s.store.Update(func(tx *store.Tx) error {
		cs := new(changeSet)
		k := changeSetKey(account, region, id)
		if found, err := tx.Get(k, cs); err != nil || !found {
			return err
		}
		cs.Execution = "EXECUTE_COMPLETE"
		if !ok {
			cs.Execution = "EXECUTE_FAILED"
		}
		return tx.Put(k, cs)
	})
	if err != nil {
		s.log.Error("cloudformation: change set", "err", err)
	}
}

// DeleteChangeSet deletes a change set not being executed.
func (s *Service) DeleteChangeSet(ctx context.Context, in *cfnapi.DeleteChangeSetInput) (*cfnapi.DeleteChangeSetOutput, error) {
	r := api.RequestFrom(ctx)
	cs, err := s.findChangeSet(ctx, deref(in.ChangeSetName), deref(in.StackName))
	if err != nil {
		return nil, err
	}
	if cs.Execution == "EXECUTE_IN_PROGRESS" {
		return nil, api.Errorf("InvalidChangeSetStatus", "ChangeSet [%s] cannot be deleted in its current status of [%s]", cs.ID, cs.Execution)
	}
	err = s.store.Update(func(tx *store.Tx) error {
		_, err := tx.Delete(changeSetKey(r.Caller.Account, r.Region, cs.ID))
		return err
	})
	return &cfnapi.DeleteChangeSetOutput{}, err
}

// ListChangeSets lists a stack's change sets.
func (s *Service) ListChangeSets(ctx context.Context, in *cfnapi.ListChangeSetsInput) (*cfnapi.ListChangeSetsOutput, error) {
	r := api.RequestFrom(ctx)
	var all []*changeSet
	err := s.store.View(func(tx *store.Tx) error {
		st, err := findStack(tx, r.Caller.Account, r.Region, deref(in.StackName))
		if err != nil {
			return err
		}
		all, err = changeSets(tx, r.Caller.Account, r.Region, st.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	pg, next, err := page(all, in.NextToken, 100)
	if err != nil {
		return nil, err
	}
	out := &cfnapi.ListChangeSetsOutput{NextToken: next, Summaries: []*cfnapi.ChangeSetSummary{}}
	for _, cs := range pg {
		sum := &cfnapi.ChangeSetSummary{ChangeSetId: str(cs.ID), ChangeSetName: str(cs.Name), StackId: str(cs.StackID),
			StackName: str(cs.StackName), Status: str(cs.Status), ExecutionStatus: str(cs.Execution),
			CreationTime: timep(cs.Created), IncludeNestedStacks: boolp(false)}
		if cs.Reason != "" {
			sum.StatusReason = str(cs.Reason)
		}
		if cs.Description != "" {
			sum.Description = str(cs.Description)
		}
		out.Summaries = append(out.Summaries, sum)
	}
	return out, nil
}

package cloudformation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	cfnapi "github.com/cloudbox/cloudbox/api/cloudformation"
	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/services/cloudformation/template"
	"github.com/cloudbox/cloudbox/store"
	"github.com/cloudbox/cloudbox/uuid"
)

// Stack sets with self-managed permissions: a template deployed as one
// stack per target account and region, each named StackSet-<set>-<uuid>
// and made through this service's own API in the target, as the
// execution role there. Operations (create, update and delete of
// instances) run one at a time per set, targets in order, one target at a
// time, as AWS's default preferences do; a target fails when the
// administration role is missing from the set's account or the execution
// role from the target's, with AWS's reason. Trust policies are not
// evaluated, and the service-managed model (AWS Organizations) is not
// offered.

const (
	kindStackSet   = "cloudformation:stackset"    // id: the set's name
	kindStackSetOp = "cloudformation:stackset-op" // id: <set name>/<operation id>

	defaultAdminRole = "AWSCloudFormationStackSetAdministrationRole"
	defaultExecRole  = "AWSCloudFormationStackSetExecutionRole"
)

type stackSet struct {
	Name, ID, ARN, Account, Region string
	Description                    string   `json:",omitempty"`
	Template                       string   // the body
	Params                         []kv     `json:",omitempty"`
	Capabilities                   []string `json:",omitempty"`
	Tags                           [][2]string
	AdminRoleARN, ExecRoleName     string
	Status                         string // ACTIVE, DELETED
	Instances                      []*stackInstance
}

type kv struct{ Key, Value string }

type stackInstance struct {
	Account, Region string
	StackID         string `json:",omitempty"`
	Status          string // CURRENT, OUTDATED, INOPERABLE
	Detailed        string // PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED, INOPERABLE
	Reason          string `json:",omitempty"`
	Overrides       []kv   `json:",omitempty"`
	LastOperationID string `json:",omitempty"`
}

type stackSetOp struct {
	ID, SetName, SetID   string
	Action               string // CREATE, UPDATE, DELETE
	Status               string // RUNNING, SUCCEEDED, FAILED
	Reason               string `json:",omitempty"`
	Created              time.Time
	Ended                time.Time `json:",omitzero"`
	RetainStacks         bool      `json:",omitempty"`
	AdminRoleARN, Exec   string
	Results              []opResult
	FailureTolerance     int64
	MaxConcurrentTargets int64
	RegionOrder          []string `json:",omitempty"`
}

type opResult struct {
	Account, Region string
	Status          string // PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED
	Reason          string `json:",omitempty"`
}

func stackSetNotFound(name string) error {
	return api.NewError(http.StatusNotFound, "StackSetNotFoundException", "StackSet %s not found", name)
}

func setKey(account, region, name string) store.Key {
	return store.Key{Account: account, Region: region, Kind: kindStackSet, ID: name}
}

func opKey(account, region, set, op string) store.Key {
	return store.Key{Account: account, Region: region, Kind: kindStackSetOp, ID: set + "/" + op}
}

// loadSet finds a live set by name or id ("name:uuid").
func loadSet(tx *store.Tx, account, region, nameOrID string) (*stackSet, error) {
	name, _, _ := strings.Cut(nameOrID, ":")
	ss := new(stackSet)
	ok, err := tx.Get(setKey(account, region, name), ss)
	if err != nil {
		return nil, err
	}
	if !ok || ss.Status != "ACTIVE" || (strings.Contains(nameOrID, ":") && ss.ID != nameOrID) {
		return nil, stackSetNotFound(nameOrID)
	}
	return ss, nil
}

func kvs(ps []*cfnapi.Parameter) []kv {
	var out []kv
	for _, p := range ps {
		if p != nil {
			out = append(out, kv{deref(p.ParameterKey), deref(p.ParameterValue)})
		}
	}
	return out
}

func apiParams(ps []kv) []*cfnapi.Parameter {
	out := []*cfnapi.Parameter{}
	for _, p := range ps {
		out = append(out, &cfnapi.Parameter{ParameterKey: str(p.Key), ParameterValue: str(p.Value)})
	}
	return out
}

// callAs refuses the delegated-administrator mode, which needs AWS
// Organizations.
func callAs(v *string) error {
	if v != nil && *v == "DELEGATED_ADMIN" {
		return api.Errorf("ValidationError", "Account is not registered as a delegated administrator: cloudbox has no AWS Organizations")
	}
	return nil
}

// CreateStackSet stores a set; it deploys nothing until CreateStackInstances.
func (s *Service) CreateStackSet(ctx context.Context, in *cfnapi.CreateStackSetInput) (*cfnapi.CreateStackSetOutput, error) {
	if err := callAs(in.CallAs); err != nil {
		return nil, err
	}
	r := api.RequestFrom(ctx)
	name := deref(in.StackSetName)
	if err := checkStackName(name); err != nil {
		return nil, err
	}
	if pm := deref(in.PermissionModel); pm == "SERVICE_MANAGED" {
		return nil, api.Errorf("ValidationError", "The SERVICE_MANAGED permission model needs AWS Organizations, which cloudbox does not run; use SELF_MANAGED")
	}
	if in.StackId != nil {
		return nil, api.Errorf("ValidationError", "Importing a stack into a stack set (StackId) is not supported by cloudbox")
	}
	body, err := s.templateBody(ctx, in.TemplateBody, in.TemplateURL)
	if err != nil {
		return nil, err
	}
	if body == "" {
		return nil, api.Errorf("ValidationError", "Either Template URL or Template Body must be specified.")
	}
	if _, err := template.Parse(body); err != nil {
		return nil, validation(err)
	}
	ss := &stackSet{Name: name, ID: name + ":" + uuid.New(), Account: r.Caller.Account, Region: r.Region,
		Description: deref(in.Description), Template: body, Params: kvs(in.Parameters), Capabilities: strs(in.Capabilities),
		Tags: tagPairs(in.Tags), Status: "ACTIVE",
		AdminRoleARN: cmpOr(deref(in.AdministrationRoleARN), fmt.Sprintf("arn:%s:iam::%s:role/%s", template.Partition(r.Region), r.Caller.Account, defaultAdminRole)),
		ExecRoleName: cmpOr(deref(in.ExecutionRoleName), defaultExecRole)}
	ss.ARN = fmt.Sprintf("arn:%s:cloudformation:%s:%s:stackset/%s", template.Partition(r.Region), r.Region, r.Caller.Account, ss.ID)
	err = s.store.Update(func(tx *store.Tx) error {
		old := new(stackSet)
		ok, err := tx.Get(setKey(ss.Account, ss.Region, name), old)
		if err != nil {
			return err
		}
		if ok && old.Status == "ACTIVE" {
			return api.NewError(http.StatusConflict, "NameAlreadyExistsException", "StackSet %s already exists", name)
		}
		return tx.Put(setKey(ss.Account, ss.Region, name), ss)
	})
	if err != nil {
		return nil, err
	}
	return &cfnapi.CreateStackSetOutput{StackSetId: &ss.ID}, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func (ss *stackSet) api() *cfnapi.StackSet {
	out := &cfnapi.StackSet{StackSetName: &ss.Name, StackSetId: &ss.ID, StackSetARN: &ss.ARN, Status: &ss.Status,
		TemplateBody: &ss.Template, Parameters: apiParams(ss.Params), Capabilities: ptrs(ss.Capabilities),
		AdministrationRoleARN: &ss.AdminRoleARN, ExecutionRoleName: &ss.ExecRoleName, PermissionModel: str("SELF_MANAGED"),
		Tags: []*cfnapi.Tag{}, Regions: []*string{}, ManagedExecution: &cfnapi.ManagedExecution{Active: boolp(false)}}
	if ss.Description != "" {
		out.Description = &ss.Description
	}
	for _, t := range ss.Tags {
		out.Tags = append(out.Tags, &cfnapi.Tag{Key: str(t[0]), Value: str(t[1])})
	}
	var regions []string
	for _, in := range ss.Instances {
		if !slices.Contains(regions, in.Region) {
			regions = append(regions, in.Region)
		}
	}
	sort.Strings(regions)
	out.Regions = ptrs(regions)
	return out
}

func ptrs(ss []string) []*string {
	out := []*string{}
	for _, s := range ss {
		out = append(out, str(s))
	}
	return out
}

// readSet reads the caller's live set a read-only call names.
func (s *Service) readSet(ctx context.Context, as, name *string) (*stackSet, error) {
	if err := callAs(as); err != nil {
		return nil, err
	}
	r := api.RequestFrom(ctx)
	var ss *stackSet
	err := s.store.View(func(tx *store.Tx) (err error) {
		ss, err = loadSet(tx, r.Caller.Account, r.Region, deref(name))
		return err
	})
	return ss, err
}

func (s *Service) DescribeStackSet(ctx context.Context, in *cfnapi.DescribeStackSetInput) (*cfnapi.DescribeStackSetOutput, error) {
	ss, err := s.readSet(ctx, in.CallAs, in.StackSetName)
	if err != nil {
		return nil, err
	}
	return &cfnapi.DescribeStackSetOutput{StackSet: ss.api()}, nil
}

func (s *Service) ListStackSets(ctx context.Context, in *cfnapi.ListStackSetsInput) (*cfnapi.ListStackSetsOutput, error) {
	if err := callAs(in.CallAs); err != nil {
		return nil, err
	}
	r := api.RequestFrom(ctx)
	out := &cfnapi.ListStackSetsOutput{Summaries: []*cfnapi.StackSetSummary{}}
	err := s.store.View(func(tx *store.Tx) error {
		return tx.List(r.Caller.Account, r.Region, kindStackSet, func(_ string, raw []byte) error {
			ss := new(stackSet)
			if err := jsonUnmarshal(raw, ss); err != nil {
				return err
			}
			if in.Status != nil && *in.Status != ss.Status {
				return nil
			}
			sum := &cfnapi.StackSetSummary{StackSetName: str(ss.Name), StackSetId: str(ss.ID), Status: str(ss.Status),
				PermissionModel: str("SELF_MANAGED"), DriftStatus: str("NOT_CHECKED"), ManagedExecution: &cfnapi.ManagedExecution{Active: boolp(false)}}
			if ss.Description != "" {
				sum.Description = str(ss.Description)
			}
			out.Summaries = append(out.Summaries, sum)
			return nil
		})
	})
	return out, err
}

// UpdateStackSet changes the template or parameters and updates every
// instance (or those of the given accounts and regions).
func (s *Service) UpdateStackSet(ctx context.Context, in *cfnapi.UpdateStackSetInput) (*cfnapi.UpdateStackSetOutput, error) {
	if err := callAs(in.CallAs); err != nil {
		return nil, err
	}
	if in.DeploymentTargets != nil && len(in.DeploymentTargets.OrganizationalUnitIds) > 0 {
		return nil, api.Errorf("ValidationError", "OrganizationalUnitIds need the SERVICE_MANAGED permission model")
	}
	r := api.RequestFrom(ctx)
	var body string
	if in.UsePreviousTemplate == nil || !*in.UsePreviousTemplate {
		b, err := s.templateBody(ctx, in.TemplateBody, in.TemplateURL)
		if err != nil {
			return nil, err
		}
		if b == "" {
			return nil, api.Errorf("ValidationError", "Either Template URL or Template Body must be specified.")
		}
		if _, err := template.Parse(b); err != nil {
			return nil, validation(err)
		}
		body = b
	} else if in.TemplateBody != nil || in.TemplateURL != nil {
		return nil, api.Errorf("ValidationError", "Exactly one of TemplateBody, TemplateUrl or UsePreviousTemplate must be specified")
	}
	accounts := strs(in.Accounts)
	if in.DeploymentTargets != nil {
		accounts = append(accounts, strs(in.DeploymentTargets.Accounts)...)
	}
	regions := strs(in.Regions)
	op := newOp("UPDATE", in.OperationId, in.OperationPreferences, s.now())
	err := s.store.Update(func(tx *store.Tx) error {
		ss, err := loadSet(tx, r.Caller.Account, r.Region, deref(in.StackSetName))
		if err != nil {
			return err
		}
		if err := idle(tx, ss); err != nil {
			return err
		}
		if body != "" {
			ss.Template = body
		}
		if in.Parameters != nil {
			var ps []kv
			for _, p := range in.Parameters {
				k := deref(p.ParameterKey)
				if p.UsePreviousValue == nil || !*p.UsePreviousValue {
					ps = append(ps, kv{k, deref(p.ParameterValue)})
					continue
				}
				i := slices.IndexFunc(ss.Params, func(old kv) bool { return old.Key == k })
				if i < 0 {
					return api.Errorf("ValidationError", "Invalid input for parameter key %s. Cannot specify usePreviousValue as true for a parameter key not in the previous template", k)
				}
				ps = append(ps, ss.Params[i])
			}
			ss.Params = ps
		}
		if in.Capabilities != nil {
			ss.Capabilities = strs(in.Capabilities)
		}
		if in.Description != nil {
			ss.Description = *in.Description
		}
		if in.Tags != nil {
			ss.Tags = tagPairs(in.Tags)
		}
		if in.AdministrationRoleARN != nil {
			ss.AdminRoleARN = *in.AdministrationRoleARN
		}
		if in.ExecutionRoleName != nil {
			ss.ExecRoleName = *in.ExecutionRoleName
		}
		for _, inst := range ss.Instances {
			if (len(accounts) == 0 || slices.Contains(accounts, inst.Account)) && (len(regions) == 0 || slices.Contains(regions, inst.Region)) {
				op.Results = append(op.Results, opResult{Account: inst.Account, Region: inst.Region, Status: "PENDING"})
			}
		}
		return s.startOp(tx, ss, op)
	})
	if err != nil {
		return nil, err
	}
	return &cfnapi.UpdateStackSetOutput{OperationId: &op.ID}, nil
}

func (s *Service) DeleteStackSet(ctx context.Context, in *cfnapi.DeleteStackSetInput) (*cfnapi.DeleteStackSetOutput, error) {
	if err := callAs(in.CallAs); err != nil {
		return nil, err
	}
	r := api.RequestFrom(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		ss, err := loadSet(tx, r.Caller.Account, r.Region, deref(in.StackSetName))
		if err != nil {
			return err
		}
		if err := idle(tx, ss); err != nil {
			return err
		}
		if len(ss.Instances) > 0 {
			return api.NewError(http.StatusConflict, "StackSetNotEmptyException", "StackSet %s is not empty", ss.Name)
		}
		ss.Status = "DELETED"
		return tx.Put(setKey(ss.Account, ss.Region, ss.Name), ss)
	})
	if err != nil {
		return nil, err
	}
	return &cfnapi.DeleteStackSetOutput{}, nil
}

// targets are the account/region pairs an instances call names.
func targets(accounts []*string, dt *cfnapi.DeploymentTargets, regions []*string) ([][2]string, error) {
	accts := strs(accounts)
	if dt != nil {
		if len(dt.OrganizationalUnitIds) > 0 {
			return nil, api.Errorf("ValidationError", "OrganizationalUnitIds need the SERVICE_MANAGED permission model")
		}
		accts = append(accts, strs(dt.Accounts)...)
	}
	if len(accts) == 0 {
		return nil, api.Errorf("ValidationError", "Accounts or DeploymentTargets must be specified")
	}
	if len(regions) == 0 {
		return nil, api.Errorf("ValidationError", "Regions must be specified")
	}
	var out [][2]string
	for _, a := range accts {
		if !isAccountID(a) {
			return nil, api.Errorf("ValidationError", "1 validation error detected: Value '%s' at 'accounts' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[0-9]{12}$", a)
		}
		for _, rg := range strs(regions) {
			if !slices.Contains(out, [2]string{a, rg}) {
				out = append(out, [2]string{a, rg})
			}
		}
	}
	return out, nil
}

func isAccountID(a string) bool {
	if len(a) != 12 {
		return false
	}
	for _, c := range a {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// CreateStackInstances deploys the set to each account and region.
func (s *Service) CreateStackInstances(ctx context.Context, in *cfnapi.CreateStackInstancesInput) (*cfnapi.CreateStackInstancesOutput, error) {
	if err := callAs(in.CallAs); err != nil {
		return nil, err
	}
	r := api.RequestFrom(ctx)
	tgts, err := targets(in.Accounts, in.DeploymentTargets, in.Regions)
	if err != nil {
		return nil, err
	}
	op := newOp("CREATE", in.OperationId, in.OperationPreferences, s.now())
	err = s.store.Update(func(tx *store.Tx) error {
		ss, err := loadSet(tx, r.Caller.Account, r.Region, deref(in.StackSetName))
		if err != nil {
			return err
		}
		if err := idle(tx, ss); err != nil {
			return err
		}
		for _, t := range tgts {
			inst := ss.instance(t[0], t[1])
			if inst == nil {
				inst = &stackInstance{Account: t[0], Region: t[1]}
				ss.Instances = append(ss.Instances, inst)
			}
			inst.Status, inst.Detailed, inst.Reason = "OUTDATED", "PENDING", "User Initiated"
			if in.ParameterOverrides != nil {
				inst.Overrides = kvs(in.ParameterOverrides)
			}
			op.Results = append(op.Results, opResult{Account: t[0], Region: t[1], Status: "PENDING"})
		}
		return s.startOp(tx, ss, op)
	})
	if err != nil {
		return nil, err
	}
	return &cfnapi.CreateStackInstancesOutput{OperationId: &op.ID}, nil
}

// DeleteStackInstances removes instances, deleting their stacks unless
// RetainStacks.
func (s *Service) DeleteStackInstances(ctx context.Context, in *cfnapi.DeleteStackInstancesInput) (*cfnapi.DeleteStackInstancesOutput, error) {
	if err := callAs(in.CallAs); err != nil {
		return nil, err
	}
	r := api.RequestFrom(ctx)
	tgts, err := targets(in.Accounts, in.DeploymentTargets, in.Regions)
	if err != nil {
		return nil, err
	}
	op := newOp("DELETE", in.OperationId, in.OperationPreferences, s.now())
	op.RetainStacks = in.RetainStacks != nil && *in.RetainStacks
	err = s.store.Update(func(tx *store.Tx) error {
		ss, err := loadSet(tx, r.Caller.Account, r.Region, deref(in.StackSetName))
		if err != nil {
			return err
		}
		if err := idle(tx, ss); err != nil {
			return err
		}
		for _, t := range tgts {
			if ss.instance(t[0], t[1]) != nil {
				op.Results = append(op.Results, opResult{Account: t[0], Region: t[1], Status: "PENDING"})
			}
		}
		return s.startOp(tx, ss, op)
	})
	if err != nil {
		return nil, err
	}
	return &cfnapi.DeleteStackInstancesOutput{OperationId: &op.ID}, nil
}

func (ss *stackSet) instance(account, region string) *stackInstance {
	for _, in := range ss.Instances {
		if in.Account == account && in.Region == region {
			return in
		}
	}
	return nil
}

func newOp(action string, id *string, prefs *cfnapi.StackSetOperationPreferences, now time.Time) *stackSetOp {
	op := &stackSetOp{ID: cmpOr(deref(id), uuid.New()), Action: action, Status: "RUNNING", Created: now, MaxConcurrentTargets: 1}
	if prefs != nil {
		if prefs.FailureToleranceCount != nil {
			op.FailureTolerance = *prefs.FailureToleranceCount
		}
		if prefs.MaxConcurrentCount != nil {
			op.MaxConcurrentTargets = *prefs.MaxConcurrentCount
		}
		op.RegionOrder = strs(prefs.RegionOrder)
	}
	return op
}

// idle refuses a second operation while one runs, as AWS does.
func idle(tx *store.Tx, ss *stackSet) error {
	busy := false
	err := tx.List(ss.Account, ss.Region, kindStackSetOp, func(id string, raw []byte) error {
		if !strings.HasPrefix(id, ss.Name+"/") {
			return nil
		}
		op := new(stackSetOp)
		if err := jsonUnmarshal(raw, op); err != nil {
			return err
		}
		if op.SetID == ss.ID && op.Status == "RUNNING" {
			busy = true
			return store.ErrStop
		}
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrStop) {
		return err
	}
	if busy {
		return api.NewError(http.StatusConflict, "OperationInProgressException", "Another Operation on StackSet %s is in progress", ss.ARN)
	}
	return nil
}

// startOp writes the operation and the set and runs it once committed.
func (s *Service) startOp(tx *store.Tx, ss *stackSet, op *stackSetOp) error {
	if len(op.RegionOrder) > 0 {
		rank := func(r string) int {
			if i := slices.Index(op.RegionOrder, r); i >= 0 {
				return i
			}
			return len(op.RegionOrder)
		}
		sort.SliceStable(op.Results, func(i, j int) bool { return rank(op.Results[i].Region) < rank(op.Results[j].Region) })
	}
	op.SetName, op.SetID, op.AdminRoleARN, op.Exec = ss.Name, ss.ID, ss.AdminRoleARN, ss.ExecRoleName
	var dup stackSetOp
	if ok, err := tx.Get(opKey(ss.Account, ss.Region, ss.Name, op.ID), &dup); err != nil {
		return err
	} else if ok {
		return api.NewError(http.StatusConflict, "OperationIdAlreadyExistsException", "The operation ID %s already exists", op.ID)
	}
	for _, res := range op.Results {
		if inst := ss.instance(res.Account, res.Region); inst != nil {
			inst.LastOperationID = op.ID
		}
	}
	if err := tx.Put(setKey(ss.Account, ss.Region, ss.Name), ss); err != nil {
		return err
	}
	if err := tx.Put(opKey(ss.Account, ss.Region, ss.Name, op.ID), op); err != nil {
		return err
	}
	account, region := ss.Account, ss.Region
	tx.OnCommit(func() { go s.runOp(account, region, op.SetName, op.ID) })
	return nil
}

// runOp works through an operation's targets in order.
func (s *Service) runOp(account, region, setName, opID string) {
	failed := int64(0)
	for i := 0; ; i++ {
		var ss *stackSet
		var op stackSetOp
		err := s.store.View(func(tx *store.Tx) error {
			if _, err := tx.Get(opKey(account, region, setName, opID), &op); err != nil {
				return err
			}
			var err error
			ss, err = loadSet(tx, account, region, setName)
			return err
		})
		if err != nil {
			s.log.Error("cloudformation: stack set operation", "set", setName, "op", opID, "err", err)
			return
		}
		if i >= len(op.Results) {
			s.endOp(account, region, setName, opID, failed > op.FailureTolerance)
			return
		}
		res := op.Results[i]
		if failed > op.FailureTolerance {
			s.setResult(account, region, setName, opID, i, "CANCELLED", "Cancelled since failure tolerance has exceeded", nil)
			continue
		}
		s.setResult(account, region, setName, opID, i, "RUNNING", "", nil)
		stackID, reason := s.runTarget(ss, &op, res.Account, res.Region)
		status := "SUCCEEDED"
		if reason != "" {
			status = "FAILED"
			failed++
		}
		s.setResult(account, region, setName, opID, i, status, reason, &stackID)
	}
}

// runTarget does the operation's action in one account and region and
// returns the stack's id and, if it failed, why.
func (s *Service) runTarget(ss *stackSet, op *stackSetOp, account, region string) (string, string) {
	inst := ss.instance(account, region)
	stackID := ""
	if inst != nil {
		stackID = inst.StackID
	}
	if reason := s.checkRoles(ss, op, account, region); reason != "" {
		return stackID, reason
	}
	// The stack is made as the execution role in the target account.
	principal := api.Principal{Account: account, UserID: "AROACLOUDBOXSTACKSET:" + op.ID,
		ARN: fmt.Sprintf("arn:%s:sts::%s:assumed-role/%s/%s", template.Partition(region), account, op.Exec, op.ID)}
	ctx := api.WithRequest(context.Background(), &api.Request{Region: region, Caller: principal, Service: "cloudformation"})
	params := map[string]string{}
	for _, p := range ss.Params {
		params[p.Key] = p.Value
	}
	if inst != nil {
		for _, p := range inst.Overrides {
			params[p.Key] = p.Value
		}
	}
	var ps []kv
	for k, v := range params {
		ps = append(ps, kv{k, v})
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Key < ps[j].Key })
	caps := ptrs(ss.Capabilities)
	switch {
	case op.Action == "DELETE":
		if stackID == "" || op.RetainStacks {
			return stackID, ""
		}
		if _, err := s.DeleteStack(ctx, &cfnapi.DeleteStackInput{StackName: &stackID}); err != nil {
			return stackID, err.Error()
		}
		return stackID, s.waitStack(account, region, stackID, "DELETE_COMPLETE")
	case stackID == "" || s.stackGone(account, region, stackID):
		out, err := s.CreateStack(ctx, &cfnapi.CreateStackInput{StackName: str("StackSet-" + ss.Name + "-" + uuid.New()),
			TemplateBody: &ss.Template, Parameters: apiParams(ps), Capabilities: caps})
		if err != nil {
			return "", err.Error()
		}
		stackID = deref(out.StackId)
		s.setInstanceStack(ss, account, region, stackID)
		return stackID, s.waitStack(account, region, stackID, "CREATE_COMPLETE")
	default:
		_, err := s.UpdateStack(ctx, &cfnapi.UpdateStackInput{StackName: &stackID, TemplateBody: &ss.Template,
			Parameters: apiParams(ps), Capabilities: caps})
		var e *api.Error
		if errors.As(err, &e) && e.Message == "No updates are to be performed." {
			return stackID, ""
		}
		if err != nil {
			return stackID, err.Error()
		}
		return stackID, s.waitStack(account, region, stackID, "UPDATE_COMPLETE")
	}
}

// checkRoles returns AWS's reason when the administration role (in the
// set's account) or the execution role (in the target's) is missing.
func (s *Service) checkRoles(ss *stackSet, op *stackSetOp, account, region string) string {
	adminName := op.AdminRoleARN[strings.LastIndex(op.AdminRoleARN, "/")+1:]
	if !s.roleExists(ss.Account, region, adminName) {
		return fmt.Sprintf("Account %s should have '%s' role with trust relationship to CloudFormation service.", ss.Account, adminName)
	}
	if !s.roleExists(account, region, op.Exec) {
		return fmt.Sprintf("Account %s should have '%s' role with trust relationship to Role '%s'.", account, op.Exec, adminName)
	}
	return ""
}

func (s *Service) roleExists(account, region, name string) bool {
	ctx := api.WithRequest(context.Background(), &api.Request{Region: region, Service: "iam",
		Caller: api.Principal{Account: account, ARN: "arn:aws:iam::" + account + ":root"}})
	_, err := s.invoker("iam").Invoke(ctx, "GetRole", &iamapi.GetRoleRequest{RoleName: &name})
	return err == nil
}

func (s *Service) stackGone(account, region, id string) bool {
	gone := true
	_ = s.store.View(func(tx *store.Tx) error {
		st, err := findStack(tx, account, region, id)
		gone = err != nil || !st.live()
		return nil
	})
	return gone
}

// waitStack waits for a stack to settle; "" if it reached want, else the
// stack's status and reason.
func (s *Service) waitStack(account, region, id, want string) string {
	for {
		var st *stack
		err := s.store.View(func(tx *store.Tx) (err error) {
			st, err = findStack(tx, account, region, id)
			return err
		})
		switch {
		case err != nil:
			return err.Error()
		case st.Status == want:
			return ""
		case !strings.HasSuffix(st.Status, "_IN_PROGRESS"):
			return fmt.Sprintf("ResourceLogicalId:%s, ResourceType:AWS::CloudFormation::Stack, ResourceStatusReason:%s.", st.Name, cmpOr(st.Reason, st.Status))
		}
		time.Sleep(s.poll)
	}
}

func (s *Service) setInstanceStack(ss *stackSet, account, region, stackID string) {
	s.updateSet(ss.Account, ss.Region, ss.Name, func(cur *stackSet) {
		if inst := cur.instance(account, region); inst != nil {
			inst.StackID = stackID
		}
	})
}

func (s *Service) updateSet(account, region, name string, fn func(*stackSet)) {
	err := s.store.Update(func(tx *store.Tx) error {
		ss := new(stackSet)
		if ok, err := tx.Get(setKey(account, region, name), ss); err != nil || !ok {
			return err
		}
		fn(ss)
		return tx.Put(setKey(account, region, name), ss)
	})
	if err != nil {
		s.log.Error("cloudformation: stack set", "set", name, "err", err)
	}
}

// setResult records a target's progress in the operation and its
// instance's status.
func (s *Service) setResult(account, region, setName, opID string, i int, status, reason string, stackID *string) {
	var op stackSetOp
	err := s.store.Update(func(tx *store.Tx) error {
		if _, err := tx.Get(opKey(account, region, setName, opID), &op); err != nil {
			return err
		}
		op.Results[i].Status, op.Results[i].Reason = status, reason
		return tx.Put(opKey(account, region, setName, opID), &op)
	})
	if err != nil {
		s.log.Error("cloudformation: stack set operation", "set", setName, "op", opID, "err", err)
		return
	}
	res := op.Results[i]
	s.updateSet(account, region, setName, func(ss *stackSet) {
		inst := ss.instance(res.Account, res.Region)
		if inst == nil {
			return
		}
		if op.Action == "DELETE" && status == "SUCCEEDED" {
			ss.Instances = slices.DeleteFunc(ss.Instances, func(x *stackInstance) bool { return x == inst })
			return
		}
		inst.Detailed, inst.Reason = status, reason
		if stackID != nil && *stackID != "" {
			inst.StackID = *stackID
		}
		switch status {
		case "SUCCEEDED":
			inst.Status = "CURRENT"
		case "RUNNING", "PENDING":
			inst.Status = "OUTDATED"
		default:
			inst.Status = "OUTDATED"
			if inst.StackID == "" && op.Action != "CREATE" {
				inst.Status = "INOPERABLE"
			}
		}
	})
}

func (s *Service) endOp(account, region, setName, opID string, failed bool) {
	err := s.store.Update(func(tx *store.Tx) error {
		var op stackSetOp
		if _, err := tx.Get(opKey(account, region, setName, opID), &op); err != nil {
			return err
		}
		op.Status, op.Ended = "SUCCEEDED", s.now()
		if failed {
			verb := map[string]string{"CREATE": "create", "UPDATE": "update", "DELETE": "delete"}[op.Action]
			op.Status, op.Reason = "FAILED", "The Operation "+opID+" has failed to "+verb+" Stack Instances"
		}
		return tx.Put(opKey(account, region, setName, opID), &op)
	})
	if err != nil {
		s.log.Error("cloudformation: stack set operation", "set", setName, "op", opID, "err", err)
	}
}

func (op *stackSetOp) api() *cfnapi.StackSetOperation {
	out := &cfnapi.StackSetOperation{OperationId: &op.ID, StackSetId: &op.SetID, Action: &op.Action, Status: &op.Status,
		CreationTimestamp: &op.Created, AdministrationRoleARN: &op.AdminRoleARN, ExecutionRoleName: &op.Exec,
		RetainStacks: boolp(op.RetainStacks), OperationPreferences: op.prefs()}
	if !op.Ended.IsZero() {
		out.EndTimestamp = &op.Ended
	}
	if op.Reason != "" {
		out.StatusReason = &op.Reason
	}
	return out
}

func (op *stackSetOp) prefs() *cfnapi.StackSetOperationPreferences {
	return &cfnapi.StackSetOperationPreferences{FailureToleranceCount: &op.FailureTolerance, MaxConcurrentCount: &op.MaxConcurrentTargets,
		RegionOrder: ptrs(op.RegionOrder)}
}

func (s *Service) loadOp(ctx context.Context, setName, opID string) (*stackSet, *stackSetOp, error) {
	r := api.RequestFrom(ctx)
	var ss *stackSet
	op := new(stackSetOp)
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		if ss, err = loadSet(tx, r.Caller.Account, r.Region, setName); err != nil {
			return err
		}
		ok, err := tx.Get(opKey(r.Caller.Account, r.Region, ss.Name, opID), op)
		if err == nil && (!ok || op.SetID != ss.ID) {
			err = api.NewError(http.StatusNotFound, "OperationNotFoundException", "Operation %s not found", opID)
		}
		return err
	})
	return ss, op, err
}

func (s *Service) DescribeStackSetOperation(ctx context.Context, in *cfnapi.DescribeStackSetOperationInput) (*cfnapi.DescribeStackSetOperationOutput, error) {
	if err := callAs(in.CallAs); err != nil {
		return nil, err
	}
	_, op, err := s.loadOp(ctx, deref(in.StackSetName), deref(in.OperationId))
	if err != nil {
		return nil, err
	}
	return &cfnapi.DescribeStackSetOperationOutput{StackSetOperation: op.api()}, nil
}

func (s *Service) ListStackSetOperations(ctx context.Context, in *cfnapi.ListStackSetOperationsInput) (*cfnapi.ListStackSetOperationsOutput, error) {
	if err := callAs(in.CallAs); err != nil {
		return nil, err
	}
	r := api.RequestFrom(ctx)
	out := &cfnapi.ListStackSetOperationsOutput{Summaries: []*cfnapi.StackSetOperationSummary{}}
	err := s.store.View(func(tx *store.Tx) error {
		ss, err := loadSet(tx, r.Caller.Account, r.Region, deref(in.StackSetName))
		if err != nil {
			return err
		}
		var ops []*stackSetOp
		err = tx.List(ss.Account, ss.Region, kindStackSetOp, func(_ string, raw []byte) error {
			op := new(stackSetOp)
			if err := jsonUnmarshal(raw, op); err != nil {
				return err
			}
			if op.SetID == ss.ID {
				ops = append(ops, op)
			}
			return nil
		})
		sort.Slice(ops, func(i, j int) bool { return ops[i].Created.After(ops[j].Created) })
		for _, op := range ops {
			a := op.api()
			out.Summaries = append(out.Summaries, &cfnapi.StackSetOperationSummary{OperationId: a.OperationId, Action: a.Action,
				Status: a.Status, StatusReason: a.StatusReason, CreationTimestamp: a.CreationTimestamp, EndTimestamp: a.EndTimestamp,
				OperationPreferences: a.OperationPreferences})
		}
		return err
	})
	return out, err
}

func (s *Service) ListStackSetOperationResults(ctx context.Context, in *cfnapi.ListStackSetOperationResultsInput) (*cfnapi.ListStackSetOperationResultsOutput, error) {
	if err := callAs(in.CallAs); err != nil {
		return nil, err
	}
	_, op, err := s.loadOp(ctx, deref(in.StackSetName), deref(in.OperationId))
	if err != nil {
		return nil, err
	}
	out := &cfnapi.ListStackSetOperationResultsOutput{Summaries: []*cfnapi.StackSetOperationResultSummary{}}
	for _, res := range op.Results {
		sum := &cfnapi.StackSetOperationResultSummary{Account: str(res.Account), Region: str(res.Region), Status: str(res.Status),
			AccountGateResult: &cfnapi.AccountGateResult{Status: str("SKIPPED"), StatusReason: str("AWSCloudFormationStackSetAccountGate function not found.")}}
		if res.Reason != "" {
			sum.StatusReason = str(res.Reason)
		}
		out.Summaries = append(out.Summaries, sum)
	}
	return out, nil
}

func (inst *stackInstance) summary(ss *stackSet) *cfnapi.StackInstanceSummary {
	out := &cfnapi.StackInstanceSummary{StackSetId: &ss.ID, Account: str(inst.Account), Region: str(inst.Region),
		Status: str(inst.Status), StackInstanceStatus: &cfnapi.StackInstanceComprehensiveStatus{DetailedStatus: str(inst.Detailed)},
		DriftStatus: str("NOT_CHECKED")}
	if inst.StackID != "" {
		out.StackId = str(inst.StackID)
	}
	if inst.Reason != "" {
		out.StatusReason = str(inst.Reason)
	}
	if inst.LastOperationID != "" {
		out.LastOperationId = str(inst.LastOperationID)
	}
	return out
}

func (s *Service) ListStackInstances(ctx context.Context, in *cfnapi.ListStackInstancesInput) (*cfnapi.ListStackInstancesOutput, error) {
	ss, err := s.readSet(ctx, in.CallAs, in.StackSetName)
	if err != nil {
		return nil, err
	}
	out := &cfnapi.ListStackInstancesOutput{Summaries: []*cfnapi.StackInstanceSummary{}}
	for _, inst := range ss.Instances {
		if in.StackInstanceAccount != nil && *in.StackInstanceAccount != inst.Account ||
			in.StackInstanceRegion != nil && *in.StackInstanceRegion != inst.Region {
			continue
		}
		if !instanceMatches(inst, in.Filters) {
			continue
		}
		out.Summaries = append(out.Summaries, inst.summary(ss))
	}
	return out, nil
}

// instanceMatches applies ListStackInstances' filters (DETAILED_STATUS,
// LAST_OPERATION_ID; DRIFT_STATUS is always NOT_CHECKED).
func instanceMatches(inst *stackInstance, fs []*cfnapi.StackInstanceFilter) bool {
	for _, f := range fs {
		if f == nil {
			continue
		}
		v := deref(f.Values)
		switch deref(f.Name) {
		case "DETAILED_STATUS":
			if inst.Detailed != v {
				return false
			}
		case "LAST_OPERATION_ID":
			if inst.LastOperationID != v {
				return false
			}
		case "DRIFT_STATUS":
			if v != "NOT_CHECKED" {
				return false
			}
		}
	}
	return true
}

func (s *Service) DescribeStackInstance(ctx context.Context, in *cfnapi.DescribeStackInstanceInput) (*cfnapi.DescribeStackInstanceOutput, error) {
	ss, err := s.readSet(ctx, in.CallAs, in.StackSetName)
	if err != nil {
		return nil, err
	}
	inst := ss.instance(deref(in.StackInstanceAccount), deref(in.StackInstanceRegion))
	if inst == nil {
		return nil, api.NewError(http.StatusNotFound, "StackInstanceNotFoundException", "Stack instance [%s, %s] not found in StackSet %s",
			deref(in.StackInstanceAccount), deref(in.StackInstanceRegion), ss.Name)
	}
	sum := inst.summary(ss)
	return &cfnapi.DescribeStackInstanceOutput{StackInstance: &cfnapi.StackInstance{StackSetId: sum.StackSetId, Account: sum.Account,
		Region: sum.Region, StackId: sum.StackId, Status: sum.Status, StatusReason: sum.StatusReason, StackInstanceStatus: sum.StackInstanceStatus,
		DriftStatus: sum.DriftStatus, LastOperationId: sum.LastOperationId, ParameterOverrides: apiParams(inst.Overrides)}}, nil
}

package cloudformation

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/services/cloudformation/template"
	"github.com/cloudbox/cloudbox/store"
)

// Record kinds: a stack (with its resources and events) and a change set,
// by id; both per account and region.
const (
	kindStack     = "cloudformation:stack"
	kindChangeSet = "cloudformation:changeset"
)

// stack is a stack's record. Deleted stacks stay (DELETE_COMPLETE) as
// AWS keeps them for ListStacks and lookups by id.
type stack struct {
	ID, Name        string
	Account, Region string
	// Caller is who created or last changed the stack: its resources are
	// made as that principal.
	Caller           api.Principal
	Status, Reason   string
	Created          time.Time
	Updated, Deleted time.Time `json:",omitzero"`
	Template         string
	Description      string
	Params           map[string]string // the values given or defaulted
	NoEcho           map[string]bool   `json:",omitempty"`
	// Resolved are the values read from SSM for the parameters of
	// AWS::SSM::Parameter::Value types.
	Resolved         map[string]string `json:",omitempty"`
	DisableRollback  bool              `json:",omitempty"`
	OnFailure        string            `json:",omitempty"`
	Capabilities     []string          `json:",omitempty"`
	NotificationARNs []string          `json:",omitempty"`
	Tags             [][2]string       `json:",omitempty"`
	TimeoutInMinutes int64             `json:",omitempty"`
	Protected        bool              `json:",omitempty"`
	// Policy is the stack policy's text ("" for none).
	Policy string `json:",omitempty"`
	// Rollback is the RollbackConfiguration of its last operation that
	// gave one.
	Rollback    *rollbackConfig `json:",omitempty"`
	ChangeSetID string          `json:",omitempty"`
	Resources   map[string]*resource
	Outputs     []output `json:",omitempty"`
	// Imports are the export names the stack's template imports.
	Imports []string    `json:",omitempty"`
	Events  []event     `json:",omitempty"`
	Drift   *stackDrift `json:",omitempty"`
}

// resource is one of a stack's resources as last deployed.
type resource struct {
	Logical, Type  string
	Physical       string `json:",omitempty"`
	Ref            string `json:",omitempty"`
	Status, Reason string
	Updated        time.Time
	Attrs          map[string]any `json:",omitempty"`
	// Props are the resolved properties it was made with, compared on
	// update.
	Props          map[string]any `json:",omitempty"`
	Deps           []string       `json:",omitempty"`
	DeletionPolicy string         `json:",omitempty"`
	Metadata       string         `json:",omitempty"`
	Drift          *drift         `json:",omitempty"`
	// Awaiting: its creation waits for signals (CreationPolicy), which
	// SignalResource records in Signals.
	Awaiting bool     `json:",omitempty"`
	Signals  []signal `json:",omitempty"`
}

// signal is a signal received: SignalResource's (ID and Status) or one
// PUT to a wait condition handle (with its Reason and Data).
type signal struct {
	ID, Status   string
	Reason, Data string `json:",omitempty"`
}

type output struct {
	Key, Value, Description, Export string
}

type event struct {
	ID, Logical, Physical, Type, Status, Reason string
	Time                                        time.Time
	Props                                       string `json:",omitempty"`
}

// changeSet is a change set's record.
type changeSet struct {
	ID, Name, StackID, StackName string
	Type                         string // CREATE or UPDATE
	Status, Reason, Execution    string
	Created                      time.Time
	Description                  string `json:",omitempty"`
	Template                     string
	Params                       map[string]string
	Capabilities                 []string        `json:",omitempty"`
	NotificationARNs             []string        `json:",omitempty"`
	Tags                         [][2]string     `json:",omitempty"`
	OnFailure                    string          `json:",omitempty"`
	Rollback                     *rollbackConfig `json:",omitempty"`
	Changes                      []change        `json:",omitempty"`
}

type change struct {
	Action, Logical, Physical, Type, Replacement string
	Scope                                        []string `json:",omitempty"`
}

func stackKey(account, region, id string) store.Key {
	return store.Key{Account: account, Region: region, Kind: kindStack, ID: id}
}

func changeSetKey(account, region, id string) store.Key {
	return store.Key{Account: account, Region: region, Kind: kindChangeSet, ID: id}
}

// live says whether a stack still exists (is not deleted).
func (st *stack) live() bool { return st.Status != "DELETE_COMPLETE" }

// inProgress says whether an operation runs on the stack.
func (st *stack) inProgress() bool {
	return strings.HasSuffix(st.Status, "_IN_PROGRESS") && st.Status != "REVIEW_IN_PROGRESS"
}

// exports says whether the stack's outputs are exported now: its
// creation or last update went through.
func (st *stack) exports() bool {
	switch st.Status {
	case "CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_IN_PROGRESS",
		"UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
		"UPDATE_ROLLBACK_FAILED", "DELETE_IN_PROGRESS", "DELETE_FAILED", "UPDATE_FAILED":
		return true
	}
	return false
}

// stacks returns every stack of the scope, oldest first.
func stacks(tx *store.Tx, account, region string) ([]*stack, error) {
	var out []*stack
	err := tx.List(account, region, kindStack, func(_ string, raw []byte) error {
		st := new(stack)
		if err := jsonUnmarshal(raw, st); err != nil {
			return err
		}
		out = append(out, st)
		return nil
	})
	sort.SliceStable(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out, err
}

// findStack finds a stack by name (live ones only, as AWS) or by id (any).
func findStack(tx *store.Tx, account, region, nameOrID string) (*stack, error) {
	if strings.HasPrefix(nameOrID, "arn:") {
		st := new(stack)
		ok, err := tx.Get(stackKey(account, region, nameOrID), st)
		if err != nil || ok {
			return st, err
		}
		return nil, noStack(nameOrID)
	}
	all, err := stacks(tx, account, region)
	if err != nil {
		return nil, err
	}
	for _, st := range all {
		if st.Name == nameOrID && st.live() {
			return st, nil
		}
	}
	return nil, noStack(nameOrID)
}

func noStack(name string) error {
	return api.Errorf("ValidationError", "Stack with id %s does not exist", name)
}

// exportsOf lists the region's exports: name -> (value, exporting stack).
func exportsOf(tx *store.Tx, account, region string) (map[string][2]string, error) {
	all, err := stacks(tx, account, region)
	if err != nil {
		return nil, err
	}
	out := map[string][2]string{}
	for _, st := range all {
		if !st.exports() {
			continue
		}
		for _, o := range st.Outputs {
			if o.Export != "" {
				out[o.Export] = [2]string{o.Value, st.ID}
			}
		}
	}
	return out, nil
}

// importers returns the live stacks other than except that import name.
func importers(tx *store.Tx, account, region, name, except string) ([]string, error) {
	all, err := stacks(tx, account, region)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, st := range all {
		if st.ID == except || !st.live() || st.Status == "REVIEW_IN_PROGRESS" {
			continue
		}
		for _, n := range st.Imports {
			if n == name {
				out = append(out, st.Name)
				break
			}
		}
	}
	return out, nil
}

func stackARN(region, account, name, id string) string {
	return fmt.Sprintf("arn:%s:cloudformation:%s:%s:stack/%s/%s", template.Partition(region), region, account, name, id)
}

func changeSetARN(region, account, name, id string) string {
	return fmt.Sprintf("arn:%s:cloudformation:%s:%s:changeSet/%s/%s", template.Partition(region), region, account, name, id)
}

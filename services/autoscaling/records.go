package autoscaling

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/cloudbox/cloudbox/api"
	asapi "github.com/cloudbox/cloudbox/api/autoscaling"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/store"
)

// Store kinds. A group's record holds everything that belongs to it
// (instances, hooks, policies, scheduled actions, refreshes), so each call
// and each reconciler step is one read and one write of one record.
const (
	kindGroup    = "autoscaling:group"
	kindLaunch   = "autoscaling:launchconfiguration"
	kindActivity = "autoscaling:activity"
)

type groupRecord struct {
	G         asapi.AutoScalingGroup // as described, without Instances
	Instances []*instanceRecord
	Hooks     []*asapi.LifecycleHook
	Scheduled []*scheduledRecord
	Policies  []*policyRecord
	Refreshes []*refreshRecord
	// LastCause is the cause of the latest change of capacity, which the
	// next launch or termination activity quotes.
	LastCause     string
	CooldownUntil time.Time
	LaunchRetryAt time.Time // after a failed launch
	Deleting      bool      // ForceDelete: terminate everything, then go
	NextSubnet    int       // round robin over a zone's subnets
}

type instanceRecord struct {
	ID, AZ, SubnetID string
	Lifecycle        string
	Health           string
	LaunchTemplate   *asapi.LaunchTemplateSpecification
	LaunchConfig     string
	InstanceType     string
	Weight           string `json:",omitempty"` // WeightedCapacity of a mixed instances policy
	Protected        bool
	LaunchedAt       time.Time
	InServiceAt      time.Time
	ActivityID       string // the activity in progress for it
	Waits            []*hookWait
	Registered       []string // target groups it is registered with
	// Draining are the target groups it was deregistered from on its way
	// out, until their deregistration delay ends.
	Draining []string `json:",omitempty"`
	// Decrement is set when the termination also lowered the desired
	// capacity, so no replacement follows.
	Decrement bool
}

// hookWait is a lifecycle hook an instance waits on.
type hookWait struct {
	Hook     string
	Token    string
	Deadline time.Time // heartbeat timeout
	Global   time.Time // global timeout
	Result   string    // CONTINUE or ABANDON once completed
}

type scheduledRecord struct {
	A    asapi.ScheduledUpdateGroupAction
	Next time.Time // zero when it will not run again
}

type policyRecord struct {
	P          asapi.ScalingPolicy
	LastScaled time.Time
	// PrevDesired is the desired capacity before LastScaled's change, the
	// base of a bigger step during warm-up.
	PrevDesired int64
}

type refreshRecord struct {
	R asapi.InstanceRefresh
	// Old are the instances still to replace.
	Old []string
}

type activityRecord struct {
	Seq uint64
	A   asapi.Activity
}

func groupKey(sc scope, name string) store.Key {
	return store.Key{Account: sc.account, Region: sc.region, Kind: kindGroup, ID: name}
}

func groupNotFound(name string) error {
	return validation("AutoScalingGroup name not found - AutoScalingGroup %s not found", name)
}

// loadGroup reads a group or answers AWS's not-found error.
// groupsNamed returns the group called name, or every group of the scope
// when name is empty (the Describe calls' optional group filter).
func groupsNamed(tx *store.Tx, sc scope, name string) ([]*groupRecord, error) {
	if name == "" {
		return store.ListAll[groupRecord](tx, sc.account, sc.region, kindGroup)
	}
	g, err := loadGroup(tx, sc, name)
	if err != nil {
		return nil, err
	}
	return []*groupRecord{g}, nil
}

func loadGroup(tx *store.Tx, sc scope, name string) (*groupRecord, error) {
	g, ok, err := store.Get[groupRecord](tx, groupKey(sc, name))
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, groupNotFound(name)
	}
	return g, nil
}

func saveGroup(tx *store.Tx, sc scope, g *groupRecord) error {
	return tx.Put(groupKey(sc, deref(g.G.AutoScalingGroupName)), g)
}

// mutate applies fn to the group in one transaction; events fn returns are
// emitted after the commit.
func (s *Service) mutate(sc scope, name string, fn func(tx *store.Tx, g *groupRecord) ([]Event, error)) error {
	var evs []Event
	err := s.store.Update(func(tx *store.Tx) error {
		g, err := loadGroup(tx, sc, name)
		if err != nil {
			return err
		}
		evs, err = fn(tx, g)
		if errors.Is(err, errGroupGone) {
			return nil
		}
		if err != nil {
			return err
		}
		return saveGroup(tx, sc, g)
	})
	if err == nil {
		s.emit(evs)
	}
	return err
}

func (g *groupRecord) instance(id string) *instanceRecord {
	for _, in := range g.Instances {
		if in.ID == id {
			return in
		}
	}
	return nil
}

func (g *groupRecord) policy(name string) *policyRecord {
	for _, p := range g.Policies {
		if deref(p.P.PolicyName) == name || deref(p.P.PolicyARN) == name {
			return p
		}
	}
	return nil
}

func (g *groupRecord) suspended(process string) bool {
	for _, p := range g.G.SuspendedProcesses {
		if deref(p.ProcessName) == process {
			return true
		}
	}
	return false
}

func (g *groupRecord) name() string { return deref(g.G.AutoScalingGroupName) }

// findInstance returns the group that holds an instance.
func findInstance(tx *store.Tx, sc scope, id string) (*groupRecord, *instanceRecord, error) {
	var found *groupRecord
	groups, err := store.ListAll[groupRecord](tx, sc.account, sc.region, kindGroup)
	if err != nil {
		return nil, nil, err
	}
	for _, g := range groups {
		if g.instance(id) != nil {
			found = g
			break
		}
	}
	if found == nil {
		return nil, nil, nil
	}
	return found, found.instance(id), nil
}

func resourceARN(sc scope, kind, uuid string, parts ...string) string {
	res := kind + ":" + uuid
	for i := 0; i+1 < len(parts); i += 2 {
		res += ":" + parts[i] + "/" + parts[i+1]
	}
	return arn.New("autoscaling", sc.region, sc.account, res).String()
}

// page returns one page of items and the next token: the token is the
// offset of the next page.
func page[T any](items []T, maxRecords *int64, token *string, def int64) ([]T, *string, error) {
	n := def
	if maxRecords != nil {
		if *maxRecords < 1 || *maxRecords > 100 {
			return nil, nil, validation("MaxRecords must be between 1 and 100")
		}
		n = *maxRecords
	}
	start := 0
	if token != nil {
		// AWS refuses an empty token too.
		v, err := strconv.Atoi(*token)
		if err != nil || v < 0 || v > len(items) {
			return nil, nil, api.Errorf("InvalidNextToken", "The token '%s' was invalid", *token)
		}
		start = v
	}
	end := min(start+int(n), len(items))
	var next *string
	if end < len(items) {
		next = str(strconv.Itoa(end))
	}
	return items[start:end], next, nil
}

// putActivity stores a new activity.
func putActivity(tx *store.Tx, sc scope, a *asapi.Activity) error {
	seq, err := tx.NextID(sc.account, sc.region, kindActivity)
	if err != nil {
		return err
	}
	return tx.Put(store.Key{Account: sc.account, Region: sc.region, Kind: kindActivity, ID: fmt.Sprintf("%016d", seq)},
		&activityRecord{Seq: seq, A: *a})
}

var errNoActivity = errors.New("no such activity")

// updateActivity changes a stored activity.
func updateActivity(tx *store.Tx, sc scope, id string, fn func(a *asapi.Activity)) error {
	var key store.Key
	err := tx.List(sc.account, sc.region, kindActivity, func(k string, raw []byte) error {
		if containsID(raw, id) {
			key = store.Key{Account: sc.account, Region: sc.region, Kind: kindActivity, ID: k}
			return store.ErrStop
		}
		return nil
	})
	if err != nil {
		return err
	}
	if key.ID == "" {
		return errNoActivity
	}
	r, ok, err := store.Get[activityRecord](tx, key)
	if err != nil || !ok {
		return err
	}
	fn(&r.A)
	return tx.Put(key, r)
}

// containsID is a byte search for an activity id before decoding.
func containsID(raw []byte, id string) bool {
	return len(id) > 0 && bytes.Contains(raw, []byte(`"ActivityId":"`+id+`"`))
}

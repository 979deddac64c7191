package cloudformation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/services/cloudformation/stackpolicy"
	"github.com/cloudbox/cloudbox/services/cloudformation/template"
	"github.com/cloudbox/cloudbox/store"
	"github.com/cloudbox/cloudbox/uuid"
)

// deployment is one creation or update of a stack, run by the stack
// worker: resources in dependency order, independent ones in parallel,
// rollback on failure.
type deployment struct {
	s               *Service
	account, region string
	stackID, name   string
	caller          api.Principal
	tags            [][2]string
	tpl             *template.Template
	params          map[string]any
	create          bool
	rollback        bool // roll back on failure (not DisableRollback / DO_NOTHING)
	deleteOnFailure bool
	changeSetID     string
	// policy is the stack policy an update's changes must be allowed by
	// (nil: no policy); nextPolicy replaces the stack's once it succeeds.
	policy     *stackpolicy.Policy
	nextPolicy string
	// prior is the stack before an update, whose template and parameters
	// it shows again once the update is rolled back.
	prior *stack
	// triggers are the alarms that roll the operation back; triggered
	// says one did.
	triggers  *rollbackConfig
	triggered bool
	halt      context.Context // ended by a trigger

	mu    sync.Mutex
	cur   map[string]*resource // the resources as they are now
	old   map[string]*resource // as they were before
	undo  []undo               // what to revert on rollback, in order done
	evctx *template.Context
}

// undo is one change a rollback reverts.
type undo struct {
	logical string
	made    *resource // created (or the replacement): deleted
	before  *resource // updated in place or replaced: restored
}

// status names for the operation.
func (d *deployment) op() string {
	if d.create {
		return "CREATE"
	}
	return "UPDATE"
}

func (d *deployment) key() store.Key { return stackKey(d.account, d.region, d.stackID) }

// save changes the stack record in one transaction.
func (d *deployment) save(fn func(st *stack)) {
	err := d.s.store.Update(func(tx *store.Tx) error {
		st := new(stack)
		if ok, err := tx.Get(d.key(), st); err != nil || !ok {
			return err
		}
		fn(st)
		return tx.Put(d.key(), st)
	})
	if err != nil {
		d.s.log.Error("cloudformation: saving stack", "stack", d.name, "err", err)
	}
}

// stackStatus moves the stack and records the stack's event.
func (d *deployment) stackStatus(status, reason string) {
	d.s.setStackStatus(d.account, d.region, d.stackID, status, reason)
}

// resourceEvent records a resource's status and its event.
func (d *deployment) resourceEvent(r *resource, status, reason string) {
	now := d.s.now()
	cp := *r
	cp.Status, cp.Reason, cp.Updated = status, reason, now
	d.mu.Lock()
	d.cur[r.Logical] = &cp
	d.mu.Unlock()
	d.save(func(st *stack) {
		if st.Resources == nil {
			st.Resources = map[string]*resource{}
		}
		if old := st.Resources[r.Logical]; old != nil && cp.Awaiting {
			cp.Signals = old.Signals
		}
		st.Resources[r.Logical] = &cp
		var propsJSON string
		if cp.Props != nil && (status == "CREATE_IN_PROGRESS" || status == "UPDATE_IN_PROGRESS") && reason == "" {
			b, _ := json.Marshal(d.masked(cp.Props))
			propsJSON = string(b)
		}
		st.Events = append(st.Events, event{ID: r.Logical + "-" + status + "-" + uuid.New(), Logical: r.Logical,
			Physical: r.Physical, Type: r.Type, Status: status, Reason: reason, Time: now, Props: propsJSON})
	})
	d.s.log.Info("cloudformation resource", "stack", d.name, "resource", r.Logical, "type", r.Type, "status", status, "reason", reason)
}

// masked returns properties with the values of NoEcho parameters
// replaced by asterisks, as events show them.
func (d *deployment) masked(v any) any {
	if d.tpl == nil {
		return v
	}
	secret := map[string]bool{}
	for n, p := range d.tpl.Parameters {
		if s, ok := d.params[n].(string); ok && p.NoEcho && s != "" {
			secret[s] = true
		}
	}
	if len(secret) == 0 {
		return v
	}
	var walk func(v any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			m := make(map[string]any, len(x))
			for k, e := range x {
				m[k] = walk(e)
			}
			return m
		case []any:
			l := make([]any, len(x))
			for i, e := range x {
				l[i] = walk(e)
			}
			return l
		case string:
			if secret[x] {
				return "****"
			}
		}
		return v
	}
	return walk(v)
}

// context is the evaluation context: Ref and Fn::GetAtt read the
// resources as made so far.
func (d *deployment) context() *template.Context {
	if d.evctx != nil {
		return d.evctx
	}
	c := &template.Context{Region: d.region, Account: d.account, StackName: d.name, StackID: d.stackID, Params: d.params}
	c.Ref = func(name string) (any, error) {
		d.mu.Lock()
		r := d.cur[name]
		d.mu.Unlock()
		if r == nil || r.Physical == "" {
			return nil, fmt.Errorf("Template error: resource %s is not available", name)
		}
		if r.Ref != "" {
			return r.Ref, nil
		}
		return r.Physical, nil
	}
	c.GetAtt = func(name, attr string) (any, error) {
		d.mu.Lock()
		r := d.cur[name]
		d.mu.Unlock()
		if r == nil {
			return nil, fmt.Errorf("Template error: instance of Fn::GetAtt references undefined resource %s", name)
		}
		v, ok := r.Attrs[attr]
		if !ok {
			return nil, fmt.Errorf("Template error: resource %s does not support attribute type %s in Fn::GetAtt", name, attr)
		}
		return v, nil
	}
	c.Import = func(name string) (string, error) { return d.s.importValue(d.account, d.region, name) }
	c.AZs = func(region string) ([]string, error) { return d.s.zones(d.caller, region) }
	d.evctx = c
	return c
}

func (d *deployment) newCall(ctx context.Context, logical string) *call {
	return &call{ctx: api.WithRequest(ctx, &api.Request{ID: uuid.New(), Region: d.region, Caller: d.caller}),
		svc: d.s.invoker, account: d.account, region: d.region, stackName: d.name, logical: logical,
		stackTags: d.tags, poll: d.s.poll, log: d.s.log, cfn: d.s, stackID: d.stackID,
		note: func(reason string) {
			d.mu.Lock()
			r := d.cur[logical]
			d.mu.Unlock()
			if r != nil {
				d.resourceEvent(r, r.Status, reason)
			}
		}}
}

// wanted returns the template's resources whose condition holds.
func (d *deployment) wanted() ([]string, error) {
	var out []string
	for _, n := range d.tpl.Order() {
		ok, err := d.tpl.Condition(d.tpl.Resources[n].Condition, d.context())
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, n)
		}
	}
	return out, nil
}

// run performs the deployment to its end (the stack is already in its
// _IN_PROGRESS status).
func (d *deployment) run() {
	ok := d.deploy()
	if d.changeSetID != "" {
		d.s.finishChangeSet(d.account, d.region, d.changeSetID, ok)
	}
}

func (d *deployment) deploy() bool {
	ctx := context.Background()
	if err := d.checkParameters(ctx); err != nil {
		d.fail(ctx, err.Error())
		return false
	}
	names, err := d.wanted()
	if err != nil {
		d.fail(ctx, err.Error()+" ")
		return false
	}
	if failed := d.deletionsAllowed(names); len(failed) > 0 {
		d.fail(ctx, fmt.Sprintf("The following resource(s) failed to update: [%s]. ", strings.Join(failed, ", ")))
		return false
	}
	deps := map[string][]string{}
	for _, n := range names {
		deps[n] = d.tpl.Resources[n].Deps
	}
	wctx, cancel := context.WithCancel(ctx)
	d.halt = wctx
	stop, tripped := d.watch(cancel)
	failed := runGraph(wctx, names, deps, d.apply)
	stop()
	cancel()
	why := tripped()
	if why == "" && len(failed) == 0 {
		// Deployed: the monitoring period before completion or cleanup.
		why = d.monitor()
	}
	if why != "" {
		d.triggered = true
		d.fail(ctx, why)
		return false
	}
	if len(failed) > 0 {
		verb := "create"
		if !d.create {
			verb = "update"
		}
		d.fail(ctx, fmt.Sprintf("The following resource(s) failed to %s: [%s]. ", verb, strings.Join(failed, ", ")))
		return false
	}
	outs, err := d.outputs()
	if err == nil {
		err = d.s.checkExportsKept(d.account, d.region, d.stackID, outs)
	}
	if err != nil {
		d.fail(ctx, err.Error())
		return false
	}
	if !d.create {
		d.stackStatus("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "")
	}
	d.save(func(st *stack) {
		st.Outputs = outs
		if d.nextPolicy != "" {
			st.Policy = d.nextPolicy
		}
	})
	d.cleanup(ctx, names)
	d.stackStatus(d.op()+"_COMPLETE", "")
	return true
}

// apply creates, updates or replaces one resource.
func (d *deployment) apply(ctx context.Context, logical string) error {
	if d.halt != nil && d.halt.Err() != nil {
		// A rollback trigger fired: what has not started never does.
		return d.halt.Err()
	}
	def := d.tpl.Resources[logical]
	prev := d.old[logical]
	r := &resource{Logical: logical, Type: def.Type, Deps: def.Deps, DeletionPolicy: def.DeletionPolicy}
	resolved, err := d.tpl.Resolve(def.Properties, d.context())
	if err != nil {
		d.resourceEvent(r, d.op()+"_FAILED", err.Error())
		return err
	}
	// Metadata's intrinsics are resolved as the properties' are (cfn-init
	// reads the result through DescribeStackResource).
	if def.Metadata != nil {
		md, err := d.tpl.Resolve(def.Metadata, d.context())
		if err != nil {
			d.resourceEvent(r, d.op()+"_FAILED", err.Error())
			return err
		}
		b, _ := json.Marshal(md)
		r.Metadata = string(b)
	}
	p, _ := resolved.(map[string]any)
	r.Props = p
	prov := providers[def.Type]
	if prev != nil && prev.Physical != "" && prev.Type == def.Type {
		if sameProps(prev.Props, p) {
			d.mu.Lock()
			cp := *prev
			cp.Deps, cp.DeletionPolicy, cp.Metadata = r.Deps, r.DeletionPolicy, r.Metadata
			d.cur[logical] = &cp
			d.mu.Unlock()
			return nil
		}
		if prov.Update != nil && !replaces(prov, prev.Props, p) {
			if err := d.allowed(stackpolicy.Modify, prev); err != nil {
				return err
			}
			d.resourceEvent(&resource{Logical: logical, Type: def.Type, Physical: prev.Physical, Props: p}, "UPDATE_IN_PROGRESS", "")
			st, err := prov.Update(d.newCall(ctx, logical), stateOf(prev), props(prev.Props), props(p))
			if err != nil {
				prev2 := *prev
				d.resourceEvent(&prev2, "UPDATE_FAILED", reason(def.Type, err))
				return err
			}
			setState(r, st)
			d.mu.Lock()
			d.undo = append(d.undo, undo{logical: logical, before: prev})
			d.mu.Unlock()
			d.resourceEvent(r, "UPDATE_COMPLETE", "")
			return nil
		}
		if err := d.allowed(stackpolicy.Replace, prev); err != nil {
			return err
		}
		d.resourceEvent(&resource{Logical: logical, Type: def.Type, Physical: prev.Physical, Props: p}, "UPDATE_IN_PROGRESS",
			"Requested update requires the creation of a new physical resource; hence creating one.")
		st, err := prov.Create(d.newCall(ctx, logical), props(p))
		if err != nil {
			cp := *prev
			d.resourceEvent(&cp, "UPDATE_FAILED", reason(def.Type, err))
			return err
		}
		setState(r, st)
		d.mu.Lock()
		d.undo = append(d.undo, undo{logical: logical, made: r, before: prev})
		d.mu.Unlock()
		d.resourceEvent(r, "UPDATE_IN_PROGRESS", "Resource creation Initiated")
		d.resourceEvent(r, "UPDATE_COMPLETE", "")
		return nil
	}
	if prov == nil {
		msg := fmt.Sprintf("Resource type %s is not supported by cloudbox", def.Type)
		d.resourceEvent(r, "CREATE_FAILED", msg)
		return errors.New(msg)
	}
	// A resource with a CreationPolicy takes signals from the start: an
	// instance may boot and signal before its creation call returns.
	r.Awaiting = def.Signals > 0
	d.resourceEvent(r, "CREATE_IN_PROGRESS", "")
	st, err := prov.Create(d.newCall(ctx, logical), props(p))
	if st != nil && st.Physical != "" {
		// Made but not finished (an instance that never ran): it is
		// rolled back like any other.
		setState(r, st)
		d.mu.Lock()
		d.undo = append(d.undo, undo{logical: logical, made: r})
		d.mu.Unlock()
	}
	if err != nil {
		r.Awaiting = false
		if ctx.Err() != nil {
			d.resourceEvent(r, "CREATE_FAILED", "Resource creation cancelled")
		} else {
			d.resourceEvent(r, "CREATE_FAILED", reason(def.Type, err))
		}
		return err
	}
	d.resourceEvent(r, "CREATE_IN_PROGRESS", "Resource creation Initiated")
	if def.Signals > 0 {
		if err := d.awaitSignals(ctx, r, def.Signals, def.SignalTimeout); err != nil {
			r.Awaiting = false
			d.resourceEvent(r, "CREATE_FAILED", err.Error())
			return err
		}
		r.Awaiting = false
	}
	d.resourceEvent(r, "CREATE_COMPLETE", "")
	return nil
}

// awaitSignals waits, after a resource with a CreationPolicy is made,
// for its success signals (SignalResource, which cfn-signal calls), on
// the virtual clock.
func (d *deployment) awaitSignals(ctx context.Context, r *resource, count int, timeout time.Duration) error {
	r.Awaiting = true
	d.save(func(st *stack) {
		if x := st.Resources[r.Logical]; x != nil {
			x.Awaiting = true
		}
	})
	deadline := d.s.now().Add(timeout)
	for {
		var sigs []signal
		err := d.s.store.View(func(tx *store.Tx) error {
			st := new(stack)
			_, err := tx.Get(d.key(), st)
			if x := st.Resources[r.Logical]; x != nil {
				sigs = x.Signals
			}
			return err
		})
		if err != nil {
			return err
		}
		ok, failed := 0, 0
		for _, sg := range sigs {
			if sg.Status == "SUCCESS" {
				ok++
			} else {
				failed++
			}
		}
		switch {
		case failed > 0:
			return fmt.Errorf("Received %d FAILURE signal(s) out of %d. Unable to satisfy 100%% MinSuccessfulInstancesPercent requirement", failed, count)
		case ok >= count:
			return nil
		case !d.s.now().Before(deadline):
			return fmt.Errorf("Failed to receive %d resource signal(s) within the specified duration", count)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("Resource creation cancelled")
		case <-time.After(d.s.poll):
		}
	}
}

func setState(r *resource, st *state) {
	r.Physical, r.Ref, r.Attrs = st.Physical, st.Ref, st.Attrs
}

func stateOf(r *resource) *state { return &state{Physical: r.Physical, Ref: r.Ref, Attrs: r.Attrs} }

// replaces says whether changing old to new needs a new resource.
func replaces(p *provider, old, new map[string]any) bool {
	for _, k := range p.Replace {
		if !reflect.DeepEqual(normalize(old[k]), normalize(new[k])) {
			return true
		}
	}
	return false
}

// sameProps says whether two sets of resolved properties are the same
// (none and empty are).
func sameProps(a, b map[string]any) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(normalize(a), normalize(b))
}

// normalize makes values read back from JSON comparable with fresh ones.
func normalize(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// reason is a failed call's ResourceStatusReason, in the form AWS's
// resource handlers report a service's error.
func reason(typ string, err error) string {
	var e *api.Error
	if errors.As(err, &e) {
		code := "GeneralServiceException"
		switch {
		case strings.Contains(e.Code, "NotFound"), strings.HasPrefix(e.Code, "NoSuch"):
			code = "NotFound"
		case strings.Contains(e.Code, "Duplicate"), strings.Contains(e.Code, "AlreadyExists"), strings.Contains(e.Code, "AlreadyOwned"):
			code = "AlreadyExists"
		case strings.HasPrefix(e.Code, "Invalid"), strings.Contains(e.Code, "Validation"), strings.HasPrefix(e.Code, "Missing"), strings.HasPrefix(e.Code, "Malformed"):
			code = "InvalidRequest"
		case strings.Contains(e.Code, "Limit"):
			code = "ServiceLimitExceeded"
		}
		return fmt.Sprintf("Resource handler returned message: \"%s\" (Service: %s, Status Code: %d) (HandlerErrorCode: %s)", e.Message, serviceName(typ), e.Status, code)
	}
	return err.Error()
}

// serviceName is how handlers name a type's service: AWS::EC2::VPC is
// Ec2's.
func serviceName(typ string) string {
	parts := strings.Split(typ, "::")
	if len(parts) < 2 || parts[1] == "" {
		return typ
	}
	n := parts[1]
	if strings.ToUpper(n) == n {
		return n[:1] + strings.ToLower(n[1:])
	}
	return n
}

// fail rolls back (or not) after a failure.
func (d *deployment) fail(ctx context.Context, why string) {
	if d.create && !d.rollback {
		d.stackStatus("CREATE_FAILED", why)
		return
	}
	if !d.create && !d.rollback {
		d.stackStatus("UPDATE_FAILED", why)
		return
	}
	if d.create {
		if !d.triggered {
			why += "Rollback requested by user."
		}
		d.stackStatus("ROLLBACK_IN_PROGRESS", why)
		ok := d.deleteAll(ctx, rollingBack)
		if !ok {
			d.stackStatus("ROLLBACK_FAILED", "")
			return
		}
		d.stackStatus("ROLLBACK_COMPLETE", "")
		if d.deleteOnFailure {
			d.stackStatus("DELETE_IN_PROGRESS", "")
			d.stackStatus("DELETE_COMPLETE", "")
		}
		return
	}
	d.stackStatus("UPDATE_ROLLBACK_IN_PROGRESS", why)
	ok := d.revert(ctx)
	if d.prior != nil {
		d.save(func(st *stack) {
			p := d.prior
			st.Template, st.Params, st.NoEcho, st.Resolved, st.Imports = p.Template, p.Params, p.NoEcho, p.Resolved, p.Imports
			st.Description, st.Tags, st.Capabilities, st.NotificationARNs = p.Description, p.Tags, p.Capabilities, p.NotificationARNs
		})
	}
	d.stackStatus("UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS", "")
	if ok {
		d.stackStatus("UPDATE_ROLLBACK_COMPLETE", "")
	} else {
		d.stackStatus("UPDATE_ROLLBACK_FAILED", "")
	}
}

// revert undoes an update's changes, newest first.
func (d *deployment) revert(ctx context.Context) bool {
	ok := true
	for i := len(d.undo) - 1; i >= 0; i-- {
		u := d.undo[i]
		prov := providers[d.tpl.Resources[u.logical].Type]
		switch {
		case u.made != nil && u.before == nil: // created by the update
			if !d.deleteOne(ctx, u.made, rollingBack) {
				ok = false
			}
		case u.made != nil: // replaced: drop the replacement, keep the old one
			if err := prov.Delete(d.newCall(ctx, u.logical), stateOf(u.made), props(u.made.Props)); err != nil {
				ok = false
			}
			d.resourceEvent(u.before, "UPDATE_COMPLETE", "")
		default: // updated in place: put the old properties back
			d.resourceEvent(u.before, "UPDATE_IN_PROGRESS", "")
			d.mu.Lock()
			cur := d.cur[u.logical]
			d.mu.Unlock()
			if _, err := prov.Update(d.newCall(ctx, u.logical), stateOf(cur), props(cur.Props), props(u.before.Props)); err != nil {
				d.resourceEvent(u.before, "UPDATE_FAILED", reason(u.before.Type, err))
				ok = false
				continue
			}
			d.resourceEvent(u.before, "UPDATE_COMPLETE", "")
		}
	}
	return ok
}

// cleanup deletes, after a successful update, the resources the template
// no longer has and the physical resources replaced, in reverse order.
func (d *deployment) cleanup(ctx context.Context, names []string) {
	keep := map[string]bool{}
	for _, n := range names {
		keep[n] = true
	}
	var gone []*resource
	for n, r := range d.old {
		if !keep[n] && r.Physical != "" {
			gone = append(gone, r)
		}
	}
	deleteReverse(ctx, gone, func(ctx context.Context, r *resource) bool {
		ok := d.deleteOne(ctx, r, deleting)
		if ok {
			d.save(func(st *stack) { delete(st.Resources, r.Logical) })
		}
		return ok
	})
	for _, u := range d.undo {
		if u.made != nil && u.before != nil && u.before.Physical != "" {
			prov := providers[u.before.Type]
			c := d.newCall(ctx, u.logical)
			d.event(u.before, "DELETE_IN_PROGRESS", "")
			if err := prov.Delete(c, stateOf(u.before), props(u.before.Props)); err != nil {
				d.event(u.before, "DELETE_FAILED", reason(u.before.Type, err))
				continue
			}
			d.event(u.before, "DELETE_COMPLETE", "")
		}
	}
	for n := range d.old {
		if !keep[n] {
			d.save(func(st *stack) { delete(st.Resources, n) })
		}
	}
}

// event records an event for a physical resource no longer the
// resource's current one (a replaced one being deleted).
func (d *deployment) event(r *resource, status, reason string) {
	now := d.s.now()
	d.save(func(st *stack) {
		st.Events = append(st.Events, event{ID: r.Logical + "-" + status + "-" + uuid.New(), Logical: r.Logical,
			Physical: r.Physical, Type: r.Type, Status: status, Reason: reason, Time: now})
	})
}

// Why resources are deleted, which decides what their DeletionPolicy
// keeps: a rollback deletes what the failed operation made except what
// says Retain (RetainExceptOnCreate goes); a deletion keeps both.
const (
	rollingBack = "rollback"
	deleting    = "delete"
)

// deleteAll deletes every resource of the stack in reverse dependency
// order, independent ones in parallel.
func (d *deployment) deleteAll(ctx context.Context, why string) bool {
	d.mu.Lock()
	var all []*resource
	for _, r := range d.cur {
		all = append(all, r)
	}
	d.mu.Unlock()
	return deleteReverse(ctx, all, func(ctx context.Context, r *resource) bool { return d.deleteOne(ctx, r, why) })
}

// deleteOne deletes one resource, with its events.
func (d *deployment) deleteOne(ctx context.Context, r *resource, why string) bool {
	if r.Status == "DELETE_COMPLETE" || r.Status == "DELETE_SKIPPED" {
		return true
	}
	if r.DeletionPolicy == "Retain" || why == deleting && r.DeletionPolicy == "RetainExceptOnCreate" {
		d.resourceEvent(r, "DELETE_SKIPPED", "")
		return true
	}
	prov := providers[r.Type]
	if r.Physical == "" || prov == nil {
		// Never made (failed or cancelled before its service answered).
		d.resourceEvent(r, "DELETE_COMPLETE", "")
		return true
	}
	d.resourceEvent(r, "DELETE_IN_PROGRESS", "")
	if err := d.retryDelete(ctx, prov, r); err != nil && !gone(err) {
		d.resourceEvent(r, "DELETE_FAILED", reason(r.Type, err))
		return false
	}
	d.resourceEvent(r, "DELETE_COMPLETE", "")
	return true
}

// dependencyWait is how long a deletion refused for a dependency is
// retried: what holds the resource (an instance's public address on a
// gateway being detached) is often going away at the same time, and
// AWS's handlers wait for it likewise.
const dependencyWait = 2 * time.Minute

func (d *deployment) retryDelete(ctx context.Context, prov *provider, r *resource) error {
	deadline := time.Now().Add(dependencyWait)
	for {
		c := d.newCall(ctx, r.Logical)
		c.deletionPolicy = r.DeletionPolicy
		err := prov.Delete(c, stateOf(r), props(r.Props))
		var e *api.Error
		if err == nil || !errors.As(err, &e) || e.Code != "DependencyViolation" || time.Now().After(deadline) {
			return err
		}
		d.s.log.Info("cloudformation: deletion waits for a dependency", "stack", d.name, "resource", r.Logical, "reason", e.Message)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(d.s.poll):
		}
	}
}

// goneError is a resource found gone other than by a service's
// not-found error (an instance terminated).
type goneError struct{}

func (*goneError) Error() string { return "the resource no longer exists" }

// gone says whether a delete failed because the resource is already
// gone, which CloudFormation counts as deleted.
func gone(err error) bool {
	var g *goneError
	if errors.As(err, &g) {
		return true
	}
	var e *api.Error
	return errors.As(err, &e) && (strings.Contains(e.Code, "NotFound") || strings.HasPrefix(e.Code, "NoSuch"))
}

// deleteReverse deletes resources after those that depend on them.
func deleteReverse(ctx context.Context, rs []*resource, del func(context.Context, *resource) bool) bool {
	by := map[string]*resource{}
	var names []string
	for _, r := range rs {
		by[r.Logical] = r
		names = append(names, r.Logical)
	}
	users := map[string][]string{}
	for _, r := range rs {
		for _, dep := range r.Deps {
			users[dep] = append(users[dep], r.Logical)
		}
	}
	failed := runGraph(ctx, names, users, func(ctx context.Context, n string) error {
		if !del(context.WithoutCancel(ctx), by[n]) {
			return fmt.Errorf("%s failed to delete", n)
		}
		return nil
	})
	return len(failed) == 0
}

// outputs evaluates the template's Outputs.
func (d *deployment) outputs() ([]output, error) {
	var out []output
	names := make([]string, 0, len(d.tpl.Outputs))
	for n := range d.tpl.Outputs {
		names = append(names, n)
	}
	sort.Strings(names)
	c := d.context()
	for _, n := range names {
		o := d.tpl.Outputs[n]
		ok, err := d.tpl.Condition(o.Condition, c)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		v, err := d.tpl.Resolve(o.Value, c)
		if err != nil {
			return nil, err
		}
		val, isStr := v.(string)
		if !isStr {
			if l, ok := v.([]any); ok {
				parts := make([]string, len(l))
				for i, e := range l {
					parts[i] = template.String(e)
				}
				val = strings.Join(parts, ",")
			} else {
				val = template.String(v)
			}
		}
		res := output{Key: n, Value: val, Description: o.Description}
		if o.Export != nil {
			e, err := d.tpl.Resolve(o.Export, c)
			if err != nil {
				return nil, err
			}
			res.Export = template.String(e)
		}
		out = append(out, res)
	}
	return out, nil
}

// deleteStack runs a stack's deletion.
func (s *Service) deleteStack(account, region, id string, retain map[string]bool) {
	ctx := context.Background()
	var st stack
	err := s.store.View(func(tx *store.Tx) error {
		_, err := tx.Get(stackKey(account, region, id), &st)
		return err
	})
	if err != nil {
		s.log.Error("cloudformation: reading stack", "err", err)
		return
	}
	s.setStackStatus(account, region, id, "DELETE_IN_PROGRESS", "User Initiated")
	// Exports in use keep the whole stack.
	var inUse error
	err = s.store.View(func(tx *store.Tx) error {
		for _, o := range st.Outputs {
			if o.Export == "" {
				continue
			}
			users, err := importers(tx, account, region, o.Export, id)
			if err != nil {
				return err
			}
			if len(users) > 0 {
				inUse = fmt.Errorf("Export %s cannot be deleted as it is in use by %s", o.Export, strings.Join(users, " and "))
				return nil
			}
		}
		return nil
	})
	if err != nil {
		s.log.Error("cloudformation: reading exports", "err", err)
		inUse = errors.New("Internal failure reading the region's imports")
	}
	if inUse != nil {
		s.setStackStatus(account, region, id, "DELETE_FAILED", inUse.Error())
		return
	}
	d := &deployment{s: s, account: account, region: region, stackID: id, name: st.Name, caller: st.Caller,
		tags: st.Tags, cur: map[string]*resource{}}
	for n, r := range st.Resources {
		if retain[n] {
			r.DeletionPolicy = "Retain"
		}
		d.cur[n] = r
	}
	if !d.deleteAll(ctx, deleting) {
		var failed []string
		for n, r := range d.cur {
			if r.Status == "DELETE_FAILED" {
				failed = append(failed, n)
			}
		}
		sort.Strings(failed)
		s.setStackStatus(account, region, id, "DELETE_FAILED",
			fmt.Sprintf("The following resource(s) failed to delete: [%s]. ", strings.Join(failed, ", ")))
		return
	}
	s.setStackStatus(account, region, id, "DELETE_COMPLETE", "")
}

// zones lists a region's availability zones through EC2's API, as the
// caller (Fn::GetAZs).
func (s *Service) zones(caller api.Principal, region string) ([]string, error) {
	ctx := api.WithRequest(context.Background(), &api.Request{ID: uuid.New(), Region: region, Caller: caller})
	out, err := s.invoker("ec2").Invoke(ctx, "DescribeAvailabilityZones", &ec2api.DescribeAvailabilityZonesRequest{})
	if err != nil {
		return nil, err
	}
	var zs []string
	for _, z := range out.(*ec2api.DescribeAvailabilityZonesResult).AvailabilityZones {
		if deref(z.ZoneType) == "" || deref(z.ZoneType) == "availability-zone" {
			zs = append(zs, deref(z.ZoneName))
		}
	}
	return zs, nil
}

// importValue is an export's value (Fn::ImportValue).
func (s *Service) importValue(account, region, name string) (string, error) {
	var v string
	err := s.store.View(func(tx *store.Tx) error {
		ex, err := exportsOf(tx, account, region)
		if err != nil {
			return err
		}
		e, ok := ex[name]
		if !ok {
			return api.Errorf("ValidationError", "No export named %s found", name)
		}
		v = e[0]
		return nil
	})
	return v, err
}

// checkExportsKept refuses an update that removes or changes an export
// another stack imports.
func (s *Service) checkExportsKept(account, region, id string, outs []output) error {
	return s.store.View(func(tx *store.Tx) error {
		var st stack
		if _, err := tx.Get(stackKey(account, region, id), &st); err != nil {
			return err
		}
		now := map[string]string{}
		for _, o := range outs {
			if o.Export != "" {
				now[o.Export] = o.Value
			}
		}
		for _, o := range st.Outputs {
			if o.Export == "" {
				continue
			}
			v, kept := now[o.Export]
			if kept && v == o.Value {
				continue
			}
			users, err := importers(tx, account, region, o.Export, id)
			if err != nil {
				return err
			}
			if len(users) > 0 {
				verb := "update"
				if !kept {
					verb = "delete"
				}
				return fmt.Errorf("Cannot %s export %s as it is in use by %s", verb, o.Export, strings.Join(users, " and "))
			}
		}
		return nil
	})
}

// setStackStatus moves a stack to status and records its event.
func (s *Service) setStackStatus(account, region, id, status, reason string) {
	now := s.now()
	err := s.store.Update(func(tx *store.Tx) error {
		k := stackKey(account, region, id)
		st := new(stack)
		if ok, err := tx.Get(k, st); err != nil || !ok {
			return err
		}
		st.Status, st.Reason = status, reason
		if status == "DELETE_COMPLETE" {
			st.Deleted = now
		}
		if strings.HasPrefix(status, "UPDATE_") {
			st.Updated = now
		}
		st.Events = append(st.Events, event{ID: uuid.New(), Logical: st.Name, Physical: st.ID,
			Type: "AWS::CloudFormation::Stack", Status: status, Reason: reason, Time: now})
		return tx.Put(k, st)
	})
	if err != nil {
		s.log.Error("cloudformation: stack status", "err", err)
	}
	s.log.Info("cloudformation stack", "account", account, "region", region, "stack", id, "status", status, "reason", reason)
}

// pollEvery is how often providers look at a resource they wait for.
const pollEvery = 100 * time.Millisecond

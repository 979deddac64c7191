package ec2

import (
	"context"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/events"
	"github.com/cloudbox/cloudbox/store"
)

// Instance states and their transitions over time.
//
// Requests move an instance into a transitional state (pending, stopping,
// shutting-down); the lifecycle controller below moves it on to the next
// one when its time comes, as EC2 does, so waiters see real transitions.
// The delays are the control plane's alone: the data plane (a later issue)
// will drive these transitions from real processes instead.

const (
	bootDelay      = 500 * time.Millisecond // pending -> running
	stopDelay      = 500 * time.Millisecond // stopping -> stopped
	terminateDelay = 500 * time.Millisecond // shutting-down -> terminated
	imageDelay     = 500 * time.Millisecond // image pending -> available
	// terminatedTTL is how long a terminated instance stays visible.
	terminatedTTL = time.Hour
)

const (
	statePending      = "pending"
	stateRunning      = "running"
	stateShuttingDown = "shutting-down"
	stateTerminated   = "terminated"
	stateStopping     = "stopping"
	stateStopped      = "stopped"
	// stateGone is where a terminated instance goes: out of the store.
	stateGone = ""
)

var stateCodes = map[string]int64{
	statePending: 0, stateRunning: 16, stateShuttingDown: 32, stateTerminated: 48, stateStopping: 64, stateStopped: 80,
}

func instanceState(name string) *ec2api.InstanceState {
	return &ec2api.InstanceState{Code: i64(stateCodes[name]), Name: str(name)}
}

func instanceStateName(r *instanceRecord) string {
	if r.State == nil {
		return ""
	}
	return deref(r.State.Name)
}

func (r *instanceRecord) setState(name string, now time.Time) {
	r.State = instanceState(name)
	r.StateSince = now
}

// nextTransition returns the state an instance moves to by itself, and
// when; ok is false for a state that lasts until a request changes it.
func nextTransition(r *instanceRecord) (to string, at time.Time, ok bool) {
	switch instanceStateName(r) {
	case statePending:
		return stateRunning, r.StateSince.Add(bootDelay), true
	case stateStopping:
		return stateStopped, r.StateSince.Add(stopDelay), true
	case stateShuttingDown:
		return stateTerminated, r.StateSince.Add(terminateDelay), true
	case stateTerminated:
		return stateGone, r.TerminatedAt.Add(terminatedTTL), true
	}
	return "", time.Time{}, false
}

// imageAvailableAt returns when a pending image becomes available.
func imageAvailableAt(img *imageRecord) (time.Time, bool) {
	if deref(img.State) != "pending" {
		return time.Time{}, false
	}
	created, err := time.Parse(imageTimeLayout, deref(img.CreationDate))
	if err != nil {
		return time.Time{}, true // unreadable: make it available now
	}
	return created.Add(imageDelay), true
}

// userInitiated is the reason AWS gives for a stop or termination asked
// for through the API.
func userInitiated(r *instanceRecord, now time.Time) {
	r.StateReason = &ec2api.StateReason{Code: str("Client.UserInitiatedShutdown"), Message: str("Client.UserInitiatedShutdown: User initiated shutdown")}
	r.StateTransitionReason = str("User initiated (" + now.UTC().Format("2006-01-02 15:04:05") + " GMT)")
}

// transition logs an instance's move from one state to another and, once
// the move is committed, publishes the "EC2 Instance State-change
// Notification" AWS sends through EventBridge.
func (s *Service) transition(tx *store.Tx, sc scope, id, from, to string) {
	s.log.Info("ec2 instance state", "account", sc.account, "region", sc.region, "instance", id, "from", from, "to", to)
	if s.events == nil || to == stateGone {
		return
	}
	ev := events.Event{Source: "aws.ec2", DetailType: "EC2 Instance State-change Notification", Account: sc.account, Region: sc.region,
		Time: s.now(), Resources: []string{arn.ARN{Partition: arn.Partition(sc.region), Service: "ec2", Region: sc.region, Account: sc.account, Resource: "instance/" + id}.String()},
		Detail: map[string]string{"instance-id": id, "state": to}}
	tx.OnCommit(func() { s.events.Publish(ev) })
}

// lifecycle is the controller that moves instances and images through
// their transitional states. It follows the store (Watch) and keeps the
// time each record is due to move; one goroutine per Service, started by
// the first call that needs it, ending when the store closes (which closes
// the watch), so it outlives no daemon.
type lifecycle struct {
	s      *Service
	once   sync.Once
	scopes chan scope    // scopes to scan once, for records made before it watched
	done   chan struct{} // closed when the controller ends
	known  sync.Map      // scope -> struct{}: the scopes scanned
}

// lifecycle returns the Service's controller, starting it the first time.
// It must not be called inside a store transaction.
func (s *Service) lifecycle() *lifecycle {
	l := s.lc
	l.once.Do(func() {
		events, _ := s.store.Watch(kindInstance.store, kindImage.store)
		go l.run(events)
	})
	return l
}

// track makes sure the controller has scanned a scope: records there
// from before it started (a restart) are moved on too.
func (l *lifecycle) track(sc scope) {
	if _, seen := l.known.LoadOrStore(sc, struct{}{}); seen {
		return
	}
	select {
	case l.scopes <- sc:
	case <-l.done:
	}
}

func (l *lifecycle) run(events <-chan store.Event) {
	defer close(l.done)
	due := store.Due{}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		due.Arm(timer, l.s.now(), l.s.scale)
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			due.Follow(ev, func(k store.Key) { l.schedule(due, k) }, func() {
				l.known.Range(func(k, _ any) bool {
					l.scan(due, k.(scope))
					return true
				})
			})
		case sc := <-l.scopes:
			l.scan(due, sc)
		case <-timer.C:
			l.advanceDue(due)
		}
	}
}

// schedule reads a changed record and notes when it is due to move.
func (l *lifecycle) schedule(due map[store.Key]time.Time, k store.Key) {
	err := l.s.store.View(func(tx *store.Tx) error {
		at, ok, err := dueTime(tx, k, l.s.dataPlane)
		if err != nil {
			return err
		}
		if ok {
			due[k] = at
		} else {
			delete(due, k)
		}
		return nil
	})
	if err != nil {
		l.s.log.Warn("ec2 lifecycle: reading a record", "key", k.ID, "error", err)
	}
}

func dueTime(tx *store.Tx, k store.Key, dataPlane bool) (time.Time, bool, error) {
	switch k.Kind {
	case kindInstance.store:
		r, ok, err := store.Get[instanceRecord](tx, k)
		if err != nil || !ok {
			return time.Time{}, false, err
		}
		_, at, ok := nextTransition(r)
		if ok && dataPlane && machineWork(instanceStateName(r)) {
			return time.Time{}, false, nil // it moves on when the data plane reports
		}
		return at, ok, nil
	case kindImage.store:
		img, ok, err := store.Get[imageRecord](tx, k)
		if err != nil || !ok {
			return time.Time{}, false, err
		}
		if dataPlane && img.SourceDisk != "" {
			return time.Time{}, false, nil // available when the data plane reports it baked
		}
		at, ok := imageAvailableAt(img)
		return at, ok, nil
	}
	return time.Time{}, false, nil
}

// scan schedules every record of a scope.
func (l *lifecycle) scan(due map[store.Key]time.Time, sc scope) {
	err := l.s.store.View(func(tx *store.Tx) error {
		for _, kind := range []string{kindInstance.store, kindImage.store} {
			err := tx.List(sc.account, sc.region, kind, func(id string, _ []byte) error {
				k := store.Key{Account: sc.account, Region: sc.region, Kind: kind, ID: id}
				at, ok, err := dueTime(tx, k, l.s.dataPlane)
				if ok {
					due[k] = at
				}
				return err
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		l.s.log.Warn("ec2 lifecycle: scanning", "account", sc.account, "region", sc.region, "error", err)
	}
}

// advanceDue moves every record whose time has come, in one transaction;
// if that fails, one by one, so a bad record holds up no other. A moved
// record comes back as a Put event and is scheduled for its next move.
func (l *lifecycle) advanceDue(due map[store.Key]time.Time) {
	now := l.s.now()
	var keys []store.Key
	for k, t := range due {
		if !t.After(now) {
			delete(due, k)
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return
	}
	err := l.s.store.Update(func(tx *store.Tx) error {
		for _, k := range keys {
			if err := l.s.advance(tx, k, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil || len(keys) == 1 {
		if err != nil {
			l.s.log.Warn("ec2 lifecycle: advancing", "key", keys[0].ID, "error", err)
		}
		return
	}
	for _, k := range keys {
		if err := l.s.store.Update(func(tx *store.Tx) error { return l.s.advance(tx, k, now) }); err != nil {
			l.s.log.Warn("ec2 lifecycle: advancing", "key", k.ID, "error", err)
		}
	}
}

// advance moves one record on if it is (still) due.
func (s *Service) advance(tx *store.Tx, k store.Key, now time.Time) error {
	sc := scope{account: k.Account, region: k.Region}
	if k.Kind == kindImage.store {
		img, ok, err := store.Get[imageRecord](tx, k)
		if err != nil || !ok {
			return err
		}
		if at, ok := imageAvailableAt(img); !ok || at.After(now) {
			return nil
		}
		img.State = str("available")
		s.log.Info("ec2 image state", "account", sc.account, "region", sc.region, "image", k.ID, "from", "pending", "to", "available")
		return tx.Put(k, img)
	}
	r, ok, err := store.Get[instanceRecord](tx, k)
	if err != nil || !ok {
		return err
	}
	to, at, ok := nextTransition(r)
	if !ok || at.After(now) {
		return nil
	}
	return s.moveOn(tx, k, r, to, now)
}

// moveOn moves instance r to state to.
func (s *Service) moveOn(tx *store.Tx, k store.Key, r *instanceRecord, to string, now time.Time) error {
	sc := scope{account: k.Account, region: k.Region}
	from := instanceStateName(r)
	s.transition(tx, sc, k.ID, from, to)
	switch to {
	case stateGone:
		if _, err := tx.Delete(attrsKey(sc, k.ID)); err != nil {
			return err
		}
		if _, err := tx.Delete(store.Key{Account: k.Account, Region: k.Region, Kind: consoleKind, ID: k.ID}); err != nil {
			return err
		}
		_, err := tx.Delete(k)
		return err
	case stateRunning:
		r.StateReason = nil
		if r.MetadataOptions != nil {
			r.MetadataOptions.State = str("applied")
		}
	case stateStopped:
		if err := stopNetwork(tx, sc, r); err != nil {
			return err
		}
	case stateTerminated:
		if err := releaseVolumes(tx, sc, r); err != nil {
			return err
		}
		if err := releaseNetwork(tx, sc, r); err != nil {
			return err
		}
		r.TerminatedAt = now
	}
	r.setState(to, now)
	return tx.Put(k, r)
}

// stopNetwork releases the auto-assigned public addresses of a stopping
// instance; its private addresses and Elastic IPs stay.
func stopNetwork(tx *store.Tx, sc scope, r *instanceRecord) error {
	all, err := enisByInstance(tx, sc)
	if err != nil {
		return err
	}
	for _, e := range all[*r.InstanceId] {
		if err := releaseAutoPublicIP(tx, e); err != nil {
			return err
		}
		if err := save(tx, sc, kindENI, *e.NetworkInterfaceId, e); err != nil {
			return err
		}
	}
	applyENIs(r, all[*r.InstanceId])
	return nil
}

// releaseNetwork frees the network of a terminated instance: interfaces
// to delete on termination go (with their addresses), the others are
// detached; an Elastic IP stays allocated, disassociated from the
// instance (and from its interface, if that goes).
func releaseNetwork(tx *store.Tx, sc scope, r *instanceRecord) error {
	all, err := enisByInstance(tx, sc)
	if err != nil {
		return err
	}
	for _, e := range all[*r.InstanceId] {
		deleting := e.Attachment != nil && derefBool(e.Attachment.DeleteOnTermination)
		if as := e.Association; as != nil && as.AllocationId != nil {
			if err := disassociateEIP(tx, sc, *as.AllocationId, deleting); err != nil {
				return err
			}
		}
		if deleting {
			// Elastic IPs on its secondary addresses lose their link too.
			if err := unlinkAddressesOf(tx, sc, *e.NetworkInterfaceId); err != nil {
				return err
			}
			if err := deleteENI(tx, sc, e); err != nil {
				return err
			}
			continue
		}
		if err := releaseAutoPublicIP(tx, e); err != nil {
			return err
		}
		e.Attachment = nil
		e.Status = str("available")
		if err := save(tx, sc, kindENI, *e.NetworkInterfaceId, e); err != nil {
			return err
		}
	}
	r.NetworkInterfaces = []*ec2api.InstanceNetworkInterface{}
	r.SecurityGroups = []*ec2api.GroupIdentifier{}
	r.BlockDeviceMappings = []*ec2api.InstanceBlockDeviceMapping{}
	r.PrivateIpAddress, r.PublicIpAddress, r.SubnetId, r.VpcId = nil, nil, nil, nil
	r.PrivateDnsName, r.PublicDnsName = str(""), str("")
	return nil
}

// disassociateEIP clears an Elastic IP's association with a terminated
// instance; with its interface too when that is deleted.
func disassociateEIP(tx *store.Tx, sc scope, allocationID string, interfaceGone bool) error {
	a, ok, err := store.Get[addressRecord](tx, sc.key(kindAddress, allocationID))
	if err != nil || !ok {
		return err
	}
	a.InstanceId = nil
	if interfaceGone {
		a.AssociationId, a.NetworkInterfaceId, a.NetworkInterfaceOwnerId, a.PrivateIpAddress = nil, nil, nil, nil
	}
	return save(tx, sc, kindAddress, allocationID, a)
}

// stateChange runs a state request over instances: check validates each
// (all are checked before any changes), change moves one and returns its
// new state.
func (s *Service) stateChange(ctx context.Context, ids []*string, dry *bool,
	check func(r *instanceRecord, a *instanceAttrs) error,
	change func(tx *store.Tx, sc scope, r *instanceRecord, a *instanceAttrs, now time.Time) error,
) ([]*ec2api.InstanceStateChange, error) {
	sc := scopeOf(ctx)
	s.lifecycle().track(sc)
	now := s.now().UTC()
	var changes []*ec2api.InstanceStateChange
	err := s.store.Update(func(tx *store.Tx) error {
		recs, err := loadInstances(tx, sc, ids, now)
		if err != nil {
			return err
		}
		attrs := make([]*instanceAttrs, len(recs))
		for i, r := range recs {
			if attrs[i], err = loadInstanceAttrs(tx, sc, *r.InstanceId); err != nil {
				return err
			}
			if err := check(r, attrs[i]); err != nil {
				return err
			}
		}
		if err := dryRun(dry); err != nil {
			return err
		}
		for i, r := range recs {
			prev := instanceStateName(r)
			if err := change(tx, sc, r, attrs[i], now); err != nil {
				return err
			}
			cur := instanceStateName(r)
			if cur != prev {
				s.transition(tx, sc, *r.InstanceId, prev, cur)
				if err := save(tx, sc, kindInstance, *r.InstanceId, r); err != nil {
					return err
				}
			}
			changes = append(changes, &ec2api.InstanceStateChange{InstanceId: r.InstanceId, PreviousState: instanceState(prev), CurrentState: instanceState(cur)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return changes, nil
}

func (s *Service) StopInstances(ctx context.Context, in *ec2api.StopInstancesRequest) (*ec2api.StopInstancesResult, error) {
	check := func(r *instanceRecord, a *instanceAttrs) error {
		switch instanceStateName(r) {
		case stateRunning, stateStopping, stateStopped:
		case statePending:
			return api.Errorf("IncorrectInstanceState", "Instance '%s' cannot be stopped as it has never reached the 'running' state.", *r.InstanceId)
		default:
			return api.Errorf("IncorrectInstanceState", "This instance '%s' is not in a state from which it can be stopped.", *r.InstanceId)
		}
		if a.DisableAPIStop {
			return api.Errorf("OperationNotPermitted", "The instance '%s' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.", *r.InstanceId)
		}
		if derefBool(in.Hibernate) && (r.HibernationOptions == nil || !derefBool(r.HibernationOptions.Configured)) {
			return api.Errorf("UnsupportedHibernationConfiguration", "The instance '%s' is not configured for hibernation.", *r.InstanceId)
		}
		return nil
	}
	change := func(_ *store.Tx, _ scope, r *instanceRecord, _ *instanceAttrs, now time.Time) error {
		if instanceStateName(r) == stateRunning {
			r.setState(stateStopping, now)
			userInitiated(r, now)
			if derefBool(in.Hibernate) {
				r.StateReason = &ec2api.StateReason{Code: str("Client.UserInitiatedHibernate"), Message: str("Client.UserInitiatedHibernate: User initiated hibernate")}
			}
		}
		return nil
	}
	changes, err := s.stateChange(ctx, in.InstanceIds, in.DryRun, check, change)
	if err != nil {
		return nil, err
	}
	return &ec2api.StopInstancesResult{StoppingInstances: changes}, nil
}

func (s *Service) StartInstances(ctx context.Context, in *ec2api.StartInstancesRequest) (*ec2api.StartInstancesResult, error) {
	check := func(r *instanceRecord, _ *instanceAttrs) error {
		switch instanceStateName(r) {
		case statePending, stateRunning, stateStopped:
			return nil
		}
		return api.Errorf("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be started.", *r.InstanceId)
	}
	change := func(tx *store.Tx, sc scope, r *instanceRecord, a *instanceAttrs, now time.Time) error {
		if instanceStateName(r) != stateStopped {
			return nil
		}
		r.setState(statePending, now)
		r.LaunchTime = timep(now.Truncate(time.Second))
		r.StateReason = &ec2api.StateReason{Code: str("pending"), Message: str("pending")}
		r.StateTransitionReason = str("")
		all, err := enisByInstance(tx, sc)
		if err != nil {
			return err
		}
		enis := all[*r.InstanceId]
		for _, e := range enis {
			if attachIndex(e) != 0 || !a.AutoPublicIP || e.Association != nil {
				continue
			}
			vpc, err := load[vpcRecord](tx, sc, kindVPC, deref(e.VpcId))
			if err != nil {
				return err
			}
			if err := assignPublicIP(tx, e, sc.region, vpc.EnableDNSHostnames); err != nil {
				return err
			}
			if err := save(tx, sc, kindENI, *e.NetworkInterfaceId, e); err != nil {
				return err
			}
		}
		applyENIs(r, enis)
		return nil
	}
	changes, err := s.stateChange(ctx, in.InstanceIds, in.DryRun, check, change)
	if err != nil {
		return nil, err
	}
	return &ec2api.StartInstancesResult{StartingInstances: changes}, nil
}

func (s *Service) RebootInstances(ctx context.Context, in *ec2api.RebootInstancesRequest) (*ec2api.RebootInstancesOutput, error) {
	check := func(r *instanceRecord, _ *instanceAttrs) error {
		if st := instanceStateName(r); st != stateRunning && st != statePending {
			return api.Errorf("IncorrectInstanceState", "The instance '%s' is not in a state from which it can be rebooted.", *r.InstanceId)
		}
		return nil
	}
	// A reboot keeps the instance running: the data plane restarts it when
	// it sees the count of reboots asked grow.
	change := func(tx *store.Tx, sc scope, r *instanceRecord, _ *instanceAttrs, _ time.Time) error {
		r.Reboots++
		return save(tx, sc, kindInstance, *r.InstanceId, r)
	}
	if _, err := s.stateChange(ctx, in.InstanceIds, in.DryRun, check, change); err != nil {
		return nil, err
	}
	return &ec2api.RebootInstancesOutput{}, nil
}

func (s *Service) TerminateInstances(ctx context.Context, in *ec2api.TerminateInstancesRequest) (*ec2api.TerminateInstancesResult, error) {
	check := func(r *instanceRecord, a *instanceAttrs) error {
		if a.DisableAPITermination {
			return api.Errorf("OperationNotPermitted", "The instance '%s' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.", *r.InstanceId)
		}
		return nil
	}
	change := func(_ *store.Tx, _ scope, r *instanceRecord, _ *instanceAttrs, now time.Time) error {
		switch instanceStateName(r) {
		case stateShuttingDown, stateTerminated:
			return nil
		}
		r.setState(stateShuttingDown, now)
		userInitiated(r, now)
		return nil
	}
	changes, err := s.stateChange(ctx, in.InstanceIds, in.DryRun, check, change)
	if err != nil {
		return nil, err
	}
	return &ec2api.TerminateInstancesResult{TerminatingInstances: changes}, nil
}

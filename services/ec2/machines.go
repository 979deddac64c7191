package ec2

import (
	"context"
	"sync"
	"time"

	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// Machines is the data plane as EC2 sees it: what runs an instance's
// processes. Without one (cloudbox up --dataplane=off) instances move
// through their states on timers alone; with one, an instance is running
// when its processes are, and stopped when they are gone.
type Machines interface {
	// Boot starts the instance (its network and processes) and returns
	// when it runs.
	Boot(ctx context.Context, account, region, id string) error
	// Halt stops the instance's processes; terminate also deletes its disk.
	Halt(ctx context.Context, account, region, id string, terminate bool) error
	// Reboot restarts a running instance's processes.
	Reboot(ctx context.Context, account, region, id string) error
	// ConsoleOutput is what the instance printed on its console.
	ConsoleOutput(account, region, id string) ([]byte, error)
}

// machineTimeout bounds one boot or halt; past it the instance fails.
const machineTimeout = 2 * time.Minute

// SetMachines connects the data plane. It is called once, before the
// service handles requests.
func (s *Service) SetMachines(m Machines) { s.machines = m }

// Resume starts the lifecycle controller over every account and region
// that has instances, so that instances left in a transitional state by
// a restart move on without waiting for a request.
func (s *Service) Resume() error {
	var scopes [][2]string
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		scopes, err = tx.Scopes(kindInstance.store)
		return err
	})
	if err != nil {
		return err
	}
	lc := s.lifecycle()
	for _, p := range scopes {
		lc.track(scope{account: p[0], region: p[1]})
	}
	return nil
}

// machineWork is the data-plane work of a transitional state: what must
// happen before the instance may move on.
func machineWork(state string) bool {
	switch state {
	case statePending, stateStopping, stateShuttingDown:
		return true
	}
	return false
}

// inflight tracks the instances whose data-plane work runs, so a record
// changed meanwhile (a tag, say) does not start the same work twice.
type inflight struct {
	mu   sync.Mutex
	keys map[store.Key]bool
}

func (f *inflight) begin(k store.Key) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.keys == nil {
		f.keys = map[store.Key]bool{}
	}
	if f.keys[k] {
		return false
	}
	f.keys[k] = true
	return true
}

func (f *inflight) end(k store.Key) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.keys, k)
}

// dispatch runs the data-plane work of an instance in a transitional
// state and, when it is done, moves the instance on. A failed boot ends
// the instance as EC2 ends one that cannot start. It reports whether the
// instance was in such a state (its work may already be running).
func (s *Service) dispatch(k store.Key) bool {
	var state string
	err := s.store.View(func(tx *store.Tx) error {
		r, ok, err := store.Get[instanceRecord](tx, k)
		if ok {
			state = instanceStateName(r)
		}
		return err
	})
	if err != nil || !machineWork(state) {
		return false
	}
	if !s.busy.begin(k) {
		return true
	}
	go func() {
		defer s.busy.end(k)
		ctx, cancel := context.WithTimeout(context.Background(), machineTimeout)
		defer cancel()
		var workErr error
		switch state {
		case statePending:
			workErr = s.machines.Boot(ctx, k.Account, k.Region, k.ID)
		case stateStopping:
			workErr = s.machines.Halt(ctx, k.Account, k.Region, k.ID, false)
		case stateShuttingDown:
			workErr = s.machines.Halt(ctx, k.Account, k.Region, k.ID, true)
		}
		if workErr != nil {
			s.log.Error("ec2 instance: data plane", "account", k.Account, "region", k.Region, "instance", k.ID, "state", state, "error", workErr)
		}
		now := s.now()
		err := s.store.Update(func(tx *store.Tx) error {
			r, ok, err := store.Get[instanceRecord](tx, k)
			if err != nil || !ok || instanceStateName(r) != state {
				return err // changed meanwhile: its new state has its own work
			}
			if workErr != nil && state == statePending {
				r.setState(stateShuttingDown, now)
				r.StateReason = &ec2api.StateReason{Code: str("Server.InternalError"), Message: str("Server.InternalError: Internal error on launch")}
				return tx.Put(k, r)
			}
			to, _, _ := nextTransition(r)
			return s.moveOn(tx, k, r, to, now)
		})
		if err != nil {
			s.log.Warn("ec2 instance: moving on", "instance", k.ID, "error", err)
		}
	}()
	return true
}

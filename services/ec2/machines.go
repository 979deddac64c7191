package ec2

import (
	"time"

	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/store"
)

// The data plane, as EC2 sees it. Without one (cloudbox up
// --dataplane=off) instances move through their states on timers alone.
// With one, EC2 never calls it: the instances controller reads the
// instances EC2 contributes to the desired world, boots, stops and
// terminates them, and reports what it made (ReportInstance); only then
// does an instance leave pending, stopping or shutting-down, as on AWS an
// instance is running when it runs.

// SetDataPlane says, before the service handles requests, whether a data
// plane runs the instances.
func (s *Service) SetDataPlane(on bool) { s.dataPlane = on }

// machineWork is the data-plane work of a transitional state: what must
// happen before the instance may move on.
func machineWork(state string) bool {
	switch state {
	case statePending, stateStopping, stateShuttingDown:
		return true
	}
	return false
}

// reportedAs is the report that moves an instance on from its
// transitional state.
var reportedAs = map[string]string{statePending: desired.Running, stateStopping: desired.Stopped, stateShuttingDown: desired.Terminated}

// ReportInstance implements desired.InstanceReporter: the instance moves on
// when the report is the one its state waits for. A failed boot ends the
// instance as EC2 ends one that cannot start.
func (s *Service) ReportInstance(account, region, id, state, reason string) error {
	k := scope{account: account, region: region}.key(kindInstance, id)
	now := s.now()
	return s.store.Update(func(tx *store.Tx) error {
		r, ok, err := store.Get[instanceRecord](tx, k)
		if err != nil || !ok {
			return err
		}
		from := instanceStateName(r)
		switch {
		case state == desired.Failed && from == statePending:
			s.log.Error("ec2 instance: data plane", "account", account, "region", region, "instance", id, "state", from, "error", reason)
			s.transition(tx, scope{account: account, region: region}, id, from, stateShuttingDown)
			r.setState(stateShuttingDown, now)
			r.StateReason = &ec2api.StateReason{Code: str("Server.InternalError"), Message: str("Server.InternalError: Internal error on launch")}
			return tx.Put(k, r)
		case state != reportedAs[from]:
			return nil // changed meanwhile: its new state has its own work
		}
		to, _, _ := nextTransition(r)
		return s.moveOn(tx, k, r, to, now)
	})
}

// consoleKind keeps each instance's console output as the data plane last
// reported it; the desired world does not depend on it.
const consoleKind = "ec2:console"

type consoleRecord struct {
	Output []byte
	At     time.Time
}

// ReportConsole implements desired.InstanceReporter.
func (s *Service) ReportConsole(account, region, id string, output []byte) error {
	// AWS keeps the last 64 KB of the console.
	if len(output) > 64<<10 {
		output = output[len(output)-64<<10:]
	}
	k := scope{account: account, region: region}.key(kindInstance, id)
	return s.store.Update(func(tx *store.Tx) error {
		if _, ok, err := store.Get[instanceRecord](tx, k); err != nil || !ok {
			return err // gone meanwhile
		}
		k.Kind = consoleKind
		return tx.Put(k, consoleRecord{Output: output, At: s.now().UTC()})
	})
}

// ReportImage implements desired.ImageReporter: a pending image whose
// layer the data plane baked is available; one it could not bake failed,
// with the reason AWS's StateReason gives.
func (s *Service) ReportImage(account, region, id string, ok bool, reason string) error {
	k := scope{account: account, region: region}.key(kindImage, id)
	return s.store.Update(func(tx *store.Tx) error {
		img, found, err := store.Get[imageRecord](tx, k)
		if err != nil || !found || deref(img.State) != "pending" {
			return err
		}
		to := "available"
		if !ok {
			to = "failed"
			img.StateReason = &ec2api.StateReason{Code: str("Server.InternalError"), Message: str("Server.InternalError: " + reason)}
		}
		img.State = str(to)
		s.log.Info("ec2 image state", "account", account, "region", region, "image", id, "from", "pending", "to", to, "reason", reason)
		return tx.Put(k, img)
	})
}

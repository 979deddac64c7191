package desired

import (
	"context"
	"errors"
	"io"
)

// SlotExec runs a command inside one of a service's own running slots,
// its standard input and output streamed (a database node's dump read
// out, a dump loaded into a new node). It is the one way a service acts
// inside its slots, beside what it declares: the daemon hands each
// service that takes one (SlotExecUser) an exec bound to the slots the
// service owns. No network is involved: the command runs in the slot's
// namespaces and root, as `cloudbox exec` runs one in an instance.
type SlotExec interface {
	// ExecSlot runs argv (argv[0] looked up in the slot's PATH) with
	// stdin and stdout (nil for none; the command's errors go to the
	// daemon's log) and returns its exit code. It fails with
	// ErrNoDataPlane when no data plane runs, and ErrSlotNotRunning when
	// the slot is not the caller's or its processes do not run.
	ExecSlot(ctx context.Context, slotID string, argv []string, stdin io.Reader, stdout io.Writer) (int, error)
}

// SlotExecUser is a service that runs commands in its slots: the daemon
// gives it its SlotExec once the data plane is up.
type SlotExecUser interface {
	UseSlotExec(SlotExec)
}

var (
	// ErrNoDataPlane: the daemon runs the control plane alone, so no
	// slot runs anything.
	ErrNoDataPlane = errors.New("no data plane runs the slots")
	// ErrSlotNotRunning: the slot is not the caller's, or is not running.
	ErrSlotNotRunning = errors.New("the slot is not running")
)

// NoDataPlane is the SlotExec of a daemon without a data plane (a
// service's until it is given another).
type NoDataPlane struct{}

// ExecSlot implements SlotExec: it always fails with ErrNoDataPlane.
func (NoDataPlane) ExecSlot(context.Context, string, []string, io.Reader, io.Writer) (int, error) {
	return -1, ErrNoDataPlane
}

package instances

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"time"

	"github.com/cloudbox/cloudbox/dataplane/compute"
	"github.com/cloudbox/cloudbox/desired"
)

// Managed compute slots (desired.Slot): a service's processes in the
// namespace of one of its own interfaces, run like an instance's (an
// image's programs, cgroup limits, a disk under Disks that survives
// restarts, the script run once at first boot) but with no SSH server, no
// IMDS and no EC2 record. Each sync starts a slot its owner wants running
// and stops one it wants stopped, and reports the outcome to the owner; a
// slot gone from the world is reaped with its disk.

// driveSlots starts the work the slots of snap ask for.
func (c *Controller) driveSlots(snap *desired.World) {
	for _, sl := range snap.Slots {
		c.mu.Lock()
		made, known := c.slots[sl.ID]
		_, busy := c.busy[sl.ID]
		start := !busy && (!known || made != sl.Running)
		if start {
			c.busy[sl.ID] = "slot"
			c.slots[sl.ID] = sl.Running // a failure is reported, not retried until the owner asks again
		}
		c.mu.Unlock()
		if start {
			go c.busyWork(sl.ID, func(ctx context.Context) { c.slotWork(ctx, snap, sl) })
		}
	}
}

// slotWork starts or stops a slot as its owner wants and reports it.
func (c *Controller) slotWork(ctx context.Context, snap *desired.World, sl *desired.Slot) {
	report := desired.Stopped
	var err error
	if sl.Running {
		report = desired.Running
		if err = c.startSlot(ctx, snap, sl); err == nil {
			err = c.slotReady(sl)
		}
		if errors.Is(err, errClosing) {
			return // the next start waits for the boot again
		}
		if err != nil {
			report = desired.Failed
		}
	} else if err = c.cfg.Runner.Stop(ctx, sl.ID); err == compute.ErrNotFound {
		err = nil
	}
	reason := ""
	if err != nil {
		reason = err.Error()
		c.cfg.Log.Error("instances: slot", "slot", sl.ID, "owner", sl.Owner, "error", err)
	}
	r := c.cfg.Slots[sl.Owner]
	if r == nil {
		c.cfg.Log.Warn("instances: a slot whose owner takes no reports", "slot", sl.ID, "owner", sl.Owner)
		return
	}
	if err := r.ReportSlot(sl.Account, sl.Region, sl.ID, report, reason); err != nil {
		c.cfg.Log.Warn("instances: reporting a slot", "slot", sl.ID, "state", report, "error", err)
	}
}

// slotReadyTimeout bounds a slot's boot: a first boot installs its engine
// from the mirror.
const slotReadyTimeout = 20 * time.Minute

// errClosing ends a wait because the daemon is going down.
var errClosing = errors.New("instances: the daemon is going down")

// slotReady waits until the slot's boot has finished (compute.BootFinished:
// its services started and, the first time, its script run), so that its
// owner hears "running" once the engine it installs serves, as a database
// is "available" on AWS only when it takes connections.
//
// The wait has its own bound, not machineTimeout's (which bounds the start
// before it): a first boot on loaded cores may take longer than that. It
// ends when the daemon begins to go down, which must not wait for it.
func (c *Controller) slotReady(sl *desired.Slot) error {
	ctx, cancel := context.WithTimeout(context.Background(), slotReadyTimeout)
	defer cancel()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		code, err := c.cfg.Runner.Exec(ctx, sl.ID, compute.ExecRequest{Argv: []string{"test", "-e", compute.BootFinished}})
		if err == nil && code == 0 {
			return nil
		}
		if errors.Is(err, compute.ErrNotRunning) || errors.Is(err, compute.ErrNotFound) {
			return fmt.Errorf("slot %s stopped during its boot", sl.ID)
		}
		select {
		case <-c.cfg.Closing:
			return errClosing
		case <-ctx.Done():
			if ctx.Err() == context.DeadlineExceeded {
				return fmt.Errorf("slot %s: boot not finished after %v (its console has the script's output)", sl.ID, slotReadyTimeout)
			}
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// startSlot runs a slot's processes behind its interface (a no-op when
// they run already, as after a restart).
func (c *Controller) startSlot(ctx context.Context, snap *desired.World, sl *desired.Slot) error {
	eni, v := snap.FindENI(sl.ENI)
	if eni == nil || len(eni.PrivateIPs) == 0 || v == nil {
		return fmt.Errorf("slot %s: interface %s not found", sl.ID, sl.ENI)
	}
	if err := os.MkdirAll(c.cfg.Disks, 0o700); err != nil {
		return err
	}
	spec, err := c.computeSpec(machine{id: sl.ID, hostname: sl.ID, region: sl.Region, vcpus: sl.VCPUs, memoryMiB: sl.MemoryMiB,
		image: sl.Image, userData: sl.Script}, eni, v)
	if err != nil {
		return err
	}
	if err := c.cfg.Runner.Start(ctx, spec); err != nil {
		return err
	}
	c.cfg.Log.Info("instances: slot up", "slot", sl.ID, "owner", sl.Owner, "ip", spec.PrivateIP)
	return nil
}

// ExecSlot runs a command in one of owner's slots (desired.SlotExec): a
// slot of another service is as good as absent. What the command writes
// on its standard error goes to the log.
func (c *Controller) ExecSlot(ctx context.Context, owner, id string, argv []string, stdin io.Reader, stdout io.Writer) (int, error) {
	if !slices.ContainsFunc(c.cfg.Desired().Slots, func(sl *desired.Slot) bool { return sl.ID == id && sl.Owner == owner }) {
		return -1, fmt.Errorf("%w: %s has no slot %s", desired.ErrSlotNotRunning, owner, id)
	}
	var stderr bytes.Buffer
	code, err := c.cfg.Runner.Exec(ctx, id, compute.ExecRequest{Argv: argv, Stdin: stdin, Stdout: stdout, Stderr: &stderr})
	if errors.Is(err, compute.ErrNotRunning) || errors.Is(err, compute.ErrNotFound) {
		err = fmt.Errorf("%w: %s", desired.ErrSlotNotRunning, id)
	}
	if stderr.Len() > 0 {
		c.cfg.Log.Warn("instances: a slot command's errors", "slot", id, "command", argv[0], "code", code, "stderr", tail(stderr.Bytes(), 4096))
	}
	return code, err
}

// tail is the last n bytes of b, as a string.
func tail(b []byte, n int) string {
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

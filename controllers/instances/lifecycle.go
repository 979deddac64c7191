package instances

import (
	"context"
	"path/filepath"
	"time"

	"github.com/cloudbox/cloudbox/dataplane/compute"
	"github.com/cloudbox/cloudbox/desired"
)

// The instances' lifecycle, level-triggered: each sync, an instance the
// desired world has in a transitional state gets its work (boot, stop,
// terminate) unless that work already runs, and the outcome is reported to
// EC2, which moves the instance on. A running instance whose count of
// reboots asked grew is rebooted. Nothing here is called by EC2.

// machineTimeout bounds one boot or halt; past it the instance fails.
const machineTimeout = 2 * time.Minute

// consoleEvery is how often the running instances' consoles are checked
// for new output to report (AWS posts it shortly after it is written).
const consoleEvery = time.Second

// drive starts the work the instances and slots of snap ask for.
func (c *Controller) drive(snap *desired.World) {
	c.driveSlots(snap)
	c.driveBakes(snap)
	for _, in := range snap.Instances {
		c.mu.Lock()
		if _, busy := c.busy[in.ID]; busy {
			// Its work runs; the report that ends it brings another sync.
			c.mu.Unlock()
			continue
		}
		seen, known := c.reboots[in.ID]
		c.reboots[in.ID] = in.Reboots
		if machineWork(in.State) {
			c.busy[in.ID] = in.State
		}
		c.mu.Unlock()
		switch {
		case machineWork(in.State):
			go c.busyWork(in.ID, func(ctx context.Context) { c.work(ctx, in.Account, in.Region, in.ID, in.State) })
		case in.State == "running" && known && in.Reboots > seen:
			// Not busy: a reboot changes no state, so no report would
			// bring the sync that sees a reboot asked meanwhile.
			go c.held(func(ctx context.Context) {
				if err := c.cfg.Runner.Reboot(ctx, in.ID); err != nil {
					c.cfg.Log.Error("instances: reboot", "instance", in.ID, "error", err)
				}
			})
		}
	}
}

func machineWork(state string) bool {
	return state == "pending" || state == "stopping" || state == "shutting-down"
}

// busyWork runs the work on instance or slot id that drive marked busy,
// then frees id.
func (c *Controller) busyWork(id string, work func(ctx context.Context)) {
	defer func() {
		c.mu.Lock()
		delete(c.busy, id)
		c.mu.Unlock()
	}()
	c.held(work)
}

// held runs work while the world is held up (not at all once it is going
// down: the next start takes the work up again), bounded by
// machineTimeout.
func (c *Controller) held(work func(ctx context.Context)) {
	release, err := c.cfg.Hold()
	if err != nil {
		return
	}
	defer release()
	ctx, cancel := context.WithTimeout(context.Background(), machineTimeout)
	defer cancel()
	work(ctx)
}

// work does what an instance's transitional state asks and reports it.
func (c *Controller) work(ctx context.Context, account, region, id, state string) {
	var report string
	var err error
	switch state {
	case "pending":
		report = desired.Running
		err = c.boot(ctx, id)
		if err != nil {
			report = desired.Failed
		}
	case "stopping":
		report, err = desired.Stopped, c.halt(ctx, id, false)
	case "shutting-down":
		report, err = desired.Terminated, c.halt(ctx, id, true)
	}
	reason := ""
	if err != nil {
		reason = err.Error()
		c.cfg.Log.Error("instances: "+state, "instance", id, "error", err)
	}
	if state != "shutting-down" {
		c.reportConsole(account, region, id)
	}
	if err := c.cfg.Reports.ReportInstance(account, region, id, report, reason); err != nil {
		c.cfg.Log.Warn("instances: reporting", "instance", id, "state", report, "error", err)
	}
}

// followConsoles reports the running instances' console output when it
// grows, until ctx ends.
func (c *Controller) followConsoles(ctx context.Context) {
	t := time.NewTicker(consoleEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, in := range c.cfg.Desired().Instances {
			if in.State == "running" {
				c.reportConsole(in.Account, in.Region, in.ID)
			}
		}
	}
}

// reportConsole reports an instance's console if it changed since the
// last report.
func (c *Controller) reportConsole(account, region, id string) {
	size := compute.ConsoleSize(c.rootDir(id))
	c.mu.Lock()
	last, ok := c.consoles[id]
	c.consoles[id] = size
	c.mu.Unlock()
	if ok && last == size {
		return
	}
	out, err := compute.ConsoleOutput(c.rootDir(id), 64<<10)
	if err == nil {
		err = c.cfg.Reports.ReportConsole(account, region, id, out)
	}
	if err != nil {
		c.cfg.Log.Warn("instances: console output", "instance", id, "error", err)
	}
}

// driveBakes bakes the images the world waits for, each once at a time;
// the report makes the image leave the world's bakes.
func (c *Controller) driveBakes(snap *desired.World) {
	for _, b := range snap.Bakes {
		key := "bake " + b.ImageID
		c.mu.Lock()
		_, busy := c.busy[key]
		if !busy {
			c.busy[key] = "bake"
		}
		c.mu.Unlock()
		if busy {
			continue
		}
		go c.busyWork(key, func(ctx context.Context) {
			err := c.cfg.Images.Bake(ctx, b.ImageID, filepath.Join(c.rootDir(b.Instance), "upper"))
			reason := ""
			if err != nil {
				reason = err.Error()
				c.cfg.Log.Error("instances: baking an image", "image", b.ImageID, "instance", b.Instance, "error", err)
			}
			if err := c.cfg.Baked.ReportImage(b.Account, b.Region, b.ImageID, err == nil, reason); err != nil {
				c.cfg.Log.Warn("instances: reporting an image", "image", b.ImageID, "error", err)
			}
		})
	}
}

//go:build linux

// Package volumes is the EBS volumes controller: it keeps every volume's
// and snapshot's file (dataplane/volumes), attaches each volume attached
// to a running instance as a loop device whose node is in the instance's
// /dev, detaches what is no longer attached, and reports to EC2 what it
// made: a volume's data exists, an attachment is made or ended, a
// snapshot is copied. It is level-triggered over the kernel's state (the
// loop devices over its files, the nodes in the instances' /dev), at each
// sync and each second, since an instance's /dev is new at each boot and
// an unmount inside an instance ends a detach that waited for it.
package volumes

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/dataplane/compute"
	"github.com/cloudbox/cloudbox/dataplane/volumes"
	"github.com/cloudbox/cloudbox/desired"
)

// Config is what the supervisor gives the controller.
type Config struct {
	// Dir holds the volumes' and snapshots' files.
	Dir     string
	Runner  compute.Runner
	Desired func() *desired.World
	Reports desired.VolumeReporter
	// Hold keeps the world up while the controller changes the kernel;
	// it fails once the daemon is going down.
	Hold func() (release func(), err error)
	Log  *slog.Logger
}

// Controller is the volumes controller.
type Controller struct {
	cfg   Config
	store volumes.Store

	mu sync.Mutex // one reconcile at a time
	// synced: a sync has given the world read from the store; before
	// that, an empty world would say every file is gone.
	synced bool
	stop   context.CancelFunc
	done   chan struct{}
}

// New returns the controller.
func New(cfg Config) *Controller {
	return &Controller{cfg: cfg, store: volumes.Store{Dir: cfg.Dir}}
}

// Name implements controllers.Controller.
func (c *Controller) Name() string { return "volumes" }

// Sync implements controllers.Controller. What fails is the volumes'
// own: logged, and tried again next second.
func (c *Controller) Sync(ctx context.Context, snap *desired.World) error {
	if err := c.reconcile(snap, true); err != nil {
		c.cfg.Log.Warn("volumes: sync", "error", err)
	}
	return nil
}

// Start implements controllers.Starter: the reconcile of each second.
func (c *Controller) Start(context.Context) error {
	ctx, cancel := context.WithCancel(context.Background())
	c.stop, c.done = cancel, make(chan struct{})
	go func() {
		defer close(c.done)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			release, err := c.cfg.Hold()
			if err != nil {
				return // going down
			}
			if err := c.reconcile(c.cfg.Desired(), false); err != nil {
				c.cfg.Log.Warn("volumes: reconcile", "error", err)
			}
			release()
		}
	}()
	return nil
}

// Close implements controllers.Controller: the loop devices stay with the
// instances that use them, for a restarted daemon.
func (c *Controller) Close() error {
	if c.stop != nil {
		c.stop()
		<-c.done
	}
	return nil
}

// Cleanup detaches every loop device over the files of dir, once the
// instances are gone (the daemon's world is removed).
func Cleanup(dir string) error { return volumes.Cleanup(dir) }

// BootDevices are the devices instance in boots with: its attached
// volumes, each a loop device over its file (made if need be), named
// nvme1n1, nvme2n1... in the order of their device names, with their
// attachment's names linked. A volume that cannot be made ready is left
// to the controller, which plugs it once the instance runs.
func BootDevices(dir string, snap *desired.World, in *desired.Instance, log *slog.Logger) []compute.Device {
	var vols []*desired.Volume
	for _, v := range snap.Volumes {
		if v.Instance == in.ID && !v.Root && (v.Attachment == "attaching" || v.Attachment == "attached") {
			vols = append(vols, v)
		}
	}
	slices.SortFunc(vols, func(a, b *desired.Volume) int { return strings.Compare(a.Device, b.Device) })
	store := volumes.Store{Dir: dir}
	var devs []compute.Device
	for _, v := range vols {
		if _, err := store.Ensure(v.ID, v.SizeGiB, v.Snapshot); err != nil {
			log.Warn("volumes: at boot", "instance", in.ID, "volume", v.ID, "error", err)
			continue
		}
		l, err := volumes.LoopFor(store.Path(v.ID))
		if err != nil || l.AutoClear {
			log.Warn("volumes: at boot", "instance", in.ID, "volume", v.ID, "error", err, "busy", l.AutoClear)
			continue
		}
		devs = append(devs, compute.Device{Name: fmt.Sprintf("nvme%dn1", len(devs)+1), Major: l.Major, Minor: l.Minor, Links: volumes.Links(v.Device)})
	}
	return devs
}

// plugged is a volume's node in a running instance.
type plugged struct {
	instance string
	initPID  int
	node     volumes.Node
	loop     volumes.Loop
}

// reconcile makes the kernel match snap; synced says snap comes from a
// sync.
func (c *Controller) reconcile(snap *desired.World, synced bool) error {
	if snap == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !synced && !c.synced {
		return nil
	}
	c.synced = true
	var errs []error
	note := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	vols := map[string]*desired.Volume{}
	for _, v := range snap.Volumes {
		vols[v.ID] = v
	}
	// Snapshots first: a volume deleted in the same sync still has its
	// file to copy.
	keep := map[string]bool{}
	for _, s := range snap.Snapshots {
		keep[s.ID] = true
		if s.State != "pending" {
			continue
		}
		src := s.Volume
		if s.Source != "" {
			src = s.Source
		}
		if v := vols[s.Volume]; s.Source == "" && v != nil && v.Root {
			note(c.cfg.Reports.ReportSnapshot(s.Account, s.Region, s.ID, false,
				"cloudbox keeps a root volume as the instance's disk directory, not as a block device: it cannot be snapshotted"))
			continue
		}
		if err := c.store.Snapshot(s.ID, src, s.SizeGiB); err != nil {
			note(fmt.Errorf("snapshot %s: %w", s.ID, err))
			continue
		}
		note(c.cfg.Reports.ReportSnapshot(s.Account, s.Region, s.ID, true, ""))
	}
	loops, err := volumes.Loops(c.cfg.Dir)
	if err != nil {
		return err
	}
	loopOf := map[string]volumes.Loop{} // by volume id
	for _, l := range loops {
		loopOf[c.store.ID(l.File)] = l
	}
	for _, v := range snap.Volumes {
		if v.Root {
			continue
		}
		keep[v.ID] = true
		grown, err := c.store.Ensure(v.ID, v.SizeGiB, v.Snapshot)
		if err != nil {
			note(fmt.Errorf("volume %s: %w", v.ID, err))
			continue
		}
		if l, ok := loopOf[v.ID]; ok && grown {
			note(l.Refresh())
		}
		if v.State == "creating" {
			note(c.cfg.Reports.ReportVolume(v.Account, v.Region, v.ID))
		}
	}

	// What is plugged where, from the running instances' /dev (none to
	// look at when no volume is attached and no loop device is up: the
	// common case, each second).
	running := map[string]int{} // instance id -> init PID
	if len(loops) > 0 || slices.ContainsFunc(snap.Volumes, func(v *desired.Volume) bool { return !v.Root && v.Instance != "" }) {
		infos, err := c.cfg.Runner.List()
		if err != nil {
			return err
		}
		for _, in := range infos {
			if in.State == compute.StateRunning && in.InitPID > 0 {
				running[in.ID] = in.InitPID
			}
		}
	}
	byDev := map[[2]uint32]volumes.Loop{}
	for _, l := range loops {
		byDev[[2]uint32{l.Major, l.Minor}] = l
	}
	have := map[string]plugged{} // by volume id
	for id, pid := range running {
		nodes, err := volumes.Nodes(pid)
		if err != nil {
			continue // the instance is going away
		}
		for _, n := range nodes {
			if l, ok := byDev[[2]uint32{n.Major, n.Minor}]; ok {
				have[c.store.ID(l.File)] = plugged{instance: id, initPID: pid, node: n, loop: l}
			}
		}
	}
	// Wanted: attached (or attaching) volumes of instances that run, or
	// boot (whose init the boot gave the volumes' devices); their loop
	// devices stay up even while the instance's processes do not run yet.
	want := map[string]*desired.Volume{}
	keepLoop := map[string]bool{}
	for _, v := range snap.Volumes {
		if v.Root || v.Instance == "" || (v.Attachment != "attaching" && v.Attachment != "attached") {
			continue
		}
		if in := snap.FindInstance(v.Instance); in == nil || (in.State != "running" && in.State != "pending") {
			continue
		}
		keepLoop[v.ID] = true
		if _, ok := running[v.Instance]; ok && c.store.Exists(v.ID) {
			want[v.ID] = v
		}
	}
	// Unplug and detach what is not wanted where it is.
	for id, p := range have {
		if v := want[id]; v != nil && v.Instance == p.instance {
			continue
		}
		note(volumes.Unplug(p.initPID, p.node))
		delete(have, id)
		c.cfg.Log.Info("volumes: unplugged", "volume", id, "instance", p.instance, "node", p.node.Name)
	}
	for _, l := range loops {
		id := c.store.ID(l.File)
		if keepLoop[id] || l.AutoClear {
			continue
		}
		note(l.Detach()) // a mounted one goes when it is unmounted
		delete(loopOf, id)
	}
	// Plug what is wanted.
	for id, v := range want {
		if _, ok := have[id]; ok {
			continue
		}
		l, ok := loopOf[id]
		if ok && l.AutoClear {
			continue // still mounted in the instance it left: EBS's "busy"
		}
		if !ok {
			if l, err = volumes.LoopFor(c.store.Path(id)); err != nil {
				note(err)
				continue
			}
		}
		n, err := volumes.Plug(running[v.Instance], l, v.Device)
		if err != nil {
			note(fmt.Errorf("volume %s in %s: %w", id, v.Instance, err))
			continue
		}
		have[id] = plugged{instance: v.Instance, node: n, loop: l}
		c.cfg.Log.Info("volumes: plugged", "volume", id, "instance", v.Instance, "node", n.Name, "loop", l.Dev, "device", v.Device)
	}
	// Reports of the attachments that changed.
	now, err := volumes.Loops(c.cfg.Dir)
	if err != nil {
		return err
	}
	looped := map[string]bool{}
	for _, l := range now {
		looped[c.store.ID(l.File)] = true
	}
	for _, v := range snap.Volumes {
		if v.Root || v.Instance == "" {
			continue
		}
		in := snap.FindInstance(v.Instance)
		switch v.Attachment {
		case "attaching":
			if p, ok := have[v.ID]; ok && p.instance == v.Instance || in == nil || in.State == "stopped" {
				// Plugged, or to be plugged when the instance boots.
				note(c.cfg.Reports.ReportAttachment(v.Account, v.Region, v.ID, v.Instance, "attached"))
			}
		case "detaching":
			if _, ok := have[v.ID]; !ok && !looped[v.ID] {
				note(c.cfg.Reports.ReportAttachment(v.Account, v.Region, v.ID, v.Instance, "detached"))
			}
		}
	}
	// Files of volumes and snapshots that are gone.
	ids, err := c.store.IDs()
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, id := range ids {
		if !keep[id] {
			note(c.store.Remove(id))
			c.cfg.Log.Info("volumes: removed", "id", id)
		}
	}
	return errors.Join(errs...)
}

//go:build linux

package controllers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/cfnhelpers"
	"github.com/cloudbox/cloudbox/controllers/healthchecks"
	"github.com/cloudbox/cloudbox/controllers/instances"
	"github.com/cloudbox/cloudbox/controllers/loadbalancers"
	"github.com/cloudbox/cloudbox/controllers/metrics"
	"github.com/cloudbox/cloudbox/controllers/network"
	"github.com/cloudbox/cloudbox/controllers/volumes"
	"github.com/cloudbox/cloudbox/controllers/vpc"
	"github.com/cloudbox/cloudbox/dataplane/compute"
	"github.com/cloudbox/cloudbox/dataplane/images"
	netns "github.com/cloudbox/cloudbox/dataplane/network"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/engines/endpoints"
	"github.com/cloudbox/cloudbox/engines/mirror"
	"github.com/cloudbox/cloudbox/engines/vpcdns"
	"github.com/cloudbox/cloudbox/store"
)

// Check says whether the data plane can run here: nil, or why not.
func Check() error {
	if err := netns.Check(); err != nil {
		return err
	}
	return compute.Check()
}

// settle is how long the supervisor waits after a store change for more
// changes before it syncs: one sync for a burst of API calls.
const settle = 20 * time.Millisecond

// Supervisor is one daemon's running world: the controllers and what they
// share.
type Supervisor struct {
	cfg    Config
	net    *netns.Linux
	run    compute.Runner
	images *images.Store

	// controllers in the order they sync; instances also runs commands
	// (Exec).
	controllers []Controller
	instances   *instances.Controller
	network     *network.Controller

	// sync coalescing: gen counts syncs started, done the last one
	// finished; a caller waits for a sync that started after its call.
	smu     sync.Mutex
	scond   *sync.Cond
	running bool
	gen     uint64
	done    uint64
	lastErr error

	mu   sync.Mutex
	snap *desired.World

	// What the next sync re-reads: the scopes whose records changed, or
	// everything (the first sync, a reset, a watcher that fell behind, a
	// failed sync). Guarded by dmu; parts is the last read of each scope,
	// used by one sync at a time.
	dmu       sync.Mutex
	dirty     map[desired.Scope]bool
	full      bool
	parts     desired.Parts
	stopWatch func()
	closed    chan struct{}
	loopDone  chan struct{}

	// life is held (read) by every operation that changes the kernel, so
	// that Down's sweep waits for those under way.
	life sync.RWMutex
}

// New prepares the world; Start builds it.
func New(cfg Config) (*Supervisor, error) {
	n, err := netns.NewLinux(cfg.DaemonID)
	if err != nil {
		return nil, err
	}
	r, err := compute.New(compute.Config{DaemonID: cfg.DaemonID, StopGrace: 5 * time.Second, HidePaths: []string{cfg.StateDir},
		Helpers: cfnhelpers.Names})
	if err != nil {
		return nil, err
	}
	imageDir := cfg.ImageDir
	if imageDir == "" {
		imageDir = filepath.Join(cfg.StateDir, "images")
	}
	im, err := images.Open(images.Config{Dir: imageDir, BakedDir: filepath.Join(cfg.StateDir, "images-baked"), Mirror: cfg.ImageMirror, Log: cfg.Log})
	if err != nil {
		return nil, err
	}
	pkgs, err := packageMirror(filepath.Join(imageDir, "packages"), cfg.Log)
	if err != nil {
		return nil, err
	}
	s := &Supervisor{cfg: cfg, net: n, run: r, images: im, closed: make(chan struct{}), loopDone: make(chan struct{}),
		dirty: map[desired.Scope]bool{}, full: true, parts: desired.Parts{}}
	s.scond = sync.NewCond(&s.smu)
	scale := cfg.TimeScale
	if scale <= 0 {
		scale = 1
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	// names is the resolver chain of the AWS names the VPCs and the
	// internet see; it is filled below from the controllers that know
	// names, before anything asks it. The network controller's DNS servers
	// ask it between a VPC's private Route 53 zones and the public ones,
	// which they read from the snapshot (Desired).
	var names vpcdns.Chain
	// lookup is the whole resolution (zones and AWS names), for what
	// resolves a name as a resolver would: SSH jumps, health checks.
	lookup := &vpcdns.Lookup{Names: &names, World: s.current, Targets: cfg.Targets}
	var trust []byte
	if cfg.CA != nil {
		trust = cfg.CA.CertPEM()
	}
	var bootDevices func(*desired.World, *desired.Instance) []compute.Device
	if cfg.Volumes != nil {
		bootDevices = func(snap *desired.World, in *desired.Instance) []compute.Device {
			return volumes.BootDevices(s.volumesDir(), snap, in, cfg.Log)
		}
	}
	s.instances = instances.New(instances.Config{Namespaces: n, Runner: r, Images: im, Desired: s.current, Names: lookup, Identity: cfg.Identity, Profiles: cfg.Profiles,
		Reports: cfg.Instances, Slots: cfg.Slots, Baked: cfg.Images, Hold: s.hold, Closing: s.closed, Disks: s.instancesDir(), HostKeys: filepath.Join(cfg.StateDir, "hostkeys"),
		BootDevices: bootDevices, TrustCA: trust, Log: cfg.Log})
	lbs := loadbalancers.New(loadbalancers.Config{Namespaces: n, Desired: s.current, ELB: cfg.Health, Certs: cfg.Certs, Edge: cfg.Edge,
		TimeScale: scale, Log: cfg.Log})
	// The load balancers sync before the instances: a target whose
	// instance stops or terminates leaves the nodes' pools before the
	// instances controller starts halting its processes, so no request is
	// sent to a process on its way out.
	netCfg := network.Config{Kernel: n, Names: &names, Desired: s.current, InternetResolv: s.internetResolv(), Mirror: pkgs,
		HostDNS: cfg.DNSListen, Targets: cfg.Targets, Log: cfg.Log}
	if cfg.API != nil && cfg.CA != nil {
		netCfg.API, netCfg.Certs, netCfg.EndpointPrefixes = cfg.API, endpoints.NewCerts(cfg.CA), cfg.EndpointPrefixes
	}
	s.network = network.New(netCfg)
	s.controllers = []Controller{
		s.network,
		lbs,
		s.instances,
	}
	if cfg.Volumes != nil {
		s.controllers = append(s.controllers, volumes.New(volumes.Config{Dir: s.volumesDir(), Runner: r, Desired: s.current,
			Reports: cfg.Volumes, Hold: s.hold, Log: cfg.Log}))
	}
	if cfg.HealthChecks != nil {
		s.controllers = append(s.controllers, healthchecks.New(healthchecks.Config{Dialer: n, Namespace: vpc.InternetNS, Names: lookup,
			Reports: cfg.HealthChecks, TimeScale: scale, Log: cfg.Log}))
	}
	if cfg.Metrics != nil {
		s.controllers = append(s.controllers, metrics.New(metrics.Config{Publisher: cfg.Metrics, Instances: s.instances, Nodes: lbs,
			Desired: s.current, Now: now, TimeScale: scale, Log: cfg.Log}))
	}
	for _, c := range s.controllers {
		if n, ok := c.(Namer); ok {
			names = append(names, n.Names())
		}
	}
	// Then the names the services publish (load balancers').
	names = append(names, vpcdns.NamesResolver{World: s.current})
	return s, nil
}

// packageMirror is the simulated internet's Debian mirror, filled from
// the archive the host's apt uses (deb.debian.org when it names none).
func packageMirror(cacheDir string, log *slog.Logger) (*mirror.Mirror, error) {
	up, err := mirror.HostUpstreams("/")
	if err != nil || len(up) == 0 {
		log.Info("controllers: the host's apt sources name no Debian archive; the package mirror fills from deb.debian.org", "error", err)
		up = map[string]string{"/debian": "http://deb.debian.org/debian", "/debian-security": "http://deb.debian.org/debian-security"}
	}
	return mirror.New(mirror.Config{Upstreams: up, CacheDir: cacheDir, Log: log})
}

// Info describes the world for the commands that reach into it.
func (s *Supervisor) Info() Info {
	return Info{
		DaemonID:       s.cfg.DaemonID,
		InstancesDir:   s.instancesDir(),
		InternetNetNS:  s.net.Path(vpc.InternetNS),
		InternetResolv: s.internetResolv(),
		Echo:           "http://" + vpc.EchoAddr.String() + "/",
		Images:         s.images.Status(),
		DNS:            s.network.HostDNS(),
	}
}

func (s *Supervisor) instancesDir() string { return filepath.Join(s.cfg.StateDir, "instances") }

// volumesDir holds the EBS volumes' and snapshots' files.
func (s *Supervisor) volumesDir() string { return volumesDir(s.cfg.StateDir) }

func volumesDir(stateDir string) string { return filepath.Join(stateDir, "volumes") }

// internetResolv is the resolv.conf of commands run on the internet.
func (s *Supervisor) internetResolv() string {
	return filepath.Join(s.cfg.StateDir, "internet-resolv.conf")
}

// Start builds the world from the store (removing what the store no longer
// knows), starts the controllers (the internet's services, the instances
// that should run, the metric publisher), and follows the store until
// Close.
func (s *Supervisor) Start(ctx context.Context) error {
	s.images.Prepare()
	events, stop := s.cfg.Store.Watch()
	if err := s.sync(); err != nil {
		stop()
		return fmt.Errorf("building the world: %w", err)
	}
	for _, c := range s.controllers {
		if st, ok := c.(Starter); ok {
			if err := st.Start(ctx); err != nil {
				stop()
				return err
			}
		}
	}
	// Close waits for follow only once it runs: a failed Start leaves
	// nothing to wait for.
	s.stopWatch = stop
	go s.follow(events)
	return nil
}

// follow syncs after every burst of store changes that a contributor
// follows.
func (s *Supervisor) follow(events <-chan store.Event) {
	defer close(s.loopDone)
	var timer <-chan time.Time
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			if s.mark(ev) && timer == nil {
				timer = time.After(settle)
			}
		case <-timer:
			timer = nil
			if err := s.sync(); err != nil {
				s.cfg.Log.Error("controllers: sync", "error", err)
			}
		case <-s.closed:
			return
		}
	}
}

// sync makes the world match the store. It returns once a sync that
// started after the call has finished, so concurrent callers share one.
func (s *Supervisor) sync() error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	s.smu.Lock()
	defer s.smu.Unlock()
	want := s.gen + 1
	for s.done < want {
		if s.running {
			s.scond.Wait()
			continue
		}
		s.running = true
		s.gen++
		g := s.gen
		s.smu.Unlock()
		err := s.doSync()
		s.smu.Lock()
		s.running, s.done, s.lastErr = false, g, err
		s.scond.Broadcast()
	}
	return s.lastErr
}

// mark notes what a store change makes the next sync re-read, and
// reports whether it matters to the data plane at all.
func (s *Supervisor) mark(ev store.Event) bool {
	s.dmu.Lock()
	defer s.dmu.Unlock()
	switch ev.Op {
	case store.Reset, store.Resync:
		s.full = true
		return true
	}
	if !slices.ContainsFunc(s.cfg.Contributors, func(c desired.Contributor) bool { return c.Follows(ev.Key.Kind) }) {
		return false
	}
	if ev.Key.Region == "" {
		s.full = true // an account-wide record may matter to every region
	} else {
		s.dirty[desired.Scope{Account: ev.Key.Account, Region: ev.Key.Region}] = true
	}
	return true
}

// doSync re-reads the changed scopes from every contributor in one read
// transaction, has the controllers release what the world no longer has,
// then syncs them in order. The sync is shared by its callers, so none of
// their contexts bounds it.
func (s *Supervisor) doSync() error {
	s.dmu.Lock()
	full, dirty := s.full, slices.Collect(maps.Keys(s.dirty))
	s.full, s.dirty = false, map[desired.Scope]bool{}
	s.dmu.Unlock()
	if !full && len(dirty) == 0 {
		return nil
	}
	err := s.cfg.Store.View(func(tx *store.Tx) error { return s.parts.Read(tx, s.cfg.Contributors, dirty, full) })
	if err != nil {
		s.dmu.Lock()
		s.full = true // what this sync took is not read: read everything next time
		s.dmu.Unlock()
		return err
	}
	snap := s.parts.World()
	s.mu.Lock()
	s.snap = snap
	s.mu.Unlock()
	for _, c := range s.controllers {
		if p, ok := c.(Pruner); ok {
			p.Prune(snap)
		}
	}
	for _, c := range s.controllers {
		if err := c.Sync(context.Background(), snap); err != nil {
			return fmt.Errorf("%s: %w", c.Name(), err)
		}
	}
	return nil
}

// current returns the last snapshot.
func (s *Supervisor) current() *desired.World {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.snap == nil {
		return &desired.World{}
	}
	return s.snap
}

// errClosed is what operations answer once the world is closed.
var errClosed = errors.New("controllers: closed (cloudbox is going down)")

// enter starts an operation that changes the kernel; it fails once the
// world is closed, so that nothing is rebuilt after Down.
func (s *Supervisor) enter() error {
	s.life.RLock()
	select {
	case <-s.closed:
		s.life.RUnlock()
		return errClosed
	default:
		return nil
	}
}

func (s *Supervisor) leave() { s.life.RUnlock() }

// hold keeps the world up while work on it runs (an instance's boot):
// Down waits for it, and it fails once Down has begun.
func (s *Supervisor) hold() (func(), error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	return s.leave, nil
}

// Exec runs a command inside an instance.
func (s *Supervisor) Exec(ctx context.Context, id string, req compute.ExecRequest) (int, error) {
	return s.instances.Exec(ctx, id, req)
}

// SlotExec runs commands in the slots owner owns (desired.SlotExec).
func (s *Supervisor) SlotExec(owner string) desired.SlotExec { return ownedExec{s.instances, owner} }

type ownedExec struct {
	instances *instances.Controller
	owner     string
}

func (o ownedExec) ExecSlot(ctx context.Context, id string, argv []string, stdin io.Reader, stdout io.Writer) (int, error) {
	return o.instances.ExecSlot(ctx, o.owner, id, argv, stdin, stdout)
}

// Close stops the store watch and the controllers' engines, in reverse
// order; the instances and the network stay, so a restarted daemon takes
// them over.
func (s *Supervisor) Close() error {
	select {
	case <-s.closed:
		return nil
	default:
	}
	close(s.closed)
	if s.stopWatch != nil {
		s.stopWatch()
		<-s.loopDone
	}
	var errs []error
	for i := len(s.controllers) - 1; i >= 0; i-- {
		if err := s.controllers[i].Close(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.controllers[i].Name(), err))
		}
	}
	return errors.Join(errs...)
}

// Down removes everything the daemon made in the kernel: processes,
// cgroups, namespaces and links. Disks in StateDir stay (they are the data
// directory's).
func (s *Supervisor) Down(ctx context.Context) error {
	s.Close()
	// Wait for the boots and syncs under way (Auto Scaling may be
	// launching); later ones find the world closed and make nothing.
	s.life.Lock()
	defer s.life.Unlock()
	// The loop devices after the processes, whose mounts held them.
	err := s.run.Cleanup(ctx, s.cfg.DaemonID)
	return errors.Join(err, volumes.Cleanup(s.volumesDir()), s.net.Cleanup())
}

// Cleanup removes what daemon id of data directory stateDir left in the
// kernel (processes, cgroups, loop devices, namespaces) when that daemon
// is not running: `cloudbox down` without a daemon.
func Cleanup(ctx context.Context, id, stateDir string) error {
	r, err := compute.New(compute.Config{DaemonID: id})
	if err != nil {
		return err
	}
	err = r.Cleanup(ctx, id)
	return errors.Join(err, volumes.Cleanup(volumesDir(stateDir)), netns.Cleanup(id))
}

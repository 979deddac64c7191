//go:build linux

package compute

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

const (
	defaultRunDir    = "/run/cloudbox"
	defaultStopGrace = 10 * time.Second
	defaultPidsMax   = 4096
	// killTimeout bounds the wait for SIGKILLed processes to be gone.
	killTimeout = 10 * time.Second
	// readyTimeout bounds the init's setup when ctx has no deadline.
	readyTimeout = 30 * time.Second
)

// Linux runs instances on this machine. Its only in-memory state is the
// handles of the inits it started (to reap them); everything else is read
// from the system (cgroups) and from records in RunDir, so a new Linux
// for the same DaemonID sees, stops and cleans up a previous daemon's
// instances.
type Linux struct {
	cfg Config
	cg  *cgroups

	// all is held shared by operations on one instance and exclusively by
	// Cleanup; locks serializes operations on one instance.
	all      sync.RWMutex
	mu       sync.Mutex
	locks    map[string]*sync.Mutex
	children map[string]*child
}

// child is an init this process started and must reap.
type child struct {
	proc *os.Process
	done chan struct{}
}

// record is what RunDir keeps per instance: the spec (less the user data,
// which lives in the instance's disk after first boot) and its init.
type record struct {
	ID        string    `json:"id"`
	Hostname  string    `json:"hostname"`
	NetNS     string    `json:"netns,omitempty"`
	VCPUs     int       `json:"vcpus"`
	MemoryMiB int       `json:"memory_mib"`
	RootDir   string    `json:"root_dir"`
	Layers    []string  `json:"layers"`
	Env       []string  `json:"env,omitempty"`
	PrivateIP string    `json:"private_ip,omitempty"`
	Resolv    string    `json:"resolv_conf,omitempty"`
	TrustCA   []byte    `json:"trust_ca,omitempty"`
	InitPID   int       `json:"init_pid,omitempty"`
	StartedAt time.Time `json:"started_at,omitzero"`
}

func (r *record) spec() Spec {
	return Spec{ID: r.ID, Hostname: r.Hostname, NetNS: r.NetNS, VCPUs: r.VCPUs, MemoryMiB: r.MemoryMiB,
		RootDir: r.RootDir, Layers: r.Layers, Env: r.Env, PrivateIP: r.PrivateIP, ResolvConf: r.Resolv, TrustCA: r.TrustCA}
}

var _ Runner = (*Linux)(nil)

// New returns the Linux runner, or why instances cannot run here.
func New(cfg Config) (Runner, error) { return NewLinux(cfg) }

// NewLinux returns the Linux runner for cfg.DaemonID.
func NewLinux(cfg Config) (*Linux, error) {
	if !validName(cfg.DaemonID) {
		return nil, fmt.Errorf("compute: bad daemon id %q", cfg.DaemonID)
	}
	if cfg.RunDir == "" {
		cfg.RunDir = defaultRunDir
	}
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = defaultStopGrace
	}
	if cfg.PidsMax <= 0 {
		cfg.PidsMax = defaultPidsMax
	}
	if err := Check(); err != nil {
		return nil, err
	}
	cg, err := detectCgroups()
	if err != nil {
		return nil, err
	}
	return &Linux{cfg: cfg, cg: cg, locks: map[string]*sync.Mutex{}, children: map[string]*child{}}, nil
}

// Check says whether instances can run here: nil, or the reason they
// cannot.
func Check() error {
	if uid := os.Geteuid(); uid != 0 {
		return fmt.Errorf("instances need root: running as uid %d", uid)
	}
	if m, err := os.ReadFile("/proc/self/uid_map"); err == nil && strings.Join(strings.Fields(string(m)), " ") != "0 0 4294967295" {
		return errors.New("instances need the host's root: this process is in a user namespace")
	}
	if status, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range strings.Lines(string(status)) {
			var eff uint64
			if _, err := fmt.Sscanf(line, "CapEff: %x", &eff); err == nil && eff&(1<<unix.CAP_SYS_ADMIN) == 0 {
				return errors.New("instances need CAP_SYS_ADMIN (mounts, namespaces)")
			}
		}
	}
	fss, err := os.ReadFile("/proc/filesystems")
	if err != nil {
		return fmt.Errorf("instances need /proc: %w", err)
	}
	if !strings.Contains(string(fss), "\toverlay\n") {
		return errors.New("instances need overlayfs, which this kernel does not offer (modprobe overlay)")
	}
	if _, err := detectCgroups(); err != nil {
		return fmt.Errorf("instances need cgroups with cpu and memory: %w", err)
	}
	if _, err := os.Stat("/proc/self/exe"); err != nil {
		return fmt.Errorf("instances need /proc/self/exe to re-execute cloudbox: %w", err)
	}
	return nil
}

// CgroupVersion says which cgroup version the runner drives (1 or 2).
func (l *Linux) CgroupVersion() int {
	if l.cg.v2 {
		return 2
	}
	return 1
}

// CgroupPaths returns the instance's cgroup directories (one per
// hierarchy), for diagnostics and tests.
func (l *Linux) CgroupPaths(id string) []string {
	var out []string
	for _, mnt := range l.cg.hierarchies() {
		out = append(out, l.cg.path(mnt, l.cfg.DaemonID, id))
	}
	return out
}

func (l *Linux) lock(id string) func() {
	l.all.RLock()
	l.mu.Lock()
	m := l.locks[id]
	if m == nil {
		m = &sync.Mutex{}
		l.locks[id] = m
	}
	l.mu.Unlock()
	m.Lock()
	return func() { m.Unlock(); l.all.RUnlock() }
}

func (l *Linux) recordPath(daemonID, id string) string {
	return filepath.Join(l.cfg.RunDir, daemonID, id+".json")
}

func (l *Linux) readRecord(id string) (*record, error) {
	b, err := os.ReadFile(l.recordPath(l.cfg.DaemonID, id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var r record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("compute: record of %s: %w", id, err)
	}
	return &r, nil
}

func (l *Linux) writeRecord(r *record) error {
	p := l.recordPath(l.cfg.DaemonID, r.ID)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// diskLayers returns the layers a disk boots on: those of its first
// boot, kept in the disk, so that a disk never moves onto other layers
// than the ones its changes were made over (an image rebuilt since, for
// one); want on a new disk.
func diskLayers(rootDir string, want []string) ([]string, error) {
	p := filepath.Join(rootDir, "layers.json")
	b, err := os.ReadFile(p)
	if err == nil {
		var have []string
		if err := json.Unmarshal(b, &have); err == nil && len(have) > 0 {
			return have, nil
		}
	}
	if b, err = json.Marshal(want); err != nil {
		return nil, err
	}
	return want, os.WriteFile(p, b, 0o600)
}

// Start implements Runner.
func (l *Linux) Start(ctx context.Context, spec Spec) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	defer l.lock(spec.ID)()
	return l.start(ctx, spec)
}

func (l *Linux) start(ctx context.Context, spec Spec) error {
	d, id := l.cfg.DaemonID, spec.ID
	if pids := l.cg.procs(d, id); len(pids) > 0 {
		if r, err := l.readRecord(id); err == nil && r.RootDir == spec.RootDir && slices.Contains(pids, r.InitPID) {
			return nil // already running
		}
		// Leftovers of a start that never finished: clear them.
		if err := l.cg.waitEmpty(d, id, time.Now().Add(killTimeout), true); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(spec.RootDir, 0o700); err != nil {
		return fmt.Errorf("compute: %w", err)
	}
	layers, err := diskLayers(spec.RootDir, spec.Layers)
	if err != nil {
		return fmt.Errorf("compute: %w", err)
	}
	spec.Layers = layers
	if err := l.cg.create(d, id, limits{vcpus: spec.VCPUs, memoryMiB: spec.MemoryMiB, pidsMax: l.cfg.PidsMax}); err != nil {
		return fmt.Errorf("compute: cgroup of %s: %w", id, err)
	}
	rec := &record{ID: id, Hostname: spec.Hostname, NetNS: spec.NetNS, VCPUs: spec.VCPUs, MemoryMiB: spec.MemoryMiB,
		RootDir: spec.RootDir, Layers: spec.Layers, Env: spec.Env, PrivateIP: spec.PrivateIP, Resolv: spec.ResolvConf, TrustCA: spec.TrustCA}
	if err := l.writeRecord(rec); err != nil {
		return fmt.Errorf("compute: %w", err)
	}

	console, err := os.OpenFile(filepath.Join(spec.RootDir, "console.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("compute: %w", err)
	}
	defer console.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return err
	}
	defer devnull.Close()
	cfgR, cfgW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer cfgW.Close()
	statusR, statusW, err := os.Pipe()
	if err != nil {
		cfgR.Close()
		return err
	}
	defer statusR.Close()

	// A race-enabled build (tests) sleeps a second at exit by default,
	// which would add a second to every stop.
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	attr := &os.ProcAttr{
		Env:   []string{initEnv + "=1", "GORACE=" + gorace},
		Files: []*os.File{devnull, console, console, cfgR, statusW},
		Sys: &syscall.SysProcAttr{
			Cloneflags: unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWPID | unix.CLONE_NEWIPC,
			// Its own session: the daemon's terminal and process group
			// signals do not reach instances, which outlive the daemon.
			Setsid: true,
		},
	}
	// On cgroup v2 the init is born in the instance's cgroup
	// (CLONE_INTO_CGROUP), so every page it touches, the Go runtime's
	// start included, is the instance's. v1 has no such clone, and it
	// does not move a task's charges with it: there the init waits until
	// it has joined (below), then executes itself again, so the runtime
	// that serves the instance starts inside.
	if !l.cg.v2 {
		attr.Env = append(attr.Env, initReexecEnv+"=1")
	} else {
		fd, err := unix.Open(l.cg.path(l.cg.unified, d, id), unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("compute: cgroup of %s: %w", id, err)
		}
		defer unix.Close(fd)
		attr.Sys.UseCgroupFD, attr.Sys.CgroupFD = true, fd
	}
	proc, err := startInNetNS(spec.NetNS, "/proc/self/exe", []string{initArg0, id}, attr)
	cfgR.Close()
	statusW.Close()
	if err != nil {
		return fmt.Errorf("compute: starting the init of %s: %w", id, err)
	}
	ch := &child{proc: proc, done: make(chan struct{})}
	go func() {
		_, _ = proc.Wait()
		close(ch.done)
	}()
	l.mu.Lock()
	l.children[id] = ch
	l.mu.Unlock()
	fail := func(err error) error {
		_ = proc.Kill() // PID 1 of its namespace: the kernel kills the rest
		_ = l.cg.waitEmpty(d, id, time.Now().Add(killTimeout), true)
		l.reapChild(id)
		return err
	}

	// The init waits for its config before doing anything, so it is in
	// the cgroup before anything it starts runs (on v2 it already is:
	// writing its PID again changes nothing).
	if err := l.cg.addProc(d, id, proc.Pid); err != nil {
		return fail(fmt.Errorf("compute: cgroup of %s: %w", id, err))
	}
	if !l.cg.v2 {
		if _, err := cfgW.Write([]byte{initJoined}); err != nil {
			return fail(fmt.Errorf("compute: the init of %s: %w", id, err))
		}
	}
	hide := []string{filepath.Dir(spec.RootDir)}
	for _, p := range l.cfg.HidePaths {
		if p != "" {
			hide = append(hide, p)
		}
	}
	for i, p := range hide {
		if r, err := filepath.EvalSymlinks(p); err == nil {
			hide[i] = r
		}
	}
	cfg := initConfig{ID: id, Hostname: spec.Hostname, PrivateIP: spec.PrivateIP, ResolvConf: spec.ResolvConf, TrustCA: spec.TrustCA, RootDir: spec.RootDir,
		Layers: spec.Layers, UserData: spec.UserData, Scripts: spec.Scripts, Notes: spec.Notes, Env: spec.Env, Hide: hide,
		Helpers: l.cfg.Helpers, Devices: spec.Devices}
	if err := json.NewEncoder(cfgW).Encode(cfg); err != nil {
		return fail(fmt.Errorf("compute: sending the config of %s to its init: %w", id, err))
	}
	cfgW.Close()

	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, readyTimeout)
		defer cancel()
	}
	statusc := make(chan []byte, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(statusR, 64<<10))
		statusc <- b
	}()
	var status []byte
	select {
	case status = <-statusc:
	case <-ctx.Done():
		return fail(fmt.Errorf("compute: %s: init not ready: %w", id, ctx.Err()))
	}
	if string(status) != "ok" {
		msg := strings.TrimSpace(string(status))
		if msg == "" {
			msg = "init exited during setup; see " + filepath.Join(spec.RootDir, "console.log")
		}
		return fail(fmt.Errorf("compute: %s: %s", id, msg))
	}
	rec.InitPID, rec.StartedAt = proc.Pid, time.Now().UTC()
	if err := l.writeRecord(rec); err != nil {
		return fail(fmt.Errorf("compute: %w", err))
	}
	return nil
}

// startInNetNS starts the init inside the network namespace at netns.
//
// The init is a Go program: it cannot setns(CLONE_NEWNET) itself reliably,
// because a network namespace belongs to a thread and the Go runtime has
// several threads by the time main runs (processes forked from the other
// threads would land in the host's namespace). So the clone happens from a
// thread that is already in the namespace: a goroutine locks itself to
// its OS thread, moves that thread with setns, and starts the process,
// which is born (all its threads, all its children) in the namespace. The
// thread is never unlocked, so when the goroutine ends the Go runtime
// discards it instead of running other goroutines in the wrong namespace.
func startInNetNS(netns, path string, argv []string, attr *os.ProcAttr) (*os.Process, error) {
	if netns == "" {
		return os.StartProcess(path, argv, attr)
	}
	f, err := os.Open(netns)
	if err != nil {
		return nil, fmt.Errorf("network namespace: %w", err)
	}
	defer f.Close()
	type result struct {
		p   *os.Process
		err error
	}
	c := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			c <- result{nil, fmt.Errorf("joining network namespace %s: %w", netns, err)}
			return
		}
		p, err := os.StartProcess(path, argv, attr)
		c <- result{p, err}
	}()
	r := <-c
	return r.p, r.err
}

// reapChild waits (boundedly) for an init this process started to be
// reaped, and forgets it.
func (l *Linux) reapChild(id string) {
	l.mu.Lock()
	ch := l.children[id]
	delete(l.children, id)
	l.mu.Unlock()
	if ch != nil {
		select {
		case <-ch.done:
		case <-time.After(killTimeout):
		}
	}
}

// signalInit signals the instance's init (through the handle of the child
// when this process started it).
func (l *Linux) signalInit(id string, pid int, sig syscall.Signal) {
	l.mu.Lock()
	ch := l.children[id]
	l.mu.Unlock()
	if ch != nil && ch.proc.Pid == pid {
		_ = ch.proc.Signal(sig)
		return
	}
	if p, err := os.FindProcess(pid); err == nil { // a pidfd: no PID reuse race from here on
		_ = p.Signal(sig)
		_ = p.Release()
	}
}

// Stop implements Runner.
func (l *Linux) Stop(ctx context.Context, id string) error {
	if !validName(id) {
		return ErrNotFound
	}
	defer l.lock(id)()
	return l.stop(ctx, id)
}

func (l *Linux) stop(ctx context.Context, id string) error {
	d := l.cfg.DaemonID
	rec, err := l.readRecord(id)
	if err != nil && (!errors.Is(err, ErrNotFound) || !l.cg.exists(d, id)) {
		return err
	}
	if pids := l.cg.procs(d, id); len(pids) > 0 {
		if rec != nil && slices.Contains(pids, rec.InitPID) {
			// The init passes SIGTERM on to every process and exits when
			// they all have.
			l.signalInit(id, rec.InitPID, unix.SIGTERM)
			deadline := time.Now().Add(l.cfg.StopGrace)
			if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
				deadline = dl
			}
			_ = l.cg.waitEmpty(d, id, deadline, false)
			if len(l.cg.procs(d, id)) > 0 {
				l.signalInit(id, rec.InitPID, unix.SIGKILL) // the kernel kills its whole PID namespace
			}
		}
		if err := l.cg.waitEmpty(d, id, time.Now().Add(killTimeout), true); err != nil {
			return err
		}
	}
	l.reapChild(id)
	if rec != nil && rec.InitPID != 0 {
		rec.InitPID = 0
		return l.writeRecord(rec)
	}
	return nil
}

// Reboot implements Runner.
func (l *Linux) Reboot(ctx context.Context, id string) error {
	if !validName(id) {
		return ErrNotFound
	}
	defer l.lock(id)()
	rec, err := l.readRecord(id)
	if err != nil {
		return err
	}
	if len(l.cg.procs(l.cfg.DaemonID, id)) == 0 {
		return ErrNotRunning
	}
	if err := l.stop(ctx, id); err != nil {
		return err
	}
	return l.start(ctx, rec.spec())
}

// Terminate implements Runner.
func (l *Linux) Terminate(ctx context.Context, id string) error {
	if !validName(id) {
		return ErrNotFound
	}
	defer l.lock(id)()
	d := l.cfg.DaemonID
	rec, err := l.readRecord(id)
	if err != nil && (!errors.Is(err, ErrNotFound) || !l.cg.exists(d, id)) {
		return err
	}
	if err := l.stop(ctx, id); err != nil {
		return err
	}
	if err := l.cg.remove(d, id, time.Now().Add(killTimeout)); err != nil {
		return err
	}
	if rec != nil {
		if err := os.RemoveAll(rec.RootDir); err != nil {
			return fmt.Errorf("compute: removing the root dir of %s: %w", id, err)
		}
	}
	if err := os.Remove(l.recordPath(d, id)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// Exec implements Runner.
func (l *Linux) Exec(ctx context.Context, id string, req ExecRequest) (int, error) {
	if !validName(id) {
		return -1, ErrNotFound
	}
	rec, err := l.readRecord(id)
	if err != nil {
		return -1, err
	}
	if rec.InitPID == 0 || !slices.Contains(l.cg.procs(l.cfg.DaemonID, id), rec.InitPID) {
		return -1, ErrNotRunning
	}
	return ExecIn(ctx, rec.RootDir, req)
}

// Stats implements Runner.
func (l *Linux) Stats(id string) (Stats, error) {
	if !validName(id) || !l.cg.exists(l.cfg.DaemonID, id) {
		return Stats{}, ErrNotFound
	}
	st, err := l.cg.stats(l.cfg.DaemonID, id)
	if err != nil {
		return st, err
	}
	// Any of the instance's processes sees its network namespace's
	// counters in /proc/<pid>/net/dev.
	if pids := l.cg.procs(l.cfg.DaemonID, id); len(pids) > 0 {
		if f, err := os.Open(fmt.Sprintf("/proc/%d/net/dev", pids[0])); err == nil {
			st.NetworkInBytes, st.NetworkOutBytes = netDev(f)
			f.Close()
		}
	}
	return st, nil
}

// netDev sums the received and sent bytes of the interfaces in a
// /proc/net/dev table, loopback aside.
func netDev(r io.Reader) (in, out uint64) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, counters, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(name) == "lo" {
			continue
		}
		// Receive: bytes packets errs drop fifo frame compressed multicast;
		// then transmit: bytes ...
		f := strings.Fields(counters)
		if len(f) < 9 {
			continue
		}
		rx, err1 := strconv.ParseUint(f[0], 10, 64)
		tx, err2 := strconv.ParseUint(f[8], 10, 64)
		if err1 == nil && err2 == nil {
			in += rx
			out += tx
		}
	}
	return in, out
}

// State implements Runner.
func (l *Linux) State(id string) (State, error) {
	if !validName(id) {
		return "", ErrNotFound
	}
	return l.state(id)
}

func (l *Linux) state(id string) (State, error) {
	d := l.cfg.DaemonID
	if len(l.cg.procs(d, id)) > 0 {
		return StateRunning, nil
	}
	if _, err := l.readRecord(id); err == nil || l.cg.exists(d, id) {
		return StateStopped, nil
	}
	return "", ErrNotFound
}

// List implements Runner.
func (l *Linux) List() ([]Info, error) {
	d := l.cfg.DaemonID
	ids := l.cg.instances(d)
	for _, id := range l.recordIDs(d) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	var out []Info
	for _, id := range ids {
		info := Info{ID: id, State: StateStopped}
		pids := l.cg.procs(d, id)
		if len(pids) > 0 {
			info.State = StateRunning
		}
		if rec, err := l.readRecord(id); err == nil {
			info.RootDir = rec.RootDir
			if slices.Contains(pids, rec.InitPID) {
				info.InitPID = rec.InitPID
			}
		}
		out = append(out, info)
	}
	return out, nil
}

func (l *Linux) recordIDs(daemonID string) []string {
	ents, _ := os.ReadDir(filepath.Join(l.cfg.RunDir, daemonID))
	var ids []string
	for _, e := range ents {
		if id, ok := strings.CutSuffix(e.Name(), ".json"); ok && validName(id) {
			ids = append(ids, id)
		}
	}
	return ids
}

// Cleanup implements Runner.
func (l *Linux) Cleanup(ctx context.Context, daemonID string) error {
	if !validName(daemonID) {
		return fmt.Errorf("compute: bad daemon id %q", daemonID)
	}
	l.all.Lock()
	defer l.all.Unlock()
	ids := l.cg.instances(daemonID)
	for _, id := range l.recordIDs(daemonID) {
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	deadline := time.Now().Add(killTimeout)
	if dl, ok := ctx.Deadline(); ok && dl.Before(deadline) {
		deadline = dl
	}
	var errs []error
	for _, id := range ids {
		// Every process of an instance is in its cgroup; killing its init
		// (one of them) also makes the kernel kill its PID namespace.
		if err := l.cg.waitEmpty(daemonID, id, deadline, true); err != nil {
			errs = append(errs, err)
			continue
		}
		if daemonID == l.cfg.DaemonID {
			l.reapChild(id)
		}
		if err := l.cg.remove(daemonID, id, deadline); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		if err := l.cg.removeDaemon(daemonID, deadline); err != nil {
			errs = append(errs, err)
		}
		if err := os.RemoveAll(filepath.Join(l.cfg.RunDir, daemonID)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

//go:build linux

package compute

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The instance's init is the cloudbox binary itself, started by the host
// (Linux.Start) with new mount, UTS, PID and IPC namespaces, already inside
// the instance's network namespace, with initEnv set. It reads its
// initConfig on fd 3, builds the instance's filesystem, pivots into it,
// answers "ok" (or the error) on fd 4, then serves until SIGTERM.

const (
	initEnv  = "_CLOUDBOX_COMPUTE_INIT"
	initArg0 = "cloudbox-init"
	// initReexecEnv asks the init (cgroup v1) to wait for initJoined on
	// fd 3, then execute itself again without it: the pages of the
	// runtime that serves are then charged to the instance's cgroup.
	initReexecEnv = "_CLOUDBOX_COMPUTE_INIT_REEXEC"
	initJoined    = 'J'

	defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

	cloudDir   = "/var/lib/cloud/instance"
	scriptsDir = cloudDir + "/scripts"
	// semUserData records that first boot's user data was handled, like
	// cloud-init's per-instance semaphore: it is written before the script
	// starts, so a script runs at most once even if the instance stops
	// while it runs.
	semUserData = cloudDir + "/sem/config_scripts_user"

	// Where a CA to trust goes, as Debian's update-ca-certificates has a
	// local one: among the local certificates (which every later run of
	// it, by a package's install, puts in the bundle again), and in the
	// bundle that TLS clients read (OpenSSL's default file, curl's, Go's,
	// Python's certifi's).
	trustedCAFile = "/usr/local/share/ca-certificates/cloudbox-ca.crt"
	trustBundle   = "/etc/ssl/certs/ca-certificates.crt"
)

// initConfig is what the host tells the init.
type initConfig struct {
	ID        string `json:"id"`
	Hostname  string `json:"hostname"`
	PrivateIP string `json:"private_ip,omitempty"`
	// ResolvConf replaces /etc/resolv.conf when set.
	ResolvConf string `json:"resolv_conf,omitempty"`
	// TrustCA is a CA certificate (PEM) to trust, when set.
	TrustCA  []byte   `json:"trust_ca,omitempty"`
	RootDir  string   `json:"root_dir"`
	Layers   []string `json:"layers"`
	UserData []byte   `json:"user_data,omitempty"`
	Scripts  []Script `json:"scripts,omitempty"`
	Notes    []string `json:"notes,omitempty"`
	Env      []string `json:"env,omitempty"`
	// Hide are host paths (symlinks resolved) covered inside the instance.
	Hide []string `json:"hide,omitempty"`
	// Helpers are names this binary takes in /opt/aws/bin.
	Helpers []string `json:"helpers,omitempty"`
	// Devices are made in /dev.
	Devices []Device `json:"devices,omitempty"`
}

// InitMain runs the instance init when the process is one, and never
// returns then; otherwise it returns at once. The program's main (and a
// test binary's TestMain) must call it first, before doing anything else.
func InitMain() {
	if os.Getenv(initEnv) != "1" {
		return
	}
	if os.Getenv(initReexecEnv) == "1" {
		os.Exit(reexecInit())
	}
	os.Exit(runInit())
}

// reexecInit waits until the host has put this process in the instance's
// cgroups, then replaces it with a fresh copy of itself (same PID, same
// fds 3 and 4 for the config and the status), whose memory is all the
// instance's. It returns only on failure.
func reexecInit() int {
	var b [1]byte
	if n, err := unix.Read(3, b[:]); n != 1 || b[0] != initJoined {
		fmt.Fprintf(os.Stdout, "cloudbox-init: waiting to join the cgroup: read %d bytes: %v\n", n, err)
		return 1
	}
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, initReexecEnv+"=") {
			env = append(env, e)
		}
	}
	err := unix.Exec("/proc/self/exe", os.Args, env)
	fmt.Fprintf(os.Stdout, "cloudbox-init: executing itself again: %v\n", err)
	return 1
}

type initProc struct {
	cfg     initConfig
	console *os.File
	env     []string
	// oomProtected: the init's oom_score_adj is -1000.
	oomProtected bool

	// mu serializes starting a process and reaping: a child that exits at
	// once cannot be reaped before its waiter is registered.
	mu      sync.Mutex
	waiters map[int]chan unix.WaitStatus
	spawnCh chan spawnReq
}

type spawnReq struct {
	path  string
	argv  []string
	attr  *os.ProcAttr
	reply chan spawnResult
}

type spawnResult struct {
	pid    int
	exited chan unix.WaitStatus
	err    error
}

func runInit() int {
	cfgFile, status := os.NewFile(3, "config"), os.NewFile(4, "status")
	in := &initProc{console: os.Stdout, waiters: map[int]chan unix.WaitStatus{}, spawnCh: make(chan spawnReq)}
	err := json.NewDecoder(io.LimitReader(cfgFile, 64<<20)).Decode(&in.cfg)
	cfgFile.Close()
	var ln *net.UnixListener
	var scripts []string
	if err == nil {
		ln, scripts, err = in.setup()
	}
	if err != nil {
		in.logf("setup failed: %v", err)
		fmt.Fprintf(status, "%v", err)
		return 1
	}
	status.WriteString("ok")
	status.Close()
	return in.run(ln, scripts)
}

func (in *initProc) logf(format string, args ...any) {
	fmt.Fprintf(in.console, "cloudbox-init: "+format+"\n", args...)
}

// setup builds the instance's world. On return the process is chrooted
// into the instance's root and listens on <RootDir>/init.sock.
func (in *initProc) setup() (*net.UnixListener, []string, error) {
	cfg := in.cfg
	os.Clearenv()
	os.Setenv("PATH", defaultPath)
	unix.Umask(0o022)
	in.env = mergeEnv([]string{"PATH=" + defaultPath, "HOME=/root", "USER=root", "LOGNAME=root",
		"SHELL=/bin/sh", "HOSTNAME=" + cfg.Hostname}, cfg.Env)
	in.logf("starting instance %s (%s)", cfg.ID, cfg.Hostname)

	if err := unix.Sethostname([]byte(cfg.Hostname)); err != nil {
		return nil, nil, fmt.Errorf("sethostname: %w", err)
	}
	// Nothing mounted here may propagate back to the host (whose /run/netns,
	// for one, is a shared mount).
	if err := mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return nil, nil, err
	}
	upper, work, merged := filepath.Join(cfg.RootDir, "upper"), filepath.Join(cfg.RootDir, "work"), filepath.Join(cfg.RootDir, "merged")
	for _, d := range []string{upper, work, merged} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, nil, err
		}
	}
	// The lower layers are the image's (mounts under a layer show as the
	// empty directories they are mounted on, and /proc, /sys, /dev and
	// /run get fresh mounts below).
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s,index=off", strings.Join(cfg.Layers, ":"), upper, work)
	if err := mount("overlay", merged, "overlay", 0, opts); err != nil {
		return nil, nil, fmt.Errorf("%w (the root dir needs a file system that can be an overlayfs upper layer, e.g. ext4 or xfs, not overlayfs)", err)
	}

	// The host reaches the init through this socket, bound while the host's
	// path is still visible.
	if err := os.Chdir(cfg.RootDir); err != nil {
		return nil, nil, err
	}
	_ = os.Remove(sockName)
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: sockName, Net: "unixpacket"})
	if err != nil {
		return nil, nil, err
	}
	if err := os.Chmod(sockName, 0o600); err != nil {
		return nil, nil, err
	}

	if err := mountSystem(merged); err != nil {
		return nil, nil, err
	}
	if err := makeDevices(merged, cfg.Devices); err != nil {
		return nil, nil, err
	}
	for _, p := range cfg.Hide {
		if err := hide(merged, p); err != nil {
			return nil, nil, err
		}
	}
	// An instance without its helpers still boots: user data that calls
	// them then fails as on an image without them.
	if err := mountHelpers(merged, cfg.Helpers); err != nil {
		in.logf("no helpers in %s: %v", helperDir, err)
	}
	// pivot_root(".", ".") stacks the old root on top of the new one; the
	// detached unmount then drops it (and every host mount) from this
	// namespace.
	if err := unix.Chdir(merged); err != nil {
		return nil, nil, err
	}
	if err := unix.PivotRoot(".", "."); err != nil {
		return nil, nil, fmt.Errorf("pivot_root: %w", err)
	}
	if err := unix.Unmount(".", unix.MNT_DETACH); err != nil {
		return nil, nil, fmt.Errorf("unmounting the host root: %w", err)
	}
	if err := unix.Chdir("/"); err != nil {
		return nil, nil, err
	}

	// From here on, paths are the instance's.
	if err := in.writeIdentity(); err != nil {
		return nil, nil, err
	}
	if err := in.writeTrust(); err != nil {
		return nil, nil, fmt.Errorf("trusting the CA: %w", err)
	}
	scripts, err := in.firstBoot()
	if err != nil {
		return nil, nil, err
	}
	// Without the helpers an instance still boots; mounting a volume
	// then fails as without CAP_SYS_ADMIN.
	if err := in.startMountBroker(); err != nil {
		in.logf("no mount helpers in %s: %v", mountHelperDir, err)
	}
	// The init should never be the OOM killer's victim (its death ends the
	// instance); spawn resets the score of its children. Some sandboxes
	// refuse negative scores (EACCES, EPERM): then the init is merely a
	// small process, which the console need not tell on every boot.
	if err := os.WriteFile("/proc/self/oom_score_adj", []byte("-1000"), 0); err != nil {
		if !errors.Is(err, unix.EACCES) && !errors.Is(err, unix.EPERM) {
			in.logf("cannot protect the init from the OOM killer: %v", err)
		}
	} else {
		in.oomProtected = true
	}
	// Processes inside must not read or trace the init's memory.
	_ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	ready := make(chan error)
	go in.spawner(ready)
	if err := <-ready; err != nil {
		return nil, nil, err
	}
	return ln, scripts, nil
}

func mount(src, dst, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(src, dst, fstype, flags, data); err != nil {
		return fmt.Errorf("mount %q on %s (type %q, %q): %w", src, dst, fstype, data, err)
	}
	return nil
}

// mountSystem mounts the instance's /proc, /sys, /dev, /tmp and /run under
// the merged root.
func mountSystem(root string) error {
	at := func(p string) string { return filepath.Join(root, p) }
	for _, d := range []string{"proc", "sys", "dev", "tmp", "run"} {
		if err := os.MkdirAll(at(d), 0o755); err != nil {
			return err
		}
	}
	const nsx = unix.MS_NOSUID | unix.MS_NODEV | unix.MS_NOEXEC
	// /proc of the instance's PID namespace: only its processes show.
	if err := mount("proc", at("proc"), "proc", nsx, ""); err != nil {
		return err
	}
	// Kernel-wide knobs are read-only inside; the network ones are the
	// instance's own namespace's, and stay writable (ip_forward for a NAT
	// instance).
	for _, m := range []struct {
		path string
		ro   bool
	}{{"proc/sys", true}, {"proc/sys/net", false}, {"proc/sysrq-trigger", true}} {
		if _, err := os.Lstat(at(m.path)); err != nil {
			continue // a kernel without magic SysRq has no trigger
		}
		if err := mount(at(m.path), at(m.path), "", unix.MS_BIND, ""); err != nil {
			return err
		}
		flags := uintptr(unix.MS_BIND | unix.MS_REMOUNT | nsx)
		if m.ro {
			flags |= unix.MS_RDONLY
		}
		if err := mount("", at(m.path), "", flags, ""); err != nil {
			return err
		}
	}
	if err := mount("sysfs", at("sys"), "sysfs", nsx|unix.MS_RDONLY, ""); err != nil {
		return err
	}
	// A minimal /dev: the harmless character devices of the host (bound,
	// so no mknod is needed), a private devpts, shm and mqueue. No disks
	// (the host adds attached EBS volumes: dataplane/volumes).
	if err := mount("tmpfs", at("dev"), "tmpfs", unix.MS_NOSUID|unix.MS_NOEXEC, "mode=755,size=1m"); err != nil {
		return err
	}
	for _, d := range []string{"null", "zero", "full", "random", "urandom", "tty"} {
		if err := os.WriteFile(at("dev/"+d), nil, 0o666); err != nil {
			return err
		}
		if err := mount("/dev/"+d, at("dev/"+d), "", unix.MS_BIND, ""); err != nil {
			return err
		}
	}
	for _, d := range []string{"pts", "shm", "mqueue"} {
		if err := os.Mkdir(at("dev/"+d), 0o755); err != nil {
			return err
		}
	}
	if err := mount("devpts", at("dev/pts"), "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"); err != nil {
		return err
	}
	if err := mount("shm", at("dev/shm"), "tmpfs", nsx, "mode=1777"); err != nil {
		return err
	}
	_ = mount("mqueue", at("dev/mqueue"), "mqueue", nsx, "") // optional
	for link, target := range map[string]string{"ptmx": "pts/ptmx", "fd": "/proc/self/fd", "stdin": "/proc/self/fd/0",
		"stdout": "/proc/self/fd/1", "stderr": "/proc/self/fd/2"} {
		if err := os.Symlink(target, at("dev/"+link)); err != nil {
			return err
		}
	}
	// Private /tmp and /run: the host's files there are not the instance's.
	if err := mount("tmpfs", at("tmp"), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=1777"); err != nil {
		return err
	}
	if err := mount("tmpfs", at("run"), "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "mode=755"); err != nil {
		return err
	}
	return os.Mkdir(at("run/lock"), 0o1777)
}

// makeDevices makes the block devices of the spec in the instance's /dev
// (the instance's processes cannot mknod: CAP_MKNOD is dropped).
func makeDevices(root string, devs []Device) error {
	for _, d := range devs {
		p := filepath.Join(root, "dev", d.Name)
		if err := unix.Mknod(p, unix.S_IFBLK|0o660, int(unix.Mkdev(d.Major, d.Minor))); err != nil {
			return fmt.Errorf("mknod %s: %w", p, err)
		}
		for _, l := range d.Links {
			if err := os.Symlink(d.Name, filepath.Join(root, "dev", l)); err != nil {
				return err
			}
		}
	}
	return nil
}

// hide covers a host path inside the instance: a directory with an empty
// read-only tmpfs, a file with /dev/null.
func hide(root, p string) error {
	target := filepath.Join(root, p)
	st, err := os.Lstat(target)
	if err != nil {
		return nil // not visible in the instance (under /tmp, /run...)
	}
	if st.IsDir() {
		return mount("tmpfs", target, "tmpfs", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, "size=4k,mode=755")
	}
	if st.Mode().IsRegular() {
		if err := mount("/dev/null", target, "", unix.MS_BIND, ""); err != nil {
			return err
		}
		return mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, "")
	}
	return nil
}

// helperDir is where Amazon Linux keeps CloudFormation's helper scripts.
const helperDir = "/opt/aws/bin"

// mountHelpers makes the helpers this binary: a small read-only tmpfs on
// /opt/aws/bin holding the binary (this init's own executable, bound
// read-only, so no instance can write the host's file and nothing is
// copied to the instance's disk) under the first name and links to it
// under the others; the binary's main dispatches on the name it runs
// under. At every boot, as the binary may be a newer one.
func mountHelpers(root string, names []string) error {
	if len(names) == 0 {
		return nil
	}
	dir := filepath.Join(root, helperDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=64k,mode=755"); err != nil {
		return err
	}
	// The binary by its path: /proc/self/exe itself was opened in the
	// host's mount namespace, and a bind mount's source must be in this
	// one.
	self, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return err
	}
	if strings.HasSuffix(self, " (deleted)") {
		return fmt.Errorf("the binary %s was removed", self)
	}
	bin := filepath.Join(dir, names[0])
	if err := os.WriteFile(bin, nil, 0o755); err != nil {
		return err
	}
	if err := mount(self, bin, "", unix.MS_BIND, ""); err != nil {
		return err
	}
	if err := mount("", bin, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
		return err
	}
	for _, n := range names[1:] {
		if err := os.Symlink(names[0], filepath.Join(dir, n)); err != nil {
			return err
		}
	}
	return mount("", dir, "", unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, "")
}

// writeIdentity writes /etc/hostname, /etc/hosts and, when given,
// /etc/resolv.conf (in the upper layer).
func (in *initProc) writeIdentity() error {
	ip := in.cfg.PrivateIP
	if ip == "" {
		ip = "127.0.1.1"
	}
	short, _, _ := strings.Cut(in.cfg.Hostname, ".")
	names := in.cfg.Hostname
	if short != names {
		names += " " + short
	}
	hosts := "127.0.0.1   localhost localhost.localdomain\n" +
		"::1         localhost6 localhost6.localdomain6 ip6-localhost ip6-loopback\n" +
		ip + "   " + names + "\n"
	if err := os.MkdirAll("/etc", 0o755); err != nil {
		return err
	}
	files := map[string]string{"/etc/hostname": in.cfg.Hostname + "\n", "/etc/hosts": hosts}
	if in.cfg.ResolvConf != "" {
		files["/etc/resolv.conf"] = in.cfg.ResolvConf
	}
	for name, content := range files {
		if err := replaceFile(name, []byte(content)); err != nil {
			return err
		}
	}
	return nil
}

// replaceFile writes a file of mode 0644 anew, through a rename: not
// through an existing one, which may be a symlink out of the upper layer.
func replaceFile(name string, b []byte) error {
	tmp := name + ".cloudbox-tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, name)
}

// writeTrust installs the CA the host asked the instance to trust, at
// every boot: the local certificate and its PEM in the bundle. A CA a
// previous boot installed that differs (a new data directory's) leaves
// the bundle.
func (in *initProc) writeTrust() error {
	ca := in.cfg.TrustCA
	if len(ca) == 0 {
		return nil
	}
	old, err := os.ReadFile(trustedCAFile)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if !bytes.Equal(old, ca) {
		if err := os.MkdirAll(filepath.Dir(trustedCAFile), 0o755); err != nil {
			return err
		}
		if err := replaceFile(trustedCAFile, ca); err != nil {
			return err
		}
	}
	bundle, err := os.ReadFile(trustBundle)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if bytes.Contains(bundle, ca) {
		return nil
	}
	if len(old) > 0 {
		bundle = bytes.Replace(bundle, old, nil, 1)
	}
	if len(bundle) > 0 && !bytes.HasSuffix(bundle, []byte("\n")) {
		bundle = append(bundle, '\n')
	}
	if err := os.MkdirAll(filepath.Dir(trustBundle), 0o755); err != nil {
		return err
	}
	return replaceFile(trustBundle, append(bundle, ca...))
}

// firstBoot stores the user data and its scripts on the instance's first
// boot and returns the scripts that must run now, in order.
func (in *initProc) firstBoot() ([]string, error) {
	if _, err := os.Stat(semUserData); err == nil {
		in.logf("user data: already handled on first boot, not run again")
		return nil, nil
	}
	for _, d := range []string{scriptsDir, filepath.Dir(semUserData)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	if ud := in.cfg.UserData; len(ud) > 0 {
		if err := os.WriteFile(cloudDir+"/user-data.txt", ud, 0o600); err != nil {
			return nil, err
		}
	}
	for _, n := range in.cfg.Notes {
		in.logf("user data: %s", n)
	}
	var paths []string
	for _, sc := range in.cfg.Scripts {
		p := filepath.Join(scriptsDir, filepath.Base(sc.Name))
		if err := os.WriteFile(p, sc.Content, 0o700); err != nil {
			return nil, err
		}
		if err := os.Chmod(p, 0o700); err != nil {
			return nil, err
		}
		paths = append(paths, p)
	}
	stamp := time.Now().UTC().Format(time.RFC3339) + "\n"
	if err := os.WriteFile(semUserData, []byte(stamp), 0o644); err != nil {
		return nil, err
	}
	return paths, nil
}

// run is the init's life after setup: reap, serve Exec, run the user data,
// and on SIGTERM stop every process then exit.
func (in *initProc) run(ln *net.UnixListener, scripts []string) int {
	sigchld := make(chan os.Signal, 1)
	signal.Notify(sigchld, unix.SIGCHLD)
	term := make(chan os.Signal, 1)
	signal.Notify(term, unix.SIGTERM)
	// Signals whose default would end the init (and so the instance) are
	// caught and dropped; a handler (unlike SIG_IGN) is not inherited
	// across exec, so the instance's programs get the defaults.
	signal.Notify(make(chan os.Signal, 1), unix.SIGHUP, unix.SIGINT, unix.SIGQUIT, unix.SIGUSR1, unix.SIGUSR2, unix.SIGPIPE, unix.SIGALRM)

	go in.serve(ln)
	in.logf("up; host name %s", in.cfg.Hostname)
	go in.boot(scripts)

	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	stopping := false
	for {
		select {
		case <-sigchld:
		case <-tick.C:
		case <-term:
			if !stopping {
				stopping = true
				in.logf("stopping: SIGTERM to every process")
				ln.Close()
				_ = unix.Kill(-1, unix.SIGTERM)
				tick.Reset(20 * time.Millisecond)
			}
		}
		if noChildren := in.reap(); stopping && noChildren {
			in.logf("every process has ended; halting")
			return 0
		}
	}
}

// reap collects every exited child, handing statuses to their waiters;
// it reports whether the init has no child left.
func (in *initProc) reap() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case err != nil:
			return true // ECHILD
		case pid <= 0:
			return false
		}
		if ch, ok := in.waiters[pid]; ok {
			ch <- ws
			delete(in.waiters, pid)
		}
	}
}

// spawner starts every process of the instance from one OS thread whose
// capability bounding set lacks what could reach beyond the instance
// (mounting, loading modules, raw devices, tracing the init...). The
// bounding set is per thread and inherited by children, so the thread is
// locked and never given back to the scheduler; the Go runtime makes new
// threads from a clean template thread, not from a locked one.
func (in *initProc) spawner(ready chan<- error) {
	runtime.LockOSThread()
	if err := dropCapabilities(); err != nil {
		ready <- err
		return
	}
	ready <- nil
	for req := range in.spawnCh {
		in.mu.Lock()
		// Children inherit the OOM score at fork: make it the default for
		// the moment of the fork (the init's own protection is restored
		// right after).
		if in.oomProtected {
			_ = os.WriteFile("/proc/self/oom_score_adj", []byte("0"), 0)
		}
		p, err := os.StartProcess(req.path, req.argv, req.attr)
		if in.oomProtected {
			_ = os.WriteFile("/proc/self/oom_score_adj", []byte("-1000"), 0)
		}
		res := spawnResult{err: err}
		if err == nil {
			res.pid, res.exited = p.Pid, make(chan unix.WaitStatus, 1)
			in.waiters[p.Pid] = res.exited
			_ = p.Release() // reaped by reap, not by os.Process.Wait
		}
		in.mu.Unlock()
		req.reply <- res
	}
}

func (in *initProc) spawn(path string, argv []string, attr *os.ProcAttr) spawnResult {
	reply := make(chan spawnResult, 1)
	in.spawnCh <- spawnReq{path: path, argv: argv, attr: attr, reply: reply}
	return <-reply
}

// droppedCaps are removed from the bounding set of every process in an
// instance (close to what container runtimes drop). CAP_NET_ADMIN and
// CAP_NET_RAW stay: they act on the instance's own network namespace,
// whose security groups are enforced outside it.
var droppedCaps = []uintptr{
	unix.CAP_SYS_ADMIN, unix.CAP_SYS_MODULE, unix.CAP_SYS_RAWIO, unix.CAP_SYS_PTRACE,
	unix.CAP_SYS_BOOT, unix.CAP_SYS_TIME, unix.CAP_SYS_PACCT, unix.CAP_SYS_TTY_CONFIG,
	unix.CAP_MKNOD, unix.CAP_MAC_ADMIN, unix.CAP_MAC_OVERRIDE, unix.CAP_SYSLOG,
	unix.CAP_WAKE_ALARM, unix.CAP_BLOCK_SUSPEND, unix.CAP_AUDIT_CONTROL, unix.CAP_AUDIT_READ,
	unix.CAP_PERFMON, unix.CAP_BPF, unix.CAP_CHECKPOINT_RESTORE,
}

// dropCapabilities applies to the calling thread only.
func dropCapabilities() error {
	for _, c := range droppedCaps {
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, c, 0, 0, 0); err != nil && !errors.Is(err, unix.EINVAL) {
			return fmt.Errorf("dropping capability %d: %w", c, err) // EINVAL: unknown to this kernel
		}
	}
	// Root gains its bounding set at exec, plus its inheritable set: clear
	// that (and the ambient set) too.
	_ = unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capget: %w", err)
	}
	data[0].Inheritable, data[1].Inheritable = 0, 0
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	return nil
}

// bootServices is where the image's enabled services are (the units
// packages and `systemctl enable` link there).
const bootServices = "/etc/systemd/system/multi-user.target.wants"

// boot makes the runtime directories and starts the enabled services, at
// every boot, then runs first boot's
// scripts one after the other, as cloud-init's final stage does after the
// services are up.
func (in *initProc) boot(scripts []string) {
	// boot-finished is per boot: a stale one from the last would say this
	// one is done.
	os.Remove(BootFinished)
	// /run and /tmp are fresh at every boot: the directories packages
	// declare in tmpfiles.d (/run/mysqld, /run/php...) are made first,
	// as systemd does.
	if _, err := os.Stat("/usr/bin/systemd-tmpfiles"); err == nil {
		in.runWait("/usr/bin/systemd-tmpfiles", "--create", "--boot")
	}
	if units, _ := os.ReadDir(bootServices); len(units) > 0 {
		if _, err := os.Stat("/usr/bin/systemctl"); err == nil {
			in.logf("starting the enabled services (%d in %s)", len(units), bootServices)
			in.runWait("/usr/bin/systemctl", "default")
		}
	}
	for _, p := range scripts {
		in.logf("user data: running %s", p)
		code := in.runWait(p)
		in.logf("user data: %s exited with status %d", p, code)
	}
	stamp := fmt.Sprintf("%s - %s\n", time.Now().UTC().Format(time.RFC1123), "cloudbox")
	if err := os.WriteFile(BootFinished, []byte(stamp), 0o644); err != nil {
		in.logf("boot-finished: %v", err)
	}
}

// runWait runs a program as a session leader with the console as its
// output, and returns its exit code (-1 if it could not start).
func (in *initProc) runWait(path string, args ...string) int {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		in.logf("%s: %v", path, err)
		return -1
	}
	defer devnull.Close()
	res := in.spawn(path, append([]string{path}, args...), &os.ProcAttr{
		Dir: "/", Env: in.env,
		Files: []*os.File{devnull, in.console, in.console},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	if res.err != nil {
		in.logf("%s: %v", path, res.err)
		return -1
	}
	return exitCode(<-res.exited)
}

func exitCode(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

func (in *initProc) serve(ln *net.UnixListener) {
	for {
		c, err := ln.AcceptUnix()
		if errors.Is(err, net.ErrClosed) {
			return // stopping
		}
		if err != nil { // out of file descriptors, say: try again
			time.Sleep(50 * time.Millisecond)
			continue
		}
		go in.handle(c)
	}
}

// handle runs one Exec request.
func (in *initProc) handle(c *net.UnixConn) {
	defer c.Close()
	reply := func(r execReply) {
		b, _ := json.Marshal(r)
		_, _ = c.Write(b)
	}
	if !peerIsHost(c) {
		return
	}
	buf, oob := make([]byte, maxMsg), make([]byte, unix.CmsgSpace(3*4))
	n, oobn, flags, _, err := c.ReadMsgUnix(buf, oob)
	if err != nil {
		return
	}
	var fds []int
	if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
		for _, m := range msgs {
			if r, err := unix.ParseUnixRights(&m); err == nil {
				fds = append(fds, r...)
			}
		}
	}
	files := make([]*os.File, len(fds))
	for i, fd := range fds {
		files[i] = os.NewFile(uintptr(fd), fmt.Sprintf("exec-fd-%d", i))
	}
	defer func() {
		for _, f := range files {
			f.Close()
		}
	}()
	var m execMsg
	switch {
	case flags&(unix.MSG_TRUNC|unix.MSG_CTRUNC) != 0 || len(files) != 3:
		reply(execReply{Exit: -1, Error: "malformed request"})
		return
	case json.Unmarshal(buf[:n], &m) != nil || len(m.Argv) == 0:
		reply(execReply{Exit: -1, Error: "malformed request"})
		return
	}
	env := mergeEnv(in.env, m.Env)
	path, err := lookPath(m.Argv[0], envValue(env, "PATH"))
	if err != nil {
		reply(execReply{Exit: 127, Error: err.Error()})
		return
	}
	dir := m.Dir
	if dir == "" {
		dir = "/"
	}
	sys := &syscall.SysProcAttr{Setsid: true}
	if _, err := unix.IoctlGetTermios(int(files[0].Fd()), unix.TCGETS); err == nil {
		// A terminal on stdin (cloudbox ssh, an SSH login) becomes the
		// session's controlling terminal: job control and ^C work.
		sys.Setctty, sys.Ctty = true, 0
	}
	res := in.spawn(path, m.Argv, &os.ProcAttr{Dir: dir, Env: env, Files: files, Sys: sys})
	for _, f := range files {
		f.Close()
	}
	files = nil
	if res.err != nil {
		reply(execReply{Exit: 126, Error: res.err.Error()})
		return
	}
	// The host closing the connection before the end cancels the command.
	done := make(chan struct{})
	go func() {
		b := make([]byte, 1)
		_, _ = c.Read(b)
		select {
		case <-done:
		default:
			_ = unix.Kill(-res.pid, unix.SIGKILL)
		}
	}()
	ws := <-res.exited
	close(done)
	reply(execReply{Exit: exitCode(ws)})
}

// peerIsHost accepts root peers from outside the instance's PID namespace:
// SO_PEERCRED gives them PID 0 here.
func peerIsHost(c *net.UnixConn) bool {
	raw, err := c.SyscallConn()
	if err != nil {
		return false
	}
	var cred *unix.Ucred
	if err := raw.Control(func(fd uintptr) {
		cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil || cred == nil {
		return false
	}
	return err == nil && cred.Pid == 0 && cred.Uid == 0
}

// lookPath finds file in path (colon-separated), as the shell would.
func lookPath(file, path string) (string, error) {
	if strings.Contains(file, "/") {
		return file, nil
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, file)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", fmt.Errorf("%q: executable file not found in $PATH", file)
}

// mergeEnv returns base with extra's entries added, later keys winning.
func mergeEnv(base, extra []string) []string {
	out := make([]string, 0, len(base)+len(extra))
	idx := map[string]int{}
	for _, e := range append(append([]string(nil), base...), extra...) {
		k, _, _ := strings.Cut(e, "=")
		if i, ok := idx[k]; ok {
			out[i] = e
			continue
		}
		idx[k] = len(out)
		out = append(out, e)
	}
	return out
}

func envValue(env []string, key string) string {
	for _, e := range env {
		if k, v, ok := strings.Cut(e, "="); ok && k == key {
			return v
		}
	}
	return ""
}

//go:build linux

package network

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// RunDir is where named network namespaces are bind-mounted, as iproute2
// does, so `ip netns list` shows cloudbox's and `ip netns exec cb-<id>-<name>
// ...` enters them.
const RunDir = "/run/netns"

const nsfsMagic = 0x6e736673 // NSFS_MAGIC: what a mounted namespace file reports

// Linux implements Network on this machine's kernel for one daemon.
type Linux struct {
	id     string
	prefix string
	mu     sync.Mutex // serializes creating and deleting namespaces
	nftMu  sync.Mutex // serializes table changes (Apply reads, then writes)
}

var _ Network = (*Linux)(nil)

// NewLinux returns the Linux implementation for the daemon daemonID (1 to
// 12 characters a-z0-9). It changes nothing yet; Check says whether the
// operations can work here.
func NewLinux(daemonID string) (*Linux, error) {
	if err := checkDaemonID(daemonID); err != nil {
		return nil, err
	}
	return &Linux{id: daemonID, prefix: Prefix(daemonID)}, nil
}

// DaemonID returns the daemon id the namespaces are named with.
func (l *Linux) DaemonID() string { return l.id }

// FullName is the namespace's name for the kernel and iproute2:
// cb-<daemonID>-<ns>.
func (l *Linux) FullName(ns string) string { return l.prefix + ns }

// Path is the namespace's file, e.g. for setns(2) in a child process.
func (l *Linux) Path(ns string) string { return filepath.Join(RunDir, l.FullName(ns)) }

func isNetnsMount(path string) bool {
	var st unix.Statfs_t
	return unix.Statfs(path, &st) == nil && st.Type == nsfsMagic
}

// EnsureNamespace creates the named namespace unless it exists. A file left
// by a creation that died half way is replaced.
func (l *Linux) EnsureNamespace(ns string) error {
	if err := checkNSName(ns); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	path := l.Path(ns)
	if isNetnsMount(path) {
		return nil
	}
	if err := prepareRunDir(); err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("network: remove stale %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, 0)
	if err != nil {
		return fmt.Errorf("network: create %s: %w", path, err)
	}
	f.Close()
	err = inThrowawayThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("unshare: %w", err)
		}
		if err := unix.Mount("/proc/thread-self/ns/net", path, "none", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("bind mount: %w", err)
		}
		return loopbackUp()
	})
	if err != nil {
		_ = unix.Unmount(path, unix.MNT_DETACH)
		_ = os.Remove(path)
		return fmt.Errorf("network: create namespace %s: %w", l.FullName(ns), err)
	}
	return nil
}

// loopbackUp brings up lo in the calling thread's namespace: engines bind
// 127.0.0.1, and the kernel delivers traffic to a namespace's own addresses
// through lo.
func loopbackUp() error {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err != nil {
		return err
	}
	return h.LinkSetUp(lo)
}

var runDirOnce struct {
	sync.Mutex
	done bool
}

// prepareRunDir creates RunDir and makes it a shared mount point, as
// iproute2 does: a namespace mount then propagates to mount namespaces made
// later (an instance's, `ip netns exec`'s), and so does its unmount, so
// those copies never keep a deleted namespace alive.
func prepareRunDir() error {
	runDirOnce.Lock()
	defer runDirOnce.Unlock()
	if runDirOnce.done {
		return nil
	}
	if err := os.MkdirAll(RunDir, 0o755); err != nil {
		return fmt.Errorf("network: %w", err)
	}
	err := unix.Mount("", RunDir, "none", unix.MS_SHARED|unix.MS_REC, "")
	if errors.Is(err, unix.EINVAL) { // not a mount point yet: bind it onto itself
		if err = unix.Mount(RunDir, RunDir, "none", unix.MS_BIND|unix.MS_REC, ""); err == nil {
			err = unix.Mount("", RunDir, "none", unix.MS_SHARED|unix.MS_REC, "")
		}
	}
	if err != nil {
		return fmt.Errorf("network: make %s a shared mount: %w", RunDir, err)
	}
	runDirOnce.done = true
	return nil
}

// DeleteNamespace unmounts and removes the namespace's file. The kernel
// destroys the namespace, and its links, once nothing else holds it: a
// socket opened in it or a process running in it keeps it alive.
func (l *Linux) DeleteNamespace(ns string) error {
	if err := checkNSName(ns); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return removeNamespaceFile(l.Path(ns))
}

func removeNamespaceFile(path string) error {
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
		return fmt.Errorf("network: unmount %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("network: remove %s: %w", path, err)
	}
	return nil
}

// Namespaces lists the daemon's namespaces by short name, sorted.
func (l *Linux) Namespaces() ([]string, error) {
	return listNamespaces(l.prefix)
}

func listNamespaces(prefix string) ([]string, error) {
	entries, err := os.ReadDir(RunDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("network: %w", err)
	}
	var out []string
	for _, e := range entries {
		if name, ok := strings.CutPrefix(e.Name(), prefix); ok && name != "" {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Cleanup deletes every namespace of the daemon daemonID (and with them
// all their links, nftables tables and routes), including files left by a
// creation that crashed half way. Namespaces of other daemons, and the
// host's own, are not touched. A daemon calls it at start-up before
// rebuilding its world, and tests call it to leave nothing behind.
func Cleanup(daemonID string) error {
	if err := checkDaemonID(daemonID); err != nil {
		return err
	}
	names, err := listNamespaces(Prefix(daemonID))
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range names {
		if err := removeNamespaceFile(filepath.Join(RunDir, Prefix(daemonID)+n)); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Cleanup deletes all of this daemon's namespaces; see the function Cleanup.
func (l *Linux) Cleanup() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Cleanup(l.id)
}

func (l *Linux) openNS(ns string) (int, error) {
	if err := checkNSName(ns); err != nil {
		return -1, err
	}
	path := l.Path(ns)
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return -1, fmt.Errorf("network: %w: %s", ErrNoNamespace, l.FullName(ns))
		}
		return -1, fmt.Errorf("network: open %s: %w", path, err)
	}
	var st unix.Statfs_t
	if err := unix.Fstatfs(fd, &st); err != nil || st.Type != nsfsMagic {
		unix.Close(fd)
		return -1, fmt.Errorf("network: %w: %s (file not mounted)", ErrNoNamespace, l.FullName(ns))
	}
	return fd, nil
}

// Do runs fn with an OS thread in the namespace ns and returns fn's error.
//
// fn runs on its own goroutine locked to a thread that enters ns and
// returns to the original namespace afterwards; the caller's goroutine and
// thread never change namespace. If returning fails, the thread is not
// unlocked, so the Go runtime destroys it when the goroutine ends: no
// thread is ever reused in the wrong namespace. Sockets fn creates stay in
// ns. Goroutines fn starts run elsewhere, in the original namespace. Use
// explicit address families ("tcp4", "udp6") in fn: a plain "tcp" on a
// wildcard address makes the net package probe the stack of whatever
// namespace it first runs in and remember the answer.
//
// A panic in fn is re-raised in the caller.
func (l *Linux) Do(ns string, fn func() error) error {
	fd, err := l.openNS(ns)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	return doInNetns(fd, fn)
}

type doResult struct {
	err      error
	restored bool
	panicked bool
	panicVal any
}

func doInNetns(target int, fn func() error) error {
	var res doResult
	onLockedThread(func() bool {
		res = enterAndRun(target, fn)
		return res.restored
	})
	if res.panicked {
		panic(res.panicVal)
	}
	return res.err
}

// onLockedThread runs f on a new goroutine locked to an OS thread that is
// not the process's main thread, and waits for it. When f returns false
// (it changed the thread and could not undo it), the thread stays locked and
// the Go runtime ends it with the goroutine.
//
// The main thread is avoided because the runtime cannot end it: it would
// only park it, still in the wrong namespace, and the process's
// /proc/self/ns/net and /proc/net (which follow the main thread) would then
// show that namespace and keep it alive.
func onLockedThread(f func() (restored bool)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if unix.Gettid() == unix.Getpid() {
			// Hold the main thread so the scheduler puts the work elsewhere.
			onLockedThread(f)
			runtime.UnlockOSThread()
			return
		}
		if f() {
			runtime.UnlockOSThread()
		}
	}()
	<-done
}

func enterAndRun(target int, fn func() error) (res doResult) {
	orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return doResult{err: fmt.Errorf("network: open current namespace: %w", err), restored: true}
	}
	defer unix.Close(orig)
	if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
		return doResult{err: fmt.Errorf("network: setns: %w", err), restored: true}
	}
	defer func() {
		if p := recover(); p != nil {
			res.panicked, res.panicVal = true, p
		}
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			res.err = errors.Join(res.err, fmt.Errorf("network: return to original namespace: %w (thread discarded)", err))
			res.restored = false
			return
		}
		res.restored = true
	}()
	res.err = fn()
	return res
}

// inThrowawayThread runs fn on a thread that is destroyed afterwards, for
// changes to the thread that are never undone (unshare).
func inThrowawayThread(fn func() error) error {
	var err error
	onLockedThread(func() bool {
		err = fn()
		return false
	})
	return err
}

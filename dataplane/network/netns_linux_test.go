//go:build linux

package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func nsInode(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

func TestNamespaceLifecycle(t *testing.T) {
	l := newTestLinux(t)
	must(t, l.EnsureNamespace("x"))
	ino := nsInode(t, l.Path("x"))
	must(t, l.EnsureNamespace("x")) // idempotent: the same namespace
	if got := nsInode(t, l.Path("x")); got != ino {
		t.Fatalf("second EnsureNamespace made a new namespace (inode %d, was %d)", got, ino)
	}
	if ino == nsInode(t, "/proc/self/ns/net") {
		t.Fatal("the namespace is the host's")
	}
	must(t, l.EnsureNamespace("y"))
	got, err := l.Namespaces()
	must(t, err)
	if !slices.Equal(got, []string{"x", "y"}) {
		t.Fatalf("Namespaces() = %v", got)
	}
	if !isNetnsMount(l.Path("x")) || !strings.HasPrefix(filepath.Base(l.Path("x")), "cb-"+l.DaemonID()+"-") {
		t.Fatalf("%s is not a mounted namespace named cb-<id>-x", l.Path("x"))
	}
	if ipPath, err := exec.LookPath("ip"); err == nil { // iproute2 sees it (debugging aid)
		out, err := exec.Command(ipPath, "netns", "list").CombinedOutput()
		must(t, err)
		if !strings.Contains(string(out), l.FullName("x")) {
			t.Fatalf("ip netns list does not show %s:\n%s", l.FullName("x"), out)
		}
	}
	links, err := l.Links("x")
	must(t, err)
	if len(links) != 1 || links[0].Name != "lo" || !links[0].Up {
		t.Fatalf("new namespace links = %+v, want lo up only", links)
	}

	must(t, l.DeleteNamespace("x"))
	must(t, l.DeleteNamespace("x")) // absent: fine
	if _, err := os.Stat(l.Path("x")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("file still there: %v", err)
	}
	if _, err := l.Links("x"); !errors.Is(err, ErrNoNamespace) {
		t.Fatalf("Links in deleted namespace: %v, want ErrNoNamespace", err)
	}
	got, err = l.Namespaces()
	must(t, err)
	if !slices.Equal(got, []string{"y"}) {
		t.Fatalf("Namespaces() after delete = %v", got)
	}

	// A crash between creating the file and mounting leaves an empty file:
	// EnsureNamespace replaces it.
	f, err := os.Create(l.Path("half"))
	must(t, err)
	f.Close()
	if err := l.Do("half", func() error { return nil }); !errors.Is(err, ErrNoNamespace) {
		t.Fatalf("Do in an unmounted file: %v, want ErrNoNamespace", err)
	}
	must(t, l.EnsureNamespace("half"))
	if !isNetnsMount(l.Path("half")) {
		t.Fatal("half-made namespace not repaired")
	}

	for _, bad := range []string{"", "a/b", "../x", ".x", strings.Repeat("n", 65), "sp ace"} {
		if err := l.EnsureNamespace(bad); err == nil {
			t.Errorf("EnsureNamespace(%q) accepted", bad)
		}
	}
}

// threadNamespaces returns the network namespace of every thread of this
// process.
func threadNamespaces(t *testing.T) map[string]string {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	must(t, err)
	out := map[string]string{}
	for _, task := range tasks {
		link, err := os.Readlink("/proc/self/task/" + task.Name() + "/ns/net")
		if err != nil {
			continue // the thread ended meanwhile
		}
		out[task.Name()] = link
	}
	return out
}

func TestDoRestoresNamespace(t *testing.T) {
	l := newTestLinux(t)
	must(t, l.EnsureNamespace("x"))
	want := nsInode(t, l.Path("x"))
	host := nsInode(t, "/proc/self/ns/net") // the main thread's
	runtime.LockOSThread()
	if mine := nsInode(t, "/proc/thread-self/ns/net"); mine != host {
		t.Fatalf("the main thread is in namespace %d, this thread in %d", host, mine)
	}
	runtime.UnlockOSThread()

	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		before := nsInode(t, "/proc/thread-self/ns/net")
		var inside uint64
		must(t, l.Do("x", func() error {
			inside = nsInode(t, "/proc/thread-self/ns/net")
			return nil
		}))
		if inside != want {
			t.Errorf("inside Do: namespace inode %d, want %d", inside, want)
		}
		if after := nsInode(t, "/proc/thread-self/ns/net"); after != before || after != host {
			t.Errorf("calling thread moved: before %d, after %d, host %d", before, after, host)
		}
	}()
	<-done

	// fn's error comes back; a panic is re-raised in the caller.
	boom := errors.New("boom")
	if err := l.Do("x", func() error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("Do returned %v", err)
	}
	func() {
		defer func() {
			if p := recover(); p != "kaboom" {
				t.Fatalf("recovered %v, want the panic of fn", p)
			}
		}()
		_ = l.Do("x", func() error { panic("kaboom") })
	}()
	if err := l.Do("nope", func() error { return nil }); !errors.Is(err, ErrNoNamespace) {
		t.Fatalf("Do in a missing namespace: %v", err)
	}

	// Many concurrent Do, then no thread of the process is anywhere but in
	// the host namespace.
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = l.Do("x", func() error {
				if i%8 == 0 {
					time.Sleep(time.Millisecond) // let the runtime start more threads meanwhile
				}
				return nil
			})
		}()
	}
	wg.Wait()
	// Threads that unshared a namespace for EnsureNamespace end just after
	// it returns; a leaked thread would stay: poll with a deadline.
	hostLink := fmt.Sprintf("net:[%d]", host)
	deadline := time.Now().Add(2 * time.Second)
	for {
		var wrong []string
		for tid, ns := range threadNamespaces(t) {
			if ns != hostLink {
				wrong = append(wrong, tid+" in "+ns)
			}
		}
		if len(wrong) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("threads outside the host namespace %s: %v", hostLink, wrong)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func netnsCookie(t *testing.T, rc syscall.RawConn) uint64 {
	t.Helper()
	var cookie uint64
	var serr error
	must(t, rc.Control(func(fd uintptr) {
		cookie, serr = unix.GetsockoptUint64(int(fd), unix.SOL_SOCKET, unix.SO_NETNS_COOKIE)
	}))
	if serr != nil {
		t.Skipf("SO_NETNS_COOKIE unsupported: %v", serr)
	}
	return cookie
}

func TestSocketStaysInNamespace(t *testing.T) {
	t.Parallel()
	l := newTestLinux(t)
	must(t, l.EnsureNamespace("x"))
	must(t, l.EnsureNamespace("y"))
	ln, err := l.ListenTCP("x", ap("127.0.0.1:0"))
	must(t, err)
	defer ln.Close()
	addr := ln.Addr().(*net.TCPAddr).AddrPort()

	// The listener's socket belongs to x: same namespace cookie as a socket
	// made inside x, not the host's.
	rc, err := ln.(*net.TCPListener).SyscallConn()
	must(t, err)
	lnCookie := netnsCookie(t, rc)
	var xCookie uint64
	must(t, l.Do("x", func() error {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer pc.Close()
		rc, err := pc.(*net.UDPConn).SyscallConn()
		if err != nil {
			return err
		}
		xCookie = netnsCookie(t, rc)
		return nil
	}))
	hostPC, err := net.ListenPacket("udp4", "127.0.0.1:0")
	must(t, err)
	defer hostPC.Close()
	hrc, _ := hostPC.(*net.UDPConn).SyscallConn()
	if hostCookie := netnsCookie(t, hrc); lnCookie != xCookie || lnCookie == hostCookie {
		t.Fatalf("listener cookie %d, x's %d, host's %d", lnCookie, xCookie, hostCookie)
	}

	// Accept runs outside Do, on any thread: the socket is still x's.
	accepted := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Close()
		}
		accepted <- err
	}()
	c, err := dial(l, "x", addr, 2*time.Second)
	must(t, err)
	c.Close()
	must(t, <-accepted)
	// From y, x's loopback port is not there.
	if c, err := dial(l, "y", addr, 2*time.Second); err == nil {
		c.Close()
		t.Fatal("y reached x's loopback listener")
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial from y: %v, want connection refused", err)
	}

	pc, err := l.ListenUDP("x", ap("127.0.0.1:0"))
	must(t, err)
	defer pc.Close()
	urc, _ := pc.(*net.UDPConn).SyscallConn()
	if got := netnsCookie(t, urc); got != xCookie {
		t.Fatalf("UDP socket cookie %d, want x's %d", got, xCookie)
	}
	if _, err := l.ListenTCP("x", netip.AddrPort{}); err == nil {
		t.Fatal("invalid address accepted")
	}
	if _, err := l.DialTCP(context.Background(), "", addr); err == nil {
		t.Fatal("dial from the host namespace accepted")
	}
}

func TestCleanupRemovesOnlyItsDaemon(t *testing.T) {
	t.Parallel()
	crashed := newTestLinux(t) // a daemon that "crashed", leaving its world
	other := newTestLinux(t)   // another daemon on the same machine
	for _, ns := range []string{"r", "i-1", "i-2"} {
		must(t, crashed.EnsureNamespace(ns))
	}
	must(t, crashed.EnsureVeth(Veth{NS: "i-1", Name: "eth0", PeerNS: "r", PeerName: "eni-1"}))
	must(t, crashed.EnsureVeth(Veth{NS: "i-2", Name: "eth0", PeerNS: "r", PeerName: "eni-2"}))
	must(t, crashed.ApplyTable("r", filterTable(nil, true, "")))
	f, err := os.Create(crashed.Path("half")) // died between file and mount
	must(t, err)
	f.Close()
	must(t, other.EnsureNamespace("r"))

	// Keep a handle on the crashed router to watch its veths go.
	fd, err := unix.Open(crashed.Path("r"), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	must(t, err)
	held := fd
	defer func() {
		if held >= 0 {
			unix.Close(held)
		}
	}()

	must(t, Cleanup(crashed.DaemonID()))
	left, err := crashed.Namespaces()
	must(t, err)
	if len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
	if got, err := other.Namespaces(); err != nil || !slices.Equal(got, []string{"r"}) {
		t.Fatalf("the other daemon's namespaces: %v, %v", got, err)
	}
	// The instance namespaces died with their mounts, and their veth ends
	// with them: the router (still alive through our fd) loses eni-1 and
	// eni-2. The kernel tears namespaces down asynchronously: poll.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var names []string
		must(t, doInNetns(held, func() error {
			ifs, err := net.Interfaces()
			for _, i := range ifs {
				names = append(names, i.Name)
			}
			return err
		}))
		if slices.Equal(names, []string{"lo"}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("router still has %v after its instances were cleaned up", names)
		}
		time.Sleep(10 * time.Millisecond)
	}
	unix.Close(held)
	held = -1
	if err := Cleanup("bad-id"); err == nil {
		t.Fatal("Cleanup accepted a daemon id with a dash (it could match another daemon's prefix)")
	}
}

func TestCheck(t *testing.T) {
	requireDataplane(t) // runs Check; skips with its reason when it fails
	must(t, Check())
	// Its probe ran in a private namespace: nothing of it on the host.
	ifs, err := net.Interfaces()
	must(t, err)
	for _, i := range ifs {
		if strings.HasPrefix(i.Name, "cbcheck") {
			t.Fatalf("Check left %s in the host namespace", i.Name)
		}
	}
}

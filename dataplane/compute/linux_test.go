//go:build linux

package compute

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// These tests run real instances: they need root, overlayfs and cgroups,
// and skip (saying why) without them. Every test uses its own daemon id
// (cbt-<test process pid>-<n>), and its cleanup kills, unmounts and
// removes everything of that id, then checks that nothing is left.

const crashDaemonEnv = "CLOUDBOX_COMPUTE_TEST_CRASH_DAEMON"

func TestMain(m *testing.M) {
	InitMain() // the instances' init is this test binary
	// Under a mount helper's name (TestMountHelpers), it is one.
	if IsMountHelper(os.Args[0]) {
		os.Exit(MountHelperMain(os.Args))
	}
	// Under a helper's name (TestHelpers), the binary says what it runs as.
	if name := filepath.Base(os.Args[0]); strings.HasPrefix(name, "cbt-helper-") {
		fmt.Println(name, strings.Join(os.Args[1:], " "))
		os.Exit(0)
	}
	if arg := os.Getenv(crashDaemonEnv); arg != "" {
		os.Exit(crashDaemon(arg))
	}
	sweepStaleTestDaemons()
	os.Exit(m.Run())
}

// crashDaemon is a daemon that starts instances and dies without
// stopping them (TestCleanupAfterCrash).
func crashDaemon(arg string) int {
	var a struct {
		Config Config
		Specs  []Spec
	}
	if err := json.Unmarshal([]byte(arg), &a); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	r, err := NewLinux(a.Config)
	for _, s := range a.Specs {
		if err == nil {
			err = r.Start(context.Background(), s)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println("started")
	return 0
}

// sweepStaleTestDaemons cleans up after test processes that died before
// their cleanups ran (a timeout, a kill -9).
func sweepStaleTestDaemons() {
	if os.Geteuid() != 0 {
		return
	}
	cg, err := detectCgroups()
	if err != nil {
		return
	}
	r := &Linux{cfg: Config{DaemonID: "sweeper", RunDir: filepath.Join(os.TempDir(), "cbt-sweeper")}, cg: cg,
		locks: map[string]*sync.Mutex{}, children: map[string]*child{}}
	for _, d := range cg.daemons() {
		var pid, n int
		if _, err := fmt.Sscanf(d, "cbt-%d-%d", &pid, &n); err != nil || pid == os.Getpid() {
			continue
		}
		if unix.Kill(pid, 0) == nil {
			continue // that test process still runs
		}
		_ = r.Cleanup(context.Background(), d)
	}
	os.RemoveAll(r.cfg.RunDir)
}

var daemonSeq atomic.Int64

type testEnv struct {
	t      *testing.T
	r      *Linux
	daemon string
	base   string // root dirs live here
	runDir string
}

func requireInstances(t *testing.T) {
	t.Helper()
	if err := Check(); err != nil {
		t.Skipf("instances cannot run here: %v", err)
	}
}

func newEnv(t *testing.T, grace time.Duration, hide ...string) *testEnv {
	t.Helper()
	requireInstances(t)
	e := &testEnv{t: t, daemon: fmt.Sprintf("cbt-%d-%d", os.Getpid(), daemonSeq.Add(1)), base: t.TempDir(), runDir: t.TempDir()}
	r, err := NewLinux(Config{DaemonID: e.daemon, RunDir: e.runDir, StopGrace: grace, HidePaths: hide})
	if err != nil {
		t.Fatal(err)
	}
	e.r = r
	// Registered after the temp dirs, so it runs before they are removed.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := r.Cleanup(ctx, e.daemon); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		e.assertNothingLeft(e.daemon, e.base)
	})
	return e
}

func (e *testEnv) spec(id string) Spec {
	// The host's root file system stands in for an image: the runner
	// does not care what its layers hold.
	return Spec{ID: id, Hostname: "ip-10-0-1-54", VCPUs: 1, MemoryMiB: 256, RootDir: filepath.Join(e.base, id), Layers: []string{"/"}}
}

// script makes s run user data script on first boot.
func script(s *Spec, content string) {
	s.UserData = []byte(content)
	s.Scripts = []Script{{Name: "part-001", Content: []byte(content)}}
}

func (e *testEnv) start(s Spec) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := e.r.Start(ctx, s); err != nil {
		e.t.Fatalf("start %s: %v", s.ID, err)
	}
}

// run executes argv in the instance and returns its output and exit code.
func (e *testEnv) run(id string, argv ...string) (string, int) {
	e.t.Helper()
	return e.runIn(e.r, id, argv...)
}

func (e *testEnv) runIn(r Runner, id string, argv ...string) (string, int) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out bytes.Buffer
	code, err := r.Exec(ctx, id, ExecRequest{Argv: argv, Stdout: &out, Stderr: &out})
	if err != nil {
		e.t.Fatalf("exec %v in %s: %v", argv, id, err)
	}
	return out.String(), code
}

// mustRun executes argv and fails unless it exits 0.
func (e *testEnv) mustRun(id string, argv ...string) string {
	e.t.Helper()
	out, code := e.run(id, argv...)
	if code != 0 {
		e.t.Fatalf("%v in %s: exit %d: %s", argv, id, code, out)
	}
	return out
}

// waitConsole polls the console log until it contains want.
func (e *testEnv) waitConsole(s Spec, want string) string {
	e.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		b, _ := ConsoleOutput(s.RootDir, 0)
		if strings.Contains(string(b), want) {
			return string(b)
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("console of %s never showed %q:\n%s", s.ID, want, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// assertNothingLeft checks that no cgroup or process of the daemon, and no
// mount of dir, remains.
func (e *testEnv) assertNothingLeft(daemon, dir string) {
	e.t.Helper()
	for _, mnt := range e.r.cg.hierarchies() {
		if _, err := os.Stat(filepath.Join(mnt, cgroupPrefix, daemon)); err == nil {
			e.t.Errorf("cgroup %s left", filepath.Join(mnt, cgroupPrefix, daemon))
		}
	}
	if pids := processesInCgroup(daemon); len(pids) > 0 {
		e.t.Errorf("processes %v of %s left", pids, daemon)
	}
	if m := mountsUnder(dir); len(m) > 0 {
		e.t.Errorf("mounts of %s left: %v", dir, m)
	}
}

// processesInCgroup lists live processes whose cgroup is one of daemon's.
func processesInCgroup(daemon string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, ent := range ents {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "cgroup"))
		if err == nil && strings.Contains(string(b), "/"+cgroupPrefix+"/"+daemon+"/") && !isZombie(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // gone
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z' || s[i+2] == 'X'
}

// mountsUnder lists mounts, in any mount namespace of any process, that
// mention dir (the overlay's upperdir, for one).
func mountsUnder(dir string) []string {
	var found []string
	ents, _ := os.ReadDir("/proc")
	for _, ent := range ents {
		if _, err := strconv.Atoi(ent.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", ent.Name(), "mountinfo"))
		if err != nil {
			continue
		}
		for line := range strings.Lines(string(b)) {
			if strings.Contains(line, dir) {
				found = append(found, ent.Name()+": "+strings.TrimSpace(line))
			}
		}
	}
	return found
}

// newNetNS makes an empty network namespace (no links, no addresses) and
// removes it at the end of the test.
func newNetNS(t *testing.T) string {
	t.Helper()
	name := fmt.Sprintf("cbt-%d-%d", os.Getpid(), daemonSeq.Add(1))
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("cannot make a network namespace: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns delete %s: %v: %s", name, err, out)
		}
	})
	return "/run/netns/" + name
}

func inode(t *testing.T, path string) uint64 {
	t.Helper()
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		t.Fatal(err)
	}
	return st.Ino
}

// Test 1: user data runs on first boot, in the instance's namespaces.
func TestInstanceUserData(t *testing.T) {
	e := newEnv(t, 2*time.Second)
	const page = "/var/www/index.html"
	hostBefore, hostErr := os.ReadFile(page)
	s := e.spec("i-0123456789abcdef0")
	s.NetNS = newNetNS(t)
	script(&s, "#!/bin/sh\nmkdir -p /var/www\necho hello from $(hostname) > /var/www/index.html; echo user-data-done\n")
	e.start(s)

	e.waitConsole(s, "user-data-done")
	if got := e.mustRun(s.ID, "cat", page); got != "hello from ip-10-0-1-54\n" {
		t.Errorf("%s in the instance = %q", page, got)
	}
	if got := e.mustRun(s.ID, "hostname"); got != "ip-10-0-1-54\n" {
		t.Errorf("hostname = %q", got)
	}
	if got := e.mustRun(s.ID, "cat", "/etc/hostname"); got != "ip-10-0-1-54\n" {
		t.Errorf("/etc/hostname = %q", got)
	}
	// PID 1 is the instance's init, and no host process is visible.
	if got := e.mustRun(s.ID, "cat", "/proc/1/cmdline"); !strings.HasPrefix(got, "cloudbox-init\x00"+s.ID) {
		t.Errorf("PID 1 is %q", got)
	}
	ps := e.mustRun(s.ID, "ps", "-e", "-o", "pid=,args=")
	t.Logf("ps -e in the instance:\n%s", ps)
	lines := strings.Split(strings.TrimSpace(ps), "\n")
	if len(lines) > 5 || !strings.HasPrefix(strings.TrimSpace(lines[0]), "1 cloudbox-init") {
		t.Errorf("the instance sees processes that are not its own:\n%s", ps)
	}
	// Its own network namespace: the one given.
	netns := strings.TrimSpace(e.mustRun(s.ID, "stat", "-L", "-c", "%i", "/proc/self/ns/net"))
	if want := strconv.FormatUint(inode(t, s.NetNS), 10); netns != want {
		t.Errorf("instance network namespace inode %s, want %s", netns, want)
	}
	// Its processes cannot mount (CAP_SYS_ADMIN is not in their bounding set).
	if out, code := e.run(s.ID, "mount", "-t", "tmpfs", "none", "/mnt"); code == 0 {
		t.Errorf("mount inside the instance succeeded: %s", out)
	}
	// Exec: exit codes, stdin, environment, working directory.
	if _, code := e.run(s.ID, "sh", "-c", "exit 7"); code != 7 {
		t.Errorf("exit code %d, want 7", code)
	}
	var out bytes.Buffer
	code, err := e.r.Exec(context.Background(), s.ID, ExecRequest{Argv: []string{"sh", "-c", "cat; echo $FOO; pwd"},
		Env: []string{"FOO=bar"}, Dir: "/etc", Stdin: strings.NewReader("in\n"), Stdout: &out})
	if err != nil || code != 0 || out.String() != "in\nbar\n/etc\n" {
		t.Errorf("exec with stdin: %d, %v, %q", code, err, out.String())
	}
	if _, err := e.r.Exec(context.Background(), s.ID, ExecRequest{Argv: []string{"no-such-command"}}); err == nil {
		t.Error("exec of a missing command: no error")
	}
	// Cancelling an Exec kills the command.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err := e.r.Exec(ctx, s.ID, ExecRequest{Argv: []string{"sleep", "1000"}}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled exec: %v", err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if out, _ := e.run(s.ID, "ps", "-e", "-o", "args="); !strings.Contains(out, "sleep 1000") {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the cancelled command still runs:\n%s", out)
		}
	}
	// The host's file system is untouched.
	hostAfter, hostErrAfter := os.ReadFile(page)
	if !bytes.Equal(hostBefore, hostAfter) || (hostErr == nil) != (hostErrAfter == nil) {
		t.Errorf("the host's %s changed", page)
	}
	if st, err := e.r.State(s.ID); err != nil || st != StateRunning {
		t.Errorf("state %q, %v", st, err)
	}
	stats, err := e.r.Stats(s.ID)
	if err != nil || stats.CPUTime <= 0 || stats.MemoryBytes == 0 || stats.MemoryLimitBytes != 256<<20 {
		t.Errorf("stats %+v, %v", stats, err)
	}
	t.Logf("stats: %+v", stats)
}

// Test 2: two instances write the same path and each sees its own.
func TestInstancesDoNotShareFiles(t *testing.T) {
	e := newEnv(t, 2*time.Second)
	a, b := e.spec("i-aaaaaaaaaaaaaaaaa"), e.spec("i-bbbbbbbbbbbbbbbbb")
	a.Hostname, b.Hostname = "ip-10-0-1-10", "ip-10-0-2-20"
	e.start(a)
	e.start(b)
	for _, s := range []Spec{a, b} {
		e.mustRun(s.ID, "sh", "-c", "mkdir -p /var/www/html && echo $(hostname) > /var/www/html/index.html")
	}
	for _, s := range []Spec{a, b} {
		if got := e.mustRun(s.ID, "cat", "/var/www/html/index.html"); got != s.Hostname+"\n" {
			t.Errorf("%s sees %q", s.ID, got)
		}
	}
	if _, err := os.Stat("/var/www/html/index.html"); err == nil {
		if b, _ := os.ReadFile("/var/www/html/index.html"); strings.HasPrefix(string(b), "ip-10-0-") {
			t.Error("the host sees an instance's file")
		}
	}
	// The instance's disk is its RootDir's upper layer.
	if got, err := os.ReadFile(filepath.Join(a.RootDir, "upper/var/www/html/index.html")); err != nil || string(got) != a.Hostname+"\n" {
		t.Errorf("upper layer of %s: %q, %v", a.ID, got, err)
	}
}

// cpuCores measures, over d, the instance's CPU use and the rest of the
// machine's, in cores.
func (e *testEnv) cpuCores(id string, d time.Duration) (instance, others float64) {
	e.t.Helper()
	s0, err := e.r.Stats(id)
	if err != nil {
		e.t.Fatal(err)
	}
	b0, t0 := hostBusy(e.t), time.Now()
	time.Sleep(d) // the measurement window
	s1, err := e.r.Stats(id)
	if err != nil {
		e.t.Fatal(err)
	}
	b1, wall := hostBusy(e.t), time.Since(t0)
	instance = float64(s1.CPUTime-s0.CPUTime) / float64(wall)
	return instance, float64(b1-b0)/float64(wall) - instance
}

// hostBusy is the machine's non-idle CPU time so far (/proc/stat, whose
// unit is USER_HZ: 100 per second on Linux).
func hostBusy(t *testing.T) time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		t.Fatal(err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	var busy time.Duration
	for i, f := range strings.Fields(line)[1:] {
		n, _ := strconv.ParseInt(f, 10, 64)
		if i != 3 && i != 4 && i < 8 { // not idle, iowait, guest (counted in user)
			busy += time.Duration(n) * 10 * time.Millisecond
		}
	}
	return busy
}

// Test 3: the CPU quota is the instance type's vCPUs. The upper bound
// always holds; the lower bounds need the cores free, so they are only
// checked when the rest of the machine used less than half a core
// meanwhile (go test ./... runs other packages in parallel).
func TestCPULimit(t *testing.T) {
	e := newEnv(t, 2*time.Second)
	busy := []byte("#!/bin/sh\n(while :; do :; done) &\n(while :; do :; done) &\necho loops started\n")
	s := e.spec("i-cpu1")
	script(&s, string(busy))
	e.start(s)
	e.waitConsole(s, "loops started")
	cores, others := e.cpuCores(s.ID, 2*time.Second)
	t.Logf("1 vCPU, two busy loops: %.2f cores (rest of the machine: %.2f)", cores, others)
	if cores > 1.2 {
		t.Errorf("1 vCPU instance used %.2f cores", cores)
	}
	if cores < 0.5 && others < 0.5 {
		t.Errorf("1 vCPU instance used only %.2f cores", cores)
	}
	if err := e.r.Terminate(context.Background(), s.ID); err != nil {
		t.Fatal(err)
	}
	if runtime.NumCPU() < 2 {
		t.Skipf("the 2 vCPU half needs 2 cores; this machine has %d", runtime.NumCPU())
	}
	s2 := e.spec("i-cpu2")
	s2.VCPUs = 2
	script(&s2, string(busy))
	e.start(s2)
	e.waitConsole(s2, "loops started")
	cores, others = e.cpuCores(s2.ID, 2*time.Second)
	t.Logf("2 vCPUs, two busy loops: %.2f cores (rest of the machine: %.2f)", cores, others)
	switch {
	case cores > 2.2:
		t.Errorf("2 vCPU instance used %.2f cores", cores)
	case cores <= 1.2 && others < 0.5:
		t.Errorf("2 vCPU instance used only %.2f cores", cores)
	case cores <= 1.2:
		t.Logf("the machine was busy (%.2f cores elsewhere): lower bound not checked", others)
	}
}

// Test 4: a memory hog is OOM-killed inside its instance only.
func TestMemoryLimit(t *testing.T) {
	e := newEnv(t, 2*time.Second)
	hog, neighbour := e.spec("i-hog"), e.spec("i-neighbour")
	hog.MemoryMiB = 64
	e.start(hog)
	e.start(neighbour)
	before, err := e.r.Stats(hog.ID)
	if err != nil {
		t.Fatal(err)
	}
	out, code := e.run(hog.ID, "sh", "-c", "head -c 2G /dev/zero | tail")
	after, err := e.r.Stats(hog.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("hog exit code %d (%s); memory before %d MiB, limit %d MiB, OOM kills %d",
		code, strings.TrimSpace(out), before.MemoryBytes>>20, after.MemoryLimitBytes>>20, after.OOMKills)
	if code != 128+int(unix.SIGKILL) {
		t.Errorf("hog exited %d, want %d (SIGKILL)", code, 128+int(unix.SIGKILL))
	}
	if after.OOMKills < 1 || after.MemoryLimitBytes != 64<<20 {
		t.Errorf("stats after the hog: %+v", after)
	}
	if got := e.mustRun(neighbour.ID, "echo", "alive"); got != "alive\n" {
		t.Errorf("neighbour answered %q", got)
	}
	if got := e.mustRun(hog.ID, "echo", "still here"); got != "still here\n" {
		t.Errorf("the hog's instance answered %q", got)
	}
	if n, _ := e.r.Stats(neighbour.ID); n.OOMKills != 0 {
		t.Errorf("neighbour had %d OOM kills", n.OOMKills)
	}
}

// Test 5: stop/start and reboot keep the disk and do not re-run user
// data; terminate removes everything.
func TestLifecycle(t *testing.T) {
	e := newEnv(t, time.Second)
	ctx := context.Background()
	s := e.spec("i-life")
	// The user data leaves background processes, one of which ignores
	// SIGTERM (so Stop must escalate to SIGKILL).
	script(&s, "#!/bin/sh\necho run >> /var/lib/ud-runs\nsleep 1000 &\n"+
		"sh -c 'trap \"\" TERM; while :; do sleep 1; done' >/dev/null 2>&1 &\necho user-data-done\n")
	caA, caB := testCA("a"), testCA("b")
	s.TrustCA = caA
	hostBundle, hostBundleErr := os.ReadFile(trustBundle)
	e.start(s)
	e.waitConsole(s, "user-data-done")
	e.mustRun(s.ID, "sh", "-c", "echo persisted > /root/data.txt")
	if err := e.r.Start(ctx, s); err != nil { // already running: no-op
		t.Fatal(err)
	}

	checkStopped := func(what string) {
		t.Helper()
		if st, err := e.r.State(s.ID); err != nil || st != StateStopped {
			t.Errorf("after %s: state %q, %v", what, st, err)
		}
		if pids := processesInCgroup(e.daemon); len(pids) > 0 {
			t.Errorf("after %s: processes %v left", what, pids)
		}
		if m := mountsUnder(s.RootDir); len(m) > 0 {
			t.Errorf("after %s: mounts left: %v", what, m)
		}
		if _, err := e.r.Exec(ctx, s.ID, ExecRequest{Argv: []string{"true"}}); !errors.Is(err, ErrNotRunning) {
			t.Errorf("after %s: exec error %v, want ErrNotRunning", what, err)
		}
	}
	// checkTrust checks that the instance trusts ca, as a local
	// certificate and in the bundle (once), and no longer gone.
	checkTrust := func(what string, ca, gone []byte) {
		t.Helper()
		if got := e.mustRun(s.ID, "cat", trustedCAFile); got != string(ca) {
			t.Errorf("after %s: %s = %q", what, trustedCAFile, got)
		}
		bundle := e.mustRun(s.ID, "cat", trustBundle)
		if n := strings.Count(bundle, string(ca)); n != 1 {
			t.Errorf("after %s: the bundle holds the CA %d times", what, n)
		}
		if gone != nil && strings.Contains(bundle, string(gone)) {
			t.Errorf("after %s: the bundle still holds the previous CA", what)
		}
		if hostBundleErr == nil && !strings.HasPrefix(bundle, string(hostBundle)) {
			t.Errorf("after %s: the image's roots left the bundle", what)
		}
	}
	checkTrust("first boot", caA, nil)
	checkDisk := func(what string) {
		t.Helper()
		if got := e.mustRun(s.ID, "cat", "/root/data.txt"); got != "persisted\n" {
			t.Errorf("after %s: /root/data.txt = %q", what, got)
		}
		if got := e.mustRun(s.ID, "cat", "/var/lib/ud-runs"); got != "run\n" {
			t.Errorf("after %s: user data ran %d times", what, strings.Count(got, "run"))
		}
	}

	t0 := time.Now()
	if err := e.r.Stop(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	t.Logf("stop took %v (grace 1s; one process ignores SIGTERM)", time.Since(t0).Round(time.Millisecond))
	checkStopped("stop")
	if infos, _ := e.r.List(); len(infos) != 1 || infos[0].State != StateStopped || infos[0].RootDir != s.RootDir {
		t.Errorf("list while stopped: %+v", infos)
	}
	// A new CA (a new data directory's) replaces the old one.
	s.TrustCA = caB
	e.start(s)
	checkDisk("stop/start")
	checkTrust("a start with another CA", caB, caA)

	rec, _ := e.r.readRecord(s.ID)
	if err := e.r.Reboot(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	rec2, _ := e.r.readRecord(s.ID)
	if rec2.InitPID == rec.InitPID {
		t.Error("reboot did not restart the init")
	}
	checkDisk("reboot")
	checkTrust("reboot", caB, caA)
	if b, err := os.ReadFile(trustBundle); (err == nil) != (hostBundleErr == nil) || !bytes.Equal(b, hostBundle) {
		t.Errorf("the host's %s changed", trustBundle)
	}
	c, _ := ConsoleOutput(s.RootDir, 0)
	if strings.Count(string(c), "user-data-done") != 1 {
		t.Errorf("console shows the user data %d times:\n%s", strings.Count(string(c), "user-data-done"), c)
	}
	t.Logf("console after two stops and three boots:\n%s", c)

	cgroups := e.r.CgroupPaths(s.ID)
	if err := e.r.Terminate(ctx, s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.RootDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("root dir after terminate: %v", err)
	}
	for _, p := range cgroups {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cgroup %s after terminate: %v", p, err)
		}
	}
	if _, err := e.r.State(s.ID); !errors.Is(err, ErrNotFound) {
		t.Errorf("state after terminate: %v", err)
	}
	if pids := processesInCgroup(e.daemon); len(pids) > 0 {
		t.Errorf("after terminate: processes %v left", pids)
	}
	if m := mountsUnder(s.RootDir); len(m) > 0 {
		t.Errorf("after terminate: mounts left: %v", m)
	}
}

// testCA is a PEM block that stands for a CA certificate: the init
// installs it without reading it.
func testCA(name string) []byte {
	return []byte("-----BEGIN CERTIFICATE-----\n" + base64.StdEncoding.EncodeToString([]byte("cloudbox test CA "+name)) + "\n-----END CERTIFICATE-----\n")
}

// Test 6: a daemon dies leaving its instances running; a new runner for
// its id finds them and drives them, and Cleanup of that daemon id removes
// them and nothing else.
func TestCleanupAfterCrash(t *testing.T) {
	e := newEnv(t, 2*time.Second)
	ctx := context.Background()
	survivor := e.spec("i-survivor")
	e.start(survivor)

	crashed := fmt.Sprintf("cbt-%d-%d", os.Getpid(), daemonSeq.Add(1))
	orphan, adopted := e.spec("i-orphan"), e.spec("i-adopted")
	script(&orphan, "#!/bin/sh\nsleep 1000 &\necho orphan up\n")
	cfg := Config{DaemonID: crashed, RunDir: e.runDir, StopGrace: time.Second}
	arg, _ := json.Marshal(map[string]any{"Config": cfg, "Specs": []Spec{orphan, adopted}})
	cmd := exec.Command("/proc/self/exe", "-test.run=^$")
	cmd.Env = append(os.Environ(), crashDaemonEnv+"="+string(arg))
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "started") {
		t.Fatalf("crashing daemon: %v: %s", err, out)
	}
	// Whatever happens below, leave nothing of the crashed daemon behind.
	t.Cleanup(func() {
		_ = e.r.Cleanup(context.Background(), crashed)
		e.assertNothingLeft(crashed, orphan.RootDir)
		e.assertNothingLeft(crashed, adopted.RootDir)
	})
	e.waitConsole(orphan, "orphan up")

	// A restarted daemon (a new runner with the crashed id) finds the
	// instances and can use them: exec, stop and start an init it did not
	// start.
	again, err := NewLinux(cfg)
	if err != nil {
		t.Fatal(err)
	}
	infos, err := again.List()
	if err != nil || len(infos) != 2 || infos[1].ID != orphan.ID || infos[1].State != StateRunning || infos[1].InitPID == 0 {
		t.Fatalf("list after the crash: %+v, %v", infos, err)
	}
	orphanInit := infos[1].InitPID
	if got, _ := e.runIn(again, orphan.ID, "hostname"); got != "ip-10-0-1-54\n" {
		t.Errorf("exec through the restarted daemon: %q", got)
	}
	if err := again.Stop(ctx, adopted.ID); err != nil {
		t.Fatal(err)
	}
	if st, _ := again.State(adopted.ID); st != StateStopped || !isZombie(infos[0].InitPID) {
		t.Errorf("adopted instance after stop: %s, init %d alive: %v", st, infos[0].InitPID, !isZombie(infos[0].InitPID))
	}
	if err := again.Start(ctx, adopted); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.runIn(again, adopted.ID, "echo", "back"); got != "back\n" {
		t.Errorf("adopted instance after start: %q", got)
	}

	if len(processesInCgroup(crashed)) < 3 {
		t.Errorf("the crashed daemon's processes are gone before cleanup")
	}
	if err := e.r.Cleanup(ctx, crashed); err != nil {
		t.Fatal(err)
	}
	e.assertNothingLeft(crashed, orphan.RootDir)
	e.assertNothingLeft(crashed, adopted.RootDir)
	if !isZombie(orphanInit) {
		t.Errorf("the orphan's init %d still runs", orphanInit)
	}
	if _, err := os.Stat(filepath.Join(e.runDir, crashed)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("records of the crashed daemon left: %v", err)
	}
	if infos, _ := again.List(); len(infos) != 0 {
		t.Errorf("list after cleanup: %+v", infos)
	}
	// Only that daemon's: the other daemon's instance runs on.
	if got := e.mustRun(survivor.ID, "echo", "ok"); got != "ok\n" {
		t.Errorf("survivor answered %q", got)
	}
	if infos, _ := e.r.List(); !slices.ContainsFunc(infos, func(i Info) bool { return i.ID == survivor.ID && i.State == StateRunning }) {
		t.Errorf("survivor not listed: %+v", infos)
	}
}

// The instance sees neither other instances' disks (the parent of its
// root dir), nor the paths the daemon hides, nor the host's /tmp and /run
// (its own are fresh), even with the host's root as its layer.
func TestHostPathsHidden(t *testing.T) {
	requireInstances(t)
	dir, err := os.MkdirTemp("/var/tmp", "cbt-hide-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) }) // runs after the env's cleanup
	for name, content := range map[string]string{"secret.txt": "host secret", "secrets/key": "k", "visible.txt": "v"} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	var hostTmp []string
	for _, d := range []string{"/tmp", "/run"} {
		f, err := os.CreateTemp(d, "cbt-host-only-")
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
		hostTmp = append(hostTmp, f.Name())
		t.Cleanup(func() { os.Remove(f.Name()) })
	}
	e := newEnv(t, 2*time.Second, filepath.Join(dir, "secrets"), filepath.Join(dir, "secret.txt"))
	s := e.spec("i-hide")
	s.RootDir = filepath.Join(dir, "instances", s.ID)
	e.start(s)
	t.Cleanup(func() { _ = e.r.Terminate(context.Background(), s.ID) })
	for _, c := range []struct{ cmd, want string }{
		{"ls -A " + filepath.Join(dir, "instances"), ""}, // its own and other instances' disks
		{"ls -A " + filepath.Join(dir, "secrets"), ""},
		{"cat " + filepath.Join(dir, "secret.txt"), ""},
		{"cat " + filepath.Join(dir, "visible.txt"), "v"}, // the rest of the host's files are the lower layer
		{"for f in " + strings.Join(hostTmp, " ") + "; do test -e $f && echo $f; done; true", ""},
		{"ls /dev", "fd\nfull\nmqueue\nnull\nptmx\npts\nrandom\nshm\nstderr\nstdin\nstdout\ntty\nurandom\nzero\n"},
	} {
		if got := e.mustRun(s.ID, "sh", "-c", c.cmd); got != c.want && got != c.want+"\n" {
			t.Errorf("%s: %q, want %q", c.cmd, got, c.want)
		}
	}
	if out, code := e.run(s.ID, "sh", "-c", "echo x > "+filepath.Join(dir, "secrets", "new")); code == 0 {
		t.Errorf("wrote into a hidden path: %s", out)
	}
	// Writes to /root land in the instance's upper layer only.
	e.mustRun(s.ID, "sh", "-c", "echo mine > /root/file")
	if _, err := os.Stat("/root/file"); err == nil {
		t.Error("the host sees the instance's /root/file")
	}
}

// A start that fails leaves no process behind and says why.
func TestStartFailures(t *testing.T) {
	e := newEnv(t, time.Second)
	ctx := context.Background()

	s := e.spec("i-badnetns")
	s.NetNS = filepath.Join(e.base, "not-a-netns")
	if err := os.WriteFile(s.NetNS, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.r.Start(ctx, s); err == nil || !strings.Contains(err.Error(), "network namespace") {
		t.Errorf("start with a bad netns: %v", err)
	}

	s2 := e.spec("i-badroot")
	if err := os.MkdirAll(s2.RootDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s2.RootDir, "upper"), nil, 0o600); err != nil { // not a directory
		t.Fatal(err)
	}
	err := e.r.Start(ctx, s2)
	if err == nil || !strings.Contains(err.Error(), "upper") {
		t.Errorf("start with a broken root dir: %v", err)
	}
	t.Logf("start with a broken root dir: %v", err)
	if c, _ := ConsoleOutput(s2.RootDir, 0); !strings.Contains(string(c), "setup failed") {
		t.Errorf("console: %s", c)
	}
	if pids := processesInCgroup(e.daemon); len(pids) > 0 {
		t.Errorf("processes left: %v", pids)
	}
	for _, id := range []string{s.ID, s2.ID} {
		if st, err := e.r.State(id); st != StateStopped || err != nil {
			t.Errorf("%s: state %q, %v", id, st, err)
		}
		if err := e.r.Terminate(ctx, id); err != nil {
			t.Errorf("terminate %s: %v", id, err)
		}
	}
}

// Config.Helpers: every instance finds this binary under those names in
// /opt/aws/bin, and can neither write it nor add to the directory.
func TestHelpers(t *testing.T) {
	requireInstances(t)
	daemon := fmt.Sprintf("cbt-%d-%d", os.Getpid(), daemonSeq.Add(1))
	e := &testEnv{t: t, daemon: daemon, base: t.TempDir(), runDir: t.TempDir()}
	r, err := NewLinux(Config{DaemonID: daemon, RunDir: e.runDir, StopGrace: time.Second, Helpers: []string{"cbt-helper-a", "cbt-helper-b"}})
	if err != nil {
		t.Fatal(err)
	}
	e.r = r
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := r.Cleanup(ctx, daemon); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		e.assertNothingLeft(daemon, e.base)
	})
	s := e.spec("i-helpers")
	e.start(s)
	for _, c := range []struct{ cmd, want string }{
		{"/opt/aws/bin/cbt-helper-a x y", "cbt-helper-a x y\n"},
		{"/opt/aws/bin/cbt-helper-b -e 0", "cbt-helper-b -e 0\n"},
		{"ls /opt/aws/bin", "cbt-helper-a\ncbt-helper-b\n"},
	} {
		if got := e.mustRun(s.ID, "sh", "-c", c.cmd); got != c.want {
			t.Errorf("%s: %q, want %q", c.cmd, got, c.want)
		}
	}
	for _, cmd := range []string{"echo x > /opt/aws/bin/cbt-helper-a", "echo x > /opt/aws/bin/new", "rm /opt/aws/bin/cbt-helper-b"} {
		if out, code := e.run(s.ID, "sh", "-c", cmd); code == 0 {
			t.Errorf("%s succeeded: %s", cmd, out)
		}
	}
	// Nothing of it is on the instance's disk.
	if _, err := os.Stat(filepath.Join(s.RootDir, "upper/opt/aws/bin/cbt-helper-a")); err == nil {
		t.Error("the helper was written to the instance's disk")
	}
}

// The init's own memory is its instance's: the pages its runtime touched
// before it joined (v1) are charged to the instance's cgroup, as those it
// touches after, so the instance's figures hold its init whole.
func TestInitMemoryCharged(t *testing.T) {
	e := newEnv(t, time.Second)
	s := e.spec("i-charged")
	e.start(s)
	rec, err := e.r.readRecord(s.ID)
	if err != nil {
		t.Fatal(err)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", rec.InitPID))
	if err != nil {
		t.Fatal(err)
	}
	var initAnon uint64 // kB
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "RssAnon:" {
			initAnon, _ = strconv.ParseUint(f[1], 10, 64)
		}
	}
	cg := e.r.cg
	var charged uint64
	if cg.v2 {
		charged, err = keyedValue(filepath.Join(cg.path(cg.unified, e.daemon, s.ID), "memory.stat"), "anon")
	} else {
		charged, err = keyedValue(filepath.Join(cg.path(cg.memory, e.daemon, s.ID), "memory.stat"), "total_rss")
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("init RssAnon %d kB; instance cgroup anonymous memory %d kB", initAnon, charged>>10)
	if initAnon == 0 || charged>>10 < initAnon {
		t.Errorf("the instance's cgroup holds %d kB of anonymous memory, less than its init's own %d kB", charged>>10, initAnon)
	}
}

// The mount helpers: an instance mounts and unmounts a block device the
// host put in its /dev, as mount(8) and umount(8) run them, and nothing
// else.
func TestMountHelpers(t *testing.T) {
	requireInstances(t)
	for _, p := range []string{"losetup", "mkfs.ext4"} {
		if _, err := exec.LookPath(p); err != nil {
			t.Skipf("no %s", p)
		}
	}
	daemon := fmt.Sprintf("cbt-%d-%d", os.Getpid(), daemonSeq.Add(1))
	e := &testEnv{t: t, daemon: daemon, base: t.TempDir(), runDir: t.TempDir()}
	r, err := NewLinux(Config{DaemonID: daemon, RunDir: e.runDir, StopGrace: time.Second, Helpers: []string{"cbt-helper-a"}})
	if err != nil {
		t.Fatal(err)
	}
	e.r = r
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := r.Cleanup(ctx, daemon); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		e.assertNothingLeft(daemon, e.base)
	})
	disk := filepath.Join(t.TempDir(), "disk.img")
	if out, err := exec.Command("truncate", "-s", "64M", disk).CombinedOutput(); err != nil {
		t.Fatalf("truncate: %v %s", err, out)
	}
	if out, err := exec.Command("mkfs.ext4", "-q", disk).CombinedOutput(); err != nil {
		t.Fatalf("mkfs: %v %s", err, out)
	}
	out, err := exec.Command("losetup", "--find", "--show", disk).Output()
	if err != nil {
		t.Skipf("no loop device: %v", err)
	}
	loop := strings.TrimSpace(string(out))
	t.Cleanup(func() { exec.Command("losetup", "--detach", loop).Run() })
	var st unix.Stat_t
	if err := unix.Stat(loop, &st); err != nil {
		t.Fatal(err)
	}

	// The device in its /dev from boot, as an attached EBS volume.
	s := e.spec("i-mounts")
	s.Devices = []Device{{Name: "vtest", Major: unix.Major(uint64(st.Rdev)), Minor: unix.Minor(uint64(st.Rdev)), Links: []string{"vlink"}}}
	e.start(s)
	if got := e.mustRun(s.ID, "readlink", "/dev/vlink"); got != "vtest\n" {
		t.Errorf("link: %q", got)
	}
	if got := e.mustRun(s.ID, "sh", "-c", "mkdir -p /vol && mount /dev/vtest /vol && echo hi > /vol/f && cat /vol/f && "+
		"grep ' /vol ' /proc/mounts | grep -c nodev && umount /vol && test ! -e /vol/f && echo unmounted"); got != "hi\n1\nunmounted\n" {
		t.Errorf("mount, write, umount: %q", got)
	}
	for _, cmd := range []string{
		"mount -t ext4 /etc/hostname /vol", // not a device
		"mount -t ext4 -o bind /dev/vtest /vol",
		"mount /dev/vtest /proc/sys",
		"mount -t tmpfs none /vol", // no helper: no CAP_SYS_ADMIN
		"umount /proc",
		"umount /vol", // not mounted
		"ln -s /etc/hostname /dev/fake && mount -t ext4 /dev/fake /vol",
	} {
		if out, code := e.run(s.ID, "sh", "-c", cmd); code == 0 {
			t.Errorf("%s succeeded: %s", cmd, out)
		}
	}
	// Mounted when the instance stops: its mount goes with it.
	e.mustRun(s.ID, "mount", "/dev/vtest", "/vol")
}

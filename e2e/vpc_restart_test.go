package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestVPCRestart kills the daemon with SIGKILL and starts it again on the
// same data directory: the world is taken over from the store (the
// instances still answer, a namespace of cloudbox's that the store does
// not know is removed); and after the store is wiped while no daemon runs,
// the next start removes the instances' processes and namespaces.
func TestVPCRestart(t *testing.T) {
	dir := t.TempDir()
	w := newVPCWorld(t, Opts{DataDir: dir})
	ami := get(w.aws("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=al2023-ami-2023.*-kernel-6.1-x86_64"), "Images", 0, "ImageId")
	out := w.aws("ec2", "run-instances", "--image-id", ami, "--instance-type", "t2.micro", "--count", "2", "--user-data", strings.ReplaceAll(webUserData, "%d", "3000"))
	a, b := get(out, "Instances", 0, "InstanceId"), get(out, "Instances", 1, "InstanceId")
	bIP := get(out, "Instances", 1, "PrivateIpAddress")
	w.aws("ec2", "wait", "instance-running", "--instance-ids", a, b)
	// The default group admits its own members.
	w.eventually(a, curl("http://"+bIP+":3000/"), 30*time.Second)

	if code := w.c.signal(t, syscall.SIGKILL); code != -1 && code != 137 {
		t.Logf("daemon exit code %d", code)
	}
	id := w.daemonID()
	stale := "cb-" + id + "-stale"
	if out, err := exec.Command("ip", "netns", "add", stale).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", stale).Run() })

	w.start(Opts{DataDir: dir})
	if w.daemonID() != id {
		t.Fatalf("daemon id changed across the restart: %s, then %s", id, w.daemonID())
	}
	if got := w.shOK(a, curl("http://"+bIP+":3000/")); !strings.HasPrefix(got, "web ip-") {
		t.Errorf("after the restart the web server answered %q", got)
	}
	if _, err := os.Stat("/run/netns/" + stale); err == nil {
		t.Errorf("the stale namespace %s survived the restart", stale)
	}
	if got := w.aws("ec2", "describe-instances", "--instance-ids", a); get(got, "Reservations", 0, "Instances", 0, "State", "Name") != "running" {
		t.Errorf("instance state after restart: %v", got)
	}

	// Wipe the store with no daemon running: the next start must remove
	// the world the store no longer knows.
	w.c.signal(t, syscall.SIGKILL)
	if r := run(t, dir, os.Environ(), cloudboxBin, "reset", "--endpoint", w.c.URL, "--data-dir", dir); r.ExitCode != 0 {
		t.Fatalf("reset: %s", r)
	}
	if _, err := os.Stat("/run/netns/cb-" + id + "-" + a); err != nil {
		t.Fatalf("instance namespace gone before the restart: %v", err)
	}
	w.start(Opts{DataDir: dir})
	for _, inst := range []string{a, b} {
		if _, err := os.Stat("/run/netns/cb-" + id + "-" + inst); err == nil {
			t.Errorf("namespace of %s survived a start on an empty store", inst)
		}
		for _, cg := range []string{"/sys/fs/cgroup/memory/cloudbox/" + id + "/" + inst, "/sys/fs/cgroup/cloudbox/" + id + "/" + inst} {
			if _, err := os.Stat(cg); err == nil {
				t.Errorf("cgroup %s survived a start on an empty store", cg)
			}
		}
	}
	w.checkSafety()
}

// TestDataplaneOff: without root the daemon still serves the control plane
// and says plainly that the data plane is off; --dataplane=off says so too.
func TestDataplaneOff(t *testing.T) {
	t.Parallel()
	c := startBinary(t, Opts{})
	if got := info(t, c); got["dataplane"] != "off: --dataplane=off" {
		t.Errorf("--dataplane=off: info says %v", got["dataplane"])
	}
	if os.Geteuid() != 0 {
		t.Skip("the unprivileged case needs root to drop privileges")
	}
	// A copy of the binary that the unprivileged user may run.
	bin := filepath.Join(t.TempDir(), "cloudbox")
	for _, d := range []string{filepath.Dir(bin), filepath.Dir(filepath.Dir(bin))} {
		os.Chmod(d, 0o755)
	}
	copyFile(t, cloudboxBin, bin)
	addr := freeAddr(t)
	cmd := exec.Command(bin, "up", "--ephemeral", "--listen", addr, "--dataplane", "on")
	cmd.Env = cleanEnv(filepath.Dir(bin))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	nobody := &Cloud{Addr: addr, URL: "http://" + addr, logs: logs, cmd: cmd, exited: make(chan struct{})}
	go func() { nobody.waitErr = cmd.Wait(); close(nobody.exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-nobody.exited
	})
	if err := nobody.waitHealthy(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	got, _ := info(t, nobody)["dataplane"].(string)
	if !strings.HasPrefix(got, "off: ") || !strings.Contains(got, "root") {
		t.Errorf("unprivileged: info says dataplane %q", got)
	}
	if !strings.Contains(logs.String(), "data plane off") {
		t.Errorf("the log does not say the data plane is off:\n%s", logs.String())
	}
	cr := testCreds
	cr.Region = "ap-northeast-2"
	cli := clis()[0]
	if cli.Path == "" {
		cli = clis()[1]
	}
	ami := get(nobody.awsOK(t, cli, cr, "ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=al2023-ami-2023.*-kernel-6.1-x86_64"), "Images", 0, "ImageId")
	id := get(nobody.awsOK(t, cli, cr, "ec2", "run-instances", "--image-id", ami, "--count", "1"), "Instances", 0, "InstanceId")
	nobody.awsOK(t, cli, cr, "ec2", "wait", "instance-running", "--instance-ids", id)
}

func info(t *testing.T, c *Cloud) map[string]any {
	t.Helper()
	r := run(t, t.TempDir(), os.Environ(), cloudboxBin, "info", "--endpoint", c.URL, "--json")
	var m map[string]any
	if r.ExitCode != 0 || json.Unmarshal([]byte(r.Stdout), &m) != nil {
		t.Fatalf("cloudbox info: %s", r)
	}
	return m
}

// copyFile copies a program with cp: a file this process held open for
// writing could be inherited by a child another test forks meanwhile, and
// executing it would then fail with "text file busy".
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	if out, err := exec.Command("cp", from, to).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	if err := os.Chmod(to, 0o755); err != nil {
		t.Fatal(err)
	}
}

package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/controllers"
)

// helloUserData counts its runs and installs an enabled service that
// serves the count: after a stop and an up, the service answers again
// (a boot starts enabled services) and the count is still one (user data
// runs on the first boot only).
const helloUserData = `#!/bin/bash
echo run >> /root/user-data-runs
cat > /etc/systemd/system/hello.service <<'EOF'
[Unit]
Description=serves /root
[Service]
ExecStart=/usr/bin/python3 -m http.server 8080 --directory /root
[Install]
WantedBy=multi-user.target
EOF
systemctl enable hello
systemctl start hello
`

// TestStopAndUp runs the daemon as a service: `up -d`, `stop` (every
// process of the world ends, the state stays), `up -d` again (the running
// instance boots again, as after a reboot).
func TestStopAndUp(t *testing.T) {
	if err := controllers.Check(); err != nil {
		t.Skipf("data plane unavailable: %v", err)
	}
	cli := clis()[1]
	if cli.Path == "" {
		cli = clis()[0]
	}
	cli.need(t)
	dir, addr := t.TempDir(), freeAddr(t)
	cr := testCreds
	cr.Region = "ap-northeast-2"
	w := &vpcWorld{t: t, cli: cli, cr: cr, before: hostNetwork(t)}
	w.c = &Cloud{Addr: addr, URL: "http://" + addr, logs: &syncBuffer{}}

	var pid int
	up := func() {
		t.Helper()
		r := runFor(t, 3*time.Minute, dir, os.Environ(), cloudboxBin, "up", "-d", "--listen", addr, "--data-dir", dir, "--dataplane", "on", "--log-level", "debug")
		if r.ExitCode != 0 || !strings.Contains(r.Stdout, "serving on http://"+addr) {
			t.Fatalf("cloudbox up -d:\n%s", r)
		}
		b, err := os.ReadFile(filepath.Join(dir, "cloudbox.pid"))
		if err != nil {
			t.Fatal(err)
		}
		if pid, err = strconv.Atoi(strings.TrimSpace(string(b))); err != nil || pid <= 0 {
			t.Fatalf("cloudbox.pid: %q", b)
		}
		w.readInfo()
	}
	up()
	t.Cleanup(func() {
		if syscall.Kill(pid, 0) == nil {
			if r := w.cloudbox("down", "--data-dir", dir); r.ExitCode != 0 {
				t.Errorf("cloudbox down: %s", r)
			}
		}
		// Whatever happened, the daemon started here is stopped by its PID.
		if syscall.Kill(pid, 0) == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		w.checkGone()
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(dir, "cloudbox.log")); err == nil {
				t.Logf("daemon log (tail):\n%s", tailLines(string(b), 60))
			}
		}
	})
	if r := w.cloudbox("status"); r.ExitCode != 0 || !strings.Contains(r.Stdout, "pid:           "+strconv.Itoa(pid)) {
		t.Fatalf("cloudbox status:\n%s", r)
	}

	ami := get(w.aws("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=al2023-ami-2023.*-kernel-6.1-x86_64"), "Images", 0, "ImageId")
	id := get(w.aws("ec2", "run-instances", "--image-id", ami, "--instance-type", "t2.micro", "--user-data", helloUserData), "Instances", 0, "InstanceId")
	w.aws("ec2", "wait", "instance-running", "--instance-ids", id)
	if got := w.eventually(id, curl("http://127.0.0.1:8080/user-data-runs"), 3*time.Minute); got != "run" {
		t.Fatalf("before the stop the service answered %q", got)
	}

	daemonID := w.daemonID()
	if r := w.cloudbox("stop", "--data-dir", dir); r.ExitCode != 0 {
		t.Fatalf("cloudbox stop:\n%s", r)
	}
	if syscall.Kill(pid, 0) == nil {
		t.Fatalf("the daemon (pid %d) runs after stop", pid)
	}
	// The machine is free: no namespace, no instance process.
	w.checkGone()
	if r := w.cloudbox("status"); r.ExitCode != 3 {
		t.Errorf("cloudbox status with the daemon stopped: exit %d, want 3\n%s", r.ExitCode, r)
	}

	up()
	if w.daemonID() != daemonID {
		t.Fatalf("daemon id changed across stop and up: %s, then %s", daemonID, w.daemonID())
	}
	w.aws("ec2", "wait", "instance-running", "--instance-ids", id)
	// The enabled service is back; the user data did not run again.
	if got := w.eventually(id, curl("http://127.0.0.1:8080/user-data-runs"), 3*time.Minute); got != "run" {
		t.Errorf("after stop and up the service answered %q, want one run of the user data", got)
	}
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

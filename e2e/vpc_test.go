package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/controllers"
)

// vpcWorld is one data-plane cloudbox driven with the aws CLI, as a user
// builds an architecture, and `cloudbox exec` to look inside it.
type vpcWorld struct {
	t    *testing.T
	c    *Cloud
	cli  CLI
	cr   Creds
	info map[string]any
	// before is the host's networking before the world was built.
	before map[string]bool
}

func newVPCWorld(t *testing.T, o Opts) *vpcWorld {
	t.Helper()
	if err := controllers.Check(); err != nil {
		t.Skipf("data plane unavailable: %v", err)
	}
	cli := clis()[1]
	if cli.Path == "" {
		cli = clis()[0]
	}
	cli.need(t)
	o.Dataplane = true
	cr := testCreds
	cr.Region = "ap-northeast-2"
	w := &vpcWorld{t: t, cli: cli, cr: cr, before: hostNetwork(t)}
	w.start(o)
	return w
}

// start runs a daemon (again) and makes sure the test ends with
// `cloudbox down` on it, before the harness kills it by PID.
func (w *vpcWorld) start(o Opts) {
	w.t.Helper()
	o.Dataplane = true
	c := startBinary(w.t, o)
	w.c = c
	w.readInfo()
	w.t.Cleanup(func() {
		select {
		case <-c.exited:
			return // killed by the test; a later daemon cleans up
		default:
		}
		// The daemon's data directory holds the admin token down needs.
		if r := w.cloudbox("down", "--data-dir", get(w.info, "data_dir")); r.ExitCode != 0 {
			w.t.Errorf("cloudbox down: %s", r)
		}
		select {
		case <-c.exited:
		case <-time.After(30 * time.Second):
			w.t.Errorf("cloudbox did not stop after down")
		}
		w.checkGone()
	})
}

// checkSafety checks the safety invariant: nothing of the world reached
// the host's networking.
func (w *vpcWorld) checkSafety() {
	w.t.Helper()
	checkHostUnchanged(w.t, w.before, hostNetwork(w.t))
}

// in returns w bound to a subtest, so a failure ends that subtest only.
func (w *vpcWorld) in(t *testing.T) *vpcWorld {
	c := *w
	c.t = t
	return &c
}

// readInfo asks the daemon for its facts (`cloudbox info --json`).
func (w *vpcWorld) readInfo() {
	w.t.Helper()
	r := w.cloudbox("info", "--json")
	if r.ExitCode != 0 || json.Unmarshal([]byte(r.Stdout), &w.info) != nil {
		w.t.Fatalf("cloudbox info: %s", r)
	}
	if w.info["dataplane"] != "on" {
		w.t.Fatalf("dataplane = %v", w.info["dataplane"])
	}
}

func (w *vpcWorld) daemonID() string { return get(w.info, "daemon_id") }

// checkGone checks that the daemon left no namespace, cgroup or loop
// device (of an EBS volume) behind.
func (w *vpcWorld) checkGone() {
	w.t.Helper()
	if dir := get(w.info, "instances_dir"); dir != "" {
		if left := loopsOver(filepath.Join(filepath.Dir(dir), "volumes")); len(left) > 0 {
			w.t.Errorf("loop devices left after down: %v", left)
		}
	}
	id := w.daemonID()
	if left, _ := filepath.Glob("/run/netns/cb-" + id + "-*"); len(left) > 0 {
		w.t.Errorf("namespaces left after down: %v", left)
	}
	for _, dir := range []string{"/sys/fs/cgroup/cpu/cloudbox/" + id, "/sys/fs/cgroup/memory/cloudbox/" + id, "/sys/fs/cgroup/cloudbox/" + id} {
		if ents, err := os.ReadDir(dir); err == nil {
			for _, e := range ents {
				if e.IsDir() {
					w.t.Errorf("cgroup left after down: %s/%s", dir, e.Name())
				}
			}
		}
	}
}

// cloudbox runs the cloudbox command against this daemon.
func (w *vpcWorld) cloudbox(args ...string) Result {
	w.t.Helper()
	full := append([]string{args[0], "--endpoint", w.c.URL}, args[1:]...)
	return run(w.t, w.t.TempDir(), os.Environ(), cloudboxBin, full...)
}

// sh runs a shell command inside an instance (or "internet").
func (w *vpcWorld) sh(where, script string) Result {
	w.t.Helper()
	return w.cloudbox("exec", where, "--", "sh", "-c", script)
}

// shOK runs a shell command and requires it to succeed.
func (w *vpcWorld) shOK(where, script string) string {
	w.t.Helper()
	r := w.sh(where, script)
	if r.ExitCode != 0 {
		w.t.Fatalf("in %s: %s", where, r)
	}
	return strings.TrimSpace(r.Stdout)
}

// eventually retries a shell command until it succeeds.
func (w *vpcWorld) eventually(where, script string, within time.Duration) string {
	w.t.Helper()
	deadline := time.Now().Add(within)
	for {
		r := w.sh(where, script)
		if r.ExitCode == 0 {
			return strings.TrimSpace(r.Stdout)
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("in %s, still failing after %v: %s", where, within, r)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// userDataDone waits for an instance's user data to end and returns its
// console. Package installs from the mirror are the slow part of a first
// boot, so callers bound it by what the script installs.
func (w *vpcWorld) userDataDone(id string, within time.Duration) string {
	w.t.Helper()
	deadline := time.Now().Add(within)
	for {
		out := get(w.aws("ec2", "get-console-output", "--instance-id", id, "--latest"), "Output")
		if strings.Contains(out, "part-001 exited with status") {
			return out
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("the user data of %s did not end within %v; console:\n%s", id, within, out)
		}
		time.Sleep(2 * time.Second)
	}
}

func (w *vpcWorld) aws(args ...string) map[string]any {
	w.t.Helper()
	return w.c.awsOK(w.t, w.cli, w.cr, args...)
}

func (w *vpcWorld) awsIn(region string, args ...string) map[string]any {
	w.t.Helper()
	cr := w.cr
	cr.Region = region
	return w.c.awsOK(w.t, w.cli, cr, args...)
}

// get walks a decoded JSON value: keys of objects, indexes of arrays.
func get(v any, path ...any) string {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			a, _ := v.([]any)
			if k >= len(a) {
				return ""
			}
			v = a[k]
		}
	}
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// curl is the command that fetches url from inside the world, failing
// fast when nothing answers.
func curl(url string) string { return "curl -s -f --max-time 3 " + url }

// sshTo is the command that logs in with key to user@host and runs cmd.
func sshTo(key, user, host, cmd string) string {
	return "ssh -i " + key + " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o ConnectTimeout=4 -o LogLevel=ERROR " +
		user + "@" + host + " '" + cmd + "'"
}

const webUserData = `#!/bin/sh
mkdir -p /srv/www && echo "web $(hostname)" > /srv/www/index.html
cd /srv/www && nohup python3 -m http.server %d >/var/log/web.log 2>&1 &
echo "user data done"
`

// TestVPCDataplane builds the seed network (public and private subnets in
// two AZs, IGW, NAT gateway, bastion, web servers, a database) with the
// aws CLI and checks that it behaves as AWS does, from inside it.
func TestVPCDataplane(t *testing.T) {
	w := newVPCWorld(t, Opts{})
	az := func(s string) string { return "ap-northeast-2" + s }

	vpc := get(w.aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16"), "Vpc", "VpcId")
	w.aws("ec2", "modify-vpc-attribute", "--vpc-id", vpc, "--enable-dns-hostnames", `{"Value":true}`)
	subnet := func(cidr, zone string) string {
		return get(w.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", cidr, "--availability-zone", az(zone)), "Subnet", "SubnetId")
	}
	pubA, pubC := subnet("10.0.0.0/24", "a"), subnet("10.0.10.0/24", "c")
	privA, privC := subnet("10.0.1.0/24", "a"), subnet("10.0.11.0/24", "c")
	igw := get(w.aws("ec2", "create-internet-gateway"), "InternetGateway", "InternetGatewayId")
	w.aws("ec2", "attach-internet-gateway", "--vpc-id", vpc, "--internet-gateway-id", igw)
	pubRT := get(w.aws("ec2", "create-route-table", "--vpc-id", vpc), "RouteTable", "RouteTableId")
	w.aws("ec2", "create-route", "--route-table-id", pubRT, "--destination-cidr-block", "0.0.0.0/0", "--gateway-id", igw)
	for _, s := range []string{pubA, pubC} {
		w.aws("ec2", "associate-route-table", "--route-table-id", pubRT, "--subnet-id", s)
	}
	natEIP := w.aws("ec2", "allocate-address", "--domain", "vpc")
	nat := get(w.aws("ec2", "create-nat-gateway", "--subnet-id", pubA, "--allocation-id", get(natEIP, "AllocationId")), "NatGateway", "NatGatewayId")
	w.aws("ec2", "wait", "nat-gateway-available", "--nat-gateway-ids", nat)
	privRT := get(w.aws("ec2", "create-route-table", "--vpc-id", vpc), "RouteTable", "RouteTableId")
	w.aws("ec2", "create-route", "--route-table-id", privRT, "--destination-cidr-block", "0.0.0.0/0", "--nat-gateway-id", nat)
	for _, s := range []string{privA, privC} {
		w.aws("ec2", "associate-route-table", "--route-table-id", privRT, "--subnet-id", s)
	}

	group := func(name string) string {
		return get(w.aws("ec2", "create-security-group", "--group-name", name, "--description", name, "--vpc-id", vpc), "GroupId")
	}
	sgBastion, sgWeb, sgDB := group("bastion"), group("web"), group("db")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", sgBastion, "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", sgWeb, "--protocol", "tcp", "--port", "22", "--source-group", sgBastion)
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", sgWeb, "--protocol", "tcp", "--port", "3000", "--cidr", "10.0.0.0/16")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", sgDB, "--protocol", "tcp", "--port", "3306", "--source-group", sgWeb)

	keyPEM := get(w.aws("ec2", "create-key-pair", "--key-name", "seed"), "KeyMaterial")
	otherPEM := get(w.aws("ec2", "create-key-pair", "--key-name", "other"), "KeyMaterial")
	keyFile := filepath.Join(t.TempDir(), "seed.pem")
	if err := os.WriteFile(keyFile, []byte(keyPEM), 0o600); err != nil {
		t.Fatal(err)
	}

	ami := get(w.aws("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=al2023-ami-2023.*-kernel-6.1-x86_64"), "Images", 0, "ImageId")
	launch := func(subnet, sg, userData string) (id, ip string) {
		args := []string{"ec2", "run-instances", "--image-id", ami, "--instance-type", "t2.micro", "--key-name", "seed",
			"--subnet-id", subnet, "--security-group-ids", sg}
		if userData != "" {
			args = append(args, "--user-data", userData)
		}
		out := w.aws(args...)
		return get(out, "Instances", 0, "InstanceId"), get(out, "Instances", 0, "PrivateIpAddress")
	}
	bastion, bastionIP := launch(pubA, sgBastion, "")
	web1, web1IP := launch(privA, sgWeb, fmt.Sprintf(webUserData, 3000))
	web2, web2IP := launch(privC, sgWeb, fmt.Sprintf(webUserData, 3000))
	db, dbIP := launch(privA, sgDB, fmt.Sprintf(webUserData, 3306))
	w.aws("ec2", "wait", "instance-running", "--instance-ids", bastion, web1, web2, db)
	bastionEIP := w.aws("ec2", "allocate-address", "--domain", "vpc")
	w.aws("ec2", "associate-address", "--instance-id", bastion, "--allocation-id", get(bastionEIP, "AllocationId"))
	eip := get(bastionEIP, "PublicIp")

	// The key pair's key goes onto the bastion the way a user copies it.
	w.shOK(bastion, "echo "+base64.StdEncoding.EncodeToString([]byte(keyPEM))+" | base64 -d > /root/seed.pem && chmod 600 /root/seed.pem")
	w.shOK(bastion, "echo "+base64.StdEncoding.EncodeToString([]byte(otherPEM))+" | base64 -d > /root/other.pem && chmod 600 /root/other.pem")
	for _, ip := range []string{web1IP, web2IP} {
		// Each instance's user data wrote the same path on its own disk.
		if got := w.eventually(bastion, curl("http://"+ip+":3000/"), 30*time.Second); got != "web ip-"+strings.ReplaceAll(ip, ".", "-") {
			t.Errorf("web server %s answered %q", ip, got)
		}
	}

	t.Run("instance identity", func(t *testing.T) {
		w := w.in(t)
		if got := w.shOK(web1, "hostname"); got != "ip-"+strings.ReplaceAll(web1IP, ".", "-") {
			t.Errorf("hostname = %q", got)
		}
		// AL2023 AMIs default to IMDSv2 only (HttpTokens required): v1 is
		// turned away, as on AWS.
		if got := w.shOK(web1, "curl -s -o /dev/null -w '%{http_code}' --max-time 3 http://169.254.169.254/latest/meta-data/instance-id"); got != "401" {
			t.Errorf("IMDSv1 on an AL2023 instance answered %q, want 401", got)
		}
		tok := `T=$(curl -s -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" http://169.254.169.254/latest/api/token) && curl -s -f -H "X-aws-ec2-metadata-token: $T" http://169.254.169.254/latest/meta-data/local-ipv4 && curl -s -f -H "X-aws-ec2-metadata-token: $T" http://169.254.169.254/latest/meta-data/instance-id`
		if got := w.shOK(web1, tok); got != web1IP+"\n"+web1 && got != web1IP+web1 {
			t.Errorf("IMDSv2 local-ipv4 and instance-id = %q", got)
		}
		name := "ip-" + strings.ReplaceAll(web2IP, ".", "-") + ".ap-northeast-2.compute.internal"
		if got := w.shOK(web1, `python3 -c "import socket; print(socket.gethostbyname('`+name+`'))"`); got != web2IP {
			t.Errorf("VPC DNS %s = %q", name, got)
		}
		if r := w.cloudbox("ssh", web1, "hostname"); r.ExitCode != 0 || strings.TrimSpace(r.Stdout) != "ip-"+strings.ReplaceAll(web1IP, ".", "-") {
			t.Errorf("cloudbox ssh: %s", r)
		}
		out := w.aws("ec2", "get-console-output", "--instance-id", web1)
		if console := get(out, "Output"); !strings.Contains(console, "user data done") {
			t.Errorf("console output lacks the user data's output: %q", console)
		}
	})

	t.Run("internet sees the bastion's SSH only", func(t *testing.T) {
		w := w.in(t)
		got := w.shOK("internet", sshTo(keyFile, "ec2-user", eip, "hostname"))
		if got != "ip-"+strings.ReplaceAll(bastionIP, ".", "-") {
			t.Errorf("ssh to the bastion's EIP: hostname %q", got)
		}
		// The internet's resolver knows public names.
		pubName := "ec2-" + strings.ReplaceAll(eip, ".", "-") + ".ap-northeast-2.compute.amazonaws.com"
		if got := w.shOK("internet", sshTo(keyFile, "ec2-user", pubName, "hostname")); got != "ip-"+strings.ReplaceAll(bastionIP, ".", "-") {
			t.Errorf("ssh to %s: hostname %q", pubName, got)
		}
		if r := w.sh("internet", curl("http://"+eip+":3000/")); r.ExitCode == 0 {
			t.Errorf("the bastion answered on 3000 from the internet")
		}
		for _, ip := range []string{web1IP, web2IP} {
			if r := w.sh("internet", curl("http://"+ip+":3000/")); r.ExitCode == 0 {
				t.Errorf("private web server %s reachable from the internet", ip)
			}
		}
	})

	t.Run("bastion hop with the key pair", func(t *testing.T) {
		w := w.in(t)
		got := w.shOK(bastion, sshTo("/root/seed.pem", "ec2-user", web1IP, "hostname"))
		if got != "ip-"+strings.ReplaceAll(web1IP, ".", "-") {
			t.Errorf("hostname over ssh = %q", got)
		}
		if r := w.sh(bastion, sshTo("/root/other.pem", "ec2-user", web1IP, "hostname")); r.ExitCode == 0 {
			t.Errorf("a wrong key was accepted")
		}
		if r := w.sh(web1, sshTo("/root/seed.pem", "ec2-user", web2IP, "hostname")); r.ExitCode == 0 {
			t.Errorf("web1 reached web2's SSH though only the bastion's group may")
		}
	})

	t.Run("private instances reach the internet through the NAT only", func(t *testing.T) {
		w := w.in(t)
		echo := "http://198.18.0.10/ip"
		if got := w.shOK(web1, curl(echo)); got != get(natEIP, "PublicIp") {
			t.Errorf("the internet saw %q, want the NAT's EIP %s", got, get(natEIP, "PublicIp"))
		}
		w.aws("ec2", "delete-route", "--route-table-id", privRT, "--destination-cidr-block", "0.0.0.0/0")
		if r := w.sh(web1, curl(echo)); r.ExitCode == 0 {
			t.Errorf("reached the internet without a route to the NAT")
		}
		w.aws("ec2", "create-route", "--route-table-id", privRT, "--destination-cidr-block", "0.0.0.0/0", "--nat-gateway-id", nat)
		w.eventually(web2, curl(echo), 5*time.Second)
	})

	t.Run("database admits the web group only", func(t *testing.T) {
		w := w.in(t)
		w.eventually(web1, curl("http://"+dbIP+":3306/"), 20*time.Second)
		if r := w.sh(bastion, curl("http://"+dbIP+":3306/")); r.ExitCode == 0 {
			t.Errorf("the bastion reached the database")
		}
	})

	t.Run("root in an instance cannot borrow another's address", func(t *testing.T) {
		w := w.in(t)
		w.aws("ec2", "authorize-security-group-ingress", "--group-id", sgDB, "--protocol", "udp", "--port", "5353", "--source-group", sgWeb)
		w.shOK(db, `(nohup python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', 5353))
while True:
    data, addr = s.recvfrom(100)
    open('/tmp/udp.log', 'a').write(addr[0] + ' ' + data.decode() + '\n')
" >/dev/null 2>&1 &)`)
		send := `python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 0))
s.sendto(sys.argv[2].encode(), ('` + dbIP + `', 5353))" `
		// deliveredFrom runs script (a send) in an instance until the
		// database has word.
		deliveredFrom := func(from, script, word string) {
			deadline := time.Now().Add(10 * time.Second)
			for {
				w.shOK(from, script)
				if w.sh(db, "grep -q "+word+" /tmp/udp.log").ExitCode == 0 {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("the database never received %q from %s", word, from)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		delivered := func(word string) { deliveredFrom(web1, send+web1IP+" "+word, word) }
		borrowed := func(word string) string {
			return "ip addr add " + web1IP + "/32 dev eth0 && " + send + web1IP + " " + word + "; ip addr del " + web1IP + "/32 dev eth0"
		}
		delivered("genuine")
		// The bastion takes web1's address as a second one and sends from it.
		w.shOK(bastion, borrowed("spoofed"))
		// A datagram sent after the spoofed one marks when it would be there.
		delivered("after")
		if got := w.sh(db, "cat /tmp/udp.log"); strings.Contains(got.Stdout, "spoofed") {
			t.Errorf("a datagram with a borrowed source address got through: %q", got.Stdout)
		}
		// With the source/destination check off (a NAT instance), the
		// same datagram passes, as on AWS: the check is what stopped it.
		w.aws("ec2", "modify-instance-attribute", "--instance-id", bastion, "--no-source-dest-check")
		deliveredFrom(bastion, borrowed("unchecked"), "unchecked")
		w.aws("ec2", "modify-instance-attribute", "--instance-id", bastion, "--source-dest-check")
	})

	t.Run("network ACL deny between subnets", func(t *testing.T) {
		w := w.in(t)
		acls := w.aws("ec2", "describe-network-acls", "--filters", "Name=vpc-id,Values="+vpc, "Name=default,Values=true")
		acl := get(acls, "NetworkAcls", 0, "NetworkAclId")
		w.aws("ec2", "create-network-acl-entry", "--network-acl-id", acl, "--ingress", "--rule-number", "50", "--protocol", "tcp",
			"--port-range", "From=3000,To=3000", "--cidr-block", "10.0.0.0/24", "--rule-action", "deny")
		if r := w.sh(bastion, curl("http://"+web1IP+":3000/")); r.ExitCode == 0 {
			t.Errorf("the deny entry did not block the public subnet")
		}
		w.shOK(web2, curl("http://"+web1IP+":3000/")) // another subnet, not denied
		w.aws("ec2", "delete-network-acl-entry", "--network-acl-id", acl, "--ingress", "--rule-number", "50")
		w.shOK(bastion, curl("http://"+web1IP+":3000/"))
	})

	t.Run("revoked rule keeps the open connection", func(t *testing.T) {
		w := w.in(t)
		var wg sync.WaitGroup
		var long Result
		wg.Go(func() {
			long = w.sh(bastion, sshTo("/root/seed.pem", "ec2-user", web2IP, "touch /tmp/open; sleep 3; echo still-here"))
		})
		w.eventually(web2, "test -f /tmp/open", 20*time.Second)
		w.aws("ec2", "revoke-security-group-ingress", "--group-id", sgWeb, "--protocol", "tcp", "--port", "22", "--source-group", sgBastion)
		if r := w.sh(bastion, sshTo("/root/seed.pem", "ec2-user", web2IP, "true")); r.ExitCode == 0 {
			t.Errorf("a new connection was accepted after the revoke")
		}
		wg.Wait()
		if !strings.Contains(long.Stdout, "still-here") {
			t.Errorf("the open connection was cut: %s", long)
		}
		w.aws("ec2", "authorize-security-group-ingress", "--group-id", sgWeb, "--protocol", "tcp", "--port", "22", "--source-group", sgBastion)
	})

	t.Run("t2.micro is one CPU and 1 GiB", func(t *testing.T) {
		w := w.in(t)
		burn := `python3 -c "
import os, time, resource
for _ in range(2):
    if os.fork() == 0:
        end = time.time() + 2
        while time.time() < end: pass
        os._exit(0)
os.wait(); os.wait()
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print(r.ru_utime + r.ru_stime)"`
		used, err := strconv.ParseFloat(w.shOK(web1, burn), 64)
		if err != nil || used > 2.6 {
			t.Errorf("two busy loops for 2 s used %v s of CPU (%v); one vCPU allows about 2", used, err)
		}
		r := w.sh(db, `python3 -c "b = b'x' * (1536 << 20); print(len(b))"`)
		if r.ExitCode == 0 {
			t.Errorf("1.5 GiB fitted in a t2.micro: %s", r)
		}
		w.shOK(web1, curl("http://"+web2IP+":3000/")) // the neighbour lives
	})

	t.Run("reboot restarts the processes and keeps the disk", func(t *testing.T) {
		w := w.in(t)
		w.shOK(db, "echo kept > /root/disk-file; (nohup sleep 600 >/dev/null 2>&1 &)")
		w.shOK(db, "pgrep -x sleep")
		w.aws("ec2", "reboot-instances", "--instance-ids", db)
		w.eventually(db, "! pgrep -x sleep", 30*time.Second)
		if got := w.shOK(db, "cat /root/disk-file"); got != "kept" {
			t.Errorf("disk after reboot: %q", got)
		}
	})

	t.Run("stop and start keep the private IP", func(t *testing.T) {
		w := w.in(t)
		w.aws("ec2", "stop-instances", "--instance-ids", web2)
		w.aws("ec2", "wait", "instance-stopped", "--instance-ids", web2)
		if r := w.sh(web1, curl("http://"+web2IP+":3000/")); r.ExitCode == 0 {
			t.Errorf("a stopped instance answered")
		}
		w.aws("ec2", "start-instances", "--instance-ids", web2)
		w.aws("ec2", "wait", "instance-running", "--instance-ids", web2)
		out := w.aws("ec2", "describe-instances", "--instance-ids", web2)
		if ip := get(out, "Reservations", 0, "Instances", 0, "PrivateIpAddress"); ip != web2IP {
			t.Errorf("private IP after start = %s, want %s", ip, web2IP)
		}
		if got := w.shOK(web2, "hostname"); got != "ip-"+strings.ReplaceAll(web2IP, ".", "-") {
			t.Errorf("hostname after start = %q", got)
		}
	})

	t.Run("peering across regions", func(t *testing.T) {
		w := w.in(t)
		const west = "us-west-2"
		vpc2 := get(w.awsIn(west, "ec2", "create-vpc", "--cidr-block", "10.1.0.0/16"), "Vpc", "VpcId")
		sub2 := get(w.awsIn(west, "ec2", "create-subnet", "--vpc-id", vpc2, "--cidr-block", "10.1.1.0/24"), "Subnet", "SubnetId")
		sg2 := get(w.awsIn(west, "ec2", "create-security-group", "--group-name", "peer", "--description", "peer", "--vpc-id", vpc2), "GroupId")
		w.awsIn(west, "ec2", "authorize-security-group-ingress", "--group-id", sg2, "--protocol", "tcp", "--port", "3000", "--cidr", "10.0.0.0/16")
		ami2 := get(w.awsIn(west, "ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=al2023-ami-2023.*-kernel-6.1-x86_64"), "Images", 0, "ImageId")
		out := w.awsIn(west, "ec2", "run-instances", "--image-id", ami2, "--instance-type", "t2.micro", "--subnet-id", sub2,
			"--security-group-ids", sg2, "--user-data", fmt.Sprintf(webUserData, 3000))
		peer, peerIP := get(out, "Instances", 0, "InstanceId"), get(out, "Instances", 0, "PrivateIpAddress")
		w.awsIn(west, "ec2", "wait", "instance-running", "--instance-ids", peer)
		w.eventually(peer, curl("http://127.0.0.1:3000/"), 20*time.Second)

		pcx := get(w.aws("ec2", "create-vpc-peering-connection", "--vpc-id", vpc, "--peer-vpc-id", vpc2, "--peer-region", west), "VpcPeeringConnection", "VpcPeeringConnectionId")
		w.awsIn(west, "ec2", "wait", "vpc-peering-connection-exists", "--vpc-peering-connection-ids", pcx)
		w.awsIn(west, "ec2", "accept-vpc-peering-connection", "--vpc-peering-connection-id", pcx)
		if r := w.sh(web1, curl("http://"+peerIP+":3000/")); r.ExitCode == 0 {
			t.Errorf("reached the peer VPC without routes")
		}
		w.aws("ec2", "create-route", "--route-table-id", privRT, "--destination-cidr-block", "10.1.0.0/16", "--vpc-peering-connection-id", pcx)
		if r := w.sh(web1, curl("http://"+peerIP+":3000/")); r.ExitCode == 0 {
			t.Errorf("reached the peer VPC with a route on one side only")
		}
		mainRT := get(w.awsIn(west, "ec2", "describe-route-tables", "--filters", "Name=vpc-id,Values="+vpc2, "Name=association.main,Values=true"), "RouteTables", 0, "RouteTableId")
		w.awsIn(west, "ec2", "create-route", "--route-table-id", mainRT, "--destination-cidr-block", "10.0.0.0/16", "--vpc-peering-connection-id", pcx)
		w.eventually(web1, curl("http://"+peerIP+":3000/"), 5*time.Second)
		if r := w.sh(bastion, curl("http://"+peerIP+":3000/")); r.ExitCode == 0 {
			t.Errorf("the bastion's subnet, without a route to the peer, reached it")
		}
	})
	w.checkSafety()
}

// hostState is what the host namespace's networking holds, as `ip` prints
// it: a user's machine must never gain a route, address or neighbour for
// a VPC or simulated public address because of cloudbox.
func hostNetwork(t *testing.T) map[string]bool {
	t.Helper()
	seen := map[string]bool{}
	for _, args := range [][]string{{"-4", "route", "show", "table", "all"}, {"-4", "addr"}, {"-4", "neigh"}, {"-4", "rule"}} {
		out, err := exec.Command("ip", args...).Output()
		if err != nil {
			t.Skipf("ip %v: %v", args, err)
		}
		for line := range strings.Lines(string(out)) {
			seen[strings.TrimSpace(line)] = true
		}
	}
	return seen
}

func checkHostUnchanged(t *testing.T, before, after map[string]bool) {
	t.Helper()
	for line := range after {
		if before[line] {
			continue
		}
		for _, bad := range []string{"10.0.", "10.1.", "198.18.", "169.254.169.254"} {
			if strings.Contains(line, bad) {
				t.Errorf("the host gained %q", line)
			}
		}
	}
}

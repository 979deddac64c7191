package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cloudbox/cloudbox/controllers"
)

const dpTransfer = 1 << 30 // bytes per throughput run

// receiverScript accepts one connection on argv[1], reads it to its end
// into a 1 MiB buffer, answers "ok" (so the sender knows every byte
// arrived) and prints "<bytes> <seconds from accept to end>".
const receiverScript = `
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1])))
s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
buf, n, t0 = bytearray(1 << 20), 0, time.monotonic()
while True:
    k = c.recv_into(buf)
    if not k:
        break
    n += k
dt = time.monotonic() - t0
c.sendall(b"ok")
c.close()
print(n, dt, flush=True)
`

// senderScript sends argv[3] bytes to argv[1]:argv[2] in 64 KiB writes of
// one buffer, so Python does no per-byte work, and waits for the "ok".
const senderScript = `
import socket, sys
c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
buf, left = b"\0" * 65536, int(sys.argv[3])
while left > 0:
    c.sendall(buf if left >= len(buf) else buf[:left])
    left -= len(buf)
c.shutdown(socket.SHUT_WR)
assert c.recv(2) == b"ok"
`

// A tcpPath is a sender and a receiver that can reach each other: argv
// wraps a command to run on either side.
type tcpPath struct {
	name         string
	send, recv   func(ctx context.Context, argv ...string) *exec.Cmd
	receiverAddr string
	port         int
}

func benchDataplaneThroughput(ctx context.Context, r *runner) (section, error) {
	const title = "Data plane: TCP throughput across the VPC router"
	if err := controllers.Check(); err != nil {
		return skipped(title, err), nil
	}
	runs := 5
	if dpQuick() {
		runs = 3
	}
	s := section{
		title: title,
		method: fmt.Sprintf("One TCP connection carries %d MiB from a Python sender (`sendall` of one 64 KiB buffer in a loop) to a Python "+
			"receiver (`recv_into` a 1 MiB buffer); the receiver times from accept to the sender's end of stream. **cloudbox**: two c5.large "+
			"instances (2 vCPUs each) in two subnets of one VPC, so every packet crosses the VPC's router namespace (proxy ARP, policy "+
			"routing, nftables security groups with conntrack, network ACL chains), the receiver's group allowing the port from the VPC "+
			"CIDR. **direct veth**: the same two scripts in two bare network namespaces joined by one veth pair (with the MTU of the "+
			"instances' eth0), no rules, no cgroup limits: the machine's own kernel path. %d runs each, interleaved; MB are 10^6 bytes.",
			dpTransfer>>20, runs),
		table: table{header: []string{"Path", "p50", "min", "max", "Runs"}},
	}

	c, err := startDataplane(ctx, r)
	if err != nil {
		return s, err
	}
	cleanup := func() error { return nil }
	mbps, err := func() ([2][]float64, error) {
		var mbps [2][]float64
		router, mtu, err := routerPath(ctx, c)
		if err != nil {
			return mbps, err
		}
		var direct tcpPath
		direct, cleanup, err = directPath(ctx, mtu)
		if err != nil {
			return mbps, err
		}
		for i := range runs {
			for j, p := range []tcpPath{router, direct} {
				r.logf("  %s (%d/%d)", p.name, i+1, runs)
				v, err := transfer(ctx, p, dpTransfer)
				if err != nil {
					return mbps, fmt.Errorf("%s: %w", p.name, err)
				}
				mbps[j] = append(mbps[j], v)
			}
		}
		return mbps, nil
	}()
	if err = errors.Join(err, c.close(), cleanup()); err != nil {
		return s, err
	}
	var p50 [2]float64
	for j, name := range []string{"cloudbox (VPC router)", "direct veth pair"} {
		p50[j] = medianOf(mbps[j])
		s.table.rows = append(s.table.rows, []string{name, mbs(p50[j]), mbs(mbps[j][0]), mbs(mbps[j][len(mbps[j])-1]), strconv.Itoa(len(mbps[j]))})
	}
	s.notes = append(s.notes, fmt.Sprintf("Throughput through cloudbox's router is **%.2f** of the direct veth pair's (median %s vs %s).",
		p50[0]/p50[1], mbs(p50[0]), mbs(p50[1])))
	return s, nil
}

func mbs(v float64) string { return fmt.Sprintf("%.0f MB/s", v) }

// routerPath launches the two instances of the cloudbox path and returns
// it with the MTU of the sender's eth0.
func routerPath(ctx context.Context, c *dpCloud) (tcpPath, int, error) {
	var ids, ips []string
	for _, subnet := range []string{c.subnetA, c.subnetB} {
		out, _, err := c.launch(ctx, subnet, types.InstanceTypeC5Large, 1, "")
		if err != nil {
			return tcpPath{}, 0, err
		}
		ids = append(ids, aws.ToString(out.Instances[0].InstanceId))
		ips = append(ips, aws.ToString(out.Instances[0].PrivateIpAddress))
	}
	if _, err := c.waitRunning(ctx, ids, 30*time.Second); err != nil {
		return tcpPath{}, 0, err
	}
	out, err := c.exec(ctx, ids[0], "cat", "/sys/class/net/eth0/mtu").Output()
	if err != nil {
		return tcpPath{}, 0, fmt.Errorf("MTU of %s: %w", ids[0], err)
	}
	mtu, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		return tcpPath{}, 0, fmt.Errorf("MTU of %s: %q", ids[0], out)
	}
	in := func(id string) func(context.Context, ...string) *exec.Cmd {
		return func(ctx context.Context, argv ...string) *exec.Cmd { return c.exec(ctx, id, argv...) }
	}
	return tcpPath{name: "cloudbox (VPC router)", send: in(ids[0]), recv: in(ids[1]), receiverAddr: ips[1], port: dpTCPPort}, mtu, nil
}

// directPath makes two namespaces joined by a veth pair of the given MTU. Everything is
// created inside the namespaces (the veth inside the sender's, its peer
// moved straight into the receiver's), never in the host's; cleanup
// deletes both namespaces by name, which deletes the veth pair too.
func directPath(ctx context.Context, mtu int) (tcpPath, func() error, error) {
	b := make([]byte, 4)
	rand.Read(b)
	tx, rx := "cbbench-"+hex.EncodeToString(b)+"-tx", "cbbench-"+hex.EncodeToString(b)+"-rx"
	var made []string
	cleanup := func() error {
		var errs []error
		for _, ns := range made {
			if out, err := exec.Command("ip", "netns", "delete", ns).CombinedOutput(); err != nil {
				errs = append(errs, fmt.Errorf("ip netns delete %s: %w: %s", ns, err, out))
			}
		}
		return errors.Join(errs...)
	}
	ip := func(args ...string) error {
		if out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput(); err != nil {
			return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, out)
		}
		return nil
	}
	for _, ns := range []string{tx, rx} {
		if err := ip("netns", "add", ns); err != nil {
			return tcpPath{}, cleanup, err
		}
		made = append(made, ns)
	}
	// TEST-NET-1 addresses: neither a VPC range nor the simulated internet.
	for _, args := range [][]string{
		{"-n", tx, "link", "add", "v-tx", "type", "veth", "peer", "name", "v-rx", "netns", rx},
		{"-n", tx, "addr", "add", "192.0.2.1/24", "dev", "v-tx"},
		{"-n", rx, "addr", "add", "192.0.2.2/24", "dev", "v-rx"},
		{"-n", tx, "link", "set", "v-tx", "mtu", strconv.Itoa(mtu), "up"},
		{"-n", rx, "link", "set", "v-rx", "mtu", strconv.Itoa(mtu), "up"},
		{"-n", tx, "link", "set", "lo", "up"},
		{"-n", rx, "link", "set", "lo", "up"},
	} {
		if err := ip(args...); err != nil {
			return tcpPath{}, cleanup, err
		}
	}
	in := func(ns string) func(context.Context, ...string) *exec.Cmd {
		return func(ctx context.Context, argv ...string) *exec.Cmd {
			return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", ns}, argv...)...)
		}
	}
	return tcpPath{name: "direct veth pair", send: in(tx), recv: in(rx), receiverAddr: "192.0.2.2", port: dpTCPPort}, cleanup, nil
}

// transfer runs one receiver and one sender on p, sends size bytes, and
// returns MB/s.
func transfer(ctx context.Context, p tcpPath, size int64) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	port := strconv.Itoa(p.port)
	recv := p.recv(ctx, dpPython, "-c", receiverScript, port)
	stdout, err := recv.StdoutPipe()
	if err != nil {
		return 0, err
	}
	var stderr strings.Builder
	recv.Stderr = &stderr
	if err := recv.Start(); err != nil {
		return 0, err
	}
	lines := bufio.NewScanner(stdout)
	result := func() (float64, error) {
		if !lines.Scan() || lines.Text() != "listening" {
			return 0, fmt.Errorf("receiver did not start: %q", lines.Text())
		}
		if out, err := p.send(ctx, dpPython, "-c", senderScript, p.receiverAddr, port, strconv.FormatInt(size, 10)).CombinedOutput(); err != nil {
			return 0, fmt.Errorf("sender: %w: %s", err, out)
		}
		if !lines.Scan() {
			return 0, errors.New("receiver printed no result")
		}
		var n int64
		var secs float64
		if _, err := fmt.Sscan(lines.Text(), &n, &secs); err != nil || n != size || secs <= 0 {
			return 0, fmt.Errorf("receiver: %q (%v)", lines.Text(), err)
		}
		return float64(n) / 1e6 / secs, nil
	}
	v, err := result()
	if err != nil {
		recv.Process.Kill()
	}
	if werr := recv.Wait(); err == nil && werr != nil {
		err = fmt.Errorf("receiver: %w", werr)
	}
	if err != nil {
		return 0, fmt.Errorf("%w %s", err, stderr.String())
	}
	return v, nil
}

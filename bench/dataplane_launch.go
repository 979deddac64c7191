package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cloudbox/cloudbox/controllers"
)

const dpBatch = 50 // instances of the batch launch, in one RunInstances

// dpWebUserData starts the web server whose first answer ends the timing.
var dpWebUserData = fmt.Sprintf(`#!/bin/sh
mkdir -p /srv/www && cd /srv/www && nohup python3 -m http.server %d >/dev/null 2>&1 &
`, dpWebPort)

// proberScript runs inside the probe instance. It reads target IPs from
// stdin, one a line, then polls each one's web server about every 10 ms
// (non-blocking connect, GET, status line), all from one thread so that
// the prober itself takes little CPU, until it answers 200, and prints
// "<ip> <time.time_ns()>". Instances share the host's clock, so the bench
// can subtract its own time of the RunInstances call. A connect gives up
// after 100 ms (or the third argument, in seconds): a SYN the router drops
// (no route to the address yet) would otherwise wait a full second for its
// retransmission.
const proberScript = `
import errno, selectors, socket, sys, time
port, limit = int(sys.argv[1]), time.time() + float(sys.argv[2])
ctimeout = float(sys.argv[3]) if len(sys.argv) > 3 else 0.1
sel = selectors.DefaultSelector()
due = {}       # ip -> when to try again
inflight = {}  # socket -> [ip, deadline, request sent]
def retry(s):
    ip = inflight.pop(s)[0]
    sel.unregister(s)
    s.close()
    due[ip] = time.monotonic() + 0.01
print("ready", flush=True)
for l in sys.stdin:
    if l.strip():
        due[l.strip()] = 0
while (due or inflight) and time.time() < limit:
    now = time.monotonic()
    for ip, at in list(due.items()):
        if at <= now:
            del due[ip]
            s = socket.socket()
            s.setblocking(False)
            e = s.connect_ex((ip, port))
            inflight[s] = [ip, now + ctimeout, False]
            sel.register(s, selectors.EVENT_WRITE)
            if e not in (0, errno.EINPROGRESS):
                retry(s)
    for key, _ in sel.select(0.002):
        s = key.fileobj
        ip, _, sent = inflight[s]
        try:
            if not sent:
                if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    raise OSError
                s.send(b"GET / HTTP/1.0\r\n\r\n")
                inflight[s] = [ip, time.monotonic() + 2, True]
                sel.modify(s, selectors.EVENT_READ)
                continue
            line = s.recv(64).split()
            if len(line) < 2 or line[1] != b"200":
                raise OSError
            print(ip, time.time_ns(), flush=True)
            inflight.pop(s)
            sel.unregister(s)
            s.close()
        except OSError:
            retry(s)
    now = time.monotonic()
    for s, (_, deadline, _) in list(inflight.items()):
        if deadline < now:
            retry(s)
for ip in list(due) + [v[0] for v in inflight.values()]:
    print(ip, "timeout", flush=True)
`

// launchTimes are one launch's instances: from the start of the
// RunInstances call to the call's return, to the instance first seen
// running, and to its web server's first answer.
type launchTimes struct {
	api     []time.Duration // one per RunInstances call
	running []time.Duration
	serving []time.Duration
	split   []time.Duration // serving - running, per instance
}

func benchDataplaneLaunch(ctx context.Context, r *runner) (section, error) {
	const title = "Data plane: launch to serving"
	if err := controllers.Check(); err != nil {
		return skipped(title, err), nil
	}
	singles := 5
	if dpQuick() {
		singles = 3
	}
	s := section{
		title: title,
		method: fmt.Sprintf("cloudbox runs with `--dataplane on --ephemeral`; one VPC %s with subnets %s (probe) and %s (web servers) "+
			"and a security group allowing TCP %d from the VPC. Each instance (t2.micro) has user data starting `python3 -m http.server %d`. "+
			"A probe instance (c5.large) in the other subnet runs a Python prober (`cloudbox exec`) that polls every target's private IP:%d "+
			"about every 10 ms (one thread, non-blocking sockets) through the VPC router, and notes when each first answers a GET with 200. "+
			"Times are from the start of the RunInstances call (aws-sdk-go-v2) to: the call's return; the instance first seen `running` by "+
			"DescribeInstances polled every 20 ms; the first 200. \"running → serving\" is the difference per instance (the user data's "+
			"Python start, within the 20 ms of the state polling). One instance is launched %d times (one RunInstances each, the earlier "+
			"ones left running); then %d instances in one RunInstances call. Percentiles are nearest-rank.",
			dpVPC, dpSubnetA, dpSubnetB, dpWebPort, dpWebPort, dpWebPort, singles, dpBatch),
		table: table{header: []string{"Launch", "Instances", "RunInstances call (p50)", "p50 to running", "p50 running → serving",
			"p50 to serving", "p90 to serving", "max to serving (all)"}},
	}
	pyCPU, err := pythonStartCPU(ctx)
	if err != nil {
		return s, err
	}
	c, err := startDataplane(ctx, r)
	if err != nil {
		return s, err
	}
	res, err := runLaunches(ctx, c, singles)
	if cerr := c.close(); err == nil {
		err = cerr
	}
	if err != nil {
		return s, err
	}
	one, batch := res[0], res[1]
	s.table.rows = append(s.table.rows,
		launchRow(fmt.Sprintf("1 instance, %d launches", singles), one),
		launchRow(fmt.Sprintf("%d in one call", dpBatch), batch))
	s.notes = append(s.notes,
		fmt.Sprintf("Launch to serving, p50: **%s** for one instance, **%s** for %d launched together (all %d serving after %s).",
			ms(percentile(sorted(one.serving), 50)), ms(percentile(sorted(batch.serving), 50)), dpBatch, dpBatch, ms(percentile(sorted(batch.serving), 100))),
		fmt.Sprintf("Split for one instance (p50): RunInstances → running %s, running → serving %s. For the batch: %s and %s.",
			ms(percentile(sorted(one.running), 50)), ms(percentile(sorted(one.split), 50)),
			ms(percentile(sorted(batch.running), 50)), ms(percentile(sorted(batch.split), 50))))
	s.notes = append(s.notes, fmt.Sprintf("One start of Python's http.server costs %s of CPU on this machine (host, best of 3), so %d of them "+
		"need at least %s of the %d cores' time, which the instances, the daemon and the prober share.",
		ms(pyCPU), dpBatch, ms(pyCPU*dpBatch/time.Duration(runtime.NumCPU())), runtime.NumCPU()))
	return s, nil
}

// pythonStartCPU is the CPU time (user + system) of starting Python's
// http.server on the host, up to its listening socket: best of 3.
func pythonStartCPU(ctx context.Context) (time.Duration, error) {
	const script = "import http.server; http.server.ThreadingHTTPServer(('127.0.0.1', 0), http.server.SimpleHTTPRequestHandler)"
	var best time.Duration
	for i := range 3 {
		cmd := exec.CommandContext(ctx, dpPython, "-c", script)
		if out, err := cmd.CombinedOutput(); err != nil {
			return 0, fmt.Errorf("%s: %w: %s", dpPython, err, out)
		}
		if cpu := cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(); i == 0 || cpu < best {
			best = cpu
		}
	}
	return best, nil
}

func launchRow(name string, t launchTimes) []string {
	sv := sorted(t.serving)
	return []string{name, strconv.Itoa(len(t.serving)), ms(percentile(sorted(t.api), 50)), ms(percentile(sorted(t.running), 50)),
		ms(percentile(sorted(t.split), 50)), ms(percentile(sv, 50)), ms(percentile(sv, 90)), ms(percentile(sv, 100))}
}

// runLaunches measures singles launches of one instance, merged, and then
// one batch launch.
func runLaunches(ctx context.Context, c *dpCloud, singles int) ([2]launchTimes, error) {
	var res [2]launchTimes
	out, _, err := c.launch(ctx, c.subnetA, types.InstanceTypeC5Large, 1, "")
	if err != nil {
		return res, err
	}
	probe := aws.ToString(out.Instances[0].InstanceId)
	if _, err := c.waitRunning(ctx, []string{probe}, 30*time.Second); err != nil {
		return res, err
	}
	for i := range singles {
		c.r.logf("  launch of 1 (%d/%d)", i+1, singles)
		t, err := launchToServing(ctx, c, probe, 1)
		if err != nil {
			return res, err
		}
		res[0].api = append(res[0].api, t.api...)
		res[0].running = append(res[0].running, t.running...)
		res[0].serving = append(res[0].serving, t.serving...)
		res[0].split = append(res[0].split, t.split...)
	}
	c.r.logf("  launch of %d", dpBatch)
	res[1], err = launchToServing(ctx, c, probe, dpBatch)
	return res, err
}

// launchToServing starts the prober in probe, launches n web servers in one
// RunInstances call, and times each until it is running and serving.
func launchToServing(ctx context.Context, c *dpCloud, probe string, n int) (t launchTimes, err error) {
	const within = 60 * time.Second
	ctx, cancel := context.WithTimeout(ctx, within+30*time.Second)
	defer cancel()
	cmd := c.exec(ctx, probe, dpPython, "-c", proberScript, strconv.Itoa(dpWebPort), strconv.Itoa(int(within.Seconds())))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return t, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return t, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return t, err
	}
	defer func() {
		stdin.Close()
		if err != nil {
			cmd.Process.Kill() // the daemon's down ends the prober itself
		}
		cmd.Wait()
		if err != nil && stderr.Len() > 0 {
			err = fmt.Errorf("%w; prober stderr: %s", err, stderr.String())
		}
	}()
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		return t, fmt.Errorf("prober in %s did not start: %q", probe, lines.Text())
	}

	t0 := time.Now()
	out, api, err := c.launch(ctx, c.subnetB, types.InstanceTypeT2Micro, n, dpWebUserData)
	if err != nil {
		return t, err
	}
	t.api = []time.Duration{api}
	ids := make([]string, n)
	byIP := map[string]string{}
	for i, inst := range out.Instances {
		ids[i] = aws.ToString(inst.InstanceId)
		byIP[aws.ToString(inst.PrivateIpAddress)] = ids[i]
		if _, err := io.WriteString(stdin, aws.ToString(inst.PrivateIpAddress)+"\n"); err != nil {
			return t, fmt.Errorf("prober: %w", err)
		}
	}
	stdin.Close()

	type seen struct {
		at  map[string]time.Time
		err error
	}
	runningc := make(chan seen, 1)
	go func() {
		at, err := c.waitRunning(ctx, ids, within)
		runningc <- seen{at, err}
	}()
	serving := map[string]time.Time{}
	for lines.Scan() {
		ip, val, _ := strings.Cut(lines.Text(), " ")
		if val == "timeout" {
			return t, fmt.Errorf("the web server of %s (%s) did not answer within %s; console:\n%s", byIP[ip], ip, within, c.console(ctx, byIP[ip]))
		}
		ns, err := strconv.ParseInt(val, 10, 64)
		if err != nil || byIP[ip] == "" {
			return t, fmt.Errorf("prober: %q", lines.Text())
		}
		serving[byIP[ip]] = time.Unix(0, ns)
	}
	running := <-runningc
	if running.err != nil {
		return t, running.err
	}
	if len(serving) != n {
		return t, fmt.Errorf("%d of %d web servers answered within %s", len(serving), n, within)
	}
	for _, id := range ids {
		t.running = append(t.running, running.at[id].Sub(t0))
		t.serving = append(t.serving, serving[id].Sub(t0))
		t.split = append(t.split, serving[id].Sub(running.at[id]))
	}
	return t, nil
}

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// A target is a server under test.
type target struct {
	name string
	// args is the command line that serves on addr (127.0.0.1:port).
	args func(addr string) []string
}

// A proc is a running target, started in its own process group so that it
// and anything it forks can be stopped (and measured) together.
type proc struct {
	name     string
	endpoint string // http://127.0.0.1:port
	pid      int
	ready    time.Duration // from exec to the first successful GetCallerIdentity
	logPath  string
	exited   chan struct{} // closed when the process has been reaped
	stopOnce sync.Once
}

// start execs t on a free loopback port and waits until it answers a signed
// GetCallerIdentity. The proc is registered with r before it is started, so
// r.stopAll stops it even if this or a later step fails.
func (r *runner) start(ctx context.Context, t target) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	r.mu.Lock()
	r.seq++
	logPath := filepath.Join(r.tmp, fmt.Sprintf("%03d-%s.log", r.seq, slug(t.name)))
	r.mu.Unlock()
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own copy of the descriptor

	args := t.args(addr)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	// Setpgid: kill(-pid) reaches forked children too. Pdeathsig: the
	// kernel kills the server should this program die without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}

	p := &proc{name: t.name, endpoint: "http://" + addr, logPath: logPath, exited: make(chan struct{})}
	begin := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", t.name, err)
	}
	p.pid = cmd.Process.Pid
	r.track(p)
	go func() { cmd.Wait(); close(p.exited) }()

	if err := p.waitReady(ctx, begin); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// waitReady polls every 2 ms with the same signed request the load uses, so
// "ready" means able to serve STS, not merely listening.
func (p *proc) waitReady(ctx context.Context, begin time.Time) error {
	c := newCaller(p.endpoint, 1, stsCall)
	c.client.Timeout = time.Second
	defer c.close()
	deadline := time.After(60 * time.Second)
	for {
		if err := c.call(ctx); err == nil {
			p.ready = time.Since(begin)
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before answering; log:\n%s", p.name, tail(p.logPath))
		case <-deadline:
			return fmt.Errorf("%s did not answer within 60 s; log:\n%s", p.name, tail(p.logPath))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// stop terminates the process group, politely first, and reaps the process.
// It is safe to call more than once.
func (p *proc) stop() {
	p.stopOnce.Do(func() {
		syscall.Kill(-p.pid, syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(3 * time.Second):
			syscall.Kill(-p.pid, syscall.SIGKILL)
			<-p.exited
		}
		// The leader is reaped; make sure nothing it forked lingers.
		syscall.Kill(-p.pid, syscall.SIGKILL)
	})
}

// rss is the resident memory of p's whole process group, in bytes, so a
// server that forks workers is charged for them too.
func (p *proc) rss() (int64, int, error) {
	pids, err := processGroup(p.pid)
	if err != nil {
		return 0, 0, err
	}
	var total int64
	for _, pid := range pids {
		kb, err := vmRSS(pid)
		if err != nil {
			continue // exited meanwhile
		}
		total += kb * 1024
	}
	if total == 0 {
		return 0, 0, fmt.Errorf("no VmRSS for process group %d", p.pid)
	}
	return total, len(pids), nil
}

// processGroup lists the live processes whose process group is pgid.
// (/proc/PID/task/TID/children is not available on every kernel.)
func processGroup(pgid int) ([]int, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// Fields after the parenthesised command name: state ppid pgrp ...
		i := bytes.LastIndexByte(stat, ')')
		f := strings.Fields(string(stat[i+1:]))
		if len(f) > 2 && f[2] == strconv.Itoa(pgid) && f[0] != "Z" {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// vmRSS reads VmRSS (in kB) from /proc/PID/status.
func vmRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmRSS line")
}

// freePort asks the kernel for a free loopback port. Another process could
// take it before the server binds; the server then exits and start says so.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func tail(path string) string {
	b, _ := os.ReadFile(path)
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

func slug(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '-'
	}, strings.ToLower(s))
}

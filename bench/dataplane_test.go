package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func needPython(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(dpPython); err != nil {
		t.Skipf("%s: %v", dpPython, err)
	}
}

// startProber runs proberScript on the host (loopback only) and returns
// its output once it is ready, with its stdin for targets.
func startProber(t *testing.T, port int, limit string) (io.WriteCloser, *bufio.Scanner, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(dpPython, "-c", proberScript, strconv.Itoa(port), limit)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() || lines.Text() != "ready" {
		t.Fatalf("prober: first line %q", lines.Text())
	}
	return stdin, lines, cmd
}

func TestProberNotesFirstAnswer(t *testing.T) {
	needPython(t)
	// A server that answers 503 first, as if not ready, then 200: the
	// prober must report the 200 only.
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) < 3 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	stdin, lines, cmd := startProber(t, port, "10")
	before := time.Now()
	io.WriteString(stdin, "127.0.0.1\n")
	stdin.Close()
	if !lines.Scan() {
		t.Fatal("prober printed nothing")
	}
	ip, ns, _ := strings.Cut(lines.Text(), " ")
	n, err := strconv.ParseInt(ns, 10, 64)
	if ip != "127.0.0.1" || err != nil {
		t.Fatalf("prober line %q", lines.Text())
	}
	if at := time.Unix(0, n); at.Before(before) || time.Since(at) > 5*time.Second {
		t.Errorf("answer at %v, probing began %v", at, before)
	}
	if n := calls.Load(); n < 3 {
		t.Errorf("reported after %d requests; the first two were 503", n)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("prober exit: %v", err)
	}
}

func TestProberTimesOut(t *testing.T) {
	needPython(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens: every connect is refused

	stdin, lines, _ := startProber(t, port, "0.3")
	io.WriteString(stdin, "127.0.0.1\n")
	stdin.Close()
	if !lines.Scan() || lines.Text() != "127.0.0.1 timeout" {
		t.Errorf("prober line %q, want a timeout", lines.Text())
	}
}

func TestTransferOnLoopback(t *testing.T) {
	needPython(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	host := func(ctx context.Context, argv ...string) *exec.Cmd {
		return exec.CommandContext(ctx, argv[0], argv[1:]...)
	}
	p := tcpPath{name: "loopback", send: host, recv: host, receiverAddr: "127.0.0.1", port: port}
	mbps, err := transfer(context.Background(), p, 8<<20+123) // not a multiple of the 64 KiB buffer
	if err != nil {
		t.Fatal(err)
	}
	if mbps <= 0 {
		t.Errorf("throughput %v MB/s", mbps)
	}

	// A sender that cannot connect fails the transfer instead of hanging.
	p.receiverAddr = "127.0.0.2"
	p.recv = func(ctx context.Context, argv ...string) *exec.Cmd {
		return exec.CommandContext(ctx, dpPython, "-c", `print("listening", flush=True); import time; time.sleep(30)`)
	}
	if _, err := transfer(context.Background(), p, 1<<20); err == nil {
		t.Error("transfer without a receiver succeeded")
	}
}

func TestStatValue(t *testing.T) {
	stat := "cache 184320\nrss 9863168\ntotal_rss 9871360\n"
	if v, err := statValue(stat, "rss"); err != nil || v != 9863168 {
		t.Errorf("rss = %d, %v", v, err)
	}
	if v, err := statValue(stat, "total_rss"); err != nil || v != 9871360 {
		t.Errorf("total_rss = %d, %v", v, err)
	}
	if _, err := statValue(stat, "anon"); err == nil {
		t.Error("anon found in a v1 memory.stat")
	}
}

func TestSkippedSectionRendersWithoutTable(t *testing.T) {
	s := skipped("Data plane: launch to serving", errors.New("needs root"))
	text := report{sections: []section{s}}.render()
	if !strings.Contains(text, "## Data plane: launch to serving\n\n**Skipped**") || !strings.Contains(text, "needs root") {
		t.Errorf("skipped section:\n%s", text)
	}
	if strings.Contains(text[strings.Index(text, "## Data plane"):], "|") {
		t.Errorf("a skipped section has a table:\n%s", text)
	}
}

func TestMedianOf(t *testing.T) {
	if got := medianOf([]float64{5, 1, 3, 2}); got != 2 {
		t.Errorf("median of 1,2,3,5 = %v, want the lower middle 2", got)
	}
	if got := medianOf(nil); got != 0 {
		t.Errorf("median of nothing = %v", got)
	}
}

package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const wrkReport = `Running 4s test @ http://10.77.1.5:8080/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.10ms    2.01ms  41.22ms   91.05%
    Req/Sec    30.12k     2.01k   35.00k    70.00%
  Latency Distribution
     50%  533.00us
     75%    1.00ms
     90%    2.50ms
     99%    8.01ms
  240984 requests in 4.00s, 35.20MB read
  Socket errors: connect 1, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 4
Requests/sec:  60246.12
Transfer/sec:      8.80MB
`

func TestParseWrk(t *testing.T) {
	got, err := parseWrk(wrkReport)
	if err != nil {
		t.Fatal(err)
	}
	want := wrkResult{rps: 60246.12, p50: 533 * time.Microsecond, p99: 8010 * time.Microsecond, requests: 240984, errors: 10}
	if got != want {
		t.Errorf("parseWrk = %+v, want %+v", got, want)
	}
}

func TestParseWrkRejectsIncompleteOutput(t *testing.T) {
	for name, out := range map[string]string{
		"no latency distribution": strings.ReplaceAll(wrkReport, "99%", "98%"),
		"no requests":             strings.ReplaceAll(wrkReport, "240984 requests", "0 requests"),
		"an error message":        "unable to connect to 10.77.1.5:8080 Connection refused\n",
	} {
		if _, err := parseWrk(out); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func needWrk(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(albWrk); err != nil {
		t.Skipf("%s: %v", albWrk, err)
	}
}

// TestPacedWrkOnLoopback runs the real wrk with the pacing script against
// a loopback server: the report parses, and the pause bounds the rate.
func TestPacedWrkOnLoopback(t *testing.T) {
	needWrk(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(albTargetMsg)) }))
	defer srv.Close()
	script := filepath.Join(t.TempDir(), "pace.lua")
	if err := os.WriteFile(script, []byte(paceLua(10)), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, albWrk, "-t1", "-c2", "-d1s", "--latency", "-s", script, srv.URL+"/").CombinedOutput()
	if err != nil {
		t.Fatalf("wrk: %v: %s", err, out)
	}
	res, err := parseWrk(string(out))
	if err != nil {
		t.Fatal(err)
	}
	// Two connections pausing 10 ms after each answer: at most 200 req/s.
	if res.rps <= 0 || res.rps > 210 || res.errors != 0 {
		t.Errorf("paced wrk: %+v, want 0 < req/s <= 200 and no errors:\n%s", res, out)
	}
	if res.p50 <= 0 || res.p99 < res.p50 || res.p99 > 10*time.Millisecond {
		t.Errorf("paced wrk latencies p50 %v p99 %v: the pause must not count as latency", res.p50, res.p99)
	}
}

// TestNginxConfsAreValid has nginx check both configurations (nginx -t
// parses and opens files but starts no server), with /tmp/nginx moved to a
// test directory.
func TestNginxConfsAreValid(t *testing.T) {
	if _, err := os.Stat(albNginx); err != nil {
		t.Skipf("%s: %v", albNginx, err)
	}
	for name, conf := range map[string]string{
		"target": targetConf(dpWebPort),
		"proxy":  proxyConf(albPort, []string{"192.0.2.1:8080", "192.0.2.2:8080"}),
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(path, []byte(strings.ReplaceAll(conf, "/tmp/nginx", dir)), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(albNginx, "-t", "-p", dir, "-c", path).CombinedOutput(); err != nil {
			t.Errorf("%s: nginx -t: %v: %s\n%s", name, err, out, conf)
		}
	}
}

func TestNginxUserDataKeepsConfVerbatim(t *testing.T) {
	conf := proxyConf(albPort, []string{"10.77.1.5:8080"})
	ud := nginxUserData(conf)
	if !strings.HasPrefix(ud, "#!/bin/sh\n") || !strings.Contains(ud, "<<'EOF'\n"+conf+"EOF\n") {
		t.Errorf("user data does not write the configuration verbatim:\n%s", ud)
	}
	if !strings.Contains(ud, albNginx+" -c /tmp/nginx.conf -g 'daemon off;'") {
		t.Errorf("user data does not start nginx in the foreground of a job:\n%s", ud)
	}
}

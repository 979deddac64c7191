package main

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The load-balancer bench drives Debian's wrk against nginx servers that
// run inside instances, which install both with yum from the simulated
// internet's mirror, as user data would; the host's own copies serve this
// package's tests of the configurations.
const (
	albNginx     = "/usr/sbin/nginx"
	albWrk       = "/usr/bin/wrk"
	albTargetMsg = "ok"
)

func tail1k(b []byte) string {
	if len(b) > 1024 {
		b = b[len(b)-1024:]
	}
	return strings.TrimSpace(string(b))
}

// nginxConf is a whole nginx configuration around the given http-level
// directives: everything nginx writes is under /tmp/nginx inside the
// instance, access logs are off (an ALB logs nothing by default either),
// and a connection serves any number of requests, as the ALB's does, so
// that wrk never reconnects on one path only.
func nginxConf(http string) string {
	return `worker_processes auto;
pid /tmp/nginx/nginx.pid;
error_log /tmp/nginx/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	keepalive_requests 100000000;
	keepalive_timeout 300s;
	client_body_temp_path /tmp/nginx/body;
	proxy_temp_path /tmp/nginx/proxy;
	fastcgi_temp_path /tmp/nginx/fastcgi;
	uwsgi_temp_path /tmp/nginx/uwsgi;
	scgi_temp_path /tmp/nginx/scgi;
` + http + "}\n"
}

// targetConf answers every request on port with a fixed 200 "ok".
func targetConf(port int) string {
	return nginxConf(fmt.Sprintf(`	server {
		listen %d;
		location / { default_type text/plain; return 200 %q; }
	}
`, port, albTargetMsg+"\n"))
}

// proxyConf forwards port to the upstreams round-robin over kept-alive
// HTTP/1.1 connections, as the ALB does.
func proxyConf(port int, upstreams []string) string {
	var b strings.Builder
	b.WriteString("\tupstream targets {\n")
	for _, u := range upstreams {
		fmt.Fprintf(&b, "\t\tserver %s;\n", u)
	}
	b.WriteString("\t\tkeepalive 128;\n\t\tkeepalive_requests 100000000;\n\t}\n")
	fmt.Fprintf(&b, `	server {
		listen %d;
		location / {
			proxy_pass http://targets;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
		}
	}
`, port)
	return nginxConf(b.String())
}

// nginxUserData starts nginx with conf in the foreground of a background
// shell job at first boot.
func nginxUserData(conf string) string {
	return fmt.Sprintf(`#!/bin/sh
yum install -y nginx >/var/log/install.log 2>&1
mkdir -p /tmp/nginx
cat > /tmp/nginx.conf <<'EOF'
%sEOF
nohup %s -c /tmp/nginx.conf -g 'daemon off;' >/tmp/nginx/out.log 2>&1 &
`, conf, albNginx)
}

// pacePath is where paceLua(ms) is in the client instance.
func pacePath(ms int) string { return fmt.Sprintf("/tmp/pace-%dms.lua", ms) }

// paceLua makes each wrk connection wait ms milliseconds after every
// response before its next request (wrk's delay hook; the wait is not
// part of the latency), so c connections offer at most c*1000/ms
// requests per second: a bounded load rather than wrk's closed loop.
func paceLua(ms int) string {
	return fmt.Sprintf("function delay()\n\treturn %d\nend\n", ms)
}

// wrkResult is what one wrk --latency run printed.
type wrkResult struct {
	rps      float64
	p50, p99 time.Duration
	requests int
	errors   int // non-2xx/3xx answers plus socket errors
}

// parseWrk reads wrk's --latency report.
func parseWrk(out string) (wrkResult, error) {
	var r wrkResult
	var seen struct{ rps, p50, p99, requests bool }
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 {
			continue
		}
		var err error
		switch {
		case f[0] == "Requests/sec:":
			r.rps, err = strconv.ParseFloat(f[1], 64)
			seen.rps = true
		case f[0] == "50%":
			r.p50, err = time.ParseDuration(f[1]) // wrk's units (us, ms, s, m, h) are Go's
			seen.p50 = true
		case f[0] == "99%":
			r.p99, err = time.ParseDuration(f[1])
			seen.p99 = true
		case len(f) >= 3 && f[1] == "requests" && f[2] == "in":
			r.requests, err = strconv.Atoi(f[0])
			seen.requests = true
		case strings.HasPrefix(sc.Text(), "  Non-2xx or 3xx responses:"):
			var n int
			n, err = strconv.Atoi(f[len(f)-1])
			r.errors += n
		case f[0] == "Socket" && f[1] == "errors:":
			// Socket errors: connect 0, read 0, write 0, timeout 0
			for i := 2; i+1 < len(f); i += 2 {
				var n int
				if n, err = strconv.Atoi(strings.TrimSuffix(f[i+1], ",")); err != nil {
					break
				}
				r.errors += n
			}
		}
		if err != nil {
			return r, fmt.Errorf("wrk output line %q: %w", sc.Text(), err)
		}
	}
	if !seen.rps || !seen.p50 || !seen.p99 || !seen.requests {
		return r, fmt.Errorf("wrk output without Requests/sec, 50%%, 99%% or the request count:\n%s", out)
	}
	if r.requests == 0 {
		return r, fmt.Errorf("wrk made no request:\n%s", out)
	}
	return r, nil
}

// readyScript polls each URL in sys.argv[3:] until it answers 200 with
// the body sys.argv[1], and fails after sys.argv[2] seconds.
const readyScript = `
import sys, time, urllib.request
body, limit = sys.argv[1].encode(), time.time() + float(sys.argv[2])
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
for url in sys.argv[3:]:
    while True:
        try:
            r = opener.open(url, timeout=1)
            got = r.read().strip()
            if r.status == 200 and got == body:
                break
            err = "%d %r" % (r.status, got)
        except Exception as e:
            err = e
        if time.time() > limit:
            sys.exit("%s: %s" % (url, err))
        time.sleep(0.05)
`

// Package e2e drives cloudbox with real AWS clients: the aws CLI v1 and v2,
// boto3 and aws-sdk-go-v2, against the cloudbox binary or an in-process
// daemon.
//
// The harness builds the binary once (TestMain), finds the clients, and
// gives each test its own cloudbox on a free port of 127.0.0.1. Everything
// a test starts is stopped by PID in t.Cleanup and every temporary
// directory is removed.
package e2e

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"

	"github.com/cloudbox/cloudbox/daemon"
)

// Paths found by TestMain. An empty client path means the client is
// missing; the *Why variable says why, for t.Skip.
var (
	cloudboxBin string
	awsV1       string
	awsV1Why    string
	awsV2       string
	awsV2Why    string
	pythonBin   string
	pythonWhy   string
)

// defaultRegion is the region clients use unless a test picks another.
const defaultRegion = "us-east-1"

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	flag.Parse()
	// The tests mostly wait on client processes (Python starts slowly), so
	// run more of them at once than there are CPUs, unless told otherwise.
	explicit := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "test.parallel" {
			explicit = true
		}
	})
	if !explicit {
		flag.Set("test.parallel", "6")
	}

	dir, err := os.MkdirTemp("", "cloudbox-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	cloudboxBin = filepath.Join(dir, "cloudbox")

	var wg sync.WaitGroup
	var buildOut []byte
	var buildErr error
	wg.Add(2)
	go func() {
		defer wg.Done()
		cmd := exec.Command("go", "build", "-o", cloudboxBin, "github.com/cloudbox/cloudbox/cmd/cloudbox")
		buildOut, buildErr = cmd.CombinedOutput()
	}()
	go func() {
		defer wg.Done()
		findClients()
	}()
	wg.Wait()
	if buildErr != nil {
		fmt.Fprintf(os.Stderr, "e2e: building cloudbox: %v\n%s", buildErr, buildOut)
		return 1
	}
	return m.Run()
}

// findClients locates the aws CLI v1 and v2 and a Python with boto3. Pyenv
// shims are resolved to the real programs: a shim costs half a second a run.
func findClients() {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		pythonBin, pythonWhy = "", "python3 with boto3 not found"
		py, err := exec.LookPath("python3")
		if err != nil {
			return
		}
		out, err := exec.Command(py, "-c", "import sys, boto3; print(sys.executable)").Output()
		if err != nil {
			pythonWhy = "python3 cannot import boto3: " + err.Error()
			return
		}
		pythonBin, pythonWhy = strings.TrimSpace(string(out)), ""
		// The CLI v1 lives next to the Python that has botocore, if it is
		// pip-installed there; else whatever `aws` on PATH is.
		candidates := []string{filepath.Join(filepath.Dir(pythonBin), "aws")}
		if p, err := exec.LookPath("aws"); err == nil {
			candidates = append(candidates, p)
		}
		awsV1Why = "aws CLI v1 not found (tried " + strings.Join(candidates, ", ") + ")"
		for _, c := range candidates {
			if v := cliVersion(c); strings.HasPrefix(v, "aws-cli/1.") {
				awsV1, awsV1Why = c, ""
				return
			}
		}
	}()
	go func() {
		defer wg.Done()
		const v2 = "/usr/bin/aws"
		if _, err := os.Stat(v2); err != nil {
			awsV2Why = v2 + " is missing: install Debian's awscli (apt-get install -y awscli) for the aws CLI v2 cases"
			return
		}
		if v := cliVersion(v2); !strings.HasPrefix(v, "aws-cli/2.") {
			awsV2Why = fmt.Sprintf("%s is not the aws CLI v2 (--version says %q)", v2, v)
			return
		}
		awsV2 = v2
	}()
	wg.Wait()
}

func cliVersion(path string) string {
	cmd := exec.Command(path, "--version")
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// ---------------------------------------------------------------------------
// Credentials and accounts

// Creds are what a client signs with.
type Creds struct {
	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string
	Region          string // defaultRegion when empty
}

func (c Creds) region() string {
	if c.Region == "" {
		return defaultRegion
	}
	return c.Region
}

// testCreds is the key pair cloudbox always knows.
var testCreds = Creds{AccessKeyID: "test", SecretAccessKey: "test"}

var accountSeq atomic.Int64

// uniqueAccount returns a fresh 12-digit account id. With --auth off a
// 12-digit access key is taken as the account, so a test that signs with
// uniqueAccount() can find its own requests in a shared daemon's log.
func uniqueAccount() string {
	return fmt.Sprintf("7%05d%06d", os.Getpid()%100000, accountSeq.Add(1))
}

// accountCreds signs as the root of a (new) account.
func accountCreds(account string) Creds {
	return Creds{AccessKeyID: account, SecretAccessKey: "secret-" + account}
}

// Key is an entry of a --keys file.
type Key struct {
	AccessKeyID     string `json:"access_key_id"`
	SecretAccessKey string `json:"secret_access_key"`
	Account         string `json:"account"`
	User            string `json:"user,omitempty"`
}

func (k Key) Creds() Creds {
	return Creds{AccessKeyID: k.AccessKeyID, SecretAccessKey: k.SecretAccessKey}
}

// ---------------------------------------------------------------------------
// Running cloudbox

// Opts configures a cloudbox.
type Opts struct {
	Auth    string // "off" (default) or "strict"
	Keys    []Key  // written to a --keys file
	DataDir string // binary only: persistent store; empty means --ephemeral
	// Dataplane runs the binary with --dataplane on (VPCs and instances for
	// real); otherwise it serves the control plane alone.
	Dataplane bool
	// TimeScale is --time-scale (binary only; 0 leaves AWS's timings).
	TimeScale int
	// IAM is --iam: "off" (default), "enforce" or "audit".
	IAM string
}

// Cloud is a running cloudbox.
type Cloud struct {
	URL  string // http://127.0.0.1:PORT
	Addr string

	logs *syncBuffer // the daemon's JSON log

	// binary only
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error
}

// syncBuffer is an io.Writer safe for a daemon and a test to share.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func writeKeys(t *testing.T, keys []Key) string {
	t.Helper()
	if len(keys) == 0 {
		return ""
	}
	b, err := json.Marshal(keys)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startInProcess runs an ephemeral daemon inside the test process, on a
// listener of its own on 127.0.0.1.
func startInProcess(t *testing.T, o Opts) *Cloud {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &Cloud{Addr: ln.Addr().String(), logs: &syncBuffer{}}
	c.URL = "http://" + c.Addr
	d, err := daemon.New(daemon.Config{
		Listen:    c.Addr,
		Ephemeral: true,
		Auth:      o.Auth,
		IAM:       o.IAM,
		KeysFile:  writeKeys(t, o.Keys),
		Logger:    slog.New(slog.NewJSONHandler(c.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("in-process daemon: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("in-process daemon did not stop within 15s")
		}
	})
	return c
}

// freeAddr returns a 127.0.0.1 address whose port was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// startBinary runs `cloudbox up` and waits until it is healthy. The process
// is killed by PID at the end of the test if it still runs.
func startBinary(t *testing.T, o Opts) *Cloud {
	t.Helper()
	var lastErr error
	for attempt := 0; attempt < 5; attempt++ {
		c, err := launch(t, o, freeAddr(t))
		if err == nil {
			if err = c.waitHealthy(10 * time.Second); err == nil {
				return c
			}
		}
		lastErr = err
		// Another process may have taken the port between freeAddr and the
		// daemon's listen; try another one.
		if c == nil || !strings.Contains(c.Stderr(), "address already in use") {
			break
		}
	}
	t.Fatalf("starting cloudbox: %v", lastErr)
	return nil
}

// launch starts the binary on addr without waiting for it.
func launch(t *testing.T, o Opts, addr string) (*Cloud, error) {
	t.Helper()
	args := []string{"up", "--listen", addr, "--log-level", "debug"}
	if o.DataDir != "" {
		args = append(args, "--data-dir", o.DataDir)
	} else {
		args = append(args, "--ephemeral")
	}
	if o.Auth != "" {
		args = append(args, "--auth", o.Auth)
	}
	if o.TimeScale > 0 {
		args = append(args, "--time-scale", strconv.Itoa(o.TimeScale))
	}
	if o.IAM != "" {
		args = append(args, "--iam", o.IAM)
	}
	if o.Dataplane {
		args = append(args, "--dataplane", "on", "--image-dir", imageDir())
	} else {
		args = append(args, "--dataplane", "off")
	}
	if k := writeKeys(t, o.Keys); k != "" {
		args = append(args, "--keys", k)
	}
	c := &Cloud{Addr: addr, URL: "http://" + addr, logs: &syncBuffer{}, exited: make(chan struct{})}
	c.cmd = exec.Command(cloudboxBin, args...)
	c.cmd.Env = cleanEnv(t.TempDir())
	c.cmd.Stdout = c.logs
	c.cmd.Stderr = c.logs
	if err := c.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		c.waitErr = c.cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-c.exited:
			return
		default:
		}
		c.cmd.Process.Kill() // by PID: exec.Cmd holds the process we started
		select {
		case <-c.exited:
		case <-time.After(10 * time.Second):
			t.Errorf("cloudbox pid %d did not die", c.cmd.Process.Pid)
		}
	})
	return c, nil
}

// imageDir is where the test daemons share their images, built once
// (scripts/test.sh builds them before the tests): $CLOUDBOX_IMAGE_DIR, else
// a cache outside the clone.
func imageDir() string {
	if d := os.Getenv("CLOUDBOX_IMAGE_DIR"); d != "" {
		return d
	}
	return "/var/cache/cloudbox/images"
}

// waitHealthy polls /_cloudbox/health until it answers 200.
func (c *Cloud) waitHealthy(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		if c.exited != nil {
			select {
			case <-c.exited:
				return fmt.Errorf("cloudbox exited (%v) before it was healthy; its output:\n%s", c.waitErr, c.Stderr())
			default:
			}
		}
		resp, err := client.Get(c.URL + "/_cloudbox/health")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("cloudbox at %s not healthy after %v; its output:\n%s", c.URL, timeout, c.Stderr())
}

// Stderr is the daemon's output so far (its JSON log).
func (c *Cloud) Stderr() string { return c.logs.String() }

// signal sends sig to the daemon process and waits for it to exit,
// returning its exit code.
func (c *Cloud) signal(t *testing.T, sig syscall.Signal) int {
	t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v to pid %d: %v", sig, c.cmd.Process.Pid, err)
	}
	select {
	case <-c.exited:
	case <-time.After(15 * time.Second):
		t.Fatalf("cloudbox pid %d did not exit within 15s of %v", c.cmd.Process.Pid, sig)
	}
	return c.cmd.ProcessState.ExitCode()
}

// LogLine is one line of the daemon's JSON log.
type LogLine map[string]any

func (l LogLine) str(k string) string {
	s, _ := l[k].(string)
	return s
}

// Logs parses the daemon's log; lines that are not JSON are skipped.
func (c *Cloud) Logs() []LogLine {
	var out []LogLine
	for _, line := range strings.Split(c.Stderr(), "\n") {
		var l LogLine
		if json.Unmarshal([]byte(line), &l) == nil {
			out = append(out, l)
		}
	}
	return out
}

// RequestLogs returns the per-request log lines matching every key=value.
func (c *Cloud) RequestLogs(match map[string]string) []LogLine {
	var out []LogLine
next:
	for _, l := range c.Logs() {
		if l.str("msg") != "request" {
			continue
		}
		for k, v := range match {
			if fmt.Sprint(l[k]) != v {
				continue next
			}
		}
		out = append(out, l)
	}
	return out
}

// ---------------------------------------------------------------------------
// Child processes: the CLIs, Python, and the cloudbox command itself

// cleanEnv is an environment that carries nothing of the host's AWS setup.
func cleanEnv(home string) []string {
	return []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"LANG=C.UTF-8",
		"AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_PAGER=",
		"AWS_EC2_METADATA_DISABLED=true",
	}
}

// clientEnv is cleanEnv plus the credentials, region and retry policy of a
// client (one attempt: the tests count requests in the daemon's log).
func clientEnv(home string, cr Creds) []string {
	env := append(cleanEnv(home),
		"AWS_ACCESS_KEY_ID="+cr.AccessKeyID,
		"AWS_SECRET_ACCESS_KEY="+cr.SecretAccessKey,
		"AWS_DEFAULT_REGION="+cr.region(),
		"AWS_RETRY_MODE=standard",
		"AWS_MAX_ATTEMPTS=1",
	)
	if cr.SessionToken != "" {
		env = append(env, "AWS_SESSION_TOKEN="+cr.SessionToken)
	}
	return env
}

// Result is what a child process did.
type Result struct {
	Args     []string
	Stdout   string
	Stderr   string
	ExitCode int
	Elapsed  time.Duration
}

func (r Result) String() string {
	return fmt.Sprintf("%s: exit %d\nstdout: %s\nstderr: %s", strings.Join(r.Args, " "), r.ExitCode, r.Stdout, r.Stderr)
}

// run runs a program in dir with exactly env, for at most 90 seconds.
func run(t *testing.T, dir string, env []string, name string, args ...string) Result {
	t.Helper()
	return runFor(t, 90*time.Second, dir, env, name, args...)
}

// runFor is run with another bound.
func runFor(t *testing.T, bound time.Duration, dir string, env []string, name string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	r := Result{Args: append([]string{name}, args...), Stdout: stdout.String(), Stderr: stderr.String(), Elapsed: time.Since(start)}
	var exitErr *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exitErr):
		r.ExitCode = exitErr.ExitCode()
	default:
		t.Fatalf("running %s: %v", name, err)
	}
	if ctx.Err() != nil {
		t.Fatalf("%s timed out:\n%s", name, r)
	}
	return r
}

// CLI is one aws CLI.
type CLI struct {
	Name string // "cli-v1", "cli-v2"
	Path string
	Why  string // why Path is empty
}

// clis lists the aws CLIs; a missing one is listed with Why set, so the test
// can skip it with the reason.
func clis() []CLI {
	return []CLI{{"cli-v1", awsV1, awsV1Why}, {"cli-v2", awsV2, awsV2Why}}
}

func (cli CLI) need(t *testing.T) {
	t.Helper()
	if cli.Path == "" {
		t.Skip(cli.Why)
	}
}

// aws runs `aws --endpoint-url URL --output json ARGS...` signed with cr.
func (c *Cloud) aws(t *testing.T, cli CLI, cr Creds, args ...string) Result {
	t.Helper()
	cli.need(t)
	full := append([]string{"--endpoint-url", c.URL, "--output", "json"}, args...)
	home := t.TempDir()
	// A waiter (`aws rds wait db-instance-available`) polls for as long as
	// its resource takes: a database node's first boot installs its
	// engine, minutes on two loaded cores. The waiter bounds itself.
	if len(args) > 1 && args[1] == "wait" {
		// Some waiters give up sooner (ElastiCache's after 40 polls 15 s
		// apart): one that ran out of attempts is run again, as a user
		// would, within the same 20 minutes.
		deadline := time.Now().Add(20 * time.Minute)
		for {
			r := runFor(t, time.Until(deadline), home, clientEnv(home, cr), cli.Path, full...)
			if r.ExitCode == 0 || !strings.Contains(r.Stderr, "Max attempts exceeded") || time.Until(deadline) < time.Minute {
				return r
			}
			t.Logf("%s: max attempts exceeded after %s; waiting again", strings.Join(args[:min(3, len(args))], " "), r.Elapsed.Round(time.Second))
		}
	}
	return run(t, home, clientEnv(home, cr), cli.Path, full...)
}

// awsOK runs the CLI, requires success and decodes its JSON output.
func (c *Cloud) awsOK(t *testing.T, cli CLI, cr Creds, args ...string) map[string]any {
	t.Helper()
	r := c.aws(t, cli, cr, args...)
	if r.ExitCode != 0 {
		t.Fatalf("%s", r)
	}
	var out map[string]any
	if strings.TrimSpace(r.Stdout) == "" {
		return out
	}
	if err := json.Unmarshal([]byte(r.Stdout), &out); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, r)
	}
	return out
}

var cliErrRE = regexp.MustCompile(`An error occurred \(([^)]*)\) when calling the (\w+) operation(?: \([^)]*\))?: (.*)`)

// CLIError is the error the CLI printed.
type CLIError struct{ Code, Operation, Message string }

// awsErr runs the CLI, requires it to fail with an AWS error and returns it.
func (c *Cloud) awsErr(t *testing.T, cli CLI, cr Creds, args ...string) CLIError {
	t.Helper()
	r := c.aws(t, cli, cr, args...)
	if r.ExitCode == 0 {
		t.Fatalf("expected an error:\n%s", r)
	}
	m := cliErrRE.FindStringSubmatch(r.Stderr)
	if m == nil {
		t.Fatalf("no AWS error in stderr:\n%s", r)
	}
	return CLIError{Code: m[1], Operation: m[2], Message: strings.TrimSpace(m[3])}
}

// pyPrelude is prepended to every boto3 snippet. Clients take the endpoint,
// region and credentials from the environment (AWS_ENDPOINT_URL and so on)
// unless creds are given; call() turns a response or a ClientError into one
// JSON-able dict.
const pyPrelude = `
import json, os, sys, time
import boto3, botocore.exceptions
from botocore.config import Config

ARGS = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
CFG = Config(retries={"max_attempts": 1, "mode": "standard"})

def client(service, creds=None):
    kw = {}
    if creds is not None:
        kw = dict(aws_access_key_id=creds["AccessKeyId"],
                  aws_secret_access_key=creds["SecretAccessKey"],
                  aws_session_token=creds.get("SessionToken"))
    return boto3.client(service, config=CFG, **kw)

def call(fn, **params):
    try:
        r = fn(**params)
        meta = r.pop("ResponseMetadata", {})
        return {"status": meta.get("HTTPStatusCode"), "request_id": meta.get("RequestId"), "result": r}
    except botocore.exceptions.ClientError as e:
        meta = e.response.get("ResponseMetadata", {})
        return {"status": meta.get("HTTPStatusCode"), "request_id": meta.get("RequestId"),
                "error": e.response.get("Error", {})}

def emit(obj):
    print(json.dumps(obj, default=str))
`

// PyCall is one boto3 call as call() reports it.
type PyCall struct {
	Status    int            `json:"status"`
	RequestID string         `json:"request_id"`
	Result    map[string]any `json:"result"`
	Error     *struct {
		Code    string `json:"Code"`
		Message string `json:"Message"`
	} `json:"error"`
}

func needPython(t *testing.T) {
	t.Helper()
	if pythonBin == "" {
		t.Skip(pythonWhy)
	}
}

// python runs a boto3 snippet (after pyPrelude) with `python3 -c`, signed
// with cr against this cloud, passing args as JSON in sys.argv[1], and
// decodes the last line of its output into out.
func (c *Cloud) python(t *testing.T, cr Creds, script string, args any, out any) {
	t.Helper()
	needPython(t)
	a, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	env := append(clientEnv(home, cr), "AWS_ENDPOINT_URL="+c.URL, "PYTHONDONTWRITEBYTECODE=1")
	r := run(t, home, env, pythonBin, "-c", pyPrelude+script, string(a))
	if r.ExitCode != 0 {
		t.Fatalf("boto3 snippet failed:\n%s", r)
	}
	lines := strings.Split(strings.TrimSpace(r.Stdout), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), out); err != nil {
		t.Fatalf("boto3 snippet output is not JSON: %v\n%s", err, r)
	}
}

// boto runs a snippet that emits a dict of named call() results.
func (c *Cloud) boto(t *testing.T, cr Creds, script string, args any) map[string]PyCall {
	t.Helper()
	var out map[string]PyCall
	c.python(t, cr, script, args, &out)
	return out
}

// cloudbox runs the cloudbox binary (not `up`).
func cloudbox(t *testing.T, args ...string) Result {
	t.Helper()
	home := t.TempDir()
	return run(t, home, cleanEnv(home), cloudboxBin, args...)
}

// ---------------------------------------------------------------------------
// aws-sdk-go-v2

// sdk is an aws.Config for this cloud: static credentials, no shared files,
// no environment, one attempt.
func (c *Cloud) sdk(cr Creds) aws.Config {
	return aws.Config{
		Region:           cr.region(),
		Credentials:      credentials.NewStaticCredentialsProvider(cr.AccessKeyID, cr.SecretAccessKey, cr.SessionToken),
		BaseEndpoint:     aws.String(c.URL),
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Timeout: 30 * time.Second},
	}
}

// SDKError is what aws-sdk-go-v2 reports for a failed call.
type SDKError struct {
	Code, Message string
	Status        int
	RequestID     string
}

// sdkErr requires err to be an AWS API error and returns its parts.
func sdkErr(t *testing.T, err error) SDKError {
	t.Helper()
	if err == nil {
		t.Fatal("expected an error, got success")
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error is not a smithy.APIError: %T %v", err, err)
	}
	e := SDKError{Code: ae.ErrorCode(), Message: ae.ErrorMessage()}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		e.Status = re.HTTPStatusCode()
		e.RequestID = re.ServiceRequestID()
	}
	return e
}

// ---------------------------------------------------------------------------
// Raw HTTP

// Raw is a request built by hand, signed with SigV4 unless Unsigned.
type Raw struct {
	Method   string // POST when empty
	Path     string // "/" when empty
	Service  string // the credential scope's service
	Creds    Creds
	Header   map[string]string
	Body     string
	Unsigned bool
}

// RawResponse is a response read whole.
type RawResponse struct {
	Status int
	Header http.Header
	Body   string
}

func (c *Cloud) do(t *testing.T, r Raw) RawResponse {
	t.Helper()
	method := r.Method
	if method == "" {
		method = http.MethodPost
	}
	path := r.Path
	if path == "" {
		path = "/"
	}
	req, err := http.NewRequest(method, c.URL+path, strings.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range r.Header {
		req.Header.Set(k, v)
	}
	if !r.Unsigned {
		cr := r.Creds
		if cr.AccessKeyID == "" {
			cr = testCreds
		}
		signRaw(t, req, r.Body, r.Service, cr)
	}
	return c.get(t, req)
}

// signRaw signs req (whose body is body) with SigV4 for service.
func signRaw(t *testing.T, req *http.Request, body, service string, cr Creds) {
	t.Helper()
	sum := sha256.Sum256([]byte(body))
	err := v4.NewSigner().SignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: cr.AccessKeyID, SecretAccessKey: cr.SecretAccessKey, SessionToken: cr.SessionToken},
		req, hex.EncodeToString(sum[:]), service, cr.region(), time.Now())
	if err != nil {
		t.Fatal(err)
	}
}

// get sends req and reads the whole response.
func (c *Cloud) get(t *testing.T, req *http.Request) RawResponse {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return RawResponse{Status: resp.StatusCode, Header: resp.Header, Body: string(b)}
}

// WireError is an AWS error decoded from one of the error envelopes.
type WireError struct {
	Code, Message, RequestID string
}

// queryError decodes <ErrorResponse><Error><Code> (query protocol).
func queryError(t *testing.T, body string) WireError {
	t.Helper()
	var v struct {
		XMLName xml.Name `xml:"ErrorResponse"`
		Error   struct {
			Type    string
			Code    string
			Message string
		}
		RequestID string `xml:"RequestId"`
	}
	if err := xml.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("not a query <ErrorResponse>: %v\n%s", err, body)
	}
	return WireError{v.Error.Code, v.Error.Message, v.RequestID}
}

// ec2Error decodes <Response><Errors><Error><Code> (EC2 protocol).
func ec2Error(t *testing.T, body string) WireError {
	t.Helper()
	var v struct {
		XMLName xml.Name `xml:"Response"`
		Errors  struct {
			Error []struct {
				Code    string
				Message string
			}
		}
		RequestID string `xml:"RequestID"`
	}
	if err := xml.Unmarshal([]byte(body), &v); err != nil || len(v.Errors.Error) == 0 {
		t.Fatalf("not an EC2 <Response><Errors>: %v\n%s", err, body)
	}
	return WireError{v.Errors.Error[0].Code, v.Errors.Error[0].Message, v.RequestID}
}

// jsonError decodes {"__type": ..., "message": ...} (JSON protocols).
func jsonError(t *testing.T, body string) WireError {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("not a JSON error: %v\n%s", err, body)
	}
	code, _ := v["__type"].(string)
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	msg, _ := v["message"].(string)
	if msg == "" {
		msg, _ = v["Message"].(string)
	}
	return WireError{Code: code, Message: msg}
}

// requestID is the x-amzn-RequestId header of a response.
func requestID(h http.Header) string { return h.Get("x-amzn-RequestId") }

// adminPost sends a /_cloudbox/ mutation (reset, down) as the cloudbox
// commands do: with the admin token from the daemon's data directory, or
// with none when token is false (a process that cannot read it).
func (c *Cloud) adminPost(t *testing.T, path string, token bool) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token {
		var in daemon.Info
		resp, err := http.Get(c.URL + "/_cloudbox/info")
		if err != nil {
			t.Fatal(err)
		}
		err = json.NewDecoder(resp.Body).Decode(&in)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(in.DataDir, daemon.AdminTokenFile))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set(daemon.AdminTokenHeader, strings.TrimSpace(string(b)))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

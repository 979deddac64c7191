//go:build linux

package sshd

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/sys/unix"

	"github.com/cloudbox/cloudbox/dataplane/compute"
)

// hostExec is the test double of an instance: it runs the command on the
// host, in a session of its own (with the terminal as controlling
// terminal when stdin is one, as an instance's init should), and kills
// the whole session when ctx ends.
func hostExec(ctx context.Context, req compute.ExecRequest) (int, error) {
	cmd := exec.CommandContext(ctx, req.Argv[0], req.Argv[1:]...)
	cmd.Env = append(os.Environ(), req.Env...)
	cmd.Dir = req.Dir
	cmd.Stdin, cmd.Stdout, cmd.Stderr = req.Stdin, req.Stdout, req.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if f, ok := req.Stdin.(*os.File); ok {
		if _, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err == nil {
			cmd.SysProcAttr.Setctty = true
		}
	}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal()), nil
		}
		return ee.ExitCode(), nil
	}
	if err != nil {
		return -1, err
	}
	return 0, nil
}

type keyPair struct {
	signer     ssh.Signer
	authorized string // authorized_keys line
	pem        []byte // private key, OpenSSH format
}

func newEd25519Key(t *testing.T) keyPair {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return makeKeyPair(t, priv)
}

func makeKeyPair(t *testing.T, priv any) keyPair {
	t.Helper()
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "test")
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{
		signer:     signer,
		authorized: string(ssh.MarshalAuthorizedKey(signer.PublicKey())),
		pem:        pem.EncodeToMemory(block),
	}
}

type testServer struct {
	addr    string
	hostKey ssh.PublicKey
	cancel  context.CancelFunc
	errc    chan error
}

// startServer runs Serve on 127.0.0.1 with cfg, filling in a host key, the
// user ec2-user and hostExec; the test's end stops it and checks that
// Serve returned nil.
func startServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	if cfg.HostKey == nil {
		hk, _, err := NewHostKey()
		if err != nil {
			t.Fatal(err)
		}
		cfg.HostKey = hk
	}
	if cfg.Users == nil {
		cfg.Users = []string{"ec2-user"}
	}
	if cfg.Exec == nil {
		cfg.Exec = hostExec
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{addr: l.Addr().String(), hostKey: cfg.HostKey.PublicKey(), cancel: cancel, errc: make(chan error, 1)}
	go func() { ts.errc <- Serve(ctx, l, cfg) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-ts.errc:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after its context ended")
		}
	})
	return ts
}

func (ts *testServer) port() string {
	_, p, _ := net.SplitHostPort(ts.addr)
	return p
}

func (ts *testServer) dial(user string, auth ...ssh.AuthMethod) (*ssh.Client, error) {
	return ssh.Dial("tcp", ts.addr, &ssh.ClientConfig{
		User:            user,
		Auth:            auth,
		HostKeyCallback: ssh.FixedHostKey(ts.hostKey),
		Timeout:         10 * time.Second,
	})
}

func (ts *testServer) login(t *testing.T, key keyPair) *ssh.Client {
	t.Helper()
	c, err := ts.dial("ec2-user", ssh.PublicKeys(key.signer))
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// syncBuffer is a bytes.Buffer a session writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func waitFor(t *testing.T, b *syncBuffer, s string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(b.String(), s) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q in output %q", s, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func exitStatusOf(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var ee *ssh.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("session ended without an exit status: %v", err)
	}
	return ee.ExitStatus()
}

func TestAuthentication(t *testing.T) {
	key, other := newEd25519Key(t), newEd25519Key(t)
	ts := startServer(t, Config{AuthorizedKey: "# the key pair\n" + key.authorized})

	c, err := ts.dial("ec2-user", ssh.PublicKeys(key.signer))
	if err != nil {
		t.Fatalf("right key refused: %v", err)
	}
	c.Close()

	refused := []struct {
		name string
		user string
		auth ssh.AuthMethod
	}{
		{"wrong key", "ec2-user", ssh.PublicKeys(other.signer)},
		{"wrong user", "bob", ssh.PublicKeys(key.signer)},
		{"password", "ec2-user", ssh.Password("secret")},
		{"keyboard-interactive", "ec2-user", ssh.KeyboardInteractive(
			func(string, string, []string, []bool) ([]string, error) { return nil, nil })},
	}
	for _, tc := range refused {
		if c, err := ts.dial(tc.user, tc.auth); err == nil {
			c.Close()
			t.Errorf("%s: logged in", tc.name)
		}
	}

	var banner string
	_, err = ssh.Dial("tcp", ts.addr, &ssh.ClientConfig{
		User:            "root",
		Auth:            []ssh.AuthMethod{ssh.PublicKeys(key.signer)},
		HostKeyCallback: ssh.FixedHostKey(ts.hostKey),
		BannerCallback:  func(m string) error { banner = m; return nil },
	})
	if err == nil {
		t.Error("root logged in")
	}
	if want := `Please login as the user "ec2-user" rather than the user "root".`; !strings.Contains(banner, want) {
		t.Errorf("banner for root = %q, want %q", banner, want)
	}
}

func TestNoAuthorizedKey(t *testing.T) {
	key := newEd25519Key(t)
	ts := startServer(t, Config{})
	if c, err := ts.dial("ec2-user", ssh.PublicKeys(key.signer)); err == nil {
		c.Close()
		t.Fatal("logged in without an authorized key")
	}
}

func TestBadConfig(t *testing.T) {
	hk, _, err := NewHostKey()
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range map[string]Config{
		"no host key":     {Exec: hostExec},
		"no exec":         {HostKey: hk},
		"bad authorized":  {HostKey: hk, Exec: hostExec, AuthorizedKey: "ssh-ed25519 AAAAnot-base64"},
		"garbage in keys": {HostKey: hk, Exec: hostExec, AuthorizedKey: newEd25519Key(t).authorized + "hello\n"},
	} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if err := Serve(context.Background(), l, cfg); err == nil {
			t.Errorf("%s: Serve accepted the config", name)
		}
		if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("%s: listener not closed: %v", name, err)
		}
	}
}

func TestHostKeyRoundTrip(t *testing.T) {
	hk, pemBytes, err := NewHostKey()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseHostKey(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back.PublicKey().Marshal(), hk.PublicKey().Marshal()) {
		t.Fatal("parsed host key differs from the generated one")
	}
	if _, err := ParseHostKey([]byte("not a key")); err == nil {
		t.Fatal("ParseHostKey accepted garbage")
	}

	// A server restarted with the saved key is the same host to clients.
	key := newEd25519Key(t)
	ts := startServer(t, Config{HostKey: back, AuthorizedKey: key.authorized})
	ts.hostKey = hk.PublicKey()
	ts.login(t, key)
}

func TestExec(t *testing.T) {
	key := newEd25519Key(t)
	var (
		mu   sync.Mutex
		reqs []compute.ExecRequest
	)
	ts := startServer(t, Config{
		AuthorizedKey: key.authorized,
		Exec: func(ctx context.Context, req compute.ExecRequest) (int, error) {
			mu.Lock()
			reqs = append(reqs, req)
			mu.Unlock()
			return hostExec(ctx, req)
		},
	})
	c := ts.login(t, key)

	t.Run("exit status and separate output", func(t *testing.T) {
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var stdout, stderr bytes.Buffer
		s.Stdout, s.Stderr = &stdout, &stderr
		err = s.Run("echo out; echo err >&2; exit 7")
		if code := exitStatusOf(t, err); code != 7 {
			t.Errorf("exit status %d, want 7", code)
		}
		if stdout.String() != "out\n" || stderr.String() != "err\n" {
			t.Errorf("stdout %q, stderr %q; want \"out\\n\", \"err\\n\"", stdout.String(), stderr.String())
		}
	})

	t.Run("stdin", func(t *testing.T) {
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		s.Stdin = strings.NewReader("line one\nline two\n")
		out, err := s.Output("wc -l")
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimSpace(string(out)) != "2" {
			t.Errorf("wc -l of stdin = %q, want 2", out)
		}
	})

	t.Run("environment", func(t *testing.T) {
		s, err := c.NewSession()
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if err := s.Setenv("LANG", "C.UTF-8"); err != nil {
			t.Errorf("LANG refused: %v", err)
		}
		if err := s.Setenv("LC_TIME", "C"); err != nil {
			t.Errorf("LC_TIME refused: %v", err)
		}
		if err := s.Setenv("LD_PRELOAD", "/tmp/x.so"); err == nil {
			t.Error("LD_PRELOAD accepted")
		}
		out, err := s.Output(`echo "$LANG $LC_TIME $HOME $USER $LOGNAME $SHELL ${LD_PRELOAD-unset}"; pwd; echo "$SSH_CONNECTION"`)
		if err != nil {
			t.Fatal(err)
		}
		shell := "/bin/sh"
		if unix.Access("/bin/bash", unix.X_OK) == nil {
			shell = "/bin/bash"
		}
		lines := strings.Split(string(out), "\n")
		if want := "C.UTF-8 C /home/ec2-user ec2-user ec2-user " + shell + " unset"; lines[0] != want {
			t.Errorf("environment %q, want %q", lines[0], want)
		}
		// No /home/ec2-user on the host: the session stays in /.
		if lines[1] != "/" {
			t.Errorf("working directory %q, want /", lines[1])
		}
		if f := strings.Fields(lines[2]); len(f) != 4 || f[0] != "127.0.0.1" || f[3] != ts.port() {
			t.Errorf("SSH_CONNECTION = %q", lines[2])
		}
	})

	mu.Lock()
	defer mu.Unlock()
	for _, r := range reqs {
		if _, ok := r.Stdin.(*os.File); !ok {
			t.Errorf("Exec got stdin %T, want *os.File", r.Stdin)
		}
		if r.Dir != "/" {
			t.Errorf("Exec got dir %q, want /", r.Dir)
		}
	}
}

func TestExecFailure(t *testing.T) {
	key := newEd25519Key(t)
	ts := startServer(t, Config{
		AuthorizedKey: key.authorized,
		Exec: func(context.Context, compute.ExecRequest) (int, error) {
			return -1, compute.ErrNotRunning
		},
	})
	s, err := ts.login(t, key).NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	s.Stderr = &stderr
	if code := exitStatusOf(t, s.Run("true")); code != 255 {
		t.Errorf("exit status %d, want 255", code)
	}
	if !strings.Contains(stderr.String(), compute.ErrNotRunning.Error()) {
		t.Errorf("stderr %q does not say why", stderr.String())
	}
}

func TestSftpSubsystemMissing(t *testing.T) {
	key := newEd25519Key(t)
	ts := startServer(t, Config{AuthorizedKey: key.authorized})
	c := ts.login(t, key)

	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RequestSubsystem("netconf"); err == nil {
		t.Error("unknown subsystem accepted")
	}

	// x/crypto's Session cannot wait for a subsystem: use the channel.
	ch, reqs, err := c.OpenChannel("session", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	status := make(chan uint32, 1)
	go func() {
		for r := range reqs {
			var es exitStatus
			if r.Type == "exit-status" && ssh.Unmarshal(r.Payload, &es) == nil {
				status <- es.Status
			}
		}
	}()
	if ok, err := ch.SendRequest("subsystem", true, ssh.Marshal(execRequest{"sftp"})); !ok || err != nil {
		t.Fatalf("sftp subsystem refused: %v", err)
	}
	stderr, err := io.ReadAll(ch.Stderr())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat("/usr/lib/openssh/sftp-server"); err == nil {
		t.Skip("this host has an sftp-server")
	}
	select {
	case code := <-status:
		if code != 127 || !strings.Contains(string(stderr), "sftp-server is not installed") {
			t.Errorf("sftp without sftp-server: exit %d, stderr %q", code, stderr)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit status")
	}
}

func TestShellWithTerminal(t *testing.T) {
	key := newEd25519Key(t)
	ts := startServer(t, Config{AuthorizedKey: key.authorized})
	s, err := ts.login(t, key).NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RequestPty("xterm-test", 24, 80, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	stdin, err := s.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	s.Stdout = &out
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	if err := s.WindowChange(40, 100); err != nil {
		t.Fatal(err)
	}
	// The server handles a session's requests in order: once a later
	// request is answered (refused, the shell runs), the size is set.
	if ok, _ := s.SendRequest("env", true, ssh.Marshal(envRequest{"LANG", "C"})); ok {
		t.Error("env accepted after the shell started")
	}

	// The quotes keep the terminal's echo of the input from matching.
	fmt.Fprint(stdin, "echo \"term=$TERM size=$(stty size)\" ok''-1\n")
	waitFor(t, &out, "term=xterm-test size=40 100 ok-1")

	// ^C interrupts the foreground command, not the shell. The marker is
	// printed by the foreground job itself, so the ^C cannot reach the
	// shell between an echo and the sleep it runs next.
	fmt.Fprint(stdin, "sh -c 'echo sleep''-started; exec sleep 30'\n")
	waitFor(t, &out, "sleep-started")
	fmt.Fprint(stdin, "\x03")
	fmt.Fprint(stdin, "echo after''-interrupt; exit 5\n")
	waitFor(t, &out, "after-interrupt")

	done := make(chan error, 1)
	go func() { done <- s.Wait() }()
	select {
	case err := <-done:
		if code := exitStatusOf(t, err); code != 5 {
			t.Errorf("shell exit status %d, want 5", code)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("shell did not exit; output %q", out.String())
	}
}

// openssh runs the OpenSSH client with a configuration that uses only key.
func openssh(t *testing.T, key keyPair, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	path, err := exec.LookPath("ssh")
	if err != nil {
		t.Skip("no OpenSSH client")
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key")
	if err := os.WriteFile(keyFile, key.pem, 0o600); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(dir, "config")
	err = os.WriteFile(config, []byte("Host *\n"+
		"  IdentityFile "+keyFile+"\n"+
		"  IdentitiesOnly yes\n"+
		"  IdentityAgent none\n"+
		"  StrictHostKeyChecking no\n"+
		"  UserKnownHostsFile /dev/null\n"+
		"  GlobalKnownHostsFile /dev/null\n"+
		"  BatchMode yes\n"+
		"  LogLevel ERROR\n"), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, append([]string{"-F", config}, args...)...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return o.String(), e.String(), cmd.ProcessState.ExitCode()
}

func TestOpenSSHClient(t *testing.T) {
	// EC2 key pairs are often RSA; OpenSSH signs with rsa-sha2-*.
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	key := makeKeyPair(t, priv)
	ts := startServer(t, Config{AuthorizedKey: key.authorized})

	out, errOut, code := openssh(t, key, "-p", ts.port(), "ec2-user@127.0.0.1", "echo hi; exit 3")
	if code != 3 || out != "hi\n" {
		t.Errorf("ssh 'echo hi; exit 3': exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	out, errOut, code = openssh(t, key, "-tt", "-p", ts.port(), "ec2-user@127.0.0.1", "tty -s && echo has-tty; exit 2")
	if code != 2 || !strings.Contains(out, "has-tty") {
		t.Errorf("ssh -tt: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	_, _, code = openssh(t, key, "-p", ts.port(), "root@127.0.0.1", "true")
	if code != 255 {
		t.Errorf("ssh as root: exit %d, want 255 (refused)", code)
	}
}

func TestOpenSSHProxyJump(t *testing.T) {
	key := newEd25519Key(t)
	target := startServer(t, Config{AuthorizedKey: key.authorized})
	var (
		mu     sync.Mutex
		dialed []string
	)
	var d net.Dialer
	bastion := startServer(t, Config{
		AuthorizedKey: key.authorized,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			mu.Lock()
			dialed = append(dialed, network+" "+addr)
			mu.Unlock()
			return d.DialContext(ctx, network, addr)
		},
	})

	out, errOut, code := openssh(t, key, "-J", "ec2-user@127.0.0.1:"+bastion.port(),
		"-p", target.port(), "ec2-user@127.0.0.1", "echo via-jump")
	if code != 0 || out != "via-jump\n" {
		t.Errorf("ssh -J: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := "tcp 127.0.0.1:" + target.port(); len(dialed) != 1 || dialed[0] != want {
		t.Errorf("bastion dialed %q, want [%q]", dialed, want)
	}
}

// echoServer accepts connections on loopback and sends back what it reads.
func echoServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			})
		}
	})
	return l.Addr().String()
}

func TestDirectTCPIP(t *testing.T) {
	key := newEd25519Key(t)
	echo := echoServer(t)
	var d net.Dialer
	ts := startServer(t, Config{AuthorizedKey: key.authorized, Dial: d.DialContext})
	c := ts.login(t, key)

	conn, err := c.Dial("tcp", echo)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	// Half-closing our side reaches the echo server, which then closes:
	// ReadAll ends.
	if err := conn.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(conn)
	if err != nil || string(got) != "ping" {
		t.Errorf("echo through the tunnel = %q, %v; want \"ping\"", got, err)
	}

	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	if _, err := c.Dial("tcp", closed.Addr().String()); err == nil {
		t.Error("dialing a closed port through the tunnel succeeded")
	}
}

func TestDirectTCPIPDisabled(t *testing.T) {
	key := newEd25519Key(t)
	echo := echoServer(t)
	ts := startServer(t, Config{AuthorizedKey: key.authorized})
	if _, err := ts.login(t, key).Dial("tcp", echo); err == nil {
		t.Fatal("port forwarding allowed without Dial")
	}
}

// serverGoroutines returns the stacks of goroutines that belong to an SSH
// server or connection.
func serverGoroutines() []string {
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	var found []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		if strings.Contains(g, "golang.org/x/crypto/ssh.") || strings.Contains(g, "engines/sshd.(*") ||
			strings.Contains(g, "engines/sshd.Serve") {
			found = append(found, g)
		}
	}
	return found
}

func TestShutdownLeavesNothing(t *testing.T) {
	key := newEd25519Key(t)
	echo := echoServer(t)
	hk, _, err := NewHostKey()
	if err != nil {
		t.Fatal(err)
	}
	var d net.Dialer
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() {
		errc <- Serve(ctx, l, Config{HostKey: hk, AuthorizedKey: key.authorized, Users: []string{"ec2-user"},
			Exec: hostExec, Dial: d.DialContext})
	}()
	ts := &testServer{addr: l.Addr().String(), hostKey: hk.PublicKey()}
	c := ts.login(t, key)

	// A long command, a terminal session and a tunnel are open.
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	s.Stdout = &out
	if err := s.Start("echo started; sleep 60"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, &out, "started")
	tty, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	if err := tty.RequestPty("xterm", 24, 80, nil); err != nil {
		t.Fatal(err)
	}
	if err := tty.Shell(); err != nil {
		t.Fatal(err)
	}
	tunnel, err := c.Dial("tcp", echo)
	if err != nil {
		t.Fatal(err)
	}
	defer tunnel.Close()

	cancel()
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if err := s.Wait(); err == nil {
		t.Error("the long command ended normally")
	}
	c.Close()

	deadline := time.Now().Add(5 * time.Second)
	for {
		left := serverGoroutines()
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines left after shutdown:\n%s", len(left), strings.Join(left, "\n\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestOpenTerminalInOtherDevpts allocates a terminal in a devpts other than
// the host's, as the daemon does in an instance's: the devpts is mounted in
// a private mount namespace of a thread that exits afterwards, so the host
// never sees it.
func TestOpenTerminalInOtherDevpts(t *testing.T) {
	dir := t.TempDir()
	type result struct {
		name   string
		echoed string
		skip   string
		err    error
	}
	res := make(chan result, 1)
	go func() {
		// The thread is never unlocked: the runtime ends it with the
		// goroutine, and its mount namespace with it.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNS); err != nil {
			res <- result{skip: "unshare: " + err.Error()}
			return
		}
		if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
			res <- result{err: err}
			return
		}
		if err := unix.Mount("devpts", dir, "devpts", unix.MS_NOSUID|unix.MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"); err != nil {
			res <- result{skip: "mounting devpts: " + err.Error()}
			return
		}
		ptmx, tty, err := OpenTerminal(dir)
		if err != nil {
			res <- result{err: err}
			return
		}
		defer ptmx.Close()
		defer tty.Close()
		if _, err := tty.WriteString("hello\n"); err != nil {
			res <- result{err: err}
			return
		}
		buf := make([]byte, 64)
		_ = ptmx.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := ptmx.Read(buf)
		res <- result{name: tty.Name(), echoed: string(buf[:n]), err: err}
	}()
	r := <-res
	if r.skip != "" {
		t.Skip(r.skip)
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	// The first terminal of a new devpts instance.
	if want := filepath.Join(dir, "0"); r.name != want {
		t.Errorf("terminal %q, want %q", r.name, want)
	}
	if r.echoed != "hello\r\n" {
		t.Errorf("master read %q, want \"hello\\r\\n\"", r.echoed)
	}
}

func TestTerminalHook(t *testing.T) {
	key := newEd25519Key(t)
	var (
		mu    sync.Mutex
		names []string
	)
	ts := startServer(t, Config{
		AuthorizedKey: key.authorized,
		Terminal: func() (*os.File, *os.File, error) {
			ptmx, tty, err := OpenTerminal("")
			if err == nil {
				mu.Lock()
				names = append(names, tty.Name())
				mu.Unlock()
			}
			return ptmx, tty, err
		},
	})
	s, err := ts.login(t, key).NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RequestPty("vt100", 24, 80, nil); err != nil {
		t.Fatal(err)
	}
	out, err := s.Output("tty")
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(names) != 1 || strings.TrimSpace(string(out)) != names[0] {
		t.Errorf("command's terminal %q, allocated %q", out, names)
	}
}

func TestRootWhenAllowed(t *testing.T) {
	if _, err := os.Stat("/root"); err != nil {
		t.Skip("no /root on this host")
	}
	key := newEd25519Key(t)
	ts := startServer(t, Config{AuthorizedKey: key.authorized, Users: []string{"root"}})
	c, err := ts.dial("root", ssh.PublicKeys(key.signer))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Output(`echo "$HOME"; pwd`)
	if err != nil {
		t.Fatal(err)
	}
	// The session starts in the home directory when it exists.
	if string(out) != "/root\n/root\n" {
		t.Errorf("HOME and working directory %q, want /root twice", out)
	}
}

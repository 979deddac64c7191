package sshd

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/cloudbox/cloudbox/dataplane/compute"
)

// The instance's shell is found inside the instance, where the host cannot
// look: every session starts with /bin/sh, which goes to the home
// directory as sshd does (staying in / when there is none) and runs bash
// when the image has it.
const (
	shellScript = `cd "$HOME" 2>/dev/null || cd /
if [ -x /bin/bash ]; then SHELL=/bin/bash; else SHELL=/bin/sh; fi
export SHELL
exec "$SHELL" "$@"`
	sftpScript = `cd "$HOME" 2>/dev/null || cd /
for p in /usr/libexec/openssh/sftp-server /usr/lib/openssh/sftp-server /usr/lib/ssh/sftp-server /usr/libexec/sftp-server; do
	if [ -x "$p" ]; then exec "$p"; fi
done
echo "sftp-server is not installed in this instance" >&2
exit 127`
	defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	// maxEnv bounds the variables a client may set with "env" requests.
	maxEnv = 64
)

// session is one "session" channel: a command, a login shell or the sftp
// subsystem, with an optional terminal.
type session struct {
	s    *server
	ch   ssh.Channel
	meta ssh.ConnMetadata
	log  *slog.Logger
	env  []string // accepted "env" requests
	// ptmx and tty are the terminal's two ends, set by "pty-req".
	term      string
	ptmx, tty *os.File
	started   bool
}

// Payloads of the session requests (RFC 4254 section 6).
type (
	ptyRequest struct {
		Term          string
		Cols, Rows    uint32
		Width, Height uint32
		Modes         string
	}
	windowChange struct {
		Cols, Rows    uint32
		Width, Height uint32
	}
	envRequest  struct{ Name, Value string }
	execRequest struct{ Command string }
	exitStatus  struct{ Status uint32 }
)

func (s *server) serveSession(ctx context.Context, meta ssh.ConnMetadata, nc ssh.NewChannel, log *slog.Logger) {
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ss := &session{s: s, ch: ch, meta: meta, log: log}
	done := make(chan struct{})
	defer func() {
		// The client closed the channel (or the connection is gone): stop
		// the command, then free the terminal.
		cancel()
		if ss.started {
			<-done
		}
		ss.closeTerminal()
		ch.Close()
	}()
	for req := range reqs {
		var argv []string
		ok := false
		switch req.Type {
		case "env":
			ok = ss.setEnv(req.Payload)
		case "pty-req":
			ok = ss.allocTerminal(req.Payload)
		case "window-change":
			ok = ss.resize(req.Payload)
		case "shell", "exec", "subsystem":
			if !ss.started {
				var what string
				argv, what = ss.command(req.Type, req.Payload)
				ok = argv != nil
				log.Debug("ssh: "+req.Type, "command", what, "ok", ok, "tty", ss.ptmx != nil)
			}
		}
		if req.WantReply {
			_ = req.Reply(ok, nil)
		}
		if argv != nil {
			ss.started = true
			s.wg.Go(func() {
				defer close(done)
				ss.run(ctx, argv)
			})
		}
	}
}

func (ss *session) setEnv(payload []byte) bool {
	var r envRequest
	if ss.started || len(ss.env) >= maxEnv || ssh.Unmarshal(payload, &r) != nil {
		return false
	}
	// What Amazon Linux's sshd_config accepts (AcceptEnv).
	if r.Name != "LANG" && r.Name != "LANGUAGE" && !strings.HasPrefix(r.Name, "LC_") ||
		strings.ContainsAny(r.Name, "=\x00") || strings.ContainsRune(r.Value, 0) {
		return false
	}
	ss.env = append(ss.env, r.Name+"="+r.Value)
	return true
}

func (ss *session) allocTerminal(payload []byte) bool {
	var r ptyRequest
	if ss.started || ss.ptmx != nil || ssh.Unmarshal(payload, &r) != nil ||
		strings.ContainsAny(r.Term, "\x00\n") {
		return false
	}
	ptmx, tty, err := ss.s.cfg.Terminal()
	if err != nil {
		ss.log.Warn("ssh: allocating a terminal", "err", err)
		return false
	}
	ss.ptmx, ss.tty, ss.term = ptmx, tty, r.Term
	if err := setWinsize(ptmx, r.Cols, r.Rows, r.Width, r.Height); err != nil {
		ss.log.Debug("ssh: terminal size", "err", err)
	}
	return true
}

func (ss *session) resize(payload []byte) bool {
	var r windowChange
	if ss.ptmx == nil || ssh.Unmarshal(payload, &r) != nil {
		return false
	}
	// The command may be gone and the terminal closed: nothing to resize.
	return setWinsize(ss.ptmx, r.Cols, r.Rows, r.Width, r.Height) == nil
}

// command returns the argv of a "shell", "exec" or "subsystem" request,
// nil if it is refused, and what to log about it.
func (ss *session) command(typ string, payload []byte) (argv []string, what string) {
	var r execRequest
	switch {
	case typ == "shell":
		return []string{"/bin/sh", "-c", shellScript, "sh", "-l"}, "login shell"
	case ssh.Unmarshal(payload, &r) != nil:
		return nil, ""
	case typ == "exec":
		return []string{"/bin/sh", "-c", shellScript, "sh", "-c", r.Command}, r.Command
	case r.Command == "sftp":
		return []string{"/bin/sh", "-c", sftpScript}, "sftp"
	}
	return nil, ""
}

// environ is the environment of the session's command, as sshd sets it.
func (ss *session) environ() []string {
	user := ss.meta.User()
	home := "/home/" + user
	if user == "root" {
		home = "/root"
	}
	env := []string{"HOME=" + home, "USER=" + user, "LOGNAME=" + user, "PATH=" + defaultPath}
	rhost, rport, err1 := net.SplitHostPort(ss.meta.RemoteAddr().String())
	lhost, lport, err2 := net.SplitHostPort(ss.meta.LocalAddr().String())
	if err1 == nil && err2 == nil {
		env = append(env,
			"SSH_CLIENT="+rhost+" "+rport+" "+lport,
			"SSH_CONNECTION="+rhost+" "+rport+" "+lhost+" "+lport)
	}
	if ss.ptmx != nil && ss.term != "" {
		env = append(env, "TERM="+ss.term)
	}
	return append(env, ss.env...)
}

// run runs the session's command to its end, copying its input and output,
// then reports its exit status and closes the channel.
func (ss *session) run(ctx context.Context, argv []string) {
	defer ss.ch.Close()
	req := compute.ExecRequest{Argv: argv, Env: ss.environ(), Dir: "/"}
	var finish func()
	if ss.ptmx != nil {
		req.Stdin, req.Stdout, req.Stderr = ss.tty, ss.tty, ss.tty
		finish = ss.copyTerminal()
	} else {
		req.Stdout, req.Stderr = ss.ch, ss.ch.Stderr()
		in, closeIn, err := ss.copyStdin()
		if err != nil {
			ss.fail(ctx, err)
			return
		}
		req.Stdin, finish = in, closeIn
	}
	code, err := ss.s.cfg.Exec(ctx, req)
	finish()
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		ss.log.Warn("ssh: command failed", "err", err)
		fmt.Fprintf(ss.ch.Stderr(), "cloudbox: %v\r\n", err)
		if code < 0 {
			code = 255
		}
	}
	_ = ss.ch.CloseWrite()
	_, _ = ss.ch.SendRequest("exit-status", false, ssh.Marshal(exitStatus{Status: uint32(code)}))
}

func (ss *session) fail(ctx context.Context, err error) {
	if ctx.Err() != nil {
		return
	}
	ss.log.Warn("ssh: session", "err", err)
	fmt.Fprintf(ss.ch.Stderr(), "cloudbox: %v\r\n", err)
	_, _ = ss.ch.SendRequest("exit-status", false, ssh.Marshal(exitStatus{Status: 255}))
}

// copyStdin gives the command a pipe fed from the channel, so that Exec
// always gets an *os.File; the returned func closes it once the command
// exited. The copier itself ends when the channel is closed.
func (ss *session) copyStdin() (*os.File, func(), error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	ss.s.wg.Go(func() {
		_, _ = io.Copy(pw, ss.ch)
		pw.Close()
	})
	return pr, func() {
		pr.Close()
		pw.Close()
	}, nil
}

// copyTerminal copies between the channel and the terminal's master end;
// the returned func waits for the output once the command exited.
func (ss *session) copyTerminal() func() {
	out := make(chan struct{})
	ss.s.wg.Go(func() {
		defer close(out)
		// Ends with EIO once every process closed the terminal.
		_, _ = io.Copy(ss.ch, ss.ptmx)
	})
	ss.s.wg.Go(func() { _, _ = io.Copy(ss.ptmx, ss.ch) })
	return func() {
		ss.tty.Close()
		t := time.NewTimer(outputGrace)
		defer t.Stop()
		select {
		case <-out:
		case <-t.C:
			// A background process keeps the terminal open: stop reading.
			ss.ptmx.Close()
			<-out
		}
	}
}

func (ss *session) closeTerminal() {
	if ss.ptmx != nil {
		ss.ptmx.Close()
		ss.tty.Close()
	}
}

//go:build linux

package compute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"
)

// The host talks to an instance's init over a SOCK_SEQPACKET Unix socket
// bound at <RootDir>/init.sock before the init pivots away from the host's
// root: one message carries an execMsg and, as SCM_RIGHTS, the command's
// stdin, stdout and stderr; one message answers with execReply when the
// command ends. Closing the connection early kills the command's process
// group. The init accepts only root peers from outside the instance's PID
// namespace (SO_PEERCRED shows them as PID 0), so processes inside an
// instance cannot use it even if they reach the socket.

const (
	sockName = "init.sock"
	maxMsg   = 1 << 20
	// execWaitDelay is how long Exec keeps copying output after the command
	// exited, for background processes that inherited its stdout.
	execWaitDelay = 500 * time.Millisecond
)

type execMsg struct {
	Argv []string `json:"argv"`
	Env  []string `json:"env,omitempty"`
	Dir  string   `json:"dir,omitempty"`
}

type execReply struct {
	Exit  int    `json:"exit"`
	Error string `json:"error,omitempty"`
}

// ExecIn runs a command through the init of the instance whose RootDir is
// rootDir: what Runner.Exec does once it knows the RootDir, and what
// `cloudbox exec` can call directly.
func ExecIn(ctx context.Context, rootDir string, req ExecRequest) (int, error) {
	if len(req.Argv) == 0 || req.Argv[0] == "" {
		return -1, errors.New("compute: exec: empty command")
	}
	msg, err := json.Marshal(execMsg{Argv: req.Argv, Env: req.Env, Dir: req.Dir})
	if err != nil {
		return -1, err
	}
	if len(msg) > maxMsg/2 {
		return -1, errors.New("compute: exec: command line and environment too large")
	}
	conn, err := dialInit(rootDir)
	if err != nil {
		return -1, err
	}
	defer conn.Close()

	var (
		sent     [3]*os.File // handed to the init
		ours     []*os.File  // closed once sent
		copies   []chan struct{}
		readEnds []*os.File // closed when output copying gives up
		stdinW   *os.File
	)
	defer func() {
		for _, f := range ours {
			f.Close()
		}
	}()
	devnull := func() (*os.File, error) {
		f, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err == nil {
			ours = append(ours, f)
		}
		return f, err
	}
	switch r := req.Stdin.(type) {
	case nil:
		if sent[0], err = devnull(); err != nil {
			return -1, err
		}
	case *os.File:
		sent[0] = r
	default:
		pr, pw, err := os.Pipe()
		if err != nil {
			return -1, err
		}
		sent[0], stdinW = pr, pw
		ours = append(ours, pr)
		go func() {
			_, _ = io.Copy(pw, r)
			pw.Close()
		}()
	}
	for i, w := range []io.Writer{req.Stdout, req.Stderr} {
		switch w := w.(type) {
		case nil:
			if sent[i+1], err = devnull(); err != nil {
				return -1, err
			}
		case *os.File:
			sent[i+1] = w
		default:
			if i == 1 && sameWriter(req.Stdout, req.Stderr) {
				sent[2] = sent[1] // one pipe, one copier: the writer need not be safe for concurrent use
				continue
			}
			pr, pw, err := os.Pipe()
			if err != nil {
				return -1, err
			}
			sent[i+1] = pw
			ours = append(ours, pw)
			readEnds = append(readEnds, pr)
			done := make(chan struct{})
			copies = append(copies, done)
			go func() {
				defer close(done)
				defer pr.Close()
				_, _ = io.Copy(w, pr)
			}()
		}
	}
	finishOutput := func() {
		timer := time.NewTimer(execWaitDelay)
		defer timer.Stop()
		for _, done := range copies {
			select {
			case <-done:
			case <-timer.C:
				for _, pr := range readEnds {
					pr.Close()
				}
				<-done
			}
		}
	}

	rights := unix.UnixRights(int(sent[0].Fd()), int(sent[1].Fd()), int(sent[2].Fd()))
	if _, _, err := conn.WriteMsgUnix(msg, rights, nil); err != nil {
		for _, pr := range readEnds {
			pr.Close()
		}
		return -1, fmt.Errorf("compute: exec: sending the command to the instance's init: %w", err)
	}
	for _, f := range ours {
		f.Close()
	}
	ours = nil

	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	buf := make([]byte, 64<<10)
	n, err := conn.Read(buf)
	if stdinW != nil {
		stdinW.Close()
	}
	if err != nil || n == 0 {
		for _, pr := range readEnds {
			pr.Close()
		}
		finishOutput()
		if ctx.Err() != nil {
			return -1, ctx.Err()
		}
		return -1, fmt.Errorf("compute: exec: the instance's init went away: %v", err)
	}
	finishOutput()
	var reply execReply
	if err := json.Unmarshal(buf[:n], &reply); err != nil {
		return -1, fmt.Errorf("compute: exec: bad reply from init: %w", err)
	}
	if reply.Error != "" {
		return reply.Exit, errors.New("compute: exec: " + reply.Error)
	}
	return reply.Exit, nil
}

// dialInit connects to the init's socket. Unix socket paths are limited
// to 108 bytes; a longer one is reached through /proc/self/fd.
func dialInit(rootDir string) (*net.UnixConn, error) {
	path := filepath.Join(rootDir, sockName)
	if len(path) >= 100 {
		dir, err := os.OpenFile(rootDir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		defer dir.Close()
		path = fmt.Sprintf("/proc/self/fd/%d/%s", dir.Fd(), sockName)
	}
	conn, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: path, Net: "unixpacket"})
	if err != nil {
		return nil, fmt.Errorf("compute: exec: connecting to the instance's init: %w", err)
	}
	return conn, nil
}

// sameWriter reports whether two writers are the same value (false when
// their dynamic type is not comparable).
func sameWriter(a, b io.Writer) (same bool) {
	defer func() {
		if recover() != nil {
			same = false
		}
	}()
	return a == b
}

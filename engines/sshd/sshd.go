// Package sshd is the SSH server of an EC2 instance. The daemon runs one
// per instance inside the cloudbox process, on a listener it opened in the
// instance's network namespace (port 22). Logins use the instance's key
// pair for the AMI's login user; sessions run inside the instance through
// Config.Exec, and port forwarding (ssh -L, ssh -J) dials from the
// instance's network namespace through Config.Dial.
package sshd

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/cloudbox/cloudbox/dataplane/compute"
)

// Config configures the SSH server of one instance.
type Config struct {
	// HostKey is the instance's host key, generated once (NewHostKey) and
	// kept so that clients' known_hosts stay valid across restarts.
	HostKey ssh.Signer
	// AuthorizedKey is the key pair's public key in authorized_keys format
	// ("ssh-rsa AAAA...", "ssh-ed25519 AAAA..."); several lines are several
	// keys. Empty: nobody can log in.
	AuthorizedKey string
	// Users are the accepted login names, e.g. {"ec2-user"}. Any other name
	// is refused, root included, as on AWS AMIs.
	Users []string
	// Exec runs a command inside the instance and returns its exit code
	// (compute.Runner.Exec bound to the instance). Its context ends when
	// the client goes away or the server stops.
	Exec func(ctx context.Context, req compute.ExecRequest) (int, error)
	// Dial connects from inside the instance's network namespace; it serves
	// direct-tcpip channels (ssh -L, ssh -W, ssh -J). addr is "host:port"
	// as the client sent it. Nil refuses port forwarding.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Terminal allocates the pseudo-terminal of a session that asks for
	// one (interactive logins, ssh -t). The daemon allocates it in the
	// instance's own devpts, OpenTerminal("/proc/<init pid>/root/dev/pts"),
	// so that its name (/dev/pts/N) exists inside the instance, as tty,
	// tmux and screen need. Nil: OpenTerminal(""), the host's devpts.
	Terminal func() (ptmx, tty *os.File, err error)
	// Log receives logins and errors; nil discards them.
	Log *slog.Logger
}

const (
	// handshakeTimeout bounds key exchange and authentication, like
	// OpenSSH's LoginGraceTime.
	handshakeTimeout = time.Minute
	// dialTimeout bounds the connection of a direct-tcpip channel.
	dialTimeout = 30 * time.Second
	// outputGrace is how long output is still copied after a command
	// exited, for background processes that kept its terminal open.
	outputGrace = 500 * time.Millisecond
)

// NewHostKey generates an ed25519 host key and returns it with its PEM
// encoding (OpenSSH format), which ParseHostKey reads back.
func NewHostKey() (ssh.Signer, []byte, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		return nil, nil, err
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		return nil, nil, err
	}
	return signer, pem.EncodeToMemory(block), nil
}

// ParseHostKey reads a host key saved from NewHostKey (or any unencrypted
// private key PEM).
func ParseHostKey(pemBytes []byte) (ssh.Signer, error) {
	s, err := ssh.ParsePrivateKey(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("sshd: host key: %w", err)
	}
	return s, nil
}

// server is the state shared by the connections of one Serve call.
type server struct {
	cfg    Config
	log    *slog.Logger
	config *ssh.ServerConfig
	keys   [][]byte // authorized public keys, wire format
	// wg counts every goroutine the server starts, so that Serve returns
	// only when all of them are gone.
	wg sync.WaitGroup
}

// Serve accepts SSH connections on l until ctx ends, then closes l and
// every connection, stops the running commands and returns nil once all
// of its goroutines have finished. It returns an error, after closing l,
// if cfg is invalid or l fails.
func Serve(ctx context.Context, l net.Listener, cfg Config) error {
	defer l.Close()
	s, err := newServer(cfg)
	if err != nil {
		return err
	}
	defer s.wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()

	var backoff time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if !retryAccept(err) {
				return fmt.Errorf("sshd: accept: %w", err)
			}
			// Out of file descriptors or an aborted connection: wait a
			// little instead of spinning.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			select {
			case <-time.After(backoff):
			case <-ctx.Done():
				return nil
			}
			continue
		}
		backoff = 0
		s.wg.Go(func() { s.serveConn(ctx, c) })
	}
}

func retryAccept(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ENOBUFS)
}

func newServer(cfg Config) (*server, error) {
	if cfg.HostKey == nil {
		return nil, errors.New("sshd: no host key")
	}
	if cfg.Exec == nil {
		return nil, errors.New("sshd: no Exec function")
	}
	s := &server{cfg: cfg, log: cfg.Log}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.cfg.Terminal == nil {
		s.cfg.Terminal = func() (*os.File, *os.File, error) { return OpenTerminal("") }
	}
	for line := range strings.Lines(cfg.AuthorizedKey) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(line))
		if err != nil {
			return nil, fmt.Errorf("sshd: authorized key %q: %w", line, err)
		}
		s.keys = append(s.keys, key.Marshal())
	}
	s.config = &ssh.ServerConfig{
		PublicKeyCallback: s.checkKey,
		AuthLogCallback: func(meta ssh.ConnMetadata, method string, err error) {
			if err != nil && method != "none" {
				s.log.Debug("ssh: authentication failed", "remote", meta.RemoteAddr().String(),
					"user", meta.User(), "method", method, "err", err)
			}
		},
		BannerCallback: s.banner,
		ServerVersion:  "SSH-2.0-cloudbox",
	}
	s.config.AddHostKey(cfg.HostKey)
	return s, nil
}

func (s *server) checkKey(meta ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
	if !slices.Contains(s.cfg.Users, meta.User()) {
		return nil, fmt.Errorf("user %q may not log in", meta.User())
	}
	wire := key.Marshal()
	for _, k := range s.keys {
		if string(k) == string(wire) {
			return &ssh.Permissions{Extensions: map[string]string{"key": ssh.FingerprintSHA256(key)}}, nil
		}
	}
	return nil, errors.New("key not authorized")
}

// banner tells root to use the AMI's user, the message AWS AMIs print.
func (s *server) banner(meta ssh.ConnMetadata) string {
	if meta.User() != "root" || len(s.cfg.Users) == 0 || slices.Contains(s.cfg.Users, "root") {
		return ""
	}
	return fmt.Sprintf("Please login as the user %q rather than the user \"root\".\n", s.cfg.Users[0])
}

// serveConn runs one client connection until it ends or ctx does; its
// commands are stopped when it ends.
func (s *server) serveConn(ctx context.Context, c net.Conn) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()

	_ = c.SetDeadline(time.Now().Add(handshakeTimeout))
	sconn, chans, reqs, err := ssh.NewServerConn(c, s.config)
	if err != nil {
		s.log.Debug("ssh: handshake failed", "remote", c.RemoteAddr().String(), "err", err)
		return
	}
	_ = c.SetDeadline(time.Time{})
	log := s.log.With("remote", c.RemoteAddr().String(), "user", sconn.User())
	log.Info("ssh: login", "key", sconn.Permissions.Extensions["key"])
	s.wg.Go(func() { ssh.DiscardRequests(reqs) })

	for nc := range chans {
		switch nc.ChannelType() {
		case "session":
			s.wg.Go(func() { s.serveSession(ctx, sconn, nc, log) })
		case "direct-tcpip":
			s.wg.Go(func() { s.serveDirect(ctx, nc, log) })
		default:
			_ = nc.Reject(ssh.UnknownChannelType, "unsupported channel type")
		}
	}
	log.Debug("ssh: disconnected")
}

package sshd

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"

	"golang.org/x/crypto/ssh"
)

// directRequest is the payload of a "direct-tcpip" channel (RFC 4254
// section 7.2).
type directRequest struct {
	Host       string
	Port       uint32
	OriginHost string
	OriginPort uint32
}

// serveDirect connects a "direct-tcpip" channel (ssh -L, ssh -W, the jump
// host of ssh -J) to host:port, dialed from inside the instance.
func (s *server) serveDirect(ctx context.Context, nc ssh.NewChannel, log *slog.Logger) {
	if s.cfg.Dial == nil {
		_ = nc.Reject(ssh.Prohibited, "port forwarding is disabled")
		return
	}
	var r directRequest
	if err := ssh.Unmarshal(nc.ExtraData(), &r); err != nil || r.Port > 65535 {
		_ = nc.Reject(ssh.ConnectionFailed, "bad direct-tcpip request")
		return
	}
	addr := net.JoinHostPort(r.Host, strconv.Itoa(int(r.Port)))
	dctx, cancel := context.WithTimeout(ctx, dialTimeout)
	conn, err := s.cfg.Dial(dctx, "tcp", addr)
	cancel()
	if err != nil {
		log.Debug("ssh: forwarding", "addr", addr, "err", err)
		_ = nc.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	defer conn.Close()
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	defer ch.Close()
	log.Debug("ssh: forwarding", "addr", addr)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	s.wg.Go(func() {
		ssh.DiscardRequests(reqs)
		// The channel is closed: the other direction may wait on a peer
		// that sends nothing.
		conn.Close()
	})

	var wg sync.WaitGroup
	wg.Go(func() {
		_, _ = io.Copy(conn, ch)
		closeWrite(conn)
	})
	_, _ = io.Copy(ch, conn)
	_ = ch.CloseWrite()
	wg.Wait()
}

// closeWrite half-closes conn when it can, closes it otherwise.
func closeWrite(conn net.Conn) {
	if cw, ok := conn.(interface{ CloseWrite() error }); ok {
		_ = cw.CloseWrite()
		return
	}
	conn.Close()
}

//go:build linux

package network

import (
	"context"
	"fmt"
	"net"
	"net/netip"

	"github.com/cloudbox/cloudbox/dataplane/nft"
	"github.com/google/nftables"
)

// withNFT runs fn with a netfilter connection opened inside ns.
func (l *Linux) withNFT(ns string, fn func(c *nftables.Conn) error) error {
	var c *nftables.Conn
	if err := l.Do(ns, func() (err error) {
		c, err = nft.NewConn()
		return err
	}); err != nil {
		return err
	}
	defer c.CloseLasting()
	return fn(c)
}

// ApplyTable replaces the namespace's table with t in one transaction.
func (l *Linux) ApplyTable(ns string, t *nft.Table) error {
	if err := t.Validate(); err != nil {
		return err
	}
	l.nftMu.Lock()
	defer l.nftMu.Unlock()
	var err error
	// Apply reads the table, then writes it; if someone else (a person
	// with nft) changed it in between, the batch fails whole: try once more
	// on a fresh connection.
	for range 2 {
		err = l.withNFT(ns, func(c *nftables.Conn) error { return nft.Apply(c, t) })
		if err == nil {
			return nil
		}
	}
	return fmt.Errorf("network: in %s: %w", ns, err)
}

// DeleteTable removes the namespace's table if it exists.
func (l *Linux) DeleteTable(ns, table string) error {
	l.nftMu.Lock()
	defer l.nftMu.Unlock()
	return l.withNFT(ns, func(c *nftables.Conn) error { return nft.Delete(c, table) })
}

// Counters reads the counters of the table's counted rules.
func (l *Linux) Counters(ns, table string) (map[nft.RuleID]nft.Counter, error) {
	var out map[nft.RuleID]nft.Counter
	err := l.withNFT(ns, func(c *nftables.Conn) (err error) {
		out, err = nft.ReadCounters(c, table)
		return err
	})
	return out, err
}

func tcpNet(a netip.Addr) string {
	if a.Is4() || a.Is4In6() {
		return "tcp4"
	}
	return "tcp6"
}

// ListenTCP opens a listener inside ns; it stays there.
func (l *Linux) ListenTCP(ns string, addr netip.AddrPort) (net.Listener, error) {
	if err := checkAddrPort(addr); err != nil {
		return nil, err
	}
	var ln net.Listener
	err := l.Do(ns, func() (err error) {
		ln, err = net.ListenTCP(tcpNet(addr.Addr()), net.TCPAddrFromAddrPort(addr))
		return err
	})
	return ln, err
}

// ListenUDP opens a UDP socket inside ns; it stays there.
func (l *Linux) ListenUDP(ns string, addr netip.AddrPort) (net.PacketConn, error) {
	if err := checkAddrPort(addr); err != nil {
		return nil, err
	}
	network := "udp4"
	if addr.Addr().Is6() && !addr.Addr().Is4In6() {
		network = "udp6"
	}
	var pc net.PacketConn
	err := l.Do(ns, func() (err error) {
		pc, err = net.ListenUDP(network, net.UDPAddrFromAddrPort(addr))
		return err
	})
	return pc, err
}

// DialTCP connects to addr from inside ns. The context bounds the connect.
func (l *Linux) DialTCP(ctx context.Context, ns string, addr netip.AddrPort) (net.Conn, error) {
	if err := checkAddrPort(addr); err != nil {
		return nil, err
	}
	var c net.Conn
	err := l.Do(ns, func() (err error) {
		var d net.Dialer
		c, err = d.DialContext(ctx, tcpNet(addr.Addr()), addr.String())
		return err
	})
	return c, err
}

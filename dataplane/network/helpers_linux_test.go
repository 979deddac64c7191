//go:build linux

package network

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// requireDataplane skips the test, with the reason, where the data plane
// cannot run (not root, no nftables...).
func requireDataplane(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces, veths and nftables tables")
	}
	checkOnce.Do(func() { checkErr = Check() })
	if checkErr != nil {
		t.Skipf("skipped: %v", checkErr)
	}
}

var (
	checkOnce sync.Once
	checkErr  error
)

// newTestLinux returns a Linux for a fresh daemon id, and removes all its
// namespaces when the test ends, pass or fail; it then checks that none
// remain.
func newTestLinux(t *testing.T) *Linux {
	t.Helper()
	requireDataplane(t)
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	id := "t" + hex.EncodeToString(b[:])
	l, err := NewLinux(id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := Cleanup(id); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		if left, _ := listNamespaces(Prefix(id)); len(left) > 0 {
			t.Errorf("namespaces left behind: %v", left)
		}
	})
	return l
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mac(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

var (
	pfx = netip.MustParsePrefix
	ip  = netip.MustParseAddr
	ap  = netip.MustParseAddrPort
)

// echoServer opens a TCP listener in ns at addr that answers every line
// with "<tag> <remote address>\n" and echoes nothing else; it is closed at
// the end of the test.
func echoServer(t *testing.T, n Network, ns string, addr netip.AddrPort, tag string) net.Listener {
	t.Helper()
	ln, err := n.ListenTCP(ns, addr)
	if err != nil {
		t.Fatalf("listen in %s on %s: %v", ns, addr, err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				buf := make([]byte, 256)
				for {
					c.SetDeadline(time.Now().Add(10 * time.Second))
					k, err := c.Read(buf)
					if err != nil {
						return
					}
					for range strings.Count(string(buf[:k]), "\n") {
						if _, err := fmt.Fprintf(c, "%s %s\n", tag, c.RemoteAddr()); err != nil {
							return
						}
					}
				}
			}()
		}
	}()
	return ln
}

// ask sends one line on c and returns the answer line.
func ask(c net.Conn) (string, error) {
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(c, "hello\n"); err != nil {
		return "", err
	}
	var line []byte
	b := make([]byte, 1)
	for {
		if _, err := c.Read(b); err != nil {
			return "", err
		}
		if b[0] == '\n' {
			return string(line), nil
		}
		line = append(line, b[0])
	}
}

// dial connects from ns with a timeout.
func dial(n Network, ns string, addr netip.AddrPort, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return n.DialTCP(ctx, ns, addr)
}

// mustReach dials from ns and returns the server's answer.
func mustReach(t *testing.T, n Network, ns string, addr netip.AddrPort) string {
	t.Helper()
	c, err := dial(n, ns, addr, 3*time.Second)
	if err != nil {
		t.Fatalf("from %s to %s: %v", ns, addr, err)
	}
	defer c.Close()
	ans, err := ask(c)
	if err != nil {
		t.Fatalf("from %s to %s: exchange: %v", ns, addr, err)
	}
	return ans
}

// dropWait is how long a dial waits before a connection counts as dropped.
const dropWait = time.Second

// mustBeDropped checks that a dial from ns times out (packets dropped, not
// refused).
func mustBeDropped(t *testing.T, n Network, ns string, addr netip.AddrPort) {
	t.Helper()
	c, err := dial(n, ns, addr, dropWait)
	if err == nil {
		c.Close()
		t.Fatalf("from %s to %s: connected, want dropped", ns, addr)
	}
	if !errors.Is(err, context.DeadlineExceeded) && !isTimeout(err) {
		t.Fatalf("from %s to %s: %v, want a timeout (dropped)", ns, addr, err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

//go:build linux

package vpc

import (
	"bufio"
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

	"github.com/cloudbox/cloudbox/dataplane/network"
	"github.com/cloudbox/cloudbox/desired"
)

var (
	checkOnce sync.Once
	checkErr  error
)

// newLinux returns the Network of a fresh daemon id; every namespace of it
// is removed when the test ends, and the test fails if any remains.
func newLinux(t *testing.T) (*network.Linux, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: creates network namespaces, veths and nftables tables")
	}
	checkOnce.Do(func() { checkErr = network.Check() })
	if checkErr != nil {
		t.Skipf("the data plane cannot run here: %v", checkErr)
	}
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	id := "v" + hex.EncodeToString(b[:])
	l, err := network.NewLinux(id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := network.Cleanup(id); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		if left, _ := l.Namespaces(); len(left) > 0 {
			t.Errorf("namespaces left behind: %v", left)
		}
	})
	return l, id
}

// serve opens a listener in ns that answers each line with "<tag> <remote
// address>"; it is closed at the end of the test.
func serve(t *testing.T, n network.Network, ns string, addr netip.AddrPort, tag string) {
	t.Helper()
	ln, err := n.ListenTCP(ns, addr)
	if err != nil {
		t.Fatalf("listen in %s on %s: %v", ns, addr, err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(20 * time.Second))
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					if _, err := fmt.Fprintf(c, "%s %s\n", tag, c.RemoteAddr()); err != nil {
						return
					}
				}
			})
		}
	})
}

func dial(n network.Network, ns string, addr netip.AddrPort, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return n.DialTCP(ctx, ns, addr)
}

// ask sends a line and reads the answer line.
func ask(c net.Conn) (string, error) {
	c.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := io.WriteString(c, "hello\n"); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	return strings.TrimSuffix(line, "\n"), err
}

// reach connects from ns and checks that the server's answer starts with
// want ("<tag> <source address>:").
func reach(t *testing.T, n network.Network, ns string, addr netip.AddrPort, want string) {
	t.Helper()
	c, err := dial(n, ns, addr, 3*time.Second)
	if err != nil {
		t.Fatalf("from %s to %s: %v", ns, addr, err)
	}
	defer c.Close()
	ans, err := ask(c)
	if err != nil {
		t.Fatalf("from %s to %s: %v", ns, addr, err)
	}
	if !strings.HasPrefix(ans, want) {
		t.Fatalf("from %s to %s: answer %q, want %q...", ns, addr, ans, want)
	}
}

// dropWait is how long a connection attempt waits before it counts as
// dropped.
const dropWait = time.Second

// dropped checks that a connection from ns times out: packets dropped
// silently, as AWS does, not refused.
func dropped(t *testing.T, n network.Network, ns string, addr netip.AddrPort) {
	t.Helper()
	c, err := dial(n, ns, addr, dropWait)
	if err == nil {
		c.Close()
		t.Fatalf("from %s to %s: connected, want dropped", ns, addr)
	}
	var ne net.Error
	if !errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &ne) && ne.Timeout()) {
		t.Fatalf("from %s to %s: %v, want a timeout", ns, addr, err)
	}
}

// hostRoutes counts the host's IPv4 routes into VPC or simulated public
// space (read from the test's main thread, which stays in the host).
func hostRoutes(t *testing.T) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/net/route")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		raw, err := hex.DecodeString(f[1])
		if err != nil || len(raw) != 4 {
			continue
		}
		a := netip.AddrFrom4([4]byte{raw[3], raw[2], raw[1], raw[0]})
		if pfx("10.0.0.0/8").Contains(a) || pfx("198.18.0.0/15").Contains(a) {
			n++
		}
	}
	return n
}

func at(a netip.Addr, port uint16) netip.AddrPort { return netip.AddrPortFrom(a, port) }

func TestKernel(t *testing.T) {
	l, _ := newLinux(t)
	hostBefore := hostRoutes(t)
	r := New(l, nil)
	start := time.Now()
	mustApply(t, r, testWorld())
	t.Logf("first Apply: %v", time.Since(start))

	serve(t, l, "i-web", at(netip.IPv4Unspecified(), 80), "web")
	serve(t, l, "i-web", at(netip.IPv4Unspecified(), 8080), "web8080")
	serve(t, l, "i-db", at(netip.IPv4Unspecified(), 3306), "db")
	serve(t, l, "i-peer", at(netip.IPv4Unspecified(), 80), "peer")
	serve(t, l, InternetNS, at(EchoAddr, 80), "internet")
	serve(t, l, RouterNS("vpc-1"), at(IMDSAddr, 80), "imds")
	serve(t, l, RouterNS("vpc-1"), at(desired.DNSServer(pfx("10.0.0.0/16")), 53), "dns")
	echo := at(EchoAddr, 80)
	toDB := at(dbIP, 3306)

	t.Run("internet reaches a public instance on an allowed port only", func(t *testing.T) {
		reach(t, l, InternetNS, at(webPub, 80), "web 198.18.0.10:")
		dropped(t, l, InternetNS, at(webPub, 8080))
	})
	t.Run("internet cannot reach a private instance", func(t *testing.T) {
		if c, err := dial(l, InternetNS, toDB, dropWait); err == nil {
			c.Close()
			t.Fatal("internet connected to the private instance")
		}
	})
	t.Run("public instance leaves with its public IP", func(t *testing.T) {
		reach(t, l, "i-web", echo, "internet 198.18.1.10:")
	})
	t.Run("private instance leaves through the NAT gateway", func(t *testing.T) {
		reach(t, l, "i-db", echo, "internet 198.18.1.5:")
	})
	t.Run("router addresses are not filtered", func(t *testing.T) {
		reach(t, l, "i-db", at(IMDSAddr, 80), "imds 10.0.2.30:")
		reach(t, l, "i-bastion", at(ip("10.0.0.2"), 53), "dns 10.0.1.20:")
	})
	t.Run("security group reference", func(t *testing.T) {
		reach(t, l, "i-web", toDB, "db 10.0.1.10:")
		dropped(t, l, "i-bastion", toDB)
	})

	t.Run("revoke keeps tracked connections", func(t *testing.T) {
		open, err := dial(l, "i-web", toDB, 3*time.Second)
		must(t, err)
		defer open.Close()
		if _, err := ask(open); err != nil {
			t.Fatal(err)
		}
		w := testWorld()
		w.VPCs[0].SecurityGroups[2].Ingress = nil
		mustApply(t, r, w)
		if _, err := ask(open); err != nil {
			t.Fatalf("open connection broken by the revocation: %v", err)
		}
		dropped(t, l, "i-web", toDB)
		mustApply(t, r, testWorld())
		reach(t, l, "i-web", toDB, "db 10.0.1.10:")
	})

	t.Run("network ACL between subnets", func(t *testing.T) {
		w := testWorld()
		acl := w.VPCs[0].NetworkACLs[1]
		acl.Ingress = append([]desired.ACLEntry{{Number: 50, Protocol: desired.ProtoTCP, FromPort: 3306, ToPort: 3306, CIDR: pfx("10.0.1.0/24"), ICMPType: -1, ICMPCode: -1}}, acl.Ingress...)
		mustApply(t, r, w)
		dropped(t, l, "i-web", toDB)
		mustApply(t, r, testWorld())
		reach(t, l, "i-web", toDB, "db 10.0.1.10:")
	})

	t.Run("no route to the NAT gateway", func(t *testing.T) {
		w := testWorld()
		rt := w.VPCs[0].RouteTables[1]
		rt.Routes = rt.Routes[:1]
		mustApply(t, r, w)
		dropped(t, l, "i-db", echo)
		mustApply(t, r, testWorld())
		reach(t, l, "i-db", echo, "internet 198.18.1.5:")
	})

	t.Run("peering needs routes on both sides", func(t *testing.T) {
		w := testWorld()
		addPeering(w, true, false)
		mustApply(t, r, w)
		dropped(t, l, "i-web", at(peerIP, 80))
		w = testWorld()
		addPeering(w, true, true)
		mustApply(t, r, w)
		reach(t, l, "i-web", at(peerIP, 80), "peer 10.0.1.10:")
		mustApply(t, r, testWorld())
	})

	t.Run("restart", func(t *testing.T) {
		open, err := dial(l, "i-web", toDB, 3*time.Second)
		must(t, err)
		defer open.Close()
		must(t, l.EnsureNamespace("i-stale"))
		r2 := New(l, nil)
		start := time.Now()
		mustApply(t, r2, testWorld())
		t.Logf("Apply after a restart: %v", time.Since(start))
		nss, err := l.Namespaces()
		must(t, err)
		for _, ns := range nss {
			if ns == "i-stale" {
				t.Fatal("stale namespace survived the restart")
			}
		}
		if _, err := ask(open); err != nil {
			t.Fatalf("connection broken by the restart: %v", err)
		}
		reach(t, l, "i-db", echo, "internet 198.18.1.5:")
		reach(t, l, InternetNS, at(webPub, 80), "web 198.18.0.10:")
	})

	if got := hostRoutes(t); got != hostBefore {
		t.Errorf("host routes into VPC or public space: %d before, %d after", hostBefore, got)
	}
}

// TestKernelApplyTime measures Apply for 50 instances in one VPC.
func TestKernelApplyTime(t *testing.T) {
	l, _ := newLinux(t)
	w := testWorld()
	v := w.VPCs[0]
	for i := range 46 {
		a := netip.AddrFrom4([4]byte{10, 0, 1, byte(100 + i)})
		id := fmt.Sprintf("i-many%02d", i)
		v.ENIs = append(v.ENIs, &desired.ENI{ID: fmt.Sprintf("eni-many%02d", i), Subnet: "subnet-pub", MAC: mac(fmt.Sprintf("02:00:0a:00:01:%02x", 100+i)),
			PrivateIPs: []netip.Addr{a}, PublicIPs: map[netip.Addr]netip.Addr{a: netip.AddrFrom4([4]byte{198, 18, 2, byte(i)})},
			Groups: []string{"sg-web"}, OwnerKind: desired.OwnerInstance, OwnerID: id})
		w.Instances = append(w.Instances, &desired.Instance{ID: id, VPC: "vpc-1"})
	}
	r := New(l, nil)
	start := time.Now()
	mustApply(t, r, w)
	t.Logf("first Apply, 50 instances: %v", time.Since(start))
	start = time.Now()
	mustApply(t, New(l, nil), w)
	t.Logf("Apply after a restart, 50 instances: %v", time.Since(start))
	serve(t, l, "i-many45", at(netip.IPv4Unspecified(), 80), "many")
	reach(t, l, InternetNS, at(ip("198.18.2.45"), 80), "many 198.18.0.10:")
	start = time.Now()
	w.VPCs[0].SecurityGroups[0].Ingress[0].ToPort = 81
	mustApply(t, r, w)
	t.Logf("Apply of one rule change: %v", time.Since(start))
}

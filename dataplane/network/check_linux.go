//go:build linux

package network

import (
	"bufio"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/cloudbox/cloudbox/dataplane/nft"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Check reports whether the data plane can run on this machine: nil when
// it can, else an error whose text says why in plain words (cloudbox still
// starts without a data plane, answers the APIs, and says so).
//
// It checks the capabilities (CAP_NET_ADMIN for links, routes and
// nftables; CAP_SYS_ADMIN for setns and the bind mounts under /run/netns),
// then, in a private namespace that disappears when Check returns, that a
// namespace can be made, a veth pair created, and an nftables table with a
// set, a counter and NAT installed and read back through netlink.
func Check() error {
	eff, err := effectiveCaps()
	if err != nil {
		return fmt.Errorf("data plane unavailable: cannot read capabilities: %w", err)
	}
	var missing []string
	if eff&(1<<unix.CAP_NET_ADMIN) == 0 {
		missing = append(missing, "CAP_NET_ADMIN")
	}
	if eff&(1<<unix.CAP_SYS_ADMIN) == 0 {
		missing = append(missing, "CAP_SYS_ADMIN")
	}
	if len(missing) > 0 {
		return fmt.Errorf("data plane unavailable: not root (missing %s); run cloudbox as root for VPC networking", strings.Join(missing, " and "))
	}
	if _, err := os.Stat("/proc/self/ns/net"); err != nil {
		return fmt.Errorf("data plane unavailable: the kernel has no network namespaces (%v)", err)
	}
	if err := os.MkdirAll(RunDir, 0o755); err != nil {
		return fmt.Errorf("data plane unavailable: cannot create %s: %v", RunDir, err)
	}
	err = inThrowawayThread(func() error {
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			return fmt.Errorf("cannot create a network namespace: %w", err)
		}
		if err := loopbackUp(); err != nil {
			return fmt.Errorf("netlink does not work in a new namespace: %w", err)
		}
		h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
		if err != nil {
			return fmt.Errorf("netlink does not work: %w", err)
		}
		defer h.Close()
		if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "cbcheck0"}, PeerName: "cbcheck1"}); err != nil {
			return fmt.Errorf("cannot create a veth pair (is the veth module available?): %w", err)
		}
		c, err := nft.NewConn()
		if err != nil {
			return fmt.Errorf("nftables netlink socket: %w", err)
		}
		defer c.CloseLasting()
		t := &nft.Table{
			Name: "cloudbox_check",
			Sets: []nft.Set{{Name: "s", Family: nft.IPv4, Elements: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}},
			Chains: []nft.Chain{
				{Name: "f", Hook: nft.Forward, Rules: []nft.Rule{{ID: "r", Match: []nft.Match{nft.SrcInSet("s"), nft.TCP, nft.DPort(80), nft.Established | nft.Related}, Counter: true, Action: nft.Accept()}}},
				{Name: "n", Hook: nft.Postrouting, Type: nft.NAT, Priority: nft.PrioritySrcNAT, Rules: []nft.Rule{{Action: nft.Masquerade{}}}},
			},
		}
		if err := nft.Apply(c, t); err != nil {
			return fmt.Errorf("nftables does not accept cloudbox's rules (kernel without nf_tables, inet nat, conntrack?): %w", err)
		}
		if _, err := nft.ReadCounters(c, t.Name); err != nil {
			return fmt.Errorf("cannot read nftables counters: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("data plane unavailable: %w", err)
	}
	return nil
}

func effectiveCaps() (uint64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "CapEff:"); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no CapEff line in /proc/self/status")
}

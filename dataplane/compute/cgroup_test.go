//go:build linux

package compute

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// This machine's layout: v1 controllers under a tmpfs, and a cgroup2
// mount without controllers (systemd's "hybrid").
const hybridMountinfo = `31 27 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

func TestDetectCgroups(t *testing.T) {
	none := func(string) string { return "" }
	cg, err := parseCgroupMounts(hybridMountinfo, none)
	if err != nil || cg.v2 || cg.cpu != "/sys/fs/cgroup/cpu" || cg.cpuacct != "/sys/fs/cgroup/cpuacct" ||
		cg.memory != "/sys/fs/cgroup/memory" || cg.pids != "/sys/fs/cgroup/pids" {
		t.Errorf("hybrid: %+v, %v", cg, err)
	}
	if h := cg.hierarchies(); len(h) != 4 {
		t.Errorf("hybrid hierarchies %v", h)
	}

	coMounted := "25 24 0:22 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n" +
		"26 24 0:23 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
	cg, err = parseCgroupMounts(coMounted, none)
	if err != nil || cg.cpu != cg.cpuacct || len(cg.hierarchies()) != 2 || cg.pids != "" {
		t.Errorf("co-mounted: %+v, %v", cg, err)
	}

	unified := "30 25 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n"
	cg, err = parseCgroupMounts(unified, func(mnt string) string {
		if mnt == "/sys/fs/cgroup" {
			return "cpuset cpu io memory hugetlb pids rdma misc\n"
		}
		return ""
	})
	if err != nil || !cg.v2 || cg.unified != "/sys/fs/cgroup" {
		t.Errorf("unified: %+v, %v", cg, err)
	}
	if _, err := parseCgroupMounts(unified, func(string) string { return "pids\n" }); err == nil ||
		!strings.Contains(err.Error(), "cpu and memory") {
		t.Errorf("unified without controllers: %v", err)
	}
	if _, err := parseCgroupMounts("27 1 254:0 / / rw - ext4 /dev/vda rw\n", none); err == nil {
		t.Error("no cgroups: no error")
	}
	if got := unescapeMountinfo(`/a\040b\134c`); got != `/a b\c` {
		t.Errorf("unescape: %q", got)
	}
}

// The v2 driver writes the right files. cgroupfs cannot be faked fully
// (the kernel makes a new group's files), so the tree is made beforehand.
func TestCgroupV2Files(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, cgroupPrefix, "d1", "i-1")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"cgroup.controllers":                 "cpu memory pids",
		"cgroup.subtree_control":             "",
		"cloudbox/cgroup.controllers":        "cpu memory pids",
		"cloudbox/cgroup.subtree_control":    "",
		"cloudbox/d1/cgroup.controllers":     "cpu memory pids",
		"cloudbox/d1/cgroup.subtree_control": "",
		"cloudbox/d1/i-1/cpu.max":            "max 100000",
		"cloudbox/d1/i-1/memory.max":         "max",
		"cloudbox/d1/i-1/memory.swap.max":    "max",
		"cloudbox/d1/i-1/pids.max":           "max",
		"cloudbox/d1/i-1/cgroup.procs":       "",
		"cloudbox/d1/i-1/cpu.stat":           "usage_usec 1500000\nuser_usec 1000000\nsystem_usec 500000\n",
		"cloudbox/d1/i-1/memory.current":     "12345678\n",
		"cloudbox/d1/i-1/memory.events":      "low 0\nhigh 0\nmax 4\noom 2\noom_kill 2\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cg := &cgroups{v2: true, unified: root}
	if err := cg.create("d1", "i-1", limits{vcpus: 2, memoryMiB: 64, pidsMax: 100}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"cloudbox/d1/i-1/cpu.max":         "200000 100000",
		"cloudbox/d1/i-1/memory.max":      "67108864",
		"cloudbox/d1/i-1/memory.swap.max": "0",
		"cloudbox/d1/i-1/pids.max":        "100",
		// The last controller enabled at each level (a regular file keeps
		// only the last write; cgroupfs would accumulate them).
		"cgroup.subtree_control":             "+pids",
		"cloudbox/d1/cgroup.subtree_control": "+pids",
	} {
		if got := readCgroup(root, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	s, err := cg.stats("d1", "i-1")
	if err != nil || s.CPUTime != 1500*time.Millisecond || s.MemoryBytes != 12345678 || s.MemoryLimitBytes != 67108864 || s.OOMKills != 2 {
		t.Errorf("stats %+v, %v", s, err)
	}
	if ids := cg.instances("d1"); len(ids) != 1 || ids[0] != "i-1" {
		t.Errorf("instances %v", ids)
	}
	if !cg.exists("d1", "i-1") || cg.exists("d1", "i-2") {
		t.Error("exists")
	}
}

func TestNetDev(t *testing.T) {
	const table = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    1000      10    0    0    0     0          0         0     1000      10    0    0    0     0       0          0
  eth0: 4242       31    0    0    0     0          0         0     1717      17    0    0    0     0       0          0
`
	in, out := netDev(strings.NewReader(table))
	if in != 4242 || out != 1717 {
		t.Errorf("netDev = %d in, %d out; want 4242, 1717 (loopback aside)", in, out)
	}
}

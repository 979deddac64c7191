package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cloudbox/cloudbox/controllers"
)

// instanceMemory is what one instance's memory cgroup says.
type instanceMemory struct {
	usage int64 // memory.usage_in_bytes (v1) or memory.current (v2): all charged pages, page cache included
	anon  int64 // memory.stat total_rss (v1) or anon (v2): anonymous memory only
	rss   int64 // sum of VmRSS over the cgroup's processes (shared pages counted whole in each)
	pss   int64 // sum of Pss: shared pages divided among their sharers (the inits and the daemon run one binary)
	procs int
}

func benchDataplaneMemory(ctx context.Context, r *runner) (section, error) {
	const title = "Data plane: memory per running instance"
	if err := controllers.Check(); err != nil {
		return skipped(title, err), nil
	}
	s := section{
		title: title,
		method: fmt.Sprintf("%d idle instances (t2.micro, no user data: cloudbox's init alone) are launched in one RunInstances call into "+
			"one subnet; once all are running and 2 s have passed, each instance's memory cgroup (cloudbox/<daemon>/<instance> in the "+
			"memory hierarchy) is read, and the daemon's VmRSS is compared with its VmRSS before the launch (after the VPC was built, "+
			"also after 2 s idle). The daemon's growth includes its per-instance SSH server and bookkeeping; the kernel's namespaces, "+
			"veths and nftables rules are charged to neither. MB are 10^6 bytes.", dpBatch),
		table: table{header: []string{"Per instance", "p50", "min", "max"}},
	}
	c, err := startDataplane(ctx, r)
	if err != nil {
		return s, err
	}
	mem, before, after, err := idleMemory(ctx, c)
	if err = errors.Join(err, c.close()); err != nil {
		return s, err
	}
	// col adds a row of one figure over the instances and returns its p50.
	col := func(name string, f func(instanceMemory) int64) int64 {
		var v []int64
		for _, m := range mem {
			v = append(v, f(m))
		}
		slices.Sort(v)
		p50 := v[(len(v)-1)/2]
		s.table.rows = append(s.table.rows, []string{name, mb(p50), mb(v[0]), mb(v[len(v)-1])})
		return p50
	}
	usage := col("cgroup memory usage (incl. page cache)", func(m instanceMemory) int64 { return m.usage })
	col("cgroup anonymous memory", func(m instanceMemory) int64 { return m.anon })
	col("VmRSS of the instance's processes", func(m instanceMemory) int64 { return m.rss })
	pss := col("PSS of the instance's processes", func(m instanceMemory) int64 { return m.pss })
	growth := (after - before) / int64(len(mem))
	s.table.rows = append(s.table.rows, []string{"daemon VmRSS growth (one figure)", kb(growth), "–", "–"})
	s.notes = append(s.notes,
		fmt.Sprintf("Daemon VmRSS: %s with no instance, %s with %d idle instances: **%s per instance**.",
			mb(before), mb(after), len(mem), kb(growth)),
		fmt.Sprintf("Per running idle instance (processes: %d, cloudbox's init), with the daemon's growth: **%s** by PSS, %s by cgroup usage (p50s).",
			mem[0].procs, mb(pss+growth), mb(usage+growth)),
		"The cgroup figures vary from instance to instance: pages an init touches before the daemon moves it into its cgroup "+
			"stay charged where they were (a cgroup does not take over the memory charges of a process that joins it). VmRSS counts the shared pages of the cloudbox binary "+
			"(the daemon and every init run it) whole in every instance; PSS divides them among their sharers.")
	return s, nil
}

// idleMemory launches dpBatch idle instances and reads their cgroups and
// the daemon's RSS before and after.
func idleMemory(ctx context.Context, c *dpCloud) (mem []instanceMemory, before, after int64, err error) {
	settle := func() error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(2 * time.Second):
			return nil
		}
	}
	if err := settle(); err != nil {
		return nil, 0, 0, err
	}
	if before, err = c.daemonRSS(); err != nil {
		return nil, 0, 0, err
	}
	out, _, err := c.launch(ctx, c.subnetB, types.InstanceTypeT2Micro, dpBatch, "")
	if err != nil {
		return nil, 0, 0, err
	}
	var ids []string
	for _, in := range out.Instances {
		ids = append(ids, aws.ToString(in.InstanceId))
	}
	if _, err := c.waitRunning(ctx, ids, time.Minute); err != nil {
		return nil, 0, 0, err
	}
	if err := settle(); err != nil {
		return nil, 0, 0, err
	}
	if after, err = c.daemonRSS(); err != nil {
		return nil, 0, 0, err
	}
	for _, id := range ids {
		m, err := readInstanceMemory(c.daemonID, id)
		if err != nil {
			return nil, 0, 0, err
		}
		mem = append(mem, m)
	}
	return mem, before, after, nil
}

// readInstanceMemory reads the memory cgroup of one instance, v1 or v2.
func readInstanceMemory(daemonID, id string) (instanceMemory, error) {
	var m instanceMemory
	for _, dir := range memCgroupDirs(daemonID, id) {
		stat, err := os.ReadFile(filepath.Join(dir, "memory.stat"))
		if err != nil {
			continue
		}
		usageFile, anonKey := "memory.usage_in_bytes", "total_rss"
		if _, err := os.Stat(filepath.Join(dir, "memory.current")); err == nil {
			usageFile, anonKey = "memory.current", "anon"
		}
		if m.usage, err = readInt(filepath.Join(dir, usageFile)); err != nil {
			return m, err
		}
		if m.anon, err = statValue(string(stat), anonKey); err != nil {
			return m, fmt.Errorf("%s/memory.stat: %w", dir, err)
		}
		procs, err := os.ReadFile(filepath.Join(dir, "cgroup.procs"))
		if err != nil {
			return m, err
		}
		for _, f := range strings.Fields(string(procs)) {
			pid, _ := strconv.Atoi(f)
			rss, err := vmRSS(pid)
			if err != nil {
				continue // exited meanwhile
			}
			pss, err := smapsPss(pid)
			if err != nil {
				return m, err
			}
			m.rss += rss * 1024
			m.pss += pss * 1024
			m.procs++
		}
		if m.procs == 0 {
			return m, fmt.Errorf("no process in %s", dir)
		}
		return m, nil
	}
	return m, fmt.Errorf("no memory cgroup of %s in %v", id, memCgroupDirs(daemonID, id))
}

// smapsPss reads Pss (in kB) from /proc/PID/smaps_rollup.
func smapsPss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "Pss:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no Pss in /proc/%d/smaps_rollup", pid)
}

// statValue is the value of key in a memory.stat file ("key value" lines).
func statValue(stat, key string) (int64, error) {
	for line := range strings.Lines(stat) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), " "); ok && k == key {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("no %q", key)
}

func readInt(path string) (int64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

// idleNodeMemory adds to s the memory of idle data-tier nodes (kind
// "DB" or "cache"): each node's cgroup, found from its init's PID.
func idleNodeMemory(c *dpCloud, s *section, kind string, nodes []string, initOf func(string) (int, error)) error {
	var mem []instanceMemory
	for _, n := range nodes {
		pid, err := initOf(n)
		if err != nil {
			return err
		}
		id, err := cgroupOf(pid)
		if err != nil {
			return err
		}
		m, err := readInstanceMemory(c.daemonID, id)
		if err != nil {
			return err
		}
		c.r.logf("  %s: cgroup %s, %s (anon %s), %d processes", n, id, mb(m.usage), mb(m.anon), m.procs)
		mem = append(mem, m)
	}
	col := func(name string, f func(instanceMemory) int64) {
		var v []int64
		for _, m := range mem {
			v = append(v, f(m))
		}
		slices.Sort(v)
		s.table.rows = append(s.table.rows, []string{name, mb(v[(len(v)-1)/2]), mb(v[0]), mb(v[len(v)-1]), strconv.Itoa(len(v))})
	}
	col("Idle "+kind+" node: cgroup memory.current (incl. page cache)", func(m instanceMemory) int64 { return m.usage })
	col("Idle "+kind+" node: cgroup anonymous memory", func(m instanceMemory) int64 { return m.anon })
	col("Idle "+kind+" node: PSS of its processes", func(m instanceMemory) int64 { return m.pss })
	return nil
}

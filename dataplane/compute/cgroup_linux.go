//go:build linux

package compute

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// cgroupPrefix is the top directory of every cloudbox cgroup, in every
// hierarchy: cloudbox/<daemonID>/<instanceID>. It sits at the root of the
// hierarchy (not under the daemon's own cgroup) so that a restarted daemon,
// or `cloudbox reset`, finds a crashed daemon's instances wherever it runs.
const cgroupPrefix = "cloudbox"

// cfsPeriod is the CFS period (µs) of every instance: quota = vCPUs × period.
const cfsPeriod = 100000

// cgroups drives either cgroup v2 (one unified hierarchy with the cpu and
// memory controllers) or cgroup v1 (one hierarchy per controller, possibly
// co-mounted). Paths are mount points as seen in this mount namespace.
type cgroups struct {
	v2 bool
	// unified is the cgroup2 mount point (v2 only).
	unified string
	// cpu, cpuacct, memory, pids are the v1 hierarchies' mount points (the
	// same path when co-mounted); pids may be "".
	cpu, cpuacct, memory, pids string
}

// detectCgroups finds which cgroup version is in effect from
// /proc/self/mountinfo: v1 when the cpu, cpuacct and memory controllers are
// mounted as v1 hierarchies (legacy and hybrid layouts, where the cgroup2
// mount has no controllers), else v2 when a cgroup2 mount offers cpu and
// memory.
func detectCgroups() (*cgroups, error) {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	return parseCgroupMounts(string(data), func(mnt string) string {
		b, _ := os.ReadFile(filepath.Join(mnt, "cgroup.controllers"))
		return string(b)
	})
}

func parseCgroupMounts(mountinfo string, controllers func(mnt string) string) (*cgroups, error) {
	cg := &cgroups{}
	var unified []string
	for line := range strings.Lines(mountinfo) {
		fields := strings.Fields(line)
		sep := slices.Index(fields, "-")
		if sep < 5 || len(fields) < sep+4 {
			continue
		}
		mnt := unescapeMountinfo(fields[4])
		switch fields[sep+1] {
		case "cgroup":
			for _, opt := range strings.Split(fields[sep+3], ",") {
				for _, c := range []struct {
					name string
					dst  *string
				}{{"cpu", &cg.cpu}, {"cpuacct", &cg.cpuacct}, {"memory", &cg.memory}, {"pids", &cg.pids}} {
					if opt == c.name && *c.dst == "" {
						*c.dst = mnt
					}
				}
			}
		case "cgroup2":
			unified = append(unified, mnt)
		}
	}
	if cg.cpu != "" && cg.cpuacct != "" && cg.memory != "" {
		return cg, nil
	}
	for _, mnt := range unified {
		ctrls := strings.Fields(controllers(mnt))
		if slices.Contains(ctrls, "cpu") && slices.Contains(ctrls, "memory") {
			return &cgroups{v2: true, unified: mnt}, nil
		}
	}
	switch {
	case cg.cpu != "" || cg.memory != "":
		return nil, fmt.Errorf("cgroup v1 is in use but the cpu, cpuacct and memory controllers are not all mounted (cpu=%q cpuacct=%q memory=%q)", cg.cpu, cg.cpuacct, cg.memory)
	case len(unified) > 0:
		return nil, fmt.Errorf("cgroup v2 at %s does not offer the cpu and memory controllers", unified[0])
	}
	return nil, errors.New("no cgroup file system is mounted (neither v1 nor v2)")
}

// unescapeMountinfo undoes mountinfo's octal escapes (\040 for space...).
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func (cg *cgroups) String() string {
	if cg.v2 {
		return "cgroup v2 at " + cg.unified
	}
	return fmt.Sprintf("cgroup v1 (cpu %s, cpuacct %s, memory %s, pids %s)", cg.cpu, cg.cpuacct, cg.memory, cg.pids)
}

// hierarchies returns the distinct mount points in use.
func (cg *cgroups) hierarchies() []string {
	if cg.v2 {
		return []string{cg.unified}
	}
	var out []string
	for _, m := range []string{cg.cpu, cg.cpuacct, cg.memory, cg.pids} {
		if m != "" && !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	return out
}

func (cg *cgroups) path(mnt, daemonID, id string) string {
	return filepath.Join(mnt, cgroupPrefix, daemonID, id)
}

// limits are what an instance's cgroup enforces.
type limits struct {
	vcpus     int
	memoryMiB int
	pidsMax   int
}

// create makes (or reuses) the instance's cgroup in every hierarchy and
// sets its limits.
func (cg *cgroups) create(daemonID, id string, lim limits) error {
	for _, mnt := range cg.hierarchies() {
		dir := mnt
		for _, part := range []string{cgroupPrefix, daemonID, id} {
			if cg.v2 {
				// A v2 cgroup's children get only the controllers its
				// subtree_control enables; the root and our own levels hold
				// no processes, so enabling is allowed.
				if err := cg.enableControllers(dir); err != nil {
					return err
				}
			}
			dir = filepath.Join(dir, part)
			if err := mkdirCgroup(dir); err != nil {
				return err
			}
		}
	}
	mem := uint64(lim.memoryMiB) << 20
	if cg.v2 {
		dir := cg.path(cg.unified, daemonID, id)
		if err := writeCgroup(dir, "cpu.max", fmt.Sprintf("%d %d", lim.vcpus*cfsPeriod, cfsPeriod)); err != nil {
			return err
		}
		if err := writeCgroup(dir, "memory.max", strconv.FormatUint(mem, 10)); err != nil {
			return err
		}
		// No swap: the memory limit is the instance's RAM.
		if err := writeCgroup(dir, "memory.swap.max", "0"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		if err := writeCgroup(dir, "pids.max", strconv.Itoa(lim.pidsMax)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		return nil
	}
	cpu := cg.path(cg.cpu, daemonID, id)
	if err := writeCgroup(cpu, "cpu.cfs_period_us", strconv.Itoa(cfsPeriod)); err != nil {
		return err
	}
	if err := writeCgroup(cpu, "cpu.cfs_quota_us", strconv.Itoa(lim.vcpus*cfsPeriod)); err != nil {
		return err
	}
	memDir := cg.path(cg.memory, daemonID, id)
	// memsw (memory+swap) must stay >= the memory limit at every step:
	// lift it, set the limit, then pin memsw to the limit (no swap).
	// Kernels booted without swap accounting have no memsw files.
	hasMemsw := writeCgroup(memDir, "memory.memsw.limit_in_bytes", "-1") == nil
	if err := writeCgroup(memDir, "memory.limit_in_bytes", strconv.FormatUint(mem, 10)); err != nil {
		return err
	}
	if hasMemsw {
		if err := writeCgroup(memDir, "memory.memsw.limit_in_bytes", strconv.FormatUint(mem, 10)); err != nil {
			return err
		}
	} else {
		_ = writeCgroup(memDir, "memory.swappiness", "0")
	}
	if cg.pids != "" {
		if err := writeCgroup(cg.path(cg.pids, daemonID, id), "pids.max", strconv.Itoa(lim.pidsMax)); err != nil {
			return err
		}
	}
	return nil
}

func (cg *cgroups) enableControllers(dir string) error {
	have := strings.Fields(readCgroup(dir, "cgroup.subtree_control"))
	avail := strings.Fields(readCgroup(dir, "cgroup.controllers"))
	for _, c := range []string{"cpu", "memory", "pids"} {
		if slices.Contains(have, c) || !slices.Contains(avail, c) {
			continue
		}
		if err := writeCgroup(dir, "cgroup.subtree_control", "+"+c); err != nil {
			return fmt.Errorf("enabling the %s controller in %s: %w", c, dir, err)
		}
	}
	return nil
}

// mkdirCgroup makes a cgroup directory. A v1 cpuset hierarchy (when
// co-mounted with one we use) leaves a new group's cpus and mems empty,
// which refuses tasks: copy them from the parent.
func mkdirCgroup(dir string) error {
	if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		cur, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || strings.TrimSpace(string(cur)) != "" {
			continue
		}
		if err := writeCgroup(dir, f, readCgroup(filepath.Dir(dir), f)); err != nil {
			return err
		}
	}
	return nil
}

func writeCgroup(dir, file, value string) error {
	f, err := os.OpenFile(filepath.Join(dir, file), os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(value)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %q to %s: %w", value, filepath.Join(dir, file), err)
	}
	return nil
}

func readCgroup(dir, file string) string {
	b, _ := os.ReadFile(filepath.Join(dir, file))
	return strings.TrimSpace(string(b))
}

// addProc moves pid into the instance's cgroup in every hierarchy.
func (cg *cgroups) addProc(daemonID, id string, pid int) error {
	for _, mnt := range cg.hierarchies() {
		if err := writeCgroup(cg.path(mnt, daemonID, id), "cgroup.procs", strconv.Itoa(pid)); err != nil {
			return err
		}
	}
	return nil
}

// procs lists the host PIDs in the instance's cgroup (in any hierarchy).
func (cg *cgroups) procs(daemonID, id string) []int {
	var pids []int
	for _, mnt := range cg.hierarchies() {
		for _, f := range strings.Fields(readCgroup(cg.path(mnt, daemonID, id), "cgroup.procs")) {
			if pid, err := strconv.Atoi(f); err == nil && !slices.Contains(pids, pid) {
				pids = append(pids, pid)
			}
		}
	}
	slices.Sort(pids)
	return pids
}

// exists reports whether the instance has a cgroup in any hierarchy.
func (cg *cgroups) exists(daemonID, id string) bool {
	for _, mnt := range cg.hierarchies() {
		if _, err := os.Stat(cg.path(mnt, daemonID, id)); err == nil {
			return true
		}
	}
	return false
}

// killAll sends SIGKILL to every process of the instance (cgroup.kill on
// v2 kernels that have it, which also catches processes forked meanwhile).
func (cg *cgroups) killAll(daemonID, id string) {
	if cg.v2 && writeCgroup(cg.path(cg.unified, daemonID, id), "cgroup.kill", "1") == nil {
		return
	}
	for _, pid := range cg.procs(daemonID, id) {
		_ = unix.Kill(pid, unix.SIGKILL)
	}
}

// waitEmpty polls until the instance's cgroup has no process, killing
// whatever is left each round when kill is set.
func (cg *cgroups) waitEmpty(daemonID, id string, deadline time.Time, kill bool) error {
	for {
		pids := cg.procs(daemonID, id)
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("compute: processes %v of %s still running", pids, id)
		}
		if kill {
			cg.killAll(daemonID, id)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// remove deletes the instance's cgroup in every hierarchy; it must be
// empty. A cgroup whose last task just exited can be busy for a moment, so
// EBUSY is retried until the deadline.
func (cg *cgroups) remove(daemonID, id string, deadline time.Time) error {
	for _, mnt := range cg.hierarchies() {
		if err := rmdirRetry(cg.path(mnt, daemonID, id), deadline); err != nil {
			return err
		}
	}
	return nil
}

// removeDaemon deletes the daemon's (empty) cgroup directory, and the
// cloudbox directory when no other daemon uses it.
func (cg *cgroups) removeDaemon(daemonID string, deadline time.Time) error {
	for _, mnt := range cg.hierarchies() {
		if err := rmdirRetry(filepath.Join(mnt, cgroupPrefix, daemonID), deadline); err != nil {
			return err
		}
		_ = unix.Rmdir(filepath.Join(mnt, cgroupPrefix)) // busy when another daemon has instances
	}
	return nil
}

func rmdirRetry(dir string, deadline time.Time) error {
	for {
		err := unix.Rmdir(dir)
		if err == nil || errors.Is(err, unix.ENOENT) {
			return nil
		}
		if !errors.Is(err, unix.EBUSY) || time.Now().After(deadline) {
			return fmt.Errorf("compute: removing cgroup %s: %w", dir, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// instances lists the ids that have a cgroup under daemonID.
func (cg *cgroups) instances(daemonID string) []string {
	var ids []string
	for _, mnt := range cg.hierarchies() {
		ents, _ := os.ReadDir(filepath.Join(mnt, cgroupPrefix, daemonID))
		for _, e := range ents {
			if e.IsDir() && validName(e.Name()) && !slices.Contains(ids, e.Name()) {
				ids = append(ids, e.Name())
			}
		}
	}
	slices.Sort(ids)
	return ids
}

// daemons lists the daemon ids that have a cgroup directory.
func (cg *cgroups) daemons() []string {
	var ids []string
	for _, mnt := range cg.hierarchies() {
		ents, _ := os.ReadDir(filepath.Join(mnt, cgroupPrefix))
		for _, e := range ents {
			if e.IsDir() && validName(e.Name()) && !slices.Contains(ids, e.Name()) {
				ids = append(ids, e.Name())
			}
		}
	}
	return ids
}

// stats reads the instance's counters.
func (cg *cgroups) stats(daemonID, id string) (Stats, error) {
	var s Stats
	if cg.v2 {
		dir := cg.path(cg.unified, daemonID, id)
		usec, err := keyedValue(filepath.Join(dir, "cpu.stat"), "usage_usec")
		if err != nil {
			return s, err
		}
		s.CPUTime = time.Duration(usec) * time.Microsecond
		if s.MemoryBytes, err = readUint(filepath.Join(dir, "memory.current")); err != nil {
			return s, err
		}
		s.MemoryLimitBytes, _ = readUint(filepath.Join(dir, "memory.max")) // "max": 0
		s.OOMKills, _ = keyedValue(filepath.Join(dir, "memory.events"), "oom_kill")
		return s, nil
	}
	ns, err := readUint(filepath.Join(cg.path(cg.cpuacct, daemonID, id), "cpuacct.usage"))
	if err != nil {
		return s, err
	}
	s.CPUTime = time.Duration(ns)
	mem := cg.path(cg.memory, daemonID, id)
	if s.MemoryBytes, err = readUint(filepath.Join(mem, "memory.usage_in_bytes")); err != nil {
		return s, err
	}
	s.MemoryLimitBytes, _ = readUint(filepath.Join(mem, "memory.limit_in_bytes"))
	s.OOMKills, _ = keyedValue(filepath.Join(mem, "memory.oom_control"), "oom_kill")
	return s, nil
}

func readUint(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
}

// keyedValue reads "key value" lines (cpu.stat, memory.events...).
func keyedValue(path, key string) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			return strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("%s: no %s", path, key)
}

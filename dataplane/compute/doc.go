// Package compute runs EC2 instances as sets of isolated processes on Linux.
//
// Runner is the interface the rest of cloudbox uses: New returns the Linux
// implementation (or why instances cannot run here, see Check), NewFake an
// in-memory one for controllers' unit tests.
//
// # An instance
//
// An instance is an init process, PID 1 of its own PID namespace, with its
// own mount, UTS (host name) and IPC namespaces, inside a network
// namespace that dataplane/network made (Spec.NetNS; this package never
// makes links), in a cgroup sized by its instance type, chrooted
// (pivot_root) into a private copy-on-write view of the host's root file
// system.
//
// The init is the cloudbox binary itself: Linux.Start re-executes
// /proc/self/exe with argv[0] "cloudbox-init" and a marker in the
// environment, and InitMain, which cmd/cloudbox's main (and this package's
// TestMain) calls first, turns that process into the init. The new
// namespaces come from clone flags; the network namespace is joined by the
// host before the clone, from a locked OS thread (see startInNetNS for why
// the init does not setns itself). The init's memory is its instance's
// from its first page: on cgroup v2 it is cloned into its cgroup
// (CLONE_INTO_CGROUP); on v1, which has no such clone and no longer moves
// charges with a task, the host moves it into its cgroups and then tells
// it so on fd 3, and it executes itself again (same PID), so the runtime
// that serves starts inside. Either way the configuration comes after, so
// nothing of the instance ever runs outside the cgroup.
//
// The init then:
//   - makes every mount private (nothing propagates to the host), mounts an
//     overlay whose lower layers are Spec.Layers (the image's root file
//     system: dataplane/images; the first boot's layers are kept in
//     RootDir/layers.json and used from then on) and whose upper and work
//     directories are in RootDir, which is the instance's disk and
//     survives stop/start like an EBS root volume;
//   - mounts a fresh /proc (/proc/sys read-only except /proc/sys/net, the
//     instance's own), a read-only /sys, a minimal /dev (null, zero, full,
//     random, urandom, tty bound from the host, a private devpts, shm,
//     mqueue; no disks but Spec.Devices, the instance's EBS volumes, and
//     those the host plugs in later, see dataplane/volumes), and private
//     tmpfs /tmp and /run;
//   - hides paths under empty read-only mounts, should a layer have them:
//     the parent of RootDir and Config.HidePaths;
//   - mounts Config.Helpers at /opt/aws/bin: a read-only tmpfs holding its
//     own executable, bound read-only, under the first name and links to it
//     under the others (package cfnhelpers: cfn-signal, cfn-init);
//   - pivots into the overlay, writes /etc/hostname and /etc/hosts, and on
//     first boot stores the user data in /var/lib/cloud/instance
//     (user-data.txt, and Spec.Scripts in scripts/) and the semaphore
//     sem/config_scripts_user, so the scripts run once ever;
//   - at every boot makes the runtime directories (systemd-tmpfiles) and
//     starts the enabled units (systemctl default) when the image has
//     them, then, on first boot, runs the scripts one after the other as
//     root, everything's stdout and stderr appended to
//     RootDir/console.log (ConsoleOutput reads it); it reaps every orphan, runs
//     Exec requests, and on SIGTERM sends SIGTERM to every process of the
//     instance and exits once they are gone. Linux.Stop sends SIGKILL to the
//     init after the grace period, and the kernel then kills the whole PID
//     namespace.
//
// Processes of the instance run as root but without the capabilities that
// reach beyond it (CAP_SYS_ADMIN, CAP_SYS_MODULE, CAP_SYS_RAWIO,
// CAP_SYS_PTRACE, CAP_MKNOD...): they cannot mount, leave their cgroup,
// reach host devices or trace the init. The one mount they may ask for is
// an attached EBS volume's, through the mount helpers the init serves
// (mountopts.go). CAP_NET_ADMIN stays; it acts on the
// instance's own network namespace, whose security groups are enforced
// outside it. This is isolation for a simulator, not a security boundary
// against kernel exploits.
//
// # cgroups
//
// The cgroup is cloudbox/<DaemonID>/<instance id> at the root of each
// hierarchy, so a restarted daemon (or `cloudbox reset`) finds a crashed
// daemon's instances wherever it runs. cgroup v1 (the cpu, cpuacct, memory
// and pids hierarchies, possibly co-mounted) is used when its cpu and
// memory controllers are mounted (legacy and hybrid layouts); otherwise v2
// when the cgroup2 mount offers cpu and memory. Limits: a CFS quota of
// VCPUs × 100 ms per 100 ms (cpu.cfs_quota_us or cpu.max), MemoryMiB of
// memory without swap (memory.limit_in_bytes and memory.memsw.limit_in_bytes
// when swap accounting exists, or memory.max and memory.swap.max), and
// Config.PidsMax tasks. When the memory is exhausted the kernel's OOM
// killer picks a process inside the cgroup; the init asks to be spared
// (oom_score_adj -1000) where the host allows it. Stats reads cpuacct.usage
// or cpu.stat usage_usec, memory usage and the OOM kill count.
//
// # State and restarts
//
// A Linux runner keeps no state of its own beyond the handles of the inits
// it started: records in RunDir/<DaemonID>/<id>.json (the spec less its user
// data, and the init's PID) and the cgroups are the truth, so a new runner
// for the same daemon id lists, stops, starts, execs in and terminates a
// previous process's instances, and Cleanup(daemonID) kills and removes
// everything of a daemon id (its root volumes excepted: they are disks).
// Mounts live only in the instances' mount namespaces and vanish with their
// last process.
package compute

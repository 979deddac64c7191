package compute

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Spec describes one instance to run.
type Spec struct {
	// ID is the instance id (i-...); it names the cgroup and the records.
	ID string
	// Hostname is set in the instance's UTS namespace and written to
	// /etc/hostname, e.g. "ip-10-0-1-54".
	Hostname string
	// NetNS is the path of an existing network namespace file
	// (/run/netns/...) the instance joins; "" shares the caller's.
	NetNS string
	// VCPUs and MemoryMiB come from the instance type: the cgroup allows
	// VCPUs cores of CPU time and MemoryMiB of memory (no swap).
	VCPUs     int
	MemoryMiB int
	// RootDir is the instance's state directory: the overlay's upper layer
	// (the instance's writable disk), the console log, the init's socket.
	RootDir string
	// Layers are the lower layers of the instance's disk, top first: the
	// image's root file system (dataplane/images), read-only, shared.
	Layers []string
	// UserData is the raw (decoded) user data, kept in the instance as
	// cloud-init keeps it; Scripts are what first boot runs of it, in
	// order, as root, and Notes what it says about the rest (rendered by
	// package cloudinit).
	UserData []byte
	Scripts  []Script
	Notes    []string
	// Env is added to the environment of the user data and of Exec.
	Env []string
	// PrivateIP, when known, maps Hostname in /etc/hosts (127.0.1.1 if not).
	PrivateIP string
	// ResolvConf, when set, is the instance's /etc/resolv.conf (its VPC's
	// DNS server); empty keeps the host's.
	ResolvConf string
	// TrustCA, when set, is a CA certificate (PEM) the instance trusts
	// besides its image's roots, installed at every boot as Debian's
	// update-ca-certificates installs a local one:
	// /usr/local/share/ca-certificates/cloudbox-ca.crt, and in the bundle
	// /etc/ssl/certs/ca-certificates.crt.
	TrustCA []byte
	// Devices are block devices the instance has in its /dev from the
	// start (its attached EBS volumes, so that user data finds them). They
	// are not kept for a reboot, which starts without them: the volumes
	// controller plugs the volumes of a running instance itself.
	Devices []Device
}

// Device is a block device node of an instance's /dev.
type Device struct {
	Name         string // nvme1n1
	Major, Minor uint32
	// Links are other names of it in /dev (sdf, xvdf).
	Links []string
}

// Script is one program first boot runs.
type Script struct {
	Name    string // a file name, e.g. part-001
	Content []byte // starts with "#!"
}

// State is what an instance is doing, as far as the data plane knows.
type State string

const (
	// StateRunning: the instance's processes exist.
	StateRunning State = "running"
	// StateStopped: the instance's disk (RootDir) and records exist, no
	// process does.
	StateStopped State = "stopped"
)

// Info is one instance found on the system.
type Info struct {
	ID      string
	State   State
	RootDir string // "" when only the cgroup was found
	InitPID int    // host PID of the instance's init; 0 when stopped
}

// Stats are an instance's resource counters, read from its cgroup.
type Stats struct {
	// CPUTime is the CPU time used by all the instance's processes since
	// its cgroup was made (cumulative; sample it twice for a rate).
	CPUTime time.Duration
	// MemoryBytes is the memory charged to the instance (page cache
	// included); MemoryLimitBytes its limit.
	MemoryBytes      uint64
	MemoryLimitBytes uint64
	// OOMKills counts processes the kernel killed for exceeding the limit.
	OOMKills uint64
	// NetworkInBytes and NetworkOutBytes count the bytes the instance's
	// interfaces (loopback aside) received and sent since they were made:
	// EC2's NetworkIn and NetworkOut.
	NetworkInBytes, NetworkOutBytes uint64
}

// ExecRequest is a command to run inside an instance, as root, in all its
// namespaces and its cgroup.
// BootFinished is the file an instance's init writes, as cloud-init does,
// once a boot has started the enabled services and, on first boot, run the
// user data; it is removed when the next boot begins. A managed slot is
// ready when it is there.
const BootFinished = "/var/lib/cloud/instance/boot-finished"

type ExecRequest struct {
	Argv []string // Argv[0] is looked up in PATH inside the instance
	Env  []string // added to the instance's environment
	Dir  string   // working directory inside the instance; "/" if empty
	// Stdin, Stdout and Stderr may be nil (/dev/null). An *os.File is handed
	// to the command as is; anything else goes through a pipe.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
}

// Runner runs instances. Every method is safe for concurrent use; calls on
// one instance are serialized.
type Runner interface {
	// Start boots the instance (first boot if RootDir is new) and returns
	// when its init is up; the user data runs in the background. Starting a
	// running instance is a no-op.
	Start(ctx context.Context, spec Spec) error
	// Stop sends SIGTERM to every process of the instance, SIGKILL after the
	// grace period, and waits until none is left. RootDir is kept.
	Stop(ctx context.Context, id string) error
	// Reboot is Stop then Start with the same spec; user data does not run
	// again.
	Reboot(ctx context.Context, id string) error
	// Terminate stops the instance and deletes its RootDir, cgroup and
	// records.
	Terminate(ctx context.Context, id string) error
	// Exec runs a command in a running instance and returns its exit code
	// (128+signal when killed by a signal).
	Exec(ctx context.Context, id string, req ExecRequest) (int, error)
	// Stats reads the instance's cgroup counters.
	Stats(id string) (Stats, error)
	// State says whether the instance runs; ErrNotFound if unknown.
	State(id string) (State, error)
	// List returns the runner's daemon's instances found on the system
	// (cgroups and records), running or stopped.
	List() ([]Info, error)
	// Cleanup kills every process of daemonID's instances and removes
	// their cgroups and records. Root volumes (RootDir) are kept: they are
	// disks, removed by Terminate.
	Cleanup(ctx context.Context, daemonID string) error
}

// Config configures the Linux runner.
type Config struct {
	// DaemonID names this daemon's cgroups (cloudbox/<DaemonID>/<id>) and
	// records; short, [A-Za-z0-9._-].
	DaemonID string
	// RunDir holds the records of instances (<RunDir>/<DaemonID>/<id>.json).
	// Default /run/cloudbox, which a host reboot clears along with the
	// processes it describes.
	RunDir string
	// StopGrace is how long Stop waits after SIGTERM before SIGKILL.
	// Default 10s.
	StopGrace time.Duration
	// PidsMax caps the number of tasks of one instance, so a fork bomb in
	// user data cannot take the host down. Default 4096.
	PidsMax int
	// HidePaths are host directories the instances must not see (the data
	// directory, for one); the parent of each RootDir is always hidden.
	HidePaths []string
	// Helpers are program names that every instance finds in
	// /opt/aws/bin, each this binary under that name (the binary's main
	// dispatches on argv[0]): CloudFormation's cfn-signal and cfn-init.
	Helpers []string
}

// Errors.
var (
	ErrNotFound   = errors.New("compute: no such instance")
	ErrNotRunning = errors.New("compute: instance is not running")
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// validName reports whether s can be a path component (ids, daemon ids).
func validName(s string) bool { return nameRE.MatchString(s) }

var hostnameRE = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)

// Validate checks a spec before anything is made.
func (s Spec) Validate() error {
	switch {
	case !validName(s.ID):
		return fmt.Errorf("compute: bad instance id %q", s.ID)
	case len(s.Hostname) > 64 || !hostnameRE.MatchString(s.Hostname):
		return fmt.Errorf("compute: bad hostname %q", s.Hostname)
	case s.VCPUs < 1 || s.VCPUs > 1024:
		return fmt.Errorf("compute: bad vCPU count %d", s.VCPUs)
	case s.MemoryMiB < 16 || s.MemoryMiB > 64<<20:
		return fmt.Errorf("compute: bad memory size %d MiB (16 MiB at least)", s.MemoryMiB)
	case !filepath.IsAbs(s.RootDir) || filepath.Clean(s.RootDir) != s.RootDir:
		return fmt.Errorf("compute: root dir %q must be an absolute, clean path", s.RootDir)
	case filepath.Dir(s.RootDir) == "/":
		return fmt.Errorf("compute: root dir %q must not be a top-level directory", s.RootDir)
	case strings.ContainsAny(s.RootDir, ",:\n\\"):
		// overlayfs options are separated by ',' and ':'.
		return fmt.Errorf("compute: root dir %q must not contain ',', ':' or '\\'", s.RootDir)
	case len(s.Layers) == 0:
		return fmt.Errorf("compute: instance %s has no image layers", s.ID)
	case s.NetNS != "" && !filepath.IsAbs(s.NetNS):
		return fmt.Errorf("compute: network namespace %q must be an absolute path", s.NetNS)
	}
	for _, l := range s.Layers {
		if !filepath.IsAbs(l) || strings.ContainsAny(l, ",:\n\\") {
			return fmt.Errorf("compute: image layer %q must be an absolute path without ',', ':' or '\\'", l)
		}
	}
	for _, d := range s.Devices {
		for _, n := range append([]string{d.Name}, d.Links...) {
			if !validName(n) {
				return fmt.Errorf("compute: bad device name %q", n)
			}
		}
	}
	for _, sc := range s.Scripts {
		if !validName(sc.Name) {
			return fmt.Errorf("compute: bad script name %q", sc.Name)
		}
	}
	for _, e := range s.Env {
		if !strings.Contains(e, "=") || strings.HasPrefix(e, "=") {
			return fmt.Errorf("compute: bad environment entry %q", e)
		}
	}
	return nil
}

// ConsoleSize is the size of the instance's console log, 0 if it has none
// yet: a cheap way to tell whether it grew since it was last read.
func ConsoleSize(rootDir string) int64 {
	fi, err := os.Stat(filepath.Join(rootDir, "console.log"))
	if err != nil {
		return 0
	}
	return fi.Size()
}

// ConsoleOutput returns the instance's console log (what its init and
// user data printed), at most the last max bytes (all when max <= 0): the
// source of GetConsoleOutput.
func ConsoleOutput(rootDir string, max int) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(rootDir, "console.log"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if max > 0 && len(b) > max {
		b = b[len(b)-max:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 && i < len(b)-1 {
			b = b[i+1:]
		}
	}
	return b, nil
}

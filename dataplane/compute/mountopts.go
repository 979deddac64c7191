package compute

import (
	"fmt"
	"path/filepath"
	"strings"
)

// The mount helpers. An instance's processes lack CAP_SYS_ADMIN, so they
// cannot mount; but mount(8) runs /sbin/fs.d/mount.<type> for a file
// system of that type when the file exists (libmount's helpers), and
// umount(8) /sbin/fs.d/umount.<type>. The init puts this binary there for
// the block file systems of MountTypes; as a helper it asks the init,
// over a socket in the instance's /run, to mount a block device of the
// instance's /dev (an attached EBS volume: nothing else can be there,
// since the instance cannot mknod) or to unmount one, which the init does
// with its own capabilities in the instance's mount namespace. So the EBS
// guide's `mount /dev/xvdf /data` and `umount /data` work as on EC2.

// MountTypes are the file systems the helpers mount.
var MountTypes = []string{"ext2", "ext3", "ext4", "xfs", "btrfs", "vfat"}

// mountHelperDir is where libmount looks for helpers (besides /sbin).
const mountHelperDir = "/sbin/fs.d"

// IsMountHelper says whether a program name (argv[0]) is a mount helper.
func IsMountHelper(argv0 string) bool {
	_, _, ok := helperName(filepath.Base(argv0))
	return ok
}

// helperName splits mount.ext4 / umount.ext4.
func helperName(name string) (op, fstype string, ok bool) {
	op, fstype, ok = strings.Cut(name, ".")
	if !ok || (op != "mount" && op != "umount") {
		return "", "", false
	}
	for _, t := range MountTypes {
		if t == fstype {
			return op, fstype, true
		}
	}
	return "", "", false
}

// mountRequest is what a helper asks of the init.
type mountRequest struct {
	Op      string `json:"op"` // mount or umount
	Source  string `json:"source,omitempty"`
	Target  string `json:"target"`
	FSType  string `json:"fstype,omitempty"`
	Options string `json:"options,omitempty"`
	Lazy    bool   `json:"lazy,omitempty"`
	Force   bool   `json:"force,omitempty"`
}

// parseHelperArgs reads a helper's command line as libmount passes it:
// mount.<type> spec dir [-sfnv] [-N ns] [-o options] [-t type[.subtype]],
// umount.<type> dir [-flnrv] [-N ns] [-t type]. fake (-f of mount) asks
// for nothing to be done.
func parseHelperArgs(argv []string) (req mountRequest, fake bool, err error) {
	if len(argv) == 0 {
		return req, false, fmt.Errorf("no program name")
	}
	op, fstype, ok := helperName(filepath.Base(argv[0]))
	if !ok {
		return req, false, fmt.Errorf("%s is not a mount helper", argv[0])
	}
	req.Op, req.FSType = op, fstype
	var pos []string
	args := argv[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			pos = append(pos, a)
			continue
		}
		switch a {
		case "-o", "-t", "-N":
			if i+1 >= len(args) {
				return req, false, fmt.Errorf("option %s needs a value", a)
			}
			i++
			switch a {
			case "-o":
				req.Options = joinOptions(req.Options, args[i])
			case "-N":
				return req, false, fmt.Errorf("mounting in another namespace (-N) is not supported")
			}
			continue
		}
		for _, c := range a[1:] {
			switch {
			case c == 's' || c == 'n' || c == 'v':
			case c == 'f' && op == "mount":
				fake = true
			case c == 'f':
				req.Force = true
			case c == 'l' && op == "umount":
				req.Lazy = true
			case c == 'r' && op == "mount":
				req.Options = joinOptions(req.Options, "ro")
			case c == 'w' && op == "mount":
				req.Options = joinOptions(req.Options, "rw")
			case c == 'r': // umount -r: remount read-only if unmounting fails; unmounting is all it does
			default:
				return req, false, fmt.Errorf("unknown option -%c", c)
			}
		}
	}
	want := 2
	if op == "umount" {
		want = 1
	}
	if len(pos) != want {
		return req, false, fmt.Errorf("%s takes %d paths, got %d", argv[0], want, len(pos))
	}
	if op == "mount" {
		req.Source, req.Target = pos[0], pos[1]
	} else {
		req.Target = pos[0]
	}
	return req, fake, nil
}

func joinOptions(a, b string) string {
	if a == "" {
		return b
	}
	return a + "," + b
}

// Mount flags (the kernel's, which every Linux architecture shares).
const (
	msRDONLY      = 0x1
	msNOSUID      = 0x2
	msNODEV       = 0x4
	msNOEXEC      = 0x8
	msSYNCHRONOUS = 0x10
	msDIRSYNC     = 0x80
	msNOATIME     = 0x400
	msNODIRATIME  = 0x800
	msSILENT      = 0x8000
	msRELATIME    = 0x200000
	msSTRICTATIME = 0x1000000
	msLAZYTIME    = 0x2000000
)

// maxOptions bounds the options string (the kernel takes a page of data).
const maxOptions = 4000

// parseMountOptions turns mount(8)'s options into mount(2)'s flags and
// the file system's data string. Options only mount(8) and fstab use
// (defaults, noauto, nofail, _netdev, x-*...) are dropped; those that
// would move or re-share mounts (remount, bind, move, shared...) are
// refused: the helpers only mount a device.
func parseMountOptions(opts string) (flags uintptr, data string, err error) {
	if len(opts) > maxOptions {
		return 0, "", fmt.Errorf("options too long")
	}
	var rest []string
	for _, o := range strings.Split(opts, ",") {
		name, _, _ := strings.Cut(o, "=")
		set, clear := uintptr(0), uintptr(0)
		switch name {
		case "", "defaults", "auto", "noauto", "user", "nouser", "users", "owner", "group", "_netdev", "nofail", "comment", "loud":
			continue
		case "ro":
			set = msRDONLY
		case "rw":
			clear = msRDONLY
		case "nosuid":
			set = msNOSUID
		case "suid":
			clear = msNOSUID
		case "nodev":
			set = msNODEV
		case "dev":
			clear = msNODEV
		case "noexec":
			set = msNOEXEC
		case "exec":
			clear = msNOEXEC
		case "sync":
			set = msSYNCHRONOUS
		case "async":
			clear = msSYNCHRONOUS
		case "dirsync":
			set = msDIRSYNC
		case "noatime":
			set = msNOATIME
		case "atime":
			clear = msNOATIME
		case "nodiratime":
			set = msNODIRATIME
		case "diratime":
			clear = msNODIRATIME
		case "relatime":
			set = msRELATIME
		case "norelatime":
			clear = msRELATIME
		case "strictatime":
			set = msSTRICTATIME
		case "nostrictatime":
			clear = msSTRICTATIME
		case "lazytime":
			set = msLAZYTIME
		case "nolazytime":
			clear = msLAZYTIME
		case "silent":
			set = msSILENT
		case "remount", "bind", "rbind", "move", "shared", "rshared", "private", "rprivate", "slave", "rslave", "unbindable", "runbindable",
			"make-shared", "make-private", "make-slave", "make-unbindable", "make-rshared", "make-rprivate", "make-rslave", "make-runbindable":
			return 0, "", fmt.Errorf("option %q is not supported here", name)
		default:
			if strings.HasPrefix(name, "x-") {
				continue
			}
			if strings.ContainsAny(o, "\x00") {
				return 0, "", fmt.Errorf("bad option %q", o)
			}
			rest = append(rest, o)
			continue
		}
		flags = flags&^clear | set
	}
	return flags, strings.Join(rest, ","), nil
}

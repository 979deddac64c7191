//go:build linux

package compute

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// mountSock is the init's mount socket, inside the instance.
const mountSock = "/run/cloudbox/mount.sock"

type mountReply struct {
	Error string `json:"error,omitempty"`
}

// startMountBroker links the helpers into /sbin/fs.d (a read-only tmpfs,
// links to the helper binary at /opt/aws/bin) and serves their requests.
// It runs after the pivot: the paths are the instance's.
func (in *initProc) startMountBroker() error {
	if len(in.cfg.Helpers) == 0 {
		return nil
	}
	bin := filepath.Join(helperDir, in.cfg.Helpers[0])
	if err := os.MkdirAll(mountHelperDir, 0o755); err != nil {
		return err
	}
	if err := mount("tmpfs", mountHelperDir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, "size=16k,mode=755"); err != nil {
		return err
	}
	for _, t := range MountTypes {
		for _, op := range []string{"mount", "umount"} {
			if err := os.Symlink(bin, filepath.Join(mountHelperDir, op+"."+t)); err != nil {
				return err
			}
		}
	}
	if err := mount("", mountHelperDir, "", unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, ""); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(mountSock), 0o700); err != nil {
		return err
	}
	os.Remove(mountSock)
	ln, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: mountSock, Net: "unixpacket"})
	if err != nil {
		return err
	}
	if err := os.Chmod(mountSock, 0o600); err != nil {
		ln.Close()
		return err
	}
	go func() {
		for {
			c, err := ln.AcceptUnix()
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil {
				time.Sleep(50 * time.Millisecond)
				continue
			}
			go in.handleMount(c)
		}
	}()
	return nil
}

func (in *initProc) handleMount(c *net.UnixConn) {
	defer c.Close()
	if !peerIsRoot(c) {
		return
	}
	buf := make([]byte, 16<<10)
	n, err := c.Read(buf)
	if err != nil {
		return
	}
	var req mountRequest
	var reply mountReply
	if err := json.Unmarshal(buf[:n], &req); err != nil {
		reply.Error = "malformed request"
	} else if err := in.doMount(req); err != nil {
		reply.Error = err.Error()
	}
	b, _ := json.Marshal(reply)
	_, _ = c.Write(b)
}

// peerIsRoot accepts root of the instance (any PID).
func peerIsRoot(c *net.UnixConn) bool {
	raw, err := c.SyscallConn()
	if err != nil {
		return false
	}
	var cred *unix.Ucred
	var gerr error
	if err := raw.Control(func(fd uintptr) {
		cred, gerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil || gerr != nil || cred == nil {
		return false
	}
	return cred.Uid == 0
}

// Statfs magics of MountTypes: what the unmount helper may unmount.
var mountMagics = map[int64]bool{0xEF53: true, 0x58465342: true, 0x9123683E: true, 0x4d44: true}

// forbiddenTargets are the system mounts no volume may cover.
var forbiddenTargets = []string{"/proc", "/sys", "/dev"}

func checkTarget(target string) (string, error) {
	if !filepath.IsAbs(target) {
		return "", fmt.Errorf("%s: not an absolute path", target)
	}
	t, err := filepath.EvalSymlinks(target)
	if err != nil {
		return "", err
	}
	if t == "/" {
		return "", fmt.Errorf("%s: cannot mount over the root", target)
	}
	for _, f := range forbiddenTargets {
		if t == f || strings.HasPrefix(t, f+"/") {
			return "", fmt.Errorf("%s: cannot mount in %s", target, f)
		}
	}
	return t, nil
}

// doMount carries out a helper's request in the init's (the instance's)
// mount namespace.
func (in *initProc) doMount(req mountRequest) error {
	target, err := checkTarget(req.Target)
	if err != nil {
		return err
	}
	switch req.Op {
	case "umount":
		var st unix.Statfs_t
		if err := unix.Statfs(target, &st); err != nil {
			return err
		}
		var self, parent unix.Stat_t
		if err := unix.Stat(target, &self); err != nil {
			return err
		}
		if err := unix.Stat(filepath.Dir(target), &parent); err != nil {
			return err
		}
		if self.Dev == parent.Dev || !mountMagics[int64(st.Type)] {
			return fmt.Errorf("%s: not a mounted volume", req.Target)
		}
		flags := unix.UMOUNT_NOFOLLOW
		if req.Lazy {
			flags |= unix.MNT_DETACH
		}
		if req.Force {
			flags |= unix.MNT_FORCE
		}
		if err := unix.Unmount(target, flags); err != nil {
			return fmt.Errorf("%s: %w", req.Target, err)
		}
		in.logf("unmounted %s", target)
		return nil
	case "mount":
	default:
		return fmt.Errorf("unknown operation %q", req.Op)
	}
	if _, _, ok := helperName("mount." + req.FSType); !ok {
		return fmt.Errorf("unknown file system type %q", req.FSType)
	}
	flags, data, err := parseMountOptions(req.Options)
	if err != nil {
		return err
	}
	src, err := filepath.EvalSymlinks(req.Source)
	if err != nil {
		return err
	}
	if filepath.Dir(src) != "/dev" {
		return fmt.Errorf("%s: not a device of /dev", req.Source)
	}
	// The node opened is the node mounted (a swap of the name after the
	// check mounts nothing else), and it is a block device.
	fd, err := unix.Open(src, unix.O_PATH|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK {
		return fmt.Errorf("%s: not a block device", req.Source)
	}
	// nodev always: a volume's file system, which the instance writes as
	// it likes, must not give it device nodes.
	flags |= unix.MS_NODEV
	if err := unix.Mount(fmt.Sprintf("/proc/self/fd/%d", fd), target, req.FSType, flags, data); err != nil {
		return fmt.Errorf("mount %s on %s: %w", req.Source, req.Target, err)
	}
	in.logf("mounted %s (%s) on %s", req.Source, req.FSType, target)
	return nil
}

// MountHelperMain runs a mount helper (argv[0] mount.<type> or
// umount.<type>) inside an instance and returns its exit code: 0, or
// mount(8)'s 32 (mount failure).
func MountHelperMain(argv []string) int {
	req, fake, err := parseHelperArgs(argv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", filepath.Base(argv[0]), err)
		return 1
	}
	if fake {
		return 0
	}
	c, err := net.DialUnix("unixpacket", nil, &net.UnixAddr{Name: mountSock, Net: "unixpacket"})
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: the instance's init does not answer: %v\n", filepath.Base(argv[0]), err)
		return 32
	}
	defer c.Close()
	b, _ := json.Marshal(req)
	if _, err := c.Write(b); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", filepath.Base(argv[0]), err)
		return 32
	}
	buf := make([]byte, 4096)
	n, err := c.Read(buf)
	var reply mountReply
	if err == nil {
		err = json.Unmarshal(buf[:n], &reply)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", filepath.Base(argv[0]), err)
		return 32
	}
	if reply.Error != "" {
		fmt.Fprintf(os.Stderr, "%s: %s\n", filepath.Base(argv[0]), reply.Error)
		return 32
	}
	return 0
}

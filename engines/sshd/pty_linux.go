package sshd

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
)

// OpenTerminal allocates a pseudo-terminal in the devpts file system
// mounted at devpts: "" is the host's (/dev/ptmx, /dev/pts), and an
// instance's is reached through its init, /proc/<pid>/root/dev/pts.
//
// The master end is non-blocking and goes through the runtime poller, so
// that closing it stops a pending read; the terminal end stays blocking
// because it is handed to the instance's processes as their stdin, stdout
// and stderr.
func OpenTerminal(devpts string) (ptmx, tty *os.File, err error) {
	ptmxPath, ptsDir := "/dev/ptmx", "/dev/pts"
	if devpts != "" {
		ptmxPath, ptsDir = filepath.Join(devpts, "ptmx"), devpts
	}
	mfd, err := unix.Open(ptmxPath, unix.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("sshd: opening a terminal: %w", err)
	}
	n, err := unix.IoctlGetUint32(mfd, unix.TIOCGPTN)
	if err == nil {
		err = unix.IoctlSetPointerInt(mfd, unix.TIOCSPTLCK, 0)
	}
	if err != nil {
		unix.Close(mfd)
		return nil, nil, fmt.Errorf("sshd: opening a terminal: %w", err)
	}
	name := filepath.Join(ptsDir, strconv.FormatUint(uint64(n), 10))
	tfd, err := unix.Open(name, unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		unix.Close(mfd)
		return nil, nil, fmt.Errorf("sshd: opening a terminal: %w", err)
	}
	return os.NewFile(uintptr(mfd), ptmxPath), os.NewFile(uintptr(tfd), name), nil
}

// setWinsize sets the terminal's size; the kernel signals SIGWINCH to its
// foreground processes.
func setWinsize(ptmx *os.File, cols, rows, width, height uint32) error {
	ws := unix.Winsize{Row: clamp16(rows), Col: clamp16(cols), Xpixel: clamp16(width), Ypixel: clamp16(height)}
	rc, err := ptmx.SyscallConn()
	if err != nil {
		return err
	}
	var ierr error
	if err := rc.Control(func(fd uintptr) { ierr = unix.IoctlSetWinsize(int(fd), unix.TIOCSWINSZ, &ws) }); err != nil {
		return err
	}
	return ierr
}

func clamp16(v uint32) uint16 { return uint16(min(v, 0xffff)) }

//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"

	"golang.org/x/sys/unix"
)

// execInNetNS runs argv on the simulated internet: in the network namespace
// at path, with the host's filesystem but resolv (when set) as
// /etc/resolv.conf, so names resolve through the internet's resolver. It
// exits with the command's exit code.
func execInNetNS(path, resolv string, argv []string) error {
	// A bind mount over /etc/resolv.conf needs a mount namespace, and a Go
	// process cannot unshare one once it runs threads: the child is this
	// binary again, started in a fresh one (made private by the runtime).
	cmd := exec.Command("/proc/self/exe", append([]string{enterInternetArg, path, resolv}, argv...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.ExitCode())
	}
	if err != nil {
		return err
	}
	os.Exit(0)
	return nil
}

// enterNetNS is the child's side: bind the resolv.conf, enter the network
// namespace, and become the command.
func enterNetNS(args []string) error {
	if len(args) < 3 {
		return errors.New("usage: " + enterInternetArg + " NETNS RESOLV CMD...")
	}
	path, resolv, argv := args[0], args[1], args[2:]
	bin, err := exec.LookPath(argv[0])
	if err != nil {
		return err
	}
	if resolv != "" {
		if err := unix.Mount(resolv, "/etc/resolv.conf", "", unix.MS_BIND, ""); err != nil {
			return fmt.Errorf("resolv.conf: %w", err)
		}
	}
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening %s: %w", path, err)
	}
	// setns moves this thread only; execve then replaces the whole process
	// from it, so the command starts in the namespace.
	runtime.LockOSThread()
	if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
		return fmt.Errorf("entering %s: %w", path, err)
	}
	return syscall.Exec(bin, argv, os.Environ())
}

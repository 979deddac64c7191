package images

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// The base every image shares: Debian 12 minbase with what the AMIs have
// before any user data runs (a shell's usual tools, sudo, Python, curl,
// an SSH client for the bastion hop, iptables for the NAT AMI, the aws
// CLI that Amazon Linux ships) and docker-systemctl-replacement as
// systemctl, since instances have no systemd as PID 1. The Ubuntu and
// Debian images have the aws CLI too, which theirs do not.
const baseSuite = "bookworm"

var basePackages = []string{
	"systemctl", "sudo", "ca-certificates", "python3", "procps", "iproute2",
	"iputils-ping", "curl", "less", "iptables", "openssh-client", "netcat-openbsd",
	"awscli",
	// Debian's certifi names the system's bundle, where the instances
	// trust cloudbox's CA; without it Debian's aws CLI trusts only the
	// copy of Mozilla's roots its botocore carries. Amazon Linux's aws
	// CLI reads the system's bundle too.
	"python3-certifi",
	// dig and host, as Amazon Linux's bind-utils and Ubuntu's
	// bind9-dnsutils give them.
	"bind9-dnsutils",
	// systemd makes the runtime directories packages declare in
	// tmpfiles.d (/run/mysqld...); without systemd, this does, when a
	// package is installed and at every boot (/run is fresh).
	"systemd-standalone-tmpfiles",
}

// baseRecipe changes whenever what the base is made of does; its hash
// names the base's directory.
func baseRecipe() string {
	return "v1 " + baseSuite + " minbase " + strings.Join(basePackages, ",")
}

func baseName() string { return "base-" + baseSuite + "-" + short(baseRecipe()) }

func short(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])[:12]
}

// buildBase runs mmdebstrap into dir, reporting its progress lines.
func (s *Store) buildBase(ctx context.Context, dir string, progress func(string)) error {
	tool, err := mmdebstrap(ctx, progress)
	if err != nil {
		return err
	}
	args := []string{"--variant=minbase", "--include=" + strings.Join(basePackages, ","),
		baseSuite, dir}
	if s.cfg.Mirror != "" {
		args = append(args, s.cfg.Mirror)
	}
	cmd := exec.CommandContext(ctx, tool, args...)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	out, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	cmd.Stdout = nil
	if err := cmd.Start(); err != nil {
		return err
	}
	var last []string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if last = append(last, line); len(last) > 8 {
			last = last[1:]
		}
		// mmdebstrap's "I:" lines are its steps; the rest is dpkg's
		// chatter, kept only for an error.
		if strings.HasPrefix(line, "I: ") {
			progress(strings.TrimPrefix(line, "I: "))
		}
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("mmdebstrap: %w: %s", err, strings.Join(last, " | "))
	}
	return nil
}

// mmdebstrap finds the builder, installing Debian's package once if it is
// missing (the daemon runs as root on Debian when it has a data plane).
func mmdebstrap(ctx context.Context, progress func(string)) (string, error) {
	if p, err := exec.LookPath("mmdebstrap"); err == nil {
		return p, nil
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		return "", ErrNoBuilder
	}
	progress("installing mmdebstrap (apt-get install -y mmdebstrap)")
	cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "--no-install-recommends", "mmdebstrap")
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w: %v: %s", ErrNoBuilder, err, lastLine(out))
	}
	return exec.LookPath("mmdebstrap")
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// lockDir takes dir's exclusive build lock, calling waiting once if
// another process holds it.
func lockDir(dir string, waiting func()) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		waiting()
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
			f.Close()
			return nil, err
		}
	}
	return func() { f.Close() }, nil
}

// Package volumes keeps EBS volumes' and snapshots' data and makes volumes
// block devices inside instances.
//
// A volume is a sparse file <Dir>/<vol-id>.img of its size; a snapshot a
// copy of one, <Dir>/<snap-id>.img (a reflink where the file system has
// them, else a copy that keeps the holes). Attached to a running instance,
// the volume's file is a loop device (losetup) whose node the host makes
// in the instance's private /dev, through /proc/<init>/root: the NVMe name
// an EBS volume has on Nitro (nvme1n1, nvme2n1...) and links by the
// attachment's device name in both its forms (sdf and xvdf), as Amazon
// Linux's udev rules make them. The instance's processes cannot mknod
// (compute drops CAP_MKNOD), so every block device in an instance's /dev
// is one this package put there.
//
// The state is the kernel's: the loop devices backed by files of Dir
// (/sys/block/loop*/loop/backing_file) and the nodes in the instances'
// /dev, so a restarted daemon sees what the last one attached.
package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

const gib = 1 << 30

// Store is the directory of volume and snapshot files.
type Store struct {
	Dir string
}

// Path is the file of a volume or snapshot.
func (s Store) Path(id string) string { return filepath.Join(s.Dir, id+".img") }

// Exists says whether id's file exists.
func (s Store) Exists(id string) bool {
	_, err := os.Stat(s.Path(id))
	return err == nil
}

// Ensure makes volume id's file when missing, a copy of from's (a
// snapshot's file, when from is set and has one) or empty, then grows it
// to sizeGiB (never shrinks it). It reports whether the file grew, so
// that a loop device over it is told its new size.
func (s Store) Ensure(id string, sizeGiB int64, from string) (grown bool, err error) {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return false, err
	}
	p := s.Path(id)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		if err := s.make(p, from); err != nil {
			return false, err
		}
	} else if err != nil {
		return false, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return false, err
	}
	if want := sizeGiB * gib; fi.Size() < want {
		return true, os.Truncate(p, want)
	}
	return false, nil
}

// make writes p from snapshot from (or empty) through a temporary file,
// so a crash never leaves half a copy under the final name.
func (s Store) make(p, from string) error {
	tmp := p + ".tmp"
	os.Remove(tmp)
	if from != "" && s.Exists(from) {
		if err := copyFile(s.Path(from), tmp); err != nil {
			os.Remove(tmp)
			return err
		}
	} else if err := os.WriteFile(tmp, nil, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// Snapshot makes snapshot id's file, a copy of src's (a volume's or a
// snapshot's), when missing. A volume that never had a file (never
// attached, never written) is sizeGiB of zeros.
func (s Store) Snapshot(id, src string, sizeGiB int64) error {
	if s.Exists(id) {
		return nil
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return err
	}
	if !s.Exists(src) {
		if _, err := s.Ensure(id, sizeGiB, ""); err != nil {
			return err
		}
		return nil
	}
	return s.make(s.Path(id), src)
}

// copyFile copies src to dst with cp: a reflink when the file system can
// (btrfs, xfs), else a sparse copy.
func copyFile(src, dst string) error {
	out, err := exec.Command("cp", "--reflink=auto", "--sparse=always", src, dst).CombinedOutput()
	if err != nil {
		return fmt.Errorf("cp %s %s: %v: %s", src, dst, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Remove deletes id's file (its loop devices first).
func (s Store) Remove(id string) error {
	p := s.Path(id)
	loops, err := Loops(s.Dir)
	if err != nil {
		return err
	}
	for _, l := range loops {
		if l.File == p {
			if err := l.Detach(); err != nil {
				return err
			}
		}
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// IDs lists the ids that have files.
func (s Store) IDs() ([]string, error) {
	ents, err := os.ReadDir(s.Dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range ents {
		if id, ok := strings.CutSuffix(e.Name(), ".img"); ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// ID is the volume or snapshot id of a file of the store, "" for others.
func (s Store) ID(file string) string {
	if filepath.Dir(file) != filepath.Clean(s.Dir) {
		return ""
	}
	id, _ := strings.CutSuffix(filepath.Base(file), ".img")
	return id
}

// Loop is a loop device backed by a file of the store.
type Loop struct {
	Dev       string // /dev/loop3
	File      string
	Major     uint32
	Minor     uint32
	AutoClear bool // detached already: it goes when its last user closes it
}

// Loops lists the loop devices backed by files in dir, from sysfs.
func Loops(dir string) ([]Loop, error) {
	dir = filepath.Clean(dir)
	names, err := filepath.Glob("/sys/block/loop*")
	if err != nil {
		return nil, err
	}
	var out []Loop
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(n, "loop", "backing_file"))
		if err != nil {
			continue // not set up
		}
		// The kernel says "(deleted)" of a removed backing file.
		file := strings.TrimSuffix(strings.TrimSpace(string(b)), " (deleted)")
		if filepath.Dir(file) != dir {
			continue
		}
		l := Loop{Dev: "/dev/" + filepath.Base(n), File: file}
		if ac, err := os.ReadFile(filepath.Join(n, "loop", "autoclear")); err == nil {
			l.AutoClear = strings.TrimSpace(string(ac)) == "1"
		}
		if d, err := os.ReadFile(filepath.Join(n, "dev")); err == nil {
			maj, min, ok := strings.Cut(strings.TrimSpace(string(d)), ":")
			a, err1 := strconv.ParseUint(maj, 10, 32)
			b, err2 := strconv.ParseUint(min, 10, 32)
			if !ok || err1 != nil || err2 != nil {
				continue
			}
			l.Major, l.Minor = uint32(a), uint32(b)
		}
		out = append(out, l)
	}
	return out, nil
}

// attachMu makes finding or making a file's loop device one step: the
// instances controller (a boot) and the volumes controller both do it,
// and two loop devices over one file would be two writers of one disk.
var attachMu sync.Mutex

// LoopFor returns the loop device over file, set up if there is none.
func LoopFor(file string) (Loop, error) {
	attachMu.Lock()
	defer attachMu.Unlock()
	loops, err := Loops(filepath.Dir(file))
	if err != nil {
		return Loop{}, err
	}
	for _, l := range loops {
		if l.File == file {
			return l, nil
		}
	}
	return attach(file)
}

// attach sets up a loop device over file.
func attach(file string) (Loop, error) {
	out, err := exec.Command("losetup", "--find", "--show", file).CombinedOutput()
	if err != nil {
		return Loop{}, fmt.Errorf("losetup %s: %v: %s", file, err, strings.TrimSpace(string(out)))
	}
	dev := strings.TrimSpace(string(out))
	loops, err := Loops(filepath.Dir(file))
	if err != nil {
		return Loop{}, err
	}
	for _, l := range loops {
		if l.Dev == dev {
			return l, nil
		}
	}
	return Loop{}, fmt.Errorf("losetup made %s, which sysfs does not show over %s", dev, file)
}

// Detach detaches the loop device; one still in use (mounted) is
// detached by the kernel when its last user goes.
func (l Loop) Detach() error {
	out, err := exec.Command("losetup", "--detach", l.Dev).CombinedOutput()
	if err != nil {
		return fmt.Errorf("losetup --detach %s: %v: %s", l.Dev, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Refresh tells the loop device its file's new size.
func (l Loop) Refresh() error {
	out, err := exec.Command("losetup", "--set-capacity", l.Dev).CombinedOutput()
	if err != nil {
		return fmt.Errorf("losetup --set-capacity %s: %v: %s", l.Dev, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// Cleanup detaches every loop device over a file of dir: the daemon's
// world is going away.
func Cleanup(dir string) error {
	loops, err := Loops(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, l := range loops {
		if !l.AutoClear {
			errs = append(errs, l.Detach())
		}
	}
	return errors.Join(errs...)
}

// Links are the names an attachment's device has besides its NVMe node:
// the name given (/dev/sdf -> sdf) and its other form (xvdf), as Amazon
// Linux's udev rules link them.
func Links(device string) []string {
	base := strings.TrimPrefix(device, "/dev/")
	out := []string{base}
	if rest, ok := strings.CutPrefix(base, "sd"); ok {
		out = append(out, "xvd"+rest)
	} else if rest, ok := strings.CutPrefix(base, "xvd"); ok {
		out = append(out, "sd"+rest)
	}
	return out
}

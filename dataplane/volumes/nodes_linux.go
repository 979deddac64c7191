//go:build linux

package volumes

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"golang.org/x/sys/unix"
)

// devDir is an instance's /dev as the host reaches it: through its init's
// root, which is the instance's mount namespace's view.
func devDir(initPID int) string { return fmt.Sprintf("/proc/%d/root/dev", initPID) }

// Node is a block device node in an instance's /dev.
type Node struct {
	Name         string // nvme1n1
	Major, Minor uint32
}

var nvmeRE = regexp.MustCompile(`^nvme([0-9]+)n1$`)

// Nodes lists the volume nodes in the instance's /dev.
func Nodes(initPID int) ([]Node, error) {
	ents, err := os.ReadDir(devDir(initPID))
	if err != nil {
		return nil, err
	}
	var out []Node
	for _, e := range ents {
		if !nvmeRE.MatchString(e.Name()) {
			continue
		}
		var st unix.Stat_t
		if err := unix.Lstat(filepath.Join(devDir(initPID), e.Name()), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFBLK {
			continue
		}
		out = append(out, Node{Name: e.Name(), Major: unix.Major(uint64(st.Rdev)), Minor: unix.Minor(uint64(st.Rdev))})
	}
	return out, nil
}

// Plug makes loop l the instance's next NVMe device (nvme1n1 when it has
// none), linked under the attachment's names, and returns its node.
func Plug(initPID int, l Loop, device string) (Node, error) {
	have, err := Nodes(initPID)
	if err != nil {
		return Node{}, err
	}
	used := map[int]bool{0: true} // nvme0n1 is the root volume's name
	for _, n := range have {
		k, _ := strconv.Atoi(nvmeRE.FindStringSubmatch(n.Name)[1])
		used[k] = true
	}
	k := 1
	for used[k] {
		k++
	}
	n := Node{Name: fmt.Sprintf("nvme%dn1", k), Major: l.Major, Minor: l.Minor}
	dir := devDir(initPID)
	if err := unix.Mknod(filepath.Join(dir, n.Name), unix.S_IFBLK|0o660, int(unix.Mkdev(l.Major, l.Minor))); err != nil {
		return Node{}, fmt.Errorf("mknod %s in the instance: %w", n.Name, err)
	}
	for _, link := range Links(device) {
		p := filepath.Join(dir, link)
		// A stale link (a device of a previous attachment) is replaced;
		// anything else of that name is the instance's own.
		if t, err := os.Readlink(p); err == nil && nvmeRE.MatchString(t) {
			os.Remove(p)
		}
		if err := os.Symlink(n.Name, p); err != nil && !errors.Is(err, fs.ErrExist) {
			return n, err
		}
	}
	return n, nil
}

// Unplug removes node n and the links to it from the instance's /dev.
func Unplug(initPID int, n Node) error {
	dir := devDir(initPID)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.Type()&fs.ModeSymlink == 0 {
			continue
		}
		if t, err := os.Readlink(filepath.Join(dir, e.Name())); err == nil && t == n.Name {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	if err := os.Remove(filepath.Join(dir, n.Name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

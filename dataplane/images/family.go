package images

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/cloudbox/cloudbox/ami"
)

// The files laid over the base per family (rootfs/README.md).
//
//go:embed all:rootfs
var trees embed.FS

// family is what makes one family's layer.
type family struct {
	trees     []string // under rootfs/, lowest first
	osRelease string
	release   string // /etc/system-release ("" for none)
	nat       bool   // forwards and masquerades at boot (amzn-ami-vpc-nat)
}

const underneath = " (cloudbox image: Debian GNU/Linux 12 underneath)"

var families = map[ami.Family]family{
	ami.AmazonLinux2: {trees: []string{"common", "amazonlinux"}, release: "Amazon Linux release 2 (Karoo)",
		osRelease: osRelease("Amazon Linux", "2", "amzn", "centos rhel fedora", "2", "Amazon Linux 2"+underneath, "cpe:2.3:o:amazon:amazon_linux:2", "https://amazonlinux.com/")},
	ami.AmazonLinux2023: {trees: []string{"common", "amazonlinux"}, release: "Amazon Linux release 2023.3.20240312 (Amazon Linux)",
		osRelease: osRelease("Amazon Linux", "2023", "amzn", "fedora", "2023", "Amazon Linux 2023.3.20240312"+underneath, "cpe:2.3:o:amazon:amazon_linux:2023", "https://aws.amazon.com/linux/amazon-linux-2023/")},
	ami.AmazonLinuxNAT: {trees: []string{"common", "amazonlinux"}, release: "Amazon Linux AMI release 2018.03", nat: true,
		osRelease: osRelease("Amazon Linux AMI", "2018.03", "amzn", "rhel fedora", "2018.03", "Amazon Linux AMI 2018.03"+underneath, "cpe:/o:amazon:linux:2018.03:ga", "http://aws.amazon.com/amazon-linux-ami/")},
	ami.CentOS: {trees: []string{"common", "amazonlinux"}, release: "CentOS Stream release 9",
		osRelease: osRelease("CentOS Stream", "9", "centos", "rhel fedora", "9", "CentOS Stream 9"+underneath, "cpe:/o:centos:centos:9", "https://centos.org/")},
	ami.Ubuntu: {trees: []string{"common", "ubuntu"},
		osRelease: osRelease("Ubuntu", "22.04.4 LTS (Jammy Jellyfish)", "ubuntu", "debian", "22.04", "Ubuntu 22.04.4 LTS"+underneath, "", "https://www.ubuntu.com/")},
	ami.Debian: {trees: []string{"common", "debian"},
		osRelease: osRelease("Debian GNU/Linux", "12 (bookworm)", "debian", "", "12", "Debian GNU/Linux 12 (bookworm)", "", "https://www.debian.org/")},
}

func osRelease(name, version, id, like, versionID, pretty, cpe, home string) string {
	var b strings.Builder
	kv := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s=%q\n", k, v)
		}
	}
	kv("NAME", name)
	kv("VERSION", version)
	kv("ID", id)
	kv("ID_LIKE", like)
	kv("VERSION_ID", versionID)
	kv("PRETTY_NAME", pretty)
	kv("CPE_NAME", cpe)
	kv("HOME_URL", home)
	// What the image really is, for scripts that must know.
	kv("CLOUDBOX_BASE", "debian 12")
	return b.String()
}

var treeHash = sync.OnceValue(func() string {
	h := sha256.New()
	_ = fs.WalkDir(trees, "rootfs", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := trees.ReadFile(p)
		fmt.Fprintf(h, "%s %d\n", p, len(b))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil))
})

// familyRecipe names what a family's layer is made of: a change to the
// generator (v2...), to the trees or to the base makes a new layer.
func familyName(f ami.Family) string {
	return string(f) + "-" + short("v1 "+baseRecipe()+" "+treeHash()+" "+fmt.Sprint(families[f]))
}

// buildFamily writes family f's layer into dir, over the base in base.
func buildFamily(f ami.Family, base, dir string) error {
	fam, ok := families[f]
	if !ok {
		return fmt.Errorf("unknown image family %q", f)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, t := range fam.trees {
		if err := copyTree(path.Join("rootfs", t), dir); err != nil {
			return fmt.Errorf("tree %s: %w", t, err)
		}
	}
	files := map[string]string{
		"etc/os-release":      fam.osRelease,
		"etc/cloudbox/family": string(f) + "\n",
	}
	if fam.release != "" {
		files["etc/system-release"] = fam.release + "\n"
	}
	for name, content := range files {
		if err := writeFile(dir, name, []byte(content), 0o644); err != nil {
			return err
		}
	}
	if err := addUser(base, dir, ami.DefaultUser(f)); err != nil {
		return fmt.Errorf("user %s: %w", ami.DefaultUser(f), err)
	}
	if fam.nat {
		if err := addNAT(dir); err != nil {
			return err
		}
	}
	return nil
}

// copyTree lays the embedded tree src over dir: modes by place (bin and
// sbin programs executable, sudoers read-only), and the links its .links
// file lists.
func copyTree(src, dir string) error {
	return fs.WalkDir(trees, src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel := strings.TrimPrefix(strings.TrimPrefix(p, src), "/")
		if rel == "" {
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, rel), 0o755)
		}
		b, err := trees.ReadFile(p)
		if err != nil {
			return err
		}
		switch {
		case rel == ".links":
			return makeLinks(dir, b)
		case rel == "README.md":
			return nil
		}
		return writeFile(dir, rel, b, modeOf(rel))
	})
}

func modeOf(rel string) os.FileMode {
	dirs := strings.Split(path.Dir(rel), "/")
	switch last := dirs[len(dirs)-1]; {
	case strings.HasPrefix(rel, "etc/sudoers.d/"):
		return 0o440
	case last == "bin" || last == "sbin":
		return 0o755
	case strings.HasSuffix(rel, ".sh"):
		return 0o755
	}
	return 0o644
}

// makeLinks makes the links a .links file lists: "link-path target" per
// line, the path relative to the layer's root.
func makeLinks(dir string, spec []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(spec))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		link, target, ok := strings.Cut(line, " ")
		if !ok || strings.Contains(link, "..") || path.IsAbs(link) {
			return fmt.Errorf(".links: bad line %q", line)
		}
		p := filepath.Join(dir, link)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		_ = os.Remove(p)
		if err := os.Symlink(strings.TrimSpace(target), p); err != nil {
			return err
		}
	}
	return sc.Err()
}

func writeFile(dir, rel string, b []byte, mode os.FileMode) error {
	p := filepath.Join(dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(p, b, mode); err != nil {
		return err
	}
	return os.Chmod(p, mode) // past the umask
}

// The default user's ids, as on the AMIs.
const userID = 1000

// addUser gives the layer the base's account files with the family's
// default user added (its group, adm for the logs, password-less sudo as
// cloud-init sets it up) and its home directory from /etc/skel.
func addUser(base, dir, user string) error {
	edits := []struct {
		file, line string
		mode       os.FileMode
	}{
		{"etc/passwd", fmt.Sprintf("%s:x:%d:%d:%s:/home/%s:/bin/bash", user, userID, userID, user, user), 0o644},
		{"etc/group", fmt.Sprintf("%s:x:%d:", user, userID), 0o644},
		{"etc/shadow", user + ":!:19800:0:99999:7:::", 0o640},
		{"etc/gshadow", user + ":!::", 0o640},
	}
	for _, e := range edits {
		b, err := os.ReadFile(filepath.Join(base, e.file))
		if err != nil {
			return err
		}
		text := strings.TrimRight(string(b), "\n") + "\n"
		if e.file == "etc/group" || e.file == "etc/gshadow" {
			text = addToGroup(text, "adm", user)
		}
		if err := writeFile(dir, e.file, []byte(text+e.line+"\n"), e.mode); err != nil {
			return err
		}
	}
	// shadow files belong to group shadow on Debian; keep the base's owner.
	for _, f := range []string{"etc/shadow", "etc/gshadow"} {
		if fi, err := os.Stat(filepath.Join(base, f)); err == nil {
			if st, ok := statOwner(fi); ok {
				_ = os.Chown(filepath.Join(dir, f), st.uid, st.gid)
			}
		}
	}
	if err := writeFile(dir, "etc/sudoers.d/90-cloud-init-users", []byte("# Created by cloudbox's image, as cloud-init does\n"+user+" ALL=(ALL) NOPASSWD:ALL\n"), 0o440); err != nil {
		return err
	}
	home := filepath.Join(dir, "home", user)
	if err := os.MkdirAll(home, 0o700); err != nil {
		return err
	}
	skel := filepath.Join(base, "etc", "skel")
	entries, _ := os.ReadDir(skel)
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(skel, e.Name()))
		if err != nil {
			return err
		}
		if err := writeFile(home, e.Name(), b, 0o644); err != nil {
			return err
		}
		if err := os.Chown(filepath.Join(home, e.Name()), userID, userID); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		return err
	}
	for _, p := range []string{home, filepath.Join(home, ".ssh")} {
		if err := os.Chown(p, userID, userID); err != nil {
			return err
		}
	}
	return nil
}

// addToGroup adds user to group's member list in an /etc/group or
// /etc/gshadow text.
func addToGroup(text, group, user string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if !strings.HasPrefix(l, group+":") {
			continue
		}
		if strings.HasSuffix(l, ":") {
			lines[i] = l + user
		} else {
			lines[i] = l + "," + user
		}
	}
	return strings.Join(lines, "\n")
}

// addNAT makes the layer a NAT instance, as amzn-ami-vpc-nat is: at every
// boot /usr/sbin/configure-pat.sh turns IP forwarding on and masquerades
// what leaves eth0 (the instance forwards only once its source/destination
// check is off, which the VPC enforces outside it).
func addNAT(dir string) error {
	script := `#!/bin/bash
# Port address translation, as the Amazon Linux NAT AMI sets it up at boot.
set -e
echo "Configuring PAT"
sysctl -q -w net.ipv4.ip_forward=1
sysctl -q -w net.ipv4.conf.eth0.send_redirects=0 || true
iptables -t nat -C POSTROUTING -o eth0 -j MASQUERADE 2>/dev/null ||
	iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE
echo "Configuration of PAT complete"
`
	unit := `[Unit]
Description=Port address translation (amzn-ami-vpc-nat)

[Service]
Type=oneshot
ExecStart=/usr/sbin/configure-pat.sh
RemainAfterExit=yes

[Install]
WantedBy=multi-user.target
`
	if err := writeFile(dir, "usr/sbin/configure-pat.sh", []byte(script), 0o755); err != nil {
		return err
	}
	if err := writeFile(dir, "etc/systemd/system/configure-pat.service", []byte(unit), 0o644); err != nil {
		return err
	}
	return makeLinks(dir, []byte("etc/systemd/system/multi-user.target.wants/configure-pat.service /etc/systemd/system/configure-pat.service\n"))
}

type owner struct{ uid, gid int }

func statOwner(fi os.FileInfo) (owner, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return owner{}, false
	}
	return owner{int(st.Uid), int(st.Gid)}, true
}

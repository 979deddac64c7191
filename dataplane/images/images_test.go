package images

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/cloudbox/cloudbox/ami"
)

// fakeBase is the part of a Debian base the family layers read.
func fakeBase(t *testing.T) string {
	t.Helper()
	base := t.TempDir()
	files := map[string]string{
		"etc/passwd":        "root:x:0:0:root:/root:/bin/bash\n",
		"etc/group":         "root:x:0:\nadm:x:4:\n",
		"etc/shadow":        "root:*:19800:0:99999:7:::\n",
		"etc/gshadow":       "root:*::\nadm:*::\n",
		"etc/skel/.bashrc":  "# skel\n",
		"etc/skel/.profile": "# profile\n",
	}
	for name, content := range files {
		if err := writeFile(base, name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return base
}

func TestFamilyLayer(t *testing.T) {
	base := fakeBase(t)
	for _, f := range ami.Families {
		t.Run(string(f), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "layer")
			if err := buildFamily(f, base, dir); err != nil {
				t.Fatal(err)
			}
			user := ami.DefaultUser(f)
			read := func(name string) string {
				b, err := os.ReadFile(filepath.Join(dir, name))
				if err != nil {
					t.Fatal(err)
				}
				return string(b)
			}
			if p := read("etc/passwd"); !strings.HasPrefix(p, "root:") || !strings.Contains(p, "\n"+user+":x:1000:1000:") {
				t.Errorf("passwd:\n%s", p)
			}
			if g := read("etc/group"); !strings.Contains(g, "adm:x:4:"+user+"\n") || !strings.Contains(g, user+":x:1000:") {
				t.Errorf("group:\n%s", g)
			}
			if s := read("etc/sudoers.d/90-cloud-init-users"); !strings.Contains(s, user+" ALL=(ALL) NOPASSWD:ALL") {
				t.Errorf("sudoers: %q", s)
			}
			if fi, err := os.Stat(filepath.Join(dir, "etc/sudoers.d/90-cloud-init-users")); err != nil || fi.Mode().Perm() != 0o440 {
				t.Errorf("sudoers mode: %v %v", fi.Mode(), err)
			}
			if fi, err := os.Stat(filepath.Join(dir, "home", user, ".bashrc")); err != nil || fi.Sys().(*syscall.Stat_t).Uid != 1000 {
				t.Errorf("home of %s: %v", user, err)
			}
			osr := read("etc/os-release")
			if !strings.Contains(osr, `CLOUDBOX_BASE="debian 12"`) {
				t.Errorf("os-release does not say what is underneath:\n%s", osr)
			}
			if strings.TrimSpace(read("etc/cloudbox/family")) != string(f) {
				t.Errorf("family marker")
			}
			_, err := os.Stat(filepath.Join(dir, "usr/bin/yum"))
			if amazon := f != ami.Ubuntu && f != ami.Debian; amazon != (err == nil) {
				t.Errorf("yum present = %v", err == nil)
			}
			if f == ami.AmazonLinuxNAT {
				if target, err := os.Readlink(filepath.Join(dir, "etc/systemd/system/multi-user.target.wants/configure-pat.service")); err != nil || target != "/etc/systemd/system/configure-pat.service" {
					t.Errorf("configure-pat is not enabled: %q %v", target, err)
				}
			}
		})
	}
}

func TestLinksAndModes(t *testing.T) {
	dir := t.TempDir()
	if err := makeLinks(dir, []byte("# comment\n\nusr/bin/dnf yum\n")); err != nil {
		t.Fatal(err)
	}
	if target, err := os.Readlink(filepath.Join(dir, "usr/bin/dnf")); err != nil || target != "yum" {
		t.Errorf("dnf -> %q %v", target, err)
	}
	for _, bad := range []string{"../escape x", "/abs x", "nospace"} {
		if err := makeLinks(dir, []byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	for rel, want := range map[string]os.FileMode{
		"usr/bin/yum": 0o755, "usr/sbin/chkconfig": 0o755, "etc/sudoers.d/x": 0o440,
		"usr/share/cloudbox/packages.tsv": 0o644, "usr/sbin/configure-pat.sh": 0o755, "etc/apt/sources.list": 0o644,
	} {
		if got := modeOf(rel); got != want {
			t.Errorf("modeOf(%s) = %v, want %v", rel, got, want)
		}
	}
}

// Concurrent callers share one build; a failed build is tried again;
// Status says where a build stands.
func TestEnsure(t *testing.T) {
	s, err := Open(Config{Dir: t.TempDir(), BakedDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var builds atomic.Int32
	release := make(chan struct{})
	mk := func(dir string, progress func(string)) error {
		builds.Add(1)
		progress("working")
		<-release
		return os.MkdirAll(dir, 0o755)
	}
	var wg sync.WaitGroup
	for range 5 {
		wg.Go(func() {
			if _, err := s.ensure(context.Background(), "layer", mk); err != nil {
				t.Error(err)
			}
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.layerStatus("layer").Step != "working" && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if st := s.layerStatus("layer"); st.State != "building" || st.Step != "working" {
		t.Errorf("while building: %+v", st)
	}
	close(release)
	wg.Wait()
	if n := builds.Load(); n != 1 {
		t.Errorf("%d builds for 5 callers", n)
	}
	if st := s.layerStatus("layer"); st.State != "ready" {
		t.Errorf("after: %+v", st)
	}

	fails := 0
	failing := func(string, func(string)) error { fails++; return errors.New("no network") }
	for range 2 {
		if _, err := s.ensure(context.Background(), "broken", failing); err == nil {
			t.Fatal("a failed build succeeded")
		}
	}
	if fails != 2 {
		t.Errorf("a failed build was tried %d times by two callers", fails)
	}
	if st := s.layerStatus("broken"); st.State != "failed" || !strings.Contains(st.Step, "no network") {
		t.Errorf("failed: %+v", st)
	}
	// A waiter's context ends its wait, not the build.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	block := make(chan struct{})
	if _, err := s.ensure(ctx, "slow", func(dir string, _ func(string)) error { <-block; return os.MkdirAll(dir, 0o755) }); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: %v", err)
	}
	close(block)
	// The build went on: a new caller waits for it and gets the layer.
	if _, err := s.ensure(context.Background(), "slow", func(string, func(string)) error { return errors.New("built twice") }); err != nil {
		t.Errorf("the build of an abandoned wait: %v", err)
	}
}

// A baked layer keeps the overlay's whiteouts and leaves out what belongs
// to the instance.
func TestBake(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("whiteouts are character devices: mknod needs root")
	}
	s, err := Open(Config{Dir: t.TempDir(), BakedDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	upper := t.TempDir()
	for name, content := range map[string]string{
		"var/www/html/index.php":                         "<?php echo 42; ?>",
		"var/lib/cloud/instance/sem/config_scripts_user": "done",
		"etc/hostname":                                   "ip-10-0-0-5",
	} {
		if err := writeFile(upper, name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := unix.Mknod(filepath.Join(upper, "etc", "motd"), unix.S_IFCHR, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.Bake(context.Background(), "ami-0123456789abcdef0", upper); err != nil {
		t.Fatal(err)
	}
	dir := s.bakedDir("ami-0123456789abcdef0")
	if b, err := os.ReadFile(filepath.Join(dir, "var/www/html/index.php")); err != nil || string(b) != "<?php echo 42; ?>" {
		t.Errorf("the site: %q %v", b, err)
	}
	var st unix.Stat_t
	if err := unix.Lstat(filepath.Join(dir, "etc", "motd"), &st); err != nil || st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != 0 {
		t.Errorf("the whiteout was not kept: %+v %v", st, err)
	}
	for _, gone := range []string{"var/lib/cloud", "etc/hostname"} {
		if _, err := os.Stat(filepath.Join(dir, gone)); err == nil {
			t.Errorf("%s was baked into the image", gone)
		}
	}
	layers, err := func() ([]string, error) {
		// The baked layer stacks over its family's.
		for _, name := range []string{baseName(), familyName(ami.AmazonLinux2)} {
			if err := os.MkdirAll(filepath.Join(s.cfg.Dir, name), 0o755); err != nil {
				return nil, err
			}
		}
		return s.Layers(context.Background(), ami.AmazonLinux2, []string{"ami-0123456789abcdef0"})
	}()
	if err != nil || len(layers) != 3 || layers[0] != dir {
		t.Errorf("layers %v %v", layers, err)
	}
	if _, err := s.Layers(context.Background(), ami.AmazonLinux2, []string{"ami-ffffffffffffffff0"}); err == nil {
		t.Error("a missing baked layer was accepted")
	}
}

package volumes

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func size(t *testing.T, p string) int64 {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestStore: volumes are sparse files of their size that only grow;
// snapshots copy them; a volume from a snapshot has its data.
func TestStore(t *testing.T) {
	s := Store{Dir: filepath.Join(t.TempDir(), "volumes")}
	if grown, err := s.Ensure("vol-1", 1, ""); err != nil || !grown || size(t, s.Path("vol-1")) != gib {
		t.Fatalf("ensure: grown=%v %v", grown, err)
	}
	f, err := os.OpenFile(s.Path("vol-1"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte("data"), 4096); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if grown, err := s.Ensure("vol-1", 1, ""); err != nil || grown {
		t.Fatalf("ensure again: grown=%v %v", grown, err)
	}
	if err := s.Snapshot("snap-1", "vol-1", 1); err != nil {
		t.Fatal(err)
	}
	// A snapshot of a volume without a file is zeros of its size.
	if err := s.Snapshot("snap-2", "vol-none", 2); err != nil || size(t, s.Path("snap-2")) != 2*gib {
		t.Fatalf("snapshot of nothing: %v", err)
	}
	if grown, err := s.Ensure("vol-2", 3, "snap-1"); err != nil || !grown || size(t, s.Path("vol-2")) != 3*gib {
		t.Fatalf("from snapshot: grown=%v %v", grown, err)
	}
	b := make([]byte, 4)
	g, _ := os.Open(s.Path("vol-2"))
	g.ReadAt(b, 4096)
	g.Close()
	if string(b) != "data" {
		t.Fatalf("restored data %q", b)
	}
	ids, err := s.IDs()
	slices.Sort(ids)
	if err != nil || !slices.Equal(ids, []string{"snap-1", "snap-2", "vol-1", "vol-2"}) {
		t.Fatalf("ids %v %v", ids, err)
	}
	if s.ID(s.Path("vol-2")) != "vol-2" || s.ID("/elsewhere/vol-2.img") != "" {
		t.Fatal("ID of a path")
	}
	if err := s.Remove("vol-1"); err != nil || s.Exists("vol-1") {
		t.Fatalf("remove: %v", err)
	}
}

// TestLoop attaches a volume's file as a loop device, finds it in sysfs,
// grows it and detaches it (root only).
func TestLoop(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("loop devices need root")
	}
	if _, err := os.Stat("/dev/loop-control"); err != nil {
		t.Skip("no loop devices here")
	}
	s := Store{Dir: t.TempDir()}
	if _, err := s.Ensure("vol-1", 1, ""); err != nil {
		t.Fatal(err)
	}
	l, err := LoopFor(s.Path("vol-1"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Cleanup(s.Dir) })
	if again, err := LoopFor(s.Path("vol-1")); err != nil || again.Dev != l.Dev {
		t.Fatalf("a second loop device over the file: %+v %v", again, err)
	}
	loops, err := Loops(s.Dir)
	if err != nil || len(loops) != 1 || loops[0].Dev != l.Dev || loops[0].Major == 0 && loops[0].Minor == 0 || loops[0].AutoClear {
		t.Fatalf("loops %+v %v", loops, err)
	}
	if _, err := s.Ensure("vol-1", 2, ""); err != nil {
		t.Fatal(err)
	}
	if err := l.Refresh(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join("/sys/block", filepath.Base(l.Dev), "size"))
	if err != nil || string(b) != "4194304\n" {
		t.Fatalf("size in sectors %q %v", b, err)
	}
	if err := s.Remove("vol-1"); err != nil {
		t.Fatal(err)
	}
	if loops, _ := Loops(s.Dir); len(loops) != 0 {
		t.Fatalf("loops left %+v", loops)
	}
}

func TestLinks(t *testing.T) {
	for dev, want := range map[string][]string{
		"/dev/sdf":   {"sdf", "xvdf"},
		"/dev/xvdba": {"xvdba", "sdba"},
		"/dev/sdf1":  {"sdf1", "xvdf1"},
	} {
		if got := Links(dev); !slices.Equal(got, want) {
			t.Errorf("Links(%s) = %v, want %v", dev, got, want)
		}
	}
}

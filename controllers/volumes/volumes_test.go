//go:build linux

package volumes

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/cloudbox/cloudbox/dataplane/compute"
	"github.com/cloudbox/cloudbox/desired"
)

// reports records what the controller reports.
type reports struct {
	mu  sync.Mutex
	got []string
}

func (r *reports) add(s string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, s)
}

func (r *reports) ReportVolume(_, _, id string) error { r.add("volume " + id); return nil }
func (r *reports) ReportAttachment(_, _, vol, inst, state string) error {
	r.add(state + " " + vol + " " + inst)
	return nil
}
func (r *reports) ReportSnapshot(_, _, id string, ok bool, _ string) error {
	if ok {
		r.add("snapshot " + id)
	} else {
		r.add("snapshot failed " + id)
	}
	return nil
}

// TestFilesAndReports: the files follow the world (made, copied from a
// snapshot, grown, removed) and the reports say so; an attachment to a
// stopped instance is reported at once; a root volume's snapshot fails.
func TestFilesAndReports(t *testing.T) {
	dir := t.TempDir()
	rep := &reports{}
	c := New(Config{Dir: dir, Runner: compute.NewFake("t"), Reports: rep, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	world := &desired.World{
		Instances: []*desired.Instance{{ID: "i-1", State: "stopped"}},
		Volumes: []*desired.Volume{
			{ID: "vol-root", SizeGiB: 8, State: "in-use", Instance: "i-1", Device: "/dev/xvda", Attachment: "attached", Root: true},
			{ID: "vol-a", SizeGiB: 1, State: "creating"},
			{ID: "vol-b", SizeGiB: 2, State: "in-use", Instance: "i-1", Device: "/dev/sdf", Attachment: "attaching"},
		},
		Snapshots: []*desired.VolumeSnapshot{
			{ID: "snap-a", Volume: "vol-a", SizeGiB: 1, State: "pending"},
			{ID: "snap-root", Volume: "vol-root", SizeGiB: 8, State: "pending"},
		},
	}
	// Before a sync has given the world, nothing happens.
	if err := c.reconcile(world, false); err != nil || len(rep.got) != 0 {
		t.Fatalf("before a sync: %v %v", err, rep.got)
	}
	if err := c.Sync(context.Background(), world); err != nil {
		t.Fatal(err)
	}
	want := []string{"snapshot snap-a", "snapshot failed snap-root", "volume vol-a", "attached vol-b i-1"}
	if !slices.Equal(rep.got, want) {
		t.Fatalf("reports %q, want %q", rep.got, want)
	}
	files := func() []string {
		m, _ := filepath.Glob(filepath.Join(dir, "*.img"))
		for i := range m {
			m[i] = filepath.Base(m[i])
		}
		return m
	}
	if got := files(); !slices.Equal(got, []string{"snap-a.img", "vol-a.img", "vol-b.img"}) {
		t.Fatalf("files %v", got)
	}
	// A volume from the snapshot, the first grown; the rest deleted.
	world = &desired.World{Volumes: []*desired.Volume{
		{ID: "vol-a", SizeGiB: 3, State: "available"},
		{ID: "vol-c", SizeGiB: 1, State: "available", Snapshot: "snap-a"},
	}}
	if err := c.Sync(context.Background(), world); err != nil {
		t.Fatal(err)
	}
	if got := files(); !slices.Equal(got, []string{"vol-a.img", "vol-c.img"}) {
		t.Fatalf("files %v", got)
	}
	if fi, err := os.Stat(filepath.Join(dir, "vol-a.img")); err != nil || fi.Size() != 3<<30 {
		t.Fatalf("vol-a not grown: %v", err)
	}
}

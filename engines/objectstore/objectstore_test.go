package objectstore

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteCommitRead(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Create("bucket")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(w, strings.NewReader("hello, world")); err != nil {
		t.Fatal(err)
	}
	// Before Commit the blob is not there to read.
	if _, err := s.Open("bucket", w.ID()); err == nil {
		t.Fatal("an uncommitted blob opens")
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	w.Abort() // after Commit: nothing
	if w.Size() != 12 {
		t.Errorf("size %d", w.Size())
	}
	f, err := s.Open("bucket", w.ID())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(f)
	f.Close()
	if string(b) != "hello, world" {
		t.Errorf("read %q", b)
	}
	if got := filepath.Join(s.Dir(), "bucket", w.ID()[:2], w.ID()); !exists(got) {
		t.Errorf("not at %s", got)
	}

	// A link reads the same and outlives the original.
	id2, err := s.Link("bucket", w.ID(), "other")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("bucket", w.ID()); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove("bucket", w.ID()); err != nil {
		t.Errorf("removing twice: %v", err)
	}
	f, err = s.Open("other", id2)
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(f)
	f.Close()
	if string(b) != "hello, world" {
		t.Errorf("link read %q", b)
	}
}

func TestAbortLeavesNothing(t *testing.T) {
	s, _ := Open(t.TempDir())
	w, _ := s.Create("b")
	w.Write([]byte("half"))
	w.Abort()
	if err := w.Commit(); err == nil {
		t.Error("commit after abort")
	}
	if n := count(t, s.Dir()); n != 0 {
		t.Errorf("%d files left", n)
	}
}

// Sweep removes temporaries (a crash mid-write) and blobs nobody claims
// (a crash between the rename and the store's commit), and keeps the
// rest.
func TestSweep(t *testing.T) {
	s, _ := Open(t.TempDir())
	keepW, _ := s.Create("b")
	keepW.Write([]byte("keep"))
	keepW.Commit()
	orphan, _ := s.Create("b")
	orphan.Write([]byte("orphan"))
	orphan.Commit()
	half, _ := s.Create("c")
	half.Write([]byte("half")) // never committed: the crash
	n, err := s.Sweep(func(bucket, id string) bool { return bucket == "b" && id == keepW.ID() })
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("removed %d, want 2", n)
	}
	if _, err := s.Open("b", keepW.ID()); err != nil {
		t.Errorf("kept blob: %v", err)
	}
	if _, err := s.Open("b", orphan.ID()); err == nil {
		t.Error("orphan survived")
	}
	if c := count(t, s.Dir()); c != 1 {
		t.Errorf("%d files left, want 1", c)
	}
}

func TestBadNames(t *testing.T) {
	s, _ := Open(t.TempDir())
	for _, b := range []string{"", ".tmp", "..", "a/b"} {
		if _, err := s.Create(b); err == nil {
			t.Errorf("bucket %q accepted", b)
		}
	}
	for _, id := range []string{"", "../../etc/passwd", strings.Repeat("z", 32)} {
		if _, err := s.Open("b", id); err == nil || os.IsNotExist(err) {
			t.Errorf("id %q: %v", id, err)
		}
	}
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }

func count(t *testing.T, dir string) int {
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

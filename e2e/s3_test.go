package e2e

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// countFiles counts the regular files under dir.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

// slowZeros is an endless body that counts what was read and stops
// sending once stop is closed, so the daemon is killed mid-upload.
type slowZeros struct {
	sent atomic.Int64
	stop chan struct{}
}

func (z *slowZeros) Read(p []byte) (int, error) {
	select {
	case <-z.stop:
		return 0, io.ErrUnexpectedEOF
	default:
	}
	p = p[:min(len(p), 64<<10)]
	clear(p)
	z.sent.Add(int64(len(p)))
	return len(p), nil
}

// kill -9 during a 1 GiB upload leaves no object, and the next start
// leaves no temporary file: the upload was never acknowledged, the
// object that was there before is untouched.
func TestS3CrashDuringUpload(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	opts := Opts{DataDir: dir}
	c := startBinary(t, opts)
	cli := clis()[0]
	c.awsOK(t, cli, testCreds, "s3api", "create-bucket", "--bucket", "crash")
	src := filepath.Join(t.TempDir(), "keep.txt")
	os.WriteFile(src, []byte("kept across the crash\n"), 0o644)
	c.awsOK(t, cli, testCreds, "s3api", "put-object", "--bucket", "crash", "--key", "keep.txt", "--body", src)
	blobs := filepath.Join(dir, "s3", "crash")
	if n := countFiles(t, blobs); n != 1 {
		t.Fatalf("%d object files before the upload, want 1", n)
	}

	// An unsigned path-style PUT (auth is off) of 1 GiB, killed halfway.
	body := &slowZeros{stop: make(chan struct{})}
	req, _ := http.NewRequest(http.MethodPut, c.URL+"/crash/big.bin", body)
	req.ContentLength = 1 << 30
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	deadline := time.Now().Add(60 * time.Second)
	for body.sent.Load() < 64<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d bytes sent in 60s", body.sent.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := countFiles(t, filepath.Join(dir, "s3", ".tmp")); n != 1 {
		t.Errorf("%d temporary files during the upload, want 1", n)
	}
	if code := c.signal(t, syscall.SIGKILL); code != -1 {
		t.Errorf("SIGKILL: exit code %d, want -1", code)
	}
	close(body.stop)
	if err := <-done; err == nil {
		t.Error("the killed upload succeeded")
	}

	c = startBinary(t, opts)
	if n := countFiles(t, filepath.Join(dir, "s3", ".tmp")); n != 0 {
		t.Errorf("%d temporary files after the restart, want 0", n)
	}
	if n := countFiles(t, blobs); n != 1 {
		t.Errorf("%d object files after the restart, want 1 (keep.txt)", n)
	}
	e := c.awsErr(t, cli, testCreds, "s3api", "head-object", "--bucket", "crash", "--key", "big.bin")
	if e.Code != "404" {
		t.Errorf("head-object of the killed upload: %+v, want 404", e)
	}
	got := filepath.Join(t.TempDir(), "got.txt")
	c.awsOK(t, cli, testCreds, "s3api", "get-object", "--bucket", "crash", "--key", "keep.txt", got)
	if b, _ := os.ReadFile(got); !strings.Contains(string(b), "kept across the crash") {
		t.Errorf("keep.txt after the crash: %q", b)
	}
}

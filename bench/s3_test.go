package main

import (
	"bytes"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPatternReader(t *testing.T) {
	size := 3*len(patternBlock) + 1234
	want := make([]byte, size)
	for i := range want {
		want[i] = patternBlock[i%len(patternBlock)]
	}
	// Any read sizes give the same bytes, exactly size of them, then EOF.
	for _, chunk := range []int{1, 7, 4096, 1 << 16, 1 << 20} {
		p := &patternReader{size: int64(size)}
		var got bytes.Buffer
		buf := make([]byte, chunk)
		for {
			n, err := p.Read(buf)
			got.Write(buf[:n])
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("chunk %d: %d bytes read, differing from the pattern", chunk, got.Len())
		}
	}
	if _, ok := any(&patternReader{}).(io.Seeker); ok {
		t.Error("patternReader seeks; the 2 GiB PutObject means to send a body that cannot")
	}
	// The pattern does not compress: no long runs of one byte.
	if bytes.Count(patternBlock, []byte{0}) > len(patternBlock)/100 {
		t.Error("patternBlock looks empty")
	}
}

func TestS3ListKeys(t *testing.T) {
	for _, n := range []int{100_000, 20_000, 1000} {
		keys := make([]string, n)
		for i := range keys {
			keys[i] = s3ListKey(i, n)
		}
		// Index order is S3's byte order, and every key is distinct.
		if !slices.IsSorted(keys) {
			t.Errorf("n=%d: keys are not in byte order", n)
		}
		if len(slices.Compact(slices.Clone(keys))) != n {
			t.Errorf("n=%d: duplicate keys", n)
		}
		prefix, from, to := s3ListPrefix(n)
		var matching []int
		for i, k := range keys {
			if strings.HasPrefix(k, prefix) {
				matching = append(matching, i)
			}
		}
		if len(matching) != to-from || matching[0] != from || matching[len(matching)-1] != to-1 {
			t.Errorf("n=%d: prefix %s matches %d keys from %d; s3ListPrefix says [%d, %d)", n, prefix, len(matching), matching[0], from, to)
		}
		if to-from != n/10 {
			t.Errorf("n=%d: the prefix holds %d keys, want a tenth", n, to-from)
		}
	}
	if got := s3ListKey(0, 100_000); got != "logs/2026/01/000000.json" {
		t.Errorf("first key %q", got)
	}
	if got := s3ListKey(49_999, 100_000); got != "logs/2026/05/009999.json" {
		t.Errorf("last logs key %q", got)
	}
	if got := s3ListKey(50_000, 100_000); got != "other/000000" {
		t.Errorf("first other key %q", got)
	}
}

func TestStatusField(t *testing.T) {
	status := "Name:\tcloudbox\nVmPeak:\t 1300000 kB\nVmHWM:\t   40000 kB\nVmRSS:\t   17000 kB\nThreads:\t8\n"
	if got, err := statusField(status, "VmRSS"); err != nil || got != 17000*1024 {
		t.Errorf("VmRSS = %d, %v", got, err)
	}
	if got, err := statusField(status, "VmHWM"); err != nil || got != 40000*1024 {
		t.Errorf("VmHWM = %d, %v", got, err)
	}
	if _, err := statusField(status, "VmSwap"); err == nil {
		t.Error("a missing field parsed")
	}
}

func TestS3Formats(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{{1 << 20, "1 MiB"}, {256 << 20, "256 MiB"}, {2 << 30, "2 GiB"}, {4 << 10, "4 KiB"}, {1000, "1000 B"}} {
		if got := sizeName(c.n); got != c.want {
			t.Errorf("sizeName(%d) = %q, want %q", c.n, got, c.want)
		}
	}
	if got := mbps(256<<20, time.Second); got != "268 MB/s" {
		t.Errorf("mbps = %q", got)
	}
	if got := mbps(1, 0); got != "n/a" {
		t.Errorf("mbps of no time = %q", got)
	}
}

func TestDiskCopy(t *testing.T) {
	dir := t.TempDir()
	src, dst := dir+"/src", dir+"/dst"
	sum, err := writePattern(src, 3<<20+5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := diskCopy(src, dst, make([]byte, 1<<16)); err != nil {
		t.Fatal(err)
	}
	if got, err := fileMD5(dst); err != nil || got != sum {
		t.Errorf("copy's MD5 %s (%v), want %s", got, err, sum)
	}
	if !sameDevice(src, dst) {
		t.Error("two files of one directory on different devices")
	}
}

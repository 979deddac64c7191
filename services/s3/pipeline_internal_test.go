package s3

import (
	"bytes"
	"crypto/md5"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func TestCopyHashing(t *testing.T) {
	src := bytes.Repeat([]byte("0123456789abcdef"), 100_000) // 1.6 MB: several buffers
	var dst bytes.Buffer
	h := md5.New()
	n, err := copyHashing(&dst, iotest.HalfReader(bytes.NewReader(src)), h)
	if err != nil || n != int64(len(src)) || !bytes.Equal(dst.Bytes(), src) {
		t.Fatalf("copied %d, %v", n, err)
	}
	if want := md5.Sum(src); !bytes.Equal(h.Sum(nil), want[:]) {
		t.Error("hash differs")
	}

	// A failing body fails the copy with its error, after what it gave.
	boom := errors.New("boom")
	dst.Reset()
	n, err = copyHashing(&dst, io.MultiReader(bytes.NewReader(src[:1000]), iotest.ErrReader(boom)), md5.New())
	if !errors.Is(err, boom) || n != 1000 {
		t.Errorf("failing body: %d, %v", n, err)
	}
	// io.ErrUnexpectedEOF from the body (a client gone) is an error, not an end.
	_, err = copyHashing(&dst, iotest.ErrReader(io.ErrUnexpectedEOF), md5.New())
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("unexpected EOF: %v", err)
	}
}

// Package objectstore keeps the bytes of S3's objects as files: one file
// per blob (an object written in one piece, or one part of a multipart
// upload) under <dir>/<bucket>/<first two characters of the id>/<id>.
// The metadata that names blobs (which key, which version, which parts in
// which order) lives in the resource store; this package knows only
// blobs.
//
// A blob is written to a temporary file under <dir>/.tmp while it
// arrives, then synced and renamed into place, and its directory synced:
// a crash leaves either no blob or a whole one, never a half. A whole
// blob that no record names yet (the crash came between the rename and
// the store's commit) is an orphan that Sweep removes at the next start,
// with every temporary file.
package objectstore

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// tmpDir is where blobs are written before they are whole. Bucket names
// never start with a dot, so it cannot collide with one.
const tmpDir = ".tmp"

// Store is a directory of blobs. It is safe for concurrent use: every
// blob has a fresh id, and the file system orders the rest.
type Store struct {
	dir string
}

// Open returns the store rooted at dir, creating it.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(filepath.Join(dir, tmpDir), 0o755); err != nil {
		return nil, fmt.Errorf("objectstore: %w", err)
	}
	return &Store{dir: dir}, nil
}

// Dir is the store's root.
func (s *Store) Dir() string { return s.dir }

// NewID returns a fresh blob id: 32 hex digits.
func NewID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// validID reports whether id could have come from NewID: ids come from
// the store's records, but a path is built from them.
func validID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// validBucket reports whether bucket is a safe directory name: S3's rules
// (checked by the service) are narrower still.
func validBucket(bucket string) bool {
	return bucket != "" && !strings.HasPrefix(bucket, ".") && !strings.ContainsAny(bucket, `/\`) && bucket != ".."
}

func (s *Store) path(bucket, id string) (string, error) {
	if !validBucket(bucket) || !validID(id) {
		return "", fmt.Errorf("objectstore: bad blob %q/%q", bucket, id)
	}
	return filepath.Join(s.dir, bucket, id[:2], id), nil
}

// Writer is a blob being written. Commit makes it whole; Abort (always
// safe to call, also after Commit) drops what was written.
type Writer struct {
	s      *Store
	f      *os.File
	bucket string
	id     string
	size   int64
	done   bool
}

// Create starts a blob of bucket.
func (s *Store) Create(bucket string) (*Writer, error) {
	if !validBucket(bucket) {
		return nil, fmt.Errorf("objectstore: bad bucket %q", bucket)
	}
	return s.create(bucket, NewID())
}

// ID is the blob's id.
func (w *Writer) ID() string { return w.id }

// Size is how many bytes were written.
func (w *Writer) Size() int64 { return w.size }

func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.size += int64(n)
	return n, err
}

// ReadFrom lets io.Copy hand the file the source (copy_file_range,
// splice) when it can.
func (w *Writer) ReadFrom(r io.Reader) (int64, error) {
	n, err := w.f.ReadFrom(r)
	w.size += n
	return n, err
}

// Commit syncs the blob and moves it into place. The caller then records
// it in the store, and removes it (Remove) if that fails.
func (w *Writer) Commit() error {
	if w.done {
		return errors.New("objectstore: blob already committed or aborted")
	}
	w.done = true
	tmp := w.f.Name()
	err := w.f.Sync()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("objectstore: %w", err)
	}
	final, err := w.s.path(w.bucket, w.id)
	if err != nil {
		os.Remove(tmp)
		return err
	}
	dir := filepath.Dir(final)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("objectstore: %w", err)
	}
	if err := os.Rename(tmp, final); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("objectstore: %w", err)
	}
	return syncDir(dir)
}

// Abort drops an uncommitted blob; after Commit it does nothing.
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.f.Close()
	os.Remove(w.f.Name())
}

// Open opens a whole blob for reading.
func (s *Store) Open(bucket, id string) (*os.File, error) {
	p, err := s.path(bucket, id)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// Link makes blob id of bucket also blob newID of toBucket, without
// copying when the file system can (a hard link: a copied object costs no
// space until one of them is replaced). It returns the new blob's id.
func (s *Store) Link(bucket, id, toBucket string) (string, error) {
	src, err := s.path(bucket, id)
	if err != nil {
		return "", err
	}
	newID := NewID()
	dst, err := s.path(toBucket, newID)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return "", fmt.Errorf("objectstore: %w", err)
	}
	if err := os.Link(src, dst); err == nil {
		return newID, syncDir(filepath.Dir(dst))
	}
	in, err := os.Open(src)
	if err != nil {
		return "", fmt.Errorf("objectstore: %w", err)
	}
	defer in.Close()
	w, err := s.create(toBucket, newID)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(w, in); err != nil {
		w.Abort()
		return "", fmt.Errorf("objectstore: %w", err)
	}
	return newID, w.Commit()
}

func (s *Store) create(bucket, id string) (*Writer, error) {
	f, err := os.OpenFile(filepath.Join(s.dir, tmpDir, id), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("objectstore: %w", err)
	}
	return &Writer{s: s, f: f, bucket: bucket, id: id}, nil
}

// Remove deletes a blob; one already gone is not an error. A reader that
// has it open reads on to the end.
func (s *Store) Remove(bucket, id string) error {
	p, err := s.path(bucket, id)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("objectstore: %w", err)
	}
	os.Remove(filepath.Dir(p)) // the fan-out directory, if now empty
	return nil
}

// RemoveBucket deletes bucket's directory with whatever it still holds.
func (s *Store) RemoveBucket(bucket string) error {
	if !validBucket(bucket) {
		return fmt.Errorf("objectstore: bad bucket %q", bucket)
	}
	return os.RemoveAll(filepath.Join(s.dir, bucket))
}

// Sweep removes every temporary file and every blob that keep does not
// claim, and the directories left empty; it returns how many files it
// removed. Run it when no blob is being written (at start, after a
// reset).
func (s *Store) Sweep(keep func(bucket, id string) bool) (int, error) {
	removed := 0
	tmp := filepath.Join(s.dir, tmpDir)
	entries, err := os.ReadDir(tmp)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("objectstore: %w", err)
	}
	for _, e := range entries {
		if os.RemoveAll(filepath.Join(tmp, e.Name())) == nil {
			removed++
		}
	}
	buckets, err := os.ReadDir(s.dir)
	if err != nil {
		return removed, fmt.Errorf("objectstore: %w", err)
	}
	for _, b := range buckets {
		if !b.IsDir() || b.Name() == tmpDir {
			continue
		}
		bdir := filepath.Join(s.dir, b.Name())
		fans, _ := os.ReadDir(bdir)
		for _, fan := range fans {
			fdir := filepath.Join(bdir, fan.Name())
			blobs, _ := os.ReadDir(fdir)
			for _, bl := range blobs {
				if !keep(b.Name(), bl.Name()) {
					if os.RemoveAll(filepath.Join(fdir, bl.Name())) == nil {
						removed++
					}
				}
			}
			os.Remove(fdir) // only if empty
		}
		os.Remove(bdir) // only if empty
	}
	return removed, nil
}

// syncDir makes a rename or link in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("objectstore: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("objectstore: %w", err)
	}
	return nil
}

package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.etcd.io/bbolt"
)

// Bucket layout of the persistent store:
//
//   - One top-level bucket per scope, named account NUL region NUL kind,
//     holding that scope's records keyed by ID, so List is a walk of one
//     bucket in key order. Its bucket sequence is the NextID counter. A
//     composite name rather than nested account/region/kind buckets costs
//     one B-tree lookup instead of three and gives region "" a non-empty
//     name for free. Account, region and kind are assumed to hold no NUL.
//   - The bucket "counts" maps a scope's bucket name to its record count
//     (big-endian uint64), kept up to date by put and delete, because bbolt
//     cannot count a bucket's keys without walking them. The name has no
//     NUL, so it cannot collide with a scope.
var countsBucket = []byte("counts")

// Open opens the persistent store in dir (file dir/cloudbox.db), creating
// the directory (mode 0700) and the file if needed. It fails after a second
// if another process has the store open.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	path := filepath.Join(dir, "cloudbox.db")
	db, err := bbolt.Open(path, 0o600, &bbolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	return newStore(boltBackend{db}), nil
}

type boltBackend struct {
	db *bbolt.DB
}

func (b boltBackend) begin(writable bool) (txn, error) {
	tx, err := b.db.Begin(writable)
	if err != nil {
		return nil, err
	}
	return boltTxn{tx}, nil
}

func (b boltBackend) close() error {
	return b.db.Close()
}

type boltTxn struct {
	tx *bbolt.Tx
}

func bucketName(s scope) []byte {
	return []byte(s.account + "\x00" + s.region + "\x00" + s.kind)
}

func (t boltTxn) get(s scope, id string) ([]byte, error) {
	b := t.tx.Bucket(bucketName(s))
	if b == nil {
		return nil, nil
	}
	return b.Get([]byte(id)), nil
}

func (t boltTxn) put(s scope, id string, val []byte) error {
	name := bucketName(s)
	b, err := t.tx.CreateBucketIfNotExists(name)
	if err != nil {
		return err
	}
	key := []byte(id)
	created := b.Get(key) == nil
	if err := b.Put(key, val); err != nil {
		return err
	}
	if created {
		return t.addCount(name, 1)
	}
	return nil
}

func (t boltTxn) delete(s scope, id string) (bool, error) {
	name := bucketName(s)
	b := t.tx.Bucket(name)
	key := []byte(id)
	if b == nil || b.Get(key) == nil {
		return false, nil
	}
	if err := b.Delete(key); err != nil {
		return false, err
	}
	return true, t.addCount(name, -1)
}

func (t boltTxn) scan(s scope, from string, fn func(id string, raw []byte) error) error {
	b := t.tx.Bucket(bucketName(s))
	if b == nil {
		return nil
	}
	c := b.Cursor()
	for k, v := c.Seek([]byte(from)); k != nil; k, v = c.Next() {
		if v == nil {
			continue // a nested bucket, not a record
		}
		if err := fn(string(k), v); err != nil {
			return err
		}
	}
	return nil
}

func (t boltTxn) scopes(kind string) ([][2]string, error) {
	var out [][2]string
	c := t.tx.Cursor()
	for name, _ := c.First(); name != nil; name, _ = c.Next() {
		parts := strings.SplitN(string(name), "\x00", 3)
		if len(parts) == 3 && parts[2] == kind && t.countOf(name) > 0 {
			out = append(out, [2]string{parts[0], parts[1]})
		}
	}
	return out, nil
}

func (t boltTxn) count(s scope) (int, error) {
	return int(t.countOf(bucketName(s))), nil
}

func (t boltTxn) countOf(name []byte) uint64 {
	if c := t.tx.Bucket(countsBucket); c != nil {
		if v := c.Get(name); v != nil {
			return binary.BigEndian.Uint64(v)
		}
	}
	return 0
}

func (t boltTxn) addCount(name []byte, delta int) error {
	c, err := t.tx.CreateBucketIfNotExists(countsBucket)
	if err != nil {
		return err
	}
	n := t.countOf(name) + uint64(delta)
	if n == 0 {
		return c.Delete(name)
	}
	return c.Put(name, binary.BigEndian.AppendUint64(nil, n))
}

func (t boltTxn) nextSeq(s scope) (uint64, error) {
	b, err := t.tx.CreateBucketIfNotExists(bucketName(s))
	if err != nil {
		return 0, err
	}
	return b.NextSequence()
}

func (t boltTxn) reset() error {
	var names [][]byte
	err := t.tx.ForEach(func(name []byte, _ *bbolt.Bucket) error {
		names = append(names, bytes.Clone(name))
		return nil
	})
	if err != nil {
		return err
	}
	for _, name := range names {
		if err := t.tx.DeleteBucket(name); err != nil {
			return err
		}
	}
	return nil
}

func (t boltTxn) commit() error {
	return t.tx.Commit()
}

func (t boltTxn) rollback() {
	// A rollback only fails if the transaction is already closed.
	_ = t.tx.Rollback()
}

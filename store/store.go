// Package store is the resource store of cloudbox: every emulated AWS
// resource is a JSON record addressed by a Key.
//
// Each API call runs as one transaction (Store.Update or Store.View). The
// persistent store (Open) keeps its records in a bbolt file and fsyncs every
// commit, so a crash at any moment leaves each transaction wholly applied or
// wholly absent. The ephemeral store (OpenMemory) has the same semantics
// without touching the disk. Controllers follow changes with Store.Watch.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Key addresses one record.
type Key struct {
	Account string // 12-digit account id, never ""
	Region  string // "" for global resources
	Kind    string // resource type, e.g. "ec2:vpc"
	ID      string
}

var (
	// ErrReadOnly is returned by writes inside Store.View.
	ErrReadOnly = errors.New("store: write in a read-only transaction")
	// ErrStop, returned by a Tx.List callback, ends the listing early
	// without error.
	ErrStop = errors.New("store: stop listing")
)

// scope is the unit of storage: all records of one kind in one account and
// region. Both backends keep one sorted table per scope, so List is an
// in-order walk of one table and Count needs no walk at all.
type scope struct {
	account, region, kind string
}

// backend is what differs between the persistent and the memory store;
// everything above it (encoding, validation, events) is shared.
type backend interface {
	begin(writable bool) (txn, error)
	close() error
}

// txn is a backend transaction. Raw values it returns are valid only until
// the transaction ends and must not be modified.
type txn interface {
	get(s scope, id string) ([]byte, error)
	put(s scope, id string, val []byte) error
	delete(s scope, id string) (bool, error)
	// scan walks the records of s from the first id >= from, in order.
	scan(s scope, from string, fn func(id string, raw []byte) error) error
	// scopes returns the (account, region) of every non-empty scope of kind.
	scopes(kind string) ([][2]string, error)
	count(s scope) (int, error)
	nextSeq(s scope) (uint64, error)
	reset() error
	commit() error
	rollback()
}

// Store is safe for concurrent use. Write transactions are serialized; reads
// run concurrently with each other and see a consistent snapshot.
type Store struct {
	b backend

	// wmu serializes write transactions from begin through publishing their
	// events, so watchers receive events in commit order.
	wmu sync.Mutex

	watchMu  sync.Mutex
	watchers map[*watcher]struct{} // nil once the store is closed

	// gens and resets are Generation's counters: gens by service.
	gens   sync.Map
	resets atomic.Uint64

	// indexes by kind (index.go), replaced whole under wmu.
	indexes atomic.Pointer[map[string][]*index]
}

func newStore(b backend) *Store {
	return &Store{b: b, watchers: make(map[*watcher]struct{})}
}

// Close releases the store and closes every watch channel. It waits for
// running transactions to finish.
func (s *Store) Close() error {
	s.closeWatchers()
	return s.b.close()
}

// Update runs fn in a read-write transaction. If fn returns an error or
// panics, nothing it wrote is kept (a panic is propagated after the
// rollback). For the persistent store, a nil return means the commit is on
// disk. fn must not call Update or Reset: write transactions do not nest.
func (s *Store) Update(fn func(tx *Tx) error) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	t, err := s.b.begin(true)
	if err != nil {
		return err
	}
	tx := &Tx{t: t, writable: true, s: s}
	defer tx.rollback() // no-op once committed; runs on panic too
	if err := fn(tx); err != nil {
		return err
	}
	tx.t = nil // fn may have kept tx: make later use fail rather than write
	if err := t.commit(); err != nil {
		tx.indexRolledBack()
		return err
	}
	tx.indexAdded = nil
	if tx.reset {
		if m := s.indexes.Load(); m != nil {
			for _, ixs := range *m {
				for _, ix := range ixs {
					ix.clear()
				}
			}
		}
	}
	tx.indexCommitted()
	s.bumpGenerations(tx.events)
	if !tx.unheard {
		s.publish(tx.events)
	}
	for _, f := range tx.onCommit {
		f()
	}
	return nil
}

// View runs fn in a read-only transaction; writes inside it return
// ErrReadOnly.
func (s *Store) View(fn func(tx *Tx) error) error {
	t, err := s.b.begin(false)
	if err != nil {
		return err
	}
	tx := &Tx{t: t, s: s}
	defer tx.rollback()
	return fn(tx)
}

// Reset deletes every record and counter of every account and region in one
// transaction, then sends watchers a single Event with Op Reset.
func (s *Store) Reset() error {
	return s.Update(func(tx *Tx) error {
		if err := tx.t.reset(); err != nil {
			return err
		}
		tx.events, tx.index = []Event{{Op: Reset}}, nil
		tx.reset, tx.indexGone, tx.indexFinal = true, nil, nil
		return nil
	})
}

// Tx is a transaction. It is valid only during the function passed to
// Update or View.
type Tx struct {
	t        txn
	writable bool

	// events holds one event per changed key, in order of first change;
	// index maps a key to its event so later changes replace the op.
	events []Event
	index  map[Key]int

	onCommit []func() // OnCommit's
	unheard  bool     // Unheard: publish no events

	// s is the transaction's store, whose indexes a write transaction
	// keeps: pairs added before the commit (undone on rollback), pairs to
	// remove after it, and each record's final values.
	s          *Store
	reset      bool
	indexAdded []indexChange
	indexGone  []indexChange
	indexFinal map[indexRecord][]string
}

// Unheard has the transaction's changes reach no watcher: for bulk writes
// that nothing follows (CloudWatch's datapoints), whose events would only
// make every watcher of all kinds fall behind into a Resync. Generations
// still move, so caches of the service's records stay true.
func (tx *Tx) Unheard() { tx.unheard = true }

// OnCommit has f run once the transaction is committed (never if it is
// not), in the order of the calls: what happened may then be told (an
// event published), knowing it is durable. It runs before the next write
// transaction begins, so callbacks follow commit order, and so it must not
// start one.
func (tx *Tx) OnCommit(f func()) {
	tx.onCommit = append(tx.onCommit, f)
}

func (tx *Tx) rollback() {
	if tx.t != nil {
		tx.t.rollback()
		tx.t = nil
		tx.indexRolledBack()
	}
}

func (tx *Tx) record(op Op, k Key) {
	if i, ok := tx.index[k]; ok {
		tx.events[i].Op = op
		return
	}
	if tx.index == nil {
		tx.index = make(map[Key]int)
	}
	tx.index[k] = len(tx.events)
	tx.events = append(tx.events, Event{Op: op, Key: k})
}

func checkScope(account, kind string) error {
	if account == "" || kind == "" {
		return fmt.Errorf("store: account and kind are required (account %q, kind %q)", account, kind)
	}
	return nil
}

func checkKey(k Key) (scope, error) {
	if err := checkScope(k.Account, k.Kind); err != nil {
		return scope{}, err
	}
	if k.ID == "" {
		return scope{}, fmt.Errorf("store: empty id for kind %q", k.Kind)
	}
	return scope{k.Account, k.Region, k.Kind}, nil
}

// Get decodes the record at k into v (JSON). It returns false, nil if there
// is no such record.
func (tx *Tx) Get(k Key, v any) (bool, error) {
	sc, err := checkKey(k)
	if err != nil {
		return false, err
	}
	raw, err := tx.t.get(sc, k.ID)
	if err != nil || raw == nil {
		return false, err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return false, fmt.Errorf("store: decode %+v: %w", k, err)
	}
	return true, nil
}

// Put encodes v as JSON and stores it at k, creating or replacing the
// record.
func (tx *Tx) Put(k Key, v any) error {
	if !tx.writable {
		return ErrReadOnly
	}
	sc, err := checkKey(k)
	if err != nil {
		return err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: encode %+v: %w", k, err)
	}
	if tx.indexed(k.Kind) {
		old, err := tx.t.get(sc, k.ID)
		if err != nil {
			return err
		}
		tx.indexWrite(k, old, raw)
	}
	if err := tx.t.put(sc, k.ID, raw); err != nil {
		return err
	}
	tx.record(Put, k)
	return nil
}

// Delete removes the record at k and reports whether it existed. Deleting
// an absent record is not an error.
func (tx *Tx) Delete(k Key) (bool, error) {
	if !tx.writable {
		return false, ErrReadOnly
	}
	sc, err := checkKey(k)
	if err != nil {
		return false, err
	}
	if tx.indexed(k.Kind) {
		old, err := tx.t.get(sc, k.ID)
		if err != nil {
			return false, err
		}
		if old != nil {
			tx.indexWrite(k, old, nil)
		}
	}
	existed, err := tx.t.delete(sc, k.ID)
	if existed {
		tx.record(Delete, k)
	}
	return existed, err
}

// List calls fn for every record of kind in (account, region), in ascending
// ID order. raw is the record's JSON, valid only during the call and not
// to be modified. If fn
// returns ErrStop, List stops and returns nil; any other error stops it and
// is returned. fn must not write records of the kind being listed.
func (tx *Tx) List(account, region, kind string, fn func(id string, raw []byte) error) error {
	return tx.ListFrom(account, region, kind, "", fn)
}

// ListFrom is List starting at the first ID >= from, in byte order: how a
// long listing (S3's keys) resumes without walking what it has shown.
func (tx *Tx) ListFrom(account, region, kind, from string, fn func(id string, raw []byte) error) error {
	if err := checkScope(account, kind); err != nil {
		return err
	}
	err := tx.t.scan(scope{account, region, kind}, from, fn)
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}

// Scopes returns the (account, region) pairs that hold at least one record
// of kind, sorted: how a controller that serves every account and region
// (the data plane) finds them.
func (tx *Tx) Scopes(kind string) ([][2]string, error) {
	if kind == "" {
		return nil, fmt.Errorf("store: empty kind")
	}
	out, err := tx.t.scopes(kind)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b [2]string) int {
		if c := strings.Compare(a[0], b[0]); c != 0 {
			return c
		}
		return strings.Compare(a[1], b[1])
	})
	return out, nil
}

// Count returns the number of records of kind in (account, region).
func (tx *Tx) Count(account, region, kind string) (int, error) {
	if err := checkScope(account, kind); err != nil {
		return 0, err
	}
	return tx.t.count(scope{account, region, kind})
}

// NextID returns the next value, starting at 1, of a counter kept per
// (account, region, kind). The increment is part of the transaction: it is
// undone by a rollback and persisted by a commit.
func (tx *Tx) NextID(account, region, kind string) (uint64, error) {
	if !tx.writable {
		return 0, ErrReadOnly
	}
	if err := checkScope(account, kind); err != nil {
		return 0, err
	}
	return tx.t.nextSeq(scope{account, region, kind})
}

// Get returns the record at k decoded as a T, or nil, false, nil if absent.
func Get[T any](tx *Tx, k Key) (*T, bool, error) {
	v := new(T)
	ok, err := tx.Get(k, v)
	if !ok {
		return nil, false, err
	}
	return v, true, nil
}

// ListAll returns every record of kind in (account, region) decoded as a T,
// in ascending ID order.
func ListAll[T any](tx *Tx, account, region, kind string) ([]*T, error) {
	var all []*T
	err := tx.List(account, region, kind, func(id string, raw []byte) error {
		v := new(T)
		if err := json.Unmarshal(raw, v); err != nil {
			return fmt.Errorf("store: decode %s %s/%s/%s: %w", kind, account, region, id, err)
		}
		all = append(all, v)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return all, nil
}

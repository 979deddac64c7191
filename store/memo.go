package store

import (
	"bytes"
	"sync"
)

// Memo remembers a pure function of records (a projection such as an
// instance's state and zone), so that a controller reading the same
// unchanged records many times a second decodes each only when its bytes
// change. It is correct for any store and transaction: an entry is used
// only if the record's bytes are equal to those it was computed from.
// Safe for concurrent use.
type Memo[T any] struct {
	fn  func(k Key, raw []byte) (T, error)
	max int

	mu      sync.Mutex
	entries map[Key]memoEntry[T]
}

type memoEntry[T any] struct {
	raw []byte
	v   T
}

// NewMemo returns a Memo of fn keeping at most max records (beyond that it
// starts afresh). fn must not keep raw, and T must not share memory with
// it: a cached T is handed to every caller.
func NewMemo[T any](max int, fn func(k Key, raw []byte) (T, error)) *Memo[T] {
	return &Memo[T]{fn: fn, max: max, entries: map[Key]memoEntry[T]{}}
}

// Get returns fn of the record at k, or ok false if there is none.
func (m *Memo[T]) Get(tx *Tx, k Key) (v T, ok bool, err error) {
	sc, err := checkKey(k)
	if err != nil {
		return v, false, err
	}
	raw, err := tx.t.get(sc, k.ID)
	if err != nil || raw == nil {
		return v, false, err
	}
	m.mu.Lock()
	e, hit := m.entries[k]
	m.mu.Unlock()
	if hit && bytes.Equal(e.raw, raw) {
		return e.v, true, nil
	}
	if v, err = m.fn(k, raw); err != nil {
		return v, false, err
	}
	m.mu.Lock()
	if len(m.entries) >= m.max {
		clear(m.entries)
	}
	// raw belongs to the transaction (bbolt's memory map): keep a copy.
	m.entries[k] = memoEntry[T]{raw: bytes.Clone(raw), v: v}
	m.mu.Unlock()
	return v, true, nil
}

package store

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

var errClosed = errors.New("store: closed")

// OpenMemory returns an ephemeral store that lives in memory only.
func OpenMemory() *Store {
	m := &memory{}
	m.state.Store(&memState{tables: make(map[scope]*memTable)})
	return newStore(m)
}

// memory is the ephemeral backend. A published state is never modified: a
// write transaction copies what it changes (the scope map on its first
// write, each table on its first write to it) and commit publishes the new
// state with one atomic store. So a reader's snapshot is one atomic load, it
// never waits for a writer nor sees part of a transaction, and a rollback
// just drops the copies. Copying a whole table per transaction is O(records
// of that scope), which is cheap at the sizes an emulator holds.
type memory struct {
	mu    sync.Mutex               // serializes write transactions
	state atomic.Pointer[memState] // nil once closed
}

type memState struct {
	tables map[scope]*memTable
}

// memTable holds the records of one scope sorted by ID, and its NextID
// counter.
type memTable struct {
	seq  uint64
	recs []memRec
}

type memRec struct {
	id  string
	val []byte
}

// find returns the position of id in tb, or where it would be inserted.
func (tb *memTable) find(id string) (int, bool) {
	if tb == nil {
		return 0, false
	}
	return slices.BinarySearchFunc(tb.recs, id, func(r memRec, id string) int {
		return strings.Compare(r.id, id)
	})
}

func (m *memory) begin(writable bool) (txn, error) {
	if !writable {
		st := m.state.Load()
		if st == nil {
			return nil, errClosed
		}
		return &memTxn{tables: st.tables}, nil
	}
	m.mu.Lock()
	st := m.state.Load()
	if st == nil {
		m.mu.Unlock()
		return nil, errClosed
	}
	return &memTxn{m: m, tables: st.tables}, nil
}

func (m *memory) close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.state.Store(nil)
	return nil
}

type memTxn struct {
	m      *memory // nil for a read transaction
	tables map[scope]*memTable
	// owned holds the tables this transaction copied and may modify; it is
	// nil until the first write, while tables is still the published map.
	owned map[*memTable]bool
}

// table returns a table of s that the transaction may modify, copying
// whatever is still shared with the published state.
func (t *memTxn) table(s scope) *memTable {
	if t.owned == nil {
		t.tables = maps.Clone(t.tables)
		t.owned = make(map[*memTable]bool)
	}
	tb := t.tables[s]
	if !t.owned[tb] {
		c := &memTable{}
		if tb != nil {
			c.seq, c.recs = tb.seq, slices.Clone(tb.recs)
		}
		tb = c
		t.tables[s] = tb
		t.owned[tb] = true
	}
	return tb
}

func (t *memTxn) get(s scope, id string) ([]byte, error) {
	tb := t.tables[s]
	if i, ok := tb.find(id); ok {
		return tb.recs[i].val, nil
	}
	return nil, nil
}

func (t *memTxn) put(s scope, id string, val []byte) error {
	tb := t.table(s)
	if i, ok := tb.find(id); ok {
		tb.recs[i].val = val
	} else {
		tb.recs = slices.Insert(tb.recs, i, memRec{id: id, val: val})
	}
	return nil
}

func (t *memTxn) delete(s scope, id string) (bool, error) {
	if _, ok := t.tables[s].find(id); !ok {
		return false, nil // nothing to copy
	}
	tb := t.table(s)
	i, _ := tb.find(id)
	tb.recs = slices.Delete(tb.recs, i, i+1)
	return true, nil
}

func (t *memTxn) scan(s scope, from string, fn func(id string, raw []byte) error) error {
	tb := t.tables[s]
	if tb == nil {
		return nil
	}
	i, _ := tb.find(from)
	for _, r := range tb.recs[i:] {
		if err := fn(r.id, r.val); err != nil {
			return err
		}
	}
	return nil
}

func (t *memTxn) scopes(kind string) ([][2]string, error) {
	var out [][2]string
	for s, tb := range t.tables {
		if s.kind == kind && len(tb.recs) > 0 {
			out = append(out, [2]string{s.account, s.region})
		}
	}
	return out, nil
}

func (t *memTxn) count(s scope) (int, error) {
	if tb := t.tables[s]; tb != nil {
		return len(tb.recs), nil
	}
	return 0, nil
}

func (t *memTxn) nextSeq(s scope) (uint64, error) {
	tb := t.table(s)
	tb.seq++
	return tb.seq, nil
}

func (t *memTxn) reset() error {
	t.tables = make(map[scope]*memTable)
	t.owned = make(map[*memTable]bool)
	return nil
}

func (t *memTxn) commit() error {
	t.m.state.Store(&memState{tables: t.tables})
	t.m.mu.Unlock()
	return nil
}

func (t *memTxn) rollback() {
	if t.m != nil {
		t.m.mu.Unlock()
	}
}

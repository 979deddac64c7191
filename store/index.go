package store

import (
	"maps"
	"slices"
	"sync"
)

// An index maps values derived from the records of one kind (a name, a
// VPC id, a tag) to the ids of the records that have them, per account
// and region, so that a lookup reads the records that may match instead of
// every record of the kind: a Describe filtered by name costs its answer,
// not the table.
//
// It lives in memory, built from the records when registered and kept by
// every write after. It is a superset of the committed records at every
// moment: a write transaction adds its records' new values before it
// commits and removes the values they no longer have only after, while it
// still holds the write lock. So a lookup misses no record that has the
// value when it is made; it may name records that no longer have the
// value or no longer exist, and callers read and check each, as they
// would have without the index.
type index struct {
	kind, name string
	values     func(raw []byte) []string

	mu  sync.RWMutex
	ids map[indexKey]map[string]struct{}
}

type indexKey struct{ account, region, value string }

// Index registers the index name of kind's records: values returns what
// one record (its JSON) is found by, and must be a pure function of its
// input that does not keep it. Registering a name again keeps the first.
func (s *Store) Index(kind, name string, values func(raw []byte) []string) error {
	// No write may commit between the scan and the registration: it would
	// be in neither.
	s.wmu.Lock()
	defer s.wmu.Unlock()
	for _, ix := range s.indexesOf(kind) {
		if ix.name == name {
			return nil
		}
	}
	ix := &index{kind: kind, name: name, values: values, ids: map[indexKey]map[string]struct{}{}}
	err := s.View(func(tx *Tx) error {
		scopes, err := tx.t.scopes(kind)
		if err != nil {
			return err
		}
		for _, sc := range scopes {
			err := tx.t.scan(scope{sc[0], sc[1], kind}, "", func(id string, raw []byte) error {
				for _, v := range values(raw) {
					ix.add(sc[0], sc[1], v, id)
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Readers find indexes without the write lock: they get a new map,
	// never one being changed.
	m := map[string][]*index{}
	if old := s.indexes.Load(); old != nil {
		maps.Copy(m, *old)
	}
	m[kind] = append(slices.Clip(m[kind]), ix)
	s.indexes.Store(&m)
	return nil
}

func (s *Store) indexesOf(kind string) []*index {
	if m := s.indexes.Load(); m != nil {
		return (*m)[kind]
	}
	return nil
}

// Lookup returns, sorted, the ids of the records of kind in (account,
// region) that may have value in the index name; ok is false when kind has
// no such index (the caller lists instead).
func (tx *Tx) Lookup(account, region, kind, name, value string) (ids []string, ok bool) {
	for _, ix := range tx.s.indexesOf(kind) {
		if ix.name == name {
			return ix.lookup(account, region, value), true
		}
	}
	return nil, false
}

func (ix *index) lookup(account, region, value string) []string {
	ix.mu.RLock()
	set := ix.ids[indexKey{account, region, value}]
	out := make([]string, 0, len(set))
	for id := range set {
		out = append(out, id)
	}
	ix.mu.RUnlock()
	slices.Sort(out)
	return out
}

// add reports whether the pair was not there yet.
func (ix *index) add(account, region, value, id string) bool {
	k := indexKey{account, region, value}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	set := ix.ids[k]
	if set == nil {
		set = map[string]struct{}{}
		ix.ids[k] = set
	}
	if _, ok := set[id]; ok {
		return false
	}
	set[id] = struct{}{}
	return true
}

func (ix *index) remove(account, region, value, id string) {
	k := indexKey{account, region, value}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if set := ix.ids[k]; set != nil {
		delete(set, id)
		if len(set) == 0 {
			delete(ix.ids, k)
		}
	}
}

func (ix *index) clear() {
	ix.mu.Lock()
	clear(ix.ids)
	ix.mu.Unlock()
}

// indexChange is one pair a transaction added (undone on rollback) or
// will remove (after its commit).
type indexChange struct {
	ix                     *index
	account, region, v, id string
}

// indexWrite keeps the indexes of k's kind over a write of k from old to
// new (nil for none); the transaction holds the write lock.
func (tx *Tx) indexWrite(k Key, old, new []byte) {
	for _, ix := range tx.s.indexesOf(k.Kind) {
		var now []string
		if new != nil {
			now = ix.values(new)
			for _, v := range now {
				if ix.add(k.Account, k.Region, v, k.ID) {
					tx.indexAdded = append(tx.indexAdded, indexChange{ix, k.Account, k.Region, v, k.ID})
				}
			}
		}
		if old != nil {
			for _, v := range ix.values(old) {
				if !slices.Contains(now, v) {
					tx.indexGone = append(tx.indexGone, indexChange{ix, k.Account, k.Region, v, k.ID})
				}
			}
		}
		if tx.indexFinal == nil {
			tx.indexFinal = map[indexRecord][]string{}
		}
		tx.indexFinal[indexRecord{ix, k}] = now
	}
}

// indexRecord is one record in one index.
type indexRecord struct {
	ix *index
	k  Key
}

// indexCommitted removes, once the transaction is durable, the values its
// records no longer have (a value a later write of the same transaction
// gave back stays).
func (tx *Tx) indexCommitted() {
	for _, c := range tx.indexGone {
		k := Key{Account: c.account, Region: c.region, Kind: c.ix.kind, ID: c.id}
		if !slices.Contains(tx.indexFinal[indexRecord{c.ix, k}], c.v) {
			c.ix.remove(c.account, c.region, c.v, c.id)
		}
	}
}

// indexRolledBack removes the pairs the transaction added: they were in no
// committed record.
func (tx *Tx) indexRolledBack() {
	for _, c := range tx.indexAdded {
		c.ix.remove(c.account, c.region, c.v, c.id)
	}
	tx.indexAdded = nil
}

// indexed says whether writes of kind keep an index.
func (tx *Tx) indexed(kind string) bool { return len(tx.s.indexesOf(kind)) > 0 }

package cloudwatch

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/store"
)

// Datapoints on disk. Every chunk of a series (chunkID: an hour of 1-second
// and 1-minute buckets, a day of 5-minute ones, thirty days of hourly ones)
// is one record of kindDatapoints. PutMetricData changes memory only and
// marks the chunk; a flush every flushEvery (wall time) writes the marked
// chunks in one transaction, so a burst of puts costs one commit, and the
// daemon flushes once more before the store closes. A crash loses at most
// the last flushEvery of datapoints, never a committed record; on AWS too
// a datapoint is visible only some time after PutMetricData returns. The
// writes are unheard (store.Tx.Unheard): thousands of chunks a second
// would otherwise flood every controller's watch into a full resync.

const (
	kindDatapoints = "cloudwatch:datapoints" // id: chunkKey
	flushEvery     = time.Second
)

// storedChunk is a chunk as a record.
type storedChunk struct {
	Metric  string         `json:"metric"` // metricRef.id()
	LastPut time.Time      `json:"lastPut"`
	Buckets []storedBucket `json:"buckets"`
}

type storedBucket struct {
	At     int64     `json:"at"`
	Res    int64     `json:"res"`
	Unit   string    `json:"unit"`
	Count  float64   `json:"count"`
	Sum    float64   `json:"sum"`
	Min    float64   `json:"min"`
	Max    float64   `json:"max"`
	Values []float64 `json:"values,omitempty"`
}

// chunkKey is a chunk's record id: span and start first, so the metric's
// own id (JSON) needs no escaping.
func chunkKey(metric string, id chunkID) string {
	return fmt.Sprintf("%d/%d/%s", id.span, id.start, metric)
}

// pendingChunk is a marked chunk taken for a flush: its buckets copied
// (nil when the chunk is gone and its record is to be deleted).
type pendingChunk struct {
	key   store.Key
	chunk *storedChunk
}

// takeDirty returns the marked chunks and clears the marks. Buckets are
// copied by value: their values slices are only ever appended to, so the
// copy's view of them does not change.
func (m *metricStore) takeDirty() []pendingChunk {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]pendingChunk, 0, len(m.dirty))
	for ref := range m.dirty {
		p := pendingChunk{key: store.Key{Account: ref.series.sc.account, Region: ref.series.sc.region,
			Kind: kindDatapoints, ID: chunkKey(ref.series.id, ref.chunk)}}
		if ser := m.series[ref.series]; ser != nil {
			if c := ser.chunks[ref.chunk]; c != nil && len(c.buckets) > 0 {
				p.chunk = &storedChunk{Metric: ref.series.id, LastPut: ser.lastPut, Buckets: make([]storedBucket, 0, len(c.buckets))}
				for bk, b := range c.buckets {
					p.chunk.Buckets = append(p.chunk.Buckets, storedBucket{At: bk.at, Res: bk.res, Unit: bk.unit,
						Count: b.count, Sum: b.sum, Min: b.min, Max: b.max, Values: b.values})
				}
			}
		}
		out = append(out, p)
	}
	clear(m.dirty)
	return out
}

// remark marks again chunks a failed flush did not write.
func (m *metricStore) remark(pending []pendingChunk) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range pending {
		span, start, metric, ok := parseChunkKey(p.key.ID)
		if ok {
			m.dirty[chunkRef{seriesKey{scope{p.key.Account, p.key.Region}, metric}, chunkID{span, start}}] = true
		}
	}
}

func parseChunkKey(id string) (span, start int64, metric string, ok bool) {
	parts := strings.SplitN(id, "/", 3)
	if len(parts) != 3 {
		return 0, 0, "", false
	}
	if _, err := fmt.Sscan(parts[0], &span); err != nil {
		return 0, 0, "", false
	}
	if _, err := fmt.Sscan(parts[1], &start); err != nil {
		return 0, 0, "", false
	}
	return span, start, parts[2], true
}

// Flush rolls up the datapoints that aged past their tier and writes
// those changed since the last flush. The daemon calls it before the
// store closes.
func (s *Service) Flush() error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	s.metrics.sweep(s.now())
	pending := s.metrics.takeDirty()
	if len(pending) == 0 {
		return nil
	}
	err := s.store.Update(func(tx *store.Tx) error {
		tx.Unheard()
		for _, p := range pending {
			if p.chunk == nil {
				if _, err := tx.Delete(p.key); err != nil {
					return err
				}
				continue
			}
			if err := tx.Put(p.key, p.chunk); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.metrics.remark(pending)
	}
	return err
}

// load reads every stored chunk into memory.
func (m *metricStore) load(st *store.Store) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return st.View(func(tx *store.Tx) error {
		scopes, err := tx.Scopes(kindDatapoints)
		if err != nil {
			return err
		}
		for _, sc := range scopes {
			err := tx.List(sc[0], sc[1], kindDatapoints, func(id string, raw []byte) error {
				var c storedChunk
				if err := json.Unmarshal(raw, &c); err != nil {
					return fmt.Errorf("cloudwatch: datapoints %s: %w", id, err)
				}
				k := seriesKey{scope{sc[0], sc[1]}, c.Metric}
				ser := m.series[k]
				if ser == nil {
					ser = &series{chunks: map[chunkID]*chunk{}}
					m.series[k] = ser
				}
				if c.LastPut.After(ser.lastPut) {
					ser.lastPut = c.LastPut
				}
				for _, b := range c.Buckets {
					bk := bucketKey{b.At, b.Unit, b.Res}
					ch := ser.chunks[chunkOf(bk)]
					if ch == nil {
						ch = &chunk{buckets: map[bucketKey]*statSet{}}
						ser.chunks[chunkOf(bk)] = ch
					}
					ch.buckets[bk] = &statSet{count: b.Count, sum: b.Sum, min: b.Min, max: b.Max, values: b.Values}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// clear forgets every datapoint (the store was reset).
func (m *metricStore) clear() {
	m.mu.Lock()
	defer m.mu.Unlock()
	clear(m.series)
	clear(m.dirty)
}

// persist flushes every flushEvery and rolls up idle series, until the
// store closes. On a reset it forgets the datapoints in memory and deletes
// what a flush racing the reset may have written after it.
func (s *Service) persist(events <-chan store.Event) {
	tick := time.NewTicker(flushEvery)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				return
			}
			if ev.Op == store.Reset {
				s.metrics.clear()
				if err := s.purge(); err != nil {
					s.log.Warn("cloudwatch: datapoints after reset", "error", err)
				}
			}
		case <-tick.C:
			if err := s.Flush(); err != nil {
				s.log.Warn("cloudwatch: datapoints not written", "error", err)
			}
		}
	}
}

// purge deletes every stored chunk.
func (s *Service) purge() error {
	s.flushMu.Lock()
	defer s.flushMu.Unlock()
	return s.store.Update(func(tx *store.Tx) error {
		tx.Unheard()
		scopes, err := tx.Scopes(kindDatapoints)
		if err != nil {
			return err
		}
		for _, sc := range scopes {
			var ids []string
			if err := tx.List(sc[0], sc[1], kindDatapoints, func(id string, _ []byte) error {
				ids = append(ids, id)
				return nil
			}); err != nil {
				return err
			}
			for _, id := range ids {
				if _, err := tx.Delete(store.Key{Account: sc[0], Region: sc[1], Kind: kindDatapoints, ID: id}); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

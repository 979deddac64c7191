package store

import (
	"slices"
	"strings"
	"sync/atomic"
)

// Generation counts the committed write transactions that changed a
// record of a kind of service (the kind's part before ':', "iam" for
// "iam:user"), plus every Reset. A cache of something computed from those
// records is fresh while the generation it read before computing is still
// the current one: the count moves before Update returns, so the call after
// a write never sees the old value. Reading it is a map load and an atomic
// load, cheap enough for every request.
func (s *Store) Generation(service string) uint64 {
	return s.generation(service).Load() + s.resets.Load()
}

func (s *Store) generation(service string) *atomic.Uint64 {
	if g, ok := s.gens.Load(service); ok {
		return g.(*atomic.Uint64)
	}
	g, _ := s.gens.LoadOrStore(service, new(atomic.Uint64))
	return g.(*atomic.Uint64)
}

// bumpGenerations moves the generation of every service events touched,
// once each.
func (s *Store) bumpGenerations(events []Event) {
	var done []string
	for _, ev := range events {
		if ev.Op == Reset {
			s.resets.Add(1)
			continue
		}
		svc, _, _ := strings.Cut(ev.Key.Kind, ":")
		if !slices.Contains(done, svc) {
			done = append(done, svc)
			s.generation(svc).Add(1)
		}
	}
}

// Package servers holds the servers a controller runs on sockets inside
// one namespace (a VPC's DNS or IMDS, an instance's SSH server), so that
// they stop as one: before their namespace goes, since an open socket
// would keep it alive.
package servers

import (
	"context"
	"sync"
)

// Set is servers sharing one namespace's sockets.
type Set struct {
	// Cancel, if set, ends the servers' context.
	Cancel context.CancelFunc
	// Closers close the sockets.
	Closers []func() error
	wg      sync.WaitGroup
}

// Go runs a server of the set.
func (s *Set) Go(serve func()) { s.wg.Go(serve) }

// Stop ends the context, closes the sockets and waits for the servers.
func (s *Set) Stop() {
	if s.Cancel != nil {
		s.Cancel()
	}
	for _, c := range s.Closers {
		c()
	}
	s.wg.Wait()
}

// Table holds running sets by key (a VPC id, an instance id). It is safe
// for concurrent use.
type Table struct {
	mu sync.Mutex
	m  map[string]*Set
}

// Ensure starts key's set with start unless it runs.
func (t *Table) Ensure(key string, start func() (*Set, error)) error {
	t.mu.Lock()
	_, ok := t.m[key]
	t.mu.Unlock()
	if ok {
		return nil
	}
	s, err := start()
	if err != nil {
		return err
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.m == nil {
		t.m = map[string]*Set{}
	}
	t.m[key] = s
	return nil
}

// Stop stops and forgets the sets whose key gone reports; every set when
// gone is nil. The sets stop outside the lock.
func (t *Table) Stop(gone func(key string) bool) {
	t.mu.Lock()
	var out []*Set
	for k, s := range t.m {
		if gone == nil || gone(k) {
			out = append(out, s)
			delete(t.m, k)
		}
	}
	t.mu.Unlock()
	for _, s := range out {
		s.Stop()
	}
}

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

// Remove deletes from m the sets whose key gone reports, and returns them
// to be stopped once the caller has released the lock that guards m.
func Remove(m map[string]*Set, gone func(key string) bool) []*Set {
	var out []*Set
	for k, s := range m {
		if gone(k) {
			out = append(out, s)
			delete(m, k)
		}
	}
	return out
}

// StopAll stops every set (nil ones are skipped).
func StopAll(sets []*Set) {
	for _, s := range sets {
		if s != nil {
			s.Stop()
		}
	}
}

package iam

import (
	"sync"

	"github.com/cloudbox/cloudbox/authz"
)

// identityCache keeps callers' policies between IAM writes. Under
// --iam enforce every call asks for them; gathering a user's from the
// store is a read and a JSON decode per group and attached policy, which
// cost more than the evaluation itself. An entry is used only while the
// store's IAM generation is the one read before it was gathered, so the
// call after any IAM write (a group left, a policy version made default)
// sees the change.
type identityCache struct {
	mu  sync.Mutex
	gen uint64
	ids map[string]cachedIdentity
}

type cachedIdentity struct {
	id authz.Identity
	ok bool
}

// maxCachedIdentities bounds the cache; beyond it, it starts afresh.
const maxCachedIdentities = 4096

func (c *identityCache) get(gen uint64, principalARN string) (cachedIdentity, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return cachedIdentity{}, false
	}
	e, ok := c.ids[principalARN]
	return e, ok
}

func (c *identityCache) put(gen uint64, principalARN string, e cachedIdentity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen || c.ids == nil || len(c.ids) >= maxCachedIdentities {
		if gen < c.gen {
			return // gathered before a newer write was seen: not worth keeping
		}
		c.gen, c.ids = gen, map[string]cachedIdentity{}
	}
	c.ids[principalARN] = e
}

// Identity returns the identity-based policies of the IAM user or role
// session principalARN names (see identity), from the cache while IAM is
// unchanged. Callers must not modify what it returns: it is shared.
func (s *Service) Identity(principalARN string) (authz.Identity, bool, error) {
	gen := s.store.Generation("iam")
	if e, ok := s.ids.get(gen, principalARN); ok {
		return e.id, e.ok, nil
	}
	id, ok, err := s.identity(principalARN)
	if err != nil {
		return id, ok, err
	}
	s.ids.put(gen, principalARN, cachedIdentity{id, ok})
	return id, ok, nil
}

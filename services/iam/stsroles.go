package iam

import (
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/store"
)

// What STS reads of IAM to issue sessions (sts.RoleReader).

// RoleSession returns the unique id (AROA...) and the maximum session
// duration of the role roleARN names (by name, whatever its path); ok is
// false when there is no such role.
func (s *Service) RoleSession(roleARN string) (id string, maxSession time.Duration, ok bool, err error) {
	a, err := arn.Parse(roleARN)
	if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
		return "", 0, false, nil
	}
	name := a.Resource[strings.LastIndexByte(a.Resource, '/')+1:]
	err = s.store.View(func(tx *store.Tx) error {
		h, found, err := roles.find(tx, a.Account, name)
		if err != nil || !found {
			return err
		}
		r := h.(*roleRecord)
		id, maxSession, ok = r.ID, time.Duration(r.MaxSession)*time.Second, true
		return nil
	})
	return id, maxSession, ok, err
}

// OIDCClientIDs returns the client ids (the audiences it accepts) of the
// OpenID Connect provider providerARN names; ok is false when the account
// has no such provider.
func (s *Service) OIDCClientIDs(providerARN string) (clientIDs []string, ok bool, err error) {
	a, err := arn.Parse(providerARN)
	if err != nil {
		return nil, false, nil
	}
	id, valid := oidcIDOf(a.Account, providerARN)
	if !valid {
		return nil, false, nil
	}
	err = s.store.View(func(tx *store.Tx) error {
		p, found, err := store.Get[oidcRecord](tx, oidcKey(a.Account, id))
		if found {
			clientIDs, ok = p.ClientIDs, true
		}
		return err
	})
	return clientIDs, ok, err
}

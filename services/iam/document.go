package iam

import (
	"encoding/json"
	"strings"

	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/policy"
	"github.com/cloudbox/cloudbox/store"
)

// checkDocument validates a policy document of kind as IAM does: the
// policy package holds IAM's rules, quotas and messages.
func checkDocument(kind policy.Kind, doc string) error {
	_, err := policy.Parse(kind, doc)
	return err
}

// checkTrust validates a role's trust policy, reading in tx the users and
// roles it names: they must exist, as IAM keeps them by their unique ids.
func checkTrust(tx *store.Tx, doc string) error {
	p, err := policy.Parse(policy.Trust, doc)
	if err != nil {
		return err
	}
	var failed error
	err = p.CheckPrincipals(func(s string) bool {
		ok, err := principalExists(tx, s)
		if err != nil && failed == nil {
			failed = err
		}
		return ok || err != nil
	})
	if failed != nil {
		return failed
	}
	return err
}

// principalExists reports whether the IAM user or role a policy names, by
// ARN or unique id, exists, in whichever account.
func principalExists(tx *store.Tx, s string) (bool, error) {
	c := users
	if strings.HasPrefix(s, roles.idPrefix) || strings.Contains(s, ":role/") {
		c = roles
	}
	a, err := arn.Parse(s)
	if err != nil {
		// A unique id: any account's.
		scopes, err := tx.Scopes(c.kind)
		if err != nil {
			return false, err
		}
		for _, sc := range scopes {
			found := false
			err := tx.List(sc[0], "", c.kind, func(_ string, raw []byte) error {
				var e entity
				if err := json.Unmarshal(raw, &e); err != nil {
					return err
				}
				if found = e.ID == s; found {
					return store.ErrStop
				}
				return nil
			})
			if err != nil || found {
				return found, err
			}
		}
		return false, nil
	}
	rest := strings.TrimPrefix(a.Resource, c.noun)
	i := strings.LastIndexByte(rest, '/')
	h, ok, err := c.find(tx, a.Account, rest[i+1:])
	if !ok || err != nil {
		return false, err
	}
	return h.common().Path == rest[:i+1], nil
}

// encodeDocument is a policy document as IAM returns it: every byte but
// the unreserved characters of RFC 3986 percent-encoded ("{" is %7B, a
// space %20).
func encodeDocument(doc string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(doc) * 2)
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

package s3

import (
	"encoding/json"

	"github.com/cloudbox/cloudbox/store"
)

// bucketPolicy is what the authorizer needs of a bucket record.
type bucketPolicy struct {
	doc, owner string
}

// newPolicyMemo decodes a bucket record's policy and owner once per change
// of its bytes: under --iam enforce every object call asks for them, and
// decoding the whole record (every configuration) each time cost more than
// the evaluation.
func newPolicyMemo() *store.Memo[bucketPolicy] {
	return store.NewMemo(1024, func(_ store.Key, raw []byte) (bucketPolicy, error) {
		var b bucketRecord
		if err := json.Unmarshal(raw, &b); err != nil {
			return bucketPolicy{}, err
		}
		return bucketPolicy{b.Config.Policy, b.Owner}, nil
	})
}

// ResourcePolicy returns the policy of the named bucket ("" for none) and
// the account that owns it ("" when there is no such bucket), for the
// authorizer (cloudbox up --iam).
func (s *Service) ResourcePolicy(bucket string) (doc, owner string, err error) {
	err = s.store.View(func(tx *store.Tx) error {
		accounts, err := tx.Scopes(kindBucket)
		if err != nil {
			return err
		}
		for _, ar := range accounts {
			p, ok, err := s.policies.Get(tx, store.Key{Account: ar[0], Kind: kindBucket, ID: bucket})
			if err != nil || ok {
				doc, owner = p.doc, p.owner
				return err
			}
		}
		return nil
	})
	return doc, owner, err
}

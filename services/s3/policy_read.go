package s3

import "github.com/cloudbox/cloudbox/store"

// ResourcePolicy returns the policy of the named bucket ("" for none) and
// the account that owns it ("" when there is no such bucket), for the
// authorizer (cloudbox up --iam).
func (s *Service) ResourcePolicy(bucket string) (doc, owner string, err error) {
	err = s.store.View(func(tx *store.Tx) error {
		b, err := findBucket(tx, bucket)
		if err != nil || b == nil {
			return err
		}
		doc, owner = b.Config.Policy, b.Owner
		return nil
	})
	return doc, owner, err
}

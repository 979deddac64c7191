package ec2

import (
	"encoding/json"

	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

// creation is one create call that takes a ClientToken, as create runs it.
type creation[R any] struct {
	op string // the operation, naming the call's tokens
	// token is the request's ClientToken, read after first, which may
	// scope it; without one, every call makes a resource.
	token *string
	req   any // what a token is bound to: a retry must send the same
	// first runs before the token is looked up: the checks a retry must
	// pass too. Optional.
	first func(tx *store.Tx) error
	// made returns what an earlier call with the token made, by its id,
	// or nil when that is gone, to make another. Without it, a retry is
	// given the first call's answer again, as it was then.
	made func(tx *store.Tx, id string) (*R, error)
	// make checks the request, answers a dry run, saves what the call makes
	// and returns it with its id.
	make func(tx *store.Tx) (*R, string, error)
}

// create is the ClientToken skeleton the EC2 create calls share, written
// once so that each says only what is its own. In one store transaction,
// so a failed call leaves nothing behind: first; then a retry with the
// token gets what the first call made, and a token reused for another
// request IdempotentParameterMismatch; otherwise make, and the token is
// recorded with what it made.
func create[R any](s *Service, sc scope, c creation[R]) (*R, error) {
	var r *R
	err := s.store.Update(func(tx *store.Tx) (err error) {
		if c.first != nil {
			if err := c.first(tx); err != nil {
				return err
			}
		}
		token := deref(c.token)
		var k store.Key
		var digest string
		if token != "" {
			if digest, err = requestDigest(c.req); err != nil {
				return err
			}
			k = tokenKey(sc, c.op, token)
			t, err := loadToken(tx, k, digest)
			switch {
			case err != nil:
				return err
			case t != nil && c.made == nil:
				r = new(R)
				return json.Unmarshal(t.Result, r)
			case t != nil:
				if r, err = c.made(tx, t.ID); err != nil || r != nil {
					return err
				}
			}
		}
		var id string
		if r, id, err = c.make(tx); err != nil || token == "" {
			return err
		}
		t := clientToken{Params: digest, ID: id}
		if c.made == nil {
			t.ID = ""
			if t.Result, err = json.Marshal(r); err != nil {
				return err
			}
		}
		return tx.Put(k, t)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// stored is made for a resource of kind k, read as it is now.
func stored[R any](sc scope, k *kind) func(tx *store.Tx, id string) (*R, error) {
	return func(tx *store.Tx, id string) (*R, error) {
		r, _, err := store.Get[R](tx, sc.key(k, id))
		return r, err
	}
}

// inVPC is the request of a create call that makes a resource of a VPC
// (CreateNetworkAcl, CreateRouteTable): what its token binds, and the VPC.
type inVPC struct {
	VpcId string
	Tags  []*ec2api.Tag
	vpc   *vpcRecord
}

// load is the calls' first: a retry too needs the VPC and answers a dry run.
func (c *inVPC) load(sc scope, dry *bool) func(tx *store.Tx) error {
	return func(tx *store.Tx) (err error) {
		if c.vpc, err = load[vpcRecord](tx, sc, kindVPC, c.VpcId); err != nil {
			return err
		}
		return dryRun(dry)
	}
}

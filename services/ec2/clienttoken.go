package ec2

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/store"
)

// Client tokens make create calls idempotent: what the first call with a
// token made is kept under the operation and the token, with a digest of
// the request, so a retry gets the same resource back instead of a second
// one, and a token reused for another request is refused.
const clientTokenKind = "ec2:client-token"

type clientToken struct {
	Params string // digest of the request
	ID     string // what the call made
	// Result is the first answer, for calls that replay it whole.
	Result json.RawMessage `json:",omitempty"`
}

func tokenKey(sc scope, op, token string) store.Key {
	return store.Key{Account: sc.account, Region: sc.region, Kind: clientTokenKind, ID: op + "/" + token}
}

// requestDigest is the digest of a request a client token is bound to.
func requestDigest(req any) (string, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}

// loadToken returns what an earlier call with the token recorded (nil if
// none), or AWS's error when that call was another request.
func loadToken(tx *store.Tx, k store.Key, digest string) (*clientToken, error) {
	var t clientToken
	ok, err := tx.Get(k, &t)
	if err != nil || !ok {
		return nil, err
	}
	if t.Params != digest {
		return nil, api.Errorf("IdempotentParameterMismatch", "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).")
	}
	return &t, nil
}

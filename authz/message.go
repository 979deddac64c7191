package authz

import (
	"bytes"
	"compress/flate"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"strings"

	"github.com/cloudbox/cloudbox/policy"
)

// EC2's UnauthorizedOperation carries an "encoded authorization failure
// message" that only sts:DecodeAuthorizationMessage can read. Here it is
// the decision as AWS documents the decoded message, compressed and sealed
// with AES-GCM under a key made when the process starts: opaque to the
// caller, readable by this daemon until it restarts (a message from an
// earlier run is "not valid", as a forged one is).

// messageKey seals the messages of this process.
var messageKey = func() cipher.AEAD {
	k := make([]byte, 32)
	rand.Read(k)
	b, err := aes.NewCipher(k)
	if err != nil {
		panic(err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		panic(err)
	}
	return g
}()

// The decoded message, in the shape AWS documents for
// DecodeAuthorizationMessage.
type (
	decodedMessage struct {
		Allowed           bool         `json:"allowed"`
		ExplicitDeny      bool         `json:"explicitDeny"`
		MatchedStatements items[match] `json:"matchedStatements"`
		Failures          items[value] `json:"failures"`
		Context           msgContext   `json:"context"`
	}
	items[T any] struct {
		Items []T `json:"items"`
	}
	value struct {
		Value string `json:"value"`
	}
	match struct {
		StatementID string `json:"statementId,omitempty"`
		Effect      string `json:"effect"`
		// Policy names the policy the statement is in (AWS does not).
		Policy string `json:"policy,omitempty"`
	}
	msgContext struct {
		Principal  msgPrincipal     `json:"principal"`
		Action     string           `json:"action"`
		Resource   string           `json:"resource"`
		Conditions items[condition] `json:"conditions"`
	}
	msgPrincipal struct {
		ID  string `json:"id,omitempty"`
		ARN string `json:"arn"`
	}
	condition struct {
		Key    string       `json:"key"`
		Values items[value] `json:"values"`
	}
)

// EncodeMessage is the encoded authorization failure message of c.
func EncodeMessage(c Check) string {
	m := decodedMessage{
		Allowed:           c.Decision.Allowed(),
		ExplicitDeny:      c.Decision.Outcome == policy.ExplicitDeny,
		MatchedStatements: items[match]{Items: []match{}},
		Failures:          items[value]{Items: []value{}},
		Context: msgContext{
			Principal:  msgPrincipal{ID: c.Principal.UserID, ARN: c.Principal.ARN},
			Action:     c.Action,
			Resource:   c.Resource,
			Conditions: items[condition]{Items: []condition{}},
		},
	}
	for _, s := range c.Decision.Statements {
		m.MatchedStatements.Items = append(m.MatchedStatements.Items, match{StatementID: s.Sid, Effect: strings.ToUpper(string(s.Effect)), Policy: s.Policy})
	}
	if c.Principal.Account != "" {
		m.Context.Conditions.Items = append(m.Context.Conditions.Items, condition{Key: "aws:PrincipalAccount", Values: items[value]{Items: []value{{c.Principal.Account}}}})
	}
	plain, err := json.Marshal(m)
	if err != nil {
		panic(err) // plain structs of strings and booleans
	}
	var z bytes.Buffer
	w, _ := flate.NewWriter(&z, flate.BestCompression)
	w.Write(plain)
	w.Close()
	nonce := make([]byte, messageKey.NonceSize())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(messageKey.Seal(nonce, nonce, z.Bytes(), nil))
}

// DecodeMessage returns the JSON of a message EncodeMessage made in this
// process; ok is false for anything else.
func DecodeMessage(encoded string) (string, bool) {
	sealed, err := base64.RawURLEncoding.DecodeString(encoded)
	n := messageKey.NonceSize()
	if err != nil || len(sealed) < n {
		return "", false
	}
	z, err := messageKey.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return "", false
	}
	plain, err := io.ReadAll(io.LimitReader(flate.NewReader(bytes.NewReader(z)), 1<<20))
	if err != nil {
		return "", false
	}
	return string(plain), true
}

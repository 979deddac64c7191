package sts

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cloudbox/cloudbox/api"
	stsapi "github.com/cloudbox/cloudbox/api/sts"
	"github.com/cloudbox/cloudbox/authz"
	"github.com/cloudbox/cloudbox/policy"
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// jwt makes an unsigned-looking JWT of a header and claims.
func jwt(header, claims, sig string) string { return b64(header) + "." + b64(claims) + "." + sig }

// awsError fails t unless err is an *api.Error with one of codes.
func awsError(t *testing.T, err error, codes ...string) *api.Error {
	t.Helper()
	var ae *api.Error
	if !errors.As(err, &ae) || !slices.Contains(codes, ae.Code) || ae.Message == "" {
		t.Fatalf("error %#v is not an AWS error with a code of %v", err, codes)
	}
	return ae
}

// jsonString is s as it comes back from JSON: invalid UTF-8 replaced.
func jsonString(s string) string {
	b, _ := json.Marshal(s)
	var back string
	json.Unmarshal(b, &back)
	return back
}

// FuzzWebIdentityToken: any token is refused with InvalidIdentityToken
// or read into claims that have what parseToken promises; audience only
// picks one of the client ids; claims encoded in a signed JWT come back.
func FuzzWebIdentityToken(f *testing.F) {
	const hdr = `{"alg":"RS256","kid":"k1","typ":"JWT"}`
	good := `{"iss":"https://token.actions.githubusercontent.com","sub":"repo:o/r:ref:refs/heads/main","aud":"sts.amazonaws.com","exp":4102444800,"iat":1700000000,"amr":["authenticated"]}`
	for _, tok := range []string{
		jwt(hdr, good, "c2ln"),
		jwt(hdr, `{"iss":"https://accounts.google.com","sub":"1234","aud":["a","b"],"exp":1.7e9}`, "c2ln"),
		jwt(`{"alg":"none"}`, good, "c2ln"),
		jwt(`{"alg":"NoNe"}`, good, ""),
		jwt(hdr, good, ""),
		jwt(hdr, `{"sub":"x","aud":"a"}`, "s"),
		jwt(hdr, `{"iss":"i","sub":"x"}`, "s"),
		jwt(hdr, `{"iss":"i","aud":null,"exp":"soon"}`, "s"),
		jwt(hdr, `[]`, "s"),
		b64(hdr) + "==." + b64(good) + "=.sig",
		"eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJpIn0",
		"a.b.c.d", "...", "", "not a jwt", "\xff.\xfe.\xfd",
	} {
		f.Add(tok, "sts.amazonaws.com", "https://issuer.example.com/id/1", "sub", int64(4102444800))
	}
	f.Fuzz(func(t *testing.T, token, clientID, iss, sub string, exp int64) {
		c, err := parseToken(token)
		if err != nil {
			awsError(t, err, "InvalidIdentityToken")
		} else {
			parts := strings.Split(token, ".")
			if len(parts) != 3 || parts[2] == "" || c.Issuer == "" || len(c.Audience) == 0 {
				t.Fatalf("token %q accepted as %+v", token, c)
			}
		}
		for _, ids := range [][]string{nil, {clientID}, {"x", clientID, ""}} {
			if aud, ok := c.audience(ids); ok && !slices.Contains(ids, aud) {
				t.Fatalf("audience %q of %s is none of %q", aud, c.Audience, ids)
			}
		}

		// What a signed token says comes back as it was said.
		// Each on its own: two invalid halves can make a valid whole.
		if !utf8.ValidString(iss) || !utf8.ValidString(sub) || !utf8.ValidString(clientID) {
			iss, sub, clientID = jsonString(iss), jsonString(sub), jsonString(clientID)
		}
		body, _ := json.Marshal(map[string]any{"iss": iss, "sub": sub, "aud": []string{"other", clientID}, "exp": exp})
		c, err = parseToken(jwt(`{"alg":"ES256"}`, string(body), "c2ln"))
		if iss == "" {
			if ae := awsError(t, err, "InvalidIdentityToken"); !strings.Contains(ae.Message, "iss") {
				t.Fatalf("token without iss refused with %q", ae.Message)
			}
			return
		}
		if err != nil {
			t.Fatalf("token %s refused: %v", body, err)
		}
		if c.Issuer != iss || c.Subject != sub || c.Expires == nil || *c.Expires != float64(exp) {
			t.Fatalf("claims %s came back as %+v", body, c)
		}
		if aud, ok := c.audience([]string{clientID}); !ok || aud != clientID {
			t.Fatalf("audience %q not found in %s: %q, %v", clientID, c.Audience, aud, ok)
		}
	})
}

// FuzzDecodeAuthorizationMessage: DecodeAuthorizationMessage refuses
// anything this process did not encode with
// InvalidAuthorizationMessageException, and gives back, as AWS's JSON,
// the decision EncodeMessage encoded.
func FuzzDecodeAuthorizationMessage(f *testing.F) {
	enc := authz.EncodeMessage(authz.Check{
		Principal: policy.Principal{Type: policy.User, ARN: "arn:aws:iam::111122223333:user/alice", Account: "111122223333", UserID: "AIDAEXAMPLE"},
		Action:    "ec2:RunInstances", Resource: "arn:aws:ec2:us-east-1:111122223333:instance/*",
	})
	for _, m := range []string{enc, enc[:len(enc)/2], enc + "A", "=" + enc, "", "AAAA", "not-base64!", strings.Repeat("A", 40), "\xff"} {
		f.Add(m, "arn:aws:iam::111122223333:user/alice", "ec2:TerminateInstances", "DenyTerminate", true)
	}
	sealed, _ := base64.RawURLEncoding.DecodeString(enc)
	s := &Service{}
	s.UseDecoder(authz.DecodeMessage)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, encoded, principal, action, sid string, deny bool) {
		if out, err := s.DecodeAuthorizationMessage(ctx, &stsapi.DecodeAuthorizationMessageRequest{EncodedMessage: &encoded}); err == nil {
			// The key is made when the process starts: only the seed made
			// here is a message of this process (in a fuzzing worker, the
			// seed is another process's).
			if raw, _ := base64.RawURLEncoding.DecodeString(encoded); string(raw) != string(sealed) || !json.Valid([]byte(*out.DecodedMessage)) {
				t.Fatalf("message %q decoded as %q", encoded, *out.DecodedMessage)
			}
		} else {
			awsError(t, err, "InvalidAuthorizationMessageException")
		}

		c := authz.Check{
			Principal: policy.Principal{Type: policy.User, ARN: principal, Account: "111122223333", UserID: sid},
			Action:    action, Resource: "arn:aws:s3:::" + sid,
		}
		effect := policy.Allow
		c.Decision.Outcome = policy.Allowed
		if deny {
			effect, c.Decision.Outcome = policy.Deny, policy.ExplicitDeny
		}
		c.Decision.Statements = []policy.StatementRef{{Policy: "p", Sid: sid, Effect: effect}}
		msg := authz.EncodeMessage(c)
		if _, ok := authz.DecodeMessage(msg[:len(msg)-1]); ok {
			t.Fatalf("truncated message decoded")
		}
		out, err := s.DecodeAuthorizationMessage(ctx, &stsapi.DecodeAuthorizationMessageRequest{EncodedMessage: &msg})
		if err != nil {
			t.Fatalf("message of %+v refused: %v", c, err)
		}
		var got struct {
			Allowed           bool
			ExplicitDeny      bool
			MatchedStatements struct {
				Items []struct{ StatementID, Effect, Policy string }
			}
			Context struct {
				Principal  struct{ ID, ARN string }
				Action     string
				Resource   string
				Conditions struct {
					Items []struct {
						Key    string
						Values struct{ Items []struct{ Value string } }
					}
				}
			}
		}
		if err := json.Unmarshal([]byte(*out.DecodedMessage), &got); err != nil {
			t.Fatalf("decoded message %q is not JSON: %v", *out.DecodedMessage, err)
		}
		m, cx := got.MatchedStatements.Items, got.Context
		if got.Allowed == deny || got.ExplicitDeny != deny || len(m) != 1 || m[0].StatementID != jsonString(sid) || m[0].Effect != strings.ToUpper(string(effect)) || m[0].Policy != "p" ||
			cx.Principal.ARN != jsonString(principal) || cx.Principal.ID != jsonString(sid) || cx.Action != jsonString(action) || cx.Resource != jsonString(c.Resource) ||
			len(cx.Conditions.Items) != 1 || cx.Conditions.Items[0].Key != "aws:PrincipalAccount" || len(cx.Conditions.Items[0].Values.Items) != 1 || cx.Conditions.Items[0].Values.Items[0].Value != "111122223333" {
			t.Fatalf("%+v came back as %s", c, *out.DecodedMessage)
		}
	})
}

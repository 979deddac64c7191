package sigv4

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/hex"
)

// S3's browser-form uploads (POST Object) are signed differently: the
// string to sign is the form's policy field, the base64 policy document
// itself.

// PolicySignature is the SigV4 signature (hex) of a form's policy, for a
// credential scope.
func PolicySignature(secret string, scope Scope, policy string) string {
	key := []byte("AWS4" + secret)
	for _, part := range []string{scope.Date, scope.Region, scope.Service, terminator} {
		key = hmacSHA256(key, part)
	}
	return hex.EncodeToString(hmacSHA256(key, policy))
}

// PolicySignatureV2 is the legacy signature (base64 HMAC-SHA1) of a form's
// policy.
func PolicySignatureV2(secret, policy string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(policy))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

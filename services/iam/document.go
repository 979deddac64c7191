package iam

import (
	"encoding/json"
	"strings"
	"unicode"
)

// The quotas on documents' sizes, counted as IAM counts them: characters
// other than white space.
const (
	// maxManagedSize is a managed policy version's.
	maxManagedSize = 6144
	// maxTrustSize is a role's trust policy's.
	maxTrustSize = 2048
)

// checkPolicy checks a permissions policy document (managed or inline)
// before IAM keeps it.
func checkPolicy(doc string) error {
	if !isJSONObject(doc) {
		return errorf("MalformedPolicyDocument", "Syntax errors in policy.")
	}
	return nil
}

// checkTrustPolicy checks a role's trust policy document and its size.
func checkTrustPolicy(doc string) error {
	if !isJSONObject(doc) {
		return errorf("MalformedPolicyDocument", "This policy contains invalid Json")
	}
	if policySize(doc) > maxTrustSize {
		return limitExceeded("Cannot exceed quota for ACLSizePerRole: %d", maxTrustSize)
	}
	return nil
}

// checkManaged checks a managed policy version's document and its size.
func checkManaged(doc string) error {
	if err := checkPolicy(doc); err != nil {
		return err
	}
	if policySize(doc) > maxManagedSize {
		return limitExceeded("Cannot exceed quota for PolicySize: %d", maxManagedSize)
	}
	return nil
}

func isJSONObject(doc string) bool {
	var v map[string]json.RawMessage
	return json.Unmarshal([]byte(doc), &v) == nil
}

// policySize is a document's size as IAM's quotas count it: white space
// does not count.
func policySize(doc string) int {
	n := 0
	for _, r := range doc {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	return n
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

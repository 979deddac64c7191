// Package sigv4 parses and verifies AWS Signature Version 4 on the server
// side: requests signed in the Authorization header, presigned URLs (query
// string signing) and the aws-chunked streaming payloads S3 clients upload.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	algorithm     = "AWS4-HMAC-SHA256"
	amzDateFormat = "20060102T150405Z"
	terminator    = "aws4_request"

	// maxSkew is how far a request's time may be from the server clock
	// (AWS "RequestExpired": more than 15 minutes either way).
	maxSkew = 15 * time.Minute
	// maxExpires is the longest validity AWS accepts for a presigned URL.
	maxExpires = 7 * 24 * time.Hour

	unsignedPayload          = "UNSIGNED-PAYLOAD"
	streamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	streamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	streamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

	emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// Scope is the credential scope of a request: AKID/date/region/service/aws4_request.
type Scope struct {
	AccessKeyID string
	Date        string // yyyymmdd
	Region      string
	Service     string
}

// credentialScope is the scope without the access key ID, as strings to sign use it.
func (s Scope) credentialScope() string {
	return s.Date + "/" + s.Region + "/" + s.Service + "/" + terminator
}

// Signed is what Parse found in a request.
type Signed struct {
	Scope         Scope
	SignedHeaders []string      // lower-case, as listed
	Signature     string        // hex
	Time          time.Time     // from X-Amz-Date (header or query) or Date header
	Presigned     bool          // true when the signature is in the query string
	Expires       time.Duration // presigned X-Amz-Expires (0 when absent)
	SecurityToken string        // X-Amz-Security-Token header or query param
	// PayloadHash is the X-Amz-Content-Sha256 header value; for presigned
	// requests the query parameter of that name counts too. "" if absent.
	PayloadHash string
	// V2 marks S3's legacy signature (v2.go); a V2 presigned URL is good
	// until V2Expires.
	V2        bool
	V2Expires time.Time
}

// Error is an authentication failure in AWS terms.
type Error struct {
	Code    string
	Message string
	Status  int // HTTP status
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// The codes, statuses and messages follow the AWS "Common Errors" pages
// (IncompleteSignature and RequestExpired: 400) and the S3 error list
// (SignatureDoesNotMatch: 403; XAmzContentSHA256Mismatch, InvalidArgument,
// IncompleteBody: 400).

func incompleteSignature(format string, args ...any) *Error {
	return &Error{Code: "IncompleteSignature", Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

func signatureDoesNotMatch(message string) *Error {
	return &Error{Code: "SignatureDoesNotMatch", Message: message, Status: http.StatusForbidden}
}

const mismatchMessage = "The request signature we calculated does not match the signature you provided. " +
	"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

func requestExpired(format string, args ...any) *Error {
	return &Error{Code: "RequestExpired", Message: fmt.Sprintf(format, args...), Status: http.StatusBadRequest}
}

// Parse extracts the SigV4 fields from the Authorization header or from presigned
// query parameters. It returns (nil, nil) when the request is not signed at all.
// A malformed Authorization header or query is an *Error with Code
// "IncompleteSignature". Parse cannot know whether the access key exists: the
// caller looks it up and answers "InvalidClientTokenId" when it does not, and
// "MissingAuthenticationToken" for a request that is not signed at all.
func Parse(r *http.Request) (*Signed, error) {
	auth := r.Header.Get("Authorization")
	query := r.URL.Query()
	if s, ok, err := parseV2(r, auth, query); ok {
		return s, err
	}
	presigned := query.Has("X-Amz-Algorithm") || query.Has("X-Amz-Credential") || query.Has("X-Amz-Signature")
	switch {
	case auth != "" && presigned:
		return nil, incompleteSignature("Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter " +
			"or the Authorization header should be specified")
	case auth != "":
		return parseHeader(r, auth)
	case presigned:
		return parseQuery(r, query)
	}
	return nil, nil
}

func parseHeader(r *http.Request, auth string) (*Signed, error) {
	scheme, rest, _ := strings.Cut(auth, " ")
	if scheme != algorithm {
		return nil, incompleteSignature("Unsupported AWS 'algorithm': '%s'", scheme)
	}
	fields := map[string]string{}
	for part := range strings.SplitSeq(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			return nil, incompleteSignature("'%s' not a valid key=value pair (missing equal-sign) in Authorization header: '%s'.", part, auth)
		}
		fields[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	var missing strings.Builder
	for _, k := range []string{"Credential", "Signature", "SignedHeaders"} {
		if fields[k] == "" {
			fmt.Fprintf(&missing, "Authorization header requires '%s' parameter. ", k)
		}
	}
	if missing.Len() > 0 {
		return nil, incompleteSignature("%sAuthorization=%s", missing.String(), auth)
	}

	var t time.Time
	if v := r.Header.Get("X-Amz-Date"); v != "" {
		var err error
		if t, err = parseAmzDate(v); err != nil {
			return nil, err
		}
	} else if v := r.Header.Get("Date"); v != "" {
		var err error
		if t, err = parseHTTPDate(v); err != nil {
			return nil, err
		}
	} else {
		return nil, incompleteSignature("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=%s", auth)
	}

	s := &Signed{
		Signature:     fields["Signature"],
		Time:          t.UTC(),
		SecurityToken: r.Header.Get("X-Amz-Security-Token"),
		PayloadHash:   r.Header.Get("X-Amz-Content-Sha256"),
	}
	if err := s.setCredential(fields["Credential"], fields["SignedHeaders"]); err != nil {
		return nil, err
	}
	return s, nil
}

func parseQuery(r *http.Request, q url.Values) (*Signed, error) {
	for _, k := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-SignedHeaders", "X-Amz-Date"} {
		if q.Get(k) == "" {
			return nil, incompleteSignature("AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', " +
				"'X-Amz-Signature', 'X-Amz-SignedHeaders', 'X-Amz-Date'. Re-examine the query-string parameters.")
		}
	}
	if alg := q.Get("X-Amz-Algorithm"); alg != algorithm {
		return nil, incompleteSignature("X-Amz-Algorithm only supports \"%s\", not \"%s\".", algorithm, alg)
	}
	t, err := parseAmzDate(q.Get("X-Amz-Date"))
	if err != nil {
		return nil, err
	}
	s := &Signed{
		Signature:     q.Get("X-Amz-Signature"),
		Time:          t,
		Presigned:     true,
		SecurityToken: q.Get("X-Amz-Security-Token"),
		PayloadHash:   q.Get("X-Amz-Content-Sha256"),
	}
	if s.SecurityToken == "" {
		s.SecurityToken = r.Header.Get("X-Amz-Security-Token")
	}
	if v := q.Get("X-Amz-Expires"); v != "" {
		secs, err := strconv.ParseInt(v, 10, 64)
		switch {
		case err != nil:
			return nil, incompleteSignature("X-Amz-Expires should be a number")
		case secs < 0:
			return nil, incompleteSignature("X-Amz-Expires must be non-negative")
		case secs > int64(maxExpires/time.Second):
			return nil, incompleteSignature("X-Amz-Expires must be less than a week (in seconds) that is 604800")
		}
		s.Expires = time.Duration(secs) * time.Second
	}
	if err := s.setCredential(q.Get("X-Amz-Credential"), q.Get("X-Amz-SignedHeaders")); err != nil {
		return nil, err
	}
	if s.PayloadHash == "" && slices.Contains(s.SignedHeaders, "x-amz-content-sha256") {
		s.PayloadHash = r.Header.Get("X-Amz-Content-Sha256")
	}
	return s, nil
}

func parseAmzDate(v string) (time.Time, error) {
	t, err := time.Parse(amzDateFormat, v)
	if err != nil {
		return time.Time{}, incompleteSignature("Date must be in ISO-8601 'basic format'. Got '%s'. See http://en.wikipedia.org/wiki/ISO_8601", v)
	}
	return t, nil
}

// parseHTTPDate accepts the HTTP date formats plus RFC 1123 with a numeric
// zone, which botocore's formatdate produces ("... -0000").
func parseHTTPDate(v string) (time.Time, error) {
	if t, err := http.ParseTime(v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC1123Z, v); err == nil {
		return t, nil
	}
	return time.Time{}, incompleteSignature("Date header '%s' is not a valid HTTP date.", v)
}

// setCredential fills Scope and SignedHeaders from their raw forms.
func (s *Signed) setCredential(credential, signedHeaders string) error {
	parts := strings.Split(credential, "/")
	if len(parts) != 5 {
		return incompleteSignature("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", credential)
	}
	if parts[4] != terminator {
		return incompleteSignature("Credential should be scoped with a valid terminator: '%s', not '%s'.", terminator, parts[4])
	}
	s.Scope = Scope{AccessKeyID: parts[0], Date: parts[1], Region: parts[2], Service: parts[3]}

	for name := range strings.SplitSeq(signedHeaders, ";") {
		if name == "" {
			return incompleteSignature("SignedHeaders '%s' contains an empty header name.", signedHeaders)
		}
		s.SignedHeaders = append(s.SignedHeaders, strings.ToLower(name))
	}
	// Without the host in the signature a request could be replayed against
	// another endpoint; AWS refuses such signatures too.
	if !slices.Contains(s.SignedHeaders, "host") {
		return incompleteSignature("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	return nil
}

// IsStreaming reports whether the request declares an aws-chunked payload
// (X-Amz-Content-Sha256 starts with "STREAMING-").
func IsStreaming(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("X-Amz-Content-Sha256"), "STREAMING-")
}

// Verify checks the signature of r, whose body has already been read into body
// (the caller buffers the body; for streaming payloads body is the raw aws-chunked stream).
// secret is the secret access key for s.Scope.AccessKeyID. now is the server clock.
//
// On success it returns the decoded payload: body itself for ordinary requests,
// the de-chunked payload for aws-chunked ones (after checking every chunk
// signature, and the trailer signature, of the signed streaming variants).
// UNSIGNED-PAYLOAD skips the payload hash; a hex X-Amz-Content-Sha256 must
// match the body; without one the body's hash is what was signed.
//
// Failures are *Error values: "SignatureDoesNotMatch" (403), "RequestExpired"
// (400) when a header-signed request is more than 15 minutes from now or a
// presigned URL is past X-Amz-Date + X-Amz-Expires, "XAmzContentSHA256Mismatch"
// or "InvalidArgument" (400) for a bad X-Amz-Content-Sha256, and
// "IncompleteBody" (400) for a malformed aws-chunked body. S3 reports an
// expired presigned URL as AccessDenied (403); callers can tell by s.Presigned.
func Verify(r *http.Request, body []byte, s *Signed, secret string, now time.Time) ([]byte, error) {
	if s.V2 {
		return body, verifyV2(r, s, secret, now)
	}
	payloadHash := s.PayloadHash
	if payloadHash == "" {
		if s.Presigned && s.Scope.Service == "s3" {
			// S3 presigned URLs never cover the payload.
			payloadHash = unsignedPayload
		} else {
			payloadHash = hexSHA256(body)
		}
	}
	k, seed, err := verifySignature(r, s, secret, now, payloadHash)
	if err != nil {
		return nil, err
	}
	switch payloadHash {
	case unsignedPayload:
		return body, nil
	case streamingSigned, streamingSignedTrailer:
		c, err := parseChunked(body)
		if err != nil {
			return nil, err
		}
		if err := k.verifyChunks(c, seed, payloadHash == streamingSignedTrailer); err != nil {
			return nil, err
		}
		return c.payload(), nil
	case streamingUnsignedTrailer:
		return DecodeChunked(body)
	}
	if err := checkPayloadHash(payloadHash); err != nil {
		return nil, err
	}
	if !strings.EqualFold(payloadHash, hexSHA256(body)) {
		return nil, contentSHA256Mismatch()
	}
	return body, nil
}

// verifySignature checks the request's time and signature, payloadHash
// standing for the payload; it returns the signer and the signature, the
// seed of a streaming payload's chunk signatures.
func verifySignature(r *http.Request, s *Signed, secret string, now time.Time, payloadHash string) (signer, string, error) {
	if err := checkTime(s, now); err != nil {
		return signer{}, "", err
	}
	k := newSigner(secret, s)
	if s.Scope.Date != k.date[:8] {
		return k, "", signatureDoesNotMatch(fmt.Sprintf("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.",
			s.Scope.Date, k.date[:8], k.date))
	}
	for _, uri := range canonicalURIs(r, s.Scope.Service) {
		seed := k.sign(algorithm, hexSHA256([]byte(canonicalRequest(r, s, uri, payloadHash))))
		if sameSignature(seed, s.Signature) {
			return k, seed, nil
		}
	}
	return k, "", signatureDoesNotMatch(mismatchMessage)
}

// checkPayloadHash refuses an X-Amz-Content-Sha256 that is none of the
// payload types nor a SHA-256.
func checkPayloadHash(h string) error {
	if isSHA256Hex(h) {
		return nil
	}
	return &Error{Code: "InvalidArgument", Status: http.StatusBadRequest,
		Message: "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, " + streamingUnsignedTrailer + ", " + streamingSigned + ", " +
			streamingSignedTrailer + " or a valid sha256 value."}
}

func contentSHA256Mismatch() *Error {
	return &Error{Code: "XAmzContentSHA256Mismatch", Status: http.StatusBadRequest,
		Message: "The provided 'x-amz-content-sha256' header does not match what was computed."}
}

// CheckTime reports whether the request is too old, too new, or (a
// presigned URL) expired at now, as Verify does first; it needs no key.
func (s *Signed) CheckTime(now time.Time) error {
	if s.V2 {
		return checkTimeV2(s, now)
	}
	return checkTime(s, now)
}

func checkTime(s *Signed, now time.Time) error {
	now = now.UTC()
	if s.Presigned && s.Expires > 0 {
		if now.After(s.Time.Add(s.Expires)) {
			return requestExpired("Request has expired. X-Amz-Date %s plus X-Amz-Expires %d seconds is earlier than %s.",
				s.Time.Format(amzDateFormat), int64(s.Expires/time.Second), now.Format(amzDateFormat))
		}
	} else if now.Sub(s.Time) > maxSkew {
		return requestExpired("Signature expired: %s is now earlier than %s (%s - 15 min.)",
			s.Time.Format(amzDateFormat), now.Add(-maxSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	}
	if s.Time.Sub(now) > maxSkew {
		return requestExpired("Signature not yet current: %s is still later than %s (%s + 15 min.)",
			s.Time.Format(amzDateFormat), now.Add(maxSkew).Format(amzDateFormat), now.Format(amzDateFormat))
	}
	return nil
}

// signer holds what every string to sign of one request shares.
type signer struct {
	key   []byte
	date  string // the request time in X-Amz-Date form
	scope string
}

func newSigner(secret string, s *Signed) signer {
	key := []byte("AWS4" + secret)
	for _, part := range []string{s.Scope.Date, s.Scope.Region, s.Scope.Service, terminator} {
		key = hmacSHA256(key, part)
	}
	return signer{key: key, date: s.Time.UTC().Format(amzDateFormat), scope: s.Scope.credentialScope()}
}

// sign returns the hex signature of the string to sign made of kind, the
// request date, the scope and rest, one per line.
func (k signer) sign(kind string, rest ...string) string {
	lines := append([]string{kind, k.date, k.scope}, rest...)
	return hex.EncodeToString(hmacSHA256(k.key, strings.Join(lines, "\n")))
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// sameSignature compares in constant time so that timing does not reveal how
// much of a guessed signature was right.
func sameSignature(want, got string) bool {
	return hmac.Equal([]byte(want), []byte(strings.ToLower(got)))
}

func isSHA256Hex(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

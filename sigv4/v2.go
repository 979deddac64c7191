package sigv4

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// S3 still accepts its legacy signature (Signature Version 2, HMAC-SHA1)
// in the Authorization header ("AWS <key>:<signature>") and in presigned
// URLs (AWSAccessKeyId, Signature, Expires), which the aws CLI v1 makes
// for us-east-1 buckets. Parse reads them into a Signed with V2 set and
// Scope.Service "s3"; the region is the bucket's, unknown here ("").

// parseV2 reads a V2 signature; ok is false when the request has none.
func parseV2(r *http.Request, auth string, query url.Values) (s *Signed, ok bool, err error) {
	switch {
	case strings.HasPrefix(auth, "AWS "):
		akid, sig, found := strings.Cut(strings.TrimPrefix(auth, "AWS "), ":")
		if !found || akid == "" || sig == "" {
			return nil, true, incompleteSignature("Authorization header is invalid -- one and only one ' ' (space) required")
		}
		date := r.Header.Get("Date")
		if d := r.Header.Get("X-Amz-Date"); d != "" {
			date = d
		}
		t, err := http.ParseTime(date)
		if err != nil {
			t, _ = time.Parse(time.RFC1123Z, date)
		}
		return &Signed{V2: true, Scope: Scope{AccessKeyID: akid, Service: "s3"}, Signature: sig, Time: t,
			SecurityToken: r.Header.Get("X-Amz-Security-Token")}, true, nil
	case query.Has("AWSAccessKeyId") && query.Has("Signature"):
		exp, err := strconv.ParseInt(query.Get("Expires"), 10, 64)
		if err != nil {
			return nil, true, &Error{Code: "AccessDenied", Status: http.StatusForbidden,
				Message: "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters"}
		}
		return &Signed{V2: true, Presigned: true, Scope: Scope{AccessKeyID: query.Get("AWSAccessKeyId"), Service: "s3"},
			Signature: query.Get("Signature"), V2Expires: time.Unix(exp, 0).UTC(),
			SecurityToken: query.Get("x-amz-security-token")}, true, nil
	}
	return nil, false, nil
}

// checkTimeV2 is checkTime for V2: a presigned URL until its Expires, a
// header signature within the skew of its Date.
func checkTimeV2(s *Signed, now time.Time) error {
	if s.Presigned {
		if now.After(s.V2Expires) {
			return requestExpired("Request has expired")
		}
		return nil
	}
	if s.Time.IsZero() || now.Sub(s.Time).Abs() > maxSkew {
		return &Error{Code: "RequestTimeTooSkewed", Status: http.StatusForbidden,
			Message: "The difference between the request time and the current time is too large."}
	}
	return nil
}

// verifyV2 checks a V2 signature of r with secret.
func verifyV2(r *http.Request, s *Signed, secret string, now time.Time) error {
	if err := checkTimeV2(s, now); err != nil {
		return err
	}
	when := r.Header.Get("Date")
	if s.Presigned {
		when = strconv.FormatInt(s.V2Expires.Unix(), 10)
	} else if r.Header.Get("X-Amz-Date") != "" {
		when = ""
	}
	var b strings.Builder
	b.WriteString(r.Method + "\n" + r.Header.Get("Content-Md5") + "\n" + r.Header.Get("Content-Type") + "\n" + when + "\n")
	var amz []string
	for k := range r.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-amz-") {
			amz = append(amz, lk)
		}
	}
	slices.Sort(amz)
	for _, k := range amz {
		b.WriteString(k + ":" + strings.Join(r.Header.Values(k), ",") + "\n")
	}
	b.WriteString(canonicalResourceV2(r))
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(b.String()))
	want := base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if !hmac.Equal([]byte(want), []byte(s.Signature)) {
		return signatureDoesNotMatch("The request signature we calculated does not match the signature you provided. Check your key and signing method.")
	}
	return nil
}

// v2Subresources are the query parameters a V2 signature covers.
var v2Subresources = []string{"acl", "cors", "delete", "lifecycle", "location", "logging", "notification", "partNumber",
	"policy", "requestPayment", "response-cache-control", "response-content-disposition", "response-content-encoding",
	"response-content-language", "response-content-type", "response-expires", "tagging", "torrent", "uploadId", "uploads",
	"versionId", "versioning", "versions", "website"}

// canonicalResourceV2 is the request's path (path style) and the
// subresources it names, sorted.
func canonicalResourceV2(r *http.Request) string {
	res := r.URL.EscapedPath()
	q := r.URL.Query()
	var subs []string
	for _, k := range v2Subresources {
		if !q.Has(k) {
			continue
		}
		if v := q.Get(k); v != "" {
			subs = append(subs, k+"="+v)
		} else {
			subs = append(subs, k)
		}
	}
	if len(subs) > 0 {
		res += "?" + strings.Join(subs, "&")
	}
	return res
}

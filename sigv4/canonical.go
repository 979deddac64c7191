package sigv4

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// canonicalRequest builds the SigV4 canonical request of r for the given
// canonical URI and payload hash.
func canonicalRequest(r *http.Request, s *Signed, uri, payloadHash string) string {
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(uri)
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(r.URL.RawQuery, s.Presigned))
	b.WriteByte('\n')
	for _, name := range s.SignedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(headerValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(s.SignedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// canonicalURIs lists the canonical URIs a client may have signed for r's
// path, most likely first. S3 signs the path as sent, which SDKs escape with
// the SigV4 rules; other services escape the escaped path once more, and some
// clients (botocore) first drop dot segments and empty segments.
func canonicalURIs(r *http.Request, service string) []string {
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	var uris []string
	if service == "s3" {
		uris = []string{path, reescapeSegments(path)}
	} else {
		uris = []string{uriEncode(path, false), uriEncode(removeDotSegments(path), false)}
	}
	if uris[0] == uris[1] {
		return uris[:1]
	}
	return uris
}

// reescapeSegments re-escapes each segment of an escaped path with the SigV4
// rules, for clients that send characters such as '=' raw but sign them escaped.
func reescapeSegments(path string) string {
	segments := strings.Split(path, "/")
	for i, seg := range segments {
		if raw, err := url.PathUnescape(seg); err == nil {
			segments[i] = uriEncode(raw, true)
		}
	}
	return strings.Join(segments, "/")
}

// removeDotSegments resolves "." and ".." and drops empty segments, keeping
// a leading and trailing slash.
func removeDotSegments(path string) string {
	var out []string
	for seg := range strings.SplitSeq(path, "/") {
		switch seg {
		case "", ".":
		case "..":
			if len(out) > 0 {
				out = out[:len(out)-1]
			}
		default:
			out = append(out, seg)
		}
	}
	cleaned := "/" + strings.Join(out, "/")
	if len(out) > 0 && strings.HasSuffix(path, "/") {
		cleaned += "/"
	}
	return cleaned
}

// canonicalQuery re-encodes every parameter of rawQuery with the SigV4 rules
// and sorts them by name, then value. A presigned request's own signature is
// left out, as it cannot sign itself.
func canonicalQuery(rawQuery string, presigned bool) string {
	type param struct{ key, value string }
	var params []param
	for part := range strings.SplitSeq(rawQuery, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		k, v = queryUnescape(k), queryUnescape(v)
		if presigned && k == "X-Amz-Signature" {
			continue
		}
		params = append(params, param{uriEncode(k, true), uriEncode(v, true)})
	}
	slices.SortFunc(params, func(a, b param) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	var b strings.Builder
	for i, p := range params {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// queryUnescape decodes a query component, keeping it as sent when it is not
// valid escaping (the signature then decides).
func queryUnescape(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// uriEncode escapes every byte but the SigV4 unreserved characters
// (A-Z a-z 0-9 - _ . ~), and '/' unless encodeSlash.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~', c == '/' && !encodeSlash:
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&15])
		}
	}
	return b.String()
}

// headerValue is the canonical value of a signed header: all its values,
// trimmed with inner runs of spaces collapsed, joined by commas.
func headerValue(r *http.Request, name string) string {
	var values []string
	switch name {
	case "host":
		host := r.Host
		if host == "" {
			host = r.URL.Host
		}
		values = []string{host}
	default:
		values = r.Header.Values(name)
	}
	// net/http moves these out of the header map of requests it parses.
	if len(values) == 0 {
		switch name {
		case "content-length":
			if r.ContentLength > 0 {
				values = []string{strconv.FormatInt(r.ContentLength, 10)}
			}
		case "transfer-encoding":
			values = r.TransferEncoding
		}
	}
	trimmed := make([]string, len(values))
	for i, v := range values {
		trimmed[i] = trimAll(v)
	}
	return strings.Join(trimmed, ",")
}

func trimAll(v string) string {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "  ") {
		return v
	}
	var b strings.Builder
	prevSpace := false
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && prevSpace {
			continue
		}
		prevSpace = v[i] == ' '
		b.WriteByte(v[i])
	}
	return b.String()
}

package s3

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/cloudbox/cloudbox/api/protocol"
)

// RouteHost implements server.HostRouter: a virtual-hosted-style request
// names its bucket in the Host header — <bucket>.s3.amazonaws.com,
// <bucket>.s3.<region>.amazonaws.com, <bucket>.s3-<region>.amazonaws.com,
// <bucket>.s3.dualstack.<region>.amazonaws.com, or <bucket>.s3.localhost
// as LocalStack users write it — and is restated in the path style the
// API's URIs have ("/<bucket>/<key>"). A request to S3's own endpoint
// names (s3.amazonaws.com, s3.localhost...) is claimed as it is, so that
// an unsigned one (a presigned URL is signed; a public read is not) still
// reaches S3.
func (s *Service) RouteHost(r *http.Request) (string, bool) {
	host := r.Host
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	bucket, endpoint := splitS3Host(host)
	if !endpoint {
		// Any other host (127.0.0.1:4566) is S3's in path style when
		// nothing marks the request as another service's: S3 alone is
		// reached unsigned or with its legacy signature.
		return r.URL.EscapedPath(), pathStyle(r)
	}
	if bucket == "" {
		return r.URL.EscapedPath(), true
	}
	path := r.URL.EscapedPath()
	if path == "" {
		path = "/"
	}
	return "/" + url.PathEscape(bucket) + path, true
}

// splitS3Host splits a host name into the bucket it names ("" for none)
// and whether it is an S3 endpoint name at all.
func splitS3Host(host string) (bucket string, ok bool) {
	for _, sfx := range []string{".localhost", ".amazonaws.com", ".amazonaws.com.cn"} {
		rest, found := strings.CutSuffix(host, sfx)
		if !found {
			continue
		}
		// rest is [<bucket>.]s3[.dualstack][.<region>] or [<bucket>.]s3-<region>.
		labels := strings.Split(rest, ".")
		for i := len(labels) - 1; i >= 0; i-- {
			l := labels[i]
			if l != "s3" && !strings.HasPrefix(l, "s3-") || strings.HasPrefix(l, "s3-website") {
				continue
			}
			if !endpointTail(labels[i+1:]) {
				return "", false
			}
			return strings.Join(labels[:i], "."), true
		}
		return "", false
	}
	return "", false
}

// endpointTail says whether the labels after "s3" are what an S3
// endpoint has there: nothing, a region, "dualstack" and a region.
func endpointTail(labels []string) bool {
	switch len(labels) {
	case 0:
		return true
	case 1:
		return isRegion(labels[0])
	case 2:
		return labels[0] == "dualstack" && isRegion(labels[1])
	}
	return false
}

// isRegion says whether s has a region's shape: us-east-1, ap-northeast-2.
func isRegion(s string) bool {
	parts := strings.Split(s, "-")
	if len(parts) < 3 {
		return false
	}
	last := parts[len(parts)-1]
	return last != "" && strings.Trim(last, "0123456789") == ""
}

// pathStyle says whether a request on a host that is not S3's is S3's
// nonetheless: unsigned or signed with S3's legacy signature, and not a
// query or JSON protocol request (an Action parameter, an X-Amz-Target,
// a form, Smithy RPC v2 CBOR's Smithy-Protocol header).
func pathStyle(r *http.Request) bool {
	if auth := r.Header.Get("Authorization"); auth != "" && !strings.HasPrefix(auth, "AWS ") {
		return false
	}
	q := r.URL.Query()
	if q.Has("X-Amz-Credential") && !strings.Contains(q.Get("X-Amz-Credential"), "/s3/") {
		return false
	}
	if q.Has("Action") || r.Header.Get("X-Amz-Target") != "" || protocol.IsRPCv2CBOR(r) ||
		strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return false
	}
	return r.URL.Path != "/" || r.Method != http.MethodGet || q.Has("X-Amz-Credential") || q.Has("AWSAccessKeyId")
}

package s3

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	s3api "github.com/cloudbox/cloudbox/api/s3"
)

func init() {
	extraHandlers = append(extraHandlers, func(s *Service, h *s3api.Handlers) {
		h.GetBucketCors = s.getBucketCors
		h.PutBucketCors = s.putBucketCors
		h.DeleteBucketCors = s.deleteBucketCors
	})
}

// maxCORSRules is how many rules a CORS configuration may have.
const maxCORSRules = 100

// checkCORS applies S3's rules for a CORS configuration.
func checkCORS(c *s3api.CORSConfiguration) error {
	if c == nil || len(c.CORSRules) == 0 || len(c.CORSRules) > maxCORSRules {
		return malformedXML()
	}
	for _, r := range c.CORSRules {
		if r == nil || len(r.AllowedOrigins) == 0 || len(r.AllowedMethods) == 0 {
			return malformedXML()
		}
		for _, m := range r.AllowedMethods {
			if !slices.Contains([]string{"GET", "PUT", "HEAD", "POST", "DELETE"}, deref(m)) {
				return invalidRequest("Found unsupported HTTP method in CORS config. Unsupported method is %s", deref(m))
			}
		}
		for _, o := range r.AllowedOrigins {
			if strings.Count(deref(o), "*") > 1 {
				return invalidRequest("AllowedOrigin \"%s\" can not have more than one wildcard.", deref(o))
			}
		}
		for _, h := range r.AllowedHeaders {
			if strings.Count(deref(h), "*") > 1 {
				return invalidRequest("AllowedHeader \"%s\" can not have more than one wildcard.", deref(h))
			}
		}
	}
	return nil
}

func (s *Service) getBucketCors(ctx context.Context, in *s3api.GetBucketCorsRequest) (*s3api.GetBucketCorsOutput, error) {
	b, err := s.viewBucket(ctx, deref(in.Bucket))
	if err != nil {
		return nil, err
	}
	if b.Config.CORS == nil {
		return nil, errorf(http.StatusNotFound, "NoSuchCORSConfiguration", "The CORS configuration does not exist").With("BucketName", b.Name)
	}
	return &s3api.GetBucketCorsOutput{CORSRules: b.Config.CORS.CORSRules}, nil
}

func (s *Service) putBucketCors(ctx context.Context, in *s3api.PutBucketCorsRequest) (*s3api.PutBucketCorsOutput, error) {
	if err := checkCORS(in.CORSConfiguration); err != nil {
		return nil, err
	}
	if err := s.updateBucket(ctx, deref(in.Bucket), func(b *bucketRecord) error {
		b.Config.CORS = in.CORSConfiguration
		return nil
	}); err != nil {
		return nil, err
	}
	return &s3api.PutBucketCorsOutput{}, nil
}

func (s *Service) deleteBucketCors(ctx context.Context, in *s3api.DeleteBucketCorsRequest) (*s3api.DeleteBucketCorsOutput, error) {
	if err := s.updateBucket(ctx, deref(in.Bucket), func(b *bucketRecord) error {
		b.Config.CORS = nil
		return nil
	}); err != nil {
		return nil, err
	}
	return &s3api.DeleteBucketCorsOutput{}, nil
}

// wildcardMatch matches s against a CORS pattern with at most one *,
// which stands for any run of characters, the empty one too.
func wildcardMatch(pattern, s string) bool {
	before, after, found := strings.Cut(pattern, "*")
	if !found {
		return pattern == s
	}
	return len(s) >= len(before)+len(after) && strings.HasPrefix(s, before) && strings.HasSuffix(s, after)
}

// corsRule returns the first rule of c that allows a request from origin
// with method and, for a preflight, the headers it asks for (lower case);
// nil if none does.
func corsRule(c *s3api.CORSConfiguration, origin, method string, headers []string) *s3api.CORSRule {
	for _, r := range c.CORSRules {
		if !slices.ContainsFunc(r.AllowedMethods, func(m *string) bool { return deref(m) == method }) ||
			!slices.ContainsFunc(r.AllowedOrigins, func(o *string) bool { return wildcardMatch(deref(o), origin) }) {
			continue
		}
		allowed := true
		for _, h := range headers {
			allowed = allowed && slices.ContainsFunc(r.AllowedHeaders, func(a *string) bool { return wildcardMatch(strings.ToLower(deref(a)), h) })
		}
		if allowed {
			return r
		}
	}
	return nil
}

// setCORSHeaders writes the headers S3 answers a request matching rule r
// with: the origin (or "*" when the rule allows any), the rule's methods,
// the headers asked for, what it exposes, how long a preflight is good.
func setCORSHeaders(h http.Header, r *s3api.CORSRule, origin string, headers []string) {
	if slices.ContainsFunc(r.AllowedOrigins, func(o *string) bool { return deref(o) == "*" }) {
		h.Set("Access-Control-Allow-Origin", "*")
	} else {
		h.Set("Access-Control-Allow-Origin", origin)
		// Credentials may only go with a named origin.
		h.Set("Access-Control-Allow-Credentials", "true")
	}
	h.Set("Access-Control-Allow-Methods", joinStrings(r.AllowedMethods))
	if len(headers) > 0 {
		h.Set("Access-Control-Allow-Headers", strings.Join(headers, ", "))
	}
	if len(r.ExposeHeaders) > 0 {
		h.Set("Access-Control-Expose-Headers", joinStrings(r.ExposeHeaders))
	}
	if r.MaxAgeSeconds != nil {
		h.Set("Access-Control-Max-Age", strconv.FormatInt(*r.MaxAgeSeconds, 10))
	}
	h.Set("Vary", "Origin, Access-Control-Request-Headers, Access-Control-Request-Method")
}

func joinStrings(list []*string) string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = deref(s)
	}
	return strings.Join(out, ", ")
}

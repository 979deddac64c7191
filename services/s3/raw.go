package s3

import (
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/api/protocol"
	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/store"
)

// formAuth is how browser-form uploads are authenticated: they carry
// their signature in the form, where the server's authentication does not
// look.
type formAuth struct {
	// ids resolves access keys to callers and secrets.
	ids *identity.Resolver
	// strict: signatures are checked (--auth strict); otherwise any
	// signature goes and the key only names the caller, as for the API.
	strict bool
	// now is the wall clock, which a policy's expiration is written
	// against.
	now func() time.Time
}

// ServeRaw implements server.RawHandler: it answers CORS preflights
// (OPTIONS) and browser-form uploads (POST to a bucket), and puts the
// CORS headers of a bucket's matching rule on any other cross-origin
// request before the API answers it. Form uploads are authenticated as
// with --auth off; the daemon's registration (register.go) checks
// signatures when the daemon does.
func (s *Service) ServeRaw(w http.ResponseWriter, r *http.Request) bool {
	return s.serveRaw(w, r, formAuth{ids: identity.New(s.store, nil), now: time.Now})
}

func (s *Service) serveRaw(w http.ResponseWriter, r *http.Request, auth formAuth) bool {
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if r.Method == http.MethodOptions {
		s.preflight(w, r, bucket, key)
		return true
	}
	if bucket == "" {
		return false
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		s.corsHeaders(w.Header(), r, bucket, origin)
	}
	if r.Method == http.MethodPost && key == "" && !r.URL.Query().Has("delete") {
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
			s.formUpload(w, r, bucket, auth)
			return true
		}
	}
	return false
}

// writeError answers an S3 error outside the API.
func writeError(w http.ResponseWriter, err error) {
	protocol.For(s3api.Service.Protocol).EncodeError(w, s3api.Service, api.As(err), w.Header().Get("X-Amz-Request-Id"))
}

// corsBucket reads a bucket for CORS, nil if there is none.
func (s *Service) corsBucket(name string) (*bucketRecord, error) {
	var b *bucketRecord
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		b, err = findBucket(tx, name)
		return err
	})
	return b, err
}

// corsHeaders sets the CORS headers of an actual cross-origin request: S3
// matches the method it will be (Access-Control-Request-Method when the
// request names one) and not its headers, and sets nothing when no rule
// matches.
func (s *Service) corsHeaders(h http.Header, r *http.Request, bucket, origin string) {
	b, err := s.corsBucket(bucket)
	if err != nil || b == nil || b.Config.CORS == nil {
		return
	}
	method := r.Method
	if m := r.Header.Get("Access-Control-Request-Method"); m != "" {
		method = m
	}
	if rule := corsRule(b.Config.CORS, origin, method, nil); rule != nil {
		setCORSHeaders(h, rule, origin, nil)
	}
}

// preflight answers an OPTIONS request from the bucket's CORS rules: 200
// with the matching rule's headers, or S3's 403 (unauthenticated, as on
// S3: a browser sends no credentials with a preflight).
func (s *Service) preflight(w http.ResponseWriter, r *http.Request, bucket, key string) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		writeError(w, errorf(http.StatusBadRequest, "BadRequest", "Insufficient information. Origin request header needed."))
		return
	}
	method := r.Header.Get("Access-Control-Request-Method")
	forbidden := func(msg, resource string) {
		m := method
		if m == "" {
			m = http.MethodOptions
		}
		writeError(w, errorf(http.StatusForbidden, "AccessForbidden", "CORSResponse: %s", msg).With("Method", m).With("ResourceType", resource))
	}
	b, err := s.corsBucket(bucket)
	switch {
	case err != nil:
		writeError(w, err)
		return
	case b == nil:
		forbidden("Bucket not found", "BUCKET")
		return
	case b.Config.CORS == nil:
		forbidden("CORS is not enabled for this bucket.", "BUCKET")
		return
	}
	var headers []string
	for _, h := range strings.Split(r.Header.Get("Access-Control-Request-Headers"), ",") {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			headers = append(headers, h)
		}
	}
	rule := corsRule(b.Config.CORS, origin, method, headers)
	if rule == nil {
		resource := "OBJECT"
		if key == "" {
			resource = "BUCKET"
		}
		forbidden("This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec.", resource)
		return
	}
	setCORSHeaders(w.Header(), rule, origin, headers)
	w.Header().Set("Content-Length", "0")
	w.WriteHeader(http.StatusOK)
}

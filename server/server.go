// Package server is cloudbox's HTTP front door: it finds the service and
// operation a request is for, authenticates it, decodes it with the
// service's protocol codec, calls the service, and writes the answer and one
// structured log line.
package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/uuid"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/api/protocol"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/sigv4"
)

// Service is one AWS service the server answers for.
type Service struct {
	API     *api.Service
	Invoker api.Invoker
	// Router, when set, claims requests by their Host (S3's
	// virtual-hosted buckets).
	Router HostRouter
	// Raw, when set, sees each request routed to the service before its
	// API does (S3's CORS preflights and browser form uploads).
	Raw RawHandler
}

// RawHandler is a service that answers some requests itself, outside its
// API's operations: ServeRaw gets the request as the service's URIs read
// it (path style) and says whether it answered. One it does not answer
// goes on to the API with whatever headers ServeRaw set (S3's CORS
// headers on a cross-origin GET).
type RawHandler interface {
	ServeRaw(w http.ResponseWriter, r *http.Request) bool
}

// HostRouter is a service that names resources in the Host header: it
// claims such a request and restates its path as its API's URIs have it
// ("/{Bucket}/{Key+}"). The signature is still checked against the
// request as sent.
type HostRouter interface {
	RouteHost(r *http.Request) (escapedPath string, ok bool)
}

// Auth modes.
const (
	AuthOff    = "off"    // any credentials; the scope still names account and region
	AuthStrict = "strict" // signatures verified against known keys
)

// DefaultRegion is used for requests that name none (unsigned requests).
const DefaultRegion = "us-east-1"

// MaxBody bounds a request body held in memory.
const MaxBody = 64 << 20

// Config configures a Server.
type Config struct {
	Services []Service
	Identity *identity.Resolver
	Auth     string
	Logger   *slog.Logger
	// Internal serves the /_cloudbox/ endpoints (health, reset).
	Internal http.Handler
	// Now is the clock signatures are checked against; time.Now if nil.
	Now func() time.Time
	// Authorizer, when set, decides every call after its input is decoded
	// and validated and before its handler runs (cloudbox up --iam).
	Authorizer Authorizer
}

// Authorizer authorizes one call: ctx carries the api.Request (caller,
// region), svc and op name it, in is the decoded input. An error is
// answered instead of calling the operation.
type Authorizer interface {
	Authorize(ctx context.Context, svc *api.Service, op string, in any) error
}

// Server is an http.Handler serving the configured services.
type Server struct {
	cfg       Config
	byTarget  map[string]*Service   // json X-Amz-Target prefix
	bySigning map[string][]*Service // SigV4 scope service name
	byPrefix  map[string]*Service   // endpoint prefix, for unsigned requests
}

// New returns a server for cfg.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{cfg: cfg, byTarget: map[string]*Service{}, bySigning: map[string][]*Service{}, byPrefix: map[string]*Service{}}
	for i := range cfg.Services {
		svc := &cfg.Services[i]
		if svc.API.TargetPrefix != "" {
			s.byTarget[svc.API.TargetPrefix] = svc
		}
		s.bySigning[svc.API.SigningName] = append(s.bySigning[svc.API.SigningName], svc)
		s.byPrefix[svc.API.EndpointPrefix] = svc
	}
	return s
}

// statusWriter remembers the status written, for the log line.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// ReadFrom hands a streamed payload to the connection, which sends a
// file's bytes without copying them through user space (S3's GETs).
func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{w.ResponseWriter}, r)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// statusOverride answers status whatever status the codec writes.
type statusOverride struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusOverride) WriteHeader(int) {
	if !w.wrote {
		w.wrote = true
		w.ResponseWriter.WriteHeader(w.status)
	}
}

func (w *statusOverride) Write(b []byte) (int, error) {
	w.WriteHeader(0)
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusOverride) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// call is the state of one request as it moves through ServeHTTP.
type call struct {
	req     api.Request
	svc     *Service
	codec   protocol.Codec
	errCode string // the AWS error code answered, for the log
}

func (s *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/_cloudbox/") && s.cfg.Internal != nil {
		s.cfg.Internal.ServeHTTP(rw, r)
		return
	}
	start := time.Now()
	w := &statusWriter{ResponseWriter: rw}
	c := &call{req: api.Request{ID: uuid.New(), TLS: r.TLS != nil, Time: s.cfg.Now()}}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		c.req.SourceIP = ap.Addr().Unmap()
	}
	h := w.Header()
	h.Set("X-Amzn-Requestid", c.req.ID)
	h.Set("X-Amz-Request-Id", c.req.ID)
	defer func() {
		if p := recover(); p != nil {
			s.cfg.Logger.Error("panic serving request", "request_id", c.req.ID, "panic", p, "stack", string(debug.Stack()))
			if w.status == 0 {
				s.fail(w, r, c, api.As(errors.New("panic")))
			}
		}
		s.logRequest(r, c, w.status, time.Since(start))
	}()
	s.serve(w, r, c)
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, c *call) {
	signed, err := sigv4.Parse(r)
	if err != nil {
		s.fail(w, r, c, authError(err))
		return
	}
	c.req.Anonymous = signed == nil
	// routed is the request as the service's URIs read it.
	routed := r
	if svc, path := s.routeHost(r, signed); svc != nil {
		c.svc, routed = svc, withPath(r, path)
	} else if signed != nil && len(s.bySigning[signed.Scope.Service]) == 1 {
		c.svc = s.bySigning[signed.Scope.Service][0]
	}
	if c.svc != nil && c.svc.Raw != nil {
		c.req.Service = c.svc.API.Package
		if c.svc.Raw.ServeRaw(w, routed) {
			return
		}
	}
	if c.svc != nil && isREST(c.svc.API) {
		// An operation whose payload streams (S3's PutObject) reads the
		// body itself, as it arrives.
		if op, err := protocol.For(c.svc.API.Protocol).Operation(routed, nil, c.svc.API); err == nil && protocol.Streams(op) {
			s.serveStream(w, r, routed, c, signed, op)
			return
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		s.fail(w, r, c, api.Errorf("IncompleteBody", "The request body could not be read: %v", err))
		return
	}
	if len(body) > MaxBody {
		s.fail(w, r, c, api.NewError(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "Request body larger than %d bytes", MaxBody))
		return
	}
	if c.svc == nil {
		c.svc = s.route(r, body, signed)
	}
	if c.svc == nil {
		s.fail(w, r, c, unknownService(r, signed))
		return
	}
	c.req.Service = c.svc.API.Package
	c.req.Region = DefaultRegion
	if signed != nil && signed.Scope.Region != "" {
		c.req.Region = signed.Scope.Region
	}
	if signed != nil && signed.V2 {
		c.req.Region = "" // S3's legacy signature names no region: the bucket's
	}
	c.codec = protocol.For(c.svc.API.Protocol)
	switch {
	case c.svc.API.TargetPrefix != "" && protocol.IsRPCv2CBOR(r):
		// Newer SDKs reach services with a JSON target prefix (CloudWatch)
		// over Smithy RPC v2 CBOR.
		c.codec = protocol.For("smithy-rpc-v2-cbor")
	case c.svc.API.Protocol != "json" && c.svc.API.TargetPrefix != "" && r.Header.Get("X-Amz-Target") != "":
		// A query service that newer SDKs reach over awsJson.
		c.codec = protocol.For("json")
	}
	if body, err = s.authenticate(r, body, signed, c); err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.cfg.Identity.Used(c.req.Caller, c.svc.API.SigningName, c.req.Region, s.cfg.Now())
	if !isREST(c.svc.API) {
		if body, err = protocol.Inflate(r, body); err != nil {
			s.fail(w, r, c, err)
			return
		}
	}
	op, err := c.codec.Operation(routed, body, c.svc.API)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	c.req.Operation = op.Name
	in := op.NewInput()
	if err := c.codec.Decode(routed, body, c.svc.API, op, in); err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.invoke(w, r, c, op, in)
}

// serveStream serves an operation whose payload streams: the body goes
// to the operation as it arrives, verified as it is read.
func (s *Server) serveStream(w http.ResponseWriter, r, routed *http.Request, c *call, signed *sigv4.Signed, op *api.Operation) {
	c.req.Service, c.req.Operation = c.svc.API.Package, op.Name
	c.req.Region = DefaultRegion
	if signed != nil && signed.Scope.Region != "" {
		c.req.Region = signed.Scope.Region
	}
	if signed != nil && signed.V2 {
		c.req.Region = "" // S3's legacy signature names no region: the bucket's
	}
	c.codec = protocol.For(c.svc.API.Protocol)
	body, err := s.authenticateStream(r, signed, c)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	s.cfg.Identity.Used(c.req.Caller, c.svc.API.SigningName, c.req.Region, s.cfg.Now())
	in := op.NewInput()
	if err := c.codec.Decode(routed, nil, c.svc.API, op, in); err != nil {
		s.fail(w, r, c, err)
		return
	}
	protocol.SetStream(in, streamErrors{r: body, trailers: r.Header.Get("X-Amz-Trailer")})
	s.invoke(w, r, c, op, in)
}

// streamErrors is a streamed payload whose failures (a chunk signature
// that does not match, a payload hash) are the AWS errors they stand for,
// so the operation reading it can answer them as they are.
type streamErrors struct {
	r io.Reader
	// trailers is the request's x-amz-trailer: the trailing headers an
	// aws-chunked payload announces (S3 computes the checksum they name).
	trailers string
}

func (s streamErrors) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		err = authError(err)
	}
	return n, err
}

// Trailer returns a trailing header of an aws-chunked payload (S3's
// trailing checksums), "" when it has none.
func (s streamErrors) Trailer(name string) string {
	if t, ok := s.r.(interface{ Trailer(string) string }); ok {
		return t.Trailer(name)
	}
	return ""
}

// TrailerNames returns the trailing headers the request announced in
// x-amz-trailer, lower-case: what the operation is to expect once the
// payload has been read.
func (s streamErrors) TrailerNames() []string {
	var names []string
	for _, n := range strings.Split(s.trailers, ",") {
		if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
			names = append(names, n)
		}
	}
	return names
}

// invoke validates the input, calls the operation and writes its answer.
func (s *Server) invoke(w http.ResponseWriter, r *http.Request, c *call, op *api.Operation, in any) {
	if verr := protocol.Validate(c.svc.API, in); verr != nil {
		s.fail(w, r, c, verr)
		return
	}
	ctx := api.WithRequest(r.Context(), &c.req)
	if s.cfg.Authorizer != nil {
		if err := s.cfg.Authorizer.Authorize(ctx, c.svc.API, op.Name, in); err != nil {
			s.fail(w, r, c, err)
			return
		}
	}
	out, err := c.svc.Invoker.Invoke(ctx, op.Name, in)
	if err != nil {
		s.fail(w, r, c, err)
		return
	}
	if c.req.Status != 0 {
		w = &statusOverride{ResponseWriter: w, status: c.req.Status}
	}
	c.codec.Encode(w, c.svc.API, op, out, c.req.ID)
}

func isREST(a *api.Service) bool { return a.Protocol == "rest-json" || a.Protocol == "rest-xml" }

// routeHost finds a service that claims the request's host, and the path
// it restates the request with.
func (s *Server) routeHost(r *http.Request, signed *sigv4.Signed) (*Service, string) {
	for i := range s.cfg.Services {
		svc := &s.cfg.Services[i]
		if svc.Router == nil || signed != nil && signed.Scope.Service != svc.API.SigningName {
			continue
		}
		if path, ok := svc.Router.RouteHost(r); ok {
			return svc, path
		}
	}
	return nil, ""
}

// withPath is r with another (escaped) path.
func withPath(r *http.Request, escaped string) *http.Request {
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.RawPath = escaped
	if p, err := url.PathUnescape(escaped); err == nil {
		u.Path = p
	}
	if u.EscapedPath() != escaped {
		u.RawPath = escaped
	}
	r2.URL = &u
	return r2
}

// route finds the service of a request: by X-Amz-Target for JSON protocols
// or the /service/{Name}/ path of RPC v2 CBOR, else by the SigV4 scope's
// service (and the Version parameter where two services share a signing
// name), else, for unsigned requests, by host name or by the query Version.
func (s *Server) route(r *http.Request, body []byte, signed *sigv4.Signed) *Service {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		if i := strings.LastIndexByte(target, '.'); i > 0 {
			if svc := s.byTarget[target[:i]]; svc != nil {
				return svc
			}
		}
	}
	if protocol.IsRPCv2CBOR(r) {
		// RPC v2 names the service in the path, by the same name.
		if name, _, ok := protocol.RPCv2Path(r.URL.Path); ok && s.byTarget[name] != nil {
			return s.byTarget[name]
		}
	}
	var candidates []*Service
	if signed != nil {
		candidates = s.bySigning[signed.Scope.Service]
	}
	if len(candidates) == 1 {
		return candidates[0]
	}
	version := ""
	if isForm(r) || r.Method == http.MethodGet {
		if params, err := protocol.Params(r, body); err == nil {
			version = params.Get("Version")
		}
	}
	if len(candidates) > 1 {
		for _, svc := range candidates {
			if svc.API.APIVersion == version {
				return svc
			}
		}
		return candidates[0]
	}
	if signed != nil {
		return nil
	}
	host := r.Host
	if i := strings.IndexByte(host, '.'); i > 0 {
		if svc := s.byPrefix[host[:i]]; svc != nil {
			return svc
		}
	}
	if version != "" {
		for i := range s.cfg.Services {
			if svc := &s.cfg.Services[i]; svc.API.APIVersion == version {
				return svc
			}
		}
	}
	return nil
}

func isForm(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded")
}

// authenticateStream is authenticate for a payload read as it arrives:
// the body returned verifies it as it is read.
func (s *Server) authenticateStream(r *http.Request, signed *sigv4.Signed, c *call) (io.Reader, error) {
	if s.cfg.Auth != AuthStrict {
		akid := ""
		if signed != nil {
			akid = signed.Scope.AccessKeyID
		}
		p, err := s.cfg.Identity.Principal(akid)
		if err != nil {
			return nil, err
		}
		c.req.Caller = p
		if signed != nil && signed.Presigned {
			// Without keys to check, an expired URL still has expired.
			if err := signed.CheckTime(s.cfg.Now()); err != nil {
				return nil, s.expired(c, signed, err)
			}
		}
		return sigv4.Stream(r), nil
	}
	if signed == nil {
		return nil, api.NewError(http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
	}
	cred, ok, err := s.cfg.Identity.Lookup(signed.Scope.AccessKeyID)
	if err != nil {
		return nil, err
	}
	if !ok || cred.SessionToken != signed.SecurityToken {
		return nil, api.NewError(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
	}
	body, err := sigv4.VerifyStream(r, signed, cred.Secret, s.cfg.Now())
	if err != nil {
		return nil, s.expired(c, signed, err)
	}
	if !cred.Expires.IsZero() && s.cfg.Now().After(cred.Expires) {
		return nil, api.NewError(http.StatusForbidden, "ExpiredToken", "The security token included in the request is expired")
	}
	c.req.Caller = cred.Principal
	return body, nil
}

// expired words a RequestExpired as S3 does for presigned URLs: 403
// AccessDenied "Request has expired".
func (s *Server) expired(c *call, signed *sigv4.Signed, err error) error {
	var e *sigv4.Error
	if errors.As(err, &e) && e.Code == "RequestExpired" && signed.Presigned && c.svc != nil && c.svc.API.ServiceID == "S3" {
		return api.NewError(http.StatusForbidden, "AccessDenied", "Request has expired")
	}
	return authError(err)
}

// authenticate names the caller, verifying the signature in strict mode, and
// returns the payload (de-chunked when the client streamed it).
func (s *Server) authenticate(r *http.Request, body []byte, signed *sigv4.Signed, c *call) ([]byte, error) {
	if s.cfg.Auth != AuthStrict {
		akid := ""
		if signed != nil {
			akid = signed.Scope.AccessKeyID
		}
		p, err := s.cfg.Identity.Principal(akid)
		if err != nil {
			return nil, err
		}
		c.req.Caller = p
		if signed != nil && signed.Presigned {
			if err := signed.CheckTime(s.cfg.Now()); err != nil {
				return nil, s.expired(c, signed, err)
			}
		}
		if sigv4.IsStreaming(r) {
			decoded, err := sigv4.DecodeChunked(body)
			if err != nil {
				return nil, api.Errorf("IncompleteBody", "The aws-chunked body is malformed: %v", err)
			}
			return decoded, nil
		}
		return body, nil
	}
	if signed == nil {
		if op, err := c.codec.Operation(r, body, c.svc.API); err == nil && unsignedOps[c.svc.API.Package+"."+op.Name] {
			return body, nil
		}
		return nil, api.NewError(http.StatusForbidden, "MissingAuthenticationToken", "Request is missing Authentication Token")
	}
	cred, ok, err := s.cfg.Identity.Lookup(signed.Scope.AccessKeyID)
	if err != nil {
		return nil, err
	}
	if !ok || cred.SessionToken != signed.SecurityToken {
		return nil, api.NewError(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
	}
	payload, err := sigv4.Verify(r, body, signed, cred.Secret, s.cfg.Now())
	if err != nil {
		return nil, s.expired(c, signed, err)
	}
	if !cred.Expires.IsZero() && s.cfg.Now().After(cred.Expires) {
		return nil, api.NewError(http.StatusForbidden, "ExpiredToken", "The security token included in the request is expired")
	}
	c.req.Caller = cred.Principal
	return payload, nil
}

// unsignedOps are the operations AWS serves unsigned, even to strict
// authentication: their callers have no AWS credentials yet.
var unsignedOps = map[string]bool{"sts.AssumeRoleWithWebIdentity": true, "sts.AssumeRoleWithSAML": true}

func authError(err error) error {
	var e *sigv4.Error
	if errors.As(err, &e) {
		return &api.Error{Code: e.Code, Message: e.Message, Status: e.Status}
	}
	return err
}

// unknownService is the answer for a request no registered service matches.
func unknownService(r *http.Request, signed *sigv4.Signed) *api.Error {
	name := "(none)"
	if signed != nil {
		name = signed.Scope.Service
	}
	return api.Errorf("UnknownService", "cloudbox does not serve the service named by this request (credential scope service %s, host %s)", name, r.Host)
}

// fail writes err in the envelope of the request's service, or, when no
// service was found, in the envelope the request's own form suggests.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, c *call, err error) {
	e := api.As(err)
	c.errCode = e.Code
	if e.Code == "InternalFailure" {
		s.cfg.Logger.Error("internal failure", "request_id", c.req.ID, "error", err)
	}
	var svc *api.Service
	if c.svc != nil {
		svc = c.svc.API
	} else {
		proto := "rest-xml"
		switch {
		case protocol.IsRPCv2CBOR(r):
			proto = "smithy-rpc-v2-cbor"
		case r.Header.Get("X-Amz-Target") != "":
			proto = "json"
		case isForm(r) || r.URL.Query().Get("Action") != "":
			proto = "query"
		}
		svc = &api.Service{Protocol: proto}
	}
	codec := c.codec
	if codec == nil {
		codec = protocol.For(svc.Protocol)
	}
	codec.EncodeError(w, svc, e, c.req.ID)
}

func (s *Server) logRequest(r *http.Request, c *call, status int, d time.Duration) {
	attrs := []slog.Attr{
		slog.String("service", c.req.Service),
		slog.String("operation", c.req.Operation),
		slog.String("account", c.req.Caller.Account),
		slog.String("region", c.req.Region),
		slog.Int("status", status),
		slog.Float64("duration_ms", float64(d.Microseconds())/1000),
		slog.String("request_id", c.req.ID),
	}
	if c.errCode != "" {
		attrs = append(attrs, slog.String("error", c.errCode))
	}
	level := slog.LevelInfo
	if status >= 500 && status != http.StatusNotImplemented {
		level = slog.LevelError
	}
	s.cfg.Logger.LogAttrs(context.Background(), level, "request", attrs...)
}

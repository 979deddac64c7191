package api

import (
	"context"
	"net/netip"
	"time"
)

// Request is what the server learned about a request before a service sees
// it: who is calling, in which account and region.
type Request struct {
	ID        string
	Service   string // generated package name, e.g. "sts"
	Operation string
	Region    string
	// Caller is the authenticated principal (or the default one when
	// authentication is off).
	Caller Principal
	// Anonymous: the request was not signed (a public read, a browser
	// form); Caller is then the default principal when authentication is
	// off.
	Anonymous bool
	// SourceIP is the address the request came from (aws:SourceIp): an
	// instance's public address when it calls the in-world endpoints
	// through its gateway. Invalid when unknown.
	SourceIP netip.Addr
	// TLS: the request came over HTTPS (aws:SecureTransport).
	TLS bool
	// Time is when the server received the request, on the clock
	// signatures are checked against (aws:CurrentTime).
	Time time.Time
	// Status, when an operation sets it, is answered instead of the
	// status its model gives (S3's 206 Partial Content for a range).
	Status int
}

// Principal is the identity behind an access key.
type Principal struct {
	Account     string
	ARN         string
	UserID      string
	AccessKeyID string
	// Session is set for temporary credentials: what STS or an instance
	// profile attached to them. nil for long-term keys.
	Session *Session `json:",omitempty"`
}

// Session is what temporary credentials carry besides their principal.
type Session struct {
	// Policy is the inline session policy and PolicyARNs the managed
	// session policies passed to AssumeRole or GetFederationToken: the
	// session may do only what they and its role's policies both allow.
	Policy     string   `json:",omitempty"`
	PolicyARNs []string `json:",omitempty"`
	// Tags are the session tags (aws:PrincipalTag/ over the role's own).
	Tags map[string]string `json:",omitempty"`
	// TransitiveTagKeys are the tags that pass on to the sessions this
	// one assumes (role chaining).
	TransitiveTagKeys []string `json:",omitempty"`
	// Instance is the EC2 instance whose profile the credentials were
	// issued to through IMDS, and Profile that instance profile's ARN:
	// they stop working once the instance is terminated or loses it.
	Instance string `json:",omitempty"`
	Profile  string `json:",omitempty"`
	// User is the IAM user (or root) a GetFederationToken session was
	// issued to: its policies are the session's identity side.
	User string `json:",omitempty"`
	// MFA: the session was created with an MFA code
	// (aws:MultiFactorAuthPresent).
	MFA bool `json:",omitempty"`
}

type requestKey struct{}

// WithRequest returns ctx carrying r.
func WithRequest(ctx context.Context, r *Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request ctx carries. Handlers are always called
// with one; outside a request it returns an empty Request.
func RequestFrom(ctx context.Context) *Request {
	if r, ok := ctx.Value(requestKey{}).(*Request); ok {
		return r
	}
	return &Request{}
}

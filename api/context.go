package api

import "context"

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

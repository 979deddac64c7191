// Package imds is the EC2 instance metadata service (IMDS) at
// 169.254.169.254, IMDSv1 and IMDSv2, as an http.Handler.
//
// It reproduces what software on an EC2 instance relies on: the session
// token flow of IMDSv2 (PUT /latest/api/token with a TTL of 1..21600
// seconds, the token then sent as X-aws-ec2-metadata-token, 401 for a bad
// or expired token or a missing one when tokens are required, 403 for a
// token request carrying X-Forwarded-For or when the endpoint is disabled),
// the /latest/meta-data/ tree with AWS's directory listings (entries that
// have children end in "/"), user data, the instance identity document, and
// the role credentials that SDKs read from iam/security-credentials/<role>.
//
// The caller is identified by its source address, which is the private
// address of one of its instance's network interfaces, as on AWS where the
// hypervisor knows which instance asks.
package imds

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cloudbox/cloudbox/desired"
)

// Source is the world as IMDS sees it; the daemon implements it.
type Source interface {
	// InstanceByIP returns the instance whose ENI has the private address
	// ip (the caller's source address) and the world it is in, or nils.
	InstanceByIP(ip netip.Addr) (*desired.Instance, *desired.World)
	// Profile returns the instance profile inst has (its
	// InstanceProfileARN) and the profile's role, as they are now: a role
	// taken from the profile is no longer listed. ok is false when there
	// is no such profile.
	Profile(inst *desired.Instance) (p desired.InstanceProfile, ok bool, err error)
	// Credentials returns temporary credentials of the role of p for inst.
	Credentials(inst *desired.Instance, p desired.InstanceProfile) (Credentials, error)
}

// Credentials are temporary credentials of an instance's role.
type Credentials struct {
	AccessKeyID     string
	SecretAccessKey string
	Token           string
	Expiration      time.Time
}

// MetadataOptions are an instance's metadata options, with EC2's values.
type MetadataOptions struct {
	// HTTPTokens is "optional" (the default when empty) or "required".
	HTTPTokens string
	// HTTPEndpoint is "enabled" (the default when empty) or "disabled",
	// when every request is answered 403.
	HTTPEndpoint string
}

// Options configure a Server.
type Options struct {
	// Now is the clock for token expiry and timestamps; nil: time.Now.
	Now func() time.Time
	// MetadataOptions returns an instance's metadata options; nil: every
	// instance has the defaults (tokens optional, endpoint enabled).
	MetadataOptions func(*desired.Instance) MetadataOptions
}

// Token TTL bounds and headers, as AWS.
const (
	maxTokenTTL   = 21600
	hdrToken      = "X-Aws-Ec2-Metadata-Token"
	hdrTokenTTL   = "X-Aws-Ec2-Metadata-Token-Ttl-Seconds"
	hdrForwarded  = "X-Forwarded-For"
	tokenPath     = "/latest/api/token"
	identityVer   = "2017-09-30"
	timeFormatAWS = "2006-01-02T15:04:05Z"
)

// versions are the metadata versions AWS lists at "/"; every one serves
// the same tree as "latest".
var versions = []string{
	"1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10",
	"2007-12-15", "2008-02-01", "2008-09-01", "2009-04-04", "2011-01-01",
	"2011-05-01", "2012-01-12", "2014-02-25", "2014-11-05", "2015-10-20",
	"2016-04-19", "2016-06-30", "2016-09-02", "2018-03-28", "2018-08-17",
	"2018-09-24", "2019-10-01", "2020-10-27", "2021-01-03", "2021-03-23",
	"2021-07-15", "2022-09-24", "2024-04-11", "latest",
}

// Server serves the metadata of whichever instance calls.
type Server struct {
	src  Source
	opts Options
	// key signs tokens, so tokens need no server-side state. They die
	// with the process; clients then get a 401 and fetch a new one, as
	// after an instance's stop and start on AWS.
	key []byte

	mu    sync.Mutex
	creds map[string]roleCreds // by instance, profile and role
}

// New returns a Server answering from src.
func New(src Source, opts Options) *Server {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	key := make([]byte, 32)
	rand.Read(key)
	return &Server{src: src, opts: opts, key: key, creds: map[string]roleCreds{}}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Server", "EC2ws")
	inst, world := s.caller(r)
	if inst == nil {
		// No instance behind this address: answer as IMDS does when it is
		// turned off for the caller.
		httpError(w, http.StatusForbidden)
		return
	}
	mo := MetadataOptions{}
	if s.opts.MetadataOptions != nil {
		mo = s.opts.MetadataOptions(inst)
	}
	if mo.HTTPEndpoint == "disabled" {
		httpError(w, http.StatusForbidden)
		return
	}
	if strings.TrimSuffix(r.URL.Path, "/") == tokenPath {
		s.serveToken(w, r, inst)
		return
	}
	if tok := r.Header.Get(hdrToken); tok != "" {
		left, ok := s.checkToken(tok, inst)
		if !ok {
			httpError(w, http.StatusUnauthorized)
			return
		}
		w.Header().Set(hdrTokenTTL, strconv.Itoa(left))
	} else if mo.HTTPTokens == "required" {
		httpError(w, http.StatusUnauthorized)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "OPTIONS, GET, HEAD")
		httpError(w, http.StatusMethodNotAllowed)
		return
	}
	n := lookup(s.tree(inst, world), r.URL.Path)
	if n == nil {
		httpError(w, http.StatusNotFound)
		return
	}
	body, err := n.body()
	if err != nil {
		httpError(w, http.StatusInternalServerError)
		return
	}
	// AWS serves everything, JSON included, as text/plain.
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write([]byte(body))
	}
}

// caller returns the instance behind the request's source address.
func (s *Server) caller(r *http.Request) (*desired.Instance, *desired.World) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return nil, nil
	}
	return s.src.InstanceByIP(ap.Addr().Unmap())
}

// serveToken issues an IMDSv2 session token.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request, inst *desired.Instance) {
	if r.Method != http.MethodPut {
		w.Header().Set("Allow", "OPTIONS, PUT")
		httpError(w, http.StatusMethodNotAllowed)
		return
	}
	// A proxied request is refused, so an SSRF through a proxy on the
	// instance cannot obtain a token.
	if _, ok := r.Header[hdrForwarded]; ok {
		httpError(w, http.StatusForbidden)
		return
	}
	ttl, err := strconv.Atoi(r.Header.Get(hdrTokenTTL))
	if err != nil || ttl < 1 || ttl > maxTokenTTL {
		httpError(w, http.StatusBadRequest)
		return
	}
	tok := s.newToken(inst, s.opts.Now().Add(time.Duration(ttl)*time.Second))
	w.Header().Set("Content-Type", "text/plain")
	w.Header().Set(hdrTokenTTL, strconv.Itoa(ttl))
	w.Write([]byte(tok))
}

// newToken returns a token for inst valid until exp: the expiry and the
// instance id, signed.
func (s *Server) newToken(inst *desired.Instance, exp time.Time) string {
	msg := binary.BigEndian.AppendUint64(nil, uint64(exp.Unix()))
	msg = append(msg, inst.ID...)
	return base64.RawURLEncoding.EncodeToString(append(msg, s.sign(msg)...))
}

// checkToken reports whether tok is a live token of inst, and the seconds
// it has left.
func (s *Server) checkToken(tok string, inst *desired.Instance) (int, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) < 8+sha256.Size {
		return 0, false
	}
	msg, mac := raw[:len(raw)-sha256.Size], raw[len(raw)-sha256.Size:]
	if !hmac.Equal(mac, s.sign(msg)) || string(msg[8:]) != inst.ID {
		return 0, false
	}
	left := int64(binary.BigEndian.Uint64(msg[:8])) - s.opts.Now().Unix()
	if left <= 0 {
		return 0, false
	}
	return int(left), true
}

func (s *Server) sign(msg []byte) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write(msg)
	return h.Sum(nil)
}

// httpError writes an error page shaped like IMDS's.
func httpError(w http.ResponseWriter, code int) {
	text := strconv.Itoa(code) + " - " + http.StatusText(code)
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(code)
	w.Write([]byte(`<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
	"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>` + text + `</title>
 </head>
 <body>
  <h1>` + text + `</h1>
 </body>
</html>
`))
}

// node is one entry of the metadata tree: a directory (children) or a
// value (get).
type node struct {
	children map[string]*node
	// label replaces the name in the parent's listing (public-keys lists
	// "0=keyname"; /latest/ lists its directories without a slash).
	label string
	get   func() (string, error)
}

func leaf(v string) *node { return &node{get: func() (string, error) { return v, nil }} }

func dir(children map[string]*node) *node { return &node{children: children} }

// body is a value, or a directory's listing: one entry per line, sorted,
// directories with a trailing slash, no final newline.
func (n *node) body() (string, error) {
	if n.children == nil {
		return n.get()
	}
	names := make([]string, 0, len(n.children))
	for name, c := range n.children {
		switch {
		case c.label != "":
			names = append(names, c.label)
		case c.children != nil:
			names = append(names, name+"/")
		default:
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return strings.Join(names, "\n"), nil
}

// lookup walks path through the tree; a directory answers with or without
// its trailing slash, as on AWS.
func lookup(root *node, path string) *node {
	n := root
	for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
		if part == "" {
			continue
		}
		if n.children == nil {
			return nil
		}
		if n = n.children[part]; n == nil {
			return nil
		}
	}
	return n
}

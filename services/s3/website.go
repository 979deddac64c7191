package s3

import (
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/store"
	"github.com/cloudbox/cloudbox/uuid"
)

// EdgeClaims are the host names S3 answers outside its API: the website
// endpoints of every region, in both of S3's forms
// (<bucket>.s3-website-<region>.amazonaws.com and
// <bucket>.s3-website.<region>.amazonaws.com). The daemon claims them in
// the edge table, so they answer on the host's loopback listener and,
// wherever the simulated internet reaches the AWS endpoints, there.
func (s *Service) EdgeClaims() map[string]http.Handler {
	claims := map[string]http.Handler{}
	h := http.HandlerFunc(s.serveWebsite)
	for _, r := range append([]string{"us-east-1"}, locationConstraints...) {
		claims["*.s3-website-"+r+".amazonaws.com"] = h
		claims["*.s3-website."+r+".amazonaws.com"] = h
	}
	return claims
}

// websiteBucket is the bucket a website endpoint's host names, and the
// region the name says.
func websiteBucket(host string) (bucket, region string, ok bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	rest, ok := strings.CutSuffix(host, ".amazonaws.com")
	if !ok {
		return "", "", false
	}
	if i := strings.LastIndex(rest, ".s3-website-"); i > 0 {
		return rest[:i], rest[i+len(".s3-website-"):], true
	}
	if i := strings.LastIndex(rest, ".s3-website."); i > 0 {
		return rest[:i], rest[i+len(".s3-website."):], true
	}
	return "", "", false
}

// websiteError is an error page of a website endpoint.
type websiteError struct {
	status int
	code   string
	msg    string
	fields [][2]string
}

func (e *websiteError) Error() string { return e.code + ": " + e.msg }

// serveWebsite answers a request to a bucket's website endpoint as S3
// does: GET and HEAD only, unauthenticated, from public objects; index
// documents for "directories", the error document for 4xx errors,
// redirects from routing rules and from objects' redirect locations.
func (s *Service) serveWebsite(w http.ResponseWriter, r *http.Request) {
	id := uuid.New()
	w.Header().Set("x-amz-request-id", id)
	w.Header().Set("Server", "AmazonS3")
	name, region, ok := websiteBucket(r.Host)
	if !ok {
		s.websiteFail(w, r, id, nil, nil, &websiteError{http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", [][2]string{{"BucketName", r.Host}}})
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		s.websiteFail(w, r, id, nil, nil, &websiteError{http.StatusMethodNotAllowed, "MethodNotAllowed",
			"The specified method is not allowed against this resource.", [][2]string{{"Method", r.Method}, {"ResourceType", "OBJECT"}}})
		return
	}
	var b *bucketRecord
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		b, err = findBucket(tx, name)
		return err
	})
	switch {
	case err != nil:
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	case b == nil || b.Region != region:
		s.websiteFail(w, r, id, nil, nil, &websiteError{http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", [][2]string{{"BucketName", name}}})
		return
	case b.Config.Website == nil:
		s.websiteFail(w, r, id, nil, nil, &websiteError{http.StatusNotFound, "NoSuchWebsiteConfiguration",
			"The specified bucket does not have a website configuration", [][2]string{{"BucketName", name}}})
		return
	}
	site := b.Config.Website
	if to := site.RedirectAllRequestsTo; to != nil {
		proto := deref(to.Protocol)
		if proto == "" {
			proto = "http"
		}
		http.Redirect(w, r, proto+"://"+deref(to.HostName)+r.URL.RequestURI(), http.StatusMovedPermanently)
		return
	}
	key := strings.TrimPrefix(r.URL.Path, "/")
	if rule := routingRule(site, key, 0); rule != nil {
		redirect(w, r, rule.Redirect, key, rule.Condition)
		return
	}
	suffix := ""
	if site.IndexDocument != nil {
		suffix = deref(site.IndexDocument.Suffix)
	}
	if key == "" || strings.HasSuffix(key, "/") {
		key += suffix
	}
	v, werr := s.websiteObject(b, key)
	if werr != nil && werr.status == http.StatusNotFound && suffix != "" && !strings.HasSuffix(key, suffix) {
		// "dir" names a folder when "dir/<index>" exists: S3 redirects
		// to the folder.
		if iv, _ := s.websiteObject(b, key+"/"+suffix); iv != nil {
			http.Redirect(w, r, "/"+key+"/", http.StatusFound)
			return
		}
	}
	if werr != nil {
		s.websiteFail(w, r, id, b, site, werr)
		return
	}
	if v.WebsiteRedirect != "" {
		http.Redirect(w, r, v.WebsiteRedirect, http.StatusMovedPermanently)
		return
	}
	s.sendObject(w, r, b, v, http.StatusOK)
}

// websiteObject reads the current version of key for a website: it must
// exist and be public.
func (s *Service) websiteObject(b *bucketRecord, key string) (*version, *websiteError) {
	var v *version
	err := s.store.View(func(tx *store.Tx) error {
		o, err := getObjectRecord(tx, b, key)
		if err == nil {
			v = o.current()
		}
		return err
	})
	if err != nil {
		return nil, &websiteError{http.StatusInternalServerError, "InternalError", "We encountered an internal error. Please try again.", nil}
	}
	if v == nil || v.DeleteMarker {
		return nil, &websiteError{http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", [][2]string{{"Key", key}}}
	}
	if !anonymousAllowed(b, "s3:GetObject", key, v) {
		return nil, &websiteError{http.StatusForbidden, "AccessDenied", "Access Denied", nil}
	}
	return v, nil
}

// sendObject writes v's bytes with its headers.
func (s *Service) sendObject(w http.ResponseWriter, r *http.Request, b *bucketRecord, v *version, status int) {
	h := headers(b, v)
	wh := w.Header()
	wh.Set("Content-Type", deref(h.ContentType))
	wh.Set("ETag", v.ETag)
	wh.Set("Last-Modified", v.Modified.UTC().Format(http.TimeFormat))
	wh.Set("Content-Length", strconv.FormatInt(v.Size, 10))
	for name, val := range map[string]*string{"Content-Encoding": h.ContentEncoding, "Content-Disposition": h.ContentDisposition,
		"Content-Language": h.ContentLanguage, "Cache-Control": h.CacheControl} {
		if val != nil {
			wh.Set(name, *val)
		}
	}
	for k, val := range v.Metadata {
		wh.Set("x-amz-meta-"+k, val)
	}
	if status == http.StatusOK && !preconditionsMet(w, r, v) {
		return
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(status)
		return
	}
	rd, err := s.open(b.Name, v, 0, v.Size)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	defer rd.Close()
	w.WriteHeader(status)
	io.Copy(w, rd)
}

// preconditionsMet applies a website GET's conditional headers; when they
// fail it has answered (304 or 412).
func preconditionsMet(w http.ResponseWriter, r *http.Request, v *version) bool {
	in := func(name string) *string {
		if val := r.Header.Get(name); val != "" {
			return &val
		}
		return nil
	}
	err := preconditions(v, in("If-Match"), in("If-None-Match"), httpTime(r.Header.Get("If-Modified-Since")), httpTime(r.Header.Get("If-Unmodified-Since")))
	var e *api.Error
	if errors.As(err, &e) {
		for k, val := range e.Header {
			w.Header().Set(k, val)
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(e.Status)
		return false
	}
	return true
}

// routingRule returns the first routing rule whose condition holds for
// key (and, when status is not 0, for the error being returned).
func routingRule(site *s3api.WebsiteConfiguration, key string, status int) *s3api.RoutingRule {
	for _, rule := range site.RoutingRules {
		if rule == nil || rule.Redirect == nil {
			continue
		}
		c := rule.Condition
		if c != nil && c.KeyPrefixEquals != nil && !strings.HasPrefix(key, *c.KeyPrefixEquals) {
			continue
		}
		wantCode := c != nil && c.HttpErrorCodeReturnedEquals != nil
		if wantCode != (status != 0) || wantCode && *c.HttpErrorCodeReturnedEquals != strconv.Itoa(status) {
			continue
		}
		return rule
	}
	return nil
}

// redirect answers a routing rule's redirect for key.
func redirect(w http.ResponseWriter, r *http.Request, to *s3api.Redirect, key string, cond *s3api.Condition) {
	proto := deref(to.Protocol)
	if proto == "" {
		proto = "http"
	}
	host := deref(to.HostName)
	if host == "" {
		host = r.Host
	}
	switch {
	case to.ReplaceKeyWith != nil:
		key = *to.ReplaceKeyWith
	case to.ReplaceKeyPrefixWith != nil:
		prefix := ""
		if cond != nil {
			prefix = deref(cond.KeyPrefixEquals)
		}
		key = *to.ReplaceKeyPrefixWith + strings.TrimPrefix(key, prefix)
	}
	code := http.StatusMovedPermanently
	if c, err := strconv.Atoi(deref(to.HttpRedirectCode)); err == nil && c >= 300 && c < 400 {
		code = c
	}
	http.Redirect(w, r, proto+"://"+host+"/"+key, code)
}

// websiteFail answers an error of a website endpoint: a routing rule for
// the error's code redirects; a 4xx error serves the error document with
// the error's status when there is one; otherwise S3's HTML error page.
func (s *Service) websiteFail(w http.ResponseWriter, r *http.Request, id string, b *bucketRecord, site *s3api.WebsiteConfiguration, e *websiteError) {
	key := strings.TrimPrefix(r.URL.Path, "/")
	if site != nil {
		if rule := routingRule(site, key, e.status); rule != nil {
			redirect(w, r, rule.Redirect, key, rule.Condition)
			return
		}
	}
	var docErr *websiteError
	if site != nil && site.ErrorDocument != nil && e.status >= 400 && e.status < 500 {
		v, derr := s.websiteObject(b, deref(site.ErrorDocument.Key))
		if derr == nil {
			s.sendObject(w, r, b, v, e.status)
			return
		}
		docErr = derr
	}
	var page strings.Builder
	title := fmt.Sprintf("%d %s", e.status, http.StatusText(e.status))
	fmt.Fprintf(&page, "<html>\n<head><title>%s</title></head>\n<body>\n<h1>%s</h1>\n<ul>\n", title, title)
	item := func(name, val string) { fmt.Fprintf(&page, "<li>%s: %s</li>\n", name, html.EscapeString(val)) }
	item("Code", e.code)
	item("Message", e.msg)
	for _, f := range e.fields {
		item(f[0], f[1])
	}
	item("RequestId", id)
	item("HostId", id)
	page.WriteString("</ul>\n")
	if docErr != nil {
		page.WriteString("<h3>An Error Occurred While Attempting to Retrieve a Custom Error Document</h3>\n<ul>\n")
		item("Code", docErr.code)
		item("Message", docErr.msg)
		page.WriteString("</ul>\n")
	}
	page.WriteString("<hr/>\n</body>\n</html>\n")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(page.Len()))
	w.WriteHeader(e.status)
	if r.Method != http.MethodHead {
		io.WriteString(w, page.String())
	}
}

// httpTime reads an HTTP date header, nil when absent or unreadable (a
// condition with a bad date is ignored, as HTTP says).
func httpTime(v string) *time.Time {
	t, err := http.ParseTime(v)
	if err != nil {
		return nil
	}
	return &t
}

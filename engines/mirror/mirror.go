// Package mirror is a caching Debian package mirror for the simulated
// internet. Instances run apt-get against deb.debian.org and friends, which
// resolve to cloudbox; the mirror answers from a disk cache and fills it
// from the real Debian mirror the host uses, so a package crosses the
// internet once and is then served locally to every instance, to the image
// builder and to later test runs.
//
// How long a file is kept follows from how a Debian archive changes. Files
// under pool/ and dists/**/by-hash/ never change once published (a new
// version gets a new name), so they are kept forever. Every other file
// (InRelease, Release, Packages, ...) is an index replaced in place, so it
// is revalidated upstream once Config.IndexTTL has passed, and served stale
// while upstream cannot be reached. apt fetches the Packages files by hash,
// so a revalidated InRelease never names a file the cache cannot get.
//
// The cache directory may be shared by several processes at once. A file is
// written under a temporary name, synced and renamed into place only once
// complete, so a reader sees the old file or the new one, never a part;
// concurrent fetches of one file are coalesced within a process, and across
// processes by a lock file.
package mirror

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Config configures a Mirror.
type Config struct {
	// Upstreams maps a path prefix served here to the upstream base URL,
	// e.g. "/debian" -> "http://deb.debian.org/debian".
	Upstreams map[string]string
	// CacheDir holds the cached files; it is created if missing.
	CacheDir string
	// Client fetches from upstream; nil: a client with dial timeouts that
	// ignores proxy variables in the environment.
	Client *http.Client
	// Log receives one line per upstream fetch; nil: nothing is logged.
	Log *slog.Logger
	// IndexTTL is how long an index file is served from the cache before
	// it is revalidated upstream; zero: one hour.
	IndexTTL time.Duration
}

// Stats counts what a Mirror did since New.
type Stats struct {
	Hits          int64 // requests answered from the cache without a download of their own
	Misses        int64 // requests whose file was downloaded from upstream for them
	Stale         int64 // requests answered with an old index because upstream failed
	Errors        int64 // requests answered 502, or whose download failed part way
	UpstreamBytes int64 // body bytes downloaded from upstream
	ServedBytes   int64 // body bytes written to clients
}

// A Mirror is an http.Handler serving Debian archives from its cache.
type Mirror struct {
	upstreams []upstream // longest prefix first
	dir       string
	client    *http.Client
	log       *slog.Logger
	ttl       time.Duration

	mu        sync.Mutex
	calls     map[string]*call     // fetches in flight, by cache key
	validated map[string]time.Time // when an index was last confirmed upstream, by cache key

	hits, misses, stale, errors, upstreamBytes, servedBytes atomic.Int64
}

type upstream struct {
	prefix string   // request path prefix, "/debian"
	base   *url.URL // upstream base, without a trailing slash
	key    string   // cache subdirectory: the upstream's host and path
}

const (
	// stallTimeout ends a fetch whose upstream sends nothing for this long:
	// every request for that file waits on it.
	stallTimeout = 30 * time.Second
	// lockStripes is how many lock files the cache directory has; a fetch
	// locks the one its name hashes to, so two processes rarely wait on
	// each other for different files, and download a file once.
	lockStripes = 256
	lockDir     = ".lock"
)

// New returns a Mirror for cfg, creating the cache directory.
func New(cfg Config) (*Mirror, error) {
	if cfg.CacheDir == "" {
		return nil, errors.New("mirror: no cache directory")
	}
	if len(cfg.Upstreams) == 0 {
		return nil, errors.New("mirror: no upstreams")
	}
	m := &Mirror{
		dir:       cfg.CacheDir,
		client:    cfg.Client,
		log:       cfg.Log,
		ttl:       cfg.IndexTTL,
		calls:     map[string]*call{},
		validated: map[string]time.Time{},
	}
	if m.client == nil {
		m.client = defaultClient()
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.ttl <= 0 {
		m.ttl = time.Hour
	}
	for prefix, raw := range cfg.Upstreams {
		u, err := url.Parse(raw)
		// A host starting with a dot would name a directory outside the
		// cache ("..") or one of its own (".lock").
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.HasPrefix(u.Host, ".") {
			return nil, fmt.Errorf("mirror: upstream %q is not an http(s) URL", raw)
		}
		u.Path = strings.TrimSuffix(path.Clean("/"+u.Path), "/")
		u.RawPath, u.RawQuery, u.Fragment = "", "", ""
		p := path.Clean("/" + prefix)
		if slices.ContainsFunc(m.upstreams, func(o upstream) bool { return o.prefix == p }) {
			return nil, fmt.Errorf("mirror: prefix %q given twice", p)
		}
		// The cache is keyed by upstream, not by prefix: daemons sharing
		// the directory may map one prefix to different archives.
		m.upstreams = append(m.upstreams, upstream{prefix: p, base: u, key: u.Host + u.Path})
	}
	slices.SortFunc(m.upstreams, func(a, b upstream) int { return len(b.prefix) - len(a.prefix) })
	if err := os.MkdirAll(filepath.Join(m.dir, lockDir), 0o755); err != nil {
		return nil, fmt.Errorf("mirror: %w", err)
	}
	return m, nil
}

// defaultClient ignores proxy variables so that the archive is reached the
// same way whatever environment the daemon was started from; a host that
// needs a proxy passes its own Client. It has no overall timeout, as a
// large package may take long; a stalled body is ended by stallTimeout.
func defaultClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout: 10 * time.Second,
		IdleConnTimeout:     90 * time.Second,
		MaxIdleConnsPerHost: 8,
		ForceAttemptHTTP2:   true,
	}}
}

// Stats returns the counters.
func (m *Mirror) Stats() Stats {
	return Stats{
		Hits:          m.hits.Load(),
		Misses:        m.misses.Load(),
		Stale:         m.stale.Load(),
		Errors:        m.errors.Load(),
		UpstreamBytes: m.upstreamBytes.Load(),
		ServedBytes:   m.servedBytes.Load(),
	}
}

// target is what a request path names.
type target struct {
	path      string // cleaned request path, for logs
	url       string // upstream URL
	key       string // cache file, relative to the cache directory, slash-separated
	immutable bool   // under pool/ or by-hash/: never changes once published
}

// resolve maps a request path to its target. It answers 400 for a path
// that climbs ("..") or holds a NUL, and 404 for one no upstream serves, a
// directory, or a name starting with a dot: the cache keeps its temporary
// and lock files under such names.
func (m *Mirror) resolve(p string) (target, int) {
	if !strings.HasPrefix(p, "/") || strings.ContainsRune(p, 0) {
		return target{}, http.StatusBadRequest
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == ".." {
			return target{}, http.StatusBadRequest
		}
	}
	if strings.HasSuffix(p, "/") {
		return target{}, http.StatusNotFound
	}
	p = path.Clean(p)
	for _, u := range m.upstreams {
		rest, ok := strings.CutPrefix(p, strings.TrimSuffix(u.prefix, "/")+"/")
		if !ok {
			continue
		}
		if rest == "" { // "/." under the prefix "/"
			return target{}, http.StatusNotFound
		}
		for seg := range strings.SplitSeq(rest, "/") {
			if strings.HasPrefix(seg, ".") {
				return target{}, http.StatusNotFound
			}
		}
		up := *u.base
		up.Path += "/" + rest
		return target{
			path:      p,
			url:       up.String(),
			key:       u.key + "/" + rest,
			immutable: strings.Contains("/"+rest, "/pool/") || strings.Contains(rest, "/by-hash/"),
		}, 0
	}
	return target{}, http.StatusNotFound
}

func (m *Mirror) file(t target) string { return filepath.Join(m.dir, filepath.FromSlash(t.key)) }

// ServeHTTP serves GET and HEAD requests for files of the archives.
func (m *Mirror) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w = countingWriter{w, &m.servedBytes}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	t, status := m.resolve(r.URL.Path)
	if status != 0 {
		http.Error(w, http.StatusText(status), status)
		return
	}
	name := m.file(t)
	f, fi := openRegular(name)
	if f != nil {
		defer f.Close()
	} else if fi != nil { // a directory of the archive
		http.NotFound(w, r)
		return
	}
	if f != nil && (t.immutable || m.fresh(t)) {
		m.hits.Add(1)
		serveFile(w, r, f, fi)
		return
	}

	// A plain GET is answered while the file downloads, so that a client
	// of a large package sees bytes before its own timeout.
	var stream http.ResponseWriter
	if r.Method == http.MethodGet && r.Header.Get("Range") == "" {
		stream = w
	}
	res, leader := m.coalesce(r.Context(), t.key, func() result { return m.fetch(t, fi, stream) })
	switch {
	case leader && res.streamed:
		if res.err != nil {
			m.errors.Add(1)
		} else {
			m.misses.Add(1)
		}
	case r.Context().Err() != nil: // the client left while waiting
	case res.notFound:
		http.NotFound(w, r)
	case res.err != nil && f != nil:
		m.stale.Add(1)
		serveFile(w, r, f, fi)
	case res.err != nil:
		m.errors.Add(1)
		http.Error(w, "upstream failed: "+res.err.Error(), http.StatusBadGateway)
	default:
		nf, nfi := openRegular(name)
		if nf == nil {
			m.errors.Add(1)
			http.Error(w, "cached file vanished", http.StatusBadGateway)
			return
		}
		defer nf.Close()
		if leader && res.downloaded {
			m.misses.Add(1)
		} else {
			m.hits.Add(1)
		}
		serveFile(w, r, nf, nfi)
	}
}

// openRegular opens a cached file. It returns nil, nil when there is none,
// and nil and the FileInfo when the name is something else (a directory).
func openRegular(name string) (*os.File, os.FileInfo) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil
	}
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		f.Close()
		return nil, fi
	}
	return f, fi
}

// serveFile answers from a cached file; ServeContent does Range, HEAD,
// If-Modified-Since and the content type.
func serveFile(w http.ResponseWriter, r *http.Request, f *os.File, fi os.FileInfo) {
	http.ServeContent(w, r, fi.Name(), fi.ModTime(), f)
}

func (m *Mirror) fresh(t target) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	at, ok := m.validated[t.key]
	return ok && time.Since(at) < m.ttl
}

func (m *Mirror) markValidated(t target) {
	if t.immutable {
		return
	}
	m.mu.Lock()
	m.validated[t.key] = time.Now()
	m.mu.Unlock()
}

// result is the outcome of a fetch.
type result struct {
	err        error // upstream failed, or the download could not be stored
	notFound   bool  // upstream has no such file
	downloaded bool  // a new copy was stored
	streamed   bool  // the body went to the fetching request's client
}

type call struct {
	done chan struct{}
	res  result
}

// coalesce runs fn for key unless a call for key is in flight, in which
// case it waits for that call's result. leader tells whether fn ran here.
func (m *Mirror) coalesce(ctx context.Context, key string, fn func() result) (res result, leader bool) {
	m.mu.Lock()
	if c, ok := m.calls[key]; ok {
		m.mu.Unlock()
		select {
		case <-c.done:
			return c.res, false
		case <-ctx.Done():
			return result{err: ctx.Err()}, false
		}
	}
	c := &call{done: make(chan struct{})}
	m.calls[key] = c
	m.mu.Unlock()
	defer func() {
		m.mu.Lock()
		delete(m.calls, key)
		m.mu.Unlock()
		close(c.done)
	}()
	c.res = fn()
	return c.res, true
}

// fetch brings t's cache file up to date from upstream. have is the cached
// copy the caller found (nil: none); stream, if not nil, gets the body of a
// 200 as it downloads. The fetch does not depend on the requesting client:
// others may be waiting for it.
func (m *Mirror) fetch(t target, have os.FileInfo, stream http.ResponseWriter) result {
	unlock, err := m.lock(t.key)
	if err != nil {
		return result{err: err}
	}
	defer unlock()
	// While we waited for the lock another process, or an earlier fetch
	// here, may have stored or revalidated the file.
	if fi, err := os.Stat(m.file(t)); err == nil && (have == nil || !os.SameFile(have, fi) || m.fresh(t)) {
		m.markValidated(t)
		return result{}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stall := time.AfterFunc(stallTimeout, cancel)
	defer stall.Stop()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.url, nil)
	if err != nil {
		return result{err: err}
	}
	if have != nil {
		req.Header.Set("If-Modified-Since", have.ModTime().UTC().Format(http.TimeFormat))
	}
	start := time.Now()
	var res result
	var n int64
	status := 0
	resp, err := m.client.Do(req)
	if err == nil {
		defer resp.Body.Close()
		status = resp.StatusCode
		switch {
		case status == http.StatusNotModified && have != nil:
			m.markValidated(t)
		case status == http.StatusNotFound || status == http.StatusGone:
			res.notFound = true
		case status != http.StatusOK:
			err = fmt.Errorf("upstream answered %s", resp.Status)
		case strings.HasSuffix(resp.Request.URL.Path, "/"):
			// Redirected to a directory listing: not an archive file,
			// and caching it would block the files beneath.
			res.notFound = true
		default:
			n, res.streamed, err = m.store(t, resp, stallReader{resp.Body, stall}, stream)
			res.downloaded = err == nil
			if err == nil {
				m.markValidated(t)
			}
		}
	}
	res.err = err

	cache := "miss"
	switch {
	case status == http.StatusNotModified:
		cache = "hit"
	case err != nil && have != nil:
		cache = "stale"
	}
	attrs := []any{"path", t.path, "status", status, "bytes", n, "duration", time.Since(start).Round(time.Millisecond), "cache", cache}
	if err != nil {
		m.log.Warn("mirror fetch", append(attrs, "err", err)...)
	} else {
		m.log.Info("mirror fetch", attrs...)
	}
	return res
}

// store writes a 200 response's body to t's cache file, and to stream if
// not nil; streamed tells whether it did. The file appears only once
// complete: written under a temporary name in the same directory, synced,
// then renamed.
func (m *Mirror) store(t target, resp *http.Response, body io.Reader, stream http.ResponseWriter) (n int64, streamed bool, err error) {
	name := m.file(t)
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return 0, false, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), ".tmp-*")
	if err != nil {
		return 0, false, err
	}
	committed := false
	defer func() {
		if !committed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()

	var dst io.Writer = tmp
	if stream != nil {
		h := stream.Header()
		for _, k := range []string{"Content-Type", "Last-Modified"} {
			if v := resp.Header.Get(k); v != "" {
				h.Set(k, v)
			}
		}
		if resp.ContentLength >= 0 {
			h.Set("Content-Length", strconv.FormatInt(resp.ContentLength, 10))
		}
		stream.WriteHeader(http.StatusOK)
		dst = io.MultiWriter(tmp, &clientWriter{w: stream})
		streamed = true
	}
	n, err = io.Copy(dst, body)
	m.upstreamBytes.Add(n)
	if err != nil {
		return n, streamed, err
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return n, streamed, fmt.Errorf("got %d of %d bytes", n, resp.ContentLength)
	}
	// The file's mtime is the upstream's Last-Modified: it is served as
	// ours and sent back as If-Modified-Since when revalidating, and
	// setting it before the rename keeps file and validator together.
	mtime := time.Now()
	if lm, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		mtime = lm
	}
	if err := tmp.Chmod(0o644); err != nil {
		return n, streamed, err
	}
	if err := tmp.Sync(); err != nil {
		return n, streamed, err
	}
	if err := tmp.Close(); err != nil {
		return n, streamed, err
	}
	if err := os.Chtimes(tmp.Name(), mtime, mtime); err != nil {
		return n, streamed, err
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return n, streamed, err
	}
	committed = true
	return n, streamed, nil
}

// lock takes the lock file of key's stripe, so that processes sharing the
// cache directory fetch a file once: the second finds it stored when it
// gets the lock.
func (m *Mirror) lock(key string) (unlock func(), err error) {
	h := fnv.New32a()
	h.Write([]byte(key))
	name := filepath.Join(m.dir, lockDir, strconv.Itoa(int(h.Sum32()%lockStripes)))
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, err
	}
	return func() { f.Close() }, nil
}

// stallReader pushes back the fetch's stall deadline on every read.
type stallReader struct {
	r io.Reader
	t *time.Timer
}

func (s stallReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.t.Reset(stallTimeout)
	return n, err
}

// clientWriter passes a download on to the client that asked for it. A
// client that hangs up must not end the download others wait for, so its
// first error only stops the copying to it.
type clientWriter struct {
	w   io.Writer
	err error
}

func (c *clientWriter) Write(p []byte) (int, error) {
	if c.err == nil {
		_, c.err = c.w.Write(p)
	}
	return len(p), nil
}

// countingWriter counts the body bytes written to a client.
type countingWriter struct {
	http.ResponseWriter
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n.Add(int64(n))
	return n, err
}

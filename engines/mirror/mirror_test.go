package mirror

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2025, 5, 20, 8, 0, 0, 0, time.UTC)

// archive is an upstream Debian archive over real HTTP that counts the
// requests it gets. ServeContent answers If-Modified-Since with 304.
type archive struct {
	srv *httptest.Server

	mu          sync.Mutex
	files       map[string]archiveFile // by request path
	redirects   map[string]string      // request path -> Location
	gets        map[string]int         // requests, by path
	conditional int                    // requests with If-Modified-Since
	queries     int                    // requests that carried a query string
	fail        bool                   // answer 500 to everything
	gate        chan struct{}          // when not nil, answers wait for it to close
}

type archiveFile struct {
	body []byte
	mod  time.Time
}

func newArchive(t *testing.T) *archive {
	a := &archive{files: map[string]archiveFile{}, redirects: map[string]string{}, gets: map[string]int{}}
	a.srv = httptest.NewServer(a)
	t.Cleanup(a.srv.Close)
	return a
}

func (a *archive) put(p, body string, mod time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.files[p] = archiveFile{[]byte(body), mod}
}

func (a *archive) count(p string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.gets[p]
}

func (a *archive) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	a.gets[r.URL.Path]++
	if r.Header.Get("If-Modified-Since") != "" {
		a.conditional++
	}
	if r.URL.RawQuery != "" {
		a.queries++
	}
	f, ok := a.files[r.URL.Path]
	loc := a.redirects[r.URL.Path]
	fail, gate := a.fail, a.gate
	a.mu.Unlock()
	if gate != nil {
		<-gate
	}
	switch {
	case fail:
		http.Error(w, "boom", http.StatusInternalServerError)
	case loc != "":
		http.Redirect(w, r, loc, http.StatusFound)
	case !ok:
		http.NotFound(w, r)
	default:
		http.ServeContent(w, r, path.Base(r.URL.Path), f.mod, bytes.NewReader(f.body))
	}
}

// serve runs a Mirror of upstream's /debian over real HTTP.
func serve(t *testing.T, upstream, dir string, ttl time.Duration) (*Mirror, string) {
	t.Helper()
	m, err := New(Config{
		Upstreams: map[string]string{"/debian": upstream + "/debian"},
		CacheDir:  dir,
		IndexTTL:  ttl,
		Log:       slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return m, srv.URL
}

// get fetches u with the header lines given as "Key: value".
func get(t *testing.T, method, u string, header ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range header {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	return resp.StatusCode, string(body), resp.Header
}

func wantStats(t *testing.T, m *Mirror, want Stats) {
	t.Helper()
	got := m.Stats()
	got.ServedBytes, want.ServedBytes = 0, 0
	if got != want {
		t.Errorf("stats %+v, want %+v", got, want)
	}
}

const deb = "/debian/pool/main/h/hello/hello_2.10-3_amd64.deb"

func TestHitMiss(t *testing.T) {
	a := newArchive(t)
	body := strings.Repeat("!<arch>\n", 1000)
	a.put(deb, body, t0)
	dir := t.TempDir()
	m, base := serve(t, a.srv.URL, dir, 0)

	for range 2 {
		code, got, h := get(t, "GET", base+deb)
		if code != 200 || got != body {
			t.Fatalf("GET %d, %d bytes", code, len(got))
		}
		if lm := h.Get("Last-Modified"); lm != t0.Format(http.TimeFormat) {
			t.Errorf("Last-Modified %q", lm)
		}
	}
	code, got, h := get(t, "HEAD", base+deb)
	if code != 200 || got != "" || h.Get("Content-Length") != fmt.Sprint(len(body)) {
		t.Errorf("HEAD %d %q %v", code, got, h)
	}
	if n := a.count(deb); n != 1 {
		t.Errorf("upstream saw %d GETs, want 1", n)
	}
	wantStats(t, m, Stats{Hits: 2, Misses: 1, UpstreamBytes: int64(len(body))})
	if s := m.Stats(); s.ServedBytes != 2*int64(len(body)) {
		t.Errorf("served %d bytes, want %d", s.ServedBytes, 2*len(body))
	}
	host := strings.TrimPrefix(a.srv.URL, "http://")
	if _, err := os.Stat(filepath.Join(dir, host, deb)); err != nil {
		t.Error(err)
	}
}

func TestCoalesce(t *testing.T) {
	a := newArchive(t)
	body := strings.Repeat("x", 1<<20)
	a.put(deb, body, t0)
	a.gate = make(chan struct{})
	m, base := serve(t, a.srv.URL, t.TempDir(), 0)

	const n = 20
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if code, got, _ := get(t, "GET", base+deb); code != 200 || got != body {
				t.Errorf("GET %d, %d bytes", code, len(got))
			}
		})
	}
	time.Sleep(200 * time.Millisecond) // let them all arrive
	close(a.gate)
	wg.Wait()
	if c := a.count(deb); c != 1 {
		t.Errorf("upstream saw %d GETs, want 1", c)
	}
	wantStats(t, m, Stats{Hits: n - 1, Misses: 1, UpstreamBytes: int64(len(body))})
}

const inRelease = "/debian/dists/bookworm/InRelease"

func TestIndexRevalidation(t *testing.T) {
	a := newArchive(t)
	a.put(inRelease, "Suite: stable\n", t0)
	dir := t.TempDir()

	// Within the TTL the cached copy is served without asking upstream.
	m, base := serve(t, a.srv.URL, dir, time.Hour)
	for range 2 {
		if code, got, _ := get(t, "GET", base+inRelease); code != 200 || got != "Suite: stable\n" {
			t.Fatalf("GET %d %q", code, got)
		}
	}
	if c := a.count(inRelease); c != 1 {
		t.Fatalf("upstream saw %d GETs, want 1", c)
	}

	// Past the TTL it is revalidated: a 304 keeps the cached copy.
	m, base = serve(t, a.srv.URL, dir, time.Nanosecond)
	if code, got, _ := get(t, "GET", base+inRelease); code != 200 || got != "Suite: stable\n" {
		t.Fatalf("GET %d %q", code, got)
	}
	if a.count(inRelease) != 2 || a.conditional != 1 {
		t.Fatalf("upstream saw %d GETs, %d conditional; want 2, 1", a.count(inRelease), a.conditional)
	}
	wantStats(t, m, Stats{Hits: 1})

	// A new Release replaces it.
	a.put(inRelease, "Suite: stable\nDate: later\n", t0.Add(time.Hour))
	if code, got, _ := get(t, "GET", base+inRelease); code != 200 || got != "Suite: stable\nDate: later\n" {
		t.Fatalf("GET %d %q", code, got)
	}
	wantStats(t, m, Stats{Hits: 1, Misses: 1, UpstreamBytes: 26})

	// apt's own If-Modified-Since is answered from the cache.
	if code, _, _ := get(t, "GET", base+inRelease, "If-Modified-Since: "+t0.Add(time.Hour).Format(http.TimeFormat)); code != 304 {
		t.Errorf("conditional GET %d, want 304", code)
	}
}

func TestStaleOnError(t *testing.T) {
	a := newArchive(t)
	a.put(inRelease, "Suite: stable\n", t0)
	m, base := serve(t, a.srv.URL, t.TempDir(), time.Nanosecond)
	get(t, "GET", base+inRelease)

	a.mu.Lock()
	a.fail = true
	a.mu.Unlock()
	if code, got, _ := get(t, "GET", base+inRelease); code != 200 || got != "Suite: stable\n" {
		t.Errorf("5xx upstream: GET %d %q, want the stale copy", code, got)
	}
	// Nothing to fall back on: 502 with a one-line body.
	code, got, _ := get(t, "GET", base+"/debian/dists/bookworm/Release")
	if code != http.StatusBadGateway || strings.Count(got, "\n") != 1 {
		t.Errorf("GET %d %q, want 502 and one line", code, got)
	}

	a.srv.Close()
	if code, got, _ := get(t, "GET", base+inRelease); code != 200 || got != "Suite: stable\n" {
		t.Errorf("unreachable upstream: GET %d %q, want the stale copy", code, got)
	}
	if code, _, _ := get(t, "GET", base+deb); code != http.StatusBadGateway {
		t.Errorf("GET of an uncached file from an unreachable upstream: %d, want 502", code)
	}
	wantStats(t, m, Stats{Misses: 1, Stale: 2, Errors: 2, UpstreamBytes: 14})
}

func TestRange(t *testing.T) {
	a := newArchive(t)
	body := "0123456789abcdefghij"
	a.put(deb, body, t0)
	a.put("/debian/pool/main/o/other.deb", body, t0)
	m, base := serve(t, a.srv.URL, t.TempDir(), 0)
	get(t, "GET", base+deb)

	code, got, h := get(t, "GET", base+deb, "Range: bytes=5-9")
	if code != http.StatusPartialContent || got != "56789" || h.Get("Content-Range") != "bytes 5-9/20" {
		t.Errorf("cached: %d %q %q", code, got, h.Get("Content-Range"))
	}
	// A Range on a file not cached yet fetches it whole, then answers the range.
	code, got, _ = get(t, "GET", base+"/debian/pool/main/o/other.deb", "Range: bytes=10-")
	if code != http.StatusPartialContent || got != "abcdefghij" {
		t.Errorf("uncached: %d %q", code, got)
	}
	if a.count(deb) != 1 || a.count("/debian/pool/main/o/other.deb") != 1 {
		t.Error("a range went upstream")
	}
	wantStats(t, m, Stats{Hits: 1, Misses: 2, UpstreamBytes: 40})
}

func TestNotFound(t *testing.T) {
	a := newArchive(t)
	a.redirects["/debian/dists/bookworm"] = "/debian/dists/bookworm/"
	a.put("/debian/dists/bookworm/", "<html>listing</html>", t0)
	dir := t.TempDir()
	m, base := serve(t, a.srv.URL, dir, 0)

	const missing = "/debian/pool/main/n/nope/nope_1_all.deb"
	for range 2 {
		if code, _, _ := get(t, "GET", base+missing); code != 404 {
			t.Errorf("GET %d, want 404", code)
		}
	}
	if c := a.count(missing); c != 2 {
		t.Errorf("upstream saw %d GETs, want 2: a 404 is not cached", c)
	}
	// A redirect to a directory listing is not an archive file.
	if code, _, _ := get(t, "GET", base+"/debian/dists/bookworm"); code != 404 {
		t.Errorf("directory: %d, want 404", code)
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(filepath.Dir(p)) != lockDir {
			t.Errorf("cached %s", p)
		}
		return nil
	})
	wantStats(t, m, Stats{})
}

func TestRedirect(t *testing.T) {
	a := newArchive(t)
	a.redirects[deb] = "/elsewhere/hello.deb"
	a.put("/elsewhere/hello.deb", "moved", t0)
	m, base := serve(t, a.srv.URL, t.TempDir(), 0)
	for range 2 {
		if code, got, _ := get(t, "GET", base+deb); code != 200 || got != "moved" {
			t.Errorf("GET %d %q", code, got)
		}
	}
	wantStats(t, m, Stats{Hits: 1, Misses: 1, UpstreamBytes: 5})
}

// TestTruncated checks that a download cut short is never cached: the
// upstream declares more bytes than it sends.
func TestTruncated(t *testing.T) {
	var gets int
	var mu sync.Mutex
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		gets++
		mu.Unlock()
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, "only ten b")
	}))
	defer up.Close()
	dir := t.TempDir()
	m, base := serve(t, up.URL, dir, 0)

	for range 2 {
		resp, err := http.Get(base + deb)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadAll(resp.Body); err == nil {
			t.Error("the client got a whole body")
		}
		resp.Body.Close()
		// With Range the mirror fetches first and then answers: 502.
		if code, _, _ := get(t, "GET", base+deb, "Range: bytes=0-"); code != http.StatusBadGateway {
			t.Errorf("GET with Range %d, want 502", code)
		}
	}
	if gets != 4 {
		t.Errorf("upstream saw %d GETs, want 4", gets)
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && filepath.Base(filepath.Dir(p)) != lockDir {
			t.Errorf("left %s", p)
		}
		return nil
	})
	wantStats(t, m, Stats{Errors: 4, UpstreamBytes: 40})
}

// TestSharedCacheDir runs two Mirrors on one cache directory, as parallel
// test processes do: each file is fetched from upstream once.
func TestSharedCacheDir(t *testing.T) {
	a := newArchive(t)
	var paths []string
	for i := range 10 {
		p := fmt.Sprintf("/debian/pool/main/p/pkg%d/pkg%d_1_amd64.deb", i, i)
		a.put(p, strings.Repeat(fmt.Sprint(i), 100_000), t0)
		paths = append(paths, p)
	}
	a.gate = make(chan struct{})
	dir := t.TempDir()
	m1, base1 := serve(t, a.srv.URL, dir, 0)
	m2, base2 := serve(t, a.srv.URL, dir, 0)

	var wg sync.WaitGroup
	for i, p := range paths {
		for j := range 6 {
			base := base1
			if j%2 == 1 {
				base = base2
			}
			wg.Go(func() {
				if code, got, _ := get(t, "GET", base+p); code != 200 || got != strings.Repeat(fmt.Sprint(i), 100_000) {
					t.Errorf("GET %s: %d, %d bytes", p, code, len(got))
				}
			})
		}
	}
	time.Sleep(200 * time.Millisecond)
	close(a.gate)
	wg.Wait()
	for _, p := range paths {
		if c := a.count(p); c != 1 {
			t.Errorf("%s: upstream saw %d GETs, want 1", p, c)
		}
	}
	s1, s2 := m1.Stats(), m2.Stats()
	if s1.Misses+s2.Misses != 10 || s1.Hits+s2.Hits != 50 || s1.Errors+s2.Errors != 0 {
		t.Errorf("stats %+v and %+v", s1, s2)
	}
}

func TestBadRequests(t *testing.T) {
	a := newArchive(t)
	a.put(deb, "deb", t0)
	m, err := New(Config{Upstreams: map[string]string{"/debian": a.srv.URL + "/debian"}, CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		method, path string
		want         int
	}{
		{"POST", deb, 405},
		{"PUT", deb, 405},
		{"GET", "/debian/../etc/passwd", 400},
		{"GET", "/debian/pool/../../x", 400},
		{"GET", "/debian/pool/a\x00b.deb", 400},
		{"GET", "debian/pool/x.deb", 400},
		{"GET", "/", 404},
		{"GET", "/debian", 404},
		{"GET", "/debian/", 404},
		{"GET", "/debian/pool/", 404},
		{"GET", "/debian-security/dists/bookworm-security/InRelease", 404},
		{"GET", "/ubuntu/pool/x.deb", 404},
		{"GET", "/debian/.lock/1", 404},
		{"GET", "/debian/pool/.tmp-123", 404},
		{"GET", "//debian/./pool/main/h/hello//hello_2.10-3_amd64.deb", 200},
	} {
		w := httptest.NewRecorder()
		m.ServeHTTP(w, &http.Request{Method: c.method, URL: &url.URL{Path: c.path}, Header: http.Header{}})
		if w.Code != c.want {
			t.Errorf("%s %q: %d, want %d", c.method, c.path, w.Code, c.want)
		}
		if w.Code == 405 && w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: Allow %q", c.method, w.Header().Get("Allow"))
		}
	}

	// The query string is not passed upstream.
	srv := httptest.NewServer(m)
	defer srv.Close()
	if code, got, _ := get(t, "GET", srv.URL+deb+"?x=1"); code != 200 || got != "deb" || a.queries != 0 {
		t.Errorf("GET with a query: %d %q, %d upstream queries", code, got, a.queries)
	}
}

func TestNewErrors(t *testing.T) {
	for _, cfg := range []Config{
		{Upstreams: map[string]string{"/debian": "http://deb.debian.org/debian"}},
		{CacheDir: t.TempDir()},
		{CacheDir: t.TempDir(), Upstreams: map[string]string{"/debian": "ftp://deb.debian.org/debian"}},
		{CacheDir: t.TempDir(), Upstreams: map[string]string{"/debian": "http://../debian"}},
		{CacheDir: t.TempDir(), Upstreams: map[string]string{"/debian": "http://a/debian", "/debian/": "http://b/debian"}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) did not fail", cfg)
		}
	}
}

// FuzzPath checks that no request path panics, escapes the cache
// directory or reaches outside its upstream.
func FuzzPath(f *testing.F) {
	for _, s := range []string{
		deb, inRelease, "/debian/../x", "/debian/%2e%2e/x", "//debian", "/debian/./pool//a",
		"/debian-security/dists/x/by-hash/SHA256/ab", "/debian/pool/a\x00", "/", "", "..", "/debian/.lock",
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	m, err := New(Config{
		Upstreams: map[string]string{
			"/debian":          "http://deb.example/debian",
			"/debian-security": "http://deb.example/debian-security/",
			"/":                "https://root.example",
		},
		CacheDir: dir,
	})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p string) {
		tg, status := m.resolve(p)
		if status != 0 {
			return
		}
		rel, err := filepath.Rel(dir, m.file(tg))
		if err != nil || rel == "." || strings.HasPrefix(rel, "..") || strings.HasPrefix(rel, lockDir) {
			t.Fatalf("%q: cache file %q outside %q", p, m.file(tg), dir)
		}
		u, err := url.Parse(tg.url)
		if err != nil {
			t.Fatalf("%q: upstream URL %q: %v", p, tg.url, err)
		}
		ok := false
		for _, up := range m.upstreams {
			if u.Host == up.base.Host && strings.HasPrefix(u.Path, up.base.Path+"/") && len(u.Path) > len(up.base.Path)+1 {
				ok = true
			}
		}
		if !ok || strings.Contains(u.Path, "/../") || strings.Contains(u.Path, "/./") {
			t.Fatalf("%q: upstream URL %q", p, tg.url)
		}
	})
}

// TestRealDebian fetches the host's real InRelease through the mirror.
func TestRealDebian(t *testing.T) {
	if testing.Short() {
		t.Skip("network test")
	}
	ups, err := HostUpstreams("/")
	if err != nil {
		t.Fatal(err)
	}
	up, ok := ups["/debian"]
	if !ok {
		t.Skip("the host's apt sources name no /debian archive")
	}
	u, _ := url.Parse(up)
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(u.Hostname(), port), 5*time.Second)
	if err != nil {
		t.Skipf("upstream unreachable: %v", err)
	}
	conn.Close()

	m, err := New(Config{Upstreams: ups, CacheDir: t.TempDir(), Log: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m)
	defer srv.Close()
	for range 2 {
		code, body, _ := get(t, "GET", srv.URL+"/debian/dists/bookworm/InRelease")
		if code != 200 || !strings.HasPrefix(body, "-----BEGIN PGP SIGNED MESSAGE-----") || !strings.Contains(body, "\nCodename: bookworm\n") {
			t.Fatalf("GET %d, %d bytes: %.200q", code, len(body), body)
		}
	}
	if s := m.Stats(); s.Misses != 1 || s.Hits != 1 {
		t.Errorf("stats %+v", s)
	}
}

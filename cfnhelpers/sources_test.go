package cfnhelpers

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func tgz(t *testing.T, files map[string]string) []byte {
	var buf bytes.Buffer
	z := gzip.NewWriter(&buf)
	tw := tar.NewWriter(z)
	for name, content := range files {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o755, Size: int64(len(content)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(content))
	}
	tw.Close()
	z.Close()
	return buf.Bytes()
}

func zipped(t *testing.T, files map[string]string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, content := range files {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		w.Write([]byte(content))
	}
	zw.Close()
	return buf.Bytes()
}

func TestSources(t *testing.T) {
	archives := map[string][]byte{
		"/app.tar.gz": tgz(t, map[string]string{"bin/run": "#!/bin/sh\n", "README": "app"}),
		"/site.zip":   zipped(t, map[string]string{"index.html": "<h1>hi</h1>"}),
		"/evil.tgz":   tgz(t, map[string]string{"../../escape": "x"}),
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, ok := archives[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	defer srv.Close()
	dir := t.TempDir()
	a, log := testApplier(t)
	err := a.sources(map[string]any{
		dir + "/app":  srv.URL + "/app.tar.gz",
		dir + "/www":  srv.URL + "/site.zip",
		dir + "/gone": "http://127.0.0.1:1/unreachable.tgz",
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "app/README")); string(b) != "app" {
		t.Errorf("app/README %q", b)
	}
	if st, err := os.Stat(filepath.Join(dir, "app/bin/run")); err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("app/bin/run %v %v", st, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "www/index.html")); string(b) != "<h1>hi</h1>" {
		t.Errorf("www/index.html %q", b)
	}
	if !strings.Contains(log.String(), "WARNING Skipping source "+dir+"/gone") {
		t.Errorf("an unreachable source was not skipped with a warning:\n%s", log)
	}
	if err := a.sources(map[string]any{dir + "/x": srv.URL + "/missing.tgz"}); err == nil || !strings.Contains(err.Error(), "HTTP Error 404") {
		t.Errorf("a 404: %v", err)
	}
	if err := a.sources(map[string]any{dir + "/evil": srv.URL + "/evil.tgz"}); err == nil || !strings.Contains(err.Error(), "leaves") {
		t.Errorf("an entry leaving the directory: %v", err)
	}
}

package daemon_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cloudbox/cloudbox/daemon"
)

// The daemon's mutations need the token its data directory holds, readable
// by its owner only; reads do not.
func TestAdminToken(t *testing.T) {
	dir := t.TempDir()
	d, err := daemon.New(daemon.Config{DataDir: dir, Dataplane: "off"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, daemon.AdminTokenFile)
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("token file mode %v, want 0600", st.Mode().Perm())
	}
	b, _ := os.ReadFile(path)
	token := strings.TrimSpace(string(b))

	srv := httptest.NewServer(d.Handler())
	defer srv.Close()
	post := func(path, tok string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, nil)
		if tok != "" {
			req.Header.Set(daemon.AdminTokenHeader, tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, tok := range []string{"", "not-the-token", token + "x"} {
		for _, p := range []string{"/_cloudbox/reset", "/_cloudbox/down"} {
			if r := post(p, tok); r.StatusCode != http.StatusForbidden {
				t.Errorf("POST %s with token %q: %s, want 403", p, tok, r.Status)
			}
		}
	}
	if r := post("/_cloudbox/reset", token); r.StatusCode != http.StatusOK {
		t.Errorf("POST /_cloudbox/reset with the token: %s", r.Status)
	}
	resp, err := http.Get(srv.URL + "/_cloudbox/info")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET info: %s", resp.Status)
	}
	d.Close()

	// A restarted daemon keeps its token: a shell that read it goes on.
	d2, err := daemon.New(daemon.Config{DataDir: dir, Dataplane: "off"})
	if err != nil {
		t.Fatal(err)
	}
	defer d2.Close()
	if b2, _ := os.ReadFile(path); strings.TrimSpace(string(b2)) != token {
		t.Errorf("token changed across restarts")
	}
}

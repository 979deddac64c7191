package daemon_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

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

// Under --auth strict an admin request also needs a SigV4 signature by an
// account root's key; an IAM user's key, a wrong secret or no signature
// is refused even with the token.
func TestAdminSignatureStrict(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(t.TempDir(), "keys.json")
	os.WriteFile(keys, []byte(`[{"access_key_id":"AKIAROOT","secret_access_key":"root-secret","account":"111111111111"},
{"access_key_id":"AKIAALICE","secret_access_key":"alice-secret","account":"111111111111","user":"alice"}]`), 0o600)
	d, err := daemon.New(daemon.Config{DataDir: dir, Dataplane: "off", Auth: "strict", KeysFile: keys})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	b, _ := os.ReadFile(filepath.Join(dir, daemon.AdminTokenFile))
	token := strings.TrimSpace(string(b))
	srv := httptest.NewServer(d.Handler())
	defer srv.Close()
	reset := func(id, secret string) int {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/_cloudbox/reset", nil)
		req.Header.Set(daemon.AdminTokenHeader, token)
		if id != "" {
			const empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
			if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: id, SecretAccessKey: secret},
				req, empty, "cloudbox", "us-east-1", time.Now()); err != nil {
				t.Fatal(err)
			}
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, c := range [][2]string{{"", ""}, {"AKIAALICE", "alice-secret"}, {"AKIAROOT", "wrong"}, {"AKIANOBODY", "x"}} {
		if code := reset(c[0], c[1]); code != http.StatusForbidden {
			t.Errorf("reset signed by %q: %d, want 403", c[0], code)
		}
	}
	if code := reset("AKIAROOT", "root-secret"); code != http.StatusOK {
		t.Errorf("reset signed by the root key: %d", code)
	}
}

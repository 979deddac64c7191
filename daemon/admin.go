package daemon

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/server"
	"github.com/cloudbox/cloudbox/sigv4"
)

// AdminTokenFile is the name, in a daemon's data directory, of the token
// its /_cloudbox/ mutations require. It is readable by its owner only: a
// process that can read it may wipe the world, the way one that can write
// the store could.
const AdminTokenFile = "admin-token"

// AdminTokenHeader carries the token on a request.
const AdminTokenHeader = "X-Cloudbox-Admin-Token"

// openAdminToken reads the data directory's token, or makes one. A
// persistent daemon keeps its token across restarts, so that a shell
// that read it goes on working.
func openAdminToken(dir string) (string, error) {
	path := filepath.Join(dir, AdminTokenFile)
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		// Tighten a token file someone loosened: the token is the key.
		if err := os.Chmod(path, 0o600); err != nil {
			return "", err
		}
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	token := hex.EncodeToString(raw)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(token+"\n"), 0o600); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", err
	}
	return token, nil
}

// admin guards a mutation of the daemon (reset, down): the caller shows
// the data directory's token. Without it the answer says which data
// directory the daemon serves, so that a command aimed at the wrong daemon
// learns why it was refused.
func (d *Daemon) admin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get(AdminTokenHeader)
		if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(d.adminToken)) != 1 {
			d.cfg.Logger.Warn("admin request refused: no or wrong admin token", "path", r.URL.Path, "remote", r.RemoteAddr)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			json.NewEncoder(w).Encode(map[string]string{
				"error":    "AdminTokenRequired",
				"message":  fmt.Sprintf("this cloudbox daemon serves the data directory %s; %s needs the admin token in %s (the cloudbox commands read it with --data-dir %s)", d.filesDir, r.URL.Path, filepath.Join(d.filesDir, AdminTokenFile), d.filesDir),
				"data_dir": d.filesDir,
			})
			return
		}
		if d.cfg.Auth == server.AuthStrict {
			if err := d.adminSignature(r); err != nil {
				d.cfg.Logger.Warn("admin request refused: no admin signature", "path", r.URL.Path, "remote", r.RemoteAddr, "error", err)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusForbidden)
				json.NewEncoder(w).Encode(map[string]string{
					"error":   "AdminSignatureRequired",
					"message": fmt.Sprintf("this daemon runs with --auth strict: %s also needs a SigV4 signature by an account root's access key (the cloudbox commands sign with AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY): %v", r.URL.Path, err),
				})
				return
			}
		}
		h(w, r)
	}
}

// adminSignature checks, under --auth strict, who asks: the token proves
// access to the data directory, the signature (SigV4, any service name)
// that the caller holds the key of an account's root user, as the keys
// file or the defaults configure it. IAM users' and STS sessions' keys are
// refused: a user allowed only some actions must not wipe the world.
func (d *Daemon) adminSignature(r *http.Request) error {
	signed, err := sigv4.Parse(r)
	if err != nil {
		return err
	}
	if signed == nil {
		return errors.New("the request is not signed")
	}
	cred, ok, err := d.ids.Lookup(signed.Scope.AccessKeyID)
	if err != nil {
		return err
	}
	if !ok || cred.SessionToken != signed.SecurityToken {
		return fmt.Errorf("the access key %s is not known", signed.Scope.AccessKeyID)
	}
	if cred.Principal.Session != nil || !strings.HasSuffix(cred.Principal.ARN, ":root") {
		return fmt.Errorf("the access key %s is %s's, not an account root's", signed.Scope.AccessKeyID, cred.Principal.ARN)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return err
	}
	_, err = sigv4.Verify(r, body, signed, cred.Secret, time.Now())
	return err
}

package daemon

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
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
		h(w, r)
	}
}

package mirror

import (
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// HostUpstreams reads the apt sources under root ("/" for the host's own):
// etc/apt/sources.list, and the one-line *.list and deb822 *.sources files
// of etc/apt/sources.list.d, in the order apt reads them. It returns
// Upstreams for the Debian archives they name, keyed by each URI's path
// ("/debian", "/debian-security"), so that instances fetch from the mirror
// the host uses. When two URIs have the same path the first wins.
//
// A source counts as a Debian archive if its host is under debian.org or
// it is signed by a debian-archive keyring; a vendor's repository is left
// out, as instances asking deb.debian.org must get Debian's packages.
func HostUpstreams(root string) (map[string]string, error) {
	dir := filepath.Join(root, "etc", "apt")
	parts, err := filepath.Glob(filepath.Join(dir, "sources.list.d", "*.list"))
	if err != nil {
		return nil, err
	}
	deb822, err := filepath.Glob(filepath.Join(dir, "sources.list.d", "*.sources"))
	if err != nil {
		return nil, err
	}
	parts = append(parts, deb822...)
	slices.Sort(parts)

	ups := map[string]string{}
	for _, name := range append([]string{filepath.Join(dir, "sources.list")}, parts...) {
		data, err := os.ReadFile(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		parse := parseOneLine
		if strings.HasSuffix(name, ".sources") {
			parse = parseDeb822
		}
		for _, s := range parse(string(data)) {
			u, err := url.Parse(s.uri)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				continue // cdrom:, file:, mirror+http: and the like
			}
			host := u.Hostname()
			if host != "debian.org" && !strings.HasSuffix(host, ".debian.org") && !strings.Contains(s.signedBy, "debian-archive") {
				continue
			}
			prefix := path.Clean("/" + u.Path)
			if _, ok := ups[prefix]; !ok {
				ups[prefix] = strings.TrimSuffix(s.uri, "/")
			}
		}
	}
	return ups, nil
}

// source is one archive named by an apt sources file.
type source struct {
	uri      string
	signedBy string
}

// parseOneLine reads the one-line format:
// "deb [opt=value ...] uri suite [component ...]", and deb-src lines.
func parseOneLine(data string) []source {
	var out []source
	for line := range strings.Lines(data) {
		line, _, _ = strings.Cut(line, "#")
		f := strings.Fields(line)
		if len(f) < 3 || (f[0] != "deb" && f[0] != "deb-src") {
			continue
		}
		f = f[1:]
		var s source
		if strings.HasPrefix(f[0], "[") {
			// Options run to the field ending in "]"; "[ a=b ]" and
			// "[a=b c=d]" are both written.
			end := slices.IndexFunc(f, func(x string) bool { return strings.HasSuffix(x, "]") })
			if end < 0 || end+1 >= len(f) {
				continue
			}
			opts := strings.Trim(strings.Join(f[:end+1], " "), "[]")
			for _, o := range strings.Fields(opts) {
				if v, ok := strings.CutPrefix(o, "signed-by="); ok {
					s.signedBy = v
				}
			}
			f = f[end+1:]
		}
		s.uri = f[0]
		out = append(out, s)
	}
	return out
}

// parseDeb822 reads the deb822 format: stanzas of "Field: value" lines
// separated by blank lines, a value continued on lines that start with
// white space, and "#" lines as comments.
func parseDeb822(data string) []source {
	var out []source
	fields := map[string]string{}
	last := ""
	flush := func() {
		types := strings.Fields(fields["types"])
		off := slices.Contains([]string{"no", "false", "off", "0"}, strings.ToLower(fields["enabled"]))
		if !off && (slices.Contains(types, "deb") || slices.Contains(types, "deb-src")) {
			for _, uri := range strings.Fields(fields["uris"]) {
				out = append(out, source{uri: uri, signedBy: fields["signed-by"]})
			}
		}
		clear(fields)
		last = ""
	}
	for line := range strings.Lines(data) {
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "#"):
		case strings.TrimSpace(line) == "":
			flush()
		case line[0] == ' ' || line[0] == '\t':
			if last != "" {
				fields[last] += "\n" + strings.TrimSpace(line)
			}
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			last = strings.ToLower(strings.TrimSpace(k))
			fields[last] = strings.TrimSpace(v)
		}
	}
	flush()
	return out
}

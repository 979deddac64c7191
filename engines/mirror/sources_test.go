package mirror

import (
	"maps"
	"testing"
)

func TestHostUpstreams(t *testing.T) {
	for _, c := range []struct {
		root string
		want map[string]string
	}{
		{"testdata/deb822", map[string]string{
			"/debian":          "http://deb.debian.org/debian",
			"/debian-security": "http://deb.debian.org/debian-security",
			"/debian-ports":    "http://mirror.example.net/debian-ports",
		}},
		{"testdata/oneline", map[string]string{
			"/debian":          "http://ftp.de.debian.org/debian",
			"/debian-security": "http://mirror.example.net/debian-security",
			"/debian-archive":  "http://archive.debian.org/debian-archive",
		}},
		{"testdata/none", map[string]string{}},
	} {
		got, err := HostUpstreams(c.root)
		if err != nil {
			t.Fatal(err)
		}
		if !maps.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.root, got, c.want)
		}
		// What it returns is a valid Config.
		if len(got) > 0 {
			if _, err := New(Config{Upstreams: got, CacheDir: t.TempDir()}); err != nil {
				t.Errorf("%s: %v", c.root, err)
			}
		}
	}
}

package cloudinit

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// show prints a loaded YAML value, mappings in their key order.
func show(v any) string {
	switch v := v.(type) {
	case *omap:
		var parts []string
		for _, k := range v.keys {
			parts = append(parts, k+": "+show(v.vals[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		var parts []string
		for _, x := range v {
			parts = append(parts, show(x))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case string:
		return fmt.Sprintf("%q", v)
	}
	s, _ := scalarString(v)
	return s
}

// TestLoadYAML checks where loadYAML reads YAML as PyYAML does rather than
// as yaml.v3 would.
func TestLoadYAML(t *testing.T) {
	tests := []struct{ in, want string }{
		{"b: 1\na: 2\nb: 3", "{b: 3, a: 2}"},
		{"a: yes\nb: No\nc: ON\nd: off\ne: 'yes'\nf: y", `{a: True, b: False, c: True, d: False, e: "yes", f: "y"}`},
		{"p: 0644\nq: 0o644\nr: 644", "{p: 420, q: 420, r: 644}"},
		{"base: &b {x: 1, y: 2}\nm: {<<: *b, y: 3}", "{base: {x: 1, y: 2}, m: {x: 1, y: 3}}"},
		{"a: &a {k: a}\nb: &b {k: b, j: b}\nm: {<<: [*a, *b]}", "{a: {k: \"a\"}, b: {k: \"b\", j: \"b\"}, m: {k: \"a\", j: \"b\"}}"},
		{"1: a\n~: b\ntrue: c", `{1: "a", None: "b", True: "c"}`},
		{"d: 2024-01-02\nf: 1.10\nbin: !!binary aGk=", `{d: 2024-01-02, f: 1.1, bin: "hi"}`},
		{"", ""},
	}
	for _, tt := range tests {
		v, err := loadYAML([]byte(tt.in))
		if err != nil {
			t.Errorf("%q: %v", tt.in, err)
			continue
		}
		if got := show(v); got != tt.want {
			t.Errorf("%q: %s, want %s", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"[a]: b", "a: [", "m: {<<: 1}"} {
		if v, err := loadYAML([]byte(bad)); err == nil {
			t.Errorf("%q: loaded %s", bad, show(v))
		}
	}
}

// TestYAMLInModules follows PyYAML's readings through to the scripts.
func TestYAMLInModules(t *testing.T) {
	p := render(t, "#cloud-config\nruncmd: [a]\nruncmd: [b]\npackage_update: yes\npackages: [[pkg, 2024-01-02]]\n", Options{PackageManager: "yum"})
	if got := string(script(p, "runcmd")); got != "#!/bin/sh\nb\n" {
		t.Errorf("runcmd %q", got)
	}
	if got := string(script(p, "cloud-config:modules")); !strings.Contains(got, "pkg makecache\npkg install 'pkg-2024-01-02'\n") {
		t.Errorf("modules:\n%s", got)
	}
	// PyYAML reads a plain yes as true, which runcmd cannot run.
	p = render(t, "#cloud-config\nruncmd: [yes]\n", Options{})
	want := []string{"runcmd: Unable to shellify type 'bool'. Expected list, string, tuple. Got: true"}
	if len(p.Scripts) != 0 || !slices.Equal(p.Warnings, want) {
		t.Errorf("scripts %q, warnings %q", scriptNames(p), p.Warnings)
	}
}

// TestQuote checks that q round-trips through the shell.
func TestQuote(t *testing.T) {
	for _, s := range []string{"", "'", "''", "a'b", "$(touch x)", "`x`", "\\", "\\'", "\n", "a\nb'\n", "!", "-n", " spaced ", "é\x01\x7f\xff", "*", "~", "$HOME", "%s"} {
		out, err := exec.Command("sh", "-c", "printf '%s' "+q(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("q(%q) printed %q, %v", s, out, err)
		}
	}
}

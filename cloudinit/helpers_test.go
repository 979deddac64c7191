package cloudinit

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// render renders user data, checks the plan's invariants and that every
// script parses (sh -n, or bash -n for bash scripts), and returns it.
func render(t *testing.T, userData string, opt Options) Plan {
	t.Helper()
	p, err := Render([]byte(userData), opt)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	if msg := checkInvariants(p); msg != "" {
		t.Fatal(msg)
	}
	for _, s := range p.Scripts {
		shell := "sh"
		if first, _, _ := strings.Cut(string(s.Content), "\n"); strings.HasSuffix(first, "bash") {
			shell = "bash"
		}
		cmd := exec.Command(shell, "-n")
		cmd.Stdin = bytes.NewReader(s.Content)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s -n %s: %v\n%s\n--- script:\n%s", shell, s.Name, err, out, s.Content)
		}
	}
	return p
}

// checkInvariants is what every plan must satisfy, whatever the input:
// "" if it does.
func checkInvariants(p Plan) string {
	seen := map[string]bool{}
	for _, s := range p.Scripts {
		switch {
		case !bytes.HasPrefix(s.Content, []byte("#!")):
			return "script " + s.Name + " does not start with #!"
		case s.Name == "" || strings.ContainsAny(s.Name, "/\x00"):
			return "bad script name " + s.Name
		case seen[s.Name]:
			return "two scripts named " + s.Name
		}
		seen[s.Name] = true
	}
	return ""
}

// run runs a script with sh in dir, with env added, and returns its
// output.
func run(t *testing.T, script []byte, dir string, env ...string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "script")
	if err := os.WriteFile(f, script, 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("sh", f)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("running script: %v\n%s\n--- script:\n%s", err, out, script)
	}
	return string(out)
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	if _, err := w.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// scriptNames lists a plan's script names in order.
func scriptNames(p Plan) []string {
	var names []string
	for _, s := range p.Scripts {
		names = append(names, s.Name)
	}
	return names
}

func script(p Plan, name string) []byte {
	for _, s := range p.Scripts {
		if s.Name == name {
			return s.Content
		}
	}
	return nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

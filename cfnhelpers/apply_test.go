package cfnhelpers

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testApplier(t *testing.T) (*applier, *bytes.Buffer) {
	var log bytes.Buffer
	return &applier{ctx: context.Background(), cmds: io.Discard, http: http.DefaultClient,
		log: func(level, f string, x ...any) { fmt.Fprintf(&log, level+" "+f+"\n", x...) }}, &log
}

// A config's sections run in cfn-init's order whatever the template's,
// and commands in the order of their names.
func TestApplyOrder(t *testing.T) {
	dir := t.TempDir()
	trace := filepath.Join(dir, "trace")
	cfg := fmt.Sprintf(`{
		"commands": {
			"10_second": {"command": "echo second >> %[1]s"},
			"02_first": {"command": ["/bin/sh", "-c", "echo first >> %[1]s"]},
			"20_reads_file": {"command": "cat %[2]s/conf >> %[1]s"},
			"30_skipped": {"command": "echo skipped >> %[1]s", "test": "test -e %[2]s/nothing"},
			"40_env": {"command": "echo \"$GREETING\" >> %[1]s; pwd >> %[1]s", "env": {"GREETING": "hello"}, "cwd": "%[2]s"},
			"50_fails": {"command": "exit 3", "ignoreErrors": "true"}
		},
		"files": {
			"%[2]s/conf": {"content": "from the file\n", "mode": "000600"},
			"%[2]s/app/settings.json": {"content": {"port": 8080}},
			"%[2]s/link": {"content": "%[2]s/conf", "mode": "120644"},
			"%[2]s/greeting": {"content": "hello {{name}} in {{{where.region}}}", "context": {"name": "web", "where": {"region": "eu-west-1"}}},
			"%[2]s/b64": {"content": "aGk=", "encoding": "base64"}
		}
	}`, trace, dir)
	var m map[string]any
	if err := json.Unmarshal([]byte(cfg), &m); err != nil {
		t.Fatal(err)
	}
	a, log := testApplier(t)
	if err := a.apply(configStep{name: "config", cfg: m}); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	b, _ := os.ReadFile(trace)
	if want := "first\nsecond\nfrom the file\nhello\n" + dir + "\n"; string(b) != want {
		t.Errorf("trace %q, want %q", b, want)
	}
	st, err := os.Stat(filepath.Join(dir, "conf"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("conf: %v %v", st, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "app/settings.json")); !strings.Contains(string(b), `"port": 8080`) {
		t.Errorf("settings.json %q", b)
	}
	if l, err := os.Readlink(filepath.Join(dir, "link")); err != nil || l != filepath.Join(dir, "conf") {
		t.Errorf("link %q %v", l, err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "greeting")); string(b) != "hello web in eu-west-1" {
		t.Errorf("greeting %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "b64")); string(b) != "hi" {
		t.Errorf("b64 %q", b)
	}
	if !strings.Contains(log.String(), "Test failed with code 1: skipping command 30_skipped") || !strings.Contains(log.String(), "Command 50_fails failed") {
		t.Errorf("log:\n%s", log)
	}

	// A second run keeps the file it replaces as .bak; a failing command
	// fails the config and stops it.
	m["commands"] = map[string]any{"01_fails": map[string]any{"command": "false"}, "02_never": map[string]any{"command": "echo never >> " + trace}}
	err = a.apply(configStep{name: "config", cfg: m})
	if err == nil || err.Error() != "Command 01_fails failed" {
		t.Errorf("failing command: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "conf.bak")); err != nil {
		t.Errorf("no backup: %v", err)
	}
	if b, _ := os.ReadFile(trace); strings.Contains(string(b), "never") {
		t.Error("a command after the failure ran")
	}
}

func TestApplyRefuses(t *testing.T) {
	a, _ := testApplier(t)
	for _, c := range []struct{ cfg, err string }{
		{`{"packages": {"chocolatey": {"x": []}}}`, "Unsupported package manager: chocolatey"},
		{`{"packages": {"rpm": {"epel": "http://x/epel.rpm"}}}`, "rpm packages cannot be installed"},
		{`{"services": {"windows": {"w3svc": {}}}}`, "Unsupported service manager: windows"},
		{`{"files": {"relative/path": {"content": "x"}}}`, "not an absolute path"},
		{`{"commands": {"a": {}}}`, "Command a has no command"},
	} {
		var m map[string]any
		if err := json.Unmarshal([]byte(c.cfg), &m); err != nil {
			t.Fatal(err)
		}
		if err := a.apply(configStep{name: "c", cfg: m}); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: %v, want %q", c.cfg, err, c.err)
		}
	}
}

// cfn-signal's two forms: SignalResource, signed, with the instance id
// from IMDS as the UniqueId; and a PUT to a wait condition handle.
func TestSignal(t *testing.T) {
	imds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/latest/api/token":
			io.WriteString(w, "tok")
		case "/latest/meta-data/instance-id":
			if r.Header.Get("X-aws-ec2-metadata-token") != "tok" {
				w.WriteHeader(401)
				return
			}
			io.WriteString(w, "i-0123456789abcdef0")
		case "/latest/meta-data/iam/security-credentials/":
			io.WriteString(w, "web-role")
		case "/latest/meta-data/iam/security-credentials/web-role":
			io.WriteString(w, `{"Code":"Success","AccessKeyId":"ASIAROLE","SecretAccessKey":"s","Token":"t"}`)
		default:
			w.WriteHeader(404)
		}
	}))
	defer imds.Close()
	old := imdsURL
	imdsURL = imds.URL
	defer func() { imdsURL = old }()

	var got url.Values
	var auth, token string
	var put map[string]string
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Method == http.MethodPut {
			json.Unmarshal(b, &put)
			return
		}
		got, _ = url.ParseQuery(string(b))
		auth, token = r.Header.Get("Authorization"), r.Header.Get("X-Amz-Security-Token")
		if got.Get("StackName") == "gone" {
			w.WriteHeader(400)
			io.WriteString(w, `<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>Stack gone does not exist</Message></Error></ErrorResponse>`)
			return
		}
		io.WriteString(w, `<SignalResourceResponse/>`)
	}))
	defer api.Close()

	var stderr bytes.Buffer
	if code := runSignal(context.Background(), []string{"-e", "1", "--stack", "web", "--resource", "Web", "--region", "eu-west-1", "--url", api.URL}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if got.Get("Action") != "SignalResource" || got.Get("Status") != "FAILURE" || got.Get("UniqueId") != "i-0123456789abcdef0" ||
		got.Get("StackName") != "web" || got.Get("LogicalResourceId") != "Web" {
		t.Errorf("request %v", got)
	}
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=ASIAROLE/") || !strings.Contains(auth, "/eu-west-1/cloudformation/aws4_request") || token != "t" {
		t.Errorf("signed with %q (token %q)", auth, token)
	}
	stderr.Reset()
	if code := runSignal(context.Background(), []string{"--stack", "gone", "--resource", "Web", "--url", api.URL}, &stderr); code != 1 ||
		!strings.Contains(stderr.String(), "ValidationError (HTTP 400): Stack gone does not exist") {
		t.Errorf("an error answer: exit %d, %s", code, stderr.String())
	}
	if code := runSignal(context.Background(), []string{"-e", "0", "-i", "one", "-d", "ready", api.URL + "/handle?X-Amz-Signature=x"}, &stderr); code != 0 ||
		put["Status"] != "SUCCESS" || put["UniqueId"] != "one" || put["Data"] != "ready" || put["Reason"] != "Configuration Complete" {
		t.Errorf("handle: exit %d, %v, %s", code, put, stderr.String())
	}
}

func TestMetadataKey(t *testing.T) {
	raw := []byte(`{"AWS::CloudFormation::Init": {"config": {"files": {}}}, "Note": "text"}`)
	if s, err := metadataKey(raw, "Note"); err != nil || s != "text" {
		t.Errorf("%q %v", s, err)
	}
	if s, err := metadataKey(raw, "AWS::CloudFormation::Init.config"); err != nil || !strings.Contains(s, `"files"`) {
		t.Errorf("%q %v", s, err)
	}
	if _, err := metadataKey(raw, "Missing.x"); err == nil {
		t.Error("a missing key was found")
	}
}

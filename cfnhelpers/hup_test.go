package cfnhelpers

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// cfn-hup runs a hook when its path's value is added, changes or goes,
// with the old and new values in its environment, and not when nothing
// changed, across runs (its memory is on disk).
func TestHup(t *testing.T) {
	var mu sync.Mutex
	metadata := `{"AWS::CloudFormation::Init":{"config":{"files":{"/etc/motd":{"content":"v1"}}}}}`
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		q, _ := url.ParseQuery(string(b))
		if q.Get("Action") != "DescribeStackResource" || q.Get("StackName") != "web" || q.Get("LogicalResourceId") != "LaunchConfig" {
			w.WriteHeader(400)
			return
		}
		mu.Lock()
		md := metadata
		mu.Unlock()
		var esc bytes.Buffer
		xml.EscapeText(&esc, []byte(md))
		io.WriteString(w, `<DescribeStackResourceResponse><DescribeStackResourceResult><StackResourceDetail><PhysicalResourceId>web-LaunchConfig-1</PhysicalResourceId><Metadata>`+
			esc.String()+`</Metadata></StackResourceDetail></DescribeStackResourceResult></DescribeStackResourceResponse>`)
	}))
	defer api.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	tmp := t.TempDir()
	hupDataDir, hupLog = filepath.Join(tmp, "data"), filepath.Join(tmp, "cfn-hup.log")
	conf := filepath.Join(tmp, "cfn")
	out := filepath.Join(tmp, "runs")
	os.MkdirAll(filepath.Join(conf, "hooks.d"), 0o755)
	os.WriteFile(filepath.Join(conf, "cfn-hup.conf"), []byte("[main]\nstack=web\nregion=eu-west-1\ninterval=1\nurl="+api.URL+"\n"), 0o644)
	os.WriteFile(filepath.Join(conf, "hooks.d", "cfn-auto-reloader.conf"), []byte(`[cfn-auto-reloader-hook]
triggers=post.add,post.update
path=Resources.LaunchConfig.Metadata.AWS::CloudFormation::Init
action=echo "$CFN_OLD_METADATA => $CFN_NEW_METADATA" >> `+out+`
runas=root
`), 0o644)

	run := func() []string {
		t.Helper()
		var stderr bytes.Buffer
		if code := runHup(context.Background(), []string{"-c", conf, "--no-daemon"}, &stderr); code != 0 {
			t.Fatalf("cfn-hup exited %d: %s", code, stderr.String())
		}
		b, _ := os.ReadFile(out)
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	if lines := run(); len(lines) != 1 || !strings.HasPrefix(lines[0], "=> ") || !strings.Contains(lines[0], `"v1"`) {
		t.Fatalf("first sight (post.add): %q", lines)
	}
	if lines := run(); len(lines) != 1 {
		t.Fatalf("no change ran the hook again: %q", lines)
	}
	mu.Lock()
	metadata = `{"AWS::CloudFormation::Init":{"config":{"files":{"/etc/motd":{"content":"v2"}}}}}`
	mu.Unlock()
	lines := run()
	if len(lines) != 2 || !strings.Contains(lines[1], `"v1"`) || !strings.Contains(lines[1], `=> {`) || !strings.Contains(lines[1], `"v2"`) {
		t.Fatalf("update (post.update): %q", lines)
	}
	var db map[string]json.RawMessage
	b, _ := os.ReadFile(filepath.Join(hupDataDir, "metadata_db.json"))
	if err := json.Unmarshal(b, &db); err != nil || len(db) != 1 {
		t.Fatalf("memory on disk: %s, %v", b, err)
	}
	if log, _ := os.ReadFile(hupLog); !strings.Contains(string(log), "Action for cfn-auto-reloader-hook succeeded") {
		t.Errorf("log: %s", log)
	}
}

func TestHupConfigErrors(t *testing.T) {
	for _, tc := range []struct{ hooks, want string }{
		{"[h]\ntriggers=post.change\npath=Resources.A.Metadata\naction=true\n", "unknown trigger"},
		{"[h]\ntriggers=post.add\npath=Resources.A\naction=true\n", "must be Resources.<LogicalId>.Metadata"},
		{"[h]\ntriggers=post.add\npath=Resources.A.Metadata\n", "action is required"},
		{"triggers=post.add\n", "no section header"},
	} {
		if _, err := parseHooks(tc.hooks); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.hooks, err, tc.want)
		}
	}
}

func FuzzHooks(f *testing.F) {
	f.Add("[cfn-auto-reloader-hook]\ntriggers=post.update\npath=Resources.LaunchConfig.Metadata.AWS::CloudFormation::Init\naction=/opt/aws/bin/cfn-init -v --stack s --resource LaunchConfig\nrunas=root\n")
	f.Add("[main]\nstack=web\n  continued\n; comment\n[x]\nk: v\n")
	f.Fuzz(func(t *testing.T, text string) {
		hooks, err := parseHooks(text)
		if err != nil {
			return
		}
		for _, h := range hooks {
			if len(h.triggers) == 0 || h.action == "" || h.resource == "" {
				t.Fatalf("accepted an incomplete hook %+v", h)
			}
		}
	})
}

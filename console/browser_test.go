package console_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/console"
)

var update = flag.Bool("update", false, "rewrite docs/console.png, a screenshot of the seed-000 world")

// chromium runs headless Chromium on a page with args, and returns what
// it printed. Its processes are one group, ended together.
func chromium(t *testing.T, page string, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (scripts/test.sh installs it: apt-get install -y chromium); skipping the browser test")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	all := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--user-data-dir=" + t.TempDir(), "--window-size=1600,1300",
		// Virtual time runs until the page's fetches and first polls are done.
		"--virtual-time-budget=15000"}, args...)
	cmd := exec.CommandContext(ctx, bin, append(all, page)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, errb.String())
	}
	return out.String()
}

// TestBrowser renders the console of the seed-000 world in headless
// Chromium and looks for every subnet and instance, the ALB's targets'
// health and the live counters in the DOM the page's script built; the
// page is opened on an instance's details and a reachability question,
// as a link can ask.
func TestBrowser(t *testing.T) {
	if _, err := exec.LookPath("chromium"); err != nil {
		t.Skip("chromium is not installed (scripts/test.sh installs it: apt-get install -y chromium); skipping the browser test")
	}
	c := startCloud(t)
	s := c.buildSeed(t)
	c.waitHealthy(t, s.TG)
	c.putMetrics(t, s.AppA, 37.5, s.LBDimension, 600)
	page := c.URL + console.Prefix + "/?" + scopeParams("resource", s.AppA, "from", s.Bastion, "to", s.AppA, "port", "8080").Encode()

	dom := chromium(t, page, "--dump-dom")
	for _, id := range []string{s.VPC, s.PublicA, s.PublicC, s.PrivateA, s.PrivateC, s.Bastion, s.AppA, s.AppC, s.NAT, s.IGW, "devloop-alb", "devloop-db", "devloop-mc"} {
		if !strings.Contains(dom, id) {
			t.Errorf("the rendered page lacks %s", id)
		}
	}
	for _, id := range []string{s.AppA, s.AppC} {
		want := `data-target="` + id + `"><td class="clickable">` + id + `</td><td>8080</td><td><span class="badge health state-healthy">healthy</span>`
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered page does not show target %s healthy", id)
		}
	}
	if !strings.Contains(dom, "CPU 37.5%") || !strings.Contains(dom, "10.00 req/s") {
		t.Error("the rendered page lacks the live counters (CPU 37.5%, 10.00 req/s)")
	}
	for what, want := range map[string]string{
		"the instance's Describe JSON": `"InstanceId": "` + s.AppA + `"`,
		"its console output":           `<pre class="console-output">`,
		"the analyzer's verdict":       `<div class="verdict">Not reachable</div>`,
		"the deciding rule":            `<div class="step denied deciding"><div class="what"><b>security-group</b><span>` + s.AppSG + `</span>`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("the rendered page lacks %s: %s", what, want)
		}
	}
	if t.Failed() {
		t.Logf("DOM:\n%s", dom)
	}

	if *update {
		shot := filepath.Join(t.TempDir(), "console.png")
		chromium(t, page, "--screenshot="+shot, "--hide-scrollbars")
		b, err := os.ReadFile(shot)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "docs", "console.png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

package cfnhelpers

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cfn-hup watches resources' metadata (DescribeStackResource) every
// interval minutes and runs the hooks whose path changed: post.add,
// post.update, post.remove, with CFN_OLD_METADATA and CFN_NEW_METADATA
// set, as aws-cfn-bootstrap's does. It reads /etc/cfn/cfn-hup.conf and
// the hooks of /etc/cfn/hooks.conf and /etc/cfn/hooks.d/*.conf once, at
// start; it remembers what it last saw in /var/lib/cfn-hup/data, so a
// restart does not rerun the hooks; without --no-daemon it detaches and
// goes on, logging to /var/log/cfn-hup.log.

var (
	hupDataDir = "/var/lib/cfn-hup/data"
	hupLog     = "/var/log/cfn-hup.log"
)

// hupForeground marks the detached child: it loops rather than detach
// again.
const hupForeground = "CFN_HUP_FOREGROUND"

var hupOptions = []option{
	{long: "config", short: "c", value: true},
	{long: "no-daemon"},
	{long: "verbose", short: "v"},
}

type hupConfig struct {
	stack    string
	interval time.Duration
	umask    int
	verbose  bool
	conn     connArgs
	hooks    []hook
}

// hook is one section of a hooks file.
type hook struct {
	name     string
	triggers []string
	resource string
	physical bool     // path names .PhysicalResourceId
	keys     []string // under .Metadata
	action   string
	runas    string
}

// parseINI reads the Python ConfigParser subset the hooks files use:
// [sections], key=value or key: value, # and ; comments, and indented
// continuation lines.
func parseINI(text string) (map[string]map[string]string, []string, error) {
	out := map[string]map[string]string{}
	var order []string
	var sec, last string
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, ";"):
			continue
		case line[0] == ' ' || line[0] == '\t':
			if sec == "" || last == "" {
				return nil, nil, fmt.Errorf("line %d: a continuation line outside a value", n+1)
			}
			out[sec][last] += "\n" + trimmed
		case strings.HasPrefix(trimmed, "["):
			if !strings.HasSuffix(trimmed, "]") {
				return nil, nil, fmt.Errorf("line %d: %q is not a section header", n+1, trimmed)
			}
			sec, last = strings.TrimSpace(trimmed[1:len(trimmed)-1]), ""
			if _, ok := out[sec]; !ok {
				out[sec] = map[string]string{}
				order = append(order, sec)
			}
		default:
			if sec == "" {
				return nil, nil, fmt.Errorf("line %d: no section header before %q", n+1, trimmed)
			}
			i := strings.IndexAny(trimmed, "=:")
			if i <= 0 {
				return nil, nil, fmt.Errorf("line %d: %q is not key=value", n+1, trimmed)
			}
			last = strings.ToLower(strings.TrimSpace(trimmed[:i]))
			out[sec][last] = strings.TrimSpace(trimmed[i+1:])
		}
	}
	return out, order, nil
}

// parseHookPath reads Resources.<logical>(.Metadata or
// .PhysicalResourceId)(.<key>...).
func parseHookPath(p string) (resource string, physical bool, keys []string, err error) {
	parts := strings.Split(p, ".")
	if len(parts) < 3 || parts[0] != "Resources" || parts[1] == "" {
		return "", false, nil, fmt.Errorf("path %q: must be Resources.<LogicalId>.Metadata or Resources.<LogicalId>.PhysicalResourceId", p)
	}
	switch parts[2] {
	case "Metadata":
		return parts[1], false, parts[3:], nil
	case "PhysicalResourceId":
		if len(parts) > 3 {
			return "", false, nil, fmt.Errorf("path %q: nothing may follow PhysicalResourceId", p)
		}
		return parts[1], true, nil, nil
	}
	return "", false, nil, fmt.Errorf("path %q: must be Resources.<LogicalId>.Metadata or Resources.<LogicalId>.PhysicalResourceId", p)
}

var hookTriggers = []string{"post.add", "post.update", "post.remove"}

// parseHooks reads one hooks file's sections.
func parseHooks(text string) ([]hook, error) {
	secs, order, err := parseINI(text)
	if err != nil {
		return nil, err
	}
	var out []hook
	for _, name := range order {
		s := secs[name]
		h := hook{name: name, action: s["action"], runas: s["runas"]}
		for _, t := range strings.Split(s["triggers"], ",") {
			if t = strings.TrimSpace(t); t == "" {
				continue
			}
			if !slices.Contains(hookTriggers, t) {
				return nil, fmt.Errorf("hook %s: unknown trigger %q (post.add, post.update or post.remove)", name, t)
			}
			h.triggers = append(h.triggers, t)
		}
		switch {
		case len(h.triggers) == 0:
			return nil, fmt.Errorf("hook %s: triggers is required", name)
		case h.action == "":
			return nil, fmt.Errorf("hook %s: action is required", name)
		case s["path"] == "":
			return nil, fmt.Errorf("hook %s: path is required", name)
		}
		if h.resource, h.physical, h.keys, err = parseHookPath(s["path"]); err != nil {
			return nil, fmt.Errorf("hook %s: %w", name, err)
		}
		out = append(out, h)
	}
	return out, nil
}

// loadHupConfig reads cfn-hup.conf and the hooks in dir.
func loadHupConfig(dir string) (*hupConfig, error) {
	b, err := os.ReadFile(filepath.Join(dir, "cfn-hup.conf"))
	if err != nil {
		return nil, err
	}
	secs, _, err := parseINI(string(b))
	if err != nil {
		return nil, fmt.Errorf("cfn-hup.conf: %w", err)
	}
	m, ok := secs["main"]
	if !ok || m["stack"] == "" {
		return nil, fmt.Errorf("cfn-hup.conf: [main] must name a stack")
	}
	c := &hupConfig{stack: m["stack"], interval: 15 * time.Minute, umask: 0o22, verbose: truthy(m["verbose"]),
		conn: connArgs{region: m["region"], role: m["role"], credentialFile: m["credential-file"], url: m["url"]}}
	if v := m["interval"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, fmt.Errorf("cfn-hup.conf: interval %q is not a whole number of minutes", v)
		}
		c.interval = time.Duration(n) * time.Minute
	}
	if v := m["umask"]; v != "" {
		n, err := strconv.ParseInt(v, 8, 32)
		if err != nil || n < 0 || n > 0o777 {
			return nil, fmt.Errorf("cfn-hup.conf: umask %q is not an octal number from 0 to 0777", v)
		}
		c.umask = int(n)
	}
	files := []string{filepath.Join(dir, "hooks.conf")}
	more, _ := filepath.Glob(filepath.Join(dir, "hooks.d", "*.conf"))
	slices.Sort(more)
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		hs, err := parseHooks(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		c.hooks = append(c.hooks, hs...)
	}
	if len(c.hooks) == 0 {
		return nil, fmt.Errorf("no hooks in %s/hooks.conf or %s/hooks.d", dir, dir)
	}
	return c, nil
}

func runHup(ctx context.Context, args []string, stderr io.Writer) int {
	p, err := parseArgs(hupOptions, args)
	if err == nil && len(p.args) > 0 {
		err = fmt.Errorf("unexpected arguments: %s", strings.Join(p.args, " "))
	}
	if err != nil {
		fmt.Fprintf(stderr, "cfn-hup: error: %v\nusage: cfn-hup [-c CONFIG_DIR] [--no-daemon] [-v]\n", err)
		return 2
	}
	dir := p.get("config")
	if dir == "" {
		dir = "/etc/cfn"
	}
	c, err := loadHupConfig(dir)
	if err != nil {
		fmt.Fprintf(stderr, "cfn-hup: %v\n", err)
		return 1
	}
	c.verbose = c.verbose || p.has("verbose")
	syscall.Umask(c.umask)
	if !p.has("no-daemon") && os.Getenv(hupForeground) == "" {
		return detach(stderr)
	}
	logw := stderr
	if f, err := os.OpenFile(hupLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644); err == nil {
		defer f.Close()
		logw = io.MultiWriter(f, stderr)
	}
	logf := func(level, format string, x ...any) {
		if level == "DEBUG" && !c.verbose {
			return
		}
		fmt.Fprintf(logw, "%s [%s] %s\n", time.Now().UTC().Format("2006-01-02 15:04:05,000"), level, fmt.Sprintf(format, x...))
	}
	for {
		c.check(ctx, logf)
		if p.has("no-daemon") {
			return 0
		}
		select {
		case <-ctx.Done():
			return 0
		case <-time.After(c.interval):
		}
	}
}

// detach starts this program again in its own session, in the
// foreground there, and returns: the daemon outlives the shell that
// started it, as aws-cfn-bootstrap's does.
func detach(stderr io.Writer) int {
	exe, err := os.Executable()
	if err != nil {
		exe = "/opt/aws/bin/cfn-hup"
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Args[0] = "cfn-hup" // the helpers are chosen by their name
	cmd.Env = append(os.Environ(), hupForeground+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "cfn-hup: cannot start the daemon: %v\n", err)
		return 1
	}
	return 0
}

// check looks at every hook's path once and runs the hooks it triggers.
func (c *hupConfig) check(ctx context.Context, logf func(string, string, ...any)) {
	cl, err := newClient(ctx, c.conn, func(f string, x ...any) { logf("WARNING", f, x...) })
	if err != nil {
		logf("ERROR", "%v", err)
		return
	}
	db := map[string]json.RawMessage{}
	dbPath := filepath.Join(hupDataDir, "metadata_db.json")
	if b, err := os.ReadFile(dbPath); err == nil {
		json.Unmarshal(b, &db)
	}
	changed := false
	for _, h := range c.hooks {
		md, physical, err := cl.resourceDetail(ctx, c.stack, h.resource)
		if err != nil {
			logf("ERROR", "hook %s: %v", h.name, err)
			continue
		}
		var now json.RawMessage
		if h.physical {
			if physical != "" {
				now, _ = json.Marshal(physical)
			}
		} else {
			now = pick(md, h.keys)
		}
		key := h.name + "|" + h.resource
		old := db[key]
		trigger := ""
		switch {
		case old == nil && now != nil:
			trigger = "post.add"
		case old != nil && now == nil:
			trigger = "post.remove"
		case old != nil && !jsonEqual(old, now):
			trigger = "post.update"
		}
		if trigger == "" {
			logf("DEBUG", "hook %s: no change", h.name)
			continue
		}
		if now == nil {
			delete(db, key)
		} else {
			db[key] = now
		}
		changed = true
		if !slices.Contains(h.triggers, trigger) {
			continue
		}
		logf("INFO", "Data has changed from previous state; action for %s will be run", h.name)
		if err := h.run(ctx, old, now, logf); err != nil {
			logf("ERROR", "Action for %s exited with %v, returning", h.name, err)
		} else {
			logf("INFO", "Action for %s succeeded", h.name)
		}
	}
	if !changed {
		return
	}
	if err := os.MkdirAll(hupDataDir, 0o700); err != nil {
		logf("ERROR", "%v", err)
		return
	}
	b, _ := json.Marshal(db)
	tmp := dbPath + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		logf("ERROR", "%v", err)
		return
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		logf("ERROR", "%v", err)
	}
}

// pick returns the value at keys under md, or nil when it is not there.
func pick(md json.RawMessage, keys []string) json.RawMessage {
	v := md
	for _, k := range keys {
		var m map[string]json.RawMessage
		if json.Unmarshal(v, &m) != nil {
			return nil
		}
		var ok bool
		if v, ok = m[k]; !ok {
			return nil
		}
	}
	if bytes.Equal(bytes.TrimSpace(v), []byte("null")) {
		return nil
	}
	return v
}

func jsonEqual(a, b json.RawMessage) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return bytes.Equal(a, b)
	}
	xb, _ := json.Marshal(x)
	yb, _ := json.Marshal(y)
	return bytes.Equal(xb, yb)
}

// run runs the hook's action with sh, as runas when given, with the old
// and new values in the environment.
func (h hook) run(ctx context.Context, old, now json.RawMessage, logf func(string, string, ...any)) error {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", h.action)
	cmd.Env = append(os.Environ(), "CFN_OLD_METADATA="+string(old), "CFN_NEW_METADATA="+string(now))
	if h.runas != "" && h.runas != "root" {
		u, err := user.Lookup(h.runas)
		if err != nil {
			return err
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
		cmd.Dir = u.HomeDir
	}
	out, err := cmd.CombinedOutput()
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		logf("INFO", "%s: %s", h.name, sc.Text())
	}
	return err
}

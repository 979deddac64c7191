package cfnhelpers

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// applier applies configs on this machine, logging what it does.
type applier struct {
	ctx  context.Context
	log  func(level, format string, args ...any)
	cmds io.Writer // the commands' output (cfn-init-cmd.log)
	http *http.Client
	// aptUpdated: apt's package lists were refreshed in this run.
	aptUpdated bool
	// changed are the files, sources, packages and commands this run
	// changed, by section, for services that restart on them.
	changed map[string]map[string]bool
}

func (a *applier) mark(section, name string) {
	if a.changed == nil {
		a.changed = map[string]map[string]bool{}
	}
	if a.changed[section] == nil {
		a.changed[section] = map[string]bool{}
	}
	a.changed[section][name] = true
}

// apply runs one config's sections in cfn-init's order.
func (a *applier) apply(step configStep) error {
	a.log("INFO", "Running config %s", step.name)
	for _, sec := range configSections {
		v, ok := step.cfg[sec]
		if !ok || v == nil {
			continue
		}
		m, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("config %s: %s must be an object", step.name, sec)
		}
		var err error
		switch sec {
		case "packages":
			err = a.packages(m)
		case "groups":
			err = a.groups(m)
		case "users":
			err = a.users(m)
		case "sources":
			err = a.sources(m)
		case "files":
			err = a.files(m)
		case "commands":
			err = a.commands(m)
		case "services":
			err = a.services(m)
		}
		if err != nil {
			return err
		}
	}
	for k := range step.cfg {
		if !contains(configSections, k) {
			a.log("WARNING", "config %s: unknown key %s ignored", step.name, k)
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// run runs a program, its output going to the commands' log; it returns
// the exit code (-1 if it could not start).
func (a *applier) run(dir string, env []string, argv ...string) (int, error) {
	cmd := exec.CommandContext(a.ctx, argv[0], argv[1:]...)
	cmd.Dir, cmd.Env = dir, env
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	fmt.Fprintf(a.cmds, "%s %s\n%s", time.Now().UTC().Format("2006-01-02 15:04:05"), strings.Join(argv, " "), out.String())
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), nil
	}
	if err != nil {
		return -1, err
	}
	return 0, nil
}

// must runs a program and fails unless it exits 0.
func (a *applier) must(argv ...string) error {
	code, err := a.run("/", nil, argv...)
	if err != nil {
		return fmt.Errorf("%s: %w", argv[0], err)
	}
	if code != 0 {
		return fmt.Errorf("%s exited with status %d (see /var/log/cfn-init-cmd.log)", strings.Join(argv, " "), code)
	}
	return nil
}

func have(prog string) bool {
	_, err := exec.LookPath(prog)
	return err == nil
}

// packages installs with the image's package manager: apt names with
// apt-get; yum and dnf names with the image's yum (Amazon Linux images
// map them to Debian packages) or, where there is none, with apt-get
// under the same names; python with pip3 and rubygems with gem. RPM
// files and MSI installers have no installer here and fail.
func (a *applier) packages(m map[string]any) error {
	for k := range m {
		if !contains(packageManagers, k) {
			return fmt.Errorf("Unsupported package manager: %s", k)
		}
	}
	for _, mgr := range packageManagers {
		v, ok := m[mgr]
		if !ok {
			continue
		}
		pkgs, ok := v.(map[string]any)
		if !ok {
			return fmt.Errorf("packages: %s must be an object of package names", mgr)
		}
		if len(pkgs) == 0 {
			continue
		}
		names := sortedKeys(pkgs)
		var specs []string
		for _, n := range names {
			vers := strList(pkgs[n])
			switch {
			case len(vers) == 0 || vers[0] == "":
				specs = append(specs, n)
			case mgr == "apt":
				specs = append(specs, n+"="+vers[0])
			case mgr == "python":
				specs = append(specs, n+"=="+vers[0])
			case mgr == "rubygems":
				specs = append(specs, n, "-v", vers[0])
			default:
				specs = append(specs, n+"-"+vers[0])
			}
		}
		a.log("INFO", "Installing %s packages: %s", mgr, strings.Join(names, " "))
		var err error
		switch mgr {
		case "rpm", "msi":
			err = fmt.Errorf("%s packages cannot be installed on this image (Debian underneath): %s", mgr, strings.Join(names, " "))
		case "yum", "dnf":
			if have("yum") {
				err = a.must(append([]string{"yum", "install", "-y"}, specs...)...)
				break
			}
			a.log("INFO", "no yum on this image: installing %s with apt-get under the same names", strings.Join(names, " "))
			err = a.apt(names)
		case "apt":
			err = a.apt(specs)
		case "python":
			err = a.must(append([]string{"pip3", "install"}, specs...)...)
		case "rubygems":
			err = a.must(append([]string{"gem", "install", "--no-document"}, specs...)...)
		}
		if err != nil {
			return err
		}
		for _, n := range names {
			a.mark("packages/"+mgr, n)
		}
	}
	return nil
}

func (a *applier) apt(specs []string) error {
	if !a.aptUpdated {
		if err := a.must("apt-get", "update"); err != nil {
			return err
		}
		a.aptUpdated = true
	}
	return a.must(append([]string{"apt-get", "install", "-y", "-q", "-o", "Dpkg::Options::=--force-confold"}, specs...)...)
}

// groups makes the groups that do not exist, with their gid when given.
func (a *applier) groups(m map[string]any) error {
	for _, name := range sortedKeys(m) {
		if _, err := user.LookupGroup(name); err == nil {
			a.log("INFO", "Group %s exists", name)
			continue
		}
		argv := []string{"groupadd"}
		if spec, ok := m[name].(map[string]any); ok && str(spec["gid"]) != "" {
			argv = append(argv, "-g", str(spec["gid"]))
		}
		a.log("INFO", "Creating group %s", name)
		if err := a.must(append(argv, name)...); err != nil {
			return err
		}
	}
	return nil
}

// users makes non-interactive system users (no login shell, no home
// made), as cfn-init does; an existing user gets the groups listed.
func (a *applier) users(m map[string]any) error {
	for _, name := range sortedKeys(m) {
		spec, _ := m[name].(map[string]any)
		groups := strings.Join(strList(spec["groups"]), ",")
		if _, err := user.Lookup(name); err == nil {
			a.log("INFO", "User %s exists", name)
			if groups != "" {
				if err := a.must("usermod", "-a", "-G", groups, name); err != nil {
					return err
				}
			}
			continue
		}
		argv := []string{"useradd", "-M", "-r", "-s", "/sbin/nologin"}
		if uid := str(spec["uid"]); uid != "" {
			argv = append(argv, "-u", uid)
		}
		if home := str(spec["homeDir"]); home != "" {
			argv = append(argv, "-d", home)
		}
		if groups != "" {
			argv = append(argv, "-G", groups)
		}
		a.log("INFO", "Creating user %s", name)
		if err := a.must(append(argv, name)...); err != nil {
			return err
		}
	}
	return nil
}

// fetch downloads a URL (a file's or a source's).
func (a *applier) fetch(u string) ([]byte, error) {
	req, err := http.NewRequestWithContext(a.ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, unreachable{fmt.Errorf("Failed to retrieve %s: %w", u, err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("Failed to retrieve %s: HTTP Error %d : %s", u, resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	return io.ReadAll(io.LimitReader(resp.Body, 1<<30))
}

// unreachable is a fetch that got no answer at all (no route, no name),
// as opposed to an HTTP error.
type unreachable struct{ error }

func (u unreachable) Unwrap() error { return u.error }

// files writes each file: content (a string, or an object written as
// JSON), or a source URL; base64 encoding; a mode of 120xxx makes a
// symlink to the content; owner and group; context fills {{name}}
// placeholders. An existing file is kept as <name>.bak, as cfn-init does.
func (a *applier) files(m map[string]any) error {
	for _, name := range sortedKeys(m) {
		spec, ok := m[name].(map[string]any)
		if !ok {
			return fmt.Errorf("files: %s must be an object", name)
		}
		if !filepath.IsAbs(name) {
			return fmt.Errorf("files: %s is not an absolute path", name)
		}
		if err := a.file(name, spec); err != nil {
			return fmt.Errorf("Failed to write %s: %w", name, err)
		}
		a.mark("files", name)
	}
	return nil
}

func (a *applier) file(name string, spec map[string]any) error {
	var data []byte
	content, hasContent := spec["content"]
	switch {
	case hasContent:
		if s, ok := content.(string); ok {
			data = []byte(s)
		} else {
			b, err := json.MarshalIndent(content, "", "  ")
			if err != nil {
				return err
			}
			data = b
		}
	case spec["source"] != nil:
		b, err := a.fetch(str(spec["source"]))
		if err != nil {
			return err
		}
		data = b
	}
	if str(spec["encoding"]) == "base64" {
		b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(data)))
		if err != nil {
			return fmt.Errorf("content is not base64: %w", err)
		}
		data = b
	}
	if ctxv, ok := spec["context"].(map[string]any); ok {
		data = []byte(render(string(data), ctxv))
	}
	mode := os.FileMode(0o644)
	symlink := false
	if ms := str(spec["mode"]); ms != "" {
		n, err := strconv.ParseUint(ms, 8, 32)
		if err != nil {
			return fmt.Errorf("mode %q is not octal", ms)
		}
		symlink = n>>12 == 0o12
		mode = os.FileMode(n & 0o777)
		if n&0o4000 != 0 {
			mode |= os.ModeSetuid
		}
		if n&0o2000 != 0 {
			mode |= os.ModeSetgid
		}
		if n&0o1000 != 0 {
			mode |= os.ModeSticky
		}
	}
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return err
	}
	if _, err := os.Lstat(name); err == nil {
		if err := os.Rename(name, name+".bak"); err != nil {
			return err
		}
	}
	if symlink {
		a.log("INFO", "Creating symlink %s -> %s", name, string(data))
		return os.Symlink(string(data), name)
	}
	a.log("INFO", "Writing %s", name)
	if err := os.WriteFile(name, data, mode&os.ModePerm); err != nil {
		return err
	}
	if err := os.Chmod(name, mode); err != nil {
		return err
	}
	return chown(name, str(spec["owner"]), str(spec["group"]))
}

// chown gives a path to the owner and group named (unchanged if empty).
func chown(path, owner, group string) error {
	uid, gid := -1, -1
	if owner != "" {
		u, err := user.Lookup(owner)
		if err != nil {
			return fmt.Errorf("no such user %s", owner)
		}
		uid, _ = strconv.Atoi(u.Uid)
	}
	if group != "" {
		g, err := user.LookupGroup(group)
		if err != nil {
			return fmt.Errorf("no such group %s", group)
		}
		gid, _ = strconv.Atoi(g.Gid)
	}
	if uid == -1 && gid == -1 {
		return nil
	}
	return os.Lchown(path, uid, gid)
}

// render fills a file's {{name}} and {{{name}}} placeholders (dotted
// names reach into objects) from its context; mustache's sections and
// partials are not interpreted and stay as written.
func render(tpl string, vars map[string]any) string {
	var b strings.Builder
	for {
		i := strings.Index(tpl, "{{")
		if i < 0 {
			b.WriteString(tpl)
			return b.String()
		}
		open, close := "{{", "}}"
		if strings.HasPrefix(tpl[i:], "{{{") {
			open, close = "{{{", "}}}"
		}
		j := strings.Index(tpl[i+len(open):], close)
		if j < 0 {
			b.WriteString(tpl)
			return b.String()
		}
		key := strings.TrimSpace(tpl[i+len(open) : i+len(open)+j])
		b.WriteString(tpl[:i])
		if key != "" && !strings.ContainsAny(key[:1], "#^/>!&=") {
			b.WriteString(lookupVar(vars, key))
		} else {
			b.WriteString(tpl[i : i+len(open)+j+len(close)])
		}
		tpl = tpl[i+len(open)+j+len(close):]
	}
}

func lookupVar(vars map[string]any, key string) string {
	var cur any = vars
	for _, part := range strings.Split(key, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = m[part]
	}
	if cur == nil {
		return ""
	}
	return str(cur)
}

// commands run in the order of their names. A string command runs
// through /bin/sh, a list as the program and its arguments; env replaces
// the environment; a test command that fails skips the command; a
// failure stops cfn-init unless ignoreErrors.
func (a *applier) commands(m map[string]any) error {
	for _, name := range sortedKeys(m) {
		spec, ok := m[name].(map[string]any)
		if !ok {
			return fmt.Errorf("commands: %s must be an object", name)
		}
		var argv []string
		switch c := spec["command"].(type) {
		case string:
			argv = []string{"/bin/sh", "-c", c}
		case []any:
			argv = strList(c)
		}
		if len(argv) == 0 {
			return fmt.Errorf("Command %s has no command", name)
		}
		var env []string
		if e, ok := spec["env"].(map[string]any); ok {
			env = []string{}
			for _, k := range sortedKeys(e) {
				env = append(env, k+"="+str(e[k]))
			}
		}
		dir := str(spec["cwd"])
		if dir == "" {
			dir = "/"
		}
		if t := str(spec["test"]); t != "" {
			code, err := a.run(dir, env, "/bin/sh", "-c", t)
			if err != nil {
				return fmt.Errorf("Command %s: test: %w", name, err)
			}
			if code != 0 {
				a.log("INFO", "Test failed with code %d: skipping command %s", code, name)
				continue
			}
			a.log("INFO", "Test for command %s passed", name)
		}
		code, err := a.run(dir, env, argv...)
		switch {
		case err == nil && code == 0:
			a.log("INFO", "Command %s succeeded", name)
			a.mark("commands", name)
		case truthy(spec["ignoreErrors"]):
			a.log("WARNING", "Command %s failed (exit %d %v), errors ignored", name, code, errOrNone(err))
		default:
			a.log("ERROR", "Command %s failed", name)
			return fmt.Errorf("Command %s failed", name)
		}
	}
	return nil
}

func errOrNone(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// services enables or disables and starts or stops services through
// systemctl (the images' service and chkconfig lead there too), under
// either sysvinit or systemd. A running service whose files, sources,
// packages or commands changed in this run is restarted.
func (a *applier) services(m map[string]any) error {
	for _, kind := range sortedKeys(m) {
		if kind != "sysvinit" && kind != "systemd" {
			return fmt.Errorf("Unsupported service manager: %s", kind)
		}
		svcs, ok := m[kind].(map[string]any)
		if !ok {
			return fmt.Errorf("services: %s must be an object", kind)
		}
		for _, name := range sortedKeys(svcs) {
			spec, _ := svcs[name].(map[string]any)
			if err := a.service(name, spec); err != nil {
				return err
			}
		}
	}
	return nil
}

func (a *applier) service(name string, spec map[string]any) error {
	if v, ok := spec["enabled"]; ok {
		verb := "disable"
		if truthy(v) {
			verb = "enable"
		}
		a.log("INFO", "%sd service %s", strings.TrimSuffix(verb, "e"), name)
		if err := a.must("systemctl", verb, name); err != nil {
			return fmt.Errorf("Could not %s service %s: %w", verb, name, err)
		}
	}
	v, ok := spec["ensureRunning"]
	if !ok {
		return nil
	}
	running, _ := a.run("/", nil, "systemctl", "is-active", "--quiet", name)
	switch {
	case truthy(v) && running != 0:
		a.log("INFO", "Starting service %s", name)
		if err := a.must("systemctl", "start", name); err != nil {
			return fmt.Errorf("Could not start service %s: %w", name, err)
		}
	case truthy(v) && a.restartFor(spec):
		a.log("INFO", "Restarting service %s: what it depends on changed", name)
		if err := a.must("systemctl", "restart", name); err != nil {
			return fmt.Errorf("Could not restart service %s: %w", name, err)
		}
	case !truthy(v) && running == 0:
		a.log("INFO", "Stopping service %s", name)
		if err := a.must("systemctl", "stop", name); err != nil {
			return fmt.Errorf("Could not stop service %s: %w", name, err)
		}
	}
	return nil
}

// restartFor says whether this run changed something a service lists.
func (a *applier) restartFor(spec map[string]any) bool {
	for _, sec := range []string{"files", "sources", "commands"} {
		for _, n := range strList(spec[sec]) {
			if a.changed[sec][n] {
				return true
			}
		}
	}
	if pk, ok := spec["packages"].(map[string]any); ok {
		for mgr, names := range pk {
			for _, n := range strList(names) {
				if a.changed["packages/"+mgr][n] {
					return true
				}
			}
		}
	}
	return false
}

package cloudinit

import (
	"fmt"
	"slices"
	"strings"
)

const (
	sudoersDir  = "/etc/sudoers.d"
	sudoersFile = sudoersDir + "/90-cloud-init-users"
)

// useraddOptions are the user keys that become useradd options, in the
// order they are written (cloud-init sorts them by key).
var useraddOptions = []struct{ key, option string }{
	{"expiredate", "--expiredate"},
	{"gecos", "--comment"},
	{"groups", "--groups"},
	{"homedir", "--home"},
	{"inactive", "--inactive"},
	{"no_log_init", "--no-log-init"},
	{"no_user_group", "--no-user-group"},
	{"passwd", "--password"},
	{"primary_group", "--gid"},
	{"selinux_user", "--selinux-user"},
	{"shell", "--shell"},
	{"system", "--system"},
	{"uid", "--uid"},
}

// useraddFlags take no value.
var useraddFlags = []string{"no_log_init", "no_user_group", "system"}

// userKeys are the user keys rendered here besides useraddOptions.
var userKeys = []string{"create_groups", "no_create_home", "lock_passwd", "hashed_passwd", "plain_text_passwd", "sudo", "ssh_authorized_keys"}

// account is one entry of users after cloud-init's normalization.
type account struct {
	name string
	cfg  *omap
}

// usersGroups renders users_groups: groups first, then users, in the order
// the user data gives them.
func (r *renderer) usersGroups(b *strings.Builder, cfg *omap) {
	const module = "users_groups"
	var groups *omap
	if v, ok := cfg.get("groups"); ok {
		var err error
		if groups, err = normalizeGroups(v); err != nil {
			r.warnf("%s: %v", module, err)
			return
		}
	}
	users, err := r.normalizeUsers(cfg)
	if err != nil {
		r.warnf("%s: %v", module, err)
		return
	}
	if groups != nil {
		for _, name := range groups.keys {
			members, _ := groups.vals[name].([]string)
			r.renderGroup(b, name, members)
		}
	}
	sudoReady := false
	for _, u := range users {
		r.renderUser(b, u, &sudoReady)
	}
}

// validName rejects what would not be one user or group name on the
// useradd command line: user data is untrusted.
func validName(s string) bool {
	return s != "" && !strings.HasPrefix(s, "-") && !strings.ContainsFunc(s, func(c rune) bool {
		return c <= ' ' || c == 0x7f || strings.ContainsRune(":,/", c)
	})
}

// normalizeGroups reads groups: "a,b", a list of names and {name:
// members} mappings, or one mapping of name to members.
func normalizeGroups(v any) (*omap, error) {
	out := newOmap()
	add := func(name string, members any) error {
		var ms []string
		switch m := members.(type) {
		case nil:
		case string:
			ms = splitNames(m)
		case []any:
			for _, x := range m {
				s, ok := scalarString(x)
				if !ok {
					return fmt.Errorf("Bad group member type %s", pyType(x))
				}
				ms = append(ms, s)
			}
		default:
			return fmt.Errorf("Bad group member type %s", pyType(members))
		}
		prev, _ := out.get(name)
		old, _ := prev.([]string)
		out.set(name, uniqSorted(append(old, ms...)))
		return nil
	}
	switch v := v.(type) {
	case string:
		for _, n := range splitNames(v) {
			if err := add(n, nil); err != nil {
				return nil, err
			}
		}
	case []any:
		for _, item := range v {
			switch item := item.(type) {
			case string:
				if err := add(item, nil); err != nil {
					return nil, err
				}
			case *omap:
				for _, k := range item.keys {
					if err := add(k, item.vals[k]); err != nil {
						return nil, err
					}
				}
			default:
				return nil, fmt.Errorf("Unknown group name type %s", pyType(item))
			}
		}
	case *omap:
		for _, k := range v.keys {
			if err := add(k, v.vals[k]); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf("Group config must be list, dict or string type only but found %s", pyType(v))
	}
	return out, nil
}

// normalizeUsers reads users (and the old single user key) as cloud-init
// does: names, "a,b" strings and mappings; entries of one name merge, the
// first one's keys winning; "default" is the image's default user, with
// its distro settings under the user data's.
func (r *renderer) normalizeUsers(cfg *omap) ([]account, error) {
	var oldUser *omap
	if v, ok := cfg.get("user"); ok && truthy(v) {
		switch v := v.(type) {
		case string:
			oldUser = newOmap()
			oldUser.set("name", v)
		case *omap:
			oldUser = v.clone()
		default:
			r.warnf("users_groups: Format for 'user' key must be a string or dictionary and not %s", pyType(v))
		}
	}

	var items []any
	switch v, _ := cfg.get("users"); v := v.(type) {
	case nil:
	case []any:
		items = slices.Clone(v)
	case string:
		for _, n := range uniqSorted(splitNames(v)) {
			items = append(items, n)
		}
	case *omap:
		for _, k := range v.keys {
			switch uv := v.vals[k].(type) {
			case *omap:
				c := uv.clone()
				c.set("name", k)
				items = append(items, c)
			case []any, nil:
				return nil, fmt.Errorf("Unmappable user value type %s for key %s", pyType(uv), k)
			default:
				if cfgBool(uv) {
					items = append(items, k)
				}
			}
		}
	default:
		r.warnf("users_groups: Format for 'users' key must be a comma-separated string or a dictionary or a list but found %s", pyType(v))
	}
	if oldUser != nil {
		items = append(items, "default")
	}

	users := newOmap()
	for _, item := range items {
		switch item := item.(type) {
		case string:
			for _, n := range splitNames(item) {
				if _, ok := users.get(n); !ok {
					users.set(n, newOmap())
				}
			}
		case []any:
			for _, x := range item {
				if n, ok := scalarString(x); ok && n != "" {
					if _, ok := users.get(n); !ok {
						users.set(n, newOmap())
					}
				}
			}
		case *omap:
			c := newOmap()
			for _, k := range item.keys {
				if nk := strings.TrimSpace(strings.ReplaceAll(k, "-", "_")); nk != "" && nk != "name" {
					c.set(nk, item.vals[k])
				}
			}
			name := "default"
			if nv, ok := item.get("name"); ok {
				name, _ = scalarString(nv)
			}
			prev, _ := users.get(name)
			if p, ok := prev.(*omap); ok {
				c = firstWins(p, c)
			}
			users.set(name, c)
		default:
			return nil, fmt.Errorf("User config must be dictionary/list or string  types only and not %s", pyType(item))
		}
	}

	if dv, ok := users.get("default"); ok {
		users.del("default")
		def := r.defaultUser(oldUser)
		nv, _ := def.get("name")
		name, _ := scalarString(nv)
		if name == "" {
			r.warnf("users_groups: default: this image has no default user: ignored")
		} else {
			def.del("name")
			pv, _ := users.get(name)
			parsed, ok := pv.(*omap)
			if !ok {
				parsed = newOmap()
			}
			users.del(name)
			dg, _ := def.get("groups")
			pg, _ := parsed.get("groups")
			parsed = parsed.clone()
			parsed.set("groups", strings.Join(uniqSorted(append(groupNames(pg), groupNames(dg)...)), ","))
			def.del("groups")
			users.set(name, firstWins(firstWins(parsed, dv.(*omap)), def))
		}
	}

	out := make([]account, 0, len(users.keys))
	for _, k := range users.keys {
		out = append(out, account{name: k, cfg: users.vals[k].(*omap)})
	}
	return out, nil
}

// defaultUser is the image's default user as its cloud.cfg describes it,
// under the old `user:` key's settings.
func (r *renderer) defaultUser(oldUser *omap) *omap {
	def := newOmap()
	if r.opt.DefaultUser != "" {
		def.set("name", r.opt.DefaultUser)
		def.set("lock_passwd", true)
		switch r.opt.PackageManager {
		case "yum": // Amazon Linux's cloud.cfg
			def.set("groups", []any{"wheel", "adm", "systemd-journal"})
		case "apt": // what Ubuntu's and Debian's have in common
			def.set("groups", []any{"adm", "sudo"})
		}
		def.set("sudo", []any{"ALL=(ALL) NOPASSWD:ALL"})
		def.set("shell", "/bin/bash")
	}
	if oldUser != nil {
		return firstWins(oldUser, def)
	}
	return def
}

// firstWins merges b into a copy of a, keeping a's values.
func firstWins(a, b *omap) *omap {
	out := a.clone()
	for _, k := range b.keys {
		if _, ok := out.get(k); !ok {
			out.set(k, b.vals[k])
		}
	}
	return out
}

// splitNames splits "a, b,,c" into names.
func splitNames(s string) []string {
	var out []string
	for n := range strings.SplitSeq(s, ",") {
		if n = strings.TrimSpace(n); n != "" {
			out = append(out, n)
		}
	}
	return out
}

// groupNames is a user's groups: "a,b", a list, or (deprecated) a
// mapping's keys.
func groupNames(v any) []string {
	switch v := v.(type) {
	case string:
		return splitNames(v)
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := scalarString(x); ok && strings.TrimSpace(s) != "" {
				out = append(out, strings.TrimSpace(s))
			}
		}
		return out
	case *omap:
		return slices.Clone(v.keys)
	}
	return nil
}

func uniqSorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return slices.Compact(s)
}

// renderGroup creates a group if it is missing and adds existing users to
// it, as cloud-init's create_group does.
func (r *renderer) renderGroup(b *strings.Builder, name string, members []string) {
	const module = "users_groups"
	if !validName(name) {
		r.warnf("%s: %q is not a valid group name: ignored", module, name)
		return
	}
	fmt.Fprintf(b, "\n# %s: group %s\n", module, name)
	fmt.Fprintf(b, "getent group %s >/dev/null || groupadd %s\n", q(name), q(name))
	for _, m := range members {
		if !validName(m) {
			r.warnf("%s: %q is not a valid user name: not added to group %s", module, m, name)
			continue
		}
		fmt.Fprintf(b, "if id -u %s >/dev/null 2>&1; then usermod -a -G %s %s; else echo %s >&2; fi\n",
			q(m), q(name), q(m), q(fmt.Sprintf("Unable to add group member '%s' to group '%s'; user does not exist.", m, name)))
	}
}

// renderUser renders cloud-init's create_user: useradd for a new user,
// then for new and existing users alike passwords, locking, sudo rules and
// SSH keys.
func (r *renderer) renderUser(b *strings.Builder, u account, sudoReady *bool) {
	const module = "users_groups"
	c := u.cfg
	if !validName(u.name) {
		r.warnf("%s: %q is not a valid user name: ignored", module, u.name)
		return
	}
	has := func(k string) bool { v, _ := c.get(k); return truthy(v) }
	if _, ok := c.get("snapuser"); ok {
		r.warnf("%s: snapuser of user %s is not supported here: user ignored", module, u.name)
		return
	}
	var noHome, needHome []string
	for _, k := range []string{"no_create_home", "system"} {
		if has(k) {
			noHome = append(noHome, k)
		}
	}
	for _, k := range []string{"ssh_authorized_keys", "ssh_import_id", "ssh_redirect_user"} {
		if has(k) {
			needHome = append(needHome, k)
		}
	}
	if len(noHome) > 0 && len(needHome) > 0 {
		r.warnf("%s: Not creating user %s. Key(s) %s cannot be provided with %s", module, u.name, strings.Join(needHome, ", "), strings.Join(noHome, ", "))
		return
	}
	for _, k := range c.keys {
		if !slices.Contains(userKeys, k) && !slices.ContainsFunc(useraddOptions, func(o struct{ key, option string }) bool { return o.key == k }) {
			r.warnf("%s: %s of user %s is not supported here: ignored", module, k, u.name)
		}
	}
	// Values that are neither names nor shell code go through q, but a NUL
	// byte cannot be in a script at all, and a newline would split a
	// chpasswd or sudoers line in two.
	for _, k := range c.keys {
		if s, ok := scalarString(c.vals[k]); ok && strings.ContainsAny(s, "\x00\n") {
			r.warnf("%s: %s of user %s holds a NUL byte or a newline: user ignored", module, k, u.name)
			return
		}
	}

	name := q(u.name)
	fmt.Fprintf(b, "\n# %s: user %s\n", module, u.name)
	fmt.Fprintf(b, "if ! id -u %s >/dev/null 2>&1; then\n", name)
	groups := groupNames(c.vals["groups"])
	create := groups
	if pg, ok := scalarString(c.vals["primary_group"]); ok && pg != "" {
		create = append(slices.Clone(groups), pg)
	}
	if v, ok := c.get("create_groups"); !ok || truthy(v) {
		for _, g := range create {
			if !validName(g) {
				r.warnf("%s: %q is not a valid group name: not created for user %s", module, g, u.name)
				continue
			}
			fmt.Fprintf(b, "\tgetent group %s >/dev/null || groupadd %s\n", q(g), q(g))
		}
	}
	args := []string{"useradd", name}
	for _, o := range useraddOptions {
		v, ok := c.get(o.key)
		switch {
		case !ok:
		case slices.Contains(useraddFlags, o.key):
			if truthy(v) {
				args = append(args, o.option)
			}
		case o.key == "groups":
			if len(groups) > 0 {
				args = append(args, o.option, q(strings.Join(groups, ",")))
			}
		default:
			if s, ok := scalarString(v); ok && s != "" {
				args = append(args, o.option, q(s))
			}
		}
	}
	if has("no_create_home") || has("system") {
		args = append(args, "-M")
	} else {
		args = append(args, "-m")
	}
	fmt.Fprintf(b, "\t%s\nfi\n", strings.Join(args, " "))

	passwordSet := false
	for _, k := range []string{"passwd", "plain_text_passwd", "hashed_passwd"} {
		if _, ok := c.get(k); ok {
			passwordSet = true
		}
	}
	if s, ok := scalarString(c.vals["plain_text_passwd"]); ok && s != "" {
		fmt.Fprintf(b, "printf '%%s:%%s\\n' %s %s | chpasswd\n", name, q(s))
	}
	if s, ok := scalarString(c.vals["hashed_passwd"]); ok && s != "" {
		fmt.Fprintf(b, "printf '%%s:%%s\\n' %s %s | chpasswd -e\n", name, q(s))
	}
	if v, ok := c.get("lock_passwd"); !ok || truthy(v) {
		fmt.Fprintf(b, "if command -v passwd >/dev/null 2>&1; then passwd -l %s; else usermod --lock %s; fi\n", name, name)
	} else if passwordSet {
		fmt.Fprintf(b, "if command -v passwd >/dev/null 2>&1; then passwd -u %s; else usermod --unlock %s; fi\n", name, name)
	} else {
		r.warnf("%s: Not unlocking password for user %s. 'lock_passwd: false' present in user-data but no 'passwd'/'plain_text_passwd'/'hashed_passwd' provided in user-data", module, u.name)
	}

	if v, ok := c.get("sudo"); ok && truthy(v) {
		r.renderSudo(b, u.name, v, sudoReady)
	}
	if v, ok := c.get("ssh_authorized_keys"); ok {
		r.renderKeys(b, u.name, v)
	}
}

// renderSudo appends a user's rules to cloud-init's sudoers file, making
// sure /etc/sudoers includes its directory.
func (r *renderer) renderSudo(b *strings.Builder, name string, v any, ready *bool) {
	const module = "users_groups"
	var rules []string
	switch v := v.(type) {
	case []any:
		for _, x := range v {
			s, ok := scalarString(x)
			if !ok || strings.ContainsAny(s, "\x00\n") {
				r.warnf("%s: sudo rule of user %s is not one line of text: ignored", module, name)
				continue
			}
			rules = append(rules, s)
		}
	default:
		s, ok := scalarString(v)
		if !ok {
			r.warnf("%s: Can not create sudoers rule addition with type '%s'", module, pyType(v))
			return
		}
		rules = []string{s}
	}
	if len(rules) == 0 {
		return
	}
	if !*ready {
		*ready = true
		fmt.Fprintf(b, "mkdir -p %s && chmod 750 %s\n", sudoersDir, sudoersDir)
		b.WriteString("if ! grep -Eqs '^[#@]includedir[[:space:]]+/etc/sudoers\\.d/?[[:space:]]*$' /etc/sudoers; then\n")
		fmt.Fprintf(b, "\tprintf '\\n#includedir %s\\n' >>/etc/sudoers && chmod 440 /etc/sudoers\nfi\n", sudoersDir)
	}
	lines := []string{q(""), q("# User rules for " + name)}
	for _, rule := range rules {
		lines = append(lines, q(name+" "+rule))
	}
	fmt.Fprintf(b, "printf '%%s\\n' %s >>%s && chmod 440 %s\n", strings.Join(lines, " "), sudoersFile, sudoersFile)
}

// renderKeys adds keys to the user's ~/.ssh/authorized_keys, keeping the
// keys already there, with the modes sshd insists on.
func (r *renderer) renderKeys(b *strings.Builder, name string, v any) {
	const module = "users_groups"
	var raw []any
	switch v := v.(type) {
	case nil:
	case []any:
		raw = v
	case *omap:
		for _, k := range v.keys {
			raw = append(raw, v.vals[k])
		}
	default:
		if _, ok := v.(string); !ok {
			r.warnf("%s: Invalid type '%s' detected for 'ssh_authorized_keys', expected list, string, dict, or set.", module, pyType(v))
			return
		}
		raw = []any{v}
	}
	var keys []string
	for _, x := range raw {
		s, ok := scalarString(x)
		switch {
		case !ok || strings.ContainsAny(s, "\x00\n"):
			r.warnf("%s: an ssh_authorized_keys entry of user %s is not one line of text: ignored", module, name)
		case strings.TrimSpace(s) != "" && !slices.Contains(keys, q(s)):
			keys = append(keys, q(s))
		}
	}
	if len(keys) == 0 {
		return
	}
	n := q(name)
	fmt.Fprintf(b, "home=$(getent passwd %s | cut -d: -f6)\n", n)
	b.WriteString("if [ -n \"$home\" ] && mkdir -p \"$home/.ssh\" && chmod 700 \"$home/.ssh\"; then\n")
	fmt.Fprintf(b, "\tfor key in %s; do\n", strings.Join(keys, " "))
	b.WriteString("\t\tgrep -qsxF -- \"$key\" \"$home/.ssh/authorized_keys\" || printf '%s\\n' \"$key\" >>\"$home/.ssh/authorized_keys\"\n")
	b.WriteString("\tdone\n")
	b.WriteString("\tchmod 600 \"$home/.ssh/authorized_keys\"\n")
	fmt.Fprintf(b, "\tchown -R \"$(id -u %s):$(id -g %s)\" \"$home/.ssh\"\n", n, n)
	fmt.Fprintf(b, "else\n\techo %s >&2\nfi\n", q(module+": cannot write ssh_authorized_keys of "+name))
}

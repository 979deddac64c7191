package cloudinit

import (
	"encoding/base64"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// supportedKeys are the cloud-config keys rendered here; merge_how and
// merge_type are consumed by merging.
var supportedKeys = []string{
	"bootcmd", "write_files", "users", "user", "groups",
	"package_update", "apt_update", "package_upgrade", "apt_upgrade", "packages",
	"runcmd",
}

// rendered is a merged cloud-config's scripts; nil when it has nothing for
// one.
type rendered struct {
	bootcmd, modules, runcmd []byte
}

// q quotes s for the shell. User data is untrusted: every value that is
// not itself meant as shell code goes through q.
func q(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// commentText is s safe to put in a shell comment: a newline would end
// the comment and make the rest code.
func commentText(s string) string {
	if strings.ContainsFunc(s, unicode.IsControl) {
		return strconv.Quote(s)
	}
	return s
}

// shellable reports whether s can appear in a shell script at all: no
// shell keeps a NUL byte.
func (r *renderer) shellable(module, what, s string) bool {
	if strings.ContainsRune(s, 0) {
		r.warnf("%s: %s contains a NUL byte: ignored", module, what)
		return false
	}
	return true
}

// cloudConfig renders a merged cloud-config.
func (r *renderer) cloudConfig(cfg *omap) (rendered, error) {
	var out rendered
	for _, k := range cfg.keys {
		if !slices.Contains(supportedKeys, k) {
			r.warnf("cloud-config: %s is not supported here: ignored", k)
		}
	}
	if v, ok := cfg.get("bootcmd"); ok {
		out.bootcmd = r.shellify("bootcmd", v)
	}

	var b strings.Builder
	if err := r.writeFiles(&b, cfg, false); err != nil {
		return rendered{}, err
	}
	r.usersGroups(&b, cfg)
	r.packages(&b, cfg)
	if err := r.writeFiles(&b, cfg, true); err != nil {
		return rendered{}, err
	}
	if b.Len() > 0 {
		out.modules = []byte("#!/bin/sh\n# cloud-config modules, in cloud-init's order\n" + b.String())
	}

	if v, ok := cfg.get("runcmd"); ok {
		out.runcmd = r.shellify("runcmd", v)
	}
	return out, nil
}

// shellify is cloud-init's: a /bin/sh script with one line per item, a
// string as it is (it is shell code, and a `cd` in one item holds for the
// next, as in cloud-init), a list as a command whose words are quoted.
func (r *renderer) shellify(module string, v any) []byte {
	items, ok := v.([]any)
	if !ok {
		r.warnf("%s: Input to shellify was type '%s'. Expected list or tuple.", module, pyType(v))
		return nil
	}
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	for i, item := range items {
		switch item := item.(type) {
		case nil:
			// A YAML comment line in the list.
		case string:
			if r.shellable(module, fmt.Sprintf("item %d", i+1), item) {
				b.WriteString(item + "\n")
			}
		case []any:
			var words []string
			for _, w := range item {
				s, ok := scalarString(w)
				if !ok {
					s = pyType(w)
				}
				words = append(words, q(s))
			}
			if line := strings.Join(words, " "); r.shellable(module, fmt.Sprintf("item %d", i+1), line) {
				b.WriteString(line + "\n")
			}
		default:
			r.warnf("%s: Unable to shellify type '%s'. Expected list, string, tuple. Got: %v", module, pyType(item), item)
			return nil
		}
	}
	return []byte(b.String())
}

// writeFiles renders write_files entries whose defer flag is deferred.
func (r *renderer) writeFiles(b *strings.Builder, cfg *omap, deferred bool) error {
	module := "write_files"
	if deferred {
		module = "write_files_deferred"
	}
	v, ok := cfg.get("write_files")
	if !ok || v == nil {
		return nil
	}
	files, ok := v.([]any)
	if !ok {
		if !deferred {
			r.warnf("%s: write_files is a %s, not a list: ignored", module, pyType(v))
		}
		return nil
	}
	for i, f := range files {
		fi, ok := f.(*omap)
		if !ok {
			if !deferred {
				r.warnf("%s: entry %d is a %s, not a mapping: ignored", module, i+1, pyType(f))
			}
			continue
		}
		if d, _ := fi.get("defer"); cfgBool(d) != deferred {
			continue
		}
		pv, _ := fi.get("path")
		p, _ := scalarString(pv)
		if p == "" {
			r.warnf("%s: No path provided to write for entry %d in module %s", module, i+1, module)
			continue
		}
		// cloud-init runs in /, so a relative path is under /.
		p = path.Clean("/" + p)
		content, ok, err := r.fileContent(module, i+1, fi)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		owner := "root:root"
		if ov, ok := fi.get("owner"); ok {
			owner, _ = scalarString(ov)
		}
		pv, _ = fi.get("permissions")
		mode := r.decodePerms(module, pv)
		appendFlag, _ := fi.get("append")
		if !r.shellable(module, "path "+strconv.Quote(p), p) || !r.shellable(module, "owner of "+p, owner) {
			continue
		}
		writeFile(b, module, p, content, chownSpec(owner), mode, cfgBool(appendFlag))
	}
	return nil
}

// writeFile renders one file: created private (umask 077) so that content
// meant for mode 600 is never readable by others, then owned, then given
// its mode (after chown, which clears setuid bits).
func writeFile(b *strings.Builder, module, p string, content []byte, owner string, mode int64, appendTo bool) {
	redirect := ">"
	if appendTo {
		redirect = ">>"
	}
	produce := "printf '%s' " + q(string(content))
	if slices.Contains(content, 0) {
		produce = "printf '%s' " + q(base64.StdEncoding.EncodeToString(content)) + " | base64 -d"
	}
	fmt.Fprintf(b, "\n# %s: %s\n", module, commentText(p))
	if dir := path.Dir(p); dir != "/" {
		fmt.Fprintf(b, "mkdir -p -- %s &&\n\t", q(dir))
	}
	fmt.Fprintf(b, "(umask 077 && %s %s%s) &&\n", produce, redirect, q(p))
	if owner != "" {
		fmt.Fprintf(b, "\tchown -- %s %s &&\n", q(owner), q(p))
	}
	fmt.Fprintf(b, "\tchmod %o %s ||\n", mode, q(p))
	fmt.Fprintf(b, "\techo %s >&2\n", q(module+": failed to write "+p))
}

// fileContent is an entry's content after its encoding: ok is false when
// the entry is skipped.
func (r *renderer) fileContent(module string, n int, fi *omap) (content []byte, ok bool, err error) {
	cv, hasContent := fi.get("content")
	if src, ok := fi.get("source"); ok && src != nil {
		r.warnf("%s: entry %d: source is not fetched here; using content", module, n)
	}
	if !hasContent || cv == nil {
		if src, _ := fi.get("source"); src != nil {
			r.warnf("%s: No content could be loaded for entry %d in module %s; skipping", module, n, module)
			return nil, false, nil
		}
		return nil, true, nil
	}
	s, ok := scalarString(cv)
	if !ok {
		r.warnf("%s: entry %d: content is a %s, not text: skipped", module, n, pyType(cv))
		return nil, false, nil
	}
	content = []byte(s)
	ev, _ := fi.get("encoding")
	enc, _ := scalarString(ev)
	var steps []string
	switch e := strings.ToLower(strings.TrimSpace(enc)); e {
	case "gz", "gzip":
		steps = []string{"gzip"}
	case "gz+base64", "gzip+base64", "gz+b64", "gzip+b64":
		steps = []string{"base64", "gzip"}
	case "b64", "base64":
		steps = []string{"base64"}
	case "", "text/plain":
	default:
		r.warnf("%s: Unknown encoding type %s, assuming text/plain", module, e)
	}
	for _, step := range steps {
		if step == "base64" {
			if content, err = decodeBase64(content); err != nil {
				r.warnf("%s: entry %d: content is not valid base64: skipped", module, n)
				return nil, false, nil
			}
			continue
		}
		out, ok, err := r.gunzip(content)
		if err != nil {
			return nil, false, err
		}
		if !ok {
			r.warnf("%s: entry %d: content is not valid gzip: skipped", module, n)
			return nil, false, nil
		}
		content = out
	}
	return content, true, nil
}

// decodePerms reads permissions as cloud-init does: a number as it is (so
// YAML's 0644 is octal), a string as octal ("0644", "644", "0o644").
func (r *renderer) decodePerms(module string, v any) int64 {
	const def = 0o644
	var mode int64
	switch v := v.(type) {
	case nil:
		return def
	case int:
		mode = int64(v)
	case float64:
		mode = int64(v)
	default:
		s, _ := scalarString(v)
		s = strings.TrimSpace(s)
		s = strings.TrimPrefix(strings.TrimPrefix(s, "0o"), "0O")
		m, err := strconv.ParseInt(s, 8, 64)
		if err != nil {
			mode = -1
			break
		}
		mode = m
	}
	if mode < 0 || mode > 0o7777 {
		r.warnf("%s: Undecodable permissions %v, returning default %o", module, v, def)
		return def
	}
	return mode
}

// chownSpec is "user:group" for chown from cloud-init's owner form, where
// a missing, empty, "-1" or "none" part is left alone; "" leaves both.
func chownSpec(owner string) string {
	u, g, hasGroup := strings.Cut(owner, ":")
	keep := func(s string) string {
		s = strings.TrimSpace(s)
		if s == "-1" || strings.EqualFold(s, "none") {
			return ""
		}
		return s
	}
	u, g = keep(u), keep(g)
	switch {
	case u == "" && g == "":
		return ""
	case !hasGroup || g == "":
		return u
	}
	return u + ":" + g
}

// packages renders package_update_upgrade_install.
func (r *renderer) packages(b *strings.Builder, cfg *omap) {
	const module = "package_update_upgrade_install"
	get := func(k string) bool { v, _ := cfg.get(k); return cfgBool(v) }
	update := get("apt_update") || get("package_update")
	upgrade := get("package_upgrade") || get("apt_upgrade")
	var list []any
	if v, ok := cfg.get("packages"); ok {
		if s, ok := scalarString(v); ok {
			list = []any{s}
		} else {
			list, _ = v.([]any)
		}
	}
	if !update && !upgrade && len(list) == 0 {
		return
	}
	if r.opt.PackageManager == "" {
		r.warnf("%s: this image has no package manager here: ignored", module)
		return
	}
	pkgs, ok := r.packageList(list)
	if !ok {
		r.warnf("%s: Failure when attempting to install packages: %v", module, pyList(list))
	}
	if !update && !upgrade && len(pkgs) == 0 {
		return
	}
	fmt.Fprintf(b, "\n# %s\n", module)
	if r.opt.PackageManager == "apt" {
		b.WriteString("pkg() { DEBIAN_FRONTEND=noninteractive apt-get --option=Dpkg::Options::=--force-confold --option=DPkg::Lock::Timeout=300 --assume-yes --quiet \"$@\"; }\n")
		// apt-get installs only from fresh lists: update once, first.
		if update || upgrade || len(pkgs) > 0 {
			b.WriteString("pkg update\n")
		}
		if upgrade {
			b.WriteString("pkg dist-upgrade\n")
		}
	} else {
		b.WriteString("pkg() { if command -v dnf >/dev/null 2>&1; then dnf -y \"$@\"; else yum -t -y \"$@\"; fi; }\n")
		if update || upgrade {
			b.WriteString("pkg makecache\n")
		}
		if upgrade {
			b.WriteString("pkg upgrade\n")
		}
	}
	if len(pkgs) > 0 {
		words := make([]string, len(pkgs))
		for i, p := range pkgs {
			words[i] = q(p)
		}
		fmt.Fprintf(b, "pkg install %s\n", strings.Join(words, " "))
	}
}

// packageList spells packages for the package manager: a name, or
// [name, version] as name=version (apt) or name-version (yum). An
// {apt: [...]} item counts on apt images only. ok is false, and nothing is
// installed, when an item is none of these, as in cloud-init.
func (r *renderer) packageList(list []any) (pkgs []string, ok bool) {
	const module = "package_update_upgrade_install"
	sep := "-"
	if r.opt.PackageManager == "apt" {
		sep = "="
	}
	for _, item := range list {
		switch item := item.(type) {
		case string:
			pkgs = append(pkgs, item)
		case []any:
			if len(item) < 1 || len(item) > 2 {
				return nil, false
			}
			name, ok := scalarString(item[0])
			if !ok {
				return nil, false
			}
			if len(item) == 2 && truthy(item[1]) {
				version, ok := scalarString(item[1])
				if !ok {
					return nil, false
				}
				name += sep + version
			}
			pkgs = append(pkgs, name)
		case *omap:
			for _, k := range item.keys {
				if k != "apt" || r.opt.PackageManager != "apt" {
					r.warnf("%s: Cannot install packages under '%s' as it is not a supported package manager here", module, k)
					continue
				}
				sub, ok := item.vals[k].([]any)
				if !ok {
					return nil, false
				}
				more, ok := r.packageList(sub)
				if !ok {
					return nil, false
				}
				pkgs = append(pkgs, more...)
			}
		default:
			return nil, false
		}
	}
	for _, p := range pkgs {
		if !r.shellable(module, "package "+strconv.Quote(p), p) {
			return nil, false
		}
	}
	return pkgs, true
}

// pyList shows a list for a warning.
func pyList(l []any) string {
	parts := make([]string, len(l))
	for i, v := range l {
		if s, ok := scalarString(v); ok {
			parts[i] = strconv.Quote(s)
		} else {
			parts[i] = pyType(v)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

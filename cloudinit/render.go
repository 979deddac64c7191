package cloudinit

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Options say what the image has.
type Options struct {
	// PackageManager installs packages: "yum" (Amazon Linux, CentOS:
	// dnf where the image has it, else `yum -t -y install ...`) or "apt"
	// (Ubuntu, Debian: `apt-get update` once, then
	// `DEBIAN_FRONTEND=noninteractive apt-get install ...`). Empty means
	// the image has none: package keys are reported, not run.
	PackageManager string
	// DefaultUser is the image's default user (ec2-user, ubuntu, admin),
	// what cloud-config's `users: [default, ...]` creates. Empty means the
	// image has none.
	DefaultUser string
}

// Script is one program to run, in order.
type Script struct {
	// Name is cloud-init's file name for scripts it runs from
	// /var/lib/cloud/instance/scripts ("part-001", "runcmd", or the MIME
	// part's file name). Every other script's name has a colon, which
	// cloud-init's file names never do, so names are unique:
	// "boothook:part-001", "cloud-config:bootcmd", "cloud-config:modules",
	// "per-once:x.sh", "per-boot:x.sh", "per-instance:x.sh".
	Name string
	// Content starts with "#!".
	Content []byte
}

// Plan is what first boot runs.
type Plan struct {
	Scripts []Script
	// Warnings are parts ignored and keys not supported, in cloud-init's
	// words where it has them, for the console.
	Warnings []string
}

// renderer holds one Render's state.
type renderer struct {
	opt      Options
	budget   int // bytes gzip may still produce
	parts    []part
	warnings []string
}

func (r *renderer) warnf(format string, args ...any) {
	r.warnings = append(r.warnings, fmt.Sprintf(format, args...))
}

// Render turns EC2 user data into the scripts cloud-init would run on first
// boot, in the order it would run them. User data cloud-init would ignore
// or fail on gives warnings, not an error; the error is for options that
// make no sense and for compressed data over 16 MiB (ErrTooLarge).
func Render(userData []byte, opt Options) (Plan, error) {
	switch opt.PackageManager {
	case "", "yum", "apt":
	default:
		return Plan{}, fmt.Errorf("cloudinit: unknown package manager %q", opt.PackageManager)
	}
	if len(userData) == 0 {
		return Plan{}, nil
	}
	r := &renderer{opt: opt, budget: maxDecompressed}
	data := userData
	if bytes.HasPrefix(data, []byte{0x1f, 0x8b}) {
		out, ok, err := r.gunzip(data)
		if err != nil {
			return Plan{}, err
		}
		// Like cloud-init, data that only looks like gzip is used as it is.
		if ok {
			data = out
		}
	}
	if err := r.split(data); err != nil {
		return Plan{}, err
	}
	return r.plan()
}

// plan hands each part to its handler and orders the scripts as
// cloud-init's stages run them on first boot:
//
//  1. boothooks, in part order: the init stage runs each as it consumes
//     the user data, before any module;
//  2. bootcmd: the first init-stage module;
//  3. the other modules rendered here, in their stage order: write_files
//     and users_groups (init stage), package_update_upgrade_install and
//     write_files_deferred (final stage; on Amazon Linux 2 packages run in
//     the config stage, which is the same order relative to these);
//  4. scripts_per_once, scripts_per_boot, scripts_per_instance, each
//     directory in name order (final stage);
//  5. scripts_user: every x-shellscript part and runcmd's script, which
//     the config-stage runcmd module only writes to the same directory.
//     run-parts runs that directory sorted by name, so runcmd runs after
//     part-001..part-NNN and after any name before "runcmd".
func (r *renderer) plan() (Plan, error) {
	var (
		boothooks []Script
		configs   []part
		user      = map[string][]byte{}
		freq      = map[string]map[string][]byte{"per-once": {}, "per-boot": {}, "per-instance": {}}
	)
	for _, p := range r.parts {
		switch p.ctype {
		case typeCloudConfig:
			configs = append(configs, p)
		case typeShellScript:
			if content, ok := r.script(p, dos2unix(p.payload)); ok {
				r.keep(user, cleanFilename(p.filename), content, p)
			}
		case typeBoothook:
			body := bytes.TrimLeftFunc(bytes.TrimPrefix(dos2unix(p.payload), []byte("#cloud-boothook")), unicode.IsSpace)
			content, ok := r.script(p, body)
			if name := cleanFilename(p.filename); ok && r.fileName(p, name) {
				boothooks = append(boothooks, Script{Name: unique(boothooks, "boothook:"+name), Content: content})
			}
		case typePerOnce, typePerBoot, typePerInstance:
			kind := strings.TrimPrefix(p.ctype, "text/x-shellscript-")
			if kind == "per-boot" {
				r.warnf("%s part %s runs on first boot only here", p.ctype, p.filename)
			}
			if content, ok := r.script(p, dos2unix(p.payload)); ok {
				base := p.filename[strings.LastIndexByte(p.filename, '/')+1:]
				r.keep(freq[kind], cleanFilename(base), content, p)
			}
		case typeJSONP, typePartHandler, typeJinja, typeUpstartJob:
			r.warnf("%s part %s is not supported here: ignored", p.ctype, p.filename)
		default:
			if len(p.payload) == 0 {
				continue
			}
			if p.ctype == typeNotMultipart {
				r.warnf("Unhandled non-multipart (%s) userdata: '%s...'", p.ctype, start(p.payload))
			} else {
				r.warnf("Unhandled unknown content-type (%s) userdata: '%s...'", p.ctype, start(p.payload))
			}
		}
	}

	var plan Plan
	plan.Scripts = append(plan.Scripts, boothooks...)
	if cfg := r.mergeParts(configs); cfg != nil {
		cc, err := r.cloudConfig(cfg)
		if err != nil {
			return Plan{}, err
		}
		if cc.bootcmd != nil {
			plan.Scripts = append(plan.Scripts, Script{Name: "cloud-config:bootcmd", Content: cc.bootcmd})
		}
		if cc.modules != nil {
			plan.Scripts = append(plan.Scripts, Script{Name: "cloud-config:modules", Content: cc.modules})
		}
		if cc.runcmd != nil {
			if _, ok := user["runcmd"]; ok {
				r.warnf("runcmd: replaces the x-shellscript part named runcmd")
			}
			user["runcmd"] = cc.runcmd
		}
	}
	for _, kind := range []string{"per-once", "per-boot", "per-instance"} {
		plan.Scripts = append(plan.Scripts, sorted(freq[kind], kind+":")...)
	}
	plan.Scripts = append(plan.Scripts, sorted(user, "")...)
	plan.Warnings = r.warnings
	return plan, nil
}

// script checks that a part can run: cloud-init writes it as a file and
// executes it, which fails for a file that does not start with "#!".
func (r *renderer) script(p part, content []byte) ([]byte, bool) {
	if !bytes.HasPrefix(content, []byte("#!")) {
		r.warnf("%s part %s does not start with #!, so it cannot be executed (Exec format error): ignored", p.ctype, p.filename)
		return nil, false
	}
	return content, true
}

// keep writes a script into a directory of them, as cloud-init does: a
// later part of the same name replaces an earlier one.
func (r *renderer) keep(dir map[string][]byte, name string, content []byte, p part) {
	if !r.fileName(p, name) {
		return
	}
	if _, ok := dir[name]; ok {
		r.warnf("%s part %s replaces an earlier part of the same name", p.ctype, p.filename)
	}
	dir[name] = content
}

// fileName reports whether cloud-init could write a part to a file of
// this (cleaned) name in its directory.
func (r *renderer) fileName(p part, name string) bool {
	if name == "" || name == "." || name == ".." {
		r.warnf("%s part %s: %q is not a file name cloud-init can write: ignored", p.ctype, p.filename, name)
		return false
	}
	return true
}

// sorted is a directory of scripts in run-parts order.
func sorted(dir map[string][]byte, prefix string) []Script {
	var out []Script
	for _, name := range slices.Sorted(maps.Keys(dir)) {
		out = append(out, Script{Name: prefix + name, Content: dir[name]})
	}
	return out
}

// unique is name, or name with a number added if a script has it:
// cloud-init runs every boothook, even two of one name.
func unique(scripts []Script, name string) string {
	taken := func(n string) bool {
		return slices.ContainsFunc(scripts, func(s Script) bool { return s.Name == n })
	}
	out := name
	for i := 2; taken(out); i++ {
		out = fmt.Sprintf("%s:%d", name, i)
	}
	return out
}

// start is how cloud-init shows a part it ignores: its first line, at
// most 24 characters, escaped.
func start(payload []byte) string {
	line, _, _ := bytes.Cut(payload, []byte("\n"))
	end := 0
	for n := 0; n < 24 && end < len(line); n++ {
		_, size := utf8.DecodeRune(line[end:])
		end += size
	}
	q := strconv.Quote(string(line[:end]))
	return q[1 : len(q)-1]
}

package cloudinit

import (
	"flag"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/*.sh from what Render makes")

// fullConfig uses every module and most keys, with values that would
// break out of careless quoting.
const fullConfig = `#cloud-config
bootcmd:
  - echo "booting $INSTANCE_ID"
  - [mkdir, -p, "/run/it's here"]
write_files:
  - path: /etc/app/app.conf
    content: |
      name = 'app'
      cmd = $(rm -rf /)
    permissions: '0640'
    owner: app:app
  - path: var/lib/relative
    encoding: b64
    content: aGVsbG8K
  - path: "/etc/odd\nname"
    content: odd
  - path: /etc/late.conf
    content: late
    defer: true
    append: true
groups:
  - admins: [ec2-user]
  - "ops; rm -rf /"
users:
  - default
  - name: alice
    gecos: "Alice 'A' Smith"
    groups: [admins, docker]
    shell: /bin/zsh
    sudo: "ALL=(ALL) NOPASSWD:ALL"
    ssh_authorized_keys: ["ssh-ed25519 AAAAC3 alice@laptop"]
  - name: svc
    system: true
    uid: 990
    homedir: /srv/svc
package_update: true
package_upgrade: true
packages:
  - nginx
  - [curl, "7.88.1-10"]
  - "x'; touch /pwned; '"
runcmd:
  - cd /tmp
  - [sh, -c, "echo 'quoted' && echo $HOME"]
  -
`

func TestRenderGolden(t *testing.T) {
	for _, tt := range []struct {
		file string
		opt  Options
	}{
		{"testdata/full-yum.sh", Options{PackageManager: "yum", DefaultUser: "ec2-user"}},
		{"testdata/full-apt.sh", Options{PackageManager: "apt", DefaultUser: "ubuntu"}},
	} {
		t.Run(tt.file, func(t *testing.T) {
			p := render(t, fullConfig, tt.opt)
			want := []string{"cloud-config:bootcmd", "cloud-config:modules", "runcmd"}
			if got := scriptNames(p); !slices.Equal(got, want) {
				t.Fatalf("scripts %q, want %q", got, want)
			}
			wantWarnings := []string{`users_groups: "ops; rm -rf /" is not a valid group name: ignored`}
			if !slices.Equal(p.Warnings, wantWarnings) {
				t.Errorf("warnings %q, want %q", p.Warnings, wantWarnings)
			}
			got := dump(p.Scripts)
			if *update {
				if err := os.WriteFile(tt.file, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want2, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want2) {
				t.Errorf("rendered scripts differ from %s (go test -update rewrites it):\n%s", tt.file, got)
			}
		})
	}
}

// TestWriteFilesRun runs write_files with every encoding and option under
// a temporary directory and checks the files.
func TestWriteFilesRun(t *testing.T) {
	dir := t.TempDir()
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	grp, err := user.LookupGroupId(me.Gid)
	if err != nil {
		t.Fatal(err)
	}
	owner := me.Username + ":" + grp.Name
	binary := []byte{'a', 0, 'b', 0xff, '\n'}
	cfg := fmt.Sprintf(`#cloud-config
write_files:
- {path: %[1]s/order, content: "deferred\n", append: true, defer: true}
- {path: %[1]s/order, content: "first\n", owner: %[2]q}
- path: %[1]s/plain.txt
  owner: %[2]q
  permissions: '0600'
  content: |
    it's $(touch pwned) `+"`touch pwned2`"+` "$HOME"
- {path: "%[1]s/sub dir/it's.b64", owner: %[2]q, encoding: base64, permissions: 0755, content: "aGVs bG8K"}
- {path: %[1]s/zipped, owner: %[2]q, encoding: gz+b64, content: %[3]s, permissions: "0o640"}
- {path: %[1]s/binary, owner: %[2]q, content: !!binary %[4]s}
- {path: %[1]s/gzip-binary, owner: %[2]q, encoding: gzip, content: !!binary %[3]s}
- {path: "%[1]s/new\nline", owner: %[2]q, content: x}
- {path: %[1]s/empty, owner: %[2]q}
- {path: %[1]s/bad-perms, owner: %[2]q, content: x, permissions: rwx}
- {path: %[1]s/unknown-encoding, owner: %[2]q, content: x, encoding: rot13}
- {path: %[1]s/from-url, owner: %[2]q, source: {uri: "https://example.com/x"}}
- {path: %[1]s/bad-b64, owner: %[2]q, content: "a", encoding: b64}
- {content: no path}
- not a mapping
`, dir, owner, b64(gz(t, []byte("unzipped\n"))), b64(binary))

	p := render(t, cfg, Options{})
	wantWarnings := []string{
		"write_files: Undecodable permissions rwx, returning default 644",
		"write_files: Unknown encoding type rot13, assuming text/plain",
		"write_files: entry 12: source is not fetched here; using content",
		"write_files: No content could be loaded for entry 12 in module write_files; skipping",
		"write_files: entry 13: content is not valid base64: skipped",
		"write_files: No path provided to write for entry 14 in module write_files",
		"write_files: entry 15 is a str, not a mapping: ignored",
	}
	if !slices.Equal(p.Warnings, wantWarnings) {
		t.Errorf("warnings:\n%q\nwant:\n%q", p.Warnings, wantWarnings)
	}
	run(t, script(p, "cloud-config:modules"), dir)

	for _, f := range []struct {
		name    string
		content string
		mode    os.FileMode
	}{
		{"order", "first\ndeferred\n", 0o644},
		{"plain.txt", "it's $(touch pwned) `touch pwned2` \"$HOME\"\n", 0o600},
		{"sub dir/it's.b64", "hello\n", 0o755},
		{"zipped", "unzipped\n", 0o640},
		{"binary", string(binary), 0o644},
		{"gzip-binary", "unzipped\n", 0o644},
		{"new\nline", "x", 0o644},
		{"empty", "", 0o644},
		{"bad-perms", "x", 0o644},
		{"unknown-encoding", "x", 0o644},
	} {
		path := filepath.Join(dir, f.name)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v", f.name, err)
			continue
		}
		if string(b) != f.content {
			t.Errorf("%s holds %q, want %q", f.name, b, f.content)
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm() != f.mode {
			t.Errorf("%s has mode %v, want %v", f.name, fi.Mode().Perm(), f.mode)
		}
	}
	for _, f := range []string{"pwned", "pwned2", "from-url", "bad-b64"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			t.Errorf("%s exists", f)
		}
	}
}

// TestWriteFilesDefaults renders what runs as root on an instance:
// relative paths under /, root:root, mode 644, and owners cloud-init
// leaves alone.
func TestWriteFilesDefaults(t *testing.T) {
	p := render(t, `#cloud-config
write_files:
- {path: etc/motd, content: hi}
- {path: /a, owner: "bob"}
- {path: /b, owner: ":staff"}
- {path: /c, owner: null}
- {path: /d, owner: "none:-1"}
`, Options{})
	want := `#!/bin/sh
# cloud-config modules, in cloud-init's order

# write_files: /etc/motd
mkdir -p -- '/etc' &&
	(umask 077 && printf '%s' 'hi' >'/etc/motd') &&
	chown -- 'root:root' '/etc/motd' &&
	chmod 644 '/etc/motd' ||
	echo 'write_files: failed to write /etc/motd' >&2

# write_files: /a
(umask 077 && printf '%s' '' >'/a') &&
	chown -- 'bob' '/a' &&
	chmod 644 '/a' ||
	echo 'write_files: failed to write /a' >&2

# write_files: /b
(umask 077 && printf '%s' '' >'/b') &&
	chown -- ':staff' '/b' &&
	chmod 644 '/b' ||
	echo 'write_files: failed to write /b' >&2

# write_files: /c
(umask 077 && printf '%s' '' >'/c') &&
	chmod 644 '/c' ||
	echo 'write_files: failed to write /c' >&2

# write_files: /d
(umask 077 && printf '%s' '' >'/d') &&
	chmod 644 '/d' ||
	echo 'write_files: failed to write /d' >&2
`
	if got := string(script(p, "cloud-config:modules")); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestCommandsRun runs bootcmd and runcmd: strings are shell code (a cd
// holds for the next line), lists are argv with every word quoted.
func TestCommandsRun(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	p := render(t, `#cloud-config
bootcmd:
  - echo boot > bootcmd.out
runcmd:
  - cd sub
  - [sh, -c, 'echo "$0|$1" > argv.out', "a b", "$(touch ../pwned); 'q'"]
  - - printf
    - '%s|%s|%s\n'
    - 42
    - true
    - 1.5
  -
  - |
    for i in 1 2; do
      echo "line $i" >> multi.out
    done
`, Options{})
	run(t, script(p, "cloud-config:bootcmd"), dir)
	out := run(t, script(p, "runcmd"), dir)
	for f, want := range map[string]string{
		"bootcmd.out":   "boot\n",
		"sub/argv.out":  "a b|$(touch ../pwned); 'q'\n",
		"sub/multi.out": "line 1\nline 2\n",
	} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || string(b) != want {
			t.Errorf("%s: %q, %v; want %q", f, b, err, want)
		}
	}
	if out != "42|True|1.5\n" {
		t.Errorf("runcmd printed %q", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("a list word ran as shell code")
	}
}

func TestShellifyErrors(t *testing.T) {
	p := render(t, "#cloud-config\nbootcmd: echo hi\nruncmd:\n- echo a\n- {a: 1}\n", Options{})
	if len(p.Scripts) != 0 {
		t.Errorf("scripts %q", scriptNames(p))
	}
	want := []string{
		"bootcmd: Input to shellify was type 'str'. Expected list or tuple.",
		"runcmd: Unable to shellify type 'dict'. Expected list, string, tuple. Got: &{[a] map[a:1]}",
	}
	if !slices.Equal(p.Warnings, want) {
		t.Errorf("warnings %q, want %q", p.Warnings, want)
	}

	p = render(t, "#cloud-config\nruncmd:\n- \"echo \\0\"\n- [echo, \"\\0\"]\n- echo ok\n", Options{})
	if got := string(script(p, "runcmd")); got != "#!/bin/sh\necho ok\n" {
		t.Errorf("runcmd %q", got)
	}
	want = []string{"runcmd: item 1 contains a NUL byte: ignored", "runcmd: item 2 contains a NUL byte: ignored"}
	if !slices.Equal(p.Warnings, want) {
		t.Errorf("warnings %q, want %q", p.Warnings, want)
	}
}

// stubs puts logging stand-ins for the account and package tools first in
// PATH. Each logs its name and arguments, one per field, to dir/log.
// Users and groups it creates exist afterwards for id and getent.
func stubs(t *testing.T, dir string, names ...string) {
	t.Helper()
	bin := filepath.Join(dir, "bin")
	for _, d := range []string{bin, filepath.Join(dir, "users"), filepath.Join(dir, "groups"), filepath.Join(dir, "home")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	log := `{ printf '%s' "${0##*/}"; for a in "$@"; do printf '|%s' "$a"; done; echo; } >>"$STUBS/log"` + "\n"
	bodies := map[string]string{
		"useradd":  log + `touch "$STUBS/users/$1"; mkdir -p "$STUBS/home/$1"`,
		"groupadd": log + `touch "$STUBS/groups/$1"`,
		"id":       `[ -e "$STUBS/users/$2" ] || exit 1; exec /usr/bin/id "$1"`,
		"getent": `case $1 in
passwd) [ -e "$STUBS/users/$2" ] && echo "$2:x:1:1::$STUBS/home/$2:/bin/sh" ;;
group) [ -e "$STUBS/groups/$2" ] ;;
esac`,
		"chpasswd": log + `{ printf 'stdin|'; cat; } >>"$STUBS/log"`,
	}
	for _, n := range names {
		body, ok := bodies[n]
		if !ok {
			body = log
		}
		if err := os.WriteFile(filepath.Join(bin, n), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func readLog(t *testing.T, dir string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
}

// TestUsersRun runs users_groups against stand-ins for useradd and
// friends, with /etc/sudoers moved under a temporary directory.
func TestUsersRun(t *testing.T) {
	dir := t.TempDir()
	stubs(t, dir, "useradd", "groupadd", "usermod", "passwd", "chpasswd", "id", "getent")
	if err := os.MkdirAll(filepath.Join(dir, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "etc/sudoers"), []byte("root ALL=(ALL) ALL\n"), 0o440); err != nil {
		t.Fatal(err)
	}
	p := render(t, `#cloud-config
groups:
  - admins: [alice]
  - ops
users:
  - default
  - name: alice
    gecos: "Alice 'A' Smith"
    groups: admins, docker
    sudo: ["ALL=(ALL) NOPASSWD:ALL", "ALL=(root) /usr/bin/id"]
    lock_passwd: false
    plain_text_passwd: "s3cret 'x'"
    ssh_authorized_keys:
      - ssh-ed25519 AAAAC3 alice@laptop
      - ssh-ed25519 AAAAC3 alice@laptop
      - "ssh-rsa AAAAB3 $(touch pwned)"
  - name: svc
    system: true
    uid: 990
    no-log-init: true
  - name: locked-out
    lock_passwd: false
  - bob
  - name: ec2-user
    groups: [docker]
    shell: /bin/zsh
`, Options{PackageManager: "yum", DefaultUser: "ec2-user"})
	wantWarnings := []string{"users_groups: Not unlocking password for user locked-out. 'lock_passwd: false' present in user-data but no 'passwd'/'plain_text_passwd'/'hashed_passwd' provided in user-data"}
	if !slices.Equal(p.Warnings, wantWarnings) {
		t.Errorf("warnings %q, want %q", p.Warnings, wantWarnings)
	}
	modules := strings.ReplaceAll(string(script(p, "cloud-config:modules")), "/etc/sudoers", dir+"/etc/sudoers")
	out := run(t, []byte(modules), dir, "STUBS="+dir, "PATH="+filepath.Join(dir, "bin")+":"+os.Getenv("PATH"))
	if want := "Unable to add group member 'alice' to group 'admins'; user does not exist.\n"; out != want {
		t.Errorf("output %q, want %q", out, want)
	}

	want := []string{
		"groupadd|admins",
		"groupadd|ops",
		"groupadd|docker",
		"useradd|alice|--comment|Alice 'A' Smith|--groups|admins,docker|-m",
		"chpasswd",
		"stdin|alice:s3cret 'x'",
		"passwd|-u|alice",
		"useradd|svc|--no-log-init|--system|--uid|990|-M",
		"passwd|-l|svc",
		"useradd|locked-out|-m",
		"useradd|bob|-m",
		"passwd|-l|bob",
		"groupadd|adm",
		"groupadd|systemd-journal",
		"groupadd|wheel",
		"useradd|ec2-user|--groups|adm,docker,systemd-journal,wheel|--shell|/bin/zsh|-m",
		"passwd|-l|ec2-user",
	}
	if got := readLog(t, dir); !slices.Equal(got, want) {
		t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	keys := filepath.Join(dir, "home/alice/.ssh/authorized_keys")
	b, err := os.ReadFile(keys)
	if want := "ssh-ed25519 AAAAC3 alice@laptop\nssh-rsa AAAAB3 $(touch pwned)\n"; err != nil || string(b) != want {
		t.Errorf("authorized_keys %q, %v; want %q", b, err, want)
	}
	for path, mode := range map[string]os.FileMode{keys: 0o600, filepath.Dir(keys): 0o700, dir + "/etc/sudoers.d/90-cloud-init-users": 0o440, dir + "/etc/sudoers": 0o440} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v, want mode %v", path, err, mode)
		}
	}
	b, err = os.ReadFile(dir + "/etc/sudoers.d/90-cloud-init-users")
	if want := "\n# User rules for alice\nalice ALL=(ALL) NOPASSWD:ALL\nalice ALL=(root) /usr/bin/id\n\n# User rules for ec2-user\nec2-user ALL=(ALL) NOPASSWD:ALL\n"; err != nil || string(b) != want {
		t.Errorf("sudoers rules %q, %v; want %q", b, err, want)
	}
	b, err = os.ReadFile(dir + "/etc/sudoers")
	if want := "root ALL=(ALL) ALL\n\n#includedir " + dir + "/etc/sudoers.d\n"; err != nil || string(b) != want {
		t.Errorf("sudoers %q, %v; want %q", b, err, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("a key ran as shell code")
	}

	// A second run finds the users there: no useradd, keys not repeated.
	if err := os.Remove(filepath.Join(dir, "log")); err != nil {
		t.Fatal(err)
	}
	run(t, []byte(modules), dir, "STUBS="+dir, "PATH="+filepath.Join(dir, "bin")+":"+os.Getenv("PATH"))
	for _, line := range readLog(t, dir) {
		if strings.HasPrefix(line, "useradd") || strings.HasPrefix(line, "groupadd") {
			t.Errorf("second run: %s", line)
		}
	}
	if b, _ := os.ReadFile(keys); strings.Count(string(b), "\n") != 2 {
		t.Errorf("second run: authorized_keys %q", b)
	}
}

func TestUsersNormalization(t *testing.T) {
	tests := []struct {
		name     string
		cfg      string
		opt      Options
		users    []string // useradd lines in order
		warnings []string
	}{
		{
			name:  "users as a string",
			cfg:   "users: carol, alice ,bob",
			users: []string{"useradd 'alice' -m", "useradd 'bob' -m", "useradd 'carol' -m"},
		},
		{
			name:  "users as a mapping",
			cfg:   "users:\n  zed: true\n  off: false\n  amy: {shell: /bin/sh}",
			users: []string{"useradd 'zed' -m", "useradd 'amy' --shell '/bin/sh' -m"},
		},
		{
			name:  "old user key renames the default user",
			cfg:   "user: {name: admin, shell: /bin/sh}",
			opt:   Options{PackageManager: "apt", DefaultUser: "ubuntu"},
			users: []string{"useradd 'admin' --groups 'adm,sudo' --shell '/bin/sh' -m"},
		},
		{
			name:     "default without a default user",
			cfg:      "users: [default, dan]",
			users:    []string{"useradd 'dan' -m"},
			warnings: []string{"users_groups: default: this image has no default user: ignored"},
		},
		{
			name:  "entries of one name merge, the first winning",
			cfg:   "users:\n- {name: eve, shell: /bin/a}\n- {name: eve, shell: /bin/b, gecos: Eve}",
			users: []string{"useradd 'eve' --comment 'Eve' --shell '/bin/a' -m"},
		},
		{
			name: "keys not supported",
			cfg:  "users:\n- {name: fay, doas: [permit fay], ssh_import_id: [gh:fay]}\n- {name: gus, snapuser: gus@example.com}",
			warnings: []string{
				"users_groups: doas of user fay is not supported here: ignored",
				"users_groups: ssh_import_id of user fay is not supported here: ignored",
				"users_groups: snapuser of user gus is not supported here: user ignored",
			},
			users: []string{"useradd 'fay' -m"},
		},
		{
			name:     "no home and keys",
			cfg:      "users:\n- {name: hal, no_create_home: true, ssh_authorized_keys: [k]}",
			warnings: []string{"users_groups: Not creating user hal. Key(s) ssh_authorized_keys cannot be provided with no_create_home"},
		},
		{
			name:     "bad names",
			cfg:      "users:\n- {name: '-o'}\n- {name: 'a b'}\n- {name: \"x\\ny\"}",
			warnings: []string{`users_groups: "-o" is not a valid user name: ignored`, `users_groups: "a b" is not a valid user name: ignored`, `users_groups: "x\ny" is not a valid user name: ignored`},
		},
		{
			name:     "newline in a value",
			cfg:      "users:\n- {name: ivy, plain_text_passwd: \"a\\nroot:x\"}",
			warnings: []string{"users_groups: plain_text_passwd of user ivy holds a NUL byte or a newline: user ignored"},
		},
		{
			name:     "bad users type",
			cfg:      "users: 42",
			warnings: []string{"users_groups: Format for 'users' key must be a comma-separated string or a dictionary or a list but found int"},
		},
		{
			name:     "bad groups type",
			cfg:      "groups: 42\nusers: [jon]",
			warnings: []string{"users_groups: Group config must be list, dict or string type only but found int"},
		},
		{
			name:  "create_groups false",
			cfg:   "users:\n- {name: kim, groups: [g1], primary_group: pg, create_groups: false}",
			users: []string{"useradd 'kim' --groups 'g1' --gid 'pg' -m"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := render(t, "#cloud-config\n"+tt.cfg+"\n", tt.opt)
			var users []string
			for _, line := range strings.Split(string(script(p, "cloud-config:modules")), "\n") {
				if line = strings.TrimSpace(line); strings.HasPrefix(line, "useradd ") {
					users = append(users, line)
				}
			}
			if !slices.Equal(users, tt.users) {
				t.Errorf("useradd:\n%q\nwant:\n%q", users, tt.users)
			}
			if !slices.Equal(p.Warnings, tt.warnings) {
				t.Errorf("warnings:\n%q\nwant:\n%q", p.Warnings, tt.warnings)
			}
		})
	}
}

// TestPackagesRun runs package_update_upgrade_install against stand-ins
// for apt-get, dnf and yum.
func TestPackagesRun(t *testing.T) {
	cfg := `#cloud-config
package_update: true
package_upgrade: yes
packages: [nginx, [curl, "7.1"], [vim], [jq, null], {apt: [htop]}, "x'y"]
`
	tests := []struct {
		name     string
		opt      Options
		tools    []string
		want     []string
		warnings []string
	}{
		{
			name:  "apt",
			opt:   Options{PackageManager: "apt"},
			tools: []string{"apt-get"},
			want: []string{
				"apt-get|--option=Dpkg::Options::=--force-confold|--option=DPkg::Lock::Timeout=300|--assume-yes|--quiet|update|noninteractive",
				"apt-get|--option=Dpkg::Options::=--force-confold|--option=DPkg::Lock::Timeout=300|--assume-yes|--quiet|dist-upgrade|noninteractive",
				"apt-get|--option=Dpkg::Options::=--force-confold|--option=DPkg::Lock::Timeout=300|--assume-yes|--quiet|install|nginx|curl=7.1|vim|jq|htop|x'y|noninteractive",
			},
		},
		{
			name:     "dnf",
			opt:      Options{PackageManager: "yum"},
			tools:    []string{"dnf", "yum"},
			want:     []string{"dnf|-y|makecache|", "dnf|-y|upgrade|", "dnf|-y|install|nginx|curl-7.1|vim|jq|x'y|"},
			warnings: []string{"package_update_upgrade_install: Cannot install packages under 'apt' as it is not a supported package manager here"},
		},
		{
			name:     "yum",
			opt:      Options{PackageManager: "yum"},
			tools:    []string{"yum"},
			want:     []string{"yum|-t|-y|makecache|", "yum|-t|-y|upgrade|", "yum|-t|-y|install|nginx|curl-7.1|vim|jq|x'y|"},
			warnings: []string{"package_update_upgrade_install: Cannot install packages under 'apt' as it is not a supported package manager here"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			stubs(t, dir, tt.tools...)
			// The stand-ins log DEBIAN_FRONTEND last.
			for _, tool := range tt.tools {
				f := filepath.Join(dir, "bin", tool)
				b, _ := os.ReadFile(f)
				b = []byte(strings.Replace(string(b), "; echo; }", "; printf '|%s' \"$DEBIAN_FRONTEND\"; echo; }", 1))
				if err := os.WriteFile(f, b, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			p := render(t, cfg, tt.opt)
			if !slices.Equal(p.Warnings, tt.warnings) {
				t.Errorf("warnings %q, want %q", p.Warnings, tt.warnings)
			}
			run(t, script(p, "cloud-config:modules"), dir, "STUBS="+dir, "PATH="+filepath.Join(dir, "bin"), "DEBIAN_FRONTEND=")
			if got := readLog(t, dir); !slices.Equal(got, tt.want) {
				t.Errorf("commands:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestPackagesEdges(t *testing.T) {
	tests := []struct {
		name     string
		cfg      string
		opt      Options
		lines    []string
		warnings []string
	}{
		{
			name:  "apt install updates first",
			cfg:   "packages: nginx",
			opt:   Options{PackageManager: "apt"},
			lines: []string{"pkg update", "pkg install 'nginx'"},
		},
		{
			name:  "yum install alone",
			cfg:   "packages: [nginx]",
			opt:   Options{PackageManager: "yum"},
			lines: []string{"pkg install 'nginx'"},
		},
		{
			name:     "no package manager",
			cfg:      "packages: [nginx]",
			warnings: []string{"package_update_upgrade_install: this image has no package manager here: ignored"},
		},
		{
			name:     "bad item",
			cfg:      "package_update: true\npackages: [nginx, [a, b, c]]",
			opt:      Options{PackageManager: "yum"},
			lines:    []string{"pkg makecache"},
			warnings: []string{`package_update_upgrade_install: Failure when attempting to install packages: ["nginx", list]`},
		},
		{
			name:     "reboot",
			cfg:      "packages: [a]\npackage_reboot_if_required: true",
			opt:      Options{PackageManager: "yum"},
			lines:    []string{"pkg install 'a'"},
			warnings: []string{"cloud-config: package_reboot_if_required is not supported here: ignored"},
		},
		{
			name: "nothing to do",
			cfg:  "package_update: false\npackages: []",
			opt:  Options{PackageManager: "apt"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := render(t, "#cloud-config\n"+tt.cfg+"\n", tt.opt)
			var lines []string
			for _, line := range strings.Split(string(script(p, "cloud-config:modules")), "\n") {
				if strings.HasPrefix(line, "pkg ") {
					lines = append(lines, line)
				}
			}
			if !slices.Equal(lines, tt.lines) {
				t.Errorf("lines %q, want %q", lines, tt.lines)
			}
			if !slices.Equal(p.Warnings, tt.warnings) {
				t.Errorf("warnings %q, want %q", p.Warnings, tt.warnings)
			}
		})
	}
}

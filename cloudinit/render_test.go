package cloudinit

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

// seed003 is seed 003's user data, verbatim (shared/seeds/userdata).
const seed003 = `#!/bin/bash
yum install -y httpd mysql
amazon-linux-extras install -y php7.2
systemctl start httpd
systemctl enable httpd
`

// mimeLF is MIME user data as people write it by hand (AWS's examples):
// no file names, LF line ends.
func mimeLF(parts ...string) string {
	var b strings.Builder
	b.WriteString("Content-Type: multipart/mixed; boundary=\"==BOUNDARY==\"\nMIME-Version: 1.0\n\n")
	for _, p := range parts {
		b.WriteString("--==BOUNDARY==\n" + p + "\n")
	}
	b.WriteString("--==BOUNDARY==--\n")
	return b.String()
}

func TestRenderFormats(t *testing.T) {
	sh := func(name, content string) Script { return Script{Name: name, Content: []byte(content)} }
	tests := []struct {
		name     string
		userData string
		want     []Script
		warnings []string
	}{
		{name: "empty"},
		{
			name:     "script",
			userData: seed003,
			want:     []Script{sh("part-001", seed003)},
		},
		{
			name:     "CRLF script",
			userData: "#!/bin/sh\r\necho hi\r\n",
			want:     []Script{sh("part-001", "#!/bin/sh\necho hi\n")},
		},
		{
			name:     "script mentioning MIME-Version",
			userData: "#!/bin/sh\ncat <<EOF\nMIME-Version: 1.0\nEOF\n",
			want:     []Script{sh("part-001", "#!/bin/sh\ncat <<EOF\nMIME-Version: 1.0\nEOF\n")},
		},
		{
			name:     "script after a blank line",
			userData: "\n#!/bin/sh\necho hi\n",
			warnings: []string{"text/x-shellscript part part-001 does not start with #!, so it cannot be executed (Exec format error): ignored"},
		},
		{
			name:     "gzip",
			userData: string(gz(t, []byte(seed003))),
			want:     []Script{sh("part-001", seed003)},
		},
		{
			name:     "not really gzip",
			userData: "\x1f\x8bnot gzip",
			warnings: []string{`Unhandled non-multipart (text/x-not-multipart) userdata: '\x1f\x8bnot gzip...'`},
		},
		{
			name:     "plain text",
			userData: "hello world, this is not a script\nsecond line",
			warnings: []string{"Unhandled non-multipart (text/x-not-multipart) userdata: 'hello world, this is not...'"},
		},
		{
			name:     "include",
			userData: "#include\nhttps://example.com/a.yaml\n# comment\n\n#include-once https://example.com/b.sh\n",
			warnings: []string{
				"#include: https://example.com/a.yaml not fetched: user data URLs are not fetched here",
				"#include: https://example.com/b.sh not fetched: user data URLs are not fetched here",
			},
		},
		{
			name:     "boothook",
			userData: "#cloud-boothook\n#!/bin/sh\necho early\n",
			want:     []Script{sh("boothook:part-001", "#!/bin/sh\necho early\n")},
		},
		{
			name:     "boothook without a shebang",
			userData: "#cloud-boothook\necho early\n",
			warnings: []string{"text/cloud-boothook part part-001 does not start with #!, so it cannot be executed (Exec format error): ignored"},
		},
		{
			name:     "part handler",
			userData: "#part-handler\ndef list_types(): return []\n",
			warnings: []string{"text/part-handler part part-001 is not supported here: ignored"},
		},
		{
			name:     "jinja",
			userData: "## template: jinja\n#cloud-config\nruncmd: [echo {{ v1.instance_id }}]\n",
			warnings: []string{"text/jinja2 part part-001 is not supported here: ignored"},
		},
		{
			name:     "cloud-config-jsonp",
			userData: "#cloud-config-jsonp\n[]\n",
			warnings: []string{"text/cloud-config-jsonp part part-001 is not supported here: ignored"},
		},
		{
			name:     "cloud-config header in any case, after blank lines",
			userData: "\n  #Cloud-Config\nruncmd: [date]\n",
			want:     []Script{sh("runcmd", "#!/bin/sh\ndate\n")},
		},
		{
			name:     "cloud-config that does not parse",
			userData: "#cloud-config\nruncmd: [date\n",
			warnings: []string{
				"Failed loading yaml blob. yaml: line 1: did not find expected ',' or ']'",
				"Failed at merging in cloud config part from part-001: empty cloud config",
			},
		},
		{
			name:     "empty cloud-config",
			userData: "#cloud-config\n",
			warnings: []string{"Failed at merging in cloud config part from part-001: empty cloud config"},
		},
		{
			name:     "cloud-config that is a list",
			userData: "#cloud-config\n- runcmd\n",
			warnings: []string{
				"Failed loading yaml blob. Yaml load allows (dict,) root types, but got list instead",
				"Failed at merging in cloud config part from part-001: empty cloud config",
			},
		},
		{
			name:     "cloud-config alias bomb",
			userData: "#cloud-config\na: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n",
			warnings: []string{
				"Failed loading yaml blob. document expands to too many values",
				"Failed at merging in cloud config part from part-001: empty cloud config",
			},
		},
		{
			name:     "cloud-config keys not supported",
			userData: "#cloud-config\nhostname: web\ntimezone: UTC\n",
			warnings: []string{
				"cloud-config: hostname is not supported here: ignored",
				"cloud-config: timezone is not supported here: ignored",
			},
		},
		{
			name:     "cloud-config-archive",
			userData: "#cloud-config-archive\n- type: text/x-shellscript\n  content: \"#!/bin/sh\\necho one\\n\"\n- \"#cloud-config\\nruncmd: [two]\\n\"\n- filename: three.sh\n  content: \"#!/bin/sh\\necho three\\n\"\n- 42\n",
			want: []Script{
				sh("part-001", "#!/bin/sh\necho one\n"),
				sh("runcmd", "#!/bin/sh\ntwo\n"),
				sh("three.sh", "#!/bin/sh\necho three\n"),
			},
			warnings: []string{"cloud-config-archive: entry 4 is a int, not a part: ignored"},
		},
		{
			// AWS's example: cloud-config part-001, script part-002.
			// run-parts sorts part-002 before runcmd.
			name: "MIME by hand",
			userData: mimeLF(
				"Content-Type: text/cloud-config; charset=\"us-ascii\"\n\n#cloud-config\nruncmd:\n- echo from runcmd\n",
				"Content-Type: text/x-shellscript; charset=\"us-ascii\"\n\n#!/bin/bash\necho from script\n",
			),
			want: []Script{
				sh("part-002", "#!/bin/bash\necho from script\n"),
				sh("runcmd", "#!/bin/sh\necho from runcmd\n"),
			},
		},
		{
			// cloud-init devel make-mime names parts after their files;
			// "runcmd" sorts before "script.sh", so runcmd runs first.
			name: "MIME from make-mime",
			userData: strings.ReplaceAll(`Content-Type: multipart/mixed; boundary="===============4291038100093149247=="
MIME-Version: 1.0
Number-Attachments: 2

--===============4291038100093149247==
Content-Type: text/cloud-config; charset="us-ascii"
MIME-Version: 1.0
Content-Transfer-Encoding: 7bit
Content-Disposition: attachment; filename="config.yaml"

#cloud-config
runcmd:
- echo from runcmd

--===============4291038100093149247==
Content-Type: text/x-shellscript; charset="us-ascii"
MIME-Version: 1.0
Content-Transfer-Encoding: 7bit
Content-Disposition: attachment; filename="script.sh"

#!/bin/sh
echo from script

--===============4291038100093149247==--
`, "\n", "\r\n"),
			want: []Script{
				sh("runcmd", "#!/bin/sh\necho from runcmd\n"),
				sh("script.sh", "#!/bin/sh\necho from script\n"),
			},
		},
		{
			name: "MIME transfer encodings",
			userData: mimeLF(
				"Content-Type: text/x-shellscript\nContent-Transfer-Encoding: base64\n\nIyEvYmluL3NoCmVjaG8g\nYmFzZTY0Cg==\n",
				"Content-Type: text/x-shellscript\nContent-Transfer-Encoding: quoted-printable\n\n#!/bin/sh\necho caf=C3=A9 =3D ok=\n !\n",
			),
			want: []Script{
				sh("part-001", "#!/bin/sh\necho base64\n"),
				sh("part-002", "#!/bin/sh\necho café = ok !\n"),
			},
		},
		{
			name: "MIME gzip part",
			userData: mimeLF(
				"Content-Type: application/x-gzip\nContent-Transfer-Encoding: base64\n\n" + b64(gz(t, []byte("#!/bin/sh\necho zipped\n"))) + "\n",
			),
			want: []Script{sh("part-001", "#!/bin/sh\necho zipped\n")},
		},
		{
			name:     "MIME gzip part that is not gzip",
			userData: mimeLF("Content-Type: application/gzip\n\nplain\n"),
			warnings: []string{"Failed decompressing payload from application/gzip of length 6 due to: not valid gzip"},
		},
		{
			name:     "MIME without its closing boundary",
			userData: "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=XYZ\n\n--XYZ\nContent-Type: text/x-shellscript\n\n#!/bin/sh\necho last\n",
			want:     []Script{sh("part-001", "#!/bin/sh\necho last\n")},
		},
		{
			name:     "MIME without its closing boundary, CRLF",
			userData: "MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=XYZ\r\n\r\n--XYZ\r\nContent-Type: text/x-shellscript\r\n\r\n#!/bin/sh\r\necho last\r\n",
			want:     []Script{sh("part-001", "#!/bin/sh\necho last\n")},
		},
		{
			name: "MIME nested",
			userData: mimeLF(
				"Content-Type: multipart/alternative; boundary=inner\n\n--inner\nContent-Type: text/x-shellscript\n\n#!/bin/sh\necho inner\n--inner--\n",
				"Content-Type: text/x-shellscript\n\n#!/bin/sh\necho outer\n",
			),
			want: []Script{
				sh("part-001", "#!/bin/sh\necho inner"),
				sh("part-002", "#!/bin/sh\necho outer\n"),
			},
		},
		{
			name: "MIME parts typed by content",
			userData: mimeLF(
				"Content-Type: text/x-shellscript\n\n#cloud-config\nruncmd: [typed]\n",
				"Content-Type: text/plain\n\n#!/bin/sh\necho plain\n",
				"\n#!/bin/sh\necho untyped\n",
			),
			want: []Script{
				sh("part-002", "#!/bin/sh\necho plain\n"),
				sh("part-003", "#!/bin/sh\necho untyped\n"),
				sh("runcmd", "#!/bin/sh\ntyped\n"),
			},
		},
		{
			name: "MIME types not handled",
			userData: mimeLF(
				"Content-Type: text/x-include-url\n\nhttps://example.com/x\n",
				"Content-Type: text/part-handler\n\ndef handle_part(): pass\n",
				"Content-Type: text/upstart-job\n\nstart on started\n",
				"Content-Type: application/json\n\n{\"a\": 1}\n",
				"Content-Type: text/plain\n\nhello\n",
				"Content-Type: text/x-shellscript\n\n",
			),
			warnings: []string{
				"#include: https://example.com/x not fetched: user data URLs are not fetched here",
				"text/part-handler part part-001 is not supported here: ignored",
				"text/upstart-job part part-002 is not supported here: ignored",
				`Unhandled unknown content-type (application/json) userdata: '{\"a\": 1}...'`,
				"Unhandled unknown content-type (text/plain) userdata: 'hello...'",
				// cloud-init writes the empty script, and fails to run it.
				"text/x-shellscript part part-005 does not start with #!, so it cannot be executed (Exec format error): ignored",
			},
		},
		{
			name: "MIME scripts by frequency",
			userData: mimeLF(
				"Content-Type: text/x-shellscript-per-instance\nContent-Disposition: attachment; filename=\"b.sh\"\n\n#!/bin/sh\necho instance\n",
				"Content-Type: text/x-shellscript-per-boot\nContent-Disposition: attachment; filename=\"dir/a.sh\"\n\n#!/bin/sh\necho boot\n",
				"Content-Type: text/x-shellscript-per-once\nContent-Disposition: attachment; filename=\"z.sh\"\n\n#!/bin/sh\necho once\n",
				"Content-Type: text/x-shellscript\n\n#!/bin/sh\necho user\n",
			),
			want: []Script{
				sh("per-once:z.sh", "#!/bin/sh\necho once\n"),
				sh("per-boot:a.sh", "#!/bin/sh\necho boot\n"),
				sh("per-instance:b.sh", "#!/bin/sh\necho instance\n"),
				sh("part-004", "#!/bin/sh\necho user\n"),
			},
			warnings: []string{"text/x-shellscript-per-boot part dir/a.sh runs on first boot only here"},
		},
		{
			name: "MIME file names",
			userData: mimeLF(
				"Content-Type: text/x-shellscript\nContent-Disposition: attachment; filename=\"b c/d$.sh\"\n\n#!/bin/sh\necho 1\n",
				"Content-Type: text/x-shellscript\nContent-Disposition: attachment; filename=\"bc_d.sh\"\n\n#!/bin/sh\necho 2\n",
				"Content-Type: text/x-shellscript; name=\"runcmd\"\n\n#!/bin/sh\necho 3\n",
				"Content-Type: text/x-shellscript\nContent-Disposition: attachment; filename=\"..\"\n\n#!/bin/sh\necho 4\n",
				"Content-Type: text/cloud-config\n\nruncmd: [echo 5]\n",
				"Content-Type: text/cloud-boothook\nContent-Disposition: attachment; filename=\"hook\"\n\n#!/bin/sh\necho 6\n",
				"Content-Type: text/cloud-boothook\nContent-Disposition: attachment; filename=\"hook\"\n\n#!/bin/sh\necho 7\n",
			),
			want: []Script{
				sh("boothook:hook", "#!/bin/sh\necho 6\n"),
				sh("boothook:hook:2", "#!/bin/sh\necho 7\n"),
				sh("bc_d.sh", "#!/bin/sh\necho 2\n"),
				sh("runcmd", "#!/bin/sh\necho 5\n"),
			},
			warnings: []string{
				"text/x-shellscript part bc_d.sh replaces an earlier part of the same name",
				`text/x-shellscript part ..: ".." is not a file name cloud-init can write: ignored`,
				"runcmd: replaces the x-shellscript part named runcmd",
			},
		},
		{
			name:     "MIME single part",
			userData: "MIME-Version: 1.0\nContent-Type: text/x-shellscript\n\n#!/bin/sh\necho single\n",
			want:     []Script{sh("part-001", "#!/bin/sh\necho single\n")},
		},
		{
			name: "MIME with the seed script",
			userData: mimeLF(
				"Content-Type: text/cloud-config\n\n#cloud-config\nbootcmd: [echo booting]\n",
				"Content-Type: text/x-shellscript\n\n"+seed003,
			),
			want: []Script{
				sh("cloud-config:bootcmd", "#!/bin/sh\necho booting\n"),
				sh("part-002", seed003),
			},
		},
		{
			name:     "MIME multipart without a boundary",
			userData: "MIME-Version: 1.0\nContent-Type: multipart/mixed\n\nx\n",
			warnings: []string{"multipart/mixed has no boundary: ignored"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := render(t, tt.userData, Options{PackageManager: "yum", DefaultUser: "ec2-user"})
			if !slices.EqualFunc(p.Scripts, tt.want, func(a, b Script) bool { return a.Name == b.Name && bytes.Equal(a.Content, b.Content) }) {
				t.Errorf("scripts:\n%s\nwant:\n%s", dump(p.Scripts), dump(tt.want))
			}
			if !slices.Equal(p.Warnings, tt.warnings) {
				t.Errorf("warnings:\n%q\nwant:\n%q", p.Warnings, tt.warnings)
			}
		})
	}
}

func dump(scripts []Script) string {
	var b strings.Builder
	for _, s := range scripts {
		b.WriteString("=== " + s.Name + "\n" + string(s.Content))
	}
	return b.String()
}

func TestRenderErrors(t *testing.T) {
	if _, err := Render([]byte("#!/bin/sh\n"), Options{PackageManager: "zypper"}); err == nil {
		t.Error("Render accepted package manager zypper")
	}

	bomb := gz(t, make([]byte, maxDecompressed+1))
	if _, err := Render(bomb, Options{}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("gzip of %d bytes: err %v, want ErrTooLarge", maxDecompressed+1, err)
	}
	// Exactly the cap is fine (and is plain text: a warning).
	p, err := Render(gz(t, make([]byte, maxDecompressed)), Options{})
	if err != nil || len(p.Warnings) != 1 {
		t.Errorf("gzip of %d bytes: %v, %q", maxDecompressed, err, p.Warnings)
	}
	// The budget is for the whole render: parts count too.
	half := b64(gz(t, make([]byte, maxDecompressed/2+1)))
	twice := mimeLF(
		"Content-Type: application/gzip\nContent-Transfer-Encoding: base64\n\n"+half,
		"Content-Type: application/gzip\nContent-Transfer-Encoding: base64\n\n"+half,
	)
	if _, err := Render([]byte(twice), Options{}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("two gzip parts of half the cap and more: err %v, want ErrTooLarge", err)
	}
	cc := "#cloud-config\nwrite_files:\n- path: /x\n  encoding: gz+b64\n  content: " + b64(gz(t, make([]byte, maxDecompressed+1))) + "\n"
	if _, err := Render([]byte(cc), Options{}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("write_files gzip content over the cap: err %v, want ErrTooLarge", err)
	}
}

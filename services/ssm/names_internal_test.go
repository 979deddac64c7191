package ssm

import (
	"strings"
	"testing"
)

func TestParseRef(t *testing.T) {
	cases := []struct {
		in   string
		ok   bool
		want ref
	}{
		{"/a/b", true, ref{name: "/a/b"}},
		{"plain", true, ref{name: "plain"}},
		{"/a/b:3", true, ref{name: "/a/b", hasVersion: true, version: 3}},
		{"/a/b:0", true, ref{name: "/a/b", hasVersion: true, version: 0}},
		{"/a/b:prod", true, ref{name: "/a/b", label: "prod"}},
		{"/a/b:", false, ref{}},
		{"/a/b:1:2", false, ref{}},
		{":3", false, ref{}},
		{"/a/b:99999999999999999999", false, ref{}},
		{"arn:aws:ssm:eu-west-3:123456789012:parameter/a/b:2", true, ref{name: "/a/b", isARN: true, partition: "aws", region: "eu-west-3", account: "123456789012", hasVersion: true, version: 2}},
		{"arn:aws:ssm:eu-west-3:123456789012:parameter/plain", true, ref{name: "/plain", alt: "plain", isARN: true, partition: "aws", region: "eu-west-3", account: "123456789012"}},
		{"arn:aws:ssm:eu-west-3::parameter/aws/service/x", true, ref{name: "/aws/service/x", isARN: true, partition: "aws", region: "eu-west-3"}},
		{"arn:aws:ssm:eu-west-3:1:document/x", false, ref{}},
		{"arn:aws:s3:eu-west-3:1:parameter/x", false, ref{}},
		{"arn:aws:ssm::1:parameter/x", false, ref{}},
		{"arn:aws:ssm:eu-west-3:1:parameter//x", false, ref{}},
		{"arn:aws:ssm:eu-west-3", false, ref{}},
	}
	for _, tc := range cases {
		got, ok := parseRef(tc.in)
		if ok != tc.ok || ok && got != tc.want {
			t.Errorf("parseRef(%q) = %+v, %v; want %+v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestValidName(t *testing.T) {
	for name, want := range map[string]bool{
		"a": true, "/a": true, "/a/b.c-d_e": true, "A1": true,
		"": false, "/": false, "a/b": false, "/a/": false, "/a//b": false, "a b": false, "/a:b": false, "/a@b": false, "é": false,
	} {
		if got := validName(name); got != want {
			t.Errorf("validName(%q) = %v", name, got)
		}
	}
	for p, want := range map[string]bool{"/": true, "/a": true, "/a/": true, "/a/b": true, "a": false, "//": false, "/a//": false, "": false} {
		if got := validPath(p); got != want {
			t.Errorf("validPath(%q) = %v", p, got)
		}
	}
}

// FuzzParameterName checks the name and selector parser: it never panics,
// a reference it accepts formats back to what it parsed, and a name it
// validates holds only the characters AWS allows, within at most one
// leading slash per level.
func FuzzParameterName(f *testing.F) {
	for _, s := range []string{"/a/b", "a", "/a/b:3", "/a:prod", "arn:aws:ssm:eu-west-3:123456789012:parameter/a/b:1",
		"arn:aws:ssm:eu-west-3::parameter/aws/service/x", "/a//b", ":", "a:b:c", "arn:", "/a/b:00", "/é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, ok := parseRef(s)
		if ok {
			if r.name == "" {
				t.Fatalf("parseRef(%q) accepted an empty name", s)
			}
			if r.hasVersion && r.label != "" {
				t.Fatalf("parseRef(%q) has both a version and a label", s)
			}
			body := strings.TrimPrefix(r.name, "/")
			if r.isARN {
				if r.alt != "" && r.alt != body {
					t.Fatalf("parseRef(%q): alt %q for name %q", s, r.alt, r.name)
				}
				if !strings.HasSuffix(s, "parameter/"+body+r.selector()) {
					t.Fatalf("parseRef(%q) = %+v does not format back", s, r)
				}
			} else if !r.hasVersion && r.name+r.selector() != s {
				t.Fatalf("parseRef(%q) = %+v does not format back", s, r)
			}
		}
		if validName(s) {
			for i := 0; i < len(s); i++ {
				if !nameByte(s[i]) && s[i] != '/' {
					t.Fatalf("validName(%q) accepted byte %q", s, s[i])
				}
			}
			if strings.Contains(s, "//") || strings.HasSuffix(s, "/") || strings.Contains(s, "/") && s[0] != '/' {
				t.Fatalf("validName(%q) accepted a malformed hierarchy", s)
			}
			if _, ok := parseRef(s); !ok {
				t.Fatalf("a valid name %q does not parse", s)
			}
		}
	})
}

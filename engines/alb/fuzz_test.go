package alb

import (
	"testing"
)

// FuzzStickyCookie feeds the stickiness cookie decoder what a client may
// send: it must never panic, and must find a target only by the value this
// node gave out for it.
func FuzzStickyCookie(f *testing.F) {
	g := &group{arn: "arn:tg", hash: shortHash("arn:tg")}
	for i, id := range []string{"i-0123456789abcdef0", "10.0.1.5", "i-0fedcba9876543210"} {
		g.targets = append(g.targets, &target{key: targetKey{tg: g.arn, id: id, port: 3000 + i}})
	}
	for _, t := range g.targets {
		f.Add(encodeTarget(g, t))
	}
	f.Add("")
	f.Add("not base64 !!")
	f.Add("fHw")
	f.Fuzz(func(t *testing.T, v string) {
		got := decodeTarget(g, v)
		if got == nil {
			return
		}
		if want := encodeTarget(g, got); want != v {
			// Base64 without padding has one spelling per byte string.
			t.Errorf("cookie %q chose %v, whose own cookie is %q", v, got.key, want)
		}
	})
}

// FuzzMatcher checks that any health-check matcher parses without panic
// and that a plain code matches itself.
func FuzzMatcher(f *testing.F) {
	for _, m := range []string{"200", "200,302", "200-299", "", " 200 - 204 ,404", "-", ",,,", "99999999999999999999"} {
		f.Add(m, 200)
	}
	f.Fuzz(func(t *testing.T, m string, code int) {
		parseMatcher(m)(code)
	})
}

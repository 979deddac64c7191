package cloudformation

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzHandle: a wait condition URL's path and query, as PUT to the edge
// by anyone, either name a handle (whose parts then split) or are
// refused; a handle id survives its URL form.
func FuzzHandle(f *testing.F) {
	id := "arn:aws:cloudformation:ap-northeast-2:000000000000:stack/s/1f0e/2a3b/Handle"
	f.Add("/"+handlePath(id), "X-Amz-Expires=86399&X-Amz-Signature=ab")
	f.Add("/arn%3A/x/y/z/w", "X-Amz-Signature=%zz")
	f.Add("//////", "")
	f.Fuzz(func(t *testing.T, path, query string) {
		got, sig, ok := parseHandle(path, query)
		if !ok {
			return
		}
		if sig == "" {
			t.Fatal("a handle without a signature")
		}
		_, _, stackID, logical := splitHandle(got)
		if !strings.HasPrefix(got, stackID+"/") || !strings.HasSuffix(got, "/"+logical) {
			t.Fatalf("split %q: %q %q", got, stackID, logical)
		}
		again, _, ok := parseHandle("/"+handlePath(got), url.Values{"X-Amz-Signature": {sig}}.Encode())
		if !ok || again != got {
			t.Fatalf("round trip of %q: %q %v", got, again, ok)
		}
	})
}

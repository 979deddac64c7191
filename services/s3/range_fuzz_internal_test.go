package s3

import (
	"errors"
	"net/http"
	"testing"

	"github.com/cloudbox/cloudbox/api"
)

// FuzzParseRange: whatever the Range header, parseRange never panics, and
// what it answers is a range inside the object, the whole object (ok
// false) or 416 InvalidRange.
func FuzzParseRange(f *testing.F) {
	for _, h := range []string{"bytes=0-4", "bytes=5-", "bytes=-3", "bytes=-0", "bytes=9-2", "bytes=0-1,3-4", "items=0-1",
		"bytes= 1-2", "bytes=99999999999999999999-", "bytes=-9223372036854775807", "bytes=0-9223372036854775807", ""} {
		f.Add(h, int64(20))
		f.Add(h, int64(0))
	}
	f.Fuzz(func(t *testing.T, header string, size int64) {
		if size < 0 {
			size = -(size + 1)
		}
		r, ok, err := parseRange(header, size)
		switch {
		case err != nil:
			var e *api.Error
			if !errors.As(err, &e) || e.Code != "InvalidRange" || e.Status != http.StatusRequestedRangeNotSatisfiable || ok {
				t.Fatalf("%q over %d: %v (ok %v)", header, size, err, ok)
			}
		case ok:
			if r.start < 0 || r.end < r.start || r.end >= size {
				t.Fatalf("%q over %d: range %d-%d", header, size, r.start, r.end)
			}
		}
		if cr, ok := parseCopyRange(header, size); ok && (cr.start < 0 || cr.end < cr.start || cr.end >= size) {
			t.Fatalf("copy range %q over %d: %d-%d", header, size, cr.start, cr.end)
		}
	})
}

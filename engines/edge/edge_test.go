package edge

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// answer is a handler that says who it is.
type answer string

func (a answer) ServeHTTP(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, string(a)) }

func TestTable(t *testing.T) {
	tb := New()
	h := tb.Handler(answer("api"))
	undoELB := tb.Register("*.elb.amazonaws.com", answer("elb"))
	tb.Register("*.special.elb.amazonaws.com", answer("special"))
	tb.Register("Exact.Example.com", answer("exact"))
	for host, want := range map[string]string{
		"web-1.us-east-1.elb.amazonaws.com":      "elb",
		"WEB-1.us-east-1.ELB.amazonaws.com:8080": "elb",
		"a.special.elb.amazonaws.com":            "special",
		"elb.amazonaws.com":                      "api",
		"xelb.amazonaws.com":                     "api",
		"exact.example.com":                      "exact",
		"a.exact.example.com":                    "api",
		"127.0.0.1:4566":                         "api",
		"localhost":                              "api",
		"":                                       "api",
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Host = host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if got := rec.Body.String(); got != want {
			t.Errorf("Host %q went to %q, want %q", host, got, want)
		}
	}
	undoELB()
	r := httptest.NewRequest("GET", "/", nil)
	r.Host = "web-1.us-east-1.elb.amazonaws.com"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if got := rec.Body.String(); got != "api" {
		t.Errorf("after unregister: %q", got)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("a second claim of a pattern did not panic")
		}
	}()
	tb.Register("*.SPECIAL.elb.amazonaws.com", answer("again"))
}

package echo

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHandler(t *testing.T) {
	r := httptest.NewRequest("GET", "/anything?x=1", nil)
	r.RemoteAddr = "198.18.3.4:43122"
	w := httptest.NewRecorder()
	Handler{}.ServeHTTP(w, r)
	if w.Code != 200 || w.Header().Get("X-Source-Ip") != "198.18.3.4" || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
	if got := w.Body.String(); got != `{"source":"198.18.3.4","port":43122}`+"\n" {
		t.Errorf("body %q", got)
	}

	r = httptest.NewRequest("GET", "/ip", nil)
	r.RemoteAddr = "[::ffff:198.18.3.4]:1"
	w = httptest.NewRecorder()
	Handler{}.ServeHTTP(w, r)
	if got := w.Body.String(); got != "198.18.3.4\n" || w.Header().Get("X-Source-Ip") != "198.18.3.4" {
		t.Errorf("/ip = %q, X-Source-Ip %q", got, w.Header().Get("X-Source-Ip"))
	}
}

// TestOverLoopback checks the answer against the real connection's source.
func TestOverLoopback(t *testing.T) {
	srv := httptest.NewServer(Handler{})
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	local := conn.LocalAddr().(*net.TCPAddr)
	tr := &http.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) { return conn, nil }}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var got struct {
		Source string
		Port   int
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("%q: %v", body, err)
	}
	if got.Source != "127.0.0.1" || got.Port != local.Port {
		t.Errorf("got %+v, want 127.0.0.1:%d", got, local.Port)
	}
}

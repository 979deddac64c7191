// Package echo is a "what is my IP" web server for the simulated internet,
// like checkip.amazonaws.com: it tells a caller the source address its
// request arrived from, which shows what the internet gateway's 1:1 NAT or
// a NAT gateway's masquerading made of an instance's private address.
//
// GET /ip answers the address alone and a newline, as checkip does (handy
// for curl); every other request answers JSON,
// {"source":"198.18.3.4","port":43122}. Every answer carries the address
// in the X-Source-Ip header too.
package echo

import (
	"encoding/json"
	"net/http"
	"net/netip"
)

// Handler answers every request with its source address.
type Handler struct{}

// ServeHTTP implements http.Handler.
func (Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	src, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		http.Error(w, "unknown source address", http.StatusInternalServerError)
		return
	}
	ip := src.Addr().Unmap().String()
	w.Header().Set("X-Source-Ip", ip)
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Path == "/ip" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte(ip + "\n"))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(struct {
		Source string `json:"source"`
		Port   uint16 `json:"port"`
	}{ip, src.Port()})
}

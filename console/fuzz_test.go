package console_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// FuzzRequests sends the console's endpoints arbitrary selectors, ids,
// reachability questions and Host headers: every answer is JSON, and none
// is a server error.
func FuzzRequests(f *testing.F) {
	c := startCloud(f)
	s := c.buildSeed(f)
	f.Add(uint8(0), account, region, s.AppA, s.Bastion, "8080", "tcp", "127.0.0.1")
	f.Add(uint8(1), account, region, "rds:"+s.DB, "internet", "22", "udp", "localhost:4566")
	f.Add(uint8(2), account, region, s.LB, s.AppA, "-1", "icmp", "[::1]:1")
	f.Add(uint8(3), "12345678901", "xx-1", "i-", "10.0.1.5", "99999", "gre", "evil.example")
	f.Add(uint8(4), account, region, "elasticache:", "devloop-db.x", "0", "", "")
	f.Fuzz(func(t *testing.T, which uint8, acct, reg, id, from, port, proto, host string) {
		paths := []string{"world", "counters", "resource", "reach", "scopes"}
		q := url.Values{"account": {acct}, "region": {reg}, "id": {id}, "from": {from}, "to": {id}, "port": {port}, "protocol": {proto}}
		req := httptest.NewRequest(http.MethodGet, "/_cloudbox/console/api/"+paths[int(which)%len(paths)]+"?"+q.Encode(), nil)
		req.Host = host
		rec := httptest.NewRecorder()
		c.handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s: %d %s", req.URL, rec.Code, rec.Body)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s: not JSON: %s", req.URL, rec.Body)
		}
	})
}

package alb

import (
	"io"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/desired"
)

// BenchmarkProxy compares requests through the node with requests straight
// to the target, on loopback, with keep-alive clients. It reports the p99
// latency besides ns/op (which, run in parallel, is the inverse of
// throughput).
func BenchmarkProxy(b *testing.B) {
	target := newBackend(b, "a")
	target.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello from the target\n")
	})
	h := newHarness(b, Config{})
	tg := targetGroup("tg", nil, target.target())
	tg.HealthCheck.Enabled = false
	h.update(nil, []*desired.Rule{defaultRule(forward("tg"))}, tg)

	for _, c := range []struct{ name, url string }{
		{"direct", target.srv.URL + "/"},
		{"alb", h.url + "/"},
	} {
		b.Run(c.name, func(b *testing.B) {
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, DisableCompression: true}}
			defer client.CloseIdleConnections()
			var mu sync.Mutex
			var lat []time.Duration
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				var mine []time.Duration
				for pb.Next() {
					start := time.Now()
					resp, err := client.Get(c.url)
					if err != nil {
						b.Error(err)
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					if resp.StatusCode != 200 {
						b.Errorf("status %d", resp.StatusCode)
						return
					}
					mine = append(mine, time.Since(start))
				}
				mu.Lock()
				lat = append(lat, mine...)
				mu.Unlock()
			})
			b.StopTimer()
			if len(lat) > 0 {
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			}
		})
	}
}

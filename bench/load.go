package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// apiCall is one signed query-protocol request a load sends over and
// over: its form body, the service it is signed for, and a string every
// good answer contains.
type apiCall struct {
	service string
	body    string
	want    string
	hash    string // of body, computed once rather than per request
}

func newAPICall(service, body, want string) apiCall {
	h := sha256.Sum256([]byte(body))
	return apiCall{service: service, body: body, want: want, hash: hex.EncodeToString(h[:])}
}

const stsBody = "Action=GetCallerIdentity&Version=2011-06-15"

// stsCall is what most benches send: it needs no state on the server.
var stsCall = newAPICall("sts", stsBody, "<Account>")

var testCreds = aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}

// A caller sends one signed request to one endpoint over keep-alive
// connections, as an SDK client would.
type caller struct {
	url    string
	api    apiCall
	client *http.Client
	signer *v4.Signer
}

func newCaller(endpoint string, conns int, call apiCall) *caller {
	tr := &http.Transport{
		Proxy:               nil, // loopback only; never via a proxy from the environment
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		DisableCompression:  true,
	}
	return &caller{url: endpoint + "/", api: call, client: &http.Client{Transport: tr}, signer: v4.NewSigner()}
}

func (c *caller) close() { c.client.CloseIdleConnections() }

// call sends one request, signed afresh as every real request is, and
// checks the answer is a 200 carrying what the call wants.
func (c *caller) call(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, strings.NewReader(c.api.body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	if err := c.signer.SignHTTP(ctx, testCreds, req, c.api.hash, c.api.service, "us-east-1", time.Now()); err != nil {
		return err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return err
	}
	// Reading to EOF lets the connection be reused.
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %s: %.200s", resp.Status, body)
	}
	if !bytes.Contains(body, []byte(c.api.want)) {
		return fmt.Errorf("no %s in answer: %.200s", c.api.want, body)
	}
	return nil
}

// loadResult is what one load run measured, warm-up excluded.
type loadResult struct {
	clients  int
	dur      time.Duration
	lat      []time.Duration // of successful requests, sorted
	errors   int
	firstErr error
}

func (l loadResult) rps() float64                { return float64(len(l.lat)) / l.dur.Seconds() }
func (l loadResult) pct(p float64) time.Duration { return percentile(l.lat, p) }

// runLoad runs clients concurrent closed-loop clients against endpoint for
// warmup+dur, and keeps the requests that both started and finished inside
// the dur window, so neither warm-up nor the ramp-down skews the numbers.
func runLoad(ctx context.Context, endpoint string, call apiCall, clients int, warmup, dur time.Duration) (loadResult, error) {
	c := newCaller(endpoint, clients, call)
	defer c.close()
	from := time.Now().Add(warmup)
	until := from.Add(dur)
	res := loadResult{clients: clients, dur: dur}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			var lat []time.Duration
			var errs int
			var firstErr error
			for ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(until) {
					break
				}
				err := c.call(ctx)
				t1 := time.Now()
				if t0.Before(from) || t1.After(until) {
					continue
				}
				if err != nil {
					errs++
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				lat = append(lat, t1.Sub(t0))
			}
			mu.Lock()
			res.lat = append(res.lat, lat...)
			res.errors += errs
			if res.firstErr == nil {
				res.firstErr = firstErr
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if len(res.lat) == 0 {
		return res, fmt.Errorf("no successful requests to %s (%d errors, first: %v)", endpoint, res.errors, res.firstErr)
	}
	slices.Sort(res.lat)
	return res, nil
}

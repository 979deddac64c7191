package s3

import (
	"encoding/xml"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// cfgS3Error is S3's error document.
type cfgS3Error struct {
	Code, Message, Method, ResourceType string
}

func cfgParseError(t *testing.T, body string) cfgS3Error {
	t.Helper()
	var e cfgS3Error
	if err := xml.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("error document %q: %v", body, err)
	}
	return e
}

func TestCORSPreflight(t *testing.T) {
	c := cfgNewCloud(t, true) // preflights are answered unauthenticated even so
	b := c.bucket(t, "web-app")
	preflight := func(path string, hdr map[string]string) (*http.Response, string) {
		return c.do(t, http.MethodOptions, path, nil, hdr)
	}

	resp, body := preflight("/web-app/a.txt", nil)
	if e := cfgParseError(t, body); resp.StatusCode != http.StatusBadRequest || e.Code != "BadRequest" || e.Message != "Insufficient information. Origin request header needed." {
		t.Errorf("no Origin: %d %+v", resp.StatusCode, e)
	}
	resp, body = preflight("/no-such-bucket/a.txt", map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "GET"})
	if e := cfgParseError(t, body); resp.StatusCode != http.StatusForbidden || e.Code != "AccessForbidden" || e.Message != "CORSResponse: Bucket not found" {
		t.Errorf("no bucket: %d %+v", resp.StatusCode, e)
	}
	resp, body = preflight("/web-app/a.txt", map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT"})
	if e := cfgParseError(t, body); resp.StatusCode != http.StatusForbidden || e.Message != "CORSResponse: CORS is not enabled for this bucket." ||
		e.Method != "PUT" || e.ResourceType != "BUCKET" {
		t.Errorf("no configuration: %d %+v", resp.StatusCode, e)
	}

	cfgMust(c.s3.PutBucketCors(cfgCtx, &s3sdk.PutBucketCorsInput{Bucket: aws.String(b), CORSConfiguration: &s3types.CORSConfiguration{CORSRules: []s3types.CORSRule{
		{AllowedMethods: []string{"GET", "PUT"}, AllowedOrigins: []string{"https://*.example.com"}, AllowedHeaders: []string{"x-amz-*", "Content-Type"},
			ExposeHeaders: []string{"ETag", "x-amz-version-id"}, MaxAgeSeconds: aws.Int32(3000)},
		{AllowedMethods: []string{"GET"}, AllowedOrigins: []string{"*"}},
	}}}))(t)

	resp, body = preflight("/web-app/a.txt", map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT",
		"Access-Control-Request-Headers": "X-Amz-Meta-Owner,content-type"})
	if resp.StatusCode != http.StatusOK || body != "" {
		t.Fatalf("allowed preflight: %d %s", resp.StatusCode, body)
	}
	for name, want := range map[string]string{
		"Access-Control-Allow-Origin":      "https://app.example.com",
		"Access-Control-Allow-Methods":     "GET, PUT",
		"Access-Control-Allow-Headers":     "x-amz-meta-owner, content-type",
		"Access-Control-Expose-Headers":    "ETag, x-amz-version-id",
		"Access-Control-Max-Age":           "3000",
		"Access-Control-Allow-Credentials": "true",
		"Vary":                             "Origin, Access-Control-Request-Headers, Access-Control-Request-Method",
	} {
		if got := resp.Header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}

	// The second rule allows any origin to GET, without headers.
	resp, _ = preflight("/web-app/a.txt", map[string]string{"Origin": "http://elsewhere.test", "Access-Control-Request-Method": "GET"})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "*" || resp.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("any origin: %d %v", resp.StatusCode, resp.Header)
	}
	for _, hdr := range []map[string]string{
		{"Origin": "http://elsewhere.test", "Access-Control-Request-Method": "PUT"},
		{"Origin": "http://elsewhere.test", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "x-custom"},
		{"Origin": "https://app.example.com/", "Access-Control-Request-Method": "PUT"},
		{"Origin": "https://app.example.com"},
	} {
		resp, body = preflight("/web-app/a.txt", hdr)
		e := cfgParseError(t, body)
		if resp.StatusCode != http.StatusForbidden || !strings.HasPrefix(e.Message, "CORSResponse: This CORS request is not allowed.") || e.ResourceType != "OBJECT" {
			t.Errorf("%v: %d %+v", hdr, resp.StatusCode, e)
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("%v: a refused preflight has CORS headers", hdr)
		}
	}
	if _, body = preflight("/web-app/a.txt", map[string]string{"Origin": "https://app.example.com"}); cfgParseError(t, body).Method != "OPTIONS" {
		t.Errorf("no method asked: %s", body)
	}
	if _, body = preflight("/web-app", map[string]string{"Origin": "https://x.example.com", "Access-Control-Request-Method": "DELETE"}); cfgParseError(t, body).ResourceType != "BUCKET" {
		t.Errorf("a bucket's preflight: %s", body)
	}
}

func TestCORSHeadersOnRequests(t *testing.T) {
	c := cfgNewCloud(t, false)
	b := c.bucket(t, "cors-get")
	c.put(t, b, "a.txt", "hello")
	get := func(hdr map[string]string) *http.Response {
		resp, body := c.do(t, http.MethodGet, "/cors-get/a.txt", nil, hdr)
		if resp.StatusCode != http.StatusOK || body != "hello" {
			t.Fatalf("GET %v: %d %s", hdr, resp.StatusCode, body)
		}
		return resp
	}
	// Without a configuration a cross-origin GET is answered without
	// CORS headers.
	if resp := get(map[string]string{"Origin": "https://app.example.com"}); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("CORS headers without a configuration")
	}
	cfgMust(c.s3.PutBucketCors(cfgCtx, &s3sdk.PutBucketCorsInput{Bucket: aws.String(b), CORSConfiguration: &s3types.CORSConfiguration{CORSRules: []s3types.CORSRule{
		{AllowedMethods: []string{"GET"}, AllowedOrigins: []string{"https://app.example.com"}, ExposeHeaders: []string{"ETag"}},
	}}}))(t)
	resp := get(map[string]string{"Origin": "https://app.example.com"})
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" || resp.Header.Get("Access-Control-Expose-Headers") != "ETag" ||
		resp.Header.Get("Access-Control-Allow-Methods") != "GET" || resp.Header.Get("Vary") == "" {
		t.Errorf("allowed GET: %v", resp.Header)
	}
	// A request's own headers are not checked; a method the rule does not
	// allow, or another origin, gets no CORS headers but its answer.
	if resp := get(map[string]string{"Origin": "https://other.example.com"}); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("CORS headers for another origin")
	}
	if resp := get(map[string]string{"Origin": "https://app.example.com", "Access-Control-Request-Method": "PUT"}); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("CORS headers for a method not allowed")
	}
	resp, _ = c.do(t, http.MethodGet, "/cors-get/none", nil, map[string]string{"Origin": "https://app.example.com"})
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("an error's CORS headers: %d %v", resp.StatusCode, resp.Header)
	}
}

package s3_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// siteServer serves S3's website endpoints as the daemon's edge does: the
// handler S3 claims for the region's website host names.
func siteServer(t *testing.T, c *cloud) func(method, host, path string) (*http.Response, string) {
	t.Helper()
	h := c.svc.EdgeClaims()["*.s3-website-us-east-1.amazonaws.com"]
	if h == nil || c.svc.EdgeClaims()["*.s3-website.eu-west-1.amazonaws.com"] == nil {
		t.Fatalf("website claims: %v", c.svc.EdgeClaims())
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return func(method, host, path string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, nil)
		req.Host = host
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
}

func (c *cloud) putHTML(t *testing.T, bucket, key, body string) {
	t.Helper()
	must(c.s3.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: strings.NewReader(body), ContentType: aws.String("text/html")}))(t)
}

// A static website as the AWS documentation's tutorial builds it: index
// and error documents, public only once Block Public Access is off and a
// policy lets anyone read.
func TestWebsite(t *testing.T) {
	c := newCloud(t)
	get := siteServer(t, c)
	const host = "site.s3-website-us-east-1.amazonaws.com"
	c.bucket(t, "site")
	c.putHTML(t, "site", "index.html", "<h1>home</h1>")
	c.putHTML(t, "site", "error.html", "<h1>oops</h1>")
	c.putHTML(t, "site", "docs/index.html", "<h1>docs</h1>")

	// No website configuration yet.
	resp, body := get("GET", host, "/")
	if resp.StatusCode != 404 || !strings.Contains(body, "Code: NoSuchWebsiteConfiguration") || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("without a configuration: %d %s", resp.StatusCode, body)
	}
	must(c.s3.PutBucketWebsite(ctx, &s3sdk.PutBucketWebsiteInput{Bucket: aws.String("site"), WebsiteConfiguration: &s3types.WebsiteConfiguration{
		IndexDocument: &s3types.IndexDocument{Suffix: aws.String("index.html")},
		ErrorDocument: &s3types.ErrorDocument{Key: aws.String("error.html")},
		RoutingRules: []s3types.RoutingRule{{Condition: &s3types.Condition{KeyPrefixEquals: aws.String("old/")},
			Redirect: &s3types.Redirect{ReplaceKeyPrefixWith: aws.String("new/")}}},
	}}))(t)

	// Block Public Access is on for new buckets: nothing is public, the
	// error document neither.
	resp, body = get("GET", host, "/")
	if resp.StatusCode != 403 || !strings.Contains(body, "Code: AccessDenied") ||
		!strings.Contains(body, "An Error Occurred While Attempting to Retrieve a Custom Error Document") {
		t.Errorf("before the policy: %d %s", resp.StatusCode, body)
	}

	must(c.s3.DeletePublicAccessBlock(ctx, &s3sdk.DeletePublicAccessBlockInput{Bucket: aws.String("site")}))(t)
	must(c.s3.PutBucketPolicy(ctx, &s3sdk.PutBucketPolicyInput{Bucket: aws.String("site"), Policy: aws.String(`{
		"Version": "2012-10-17",
		"Statement": [{"Sid": "PublicReadGetObject", "Effect": "Allow", "Principal": "*",
			"Action": "s3:GetObject", "Resource": "arn:aws:s3:::site/*"}]}`)}))(t)

	for _, tc := range []struct {
		method, path string
		status       int
		body         string
		location     string
	}{
		{"GET", "/", 200, "<h1>home</h1>", ""},
		{"GET", "/index.html", 200, "<h1>home</h1>", ""},
		{"HEAD", "/", 200, "", ""},
		{"GET", "/docs/", 200, "<h1>docs</h1>", ""},
		{"GET", "/docs", 302, "", "/docs/"},
		{"GET", "/missing.html", 404, "<h1>oops</h1>", ""},
		{"GET", "/old/page.html", 301, "", "http://" + host + "/new/page.html"},
		{"POST", "/", 405, "Code: MethodNotAllowed", ""},
	} {
		resp, body := get(tc.method, host, tc.path)
		if resp.StatusCode != tc.status || !strings.Contains(body, tc.body) || resp.Header.Get("Location") != tc.location {
			t.Errorf("%s %s: %d %q Location %q, want %d %q %q", tc.method, tc.path, resp.StatusCode, body, resp.Header.Get("Location"), tc.status, tc.body, tc.location)
		}
	}
	resp, _ = get("GET", host, "/")
	if resp.Header.Get("Content-Type") != "text/html" || resp.Header.Get("ETag") == "" || resp.Header.Get("Last-Modified") == "" {
		t.Errorf("headers %v", resp.Header)
	}

	// The other form of the endpoint's name, a bucket that does not exist.
	if resp, body := get("GET", "site.s3-website.us-east-1.amazonaws.com", "/"); resp.StatusCode != 200 || body != "<h1>home</h1>" {
		t.Errorf("dotted endpoint: %d %s", resp.StatusCode, body)
	}
	if resp, body := get("GET", "nobucket.s3-website-us-east-1.amazonaws.com", "/"); resp.StatusCode != 404 || !strings.Contains(body, "Code: NoSuchBucket") {
		t.Errorf("no bucket: %d %s", resp.StatusCode, body)
	}

	// A bucket that redirects every request.
	c.bucket(t, "www-site")
	must(c.s3.PutBucketWebsite(ctx, &s3sdk.PutBucketWebsiteInput{Bucket: aws.String("www-site"), WebsiteConfiguration: &s3types.WebsiteConfiguration{
		RedirectAllRequestsTo: &s3types.RedirectAllRequestsTo{HostName: aws.String("example.com"), Protocol: s3types.ProtocolHttps},
	}}))(t)
	if resp, _ := get("GET", "www-site.s3-website-us-east-1.amazonaws.com", "/a/b?x=1"); resp.StatusCode != 301 || resp.Header.Get("Location") != "https://example.com/a/b?x=1" {
		t.Errorf("redirect all: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

package s3_test

import (
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
)

// fetch sends a presigned request through the test transport.
func (c *cloud) fetch(t *testing.T, req *v4.PresignedHTTPRequest, body string) (*http.Response, string) {
	t.Helper()
	r, err := http.NewRequest(req.Method, req.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range req.SignedHeader {
		if k != "Host" {
			r.Header[k] = vs
		}
	}
	resp, err := c.transfer.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestPresigned(t *testing.T) {
	c := newCloud(t)
	b := c.bucket(t, "presigned")
	for _, path := range []bool{true, false} {
		pc := s3sdk.NewPresignClient(c.client(t, "test", "test", region, path))
		key := "dir/presigned file.txt"
		put := must(pc.PresignPutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), ContentType: aws.String("text/plain")}))(t)
		resp, body := c.fetch(t, put, "uploaded with a URL")
		if resp.StatusCode != 200 {
			t.Fatalf("presigned PUT: %d %s", resp.StatusCode, body)
		}
		get := must(pc.PresignGetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key),
			ResponseContentDisposition: aws.String("attachment")}))(t)
		if !path && !strings.Contains(get.URL, "://presigned.s3.localhost:") {
			t.Errorf("virtual-hosted URL %s", get.URL)
		}
		resp, body = c.fetch(t, get, "")
		if resp.StatusCode != 200 || body != "uploaded with a URL" || resp.Header.Get("Content-Type") != "text/plain" ||
			resp.Header.Get("Content-Disposition") != "attachment" {
			t.Errorf("presigned GET: %d %q %v", resp.StatusCode, body, resp.Header)
		}
		// A URL whose signature was tampered with.
		bad := *get
		bad.URL = strings.Replace(get.URL, "X-Amz-Signature=", "X-Amz-Signature=0", 1)
		resp, body = c.fetch(t, &bad, "")
		if resp.StatusCode != 403 || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code>") {
			t.Errorf("tampered URL: %d %s", resp.StatusCode, body)
		}
	}

	// Expiry.
	pc := s3sdk.NewPresignClient(c.s3, s3sdk.WithPresignExpires(time.Minute))
	get := must(pc.PresignGetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(b), Key: aws.String("dir/presigned file.txt")}))(t)
	if resp, _ := c.fetch(t, get, ""); resp.StatusCode != 200 {
		t.Fatalf("fresh URL: %d", resp.StatusCode)
	}
	c.skew.Store(int64(2 * time.Minute))
	defer c.skew.Store(0)
	resp, body := c.fetch(t, get, "")
	var e s3Error
	if err := xml.Unmarshal([]byte(body), &e); err != nil || resp.StatusCode != 403 || e.Code != "AccessDenied" || e.Message != "Request has expired" {
		t.Errorf("expired URL: %d %s", resp.StatusCode, body)
	}
	// HEAD of an expired URL: the status alone.
	head := must(pc.PresignHeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("dir/presigned file.txt")}))(t)
	c.skew.Store(int64(20 * time.Minute))
	resp, body = c.fetch(t, head, "")
	if resp.StatusCode != 403 || body != "" {
		t.Errorf("expired HEAD: %d %q", resp.StatusCode, body)
	}
}

package s3

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/cloudbox/cloudbox/sigv4"
)

// cfgPost sends a browser form: fields, then the file.
func cfgPost(t *testing.T, target string, fields map[string]string, filename, content string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	fw, err := mw.CreateFormFile("file", filename)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(fw, content)
	mw.WriteField("after-the-file", "ignored")
	mw.Close()
	req, err := http.NewRequest(http.MethodPost, target, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	// A redirect is the answer, not to be followed.
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// cfgSignedForm is a form for bucket signed with the default key pair
// (SigV4, us-east-1), with the policy's conditions and expiration.
func cfgSignedForm(t *testing.T, bucket string, expires time.Time, fields map[string]string, conditions ...any) map[string]string {
	t.Helper()
	now := time.Now().UTC()
	scope := sigv4.Scope{AccessKeyID: "test", Date: now.Format("20060102"), Region: "us-east-1", Service: "s3"}
	cred := "test/" + scope.Date + "/us-east-1/s3/aws4_request"
	date := now.Format("20060102T150405Z")
	conds := append([]any{map[string]string{"bucket": bucket}, map[string]string{"x-amz-algorithm": "AWS4-HMAC-SHA256"},
		map[string]string{"x-amz-credential": cred}, map[string]string{"x-amz-date": date}}, conditions...)
	doc, _ := json.Marshal(map[string]any{"expiration": expires.UTC().Format("2006-01-02T15:04:05.000Z"), "conditions": conds})
	policy := base64.StdEncoding.EncodeToString(doc)
	out := map[string]string{"policy": policy, "x-amz-algorithm": "AWS4-HMAC-SHA256", "x-amz-credential": cred, "x-amz-date": date,
		"x-amz-signature": sigv4.PolicySignature("test", scope, policy)}
	for k, v := range fields {
		out[k] = v
	}
	return out
}

func (c *cfgCloud) body(t *testing.T, bucket, key string) string {
	t.Helper()
	out := cfgMust(c.s3.GetObject(cfgCtx, &s3sdk.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}))(t)
	defer out.Body.Close()
	b, _ := io.ReadAll(out.Body)
	return string(b)
}

func TestPostPresignedWithTheGoSDK(t *testing.T) {
	c := cfgNewCloud(t, true)
	b := c.bucket(t, "uploads")
	pc := s3sdk.NewPresignClient(c.s3)
	req := cfgMust(pc.PresignPostObject(cfgCtx, &s3sdk.PutObjectInput{Bucket: aws.String(b), Key: aws.String("avatars/me.png")}, func(o *s3sdk.PresignPostOptions) {
		o.Expires = 10 * time.Minute
		o.Conditions = []any{[]any{"content-length-range", 1, 100}}
	}))(t)
	resp, body := cfgPost(t, req.URL, req.Values, "me.png", "png bytes", nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("POST: %d %s", resp.StatusCode, body)
	}
	if got := c.body(t, b, "avatars/me.png"); got != "png bytes" {
		t.Errorf("object %q", got)
	}
	if loc := resp.Header.Get("Location"); loc != c.url+"/uploads/avatars/me.png" || resp.Header.Get("ETag") == "" {
		t.Errorf("Location %q, ETag %q", loc, resp.Header.Get("ETag"))
	}

	// The signature covers the policy: another policy is refused.
	forged := map[string]string{}
	for k, v := range req.Values {
		forged[k] = v
	}
	forged["policy"] = base64.StdEncoding.EncodeToString([]byte(`{"expiration":"2099-01-01T00:00:00Z","conditions":[{"bucket":"uploads"},["starts-with","$key",""]]}`))
	resp, body = cfgPost(t, req.URL, forged, "x", "x", nil)
	if e := cfgParseError(t, body); resp.StatusCode != http.StatusForbidden || e.Code != "SignatureDoesNotMatch" {
		t.Errorf("forged policy: %d %s", resp.StatusCode, body)
	}
	// The size range holds.
	resp, body = cfgPost(t, req.URL, req.Values, "big", strings.Repeat("x", 101), nil)
	if e := cfgParseError(t, body); resp.StatusCode != http.StatusBadRequest || e.Code != "EntityTooLarge" {
		t.Errorf("too large: %d %s", resp.StatusCode, body)
	}
	resp, body = cfgPost(t, req.URL, req.Values, "empty", "", nil)
	if e := cfgParseError(t, body); resp.StatusCode != http.StatusBadRequest || e.Code != "EntityTooSmall" {
		t.Errorf("too small: %d %s", resp.StatusCode, body)
	}
	// The key is the policy's.
	other := map[string]string{}
	for k, v := range req.Values {
		other[k] = v
	}
	other["key"] = "avatars/someone-else.png"
	resp, body = cfgPost(t, req.URL, other, "x", "x", nil)
	if e := cfgParseError(t, body); resp.StatusCode != http.StatusForbidden || e.Message != `Invalid according to Policy: Policy Condition failed: ["eq", "$key", "avatars/me.png"]` {
		t.Errorf("another key: %d %s", resp.StatusCode, body)
	}
}

func TestPostPolicyConditions(t *testing.T) {
	c := cfgNewCloud(t, true)
	b := c.bucket(t, "forms")
	later := time.Now().Add(time.Hour)
	form := cfgSignedForm(t, b, later, map[string]string{"key": "user/${filename}", "success_action_status": "201", "Content-Type": "text/plain",
		"x-amz-meta-tag": "blue", "x-ignore-me": "whatever"},
		[]any{"starts-with", "$key", "user/"}, map[string]string{"success_action_status": "201"}, []any{"starts-with", "$Content-Type", "text/"},
		[]any{"eq", "$x-amz-meta-tag", "blue"})
	resp, body := cfgPost(t, c.url+"/"+b, form, "notes.txt", "some notes", nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("201 form: %d %s", resp.StatusCode, body)
	}
	var pr struct{ Location, Bucket, Key, ETag string }
	if err := xml.Unmarshal([]byte(body), &pr); err != nil || pr.Bucket != b || pr.Key != "user/notes.txt" || pr.ETag == "" || pr.Location != c.url+"/forms/user/notes.txt" {
		t.Errorf("PostResponse %s (%v)", body, err)
	}
	head := cfgMust(c.s3.HeadObject(cfgCtx, &s3sdk.HeadObjectInput{Bucket: aws.String(b), Key: aws.String("user/notes.txt")}))(t)
	if aws.ToString(head.ContentType) != "text/plain" || head.Metadata["tag"] != "blue" {
		t.Errorf("object's headers %q %v", aws.ToString(head.ContentType), head.Metadata)
	}

	// A field no condition names.
	extra := cfgSignedForm(t, b, later, map[string]string{"key": "user/a", "acl": "private"}, []any{"starts-with", "$key", "user/"})
	resp, body = cfgPost(t, c.url+"/"+b, extra, "a", "a", nil)
	if e := cfgParseError(t, body); resp.StatusCode != http.StatusForbidden || e.Message != "Invalid according to Policy: Extra input fields: acl" {
		t.Errorf("extra field: %d %s", resp.StatusCode, body)
	}
	// An expired policy.
	old := cfgSignedForm(t, b, time.Now().Add(-time.Minute), map[string]string{"key": "user/a"}, []any{"starts-with", "$key", "user/"})
	resp, body = cfgPost(t, c.url+"/"+b, old, "a", "a", nil)
	if e := cfgParseError(t, body); resp.StatusCode != http.StatusForbidden || e.Code != "AccessDenied" || e.Message != "Invalid according to Policy: Policy expired." {
		t.Errorf("expired: %d %s", resp.StatusCode, body)
	}
	// A policy for another bucket.
	elsewhere := cfgSignedForm(t, "other-bucket", later, map[string]string{"key": "a"}, map[string]string{"key": "a"})
	resp, body = cfgPost(t, c.url+"/"+b, elsewhere, "a", "a", nil)
	if e := cfgParseError(t, body); resp.StatusCode != http.StatusForbidden || e.Message != `Invalid according to Policy: Policy Condition failed: ["eq", "$bucket", "other-bucket"]` {
		t.Errorf("another bucket: %d %s", resp.StatusCode, body)
	}
	// A redirect on success, and 200.
	redirect := cfgSignedForm(t, b, later, map[string]string{"key": "r", "success_action_redirect": "https://app.example.com/done?from=form"},
		map[string]string{"key": "r"}, []any{"starts-with", "$success_action_redirect", "https://app.example.com/"})
	resp, body = cfgPost(t, c.url+"/"+b, redirect, "r", "r", nil)
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Host != "app.example.com" || loc.Query().Get("key") != "r" ||
		loc.Query().Get("bucket") != b || loc.Query().Get("from") != "form" || loc.Query().Get("etag") == "" {
		t.Errorf("redirect: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	ok := cfgSignedForm(t, b, later, map[string]string{"key": "s", "success_action_status": "200"}, map[string]string{"key": "s"},
		map[string]string{"success_action_status": "200"})
	if resp, body = cfgPost(t, c.url+"/"+b, ok, "s", "s", nil); resp.StatusCode != http.StatusOK || body != "" {
		t.Errorf("200: %d %s", resp.StatusCode, body)
	}

	// Without a policy, only a bucket that lets anyone write takes a form.
	resp, body = cfgPost(t, c.url+"/"+b, map[string]string{"key": "anon"}, "a", "a", nil)
	if e := cfgParseError(t, body); resp.StatusCode != http.StatusForbidden || e.Code != "AccessDenied" {
		t.Errorf("anonymous: %d %s", resp.StatusCode, body)
	}
	resp, body = cfgPost(t, c.url+"/"+b, map[string]string{"policy": form["policy"]}, "a", "a", nil)
	if e := cfgParseError(t, body); resp.StatusCode != http.StatusBadRequest || e.Code != "InvalidArgument" || !strings.Contains(e.Message, "must contain a field named 'key'") {
		t.Errorf("no key: %d %s", resp.StatusCode, body)
	}
}

func TestPostWithAuthOff(t *testing.T) {
	c := cfgNewCloud(t, false)
	b := c.bucket(t, "loose")
	// Any signature goes, but the policy still holds.
	form := cfgSignedForm(t, b, time.Now().Add(time.Hour), map[string]string{"key": "k"}, map[string]string{"key": "k"})
	form["x-amz-signature"] = strings.Repeat("0", 64)
	if resp, body := cfgPost(t, c.url+"/"+b, form, "k", "v", nil); resp.StatusCode != http.StatusNoContent {
		t.Errorf("any signature: %d %s", resp.StatusCode, body)
	}
	form["key"] = "other"
	if resp, body := cfgPost(t, c.url+"/"+b, form, "k", "v", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("a condition: %d %s", resp.StatusCode, body)
	}
	// Unsigned, a form acts for the default account, as unsigned API
	// requests do with authentication off.
	if resp, body := cfgPost(t, c.url+"/"+b, map[string]string{"key": "anon"}, "a", "a", map[string]string{"Origin": "https://x.test"}); resp.StatusCode != http.StatusNoContent {
		t.Errorf("unsigned: %d %s", resp.StatusCode, body)
	}
}

func TestPostCORS(t *testing.T) {
	c := cfgNewCloud(t, false)
	b := c.bucket(t, "cors-post")
	if err := c.cli(t, nil, "s3api", "put-bucket-cors", "--bucket", b, "--cors-configuration",
		`{"CORSRules":[{"AllowedOrigins":["https://app.example.com"],"AllowedMethods":["POST"]}]}`); err != nil {
		t.Fatal(err)
	}
	resp, body := cfgPost(t, c.url+"/"+b, map[string]string{"key": "k"}, "k", "v", map[string]string{"Origin": "https://app.example.com"})
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("cross-origin form: %d %v %s", resp.StatusCode, resp.Header, body)
	}
}

// TestPostPresignedWithBoto3 posts the form boto3's generate_presigned_post
// makes (SigV4 and the legacy signature), with python requests, to a
// server that checks signatures.
func TestPostPresignedWithBoto3(t *testing.T) {
	if err := exec.Command("python3", "-c", "import boto3, requests").Run(); err != nil {
		t.Skip("boto3 or requests not installed")
	}
	c := cfgNewCloud(t, true)
	b := c.bucket(t, "boto-uploads")
	script := `
import sys, boto3, requests
from botocore.config import Config
endpoint, bucket, version = sys.argv[1], sys.argv[2], sys.argv[3]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test",
                  config=Config(signature_version=version, s3={"addressing_style": "path"}))
post = s3.generate_presigned_post(bucket, "docs/${filename}",
    Fields={"success_action_status": "201", "Content-Type": "text/plain"},
    Conditions=[["starts-with", "$key", "docs/"], {"success_action_status": "201"}, ["starts-with", "$Content-Type", "text/"],
                ["content-length-range", 1, 1024]],
    ExpiresIn=600)
r = requests.post(post["url"], data=post["fields"], files={"file": ("hello-" + version + ".txt", b"hello from boto3")})
print(r.status_code)
print(r.text)
`
	for _, version := range []string{"s3v4", "s3"} {
		cmd := exec.Command("python3", "-c", script, c.url, b, version)
		cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "HOME="+t.TempDir())
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", version, err, out)
		}
		if status, _, _ := strings.Cut(string(out), "\n"); status != "201" {
			t.Errorf("%s: %s", version, out)
			continue
		}
		if got := c.body(t, b, "docs/hello-"+version+".txt"); got != "hello from boto3" {
			t.Errorf("%s: object %q", version, got)
		}
	}
}

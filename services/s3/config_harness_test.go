package s3

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/engines/objectstore"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/server"
	"github.com/cloudbox/cloudbox/store"
)

// The tests of the configuration subresources, CORS, form uploads and
// lifecycle run S3 in-process behind cloudbox's HTTP server, reached by
// aws-sdk-go-v2, the aws CLI v1 and boto3, on a virtual clock they move.

var cfgCtx = context.Background()

// cfgKeys are the key pairs the strict server knows: the default pair
// (account 000000000000) and one of account 111111111111.
var cfgKeys = append([]identity.Key{{AccessKeyID: "AKIACFGOTHER00000001", SecretAccessKey: "other-secret", Account: "111111111111"}},
	identity.DefaultKeys...)

// cfgClock is a virtual clock the tests move by hand.
type cfgClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *cfgClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *cfgClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// cfgCloud is S3 behind cloudbox's server on plain HTTP.
type cfgCloud struct {
	url   string
	st    *store.Store
	svc   *Service
	clock *cfgClock
	// s3 is a path-style client of the default account in us-east-1.
	s3 *s3sdk.Client
}

// cfgNewCloud starts S3; strict checks signatures, form uploads' too.
func cfgNewCloud(t *testing.T, strict bool) *cfgCloud {
	t.Helper()
	st := store.OpenMemory()
	t.Cleanup(func() { st.Close() })
	blobs, err := objectstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	clk := &cfgClock{now: time.Date(2026, 3, 1, 10, 30, 0, 0, time.UTC)}
	svc := New(st, blobs, clk.Now, nil)
	ids := identity.New(st, cfgKeys)
	auth := server.AuthOff
	if strict {
		auth = server.AuthStrict
	}
	raw := &registered{Service: svc, form: formAuth{ids: ids, strict: strict, now: time.Now}}
	h := server.New(server.Config{
		Services: []server.Service{{API: s3api.Service, Invoker: svc.Invoker(), Router: svc, Raw: raw}},
		Identity: ids,
		Auth:     auth,
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := &cfgCloud{url: srv.URL, st: st, svc: svc, clock: clk}
	c.s3 = c.client("test", "test", "us-east-1")
	return c
}

// client is a path-style SDK client signing with the key pair in region.
func (c *cfgCloud) client(akid, secret, region string) *s3sdk.Client {
	return s3sdk.New(s3sdk.Options{
		Region:           region,
		BaseEndpoint:     aws.String(c.url),
		UsePathStyle:     true,
		Credentials:      credentials.NewStaticCredentialsProvider(akid, secret, ""),
		RetryMaxAttempts: 1,
	})
}

// bucket creates a bucket of the default account in us-east-1.
func (c *cfgCloud) bucket(t *testing.T, name string) string {
	t.Helper()
	cfgMust(c.s3.CreateBucket(cfgCtx, &s3sdk.CreateBucketInput{Bucket: aws.String(name)}))(t)
	return name
}

// put writes body as key.
func (c *cfgCloud) put(t *testing.T, bucket, key, body string) *s3sdk.PutObjectOutput {
	t.Helper()
	return cfgMust(c.s3.PutObject(cfgCtx, &s3sdk.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}))(t)
}

// do sends a request by hand and returns the response and its body.
func (c *cfgCloud) do(t *testing.T, method, path string, body io.Reader, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, c.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// cli runs the aws CLI (v1, first on PATH) against the cloud and decodes
// its JSON output into out (when out is non-nil); it returns the CLI's
// error text when the command fails.
func (c *cfgCloud) cli(t *testing.T, out any, args ...string) error {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not installed")
	}
	cmd := exec.Command("aws", append([]string{"--endpoint-url", c.url, "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "HOME="+t.TempDir(), "AWS_PAGER=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return errors.New(strings.TrimSpace(stderr.String()))
	}
	if out != nil && stdout.Len() > 0 {
		if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stdout.String())
		}
	}
	return nil
}

// cfgMust returns v, failing the test on err: cfgMust(call())(t).
func cfgMust[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// cfgWantErr fails the test unless err has the AWS error code and HTTP
// status, and returns it for more checks.
func cfgWantErr(t *testing.T, err error, code string, status int) smithy.APIError {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error %v: want code %s", err, code)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Errorf("%s: status %d, want %d", code, re.HTTPStatusCode(), status)
	}
	return ae
}

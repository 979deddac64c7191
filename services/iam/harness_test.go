package iam_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	stssdk "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	iamapi "github.com/cloudbox/cloudbox/api/iam"
	stsapi "github.com/cloudbox/cloudbox/api/sts"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/server"
	"github.com/cloudbox/cloudbox/services/iam"
	"github.com/cloudbox/cloudbox/services/sts"
	"github.com/cloudbox/cloudbox/store"
)

const (
	region  = "us-east-1"
	account = "000000000000"
)

var ctx = context.Background()

// created is the time the tests' IAM stamps on what it creates.
var created = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// cloud is IAM and STS over one store behind cloudbox's HTTP server,
// reached by aws-sdk-go-v2 and the aws CLI.
type cloud struct {
	url string
	st  *store.Store
	iam *iamsdk.Client
}

// newCloud serves IAM and STS with auth (server.AuthOff or AuthStrict).
func newCloud(t *testing.T, auth string) *cloud {
	t.Helper()
	st := store.OpenMemory()
	t.Cleanup(func() { st.Close() })
	ids := identity.New(st, identity.DefaultKeys)
	h := server.New(server.Config{
		Services: []server.Service{
			{API: iamapi.Service, Invoker: iam.New(st, func() time.Time { return created }).Invoker()},
			{API: stsapi.Service, Invoker: sts.New(ids, time.Now).Invoker()},
		},
		Identity: ids,
		Auth:     auth,
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := &cloud{url: srv.URL, st: st}
	c.iam = c.iamAs("test", "test")
	return c
}

// iamAs is an IAM client signing with the key given (a 12-digit key id is
// that account when auth is off).
func (c *cloud) iamAs(akid, secret string) *iamsdk.Client {
	return iamsdk.New(iamsdk.Options{
		Region:           region,
		BaseEndpoint:     aws.String(c.url),
		Credentials:      credentials.NewStaticCredentialsProvider(akid, secret, ""),
		RetryMaxAttempts: 1,
	})
}

func (c *cloud) stsAs(akid, secret string) *stssdk.Client {
	return stssdk.New(stssdk.Options{
		Region:           region,
		BaseEndpoint:     aws.String(c.url),
		Credentials:      credentials.NewStaticCredentialsProvider(akid, secret, ""),
		RetryMaxAttempts: 1,
	})
}

// staticCreds are the credentials given, with a session token for STS's.
func staticCreds(akid, secret, token string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(akid, secret, token)
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// wantErr fails the test unless err has the AWS error code, the message
// and the HTTP status.
func wantErr(t *testing.T, err error, code string, status int, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error %v: want code %s", err, code)
	}
	if ae.ErrorMessage() != msg {
		t.Errorf("%s message:\n got %q\nwant %q", code, ae.ErrorMessage(), msg)
	}
	var re *http.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Errorf("%s: status %d, want %d", code, re.HTTPStatusCode(), status)
	}
}

// decoded is a URL-encoded policy document as IAM returns it, decoded.
func decoded(t *testing.T, doc *string) string {
	t.Helper()
	s, err := url.QueryUnescape(aws.ToString(doc))
	if err != nil {
		t.Fatalf("document %q: %v", aws.ToString(doc), err)
	}
	return s
}

// cli runs the aws CLI (v1, first on PATH) against the cloud with the key
// given, and decodes its JSON output into out (when not nil).
func (c *cloud) cli(t *testing.T, akid, secret string, out any, args ...string) {
	t.Helper()
	stdout, err := c.cliErr(t, akid, secret, args...)
	if err != nil {
		t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stdout)
	}
	if out != nil {
		if err := json.Unmarshal(stdout, out); err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, stdout)
		}
	}
}

// cliErr runs the aws CLI and returns its output and error (stderr is in
// the output when it fails).
func (c *cloud) cliErr(t *testing.T, akid, secret string, args ...string) ([]byte, error) {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not installed")
	}
	cmd := exec.Command("aws", append([]string{"--endpoint-url", c.url, "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID="+akid, "AWS_SECRET_ACCESS_KEY="+secret, "AWS_DEFAULT_REGION="+region,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return append(stdout.Bytes(), stderr.Bytes()...), err
	}
	return stdout.Bytes(), nil
}

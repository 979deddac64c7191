package ec2_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"

	"github.com/cloudbox/cloudbox/daemon"
)

// cloud is an in-process cloudbox with an ephemeral store, reached by real
// clients over loopback.
type cloud struct {
	url string
}

// newCloud answers unknown AMI ids as AWS does (strict images), which is
// what most tests check; newCloudWith takes any configuration.
func newCloud(t *testing.T) *cloud {
	t.Helper()
	return newCloudWith(t, daemon.Config{Ephemeral: true, StrictImages: true})
}

func newCloudWith(t *testing.T, cfg daemon.Config) *cloud {
	t.Helper()
	d, err := daemon.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("daemon: %v", err)
		}
	})
	return &cloud{url: "http://" + ln.Addr().String()}
}

// ec2 returns an aws-sdk-go-v2 EC2 client for region with access key akid
// (a 12-digit key picks the account).
func (c *cloud) ec2(region, akid string) *ec2sdk.Client {
	return ec2sdk.New(ec2sdk.Options{
		Region:       region,
		BaseEndpoint: aws.String(c.url),
		Credentials:  credentials.NewStaticCredentialsProvider(akid, "secret", ""),
	})
}

// client is the default test client: ap-northeast-2, account 000000000000.
func (c *cloud) client() *ec2sdk.Client { return c.ec2("ap-northeast-2", "test") }

// apiCode returns the AWS error code of err ("" if none).
func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// wantCode fails the test unless err carries the AWS error code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := apiCode(err); got != code {
		t.Fatalf("error %v: got code %q, want %q", err, got, code)
	}
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

// cli runs the aws CLI (v1, first on PATH) against the cloud and decodes
// its JSON output into out (when out is non-nil). It returns the CLI's
// error text when the command fails.
func (c *cloud) cli(t *testing.T, out any, args ...string) error {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not installed")
	}
	home := t.TempDir()
	cmd := exec.Command("aws", append([]string{"--endpoint-url", c.url, "--output", "json"}, args...)...)
	cmd.Env = append(os.Environ(),
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=ap-northeast-2",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "HOME="+home, "AWS_PAGER=")
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

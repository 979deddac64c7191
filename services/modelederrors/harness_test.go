package modelederrors_test

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

	"github.com/cloudbox/cloudbox/daemon"
)

const region = "ap-northeast-2"

// cloud is an in-process control-plane cloudbox reached over loopback.
type cloud struct{ url string }

func newCloud(t *testing.T) *cloud {
	t.Helper()
	d, err := daemon.New(daemon.Config{Ephemeral: true, Dataplane: "off"})
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

// cfg is what every aws-sdk-go-v2 client of the tests is built from.
func (c *cloud) cfg() aws.Config {
	return aws.Config{Region: region, BaseEndpoint: aws.String(c.url),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
}

// is reports whether err is (or wraps) the SDK's typed error T.
func is[T any, PT interface {
	*T
	error
}](err error) bool {
	var p PT
	return errors.As(err, &p)
}

// modeled is one error shape and a call that triggers it, once through
// aws-sdk-go-v2 and once through boto3.
type modeled struct {
	shape string
	sdk   func(ctx context.Context) error
	typed func(error) bool
	py    string // a boto3 call on client c
}

// check runs the table: each sdk call must fail with its typed error, and
// each py call through boto3 (one Python process for the table) must
// raise client.exceptions.<shape>.
func (c *cloud) check(t *testing.T, service string, rows []modeled) {
	t.Helper()
	ctx := context.Background()
	for _, r := range rows {
		if err := r.sdk(ctx); !r.typed(err) {
			t.Errorf("%s: aws-sdk-go-v2 got %T: %v", r.shape, err, err)
		}
	}
	if _, err := exec.LookPath("python3"); err != nil {
		t.Skip("python3 not installed")
	}
	type pyRow struct{ Shape, Call string }
	var calls []pyRow
	for _, r := range rows {
		calls = append(calls, pyRow{r.shape, r.py})
	}
	js, _ := json.Marshal(calls)
	cmd := exec.Command("python3", "-c", boto3Script, service, c.url, region, string(js))
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		if strings.Contains(stderr.String(), "No module named 'boto3'") {
			t.Skip("boto3 not installed")
		}
		t.Fatalf("boto3: %v\n%s", err, stderr.String())
	}
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if !strings.HasSuffix(line, " ok") {
			t.Errorf("boto3: %s", line)
		}
	}
}

// boto3Script runs each call and prints "<shape> ok" when it raised the
// client's modeled exception of that name.
const boto3Script = `
import json, sys, boto3
from botocore.config import Config
service, url, region, rows = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
c = boto3.client(service, endpoint_url=url, region_name=region, aws_access_key_id="test",
    aws_secret_access_key="test", config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
for r in rows:
    want = getattr(c.exceptions, r["Shape"])
    try:
        eval(r["Call"], {"c": c})
        print(r["Shape"], "no error")
    except want:
        print(r["Shape"], "ok")
    except Exception as e:
        print(r["Shape"], "got", type(e).__name__, e)
`

package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// assumeRole returns temporary credentials for role/name in account.
func assumeRole(t *testing.T, c *Cloud, account, name string) (Creds, string) {
	t.Helper()
	out, err := sts.NewFromConfig(c.sdk(testCreds)).AssumeRole(context.Background(), &sts.AssumeRoleInput{
		RoleArn:         aws.String("arn:aws:iam::" + account + ":role/" + name),
		RoleSessionName: aws.String("persist"),
	})
	if err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	return Creds{
		AccessKeyID:     aws.ToString(out.Credentials.AccessKeyId),
		SecretAccessKey: aws.ToString(out.Credentials.SecretAccessKey),
		SessionToken:    aws.ToString(out.Credentials.SessionToken),
	}, aws.ToString(out.AssumedRoleUser.Arn)
}

// whoami is GetCallerIdentity with aws-sdk-go-v2.
func whoami(c *Cloud, cr Creds) (string, error) {
	out, err := sts.NewFromConfig(c.sdk(cr)).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", err
	}
	return aws.ToString(out.Arn), nil
}

func mustBe(t *testing.T, c *Cloud, cr Creds, arn, when string) {
	t.Helper()
	got, err := whoami(c, cr)
	if err != nil {
		t.Fatalf("%s: GetCallerIdentity: %v", when, err)
	}
	if got != arn {
		t.Fatalf("%s: caller is %s, want %s", when, got, arn)
	}
}

func mustBeRefused(t *testing.T, c *Cloud, cr Creds, when string) {
	t.Helper()
	_, err := whoami(c, cr)
	if e := sdkErr(t, err); e.Code != "InvalidClientTokenId" || e.Status != http.StatusForbidden {
		t.Fatalf("%s: %+v, want 403 InvalidClientTokenId", when, e)
	}
}

// 7. State survives a clean stop and a kill -9; `cloudbox reset` wipes it,
// through the running daemon or, with none running, on disk.
func TestPersistence(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	opts := Opts{Auth: "strict", DataDir: dir}

	c := startBinary(t, opts)
	creds, arn := assumeRole(t, c, "555555555555", "keeper")
	mustBe(t, c, creds, arn, "before any restart")

	if code := c.signal(t, syscall.SIGTERM); code != 0 {
		t.Errorf("SIGTERM: exit code %d, want 0; output:\n%s", code, c.Stderr())
	}
	if !hasLog(c, "cloudbox stopped") {
		t.Errorf("no \"cloudbox stopped\" line after SIGTERM:\n%s", c.Stderr())
	}

	c = startBinary(t, opts)
	mustBe(t, c, creds, arn, "after SIGTERM and restart")

	// kill -9 right after a write: the write was acknowledged, so it is kept.
	creds2, arn2 := assumeRole(t, c, "555555555555", "survivor")
	if code := c.signal(t, syscall.SIGKILL); code != -1 {
		t.Errorf("SIGKILL: exit code %d, want -1 (killed)", code)
	}
	c = startBinary(t, opts)
	mustBe(t, c, creds, arn, "after kill -9 and restart")
	mustBe(t, c, creds2, arn2, "after kill -9 and restart (last write)")

	// Aimed at this daemon without its data directory, reset refuses:
	// the token is not this command's to read.
	r := cloudbox(t, "reset", "--endpoint", c.URL)
	if r.ExitCode == 0 || !strings.Contains(r.Stderr, "serves the data directory "+dir) {
		t.Fatalf("cloudbox reset without the daemon's --data-dir:\n%s", r)
	}
	mustBe(t, c, creds, arn, "after a refused reset")
	r = cloudbox(t, "reset", "--endpoint", c.URL, "--data-dir", dir)
	if r.ExitCode != 0 || !strings.Contains(r.Stdout, "state reset") {
		t.Fatalf("cloudbox reset --endpoint:\n%s", r)
	}
	mustBeRefused(t, c, creds, "after reset through the daemon")
	mustBeRefused(t, c, creds2, "after reset through the daemon")
	mustBe(t, c, testCreds, "arn:aws:iam::000000000000:root", "test/test after reset")

	// With no daemon listening, reset wipes the data directory itself.
	creds3, arn3 := assumeRole(t, c, "555555555555", "offline")
	mustBe(t, c, creds3, arn3, "before the offline reset")
	if code := c.signal(t, syscall.SIGTERM); code != 0 {
		t.Errorf("SIGTERM: exit code %d, want 0", code)
	}
	r = cloudbox(t, "reset", "--endpoint", c.URL, "--data-dir", dir)
	if r.ExitCode != 0 || !strings.Contains(r.Stdout, "state reset in "+dir) {
		t.Fatalf("cloudbox reset --data-dir with no daemon:\n%s", r)
	}
	c = startBinary(t, opts)
	mustBeRefused(t, c, creds3, "after the offline reset")
}

// With --ephemeral nothing outlives the process.
func TestEphemeral(t *testing.T) {
	t.Parallel()
	c := startBinary(t, Opts{Auth: "strict"})
	creds, arn := assumeRole(t, c, "666666666666", "fleeting")
	mustBe(t, c, creds, arn, "before restart")
	if code := c.signal(t, syscall.SIGTERM); code != 0 {
		t.Errorf("SIGTERM: exit code %d, want 0", code)
	}
	c = startBinary(t, Opts{Auth: "strict"})
	mustBeRefused(t, c, creds, "after an ephemeral restart")
}

func hasLog(c *Cloud, msg string) bool {
	for _, l := range c.Logs() {
		if l.str("msg") == msg {
			return true
		}
	}
	return false
}

// rawResponse digs the HTTP response out of an SDK result or error.
func rawResponse(t *testing.T, md middleware.Metadata, err error) *smithyhttp.Response {
	t.Helper()
	if err != nil {
		var re *smithyhttp.ResponseError
		if !errors.As(err, &re) {
			t.Fatalf("no HTTP response in %v", err)
		}
		return re.Response
	}
	resp, ok := awsmiddleware.GetRawResponse(md).(*smithyhttp.Response)
	if !ok {
		t.Fatal("no raw response in the result metadata")
	}
	return resp
}

// 8. One structured JSON log line per request, carrying the response's
// request id.
func TestRequestLog(t *testing.T) {
	t.Parallel()
	c := startBinary(t, Opts{})
	ctx := context.Background()

	type expect struct {
		service, operation, account, region string
		status                              int
		errCode                             string
		requestID                           string
	}
	var want []expect

	cr := accountCreds("123412341234")
	cr.Region = "eu-west-1"
	out, err := sts.NewFromConfig(c.sdk(cr)).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, expect{"sts", "GetCallerIdentity", "123412341234", "eu-west-1", 200, "",
		requestID(rawResponse(t, out.ResultMetadata, nil).Header)})

	cr = accountCreds("432143214321")
	cr.Region = "ap-northeast-2"
	_, err = ec2.NewFromConfig(c.sdk(cr)).DescribeVpnGateways(ctx, &ec2.DescribeVpnGatewaysInput{})
	want = append(want, expect{"ec2", "DescribeVpnGateways", "432143214321", "ap-northeast-2", 501, "NotImplemented",
		requestID(rawResponse(t, middleware.Metadata{}, err).Header)})

	cr = Creds{AccessKeyID: "test", SecretAccessKey: "test", Region: "us-west-2"}
	resp := c.do(t, Raw{Service: "sts", Creds: cr, Header: map[string]string{"Content-Type": formType}, Body: "Action=NoSuchAction&Version=2011-06-15"})
	want = append(want, expect{"sts", "", "000000000000", "us-west-2", 400, "InvalidAction", requestID(resp.Header)})

	lines := waitLogs(t, c, nil, len(want))
	if len(lines) != len(want) {
		t.Errorf("%d request log lines for %d requests:\n%s", len(lines), len(want), c.Stderr())
	}
	for _, w := range want {
		if w.requestID == "" {
			t.Errorf("%s %s: the response had no x-amzn-RequestId", w.service, w.operation)
			continue
		}
		got := c.RequestLogs(map[string]string{"request_id": w.requestID})
		if len(got) != 1 {
			t.Errorf("%d log lines with request_id %s, want 1:\n%s", len(got), w.requestID, c.Stderr())
			continue
		}
		l := got[0]
		if l.str("service") != w.service || l.str("operation") != w.operation || l.str("account") != w.account ||
			l.str("region") != w.region || l["status"] != float64(w.status) || l.str("error") != w.errCode {
			t.Errorf("log line %v, want %+v", l, w)
		}
		if d, ok := l["duration_ms"].(float64); !ok || d < 0 {
			t.Errorf("log line %v: duration_ms is not a non-negative number", l)
		}
		if _, err := time.Parse(time.RFC3339Nano, l.str("time")); err != nil || l.str("level") == "" {
			t.Errorf("log line %v: no time or level", l)
		}
	}
}

// 9. The binary answers its first GetCallerIdentity quickly.
func TestStartTime(t *testing.T) {
	t.Parallel()
	for _, mode := range []string{"ephemeral", "persistent"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			opts := Opts{}
			if mode == "persistent" {
				opts.DataDir = filepath.Join(t.TempDir(), "data")
			}
			addr := freeAddr(t)
			start := time.Now()
			c, err := launch(t, opts, addr)
			if err != nil {
				t.Fatal(err)
			}
			client := &http.Client{Timeout: 2 * time.Second}
			for {
				if time.Since(start) > 10*time.Second {
					t.Fatalf("no answer after 10s:\n%s", c.Stderr())
				}
				select {
				case <-c.exited:
					t.Fatalf("cloudbox exited: %v\n%s", c.waitErr, c.Stderr())
				default:
				}
				req, _ := http.NewRequest(http.MethodPost, c.URL+"/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
				req.Header.Set("Content-Type", formType)
				signRaw(t, req, "Action=GetCallerIdentity&Version=2011-06-15", "sts", testCreds)
				resp, err := client.Do(req)
				if err != nil {
					time.Sleep(2 * time.Millisecond)
					continue
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("first GetCallerIdentity: HTTP %d", resp.StatusCode)
				}
				break
			}
			elapsed := time.Since(start)
			t.Logf("%s: first GetCallerIdentity answered %v after exec", mode, elapsed.Round(100*time.Microsecond))
			if elapsed > time.Second {
				t.Errorf("first answer after %v, want < 1s", elapsed)
			}
		})
	}
}

// TestCommands covers the small commands and the health endpoint.
func TestCommands(t *testing.T) {
	t.Parallel()
	if r := cloudbox(t, "version"); r.ExitCode != 0 || !strings.HasPrefix(r.Stdout, "cloudbox ") {
		t.Errorf("cloudbox version:\n%s", r)
	}
	if r := cloudbox(t, "services"); r.ExitCode != 0 || !strings.Contains(r.Stdout, "GetCallerIdentity") || !strings.Contains(r.Stdout, "ec2") {
		t.Errorf("cloudbox services:\n%s", r)
	}
	if r := cloudbox(t, "no-such-command"); r.ExitCode != 2 {
		t.Errorf("cloudbox no-such-command: exit %d, want 2", r.ExitCode)
	}

	c := startBinary(t, Opts{})
	resp := c.get(t, mustRequest(t, http.MethodGet, c.URL+"/_cloudbox/health"))
	var h struct {
		Status   string
		Version  string
		Services map[string]struct {
			State       string
			Operations  int
			Implemented int
		}
	}
	if err := json.Unmarshal([]byte(resp.Body), &h); err != nil || resp.Status != 200 {
		t.Fatalf("health: HTTP %d %v\n%s", resp.Status, err, resp.Body)
	}
	if h.Status != "ok" || h.Version == "" || h.Services["sts"].State != "running" || h.Services["sts"].Implemented < 4 {
		t.Errorf("health: %+v", h)
	}
	for _, s := range []string{"ec2", "elbv2", "autoscaling", "cloudwatch", "acm", "iam", "route53", "s3"} {
		if h.Services[s].Operations == 0 {
			t.Errorf("health does not list service %s: %+v", s, h.Services)
		}
	}
	if !hasLog(c, "cloudbox ready") {
		t.Errorf("no \"cloudbox ready\" log line:\n%s", c.Stderr())
	}
}

func mustRequest(t *testing.T, method, url string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

package ssm_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ssmsdk "github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	ssmapi "github.com/cloudbox/cloudbox/api/ssm"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/server"
	"github.com/cloudbox/cloudbox/services/ssm"
	"github.com/cloudbox/cloudbox/store"
)

const (
	region  = "eu-west-3"
	account = "000000000000"
)

var ctx = context.Background()

// cloud is SSM alone behind cloudbox's HTTP server, reached by the SDK.
type cloud struct {
	url string
	svc *ssm.Service
	st  *store.Store
	ssm *ssmsdk.Client
}

func newCloud(t *testing.T) *cloud {
	t.Helper()
	st := store.OpenMemory()
	t.Cleanup(func() { st.Close() })
	svc := ssm.New(st, time.Now, nil)
	h := server.New(server.Config{
		Services: []server.Service{{API: ssmapi.Service, Invoker: svc.Invoker()}},
		Identity: identity.New(st, identity.DefaultKeys),
		Auth:     server.AuthOff,
	})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c := &cloud{url: srv.URL, svc: svc, st: st}
	c.ssm = c.client(region, "test")
	return c
}

// client signs as akid (a 12-digit key is that account) in region.
func (c *cloud) client(region, akid string) *ssmsdk.Client {
	return ssmsdk.New(ssmsdk.Options{
		Region:           region,
		BaseEndpoint:     aws.String(c.url),
		Credentials:      credentials.NewStaticCredentialsProvider(akid, "secret", ""),
		RetryMaxAttempts: 1,
	})
}

// wantErr fails the test unless err carries the AWS error code, and
// returns the error's message.
func wantErr(t *testing.T, err error, code string) string {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error %v: want code %s", err, code)
	}
	return ae.ErrorMessage()
}

// wantErrMsg fails the test unless err has the code and the message.
func wantErrMsg(t *testing.T, err error, code, msg string) {
	t.Helper()
	if got := wantErr(t, err, code); got != msg {
		t.Errorf("%s message:\n got %q\nwant %q", code, got, msg)
	}
}

// memberless are the errors whose model shape has no message member: AWS
// sends a message with some of them, which botocore shows, but
// aws-sdk-go-v2 does not read it. Their messages are checked with the
// CLIs and boto3 (e2e/ssm_test.go).
var memberless = map[string]bool{"InvalidFilterKey": true, "TooManyTagsError": true, "InvalidResourceId": true, "InvalidResourceType": true}

// checkErr is wantErrMsg, checking only the code of memberless errors.
func checkErr(t *testing.T, err error, code, msg string) {
	t.Helper()
	if memberless[code] {
		wantErr(t, err, code)
		return
	}
	wantErrMsg(t, err, code, msg)
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

// put creates or overwrites a String parameter and returns its version.
func (c *cloud) put(t *testing.T, name, value string, opts ...func(*ssmsdk.PutParameterInput)) int64 {
	t.Helper()
	in := &ssmsdk.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: types.ParameterTypeString}
	for _, o := range opts {
		o(in)
	}
	return must[*ssmsdk.PutParameterOutput](t)(c.ssm.PutParameter(ctx, in)).Version
}

func overwrite(in *ssmsdk.PutParameterInput) { in.Overwrite = aws.Bool(true) }

// value returns what GetParameter gives for name, decrypted.
func (c *cloud) value(t *testing.T, name string) string {
	t.Helper()
	out := must[*ssmsdk.GetParameterOutput](t)(c.ssm.GetParameter(ctx, &ssmsdk.GetParameterInput{Name: aws.String(name), WithDecryption: aws.Bool(true)}))
	return aws.ToString(out.Parameter.Value)
}

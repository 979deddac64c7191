package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/engines/objectstore"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/server"
	"github.com/cloudbox/cloudbox/services/s3"
	"github.com/cloudbox/cloudbox/store"
)

const (
	region  = "us-east-1"
	account = identity.DefaultAccount
	// other is a second account, to see that bucket names are global.
	other = "111111111111"
)

var ctx = context.Background()

// keys are the credentials the strict server knows: the default pair
// (account 000000000000) and one of the other account.
var keys = append([]identity.Key{{AccessKeyID: "AKIAOTHERACCOUNT0001", SecretAccessKey: "other-secret", Account: other}},
	identity.DefaultKeys...)

// cloud is S3 behind cloudbox's HTTP server, over TLS (the SDKs send
// trailing checksums only over HTTPS) and plain HTTP (the CLIs' way),
// with signatures verified.
type cloud struct {
	url      string // https://127.0.0.1:port
	httpURL  string // http://127.0.0.1:port
	st       *store.Store
	svc      *s3.Service
	blobs    *objectstore.Store
	transfer *http.Client // dials the TLS server whatever the host
	// skew moves the server's clock, for presigned URLs that expire.
	skew atomic.Int64
	// hosts are the Host headers the server saw.
	mu    sync.Mutex
	hosts []string
	// s3 is a path-style client of the default account in us-east-1.
	s3 *s3sdk.Client
}

func newCloud(t *testing.T) *cloud {
	t.Helper()
	st := store.OpenMemory()
	t.Cleanup(func() { st.Close() })
	blobs, err := objectstore.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	svc := s3.New(st, blobs, time.Now, nil)
	c := &cloud{st: st, svc: svc, blobs: blobs}
	ss := server.Service{API: s3api.Service, Invoker: svc.Invoker(), Router: svc}
	if raw, ok := any(svc).(server.RawHandler); ok {
		ss.Raw = raw
	}
	h := server.New(server.Config{
		Services: []server.Service{ss},
		Identity: identity.New(st, keys),
		Auth:     server.AuthStrict,
		Now:      func() time.Time { return time.Now().Add(time.Duration(c.skew.Load())) },
	})
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.hosts = append(c.hosts, r.Host)
		c.mu.Unlock()
		h.ServeHTTP(w, r)
	})
	tlsSrv := httptest.NewTLSServer(record)
	t.Cleanup(tlsSrv.Close)
	plain := httptest.NewServer(record)
	t.Cleanup(plain.Close)
	c.url, c.httpURL = tlsSrv.URL, plain.URL
	addr := tlsSrv.Listener.Addr().String()
	c.transfer = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		},
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true},
		MaxIdleConnsPerHost: 16,
	}}
	c.s3 = c.client(t, "test", "test", region, true)
	return c
}

// client is an SDK client signing with the key pair in region,
// path-style or virtual-hosted-style (<bucket>.s3.localhost).
func (c *cloud) client(t *testing.T, akid, secret, region string, pathStyle bool, opts ...func(*s3sdk.Options)) *s3sdk.Client {
	t.Helper()
	endpoint := c.url
	if !pathStyle {
		endpoint = "https://s3.localhost:" + port(c.url)
	}
	return s3sdk.New(s3sdk.Options{
		Region:           region,
		BaseEndpoint:     aws.String(endpoint),
		UsePathStyle:     pathStyle,
		Credentials:      credentials.NewStaticCredentialsProvider(akid, secret, ""),
		HTTPClient:       c.transfer,
		RetryMaxAttempts: 1,
		// What config.LoadDefaultConfig sets: CRC32 on every upload.
		RequestChecksumCalculation: aws.RequestChecksumCalculationWhenSupported,
		ResponseChecksumValidation: aws.ResponseChecksumValidationWhenSupported,
	}, opts...)
}

// in returns the default account's path-style client in region.
func (c *cloud) in(t *testing.T, region string) *s3sdk.Client {
	return c.client(t, "test", "test", region, true)
}

// sawHost says whether the server was reached with Host host.
func (c *cloud) sawHost(host string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, h := range c.hosts {
		if h == host {
			return true
		}
	}
	return false
}

func port(u string) string {
	_, p, _ := net.SplitHostPort(strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://"))
	return p
}

// bucket creates a bucket in us-east-1 with the default client.
func (c *cloud) bucket(t *testing.T, name string) string {
	t.Helper()
	must(c.s3.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String(name)}))(t)
	return name
}

// versioned creates a bucket with versioning enabled.
func (c *cloud) versioned(t *testing.T, name string) string {
	t.Helper()
	c.bucket(t, name)
	must(c.s3.PutBucketVersioning(ctx, &s3sdk.PutBucketVersioningInput{Bucket: aws.String(name),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}))(t)
	return name
}

// put writes body under key and returns the output.
func (c *cloud) put(t *testing.T, bucket, key, body string) *s3sdk.PutObjectOutput {
	t.Helper()
	return must(c.s3.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}))(t)
}

// get reads key's bytes.
func (c *cloud) get(t *testing.T, bucket, key string) string {
	t.Helper()
	out := must(c.s3.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}))(t)
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// raw sends an unsigned-or-signed-by-hand request to the plain server.
func (c *cloud) raw(t *testing.T, method, path string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, c.httpURL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// must returns a call's result, failing the test on its error:
// must(c.s3.PutObject(...))(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// wantErr fails the test unless err has the AWS error code and the HTTP
// status, and returns the error for more checks.
func wantErr(t *testing.T, err error, code string, status int) smithy.APIError {
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

// status is the HTTP status of an SDK error, 0 if it has none.
func status(err error) int {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		return re.HTTPStatusCode()
	}
	return 0
}

func errorsAs[T error](err error, target *T) bool { return errors.As(err, target) }

// signedRaw sends a request signed with the default key for region to
// the plain server, path-style.
// hdr are more headers, name and value in turn.
func (c *cloud) signedRaw(t *testing.T, method, path string, body []byte, region string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, c.httpURL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	req.Header.Set("X-Amz-Content-Sha256", hash)
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, req, hash, "s3", region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// countFiles counts the regular files under dir.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

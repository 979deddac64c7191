package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/api/acm"
	"github.com/cloudbox/cloudbox/api/cloudwatch"
	"github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/api/sts"
	"github.com/cloudbox/cloudbox/sigv4"
)

// TestRoute covers the ways a request names its service; the e2e tests
// drive the same paths with real clients.
func TestRoute(t *testing.T) {
	svcs := []Service{{API: sts.Service}, {API: ec2.Service}, {API: acm.Service}, {API: cloudwatch.Service}, {API: s3.Service}}
	s := New(Config{Services: svcs})
	signed := func(service string) *sigv4.Signed {
		return &sigv4.Signed{Scope: sigv4.Scope{AccessKeyID: "test", Region: "us-east-1", Service: service}}
	}
	form := func(body string) (*http.Request, []byte) {
		r := httptest.NewRequest("POST", "http://localhost:4566/", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return r, []byte(body)
	}
	for _, tc := range []struct {
		name   string
		req    func() (*http.Request, []byte)
		signed *sigv4.Signed
		want   *api.Service
	}{
		{"scope names sts", func() (*http.Request, []byte) { return form("Action=GetCallerIdentity&Version=2011-06-15") }, signed("sts"), sts.Service},
		{"scope names ec2", func() (*http.Request, []byte) { return form("Action=DescribeVpcs&Version=2016-11-15") }, signed("ec2"), ec2.Service},
		{"json target", func() (*http.Request, []byte) {
			r := httptest.NewRequest("POST", "http://localhost/", strings.NewReader("{}"))
			r.Header.Set("X-Amz-Target", "CertificateManager.ListCertificates")
			return r, []byte("{}")
		}, signed("acm"), acm.Service},
		{"cloudwatch over awsJson", func() (*http.Request, []byte) {
			r := httptest.NewRequest("POST", "http://localhost/", strings.NewReader("{}"))
			r.Header.Set("X-Amz-Target", "GraniteServiceVersion20100801.ListMetrics")
			return r, []byte("{}")
		}, nil, cloudwatch.Service},
		{"unsigned, by host", func() (*http.Request, []byte) {
			r, b := form("Action=AssumeRoleWithWebIdentity&Version=2011-06-15")
			r.Host = "sts.amazonaws.com"
			return r, b
		}, nil, sts.Service},
		{"unsigned, by query Version", func() (*http.Request, []byte) { return form("Action=DescribeRegions&Version=2016-11-15") }, nil, ec2.Service},
		{"unknown scope service", func() (*http.Request, []byte) { return form("Action=X") }, signed("nosuch"), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, body := tc.req()
			got := s.route(r, body, tc.signed)
			switch {
			case tc.want == nil && got != nil:
				t.Fatalf("routed to %s, want none", got.API.Package)
			case tc.want != nil && (got == nil || got.API != tc.want):
				t.Fatalf("routed to %v, want %s", got, tc.want.Package)
			}
		})
	}
}

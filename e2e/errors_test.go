package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/route53"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
)

// unimplemented is one operation of each registered service that cloudbox
// does not implement yet, as each client spells it.
var unimplemented = []struct {
	service   string   // cloudbox's package name, as logged
	operation string   // the AWS operation
	cli       []string // aws CLI arguments
	boto      [2]string
	sdk       func(context.Context, aws.Config) error
}{
	{"ec2", "DescribeVpnGateways", []string{"ec2", "describe-vpn-gateways"}, [2]string{"ec2", "describe_vpn_gateways"},
		func(ctx context.Context, cfg aws.Config) error {
			_, err := ec2.NewFromConfig(cfg).DescribeVpnGateways(ctx, &ec2.DescribeVpnGatewaysInput{})
			return err
		}},
	{"s3", "ListBucketAnalyticsConfigurations", []string{"s3api", "list-bucket-analytics-configurations", "--bucket", "b"}, [2]string{},
		func(ctx context.Context, cfg aws.Config) error {
			_, err := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true }).ListBucketAnalyticsConfigurations(ctx,
				&s3.ListBucketAnalyticsConfigurationsInput{Bucket: aws.String("b")})
			return err
		}},
	{"acm", "GetAccountConfiguration", []string{"acm", "get-account-configuration"}, [2]string{"acm", "get_account_configuration"},
		func(ctx context.Context, cfg aws.Config) error {
			_, err := acm.NewFromConfig(cfg).GetAccountConfiguration(ctx, &acm.GetAccountConfigurationInput{})
			return err
		}},
	// Every IAM operation is implemented.
	{"ssm", "ListDocuments", []string{"ssm", "list-documents"}, [2]string{"ssm", "list_documents"},
		func(ctx context.Context, cfg aws.Config) error {
			_, err := ssm.NewFromConfig(cfg).ListDocuments(ctx, &ssm.ListDocumentsInput{})
			return err
		}},
	{"route53", "ListTrafficPolicies", []string{"route53", "list-traffic-policies"}, [2]string{"route53", "list_traffic_policies"},
		func(ctx context.Context, cfg aws.Config) error {
			_, err := route53.NewFromConfig(cfg).ListTrafficPolicies(ctx, &route53.ListTrafficPoliciesInput{})
			return err
		}},
	// Every elbv2 operation the installed CLIs know is implemented.
	{"elbv2", "DescribeTrustStores", nil, [2]string{"elbv2", "describe_trust_stores"},
		func(ctx context.Context, cfg aws.Config) error {
			_, err := elbv2.NewFromConfig(cfg).DescribeTrustStores(ctx, &elbv2.DescribeTrustStoresInput{})
			return err
		}},
	{"autoscaling", "DescribeNotificationConfigurations", []string{"autoscaling", "describe-notification-configurations"}, [2]string{"autoscaling", "describe_notification_configurations"},
		func(ctx context.Context, cfg aws.Config) error {
			_, err := autoscaling.NewFromConfig(cfg).DescribeNotificationConfigurations(ctx, &autoscaling.DescribeNotificationConfigurationsInput{})
			return err
		}},
	// CloudWatch: boto3/CLI v1 (botocore >= 1.36) and aws-sdk-go-v2 speak
	// the smithy RPC v2 CBOR protocol to it; the CLI v2 2.9 speaks query.
	{"cloudwatch", "ListDashboards", []string{"cloudwatch", "list-dashboards"}, [2]string{"cloudwatch", "list_dashboards"},
		func(ctx context.Context, cfg aws.Config) error {
			_, err := cloudwatch.NewFromConfig(cfg).ListDashboards(ctx, &cloudwatch.ListDashboardsInput{})
			return err
		}},
}

// checkNotImplementedLog finds the one request the account made and checks
// the daemon answered 501 for the operation.
func checkNotImplementedLog(t *testing.T, c *Cloud, account, service, operation string) {
	t.Helper()
	lines := waitLogs(t, c, map[string]string{"account": account}, 1)
	if len(lines) != 1 {
		t.Errorf("log lines of account %s: %v, want exactly 1", account, lines)
		return
	}
	l := lines[0]
	if l.str("service") != service || l.str("operation") != operation || l["status"] != float64(http.StatusNotImplemented) || l.str("error") != "NotImplemented" {
		t.Errorf("log line %v, want service %s operation %s status 501 error NotImplemented", l, service, operation)
	}
}

// waitLogs waits (briefly: the line is written as the response completes)
// for at least n request log lines matching match.
func waitLogs(t *testing.T, c *Cloud, match map[string]string, n int) []LogLine {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		lines := c.RequestLogs(match)
		if len(lines) >= n || time.Now().After(deadline) {
			return lines
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// 4. Unimplemented operations answer 501 NotImplemented, naming the
// operation, and every client reports it as such.
func TestNotImplemented(t *testing.T) {
	t.Parallel()
	c := startInProcess(t, Opts{})

	for _, cli := range clis() {
		t.Run(cli.Name, func(t *testing.T) {
			t.Parallel()
			cli.need(t)
			for _, op := range unimplemented {
				if op.cli == nil {
					continue // an operation newer than the CLIs here
				}
				t.Run(strings.Join(op.cli, "-"), func(t *testing.T) {
					t.Parallel()
					account := uniqueAccount()
					e := c.awsErr(t, cli, accountCreds(account), op.cli...)
					if e.Code != "NotImplemented" || e.Operation != op.operation || !strings.Contains(e.Message, op.operation) {
						t.Errorf("CLI error %+v, want NotImplemented when calling %s with a message naming it", e, op.operation)
					}
					checkNotImplementedLog(t, c, account, op.service, op.operation)
				})
			}
		})
	}

	t.Run("boto3", func(t *testing.T) {
		t.Parallel()
		type call struct {
			Name, Service, Method string
			Creds                 map[string]string
		}
		var calls []call
		accounts := map[string]string{}
		for _, op := range unimplemented {
			if op.boto[0] == "" {
				continue
			}
			a := uniqueAccount()
			accounts[op.operation] = a
			calls = append(calls, call{op.operation, op.boto[0], op.boto[1], accountCreds(a).py()})
		}
		out := c.boto(t, testCreds, `
emit({c["Name"]: call(getattr(client(c["Service"], c["Creds"]), c["Method"])) for c in ARGS})
`, calls)
		for _, op := range unimplemented {
			if op.boto[0] == "" {
				continue
			}
			t.Run(op.operation, func(t *testing.T) {
				r := out[op.operation]
				if r.Error == nil || r.Error.Code != "NotImplemented" || r.Status != http.StatusNotImplemented || !strings.Contains(r.Error.Message, op.operation) {
					t.Errorf("%s.%s: %+v, want 501 NotImplemented naming %s", op.boto[0], op.boto[1], r, op.operation)
				}
				checkNotImplementedLog(t, c, accounts[op.operation], op.service, op.operation)
			})
		}
	})

	t.Run("sdk-go-v2", func(t *testing.T) {
		t.Parallel()
		for _, op := range unimplemented {
			if op.sdk == nil {
				continue
			}
			t.Run(op.operation, func(t *testing.T) {
				t.Parallel()
				account := uniqueAccount()
				e := sdkErr(t, op.sdk(context.Background(), c.sdk(accountCreds(account))))
				if e.Code != "NotImplemented" || e.Status != http.StatusNotImplemented || !strings.Contains(e.Message, op.operation) {
					t.Errorf("%+v, want 501 NotImplemented naming %s", e, op.operation)
				}
				checkNotImplementedLog(t, c, account, op.service, op.operation)
			})
		}
	})
}

const formType = "application/x-www-form-urlencoded; charset=utf-8"

// 5. Malformed requests get the AWS error in the service's envelope: a 4xx,
// never a 500, always with a request id.
func TestMalformedRequests(t *testing.T) {
	t.Parallel()
	c := startInProcess(t, Opts{})
	form := map[string]string{"Content-Type": formType}

	cases := []struct {
		name     string
		req      Raw
		status   int
		envelope func(*testing.T, string) WireError
		code     string
		message  string // a prefix of the expected message, if any
	}{
		{
			name:   "query unknown action",
			req:    Raw{Service: "sts", Header: form, Body: "Action=NoSuchAction&Version=2011-06-15"},
			status: 400, envelope: queryError, code: "InvalidAction",
		},
		{
			name:   "ec2 unknown action",
			req:    Raw{Service: "ec2", Header: form, Body: "Action=NoSuchAction&Version=2016-11-15"},
			status: 400, envelope: ec2Error, code: "InvalidAction",
		},
		{
			name: "json broken body",
			req: Raw{Service: "acm", Body: `{"MaxItems": `, Header: map[string]string{
				"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "CertificateManager.ListCertificates"}},
			status: 400, envelope: jsonError, code: "SerializationException",
		},
		{
			name: "json unknown operation",
			req: Raw{Service: "acm", Body: `{}`, Header: map[string]string{
				"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "CertificateManager.NoSuchOperation"}},
			status: 400, envelope: jsonError, code: "UnknownOperationException",
		},
		{
			name:   "unknown service in the scope",
			req:    Raw{Service: "foo", Header: form, Body: "Action=ListThings&Version=2020-01-01"},
			status: 400, envelope: queryError, code: "UnknownService",
		},
		{
			name: "validation: session name too short",
			req: Raw{Service: "sts", Header: form,
				Body: "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fr&RoleSessionName=a"},
			status: 400, envelope: queryError, code: "ValidationError",
			message: "1 validation error detected: Value 'a' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2",
		},
		{
			name:   "validation: required member missing",
			req:    Raw{Service: "sts", Header: form, Body: "Action=AssumeRole&Version=2011-06-15&RoleSessionName=abc"},
			status: 400, envelope: queryError, code: "ValidationError",
			message: "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := c.do(t, tc.req)
			id := requestID(resp.Header)
			if id == "" {
				t.Errorf("no x-amzn-RequestId header: %v", resp.Header)
			}
			if resp.Status >= 500 {
				t.Fatalf("HTTP %d (a 5xx) for a client error:\n%s", resp.Status, resp.Body)
			}
			e := tc.envelope(t, resp.Body)
			if resp.Status != tc.status || e.Code != tc.code {
				t.Errorf("HTTP %d %s, want %d %s:\n%s", resp.Status, e.Code, tc.status, tc.code, resp.Body)
			}
			if !strings.HasPrefix(e.Message, tc.message) {
				t.Errorf("message %q, want it to start with %q", e.Message, tc.message)
			}
			if e.RequestID != "" && e.RequestID != id {
				t.Errorf("request id in body %s != header %s", e.RequestID, id)
			}
		})
	}

	// Unsigned requests (which --auth off serves or refuses as it likes) and
	// requests that are not AWS requests at all: never a 5xx, always with a
	// request id.
	junk := []struct {
		name string
		req  Raw
	}{
		{"unsigned GetCallerIdentity", Raw{Unsigned: true, Header: form, Body: "Action=GetCallerIdentity&Version=2011-06-15"}},
		{"unsigned unknown action", Raw{Unsigned: true, Header: form, Body: "Action=NoSuchAction&Version=2011-06-15"}},
		{"unsigned json broken body", Raw{Unsigned: true, Body: `{"MaxItems": `, Header: map[string]string{
			"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "CertificateManager.ListCertificates"}}},
		{"unsigned empty POST", Raw{Unsigned: true}},
		{"unsigned GET of a path", Raw{Unsigned: true, Method: "GET", Path: "/no/such/thing"}},
		{"garbage authorization", Raw{Unsigned: true, Header: map[string]string{"Authorization": "AWS4-HMAC-SHA256 garbage"}, Body: "x"}},
	}
	for _, tc := range junk {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := c.do(t, tc.req)
			if requestID(resp.Header) == "" {
				t.Errorf("no x-amzn-RequestId header: %v", resp.Header)
			}
			if resp.Status >= 500 {
				t.Errorf("HTTP %d (a 5xx):\n%s", resp.Status, resp.Body)
			}
		})
	}
}

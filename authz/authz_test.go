package authz

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/policy"
)

// fakeIAM is IAMReader over fixed identities, roles and managed policies.
type fakeIAM struct {
	ids      map[string]Identity
	roles    map[string]string // role ARN: trust policy
	policies map[string]string // managed policy ARN: document
	calls    int
}

func (f *fakeIAM) Identity(arn string) (Identity, bool, error) {
	f.calls++
	id, ok := f.ids[arn]
	return id, ok, nil
}

func (f *fakeIAM) RoleTrust(arn string) (string, string, bool, error) {
	t, ok := f.roles[arn]
	return arn, t, ok, nil
}

func (f *fakeIAM) Policy(arn string) (Document, bool, error) {
	t, ok := f.policies[arn]
	return Document{Name: arn, Kind: policy.Managed, Text: t}, ok, nil
}

type fakeBuckets map[string]string

func (b fakeBuckets) ResourcePolicy(bucket string) (string, string, error) {
	doc, ok := b[bucket]
	if !ok {
		return "", "", nil
	}
	return doc, "111122223333", nil
}

const (
	aliceARN = "arn:aws:iam::111122223333:user/alice"
	allowGet = `{"Version":"2012-10-17","Statement":{"Sid":"Get","Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`
)

var (
	s3API  = &api.Service{Package: "s3", ServiceID: "S3", SigningName: "s3", Protocol: "rest-xml"}
	ec2API = &api.Service{Package: "ec2", ServiceID: "EC2", SigningName: "ec2", Protocol: "ec2"}
	ssmAPI = &api.Service{Package: "ssm", ServiceID: "SSM", SigningName: "ssm", Protocol: "json"}
	cwAPI  = &api.Service{Package: "cloudwatch", ServiceID: "CloudWatch", SigningName: "monitoring", Protocol: "query"}
)

// s3Refiner maps GetObject/PutObject to the object in the input string.
type s3Refiner struct{}

func (s3Refiner) Authorization(_ context.Context, op string, in any) []Access {
	return []Access{{Action: "s3:" + op, Resource: "arn:aws:s3:::" + in.(string)}}
}

func callAs(arn, account string) context.Context {
	return api.WithRequest(context.Background(), &api.Request{ID: "req", Region: "us-east-1", Caller: api.Principal{ARN: arn, Account: account}})
}

func newTest(mode Mode, logs *bytes.Buffer) (*Authorizer, *fakeIAM) {
	f := &fakeIAM{ids: map[string]Identity{
		aliceARN: {Policies: []Document{{Name: "user/alice/get", Kind: policy.UserInline, Text: allowGet}}},
	}}
	cfg := Config{Mode: mode, IAM: f, Buckets: fakeBuckets{"b": `{"Version":"2012-10-17","Statement":{"Sid":"NoSecret","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/secret"}}`},
		Refiners: map[string]Refiner{"s3": s3Refiner{}}}
	if logs != nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	}
	return New(cfg), f
}

func TestAuthorize(t *testing.T) {
	a, f := newTest(Enforce, nil)
	alice := callAs(aliceARN, "111122223333")
	if err := a.Authorize(alice, s3API, "GetObject", "b/k"); err != nil {
		t.Errorf("alice GetObject: %v", err)
	}
	err := a.Authorize(alice, s3API, "PutObject", "b/k")
	if e := api.As(err); e.Code != "AccessDenied" || e.Status != 403 ||
		e.Message != `User: `+aliceARN+` is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::b/k" because no identity-based policy allows the s3:PutObject action` {
		t.Errorf("PutObject: %+v", e)
	}
	err = a.Authorize(alice, s3API, "GetObject", "b/secret")
	if e := api.As(err); e.Code != "AccessDenied" || !strings.HasSuffix(e.Message, "with an explicit deny in a resource-based policy") {
		t.Errorf("GetObject of a denied key: %+v", e)
	}
	// The root user may do anything in its account; a user IAM does not
	// know nothing.
	if err := a.Authorize(callAs("arn:aws:iam::111122223333:root", "111122223333"), ec2API, "TerminateInstances", nil); err != nil {
		t.Errorf("root: %v", err)
	}
	bob := callAs("arn:aws:iam::111122223333:user/bob", "111122223333")
	e := api.As(a.Authorize(bob, ec2API, "TerminateInstances", nil))
	if e.Code != "UnauthorizedOperation" || e.Status != 403 ||
		!strings.HasPrefix(e.Message, "You are not authorized to perform this operation. User: arn:aws:iam::111122223333:user/bob is not authorized to perform: ec2:TerminateInstances on resource: * because no identity-based policy allows the ec2:TerminateInstances action. Encoded authorization failure message: ") {
		t.Errorf("EC2: %+v", e)
	}
	name := "/app/db"
	if e := api.As(a.Authorize(bob, ssmAPI, "GetParameter", &struct{ Name *string }{&name})); e.Code != "AccessDeniedException" || e.Status != 400 ||
		e.Message != "User: arn:aws:iam::111122223333:user/bob is not authorized to perform: ssm:GetParameter on resource: arn:aws:ssm:us-east-1:111122223333:parameter/app/db because no identity-based policy allows the ssm:GetParameter action" {
		t.Errorf("json: %+v", e)
	}
	if e := api.As(a.Authorize(bob, cwAPI, "PutMetricData", nil)); e.Code != "AccessDenied" || !strings.Contains(e.Message, "cloudwatch:PutMetricData") {
		t.Errorf("query: %+v", e)
	}
	// IAM is read at every call: a change applies at once.
	n := f.calls
	f.ids[aliceARN] = Identity{}
	if a.Authorize(alice, s3API, "GetObject", "b/k") == nil || f.calls != n+1 {
		t.Errorf("alice's policies were not read again")
	}
}

func TestBoundaryAndCache(t *testing.T) {
	a, f := newTest(Enforce, nil)
	f.ids[aliceARN] = Identity{
		Policies: []Document{{Name: "p", Kind: policy.Managed, Text: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`}},
		Boundary: &Document{Name: "boundary", Kind: policy.Managed, Text: allowGet},
	}
	alice := callAs(aliceARN, "111122223333")
	if err := a.Authorize(alice, s3API, "GetObject", "b/k"); err != nil {
		t.Errorf("within the boundary: %v", err)
	}
	if e := api.As(a.Authorize(alice, s3API, "PutObject", "b/k")); !strings.HasSuffix(e.Message, "because no permissions boundary allows the s3:PutObject action") {
		t.Errorf("outside the boundary: %+v", e)
	}
	p1, _ := a.parse(Document{Name: "x", Kind: policy.Managed, Text: allowGet}, "")
	p2, _ := a.parse(Document{Name: "x", Kind: policy.Managed, Text: allowGet}, "")
	if p1 == nil || p1 != p2 {
		t.Errorf("a document is parsed again")
	}
}

// AWS's managed documents may exceed the customer quota.
func TestAWSManagedSize(t *testing.T) {
	var actions []string
	for i := 0; i < 600; i++ {
		actions = append(actions, `"s3:Get`+strings.Repeat("x", 10)+`"`)
	}
	doc := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":[` + strings.Join(actions, ",") + `],"Resource":"*"}}`
	a, _ := newTest(Enforce, nil)
	if _, err := a.parse(Document{Name: "big", Kind: policy.Managed, Text: doc}, ""); err == nil {
		t.Fatalf("a customer document over the quota parses")
	}
	if _, err := a.parse(Document{Name: "big", Kind: policy.Managed, AWSManaged: true, Text: doc}, ""); err != nil {
		t.Errorf("AWS managed: %v", err)
	}
}

func TestAuditLogs(t *testing.T) {
	var logs bytes.Buffer
	a, _ := newTest(Audit, &logs)
	alice := callAs(aliceARN, "111122223333")
	if err := a.Authorize(alice, s3API, "GetObject", "b/secret"); err != nil {
		t.Fatalf("audit denied: %v", err)
	}
	for _, want := range []string{`"msg":"iam audit: would deny"`, `"principal":"` + aliceARN + `"`, `"action":"s3:GetObject"`, `"resource":"arn:aws:s3:::b/secret"`, `"statements":["arn:aws:s3:::b statement NoSecret"]`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("audit log lacks %s:\n%s", want, logs.String())
		}
	}
}

func TestOffAndModes(t *testing.T) {
	a, _ := newTest(Off, nil)
	if err := a.Authorize(callAs("arn:aws:iam::111122223333:user/bob", "111122223333"), s3API, "PutObject", "b/k"); err != nil {
		t.Errorf("off: %v", err)
	}
	for _, s := range []string{"", "off", "enforce", "audit"} {
		if _, err := ParseMode(s); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	if _, err := ParseMode("on"); err == nil {
		t.Errorf("--iam on accepted")
	}
}

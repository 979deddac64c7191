package authz

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/api"
	"github.com/cloudbox/cloudbox/policy"
)

const (
	roleARN    = "arn:aws:iam::111122223333:role/app"
	sessionARN = "arn:aws:sts::111122223333:assumed-role/app/s1"
)

// allowIf is a document allowing s3:GetObject when condition holds.
func allowIf(condition string) string {
	return `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*","Condition":` + condition + `}}`
}

// decide authorizes alice's (or the role session's, when session is set)
// s3:GetObject of b/k under one identity policy, with req adjusted.
func decide(t *testing.T, doc string, session *api.Session, adjust func(*api.Request)) bool {
	t.Helper()
	f := &fakeIAM{ids: map[string]Identity{
		aliceARN:   {Policies: []Document{{Name: "p", Kind: policy.UserInline, Text: doc}}, Tags: map[string]string{"team": "blue"}},
		sessionARN: {Policies: []Document{{Name: "p", Kind: policy.RoleInline, Text: doc}}, Parent: roleARN, Tags: map[string]string{"team": "blue", "env": "dev"}},
	}, policies: map[string]string{
		"arn:aws:iam::111122223333:policy/get-only": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}}`,
		"arn:aws:iam::111122223333:policy/put-only": `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}}`,
	}}
	a := New(Config{Mode: Enforce, IAM: f, Refiners: map[string]Refiner{"s3": s3Refiner{}}})
	req := &api.Request{ID: "r", Region: "us-east-1", Caller: api.Principal{ARN: aliceARN, Account: "111122223333", UserID: "AIDAALICE"}}
	if session != nil {
		req.Caller = api.Principal{ARN: sessionARN, Account: "111122223333", UserID: "AROAAPP:s1", Session: session}
	}
	if adjust != nil {
		adjust(req)
	}
	err := a.Authorize(api.WithRequest(context.Background(), req), s3API, "GetObject", "b/k")
	if err != nil && api.As(err).Code != "AccessDenied" {
		t.Fatal(err)
	}
	return err == nil
}

// Each global key the request carries, as "AWS global condition context
// keys" describes it.
func TestRequestKeys(t *testing.T) {
	from := func(ip string) func(*api.Request) {
		return func(r *api.Request) { r.SourceIP = netip.MustParseAddr(ip) }
	}
	at := func(s string) func(*api.Request) {
		return func(r *api.Request) { r.Time, _ = time.Parse(time.RFC3339, s) }
	}
	for _, c := range []struct {
		name    string
		doc     string
		session *api.Session
		adjust  func(*api.Request)
		want    bool
	}{
		{"SourceIp in range", allowIf(`{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`), nil, from("203.0.113.9"), true},
		{"SourceIp out of range", allowIf(`{"IpAddress":{"aws:SourceIp":"203.0.113.0/24"}}`), nil, from("198.51.100.1"), false},
		{"SourceIp unknown", allowIf(`{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}`), nil, nil, false},
		{"SecureTransport over HTTPS", allowIf(`{"Bool":{"aws:SecureTransport":"true"}}`), nil, func(r *api.Request) { r.TLS = true }, true},
		{"SecureTransport over HTTP", allowIf(`{"Bool":{"aws:SecureTransport":"true"}}`), nil, nil, false},
		{"CurrentTime before", allowIf(`{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}`), nil, at("2029-06-01T00:00:00Z"), true},
		{"CurrentTime after", allowIf(`{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"}}`), nil, at("2030-06-01T00:00:00Z"), false},
		{"EpochTime", allowIf(`{"NumericGreaterThanEquals":{"aws:EpochTime":"1893456000"}}`), nil, at("2030-01-01T00:00:00Z"), true},
		{"RequestedRegion", allowIf(`{"StringEquals":{"aws:RequestedRegion":"eu-west-1"}}`), nil, nil, false},
		{"PrincipalArn of a user", allowIf(`{"ArnEquals":{"aws:PrincipalArn":"` + aliceARN + `"}}`), nil, nil, true},
		{"PrincipalArn of a session is its role", allowIf(`{"ArnEquals":{"aws:PrincipalArn":"` + roleARN + `"}}`), &api.Session{}, nil, true},
		{"PrincipalAccount", allowIf(`{"StringEquals":{"aws:PrincipalAccount":"111122223333"}}`), nil, nil, true},
		{"PrincipalType", allowIf(`{"StringEquals":{"aws:PrincipalType":"AssumedRole"}}`), &api.Session{}, nil, true},
		{"userid", allowIf(`{"StringEquals":{"aws:userid":"AIDAALICE"}}`), nil, nil, true},
		{"username", allowIf(`{"StringEquals":{"aws:username":"alice"}}`), nil, nil, true},
		{"PrincipalTag of a user", allowIf(`{"StringEquals":{"aws:PrincipalTag/team":"blue"}}`), nil, nil, true},
		{"PrincipalTag of a role", allowIf(`{"StringEquals":{"aws:PrincipalTag/env":"dev"}}`), &api.Session{}, nil, true},
		{"session tag overrides the role's", allowIf(`{"StringEquals":{"aws:PrincipalTag/Team":"red"}}`), &api.Session{Tags: map[string]string{"Team": "red"}}, nil, true},
		{"overridden role tag is gone", allowIf(`{"StringEquals":{"aws:PrincipalTag/team":"blue"}}`), &api.Session{Tags: map[string]string{"Team": "red"}}, nil, false},
		// "This key is not present when [...] long-term credentials" are used.
		{"MFA absent for long-term keys", allowIf(`{"Null":{"aws:MultiFactorAuthPresent":"true"}}`), nil, nil, true},
		{"MFA false for a session without it", allowIf(`{"Bool":{"aws:MultiFactorAuthPresent":"false"}}`), &api.Session{}, nil, true},
		{"MFA true for a session with it", allowIf(`{"Bool":{"aws:MultiFactorAuthPresent":"true"}}`), &api.Session{MFA: true}, nil, true},
	} {
		if got := decide(t, c.doc, c.session, c.adjust); got != c.want {
			t.Errorf("%s: allowed %v, want %v", c.name, got, c.want)
		}
	}
}

// Session policies: the session may do what both its role's policies and
// its session policies allow
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session).
func TestSessionPolicies(t *testing.T) {
	allowS3 := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`
	for _, c := range []struct {
		name    string
		session api.Session
		want    bool
	}{
		{"no session policy", api.Session{}, true},
		{"inline allows", api.Session{Policy: allowGet}, true},
		{"inline allows something else", api.Session{Policy: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}}`}, false},
		{"managed allows", api.Session{PolicyARNs: []string{"arn:aws:iam::111122223333:policy/get-only"}}, true},
		{"managed allows something else", api.Session{PolicyARNs: []string{"arn:aws:iam::111122223333:policy/put-only"}}, false},
		{"one of inline and managed allows", api.Session{Policy: allowGet, PolicyARNs: []string{"arn:aws:iam::111122223333:policy/put-only"}}, true},
		{"the managed policy is gone", api.Session{PolicyARNs: []string{"arn:aws:iam::111122223333:policy/deleted"}}, false},
	} {
		if got := decide(t, allowS3, &c.session, nil); got != c.want {
			t.Errorf("%s: allowed %v, want %v", c.name, got, c.want)
		}
	}
}

// The keys of a refined access reach the conditions.
func TestAccessKeys(t *testing.T) {
	a := New(Config{Mode: Enforce, IAM: &fakeIAM{ids: map[string]Identity{aliceARN: {Policies: []Document{{Name: "p", Kind: policy.UserInline,
		Text: `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"ec2:StopInstances","Resource":"*","Condition":{"StringEquals":{"ec2:ResourceTag/env":"dev"}}}}`}}}}},
		Refiners: map[string]Refiner{"ec2": keyed{"ec2:ResourceTag/env": {"dev"}}}})
	if err := a.Authorize(callAs(aliceARN, "111122223333"), ec2API, "StopInstances", nil); err != nil {
		t.Errorf("tagged: %v", err)
	}
	a.cfg.Refiners["ec2"] = keyed{"ec2:ResourceTag/env": {"prod"}}
	if err := a.Authorize(callAs(aliceARN, "111122223333"), ec2API, "StopInstances", nil); err == nil {
		t.Errorf("tagged otherwise: allowed")
	}
}

// keyed refines every call to its default with these keys.
type keyed map[string][]string

func (k keyed) Authorization(context.Context, string, any) []Access { return []Access{{Keys: k}} }

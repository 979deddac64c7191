package sts_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	stssdk "github.com/aws/aws-sdk-go-v2/service/sts"
	ststypes "github.com/aws/aws-sdk-go-v2/service/sts/types"
	"github.com/aws/smithy-go"

	"github.com/cloudbox/cloudbox/daemon"
)

var ctx = context.Background()

const (
	region = "us-east-1"
	acct   = "000000000000"
)

// cloud is a whole cloudbox with strict authentication and IAM in mode.
type cloud struct{ url string }

func newCloud(t *testing.T, mode string) *cloud {
	t.Helper()
	d, err := daemon.New(daemon.Config{Ephemeral: true, Auth: "strict", IAM: mode, Dataplane: "off", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(srv.Close)
	return &cloud{url: srv.URL}
}

var root = credentials.NewStaticCredentialsProvider("test", "test", "")

func session(c *ststypes.Credentials) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(*c.AccessKeyId, *c.SecretAccessKey, *c.SessionToken)
}

func (c *cloud) iam(p aws.CredentialsProvider) *iamsdk.Client {
	return iamsdk.New(iamsdk.Options{Region: region, BaseEndpoint: aws.String(c.url), Credentials: p, RetryMaxAttempts: 1})
}

func (c *cloud) sts(p aws.CredentialsProvider) *stssdk.Client {
	return stssdk.New(stssdk.Options{Region: region, BaseEndpoint: aws.String(c.url), Credentials: p, RetryMaxAttempts: 1})
}

func (c *cloud) ec2(p aws.CredentialsProvider) *ec2sdk.Client {
	return ec2sdk.New(ec2sdk.Options{Region: region, BaseEndpoint: aws.String(c.url), Credentials: p, RetryMaxAttempts: 1})
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

func wantErr(t *testing.T, err error, code string, status int, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("error %v: want code %s", err, code)
	}
	if ae.ErrorMessage() != msg {
		t.Errorf("%s message:\n got %q\nwant %q", code, ae.ErrorMessage(), msg)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Errorf("%s: status %d, want %d", code, re.HTTPStatusCode(), status)
	}
}

func createRole(t *testing.T, c *cloud, name, trust string, maxSession int32) string {
	t.Helper()
	out := must[*iamsdk.CreateRoleOutput](t)(c.iam(root).CreateRole(ctx, &iamsdk.CreateRoleInput{
		RoleName: aws.String(name), AssumeRolePolicyDocument: aws.String(trust), MaxSessionDuration: aws.Int32(maxSession)}))
	return *out.Role.Arn
}

func TestAssumeRoleExternalIDAndDuration(t *testing.T) {
	// IAM off: the trust policy is STS's alone to check, with the keys
	// the call carries.
	c := newCloud(t, "off")
	trust := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":["sts:AssumeRole","sts:TagSession"],"Condition":{"StringEquals":{"sts:ExternalId":"s3cret"}}}}`
	roleARN := createRole(t, c, "partner", trust, 7200)
	role := must[*iamsdk.GetRoleOutput](t)(c.iam(root).GetRole(ctx, &iamsdk.GetRoleInput{RoleName: aws.String("partner")}))
	s := c.sts(root)

	_, err := s.AssumeRole(ctx, &stssdk.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: aws.String("xx")})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::"+acct+":root is not authorized to perform: sts:AssumeRole on resource: "+roleARN)
	_, err = s.AssumeRole(ctx, &stssdk.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: aws.String("xx"), ExternalId: aws.String("wrong")})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::"+acct+":root is not authorized to perform: sts:AssumeRole on resource: "+roleARN)

	_, err = s.AssumeRole(ctx, &stssdk.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: aws.String("xx"), ExternalId: aws.String("s3cret"), DurationSeconds: aws.Int32(7201)})
	wantErr(t, err, "ValidationError", 400, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")

	out := must[*stssdk.AssumeRoleOutput](t)(s.AssumeRole(ctx, &stssdk.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: aws.String("xx"),
		ExternalId: aws.String("s3cret"), DurationSeconds: aws.Int32(7200),
		Tags: []ststypes.Tag{{Key: aws.String("team"), Value: aws.String("blue")}}, TransitiveTagKeys: []string{"team"},
		Policy: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:ListBucket","Resource":"*"}}`)}))
	if want := *role.Role.RoleId + ":xx"; *out.AssumedRoleUser.AssumedRoleId != want {
		t.Errorf("AssumedRoleId %s, want %s", *out.AssumedRoleUser.AssumedRoleId, want)
	}
	if life := time.Until(*out.Credentials.Expiration); life < 7100*time.Second || life > 7200*time.Second {
		t.Errorf("credentials last %v, want 2h", life)
	}
	if out.PackedPolicySize == nil || *out.PackedPolicySize <= 0 || *out.PackedPolicySize > 100 {
		t.Errorf("PackedPolicySize %v", out.PackedPolicySize)
	}
	// Role chaining: an hour at most.
	_, err = c.sts(session(out.Credentials)).AssumeRole(ctx, &stssdk.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: aws.String("yy"), ExternalId: aws.String("s3cret"), DurationSeconds: aws.Int32(3601)})
	wantErr(t, err, "ValidationError", 400, "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")

	// A malformed session policy, and one too large once packed.
	_, err = s.AssumeRole(ctx, &stssdk.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: aws.String("xx"), ExternalId: aws.String("s3cret"), Policy: aws.String(`{"Statement":`)})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "MalformedPolicyDocument" {
		t.Errorf("malformed session policy: %v", err)
	}
	var big strings.Builder
	for i := range 40 {
		big.WriteString(`,{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + base64.RawURLEncoding.EncodeToString([]byte(time.Now().String()+string(rune('a'+i)))) + `"}`)
	}
	_, err = s.AssumeRole(ctx, &stssdk.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: aws.String("xx"), ExternalId: aws.String("s3cret"),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":[` + big.String()[1:] + `]}`)})
	if !errors.As(err, &ae) || (ae.ErrorCode() != "PackedPolicyTooLarge" && ae.ErrorCode() != "ValidationError") {
		t.Errorf("large session policy: %v", err)
	}
}

// jwt mints an ID token; its signature is not checked (no JWKS here).
func jwt(claims map[string]any) string {
	h, _ := json.Marshal(map[string]string{"alg": "RS256", "typ": "JWT", "kid": "k1"})
	b, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(b) + "." + enc([]byte("signature"))
}

func TestWebIdentity(t *testing.T) {
	c := newCloud(t, "enforce")
	i := c.iam(root)
	const issuer = "https://token.example.com/id/1"
	created := must[*iamsdk.CreateOpenIDConnectProviderOutput](t)(i.CreateOpenIDConnectProvider(ctx, &iamsdk.CreateOpenIDConnectProviderInput{
		Url: aws.String(issuer), ClientIDList: []string{"sts.amazonaws.com"}, ThumbprintList: []string{strings.Repeat("ab", 20)},
		Tags: []iamtypes.Tag{{Key: aws.String("env"), Value: aws.String("test")}}}))
	providerARN := "arn:aws:iam::" + acct + ":oidc-provider/token.example.com/id/1"
	if *created.OpenIDConnectProviderArn != providerARN {
		t.Fatalf("provider ARN %s", *created.OpenIDConnectProviderArn)
	}
	_, err := i.CreateOpenIDConnectProvider(ctx, &iamsdk.CreateOpenIDConnectProviderInput{Url: aws.String(issuer), ClientIDList: []string{"a"}})
	wantErr(t, err, "EntityAlreadyExists", 409, "Provider with url "+issuer+" already exists.")
	_, err = i.CreateOpenIDConnectProvider(ctx, &iamsdk.CreateOpenIDConnectProviderInput{Url: aws.String("http://plain.example.com")})
	wantErr(t, err, "ValidationError", 400, "Invalid Open ID Connect Provider URL")
	must[*iamsdk.AddClientIDToOpenIDConnectProviderOutput](t)(i.AddClientIDToOpenIDConnectProvider(ctx, &iamsdk.AddClientIDToOpenIDConnectProviderInput{OpenIDConnectProviderArn: &providerARN, ClientID: aws.String("other-app")}))
	must[*iamsdk.RemoveClientIDFromOpenIDConnectProviderOutput](t)(i.RemoveClientIDFromOpenIDConnectProvider(ctx, &iamsdk.RemoveClientIDFromOpenIDConnectProviderInput{OpenIDConnectProviderArn: &providerARN, ClientID: aws.String("other-app")}))
	must[*iamsdk.UpdateOpenIDConnectProviderThumbprintOutput](t)(i.UpdateOpenIDConnectProviderThumbprint(ctx, &iamsdk.UpdateOpenIDConnectProviderThumbprintInput{OpenIDConnectProviderArn: &providerARN, ThumbprintList: []string{strings.Repeat("cd", 20)}}))
	got := must[*iamsdk.GetOpenIDConnectProviderOutput](t)(i.GetOpenIDConnectProvider(ctx, &iamsdk.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: &providerARN}))
	if *got.Url != "token.example.com/id/1" || len(got.ClientIDList) != 1 || got.ClientIDList[0] != "sts.amazonaws.com" || got.ThumbprintList[0] != strings.Repeat("cd", 20) || len(got.Tags) != 1 {
		t.Errorf("GetOpenIDConnectProvider: %+v", got)
	}
	list := must[*iamsdk.ListOpenIDConnectProvidersOutput](t)(i.ListOpenIDConnectProviders(ctx, &iamsdk.ListOpenIDConnectProvidersInput{}))
	if len(list.OpenIDConnectProviderList) != 1 || *list.OpenIDConnectProviderList[0].Arn != providerARN {
		t.Errorf("ListOpenIDConnectProviders: %+v", list.OpenIDConnectProviderList)
	}

	trust := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"` + providerARN + `"},"Action":"sts:AssumeRoleWithWebIdentity",
		"Condition":{"StringEquals":{"token.example.com/id/1:aud":"sts.amazonaws.com","token.example.com/id/1:sub":"repo:acme/app"}}}}`
	roleARN := createRole(t, c, "ci", trust, 3600)
	// Unsigned, as the SDK sends it.
	anon := c.sts(aws.AnonymousCredentials{})
	assume := func(claims map[string]any) (*stssdk.AssumeRoleWithWebIdentityOutput, error) {
		return anon.AssumeRoleWithWebIdentity(ctx, &stssdk.AssumeRoleWithWebIdentityInput{RoleArn: &roleARN, RoleSessionName: aws.String("build-7"), WebIdentityToken: aws.String(jwt(claims))})
	}
	exp := time.Now().Add(time.Hour).Unix()
	good := map[string]any{"iss": issuer, "aud": "sts.amazonaws.com", "sub": "repo:acme/app", "exp": exp}
	out, err := assume(good)
	if err != nil {
		t.Fatal(err)
	}
	if *out.SubjectFromWebIdentityToken != "repo:acme/app" || *out.Audience != "sts.amazonaws.com" || *out.Provider != issuer ||
		*out.AssumedRoleUser.Arn != "arn:aws:sts::"+acct+":assumed-role/ci/build-7" {
		t.Errorf("AssumeRoleWithWebIdentity: %+v %+v", out, out.AssumedRoleUser)
	}
	who := must[*stssdk.GetCallerIdentityOutput](t)(c.sts(session(out.Credentials)).GetCallerIdentity(ctx, &stssdk.GetCallerIdentityInput{}))
	if *who.Arn != *out.AssumedRoleUser.Arn {
		t.Errorf("session is %s", *who.Arn)
	}

	with := func(k string, v any) map[string]any {
		m := map[string]any{}
		for a, b := range good {
			m[a] = b
		}
		m[k] = v
		return m
	}
	_, err = assume(with("iss", "https://elsewhere.example.com"))
	wantErr(t, err, "InvalidIdentityToken", 400, "No OpenIDConnect provider found in your account for https://elsewhere.example.com")
	_, err = assume(with("aud", "someone-else"))
	wantErr(t, err, "InvalidIdentityToken", 400, "Incorrect token audience")
	past := time.Now().Add(-time.Hour).Unix()
	_, err = assume(with("exp", past))
	if !errors.As(err, new(smithy.APIError)) || !strings.Contains(err.Error(), "ExpiredTokenException") {
		t.Errorf("expired token: %v", err)
	}
	_, err = assume(with("sub", "repo:evil/app"))
	wantErr(t, err, "AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithWebIdentity")

	must[*iamsdk.DeleteOpenIDConnectProviderOutput](t)(i.DeleteOpenIDConnectProvider(ctx, &iamsdk.DeleteOpenIDConnectProviderInput{OpenIDConnectProviderArn: &providerARN}))
	_, err = i.GetOpenIDConnectProvider(ctx, &iamsdk.GetOpenIDConnectProviderInput{OpenIDConnectProviderArn: &providerARN})
	wantErr(t, err, "NoSuchEntity", 404, "OpenIDConnect Provider not found for arn "+providerARN)
	_, err = assume(good)
	wantErr(t, err, "InvalidIdentityToken", 400, "No OpenIDConnect provider found in your account for "+issuer)
}

func TestFederationToken(t *testing.T) {
	// IAM off: the token's shape and limits (TestFederationTokenEnforced
	// has its permissions).
	c := newCloud(t, "off")
	out := must[*stssdk.GetFederationTokenOutput](t)(c.sts(root).GetFederationToken(ctx, &stssdk.GetFederationTokenInput{
		Name: aws.String("bob"), DurationSeconds: aws.Int32(7200),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:*","Resource":"*"}}`)}))
	if *out.FederatedUser.Arn != "arn:aws:sts::"+acct+":federated-user/bob" || *out.FederatedUser.FederatedUserId != acct+":bob" {
		t.Errorf("federated user %+v", out.FederatedUser)
	}
	// The root user's sessions last an hour.
	if life := time.Until(*out.Credentials.Expiration); life > time.Hour {
		t.Errorf("root's federation token lasts %v", life)
	}
	fed := c.sts(session(out.Credentials))
	who := must[*stssdk.GetCallerIdentityOutput](t)(fed.GetCallerIdentity(ctx, &stssdk.GetCallerIdentityInput{}))
	if *who.Arn != *out.FederatedUser.Arn {
		t.Errorf("caller %s", *who.Arn)
	}
	_, err := fed.GetFederationToken(ctx, &stssdk.GetFederationTokenInput{Name: aws.String("again")})
	wantErr(t, err, "AccessDenied", 403, "Cannot call GetFederationToken with session credentials")
}

func TestDecodeAuthorizationMessage(t *testing.T) {
	c := newCloud(t, "enforce")
	i := c.iam(root)
	must[*iamsdk.CreateUserOutput](t)(i.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("carol")}))
	key := must[*iamsdk.CreateAccessKeyOutput](t)(i.CreateAccessKey(ctx, &iamsdk.CreateAccessKeyInput{UserName: aws.String("carol")}))
	carol := credentials.NewStaticCredentialsProvider(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, "")
	_, err := c.ec2(carol).TerminateInstances(ctx, &ec2sdk.TerminateInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	var ae smithy.APIError
	const marker = "Encoded authorization failure message: "
	if !errors.As(err, &ae) || ae.ErrorCode() != "UnauthorizedOperation" || !strings.Contains(ae.ErrorMessage(), marker) {
		t.Fatalf("TerminateInstances: %v", err)
	}
	blob := ae.ErrorMessage()[strings.Index(ae.ErrorMessage(), marker)+len(marker):]
	dec := must[*stssdk.DecodeAuthorizationMessageOutput](t)(c.sts(root).DecodeAuthorizationMessage(ctx, &stssdk.DecodeAuthorizationMessageInput{EncodedMessage: &blob}))
	var msg struct {
		Allowed      bool `json:"allowed"`
		ExplicitDeny bool `json:"explicitDeny"`
		Context      struct {
			Principal struct{ Arn string } `json:"principal"`
			Action    string               `json:"action"`
			Resource  string               `json:"resource"`
		} `json:"context"`
	}
	if err := json.Unmarshal([]byte(*dec.DecodedMessage), &msg); err != nil {
		t.Fatalf("decoded message %q: %v", *dec.DecodedMessage, err)
	}
	if msg.Allowed || msg.ExplicitDeny || msg.Context.Action != "ec2:TerminateInstances" || msg.Context.Principal.Arn != "arn:aws:iam::"+acct+":user/carol" ||
		msg.Context.Resource != "arn:aws:ec2:"+region+":"+acct+":instance/i-0123456789abcdef0" {
		t.Errorf("decoded message %s", *dec.DecodedMessage)
	}
	_, err = c.sts(root).DecodeAuthorizationMessage(ctx, &stssdk.DecodeAuthorizationMessageInput{EncodedMessage: aws.String("not-a-message")})
	wantErr(t, err, "InvalidAuthorizationMessageException", 400, "The message is not valid")
}

// The aws CLI drives the same calls: it signs nothing for
// assume-role-with-web-identity.
func TestCLIWebIdentity(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("no aws CLI")
	}
	c := newCloud(t, "enforce")
	env := append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION="+region,
		"AWS_ENDPOINT_URL="+c.url, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	aws := func(args ...string) (map[string]any, error) {
		cmd := exec.Command("aws", append(args, "--endpoint-url", c.url, "--output", "json")...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("aws %v: %v: %s", args, err, out)
		}
		var m map[string]any
		json.Unmarshal(out, &m)
		return m, nil
	}
	p, err := aws("iam", "create-open-id-connect-provider", "--url", "https://idp.example.org", "--client-id-list", "my-app")
	if err != nil {
		t.Fatal(err)
	}
	providerARN, _ := p["OpenIDConnectProviderArn"].(string)
	trust := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Federated":"` + providerARN + `"},"Action":"sts:AssumeRoleWithWebIdentity","Condition":{"StringEquals":{"idp.example.org:aud":"my-app"}}}}`
	roleARN := createRole(t, c, "web", trust, 3600)
	token := jwt(map[string]any{"iss": "https://idp.example.org", "aud": "my-app", "sub": "user-1", "exp": time.Now().Add(time.Hour).Unix()})
	out, err := aws("sts", "assume-role-with-web-identity", "--role-arn", roleARN, "--role-session-name", "cli", "--web-identity-token", token)
	if err != nil {
		t.Fatal(err)
	}
	if out["SubjectFromWebIdentityToken"] != "user-1" || out["Provider"] != "https://idp.example.org" {
		t.Errorf("assume-role-with-web-identity: %v", out)
	}
	_, err = aws("sts", "assume-role-with-web-identity", "--role-arn", roleARN, "--role-session-name", "cli", "--web-identity-token",
		jwt(map[string]any{"iss": "https://idp.example.org", "aud": "other", "sub": "user-1", "exp": time.Now().Add(time.Hour).Unix()}))
	if err == nil || !strings.Contains(err.Error(), "(InvalidIdentityToken) when calling the AssumeRoleWithWebIdentity operation: Incorrect token audience") {
		t.Errorf("wrong audience: %v", err)
	}
	if _, err := aws("iam", "delete-open-id-connect-provider", "--open-id-connect-provider-arn", providerARN); err != nil {
		t.Error(err)
	}
}

// With IAM enforced, the authorizer evaluates the trust policy with the
// call's keys, and the session policy narrows what the role allows.
func TestEnforceSessionPolicy(t *testing.T) {
	c := newCloud(t, "enforce")
	trust := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"s3cret"}}}}`
	roleARN := createRole(t, c, "lister", trust, 3600)
	must[*iamsdk.PutRolePolicyOutput](t)(c.iam(root).PutRolePolicy(ctx, &iamsdk.PutRolePolicyInput{RoleName: aws.String("lister"), PolicyName: aws.String("list"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["iam:ListUsers","iam:ListRoles"],"Resource":"*"}}`)}))
	s := c.sts(root)
	_, err := s.AssumeRole(ctx, &stssdk.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: aws.String("s1")})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:iam::"+acct+":root is not authorized to perform: sts:AssumeRole on resource: "+roleARN)
	out := must[*stssdk.AssumeRoleOutput](t)(s.AssumeRole(ctx, &stssdk.AssumeRoleInput{RoleArn: &roleARN, RoleSessionName: aws.String("s1"), ExternalId: aws.String("s3cret"),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:ListUsers","Resource":"*"}}`)}))
	sess := c.iam(session(out.Credentials))
	if _, err := sess.ListUsers(ctx, &iamsdk.ListUsersInput{}); err != nil {
		t.Errorf("ListUsers, allowed by the role and the session policy: %v", err)
	}
	_, err = sess.ListRoles(ctx, &iamsdk.ListRolesInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" || !strings.Contains(ae.ErrorMessage(), "iam:ListRoles") {
		t.Errorf("ListRoles, outside the session policy: %v", err)
	}
}

package authz_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	stssdk "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/cloudbox/cloudbox/authz"
	"github.com/cloudbox/cloudbox/daemon"
	"github.com/cloudbox/cloudbox/identity"
)

var ctx = context.Background()

const (
	region = "us-east-1"
	acct   = "000000000000"
	other  = "111111111111"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cloud is a whole cloudbox with strict authentication and IAM in mode,
// and account 111111111111's root key OTHERROOT/other, served over HTTP
// (url) and HTTPS (secure).
type cloud struct {
	url    string
	secure *httptest.Server
	logs   *syncBuffer
}

func newCloud(t *testing.T, mode string) *cloud {
	t.Helper()
	keys, _ := json.Marshal([]identity.Key{{AccessKeyID: "OTHERROOT", SecretAccessKey: "other", Account: other}})
	path := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(path, keys, 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	d, err := daemon.New(daemon.Config{Ephemeral: true, Auth: "strict", IAM: mode, KeysFile: path, Dataplane: "off",
		Logger: slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	srv := httptest.NewServer(d.Handler())
	t.Cleanup(srv.Close)
	secure := httptest.NewTLSServer(d.Handler())
	t.Cleanup(secure.Close)
	return &cloud{url: srv.URL, secure: secure, logs: logs}
}

func creds(akid, secret, token string) aws.CredentialsProvider {
	return credentials.NewStaticCredentialsProvider(akid, secret, token)
}

func (c *cloud) s3(p aws.CredentialsProvider) *s3sdk.Client {
	return s3sdk.New(s3sdk.Options{Region: region, BaseEndpoint: aws.String(c.url), Credentials: p, UsePathStyle: true, RetryMaxAttempts: 1})
}

func (c *cloud) iam(p aws.CredentialsProvider) *iamsdk.Client {
	return iamsdk.New(iamsdk.Options{Region: region, BaseEndpoint: aws.String(c.url), Credentials: p, RetryMaxAttempts: 1})
}

func (c *cloud) sts(p aws.CredentialsProvider) *stssdk.Client {
	return stssdk.New(stssdk.Options{Region: region, BaseEndpoint: aws.String(c.url), Credentials: p, RetryMaxAttempts: 1})
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

const analystsPolicy = `{"Version":"2012-10-17","Statement":[
	{"Sid":"Read","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*"},
	{"Sid":"List","Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::reports"}]}`

const bucketPolicy = `{"Version":"2012-10-17","Statement":[
	{"Sid":"NoSecrets","Effect":"Deny","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/secret/*"}]}`

// setup makes, as the account's root: the bucket reports with q1.csv and
// secret/plan.txt, its policy, the user alice in the group analysts, and
// alice's key.
func setup(t *testing.T, c *cloud) (root *s3sdk.Client, alice aws.CredentialsProvider) {
	t.Helper()
	rootCreds := creds("test", "test", "")
	root = c.s3(rootCreds)
	riam := c.iam(rootCreds)
	must[*s3sdk.CreateBucketOutput](t)(root.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("reports")}))
	for _, k := range []string{"q1.csv", "secret/plan.txt"} {
		must[*s3sdk.PutObjectOutput](t)(root.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String("reports"), Key: aws.String(k), Body: strings.NewReader("data")}))
	}
	must[*s3sdk.PutBucketPolicyOutput](t)(root.PutBucketPolicy(ctx, &s3sdk.PutBucketPolicyInput{Bucket: aws.String("reports"), Policy: aws.String(bucketPolicy)}))
	must[*iamsdk.CreateUserOutput](t)(riam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("alice")}))
	must[*iamsdk.CreateGroupOutput](t)(riam.CreateGroup(ctx, &iamsdk.CreateGroupInput{GroupName: aws.String("analysts")}))
	must[*iamsdk.PutGroupPolicyOutput](t)(riam.PutGroupPolicy(ctx, &iamsdk.PutGroupPolicyInput{GroupName: aws.String("analysts"), PolicyName: aws.String("reports"), PolicyDocument: aws.String(analystsPolicy)}))
	must[*iamsdk.AddUserToGroupOutput](t)(riam.AddUserToGroup(ctx, &iamsdk.AddUserToGroupInput{GroupName: aws.String("analysts"), UserName: aws.String("alice")}))
	key := must[*iamsdk.CreateAccessKeyOutput](t)(riam.CreateAccessKey(ctx, &iamsdk.CreateAccessKeyInput{UserName: aws.String("alice")}))
	return root, creds(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, "")
}

func get(c *s3sdk.Client, key string) error {
	out, err := c.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String("reports"), Key: aws.String(key)})
	if err == nil {
		out.Body.Close()
	}
	return err
}

func put(c *s3sdk.Client, key string) error {
	_, err := c.PutObject(ctx, &s3sdk.PutObjectInput{Bucket: aws.String("reports"), Key: aws.String(key), Body: strings.NewReader("x")})
	return err
}

const aliceARN = "arn:aws:iam::" + acct + ":user/alice"

func TestEnforce(t *testing.T) {
	c := newCloud(t, "enforce")
	_, aliceCreds := setup(t, c)
	alice := c.s3(aliceCreds)

	// Her group allows reading and listing the bucket.
	if err := get(alice, "q1.csv"); err != nil {
		t.Fatalf("alice GetObject: %v", err)
	}
	if _, err := alice.HeadObject(ctx, &s3sdk.HeadObjectInput{Bucket: aws.String("reports"), Key: aws.String("q1.csv")}); err != nil {
		t.Fatalf("alice HeadObject: %v", err)
	}
	list := must[*s3sdk.ListObjectsV2Output](t)(alice.ListObjectsV2(ctx, &s3sdk.ListObjectsV2Input{Bucket: aws.String("reports")}))
	if len(list.Contents) != 2 {
		t.Errorf("alice lists %d objects, want 2", len(list.Contents))
	}
	// Nothing allows her to write.
	wantErr(t, put(alice, "q2.csv"), "AccessDenied", 403,
		`User: `+aliceARN+` is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::reports/q2.csv" because no identity-based policy allows the s3:PutObject action`)
	_, err := alice.ListBuckets(ctx, &s3sdk.ListBucketsInput{})
	wantErr(t, err, "AccessDenied", 403,
		`User: `+aliceARN+` is not authorized to perform: s3:ListAllMyBuckets on resource: "*" because no identity-based policy allows the s3:ListAllMyBuckets action`)
	// The bucket policy's Deny beats her group's Allow.
	wantErr(t, get(alice, "secret/plan.txt"), "AccessDenied", 403,
		`User: `+aliceARN+` is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::reports/secret/plan.txt" with an explicit deny in a resource-based policy`)
	// IAM's own calls: the query protocol's AccessDenied.
	aliceIAM := c.iam(aliceCreds)
	_, err = aliceIAM.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("bob")})
	wantErr(t, err, "AccessDenied", 403,
		`User: `+aliceARN+` is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::`+acct+`:user/bob because no identity-based policy allows the iam:CreateUser action`)
	// EC2: UnauthorizedOperation naming the instance.
	ec2c := ec2sdk.New(ec2sdk.Options{Region: region, BaseEndpoint: aws.String(c.url), Credentials: aliceCreds, RetryMaxAttempts: 1})
	_, err = ec2c.TerminateInstances(ctx, &ec2sdk.TerminateInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "UnauthorizedOperation" || !strings.HasPrefix(ae.ErrorMessage(),
		"You are not authorized to perform this operation. User: "+aliceARN+" is not authorized to perform: ec2:TerminateInstances on resource: arn:aws:ec2:"+region+":"+acct+":instance/i-0123456789abcdef0 because no identity-based policy allows the ec2:TerminateInstances action. Encoded authorization failure message: ") {
		t.Errorf("TerminateInstances: %v", err)
	}
	// Who she is she may always ask.
	must[*stssdk.GetCallerIdentityOutput](t)(c.sts(aliceCreds).GetCallerIdentity(ctx, &stssdk.GetCallerIdentityInput{}))

	// Leaving the group takes effect on the next call.
	riam := c.iam(creds("test", "test", ""))
	must[*iamsdk.RemoveUserFromGroupOutput](t)(riam.RemoveUserFromGroup(ctx, &iamsdk.RemoveUserFromGroupInput{GroupName: aws.String("analysts"), UserName: aws.String("alice")}))
	wantErr(t, get(alice, "q1.csv"), "AccessDenied", 403,
		`User: `+aliceARN+` is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::reports/q1.csv" because no identity-based policy allows the s3:GetObject action`)
	must[*iamsdk.AddUserToGroupOutput](t)(riam.AddUserToGroup(ctx, &iamsdk.AddUserToGroupInput{GroupName: aws.String("analysts"), UserName: aws.String("alice")}))
	if err := get(alice, "q1.csv"); err != nil {
		t.Fatalf("alice GetObject back in the group: %v", err)
	}
}

func TestEnforceAssumeRole(t *testing.T) {
	c := newCloud(t, "enforce")
	_, aliceCreds := setup(t, c)
	riam := c.iam(creds("test", "test", ""))
	roleARN := "arn:aws:iam::" + acct + ":role/S3_ReadOnly_Role"
	trust := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"sts:AssumeRole"}}`
	must[*iamsdk.CreateRoleOutput](t)(riam.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("S3_ReadOnly_Role"), AssumeRolePolicyDocument: aws.String(trust)}))
	must[*iamsdk.AttachRolePolicyOutput](t)(riam.AttachRolePolicy(ctx, &iamsdk.AttachRolePolicyInput{RoleName: aws.String("S3_ReadOnly_Role"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")}))

	// The trust policy trusts the account: alice's own policies must
	// allow sts:AssumeRole too.
	aliceSTS := c.sts(aliceCreds)
	assume := &stssdk.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("reader")}
	_, err := aliceSTS.AssumeRole(ctx, assume)
	wantErr(t, err, "AccessDenied", 403, `User: `+aliceARN+` is not authorized to perform: sts:AssumeRole on resource: `+roleARN)
	must[*iamsdk.PutUserPolicyOutput](t)(riam.PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String("alice"), PolicyName: aws.String("assume"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"sts:AssumeRole","Resource":"` + roleARN + `"}}`)}))
	out := must[*stssdk.AssumeRoleOutput](t)(aliceSTS.AssumeRole(ctx, assume))
	session := c.s3(creds(*out.Credentials.AccessKeyId, *out.Credentials.SecretAccessKey, *out.Credentials.SessionToken))
	if err := get(session, "q1.csv"); err != nil {
		t.Fatalf("role session GetObject: %v", err)
	}
	sessionARN := "arn:aws:sts::" + acct + ":assumed-role/S3_ReadOnly_Role/reader"
	wantErr(t, put(session, "q2.csv"), "AccessDenied", 403,
		`User: `+sessionARN+` is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::reports/q2.csv" because no identity-based policy allows the s3:PutObject action`)

	// A role IAM does not have.
	_, err = aliceSTS.AssumeRole(ctx, &stssdk.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acct + ":role/Nobody"), RoleSessionName: aws.String("xx")})
	wantErr(t, err, "AccessDenied", 403, `User: `+aliceARN+` is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::`+acct+`:role/Nobody`)

	// Across accounts: only a role that trusts the other account.
	otherSTS := c.sts(creds("OTHERROOT", "other", ""))
	_, err = otherSTS.AssumeRole(ctx, assume)
	wantErr(t, err, "AccessDenied", 403, `User: arn:aws:iam::`+other+`:root is not authorized to perform: sts:AssumeRole on resource: `+roleARN)
	crossTrust := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"` + other + `"},"Action":"sts:AssumeRole"}}`
	must[*iamsdk.CreateRoleOutput](t)(riam.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("Partner"), Path: aws.String("/partners/"), AssumeRolePolicyDocument: aws.String(crossTrust)}))
	cross := must[*stssdk.AssumeRoleOutput](t)(otherSTS.AssumeRole(ctx, &stssdk.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acct + ":role/partners/Partner"), RoleSessionName: aws.String("pp")}))
	if got, want := *cross.AssumedRoleUser.Arn, "arn:aws:sts::"+acct+":assumed-role/Partner/pp"; got != want {
		t.Errorf("cross-account session %s, want %s", got, want)
	}
}

func TestAudit(t *testing.T) {
	c := newCloud(t, "audit")
	_, aliceCreds := setup(t, c)
	alice := c.s3(aliceCreds)
	// Denied calls proceed, and are logged with their deciding statements.
	if err := put(alice, "q2.csv"); err != nil {
		t.Fatalf("audit: alice PutObject: %v", err)
	}
	if err := get(alice, "secret/plan.txt"); err != nil {
		t.Fatalf("audit: alice GetObject: %v", err)
	}
	var found bool
	for line := range strings.SplitSeq(c.logs.String(), "\n") {
		if !strings.Contains(line, "iam audit") {
			continue
		}
		var rec struct {
			Principal, Action, Resource, Reason, Outcome string
			Statements                                   []string
		}
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Action == "s3:GetObject" && rec.Resource == "arn:aws:s3:::reports/secret/plan.txt" {
			found = true
			if rec.Principal != aliceARN || rec.Outcome != "ExplicitDeny" || rec.Reason != "with an explicit deny in a resource-based policy" ||
				len(rec.Statements) != 1 || rec.Statements[0] != "arn:aws:s3:::reports statement NoSecrets" {
				t.Errorf("audit line %s", line)
			}
		}
	}
	if !found || !strings.Contains(c.logs.String(), `"action":"s3:PutObject"`) {
		t.Errorf("no audit lines for alice's calls:\n%s", c.logs.String())
	}
}

// With IAM off, AssumeRole still checks the trust policy of a role IAM
// has, and accepts any other role name.
func TestOffTrust(t *testing.T) {
	c := newCloud(t, "off")
	riam := c.iam(creds("test", "test", ""))
	trust := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}}`
	must[*iamsdk.CreateRoleOutput](t)(riam.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("ec2-role"), AssumeRolePolicyDocument: aws.String(trust)}))
	otherSTS := c.sts(creds("OTHERROOT", "other", ""))
	_, err := otherSTS.AssumeRole(ctx, &stssdk.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acct + ":role/ec2-role"), RoleSessionName: aws.String("ss")})
	wantErr(t, err, "AccessDenied", 403, `User: arn:aws:iam::`+other+`:root is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::`+acct+`:role/ec2-role`)
	must[*stssdk.AssumeRoleOutput](t)(otherSTS.AssumeRole(ctx, &stssdk.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acct + ":role/anything"), RoleSessionName: aws.String("ss")}))
}

// Every served service has its IAM prefix.
func TestPrefixes(t *testing.T) {
	iamPrefixes := map[string]bool{"acm": true, "autoscaling": true, "cloudwatch": true, "ec2": true, "elasticloadbalancing": true,
		"iam": true, "route53": true, "s3": true, "ssm": true, "sts": true, "rds": true, "elasticache": true, "cloudformation": true}
	d, err := daemon.New(daemon.Config{Ephemeral: true, Dataplane: "off"})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for _, s := range d.Services() {
		if p := authz.Prefix(s.API); !iamPrefixes[p] {
			t.Errorf("%s: IAM prefix %q", s.API.Package, p)
		}
	}
}

package authz_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	stssdk "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// s3Secure is an S3 client of the cloud's HTTPS listener.
func (c *cloud) s3Secure(p aws.CredentialsProvider) *s3sdk.Client {
	return s3sdk.New(s3sdk.Options{Region: region, BaseEndpoint: aws.String(c.secure.URL), Credentials: p, UsePathStyle: true, RetryMaxAttempts: 1,
		HTTPClient: c.secure.Client()})
}

func (c *cloud) ec2(p aws.CredentialsProvider) *ec2sdk.Client {
	return ec2sdk.New(ec2sdk.Options{Region: region, BaseEndpoint: aws.String(c.url), Credentials: p, RetryMaxAttempts: 1})
}

// allowAlice gives alice an inline policy.
func allowAlice(t *testing.T, c *cloud, name, doc string) {
	t.Helper()
	must[*iamsdk.PutUserPolicyOutput](t)(c.iam(creds("test", "test", "")).PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{
		UserName: aws.String("alice"), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}))
}

// A bucket policy denying requests not sent over HTTPS, as AWS's
// "What S3 bucket policy should I use to comply with the AWS Config rule
// s3-bucket-ssl-requests-only?" writes it.
func TestSecureTransport(t *testing.T) {
	c := newCloud(t, "enforce")
	root, _ := setup(t, c)
	must[*s3sdk.PutBucketPolicyOutput](t)(root.PutBucketPolicy(ctx, &s3sdk.PutBucketPolicyInput{Bucket: aws.String("reports"), Policy: aws.String(`{"Version":"2012-10-17","Statement":[
		{"Sid":"AllowSSLRequestsOnly","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::reports","arn:aws:s3:::reports/*"],
		 "Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)}))
	wantErr(t, get(root, "q1.csv"), "AccessDenied", 403,
		`User: arn:aws:iam::`+acct+`:root is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::reports/q1.csv" with an explicit deny in a resource-based policy`)
	if err := get(c.s3Secure(creds("test", "test", "")), "q1.csv"); err != nil {
		t.Errorf("GetObject over HTTPS: %v", err)
	}
}

// aws:SourceIp is the address the request came from: the test's
// loopback.
func TestSourceIP(t *testing.T) {
	c := newCloud(t, "enforce")
	_, aliceCreds := setup(t, c)
	riam := c.iam(creds("test", "test", ""))
	must[*iamsdk.RemoveUserFromGroupOutput](t)(riam.RemoveUserFromGroup(ctx, &iamsdk.RemoveUserFromGroupInput{GroupName: aws.String("analysts"), UserName: aws.String("alice")}))
	allowAlice(t, c, "by-address", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/*","Condition":{"IpAddress":{"aws:SourceIp":"127.0.0.0/8"}}},
		{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::reports","Condition":{"IpAddress":{"aws:SourceIp":"192.0.2.0/24"}}}]}`)
	alice := c.s3(aliceCreds)
	if err := get(alice, "q1.csv"); err != nil {
		t.Errorf("GetObject from loopback: %v", err)
	}
	_, err := alice.ListObjectsV2(ctx, &s3sdk.ListObjectsV2Input{Bucket: aws.String("reports")})
	wantErr(t, err, "AccessDenied", 403,
		`User: `+aliceARN+` is not authorized to perform: s3:ListBucket on resource: "arn:aws:s3:::reports" because no identity-based policy allows the s3:ListBucket action`)
}

// s3:prefix limits a listing to the caller's home, as the IAM user
// guide's "Allows IAM users to access their own home directory in Amazon
// S3" example does.
func TestPrefix(t *testing.T) {
	c := newCloud(t, "enforce")
	_, aliceCreds := setup(t, c)
	riam := c.iam(creds("test", "test", ""))
	must[*iamsdk.RemoveUserFromGroupOutput](t)(riam.RemoveUserFromGroup(ctx, &iamsdk.RemoveUserFromGroupInput{GroupName: aws.String("analysts"), UserName: aws.String("alice")}))
	allowAlice(t, c, "home", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::reports","Condition":{"StringLike":{"s3:prefix":["home/${aws:username}/*"]}}}]}`)
	alice := c.s3(aliceCreds)
	list := func(prefix string) error {
		in := &s3sdk.ListObjectsV2Input{Bucket: aws.String("reports")}
		if prefix != "" {
			in.Prefix = aws.String(prefix)
		}
		_, err := alice.ListObjectsV2(ctx, in)
		return err
	}
	if err := list("home/alice/docs"); err != nil {
		t.Errorf("listing her home: %v", err)
	}
	deny := `User: ` + aliceARN + ` is not authorized to perform: s3:ListBucket on resource: "arn:aws:s3:::reports" because no identity-based policy allows the s3:ListBucket action`
	wantErr(t, list("home/bob/"), "AccessDenied", 403, deny)
	wantErr(t, list(""), "AccessDenied", 403, deny)
}

// CopyObject reads its source: s3:GetObject on it is needed besides
// s3:PutObject on the destination.
func TestCopyReadsSource(t *testing.T) {
	c := newCloud(t, "enforce")
	_, aliceCreds := setup(t, c)
	riam := c.iam(creds("test", "test", ""))
	must[*iamsdk.RemoveUserFromGroupOutput](t)(riam.RemoveUserFromGroup(ctx, &iamsdk.RemoveUserFromGroupInput{GroupName: aws.String("analysts"), UserName: aws.String("alice")}))
	allowAlice(t, c, "copy", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::reports/*"},
		{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/q1.csv"}]}`)
	alice := c.s3(aliceCreds)
	copyFrom := func(src string) error {
		_, err := alice.CopyObject(ctx, &s3sdk.CopyObjectInput{Bucket: aws.String("reports"), Key: aws.String("copy.txt"), CopySource: aws.String("reports/" + src)})
		return err
	}
	if err := copyFrom("q1.csv"); err != nil {
		t.Errorf("copying a readable source: %v", err)
	}
	wantErr(t, copyFrom("secret/plan.txt"), "AccessDenied", 403,
		`User: `+aliceARN+` is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::reports/secret/plan.txt" with an explicit deny in a resource-based policy`)
}

// ec2:ResourceTag: alice may terminate only the instances tagged
// env=dev (read from EC2's records: no data plane runs them).
func TestResourceTag(t *testing.T) {
	c := newCloud(t, "enforce")
	_, aliceCreds := setup(t, c)
	root := c.ec2(creds("test", "test", ""))
	run := func(env string) string {
		out := must[*ec2sdk.RunInstancesOutput](t)(root.RunInstances(ctx, &ec2sdk.RunInstancesInput{ImageId: aws.String("ami-00a36856283d67c39"), InstanceType: "t3.micro",
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance,
				Tags: []ec2types.Tag{{Key: aws.String("env"), Value: aws.String(env)}}}}}))
		return *out.Instances[0].InstanceId
	}
	dev, prod := run("dev"), run("prod")
	allowAlice(t, c, "terminate-dev", `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"ec2:TerminateInstances","Resource":"arn:aws:ec2:*:*:instance/*","Condition":{"StringEquals":{"ec2:ResourceTag/env":"dev"}}}]}`)
	alice := c.ec2(aliceCreds)
	terminate := func(id string) error {
		_, err := alice.TerminateInstances(ctx, &ec2sdk.TerminateInstancesInput{InstanceIds: []string{id}})
		return err
	}
	if err := terminate(dev); err != nil {
		t.Errorf("terminating the dev instance: %v", err)
	}
	err := terminate(prod)
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "UnauthorizedOperation" || !strings.Contains(ae.ErrorMessage(),
		"is not authorized to perform: ec2:TerminateInstances on resource: arn:aws:ec2:"+region+":"+acct+":instance/"+prod+" because no identity-based policy allows the ec2:TerminateInstances action") {
		t.Errorf("terminating the prod instance: %v", err)
	}
	// Retagged, it may go too.
	must[*ec2sdk.CreateTagsOutput](t)(root.CreateTags(ctx, &ec2sdk.CreateTagsInput{Resources: []string{prod}, Tags: []ec2types.Tag{{Key: aws.String("env"), Value: aws.String("dev")}}}))
	if err := terminate(prod); err != nil {
		t.Errorf("terminating the retagged instance: %v", err)
	}
}

// A session policy passed to AssumeRole narrows the role's permissions.
func TestSessionPolicy(t *testing.T) {
	c := newCloud(t, "enforce")
	setup(t, c)
	riam := c.iam(creds("test", "test", ""))
	roleARN := "arn:aws:iam::" + acct + ":role/reader"
	must[*iamsdk.CreateRoleOutput](t)(riam.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("reader"),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::` + acct + `:root"},"Action":"sts:AssumeRole"}}`)}))
	must[*iamsdk.AttachRolePolicyOutput](t)(riam.AttachRolePolicy(ctx, &iamsdk.AttachRolePolicyInput{RoleName: aws.String("reader"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")}))
	out := must[*stssdk.AssumeRoleOutput](t)(c.sts(creds("test", "test", "")).AssumeRole(ctx, &stssdk.AssumeRoleInput{RoleArn: aws.String(roleARN), RoleSessionName: aws.String("narrow"),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::reports/q1.csv"}}`)}))
	session := c.s3(creds(*out.Credentials.AccessKeyId, *out.Credentials.SecretAccessKey, *out.Credentials.SessionToken))
	if err := get(session, "q1.csv"); err != nil {
		t.Errorf("within the session policy: %v", err)
	}
	// The role may list the bucket; the session policy does not allow it.
	_, err := session.ListObjectsV2(ctx, &s3sdk.ListObjectsV2Input{Bucket: aws.String("reports")})
	wantErr(t, err, "AccessDenied", 403,
		`User: arn:aws:sts::`+acct+`:assumed-role/reader/narrow is not authorized to perform: s3:ListBucket on resource: "arn:aws:s3:::reports" because no session policy allows the s3:ListBucket action`)
}

package s3

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"

	s3api "github.com/cloudbox/cloudbox/api/s3"
)

const cfgPublicPolicy = `{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pol/*"}]}`

func TestBucketPolicy(t *testing.T) {
	c := cfgNewCloud(t, false)
	b := c.bucket(t, "pol")
	_, err := c.s3.GetBucketPolicy(cfgCtx, &s3sdk.GetBucketPolicyInput{Bucket: aws.String(b)})
	cfgWantErr(t, err, "NoSuchBucketPolicy", http.StatusNotFound)
	_, err = c.s3.GetBucketPolicyStatus(cfgCtx, &s3sdk.GetBucketPolicyStatusInput{Bucket: aws.String(b)})
	cfgWantErr(t, err, "NoSuchBucketPolicy", http.StatusNotFound)

	for _, tc := range []struct{ doc, msg string }{
		{` {"Statement":[]}`, "Policies must be valid JSON and the first byte must be '{'"},
		{`{"Statement":`, "This policy contains invalid Json"},
		{`{"Version":"2012-10-17"}`, "Missing required field Statement"},
		{`{"Statement":[]}`, "Could not parse the policy: Statement is empty!"},
		{`{"Version":"2020-01-01","Statement":[]}`, "The policy must contain a valid version string"},
		{`{"Statement":[{"Effect":"Maybe","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::pol/*"}]}`, "Invalid effect: Maybe"},
		{`{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::pol/*"}]}`, "Missing required field Principal"},
		{`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"ec2:RunInstances","Resource":"arn:aws:s3:::pol/*"}]}`, "Policy has invalid action"},
		{`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::other/*"}]}`, "Policy has invalid resource"},
	} {
		_, err := c.s3.PutBucketPolicy(cfgCtx, &s3sdk.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(tc.doc)})
		if e := cfgWantErr(t, err, "MalformedPolicy", http.StatusBadRequest); e.ErrorMessage() != tc.msg {
			t.Errorf("%s: %q, want %q", tc.doc, e.ErrorMessage(), tc.msg)
		}
	}

	// New buckets block public policies, as S3's have since April 2023.
	_, err = c.s3.PutBucketPolicy(cfgCtx, &s3sdk.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(cfgPublicPolicy)})
	e := cfgWantErr(t, err, "AccessDenied", http.StatusForbidden)
	if !strings.Contains(e.ErrorMessage(), "because public policies are blocked by the BlockPublicPolicy block public access setting") {
		t.Errorf("message %q", e.ErrorMessage())
	}

	// A policy for an account is not public.
	private := `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},"Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::pol","arn:aws:s3:::pol/*"]}}`
	cfgMust(c.s3.PutBucketPolicy(cfgCtx, &s3sdk.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(private)}))(t)
	got := cfgMust(c.s3.GetBucketPolicy(cfgCtx, &s3sdk.GetBucketPolicyInput{Bucket: aws.String(b)}))(t)
	if aws.ToString(got.Policy) != private {
		t.Errorf("policy %q", aws.ToString(got.Policy))
	}
	st := cfgMust(c.s3.GetBucketPolicyStatus(cfgCtx, &s3sdk.GetBucketPolicyStatusInput{Bucket: aws.String(b)}))(t)
	if aws.ToBool(st.PolicyStatus.IsPublic) {
		t.Error("an account's policy is public")
	}

	// Once public policies are allowed, a public one is taken and shown
	// as public; a condition on the caller's network narrows it.
	cfgMust(c.s3.DeletePublicAccessBlock(cfgCtx, &s3sdk.DeletePublicAccessBlockInput{Bucket: aws.String(b)}))(t)
	cfgMust(c.s3.PutBucketPolicy(cfgCtx, &s3sdk.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(cfgPublicPolicy)}))(t)
	st = cfgMust(c.s3.GetBucketPolicyStatus(cfgCtx, &s3sdk.GetBucketPolicyStatusInput{Bucket: aws.String(b)}))(t)
	if !aws.ToBool(st.PolicyStatus.IsPublic) {
		t.Error("a policy for Principal * is not public")
	}
	narrowed := `{"Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::pol/*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/16"}}}]}`
	cfgMust(c.s3.PutBucketPolicy(cfgCtx, &s3sdk.PutBucketPolicyInput{Bucket: aws.String(b), Policy: aws.String(narrowed)}))(t)
	st = cfgMust(c.s3.GetBucketPolicyStatus(cfgCtx, &s3sdk.GetBucketPolicyStatusInput{Bucket: aws.String(b)}))(t)
	if aws.ToBool(st.PolicyStatus.IsPublic) {
		t.Error("a policy for one network is public")
	}

	cfgMust(c.s3.DeleteBucketPolicy(cfgCtx, &s3sdk.DeleteBucketPolicyInput{Bucket: aws.String(b)}))(t)
	_, err = c.s3.GetBucketPolicy(cfgCtx, &s3sdk.GetBucketPolicyInput{Bucket: aws.String(b)})
	cfgWantErr(t, err, "NoSuchBucketPolicy", http.StatusNotFound)

	_, err = c.s3.GetBucketPolicy(cfgCtx, &s3sdk.GetBucketPolicyInput{Bucket: aws.String("no-such-bucket")})
	cfgWantErr(t, err, "NoSuchBucket", http.StatusNotFound)
}

// TestAnonymousAllowed checks what a bucket's ACL, policy and Block
// Public Access settings let anyone do.
func TestAnonymousAllowed(t *testing.T) {
	obj := &version{ACL: "public-read"}
	for _, tc := range []struct {
		name   string
		b      bucketRecord
		action string
		v      *version
		want   bool
	}{
		{"private", bucketRecord{Name: "pol", Config: bucketConfig{ACL: "private"}}, "s3:GetObject", &version{}, false},
		{"public object", bucketRecord{Name: "pol", Config: bucketConfig{Ownership: "ObjectWriter"}}, "s3:GetObject", obj, true},
		{"public ACLs ignored", bucketRecord{Name: "pol", Config: bucketConfig{PublicAccessBlock: newBucketConfig(&s3api.CreateBucketRequest{}).PublicAccessBlock}}, "s3:GetObject", obj, false},
		{"public-read-write bucket", bucketRecord{Name: "pol", Config: bucketConfig{ACL: "public-read-write"}}, "s3:PutObject", nil, true},
		{"public policy", bucketRecord{Name: "pol", Config: bucketConfig{Policy: cfgPublicPolicy}}, "s3:GetObject", &version{}, true},
		{"policy for another action", bucketRecord{Name: "pol", Config: bucketConfig{Policy: cfgPublicPolicy}}, "s3:PutObject", nil, false},
		{"public policy restricted", bucketRecord{Name: "pol", Config: bucketConfig{Policy: cfgPublicPolicy,
			PublicAccessBlock: &s3api.PublicAccessBlockConfiguration{RestrictPublicBuckets: aws.Bool(true)}}}, "s3:GetObject", &version{}, false},
		{"denied", bucketRecord{Name: "pol", Config: bucketConfig{Policy: `{"Statement":[
			{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::pol/*"},
			{"Effect":"Deny","Principal":"*","Action":"s3:Get*","Resource":"arn:aws:s3:::pol/secret/*"}]}`}}, "s3:GetObject", &version{}, true},
	} {
		b := tc.b
		if got := anonymousAllowed(&b, tc.action, "a/key", tc.v); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
	b := bucketRecord{Name: "pol", Config: bucketConfig{Policy: `{"Statement":[
		{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::pol/*"},
		{"Effect":"Deny","Principal":"*","Action":"s3:Get*","Resource":"arn:aws:s3:::pol/secret/*"}]}`}}
	if anonymousAllowed(&b, "s3:GetObject", "secret/x", &version{}) {
		t.Error("a Deny for everyone did not deny")
	}
}

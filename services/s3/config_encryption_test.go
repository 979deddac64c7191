package s3

import (
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestBucketEncryption(t *testing.T) {
	c := cfgNewCloud(t, false)
	b := c.bucket(t, "enc")
	sse := func() s3types.ServerSideEncryptionRule {
		t.Helper()
		got := cfgMust(c.s3.GetBucketEncryption(cfgCtx, &s3sdk.GetBucketEncryptionInput{Bucket: aws.String(b)}))(t)
		if len(got.ServerSideEncryptionConfiguration.Rules) != 1 {
			t.Fatalf("rules %+v", got.ServerSideEncryptionConfiguration.Rules)
		}
		return got.ServerSideEncryptionConfiguration.Rules[0]
	}
	// Every bucket has SSE-S3 until another default is put.
	if r := sse(); r.ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAes256 || aws.ToBool(r.BucketKeyEnabled) {
		t.Errorf("default %+v", r.ApplyServerSideEncryptionByDefault)
	}
	put := func(alg s3types.ServerSideEncryption, key *string) error {
		_, err := c.s3.PutBucketEncryption(cfgCtx, &s3sdk.PutBucketEncryptionInput{Bucket: aws.String(b), ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{
			Rules: []s3types.ServerSideEncryptionRule{{ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: alg, KMSMasterKeyID: key}, BucketKeyEnabled: aws.Bool(true)}}}})
		return err
	}
	cfgWantErr(t, put(s3types.ServerSideEncryptionAes256, aws.String("alias/mine")), "InvalidArgument", http.StatusBadRequest)
	cfgWantErr(t, put("DES", nil), "MalformedXML", http.StatusBadRequest)
	if err := put(s3types.ServerSideEncryptionAwsKms, aws.String("alias/mine")); err != nil {
		t.Fatal(err)
	}
	if r := sse(); r.ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAwsKms ||
		aws.ToString(r.ApplyServerSideEncryptionByDefault.KMSMasterKeyID) != "alias/mine" || !aws.ToBool(r.BucketKeyEnabled) {
		t.Errorf("KMS %+v", r.ApplyServerSideEncryptionByDefault)
	}
	cfgMust(c.s3.DeleteBucketEncryption(cfgCtx, &s3sdk.DeleteBucketEncryptionInput{Bucket: aws.String(b)}))(t)
	if r := sse(); r.ApplyServerSideEncryptionByDefault.SSEAlgorithm != s3types.ServerSideEncryptionAes256 {
		t.Errorf("after a delete %+v", r.ApplyServerSideEncryptionByDefault)
	}
}

package modelederrors_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestS3Errors(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	ctx := context.Background()
	cl := s3sdk.NewFromConfig(c.cfg(), func(o *s3sdk.Options) { o.UsePathStyle = true })
	here := &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(region)}
	if _, err := cl.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("mine"), CreateBucketConfiguration: here}); err != nil {
		t.Fatal(err)
	}
	c.check(t, "s3", []modeled{
		{"NoSuchBucket", func(ctx context.Context) error {
			_, err := cl.ListObjectsV2(ctx, &s3sdk.ListObjectsV2Input{Bucket: aws.String("nobody")})
			return err
		}, is[types.NoSuchBucket], `c.list_objects(Bucket="nobody")`},
		{"BucketAlreadyOwnedByYou", func(ctx context.Context) error {
			_, err := cl.CreateBucket(ctx, &s3sdk.CreateBucketInput{Bucket: aws.String("mine"), CreateBucketConfiguration: here})
			return err
		}, is[types.BucketAlreadyOwnedByYou], `c.create_bucket(Bucket="mine", CreateBucketConfiguration={"LocationConstraint": "` + region + `"})`},
		{"NoSuchKey", func(ctx context.Context) error {
			_, err := cl.GetObject(ctx, &s3sdk.GetObjectInput{Bucket: aws.String("mine"), Key: aws.String("none")})
			return err
		}, is[types.NoSuchKey], `c.get_object(Bucket="mine", Key="none")`},
		{"NoSuchUpload", func(ctx context.Context) error {
			_, err := cl.AbortMultipartUpload(ctx, &s3sdk.AbortMultipartUploadInput{Bucket: aws.String("mine"), Key: aws.String("k"), UploadId: aws.String("none")})
			return err
		}, is[types.NoSuchUpload], `c.abort_multipart_upload(Bucket="mine", Key="k", UploadId="none")`},
	})
}

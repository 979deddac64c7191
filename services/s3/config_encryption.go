package s3

import (
	"context"
	"slices"

	s3api "github.com/cloudbox/cloudbox/api/s3"
)

func init() {
	extraHandlers = append(extraHandlers, func(s *Service, h *s3api.Handlers) {
		h.GetBucketEncryption = s.getBucketEncryption
		h.PutBucketEncryption = s.putBucketEncryption
		h.DeleteBucketEncryption = s.deleteBucketEncryption
	})
}

// defaultEncryption is the configuration every bucket has until another
// is put: SSE-S3, as S3 has encrypted every new object since 2023.
func defaultEncryption() *s3api.ServerSideEncryptionConfiguration {
	return &s3api.ServerSideEncryptionConfiguration{Rules: []*s3api.ServerSideEncryptionRule{{
		ApplyServerSideEncryptionByDefault: &s3api.ServerSideEncryptionByDefault{SSEAlgorithm: str("AES256")},
		BucketKeyEnabled:                   boolp(false),
	}}}
}

// checkEncryption applies S3's rules for a default encryption
// configuration: one rule, an algorithm S3 has, a KMS key only for KMS.
func checkEncryption(c *s3api.ServerSideEncryptionConfiguration) error {
	if c == nil || len(c.Rules) != 1 || c.Rules[0] == nil || c.Rules[0].ApplyServerSideEncryptionByDefault == nil {
		return malformedXML()
	}
	d := c.Rules[0].ApplyServerSideEncryptionByDefault
	alg := deref(d.SSEAlgorithm)
	if !slices.Contains([]string{"AES256", "aws:kms", "aws:kms:dsse"}, alg) {
		return malformedXML()
	}
	if d.KMSMasterKeyID != nil && alg == "AES256" {
		return invalidArgument("ApplyServerSideEncryptionByDefault", "", "a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse")
	}
	return nil
}

func (s *Service) getBucketEncryption(ctx context.Context, in *s3api.GetBucketEncryptionRequest) (*s3api.GetBucketEncryptionOutput, error) {
	b, err := s.viewBucket(ctx, deref(in.Bucket))
	if err != nil {
		return nil, err
	}
	c := b.Config.Encryption
	if c == nil {
		c = defaultEncryption()
	}
	return &s3api.GetBucketEncryptionOutput{ServerSideEncryptionConfiguration: c}, nil
}

func (s *Service) putBucketEncryption(ctx context.Context, in *s3api.PutBucketEncryptionRequest) (*s3api.PutBucketEncryptionOutput, error) {
	c := in.ServerSideEncryptionConfiguration
	if err := checkEncryption(c); err != nil {
		return nil, err
	}
	if c.Rules[0].BucketKeyEnabled == nil {
		c.Rules[0].BucketKeyEnabled = boolp(false)
	}
	if err := s.updateBucket(ctx, deref(in.Bucket), func(b *bucketRecord) error {
		b.Config.Encryption = c
		return nil
	}); err != nil {
		return nil, err
	}
	return &s3api.PutBucketEncryptionOutput{}, nil
}

// deleteBucketEncryption puts the bucket back on SSE-S3: a bucket is
// never without default encryption.
func (s *Service) deleteBucketEncryption(ctx context.Context, in *s3api.DeleteBucketEncryptionRequest) (*s3api.DeleteBucketEncryptionOutput, error) {
	if err := s.updateBucket(ctx, deref(in.Bucket), func(b *bucketRecord) error {
		b.Config.Encryption = nil
		return nil
	}); err != nil {
		return nil, err
	}
	return &s3api.DeleteBucketEncryptionOutput{}, nil
}

package s3

import (
	"context"
	"strings"

	s3api "github.com/cloudbox/cloudbox/api/s3"
)

// This file holds what a bucket says about transfers and who pays for
// them: Transfer Acceleration and Requester Pays, stored and returned
// (cloudbox has one endpoint and no bill).

func init() {
	extraHandlers = append(extraHandlers, func(s *Service, h *s3api.Handlers) {
		h.GetBucketAccelerateConfiguration = s.getBucketAccelerateConfiguration
		h.PutBucketAccelerateConfiguration = s.putBucketAccelerateConfiguration
		h.GetBucketRequestPayment = s.getBucketRequestPayment
		h.PutBucketRequestPayment = s.putBucketRequestPayment
	})
}

func (s *Service) getBucketAccelerateConfiguration(ctx context.Context, in *s3api.GetBucketAccelerateConfigurationRequest) (*s3api.GetBucketAccelerateConfigurationOutput, error) {
	b, err := s.viewBucket(ctx, deref(in.Bucket))
	if err != nil {
		return nil, err
	}
	out := &s3api.GetBucketAccelerateConfigurationOutput{}
	if b.Config.Accelerate != "" {
		out.Status = str(b.Config.Accelerate)
	}
	return out, nil
}

func (s *Service) putBucketAccelerateConfiguration(ctx context.Context, in *s3api.PutBucketAccelerateConfigurationRequest) (*s3api.PutBucketAccelerateConfigurationOutput, error) {
	c := in.AccelerateConfiguration
	if c == nil || deref(c.Status) != "Enabled" && deref(c.Status) != "Suspended" {
		return nil, malformedXML()
	}
	if strings.Contains(deref(in.Bucket), ".") {
		return nil, invalidRequest("S3 Transfer Acceleration is not supported for buckets with periods (.) in their names")
	}
	if err := s.updateBucket(ctx, deref(in.Bucket), func(b *bucketRecord) error {
		b.Config.Accelerate = *c.Status
		return nil
	}); err != nil {
		return nil, err
	}
	return &s3api.PutBucketAccelerateConfigurationOutput{}, nil
}

func (s *Service) getBucketRequestPayment(ctx context.Context, in *s3api.GetBucketRequestPaymentRequest) (*s3api.GetBucketRequestPaymentOutput, error) {
	b, err := s.viewBucket(ctx, deref(in.Bucket))
	if err != nil {
		return nil, err
	}
	payer := b.Config.RequestPayer
	if payer == "" {
		payer = "BucketOwner"
	}
	return &s3api.GetBucketRequestPaymentOutput{Payer: str(payer)}, nil
}

func (s *Service) putBucketRequestPayment(ctx context.Context, in *s3api.PutBucketRequestPaymentRequest) (*s3api.PutBucketRequestPaymentOutput, error) {
	c := in.RequestPaymentConfiguration
	if c == nil || deref(c.Payer) != "Requester" && deref(c.Payer) != "BucketOwner" {
		return nil, malformedXML()
	}
	if err := s.updateBucket(ctx, deref(in.Bucket), func(b *bucketRecord) error {
		b.Config.RequestPayer = ""
		if *c.Payer == "Requester" {
			b.Config.RequestPayer = *c.Payer
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return &s3api.PutBucketRequestPaymentOutput{}, nil
}

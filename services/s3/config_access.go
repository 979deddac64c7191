package s3

import (
	"context"
	"net/http"
	"slices"

	s3api "github.com/cloudbox/cloudbox/api/s3"
)

// This file holds a bucket's access settings besides its ACL and policy:
// Block Public Access and object ownership.

func init() {
	extraHandlers = append(extraHandlers, func(s *Service, h *s3api.Handlers) {
		h.GetPublicAccessBlock = s.getPublicAccessBlock
		h.PutPublicAccessBlock = s.putPublicAccessBlock
		h.DeletePublicAccessBlock = s.deletePublicAccessBlock
		h.GetBucketOwnershipControls = s.getBucketOwnershipControls
		h.PutBucketOwnershipControls = s.putBucketOwnershipControls
		h.DeleteBucketOwnershipControls = s.deleteBucketOwnershipControls
	})
}

func (s *Service) getPublicAccessBlock(ctx context.Context, in *s3api.GetPublicAccessBlockRequest) (*s3api.GetPublicAccessBlockOutput, error) {
	b, err := s.viewBucket(ctx, deref(in.Bucket))
	if err != nil {
		return nil, err
	}
	if b.Config.PublicAccessBlock == nil {
		return nil, errorf(http.StatusNotFound, "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found").With("BucketName", b.Name)
	}
	return &s3api.GetPublicAccessBlockOutput{PublicAccessBlockConfiguration: b.Config.PublicAccessBlock}, nil
}

func (s *Service) putPublicAccessBlock(ctx context.Context, in *s3api.PutPublicAccessBlockRequest) (*s3api.PutPublicAccessBlockOutput, error) {
	in1 := in.PublicAccessBlockConfiguration
	if in1 == nil {
		return nil, malformedXML()
	}
	// Every setting is shown, false when left out.
	set := func(b *bool) *bool { return boolp(b != nil && *b) }
	pab := &s3api.PublicAccessBlockConfiguration{BlockPublicAcls: set(in1.BlockPublicAcls), IgnorePublicAcls: set(in1.IgnorePublicAcls),
		BlockPublicPolicy: set(in1.BlockPublicPolicy), RestrictPublicBuckets: set(in1.RestrictPublicBuckets)}
	if err := s.updateBucket(ctx, deref(in.Bucket), func(b *bucketRecord) error {
		b.Config.PublicAccessBlock = pab
		return nil
	}); err != nil {
		return nil, err
	}
	return &s3api.PutPublicAccessBlockOutput{}, nil
}

func (s *Service) deletePublicAccessBlock(ctx context.Context, in *s3api.DeletePublicAccessBlockRequest) (*s3api.DeletePublicAccessBlockOutput, error) {
	if err := s.updateBucket(ctx, deref(in.Bucket), func(b *bucketRecord) error {
		b.Config.PublicAccessBlock = nil
		return nil
	}); err != nil {
		return nil, err
	}
	return &s3api.DeletePublicAccessBlockOutput{}, nil
}

// ignoresPublicACLs says whether b's Block Public Access settings make S3
// ignore the public grants of its ACLs and its objects'.
func ignoresPublicACLs(b *bucketRecord) bool {
	pab := b.Config.PublicAccessBlock
	return pab != nil && pab.IgnorePublicAcls != nil && *pab.IgnorePublicAcls
}

// restrictsPublicPolicy says whether b's Block Public Access settings
// make S3 disregard a public bucket policy.
func restrictsPublicPolicy(b *bucketRecord) bool {
	pab := b.Config.PublicAccessBlock
	return pab != nil && pab.RestrictPublicBuckets != nil && *pab.RestrictPublicBuckets
}

func (s *Service) getBucketOwnershipControls(ctx context.Context, in *s3api.GetBucketOwnershipControlsRequest) (*s3api.GetBucketOwnershipControlsOutput, error) {
	b, err := s.viewBucket(ctx, deref(in.Bucket))
	if err != nil {
		return nil, err
	}
	if b.Config.Ownership == "" {
		return nil, errorf(http.StatusNotFound, "OwnershipControlsNotFoundError", "The bucket ownership controls were not found").With("BucketName", b.Name)
	}
	return &s3api.GetBucketOwnershipControlsOutput{OwnershipControls: &s3api.OwnershipControls{
		Rules: []*s3api.OwnershipControlsRule{{ObjectOwnership: str(b.Config.Ownership)}},
	}}, nil
}

func (s *Service) putBucketOwnershipControls(ctx context.Context, in *s3api.PutBucketOwnershipControlsRequest) (*s3api.PutBucketOwnershipControlsOutput, error) {
	oc := in.OwnershipControls
	if oc == nil || len(oc.Rules) != 1 || oc.Rules[0] == nil ||
		!slices.Contains([]string{"BucketOwnerPreferred", "ObjectWriter", "BucketOwnerEnforced"}, deref(oc.Rules[0].ObjectOwnership)) {
		return nil, malformedXML()
	}
	ownership := *oc.Rules[0].ObjectOwnership
	if err := s.updateBucket(ctx, deref(in.Bucket), func(b *bucketRecord) error {
		if ownership == "BucketOwnerEnforced" && !ownerOnly(b.Config.ACL, b.Config.Grants, b.Owner) {
			// ACLs cannot be disabled while the bucket's grants others.
			return errorf(http.StatusBadRequest, "InvalidBucketAclWithObjectOwnership", "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")
		}
		b.Config.Ownership = ownership
		return nil
	}); err != nil {
		return nil, err
	}
	return &s3api.PutBucketOwnershipControlsOutput{}, nil
}

func (s *Service) deleteBucketOwnershipControls(ctx context.Context, in *s3api.DeleteBucketOwnershipControlsRequest) (*s3api.DeleteBucketOwnershipControlsOutput, error) {
	if err := s.updateBucket(ctx, deref(in.Bucket), func(b *bucketRecord) error {
		b.Config.Ownership = ""
		return nil
	}); err != nil {
		return nil, err
	}
	return &s3api.DeleteBucketOwnershipControlsOutput{}, nil
}

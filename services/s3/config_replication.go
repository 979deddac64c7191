package s3

import (
	"context"
	"net/http"
	"strings"

	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/store"
	"github.com/cloudbox/cloudbox/uuid"
)

func init() {
	extraHandlers = append(extraHandlers, func(s *Service, h *s3api.Handlers) {
		h.GetBucketReplication = s.getBucketReplication
		h.PutBucketReplication = s.putBucketReplication
		h.DeleteBucketReplication = s.deleteBucketReplication
	})
}

func (s *Service) getBucketReplication(ctx context.Context, in *s3api.GetBucketReplicationRequest) (*s3api.GetBucketReplicationOutput, error) {
	b, err := s.viewBucket(ctx, deref(in.Bucket))
	if err != nil {
		return nil, err
	}
	if b.Config.Replication == nil {
		return nil, errorf(http.StatusNotFound, "ReplicationConfigurationNotFoundError", "The replication configuration was not found").With("BucketName", b.Name)
	}
	return &s3api.GetBucketReplicationOutput{ReplicationConfiguration: b.Config.Replication}, nil
}

// putBucketReplication stores a replication configuration, checked as S3
// checks it: both buckets versioned, the destinations existing. Objects
// are not replicated.
func (s *Service) putBucketReplication(ctx context.Context, in *s3api.PutBucketReplicationRequest) (*s3api.PutBucketReplicationOutput, error) {
	c := in.ReplicationConfiguration
	if c == nil || len(c.Rules) == 0 {
		return nil, malformedXML()
	}
	err := s.store.Update(func(tx *store.Tx) error {
		b, err := s.bucketFor(ctx, tx, deref(in.Bucket))
		if err != nil {
			return err
		}
		if b.Versioning != "Enabled" {
			return invalidRequest("Versioning must be 'Enabled' on the bucket to apply a replication configuration")
		}
		for _, r := range c.Rules {
			if r == nil || r.Destination == nil || deref(r.Status) != "Enabled" && deref(r.Status) != "Disabled" {
				return malformedXML()
			}
			name, ok := strings.CutPrefix(deref(r.Destination.Bucket), "arn:aws:s3:::")
			if !ok {
				return invalidArgument("Bucket", deref(r.Destination.Bucket), "Invalid bucket ARN.")
			}
			dest, err := findBucket(tx, name)
			if err != nil {
				return err
			}
			if dest == nil {
				return invalidRequest("Destination bucket must exist.")
			}
			if dest.Versioning != "Enabled" {
				return invalidRequest("Destination bucket must have versioning enabled.")
			}
			if deref(r.ID) == "" {
				r.ID = str(uuid.New())
			}
		}
		b.Config.Replication = c
		return s.putBucket(tx, b)
	})
	if err != nil {
		return nil, err
	}
	return &s3api.PutBucketReplicationOutput{}, nil
}

func (s *Service) deleteBucketReplication(ctx context.Context, in *s3api.DeleteBucketReplicationRequest) (*s3api.DeleteBucketReplicationOutput, error) {
	if err := s.updateBucket(ctx, deref(in.Bucket), func(b *bucketRecord) error {
		b.Config.Replication = nil
		return nil
	}); err != nil {
		return nil, err
	}
	return &s3api.DeleteBucketReplicationOutput{}, nil
}

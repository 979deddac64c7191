package s3

import (
	"context"
	"net/http"

	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/store"
)

func init() {
	extraHandlers = append(extraHandlers, func(s *Service, h *s3api.Handlers) {
		h.GetBucketLogging = s.getBucketLogging
		h.PutBucketLogging = s.putBucketLogging
	})
}

func (s *Service) getBucketLogging(ctx context.Context, in *s3api.GetBucketLoggingRequest) (*s3api.GetBucketLoggingOutput, error) {
	b, err := s.viewBucket(ctx, deref(in.Bucket))
	if err != nil {
		return nil, err
	}
	return &s3api.GetBucketLoggingOutput{LoggingEnabled: b.Config.Logging}, nil
}

// putBucketLogging stores server access logging's settings (an empty
// BucketLoggingStatus turns it off), checking the target bucket as S3
// does: it exists, has the same owner and is in the same region. No logs
// are written.
func (s *Service) putBucketLogging(ctx context.Context, in *s3api.PutBucketLoggingRequest) (*s3api.PutBucketLoggingOutput, error) {
	if in.BucketLoggingStatus == nil {
		return nil, malformedXML()
	}
	logging := in.BucketLoggingStatus.LoggingEnabled
	err := s.store.Update(func(tx *store.Tx) error {
		b, err := s.bucketFor(ctx, tx, deref(in.Bucket))
		if err != nil {
			return err
		}
		if logging != nil {
			name := deref(logging.TargetBucket)
			target, err := findBucket(tx, name)
			if err != nil {
				return err
			}
			invalid := func(msg string) error {
				return errorf(http.StatusBadRequest, "InvalidTargetBucketForLogging", "%s", msg).With("TargetBucket", name)
			}
			switch {
			case target == nil:
				return invalid("The target bucket for logging does not exist")
			case target.Owner != b.Owner:
				return invalid("The owner for the bucket to be logged and the target bucket must be the same.")
			case target.Region != b.Region:
				return errorf(http.StatusBadRequest, "CrossLocationLoggingProhibitted", "Cross S3 location logging not allowed. ").
					With("SourceBucketLocation", b.Region).With("TargetBucketLocation", target.Region)
			}
		}
		b.Config.Logging = logging
		return s.putBucket(tx, b)
	})
	if err != nil {
		return nil, err
	}
	return &s3api.PutBucketLoggingOutput{}, nil
}

package s3

import (
	"context"
	"slices"
	"strings"

	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/uuid"
)

func init() {
	extraHandlers = append(extraHandlers, func(s *Service, h *s3api.Handlers) {
		h.GetBucketNotificationConfiguration = s.getBucketNotificationConfiguration
		h.PutBucketNotificationConfiguration = s.putBucketNotificationConfiguration
	})
}

// notificationEvents are the event types a notification may name.
var notificationEvents = []string{
	"s3:ReducedRedundancyLostObject",
	"s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post", "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload",
	"s3:ObjectRemoved:*", "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated",
	"s3:ObjectRestore:*", "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed", "s3:ObjectRestore:Delete",
	"s3:Replication:*", "s3:Replication:OperationFailedReplication", "s3:Replication:OperationNotTracked",
	"s3:Replication:OperationMissedThreshold", "s3:Replication:OperationReplicatedAfterThreshold",
	"s3:LifecycleExpiration:*", "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated",
	"s3:LifecycleTransition", "s3:IntelligentTiering",
	"s3:ObjectTagging:*", "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete", "s3:ObjectAcl:Put",
}

// checkNotification applies S3's rules to one destination's events and
// filter, and gives it an id when it has none, as S3 does.
func checkNotification(id **string, events []*string, f *s3api.NotificationConfigurationFilter) error {
	if len(events) == 0 {
		return malformedXML()
	}
	for _, e := range events {
		if !slices.Contains(notificationEvents, deref(e)) {
			return invalidArgument("Event", deref(e), "The event is not supported for notifications")
		}
	}
	if f != nil && f.Key != nil {
		for _, r := range f.Key.FilterRules {
			if n := strings.ToLower(deref(r.Name)); n != "prefix" && n != "suffix" {
				return invalidArgument("FilterRule.Name", deref(r.Name), "filter rule name must be either prefix or suffix")
			}
		}
	}
	if deref(*id) == "" {
		*id = str(uuid.New())
	}
	return nil
}

func (s *Service) getBucketNotificationConfiguration(ctx context.Context, in *s3api.GetBucketNotificationConfigurationRequest) (*s3api.NotificationConfiguration, error) {
	b, err := s.viewBucket(ctx, deref(in.Bucket))
	if err != nil {
		return nil, err
	}
	if b.Config.Notification == nil {
		return &s3api.NotificationConfiguration{}, nil
	}
	return b.Config.Notification, nil
}

// putBucketNotificationConfiguration stores the configuration (an empty
// one removes it). The destinations are not checked nor notified: cloudbox
// has no SNS, SQS or Lambda to send events to yet.
func (s *Service) putBucketNotificationConfiguration(ctx context.Context, in *s3api.PutBucketNotificationConfigurationRequest) (*s3api.PutBucketNotificationConfigurationOutput, error) {
	c := in.NotificationConfiguration
	if c == nil {
		return nil, malformedXML()
	}
	for _, t := range c.TopicConfigurations {
		if err := checkNotification(&t.Id, t.Events, t.Filter); err != nil {
			return nil, err
		}
	}
	for _, q := range c.QueueConfigurations {
		if err := checkNotification(&q.Id, q.Events, q.Filter); err != nil {
			return nil, err
		}
	}
	for _, l := range c.LambdaFunctionConfigurations {
		if err := checkNotification(&l.Id, l.Events, l.Filter); err != nil {
			return nil, err
		}
	}
	if len(c.TopicConfigurations)+len(c.QueueConfigurations)+len(c.LambdaFunctionConfigurations) == 0 && c.EventBridgeConfiguration == nil {
		c = nil
	}
	if err := s.updateBucket(ctx, deref(in.Bucket), func(b *bucketRecord) error {
		b.Config.Notification = c
		return nil
	}); err != nil {
		return nil, err
	}
	return &s3api.PutBucketNotificationConfigurationOutput{}, nil
}

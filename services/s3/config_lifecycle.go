package s3

import (
	"context"
	"net/http"
	"slices"
	"time"

	s3api "github.com/cloudbox/cloudbox/api/s3"
	"github.com/cloudbox/cloudbox/uuid"
)

func init() {
	extraHandlers = append(extraHandlers, func(s *Service, h *s3api.Handlers) {
		h.GetBucketLifecycleConfiguration = s.getBucketLifecycleConfiguration
		h.PutBucketLifecycleConfiguration = s.putBucketLifecycleConfiguration
		h.DeleteBucketLifecycle = s.deleteBucketLifecycle
	})
}

// maxLifecycleRules is how many rules a lifecycle configuration may have.
const maxLifecycleRules = 1000

// transitionClasses are the storage classes a transition may name.
var transitionClasses = []string{"GLACIER", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "DEEP_ARCHIVE", "GLACIER_IR"}

// checkLifecycle applies S3's rules for a lifecycle configuration, and
// gives each rule without an ID one, as S3 does.
func checkLifecycle(c *s3api.BucketLifecycleConfiguration) error {
	if c == nil || len(c.Rules) == 0 || len(c.Rules) > maxLifecycleRules {
		return malformedXML()
	}
	ids := map[string]bool{}
	for _, r := range c.Rules {
		if r == nil || deref(r.Status) != "Enabled" && deref(r.Status) != "Disabled" {
			return malformedXML()
		}
		if deref(r.ID) == "" {
			r.ID = str(uuid.New())
		}
		if len(*r.ID) > 255 {
			return invalidArgument("ID", *r.ID, "ID length should not exceed allowed limit of 255")
		}
		if ids[*r.ID] {
			return invalidArgument("ID", *r.ID, "Rule ID must be unique. Found same ID for more than one rule")
		}
		ids[*r.ID] = true
		// A rule filters with Filter, or with the legacy Prefix; not both.
		if (r.Filter == nil) == (r.Prefix == nil) {
			return malformedXML()
		}
		if err := checkLifecycleFilter(r.Filter); err != nil {
			return err
		}
		if err := checkLifecycleActions(r); err != nil {
			return err
		}
	}
	return nil
}

func checkLifecycleFilter(f *s3api.LifecycleRuleFilter) error {
	if f == nil {
		return nil
	}
	n := 0
	for _, set := range []bool{f.Prefix != nil, f.Tag != nil, f.ObjectSizeGreaterThan != nil, f.ObjectSizeLessThan != nil, f.And != nil} {
		if set {
			n++
		}
	}
	if n > 1 {
		return malformedXML()
	}
	tags := []*s3api.Tag{f.Tag}
	gt, lt := f.ObjectSizeGreaterThan, f.ObjectSizeLessThan
	if a := f.And; a != nil {
		if a.Prefix == nil && len(a.Tags) == 0 && a.ObjectSizeGreaterThan == nil && a.ObjectSizeLessThan == nil {
			return malformedXML()
		}
		tags, gt, lt = a.Tags, a.ObjectSizeGreaterThan, a.ObjectSizeLessThan
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if t == nil {
			continue
		}
		if err := checkTags([]tag{{deref(t.Key), deref(t.Value)}}); err != nil {
			return err
		}
		if seen[deref(t.Key)] {
			return invalidRequest("Duplicate Tag Keys are not allowed.")
		}
		seen[deref(t.Key)] = true
	}
	switch {
	case gt != nil && *gt < 0:
		return invalidArgument("ObjectSizeGreaterThan", "", "'ObjectSizeGreaterThan' must be a non-negative integer")
	case lt != nil && *lt <= 0:
		return invalidArgument("ObjectSizeLessThan", "", "'ObjectSizeLessThan' must be a positive integer")
	case gt != nil && lt != nil && *gt >= *lt:
		return invalidArgument("ObjectSizeGreaterThan", "", "'ObjectSizeGreaterThan' must be less than 'ObjectSizeLessThan'")
	}
	return nil
}

// filterTags says whether a rule's filter names tags.
func filterTags(f *s3api.LifecycleRuleFilter) bool {
	return f != nil && (f.Tag != nil || f.And != nil && len(f.And.Tags) > 0)
}

func checkLifecycleActions(r *s3api.LifecycleRule) error {
	if r.Expiration == nil && r.NoncurrentVersionExpiration == nil && r.AbortIncompleteMultipartUpload == nil &&
		len(r.Transitions) == 0 && len(r.NoncurrentVersionTransitions) == 0 {
		return invalidRequest("At least one action needs to be specified in a rule")
	}
	if e := r.Expiration; e != nil {
		n := 0
		for _, set := range []bool{e.Days != nil, e.Date != nil, e.ExpiredObjectDeleteMarker != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			return malformedXML()
		}
		if e.Days != nil && *e.Days <= 0 {
			return invalidArgument("Days", "", "'Days' for Expiration action must be a positive integer")
		}
		if d := e.Date; d != nil && !d.UTC().Equal(d.UTC().Truncate(24*time.Hour)) {
			return invalidArgument("Date", d.UTC().Format(time.RFC3339), "'Date' must be at midnight GMT")
		}
		if e.ExpiredObjectDeleteMarker != nil && filterTags(r.Filter) {
			return invalidRequest("ExpiredObjectDeleteMarker cannot be specified with tags")
		}
	}
	if n := r.NoncurrentVersionExpiration; n != nil {
		if n.NoncurrentDays == nil || *n.NoncurrentDays <= 0 {
			return invalidArgument("NoncurrentDays", "", "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer")
		}
		if k := n.NewerNoncurrentVersions; k != nil && (*k <= 0 || *k > 100) {
			return invalidArgument("NewerNoncurrentVersions", "", "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a positive integer up to 100")
		}
	}
	if a := r.AbortIncompleteMultipartUpload; a != nil {
		if a.DaysAfterInitiation == nil || *a.DaysAfterInitiation <= 0 {
			return invalidArgument("DaysAfterInitiation", "", "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer")
		}
		if filterTags(r.Filter) {
			return invalidRequest("AbortIncompleteMultipartUpload cannot be specified with Tags.")
		}
	}
	for _, t := range r.Transitions {
		if t == nil || !slices.Contains(transitionClasses, deref(t.StorageClass)) || t.Days != nil && *t.Days < 0 || (t.Days == nil) == (t.Date == nil) {
			return malformedXML()
		}
	}
	for _, t := range r.NoncurrentVersionTransitions {
		if t == nil || !slices.Contains(transitionClasses, deref(t.StorageClass)) || t.NoncurrentDays == nil || *t.NoncurrentDays < 0 {
			return malformedXML()
		}
	}
	return nil
}

func (s *Service) getBucketLifecycleConfiguration(ctx context.Context, in *s3api.GetBucketLifecycleConfigurationRequest) (*s3api.GetBucketLifecycleConfigurationOutput, error) {
	b, err := s.viewBucket(ctx, deref(in.Bucket))
	if err != nil {
		return nil, err
	}
	if b.Config.Lifecycle == nil {
		return nil, errorf(http.StatusNotFound, "NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist").With("BucketName", b.Name)
	}
	return &s3api.GetBucketLifecycleConfigurationOutput{Rules: b.Config.Lifecycle.Rules}, nil
}

func (s *Service) putBucketLifecycleConfiguration(ctx context.Context, in *s3api.PutBucketLifecycleConfigurationRequest) (*s3api.PutBucketLifecycleConfigurationOutput, error) {
	if err := checkLifecycle(in.LifecycleConfiguration); err != nil {
		return nil, err
	}
	if err := s.updateBucket(ctx, deref(in.Bucket), func(b *bucketRecord) error {
		b.Config.Lifecycle = in.LifecycleConfiguration
		return nil
	}); err != nil {
		return nil, err
	}
	return &s3api.PutBucketLifecycleConfigurationOutput{}, nil
}

func (s *Service) deleteBucketLifecycle(ctx context.Context, in *s3api.DeleteBucketLifecycleRequest) (*s3api.DeleteBucketLifecycleOutput, error) {
	if err := s.updateBucket(ctx, deref(in.Bucket), func(b *bucketRecord) error {
		b.Config.Lifecycle = nil
		return nil
	}); err != nil {
		return nil, err
	}
	return &s3api.DeleteBucketLifecycleOutput{}, nil
}

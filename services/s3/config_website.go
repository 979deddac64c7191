package s3

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	s3api "github.com/cloudbox/cloudbox/api/s3"
)

func init() {
	extraHandlers = append(extraHandlers, func(s *Service, h *s3api.Handlers) {
		h.GetBucketWebsite = s.getBucketWebsite
		h.PutBucketWebsite = s.putBucketWebsite
		h.DeleteBucketWebsite = s.deleteBucketWebsite
	})
}

// maxRoutingRules is how many routing rules a website may have.
const maxRoutingRules = 50

func invalidProtocol(p *string) error {
	if p == nil || *p == "http" || *p == "https" {
		return nil
	}
	return invalidRequest("Invalid protocol, protocol can be http or https. If not defined the protocol will be selected automatically.")
}

// checkWebsite applies S3's rules for a website configuration.
func checkWebsite(w *s3api.WebsiteConfiguration) error {
	if w == nil {
		return malformedXML()
	}
	if to := w.RedirectAllRequestsTo; to != nil {
		if w.IndexDocument != nil || w.ErrorDocument != nil || w.RoutingRules != nil {
			return invalidArgument("RedirectAllRequestsTo", "not null", "RedirectAllRequestsTo cannot be provided in conjunction with other Routing Rules.")
		}
		if deref(to.HostName) == "" {
			return malformedXML()
		}
		return invalidProtocol(to.Protocol)
	}
	if w.IndexDocument == nil {
		return invalidArgument("IndexDocument", "null", "A value for IndexDocument Suffix must be provided if RedirectAllRequestsTo is empty")
	}
	if suffix := deref(w.IndexDocument.Suffix); suffix == "" || strings.Contains(suffix, "/") {
		return invalidArgument("IndexDocument", suffix, "The IndexDocument Suffix is not well formed")
	}
	if w.ErrorDocument != nil && deref(w.ErrorDocument.Key) == "" {
		return malformedXML()
	}
	if w.RoutingRules != nil && len(w.RoutingRules) == 0 || len(w.RoutingRules) > maxRoutingRules {
		return malformedXML()
	}
	for _, r := range w.RoutingRules {
		if r == nil || r.Redirect == nil {
			return malformedXML()
		}
		if c := r.Condition; c != nil {
			if c.KeyPrefixEquals == nil && c.HttpErrorCodeReturnedEquals == nil {
				return invalidRequest("Condition cannot be empty. To redirect all requests without a condition, the condition element shouldn't be present.")
			}
			if code := c.HttpErrorCodeReturnedEquals; code != nil {
				if n, err := strconv.Atoi(*code); err != nil || n < 400 || n > 599 {
					return invalidRequest("The provided HTTP error code (%s) is not valid. Valid codes are 4XX or 5XX.", *code)
				}
			}
		}
		to := r.Redirect
		if to.ReplaceKeyWith != nil && to.ReplaceKeyPrefixWith != nil {
			return invalidRequest("You can only define ReplaceKeyPrefix or ReplaceKey but not both.")
		}
		if err := invalidProtocol(to.Protocol); err != nil {
			return err
		}
		if code := to.HttpRedirectCode; code != nil {
			if n, err := strconv.Atoi(*code); err != nil || n < 301 || n > 399 {
				return invalidRequest("The provided HTTP redirect code (%s) is not valid. Valid codes are 3XX except 300.", *code)
			}
		}
	}
	return nil
}

func (s *Service) getBucketWebsite(ctx context.Context, in *s3api.GetBucketWebsiteRequest) (*s3api.GetBucketWebsiteOutput, error) {
	b, err := s.viewBucket(ctx, deref(in.Bucket))
	if err != nil {
		return nil, err
	}
	w := b.Config.Website
	if w == nil {
		return nil, errorf(http.StatusNotFound, "NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration").With("BucketName", b.Name)
	}
	return &s3api.GetBucketWebsiteOutput{IndexDocument: w.IndexDocument, ErrorDocument: w.ErrorDocument,
		RedirectAllRequestsTo: w.RedirectAllRequestsTo, RoutingRules: w.RoutingRules}, nil
}

func (s *Service) putBucketWebsite(ctx context.Context, in *s3api.PutBucketWebsiteRequest) (*s3api.PutBucketWebsiteOutput, error) {
	if err := checkWebsite(in.WebsiteConfiguration); err != nil {
		return nil, err
	}
	if err := s.updateBucket(ctx, deref(in.Bucket), func(b *bucketRecord) error {
		b.Config.Website = in.WebsiteConfiguration
		return nil
	}); err != nil {
		return nil, err
	}
	return &s3api.PutBucketWebsiteOutput{}, nil
}

func (s *Service) deleteBucketWebsite(ctx context.Context, in *s3api.DeleteBucketWebsiteRequest) (*s3api.DeleteBucketWebsiteOutput, error) {
	if err := s.updateBucket(ctx, deref(in.Bucket), func(b *bucketRecord) error {
		b.Config.Website = nil
		return nil
	}); err != nil {
		return nil, err
	}
	return &s3api.DeleteBucketWebsiteOutput{}, nil
}

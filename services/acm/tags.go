package acm

import (
	"context"
	"slices"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	acmapi "github.com/cloudbox/cloudbox/api/acm"
	"github.com/cloudbox/cloudbox/store"
)

// maxTags is how many tags a certificate may carry.
const maxTags = 50

// checkTags refuses tags in the namespace AWS reserves.
func checkTags(tags []*acmapi.Tag) error {
	for _, t := range tags {
		if strings.HasPrefix(strings.ToLower(deref(t.Key)), "aws:") {
			return api.Errorf("InvalidTagException", "Tag key %s uses the reserved prefix aws:.", deref(t.Key))
		}
	}
	return nil
}

// mergeTags returns have with add applied: a key already there takes the
// new value.
func mergeTags(have, add []*acmapi.Tag) []*acmapi.Tag {
	for _, t := range add {
		i := slices.IndexFunc(have, func(h *acmapi.Tag) bool { return deref(h.Key) == deref(t.Key) })
		nt := &acmapi.Tag{Key: t.Key, Value: t.Value}
		if i >= 0 {
			have[i] = nt
		} else {
			have = append(have, nt)
		}
	}
	return have
}

func (s *Service) addTags(ctx context.Context, in *acmapi.AddTagsToCertificateRequest) (*acmapi.AddTagsToCertificateOutput, error) {
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	err := s.updateTags(ctx, deref(in.CertificateArn), func(r *certRecord) error {
		tags := mergeTags(slices.Clone(r.Tags), in.Tags)
		if len(tags) > maxTags {
			return api.Errorf("TooManyTagsException", "the TagSet: %d tags exceed the limit of %d tags per certificate", len(tags), maxTags)
		}
		r.Tags = tags
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &acmapi.AddTagsToCertificateOutput{}, nil
}

// removeTags removes each named tag; a tag given with a value is removed
// only if it has that value, as AWS does.
func (s *Service) removeTags(ctx context.Context, in *acmapi.RemoveTagsFromCertificateRequest) (*acmapi.RemoveTagsFromCertificateOutput, error) {
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	err := s.updateTags(ctx, deref(in.CertificateArn), func(r *certRecord) error {
		r.Tags = slices.DeleteFunc(r.Tags, func(h *acmapi.Tag) bool {
			return slices.ContainsFunc(in.Tags, func(t *acmapi.Tag) bool {
				return deref(t.Key) == deref(h.Key) && (t.Value == nil || deref(t.Value) == deref(h.Value))
			})
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &acmapi.RemoveTagsFromCertificateOutput{}, nil
}

func (s *Service) updateTags(ctx context.Context, certARN string, change func(*certRecord) error) error {
	sc := scopeOf(ctx)
	return s.store.Update(func(tx *store.Tx) error {
		r, err := s.load(tx, sc, certARN)
		if err != nil {
			return err
		}
		if err := change(r); err != nil {
			return err
		}
		return s.save(tx, sc, r)
	})
}

func (s *Service) listTags(ctx context.Context, in *acmapi.ListTagsForCertificateRequest) (*acmapi.ListTagsForCertificateResponse, error) {
	r, err := s.view(ctx, deref(in.CertificateArn))
	if err != nil {
		return nil, err
	}
	return &acmapi.ListTagsForCertificateResponse{Tags: r.Tags}, nil
}

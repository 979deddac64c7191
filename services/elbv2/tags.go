package elbv2

import (
	"context"
	"slices"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	elbv2api "github.com/cloudbox/cloudbox/api/elbv2"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/store"
)

func (s *Service) registerTags(h *elbv2api.Handlers) {
	h.AddTags = s.AddTags
	h.RemoveTags = s.RemoveTags
	h.DescribeTags = s.DescribeTags
}

// maxTags is AWS's quota of tags per resource.
const maxTags = 50

// checkTags refuses tags AWS refuses: reserved keys and repeated keys.
func checkTags(tags []*elbv2api.Tag) error {
	var keys []string
	for _, t := range tags {
		k := deref(t.Key)
		if strings.HasPrefix(strings.ToLower(k), "aws:") {
			return validation("Tag keys starting with 'aws:' are reserved for internal use")
		}
		if slices.Contains(keys, k) {
			return api.Errorf("DuplicateTagKeys", "Tag key '%s' is duplicated", k)
		}
		keys = append(keys, k)
	}
	if len(tags) > maxTags {
		return api.Errorf("TooManyTags", "A resource can have at most %d tags", maxTags)
	}
	return nil
}

// tagged is a resource's tags and how to save them.
type tagged struct {
	tags *[]*elbv2api.Tag
	save func() error
}

// loadTagged finds the resource an ARN names, whatever its type.
func loadTagged(tx *store.Tx, sc scope, resource string) (tagged, error) {
	a, err := arn.Parse(resource)
	if err != nil {
		return tagged{}, validation("'%s' is not a valid resource ARN", resource)
	}
	typ, _, _ := strings.Cut(a.Resource, "/")
	switch typ {
	case "loadbalancer":
		r, err := loadLB(tx, sc, resource)
		if err != nil {
			return tagged{}, err
		}
		return tagged{&r.Tags, func() error { return put(tx, sc, kindLB, r.ID, r) }}, nil
	case "targetgroup":
		r, err := loadTG(tx, sc, resource)
		if err != nil {
			return tagged{}, err
		}
		return tagged{&r.Tags, func() error { return put(tx, sc, kindTG, r.ID, r) }}, nil
	case "listener":
		r, err := loadListener(tx, sc, resource)
		if err != nil {
			return tagged{}, err
		}
		return tagged{&r.Tags, func() error { return put(tx, sc, kindListener, r.ID, r) }}, nil
	case "listener-rule":
		r, l, err := loadRule(tx, sc, resource)
		if err != nil {
			return tagged{}, err
		}
		if r == nil {
			return tagged{&l.DefaultRuleTags, func() error { return put(tx, sc, kindListener, l.ID, l) }}, nil
		}
		return tagged{&r.Tags, func() error { return put(tx, sc, kindRule, r.ID, r) }}, nil
	}
	return tagged{}, validation("'%s' is not a valid resource ARN", resource)
}

func (s *Service) AddTags(ctx context.Context, in *elbv2api.AddTagsInput) (*elbv2api.AddTagsOutput, error) {
	sc := scopeOf(ctx)
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	err := s.store.Update(func(tx *store.Tx) error {
		for _, a := range in.ResourceArns {
			t, err := loadTagged(tx, sc, deref(a))
			if err != nil {
				return err
			}
			for _, tag := range in.Tags {
				i := slices.IndexFunc(*t.tags, func(x *elbv2api.Tag) bool { return deref(x.Key) == deref(tag.Key) })
				if i >= 0 {
					(*t.tags)[i] = tag
				} else {
					*t.tags = append(*t.tags, tag)
				}
			}
			if len(*t.tags) > maxTags {
				return api.Errorf("TooManyTags", "The quota for the number of tags that can be assigned to a resource has been reached")
			}
			if err := t.save(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.AddTagsOutput{}, nil
}

func (s *Service) RemoveTags(ctx context.Context, in *elbv2api.RemoveTagsInput) (*elbv2api.RemoveTagsOutput, error) {
	sc := scopeOf(ctx)
	keys := derefAll(in.TagKeys)
	err := s.store.Update(func(tx *store.Tx) error {
		for _, a := range in.ResourceArns {
			t, err := loadTagged(tx, sc, deref(a))
			if err != nil {
				return err
			}
			*t.tags = slices.DeleteFunc(*t.tags, func(x *elbv2api.Tag) bool { return slices.Contains(keys, deref(x.Key)) })
			if err := t.save(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &elbv2api.RemoveTagsOutput{}, nil
}

func (s *Service) DescribeTags(ctx context.Context, in *elbv2api.DescribeTagsInput) (*elbv2api.DescribeTagsOutput, error) {
	sc := scopeOf(ctx)
	if len(in.ResourceArns) > 20 {
		return nil, validation("At most 20 resource ARNs can be specified")
	}
	out := &elbv2api.DescribeTagsOutput{TagDescriptions: []*elbv2api.TagDescription{}}
	err := s.store.View(func(tx *store.Tx) error {
		for _, a := range in.ResourceArns {
			t, err := loadTagged(tx, sc, deref(a))
			if err != nil {
				return err
			}
			out.TagDescriptions = append(out.TagDescriptions, &elbv2api.TagDescription{ResourceArn: a, Tags: append([]*elbv2api.Tag{}, *t.tags...)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

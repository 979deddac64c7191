package route53

import (
	"context"
	"slices"

	r53api "github.com/cloudbox/cloudbox/api/route53"
	"github.com/cloudbox/cloudbox/store"
)

// tagged is a resource's tags and how to keep them.
type tagged struct {
	id   string
	tags *[]tag
	save func() error
}

// loadTagged loads the hosted zone or health check a tag request names.
func loadTagged(tx *store.Tx, acct, typ, id string) (tagged, error) {
	switch typ {
	case r53api.TagResourceTypeHostedzone:
		z, err := loadZone(tx, acct, bareID(id))
		if err != nil {
			return tagged{}, err
		}
		return tagged{z.ID, &z.Tags, func() error { return saveZone(tx, acct, z) }}, nil
	case r53api.TagResourceTypeHealthcheck:
		h, err := loadHealthCheck(tx, acct, bareID(id))
		if err != nil {
			return tagged{}, err
		}
		return tagged{h.ID, &h.Tags, func() error { return saveHealthCheck(tx, acct, h) }}, nil
	}
	return tagged{}, enumError(typ, "resourceType", []string{r53api.TagResourceTypeHealthcheck, r53api.TagResourceTypeHostedzone})
}

func (s *Service) changeTags(ctx context.Context, in *r53api.ChangeTagsForResourceRequest) (*r53api.ChangeTagsForResourceResponse, error) {
	acct := account(ctx)
	for _, t := range in.AddTags {
		if deref(t.Key) == "" {
			return nil, invalidInput("Invalid request: a tag's Key must be specified and not be empty.")
		}
	}
	err := s.store.Update(func(tx *store.Tx) error {
		r, err := loadTagged(tx, acct, deref(in.ResourceType), deref(in.ResourceId))
		if err != nil {
			return err
		}
		tags := slices.Clone(*r.tags)
		for _, t := range in.AddTags {
			nt := tag{Key: *t.Key, Value: deref(t.Value)}
			if i := slices.IndexFunc(tags, func(h tag) bool { return h.Key == nt.Key }); i >= 0 {
				tags[i] = nt
			} else {
				tags = append(tags, nt)
			}
		}
		for _, k := range in.RemoveTagKeys {
			tags = slices.DeleteFunc(tags, func(t tag) bool { return t.Key == deref(k) })
		}
		if len(tags) > maxTags {
			return invalidInput("Invalid request: a resource can have at most %d tags.", maxTags)
		}
		*r.tags = tags
		return r.save()
	})
	if err != nil {
		return nil, err
	}
	return &r53api.ChangeTagsForResourceResponse{}, nil
}

func tagSet(typ string, r tagged) *r53api.ResourceTagSet {
	ts := &r53api.ResourceTagSet{ResourceType: str(typ), ResourceId: str(r.id), Tags: []*r53api.Tag{}}
	for _, t := range *r.tags {
		ts.Tags = append(ts.Tags, &r53api.Tag{Key: str(t.Key), Value: str(t.Value)})
	}
	return ts
}

func (s *Service) listTags(ctx context.Context, in *r53api.ListTagsForResourceRequest) (*r53api.ListTagsForResourceResponse, error) {
	out := &r53api.ListTagsForResourceResponse{}
	err := s.store.View(func(tx *store.Tx) error {
		r, err := loadTagged(tx, account(ctx), deref(in.ResourceType), deref(in.ResourceId))
		if err == nil {
			out.ResourceTagSet = tagSet(*in.ResourceType, r)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) listTagsForResources(ctx context.Context, in *r53api.ListTagsForResourcesRequest) (*r53api.ListTagsForResourcesResponse, error) {
	out := &r53api.ListTagsForResourcesResponse{ResourceTagSets: []*r53api.ResourceTagSet{}}
	err := s.store.View(func(tx *store.Tx) error {
		for _, id := range in.ResourceIds {
			r, err := loadTagged(tx, account(ctx), deref(in.ResourceType), deref(id))
			if err != nil {
				return err
			}
			out.ResourceTagSets = append(out.ResourceTagSets, tagSet(*in.ResourceType, r))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

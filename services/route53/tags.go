package route53

import (
	"context"
	"slices"

	r53api "github.com/cloudbox/cloudbox/api/route53"
	"github.com/cloudbox/cloudbox/store"
)

// taggedZone loads the hosted zone a tag request names. Health checks are
// not implemented, so none exists.
func taggedZone(tx *store.Tx, acct, typ, id string) (*zoneRecord, error) {
	switch typ {
	case r53api.TagResourceTypeHostedzone:
		return loadZone(tx, acct, bareID(id))
	case r53api.TagResourceTypeHealthcheck:
		return nil, errorf("NoSuchHealthCheck", "No health check exists with the specified ID %s", id)
	}
	return nil, enumError(typ, "resourceType", []string{r53api.TagResourceTypeHealthcheck, r53api.TagResourceTypeHostedzone})
}

func (s *Service) changeTags(ctx context.Context, in *r53api.ChangeTagsForResourceRequest) (*r53api.ChangeTagsForResourceResponse, error) {
	acct := account(ctx)
	for _, t := range in.AddTags {
		if deref(t.Key) == "" {
			return nil, invalidInput("Invalid request: a tag's Key must be specified and not be empty.")
		}
	}
	err := s.store.Update(func(tx *store.Tx) error {
		z, err := taggedZone(tx, acct, deref(in.ResourceType), deref(in.ResourceId))
		if err != nil {
			return err
		}
		tags := slices.Clone(z.Tags)
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
		z.Tags = tags
		return saveZone(tx, acct, z)
	})
	if err != nil {
		return nil, err
	}
	return &r53api.ChangeTagsForResourceResponse{}, nil
}

func tagSet(typ string, z *zoneRecord) *r53api.ResourceTagSet {
	ts := &r53api.ResourceTagSet{ResourceType: str(typ), ResourceId: str(z.ID), Tags: []*r53api.Tag{}}
	for _, t := range z.Tags {
		ts.Tags = append(ts.Tags, &r53api.Tag{Key: str(t.Key), Value: str(t.Value)})
	}
	return ts
}

func (s *Service) listTags(ctx context.Context, in *r53api.ListTagsForResourceRequest) (*r53api.ListTagsForResourceResponse, error) {
	out := &r53api.ListTagsForResourceResponse{}
	err := s.store.View(func(tx *store.Tx) error {
		z, err := taggedZone(tx, account(ctx), deref(in.ResourceType), deref(in.ResourceId))
		if err == nil {
			out.ResourceTagSet = tagSet(*in.ResourceType, z)
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
			z, err := taggedZone(tx, account(ctx), deref(in.ResourceType), deref(id))
			if err != nil {
				return err
			}
			out.ResourceTagSets = append(out.ResourceTagSets, tagSet(*in.ResourceType, z))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

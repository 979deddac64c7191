package elasticache

import (
	"context"
	"slices"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	ecapi "github.com/cloudbox/cloudbox/api/elasticache"
	"github.com/cloudbox/cloudbox/store"
)

// Tags are kept apart from the resources, by the resource part of their
// ARN ("replicationgroup:my-rg"), in the order they were first set.
const kindTags = "elasticache:tags"

type tag struct{ Key, Value string }

// maxTags is AWS's limit of tags per resource.
const maxTags = 50

func (s *Service) registerTags(h *ecapi.Handlers) {
	h.AddTagsToResource = s.addTags
	h.RemoveTagsFromResource = s.removeTags
	h.ListTagsForResource = s.listTags
}

func setTags(tx *store.Tx, sc scope, res string, add []*ecapi.Tag) error {
	var have []tag
	if _, err := tx.Get(sc.key(kindTags, res), &have); err != nil {
		return err
	}
	for _, t := range add {
		k, v := deref(t.Key), deref(t.Value)
		if k == "" {
			return invalidValue("Tag key must not be empty.")
		}
		if i := slices.IndexFunc(have, func(h tag) bool { return h.Key == k }); i >= 0 {
			have[i].Value = v
		} else {
			have = append(have, tag{k, v})
		}
	}
	if len(have) > maxTags {
		return api.Errorf("TagQuotaPerResourceExceeded", "The request cannot be processed because it would cause the resource to have more than the allowed number of tags. The maximum number of tags permitted on a resource is %d.", maxTags)
	}
	if len(have) == 0 {
		return nil
	}
	return tx.Put(sc.key(kindTags, res), have)
}

func dropTags(tx *store.Tx, sc scope, res string) error {
	_, err := tx.Delete(sc.key(kindTags, res))
	return err
}

func tagList(tx *store.Tx, sc scope, res string) ([]*ecapi.Tag, error) {
	var have []tag
	_, err := tx.Get(sc.key(kindTags, res), &have)
	out := []*ecapi.Tag{}
	for _, t := range have {
		out = append(out, &ecapi.Tag{Key: str(t.Key), Value: str(t.Value)})
	}
	return out, err
}

// taggable resolves an ARN to the resource part tags are kept under,
// checking the resource exists.
func taggable(tx *store.Tx, sc scope, arn string) (string, error) {
	prefix := "arn:aws:elasticache:" + sc.region + ":" + sc.account + ":"
	res, ok := strings.CutPrefix(arn, prefix)
	typ, id, ok2 := strings.Cut(res, ":")
	if !ok || !ok2 || id == "" {
		return "", api.Errorf("InvalidARN", "%s is not a valid ARN.", arn)
	}
	var found bool
	var err error
	switch typ {
	case "replicationgroup":
		found, err = tx.Get(sc.key(kindRG, id), &replicationGroup{})
		if !found && err == nil {
			return "", rgNotFound(id)
		}
	case "cluster":
		if found, err = clusterIDTaken(tx, sc, id); err == nil && !found {
			return "", api.NewError(404, "CacheClusterNotFound", "CacheCluster not found: %s", id)
		}
	case "subnetgroup":
		found, err = tx.Get(sc.key(kindSubnetGroup, id), &subnetGroup{})
		if !found && err == nil {
			return "", subnetGroupNotFound(id)
		}
	case "parametergroup":
		_, err = loadParamGroup(tx, sc, id)
		found = err == nil
	default:
		return "", api.Errorf("InvalidARN", "%s is not a valid ARN.", arn)
	}
	if err != nil {
		return "", err
	}
	return typ + ":" + id, nil
}

func (s *Service) addTags(ctx context.Context, in *ecapi.AddTagsToResourceMessage) (*ecapi.TagListMessage, error) {
	sc := scopeOf(ctx)
	out := &ecapi.TagListMessage{}
	err := s.store.Update(func(tx *store.Tx) error {
		res, err := taggable(tx, sc, deref(in.ResourceName))
		if err != nil {
			return err
		}
		if err := setTags(tx, sc, res, in.Tags); err != nil {
			return err
		}
		out.TagList, err = tagList(tx, sc, res)
		return err
	})
	return out, err
}

func (s *Service) removeTags(ctx context.Context, in *ecapi.RemoveTagsFromResourceMessage) (*ecapi.TagListMessage, error) {
	sc := scopeOf(ctx)
	out := &ecapi.TagListMessage{}
	err := s.store.Update(func(tx *store.Tx) error {
		res, err := taggable(tx, sc, deref(in.ResourceName))
		if err != nil {
			return err
		}
		var have []tag
		if _, err := tx.Get(sc.key(kindTags, res), &have); err != nil {
			return err
		}
		for _, k := range in.TagKeys {
			i := slices.IndexFunc(have, func(h tag) bool { return h.Key == deref(k) })
			if i < 0 {
				return api.NewError(404, "TagNotFound", "Tag with key %s not found.", deref(k))
			}
			have = slices.Delete(have, i, i+1)
		}
		if err := tx.Put(sc.key(kindTags, res), have); err != nil {
			return err
		}
		out.TagList, err = tagList(tx, sc, res)
		return err
	})
	return out, err
}

func (s *Service) listTags(ctx context.Context, in *ecapi.ListTagsForResourceMessage) (*ecapi.TagListMessage, error) {
	sc := scopeOf(ctx)
	out := &ecapi.TagListMessage{}
	err := s.store.View(func(tx *store.Tx) error {
		res, err := taggable(tx, sc, deref(in.ResourceName))
		if err != nil {
			return err
		}
		out.TagList, err = tagList(tx, sc, res)
		return err
	})
	return out, err
}

package rds

import (
	"context"
	"slices"
	"strings"

	rdsapi "github.com/cloudbox/cloudbox/api/rds"
	"github.com/cloudbox/cloudbox/store"
)

// withTags loads the resource an ARN names in tx, lets edit change its
// tags, and stores it back when write is set.
func withTags(tx *store.Tx, sc scope, arn string, write bool, edit func(*[]tag)) error {
	prefix := "arn:aws:rds:" + sc.region + ":" + sc.account + ":"
	kind, name, ok := strings.Cut(strings.TrimPrefix(arn, prefix), ":")
	if !strings.HasPrefix(arn, prefix) || !ok {
		return invalidValue("The specified resource name does not match an RDS resource in this region.")
	}
	switch kind {
	case "db":
		r, err := loadInstance(tx, sc, name)
		if err != nil {
			return err
		}
		edit(&r.Tags)
		if write {
			return tx.Put(sc.key(kindInstance, r.ID), r)
		}
	case "subgrp":
		g, err := loadSubnetGroup(tx, sc, name)
		if err != nil {
			return err
		}
		edit(&g.Tags)
		if write {
			return tx.Put(sc.key(kindSubnetGroup, g.Name), g)
		}
	case "snapshot":
		snap, _, err := loadSnapshot(tx, sc, name)
		if err != nil {
			return err
		}
		edit(&snap.Tags)
		if write {
			return tx.Put(sc.snapshotKey(snap.ID), snap)
		}
	case "pg":
		g, err := loadParamGroup(tx, sc, name)
		if err != nil {
			return err
		}
		if isDefaultGroup(g.Name) { // AWS's own, not the account's
			return invalidValue("The specified resource name does not match an RDS resource in this region.")
		}
		edit(&g.Tags)
		if write {
			return tx.Put(sc.key(kindParamGroup, g.Name), g)
		}
	default:
		return invalidValue("The specified resource name does not match an RDS resource in this region.")
	}
	return nil
}

// setTags adds or replaces tags by key (at most 50 on a resource).
func setTags(tags *[]tag, add []tag) error {
	for _, t := range add {
		if i := slices.IndexFunc(*tags, func(o tag) bool { return o.Key == t.Key }); i >= 0 {
			(*tags)[i].Value = t.Value
		} else {
			*tags = append(*tags, t)
		}
	}
	if len(*tags) > 50 {
		return fault("TagQuotaPerResourceExceeded", "Cannot have more than 50 tags per resource.")
	}
	return nil
}

func (s *Service) AddTagsToResource(ctx context.Context, in *rdsapi.AddTagsToResourceMessage) (*rdsapi.AddTagsToResourceOutput, error) {
	sc := scopeOf(ctx)
	for _, t := range in.Tags {
		if k := deref(t.Key); k == "" || len(k) > 128 || strings.HasPrefix(k, "aws:") || strings.HasPrefix(k, "rds:") || len(deref(t.Value)) > 256 {
			return nil, invalidValue("Invalid tag key or value: a key is 1 to 128 characters, not starting with aws: or rds:, and a value at most 256.")
		}
	}
	err := s.store.Update(func(tx *store.Tx) error {
		var err error
		if e := withTags(tx, sc, deref(in.ResourceName), true, func(tags *[]tag) { err = setTags(tags, toTags(in.Tags)) }); e != nil {
			return e
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.AddTagsToResourceOutput{}, nil
}

func (s *Service) ListTagsForResource(ctx context.Context, in *rdsapi.ListTagsForResourceMessage) (*rdsapi.TagListMessage, error) {
	sc := scopeOf(ctx)
	out := &rdsapi.TagListMessage{TagList: []*rdsapi.Tag{}}
	err := s.store.View(func(tx *store.Tx) error {
		return withTags(tx, sc, deref(in.ResourceName), false, func(tags *[]tag) { out.TagList = apiTags(*tags) })
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) RemoveTagsFromResource(ctx context.Context, in *rdsapi.RemoveTagsFromResourceMessage) (*rdsapi.RemoveTagsFromResourceOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		return withTags(tx, sc, deref(in.ResourceName), true, func(tags *[]tag) {
			*tags = slices.DeleteFunc(*tags, func(t tag) bool {
				return slices.ContainsFunc(in.TagKeys, func(k *string) bool { return deref(k) == t.Key })
			})
		})
	})
	if err != nil {
		return nil, err
	}
	return &rdsapi.RemoveTagsFromResourceOutput{}, nil
}

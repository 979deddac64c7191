package ec2

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/store"
)

const maxTags = 50

func (s *Service) registerTags(h *ec2api.Handlers) {
	h.CreateTags = s.CreateTags
	h.DeleteTags = s.DeleteTags
	h.DescribeTags = s.DescribeTags
}

// tagField is the member of a record holding its tags (TagSet on ENIs).
func tagField(k *kind) string {
	if k == kindENI {
		return "TagSet"
	}
	return "Tags"
}

// tagged is a record read generically, to change its tags whatever its type.
type tagged struct {
	raw  map[string]json.RawMessage
	tags []*ec2api.Tag
}

func loadTagged(tx *store.Tx, sc scope, id string) (*kind, *tagged, error) {
	k := kindOfID(id)
	if k == nil {
		return nil, nil, api.Errorf("InvalidID", "The ID '%s' is not valid", id)
	}
	var t tagged
	ok, err := tx.Get(sc.key(k, id), &t.raw)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		if err := k.checkID(id); err != nil {
			return nil, nil, err
		}
		return nil, nil, k.notFoundError(id)
	}
	if b, ok := t.raw[tagField(k)]; ok {
		if err := json.Unmarshal(b, &t.tags); err != nil {
			return nil, nil, err
		}
	}
	return k, &t, nil
}

func (t *tagged) save(tx *store.Tx, sc scope, k *kind, id string) error {
	b, err := json.Marshal(t.tags)
	if err != nil {
		return err
	}
	t.raw[tagField(k)] = b
	return tx.Put(sc.key(k, id), t.raw)
}

// retag applies change to the tags of resource id: a record of any kind,
// or a security group rule, whose tags live in its group's record.
func retag(tx *store.Tx, sc scope, id string, change func([]*ec2api.Tag) ([]*ec2api.Tag, error)) error {
	if strings.HasPrefix(id, "sgr-") {
		g, i, err := groupOfRule(tx, sc, id)
		if err != nil {
			return err
		}
		if g.Rules[i].Tags, err = change(g.Rules[i].Tags); err != nil {
			return err
		}
		return save(tx, sc, kindSG, *g.GroupId, g)
	}
	k, t, err := loadTagged(tx, sc, id)
	if err != nil {
		return err
	}
	if t.tags, err = change(t.tags); err != nil {
		return err
	}
	return t.save(tx, sc, k, id)
}

// groupOfRule finds the group holding a rule and the rule's index in it.
func groupOfRule(tx *store.Tx, sc scope, id string) (*securityGroupRecord, int, error) {
	enc := []byte(`"SecurityGroupRuleId":"` + id + `"`)
	groups, err := listMatching[securityGroupRecord](tx, sc, kindSG, func(raw []byte) bool { return bytes.Contains(raw, enc) })
	if err != nil {
		return nil, 0, err
	}
	for _, g := range groups {
		for i, r := range g.Rules {
			if deref(r.SecurityGroupRuleId) == id {
				return g, i, nil
			}
		}
	}
	return nil, 0, ruleNotFound(id)
}

func validateTags(tags []*ec2api.Tag) error {
	for _, t := range tags {
		if t == nil || t.Key == nil {
			return api.Errorf("InvalidParameterValue", "Tag key must not be null")
		}
		if strings.HasPrefix(strings.ToLower(*t.Key), "aws:") {
			return api.Errorf("InvalidParameterValue", "Tag keys starting with 'aws:' are reserved for internal use")
		}
		if len(*t.Key) > 128 {
			return api.Errorf("InvalidParameterValue", "Tag key exceeds the maximum length of 128 characters")
		}
		if t.Value != nil && len(*t.Value) > 256 {
			return api.Errorf("InvalidParameterValue", "Tag value exceeds the maximum length of 256 characters")
		}
	}
	return nil
}

// mergeTags sets each tag of add on tags, replacing same keys.
func mergeTags(tags, add []*ec2api.Tag) ([]*ec2api.Tag, error) {
	for _, a := range add {
		v := deref(a.Value)
		replaced := false
		for _, t := range tags {
			if deref(t.Key) == *a.Key {
				t.Value = &v
				replaced = true
			}
		}
		if !replaced {
			tags = append(tags, &ec2api.Tag{Key: a.Key, Value: &v})
		}
	}
	if len(tags) > maxTags {
		return nil, api.Errorf("TagLimitExceeded", "The maximum number of tags for a resource is %d", maxTags)
	}
	return tags, nil
}

// tagsFor returns the tags a TagSpecification list gives to a resource of
// resourceType, checking that every specification names a type the
// operation creates.
func tagsFor(specs []*ec2api.TagSpecification, resourceType string, allowed ...string) ([]*ec2api.Tag, error) {
	var tags []*ec2api.Tag
	for _, sp := range specs {
		rt := deref(sp.ResourceType)
		ok := rt == resourceType
		for _, a := range allowed {
			ok = ok || rt == a
		}
		if !ok {
			return nil, api.Errorf("InvalidParameterValue", "'%s' is not a valid taggable resource type for this operation.", rt)
		}
		if rt != resourceType {
			continue
		}
		if err := validateTags(sp.Tags); err != nil {
			return nil, err
		}
		var err error
		if tags, err = mergeTags(tags, sp.Tags); err != nil {
			return nil, err
		}
	}
	return tags, nil
}

func (s *Service) CreateTags(ctx context.Context, in *ec2api.CreateTagsRequest) (*ec2api.CreateTagsOutput, error) {
	sc := scopeOf(ctx)
	if len(in.Resources) == 0 {
		return nil, api.Errorf("MissingParameter", "The request must contain the parameter resourceIdSet")
	}
	if err := validateTags(in.Tags); err != nil {
		return nil, err
	}
	err := s.store.Update(func(tx *store.Tx) error {
		for _, id := range in.Resources {
			err := retag(tx, sc, deref(id), func(tags []*ec2api.Tag) ([]*ec2api.Tag, error) {
				if err := dryRun(in.DryRun); err != nil {
					return nil, err
				}
				return mergeTags(tags, in.Tags)
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.CreateTagsOutput{}, nil
}

func (s *Service) DeleteTags(ctx context.Context, in *ec2api.DeleteTagsRequest) (*ec2api.DeleteTagsOutput, error) {
	sc := scopeOf(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		for _, id := range in.Resources {
			err := retag(tx, sc, deref(id), func(tags []*ec2api.Tag) ([]*ec2api.Tag, error) {
				if err := dryRun(in.DryRun); err != nil {
					return nil, err
				}
				kept := tags[:0]
				for _, tag := range tags {
					if !tagDeleted(tag, in.Tags) {
						kept = append(kept, tag)
					}
				}
				return kept, nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ec2api.DeleteTagsOutput{}, nil
}

// tagDeleted applies DeleteTags semantics: no tags given deletes all; a
// tag without a value deletes the key; with a value, only that pair.
func tagDeleted(tag *ec2api.Tag, del []*ec2api.Tag) bool {
	if len(del) == 0 {
		return true
	}
	for _, d := range del {
		if deref(d.Key) == deref(tag.Key) && (d.Value == nil || *d.Value == deref(tag.Value)) {
			return true
		}
	}
	return false
}

func (s *Service) DescribeTags(ctx context.Context, in *ec2api.DescribeTagsRequest) (*ec2api.DescribeTagsResult, error) {
	sc := scopeOf(ctx)
	var all []*ec2api.TagDescription
	err := s.store.View(func(tx *store.Tx) error {
		for _, k := range kinds {
			err := tx.List(sc.account, sc.region, k.store, func(id string, raw []byte) error {
				var rec map[string]json.RawMessage
				if err := json.Unmarshal(raw, &rec); err != nil {
					return err
				}
				var tags []*ec2api.Tag
				if b, ok := rec[tagField(k)]; ok {
					if err := json.Unmarshal(b, &tags); err != nil {
						return err
					}
				}
				for _, t := range tags {
					all = append(all, &ec2api.TagDescription{Key: t.Key, Value: t.Value, ResourceId: str(id), ResourceType: str(k.resourceType)})
				}
				if b, ok := rec["Rules"]; ok && k == kindSG {
					var rules []*ec2api.SecurityGroupRule
					if err := json.Unmarshal(b, &rules); err != nil {
						return err
					}
					for _, r := range rules {
						for _, t := range r.Tags {
							all = append(all, &ec2api.TagDescription{Key: t.Key, Value: t.Value, ResourceId: r.SecurityGroupRuleId, ResourceType: str("security-group-rule")})
						}
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	fs := fields[ec2api.TagDescription]{
		"key":           func(t *ec2api.TagDescription) []string { return one(t.Key) },
		"value":         func(t *ec2api.TagDescription) []string { return one(t.Value) },
		"resource-id":   func(t *ec2api.TagDescription) []string { return one(t.ResourceId) },
		"resource-type": func(t *ec2api.TagDescription) []string { return one(t.ResourceType) },
	}
	noTags := func(*ec2api.TagDescription) []*ec2api.Tag { return nil }
	var matched []*ec2api.TagDescription
	for _, t := range all {
		ok, err := matchFilters(in.Filters, t, noTags, fs)
		if err != nil {
			return nil, err
		}
		if ok {
			matched = append(matched, t)
		}
	}
	key := func(t *ec2api.TagDescription) string { return *t.ResourceId + "\x00" + *t.Key }
	sort.Slice(matched, func(i, j int) bool { return key(matched[i]) < key(matched[j]) })
	page, next, err := paginate(matched, key, in.MaxResults, in.NextToken)
	if err != nil {
		return nil, err
	}
	return &ec2api.DescribeTagsResult{Tags: page, NextToken: next}, nil
}

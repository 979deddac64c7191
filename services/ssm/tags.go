package ssm

import (
	"context"
	"regexp"
	"slices"
	"strings"

	"github.com/cloudbox/cloudbox/api"
	ssmapi "github.com/cloudbox/cloudbox/api/ssm"
	"github.com/cloudbox/cloudbox/store"
)

// tagPattern is the model's pattern for tag keys and values.
const tagPattern = `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`

var tagRE = regexp.MustCompile(tagPattern)

// checkTags refuses keys and values the model's pattern refuses.
func checkTags(tags []*ssmapi.Tag, member string) error {
	for i, t := range tags {
		for _, f := range [2][2]string{{"key", deref(t.Key)}, {"value", deref(t.Value)}} {
			if !tagRE.MatchString(f[1]) {
				return validationError("1 validation error detected: Value '%s' at '%s.%d.member.%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", f[1], member, i+1, f[0], tagPattern)
			}
		}
	}
	return nil
}

// tagsOf returns the tags given, a key given twice keeping its last value.
func tagsOf(in []*ssmapi.Tag) []tag {
	var out []tag
	for _, t := range in {
		out = mergeTag(out, tag{Key: deref(t.Key), Value: deref(t.Value)})
	}
	return out
}

func mergeTag(have []tag, t tag) []tag {
	if i := slices.IndexFunc(have, func(h tag) bool { return h.Key == t.Key }); i >= 0 {
		have[i] = t
		return have
	}
	return append(have, t)
}

func tooManyTags() error {
	return api.Errorf("TooManyTagsError", "A parameter can have at most %d tags.", maxTags)
}

// The resource types a tag request may name; cloudbox has parameters only,
// so every other type names a resource that does not exist.
var resourceTypes = []string{"Document", "ManagedInstance", "MaintenanceWindow", "Parameter", "PatchBaseline", "OpsItem", "OpsMetadata", "Automation", "Association"}

// loadTagged reads the parameter a tag request names; AWS answers
// InvalidResourceId, without a message, for one that does not exist.
func loadTagged(tx *store.Tx, sc scope, typ, id string) (*paramRecord, error) {
	if !slices.Contains(resourceTypes, typ) {
		return nil, enumError(typ, "resourceType", strings.Join(resourceTypes, ", "))
	}
	invalid := api.Errorf("InvalidResourceId", "")
	if typ != ssmapi.ResourceTypeForTaggingParameter || !validName(id) || isPublic(id) {
		return nil, invalid
	}
	p, err := load(tx, sc, id)
	if err == nil && p == nil {
		err = invalid
	}
	return p, err
}

func (s *Service) updateTags(ctx context.Context, typ, id string, change func(*paramRecord) error) error {
	sc := scopeOf(ctx)
	return s.store.Update(func(tx *store.Tx) error {
		p, err := loadTagged(tx, sc, typ, id)
		if err != nil {
			return err
		}
		if err := change(p); err != nil {
			return err
		}
		return save(tx, sc, p)
	})
}

func (s *Service) addTags(ctx context.Context, in *ssmapi.AddTagsToResourceRequest) (*ssmapi.AddTagsToResourceResult, error) {
	if err := checkTags(in.Tags, "tags"); err != nil {
		return nil, err
	}
	err := s.updateTags(ctx, deref(in.ResourceType), deref(in.ResourceId), func(p *paramRecord) error {
		tags := slices.Clone(p.Tags)
		for _, t := range tagsOf(in.Tags) {
			tags = mergeTag(tags, t)
		}
		if len(tags) > maxTags {
			return tooManyTags()
		}
		p.Tags = tags
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ssmapi.AddTagsToResourceResult{}, nil
}

func (s *Service) removeTags(ctx context.Context, in *ssmapi.RemoveTagsFromResourceRequest) (*ssmapi.RemoveTagsFromResourceResult, error) {
	keys := derefAll(in.TagKeys)
	err := s.updateTags(ctx, deref(in.ResourceType), deref(in.ResourceId), func(p *paramRecord) error {
		p.Tags = slices.DeleteFunc(p.Tags, func(t tag) bool { return slices.Contains(keys, t.Key) })
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ssmapi.RemoveTagsFromResourceResult{}, nil
}

func (s *Service) listTags(ctx context.Context, in *ssmapi.ListTagsForResourceRequest) (*ssmapi.ListTagsForResourceResult, error) {
	sc := scopeOf(ctx)
	out := &ssmapi.ListTagsForResourceResult{TagList: []*ssmapi.Tag{}}
	err := s.store.View(func(tx *store.Tx) error {
		p, err := loadTagged(tx, sc, deref(in.ResourceType), deref(in.ResourceId))
		if err != nil {
			return err
		}
		for _, t := range p.Tags {
			out.TagList = append(out.TagList, &ssmapi.Tag{Key: str(t.Key), Value: str(t.Value)})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

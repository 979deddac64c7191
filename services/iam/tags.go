package iam

import (
	"context"
	"slices"
	"strconv"
	"strings"

	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/store"
)

// maxTags is the number of tags an IAM resource may carry.
const maxTags = 50

// checkTags checks tags given to a resource: their patterns (the model
// checks lengths) and that no key is given twice, without regard to case as
// IAM compares keys.
func checkTags(in []*iamapi.Tag) error {
	seen := map[string]bool{}
	for i, t := range in {
		k, v := deref(t.Key), deref(t.Value)
		if !tagKeyRE.MatchString(k) {
			return patternError("tags."+strconv.Itoa(i+1)+".member.key", k, tagKeyPattern)
		}
		if !tagValueRE.MatchString(v) {
			return patternError("tags."+strconv.Itoa(i+1)+".member.value", v, tagValuePattern)
		}
		lk := strings.ToLower(k)
		if seen[lk] {
			return errorf("InvalidInput", "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[lk] = true
	}
	return nil
}

// mergeTags sets tags on have: a key present in any case takes the new
// key and value, others are added after.
func mergeTags(have []tag, in []*iamapi.Tag) ([]tag, error) {
	if err := checkTags(in); err != nil {
		return nil, err
	}
	out := slices.Clone(have)
	for _, t := range in {
		nt := tag{Key: deref(t.Key), Value: deref(t.Value)}
		if i := slices.IndexFunc(out, func(h tag) bool { return strings.EqualFold(h.Key, nt.Key) }); i >= 0 {
			out[i] = nt
		} else {
			out = append(out, nt)
		}
	}
	if len(out) > maxTags {
		return nil, limitExceeded("The number of tags has reached the maximum limit.")
	}
	return out, nil
}

// removeTags removes the keys given, in any case; absent keys are not an
// error.
func removeTags(have []tag, keys []*string) []tag {
	return slices.DeleteFunc(slices.Clone(have), func(t tag) bool {
		return slices.ContainsFunc(keys, func(k *string) bool { return strings.EqualFold(deref(k), t.Key) })
	})
}

func apiTags(tags []tag) []*iamapi.Tag {
	out := []*iamapi.Tag{}
	for _, t := range tags {
		out = append(out, &iamapi.Tag{Key: str(t.Key), Value: str(t.Value)})
	}
	return out
}

// newTags are the tags a Create call gives, checked.
func newTags(in []*iamapi.Tag) ([]tag, error) {
	return mergeTags(nil, in)
}

// tagging is a tagged resource loaded in a transaction: its tags and how to
// keep them.
type tagging struct {
	tags *[]tag
	save func() error
}

func userTagging(tx *store.Tx, acct, name string) (tagging, error) {
	u, err := loadUser(tx, acct, name)
	if err != nil {
		return tagging{}, err
	}
	return tagging{&u.Tags, func() error { return users.save(tx, acct, u) }}, nil
}

func roleTagging(tx *store.Tx, acct, name string) (tagging, error) {
	r, err := loadRole(tx, acct, name)
	if err != nil {
		return tagging{}, err
	}
	return tagging{&r.Tags, func() error { return roles.save(tx, acct, r) }}, nil
}

func profileTagging(tx *store.Tx, acct, name string) (tagging, error) {
	p, err := loadProfile(tx, acct, name)
	if err != nil {
		return tagging{}, err
	}
	return tagging{&p.Tags, func() error { return tx.Put(key(acct, kindProfile, p.Name), p) }}, nil
}

func policyTagging(tx *store.Tx, acct, policyARN string) (tagging, error) {
	p, err := customerPolicy(tx, acct, policyARN)
	if err != nil {
		return tagging{}, err
	}
	return tagging{&p.Tags, func() error { return savePolicy(tx, acct, p) }}, nil
}

type loader func(tx *store.Tx, acct, id string) (tagging, error)

func (s *Service) tag(ctx context.Context, load loader, id string, in []*iamapi.Tag) error {
	acct := account(ctx)
	return s.store.Update(func(tx *store.Tx) error {
		t, err := load(tx, acct, id)
		if err != nil {
			return err
		}
		if *t.tags, err = mergeTags(*t.tags, in); err != nil {
			return err
		}
		return t.save()
	})
}

func (s *Service) untag(ctx context.Context, load loader, id string, keys []*string) error {
	acct := account(ctx)
	return s.store.Update(func(tx *store.Tx) error {
		t, err := load(tx, acct, id)
		if err != nil {
			return err
		}
		*t.tags = removeTags(*t.tags, keys)
		return t.save()
	})
}

func (s *Service) listTags(ctx context.Context, load loader, id string, marker *string, maxItems *int64) (paged[tag], error) {
	acct := account(ctx)
	var out paged[tag]
	err := s.store.View(func(tx *store.Tx) error {
		t, err := load(tx, acct, id)
		if err != nil {
			return err
		}
		out, err = pageInOrder(*t.tags, marker, maxItems)
		return err
	})
	return out, err
}

func (s *Service) tagUser(ctx context.Context, in *iamapi.TagUserRequest) (*iamapi.TagUserOutput, error) {
	return &iamapi.TagUserOutput{}, s.tag(ctx, userTagging, *in.UserName, in.Tags)
}

func (s *Service) untagUser(ctx context.Context, in *iamapi.UntagUserRequest) (*iamapi.UntagUserOutput, error) {
	return &iamapi.UntagUserOutput{}, s.untag(ctx, userTagging, *in.UserName, in.TagKeys)
}

func (s *Service) listUserTags(ctx context.Context, in *iamapi.ListUserTagsRequest) (*iamapi.ListUserTagsResponse, error) {
	p, err := s.listTags(ctx, userTagging, *in.UserName, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListUserTagsResponse{Tags: apiTags(p.items), Marker: p.marker, IsTruncated: p.truncated}, nil
}

func (s *Service) tagRole(ctx context.Context, in *iamapi.TagRoleRequest) (*iamapi.TagRoleOutput, error) {
	return &iamapi.TagRoleOutput{}, s.tag(ctx, roleTagging, *in.RoleName, in.Tags)
}

func (s *Service) untagRole(ctx context.Context, in *iamapi.UntagRoleRequest) (*iamapi.UntagRoleOutput, error) {
	return &iamapi.UntagRoleOutput{}, s.untag(ctx, roleTagging, *in.RoleName, in.TagKeys)
}

func (s *Service) listRoleTags(ctx context.Context, in *iamapi.ListRoleTagsRequest) (*iamapi.ListRoleTagsResponse, error) {
	p, err := s.listTags(ctx, roleTagging, *in.RoleName, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListRoleTagsResponse{Tags: apiTags(p.items), Marker: p.marker, IsTruncated: p.truncated}, nil
}

func (s *Service) tagInstanceProfile(ctx context.Context, in *iamapi.TagInstanceProfileRequest) (*iamapi.TagInstanceProfileOutput, error) {
	return &iamapi.TagInstanceProfileOutput{}, s.tag(ctx, profileTagging, *in.InstanceProfileName, in.Tags)
}

func (s *Service) untagInstanceProfile(ctx context.Context, in *iamapi.UntagInstanceProfileRequest) (*iamapi.UntagInstanceProfileOutput, error) {
	return &iamapi.UntagInstanceProfileOutput{}, s.untag(ctx, profileTagging, *in.InstanceProfileName, in.TagKeys)
}

func (s *Service) listInstanceProfileTags(ctx context.Context, in *iamapi.ListInstanceProfileTagsRequest) (*iamapi.ListInstanceProfileTagsResponse, error) {
	p, err := s.listTags(ctx, profileTagging, *in.InstanceProfileName, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListInstanceProfileTagsResponse{Tags: apiTags(p.items), Marker: p.marker, IsTruncated: p.truncated}, nil
}

func (s *Service) tagPolicy(ctx context.Context, in *iamapi.TagPolicyRequest) (*iamapi.TagPolicyOutput, error) {
	return &iamapi.TagPolicyOutput{}, s.tag(ctx, policyTagging, *in.PolicyArn, in.Tags)
}

func (s *Service) untagPolicy(ctx context.Context, in *iamapi.UntagPolicyRequest) (*iamapi.UntagPolicyOutput, error) {
	return &iamapi.UntagPolicyOutput{}, s.untag(ctx, policyTagging, *in.PolicyArn, in.TagKeys)
}

func (s *Service) listPolicyTags(ctx context.Context, in *iamapi.ListPolicyTagsRequest) (*iamapi.ListPolicyTagsResponse, error) {
	p, err := s.listTags(ctx, policyTagging, *in.PolicyArn, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	return &iamapi.ListPolicyTagsResponse{Tags: apiTags(p.items), Marker: p.marker, IsTruncated: p.truncated}, nil
}

package iam

import (
	"context"
	"slices"
	"strings"

	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/store"
)

func (g *groupRecord) api(acct string) *iamapi.Group {
	return &iamapi.Group{GroupName: str(g.Name), Path: str(g.Path), GroupId: str(g.ID), Arn: str(groups.arn(acct, g.Path, g.Name)), CreateDate: timePtr(g.Created)}
}

func (s *Service) createGroup(ctx context.Context, in *iamapi.CreateGroupRequest) (*iamapi.CreateGroupResponse, error) {
	acct, name := account(ctx), *in.GroupName
	if err := checkName("groupName", name); err != nil {
		return nil, err
	}
	path, err := pathOf(in.Path)
	if err != nil {
		return nil, err
	}
	g := &groupRecord{entity{Name: name, Path: path, ID: newID(groups.idPrefix), Created: s.nowUTC()}}
	err = s.store.Update(func(tx *store.Tx) error {
		if err := unused(tx, acct, kindGroup, name, groups.exists(name)); err != nil {
			return err
		}
		return groups.save(tx, acct, g)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateGroupResponse{Group: g.api(acct)}, nil
}

// members reads the users in the group whose key is gkey, in order of
// name.
func members(tx *store.Tx, acct, gkey string) ([]*userRecord, error) {
	all, err := store.ListAll[userRecord](tx, acct, "", kindUser)
	return slices.DeleteFunc(all, func(u *userRecord) bool { return !slices.Contains(u.Groups, gkey) }), err
}

func (s *Service) getGroup(ctx context.Context, in *iamapi.GetGroupRequest) (*iamapi.GetGroupResponse, error) {
	acct := account(ctx)
	var (
		g  *groupRecord
		ms []*userRecord
	)
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		if g, err = loadGroup(tx, acct, *in.GroupName); err != nil {
			return err
		}
		ms, err = members(tx, acct, strings.ToLower(g.Name))
		return err
	})
	if err != nil {
		return nil, err
	}
	p, err := page(ms, func(u *userRecord) string { return strings.ToLower(u.Name) }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.GetGroupResponse{Group: g.api(acct), Users: []*iamapi.User{}, Marker: p.marker, IsTruncated: p.truncated}
	for _, u := range p.items {
		out.Users = append(out.Users, u.api(acct, false))
	}
	return out, nil
}

func (s *Service) listGroups(ctx context.Context, in *iamapi.ListGroupsRequest) (*iamapi.ListGroupsResponse, error) {
	acct := account(ctx)
	prefix, err := pathPrefixOf(in.PathPrefix)
	if err != nil {
		return nil, err
	}
	all, err := listUnder[groupRecord](s.store, acct, kindGroup, prefix)
	if err != nil {
		return nil, err
	}
	p, err := page(all, func(g *groupRecord) string { return strings.ToLower(g.Name) }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListGroupsResponse{Groups: []*iamapi.Group{}, Marker: p.marker, IsTruncated: p.truncated}
	for _, g := range p.items {
		out.Groups = append(out.Groups, g.api(acct))
	}
	return out, nil
}

func (s *Service) updateGroup(ctx context.Context, in *iamapi.UpdateGroupRequest) (*iamapi.UpdateGroupOutput, error) {
	acct := account(ctx)
	newPath, err := renameArgs("newGroupName", in.NewGroupName, in.NewPath)
	if err != nil {
		return nil, err
	}
	err = s.store.Update(func(tx *store.Tx) error {
		g, err := loadGroup(tx, acct, *in.GroupName)
		if err != nil {
			return err
		}
		oldKey := strings.ToLower(g.Name)
		if in.NewGroupName != nil {
			newKey := strings.ToLower(*in.NewGroupName)
			if newKey != oldKey {
				if err := unused(tx, acct, kindGroup, newKey, groups.exists(*in.NewGroupName)); err != nil {
					return err
				}
				// Membership is kept on the users, by the group's key.
				ms, err := members(tx, acct, oldKey)
				if err != nil {
					return err
				}
				for _, u := range ms {
					u.Groups[slices.Index(u.Groups, oldKey)] = newKey
					if err := users.save(tx, acct, u); err != nil {
						return err
					}
				}
			}
			g.Name = *in.NewGroupName
		}
		if in.NewPath != nil {
			g.Path = newPath
		}
		if _, err := tx.Delete(key(acct, kindGroup, oldKey)); err != nil {
			return err
		}
		return groups.save(tx, acct, g)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UpdateGroupOutput{}, nil
}

func (s *Service) deleteGroup(ctx context.Context, in *iamapi.DeleteGroupRequest) (*iamapi.DeleteGroupOutput, error) {
	acct := account(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		g, err := loadGroup(tx, acct, *in.GroupName)
		if err != nil {
			return err
		}
		ms, err := members(tx, acct, strings.ToLower(g.Name))
		switch {
		case err != nil:
			return err
		case len(ms) > 0:
			return deleteConflict("Cannot delete entity, must remove users from group first.")
		case len(g.Attached) > 0:
			return deleteConflict("Cannot delete entity, must detach all policies first.")
		case len(g.Inline) > 0:
			return deleteConflict("Cannot delete entity, must delete policies first.")
		}
		_, err = tx.Delete(key(acct, kindGroup, g.Name))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteGroupOutput{}, nil
}

func (s *Service) addUserToGroup(ctx context.Context, in *iamapi.AddUserToGroupRequest) (*iamapi.AddUserToGroupOutput, error) {
	acct := account(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		g, err := loadGroup(tx, acct, *in.GroupName)
		if err != nil {
			return err
		}
		u, err := loadUser(tx, acct, *in.UserName)
		if err != nil {
			return err
		}
		gkey := strings.ToLower(g.Name)
		if slices.Contains(u.Groups, gkey) {
			return nil // already a member: IAM answers success
		}
		if len(u.Groups) >= maxGroupsPerUser {
			return limitExceeded("Cannot exceed quota for GroupsPerUser: %d", maxGroupsPerUser)
		}
		u.Groups = append(u.Groups, gkey)
		return users.save(tx, acct, u)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.AddUserToGroupOutput{}, nil
}

func (s *Service) removeUserFromGroup(ctx context.Context, in *iamapi.RemoveUserFromGroupRequest) (*iamapi.RemoveUserFromGroupOutput, error) {
	acct := account(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		g, err := loadGroup(tx, acct, *in.GroupName)
		if err != nil {
			return err
		}
		u, err := loadUser(tx, acct, *in.UserName)
		if err != nil {
			return err
		}
		i := slices.Index(u.Groups, strings.ToLower(g.Name))
		if i < 0 {
			return users.notFound(*in.UserName)
		}
		u.Groups = slices.Delete(u.Groups, i, i+1)
		return users.save(tx, acct, u)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.RemoveUserFromGroupOutput{}, nil
}

func (s *Service) listGroupsForUser(ctx context.Context, in *iamapi.ListGroupsForUserRequest) (*iamapi.ListGroupsForUserResponse, error) {
	acct := account(ctx)
	var gs []*groupRecord
	err := s.store.View(func(tx *store.Tx) error {
		u, err := loadUser(tx, acct, *in.UserName)
		if err != nil {
			return err
		}
		for _, k := range u.Groups {
			g, err := loadGroup(tx, acct, k)
			if err != nil {
				return err
			}
			gs = append(gs, g)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	p, err := pageInOrder(gs, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListGroupsForUserResponse{Groups: []*iamapi.Group{}, Marker: p.marker, IsTruncated: p.truncated}
	for _, g := range p.items {
		out.Groups = append(out.Groups, g.api(acct))
	}
	return out, nil
}

package iam

import (
	"context"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/store"
)

// maxGroupsPerUser is the quota of groups a user may be in.
const maxGroupsPerUser = 10

// api is the user as IAM shows it; full adds what only GetUser and
// CreateUser show (tags and the permissions boundary).
func (u *userRecord) api(acct string, full bool) *iamapi.User {
	out := &iamapi.User{
		UserName: str(u.Name), Path: str(u.Path), UserId: str(u.ID),
		Arn: str(users.arn(acct, u.Path, u.Name)), CreateDate: timePtr(u.Created),
	}
	if full {
		out.PermissionsBoundary = boundaryAPI(u.Boundary)
		if len(u.Tags) > 0 {
			out.Tags = apiTags(u.Tags)
		}
	}
	return out
}

func boundaryAPI(policyARN string) *iamapi.AttachedPermissionsBoundary {
	if policyARN == "" {
		return nil
	}
	return &iamapi.AttachedPermissionsBoundary{PermissionsBoundaryArn: str(policyARN), PermissionsBoundaryType: str("PermissionsBoundaryPolicy")}
}

// principal is who the user's access key akid signs as.
func (u *userRecord) principal(acct, akid string) api.Principal {
	return api.Principal{Account: acct, ARN: users.arn(acct, u.Path, u.Name), UserID: u.ID, AccessKeyID: akid}
}

// resolveKeys (re)writes the identity index of the user's active keys:
// after the user is renamed or moved their principal's ARN changes.
func (u *userRecord) resolveKeys(tx *store.Tx, acct string) error {
	for _, k := range u.Keys {
		if k.Active {
			if err := identity.PutUserKey(tx, identity.Credential{Principal: u.principal(acct, k.ID), Secret: k.Secret}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Service) createUser(ctx context.Context, in *iamapi.CreateUserRequest) (*iamapi.CreateUserResponse, error) {
	acct, name := account(ctx), *in.UserName
	if err := checkName("userName", name); err != nil {
		return nil, err
	}
	path, err := pathOf(in.Path)
	if err != nil {
		return nil, err
	}
	tags, err := newTags(in.Tags)
	if err != nil {
		return nil, err
	}
	u := &userRecord{entity: entity{Name: name, Path: path, ID: newID(users.idPrefix), Created: s.nowUTC()}, Tags: tags}
	err = s.store.Update(func(tx *store.Tx) error {
		if err := unused(tx, acct, kindUser, name, users.exists(name)); err != nil {
			return err
		}
		if in.PermissionsBoundary != nil {
			if u.Boundary, err = boundaryPolicy(tx, acct, *in.PermissionsBoundary); err != nil {
				return err
			}
		}
		return users.save(tx, acct, u)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateUserResponse{User: u.api(acct, true)}, nil
}

// callerUser is the name of the IAM user who signed the request: GetUser,
// ListAccessKeys and the other calls whose UserName defaults to the
// caller's. root reports the account's root user (who has no name).
func callerUser(ctx context.Context) (name string, root bool, err error) {
	p := api.RequestFrom(ctx).Caller
	a, perr := arn.Parse(p.ARN)
	switch {
	case perr == nil && a.Service == "iam" && a.Resource == "root":
		return "", true, nil
	case perr == nil && a.Service == "iam" && strings.HasPrefix(a.Resource, "user/"):
		return a.Resource[strings.LastIndexByte(a.Resource, '/')+1:], false, nil
	}
	return "", false, validationError("Must specify userName when calling with non-User credentials")
}

// rootCreated is what GetUser shows as the root user's creation date,
// which cloudbox does not know.
var rootCreated = time.Unix(0, 0).UTC()

func (s *Service) getUser(ctx context.Context, in *iamapi.GetUserRequest) (*iamapi.GetUserResponse, error) {
	acct, name := account(ctx), deref(in.UserName)
	if in.UserName == nil {
		n, root, err := callerUser(ctx)
		if err != nil {
			return nil, err
		}
		if root {
			return &iamapi.GetUserResponse{User: &iamapi.User{UserId: str(acct), Arn: str(api.RequestFrom(ctx).Caller.ARN), CreateDate: timePtr(rootCreated)}}, nil
		}
		name = n
	}
	var u *userRecord
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		u, err = loadUser(tx, acct, name)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.GetUserResponse{User: u.api(acct, true)}, nil
}

func (s *Service) listUsers(ctx context.Context, in *iamapi.ListUsersRequest) (*iamapi.ListUsersResponse, error) {
	acct := account(ctx)
	prefix, err := pathPrefixOf(in.PathPrefix)
	if err != nil {
		return nil, err
	}
	all, err := listUnder[userRecord](s.store, acct, kindUser, prefix)
	if err != nil {
		return nil, err
	}
	p, err := page(all, func(u *userRecord) string { return strings.ToLower(u.Name) }, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListUsersResponse{Users: []*iamapi.User{}, Marker: p.marker, IsTruncated: p.truncated}
	for _, u := range p.items {
		out.Users = append(out.Users, u.api(acct, false))
	}
	return out, nil
}

// listUnder reads every record of kind whose path starts with prefix, in
// order of key.
func listUnder[R any, P interface {
	*R
	recordPath() string
}](st *store.Store, acct, kind, prefix string) ([]P, error) {
	var out []P
	err := st.View(func(tx *store.Tx) error {
		all, err := store.ListAll[R](tx, acct, "", kind)
		for _, r := range all {
			if strings.HasPrefix(P(r).recordPath(), prefix) {
				out = append(out, r)
			}
		}
		return err
	})
	return out, err
}

func (s *Service) updateUser(ctx context.Context, in *iamapi.UpdateUserRequest) (*iamapi.UpdateUserOutput, error) {
	acct, name := account(ctx), *in.UserName
	newPath, err := renameArgs("newUserName", in.NewUserName, in.NewPath)
	if err != nil {
		return nil, err
	}
	err = s.store.Update(func(tx *store.Tx) error {
		u, err := loadUser(tx, acct, name)
		if err != nil {
			return err
		}
		if in.NewUserName != nil && !strings.EqualFold(*in.NewUserName, u.Name) {
			if err := unused(tx, acct, kindUser, *in.NewUserName, users.exists(*in.NewUserName)); err != nil {
				return err
			}
		}
		if _, err := tx.Delete(key(acct, kindUser, u.Name)); err != nil {
			return err
		}
		if in.NewUserName != nil {
			u.Name = *in.NewUserName
		}
		if in.NewPath != nil {
			u.Path = newPath
		}
		if err := u.resolveKeys(tx, acct); err != nil {
			return err
		}
		return users.save(tx, acct, u)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UpdateUserOutput{}, nil
}

func (s *Service) deleteUser(ctx context.Context, in *iamapi.DeleteUserRequest) (*iamapi.DeleteUserOutput, error) {
	acct := account(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		u, err := loadUser(tx, acct, *in.UserName)
		if err != nil {
			return err
		}
		switch {
		case len(u.Attached) > 0:
			return deleteConflict("Cannot delete entity, must detach all policies first.")
		case len(u.Inline) > 0:
			return deleteConflict("Cannot delete entity, must delete policies first.")
		case len(u.Groups) > 0:
			return deleteConflict("Cannot delete entity, must remove users from group first.")
		case u.Login != nil:
			return deleteConflict("Cannot delete entity, must delete login profile first.")
		case len(u.Keys) > 0:
			return deleteConflict("Cannot delete entity, must delete access keys first.")
		}
		if err := credentialConflict(tx, acct, u); err != nil {
			return err
		}
		_, err = tx.Delete(key(acct, kindUser, u.Name))
		return err
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteUserOutput{}, nil
}

func (s *Service) putUserPermissionsBoundary(ctx context.Context, in *iamapi.PutUserPermissionsBoundaryRequest) (*iamapi.PutUserPermissionsBoundaryOutput, error) {
	acct := account(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		u, err := loadUser(tx, acct, *in.UserName)
		if err != nil {
			return err
		}
		if u.Boundary, err = boundaryPolicy(tx, acct, *in.PermissionsBoundary); err != nil {
			return err
		}
		return users.save(tx, acct, u)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.PutUserPermissionsBoundaryOutput{}, nil
}

func (s *Service) deleteUserPermissionsBoundary(ctx context.Context, in *iamapi.DeleteUserPermissionsBoundaryRequest) (*iamapi.DeleteUserPermissionsBoundaryOutput, error) {
	acct := account(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		u, err := loadUser(tx, acct, *in.UserName)
		if err != nil {
			return err
		}
		u.Boundary = ""
		return users.save(tx, acct, u)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteUserPermissionsBoundaryOutput{}, nil
}

package iam

import (
	"context"
	"slices"

	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/store"
)

// maxKeysPerUser is the quota of access keys a user may have.
const maxKeysPerUser = 2

// keyOwner is the user whose access keys a call is about: the one named, or
// the caller. root is the root user, who has no keys here.
func keyOwner(ctx context.Context, userName *string) (name string, root bool, err error) {
	if userName != nil {
		return *userName, false, nil
	}
	return callerUser(ctx)
}

func noSuchKey(id string) error {
	return errorf("NoSuchEntity", "The Access Key with id %s cannot be found.", id)
}

func (s *Service) createAccessKey(ctx context.Context, in *iamapi.CreateAccessKeyRequest) (*iamapi.CreateAccessKeyResponse, error) {
	acct := account(ctx)
	name, root, err := keyOwner(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	if root {
		return nil, validationError("cloudbox makes no access keys for the root user: name an IAM user (UserName)")
	}
	akid, secret := identity.NewUserKey()
	k := accessKey{ID: akid, Secret: secret, Active: true, Created: s.nowUTC()}
	var owner string
	err = s.store.Update(func(tx *store.Tx) error {
		u, err := loadUser(tx, acct, name)
		if err != nil {
			return err
		}
		if len(u.Keys) >= maxKeysPerUser {
			return limitExceeded("Cannot exceed quota for AccessKeysPerUser: %d", maxKeysPerUser)
		}
		u.Keys, owner = append(u.Keys, k), u.Name
		// In the same transaction: the key signs requests once this commits.
		if err := identity.PutUserKey(tx, identity.Credential{Principal: u.principal(acct, akid), Secret: secret}); err != nil {
			return err
		}
		return users.save(tx, acct, u)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateAccessKeyResponse{AccessKey: &iamapi.AccessKey{
		UserName: str(owner), AccessKeyId: str(akid), SecretAccessKey: str(secret), Status: str(k.status()), CreateDate: timePtr(k.Created),
	}}, nil
}

func (s *Service) listAccessKeys(ctx context.Context, in *iamapi.ListAccessKeysRequest) (*iamapi.ListAccessKeysResponse, error) {
	acct := account(ctx)
	name, root, err := keyOwner(ctx, in.UserName)
	if err != nil {
		return nil, err
	}
	var u *userRecord
	if !root {
		err = s.store.View(func(tx *store.Tx) error {
			u, err = loadUser(tx, acct, name)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	var keys []accessKey
	if u != nil {
		keys = u.Keys
	}
	p, err := pageInOrder(keys, in.Marker, in.MaxItems)
	if err != nil {
		return nil, err
	}
	out := &iamapi.ListAccessKeysResponse{AccessKeyMetadata: []*iamapi.AccessKeyMetadata{}, Marker: p.marker, IsTruncated: p.truncated}
	for _, k := range p.items {
		out.AccessKeyMetadata = append(out.AccessKeyMetadata, &iamapi.AccessKeyMetadata{
			UserName: str(u.Name), AccessKeyId: str(k.ID), Status: str(k.status()), CreateDate: timePtr(k.Created),
		})
	}
	return out, nil
}

// changeKey loads the user whose access key id is to change, and keeps
// the change fn makes to the user's keys (fn is given the key's index).
func (s *Service) changeKey(ctx context.Context, userName *string, id string, fn func(tx *store.Tx, u *userRecord, i int) error) error {
	acct := account(ctx)
	name, root, err := keyOwner(ctx, userName)
	if err != nil {
		return err
	}
	if root {
		return noSuchKey(id)
	}
	return s.store.Update(func(tx *store.Tx) error {
		u, err := loadUser(tx, acct, name)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(u.Keys, func(k accessKey) bool { return k.ID == id })
		if i < 0 {
			return noSuchKey(id)
		}
		if err := fn(tx, u, i); err != nil {
			return err
		}
		return users.save(tx, acct, u)
	})
}

func (s *Service) updateAccessKey(ctx context.Context, in *iamapi.UpdateAccessKeyRequest) (*iamapi.UpdateAccessKeyOutput, error) {
	acct := account(ctx)
	if err := checkEnum("status", in.Status, "Active", "Inactive"); err != nil {
		return nil, err
	}
	err := s.changeKey(ctx, in.UserName, *in.AccessKeyId, func(tx *store.Tx, u *userRecord, i int) error {
		k := &u.Keys[i]
		k.Active = *in.Status == "Active"
		if k.Active {
			return identity.PutUserKey(tx, identity.Credential{Principal: u.principal(acct, k.ID), Secret: k.Secret})
		}
		return identity.DeleteUserKey(tx, k.ID)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UpdateAccessKeyOutput{}, nil
}

func (s *Service) deleteAccessKey(ctx context.Context, in *iamapi.DeleteAccessKeyRequest) (*iamapi.DeleteAccessKeyOutput, error) {
	err := s.changeKey(ctx, in.UserName, *in.AccessKeyId, func(tx *store.Tx, u *userRecord, i int) error {
		u.Keys = slices.Delete(u.Keys, i, i+1)
		if err := identity.ForgetLastUse(tx, *in.AccessKeyId); err != nil {
			return err
		}
		return identity.DeleteUserKey(tx, *in.AccessKeyId)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteAccessKeyOutput{}, nil
}

func (s *Service) getAccessKeyLastUsed(ctx context.Context, in *iamapi.GetAccessKeyLastUsedRequest) (*iamapi.GetAccessKeyLastUsedResponse, error) {
	acct, id := account(ctx), *in.AccessKeyId
	var (
		owner string
		use   identity.LastUse
		used  bool
	)
	err := s.store.View(func(tx *store.Tx) error {
		all, err := store.ListAll[userRecord](tx, acct, "", kindUser)
		if err != nil {
			return err
		}
		for _, u := range all {
			if slices.ContainsFunc(u.Keys, func(k accessKey) bool { return k.ID == id }) {
				owner = u.Name
				use, used, err = identity.LastUsed(tx, id)
				return err
			}
		}
		return noSuchKey(id)
	})
	if err != nil {
		return nil, err
	}
	// A key never used answers "N/A" and no date, as AWS's does.
	last := &iamapi.AccessKeyLastUsed{Region: str("N/A"), ServiceName: str("N/A")}
	if used {
		last.LastUsedDate, last.ServiceName = timePtr(use.Date), str(use.Service)
		if use.Region != "" { // S3's legacy signature names no region
			last.Region = str(use.Region)
		}
	}
	return &iamapi.GetAccessKeyLastUsedResponse{UserName: str(owner), AccessKeyLastUsed: last}, nil
}

func noSuchLogin(user string) error {
	return errorf("NoSuchEntity", "Login Profile for User %s cannot be found.", user)
}

func (s *Service) createLoginProfile(ctx context.Context, in *iamapi.CreateLoginProfileRequest) (*iamapi.CreateLoginProfileResponse, error) {
	acct := account(ctx)
	var (
		lp    loginProfile
		owner string
	)
	err := s.store.Update(func(tx *store.Tx) error {
		u, err := loadUser(tx, acct, *in.UserName)
		if err != nil {
			return err
		}
		if u.Login != nil {
			return errorf("EntityAlreadyExists", "Login Profile for user %s already exists.", u.Name)
		}
		lp = loginProfile{Created: s.nowUTC(), ResetRequired: in.PasswordResetRequired != nil && *in.PasswordResetRequired}
		u.Login, owner = &lp, u.Name
		return users.save(tx, acct, u)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateLoginProfileResponse{LoginProfile: lp.api(owner)}, nil
}

func (lp *loginProfile) api(user string) *iamapi.LoginProfile {
	return &iamapi.LoginProfile{UserName: str(user), CreateDate: timePtr(lp.Created), PasswordResetRequired: boolp(lp.ResetRequired)}
}

func (s *Service) getLoginProfile(ctx context.Context, in *iamapi.GetLoginProfileRequest) (*iamapi.GetLoginProfileResponse, error) {
	acct := account(ctx)
	var u *userRecord
	err := s.store.View(func(tx *store.Tx) error {
		var err error
		u, err = loadUser(tx, acct, *in.UserName)
		return err
	})
	if err != nil {
		return nil, err
	}
	if u.Login == nil {
		return nil, noSuchLogin(u.Name)
	}
	return &iamapi.GetLoginProfileResponse{LoginProfile: u.Login.api(u.Name)}, nil
}

func (s *Service) updateLoginProfile(ctx context.Context, in *iamapi.UpdateLoginProfileRequest) (*iamapi.UpdateLoginProfileOutput, error) {
	acct := account(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		u, err := loadUser(tx, acct, *in.UserName)
		if err != nil {
			return err
		}
		if u.Login == nil {
			return noSuchLogin(u.Name)
		}
		if in.PasswordResetRequired != nil {
			u.Login.ResetRequired = *in.PasswordResetRequired
		}
		return users.save(tx, acct, u)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UpdateLoginProfileOutput{}, nil
}

func (s *Service) deleteLoginProfile(ctx context.Context, in *iamapi.DeleteLoginProfileRequest) (*iamapi.DeleteLoginProfileOutput, error) {
	acct := account(ctx)
	err := s.store.Update(func(tx *store.Tx) error {
		u, err := loadUser(tx, acct, *in.UserName)
		if err != nil {
			return err
		}
		if u.Login == nil {
			return noSuchLogin(u.Name)
		}
		u.Login = nil
		return users.save(tx, acct, u)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteLoginProfileOutput{}, nil
}

package iam

import (
	"context"
	"crypto/rand"
	"encoding/base64"

	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/store"
)

// maxServiceCreds is the quota of service-specific credentials per user
// and service.
const maxServiceCreds = 2

// credServices are the services that take service-specific credentials.
var credServices = map[string]bool{"codecommit.amazonaws.com": true, "cassandra.amazonaws.com": true}

// serviceCredRecord is a user name and password for one service.
type serviceCredRecord struct {
	userCred
	Service  string
	UserName string // the service user name, "<user>-at-<account>"
	Password string
}

func (c *serviceCredRecord) metadata(user string) *iamapi.ServiceSpecificCredentialMetadata {
	return &iamapi.ServiceSpecificCredentialMetadata{
		UserName: str(user), Status: str(c.status()), ServiceUserName: str(c.UserName),
		CreateDate: timePtr(c.Created), ServiceSpecificCredentialId: str(c.ID), ServiceName: str(c.Service),
	}
}

func (c *serviceCredRecord) api(user string) *iamapi.ServiceSpecificCredential {
	return &iamapi.ServiceSpecificCredential{
		UserName: str(user), Status: str(c.status()), ServiceUserName: str(c.UserName), ServicePassword: str(c.Password),
		CreateDate: timePtr(c.Created), ServiceSpecificCredentialId: str(c.ID), ServiceName: str(c.Service),
	}
}

func servicePassword() string {
	b := make([]byte, 33)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func (s *Service) createServiceSpecificCredential(ctx context.Context, in *iamapi.CreateServiceSpecificCredentialRequest) (*iamapi.CreateServiceSpecificCredentialResponse, error) {
	acct, service := account(ctx), *in.ServiceName
	if !credServices[service] {
		return nil, errorf("NotSupportedService", "No such service %s is supported for Service-Specific Credentials", service)
	}
	var (
		rec   serviceCredRecord
		owner string
	)
	err := s.store.Update(func(tx *store.Tx) error {
		u, err := loadUser(tx, acct, *in.UserName)
		if err != nil {
			return err
		}
		have, err := userCreds[serviceCredRecord](tx, acct, kindServiceCred, u.ID)
		if err != nil {
			return err
		}
		n := 0
		for _, c := range have {
			if c.Service == service {
				n++
			}
		}
		if n >= maxServiceCreds {
			return limitExceeded("Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: %d", maxServiceCreds)
		}
		rec = serviceCredRecord{
			userCred: userCred{ID: "ACCA" + randomID(17), UserID: u.ID, Active: true, Created: s.nowUTC()},
			Service:  service, UserName: u.Name + "-at-" + acct, Password: servicePassword(),
		}
		owner = u.Name
		return tx.Put(key(acct, kindServiceCred, rec.ID), rec)
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.CreateServiceSpecificCredentialResponse{ServiceSpecificCredential: rec.api(owner)}, nil
}

func (s *Service) listServiceSpecificCredentials(ctx context.Context, in *iamapi.ListServiceSpecificCredentialsRequest) (*iamapi.ListServiceSpecificCredentialsResponse, error) {
	acct := account(ctx)
	out := &iamapi.ListServiceSpecificCredentialsResponse{ServiceSpecificCredentials: []*iamapi.ServiceSpecificCredentialMetadata{}}
	if in.ServiceName != nil && !credServices[*in.ServiceName] {
		return nil, errorf("NotSupportedService", "No such service %s is supported for Service-Specific Credentials", *in.ServiceName)
	}
	err := s.store.View(func(tx *store.Tx) error {
		u, err := credOwner(ctx, tx, in.UserName)
		if err != nil {
			return err
		}
		have, err := userCreds[serviceCredRecord](tx, acct, kindServiceCred, u.ID)
		for _, c := range have {
			if in.ServiceName == nil || *in.ServiceName == c.Service {
				out.ServiceSpecificCredentials = append(out.ServiceSpecificCredentials, c.metadata(u.Name))
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// changeServiceCred applies fn to the user's credential id; fn says
// whether to keep (true) or delete it.
func (s *Service) changeServiceCred(ctx context.Context, userName *string, id string, fn func(c *serviceCredRecord) bool) (*serviceCredRecord, string, error) {
	acct := account(ctx)
	var (
		c     *serviceCredRecord
		owner string
	)
	err := s.store.Update(func(tx *store.Tx) error {
		u, err := credOwner(ctx, tx, userName)
		if err != nil {
			return err
		}
		var ok bool
		c, ok, err = store.Get[serviceCredRecord](tx, key(acct, kindServiceCred, id))
		if err != nil {
			return err
		}
		if !ok || c.UserID != u.ID {
			return errorf("NoSuchEntity", "No such credential %s exists", id)
		}
		owner = u.Name
		if fn(c) {
			return tx.Put(key(acct, kindServiceCred, id), c)
		}
		_, err = tx.Delete(key(acct, kindServiceCred, id))
		return err
	})
	return c, owner, err
}

func (s *Service) resetServiceSpecificCredential(ctx context.Context, in *iamapi.ResetServiceSpecificCredentialRequest) (*iamapi.ResetServiceSpecificCredentialResponse, error) {
	c, owner, err := s.changeServiceCred(ctx, in.UserName, *in.ServiceSpecificCredentialId, func(c *serviceCredRecord) bool {
		c.Password = servicePassword()
		return true
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.ResetServiceSpecificCredentialResponse{ServiceSpecificCredential: c.api(owner)}, nil
}

func (s *Service) updateServiceSpecificCredential(ctx context.Context, in *iamapi.UpdateServiceSpecificCredentialRequest) (*iamapi.UpdateServiceSpecificCredentialOutput, error) {
	if err := checkEnum("status", in.Status, "Active", "Inactive"); err != nil {
		return nil, err
	}
	_, _, err := s.changeServiceCred(ctx, in.UserName, *in.ServiceSpecificCredentialId, func(c *serviceCredRecord) bool {
		c.Active = *in.Status == "Active"
		return true
	})
	if err != nil {
		return nil, err
	}
	return &iamapi.UpdateServiceSpecificCredentialOutput{}, nil
}

func (s *Service) deleteServiceSpecificCredential(ctx context.Context, in *iamapi.DeleteServiceSpecificCredentialRequest) (*iamapi.DeleteServiceSpecificCredentialOutput, error) {
	_, _, err := s.changeServiceCred(ctx, in.UserName, *in.ServiceSpecificCredentialId, func(*serviceCredRecord) bool { return false })
	if err != nil {
		return nil, err
	}
	return &iamapi.DeleteServiceSpecificCredentialOutput{}, nil
}

// Package sts implements AWS Security Token Service: who am I, and
// temporary credentials that cloudbox then accepts like any other key.
package sts

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	stsapi "github.com/cloudbox/cloudbox/api/sts"
	"github.com/cloudbox/cloudbox/arn"
	"github.com/cloudbox/cloudbox/identity"
	"github.com/cloudbox/cloudbox/policy"
)

// Service is the STS implementation.
type Service struct {
	ids *identity.Resolver
	now func() time.Time
	// roles is IAM: AssumeRole checks the role's trust policy when IAM
	// has the role.
	roles RoleReader
	// strictRoles refuses roles IAM does not have (cloudbox up --iam
	// enforce or audit); otherwise any role name is accepted.
	strictRoles bool
}

// RoleReader reads roles from IAM (services/iam implements it).
type RoleReader interface {
	// RoleTrust returns a role's ARN with its path and its trust policy;
	// ok is false when there is no such role.
	RoleTrust(roleARN string) (arn, trust string, ok bool, err error)
}

// UseRoles makes AssumeRole check roles against IAM: the role's trust
// policy must allow the caller whenever IAM has the role; with strict,
// a role IAM does not have is refused.
func (s *Service) UseRoles(r RoleReader, strict bool) {
	s.roles, s.strictRoles = r, strict
}

// Authorization is the IAM action and resource of an STS call, for the
// authorizer: AssumeRole is sts:AssumeRole on the role.
func (s *Service) Authorization(_ context.Context, op string, in any) (string, []string) {
	if r, ok := in.(*stsapi.AssumeRoleRequest); ok && r.RoleArn != nil {
		return "sts:AssumeRole", []string{*r.RoleArn}
	}
	return "", nil
}

// allowAll stands for the caller's identity-based side when AssumeRole
// checks only the trust policy (IAM not enforced).
var allowAll = func() *policy.Policy {
	p, err := policy.Parse(policy.Managed, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`)
	if err != nil {
		panic(err)
	}
	p.Name = "(identity-based policies not enforced)"
	return p
}()

// checkTrust refuses the caller a role whose trust policy does not allow
// it; it returns the role's ARN with its path ("" when IAM is not
// consulted or has no such role).
func (s *Service) checkTrust(ctx context.Context, roleARN string) (string, error) {
	if s.roles == nil {
		return "", nil
	}
	caller := api.RequestFrom(ctx).Caller
	denied := api.NewError(http.StatusForbidden, "AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s", caller.ARN, roleARN)
	full, trust, ok, err := s.roles.RoleTrust(roleARN)
	if err != nil {
		return "", err
	}
	if !ok {
		if s.strictRoles {
			return "", denied
		}
		return "", nil
	}
	tp, err := policy.Parse(policy.Trust, trust)
	if err != nil {
		return "", denied
	}
	tp.Name = full + " trust policy"
	req := &policy.Request{Principal: policy.PrincipalOf(caller.ARN, caller.UserID), Action: "sts:AssumeRole", Resource: full}
	if d := policy.Evaluate(req, &policy.Set{Identity: []*policy.Policy{allowAll}, Resource: tp}); !d.Allowed() {
		return "", denied
	}
	return full, nil
}

// New returns STS over the identity resolver ids.
func New(ids *identity.Resolver, now func() time.Time) *Service {
	return &Service{ids: ids, now: now}
}

// Handlers returns the operations STS implements.
func (s *Service) Handlers() *stsapi.Handlers {
	return &stsapi.Handlers{
		GetCallerIdentity: s.GetCallerIdentity,
		AssumeRole:        s.AssumeRole,
		GetSessionToken:   s.GetSessionToken,
		GetAccessKeyInfo:  s.GetAccessKeyInfo,
	}
}

func (s *Service) GetCallerIdentity(ctx context.Context, _ *stsapi.GetCallerIdentityRequest) (*stsapi.GetCallerIdentityResponse, error) {
	p := api.RequestFrom(ctx).Caller
	return &stsapi.GetCallerIdentityResponse{Account: &p.Account, Arn: &p.ARN, UserId: &p.UserID}, nil
}

var sessionNameRE = regexp.MustCompile(`^[\w+=,.@-]*$`)

const defaultRoleDuration = time.Hour

func (s *Service) AssumeRole(ctx context.Context, in *stsapi.AssumeRoleRequest) (*stsapi.AssumeRoleResponse, error) {
	role, err := arn.Parse(*in.RoleArn)
	if err != nil || role.Service != "iam" || !strings.HasPrefix(role.Resource, "role/") || len(role.Account) != 12 {
		return nil, api.Errorf("ValidationError", "%s is invalid", *in.RoleArn)
	}
	if !sessionNameRE.MatchString(*in.RoleSessionName) {
		return nil, api.Errorf("ValidationError", "1 validation error detected: Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", *in.RoleSessionName)
	}
	if _, err := s.checkTrust(ctx, *in.RoleArn); err != nil {
		return nil, err
	}
	d := defaultRoleDuration
	if in.DurationSeconds != nil {
		d = time.Duration(*in.DurationSeconds) * time.Second
	}
	roleName := role.Resource[strings.LastIndexByte(role.Resource, '/')+1:]
	roleID := identity.UniqueID("AROA", role.Account+"/"+roleName) + ":" + *in.RoleSessionName
	userARN := arn.ARN{Partition: role.Partition, Service: "sts", Account: role.Account, Resource: "assumed-role/" + roleName + "/" + *in.RoleSessionName}.String()
	cred, err := s.ids.Issue(api.Principal{Account: role.Account, ARN: userARN, UserID: roleID}, s.now(), d)
	if err != nil {
		return nil, err
	}
	return &stsapi.AssumeRoleResponse{
		Credentials:     credentials(cred),
		AssumedRoleUser: &stsapi.AssumedRoleUser{Arn: &userARN, AssumedRoleId: &roleID},
		SourceIdentity:  in.SourceIdentity,
	}, nil
}

const (
	defaultSessionDuration = 12 * time.Hour
	maxRootSession         = time.Hour
)

func (s *Service) GetSessionToken(ctx context.Context, in *stsapi.GetSessionTokenRequest) (*stsapi.GetSessionTokenResponse, error) {
	caller := api.RequestFrom(ctx).Caller
	if strings.Contains(caller.ARN, ":assumed-role/") || strings.HasPrefix(caller.AccessKeyID, "ASIA") {
		return nil, api.NewError(http.StatusForbidden, "AccessDenied", "Cannot call GetSessionToken with session credentials")
	}
	d := defaultSessionDuration
	if in.DurationSeconds != nil {
		d = time.Duration(*in.DurationSeconds) * time.Second
	}
	// Sessions of the root user last an hour at most.
	if strings.HasSuffix(caller.ARN, ":root") && d > maxRootSession {
		d = maxRootSession
	}
	cred, err := s.ids.Issue(caller, s.now(), d)
	if err != nil {
		return nil, err
	}
	return &stsapi.GetSessionTokenResponse{Credentials: credentials(cred)}, nil
}

func (s *Service) GetAccessKeyInfo(ctx context.Context, in *stsapi.GetAccessKeyInfoRequest) (*stsapi.GetAccessKeyInfoResponse, error) {
	p, err := s.ids.Principal(*in.AccessKeyId)
	if err != nil {
		return nil, err
	}
	return &stsapi.GetAccessKeyInfoResponse{Account: &p.Account}, nil
}

func credentials(c identity.Credential) *stsapi.Credentials {
	return &stsapi.Credentials{
		AccessKeyId:     &c.Principal.AccessKeyID,
		SecretAccessKey: &c.Secret,
		SessionToken:    &c.SessionToken,
		Expiration:      &c.Expires,
	}
}

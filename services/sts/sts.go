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
)

// Service is the STS implementation.
type Service struct {
	ids *identity.Resolver
	now func() time.Time
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

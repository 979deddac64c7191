// Package sts implements AWS Security Token Service: who am I, and
// temporary credentials that cloudbox then accepts like any other key.
package sts

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	stsapi "github.com/cloudbox/cloudbox/api/sts"
	"github.com/cloudbox/cloudbox/identity"
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
	// decode reads EC2's encoded authorization failure messages; nil
	// when IAM is not enforced (no message is then ever made).
	decode Decoder
}

// RoleReader reads roles and OpenID Connect providers from IAM
// (services/iam implements it).
type RoleReader interface {
	// RoleTrust returns a role's ARN with its path and its trust policy;
	// ok is false when there is no such role.
	RoleTrust(roleARN string) (arn, trust string, ok bool, err error)
	// RoleSession returns the role's unique id (AROA...) and its maximum
	// session duration.
	RoleSession(roleARN string) (id string, maxSession time.Duration, ok bool, err error)
	// OIDCClientIDs returns the client ids of an OpenID Connect provider;
	// ok is false when IAM has no such provider.
	OIDCClientIDs(providerARN string) (clientIDs []string, ok bool, err error)
}

// UseRoles makes AssumeRole check roles against IAM: the role's trust
// policy must allow the caller whenever IAM has the role; with strict,
// a role IAM does not have is refused.
func (s *Service) UseRoles(r RoleReader, strict bool) {
	s.roles, s.strictRoles = r, strict
}

// Decoder reads the encoded authorization failure messages of the
// daemon's denials (authz.DecodeMessage).
type Decoder func(encoded string) (decoded string, ok bool)

// UseDecoder makes DecodeAuthorizationMessage read messages with d.
func (s *Service) UseDecoder(d Decoder) { s.decode = d }

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

		AssumeRoleWithWebIdentity:  s.AssumeRoleWithWebIdentity,
		GetFederationToken:         s.GetFederationToken,
		DecodeAuthorizationMessage: s.DecodeAuthorizationMessage,
	}
}

func (s *Service) GetCallerIdentity(ctx context.Context, _ *stsapi.GetCallerIdentityRequest) (*stsapi.GetCallerIdentityResponse, error) {
	p := api.RequestFrom(ctx).Caller
	return &stsapi.GetCallerIdentityResponse{Account: &p.Account, Arn: &p.ARN, UserId: &p.UserID}, nil
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
	mfa, err := s.checkMFA(caller.Account, in.SerialNumber, in.TokenCode)
	if err != nil {
		return nil, err
	}
	if mfa {
		// aws:MultiFactorAuthPresent is true for the session's calls.
		caller.Session = &api.Session{MFA: true}
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

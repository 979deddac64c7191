// Package iam implements AWS Identity and Access Management's control
// plane: users, groups, roles, managed policies with their versions and
// inline policies, instance profiles, access keys, login profiles, the
// account alias, service-linked roles and the account's summaries; and AWS's
// managed policies, kept as data files (managed/*.json) with the documents
// AWS publishes.
//
// IAM is global: its records are kept with region "" whatever region a
// client signs for. Names of users, groups, roles, policies and instance
// profiles are unique in an account without regard to case, and are found
// without regard to case, as IAM does; records are keyed by the lower-case
// name and keep the name as given.
//
// An access key is valid as soon as CreateAccessKey answers: the
// transaction that creates (or activates) it also writes the identity
// index (identity.PutUserKey) that the server resolves signatures with, and
// deactivating or deleting the key removes it in the same way.
//
// Policy documents are validated by the policy package, with IAM's rules,
// quotas and MalformedPolicyDocument texts (a trust policy's users and
// roles must exist, in whichever account), kept as given and returned
// URL-encoded, as IAM returns them (botocore and the CLI decode them;
// aws-sdk-go-v2 leaves that to the caller).
//
// What differs from AWS:
//
//   - The documents are enforced only under `cloudbox up --iam enforce`
//     (or logged under audit; package authz reads them through Reader).
//     SimulatePrincipalPolicy and SimulateCustomPolicy run the same
//     evaluator on the context entries given alone (simulate.go); they
//     know no Organizations policies and leave EvalDecisionDetails empty.
//   - AWS managed policies exist at their current default version only:
//     ListPolicyVersions shows that one and GetPolicyVersion knows no
//     other. Those whose policy id is not known here get one derived from
//     the ARN.
//   - An access key's last use is kept to the minute, written to the store
//     at most once a minute per key (identity.Resolver.Used): a change of
//     service or region within a minute is written when the minute ends,
//     and lost if cloudbox stops first. GetUser without a name answers for
//     users created through IAM and for the root user (whose creation date
//     is not known: 1970), not for the users of a keys file. The root user
//     has no access keys here.
//   - Service-linked roles are created for the services cloudbox knows
//     (linkedServices); their deletion succeeds at once.
package iam

import (
	"context"
	"crypto/rand"
	"strings"
	"time"

	"github.com/cloudbox/cloudbox/api"
	iamapi "github.com/cloudbox/cloudbox/api/iam"
	"github.com/cloudbox/cloudbox/store"
)

// The store kinds; every record is global (region ""). Users, groups,
// roles, policies and instance profiles are keyed by the lower-case name.
const (
	kindUser    = "iam:user"    // userRecord
	kindGroup   = "iam:group"   // groupRecord
	kindRole    = "iam:role"    // roleRecord
	kindPolicy  = "iam:policy"  // policyRecord: customer managed policies
	kindProfile = "iam:profile" // profileRecord: instance profiles
	// kindAlias is the account's alias (aliasRecord, under aliasID).
	kindAlias = "iam:alias"
	// kindAliasOwner is every alias's account (aliasRecord) under
	// aliasOwner, by alias: an alias is unique across accounts.
	kindAliasOwner = "iam:aliasowner"
	aliasOwner     = "global"
)

// Service is the IAM implementation.
type Service struct {
	store *store.Store
	now   func() time.Time
	ids   identityCache // callers' policies for the authorizer
}

// New returns IAM over st, with now the wall clock its dates come from.
func New(st *store.Store, now func() time.Time) *Service {
	return &Service{store: st, now: now}
}

// Handlers returns the operations IAM implements.
func (s *Service) Handlers() *iamapi.Handlers {
	return &iamapi.Handlers{
		CreateUser:                                s.createUser,
		GetUser:                                   s.getUser,
		ListUsers:                                 s.listUsers,
		UpdateUser:                                s.updateUser,
		DeleteUser:                                s.deleteUser,
		TagUser:                                   s.tagUser,
		UntagUser:                                 s.untagUser,
		ListUserTags:                              s.listUserTags,
		PutUserPermissionsBoundary:                s.putUserPermissionsBoundary,
		DeleteUserPermissionsBoundary:             s.deleteUserPermissionsBoundary,
		CreateGroup:                               s.createGroup,
		GetGroup:                                  s.getGroup,
		ListGroups:                                s.listGroups,
		UpdateGroup:                               s.updateGroup,
		DeleteGroup:                               s.deleteGroup,
		AddUserToGroup:                            s.addUserToGroup,
		RemoveUserFromGroup:                       s.removeUserFromGroup,
		ListGroupsForUser:                         s.listGroupsForUser,
		CreateRole:                                s.createRole,
		GetRole:                                   s.getRole,
		ListRoles:                                 s.listRoles,
		UpdateRole:                                s.updateRole,
		UpdateRoleDescription:                     s.updateRoleDescription,
		UpdateAssumeRolePolicy:                    s.updateAssumeRolePolicy,
		DeleteRole:                                s.deleteRole,
		TagRole:                                   s.tagRole,
		UntagRole:                                 s.untagRole,
		ListRoleTags:                              s.listRoleTags,
		PutRolePermissionsBoundary:                s.putRolePermissionsBoundary,
		DeleteRolePermissionsBoundary:             s.deleteRolePermissionsBoundary,
		CreateServiceLinkedRole:                   s.createServiceLinkedRole,
		DeleteServiceLinkedRole:                   s.deleteServiceLinkedRole,
		GetServiceLinkedRoleDeletionStatus:        s.getServiceLinkedRoleDeletionStatus,
		CreatePolicy:                              s.createPolicy,
		GetPolicy:                                 s.getPolicy,
		ListPolicies:                              s.listPolicies,
		DeletePolicy:                              s.deletePolicy,
		TagPolicy:                                 s.tagPolicy,
		UntagPolicy:                               s.untagPolicy,
		ListPolicyTags:                            s.listPolicyTags,
		CreatePolicyVersion:                       s.createPolicyVersion,
		GetPolicyVersion:                          s.getPolicyVersion,
		ListPolicyVersions:                        s.listPolicyVersions,
		DeletePolicyVersion:                       s.deletePolicyVersion,
		SetDefaultPolicyVersion:                   s.setDefaultPolicyVersion,
		AttachUserPolicy:                          s.attachUserPolicy,
		AttachGroupPolicy:                         s.attachGroupPolicy,
		AttachRolePolicy:                          s.attachRolePolicy,
		DetachUserPolicy:                          s.detachUserPolicy,
		DetachGroupPolicy:                         s.detachGroupPolicy,
		DetachRolePolicy:                          s.detachRolePolicy,
		ListAttachedUserPolicies:                  s.listAttachedUserPolicies,
		ListAttachedGroupPolicies:                 s.listAttachedGroupPolicies,
		ListAttachedRolePolicies:                  s.listAttachedRolePolicies,
		ListEntitiesForPolicy:                     s.listEntitiesForPolicy,
		PutUserPolicy:                             s.putUserPolicy,
		PutGroupPolicy:                            s.putGroupPolicy,
		PutRolePolicy:                             s.putRolePolicy,
		GetUserPolicy:                             s.getUserPolicy,
		GetGroupPolicy:                            s.getGroupPolicy,
		GetRolePolicy:                             s.getRolePolicy,
		ListUserPolicies:                          s.listUserPolicies,
		ListGroupPolicies:                         s.listGroupPolicies,
		ListRolePolicies:                          s.listRolePolicies,
		DeleteUserPolicy:                          s.deleteUserPolicy,
		DeleteGroupPolicy:                         s.deleteGroupPolicy,
		DeleteRolePolicy:                          s.deleteRolePolicy,
		CreateInstanceProfile:                     s.createInstanceProfile,
		GetInstanceProfile:                        s.getInstanceProfile,
		ListInstanceProfiles:                      s.listInstanceProfiles,
		DeleteInstanceProfile:                     s.deleteInstanceProfile,
		AddRoleToInstanceProfile:                  s.addRoleToInstanceProfile,
		RemoveRoleFromInstanceProfile:             s.removeRoleFromInstanceProfile,
		ListInstanceProfilesForRole:               s.listInstanceProfilesForRole,
		TagInstanceProfile:                        s.tagInstanceProfile,
		UntagInstanceProfile:                      s.untagInstanceProfile,
		ListInstanceProfileTags:                   s.listInstanceProfileTags,
		CreateAccessKey:                           s.createAccessKey,
		ListAccessKeys:                            s.listAccessKeys,
		UpdateAccessKey:                           s.updateAccessKey,
		DeleteAccessKey:                           s.deleteAccessKey,
		GetAccessKeyLastUsed:                      s.getAccessKeyLastUsed,
		CreateLoginProfile:                        s.createLoginProfileChecked,
		GetLoginProfile:                           s.getLoginProfile,
		UpdateLoginProfile:                        s.updateLoginProfileChecked,
		DeleteLoginProfile:                        s.deleteLoginProfileChecked,
		CreateAccountAlias:                        s.createAccountAlias,
		DeleteAccountAlias:                        s.deleteAccountAlias,
		ListAccountAliases:                        s.listAccountAliases,
		GetAccountSummary:                         s.getAccountSummary,
		GetAccountAuthorizationDetails:            s.getAccountAuthorizationDetails,
		SimulatePrincipalPolicy:                   s.simulatePrincipalPolicy,
		SimulateCustomPolicy:                      s.simulateCustomPolicy,
		GetContextKeysForPrincipalPolicy:          s.getContextKeysForPrincipalPolicy,
		GetContextKeysForCustomPolicy:             s.getContextKeysForCustomPolicy,
		CreateOpenIDConnectProvider:               s.createOpenIDConnectProvider,
		GetOpenIDConnectProvider:                  s.getOpenIDConnectProvider,
		ListOpenIDConnectProviders:                s.listOpenIDConnectProviders,
		DeleteOpenIDConnectProvider:               s.deleteOpenIDConnectProvider,
		AddClientIDToOpenIDConnectProvider:        s.addClientIDToOpenIDConnectProvider,
		RemoveClientIDFromOpenIDConnectProvider:   s.removeClientIDFromOpenIDConnectProvider,
		UpdateOpenIDConnectProviderThumbprint:     s.updateOpenIDConnectProviderThumbprint,
		TagOpenIDConnectProvider:                  s.tagOpenIDConnectProvider,
		UntagOpenIDConnectProvider:                s.untagOpenIDConnectProvider,
		ListOpenIDConnectProviderTags:             s.listOpenIDConnectProviderTags,
		ChangePassword:                            s.changePassword,
		UpdateAccountPasswordPolicy:               s.updateAccountPasswordPolicy,
		GetAccountPasswordPolicy:                  s.getAccountPasswordPolicy,
		DeleteAccountPasswordPolicy:               s.deleteAccountPasswordPolicy,
		CreateVirtualMFADevice:                    s.createVirtualMFADevice,
		EnableMFADevice:                           s.enableMFADevice,
		ResyncMFADevice:                           s.resyncMFADevice,
		DeactivateMFADevice:                       s.deactivateMFADevice,
		DeleteVirtualMFADevice:                    s.deleteVirtualMFADevice,
		ListMFADevices:                            s.listMFADevices,
		ListVirtualMFADevices:                     s.listVirtualMFADevices,
		GetMFADevice:                              s.getMFADevice,
		TagMFADevice:                              s.tagMFADevice,
		UntagMFADevice:                            s.untagMFADevice,
		ListMFADeviceTags:                         s.listMFADeviceTags,
		UploadServerCertificate:                   s.uploadServerCertificate,
		GetServerCertificate:                      s.getServerCertificate,
		ListServerCertificates:                    s.listServerCertificates,
		UpdateServerCertificate:                   s.updateServerCertificate,
		DeleteServerCertificate:                   s.deleteServerCertificate,
		TagServerCertificate:                      s.tagServerCertificate,
		UntagServerCertificate:                    s.untagServerCertificate,
		ListServerCertificateTags:                 s.listServerCertificateTags,
		UploadSSHPublicKey:                        s.uploadSSHPublicKey,
		GetSSHPublicKey:                           s.getSSHPublicKey,
		ListSSHPublicKeys:                         s.listSSHPublicKeys,
		UpdateSSHPublicKey:                        s.updateSSHPublicKey,
		DeleteSSHPublicKey:                        s.deleteSSHPublicKey,
		UploadSigningCertificate:                  s.uploadSigningCertificate,
		ListSigningCertificates:                   s.listSigningCertificates,
		UpdateSigningCertificate:                  s.updateSigningCertificate,
		DeleteSigningCertificate:                  s.deleteSigningCertificate,
		CreateServiceSpecificCredential:           s.createServiceSpecificCredential,
		ListServiceSpecificCredentials:            s.listServiceSpecificCredentials,
		ResetServiceSpecificCredential:            s.resetServiceSpecificCredential,
		UpdateServiceSpecificCredential:           s.updateServiceSpecificCredential,
		DeleteServiceSpecificCredential:           s.deleteServiceSpecificCredential,
		CreateSAMLProvider:                        s.createSAMLProvider,
		GetSAMLProvider:                           s.getSAMLProvider,
		ListSAMLProviders:                         s.listSAMLProviders,
		UpdateSAMLProvider:                        s.updateSAMLProvider,
		DeleteSAMLProvider:                        s.deleteSAMLProvider,
		TagSAMLProvider:                           s.tagSAMLProvider,
		UntagSAMLProvider:                         s.untagSAMLProvider,
		ListSAMLProviderTags:                      s.listSAMLProviderTags,
		GenerateCredentialReport:                  s.generateCredentialReport,
		GetCredentialReport:                       s.getCredentialReport,
		GenerateServiceLastAccessedDetails:        s.generateServiceLastAccessedDetails,
		GetServiceLastAccessedDetails:             s.getServiceLastAccessedDetails,
		GetServiceLastAccessedDetailsWithEntities: s.getServiceLastAccessedDetailsWithEntities,
		ListPoliciesGrantingServiceAccess:         s.listPoliciesGrantingServiceAccess,
		GenerateOrganizationsAccessReport:         s.generateOrganizationsAccessReport,
		GetOrganizationsAccessReport:              s.getOrganizationsAccessReport,
		SetSecurityTokenServicePreferences:        s.setSecurityTokenServicePreferences,
	}
}

// account is the account a request is made in.
func account(ctx context.Context) string { return api.RequestFrom(ctx).Caller.Account }

// key is where a record of kind named name (any case) is kept.
func key(acct, kind, name string) store.Key {
	return store.Key{Account: acct, Kind: kind, ID: strings.ToLower(name)}
}

// errorf is an IAM error with the HTTP status its model gives the code.
func errorf(code, format string, args ...any) *api.Error {
	e := api.Errorf(code, format, args...)
	if sh, ok := iamapi.Service.Errors[code]; ok && sh.Status != 0 {
		e.Status = sh.Status
	}
	return e
}

func validationError(format string, args ...any) *api.Error {
	return errorf("ValidationError", format, args...)
}

func deleteConflict(format string, args ...any) *api.Error {
	return errorf("DeleteConflict", format, args...)
}

func limitExceeded(format string, args ...any) *api.Error {
	return errorf("LimitExceeded", format, args...)
}

// idAlphabet is that of IAM's unique ids (AIDA..., AROA...).
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// newID returns prefix and 17 random characters: a unique id as IAM forms
// them (21 characters in all).
func newID(prefix string) string {
	b := make([]byte, 17)
	rand.Read(b)
	for i := range b {
		b[i] = idAlphabet[int(b[i])%len(idAlphabet)]
	}
	return prefix + string(b)
}

// nowUTC is the time IAM stamps, to the second as it shows them.
func (s *Service) nowUTC() time.Time { return s.now().UTC().Truncate(time.Second) }

func str(s string) *string { return &s }

func i64(n int64) *int64 { return &n }

func boolp(b bool) *bool { return &b }

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func timePtr(t time.Time) *time.Time { return &t }

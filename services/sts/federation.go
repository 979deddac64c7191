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
)

const defaultFederationDuration = 12 * time.Hour

var federatedNameRE = regexp.MustCompile(`^[\w+=,.@-]*$`)

// GetFederationToken issues a federated user session to an IAM user (or
// the root user): arn:aws:sts::ACCT:federated-user/<name>, which may do
// what both the user's policies and the session policies passed allow.
func (s *Service) GetFederationToken(ctx context.Context, in *stsapi.GetFederationTokenRequest) (*stsapi.GetFederationTokenResponse, error) {
	caller := api.RequestFrom(ctx).Caller
	if caller.Session != nil || strings.HasPrefix(caller.AccessKeyID, "ASIA") {
		return nil, api.NewError(http.StatusForbidden, "AccessDenied", "Cannot call GetFederationToken with session credentials")
	}
	if !federatedNameRE.MatchString(*in.Name) {
		return nil, api.Errorf("ValidationError", "1 validation error detected: Value '%s' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*", *in.Name)
	}
	d := defaultFederationDuration
	if in.DurationSeconds != nil {
		d = time.Duration(*in.DurationSeconds) * time.Second
	}
	// The root user's sessions last an hour at most.
	if strings.HasSuffix(caller.ARN, ":root") && d > maxRootSession {
		d = maxRootSession
	}
	sess, _, packed, err := session(sessionInput{policy: in.Policy, policyARNs: in.PolicyArns, tags: in.Tags}, nil)
	if err != nil {
		return nil, err
	}
	sess.User = caller.ARN
	partition := "aws"
	if a, err := arn.Parse(caller.ARN); err == nil {
		partition = a.Partition
	}
	fedARN := arn.ARN{Partition: partition, Service: "sts", Account: caller.Account, Resource: "federated-user/" + *in.Name}.String()
	fedID := caller.Account + ":" + *in.Name
	cred, err := s.ids.Issue(api.Principal{Account: caller.Account, ARN: fedARN, UserID: fedID, Session: sess}, s.now(), d)
	if err != nil {
		return nil, err
	}
	return &stsapi.GetFederationTokenResponse{
		Credentials:      credentials(cred),
		FederatedUser:    &stsapi.FederatedUser{Arn: &fedARN, FederatedUserId: &fedID},
		PackedPolicySize: packed,
	}, nil
}

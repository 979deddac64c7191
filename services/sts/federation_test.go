package sts_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	stssdk "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

// Under enforcement a federated user may do what both its user's policies
// and the token's session policy allow; a token without a policy allows
// nothing, as AWS documents for GetFederationToken.
func TestFederationTokenEnforced(t *testing.T) {
	c := newCloud(t, "enforce")
	riam := c.iam(root)
	must[*iamsdk.CreateUserOutput](t)(riam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("broker")}))
	must[*iamsdk.PutUserPolicyOutput](t)(riam.PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String("broker"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["iam:ListUsers","iam:ListRoles","sts:GetFederationToken"],"Resource":"*"}}`)}))
	key := must[*iamsdk.CreateAccessKeyOutput](t)(riam.CreateAccessKey(ctx, &iamsdk.CreateAccessKeyInput{UserName: aws.String("broker")}))
	broker := credentials.NewStaticCredentialsProvider(*key.AccessKey.AccessKeyId, *key.AccessKey.SecretAccessKey, "")
	denied := func(err error) bool {
		var ae smithy.APIError
		return errors.As(err, &ae) && ae.ErrorCode() == "AccessDenied"
	}

	out := must[*stssdk.GetFederationTokenOutput](t)(c.sts(broker).GetFederationToken(ctx, &stssdk.GetFederationTokenInput{Name: aws.String("visitor"),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["iam:ListUsers","iam:CreateUser"],"Resource":"*"}}`)}))
	fed := c.iam(session(out.Credentials))
	must[*iamsdk.ListUsersOutput](t)(fed.ListUsers(ctx, &iamsdk.ListUsersInput{}))
	// The user may, the session policy does not allow it.
	if _, err := fed.ListRoles(ctx, &iamsdk.ListRolesInput{}); !denied(err) {
		t.Errorf("ListRoles outside the session policy: %v", err)
	}
	// The session policy allows it, the user may not.
	if _, err := fed.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("x")}); !denied(err) {
		t.Errorf("CreateUser outside the user's policies: %v", err)
	}

	bare := must[*stssdk.GetFederationTokenOutput](t)(c.sts(broker).GetFederationToken(ctx, &stssdk.GetFederationTokenInput{Name: aws.String("bare")}))
	if _, err := c.iam(session(bare.Credentials)).ListUsers(ctx, &iamsdk.ListUsersInput{}); !denied(err) {
		t.Errorf("ListUsers by a federated user without a session policy: %v", err)
	}

	// The root user's federated users have all of the account within
	// their session policy.
	rootFed := must[*stssdk.GetFederationTokenOutput](t)(c.sts(root).GetFederationToken(ctx, &stssdk.GetFederationTokenInput{Name: aws.String("ops"),
		Policy: aws.String(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iam:List*","Resource":"*"}}`)}))
	must[*iamsdk.ListRolesOutput](t)(c.iam(session(rootFed.Credentials)).ListRoles(ctx, &iamsdk.ListRolesInput{}))
}

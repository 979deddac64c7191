package iam_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	stssdk "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/cloudbox/cloudbox/server"
)

// TestAccessKeysStrict uses IAM's keys against a server that checks
// signatures: valid as soon as they are made, following their user's
// renames, refused once inactive or deleted.
func TestAccessKeysStrict(t *testing.T) {
	c := newCloud(t, server.AuthStrict)
	must[*iamsdk.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("kim")}))
	k1 := must[*iamsdk.CreateAccessKeyOutput](t)(c.iam.CreateAccessKey(ctx, &iamsdk.CreateAccessKeyInput{UserName: aws.String("kim")})).AccessKey
	k2 := must[*iamsdk.CreateAccessKeyOutput](t)(c.iam.CreateAccessKey(ctx, &iamsdk.CreateAccessKeyInput{UserName: aws.String("kim")})).AccessKey
	_, err := c.iam.CreateAccessKey(ctx, &iamsdk.CreateAccessKeyInput{UserName: aws.String("kim")})
	wantErr(t, err, "LimitExceeded", 409, "Cannot exceed quota for AccessKeysPerUser: 2")
	_, err = c.iam.CreateAccessKey(ctx, &iamsdk.CreateAccessKeyInput{UserName: aws.String("nobody")})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name nobody cannot be found.")

	kim := c.stsAs(aws.ToString(k1.AccessKeyId), aws.ToString(k1.SecretAccessKey))
	who := must[*stssdk.GetCallerIdentityOutput](t)(kim.GetCallerIdentity(ctx, &stssdk.GetCallerIdentityInput{}))
	if aws.ToString(who.Arn) != "arn:aws:iam::"+account+":user/kim" {
		t.Errorf("caller %s", aws.ToString(who.Arn))
	}
	// A rename or a move changes who the key signs as, at once.
	must[*iamsdk.UpdateUserOutput](t)(c.iam.UpdateUser(ctx, &iamsdk.UpdateUserInput{UserName: aws.String("kim"), NewUserName: aws.String("kimberly"), NewPath: aws.String("/x/")}))
	who = must[*stssdk.GetCallerIdentityOutput](t)(kim.GetCallerIdentity(ctx, &stssdk.GetCallerIdentityInput{}))
	if aws.ToString(who.Arn) != "arn:aws:iam::"+account+":user/x/kimberly" {
		t.Errorf("caller after rename %s", aws.ToString(who.Arn))
	}

	keys := must[*iamsdk.ListAccessKeysOutput](t)(c.iam.ListAccessKeys(ctx, &iamsdk.ListAccessKeysInput{UserName: aws.String("kimberly")})).AccessKeyMetadata
	if len(keys) != 2 || aws.ToString(keys[0].AccessKeyId) != aws.ToString(k1.AccessKeyId) || keys[1].Status != types.StatusTypeActive {
		t.Errorf("keys %+v", keys)
	}
	last := must[*iamsdk.GetAccessKeyLastUsedOutput](t)(c.iam.GetAccessKeyLastUsed(ctx, &iamsdk.GetAccessKeyLastUsedInput{AccessKeyId: k2.AccessKeyId}))
	if aws.ToString(last.UserName) != "kimberly" || aws.ToString(last.AccessKeyLastUsed.ServiceName) != "N/A" {
		t.Errorf("last used %+v", last)
	}

	_, err = c.iam.UpdateAccessKey(ctx, &iamsdk.UpdateAccessKeyInput{UserName: aws.String("kimberly"), AccessKeyId: k1.AccessKeyId, Status: "Paused"})
	wantErr(t, err, "ValidationError", 400, "1 validation error detected: Value 'Paused' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [Active, Inactive]")
	must[*iamsdk.UpdateAccessKeyOutput](t)(c.iam.UpdateAccessKey(ctx, &iamsdk.UpdateAccessKeyInput{UserName: aws.String("kimberly"), AccessKeyId: k1.AccessKeyId, Status: types.StatusTypeInactive}))
	_, err = kim.GetCallerIdentity(ctx, &stssdk.GetCallerIdentityInput{})
	wantErr(t, err, "InvalidClientTokenId", 403, "The security token included in the request is invalid.")
	// Renaming the user does not revive an inactive key.
	must[*iamsdk.UpdateUserOutput](t)(c.iam.UpdateUser(ctx, &iamsdk.UpdateUserInput{UserName: aws.String("kimberly"), NewUserName: aws.String("kim")}))
	_, err = kim.GetCallerIdentity(ctx, &stssdk.GetCallerIdentityInput{})
	wantErr(t, err, "InvalidClientTokenId", 403, "The security token included in the request is invalid.")

	// The user signs her own key calls without naming herself.
	self := c.iamAs(aws.ToString(k2.AccessKeyId), aws.ToString(k2.SecretAccessKey))
	must[*iamsdk.DeleteAccessKeyOutput](t)(self.DeleteAccessKey(ctx, &iamsdk.DeleteAccessKeyInput{AccessKeyId: k1.AccessKeyId}))
	_, err = self.DeleteAccessKey(ctx, &iamsdk.DeleteAccessKeyInput{AccessKeyId: k1.AccessKeyId})
	wantErr(t, err, "NoSuchEntity", 404, "The Access Key with id "+aws.ToString(k1.AccessKeyId)+" cannot be found.")

	_, err = c.iam.DeleteUser(ctx, &iamsdk.DeleteUserInput{UserName: aws.String("kim")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must delete access keys first.")
	must[*iamsdk.DeleteAccessKeyOutput](t)(c.iam.DeleteAccessKey(ctx, &iamsdk.DeleteAccessKeyInput{UserName: aws.String("kim"), AccessKeyId: k2.AccessKeyId}))
	_, err = self.ListAccessKeys(ctx, &iamsdk.ListAccessKeysInput{})
	wantErr(t, err, "InvalidClientTokenId", 403, "The security token included in the request is invalid.")
	must[*iamsdk.DeleteUserOutput](t)(c.iam.DeleteUser(ctx, &iamsdk.DeleteUserInput{UserName: aws.String("kim")}))
}

func TestKeysOfNonUsers(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	// The root user has no keys here.
	keys := must[*iamsdk.ListAccessKeysOutput](t)(c.iam.ListAccessKeys(ctx, &iamsdk.ListAccessKeysInput{}))
	if len(keys.AccessKeyMetadata) != 0 {
		t.Errorf("root's keys %+v", keys.AccessKeyMetadata)
	}
	// An assumed role must name the user.
	creds := must[*stssdk.AssumeRoleOutput](t)(c.stsAs("test", "test").AssumeRole(ctx, &stssdk.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + account + ":role/any"), RoleSessionName: aws.String("session"),
	})).Credentials
	role := iamsdk.New(iamsdk.Options{Region: region, BaseEndpoint: aws.String(c.url), RetryMaxAttempts: 1,
		Credentials: staticCreds(aws.ToString(creds.AccessKeyId), aws.ToString(creds.SecretAccessKey), aws.ToString(creds.SessionToken))})
	_, err := role.GetUser(ctx, &iamsdk.GetUserInput{})
	wantErr(t, err, "ValidationError", 400, "Must specify userName when calling with non-User credentials")
	_, err = role.ListAccessKeys(ctx, &iamsdk.ListAccessKeysInput{})
	wantErr(t, err, "ValidationError", 400, "Must specify userName when calling with non-User credentials")
}

func TestLoginProfiles(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	must[*iamsdk.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("lou")}))
	_, err := c.iam.GetLoginProfile(ctx, &iamsdk.GetLoginProfileInput{UserName: aws.String("lou")})
	wantErr(t, err, "NoSuchEntity", 404, "Login Profile for User lou cannot be found.")
	lp := must[*iamsdk.CreateLoginProfileOutput](t)(c.iam.CreateLoginProfile(ctx, &iamsdk.CreateLoginProfileInput{UserName: aws.String("lou"), Password: aws.String("S3cret!pass"), PasswordResetRequired: true})).LoginProfile
	if aws.ToString(lp.UserName) != "lou" || !lp.PasswordResetRequired || !lp.CreateDate.Equal(created) {
		t.Errorf("CreateLoginProfile: %+v", lp)
	}
	_, err = c.iam.CreateLoginProfile(ctx, &iamsdk.CreateLoginProfileInput{UserName: aws.String("lou"), Password: aws.String("x")})
	wantErr(t, err, "EntityAlreadyExists", 409, "Login Profile for user lou already exists.")
	must[*iamsdk.UpdateLoginProfileOutput](t)(c.iam.UpdateLoginProfile(ctx, &iamsdk.UpdateLoginProfileInput{UserName: aws.String("lou"), PasswordResetRequired: aws.Bool(false)}))
	if got := must[*iamsdk.GetLoginProfileOutput](t)(c.iam.GetLoginProfile(ctx, &iamsdk.GetLoginProfileInput{UserName: aws.String("lou")})).LoginProfile; got.PasswordResetRequired {
		t.Errorf("after update %+v", got)
	}
	_, err = c.iam.DeleteUser(ctx, &iamsdk.DeleteUserInput{UserName: aws.String("lou")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must delete login profile first.")
	must[*iamsdk.DeleteLoginProfileOutput](t)(c.iam.DeleteLoginProfile(ctx, &iamsdk.DeleteLoginProfileInput{UserName: aws.String("lou")}))
	must[*iamsdk.DeleteUserOutput](t)(c.iam.DeleteUser(ctx, &iamsdk.DeleteUserInput{UserName: aws.String("lou")}))
}

package iam_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/cloudbox/cloudbox/server"
)

// TestPasswordPolicy sets the account's password policy and has
// CreateLoginProfile, UpdateLoginProfile and ChangePassword keep to it.
func TestPasswordPolicy(t *testing.T) {
	c := newCloud(t, server.AuthStrict)
	_, err := c.iam.GetAccountPasswordPolicy(ctx, &iamsdk.GetAccountPasswordPolicyInput{})
	wantErr(t, err, "NoSuchEntity", 404, "The Password Policy with domain name "+account+" cannot be found.")
	_, err = c.iam.DeleteAccountPasswordPolicy(ctx, &iamsdk.DeleteAccountPasswordPolicyInput{})
	wantErr(t, err, "NoSuchEntity", 404, "The Password Policy with domain name "+account+" cannot be found.")

	must[*iamsdk.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("pat")}))
	// Without a custom policy IAM's default one applies: 8 characters of
	// three kinds.
	_, err = c.iam.CreateLoginProfile(ctx, &iamsdk.CreateLoginProfileInput{UserName: aws.String("pat"), Password: aws.String("password")})
	wantErr(t, err, "PasswordPolicyViolation", 400, "Password does not conform to the account password policy.")

	must[*iamsdk.UpdateAccountPasswordPolicyOutput](t)(c.iam.UpdateAccountPasswordPolicy(ctx, &iamsdk.UpdateAccountPasswordPolicyInput{
		MinimumPasswordLength: aws.Int32(12), RequireNumbers: true, RequireSymbols: true, MaxPasswordAge: aws.Int32(90),
		PasswordReusePrevention: aws.Int32(2), AllowUsersToChangePassword: true,
	}))
	pp := must[*iamsdk.GetAccountPasswordPolicyOutput](t)(c.iam.GetAccountPasswordPolicy(ctx, &iamsdk.GetAccountPasswordPolicyInput{})).PasswordPolicy
	if aws.ToInt32(pp.MinimumPasswordLength) != 12 || !pp.RequireNumbers || !pp.RequireSymbols || pp.RequireUppercaseCharacters ||
		!pp.ExpirePasswords || aws.ToInt32(pp.MaxPasswordAge) != 90 || aws.ToInt32(pp.PasswordReusePrevention) != 2 || !pp.AllowUsersToChangePassword {
		t.Errorf("policy %+v", pp)
	}
	_, err = c.iam.CreateLoginProfile(ctx, &iamsdk.CreateLoginProfileInput{UserName: aws.String("pat"), Password: aws.String("short1!")})
	wantErr(t, err, "PasswordPolicyViolation", 400, "Password does not conform to the account password policy.")
	_, err = c.iam.CreateLoginProfile(ctx, &iamsdk.CreateLoginProfileInput{UserName: aws.String("pat"), Password: aws.String("long enough but no digit!")})
	wantErr(t, err, "PasswordPolicyViolation", 400, "Password does not conform to the account password policy.")
	_, err = c.iam.CreateLoginProfile(ctx, &iamsdk.CreateLoginProfileInput{UserName: aws.String("nobody"), Password: aws.String("x")})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name nobody cannot be found.")
	must[*iamsdk.CreateLoginProfileOutput](t)(c.iam.CreateLoginProfile(ctx, &iamsdk.CreateLoginProfileInput{UserName: aws.String("pat"), Password: aws.String("first-passw0rd")}))
	// The profile's existence is refused before the password is judged.
	_, err = c.iam.CreateLoginProfile(ctx, &iamsdk.CreateLoginProfileInput{UserName: aws.String("pat"), Password: aws.String("x")})
	wantErr(t, err, "EntityAlreadyExists", 409, "Login Profile for user pat already exists.")
	_, err = c.iam.UpdateLoginProfile(ctx, &iamsdk.UpdateLoginProfileInput{UserName: aws.String("pat"), Password: aws.String("nodigits-here!")})
	wantErr(t, err, "PasswordPolicyViolation", 400, "Password does not conform to the account password policy.")

	// The user changes her own password: the old one must be right, the
	// new one must keep to the policy and not be one of the last two.
	key := must[*iamsdk.CreateAccessKeyOutput](t)(c.iam.CreateAccessKey(ctx, &iamsdk.CreateAccessKeyInput{UserName: aws.String("pat")})).AccessKey
	pat := c.iamAs(aws.ToString(key.AccessKeyId), aws.ToString(key.SecretAccessKey))
	_, err = pat.ChangePassword(ctx, &iamsdk.ChangePasswordInput{OldPassword: aws.String("wrong-passw0rd"), NewPassword: aws.String("second-passw0rd")})
	wantErr(t, err, "InvalidUserType", 400, "The old password is incorrect.")
	_, err = pat.ChangePassword(ctx, &iamsdk.ChangePasswordInput{OldPassword: aws.String("first-passw0rd"), NewPassword: aws.String("first-passw0rd")})
	wantErr(t, err, "PasswordPolicyViolation", 400, "Password does not conform to the account password policy.")
	must[*iamsdk.ChangePasswordOutput](t)(pat.ChangePassword(ctx, &iamsdk.ChangePasswordInput{OldPassword: aws.String("first-passw0rd"), NewPassword: aws.String("second-passw0rd")}))
	must[*iamsdk.ChangePasswordOutput](t)(pat.ChangePassword(ctx, &iamsdk.ChangePasswordInput{OldPassword: aws.String("second-passw0rd"), NewPassword: aws.String("third-passw0rd!")}))
	// Two back is remembered; three back is not.
	_, err = pat.ChangePassword(ctx, &iamsdk.ChangePasswordInput{OldPassword: aws.String("third-passw0rd!"), NewPassword: aws.String("second-passw0rd")})
	wantErr(t, err, "PasswordPolicyViolation", 400, "Password does not conform to the account password policy.")
	must[*iamsdk.ChangePasswordOutput](t)(pat.ChangePassword(ctx, &iamsdk.ChangePasswordInput{OldPassword: aws.String("third-passw0rd!"), NewPassword: aws.String("first-passw0rd")}))
	// The root user has no password to change through IAM.
	_, err = c.iam.ChangePassword(ctx, &iamsdk.ChangePasswordInput{OldPassword: aws.String("a"), NewPassword: aws.String("b")})
	wantErr(t, err, "InvalidUserType", 400, "Only IAM Users can change their own password.")

	// An update replaces the whole policy: what it leaves out is reset.
	must[*iamsdk.UpdateAccountPasswordPolicyOutput](t)(c.iam.UpdateAccountPasswordPolicy(ctx, &iamsdk.UpdateAccountPasswordPolicyInput{RequireUppercaseCharacters: true}))
	pp = must[*iamsdk.GetAccountPasswordPolicyOutput](t)(c.iam.GetAccountPasswordPolicy(ctx, &iamsdk.GetAccountPasswordPolicyInput{})).PasswordPolicy
	if aws.ToInt32(pp.MinimumPasswordLength) != 6 || !pp.RequireUppercaseCharacters || pp.RequireNumbers || pp.ExpirePasswords || pp.MaxPasswordAge != nil || pp.PasswordReusePrevention != nil {
		t.Errorf("policy after update %+v", pp)
	}
	must[*iamsdk.UpdateLoginProfileOutput](t)(c.iam.UpdateLoginProfile(ctx, &iamsdk.UpdateLoginProfileInput{UserName: aws.String("pat"), Password: aws.String("Short1")}))
	must[*iamsdk.DeleteAccountPasswordPolicyOutput](t)(c.iam.DeleteAccountPasswordPolicy(ctx, &iamsdk.DeleteAccountPasswordPolicyInput{}))
	_, err = c.iam.GetAccountPasswordPolicy(ctx, &iamsdk.GetAccountPasswordPolicyInput{})
	wantErr(t, err, "NoSuchEntity", 404, "The Password Policy with domain name "+account+" cannot be found.")
}

package iam_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/cloudbox/cloudbox/server"
)

func TestAccountAlias(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	other := c.iamAs("111111111111", "secret") // another account
	must[*iamsdk.CreateAccountAliasOutput](t)(c.iam.CreateAccountAlias(ctx, &iamsdk.CreateAccountAliasInput{AccountAlias: aws.String("my-shop")}))
	if a := must[*iamsdk.ListAccountAliasesOutput](t)(c.iam.ListAccountAliases(ctx, &iamsdk.ListAccountAliasesInput{})).AccountAliases; len(a) != 1 || a[0] != "my-shop" {
		t.Errorf("aliases %v", a)
	}
	_, err := other.CreateAccountAlias(ctx, &iamsdk.CreateAccountAliasInput{AccountAlias: aws.String("my-shop")})
	wantErr(t, err, "EntityAlreadyExists", 409, "The account alias my-shop already exists.")
	if a := must[*iamsdk.ListAccountAliasesOutput](t)(other.ListAccountAliases(ctx, &iamsdk.ListAccountAliasesInput{})).AccountAliases; len(a) != 0 {
		t.Errorf("other account's aliases %v", a)
	}
	// A new alias replaces the account's, and frees the old one.
	must[*iamsdk.CreateAccountAliasOutput](t)(c.iam.CreateAccountAlias(ctx, &iamsdk.CreateAccountAliasInput{AccountAlias: aws.String("my-store")}))
	must[*iamsdk.CreateAccountAliasOutput](t)(other.CreateAccountAlias(ctx, &iamsdk.CreateAccountAliasInput{AccountAlias: aws.String("my-shop")}))
	_, err = c.iam.DeleteAccountAlias(ctx, &iamsdk.DeleteAccountAliasInput{AccountAlias: aws.String("my-shop")})
	wantErr(t, err, "NoSuchEntity", 404, "The account alias my-shop cannot be found.")
	must[*iamsdk.DeleteAccountAliasOutput](t)(c.iam.DeleteAccountAlias(ctx, &iamsdk.DeleteAccountAliasInput{AccountAlias: aws.String("my-store")}))
	for _, bad := range []string{"My-Shop", "a--b", "-ab", "ab-"} {
		_, err = c.iam.CreateAccountAlias(ctx, &iamsdk.CreateAccountAliasInput{AccountAlias: aws.String(bad)})
		wantErr(t, err, "ValidationError", 400, "1 validation error detected: Value '"+bad+"' at 'accountAlias' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9]([a-z0-9]|-(?!-)){1,61}[a-z0-9]$")
	}
}

func TestAccountSummary(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	must[*iamsdk.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("a")}))
	must[*iamsdk.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("b")}))
	arn := must[*iamsdk.CreatePolicyOutput](t)(c.iam.CreatePolicy(ctx, &iamsdk.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(doc("s3:*"))})).Policy.Arn
	must[*iamsdk.CreatePolicyVersionOutput](t)(c.iam.CreatePolicyVersion(ctx, &iamsdk.CreatePolicyVersionInput{PolicyArn: arn, PolicyDocument: aws.String(doc("s3:Get*"))}))
	m := must[*iamsdk.GetAccountSummaryOutput](t)(c.iam.GetAccountSummary(ctx, &iamsdk.GetAccountSummaryInput{})).SummaryMap
	for k, want := range map[string]int32{"Users": 2, "Groups": 0, "Policies": 1, "PolicyVersionsInUse": 2, "UsersQuota": 5000, "AccessKeysPerUserQuota": 2, "VersionsPerPolicyQuota": 5} {
		if m[k] != want {
			t.Errorf("%s = %d, want %d", k, m[k], want)
		}
	}
}

func TestAccountAuthorizationDetails(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	must[*iamsdk.CreateGroupOutput](t)(c.iam.CreateGroup(ctx, &iamsdk.CreateGroupInput{GroupName: aws.String("Admins")}))
	must[*iamsdk.AttachGroupPolicyOutput](t)(c.iam.AttachGroupPolicy(ctx, &iamsdk.AttachGroupPolicyInput{GroupName: aws.String("Admins"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess")}))
	must[*iamsdk.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("root-ish")}))
	must[*iamsdk.AddUserToGroupOutput](t)(c.iam.AddUserToGroup(ctx, &iamsdk.AddUserToGroupInput{GroupName: aws.String("Admins"), UserName: aws.String("root-ish")}))
	must[*iamsdk.PutUserPolicyOutput](t)(c.iam.PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String("root-ish"), PolicyName: aws.String("inline"), PolicyDocument: aws.String(doc("sqs:*"))}))
	must[*iamsdk.CreateRoleOutput](t)(c.iam.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(trustEC2)}))
	must[*iamsdk.CreateInstanceProfileOutput](t)(c.iam.CreateInstanceProfile(ctx, &iamsdk.CreateInstanceProfileInput{InstanceProfileName: aws.String("web")}))
	must[*iamsdk.AddRoleToInstanceProfileOutput](t)(c.iam.AddRoleToInstanceProfile(ctx, &iamsdk.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("web")}))
	must[*iamsdk.CreatePolicyOutput](t)(c.iam.CreatePolicy(ctx, &iamsdk.CreatePolicyInput{PolicyName: aws.String("mine"), PolicyDocument: aws.String(doc("s3:*"))}))

	d := must[*iamsdk.GetAccountAuthorizationDetailsOutput](t)(c.iam.GetAccountAuthorizationDetails(ctx, &iamsdk.GetAccountAuthorizationDetailsInput{}))
	if len(d.UserDetailList) != 1 || len(d.GroupDetailList) != 1 || len(d.RoleDetailList) != 1 || len(d.Policies) != 2 {
		t.Fatalf("details: %d users, %d groups, %d roles, %d policies", len(d.UserDetailList), len(d.GroupDetailList), len(d.RoleDetailList), len(d.Policies))
	}
	u := d.UserDetailList[0]
	if strings.Join(u.GroupList, ",") != "Admins" || len(u.UserPolicyList) != 1 || decoded(t, u.UserPolicyList[0].PolicyDocument) != doc("sqs:*") {
		t.Errorf("user detail %+v", u)
	}
	if r := d.RoleDetailList[0]; len(r.InstanceProfileList) != 1 || decoded(t, r.AssumeRolePolicyDocument) != trustEC2 {
		t.Errorf("role detail %+v", r)
	}
	// AWS's policies appear as far as the account uses them.
	if p := d.Policies[0]; aws.ToString(p.PolicyName) != "AdministratorAccess" || aws.ToInt32(p.AttachmentCount) != 1 || len(p.PolicyVersionList) != 1 {
		t.Errorf("policy detail %+v", p)
	}

	roles := must[*iamsdk.GetAccountAuthorizationDetailsOutput](t)(c.iam.GetAccountAuthorizationDetails(ctx, &iamsdk.GetAccountAuthorizationDetailsInput{Filter: []types.EntityType{types.EntityTypeRole}}))
	if len(roles.RoleDetailList) != 1 || len(roles.UserDetailList)+len(roles.GroupDetailList)+len(roles.Policies) != 0 {
		t.Errorf("roles only: %+v", roles)
	}
	var seen int
	p := iamsdk.NewGetAccountAuthorizationDetailsPaginator(c.iam, &iamsdk.GetAccountAuthorizationDetailsInput{MaxItems: aws.Int32(2)})
	for p.HasMorePages() {
		page := must[*iamsdk.GetAccountAuthorizationDetailsOutput](t)(p.NextPage(ctx))
		seen += len(page.UserDetailList) + len(page.GroupDetailList) + len(page.RoleDetailList) + len(page.Policies)
	}
	if seen != 5 {
		t.Errorf("%d items in pages, want 5", seen)
	}
}

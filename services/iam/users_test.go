package iam_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/cloudbox/cloudbox/server"
)

var userIDRE = regexp.MustCompile(`^AIDA[A-Z2-7]{17}$`)

func TestUserLifecycle(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	out := must[*iamsdk.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{
		UserName: aws.String("alice"), Path: aws.String("/engineering/"),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("web")}},
	}))
	u := out.User
	if aws.ToString(u.Arn) != "arn:aws:iam::"+account+":user/engineering/alice" || aws.ToString(u.Path) != "/engineering/" ||
		!userIDRE.MatchString(aws.ToString(u.UserId)) || !u.CreateDate.Equal(created) || len(u.Tags) != 1 {
		t.Fatalf("CreateUser: %+v", u)
	}

	// Names are unique and found without regard to case.
	_, err := c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("ALICE")})
	wantErr(t, err, "EntityAlreadyExists", 409, "User with name ALICE already exists.")
	got := must[*iamsdk.GetUserOutput](t)(c.iam.GetUser(ctx, &iamsdk.GetUserInput{UserName: aws.String("Alice")}))
	if aws.ToString(got.User.UserName) != "alice" || aws.ToString(got.User.UserId) != aws.ToString(u.UserId) || len(got.User.Tags) != 1 {
		t.Errorf("GetUser: %+v", got.User)
	}

	must[*iamsdk.UpdateUserOutput](t)(c.iam.UpdateUser(ctx, &iamsdk.UpdateUserInput{UserName: aws.String("alice"), NewUserName: aws.String("alice2"), NewPath: aws.String("/ops/")}))
	_, err = c.iam.GetUser(ctx, &iamsdk.GetUserInput{UserName: aws.String("alice")})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name alice cannot be found.")
	got = must[*iamsdk.GetUserOutput](t)(c.iam.GetUser(ctx, &iamsdk.GetUserInput{UserName: aws.String("alice2")}))
	if aws.ToString(got.User.Arn) != "arn:aws:iam::"+account+":user/ops/alice2" || aws.ToString(got.User.UserId) != aws.ToString(u.UserId) {
		t.Errorf("after UpdateUser: %+v", got.User)
	}

	must[*iamsdk.DeleteUserOutput](t)(c.iam.DeleteUser(ctx, &iamsdk.DeleteUserInput{UserName: aws.String("alice2")}))
	_, err = c.iam.DeleteUser(ctx, &iamsdk.DeleteUserInput{UserName: aws.String("alice2")})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name alice2 cannot be found.")
}

func TestUserValidation(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	_, err := c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("bad name")})
	wantErr(t, err, "ValidationError", 400, `1 validation error detected: Value 'bad name' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`)
	for _, p := range []string{"engineering", "/engineering", "engineering/", "/a b/"} {
		_, err = c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("bob"), Path: aws.String(p)})
		wantErr(t, err, "ValidationError", 400, "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	_, err = c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("a123456789012345678901234567890123456789012345678901234567890123456789")})
	wantErr(t, err, "ValidationError", 400, "1 validation error detected: Value 'a123456789012345678901234567890123456789012345678901234567890123456789' at 'userName' failed to satisfy constraint: Member must have length less than or equal to 64")
	_, err = c.iam.ListUsers(ctx, &iamsdk.ListUsersInput{PathPrefix: aws.String("nope")})
	wantErr(t, err, "ValidationError", 400, `1 validation error detected: Value 'nope' at 'pathPrefix' failed to satisfy constraint: Member must satisfy regular expression pattern: \u002F[\u0021-\u007F]*`)
	_, err = c.iam.ListUsers(ctx, &iamsdk.ListUsersInput{Marker: aws.String("garbage")})
	wantErr(t, err, "ValidationError", 400, "Invalid Marker: garbage")
}

func TestListUsersPages(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	for i := range 7 {
		path := "/a/"
		if i%2 == 1 {
			path = "/b/"
		}
		must[*iamsdk.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String(fmt.Sprintf("user%d", i)), Path: aws.String(path)}))
	}
	var names []string
	pages := 0
	p := iamsdk.NewListUsersPaginator(c.iam, &iamsdk.ListUsersInput{MaxItems: aws.Int32(3)})
	for p.HasMorePages() {
		page := must[*iamsdk.ListUsersOutput](t)(p.NextPage(ctx))
		pages++
		for _, u := range page.Users {
			names = append(names, aws.ToString(u.UserName))
			if u.Tags != nil || u.PermissionsBoundary != nil {
				t.Errorf("ListUsers shows tags or a boundary: %+v", u)
			}
		}
	}
	if want := "[user0 user1 user2 user3 user4 user5 user6]"; fmt.Sprint(names) != want || pages != 3 {
		t.Errorf("users %v in %d pages, want %s in 3", names, pages, want)
	}
	b := must[*iamsdk.ListUsersOutput](t)(c.iam.ListUsers(ctx, &iamsdk.ListUsersInput{PathPrefix: aws.String("/b")}))
	if len(b.Users) != 3 || b.IsTruncated {
		t.Errorf("PathPrefix /b: %d users, truncated %v", len(b.Users), b.IsTruncated)
	}
}

func TestUserPermissionsBoundary(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	const boundary = "arn:aws:iam::aws:policy/PowerUserAccess"
	must[*iamsdk.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("carol"), PermissionsBoundary: aws.String(boundary)}))
	u := must[*iamsdk.GetUserOutput](t)(c.iam.GetUser(ctx, &iamsdk.GetUserInput{UserName: aws.String("carol")})).User
	if u.PermissionsBoundary == nil || aws.ToString(u.PermissionsBoundary.PermissionsBoundaryArn) != boundary ||
		u.PermissionsBoundary.PermissionsBoundaryType != types.PermissionsBoundaryAttachmentTypePolicy {
		t.Fatalf("boundary %+v", u.PermissionsBoundary)
	}
	p := must[*iamsdk.GetPolicyOutput](t)(c.iam.GetPolicy(ctx, &iamsdk.GetPolicyInput{PolicyArn: aws.String(boundary)})).Policy
	if aws.ToInt32(p.PermissionsBoundaryUsageCount) != 1 || aws.ToInt32(p.AttachmentCount) != 0 {
		t.Errorf("usage %d, attachments %d", aws.ToInt32(p.PermissionsBoundaryUsageCount), aws.ToInt32(p.AttachmentCount))
	}
	_, err := c.iam.PutUserPermissionsBoundary(ctx, &iamsdk.PutUserPermissionsBoundaryInput{UserName: aws.String("carol"), PermissionsBoundary: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")})
	wantErr(t, err, "NoSuchEntity", 404, "Scope ARN: arn:aws:iam::aws:policy/NoSuchPolicy does not exist or is not attachable.")
	must[*iamsdk.DeleteUserPermissionsBoundaryOutput](t)(c.iam.DeleteUserPermissionsBoundary(ctx, &iamsdk.DeleteUserPermissionsBoundaryInput{UserName: aws.String("carol")}))
	u = must[*iamsdk.GetUserOutput](t)(c.iam.GetUser(ctx, &iamsdk.GetUserInput{UserName: aws.String("carol")})).User
	if u.PermissionsBoundary != nil {
		t.Errorf("boundary after delete: %+v", u.PermissionsBoundary)
	}
}

func TestUserTags(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	must[*iamsdk.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("dave")}))
	must[*iamsdk.TagUserOutput](t)(c.iam.TagUser(ctx, &iamsdk.TagUserInput{UserName: aws.String("dave"), Tags: []types.Tag{
		{Key: aws.String("CostCenter"), Value: aws.String("1")}, {Key: aws.String("env"), Value: aws.String("dev")},
	}}))
	// Keys are compared without regard to case.
	must[*iamsdk.TagUserOutput](t)(c.iam.TagUser(ctx, &iamsdk.TagUserInput{UserName: aws.String("dave"), Tags: []types.Tag{{Key: aws.String("costcenter"), Value: aws.String("2")}}}))
	must[*iamsdk.UntagUserOutput](t)(c.iam.UntagUser(ctx, &iamsdk.UntagUserInput{UserName: aws.String("dave"), TagKeys: []string{"ENV"}}))
	tags := must[*iamsdk.ListUserTagsOutput](t)(c.iam.ListUserTags(ctx, &iamsdk.ListUserTagsInput{UserName: aws.String("dave")})).Tags
	if len(tags) != 1 || aws.ToString(tags[0].Key) != "costcenter" || aws.ToString(tags[0].Value) != "2" {
		t.Errorf("tags %+v", tags)
	}
	many := make([]types.Tag, 51)
	for i := range many {
		many[i] = types.Tag{Key: aws.String(fmt.Sprintf("k%d", i)), Value: aws.String("v")}
	}
	_, err := c.iam.TagUser(ctx, &iamsdk.TagUserInput{UserName: aws.String("dave"), Tags: many})
	wantErr(t, err, "ValidationError", 400, "1 validation error detected: Value '51' at 'tags' failed to satisfy constraint: Member must have length less than or equal to 50")
	_, err = c.iam.TagUser(ctx, &iamsdk.TagUserInput{UserName: aws.String("dave"), Tags: many[:50]})
	wantErr(t, err, "LimitExceeded", 409, "The number of tags has reached the maximum limit.")
	_, err = c.iam.TagUser(ctx, &iamsdk.TagUserInput{UserName: aws.String("nobody"), Tags: many[:1]})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name nobody cannot be found.")
}

func TestGetUserCaller(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	// The test key is the account's root user.
	root := must[*iamsdk.GetUserOutput](t)(c.iam.GetUser(ctx, &iamsdk.GetUserInput{})).User
	if aws.ToString(root.Arn) != "arn:aws:iam::"+account+":root" || aws.ToString(root.UserId) != account || root.UserName != nil {
		t.Errorf("root: %+v", root)
	}
	must[*iamsdk.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("erin"), Path: aws.String("/dev/")}))
	key := must[*iamsdk.CreateAccessKeyOutput](t)(c.iam.CreateAccessKey(ctx, &iamsdk.CreateAccessKeyInput{UserName: aws.String("erin")})).AccessKey
	erin := c.iamAs(aws.ToString(key.AccessKeyId), aws.ToString(key.SecretAccessKey))
	me := must[*iamsdk.GetUserOutput](t)(erin.GetUser(ctx, &iamsdk.GetUserInput{})).User
	if aws.ToString(me.UserName) != "erin" || aws.ToString(me.Arn) != "arn:aws:iam::"+account+":user/dev/erin" {
		t.Errorf("caller: %+v", me)
	}
	// Her keys, without naming her.
	keys := must[*iamsdk.ListAccessKeysOutput](t)(erin.ListAccessKeys(ctx, &iamsdk.ListAccessKeysInput{})).AccessKeyMetadata
	if len(keys) != 1 || aws.ToString(keys[0].UserName) != "erin" {
		t.Errorf("ListAccessKeys of the caller: %+v", keys)
	}
}

package iam_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/cloudbox/cloudbox/server"
)

func TestGroupMembership(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	g := must[*iamsdk.CreateGroupOutput](t)(c.iam.CreateGroup(ctx, &iamsdk.CreateGroupInput{GroupName: aws.String("devs"), Path: aws.String("/eng/")})).Group
	if aws.ToString(g.Arn) != "arn:aws:iam::"+account+":group/eng/devs" || len(aws.ToString(g.GroupId)) != 21 || aws.ToString(g.GroupId)[:4] != "AGPA" {
		t.Fatalf("CreateGroup: %+v", g)
	}
	_, err := c.iam.CreateGroup(ctx, &iamsdk.CreateGroupInput{GroupName: aws.String("Devs")})
	wantErr(t, err, "EntityAlreadyExists", 409, "Group with name Devs already exists.")
	for _, u := range []string{"bob", "amy"} {
		must[*iamsdk.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String(u)}))
		must[*iamsdk.AddUserToGroupOutput](t)(c.iam.AddUserToGroup(ctx, &iamsdk.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String(u)}))
	}
	// Adding again changes nothing.
	must[*iamsdk.AddUserToGroupOutput](t)(c.iam.AddUserToGroup(ctx, &iamsdk.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("bob")}))
	_, err = c.iam.AddUserToGroup(ctx, &iamsdk.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("nobody")})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name nobody cannot be found.")
	_, err = c.iam.AddUserToGroup(ctx, &iamsdk.AddUserToGroupInput{GroupName: aws.String("nogroup"), UserName: aws.String("bob")})
	wantErr(t, err, "NoSuchEntity", 404, "The group with name nogroup cannot be found.")

	got := must[*iamsdk.GetGroupOutput](t)(c.iam.GetGroup(ctx, &iamsdk.GetGroupInput{GroupName: aws.String("devs")}))
	if len(got.Users) != 2 || aws.ToString(got.Users[0].UserName) != "amy" || aws.ToString(got.Users[1].UserName) != "bob" {
		t.Errorf("GetGroup users %+v", got.Users)
	}
	first := must[*iamsdk.GetGroupOutput](t)(c.iam.GetGroup(ctx, &iamsdk.GetGroupInput{GroupName: aws.String("devs"), MaxItems: aws.Int32(1)}))
	if len(first.Users) != 1 || !first.IsTruncated || first.Marker == nil {
		t.Fatalf("first page %+v", first)
	}
	second := must[*iamsdk.GetGroupOutput](t)(c.iam.GetGroup(ctx, &iamsdk.GetGroupInput{GroupName: aws.String("devs"), Marker: first.Marker}))
	if len(second.Users) != 1 || aws.ToString(second.Users[0].UserName) != "bob" || second.IsTruncated {
		t.Errorf("second page %+v", second)
	}

	// A group with members cannot go; a user in a group neither.
	_, err = c.iam.DeleteGroup(ctx, &iamsdk.DeleteGroupInput{GroupName: aws.String("devs")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must remove users from group first.")
	_, err = c.iam.DeleteUser(ctx, &iamsdk.DeleteUserInput{UserName: aws.String("bob")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must remove users from group first.")

	// Renaming the group keeps its members.
	must[*iamsdk.UpdateGroupOutput](t)(c.iam.UpdateGroup(ctx, &iamsdk.UpdateGroupInput{GroupName: aws.String("devs"), NewGroupName: aws.String("developers")}))
	groups := must[*iamsdk.ListGroupsForUserOutput](t)(c.iam.ListGroupsForUser(ctx, &iamsdk.ListGroupsForUserInput{UserName: aws.String("bob")})).Groups
	if len(groups) != 1 || aws.ToString(groups[0].GroupName) != "developers" || aws.ToString(groups[0].Path) != "/eng/" {
		t.Errorf("groups for bob: %+v", groups)
	}

	for _, u := range []string{"bob", "amy"} {
		must[*iamsdk.RemoveUserFromGroupOutput](t)(c.iam.RemoveUserFromGroup(ctx, &iamsdk.RemoveUserFromGroupInput{GroupName: aws.String("developers"), UserName: aws.String(u)}))
	}
	_, err = c.iam.RemoveUserFromGroup(ctx, &iamsdk.RemoveUserFromGroupInput{GroupName: aws.String("developers"), UserName: aws.String("bob")})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name bob cannot be found.")
	must[*iamsdk.DeleteGroupOutput](t)(c.iam.DeleteGroup(ctx, &iamsdk.DeleteGroupInput{GroupName: aws.String("developers")}))
	if gs := must[*iamsdk.ListGroupsOutput](t)(c.iam.ListGroups(ctx, &iamsdk.ListGroupsInput{})).Groups; len(gs) != 0 {
		t.Errorf("groups left: %+v", gs)
	}
}

func TestGroupsPerUserQuota(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	must[*iamsdk.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("joiner")}))
	for i := range 11 {
		name := fmt.Sprintf("g%02d", i)
		must[*iamsdk.CreateGroupOutput](t)(c.iam.CreateGroup(ctx, &iamsdk.CreateGroupInput{GroupName: aws.String(name)}))
		_, err := c.iam.AddUserToGroup(ctx, &iamsdk.AddUserToGroupInput{GroupName: aws.String(name), UserName: aws.String("joiner")})
		if i < 10 && err != nil {
			t.Fatal(err)
		}
		if i == 10 {
			wantErr(t, err, "LimitExceeded", 409, "Cannot exceed quota for GroupsPerUser: 10")
		}
	}
}

package modelederrors_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func TestIAMErrors(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	ctx := context.Background()
	cl := iamsdk.NewFromConfig(c.cfg())
	if _, err := cl.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("taken")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CreateGroup(ctx, &iamsdk.CreateGroupInput{GroupName: aws.String("crew")}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.AddUserToGroup(ctx, &iamsdk.AddUserToGroupInput{GroupName: aws.String("crew"), UserName: aws.String("taken")}); err != nil {
		t.Fatal(err)
	}
	c.check(t, "iam", []modeled{
		{"NoSuchEntityException", func(ctx context.Context) error {
			_, err := cl.GetUser(ctx, &iamsdk.GetUserInput{UserName: aws.String("nobody")})
			return err
		}, is[types.NoSuchEntityException], `c.get_role(RoleName="nobody")`},
		{"EntityAlreadyExistsException", func(ctx context.Context) error {
			_, err := cl.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("taken")})
			return err
		}, is[types.EntityAlreadyExistsException], `c.create_user(UserName="taken")`},
		{"MalformedPolicyDocumentException", func(ctx context.Context) error {
			_, err := cl.CreatePolicy(ctx, &iamsdk.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String("{not json")})
			return err
		}, is[types.MalformedPolicyDocumentException], `c.create_policy(PolicyName="p", PolicyDocument="{not json")`},
		{"DeleteConflictException", func(ctx context.Context) error {
			_, err := cl.DeleteGroup(ctx, &iamsdk.DeleteGroupInput{GroupName: aws.String("crew")})
			return err
		}, is[types.DeleteConflictException], `c.delete_user(UserName="taken")`},
	})
}

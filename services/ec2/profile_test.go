package ec2_test

import (
	"context"
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"
)

// iam returns an IAM client of the default account.
func (c *cloud) iam() *iamsdk.Client {
	return iamsdk.New(iamsdk.Options{Region: "us-east-1", BaseEndpoint: aws.String(c.url),
		Credentials: credentials.NewStaticCredentialsProvider("test", "secret", "")})
}

// createProfile makes an instance profile at path holding a new role
// (none when role is ""), and returns the profile as IAM shows it.
func createProfile(t *testing.T, c *cloud, path, name, role string) *iamsdk.GetInstanceProfileOutput {
	t.Helper()
	ctx, cl := context.Background(), c.iam()
	must[*iamsdk.CreateInstanceProfileOutput](t)(cl.CreateInstanceProfile(ctx, &iamsdk.CreateInstanceProfileInput{InstanceProfileName: aws.String(name), Path: aws.String(path)}))
	if role != "" {
		must[*iamsdk.CreateRoleOutput](t)(cl.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String(role), AssumeRolePolicyDocument: aws.String(
			`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)}))
		must[*iamsdk.AddRoleToInstanceProfileOutput](t)(cl.AddRoleToInstanceProfile(ctx, &iamsdk.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String(name), RoleName: aws.String(role)}))
	}
	return must[*iamsdk.GetInstanceProfileOutput](t)(cl.GetInstanceProfile(ctx, &iamsdk.GetInstanceProfileInput{InstanceProfileName: aws.String(name)}))
}

// wantError fails the test unless err is AWS's code and message.
func wantError(t *testing.T, err error, code, msg string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code || ae.ErrorMessage() != msg {
		t.Fatalf("error %v, want %s: %s", err, code, msg)
	}
}

// TestInstanceProfilesFromIAM launches with IAM's profiles and moves an
// instance between them with the association calls.
func TestInstanceProfilesFromIAM(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	cl, ctx := c.client(), context.Background()
	ami := cmpAL2023(t, cl)
	run := func(spec *types.IamInstanceProfileSpecification) (*ec2sdk.RunInstancesOutput, error) {
		return cl.RunInstances(ctx, &ec2sdk.RunInstancesInput{ImageId: aws.String(ami), InstanceType: "t3.micro",
			MinCount: aws.Int32(1), MaxCount: aws.Int32(1), IamInstanceProfile: spec})
	}

	_, err := run(&types.IamInstanceProfileSpecification{Name: aws.String("web-profile")})
	wantError(t, err, "InvalidParameterValue", "Value (web-profile) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name")
	missing := "arn:aws:iam::000000000000:instance-profile/web-profile"
	_, err = run(&types.IamInstanceProfileSpecification{Arn: aws.String(missing)})
	wantError(t, err, "InvalidParameterValue", "Value ("+missing+") for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN")

	web := createProfile(t, c, "/app/", "web-profile", "S3_ReadOnly_Role").InstanceProfile
	// The ARN must be the profile's, path included.
	_, err = run(&types.IamInstanceProfileSpecification{Arn: aws.String(missing)})
	wantCode(t, err, "InvalidParameterValue")

	res := must[*ec2sdk.RunInstancesOutput](t)(run(&types.IamInstanceProfileSpecification{Name: aws.String("web-profile")}))
	inst := res.Instances[0]
	id := aws.ToString(inst.InstanceId)
	if p := inst.IamInstanceProfile; aws.ToString(p.Arn) != aws.ToString(web.Arn) || aws.ToString(p.Id) != aws.ToString(web.InstanceProfileId) {
		t.Fatalf("instance profile %+v, want IAM's %s %s", p, aws.ToString(web.Arn), aws.ToString(web.InstanceProfileId))
	}
	byARN := must[*ec2sdk.RunInstancesOutput](t)(run(&types.IamInstanceProfileSpecification{Arn: web.Arn}))
	other := aws.ToString(byARN.Instances[0].InstanceId)

	assocs := func(filters ...types.Filter) []types.IamInstanceProfileAssociation {
		t.Helper()
		return must[*ec2sdk.DescribeIamInstanceProfileAssociationsOutput](t)(cl.DescribeIamInstanceProfileAssociations(ctx,
			&ec2sdk.DescribeIamInstanceProfileAssociationsInput{Filters: filters})).IamInstanceProfileAssociations
	}
	mine := assocs(types.Filter{Name: aws.String("instance-id"), Values: []string{id}})
	if len(mine) != 1 || mine[0].State != types.IamInstanceProfileAssociationStateAssociated || aws.ToString(mine[0].IamInstanceProfile.Arn) != aws.ToString(web.Arn) {
		t.Fatalf("associations of %s: %+v", id, mine)
	}
	if all := assocs(); len(all) != 2 {
		t.Fatalf("%d associations, want 2", len(all))
	}

	_, err = cl.AssociateIamInstanceProfile(ctx, &ec2sdk.AssociateIamInstanceProfileInput{InstanceId: aws.String(id),
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("web-profile")}})
	wantError(t, err, "IncorrectState", "There is an existing association for instance "+id)

	batch := createProfile(t, c, "/", "batch", "").InstanceProfile
	rep := must[*ec2sdk.ReplaceIamInstanceProfileAssociationOutput](t)(cl.ReplaceIamInstanceProfileAssociation(ctx, &ec2sdk.ReplaceIamInstanceProfileAssociationInput{
		AssociationId: mine[0].AssociationId, IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("batch")}})).IamInstanceProfileAssociation
	if rep.State != types.IamInstanceProfileAssociationStateAssociating || aws.ToString(rep.AssociationId) == aws.ToString(mine[0].AssociationId) ||
		aws.ToString(rep.IamInstanceProfile.Id) != aws.ToString(batch.InstanceProfileId) {
		t.Fatalf("replaced: %+v", rep)
	}
	if p := cmpDescribe(t, cl, id).IamInstanceProfile; aws.ToString(p.Arn) != aws.ToString(batch.Arn) {
		t.Fatalf("after the replacement the instance has %+v", p)
	}
	_, err = cl.DisassociateIamInstanceProfile(ctx, &ec2sdk.DisassociateIamInstanceProfileInput{AssociationId: mine[0].AssociationId})
	wantError(t, err, "InvalidAssociationID.NotFound", "The association ID '"+aws.ToString(mine[0].AssociationId)+"' does not exist")

	dis := must[*ec2sdk.DisassociateIamInstanceProfileOutput](t)(cl.DisassociateIamInstanceProfile(ctx, &ec2sdk.DisassociateIamInstanceProfileInput{AssociationId: rep.AssociationId})).IamInstanceProfileAssociation
	if dis.State != types.IamInstanceProfileAssociationStateDisassociating || aws.ToString(dis.InstanceId) != id {
		t.Fatalf("disassociated: %+v", dis)
	}
	if p := cmpDescribe(t, cl, id).IamInstanceProfile; p != nil {
		t.Fatalf("after disassociation the instance has %+v", p)
	}
	if left := assocs(); len(left) != 1 || aws.ToString(left[0].InstanceId) != other {
		t.Fatalf("associations left: %+v", left)
	}

	_, err = cl.AssociateIamInstanceProfile(ctx, &ec2sdk.AssociateIamInstanceProfileInput{InstanceId: aws.String(id),
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Name: aws.String("nope")}})
	wantError(t, err, "InvalidParameterValue", "Value (nope) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name")
	again := must[*ec2sdk.AssociateIamInstanceProfileOutput](t)(cl.AssociateIamInstanceProfile(ctx, &ec2sdk.AssociateIamInstanceProfileInput{InstanceId: aws.String(id),
		IamInstanceProfile: &types.IamInstanceProfileSpecification{Arn: web.Arn}})).IamInstanceProfileAssociation
	if again.State != types.IamInstanceProfileAssociationStateAssociating || aws.ToString(again.IamInstanceProfile.Arn) != aws.ToString(web.Arn) {
		t.Fatalf("associated: %+v", again)
	}
}

package iam_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/cloudbox/cloudbox/server"
)

func TestRoleLifecycle(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	r := must[*iamsdk.CreateRoleOutput](t)(c.iam.CreateRole(ctx, &iamsdk.CreateRoleInput{
		RoleName: aws.String("web"), Path: aws.String("/app/"), AssumeRolePolicyDocument: aws.String(trustEC2),
		Description: aws.String("web servers"), MaxSessionDuration: aws.Int32(7200),
		Tags: []types.Tag{{Key: aws.String("app"), Value: aws.String("shop")}},
	})).Role
	if aws.ToString(r.Arn) != "arn:aws:iam::"+account+":role/app/web" || aws.ToInt32(r.MaxSessionDuration) != 7200 || aws.ToString(r.Description) != "web servers" {
		t.Fatalf("CreateRole: %+v", r)
	}
	// The document is kept as given and returned URL-encoded, as IAM does.
	if doc := aws.ToString(r.AssumeRolePolicyDocument); !strings.HasPrefix(doc, "%7B%0A%20%20%22Version%22%3A%20%222012-10-17%22") || decoded(t, r.AssumeRolePolicyDocument) != trustEC2 {
		t.Errorf("trust policy as returned: %s", doc)
	}

	got := must[*iamsdk.GetRoleOutput](t)(c.iam.GetRole(ctx, &iamsdk.GetRoleInput{RoleName: aws.String("WEB")})).Role
	if aws.ToString(got.RoleName) != "web" || got.RoleLastUsed == nil || len(got.Tags) != 1 || decoded(t, got.AssumeRolePolicyDocument) != trustEC2 {
		t.Errorf("GetRole: %+v", got)
	}
	listed := must[*iamsdk.ListRolesOutput](t)(c.iam.ListRoles(ctx, &iamsdk.ListRolesInput{PathPrefix: aws.String("/app/")})).Roles
	if len(listed) != 1 || listed[0].Tags != nil || listed[0].RoleLastUsed != nil || aws.ToInt32(listed[0].MaxSessionDuration) != 7200 {
		t.Errorf("ListRoles: %+v", listed)
	}

	must[*iamsdk.UpdateRoleOutput](t)(c.iam.UpdateRole(ctx, &iamsdk.UpdateRoleInput{RoleName: aws.String("web"), MaxSessionDuration: aws.Int32(43200)}))
	upd := must[*iamsdk.UpdateRoleDescriptionOutput](t)(c.iam.UpdateRoleDescription(ctx, &iamsdk.UpdateRoleDescriptionInput{RoleName: aws.String("web"), Description: aws.String("front end")})).Role
	if aws.ToString(upd.Description) != "front end" || aws.ToInt32(upd.MaxSessionDuration) != 43200 {
		t.Errorf("after updates: %+v", upd)
	}
	_, err := c.iam.UpdateRole(ctx, &iamsdk.UpdateRoleInput{RoleName: aws.String("web"), MaxSessionDuration: aws.Int32(43201)})
	wantErr(t, err, "ValidationError", 400, "1 validation error detected: Value '43201' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200")
	_, err = c.iam.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("short"), AssumeRolePolicyDocument: aws.String(trustEC2), MaxSessionDuration: aws.Int32(600)})
	wantErr(t, err, "ValidationError", 400, "1 validation error detected: Value '600' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600")

	const trustLambda = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	must[*iamsdk.UpdateAssumeRolePolicyOutput](t)(c.iam.UpdateAssumeRolePolicy(ctx, &iamsdk.UpdateAssumeRolePolicyInput{RoleName: aws.String("web"), PolicyDocument: aws.String(trustLambda)}))
	got = must[*iamsdk.GetRoleOutput](t)(c.iam.GetRole(ctx, &iamsdk.GetRoleInput{RoleName: aws.String("web")})).Role
	if decoded(t, got.AssumeRolePolicyDocument) != trustLambda {
		t.Errorf("trust policy after update: %s", decoded(t, got.AssumeRolePolicyDocument))
	}
	_, err = c.iam.UpdateAssumeRolePolicy(ctx, &iamsdk.UpdateAssumeRolePolicyInput{RoleName: aws.String("web"), PolicyDocument: aws.String(`{"Version":`)})
	wantErr(t, err, "MalformedPolicyDocument", 400, "Syntax errors in policy.")

	_, err = c.iam.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("web"), AssumeRolePolicyDocument: aws.String(trustEC2)})
	wantErr(t, err, "EntityAlreadyExists", 409, "Role with name web already exists.")
	must[*iamsdk.DeleteRoleOutput](t)(c.iam.DeleteRole(ctx, &iamsdk.DeleteRoleInput{RoleName: aws.String("web")}))
	_, err = c.iam.GetRole(ctx, &iamsdk.GetRoleInput{RoleName: aws.String("web")})
	wantErr(t, err, "NoSuchEntity", 404, "The role with name web cannot be found.")
}

// TestTrustPrincipals: a trust policy's users and roles must exist, in any
// account, as IAM keeps them by their unique ids.
func TestTrustPrincipals(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	trust := func(principal string) *string {
		return aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"` + principal + `"},"Action":"sts:AssumeRole"}]}`)
	}
	other := c.iamAs("111111111111", "secret")
	uid := must[*iamsdk.CreateUserOutput](t)(other.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("deployer"), Path: aws.String("/ci/")})).User.UserId
	for _, p := range []string{"arn:aws:iam::111111111111:user/ci/deployer", aws.ToString(uid), "arn:aws:iam::111111111111:root", "222222222222"} {
		must[*iamsdk.CreateRoleOutput](t)(c.iam.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("r" + p[len(p)-4:]), AssumeRolePolicyDocument: trust(p)}))
	}
	for _, p := range []string{"arn:aws:iam::111111111111:user/deployer", "arn:aws:iam::111111111111:user/ci/ghost", "AIDAAAAAAAAAAAAAAAAAA"} {
		_, err := c.iam.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("ghost"), AssumeRolePolicyDocument: trust(p)})
		wantErr(t, err, "MalformedPolicyDocument", 400, `Invalid principal in policy: "AWS":"`+p+`"`)
	}
	_, err := c.iam.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("bad"), AssumeRolePolicyDocument: aws.String(
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"s3:GetObject"}]}`)})
	wantErr(t, err, "MalformedPolicyDocument", 400, "AssumeRole policy may only specify STS AssumeRole actions.")
}

func TestRoleDeleteConflicts(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	role := aws.String("app")
	must[*iamsdk.CreateRoleOutput](t)(c.iam.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: role, AssumeRolePolicyDocument: aws.String(trustEC2)}))
	must[*iamsdk.CreateInstanceProfileOutput](t)(c.iam.CreateInstanceProfile(ctx, &iamsdk.CreateInstanceProfileInput{InstanceProfileName: aws.String("app-profile"), Path: aws.String("/apps/")}))
	must[*iamsdk.AddRoleToInstanceProfileOutput](t)(c.iam.AddRoleToInstanceProfile(ctx, &iamsdk.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("app-profile"), RoleName: role}))
	must[*iamsdk.AttachRolePolicyOutput](t)(c.iam.AttachRolePolicy(ctx, &iamsdk.AttachRolePolicyInput{RoleName: role, PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")}))
	must[*iamsdk.PutRolePolicyOutput](t)(c.iam.PutRolePolicy(ctx, &iamsdk.PutRolePolicyInput{RoleName: role, PolicyName: aws.String("logs"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:*","Resource":"*"}]}`)}))

	profiles := must[*iamsdk.ListInstanceProfilesForRoleOutput](t)(c.iam.ListInstanceProfilesForRole(ctx, &iamsdk.ListInstanceProfilesForRoleInput{RoleName: role})).InstanceProfiles
	if len(profiles) != 1 || aws.ToString(profiles[0].Arn) != "arn:aws:iam::"+account+":instance-profile/apps/app-profile" || len(profiles[0].Roles) != 1 {
		t.Errorf("profiles for role: %+v", profiles)
	}
	_, err := c.iam.DeleteInstanceProfile(ctx, &iamsdk.DeleteInstanceProfileInput{InstanceProfileName: aws.String("app-profile")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must remove roles from instance profile first.")

	steps := []struct {
		msg  string
		undo func() error
	}{
		{"Cannot delete entity, must remove roles from instance profile first.", func() error {
			_, err := c.iam.RemoveRoleFromInstanceProfile(ctx, &iamsdk.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("app-profile"), RoleName: role})
			return err
		}},
		{"Cannot delete entity, must detach all policies first.", func() error {
			_, err := c.iam.DetachRolePolicy(ctx, &iamsdk.DetachRolePolicyInput{RoleName: role, PolicyArn: aws.String("arn:aws:iam::aws:policy/ReadOnlyAccess")})
			return err
		}},
		{"Cannot delete entity, must delete policies first.", func() error {
			_, err := c.iam.DeleteRolePolicy(ctx, &iamsdk.DeleteRolePolicyInput{RoleName: role, PolicyName: aws.String("logs")})
			return err
		}},
	}
	for _, s := range steps {
		_, err := c.iam.DeleteRole(ctx, &iamsdk.DeleteRoleInput{RoleName: role})
		wantErr(t, err, "DeleteConflict", 409, s.msg)
		if err := s.undo(); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.iam.RemoveRoleFromInstanceProfile(ctx, &iamsdk.RemoveRoleFromInstanceProfileInput{InstanceProfileName: aws.String("app-profile"), RoleName: role})
	wantErr(t, err, "NoSuchEntity", 404, "The role with name app cannot be found.")
	must[*iamsdk.DeleteRoleOutput](t)(c.iam.DeleteRole(ctx, &iamsdk.DeleteRoleInput{RoleName: role}))
	must[*iamsdk.DeleteInstanceProfileOutput](t)(c.iam.DeleteInstanceProfile(ctx, &iamsdk.DeleteInstanceProfileInput{InstanceProfileName: aws.String("app-profile")}))
	_, err = c.iam.GetInstanceProfile(ctx, &iamsdk.GetInstanceProfileInput{InstanceProfileName: aws.String("app-profile")})
	wantErr(t, err, "NoSuchEntity", 404, "Instance Profile app-profile cannot be found.")
}

func TestInstanceProfiles(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	p := must[*iamsdk.CreateInstanceProfileOutput](t)(c.iam.CreateInstanceProfile(ctx, &iamsdk.CreateInstanceProfileInput{
		InstanceProfileName: aws.String("web"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
	})).InstanceProfile
	if aws.ToString(p.InstanceProfileId)[:4] != "AIPA" || p.Roles == nil || len(p.Tags) != 1 {
		t.Errorf("CreateInstanceProfile: %+v", p)
	}
	_, err := c.iam.CreateInstanceProfile(ctx, &iamsdk.CreateInstanceProfileInput{InstanceProfileName: aws.String("WEB")})
	wantErr(t, err, "EntityAlreadyExists", 409, "Instance Profile WEB already exists.")
	_, err = c.iam.AddRoleToInstanceProfile(ctx, &iamsdk.AddRoleToInstanceProfileInput{InstanceProfileName: aws.String("web"), RoleName: aws.String("none")})
	wantErr(t, err, "NoSuchEntity", 404, "The role with name none cannot be found.")
	must[*iamsdk.UntagInstanceProfileOutput](t)(c.iam.UntagInstanceProfile(ctx, &iamsdk.UntagInstanceProfileInput{InstanceProfileName: aws.String("web"), TagKeys: []string{"k"}}))
	if tags := must[*iamsdk.ListInstanceProfileTagsOutput](t)(c.iam.ListInstanceProfileTags(ctx, &iamsdk.ListInstanceProfileTagsInput{InstanceProfileName: aws.String("web")})).Tags; len(tags) != 0 {
		t.Errorf("tags %+v", tags)
	}
	all := must[*iamsdk.ListInstanceProfilesOutput](t)(c.iam.ListInstanceProfiles(ctx, &iamsdk.ListInstanceProfilesInput{})).InstanceProfiles
	if len(all) != 1 || aws.ToString(all[0].InstanceProfileName) != "web" {
		t.Errorf("ListInstanceProfiles: %+v", all)
	}
}

func TestRoleTags(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	must[*iamsdk.CreateRoleOutput](t)(c.iam.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("tagged"), AssumeRolePolicyDocument: aws.String(trustEC2)}))
	must[*iamsdk.TagRoleOutput](t)(c.iam.TagRole(ctx, &iamsdk.TagRoleInput{RoleName: aws.String("tagged"), Tags: []types.Tag{
		{Key: aws.String("a"), Value: aws.String("1")}, {Key: aws.String("b"), Value: aws.String("2")}, {Key: aws.String("c"), Value: aws.String("3")},
	}}))
	first := must[*iamsdk.ListRoleTagsOutput](t)(c.iam.ListRoleTags(ctx, &iamsdk.ListRoleTagsInput{RoleName: aws.String("tagged"), MaxItems: aws.Int32(2)}))
	if len(first.Tags) != 2 || !first.IsTruncated {
		t.Fatalf("first page %+v", first)
	}
	rest := must[*iamsdk.ListRoleTagsOutput](t)(c.iam.ListRoleTags(ctx, &iamsdk.ListRoleTagsInput{RoleName: aws.String("tagged"), Marker: first.Marker}))
	if len(rest.Tags) != 1 || aws.ToString(rest.Tags[0].Key) != "c" || rest.IsTruncated {
		t.Errorf("second page %+v", rest)
	}
	_, err := c.iam.TagRole(ctx, &iamsdk.TagRoleInput{RoleName: aws.String("tagged"), Tags: []types.Tag{{Key: aws.String("bad key!"), Value: aws.String("x")}}})
	wantErr(t, err, "ValidationError", 400, `1 validation error detected: Value 'bad key!' at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern: [\p{L}\p{Z}\p{N}_.:/=+\-@]+`)
	_, err = c.iam.TagRole(ctx, &iamsdk.TagRoleInput{RoleName: aws.String("tagged"), Tags: []types.Tag{{Key: aws.String("x"), Value: aws.String("1")}, {Key: aws.String("X"), Value: aws.String("2")}}})
	wantErr(t, err, "InvalidInput", 400, "Duplicate tag keys found. Please note that Tag keys are case insensitive.")
}

// TestServiceLinkedRoles creates the roles the services use, with their
// AWS managed policies, and checks that only the service may change them.
func TestServiceLinkedRoles(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	for _, tc := range []struct{ service, role, policy string }{
		{"autoscaling.amazonaws.com", "AWSServiceRoleForAutoScaling", "arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy"},
		{"elasticloadbalancing.amazonaws.com", "AWSServiceRoleForElasticLoadBalancing", "arn:aws:iam::aws:policy/aws-service-role/AWSElasticLoadBalancingServiceRolePolicy"},
		{"rds.amazonaws.com", "AWSServiceRoleForRDS", "arn:aws:iam::aws:policy/aws-service-role/AmazonRDSServiceRolePolicy"},
	} {
		r := must[*iamsdk.CreateServiceLinkedRoleOutput](t)(c.iam.CreateServiceLinkedRole(ctx, &iamsdk.CreateServiceLinkedRoleInput{AWSServiceName: aws.String(tc.service)})).Role
		wantARN := "arn:aws:iam::" + account + ":role/aws-service-role/" + tc.service + "/" + tc.role
		if aws.ToString(r.Arn) != wantARN || aws.ToString(r.Path) != "/aws-service-role/"+tc.service+"/" || aws.ToString(r.Description) == "" {
			t.Errorf("%s: %+v", tc.service, r)
		}
		trust, _ := url.QueryUnescape(aws.ToString(r.AssumeRolePolicyDocument))
		if !strings.Contains(trust, `"Service":"`+tc.service+`"`) {
			t.Errorf("%s trust policy %s", tc.service, trust)
		}
		att := must[*iamsdk.ListAttachedRolePoliciesOutput](t)(c.iam.ListAttachedRolePolicies(ctx, &iamsdk.ListAttachedRolePoliciesInput{RoleName: aws.String(tc.role)})).AttachedPolicies
		if len(att) != 1 || aws.ToString(att[0].PolicyArn) != tc.policy {
			t.Errorf("%s attached %+v", tc.role, att)
		}
		p := must[*iamsdk.GetPolicyOutput](t)(c.iam.GetPolicy(ctx, &iamsdk.GetPolicyInput{PolicyArn: aws.String(tc.policy)})).Policy
		if aws.ToInt32(p.AttachmentCount) != 1 {
			t.Errorf("%s attachment count %d", tc.policy, aws.ToInt32(p.AttachmentCount))
		}
		_, err := c.iam.CreateServiceLinkedRole(ctx, &iamsdk.CreateServiceLinkedRoleInput{AWSServiceName: aws.String(tc.service)})
		wantErr(t, err, "InvalidInput", 400, "Service role name "+tc.role+" has been taken in this account, please try a different suffix.")
		_, err = c.iam.DeleteRole(ctx, &iamsdk.DeleteRoleInput{RoleName: aws.String(tc.role)})
		wantErr(t, err, "UnmodifiableEntity", 400, "Cannot perform the operation on the protected role '"+tc.role+"' - this role is only modifiable by AWS")
		_, err = c.iam.DetachRolePolicy(ctx, &iamsdk.DetachRolePolicyInput{RoleName: aws.String(tc.role), PolicyArn: aws.String(tc.policy)})
		wantErr(t, err, "UnmodifiableEntity", 400, "Cannot perform the operation on the protected role '"+tc.role+"' - this role is only modifiable by AWS")
	}
	suffixed := must[*iamsdk.CreateServiceLinkedRoleOutput](t)(c.iam.CreateServiceLinkedRole(ctx, &iamsdk.CreateServiceLinkedRoleInput{
		AWSServiceName: aws.String("autoscaling.amazonaws.com"), CustomSuffix: aws.String("web"),
	})).Role
	if aws.ToString(suffixed.RoleName) != "AWSServiceRoleForAutoScaling_web" {
		t.Errorf("suffixed role %+v", suffixed)
	}

	// A service role policy is for service-linked roles alone.
	must[*iamsdk.CreateRoleOutput](t)(c.iam.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("mine"), AssumeRolePolicyDocument: aws.String(trustEC2)}))
	_, err := c.iam.AttachRolePolicy(ctx, &iamsdk.AttachRolePolicyInput{RoleName: aws.String("mine"), PolicyArn: aws.String("arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy")})
	wantErr(t, err, "PolicyNotAttachable", 400, "Cannot attach a Service Role Policy to a Customer Role.")

	task := must[*iamsdk.DeleteServiceLinkedRoleOutput](t)(c.iam.DeleteServiceLinkedRole(ctx, &iamsdk.DeleteServiceLinkedRoleInput{RoleName: aws.String("AWSServiceRoleForRDS")})).DeletionTaskId
	if !strings.HasPrefix(aws.ToString(task), "task/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS/") {
		t.Errorf("deletion task %s", aws.ToString(task))
	}
	status := must[*iamsdk.GetServiceLinkedRoleDeletionStatusOutput](t)(c.iam.GetServiceLinkedRoleDeletionStatus(ctx, &iamsdk.GetServiceLinkedRoleDeletionStatusInput{DeletionTaskId: task}))
	if status.Status != types.DeletionTaskStatusTypeSucceeded {
		t.Errorf("deletion status %s", status.Status)
	}
	_, err = c.iam.GetRole(ctx, &iamsdk.GetRoleInput{RoleName: aws.String("AWSServiceRoleForRDS")})
	wantErr(t, err, "NoSuchEntity", 404, "The role with name AWSServiceRoleForRDS cannot be found.")
}

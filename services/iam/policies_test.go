package iam_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/cloudbox/cloudbox/server"
)

func doc(action string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"` + action + `","Resource":"*"}]}`
}

func TestManagedPolicyVersions(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	p := must[*iamsdk.CreatePolicyOutput](t)(c.iam.CreatePolicy(ctx, &iamsdk.CreatePolicyInput{
		PolicyName: aws.String("s3-read"), Path: aws.String("/team/"), PolicyDocument: aws.String(doc("s3:GetObject")),
		Description: aws.String("read objects"), Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}},
	})).Policy
	arn := aws.ToString(p.Arn)
	if arn != "arn:aws:iam::"+account+":policy/team/s3-read" || aws.ToString(p.DefaultVersionId) != "v1" || aws.ToString(p.PolicyId)[:4] != "ANPA" ||
		aws.ToInt32(p.AttachmentCount) != 0 || !p.IsAttachable || len(p.Tags) != 1 {
		t.Fatalf("CreatePolicy: %+v", p)
	}
	_, err := c.iam.CreatePolicy(ctx, &iamsdk.CreatePolicyInput{PolicyName: aws.String("S3-READ"), PolicyDocument: aws.String(doc("s3:GetObject"))})
	wantErr(t, err, "EntityAlreadyExists", 409, "A policy called S3-READ already exists. Duplicate names are not allowed.")

	for i := 2; i <= 5; i++ {
		v := must[*iamsdk.CreatePolicyVersionOutput](t)(c.iam.CreatePolicyVersion(ctx, &iamsdk.CreatePolicyVersionInput{
			PolicyArn: aws.String(arn), PolicyDocument: aws.String(doc(fmt.Sprintf("s3:Action%d", i))), SetAsDefault: i == 3,
		})).PolicyVersion
		if aws.ToString(v.VersionId) != fmt.Sprintf("v%d", i) || v.IsDefaultVersion != (i == 3) {
			t.Errorf("version %d: %+v", i, v)
		}
	}
	_, err = c.iam.CreatePolicyVersion(ctx, &iamsdk.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(doc("s3:Action6"))})
	wantErr(t, err, "LimitExceeded", 409, "A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.")

	got := must[*iamsdk.GetPolicyOutput](t)(c.iam.GetPolicy(ctx, &iamsdk.GetPolicyInput{PolicyArn: aws.String(arn)})).Policy
	if aws.ToString(got.DefaultVersionId) != "v3" || aws.ToString(got.Description) != "read objects" {
		t.Errorf("GetPolicy: %+v", got)
	}
	v3 := must[*iamsdk.GetPolicyVersionOutput](t)(c.iam.GetPolicyVersion(ctx, &iamsdk.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v3")})).PolicyVersion
	if decoded(t, v3.Document) != doc("s3:Action3") || !v3.IsDefaultVersion {
		t.Errorf("v3: %+v", v3)
	}
	versions := must[*iamsdk.ListPolicyVersionsOutput](t)(c.iam.ListPolicyVersions(ctx, &iamsdk.ListPolicyVersionsInput{PolicyArn: aws.String(arn)})).Versions
	var ids []string
	for _, v := range versions {
		ids = append(ids, aws.ToString(v.VersionId))
	}
	if strings.Join(ids, ",") != "v5,v4,v3,v2,v1" {
		t.Errorf("versions %v, want newest first", ids)
	}

	_, err = c.iam.DeletePolicyVersion(ctx, &iamsdk.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v3")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete the default version of a policy.")
	_, err = c.iam.GetPolicyVersion(ctx, &iamsdk.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v9")})
	wantErr(t, err, "NoSuchEntity", 404, "Policy "+arn+" version v9 does not exist or is not attachable.")
	_, err = c.iam.DeletePolicy(ctx, &iamsdk.DeletePolicyInput{PolicyArn: aws.String(arn)})
	wantErr(t, err, "DeleteConflict", 409, "This policy has more than one version. Before you delete a policy, you must delete the policy's versions. The default version is deleted with the policy.")

	must[*iamsdk.DeletePolicyVersionOutput](t)(c.iam.DeletePolicyVersion(ctx, &iamsdk.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")}))
	// Version numbers are not reused.
	v6 := must[*iamsdk.CreatePolicyVersionOutput](t)(c.iam.CreatePolicyVersion(ctx, &iamsdk.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(doc("s3:Action6"))})).PolicyVersion
	if aws.ToString(v6.VersionId) != "v6" {
		t.Errorf("next version %s, want v6", aws.ToString(v6.VersionId))
	}
	must[*iamsdk.SetDefaultPolicyVersionOutput](t)(c.iam.SetDefaultPolicyVersion(ctx, &iamsdk.SetDefaultPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v6")}))
	for _, id := range []string{"v2", "v3", "v4", "v5"} {
		must[*iamsdk.DeletePolicyVersionOutput](t)(c.iam.DeletePolicyVersion(ctx, &iamsdk.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(id)}))
	}

	must[*iamsdk.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("u")}))
	must[*iamsdk.AttachUserPolicyOutput](t)(c.iam.AttachUserPolicy(ctx, &iamsdk.AttachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(arn)}))
	_, err = c.iam.DeletePolicy(ctx, &iamsdk.DeletePolicyInput{PolicyArn: aws.String(arn)})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete a policy attached to entities.")
	must[*iamsdk.DetachUserPolicyOutput](t)(c.iam.DetachUserPolicy(ctx, &iamsdk.DetachUserPolicyInput{UserName: aws.String("u"), PolicyArn: aws.String(arn)}))
	must[*iamsdk.DeletePolicyOutput](t)(c.iam.DeletePolicy(ctx, &iamsdk.DeletePolicyInput{PolicyArn: aws.String(arn)}))
	_, err = c.iam.GetPolicy(ctx, &iamsdk.GetPolicyInput{PolicyArn: aws.String(arn)})
	wantErr(t, err, "NoSuchEntity", 404, "Policy "+arn+" was not found.")
}

func TestManagedPolicyDocuments(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	_, err := c.iam.CreatePolicy(ctx, &iamsdk.CreatePolicyInput{PolicyName: aws.String("bad"), PolicyDocument: aws.String(`{"Version": "2012-10-17", "Statement": [`)})
	wantErr(t, err, "MalformedPolicyDocument", 400, "Syntax errors in policy.")
	_, err = c.iam.CreatePolicy(ctx, &iamsdk.CreatePolicyInput{PolicyName: aws.String("bad"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*"}]}`)})
	wantErr(t, err, "MalformedPolicyDocument", 400, "Policy statement must contain resources.")
	actions := make([]string, 400)
	for i := range actions {
		actions[i] = fmt.Sprintf(`"s3:Action%04d"`, i)
	}
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":[` + strings.Join(actions, ",") + `],"Resource":"*"}]}`
	_, err = c.iam.CreatePolicy(ctx, &iamsdk.CreatePolicyInput{PolicyName: aws.String("big"), PolicyDocument: aws.String(big)})
	wantErr(t, err, "LimitExceeded", 409, "Cannot exceed quota for PolicySize: 6144")
	// White space does not count.
	spaced := strings.ReplaceAll(doc("s3:*"), ",", ",\n"+strings.Repeat(" ", 2000))
	must[*iamsdk.CreatePolicyOutput](t)(c.iam.CreatePolicy(ctx, &iamsdk.CreatePolicyInput{PolicyName: aws.String("spaced"), PolicyDocument: aws.String(spaced)}))
	for _, p := range []string{"/a b/", "nope", "/a/b"} {
		_, err = c.iam.CreatePolicy(ctx, &iamsdk.CreatePolicyInput{PolicyName: aws.String("p"), Path: aws.String(p), PolicyDocument: aws.String(doc("s3:*"))})
		wantErr(t, err, "ValidationError", 400, "The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
}

// TestAWSManagedPolicies reads AWS's managed policies as IAM shows them.
func TestAWSManagedPolicies(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	const arn = "arn:aws:iam::aws:policy/AdministratorAccess"
	p := must[*iamsdk.GetPolicyOutput](t)(c.iam.GetPolicy(ctx, &iamsdk.GetPolicyInput{PolicyArn: aws.String(arn)})).Policy
	if aws.ToString(p.PolicyName) != "AdministratorAccess" || aws.ToString(p.PolicyId) != "ANPAIWMBCKSKIEE64ZLYK" || aws.ToString(p.DefaultVersionId) != "v1" ||
		aws.ToString(p.Description) != "Provides full access to AWS services and resources." || aws.ToString(p.Path) != "/" {
		t.Errorf("GetPolicy: %+v", p)
	}
	v := must[*iamsdk.GetPolicyVersionOutput](t)(c.iam.GetPolicyVersion(ctx, &iamsdk.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")})).PolicyVersion
	if decoded(t, v.Document) != `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}` {
		t.Errorf("document %s", decoded(t, v.Document))
	}
	lambda := must[*iamsdk.GetPolicyOutput](t)(c.iam.GetPolicy(ctx, &iamsdk.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")})).Policy
	if aws.ToString(lambda.Path) != "/service-role/" {
		t.Errorf("AWSLambdaBasicExecutionRole: %+v", lambda)
	}
	_, err := c.iam.GetPolicy(ctx, &iamsdk.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/NoSuchPolicy")})
	wantErr(t, err, "NoSuchEntity", 404, "Policy arn:aws:iam::aws:policy/NoSuchPolicy was not found.")
	_, err = c.iam.CreatePolicyVersion(ctx, &iamsdk.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(doc("s3:*"))})
	wantErr(t, err, "InvalidInput", 400, "ARN "+arn+" is not valid.")
	_, err = c.iam.GetPolicy(ctx, &iamsdk.GetPolicyInput{PolicyArn: aws.String("arn:aws:s3:::not-a-policy")})
	wantErr(t, err, "InvalidInput", 400, "ARN arn:aws:s3:::not-a-policy is not valid.")

	// The list, and the service-linked roles' policies.
	names := map[string]bool{}
	pg := iamsdk.NewListPoliciesPaginator(c.iam, &iamsdk.ListPoliciesInput{Scope: types.PolicyScopeTypeAws, MaxItems: aws.Int32(5)})
	for pg.HasMorePages() {
		for _, p := range must[*iamsdk.ListPoliciesOutput](t)(pg.NextPage(ctx)).Policies {
			names[aws.ToString(p.PolicyName)] = true
			if p.Description != nil {
				t.Errorf("ListPolicies shows a description: %+v", p)
			}
		}
	}
	for _, n := range []string{"AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "AmazonS3FullAccess", "AmazonS3ReadOnlyAccess",
		"AmazonEC2FullAccess", "AmazonEC2ReadOnlyAccess", "AmazonRDSFullAccess", "AmazonSSMManagedInstanceCore", "CloudWatchAgentServerPolicy",
		"AWSLambdaBasicExecutionRole", "AmazonECSTaskExecutionRolePolicy", "AmazonElastiCacheFullAccess", "AutoScalingServiceRolePolicy",
		"AWSElasticLoadBalancingServiceRolePolicy", "AmazonRDSServiceRolePolicy"} {
		if !names[n] {
			t.Errorf("ListPolicies Scope=AWS lacks %s", n)
		}
	}
}

func TestAttachments(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	local := aws.ToString(must[*iamsdk.CreatePolicyOutput](t)(c.iam.CreatePolicy(ctx, &iamsdk.CreatePolicyInput{
		PolicyName: aws.String("ops"), Path: aws.String("/ops/"), PolicyDocument: aws.String(doc("ec2:*")),
	})).Policy.Arn)
	const s3ro = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
	must[*iamsdk.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("u1")}))
	must[*iamsdk.CreateGroupOutput](t)(c.iam.CreateGroup(ctx, &iamsdk.CreateGroupInput{GroupName: aws.String("g1")}))
	must[*iamsdk.CreateRoleOutput](t)(c.iam.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("r1"), AssumeRolePolicyDocument: aws.String(trustEC2)}))
	for _, a := range []string{s3ro, local} {
		must[*iamsdk.AttachUserPolicyOutput](t)(c.iam.AttachUserPolicy(ctx, &iamsdk.AttachUserPolicyInput{UserName: aws.String("u1"), PolicyArn: aws.String(a)}))
		must[*iamsdk.AttachGroupPolicyOutput](t)(c.iam.AttachGroupPolicy(ctx, &iamsdk.AttachGroupPolicyInput{GroupName: aws.String("g1"), PolicyArn: aws.String(a)}))
	}
	must[*iamsdk.AttachRolePolicyOutput](t)(c.iam.AttachRolePolicy(ctx, &iamsdk.AttachRolePolicyInput{RoleName: aws.String("r1"), PolicyArn: aws.String(s3ro)}))
	// Attaching again changes nothing.
	must[*iamsdk.AttachRolePolicyOutput](t)(c.iam.AttachRolePolicy(ctx, &iamsdk.AttachRolePolicyInput{RoleName: aws.String("r1"), PolicyArn: aws.String(s3ro)}))

	if n := aws.ToInt32(must[*iamsdk.GetPolicyOutput](t)(c.iam.GetPolicy(ctx, &iamsdk.GetPolicyInput{PolicyArn: aws.String(s3ro)})).Policy.AttachmentCount); n != 3 {
		t.Errorf("AmazonS3ReadOnlyAccess attached %d times, want 3", n)
	}
	ops := must[*iamsdk.ListAttachedUserPoliciesOutput](t)(c.iam.ListAttachedUserPolicies(ctx, &iamsdk.ListAttachedUserPoliciesInput{UserName: aws.String("u1"), PathPrefix: aws.String("/ops/")})).AttachedPolicies
	if len(ops) != 1 || aws.ToString(ops[0].PolicyName) != "ops" {
		t.Errorf("attached under /ops/: %+v", ops)
	}
	grp := must[*iamsdk.ListAttachedGroupPoliciesOutput](t)(c.iam.ListAttachedGroupPolicies(ctx, &iamsdk.ListAttachedGroupPoliciesInput{GroupName: aws.String("g1")})).AttachedPolicies
	if len(grp) != 2 || aws.ToString(grp[0].PolicyArn) != s3ro || aws.ToString(grp[1].PolicyArn) != local {
		t.Errorf("group's policies: %+v", grp)
	}

	ents := must[*iamsdk.ListEntitiesForPolicyOutput](t)(c.iam.ListEntitiesForPolicy(ctx, &iamsdk.ListEntitiesForPolicyInput{PolicyArn: aws.String(s3ro)}))
	if len(ents.PolicyUsers) != 1 || len(ents.PolicyGroups) != 1 || len(ents.PolicyRoles) != 1 || aws.ToString(ents.PolicyRoles[0].RoleName) != "r1" {
		t.Errorf("entities: %+v", ents)
	}
	roles := must[*iamsdk.ListEntitiesForPolicyOutput](t)(c.iam.ListEntitiesForPolicy(ctx, &iamsdk.ListEntitiesForPolicyInput{PolicyArn: aws.String(s3ro), EntityFilter: types.EntityTypeRole}))
	if len(roles.PolicyUsers)+len(roles.PolicyGroups) != 0 || len(roles.PolicyRoles) != 1 {
		t.Errorf("roles only: %+v", roles)
	}

	attached := must[*iamsdk.ListPoliciesOutput](t)(c.iam.ListPolicies(ctx, &iamsdk.ListPoliciesInput{OnlyAttached: true}))
	var arns []string
	for _, p := range attached.Policies {
		arns = append(arns, aws.ToString(p.Arn))
	}
	if strings.Join(arns, " ") != s3ro+" "+local {
		t.Errorf("attached policies %v", arns)
	}
	locals := must[*iamsdk.ListPoliciesOutput](t)(c.iam.ListPolicies(ctx, &iamsdk.ListPoliciesInput{Scope: types.PolicyScopeTypeLocal})).Policies
	if len(locals) != 1 || aws.ToInt32(locals[0].AttachmentCount) != 2 {
		t.Errorf("local policies %+v", locals)
	}

	_, err := c.iam.DetachRolePolicy(ctx, &iamsdk.DetachRolePolicyInput{RoleName: aws.String("r1"), PolicyArn: aws.String(local)})
	wantErr(t, err, "NoSuchEntity", 404, "Policy "+local+" was not found.")
	_, err = c.iam.AttachUserPolicy(ctx, &iamsdk.AttachUserPolicyInput{UserName: aws.String("u1"), PolicyArn: aws.String("arn:aws:iam::123456789012:policy/theirs")})
	wantErr(t, err, "NoSuchEntity", 404, "Policy arn:aws:iam::123456789012:policy/theirs does not exist or is not attachable.")
	_, err = c.iam.DeleteUser(ctx, &iamsdk.DeleteUserInput{UserName: aws.String("u1")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must detach all policies first.")
	_, err = c.iam.DeleteGroup(ctx, &iamsdk.DeleteGroupInput{GroupName: aws.String("g1")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must detach all policies first.")
}

func TestAttachedPoliciesQuota(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	must[*iamsdk.CreateRoleOutput](t)(c.iam.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("full"), AssumeRolePolicyDocument: aws.String(trustEC2)}))
	for i := range 11 {
		arn := must[*iamsdk.CreatePolicyOutput](t)(c.iam.CreatePolicy(ctx, &iamsdk.CreatePolicyInput{PolicyName: aws.String(fmt.Sprintf("p%d", i)), PolicyDocument: aws.String(doc("s3:*"))})).Policy.Arn
		_, err := c.iam.AttachRolePolicy(ctx, &iamsdk.AttachRolePolicyInput{RoleName: aws.String("full"), PolicyArn: arn})
		if i < 10 && err != nil {
			t.Fatal(err)
		}
		if i == 10 {
			wantErr(t, err, "LimitExceeded", 409, "Cannot exceed quota for PoliciesPerRole: 10")
		}
	}
}

func TestInlinePolicies(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	must[*iamsdk.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("ivy")}))
	for _, n := range []string{"zeta", "alpha"} {
		must[*iamsdk.PutUserPolicyOutput](t)(c.iam.PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String("ivy"), PolicyName: aws.String(n), PolicyDocument: aws.String(doc("s3:" + n))}))
	}
	// Putting a policy again replaces it.
	must[*iamsdk.PutUserPolicyOutput](t)(c.iam.PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String("ivy"), PolicyName: aws.String("zeta"), PolicyDocument: aws.String(doc("s3:Zeta2"))}))
	names := must[*iamsdk.ListUserPoliciesOutput](t)(c.iam.ListUserPolicies(ctx, &iamsdk.ListUserPoliciesInput{UserName: aws.String("ivy")})).PolicyNames
	if strings.Join(names, ",") != "alpha,zeta" {
		t.Errorf("inline policies %v", names)
	}
	got := must[*iamsdk.GetUserPolicyOutput](t)(c.iam.GetUserPolicy(ctx, &iamsdk.GetUserPolicyInput{UserName: aws.String("ivy"), PolicyName: aws.String("zeta")}))
	if aws.ToString(got.UserName) != "ivy" || decoded(t, got.PolicyDocument) != doc("s3:Zeta2") {
		t.Errorf("GetUserPolicy: %+v", got)
	}
	_, err := c.iam.GetUserPolicy(ctx, &iamsdk.GetUserPolicyInput{UserName: aws.String("ivy"), PolicyName: aws.String("nope")})
	wantErr(t, err, "NoSuchEntity", 404, "The user policy with name nope cannot be found.")
	_, err = c.iam.PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String("ivy"), PolicyName: aws.String("big"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::` + strings.Repeat("b", 2000) + `"}]}`)})
	wantErr(t, err, "LimitExceeded", 409, "Maximum policy size of 2048 bytes exceeded for user ivy")
	_, err = c.iam.PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String("ivy"), PolicyName: aws.String("broken"), PolicyDocument: aws.String("not json")})
	wantErr(t, err, "MalformedPolicyDocument", 400, "Syntax errors in policy.")
	_, err = c.iam.DeleteUser(ctx, &iamsdk.DeleteUserInput{UserName: aws.String("ivy")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must delete policies first.")

	must[*iamsdk.CreateGroupOutput](t)(c.iam.CreateGroup(ctx, &iamsdk.CreateGroupInput{GroupName: aws.String("grp")}))
	must[*iamsdk.PutGroupPolicyOutput](t)(c.iam.PutGroupPolicy(ctx, &iamsdk.PutGroupPolicyInput{GroupName: aws.String("grp"), PolicyName: aws.String("g"), PolicyDocument: aws.String(doc("ec2:*"))}))
	gp := must[*iamsdk.GetGroupPolicyOutput](t)(c.iam.GetGroupPolicy(ctx, &iamsdk.GetGroupPolicyInput{GroupName: aws.String("grp"), PolicyName: aws.String("g")}))
	if aws.ToString(gp.GroupName) != "grp" || decoded(t, gp.PolicyDocument) != doc("ec2:*") {
		t.Errorf("GetGroupPolicy: %+v", gp)
	}
	must[*iamsdk.DeleteGroupPolicyOutput](t)(c.iam.DeleteGroupPolicy(ctx, &iamsdk.DeleteGroupPolicyInput{GroupName: aws.String("grp"), PolicyName: aws.String("g")}))
	_, err = c.iam.DeleteGroupPolicy(ctx, &iamsdk.DeleteGroupPolicyInput{GroupName: aws.String("grp"), PolicyName: aws.String("g")})
	wantErr(t, err, "NoSuchEntity", 404, "The group policy with name g cannot be found.")
	if names := must[*iamsdk.ListGroupPoliciesOutput](t)(c.iam.ListGroupPolicies(ctx, &iamsdk.ListGroupPoliciesInput{GroupName: aws.String("grp")})).PolicyNames; len(names) != 0 {
		t.Errorf("group policies left: %v", names)
	}

	must[*iamsdk.CreateRoleOutput](t)(c.iam.CreateRole(ctx, &iamsdk.CreateRoleInput{RoleName: aws.String("rl"), AssumeRolePolicyDocument: aws.String(trustEC2)}))
	_, err = c.iam.GetRolePolicy(ctx, &iamsdk.GetRolePolicyInput{RoleName: aws.String("rl"), PolicyName: aws.String("x")})
	wantErr(t, err, "NoSuchEntity", 404, "The role policy with name x cannot be found.")
}

func TestPolicyTags(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	arn := must[*iamsdk.CreatePolicyOutput](t)(c.iam.CreatePolicy(ctx, &iamsdk.CreatePolicyInput{PolicyName: aws.String("tagged"), PolicyDocument: aws.String(doc("s3:*"))})).Policy.Arn
	must[*iamsdk.TagPolicyOutput](t)(c.iam.TagPolicy(ctx, &iamsdk.TagPolicyInput{PolicyArn: arn, Tags: []types.Tag{{Key: aws.String("owner"), Value: aws.String("ops")}}}))
	tags := must[*iamsdk.ListPolicyTagsOutput](t)(c.iam.ListPolicyTags(ctx, &iamsdk.ListPolicyTagsInput{PolicyArn: arn})).Tags
	if len(tags) != 1 || aws.ToString(tags[0].Value) != "ops" {
		t.Errorf("policy tags %+v", tags)
	}
	must[*iamsdk.UntagPolicyOutput](t)(c.iam.UntagPolicy(ctx, &iamsdk.UntagPolicyInput{PolicyArn: arn, TagKeys: []string{"owner"}}))
	if tags := must[*iamsdk.ListPolicyTagsOutput](t)(c.iam.ListPolicyTags(ctx, &iamsdk.ListPolicyTagsInput{PolicyArn: arn})).Tags; len(tags) != 0 {
		t.Errorf("tags after untag %+v", tags)
	}
}

package ec2_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

func TestLaunchTemplateRunInstances(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	cl := c.client()
	ctx := context.Background()
	ami := cmpAL2023(t, cl)
	userData := base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\necho from-template\n"))
	created := must[*ec2sdk.CreateLaunchTemplateOutput](t)(cl.CreateLaunchTemplate(ctx, &ec2sdk.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String("web"),
		VersionDescription: aws.String("first"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{
			ImageId:      aws.String(ami),
			InstanceType: "t3.small",
			UserData:     aws.String(userData),
			TagSpecifications: []types.LaunchTemplateTagSpecificationRequest{{
				ResourceType: types.ResourceTypeInstance, Tags: []types.Tag{{Key: aws.String("app"), Value: aws.String("web")}},
			}},
			MetadataOptions: &types.LaunchTemplateInstanceMetadataOptionsRequest{HttpTokens: types.LaunchTemplateHttpTokensStateOptional},
		},
		TagSpecifications: []types.TagSpecification{{ResourceType: types.ResourceTypeLaunchTemplate, Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("a")}}}},
	}))
	lt := created.LaunchTemplate
	ltID := aws.ToString(lt.LaunchTemplateId)
	if aws.ToInt64(lt.DefaultVersionNumber) != 1 || aws.ToInt64(lt.LatestVersionNumber) != 1 || len(lt.Tags) != 1 || aws.ToString(lt.CreatedBy) == "" {
		t.Fatalf("template: %+v", lt)
	}

	// By name, default version: the template fills what the request omits.
	r1 := must[*ec2sdk.RunInstancesOutput](t)(cl.RunInstances(ctx, &ec2sdk.RunInstancesInput{
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("web")},
	})).Instances[0]
	if r1.InstanceType != "t3.small" || aws.ToString(r1.ImageId) != ami || r1.MetadataOptions.HttpTokens != types.HttpTokensStateOptional {
		t.Fatalf("from the template: %+v", r1)
	}
	tags := map[string]string{}
	for _, tg := range r1.Tags {
		tags[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
	}
	if tags["app"] != "web" || tags["aws:ec2launchtemplate:id"] != ltID || tags["aws:ec2launchtemplate:version"] != "1" {
		t.Fatalf("tags: %v", tags)
	}
	ud := must[*ec2sdk.DescribeInstanceAttributeOutput](t)(cl.DescribeInstanceAttribute(ctx, &ec2sdk.DescribeInstanceAttributeInput{InstanceId: r1.InstanceId, Attribute: types.InstanceAttributeNameUserData}))
	if aws.ToString(ud.UserData.Value) != userData {
		t.Fatalf("user data from the template: %q", aws.ToString(ud.UserData.Value))
	}

	// Version 2 from version 1 with another type; the request overrides.
	v2 := must[*ec2sdk.CreateLaunchTemplateVersionOutput](t)(cl.CreateLaunchTemplateVersion(ctx, &ec2sdk.CreateLaunchTemplateVersionInput{
		LaunchTemplateId: aws.String(ltID), SourceVersion: aws.String("1"), VersionDescription: aws.String("bigger"),
		LaunchTemplateData: &types.RequestLaunchTemplateData{InstanceType: "m5.large"},
	})).LaunchTemplateVersion
	if aws.ToInt64(v2.VersionNumber) != 2 || v2.LaunchTemplateData.InstanceType != "m5.large" || aws.ToString(v2.LaunchTemplateData.ImageId) != ami || aws.ToBool(v2.DefaultVersion) {
		t.Fatalf("version 2: %+v", v2)
	}
	latest := must[*ec2sdk.RunInstancesOutput](t)(cl.RunInstances(ctx, &ec2sdk.RunInstancesInput{
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(ltID), Version: aws.String("$Latest")},
	})).Instances[0]
	override := must[*ec2sdk.RunInstancesOutput](t)(cl.RunInstances(ctx, &ec2sdk.RunInstancesInput{
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1), InstanceType: "c5.large",
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateId: aws.String(ltID), Version: aws.String("2")},
	})).Instances[0]
	if latest.InstanceType != "m5.large" || override.InstanceType != "c5.large" {
		t.Fatalf("$Latest gave %s, an override gave %s", latest.InstanceType, override.InstanceType)
	}

	must[*ec2sdk.ModifyLaunchTemplateOutput](t)(cl.ModifyLaunchTemplate(ctx, &ec2sdk.ModifyLaunchTemplateInput{LaunchTemplateName: aws.String("web"), DefaultVersion: aws.String("2")}))
	must[*ec2sdk.CreateLaunchTemplateVersionOutput](t)(cl.CreateLaunchTemplateVersion(ctx, &ec2sdk.CreateLaunchTemplateVersionInput{
		LaunchTemplateName: aws.String("web"), LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(ami), InstanceType: "t3.nano"},
	}))
	def := must[*ec2sdk.DescribeLaunchTemplateVersionsOutput](t)(cl.DescribeLaunchTemplateVersions(ctx, &ec2sdk.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateId: aws.String(ltID), Versions: []string{"$Default", "$Latest"},
	}))
	if len(def.LaunchTemplateVersions) != 2 || aws.ToInt64(def.LaunchTemplateVersions[0].VersionNumber) != 3 || aws.ToInt64(def.LaunchTemplateVersions[1].VersionNumber) != 2 ||
		!aws.ToBool(def.LaunchTemplateVersions[1].DefaultVersion) {
		t.Fatalf("$Default and $Latest: %+v", def.LaunchTemplateVersions)
	}
	ranged := must[*ec2sdk.DescribeLaunchTemplateVersionsOutput](t)(cl.DescribeLaunchTemplateVersions(ctx, &ec2sdk.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateName: aws.String("web"), MinVersion: aws.String("2"), MaxVersion: aws.String("3"),
	}))
	if len(ranged.LaunchTemplateVersions) != 2 {
		t.Fatalf("versions 2..3: %d", len(ranged.LaunchTemplateVersions))
	}
	typed := must[*ec2sdk.DescribeLaunchTemplateVersionsOutput](t)(cl.DescribeLaunchTemplateVersions(ctx, &ec2sdk.DescribeLaunchTemplateVersionsInput{
		LaunchTemplateName: aws.String("web"), Filters: []types.Filter{{Name: aws.String("instance-type"), Values: []string{"t3.*"}}},
	}))
	if len(typed.LaunchTemplateVersions) != 2 {
		t.Fatalf("t3 versions: %d", len(typed.LaunchTemplateVersions))
	}
	// Paging one version at a time, newest first.
	p := ec2sdk.NewDescribeLaunchTemplateVersionsPaginator(cl, &ec2sdk.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(ltID), MaxResults: aws.Int32(1)})
	var order []int64
	for p.HasMorePages() {
		for _, v := range must[*ec2sdk.DescribeLaunchTemplateVersionsOutput](t)(p.NextPage(ctx)).LaunchTemplateVersions {
			order = append(order, aws.ToInt64(v.VersionNumber))
		}
	}
	if len(order) != 3 || order[0] != 3 || order[2] != 1 {
		t.Fatalf("paged versions: %v", order)
	}

	del := must[*ec2sdk.DeleteLaunchTemplateVersionsOutput](t)(cl.DeleteLaunchTemplateVersions(ctx, &ec2sdk.DeleteLaunchTemplateVersionsInput{
		LaunchTemplateId: aws.String(ltID), Versions: []string{"2", "3", "9"},
	}))
	if len(del.SuccessfullyDeletedLaunchTemplateVersions) != 1 || aws.ToInt64(del.SuccessfullyDeletedLaunchTemplateVersions[0].VersionNumber) != 3 ||
		len(del.UnsuccessfullyDeletedLaunchTemplateVersions) != 2 ||
		del.UnsuccessfullyDeletedLaunchTemplateVersions[0].ResponseError.Code != types.LaunchTemplateErrorCodeUnexpectedError ||
		del.UnsuccessfullyDeletedLaunchTemplateVersions[1].ResponseError.Code != types.LaunchTemplateErrorCodeLaunchTemplateVersionDoesNotExist {
		t.Fatalf("delete versions: %+v", del)
	}

	byTag := must[*ec2sdk.DescribeLaunchTemplatesOutput](t)(cl.DescribeLaunchTemplates(ctx, &ec2sdk.DescribeLaunchTemplatesInput{
		Filters: []types.Filter{{Name: aws.String("tag:team"), Values: []string{"a"}}},
	}))
	if len(byTag.LaunchTemplates) != 1 || aws.ToInt64(byTag.LaunchTemplates[0].LatestVersionNumber) != 2 || aws.ToInt64(byTag.LaunchTemplates[0].DefaultVersionNumber) != 2 {
		t.Fatalf("by tag: %+v", byTag.LaunchTemplates)
	}
	byName := must[*ec2sdk.DescribeLaunchTemplatesOutput](t)(cl.DescribeLaunchTemplates(ctx, &ec2sdk.DescribeLaunchTemplatesInput{
		Filters: []types.Filter{{Name: aws.String("launch-template-name"), Values: []string{"w*"}}},
	}))
	if len(byName.LaunchTemplates) != 1 {
		t.Fatalf("by name filter: %d", len(byName.LaunchTemplates))
	}

	deleted := must[*ec2sdk.DeleteLaunchTemplateOutput](t)(cl.DeleteLaunchTemplate(ctx, &ec2sdk.DeleteLaunchTemplateInput{LaunchTemplateName: aws.String("web")}))
	if aws.ToString(deleted.LaunchTemplate.LaunchTemplateId) != ltID {
		t.Fatalf("deleted: %+v", deleted.LaunchTemplate)
	}
	_, err := cl.DescribeLaunchTemplates(ctx, &ec2sdk.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{ltID}})
	wantCode(t, err, "InvalidLaunchTemplateId.NotFound")
	// Instances launched from it are unaffected.
	if st := cmpDescribe(t, cl, aws.ToString(r1.InstanceId)).InstanceType; st != "t3.small" {
		t.Fatalf("instance after its template's deletion: %s", st)
	}
}

func TestLaunchTemplateBadInput(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	cl := c.client()
	ctx := context.Background()
	ami := cmpAL2023(t, cl)
	lt := must[*ec2sdk.CreateLaunchTemplateOutput](t)(cl.CreateLaunchTemplate(ctx, &ec2sdk.CreateLaunchTemplateInput{
		LaunchTemplateName: aws.String("base"), LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(ami)},
	})).LaunchTemplate
	ltID := lt.LaunchTemplateId
	create := func(name string, d *types.RequestLaunchTemplateData) error {
		_, err := cl.CreateLaunchTemplate(ctx, &ec2sdk.CreateLaunchTemplateInput{LaunchTemplateName: aws.String(name), LaunchTemplateData: d})
		return err
	}
	cases := []struct {
		name string
		call func() error
		code string
	}{
		{"duplicate name", func() error { return create("base", &types.RequestLaunchTemplateData{InstanceType: "t3.micro"}) }, "InvalidLaunchTemplateName.AlreadyExistsException"},
		{"malformed name", func() error { return create("a b!", &types.RequestLaunchTemplateData{InstanceType: "t3.micro"}) }, "InvalidLaunchTemplateName.MalformedException"},
		{"unknown type", func() error { return create("lt-x2", &types.RequestLaunchTemplateData{InstanceType: "z9.large"}) }, "InvalidParameterValue"},
		{"bad user data", func() error {
			return create("lt-x5", &types.RequestLaunchTemplateData{UserData: aws.String("plain text!")})
		}, "InvalidUserData.Malformed"},
		{"version of an unknown template", func() error {
			_, err := cl.CreateLaunchTemplateVersion(ctx, &ec2sdk.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String("lt-0123456789abcdef0"), LaunchTemplateData: &types.RequestLaunchTemplateData{InstanceType: "t3.micro"}})
			return err
		}, "InvalidLaunchTemplateId.NotFound"},
		{"version from an unknown source", func() error {
			_, err := cl.CreateLaunchTemplateVersion(ctx, &ec2sdk.CreateLaunchTemplateVersionInput{LaunchTemplateId: ltID, SourceVersion: aws.String("5"), LaunchTemplateData: &types.RequestLaunchTemplateData{InstanceType: "t3.micro"}})
			return err
		}, "InvalidLaunchTemplateId.VersionNotFound"},
		{"both id and name", func() error {
			_, err := cl.DeleteLaunchTemplate(ctx, &ec2sdk.DeleteLaunchTemplateInput{LaunchTemplateId: ltID, LaunchTemplateName: aws.String("base")})
			return err
		}, "InvalidParameterCombination"},
		{"neither id nor name", func() error {
			_, err := cl.DeleteLaunchTemplate(ctx, &ec2sdk.DeleteLaunchTemplateInput{})
			return err
		}, "MissingParameter"},
		{"malformed id", func() error {
			_, err := cl.DeleteLaunchTemplate(ctx, &ec2sdk.DeleteLaunchTemplateInput{LaunchTemplateId: aws.String("lt-zz")})
			return err
		}, "InvalidLaunchTemplateId.Malformed"},
		{"delete an unknown name", func() error {
			_, err := cl.DeleteLaunchTemplate(ctx, &ec2sdk.DeleteLaunchTemplateInput{LaunchTemplateName: aws.String("ghost")})
			return err
		}, "InvalidLaunchTemplateName.NotFoundException"},
		{"default to an unknown version", func() error {
			_, err := cl.ModifyLaunchTemplate(ctx, &ec2sdk.ModifyLaunchTemplateInput{LaunchTemplateId: ltID, DefaultVersion: aws.String("4")})
			return err
		}, "InvalidLaunchTemplateId.VersionNotFound"},
		{"describe an unknown name", func() error {
			_, err := cl.DescribeLaunchTemplates(ctx, &ec2sdk.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"ghost"}})
			return err
		}, "InvalidLaunchTemplateName.NotFoundException"},
		{"describe unknown versions", func() error {
			_, err := cl.DescribeLaunchTemplateVersions(ctx, &ec2sdk.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: ltID, Versions: []string{"8"}})
			return err
		}, "InvalidLaunchTemplateId.VersionNotFound"},
		{"describe with a bad filter", func() error {
			_, err := cl.DescribeLaunchTemplates(ctx, &ec2sdk.DescribeLaunchTemplatesInput{Filters: []types.Filter{{Name: aws.String("colour"), Values: []string{"x"}}}})
			return err
		}, "InvalidParameterValue"},
	}
	for _, tc := range cases {
		if err := tc.call(); apiCode(err) != tc.code {
			t.Errorf("%s: got %v, want %s", tc.name, err, tc.code)
		}
	}
	all := must[*ec2sdk.DescribeLaunchTemplatesOutput](t)(cl.DescribeLaunchTemplates(ctx, &ec2sdk.DescribeLaunchTemplatesInput{}))
	if len(all.LaunchTemplates) != 1 {
		t.Fatalf("failed creates left templates: %d", len(all.LaunchTemplates))
	}
	// A client token makes a second create the first.
	in := &ec2sdk.CreateLaunchTemplateInput{LaunchTemplateName: aws.String("tok"), ClientToken: aws.String("t-1"), LaunchTemplateData: &types.RequestLaunchTemplateData{ImageId: aws.String(ami)}}
	a := must[*ec2sdk.CreateLaunchTemplateOutput](t)(cl.CreateLaunchTemplate(ctx, in))
	b := must[*ec2sdk.CreateLaunchTemplateOutput](t)(cl.CreateLaunchTemplate(ctx, in))
	if aws.ToString(a.LaunchTemplate.LaunchTemplateId) != aws.ToString(b.LaunchTemplate.LaunchTemplateId) {
		t.Fatal("the client token made two templates")
	}
}

// As on AWS, parameters are not fully validated at creation: what cannot
// be found is a warning, and the launch fails.
func TestLaunchTemplateWarnings(t *testing.T) {
	t.Parallel()
	c := newCloud(t)
	cl := c.client()
	ctx := context.Background()
	for i, tc := range []struct {
		data *types.RequestLaunchTemplateData
		code string
	}{
		{&types.RequestLaunchTemplateData{ImageId: aws.String("ami-0123456789abcdef0")}, "InvalidAMIID.NotFound"},
		{&types.RequestLaunchTemplateData{KeyName: aws.String("nokey")}, "InvalidKeyPair.NotFound"},
		{&types.RequestLaunchTemplateData{SecurityGroupIds: []string{"sg-0123456789abcdef0"}}, "InvalidGroup.NotFound"},
		{&types.RequestLaunchTemplateData{NetworkInterfaces: []types.LaunchTemplateInstanceNetworkInterfaceSpecificationRequest{{DeviceIndex: aws.Int32(0), SubnetId: aws.String("subnet-0123456789abcdef0")}}}, "InvalidSubnetID.NotFound"},
	} {
		out, err := cl.CreateLaunchTemplate(ctx, &ec2sdk.CreateLaunchTemplateInput{LaunchTemplateName: aws.String(fmt.Sprintf("warned-%d", i)), LaunchTemplateData: tc.data})
		if err != nil {
			t.Fatalf("%s: %v, want the template with a warning", tc.code, err)
		}
		if out.Warning == nil || len(out.Warning.Errors) != 1 || aws.ToString(out.Warning.Errors[0].Code) != tc.code || aws.ToString(out.Warning.Errors[0].Message) == "" {
			t.Errorf("%s: warning %+v", tc.code, out.Warning)
		}
	}
	_, err := cl.RunInstances(ctx, &ec2sdk.RunInstancesInput{MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		LaunchTemplate: &types.LaunchTemplateSpecification{LaunchTemplateName: aws.String("warned-0")}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidAMIID.NotFound" {
		t.Errorf("launching the template with an unknown AMI: %v, want InvalidAMIID.NotFound", err)
	}
}

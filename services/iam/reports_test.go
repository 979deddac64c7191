package iam_test

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	iamsdk "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"

	"github.com/cloudbox/cloudbox/server"
)

// samlMetadata is an IdP's metadata document (IAM wants at least 1,000
// characters).
var samlMetadata = `<?xml version="1.0"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com/saml" validUntil="2031-01-01T00:00:00Z">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example.com/sso"/>
  </md:IDPSSODescriptor>
  <!-- ` + strings.Repeat("padding ", 120) + ` -->
</md:EntityDescriptor>`

func TestSAMLProviders(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	_, err := c.iam.CreateSAMLProvider(ctx, &iamsdk.CreateSAMLProviderInput{Name: aws.String("corp"), SAMLMetadataDocument: aws.String(strings.Repeat("not xml ", 130))})
	wantErr(t, err, "InvalidInput", 400, "Could not parse metadata")
	out := must[*iamsdk.CreateSAMLProviderOutput](t)(c.iam.CreateSAMLProvider(ctx, &iamsdk.CreateSAMLProviderInput{Name: aws.String("corp"), SAMLMetadataDocument: aws.String(samlMetadata),
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}}))
	arn := aws.ToString(out.SAMLProviderArn)
	if arn != "arn:aws:iam::"+account+":saml-provider/corp" {
		t.Errorf("arn %s", arn)
	}
	_, err = c.iam.CreateSAMLProvider(ctx, &iamsdk.CreateSAMLProviderInput{Name: aws.String("corp"), SAMLMetadataDocument: aws.String(samlMetadata)})
	wantErr(t, err, "EntityAlreadyExists", 409, "SAMLProvider entity with name corp already exists.")
	got := must[*iamsdk.GetSAMLProviderOutput](t)(c.iam.GetSAMLProvider(ctx, &iamsdk.GetSAMLProviderInput{SAMLProviderArn: out.SAMLProviderArn}))
	if aws.ToString(got.SAMLMetadataDocument) != samlMetadata || aws.ToTime(got.ValidUntil).Year() != 2031 || len(got.Tags) != 1 {
		t.Errorf("get %+v", got)
	}
	must[*iamsdk.UpdateSAMLProviderOutput](t)(c.iam.UpdateSAMLProvider(ctx, &iamsdk.UpdateSAMLProviderInput{SAMLProviderArn: out.SAMLProviderArn, SAMLMetadataDocument: aws.String(strings.Replace(samlMetadata, "2031", "2032", 1))}))
	list := must[*iamsdk.ListSAMLProvidersOutput](t)(c.iam.ListSAMLProviders(ctx, &iamsdk.ListSAMLProvidersInput{})).SAMLProviderList
	if len(list) != 1 || aws.ToTime(list[0].ValidUntil).Year() != 2032 {
		t.Errorf("list %+v", list)
	}
	must[*iamsdk.UntagSAMLProviderOutput](t)(c.iam.UntagSAMLProvider(ctx, &iamsdk.UntagSAMLProviderInput{SAMLProviderArn: out.SAMLProviderArn, TagKeys: []string{"k"}}))
	if tags := must[*iamsdk.ListSAMLProviderTagsOutput](t)(c.iam.ListSAMLProviderTags(ctx, &iamsdk.ListSAMLProviderTagsInput{SAMLProviderArn: out.SAMLProviderArn})).Tags; len(tags) != 0 {
		t.Errorf("tags %+v", tags)
	}
	if n := must[*iamsdk.GetAccountSummaryOutput](t)(c.iam.GetAccountSummary(ctx, &iamsdk.GetAccountSummaryInput{})).SummaryMap["Providers"]; n < 1 {
		t.Errorf("summary Providers %d", n)
	}
	must[*iamsdk.DeleteSAMLProviderOutput](t)(c.iam.DeleteSAMLProvider(ctx, &iamsdk.DeleteSAMLProviderInput{SAMLProviderArn: out.SAMLProviderArn}))
	_, err = c.iam.GetSAMLProvider(ctx, &iamsdk.GetSAMLProviderInput{SAMLProviderArn: out.SAMLProviderArn})
	wantErr(t, err, "NoSuchEntity", 404, "Manifest not found for arn "+arn)
}

func TestCredentialReport(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	_, err := c.iam.GetCredentialReport(ctx, &iamsdk.GetCredentialReportInput{})
	wantErr(t, err, "ReportNotPresent", 410, "Credential report not present. Call GenerateCredentialReport to generate it.")
	must[*iamsdk.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("rae")}))
	must[*iamsdk.CreateLoginProfileOutput](t)(c.iam.CreateLoginProfile(ctx, &iamsdk.CreateLoginProfileInput{UserName: aws.String("rae"), Password: aws.String("Sup3r-secret")}))
	must[*iamsdk.CreateAccessKeyOutput](t)(c.iam.CreateAccessKey(ctx, &iamsdk.CreateAccessKeyInput{UserName: aws.String("rae")}))

	gen := must[*iamsdk.GenerateCredentialReportOutput](t)(c.iam.GenerateCredentialReport(ctx, &iamsdk.GenerateCredentialReportInput{}))
	if gen.State != types.ReportStateTypeStarted {
		t.Errorf("first generate %s", gen.State)
	}
	if gen = must[*iamsdk.GenerateCredentialReportOutput](t)(c.iam.GenerateCredentialReport(ctx, &iamsdk.GenerateCredentialReportInput{})); gen.State != types.ReportStateTypeComplete {
		t.Errorf("second generate %s", gen.State)
	}
	rep := must[*iamsdk.GetCredentialReportOutput](t)(c.iam.GetCredentialReport(ctx, &iamsdk.GetCredentialReportInput{}))
	rows, err := csv.NewReader(bytes.NewReader(rep.Content)).ReadAll()
	if err != nil || rep.ReportFormat != types.ReportFormatTypeTextCsv {
		t.Fatalf("report %q: %v", rep.Content, err)
	}
	if len(rows) != 3 || strings.Join(rows[0][:8], ",") != "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active" || len(rows[0]) != 22 {
		t.Fatalf("report rows %q", rows)
	}
	rae := rows[2]
	if rae[0] != "rae" || rae[2] != "2026-03-01T12:00:00+00:00" || rae[3] != "true" || rae[5] != "2026-03-01T12:00:00+00:00" || rae[7] != "false" || rae[8] != "true" || rae[13] != "false" {
		t.Errorf("rae's row %q", rae)
	}
	if rows[1][0] != "<root_account>" {
		t.Errorf("root row %q", rows[1])
	}
}

func TestAccessReports(t *testing.T) {
	c := newCloud(t, server.AuthOff)
	must[*iamsdk.CreateUserOutput](t)(c.iam.CreateUser(ctx, &iamsdk.CreateUserInput{UserName: aws.String("ana")}))
	must[*iamsdk.CreateGroupOutput](t)(c.iam.CreateGroup(ctx, &iamsdk.CreateGroupInput{GroupName: aws.String("devs")}))
	must[*iamsdk.AddUserToGroupOutput](t)(c.iam.AddUserToGroup(ctx, &iamsdk.AddUserToGroupInput{UserName: aws.String("ana"), GroupName: aws.String("devs")}))
	must[*iamsdk.AttachGroupPolicyOutput](t)(c.iam.AttachGroupPolicy(ctx, &iamsdk.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")}))
	must[*iamsdk.PutUserPolicyOutput](t)(c.iam.PutUserPolicy(ctx, &iamsdk.PutUserPolicyInput{UserName: aws.String("ana"), PolicyName: aws.String("ec2"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:Describe*","Resource":"*"}]}`)}))
	userARN := "arn:aws:iam::" + account + ":user/ana"

	grants := must[*iamsdk.ListPoliciesGrantingServiceAccessOutput](t)(c.iam.ListPoliciesGrantingServiceAccess(ctx, &iamsdk.ListPoliciesGrantingServiceAccessInput{Arn: aws.String(userARN), ServiceNamespaces: []string{"s3", "ec2", "sqs"}})).PoliciesGrantingServiceAccess
	if len(grants) != 3 || len(grants[0].Policies) != 1 || aws.ToString(grants[0].Policies[0].PolicyArn) != "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess" ||
		len(grants[1].Policies) != 1 || grants[1].Policies[0].PolicyType != types.PolicyTypeInline || aws.ToString(grants[1].Policies[0].EntityName) != "ana" || len(grants[2].Policies) != 0 {
		t.Errorf("grants %+v", grants)
	}

	job := must[*iamsdk.GenerateServiceLastAccessedDetailsOutput](t)(c.iam.GenerateServiceLastAccessedDetails(ctx, &iamsdk.GenerateServiceLastAccessedDetailsInput{Arn: aws.String(userARN)}))
	det := must[*iamsdk.GetServiceLastAccessedDetailsOutput](t)(c.iam.GetServiceLastAccessedDetails(ctx, &iamsdk.GetServiceLastAccessedDetailsInput{JobId: job.JobId}))
	var nss []string
	for _, s := range det.ServicesLastAccessed {
		nss = append(nss, aws.ToString(s.ServiceNamespace))
		if s.LastAuthenticated != nil {
			t.Errorf("%s last authenticated %v: cloudbox records no access", aws.ToString(s.ServiceNamespace), s.LastAuthenticated)
		}
	}
	if det.JobStatus != types.JobStatusTypeCompleted || !strings.Contains(strings.Join(nss, ","), "ec2") || !strings.Contains(strings.Join(nss, ","), "s3") {
		t.Errorf("details %s %v", det.JobStatus, nss)
	}
	ents := must[*iamsdk.GetServiceLastAccessedDetailsWithEntitiesOutput](t)(c.iam.GetServiceLastAccessedDetailsWithEntities(ctx, &iamsdk.GetServiceLastAccessedDetailsWithEntitiesInput{JobId: job.JobId, ServiceNamespace: aws.String("s3")}))
	if len(ents.EntityDetailsList) != 1 || aws.ToString(ents.EntityDetailsList[0].EntityInfo.Arn) != userARN {
		t.Errorf("entities %+v", ents.EntityDetailsList)
	}
	_, err := c.iam.GenerateServiceLastAccessedDetails(ctx, &iamsdk.GenerateServiceLastAccessedDetailsInput{Arn: aws.String("arn:aws:iam::" + account + ":user/nobody")})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name nobody cannot be found.")

	_, err = c.iam.GenerateOrganizationsAccessReport(ctx, &iamsdk.GenerateOrganizationsAccessReportInput{EntityPath: aws.String("o-a1b2c3d4e5/r-f6g7h8i9j0example")})
	wantErr(t, err, "OrganizationNotFoundException", 400, "The request was rejected because no organization is associated with your account.")

	must[*iamsdk.SetSecurityTokenServicePreferencesOutput](t)(c.iam.SetSecurityTokenServicePreferences(ctx, &iamsdk.SetSecurityTokenServicePreferencesInput{GlobalEndpointTokenVersion: types.GlobalEndpointTokenVersionV2Token}))
	if v := must[*iamsdk.GetAccountSummaryOutput](t)(c.iam.GetAccountSummary(ctx, &iamsdk.GetAccountSummaryInput{})).SummaryMap["GlobalEndpointTokenVersion"]; v != 2 {
		t.Errorf("GlobalEndpointTokenVersion %d", v)
	}
}

package s3

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	s3sdk "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// cfgGrants are an ACL's grants as "grantee=permission", the grantee a
// group's last path element or a canonical id.
func cfgGrants(gs []s3types.Grant) []string {
	var out []string
	for _, g := range gs {
		who := aws.ToString(g.Grantee.ID)
		if g.Grantee.Type == s3types.TypeGroup {
			who = aws.ToString(g.Grantee.URI)
			who = who[strings.LastIndex(who, "/")+1:]
		}
		out = append(out, who+"="+string(g.Permission))
	}
	return out
}

func TestACLsDisabledByDefault(t *testing.T) {
	c := cfgNewCloud(t, false)
	b := c.bucket(t, "acl-default")
	me := canonicalID("000000000000")
	got := cfgMust(c.s3.GetBucketAcl(cfgCtx, &s3sdk.GetBucketAclInput{Bucket: aws.String(b)}))(t)
	if g := cfgGrants(got.Grants); len(g) != 1 || g[0] != me+"=FULL_CONTROL" || aws.ToString(got.Owner.ID) != me {
		t.Errorf("grants %v, owner %v", g, aws.ToString(got.Owner.ID))
	}
	if aws.ToString(got.Grants[0].Grantee.DisplayName) != aws.ToString(got.Owner.DisplayName) {
		t.Error("the owner's grant has no display name")
	}

	// With ACLs disabled only the owner's full control is taken.
	_, err := c.s3.PutBucketAcl(cfgCtx, &s3sdk.PutBucketAclInput{Bucket: aws.String(b), ACL: s3types.BucketCannedACLPublicRead})
	if e := cfgWantErr(t, err, "AccessControlListNotSupported", http.StatusBadRequest); e.ErrorMessage() != "The bucket does not allow ACLs" {
		t.Errorf("message %q", e.ErrorMessage())
	}
	cfgMust(c.s3.PutBucketAcl(cfgCtx, &s3sdk.PutBucketAclInput{Bucket: aws.String(b), ACL: s3types.BucketCannedACLPrivate}))(t)
	cfgMust(c.s3.PutBucketAcl(cfgCtx, &s3sdk.PutBucketAclInput{Bucket: aws.String(b), GrantFullControl: aws.String(`id="` + me + `"`)}))(t)

	c.put(t, b, "k", "body")
	_, err = c.s3.PutObjectAcl(cfgCtx, &s3sdk.PutObjectAclInput{Bucket: aws.String(b), Key: aws.String("k"), ACL: s3types.ObjectCannedACLPublicRead})
	cfgWantErr(t, err, "AccessControlListNotSupported", http.StatusBadRequest)
	cfgMust(c.s3.PutObjectAcl(cfgCtx, &s3sdk.PutObjectAclInput{Bucket: aws.String(b), Key: aws.String("k"), ACL: s3types.ObjectCannedACLBucketOwnerFullControl}))(t)
	oacl := cfgMust(c.s3.GetObjectAcl(cfgCtx, &s3sdk.GetObjectAclInput{Bucket: aws.String(b), Key: aws.String("k")}))(t)
	if g := cfgGrants(oacl.Grants); len(g) != 1 || g[0] != me+"=FULL_CONTROL" {
		t.Errorf("object grants %v", g)
	}
	_, err = c.s3.GetObjectAcl(cfgCtx, &s3sdk.GetObjectAclInput{Bucket: aws.String(b), Key: aws.String("none")})
	cfgWantErr(t, err, "NoSuchKey", http.StatusNotFound)
}

func TestACLsEnabled(t *testing.T) {
	c := cfgNewCloud(t, false)
	b := c.bucket(t, "acl-on")
	me := canonicalID("000000000000")
	cfgMust(c.s3.PutBucketOwnershipControls(cfgCtx, &s3sdk.PutBucketOwnershipControlsInput{Bucket: aws.String(b),
		OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipObjectWriter}}}}))(t)

	// Block Public Access still refuses public grants.
	_, err := c.s3.PutBucketAcl(cfgCtx, &s3sdk.PutBucketAclInput{Bucket: aws.String(b), ACL: s3types.BucketCannedACLPublicRead})
	e := cfgWantErr(t, err, "AccessDenied", http.StatusForbidden)
	if want := `is not authorized to perform: s3:PutBucketAcl on resource: "arn:aws:s3:::acl-on" because public access control lists (ACLs) are blocked by the BlockPublicAcls block public access setting.`; !strings.Contains(e.ErrorMessage(), want) {
		t.Errorf("message %q", e.ErrorMessage())
	}
	cfgMust(c.s3.DeletePublicAccessBlock(cfgCtx, &s3sdk.DeletePublicAccessBlockInput{Bucket: aws.String(b)}))(t)

	cfgMust(c.s3.PutBucketAcl(cfgCtx, &s3sdk.PutBucketAclInput{Bucket: aws.String(b), ACL: s3types.BucketCannedACLPublicRead}))(t)
	got := cfgMust(c.s3.GetBucketAcl(cfgCtx, &s3sdk.GetBucketAclInput{Bucket: aws.String(b)}))(t)
	if g := strings.Join(cfgGrants(got.Grants), " "); g != me+"=FULL_CONTROL AllUsers=READ" {
		t.Errorf("public-read grants %s", g)
	}

	// ACLs cannot be disabled while the bucket grants others.
	_, err = c.s3.PutBucketOwnershipControls(cfgCtx, &s3sdk.PutBucketOwnershipControlsInput{Bucket: aws.String(b),
		OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerEnforced}}}})
	cfgWantErr(t, err, "InvalidBucketAclWithObjectOwnership", http.StatusBadRequest)

	// Grants in headers, and in a document.
	other := canonicalID("111111111111")
	cfgMust(c.s3.PutBucketAcl(cfgCtx, &s3sdk.PutBucketAclInput{Bucket: aws.String(b),
		GrantRead:        aws.String(`id="` + other + `", uri="http://acs.amazonaws.com/groups/global/AuthenticatedUsers"`),
		GrantFullControl: aws.String(`id="` + me + `"`)}))(t)
	got = cfgMust(c.s3.GetBucketAcl(cfgCtx, &s3sdk.GetBucketAclInput{Bucket: aws.String(b)}))(t)
	if g := strings.Join(cfgGrants(got.Grants), " "); g != me+"=FULL_CONTROL "+other+"=READ AuthenticatedUsers=READ" {
		t.Errorf("header grants %s", g)
	}
	_, err = c.s3.PutBucketAcl(cfgCtx, &s3sdk.PutBucketAclInput{Bucket: aws.String(b), GrantRead: aws.String(`uri="http://example.com/everyone"`)})
	cfgWantErr(t, err, "InvalidArgument", http.StatusBadRequest)
	_, err = c.s3.PutBucketAcl(cfgCtx, &s3sdk.PutBucketAclInput{Bucket: aws.String(b), ACL: s3types.BucketCannedACLPrivate, GrantRead: aws.String(`id="` + other + `"`)})
	cfgWantErr(t, err, "InvalidRequest", http.StatusBadRequest)

	c.put(t, b, "doc", "body")
	cfgMust(c.s3.PutObjectAcl(cfgCtx, &s3sdk.PutObjectAclInput{Bucket: aws.String(b), Key: aws.String("doc"), AccessControlPolicy: &s3types.AccessControlPolicy{
		Owner: &s3types.Owner{ID: aws.String(me)},
		Grants: []s3types.Grant{
			{Grantee: &s3types.Grantee{Type: s3types.TypeCanonicalUser, ID: aws.String(me)}, Permission: s3types.PermissionFullControl},
			{Grantee: &s3types.Grantee{Type: s3types.TypeGroup, URI: aws.String(allUsers)}, Permission: s3types.PermissionRead},
		},
	}}))(t)
	oacl := cfgMust(c.s3.GetObjectAcl(cfgCtx, &s3sdk.GetObjectAclInput{Bucket: aws.String(b), Key: aws.String("doc")}))(t)
	if g := strings.Join(cfgGrants(oacl.Grants), " "); g != me+"=FULL_CONTROL AllUsers=READ" {
		t.Errorf("object grants %s", g)
	}
	cfgMust(c.s3.PutObjectAcl(cfgCtx, &s3sdk.PutObjectAclInput{Bucket: aws.String(b), Key: aws.String("doc"), ACL: s3types.ObjectCannedACLAuthenticatedRead}))(t)
	oacl = cfgMust(c.s3.GetObjectAcl(cfgCtx, &s3sdk.GetObjectAclInput{Bucket: aws.String(b), Key: aws.String("doc")}))(t)
	if g := strings.Join(cfgGrants(oacl.Grants), " "); g != me+"=FULL_CONTROL AuthenticatedUsers=READ" {
		t.Errorf("authenticated-read grants %s", g)
	}

	// The aws CLI v1 sets and reads ACLs the same way.
	var acl struct{ Grants []struct{ Permission string } }
	if err := c.cli(t, nil, "s3api", "put-bucket-acl", "--bucket", b, "--acl", "private"); err != nil {
		t.Fatal(err)
	}
	if err := c.cli(t, &acl, "s3api", "get-bucket-acl", "--bucket", b); err != nil {
		t.Fatal(err)
	}
	if len(acl.Grants) != 1 || acl.Grants[0].Permission != "FULL_CONTROL" {
		t.Errorf("CLI grants %+v", acl.Grants)
	}
}

func TestPublicAccessBlockAndOwnership(t *testing.T) {
	c := cfgNewCloud(t, false)
	b := c.bucket(t, "pab")
	got := cfgMust(c.s3.GetPublicAccessBlock(cfgCtx, &s3sdk.GetPublicAccessBlockInput{Bucket: aws.String(b)}))(t)
	p := got.PublicAccessBlockConfiguration
	if !aws.ToBool(p.BlockPublicAcls) || !aws.ToBool(p.IgnorePublicAcls) || !aws.ToBool(p.BlockPublicPolicy) || !aws.ToBool(p.RestrictPublicBuckets) {
		t.Errorf("a new bucket's settings %+v", p)
	}
	cfgMust(c.s3.PutPublicAccessBlock(cfgCtx, &s3sdk.PutPublicAccessBlockInput{Bucket: aws.String(b),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true)}}))(t)
	p = cfgMust(c.s3.GetPublicAccessBlock(cfgCtx, &s3sdk.GetPublicAccessBlockInput{Bucket: aws.String(b)}))(t).PublicAccessBlockConfiguration
	if !aws.ToBool(p.BlockPublicAcls) || p.IgnorePublicAcls == nil || *p.IgnorePublicAcls || aws.ToBool(p.BlockPublicPolicy) || aws.ToBool(p.RestrictPublicBuckets) {
		t.Errorf("settings after a put %+v", p)
	}
	cfgMust(c.s3.DeletePublicAccessBlock(cfgCtx, &s3sdk.DeletePublicAccessBlockInput{Bucket: aws.String(b)}))(t)
	_, err := c.s3.GetPublicAccessBlock(cfgCtx, &s3sdk.GetPublicAccessBlockInput{Bucket: aws.String(b)})
	cfgWantErr(t, err, "NoSuchPublicAccessBlockConfiguration", http.StatusNotFound)

	oc := cfgMust(c.s3.GetBucketOwnershipControls(cfgCtx, &s3sdk.GetBucketOwnershipControlsInput{Bucket: aws.String(b)}))(t)
	if r := oc.OwnershipControls.Rules; len(r) != 1 || r[0].ObjectOwnership != s3types.ObjectOwnershipBucketOwnerEnforced {
		t.Errorf("ownership %+v", r)
	}
	cfgMust(c.s3.PutBucketOwnershipControls(cfgCtx, &s3sdk.PutBucketOwnershipControlsInput{Bucket: aws.String(b),
		OwnershipControls: &s3types.OwnershipControls{Rules: []s3types.OwnershipControlsRule{{ObjectOwnership: s3types.ObjectOwnershipBucketOwnerPreferred}}}}))(t)
	oc = cfgMust(c.s3.GetBucketOwnershipControls(cfgCtx, &s3sdk.GetBucketOwnershipControlsInput{Bucket: aws.String(b)}))(t)
	if r := oc.OwnershipControls.Rules; r[0].ObjectOwnership != s3types.ObjectOwnershipBucketOwnerPreferred {
		t.Errorf("ownership after a put %+v", r)
	}
	cfgMust(c.s3.DeleteBucketOwnershipControls(cfgCtx, &s3sdk.DeleteBucketOwnershipControlsInput{Bucket: aws.String(b)}))(t)
	_, err = c.s3.GetBucketOwnershipControls(cfgCtx, &s3sdk.GetBucketOwnershipControlsInput{Bucket: aws.String(b)})
	cfgWantErr(t, err, "OwnershipControlsNotFoundError", http.StatusNotFound)
	// Without ownership controls ACLs are on (ObjectWriter).
	cfgMust(c.s3.PutBucketAcl(cfgCtx, &s3sdk.PutBucketAclInput{Bucket: aws.String(b), ACL: s3types.BucketCannedACLPublicRead}))(t)
}

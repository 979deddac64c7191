package iam_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cloudbox/cloudbox/server"
)

// trustEC2 is the seed's trust policy: EC2 may assume the role.
const trustEC2 = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}
  ]
}`

// TestCLISeedRole is seed 001's role as its tutorial makes it with the aws
// CLI: a role EC2 may assume, with AWS's AmazonS3ReadOnlyAccess, in an
// instance profile.
func TestCLISeedRole(t *testing.T) {
	t.Parallel()
	c := newCloud(t, server.AuthOff)
	dir := t.TempDir()
	trust := filepath.Join(dir, "trust.json")
	if err := os.WriteFile(trust, []byte(trustEC2), 0o600); err != nil {
		t.Fatal(err)
	}
	var role struct {
		Role struct {
			RoleName, RoleId, Arn, Path string
			AssumeRolePolicyDocument    map[string]any
		}
	}
	c.cli(t, "test", "test", &role, "iam", "create-role", "--role-name", "S3_ReadOnly_Role", "--assume-role-policy-document", "file://"+trust)
	r := role.Role
	if r.RoleName != "S3_ReadOnly_Role" || r.Arn != "arn:aws:iam::"+account+":role/S3_ReadOnly_Role" || !regexp.MustCompile(`^AROA[A-Z2-7]{17}$`).MatchString(r.RoleId) {
		t.Errorf("create-role: %+v", r)
	}
	// botocore decodes the URL-encoded document into JSON.
	var want map[string]any
	json.Unmarshal([]byte(trustEC2), &want)
	if got, _ := json.Marshal(r.AssumeRolePolicyDocument); string(got) != mustJSON(want) {
		t.Errorf("trust policy %s, want %s", got, mustJSON(want))
	}

	c.cli(t, "test", "test", nil, "iam", "attach-role-policy", "--role-name", "S3_ReadOnly_Role", "--policy-arn", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
	var profile struct {
		InstanceProfile struct {
			InstanceProfileName, InstanceProfileId, Arn string
			Roles                                       []struct{ RoleName string }
		}
	}
	c.cli(t, "test", "test", &profile, "iam", "create-instance-profile", "--instance-profile-name", "S3_ReadOnly_Role")
	if p := profile.InstanceProfile; p.Arn != "arn:aws:iam::"+account+":instance-profile/S3_ReadOnly_Role" || !strings.HasPrefix(p.InstanceProfileId, "AIPA") || len(p.Roles) != 0 {
		t.Errorf("create-instance-profile: %+v", p)
	}
	c.cli(t, "test", "test", nil, "iam", "add-role-to-instance-profile", "--instance-profile-name", "S3_ReadOnly_Role", "--role-name", "S3_ReadOnly_Role")

	var attached struct {
		AttachedPolicies []struct{ PolicyName, PolicyArn string }
	}
	c.cli(t, "test", "test", &attached, "iam", "list-attached-role-policies", "--role-name", "S3_ReadOnly_Role")
	if len(attached.AttachedPolicies) != 1 || attached.AttachedPolicies[0].PolicyName != "AmazonS3ReadOnlyAccess" ||
		attached.AttachedPolicies[0].PolicyArn != "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess" {
		t.Errorf("list-attached-role-policies: %+v", attached)
	}
	c.cli(t, "test", "test", &profile, "iam", "get-instance-profile", "--instance-profile-name", "S3_ReadOnly_Role")
	if len(profile.InstanceProfile.Roles) != 1 || profile.InstanceProfile.Roles[0].RoleName != "S3_ReadOnly_Role" {
		t.Errorf("get-instance-profile: %+v", profile.InstanceProfile)
	}

	// The managed policy's document, as the CLI shows it.
	var version struct {
		PolicyVersion struct {
			VersionId        string
			IsDefaultVersion bool
			Document         struct {
				Version   string
				Statement []struct {
					Effect   string
					Action   []string
					Resource string
				}
			}
		}
	}
	c.cli(t, "test", "test", &version, "iam", "get-policy-version", "--policy-arn", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess", "--version-id", "v3")
	v := version.PolicyVersion
	if !v.IsDefaultVersion || len(v.Document.Statement) != 1 || strings.Join(v.Document.Statement[0].Action, ",") != "s3:Get*,s3:List*,s3:Describe*,s3-object-lambda:Get*,s3-object-lambda:List*" {
		t.Errorf("get-policy-version: %+v", v)
	}

	// A second role does not fit in the profile.
	c.cli(t, "test", "test", nil, "iam", "create-role", "--role-name", "other", "--assume-role-policy-document", "file://"+trust)
	out, err := c.cliErr(t, "test", "test", "iam", "add-role-to-instance-profile", "--instance-profile-name", "S3_ReadOnly_Role", "--role-name", "other")
	if err == nil || !strings.Contains(string(out), "(LimitExceeded) when calling the AddRoleToInstanceProfile operation: Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1") {
		t.Errorf("second role: %v\n%s", err, out)
	}
	out, err = c.cliErr(t, "test", "test", "iam", "attach-role-policy", "--role-name", "other", "--policy-arn", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAcess")
	if err == nil || !strings.Contains(string(out), "(NoSuchEntity) when calling the AttachRolePolicy operation: Policy arn:aws:iam::aws:policy/AmazonS3ReadOnlyAcess does not exist or is not attachable.") {
		t.Errorf("misspelt policy: %v\n%s", err, out)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestCLIUserKeyStrict is alice's flow: a user in a group with a policy,
// her access key made with the CLI and used at once against a server
// that checks signatures; deactivated, the key is refused.
func TestCLIUserKeyStrict(t *testing.T) {
	t.Parallel()
	c := newCloud(t, server.AuthStrict)
	c.cli(t, "test", "test", nil, "iam", "create-group", "--group-name", "developers")
	c.cli(t, "test", "test", nil, "iam", "put-group-policy", "--group-name", "developers", "--policy-name", "read-s3",
		"--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)
	c.cli(t, "test", "test", nil, "iam", "create-user", "--user-name", "alice", "--path", "/staff/")
	c.cli(t, "test", "test", nil, "iam", "add-user-to-group", "--user-name", "alice", "--group-name", "developers")
	var key struct {
		AccessKey struct{ UserName, AccessKeyId, SecretAccessKey, Status string }
	}
	c.cli(t, "test", "test", &key, "iam", "create-access-key", "--user-name", "alice")
	k := key.AccessKey
	if k.UserName != "alice" || !regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`).MatchString(k.AccessKeyId) || len(k.SecretAccessKey) != 40 || k.Status != "Active" {
		t.Fatalf("create-access-key: %+v", k)
	}

	var who struct{ UserId, Account, Arn string }
	c.cli(t, k.AccessKeyId, k.SecretAccessKey, &who, "sts", "get-caller-identity")
	if who.Arn != "arn:aws:iam::"+account+":user/staff/alice" || who.Account != account || !userIDRE.MatchString(who.UserId) {
		t.Errorf("get-caller-identity as alice: %+v", who)
	}
	var groups struct{ Groups []struct{ GroupName string } }
	c.cli(t, k.AccessKeyId, k.SecretAccessKey, &groups, "iam", "list-groups-for-user", "--user-name", "alice")
	if len(groups.Groups) != 1 || groups.Groups[0].GroupName != "developers" {
		t.Errorf("list-groups-for-user: %+v", groups)
	}
	// A wrong secret is still refused.
	if out, err := c.cliErr(t, k.AccessKeyId, "x"+k.SecretAccessKey[1:], "sts", "get-caller-identity"); err == nil || !strings.Contains(string(out), "SignatureDoesNotMatch") {
		t.Errorf("wrong secret: %v\n%s", err, out)
	}

	c.cli(t, "test", "test", nil, "iam", "update-access-key", "--user-name", "alice", "--access-key-id", k.AccessKeyId, "--status", "Inactive")
	out, err := c.cliErr(t, k.AccessKeyId, k.SecretAccessKey, "sts", "get-caller-identity")
	if err == nil || !strings.Contains(string(out), "(InvalidClientTokenId) when calling the GetCallerIdentity operation: The security token included in the request is invalid.") {
		t.Errorf("inactive key: %v\n%s", err, out)
	}
	c.cli(t, "test", "test", nil, "iam", "update-access-key", "--user-name", "alice", "--access-key-id", k.AccessKeyId, "--status", "Active")
	c.cli(t, k.AccessKeyId, k.SecretAccessKey, &who, "sts", "get-caller-identity")

	c.cli(t, "test", "test", nil, "iam", "delete-access-key", "--user-name", "alice", "--access-key-id", k.AccessKeyId)
	if out, err := c.cliErr(t, k.AccessKeyId, k.SecretAccessKey, "sts", "get-caller-identity"); err == nil || !strings.Contains(string(out), "InvalidClientTokenId") {
		t.Errorf("deleted key: %v\n%s", err, out)
	}
}

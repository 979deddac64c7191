package instances

import (
	"testing"

	"github.com/cloudbox/cloudbox/desired"
)

type profiles map[string]desired.InstanceProfile

func (p profiles) InstanceProfile(_, name string) (desired.InstanceProfile, bool, error) {
	ip, ok := p[name]
	return ip, ok, nil
}

// TestRoleOfProfile: IMDS serves the role the profile holds, under the
// role's own name and id, with credentials tied to the instance and the
// profile; without IAM, the role named after the profile.
func TestRoleOfProfile(t *testing.T) {
	const profileARN = "arn:aws:iam::123456789012:instance-profile/app/web-profile"
	in := &desired.Instance{ID: "i-0abc", Account: "123456789012", Region: "ap-northeast-2", InstanceProfileARN: profileARN, Role: "web-profile"}
	iam := profiles{"web-profile": {ARN: profileARN, ID: "AIPAWEB", Role: "S3_ReadOnly_Role", RoleID: "AROAS3READONLY"}}

	p, ok, err := profileOf(iam, in)
	if err != nil || !ok || p.Role != "S3_ReadOnly_Role" {
		t.Fatalf("profile %+v %v %v", p, ok, err)
	}
	pr := rolePrincipal(in, p)
	if pr.ARN != "arn:aws:sts::123456789012:assumed-role/S3_ReadOnly_Role/i-0abc" || pr.UserID != "AROAS3READONLY:i-0abc" ||
		pr.Session == nil || pr.Session.Instance != "i-0abc" || pr.Session.Profile != profileARN {
		t.Errorf("principal %+v %+v", pr, pr.Session)
	}

	// A profile of that name at another path is not the instance's.
	iam["web-profile"] = desired.InstanceProfile{ARN: "arn:aws:iam::123456789012:instance-profile/web-profile", Role: "x"}
	if _, ok, _ := profileOf(iam, in); ok {
		t.Error("another profile of the same name served")
	}
	delete(iam, "web-profile")
	if _, ok, _ := profileOf(iam, in); ok {
		t.Error("a deleted profile served")
	}

	p, ok, _ = profileOf(nil, in)
	if !ok || p.Role != "web-profile" || rolePrincipal(in, p).ARN != "arn:aws:sts::123456789012:assumed-role/web-profile/i-0abc" {
		t.Errorf("without IAM: %+v %v", p, ok)
	}
}

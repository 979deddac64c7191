package ec2

import (
	"context"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/api"
	ec2api "github.com/cloudbox/cloudbox/api/ec2"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/store"
)

// profilesOf is IAM's profiles, by name.
type profilesOf map[string]desired.InstanceProfile

func (p profilesOf) InstanceProfile(_, name string) (desired.InstanceProfile, bool, error) {
	ip, ok := p[name]
	return ip, ok, nil
}

// TestValidSession checks which instance credentials still sign: only
// while the instance runs with the profile, and the profile holds the
// credentials' role.
func TestValidSession(t *testing.T) {
	t.Parallel()
	st := store.OpenMemory()
	t.Cleanup(func() { st.Close() })
	svc := New(st, time.Now, nil, 1)
	const acct, profileARN = "123456789012", "arn:aws:iam::123456789012:instance-profile/app/web"
	iam := profilesOf{"web": {ARN: profileARN, ID: "AIPAWEB", Role: "S3_ReadOnly_Role", RoleID: "AROAS3"}}
	svc.UseProfiles(iam)
	inv := svc.Invoker()
	ctx := api.WithRequest(context.Background(), &api.Request{Region: "ap-northeast-2", Caller: api.Principal{Account: acct}})
	call := func(op string, in any) any {
		t.Helper()
		out, err := inv.Invoke(ctx, op, in)
		if err != nil {
			t.Fatalf("%s: %v", op, err)
		}
		return out
	}
	res := call("RunInstances", &ec2api.RunInstancesRequest{ImageId: stockImagesOf("ap-northeast-2")[0].ImageId, InstanceType: str("t2.micro"),
		MinCount: i64(1), MaxCount: i64(1), IamInstanceProfile: &ec2api.IamInstanceProfileSpecification{Name: str("web")}}).(*ec2api.Reservation)
	id := *res.Instances[0].InstanceId
	session := func(role string) api.Principal {
		return api.Principal{Account: acct, ARN: "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + id,
			Session: &api.Session{Instance: id, Profile: profileARN}}
	}
	check := func(what string, p api.Principal, want bool) {
		t.Helper()
		if got := svc.ValidSession(p); got != want {
			t.Errorf("%s: valid = %v, want %v", what, got, want)
		}
	}
	check("long-term key", api.Principal{Account: acct, ARN: "arn:aws:iam::" + acct + ":user/u"}, true)
	check("AssumeRole session", api.Principal{Account: acct, ARN: "arn:aws:sts::" + acct + ":assumed-role/r/s", Session: &api.Session{}}, true)
	check("the instance's credentials", session("S3_ReadOnly_Role"), true)
	check("another role's name", session("Admin"), false)
	check("another account", api.Principal{Account: "210987654321", ARN: session("S3_ReadOnly_Role").ARN, Session: session("").Session}, false)

	saved := iam["web"]
	iam["web"] = desired.InstanceProfile{ARN: profileARN, ID: "AIPAWEB"}
	check("the role removed from the profile", session("S3_ReadOnly_Role"), false)
	iam["web"] = saved
	check("the role back in the profile", session("S3_ReadOnly_Role"), true)

	assoc := call("DescribeIamInstanceProfileAssociations", &ec2api.DescribeIamInstanceProfileAssociationsRequest{}).(*ec2api.DescribeIamInstanceProfileAssociationsResult)
	call("DisassociateIamInstanceProfile", &ec2api.DisassociateIamInstanceProfileRequest{AssociationId: assoc.IamInstanceProfileAssociations[0].AssociationId})
	check("after disassociation", session("S3_ReadOnly_Role"), false)
	call("AssociateIamInstanceProfile", &ec2api.AssociateIamInstanceProfileRequest{InstanceId: str(id), IamInstanceProfile: &ec2api.IamInstanceProfileSpecification{Name: str("web")}})
	check("associated again", session("S3_ReadOnly_Role"), true)

	call("TerminateInstances", &ec2api.TerminateInstancesRequest{InstanceIds: []*string{str(id)}})
	check("after termination", session("S3_ReadOnly_Role"), false)
	check("an instance that never was", api.Principal{Account: acct, ARN: "arn:aws:sts::" + acct + ":assumed-role/S3_ReadOnly_Role/i-0123456789abcdef0",
		Session: &api.Session{Instance: "i-0123456789abcdef0", Profile: profileARN}}, false)
}

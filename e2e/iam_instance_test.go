package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInstanceProfileRole runs seed 001's instance role under --iam
// enforce: the profile has another name than its role, the instance reads
// its bucket with the role's credentials from IMDS and nothing more, and
// the credentials stop working once the instance loses the profile.
func TestInstanceProfileRole(t *testing.T) {
	w := newVPCWorld(t, Opts{Auth: "strict", IAM: "enforce"})
	const region, account = "ap-northeast-2", "000000000000"

	vpcID := get(w.aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16"), "Vpc", "VpcId")
	subnet := get(w.aws("ec2", "create-subnet", "--vpc-id", vpcID, "--cidr-block", "10.0.0.0/24", "--availability-zone", region+"a"), "Subnet", "SubnetId")
	igw := get(w.aws("ec2", "create-internet-gateway"), "InternetGateway", "InternetGatewayId")
	w.aws("ec2", "attach-internet-gateway", "--vpc-id", vpcID, "--internet-gateway-id", igw)
	rt := get(w.aws("ec2", "create-route-table", "--vpc-id", vpcID), "RouteTable", "RouteTableId")
	w.aws("ec2", "create-route", "--route-table-id", rt, "--destination-cidr-block", "0.0.0.0/0", "--gateway-id", igw)
	w.aws("ec2", "associate-route-table", "--route-table-id", rt, "--subnet-id", subnet)

	roleID := get(w.aws("iam", "create-role", "--role-name", "S3_ReadOnly_Role", "--assume-role-policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`), "Role", "RoleId")
	w.aws("iam", "attach-role-policy", "--role-name", "S3_ReadOnly_Role", "--policy-arn", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
	profile := w.aws("iam", "create-instance-profile", "--instance-profile-name", "web-profile")
	profileARN, profileID := get(profile, "InstanceProfile", "Arn"), get(profile, "InstanceProfile", "InstanceProfileId")
	w.aws("iam", "add-role-to-instance-profile", "--instance-profile-name", "web-profile", "--role-name", "S3_ReadOnly_Role")

	bucket := "app-" + strings.ToLower(w.daemonID())
	w.aws("s3api", "create-bucket", "--bucket", bucket, "--create-bucket-configuration", "LocationConstraint="+region)
	zip := filepath.Join(t.TempDir(), "app.zip")
	if err := os.WriteFile(zip, []byte("the application\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w.aws("s3api", "put-object", "--bucket", bucket, "--key", "app.zip", "--body", zip)

	ami := get(w.aws("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=al2023-ami-2023.*-kernel-6.1-x86_64"), "Images", 0, "ImageId")
	// A profile IAM does not have is refused, as AWS does.
	if e := w.c.awsErr(t, w.cli, w.cr, "ec2", "run-instances", "--image-id", ami, "--instance-type", "t2.micro", "--subnet-id", subnet,
		"--iam-instance-profile", "Name=S3_ReadOnly_Role"); e.Code != "InvalidParameterValue" ||
		e.Message != "Value (S3_ReadOnly_Role) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name" {
		t.Errorf("run-instances with a role's name as the profile: %+v", e)
	}
	inst := get(w.aws("ec2", "run-instances", "--image-id", ami, "--instance-type", "t2.micro", "--subnet-id", subnet,
		"--associate-public-ip-address", "--iam-instance-profile", "Name=web-profile"), "Instances", 0, "InstanceId")
	w.aws("ec2", "wait", "instance-running", "--instance-ids", inst)

	const md = "http://169.254.169.254/latest/meta-data/iam/"
	// Amazon Linux 2023 requires IMDSv2: every read takes a token.
	imds := func(url string) string {
		return "t=$(curl -s -f -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' --max-time 3 http://169.254.169.254/latest/api/token) && " +
			"curl -s -f --max-time 3 -H \"X-aws-ec2-metadata-token: $t\" " + url
	}
	if got := w.shOK(inst, imds(md+"security-credentials/")); got != "S3_ReadOnly_Role" {
		t.Fatalf("IMDS lists role %q, want the profile's role S3_ReadOnly_Role", got)
	}
	var info struct{ Code, InstanceProfileArn, InstanceProfileId string }
	if err := json.Unmarshal([]byte(w.shOK(inst, imds(md+"info"))), &info); err != nil || info.Code != "Success" ||
		info.InstanceProfileArn != profileARN || info.InstanceProfileId != profileID {
		t.Errorf("iam/info %+v (%v), want %s %s", info, err, profileARN, profileID)
	}
	sessionARN := "arn:aws:sts::" + account + ":assumed-role/S3_ReadOnly_Role/" + inst

	t.Run("the role's permissions, and no more", func(t *testing.T) {
		w := w.in(t)
		// No keys anywhere: the aws CLI takes the role's from IMDS.
		if got := w.shOK(inst, "cd /tmp && aws s3 cp s3://"+bucket+"/app.zip . >/dev/null && cat app.zip"); got != "the application" {
			t.Errorf("aws s3 cp from the bucket: %q", got)
		}
		id := w.shOK(inst, "aws sts get-caller-identity --output json")
		if !strings.Contains(id, sessionARN) || !strings.Contains(id, roleID+":"+inst) {
			t.Errorf("caller identity %s, want %s with user id %s:%s", id, sessionARN, roleID, inst)
		}
		r := w.sh(inst, "echo x > /tmp/f && aws s3 cp /tmp/f s3://"+bucket+"/x")
		if r.ExitCode == 0 || !strings.Contains(r.Stderr, "AccessDenied") || !strings.Contains(r.Stderr, "User: "+sessionARN+" is not authorized to perform: s3:PutObject on resource: \"arn:aws:s3:::"+bucket+"/x\"") {
			t.Errorf("aws s3 cp to the bucket: %s", r)
		}
		r = w.sh(inst, "aws ec2 terminate-instances --instance-ids "+inst)
		if r.ExitCode == 0 || !strings.Contains(r.Stderr, "UnauthorizedOperation") {
			t.Errorf("the instance terminated itself: %s", r)
		}
	})

	t.Run("credentials end with the association", func(t *testing.T) {
		w := w.in(t)
		var c struct{ AccessKeyId, SecretAccessKey, Token string }
		if err := json.Unmarshal([]byte(w.shOK(inst, imds(md+"security-credentials/S3_ReadOnly_Role"))), &c); err != nil {
			t.Fatal(err)
		}
		// The same credentials, from the host through the daemon's
		// loopback listener.
		cr := Creds{AccessKeyID: c.AccessKeyId, SecretAccessKey: c.SecretAccessKey, SessionToken: c.Token, Region: region}
		if got := get(w.c.awsOK(t, w.cli, cr, "sts", "get-caller-identity"), "Arn"); got != sessionARN {
			t.Fatalf("the instance's credentials call as %q, want %s", got, sessionARN)
		}
		assoc := get(w.aws("ec2", "describe-iam-instance-profile-associations", "--filters", "Name=instance-id,Values="+inst),
			"IamInstanceProfileAssociations", 0, "AssociationId")
		if st := get(w.aws("ec2", "disassociate-iam-instance-profile", "--association-id", assoc), "IamInstanceProfileAssociation", "State"); st != "disassociating" {
			t.Errorf("disassociate answered state %q", st)
		}
		if e := w.c.awsErr(t, w.cli, cr, "sts", "get-caller-identity"); e.Code != "InvalidClientTokenId" {
			t.Errorf("the credentials after disassociation: %+v, want InvalidClientTokenId", e)
		}
		// IMDS stops listing the role once the data plane has the change.
		w.eventually(inst, "t=$(curl -s -f -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' --max-time 3 http://169.254.169.254/latest/api/token) && "+
			"test \"$(curl -s -o /dev/null -w '%{http_code}' --max-time 3 -H \"X-aws-ec2-metadata-token: $t\" "+md+")\" = 404", 10*time.Second)
	})
}

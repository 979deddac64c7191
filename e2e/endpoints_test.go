package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/controllers/vpc"
)

// TestInstancesCallAWSEndpoints runs what the tutorials run inside an
// instance with an instance profile, with no endpoint configured:
// `apt install awscli -y; aws s3 cp s3://bucket/app.war /tmp/`. The AWS
// endpoints' names resolve in the VPC to the simulated internet's
// endpoint address, reached through the internet gateway (or a NAT
// gateway, and not without one), and HTTPS verifies with the CA the
// instances trust.
func TestInstancesCallAWSEndpoints(t *testing.T) {
	w := newVPCWorld(t, Opts{})
	const region = "ap-northeast-2"
	endpoint := vpc.EndpointAddr.String()

	vpcID := get(w.aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16"), "Vpc", "VpcId")
	subnet := func(cidr string) string {
		return get(w.aws("ec2", "create-subnet", "--vpc-id", vpcID, "--cidr-block", cidr, "--availability-zone", region+"a"), "Subnet", "SubnetId")
	}
	public, private := subnet("10.0.0.0/24"), subnet("10.0.1.0/24")
	igw := get(w.aws("ec2", "create-internet-gateway"), "InternetGateway", "InternetGatewayId")
	w.aws("ec2", "attach-internet-gateway", "--vpc-id", vpcID, "--internet-gateway-id", igw)
	pubRT := get(w.aws("ec2", "create-route-table", "--vpc-id", vpcID), "RouteTable", "RouteTableId")
	w.aws("ec2", "create-route", "--route-table-id", pubRT, "--destination-cidr-block", "0.0.0.0/0", "--gateway-id", igw)
	w.aws("ec2", "associate-route-table", "--route-table-id", pubRT, "--subnet-id", public)
	eip := w.aws("ec2", "allocate-address", "--domain", "vpc")
	nat := get(w.aws("ec2", "create-nat-gateway", "--subnet-id", public, "--allocation-id", get(eip, "AllocationId")), "NatGateway", "NatGatewayId")
	// The private subnet's table has no route out yet.
	privRT := get(w.aws("ec2", "create-route-table", "--vpc-id", vpcID), "RouteTable", "RouteTableId")
	w.aws("ec2", "associate-route-table", "--route-table-id", privRT, "--subnet-id", private)

	// The instances' role, as the tutorials make it: EC2 may assume it,
	// it may read S3.
	w.aws("iam", "create-role", "--role-name", "app-server", "--assume-role-policy-document",
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)
	w.aws("iam", "attach-role-policy", "--role-name", "app-server", "--policy-arn", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
	w.aws("iam", "create-instance-profile", "--instance-profile-name", "app-server")
	w.aws("iam", "add-role-to-instance-profile", "--instance-profile-name", "app-server", "--role-name", "app-server")

	ubuntu := get(w.aws("ec2", "describe-images", "--owners", "099720109477", "--filters",
		"Name=name,Values=ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"), "Images", 0, "ImageId")
	launch := func(subnet string, extra ...string) string {
		args := append([]string{"ec2", "run-instances", "--image-id", ubuntu, "--instance-type", "t2.micro", "--subnet-id", subnet,
			"--iam-instance-profile", "Name=app-server"}, extra...)
		return get(w.aws(args...), "Instances", 0, "InstanceId")
	}
	web, app := launch(public, "--associate-public-ip-address"), launch(private)
	w.aws("ec2", "wait", "instance-running", "--instance-ids", web, app)

	// What the tutorial's instance downloads, uploaded from the host.
	bucket := "endpoints-" + strings.ToLower(w.daemonID())
	w.aws("s3api", "create-bucket", "--bucket", bucket, "--create-bucket-configuration", "LocationConstraint="+region)
	war := filepath.Join(t.TempDir(), "app.war")
	if err := os.WriteFile(war, []byte("a web archive\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	w.aws("s3api", "put-object", "--bucket", bucket, "--key", "app.war", "--body", war)

	const whoami = "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15"
	resolver := "10.0.0.2"
	t.Run("public instance", func(t *testing.T) {
		w := w.in(t)
		if got := w.shOK(web, "dig +short ec2."+region+".amazonaws.com @"+resolver); got != endpoint {
			t.Errorf("ec2.%s.amazonaws.com = %q, want %s", region, got, endpoint)
		}
		if r := w.sh(web, "dig +short lambda."+region+".amazonaws.com @"+resolver); r.ExitCode != 0 || strings.TrimSpace(r.Stdout) != "" {
			t.Errorf("a service cloudbox does not serve resolved: %s", r)
		}
		// Certificate verification on (no -k): the instance trusts the CA.
		if got := w.shOK(web, "curl -sS -f --max-time 10 '"+whoami+"'"); !strings.Contains(got, "<GetCallerIdentityResult>") {
			t.Errorf("GetCallerIdentity over HTTPS answered %q", got)
		}
		if got := w.shOK(web, "curl -sS -f --max-time 10 'http://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15'"); !strings.Contains(got, "<GetCallerIdentityResult>") {
			t.Errorf("GetCallerIdentity over HTTP answered %q", got)
		}
		// cloudbox's own endpoints are not AWS's.
		if got := w.sh(web, "curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST http://sts.amazonaws.com/_cloudbox/reset"); got.Stdout == "200" {
			t.Errorf("an instance reset the cloud: %s", got)
		}

		// The tutorial, verbatim: the credentials come from IMDS, and so
		// does the region (the aws CLI v2 asks IMDS for the instance's
		// zone when nothing names one, as on AWS: the variables cloudbox
		// sets for user data and exec are left out here).
		out := w.shOK(web, "env -u AWS_DEFAULT_REGION -u AWS_REGION sh -c 'apt install awscli -y; aws s3 cp s3://"+bucket+"/app.war /tmp/ && cat /tmp/app.war'")
		if !strings.HasSuffix(out, "a web archive") {
			t.Errorf("aws s3 cp in the instance: %q", out)
		}
		// The CA stays trusted when a package's install rebuilds the bundle.
		w.shOK(web, "update-ca-certificates >/dev/null 2>&1 && curl -sS -f --max-time 10 '"+whoami+"' >/dev/null")
		arn := w.shOK(web, "aws sts get-caller-identity --query Arn --output text")
		if want := "assumed-role/app-server/" + web; !strings.HasSuffix(arn, want) {
			t.Errorf("the instance called as %q, want the role of its profile (%s)", arn, want)
		}
	})

	t.Run("private instance through the NAT gateway only", func(t *testing.T) {
		w := w.in(t)
		// The name resolves (the VPC's resolver is inside the VPC); the
		// connection finds no route out and times out.
		if got := w.shOK(app, "dig +short sts.amazonaws.com @"+resolver); got != endpoint {
			t.Errorf("sts.amazonaws.com = %q, want %s", got, endpoint)
		}
		r := w.sh(app, "curl -sS -f --max-time 3 '"+whoami+"'")
		if r.ExitCode != 28 {
			t.Errorf("without a route out, curl exited %d, want 28 (timeout): %s", r.ExitCode, r)
		}
		w.aws("ec2", "wait", "nat-gateway-available", "--nat-gateway-ids", nat)
		w.aws("ec2", "create-route", "--route-table-id", privRT, "--destination-cidr-block", "0.0.0.0/0", "--nat-gateway-id", nat)
		if got := w.eventually(app, "curl -sS -f --max-time 10 '"+whoami+"'", 10*time.Second); !strings.Contains(got, "<GetCallerIdentityResult>") {
			t.Errorf("GetCallerIdentity through the NAT gateway answered %q", got)
		}
		if got := w.shOK(app, "aws s3 cp s3://"+bucket+"/app.war - "); got != "a web archive" {
			t.Errorf("aws s3 cp through the NAT gateway: %q", got)
		}
	})

	// Seed 003's static site: a bucket's website endpoint, by its name,
	// from the simulated internet and from an instance.
	t.Run("website endpoint", func(t *testing.T) {
		w := w.in(t)
		site := "site-" + strings.ToLower(w.daemonID())
		w.aws("s3api", "create-bucket", "--bucket", site, "--create-bucket-configuration", "LocationConstraint="+region)
		dir := t.TempDir()
		for name, body := range map[string]string{"index.html": "<h1>hybrid bts</h1>", "error.html": "<h1>not here</h1>"} {
			file := filepath.Join(dir, name)
			if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
				t.Fatal(err)
			}
			w.aws("s3api", "put-object", "--bucket", site, "--key", name, "--body", file, "--content-type", "text/html")
		}
		w.aws("s3api", "delete-public-access-block", "--bucket", site)
		w.aws("s3api", "put-bucket-policy", "--bucket", site, "--policy", `{"Version":"2012-10-17","Statement":[{"Sid":"PublicRead",`+
			`"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::`+site+`/*"}]}`)
		w.aws("s3", "website", "s3://"+site, "--index-document", "index.html", "--error-document", "error.html")
		host := site + ".s3-website." + region + ".amazonaws.com"
		for _, where := range []string{"internet", web} {
			if got := w.shOK(where, "curl -sS -f --max-time 10 http://"+host+"/"); got != "<h1>hybrid bts</h1>" {
				t.Errorf("%s: the site's index answered %q", where, got)
			}
		}
		if got := w.shOK("internet", "curl -sS --max-time 10 -w ' %{http_code}' http://"+site+".s3-website-"+region+".amazonaws.com/nope.html"); got != "<h1>not here</h1> 404" {
			t.Errorf("a missing page answered %q, want the error document with 404", got)
		}
	})
	w.checkSafety()
}

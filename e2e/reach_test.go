package e2e

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"
)

// twoPortUserData serves on ports 80 and 8080, so that what a rule blocks
// is something that listens.
const twoPortUserData = `#!/bin/sh
mkdir -p /srv/www && echo "web $(hostname)" > /srv/www/index.html
cd /srv/www
nohup python3 -m http.server 80 >/var/log/web80.log 2>&1 &
nohup python3 -m http.server 8080 >/var/log/web8080.log 2>&1 &
`

// TestReach asks `cloudbox reach` about an allowed path, one a security
// group blocks, one a network ACL entry blocks and one without a route,
// and checks each answer against what the kernel does to a real
// connection.
func TestReach(t *testing.T) {
	t.Parallel()
	w := newVPCWorld(t, Opts{})
	vpc := get(w.aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16"), "Vpc", "VpcId")
	pub := get(w.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.0.0.0/24", "--availability-zone", "ap-northeast-2a"), "Subnet", "SubnetId")
	priv := get(w.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.0.1.0/24", "--availability-zone", "ap-northeast-2a"), "Subnet", "SubnetId")
	igw := get(w.aws("ec2", "create-internet-gateway"), "InternetGateway", "InternetGatewayId")
	w.aws("ec2", "attach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", vpc)
	pubRT := get(w.aws("ec2", "create-route-table", "--vpc-id", vpc), "RouteTable", "RouteTableId")
	w.aws("ec2", "create-route", "--route-table-id", pubRT, "--destination-cidr-block", "0.0.0.0/0", "--gateway-id", igw)
	w.aws("ec2", "associate-route-table", "--route-table-id", pubRT, "--subnet-id", pub)
	sgWeb := get(w.aws("ec2", "create-security-group", "--group-name", "web", "--description", "web", "--vpc-id", vpc), "GroupId")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", sgWeb, "--protocol", "tcp", "--port", "80", "--cidr", "0.0.0.0/0")
	sgApp := get(w.aws("ec2", "create-security-group", "--group-name", "app", "--description", "app", "--vpc-id", vpc), "GroupId")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", sgApp, "--protocol", "tcp", "--port", "8080", "--source-group", sgWeb)

	ami := get(w.aws("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=al2023-ami-2023.*-kernel-6.1-x86_64"), "Images", 0, "ImageId")
	launch := func(subnet, sg string, public bool) (string, map[string]any) {
		args := []string{"ec2", "run-instances", "--image-id", ami, "--instance-type", "t2.micro", "--subnet-id", subnet, "--security-group-ids", sg, "--user-data", twoPortUserData}
		if public {
			args = append(args, "--associate-public-ip-address")
		}
		out := w.aws(args...)
		return get(out, "Instances", 0, "InstanceId"), out
	}
	web, _ := launch(pub, sgWeb, true)
	app, appOut := launch(priv, sgApp, false)
	appIP := get(appOut, "Instances", 0, "PrivateIpAddress")
	w.aws("ec2", "wait", "instance-running", "--instance-ids", web, app)
	webPublic := get(w.aws("ec2", "describe-instances", "--instance-ids", web), "Reservations", 0, "Instances", 0, "PublicIpAddress")
	for _, id := range []string{web, app} {
		w.eventually(id, curl("http://127.0.0.1:8080/"), 2*time.Minute)
	}

	// check asks cloudbox reach, then tries the connection for real.
	check := func(t *testing.T, from, to string, port int, probe string, want bool, deciding string) {
		t.Helper()
		r := w.cloudbox("reach", "--json", "--port", strconv.Itoa(port), from, to)
		var res struct {
			Reachable   bool
			Explanation string
			Path        []struct {
				Component, ID, Rule string
				Allowed             bool
			}
		}
		if err := json.Unmarshal([]byte(r.Stdout), &res); err != nil {
			t.Fatalf("cloudbox reach %s %s: %v\n%s", from, to, err, r)
		}
		if res.Reachable != want || (r.ExitCode == 0) != want {
			t.Errorf("cloudbox reach %s %s :%d: reachable %v (exit %d), want %v: %s", from, to, port, res.Reachable, r.ExitCode, want, res.Explanation)
		}
		if !want {
			last := res.Path[len(res.Path)-1]
			if got := last.Component + " " + last.ID + " " + last.Rule; !strings.HasPrefix(got, deciding) {
				t.Errorf("decided by %q, want %q: %s", got, deciding, res.Explanation)
			}
		}
		got := w.sh(from, probe).ExitCode == 0
		if got != want {
			t.Errorf("the kernel: a connection from %s to %s:%d succeeded=%v, cloudbox reach said %v (%s)", from, to, port, got, want, res.Explanation)
		}
	}

	t.Run("allowed", func(t *testing.T) {
		check(t, "internet", webPublic, 80, curl("http://"+webPublic+"/"), true, "")
		check(t, web, appIP, 8080, curl("http://"+appIP+":8080/"), true, "")
	})
	t.Run("blocked by a security group", func(t *testing.T) {
		check(t, "internet", webPublic, 8080, curl("http://"+webPublic+":8080/"), false, "security-group "+sgWeb)
		check(t, web, appIP, 80, curl("http://"+appIP+"/"), false, "security-group "+sgApp)
	})
	t.Run("without a route", func(t *testing.T) {
		// The private subnet's main route table has only the local route.
		check(t, app, "198.18.0.10", 80, curl("http://198.18.0.10/ip"), false, "route-table ")
	})
	t.Run("blocked by a network ACL entry", func(t *testing.T) {
		acl := get(w.aws("ec2", "create-network-acl", "--vpc-id", vpc), "NetworkAcl", "NetworkAclId")
		for _, egress := range []string{"--ingress", "--egress"} {
			w.aws("ec2", "create-network-acl-entry", "--network-acl-id", acl, egress, "--rule-number", "100", "--protocol", "-1", "--cidr-block", "0.0.0.0/0", "--rule-action", "allow")
		}
		w.aws("ec2", "create-network-acl-entry", "--network-acl-id", acl, "--ingress", "--rule-number", "90", "--protocol", "tcp", "--port-range", "From=8080,To=8080", "--cidr-block", "10.0.0.0/24", "--rule-action", "deny")
		acls := w.aws("ec2", "describe-network-acls", "--filters", "Name=association.subnet-id,Values="+priv)
		assoc := ""
		for i := 0; get(acls, "NetworkAcls", 0, "Associations", i) != ""; i++ {
			if get(acls, "NetworkAcls", 0, "Associations", i, "SubnetId") == priv {
				assoc = get(acls, "NetworkAcls", 0, "Associations", i, "NetworkAclAssociationId")
			}
		}
		w.aws("ec2", "replace-network-acl-association", "--association-id", assoc, "--network-acl-id", acl)
		check(t, web, appIP, 8080, curl("http://"+appIP+":8080/"), false, "network-acl "+acl+" 90")
	})
}

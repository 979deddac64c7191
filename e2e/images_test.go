package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// seedScript is a seed's user data, verbatim (testdata/seeds holds the
// scripts cut from the tutorials, unchanged).
func seedScript(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "seeds", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// mimeUserData is user data as `cloud-init devel make-mime` writes it: a
// cloud-config part (a file, a user, a command) and a shell script part.
const mimeUserData = `Content-Type: multipart/mixed; boundary="===============4291==="
MIME-Version: 1.0

--===============4291===
Content-Type: text/cloud-config; charset="us-ascii"
MIME-Version: 1.0
Content-Transfer-Encoding: 7bit
Content-Disposition: attachment; filename="config.yaml"

#cloud-config
write_files:
  - path: /var/www/cc/index.html
    content: hello from cloud-config
users:
  - default
  - name: deploy
    sudo: ALL=(ALL) NOPASSWD:ALL
runcmd:
  - [sh, -c, "cd /var/www/cc && nohup python3 -m http.server 8081 >/dev/null 2>&1 &"]

--===============4291===
Content-Type: text/x-shellscript; charset="us-ascii"
MIME-Version: 1.0
Content-Transfer-Encoding: 7bit
Content-Disposition: attachment; filename="part.sh"

#!/bin/sh
echo script part ran > /var/www/cc/part.txt

--===============4291===--
`

// TestImagesSeedUserData runs the seeds' user data unchanged on the AMIs a
// reader picks for them and checks the result from outside: seed 003's
// httpd + PHP site on Amazon Linux 2 renders PHP to the simulated
// internet, seed 001's MariaDB on CentOS answers a real client with the
// grants its script made, its memcached answers; a private subnet
// without a NAT gateway cannot install, one with can; the instance sees
// its image, not the host; an image baked from the web server launches
// through a launch template and an Auto Scaling group serving the site
// without installing anything again.
func TestImagesSeedUserData(t *testing.T) {
	w := newVPCWorld(t, Opts{})
	az := func(s string) string { return "ap-northeast-2" + s }

	vpc := get(w.aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16"), "Vpc", "VpcId")
	subnet := func(cidr, zone string) string {
		return get(w.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", cidr, "--availability-zone", az(zone)), "Subnet", "SubnetId")
	}
	public, private, isolated, natted := subnet("10.0.0.0/24", "a"), subnet("10.0.1.0/24", "a"), subnet("10.0.2.0/24", "c"), subnet("10.0.3.0/24", "c")
	igw := get(w.aws("ec2", "create-internet-gateway"), "InternetGateway", "InternetGatewayId")
	w.aws("ec2", "attach-internet-gateway", "--vpc-id", vpc, "--internet-gateway-id", igw)
	pubRT := get(w.aws("ec2", "create-route-table", "--vpc-id", vpc), "RouteTable", "RouteTableId")
	w.aws("ec2", "create-route", "--route-table-id", pubRT, "--destination-cidr-block", "0.0.0.0/0", "--gateway-id", igw)
	w.aws("ec2", "associate-route-table", "--route-table-id", pubRT, "--subnet-id", public)
	eip := w.aws("ec2", "allocate-address", "--domain", "vpc")
	nat := get(w.aws("ec2", "create-nat-gateway", "--subnet-id", public, "--allocation-id", get(eip, "AllocationId")), "NatGateway", "NatGatewayId")
	w.aws("ec2", "wait", "nat-gateway-available", "--nat-gateway-ids", nat)
	privRT := get(w.aws("ec2", "create-route-table", "--vpc-id", vpc), "RouteTable", "RouteTableId")
	w.aws("ec2", "create-route", "--route-table-id", privRT, "--destination-cidr-block", "0.0.0.0/0", "--nat-gateway-id", nat)
	w.aws("ec2", "associate-route-table", "--route-table-id", privRT, "--subnet-id", private)
	// The isolated subnet keeps the main route table: the VPC only.

	sg := get(w.aws("ec2", "create-security-group", "--group-name", "all", "--description", "web and backends", "--vpc-id", vpc), "GroupId")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", sg, "--protocol", "tcp", "--port", "80", "--cidr", "0.0.0.0/0")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", sg, "--protocol", "tcp", "--port", "0-65535", "--cidr", "10.0.0.0/16")

	image := func(owner, name string) string {
		return get(w.aws("ec2", "describe-images", "--owners", owner, "--filters", "Name=name,Values="+name, "Name=architecture,Values=x86_64"), "Images", 0, "ImageId")
	}
	al2, al2023, centos := image("amazon", "amzn2-ami-hvm-*"), image("amazon", "al2023-ami-2023.*-kernel-6.1-x86_64"), image("125523088429", "CentOS Stream 9*")
	launch := func(ami, subnet, userData string, extra ...string) (id, ip string) {
		args := append([]string{"ec2", "run-instances", "--image-id", ami, "--instance-type", "t2.micro",
			"--subnet-id", subnet, "--security-group-ids", sg, "--user-data", userData}, extra...)
		out := w.aws(args...)
		return get(out, "Instances", 0, "InstanceId"), get(out, "Instances", 0, "PrivateIpAddress")
	}
	web, _ := launch(al2, public, seedScript(t, "003-web-httpd-php.sh"), "--associate-public-ip-address")
	db, dbIP := launch(centos, private, seedScript(t, "001-db01-mariadb.sh"))
	mc, mcIP := launch(centos, private, seedScript(t, "001-mc01-memcached.sh"))
	lonely, _ := launch(al2023, isolated, "#!/bin/bash\nyum install -y httpd\necho \"yum exited $?\"\n")
	// Seed 003's NAT AMI (its real id) as a NAT instance for a subnet.
	natInstance, _ := launch("ami-00550ccc38e992b78", public, "", "--associate-public-ip-address")
	behindNAT, _ := launch(al2023, natted, "")
	// Both parts of a MIME multi-part user data, as launch templates and
	// CloudFormation users write it: cloud-config, then a script.
	cloudConfig, ccIP := launch(al2023, public, mimeUserData)
	w.aws("ec2", "wait", "instance-running", "--instance-ids", web, db, mc, lonely, natInstance, behindNAT, cloudConfig)
	webIP := get(w.aws("ec2", "describe-instances", "--instance-ids", web), "Reservations", 0, "Instances", 0, "PublicIpAddress")

	t.Run("seed 003 httpd and php on Amazon Linux 2", func(t *testing.T) {
		w := w.in(t)
		console := w.userDataDone(web, 4*time.Minute)
		for _, want := range []string{"Complete!", "php7.2"} {
			if !strings.Contains(console, want) {
				t.Errorf("console lacks %q:\n%s", want, console)
			}
		}
		w.shOK(web, `echo '<?php echo "sum=" . (6*7); ?>' > /var/www/html/index.php`)
		if got := w.eventually("internet", curl("http://"+webIP+"/index.php"), 30*time.Second); got != "sum=42" {
			t.Errorf("the PHP page from the internet: %q", got)
		}
		if got := w.shOK(web, "systemctl is-enabled httpd && systemctl is-active httpd"); got != "enabled\nactive" {
			t.Errorf("httpd: %q", got)
		}
	})

	t.Run("seed 001 MariaDB and memcached on CentOS", func(t *testing.T) {
		w := w.in(t)
		w.userDataDone(db, 5*time.Minute)
		w.userDataDone(web, 4*time.Minute) // the mysql client comes with the web server's user data
		// A real MariaDB handshake and the grants the script made, from
		// another instance, with the seed's own credentials.
		got := w.eventually(web, "mysql -h "+dbIP+" -u admin -padmin123 -N -e 'show databases'", 30*time.Second)
		if !strings.Contains(got, "accounts") {
			t.Errorf("databases seen by admin: %q", got)
		}
		if r := w.sh(web, "mysql -h "+dbIP+" -u root -padmin123 -e 'select 1'"); r.ExitCode == 0 {
			t.Errorf("root logged in from another host, which the script forbids: %s", r)
		}
		w.userDataDone(mc, 4*time.Minute)
		if got := w.eventually(web, "printf 'stats\\r\\nquit\\r\\n' | nc -w 3 "+mcIP+" 11211 | grep -c '^STAT '", 30*time.Second); got == "0" {
			t.Errorf("memcached stats: %q", got)
		}
	})

	t.Run("no NAT, no packages", func(t *testing.T) {
		w := w.in(t)
		console := w.userDataDone(lonely, 2*time.Minute)
		if !strings.Contains(console, "yum exited 1") || !strings.Contains(console, "Error: Failed to download metadata for repo") {
			t.Errorf("yum in a subnet without a route out:\n%s", console)
		}
		if r := w.sh(lonely, "command -v httpd apache2ctl"); r.ExitCode == 0 {
			t.Errorf("httpd was installed without a route to the mirror: %s", r)
		}
	})

	t.Run("a NAT instance from the NAT AMI", func(t *testing.T) {
		w := w.in(t)
		w.aws("ec2", "modify-instance-attribute", "--instance-id", natInstance, "--no-source-dest-check")
		rt := get(w.aws("ec2", "create-route-table", "--vpc-id", vpc), "RouteTable", "RouteTableId")
		w.aws("ec2", "create-route", "--route-table-id", rt, "--destination-cidr-block", "0.0.0.0/0", "--instance-id", natInstance)
		w.aws("ec2", "associate-route-table", "--route-table-id", rt, "--subnet-id", natted)
		natIP := get(w.aws("ec2", "describe-instances", "--instance-ids", natInstance), "Reservations", 0, "Instances", 0, "PublicIpAddress")
		if got := w.eventually(behindNAT, curl("http://198.18.0.10/ip"), 30*time.Second); got != natIP {
			t.Errorf("the internet saw %q, want the NAT instance's public address %s", got, natIP)
		}
	})

	t.Run("cloud-config and a script in MIME multi-part user data", func(t *testing.T) {
		w := w.in(t)
		if got := w.eventually(web, curl("http://"+ccIP+":8081/index.html"), 60*time.Second); got != "hello from cloud-config" {
			t.Errorf("the file cloud-config wrote, served by its runcmd: %q", got)
		}
		if got := w.eventually(cloudConfig, "cat /var/www/cc/part.txt && id -u deploy && sudo -l -U deploy | grep -c NOPASSWD", 30*time.Second); got != "script part ran\n1001\n1" {
			t.Errorf("the script part and the user: %q", got)
		}
	})

	t.Run("the instance sees its image, not the host", func(t *testing.T) {
		w := w.in(t)
		secret := filepath.Join(t.TempDir(), "host-only.txt")
		if err := os.WriteFile(secret, []byte("host"), 0o644); err != nil {
			t.Fatal(err)
		}
		if r := w.sh(web, "cat "+secret); r.ExitCode == 0 {
			t.Errorf("an instance read a host file: %s", r)
		}
		wd, _ := os.Getwd()
		if r := w.sh(web, "ls "+wd); r.ExitCode == 0 {
			t.Errorf("an instance sees the host's %s: %s", wd, r)
		}
		if got := w.shOK(web, ". /etc/os-release && echo $ID $VERSION_ID && id -u ec2-user && sudo -n -u ec2-user sudo -n true && echo sudo"); got != "amzn 2\n1000\nsudo" {
			t.Errorf("the AL2 image: %q", got)
		}
	})

	t.Run("CreateImage, launch template, Auto Scaling", func(t *testing.T) {
		w := w.in(t)
		w.userDataDone(web, 4*time.Minute)
		golden := get(w.aws("ec2", "create-image", "--instance-id", web, "--name", "bts-web-golden"), "ImageId")
		w.aws("ec2", "wait", "image-available", "--image-ids", golden)
		data := fmt.Sprintf(`{"ImageId":"%s","InstanceType":"t2.micro","SecurityGroupIds":["%s"]}`, golden, sg)
		w.aws("ec2", "create-launch-template", "--launch-template-name", "bts-web", "--launch-template-data", data)
		w.aws("autoscaling", "create-auto-scaling-group", "--auto-scaling-group-name", "bts-web", "--launch-template", "LaunchTemplateName=bts-web",
			"--min-size", "1", "--max-size", "1", "--vpc-zone-identifier", private)
		var id string
		deadline := time.Now().Add(90 * time.Second)
		for id == "" && time.Now().Before(deadline) {
			id = get(w.aws("autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", "bts-web"), "AutoScalingGroups", 0, "Instances", 0, "InstanceId")
			time.Sleep(time.Second)
		}
		if id == "" {
			t.Fatal("the group launched no instance")
		}
		w.aws("ec2", "wait", "instance-running", "--instance-ids", id)
		// The baked site serves at boot: httpd was enabled in the image,
		// and the new instance ran no install.
		if got := w.eventually(id, "curl -s -f --max-time 3 http://localhost/index.php", 30*time.Second); got != "sum=42" {
			t.Errorf("the baked site: %q", got)
		}
		if console := get(w.aws("ec2", "get-console-output", "--instance-id", id, "--latest"), "Output"); strings.Contains(console, "Installing") {
			t.Errorf("the instance from the golden image installed packages again:\n%s", console)
		}
		w.aws("autoscaling", "delete-auto-scaling-group", "--auto-scaling-group-name", "bts-web", "--force-delete")
	})
	w.checkSafety()
}

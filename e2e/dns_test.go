package e2e

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// resolve is the shell command that prints the IPv4 address name resolves
// to as glibc's resolver finds it, or the getaddrinfo error number (-2,
// EAI_NONAME, for NXDOMAIN; -3, EAI_AGAIN, for a timeout or SERVFAIL).
func resolve(python, name string) string {
	return python + ` -c 'import socket, sys
try: print(socket.gethostbyname(sys.argv[1]))
except socket.gaierror as e: print(e.errno)' ` + name
}

// TestRoute53DNS is seed 001's names: a private hosted zone vprofile.in
// associated with the VPC, with A records for db01, mc01 and rmq01, which
// the VPC's instances resolve to their private addresses while another
// VPC and the internet get NXDOMAIN; and a public zone that every VPC and
// the internet resolve. It skips while Route 53 is not implemented.
func TestRoute53DNS(t *testing.T) {
	w := newVPCWorld(t, Opts{})
	ref := fmt.Sprint(time.Now().UnixNano())

	// The public zone first: it tells whether there is a Route 53.
	r := w.c.aws(t, w.cli, w.cr, "route53", "create-hosted-zone", "--name", "cloudbox-e2e.example", "--caller-reference", "pub-"+ref)
	if r.ExitCode != 0 {
		if strings.Contains(r.Stderr, "NotImplemented") {
			t.Skip("Route 53 is not implemented: " + strings.TrimSpace(r.Stderr))
		}
		t.Fatalf("create-hosted-zone: %s", r)
	}
	var created map[string]any
	if err := json.Unmarshal([]byte(r.Stdout), &created); err != nil {
		t.Fatalf("create-hosted-zone: %v\n%s", err, r)
	}
	publicZone := get(created, "HostedZone", "Id")
	upsert := func(zone string, records map[string]string) {
		t.Helper()
		var changes []map[string]any
		for name, ip := range records {
			changes = append(changes, map[string]any{"Action": "UPSERT", "ResourceRecordSet": map[string]any{
				"Name": name, "Type": "A", "TTL": 300, "ResourceRecords": []map[string]string{{"Value": ip}}}})
		}
		batch, _ := json.Marshal(map[string]any{"Changes": changes})
		w.aws("route53", "change-resource-record-sets", "--hosted-zone-id", zone, "--change-batch", string(batch))
	}
	upsert(publicZone, map[string]string{"www.cloudbox-e2e.example": "198.18.0.10"})

	az := "ap-northeast-2a"
	network := func(cidr, subnetCIDR string) (vpc, subnet string) {
		vpc = get(w.aws("ec2", "create-vpc", "--cidr-block", cidr), "Vpc", "VpcId")
		w.aws("ec2", "modify-vpc-attribute", "--vpc-id", vpc, "--enable-dns-hostnames", `{"Value":true}`)
		subnet = get(w.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", subnetCIDR, "--availability-zone", az), "Subnet", "SubnetId")
		return vpc, subnet
	}
	vpcA, subnetA := network("10.0.0.0/16", "10.0.1.0/24")
	_, subnetB := network("10.1.0.0/16", "10.1.1.0/24")
	ami := get(w.aws("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=al2023-ami-2023.*-kernel-6.1-x86_64"), "Images", 0, "ImageId")
	launch := func(subnet string) (id, ip string) {
		out := w.aws("ec2", "run-instances", "--image-id", ami, "--instance-type", "t2.micro", "--subnet-id", subnet)
		return get(out, "Instances", 0, "InstanceId"), get(out, "Instances", 0, "PrivateIpAddress")
	}
	app, appIP := launch(subnetA)
	other, _ := launch(subnetB)
	w.aws("ec2", "wait", "instance-running", "--instance-ids", app, other)

	private := w.aws("route53", "create-hosted-zone", "--name", "vprofile.in", "--caller-reference", "priv-"+ref,
		"--hosted-zone-config", "PrivateZone=true", "--vpc", "VPCRegion=ap-northeast-2,VPCId="+vpcA)
	privateZone := get(private, "HostedZone", "Id")
	upsert(privateZone, map[string]string{"db01.vprofile.in": appIP, "mc01.vprofile.in": "10.0.1.20", "rmq01.vprofile.in": "10.0.1.30"})

	const hostPython = "/usr/bin/python3" // the host's, in the internet's namespace
	t.Run("private zone in its VPC", func(t *testing.T) {
		w := w.in(t)
		got := w.eventually(app, "getent hosts db01.vprofile.in", 10*time.Second)
		if f := strings.Fields(got); len(f) < 2 || f[0] != appIP || f[1] != "db01.vprofile.in" {
			t.Errorf("getent hosts db01.vprofile.in = %q, want %s", got, appIP)
		}
		for name, want := range map[string]string{"db01.vprofile.in": appIP, "mc01.vprofile.in": "10.0.1.20", "rmq01.vprofile.in": "10.0.1.30"} {
			if got := w.shOK(app, resolve("python3", name)); got != want {
				t.Errorf("gethostbyname(%s) = %q, want %s", name, got, want)
			}
		}
		if got := w.shOK(app, resolve("python3", "nope.vprofile.in")); got != "-2" {
			t.Errorf("a name the private zone lacks: %q, want -2 (NXDOMAIN)", got)
		}
	})

	t.Run("other VPC and the internet get NXDOMAIN", func(t *testing.T) {
		w := w.in(t)
		if got := w.shOK(other, resolve("python3", "db01.vprofile.in")); got != "-2" {
			t.Errorf("another VPC resolved db01.vprofile.in: %q, want -2 (NXDOMAIN)", got)
		}
		if got := w.shOK("internet", resolve(hostPython, "db01.vprofile.in")); got != "-2" {
			t.Errorf("the internet resolved db01.vprofile.in: %q, want -2 (NXDOMAIN)", got)
		}
	})

	t.Run("public zone everywhere", func(t *testing.T) {
		w := w.in(t)
		for _, where := range []string{app, other} {
			if got := w.shOK(where, resolve("python3", "www.cloudbox-e2e.example")); got != "198.18.0.10" {
				t.Errorf("%s: www.cloudbox-e2e.example = %q", where, got)
			}
		}
		if got := w.shOK("internet", resolve(hostPython, "www.cloudbox-e2e.example")); got != "198.18.0.10" {
			t.Errorf("internet: www.cloudbox-e2e.example = %q", got)
		}
		// The name leads to the internet's echo server.
		w.shOK("internet", curl("http://www.cloudbox-e2e.example/ip"))
	})

	t.Run("a deleted record is gone at once", func(t *testing.T) {
		w := w.in(t)
		batch := `{"Changes":[{"Action":"DELETE","ResourceRecordSet":{"Name":"rmq01.vprofile.in","Type":"A","TTL":300,"ResourceRecords":[{"Value":"10.0.1.30"}]}}]}`
		w.aws("route53", "change-resource-record-sets", "--hosted-zone-id", privateZone, "--change-batch", batch)
		w.eventually(app, `test "$(`+resolve("python3", "rmq01.vprofile.in")+`)" = -2`, 5*time.Second)
	})
	w.checkSafety()
}

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
// the internet resolve, with latency records that answer each VPC by its
// region. It skips while Route 53 is not implemented.
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

	// The app's VPC is in Seoul, the other in Oregon: latency records
	// answer each by its region.
	in := func(region string, args ...string) map[string]any {
		t.Helper()
		return w.aws(append(args, "--region", region)...)
	}
	network := func(region, cidr, subnetCIDR string) (vpc, subnet string) {
		vpc = get(in(region, "ec2", "create-vpc", "--cidr-block", cidr), "Vpc", "VpcId")
		in(region, "ec2", "modify-vpc-attribute", "--vpc-id", vpc, "--enable-dns-hostnames", `{"Value":true}`)
		subnet = get(in(region, "ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", subnetCIDR, "--availability-zone", region+"a"), "Subnet", "SubnetId")
		return vpc, subnet
	}
	vpcA, subnetA := network("ap-northeast-2", "10.0.0.0/16", "10.0.1.0/24")
	_, subnetB := network("us-west-2", "10.1.0.0/16", "10.1.1.0/24")
	launch := func(region, subnet string) (id, ip string) {
		ami := get(in(region, "ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=al2023-ami-2023.*-kernel-6.1-x86_64"), "Images", 0, "ImageId")
		out := in(region, "ec2", "run-instances", "--image-id", ami, "--instance-type", "t2.micro", "--subnet-id", subnet)
		id = get(out, "Instances", 0, "InstanceId")
		in(region, "ec2", "wait", "instance-running", "--instance-ids", id)
		return id, get(out, "Instances", 0, "PrivateIpAddress")
	}
	app, appIP := launch("ap-northeast-2", subnetA)
	other, _ := launch("us-west-2", subnetB)

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
		// The Amazon DNS server answers at 169.254.169.253 as at base+2.
		for _, server := range []string{"10.0.0.2", "169.254.169.253"} {
			if got := w.shOK(app, "dig +short @"+server+" db01.vprofile.in A"); got != appIP {
				t.Errorf("dig @%s db01.vprofile.in = %q, want %s", server, got, appIP)
			}
		}
		if got := w.shOK(app, "dig @169.254.169.253 nope.vprofile.in A | grep -o 'status: [A-Z]*'"); got != "status: NXDOMAIN" {
			t.Errorf("dig @169.254.169.253 nope.vprofile.in: %q, want status: NXDOMAIN", got)
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
		// Each name server of the zone's delegation set answers it,
		// authoritatively, at its own address.
		ns := w.aws("route53", "get-hosted-zone", "--id", publicZone)
		for i := range 4 {
			server := get(ns, "DelegationSet", "NameServers", i)
			out := w.shOK("internet", "dig +norecurse @"+server+" www.cloudbox-e2e.example A")
			if !strings.Contains(out, "flags: qr aa;") || !strings.Contains(out, "198.18.0.10") {
				t.Errorf("dig @%s www.cloudbox-e2e.example:\n%s", server, out)
			}
		}
		if out := w.shOK("internet", "dig @"+get(ns, "DelegationSet", "NameServers", 0)+" db01.vprofile.in A"); !strings.Contains(out, "status: REFUSED") {
			t.Errorf("a name server answered a private zone's name:\n%s", out)
		}
	})

	t.Run("latency records by the asking VPC's region", func(t *testing.T) {
		w := w.in(t)
		var changes []map[string]any
		for region, ip := range map[string]string{"ap-northeast-2": "192.0.2.1", "us-west-2": "192.0.2.2", "eu-west-1": "192.0.2.3"} {
			changes = append(changes, map[string]any{"Action": "CREATE", "ResourceRecordSet": map[string]any{
				"Name": "lat.cloudbox-e2e.example", "Type": "A", "TTL": 60, "SetIdentifier": region, "Region": region,
				"ResourceRecords": []map[string]string{{"Value": ip}}}})
		}
		batch, _ := json.Marshal(map[string]any{"Changes": changes})
		w.aws("route53", "change-resource-record-sets", "--hosted-zone-id", publicZone, "--change-batch", string(batch))
		for where, want := range map[string]string{app: "192.0.2.1", other: "192.0.2.2"} {
			for range 5 {
				if got := w.shOK(where, resolve("python3", "lat.cloudbox-e2e.example")); got != want {
					t.Fatalf("%s: lat.cloudbox-e2e.example = %q, want %s", where, got, want)
				}
			}
		}
		// The internet's resolver is taken to be in us-east-1: Oregon is
		// nearer than Ireland or Seoul.
		if got := w.shOK("internet", resolve(hostPython, "lat.cloudbox-e2e.example")); got != "192.0.2.2" {
			t.Errorf("internet: lat.cloudbox-e2e.example = %q, want 192.0.2.2", got)
		}
	})

	t.Run("a deleted record is gone at once", func(t *testing.T) {
		w := w.in(t)
		batch := `{"Changes":[{"Action":"DELETE","ResourceRecordSet":{"Name":"rmq01.vprofile.in","Type":"A","TTL":300,"ResourceRecords":[{"Value":"10.0.1.30"}]}}]}`
		w.aws("route53", "change-resource-record-sets", "--hosted-zone-id", privateZone, "--change-batch", batch)
		w.eventually(app, `test "$(`+resolve("python3", "rmq01.vprofile.in")+`)" = -2`, 5*time.Second)
	})
	w.checkSafety()
}

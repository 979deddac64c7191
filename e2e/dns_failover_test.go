package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"
)

// TestRoute53Failover is seed 003's failover between two sites: a public
// zone whose www is a PRIMARY record on one web server's address, health
// checked over HTTP from the simulated internet, and a SECONDARY on the
// other's. The internet resolves www to the primary; when the primary's
// web server stops, the health check fails FailureThreshold times and the
// answer switches to the secondary; when it comes back, so does the
// answer. Time runs 10x faster (request interval 10 s = 1 s).
func TestRoute53Failover(t *testing.T) {
	w := newVPCWorld(t, Opts{TimeScale: 10})
	vpc := get(w.aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16"), "Vpc", "VpcId")
	subnet := get(w.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.0.0.0/24", "--availability-zone", "ap-northeast-2a"), "Subnet", "SubnetId")
	igw := get(w.aws("ec2", "create-internet-gateway"), "InternetGateway", "InternetGatewayId")
	w.aws("ec2", "attach-internet-gateway", "--vpc-id", vpc, "--internet-gateway-id", igw)
	rt := get(w.aws("ec2", "describe-route-tables", "--filters", "Name=vpc-id,Values="+vpc), "RouteTables", 0, "RouteTableId")
	w.aws("ec2", "create-route", "--route-table-id", rt, "--destination-cidr-block", "0.0.0.0/0", "--gateway-id", igw)
	sg := get(w.aws("ec2", "create-security-group", "--group-name", "web", "--description", "web", "--vpc-id", vpc), "GroupId")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", sg, "--protocol", "tcp", "--port", "80", "--cidr", "0.0.0.0/0")
	ami := get(w.aws("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=al2023-ami-2023.*-kernel-6.1-x86_64"), "Images", 0, "ImageId")
	site := func(name string) (id, ip string) {
		ud := "#!/bin/sh\nmkdir -p /srv && echo " + name + " > /srv/index.html && cd /srv && nohup python3 -m http.server 80 >/dev/null 2>&1 &\n"
		out := w.aws("ec2", "run-instances", "--image-id", ami, "--instance-type", "t2.micro", "--subnet-id", subnet,
			"--security-group-ids", sg, "--associate-public-ip-address", "--user-data", ud)
		id = get(out, "Instances", 0, "InstanceId")
		w.aws("ec2", "wait", "instance-running", "--instance-ids", id)
		ip = get(w.aws("ec2", "describe-instances", "--instance-ids", id), "Reservations", 0, "Instances", 0, "PublicIpAddress")
		w.eventually("internet", curl("http://"+ip+"/"), 30*time.Second)
		return id, ip
	}
	primary, primaryIP := site("seoul")
	_, secondaryIP := site("virginia")

	zone := get(w.aws("route53", "create-hosted-zone", "--name", "hybridbts.com", "--caller-reference", "failover"), "HostedZone", "Id")
	hc := get(w.aws("route53", "create-health-check", "--caller-reference", "primary", "--health-check-config",
		fmt.Sprintf(`{"IPAddress":"%s","Port":80,"Type":"HTTP","ResourcePath":"/","RequestInterval":10,"FailureThreshold":2}`, primaryIP)), "HealthCheck", "Id")
	record := func(role, ip, check string) map[string]any {
		set := map[string]any{"Name": "www.hybridbts.com", "Type": "A", "TTL": 60, "SetIdentifier": role, "Failover": role,
			"ResourceRecords": []map[string]string{{"Value": ip}}}
		if check != "" {
			set["HealthCheckId"] = check
		}
		return map[string]any{"Action": "CREATE", "ResourceRecordSet": set}
	}
	batch, _ := json.Marshal(map[string]any{"Changes": []any{record("PRIMARY", primaryIP, hc), record("SECONDARY", secondaryIP, "")}})
	w.aws("route53", "change-resource-record-sets", "--hosted-zone-id", zone, "--change-batch", string(batch))

	answer := func() string {
		return w.shOK("internet", "getent ahostsv4 www.hybridbts.com | head -1 | cut -d' ' -f1")
	}
	waitAnswer := func(want, why string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for got := answer(); got != want; got = answer() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: www.hybridbts.com is %s, want %s", why, got, want)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitAnswer(primaryIP, "the primary is healthy")
	// The same answer on the host, from the daemon's loopback DNS port.
	w.readInfo()
	hostDNS := get(w.info, "dns")
	host, port, err := net.SplitHostPort(hostDNS)
	if err != nil {
		t.Fatalf("cloudbox info's dns %q: %v", hostDNS, err)
	}
	if r := run(t, t.TempDir(), os.Environ(), "dig", "@"+host, "-p", port, "+short", "www.hybridbts.com", "A"); strings.TrimSpace(r.Stdout) != primaryIP {
		t.Errorf("dig on the host: %s", r)
	}
	if got := w.shOK("internet", curl("http://www.hybridbts.com/")); got != "seoul" {
		t.Errorf("the site by name: %q", got)
	}

	w.shOK(primary, "pkill -f 'http[.]server 80'")
	waitAnswer(secondaryIP, "the primary's web server stopped")
	status := w.aws("route53", "get-health-check-status", "--health-check-id", hc)
	if got := get(status, "HealthCheckObservations", 0, "StatusReport", "Status"); len(got) < 8 || got[:8] != "Failure:" {
		t.Errorf("the health check's status: %q", got)
	}
	if got := w.shOK("internet", curl("http://www.hybridbts.com/")); got != "virginia" {
		t.Errorf("the site by name after the failover: %q", got)
	}

	w.shOK(primary, "cd /srv && (nohup python3 -m http.server 80 >/dev/null 2>&1 &)")
	waitAnswer(primaryIP, "the primary came back")
	w.checkSafety()
}

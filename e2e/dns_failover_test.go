package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestRoute53Failover is seed 003's failover between two load balancers
// in two regions: a public zone whose www is a PRIMARY alias to an ALB in
// Seoul, health checked over HTTP by its DNS name from the simulated
// internet, and a SECONDARY alias to an ALB in Virginia. The internet
// reaches the Seoul site by name; when the Seoul ALB's target stops
// serving, the health check fails FailureThreshold times and the name
// answers Virginia's load balancer; when the target comes back, so does
// the answer. app.hybridbts.com does the same on the Seoul ALB's own
// target health (an alias that evaluates target health). Time runs 10x
// faster (request interval 10 s = 1 s).
func TestRoute53Failover(t *testing.T) {
	w := newVPCWorld(t, Opts{TimeScale: 10})
	type site struct {
		instance, region, dns, zone string
	}
	// newSite is a web server in a region's default VPC behind an
	// internet-facing ALB, serving its name.
	newSite := func(region, name string, azs ...string) site {
		in := func(args ...string) map[string]any {
			t.Helper()
			return w.aws(append(args, "--region", region)...)
		}
		vpc := get(in("ec2", "describe-vpcs", "--filters", "Name=is-default,Values=true"), "Vpcs", 0, "VpcId")
		var subnets []string
		for _, az := range azs {
			subnets = append(subnets, get(in("ec2", "describe-subnets", "--filters", "Name=default-for-az,Values=true", "Name=availability-zone,Values="+az), "Subnets", 0, "SubnetId"))
		}
		sg := get(in("ec2", "create-security-group", "--group-name", "web", "--description", "web", "--vpc-id", vpc), "GroupId")
		in("ec2", "authorize-security-group-ingress", "--group-id", sg, "--protocol", "tcp", "--port", "80", "--cidr", "0.0.0.0/0")
		ami := get(in("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=al2023-ami-2023.*-kernel-6.1-x86_64"), "Images", 0, "ImageId")
		ud := "#!/bin/sh\nmkdir -p /srv && echo " + name + " > /srv/index.html && cd /srv && nohup python3 -m http.server 80 >/dev/null 2>&1 &\n"
		id := get(in("ec2", "run-instances", "--image-id", ami, "--instance-type", "t2.micro", "--subnet-id", subnets[0],
			"--security-group-ids", sg, "--user-data", ud), "Instances", 0, "InstanceId")
		lb := in("elbv2", "create-load-balancer", "--name", name, "--subnets", subnets[0], subnets[1], "--security-groups", sg)
		lbARN := get(lb, "LoadBalancers", 0, "LoadBalancerArn")
		tg := get(in("elbv2", "create-target-group", "--name", name, "--protocol", "HTTP", "--port", "80", "--vpc-id", vpc,
			"--health-check-interval-seconds", "5", "--health-check-timeout-seconds", "2", "--healthy-threshold-count", "2", "--unhealthy-threshold-count", "2"),
			"TargetGroups", 0, "TargetGroupArn")
		in("ec2", "wait", "instance-running", "--instance-ids", id)
		in("elbv2", "register-targets", "--target-group-arn", tg, "--targets", "Id="+id)
		in("elbv2", "create-listener", "--load-balancer-arn", lbARN, "--protocol", "HTTP", "--port", "80", "--default-actions", "Type=forward,TargetGroupArn="+tg)
		w.poll(func() bool {
			return get(in("elbv2", "describe-target-health", "--target-group-arn", tg), "TargetHealthDescriptions", 0, "TargetHealth", "State") == "healthy"
		})
		return site{instance: id, region: region, dns: get(lb, "LoadBalancers", 0, "DNSName"), zone: get(lb, "LoadBalancers", 0, "CanonicalHostedZoneId")}
	}
	seoul := newSite("ap-northeast-2", "seoul", "ap-northeast-2a", "ap-northeast-2c")
	virginia := newSite("us-east-1", "virginia", "us-east-1a", "us-east-1b")

	zone := get(w.aws("route53", "create-hosted-zone", "--name", "hybridbts.com", "--caller-reference", "failover"), "HostedZone", "Id")
	hc := get(w.aws("route53", "create-health-check", "--caller-reference", "primary", "--health-check-config",
		fmt.Sprintf(`{"FullyQualifiedDomainName":"%s","Port":80,"Type":"HTTP","ResourcePath":"/","RequestInterval":10,"FailureThreshold":2}`, seoul.dns)), "HealthCheck", "Id")
	record := func(name, role string, s site, check string) map[string]any {
		set := map[string]any{"Name": name, "Type": "A", "SetIdentifier": role, "Failover": role,
			"AliasTarget": map[string]any{"HostedZoneId": s.zone, "DNSName": "dualstack." + s.dns, "EvaluateTargetHealth": check == ""}}
		if check != "" {
			set["HealthCheckId"] = check
		}
		return map[string]any{"Action": "CREATE", "ResourceRecordSet": set}
	}
	// www fails over on the Route 53 health check; app on the Seoul ALB's
	// own target health (an alias that evaluates target health).
	batch, _ := json.Marshal(map[string]any{"Changes": []any{
		record("www.hybridbts.com", "PRIMARY", seoul, hc), record("www.hybridbts.com", "SECONDARY", virginia, ""),
		record("app.hybridbts.com", "PRIMARY", seoul, ""), record("app.hybridbts.com", "SECONDARY", virginia, ""),
	}})
	w.aws("route53", "change-resource-record-sets", "--hosted-zone-id", zone, "--change-batch", string(batch))

	// addrs are a name's A records as the internet's resolver answers.
	addrs := func(name string) []string {
		out := strings.Fields(w.shOK("internet", "dig +short "+name+" A"))
		slices.Sort(out)
		return out
	}
	waitHost := func(host, want, why string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for {
			got := w.sh("internet", curl("http://"+host+"/"))
			if strings.TrimSpace(got.Stdout) == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: http://%s/ answers %q, want %s (it is %v)", why, host, got, want, addrs(host))
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitSite := func(want, why string) { t.Helper(); waitHost("www.hybridbts.com", want, why) }
	waitSite("seoul", "the primary is healthy")
	waitHost("app.hybridbts.com", "seoul", "the Seoul ALB has a healthy target")
	if got, lb := addrs("www.hybridbts.com"), addrs(seoul.dns); !slices.Equal(got, lb) || len(got) == 0 {
		t.Errorf("www.hybridbts.com is %v, want the Seoul ALB's %v", got, lb)
	}
	// The same answer on the host, from the daemon's loopback DNS port.
	w.readInfo()
	hostDNS := get(w.info, "dns")
	host, port, err := net.SplitHostPort(hostDNS)
	if err != nil {
		t.Fatalf("cloudbox info's dns %q: %v", hostDNS, err)
	}
	r := run(t, t.TempDir(), os.Environ(), "dig", "@"+host, "-p", port, "+short", "www.hybridbts.com", "A")
	if got := strings.Fields(r.Stdout); !slices.Equal(sorted(got), addrs(seoul.dns)) {
		t.Errorf("dig on the host: %s", r)
	}

	// The Seoul ALB's only target stops serving: the ALB answers 502, the
	// health check fails, www turns to Virginia.
	w.shOK(seoul.instance, "pkill -f 'http[.]server 80'")
	waitSite("virginia", "the Seoul target stopped")
	waitHost("app.hybridbts.com", "virginia", "the Seoul ALB has no healthy target")
	status := w.aws("route53", "get-health-check-status", "--health-check-id", hc)
	if got := get(status, "HealthCheckObservations", 0, "StatusReport", "Status"); !strings.HasPrefix(got, "Failure:") {
		t.Errorf("the health check's status: %q", got)
	}
	if got, lb := addrs("www.hybridbts.com"), addrs(virginia.dns); !slices.Equal(got, lb) {
		t.Errorf("www.hybridbts.com is %v, want the Virginia ALB's %v", got, lb)
	}

	w.shOK(seoul.instance, "cd /srv && (nohup python3 -m http.server 80 >/dev/null 2>&1 &)")
	waitSite("seoul", "the Seoul target came back")
	waitHost("app.hybridbts.com", "seoul", "the Seoul ALB's target is healthy again")
	w.checkSafety()
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// edgeGet asks the edge listener (the daemon's own address on loopback)
// for the load balancer named host, as `curl http://<DNSName>:4566/` does.
func (w *vpcWorld) edgeGet(host, path string) (int, string, error) {
	req, err := http.NewRequest("GET", w.c.URL+path, nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = host
	client := &http.Client{Timeout: 20 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b)), err
}

// TestALBSeed002 is the seed 002 flow: two private web servers on port
// 3000 in two AZs behind an internet-facing ALB in the default VPC's
// public subnets; then the seed 001 story of a target group the app's
// security group does not admit.
func TestALBSeed002(t *testing.T) {
	w := newVPCWorld(t, Opts{})
	vpc := get(w.aws("ec2", "describe-vpcs", "--filters", "Name=is-default,Values=true"), "Vpcs", 0, "VpcId")
	defaultSubnet := func(az string) string {
		return get(w.aws("ec2", "describe-subnets", "--filters", "Name=default-for-az,Values=true", "Name=availability-zone,Values="+az), "Subnets", 0, "SubnetId")
	}
	pubA, pubC := defaultSubnet("ap-northeast-2a"), defaultSubnet("ap-northeast-2c")
	privA := get(w.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "172.31.112.0/20", "--availability-zone=ap-northeast-2a"), "Subnet", "SubnetId")
	privC := get(w.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "172.31.128.0/20", "--availability-zone=ap-northeast-2c"), "Subnet", "SubnetId")
	eip := w.aws("ec2", "allocate-address", "--domain", "vpc")
	nat := get(w.aws("ec2", "create-nat-gateway", "--subnet-id", pubA, "--allocation-id", get(eip, "AllocationId")), "NatGateway", "NatGatewayId")
	rt := get(w.aws("ec2", "create-route-table", "--vpc-id", vpc), "RouteTable", "RouteTableId")
	w.aws("ec2", "wait", "nat-gateway-available", "--nat-gateway-ids", nat)
	w.aws("ec2", "create-route", "--route-table-id", rt, "--destination-cidr-block", "0.0.0.0/0", "--gateway-id", nat)
	for _, s := range []string{privA, privC} {
		w.aws("ec2", "associate-route-table", "--route-table-id", rt, "--subnet-id", s)
	}

	appSG := get(w.aws("ec2", "create-security-group", "--group-name", "app", "--description", "app", "--vpc-id", vpc), "GroupId")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", appSG, "--protocol", "tcp", "--port", "3000", "--cidr", "0.0.0.0/0")
	albSG := get(w.aws("ec2", "create-security-group", "--group-name", "alb", "--description", "alb", "--vpc-id", vpc), "GroupId")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", albSG, "--protocol", "tcp", "--port", "80", "--cidr", "0.0.0.0/0")

	ami := get(w.aws("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=al2023-ami-2023.*-kernel-6.1-x86_64"), "Images", 0, "ImageId")
	var ids, hosts []string
	for _, s := range []string{privA, privC} {
		out := w.aws("ec2", "run-instances", "--image-id", ami, "--instance-type", "t2.micro", "--subnet-id", s,
			"--security-group-ids", appSG, "--no-associate-public-ip-address", "--user-data", fmt.Sprintf(webUserData, 3000))
		ids = append(ids, get(out, "Instances", 0, "InstanceId"))
		hosts = append(hosts, "web ip-"+strings.ReplaceAll(get(out, "Instances", 0, "PrivateIpAddress"), ".", "-"))
	}
	w.aws("ec2", "wait", "instance-running", "--instance-ids", ids[0], ids[1])

	lb := w.aws("elbv2", "create-load-balancer", "--name", "seed-alb", "--subnets", pubA, pubC, "--security-groups", albSG)
	lbARN, dns := get(lb, "LoadBalancers", 0, "LoadBalancerArn"), get(lb, "LoadBalancers", 0, "DNSName")
	tgARN := get(w.aws("elbv2", "create-target-group", "--name", "seed-tg", "--protocol", "HTTP", "--port", "3000", "--vpc-id", vpc,
		"--health-check-interval-seconds", "5", "--health-check-timeout-seconds", "2", "--healthy-threshold-count", "2", "--unhealthy-threshold-count", "2"), "TargetGroups", 0, "TargetGroupArn")
	w.aws("elbv2", "register-targets", "--target-group-arn", tgARN, "--targets", "Id="+ids[0], "Id="+ids[1])
	w.aws("elbv2", "create-listener", "--load-balancer-arn", lbARN, "--protocol", "HTTP", "--port", "80",
		"--default-actions", "Type=forward,TargetGroupArn="+tgARN)
	// The CLI's waiters poll every 15 s; these poll faster.
	w.poll(func() bool { return lbActive(w, lbARN) })
	w.poll(func() bool { return inService(w, tgARN) })

	t.Run("edge listener alternates between the two AZs", func(t *testing.T) {
		w := w.in(t)
		seen := map[string]int{}
		for i := 0; i < 6; i++ {
			code, body, err := w.edgeGet(dns, "/")
			if err != nil || code != 200 {
				t.Fatalf("GET http://%s/ through the edge: %d %q %v", dns, code, body, err)
			}
			seen[body]++
		}
		if seen[hosts[0]] == 0 || seen[hosts[1]] == 0 {
			t.Errorf("answers %v, want both of %v", seen, hosts)
		}
	})

	t.Run("the simulated internet reaches it by name", func(t *testing.T) {
		w := w.in(t)
		got := w.shOK("internet", curl("http://"+dns+"/"))
		if got != hosts[0] && got != hosts[1] {
			t.Errorf("curl http://%s/ from the internet: %q", dns, got)
		}
	})

	t.Run("stickiness keeps a client on one target", func(t *testing.T) {
		w := w.in(t)
		w.aws("elbv2", "modify-target-group-attributes", "--target-group-arn", tgARN, "--attributes",
			"Key=stickiness.enabled,Value=true", "Key=stickiness.type,Value=lb_cookie", "Key=stickiness.lb_cookie.duration_seconds,Value=300")
		// The node picks the change up with the next sync.
		sticky := func() (first string, same bool) {
			jar := &cookieJar{}
			for i := 0; i < 6; i++ {
				_, body, err := w.edgeGetWith(jar, dns, "/")
				if err != nil {
					t.Fatal(err)
				}
				if i == 0 {
					first = body
				} else if body != first {
					return first, false
				}
			}
			return first, true
		}
		deadline := time.Now().Add(10 * time.Second)
		firsts := map[string]bool{}
		for {
			first, same := sticky()
			if same {
				firsts[first] = true
			}
			if len(firsts) == 2 {
				break // each client kept its target, and new clients landed on both
			}
			if time.Now().After(deadline) {
				t.Fatalf("clients stayed put on %v only", firsts)
			}
		}
		w.aws("elbv2", "modify-target-group-attributes", "--target-group-arn", tgARN, "--attributes", "Key=stickiness.enabled,Value=false")
	})

	listenerARN := get(w.aws("elbv2", "describe-listeners", "--load-balancer-arn", lbARN), "Listeners", 0, "ListenerArn")
	t.Run("rules: path pattern, fixed response, redirect", func(t *testing.T) {
		w := w.in(t)
		apiTG := get(w.aws("elbv2", "create-target-group", "--name", "api-tg", "--protocol", "HTTP", "--port", "3000", "--vpc-id", vpc,
			"--health-check-interval-seconds", "5", "--health-check-timeout-seconds", "2", "--healthy-threshold-count", "2"), "TargetGroups", 0, "TargetGroupArn")
		w.aws("elbv2", "register-targets", "--target-group-arn", apiTG, "--targets", "Id="+ids[1])
		w.aws("elbv2", "create-rule", "--listener-arn", listenerARN, "--priority", "10",
			"--conditions", "Field=path-pattern,Values=/api/*", "--actions", "Type=forward,TargetGroupArn="+apiTG)
		w.aws("elbv2", "create-rule", "--listener-arn", listenerARN, "--priority", "20",
			"--conditions", "Field=path-pattern,Values=/ping",
			"--actions", `Type=fixed-response,FixedResponseConfig={StatusCode=200,ContentType=text/plain,MessageBody=pong}`)
		w.aws("elbv2", "create-rule", "--listener-arn", listenerARN, "--priority", "30",
			"--conditions", "Field=path-pattern,Values=/old",
			"--actions", `Type=redirect,RedirectConfig={Path=/new,StatusCode=HTTP_301}`)
		w.poll(func() bool { return inService(w, apiTG) })
		for i := 0; i < 4; i++ {
			code, body, err := w.edgeGet(dns, "/api/x")
			// The web server has no /api/x: its 404 says which target answered.
			if err != nil || code != 404 {
				t.Fatalf("/api/x: %d %q %v", code, body, err)
			}
		}
		if log := w.shOK(ids[1], "cat /var/log/web.log"); !strings.Contains(log, "/api/x") {
			t.Errorf("/api/x did not reach the api group's target: %s", log)
		}
		if log := w.shOK(ids[0], "cat /var/log/web.log"); strings.Contains(log, "/api/x") {
			t.Errorf("/api/x reached the default group's target")
		}
		if code, body, _ := w.edgeGet(dns, "/ping"); code != 200 || body != "pong" {
			t.Errorf("fixed response: %d %q", code, body)
		}
		req, _ := http.NewRequest("GET", w.c.URL+"/old?q=1", nil)
		req.Host = dns
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode != 301 || loc != "http://"+dns+":80/new?q=1" {
			t.Errorf("redirect: %d %q", resp.StatusCode, loc)
		}
	})

	t.Run("seed 001: the app's group does not admit the load balancer", func(t *testing.T) {
		w := w.in(t)
		w.aws("ec2", "revoke-security-group-ingress", "--group-id", appSG, "--protocol", "tcp", "--port", "3000", "--cidr", "0.0.0.0/0")
		w.aws("ec2", "authorize-security-group-ingress", "--group-id", appSG, "--protocol", "tcp", "--port", "3000", "--cidr", "198.18.0.10/32")
		deadline := time.Now().Add(40 * time.Second)
		for {
			th := w.aws("elbv2", "describe-target-health", "--target-group-arn", tgARN)
			if get(th, "TargetHealthDescriptions", 0, "TargetHealth", "State") == "unhealthy" && get(th, "TargetHealthDescriptions", 1, "TargetHealth", "State") == "unhealthy" {
				if r := get(th, "TargetHealthDescriptions", 0, "TargetHealth", "Reason"); r != "Target.Timeout" && r != "Target.FailedHealthChecks" {
					t.Errorf("unhealthy reason %q", r)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("targets still %v", th)
			}
			time.Sleep(time.Second)
		}
		if code, body, err := w.edgeGet(dns, "/"); err == nil && code == 200 {
			t.Errorf("the site answered 200 %q while no target admits the load balancer", body)
		} else if err == nil && code != 502 && code != 504 {
			t.Errorf("the load balancer answered %d, want 502 or 504", code)
		}
		w.aws("ec2", "authorize-security-group-ingress", "--group-id", appSG, "--protocol", "tcp", "--port", "3000", "--source-group", albSG)
		w.poll(func() bool { return inService(w, tgARN) })
		if code, body, err := w.edgeGet(dns, "/"); err != nil || code != 200 {
			t.Errorf("after admitting the load balancer's group: %d %q %v", code, body, err)
		}
	})
	t.Run("HTTPS with a requested and an imported certificate", func(t *testing.T) {
		w := w.in(t)
		w.aws("ec2", "authorize-security-group-ingress", "--group-id", albSG, "--protocol", "tcp", "--port", "443", "--cidr", "0.0.0.0/0")
		cert := get(w.aws("acm", "request-certificate", "--domain-name", "app.example.com", "--validation-method", "DNS"), "CertificateArn")
		// DNS validation for real: pending until the CNAME ACM asks for is
		// in a public hosted zone, as "Create records in Route 53" puts it.
		d := w.aws("acm", "describe-certificate", "--certificate-arn", cert)
		if st := get(d, "Certificate", "Status"); st != "PENDING_VALIDATION" {
			t.Fatalf("a requested certificate is %s before its record exists", st)
		}
		zone := get(w.aws("route53", "create-hosted-zone", "--name", "example.com", "--caller-reference", "alb-cert"), "HostedZone", "Id")
		name := get(d, "Certificate", "DomainValidationOptions", 0, "ResourceRecord", "Name")
		value := get(d, "Certificate", "DomainValidationOptions", 0, "ResourceRecord", "Value")
		w.aws("route53", "change-resource-record-sets", "--hosted-zone-id", zone, "--change-batch",
			`{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"`+name+`","Type":"CNAME","TTL":300,"ResourceRecords":[{"Value":"`+value+`"}]}}]}`)
		w.poll(func() bool {
			return get(w.aws("acm", "describe-certificate", "--certificate-arn", cert), "Certificate", "Status") == "ISSUED"
		})
		certPEM, keyPEM := selfSigned(t, "shop.example.com")
		dir := t.TempDir()
		writeFile(t, dir+"/shop.pem", certPEM)
		writeFile(t, dir+"/shop.key", keyPEM)
		imported := get(w.aws("acm", "import-certificate", "--certificate", "fileb://"+dir+"/shop.pem", "--private-key", "fileb://"+dir+"/shop.key"), "CertificateArn")
		https := get(w.aws("elbv2", "create-listener", "--load-balancer-arn", lbARN, "--protocol", "HTTPS", "--port", "443",
			"--certificates", "CertificateArn="+cert, "--default-actions", "Type=forward,TargetGroupArn="+tgARN), "Listeners", 0, "ListenerArn")
		w.aws("elbv2", "add-listener-certificates", "--listener-arn", https, "--certificates", "CertificateArn="+imported)
		node := w.shOK("internet", "getent hosts "+dns+" | head -1 | cut -d' ' -f1")
		caPath := get(w.info, "ca")
		for _, c := range []struct{ name, ca string }{{"app.example.com", caPath}, {"shop.example.com", dir + "/shop.pem"}} {
			got := w.eventually("internet", "curl -s -f --max-time 3 --cacert "+c.ca+" --resolve "+c.name+":443:"+node+" https://"+c.name+"/", 10*time.Second)
			if got != hosts[0] && got != hosts[1] {
				t.Errorf("https://%s/: %q", c.name, got)
			}
		}
		if r := w.sh("internet", "curl -s -f --max-time 3 --resolve app.example.com:443:"+node+" https://app.example.com/"); r.ExitCode == 0 {
			t.Errorf("the certificate verified without cloudbox's CA")
		}
		// The site by its own name: an alias record to the load balancer
		// in the public zone, resolved by the internet's resolver.
		lbZone := get(lb, "LoadBalancers", 0, "CanonicalHostedZoneId")
		w.aws("route53", "change-resource-record-sets", "--hosted-zone-id", zone, "--change-batch",
			`{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"app.example.com","Type":"A","AliasTarget":{"HostedZoneId":"`+lbZone+`","DNSName":"dualstack.`+dns+`","EvaluateTargetHealth":true}}}]}`)
		if got := w.eventually("internet", "curl -s -f --max-time 3 --cacert "+caPath+" https://app.example.com/", 10*time.Second); got != hosts[0] && got != hosts[1] {
			t.Errorf("https://app.example.com/ through its alias: %q", got)
		}
	})

	t.Run("an internal load balancer is reachable from inside only", func(t *testing.T) {
		w := w.in(t)
		itg := get(w.aws("elbv2", "create-target-group", "--name", "internal-tg", "--protocol", "HTTP", "--port", "3000", "--vpc-id", vpc,
			"--health-check-interval-seconds", "5", "--health-check-timeout-seconds", "2", "--healthy-threshold-count", "2"), "TargetGroups", 0, "TargetGroupArn")
		w.aws("elbv2", "register-targets", "--target-group-arn", itg, "--targets", "Id="+ids[0], "Id="+ids[1])
		ilb := w.aws("elbv2", "create-load-balancer", "--name", "inside", "--scheme", "internal", "--subnets", privA, privC, "--security-groups", albSG)
		iARN, idns := get(ilb, "LoadBalancers", 0, "LoadBalancerArn"), get(ilb, "LoadBalancers", 0, "DNSName")
		if !strings.HasPrefix(idns, "internal-inside-") {
			t.Errorf("internal DNS name %q", idns)
		}
		w.aws("elbv2", "create-listener", "--load-balancer-arn", iARN, "--protocol", "HTTP", "--port", "80", "--default-actions", "Type=forward,TargetGroupArn="+itg)
		w.poll(func() bool { return lbActive(w, iARN) })
		w.poll(func() bool { return inService(w, itg) })
		if got := w.eventually(ids[0], curl("http://"+idns+"/"), 10*time.Second); got != hosts[0] && got != hosts[1] {
			t.Errorf("internal load balancer from inside: %q", got)
		}
		if r := w.sh("internet", curl("http://"+idns+"/")); r.ExitCode == 0 {
			t.Errorf("the internal load balancer answered the internet")
		}
		if code, _, _ := w.edgeGet(idns, "/"); code == 200 {
			t.Errorf("the edge reached an internal load balancer")
		}
	})

	t.Run("a stopped instance is taken out, and no 5xx follows", func(t *testing.T) {
		w := w.in(t)
		w.aws("ec2", "stop-instances", "--instance-ids", ids[0])
		deadline := time.Now().Add(30 * time.Second)
		for {
			th := w.aws("elbv2", "describe-target-health", "--target-group-arn", tgARN, "--targets", "Id="+ids[0])
			if st := get(th, "TargetHealthDescriptions", 0, "TargetHealth", "State"); st == "unhealthy" || st == "unused" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the stopped instance is still %v", th)
			}
			time.Sleep(500 * time.Millisecond)
		}
		for i := 0; i < 20; i++ {
			if code, body, err := w.edgeGet(dns, "/"); err != nil || code != 200 || body != hosts[1] {
				t.Fatalf("request %d after the target was taken out: %d %q %v", i, code, body, err)
			}
		}
	})
	w.checkSafety()
}

// poll calls ok until it reports true, for a minute at most.
func (w *vpcWorld) poll(ok func() bool) {
	w.t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !ok() {
		if time.Now().After(deadline) {
			w.t.Fatalf("still waiting after a minute")
		}
		time.Sleep(300 * time.Millisecond)
	}
}

func lbActive(w *vpcWorld, arn string) bool {
	return get(w.aws("elbv2", "describe-load-balancers", "--load-balancer-arns", arn), "LoadBalancers", 0, "State", "Code") == "active"
}

// inService reports whether every target of a group is healthy, as the
// CLI's target-in-service waiter checks.
func inService(w *vpcWorld, tg string) bool {
	th := w.aws("elbv2", "describe-target-health", "--target-group-arn", tg)
	descs, _ := th["TargetHealthDescriptions"].([]any)
	for i := range descs {
		if get(th, "TargetHealthDescriptions", i, "TargetHealth", "State") != "healthy" {
			return false
		}
	}
	return len(descs) > 0
}

// cookieJar is the smallest cookie jar: one client's cookies, any host.
type cookieJar struct{ cookies map[string]*http.Cookie }

func (j *cookieJar) apply(req *http.Request) {
	for _, c := range j.cookies {
		req.AddCookie(c)
	}
}

func (j *cookieJar) keep(resp *http.Response) {
	if j.cookies == nil {
		j.cookies = map[string]*http.Cookie{}
	}
	for _, c := range resp.Cookies() {
		j.cookies[c.Name] = &http.Cookie{Name: c.Name, Value: c.Value}
	}
}

// edgeGetWith is edgeGet for a client that keeps cookies.
func (w *vpcWorld) edgeGetWith(jar *cookieJar, host, path string) (int, string, error) {
	req, err := http.NewRequest("GET", w.c.URL+path, nil)
	if err != nil {
		return 0, "", err
	}
	req.Host = host
	jar.apply(req)
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	jar.keep(resp)
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b)), err
}

// selfSigned makes a certificate and key for name, as a user would with
// openssl for ImportCertificate.
func selfSigned(t *testing.T, name string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: name},
		DNSNames:              []string{name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

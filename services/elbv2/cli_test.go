package elbv2_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// awsCLI runs the aws CLI v1 against e and decodes its JSON output.
func (e *env) awsCLI(t *testing.T, args ...string) map[string]any {
	t.Helper()
	path, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not installed")
	}
	if v, _ := exec.Command(path, "--version").CombinedOutput(); !strings.HasPrefix(string(v), "aws-cli/1.") {
		t.Skipf("%s is not the aws CLI v1: %s", path, v)
	}
	home := t.TempDir()
	cmd := exec.Command(path, append([]string{"--endpoint-url", e.url, "--output", "json", "elbv2"}, args...)...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION="+region,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "HOME="+home, "AWS_PAGER=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("aws elbv2 %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	var out map[string]any
	if len(bytes.TrimSpace(stdout.Bytes())) == 0 {
		return out
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("aws elbv2 %s: %v\n%s", strings.Join(args, " "), err, stdout.String())
	}
	return out
}

// first returns out[key][0] as an object.
func first(t *testing.T, out map[string]any, key string) map[string]any {
	t.Helper()
	list, ok := out[key].([]any)
	if !ok || len(list) == 0 {
		t.Fatalf("%s: %v", key, out)
	}
	return list[0].(map[string]any)
}

func wantKeys(t *testing.T, what string, obj map[string]any, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, ok := obj[k]; !ok {
			t.Errorf("%s has no %s: %v", what, k, obj)
		}
	}
}

// TestCLI checks the output shapes of the aws CLI v1.
func TestCLI(t *testing.T) {
	e := newEnv(t, nil)
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("aws CLI not installed")
	}
	n := e.network(t)
	lb := first(t, e.awsCLI(t, "create-load-balancer", "--name", "cli", "--subnets", n.public[0], n.public[1], "--security-groups", n.albSG), "LoadBalancers")
	wantKeys(t, "load balancer", lb, "LoadBalancerArn", "DNSName", "CanonicalHostedZoneId", "CreatedTime", "LoadBalancerName", "Scheme", "VpcId", "State", "Type", "AvailabilityZones", "SecurityGroups", "IpAddressType")
	if lb["State"].(map[string]any)["Code"] != "provisioning" || lb["Type"] != "application" {
		t.Errorf("load balancer %v", lb)
	}
	tg := first(t, e.awsCLI(t, "create-target-group", "--name", "cli", "--protocol", "HTTP", "--port", "3000", "--vpc-id", n.vpc,
		"--health-check-path", "/health", "--matcher", "HttpCode=200-299"), "TargetGroups")
	wantKeys(t, "target group", tg, "TargetGroupArn", "TargetGroupName", "Protocol", "Port", "VpcId", "HealthCheckProtocol", "HealthCheckPort", "HealthCheckEnabled",
		"HealthCheckIntervalSeconds", "HealthCheckTimeoutSeconds", "HealthyThresholdCount", "UnhealthyThresholdCount", "HealthCheckPath", "Matcher", "TargetType", "ProtocolVersion", "IpAddressType")
	if tg["HealthCheckPath"] != "/health" || tg["Matcher"].(map[string]any)["HttpCode"] != "200-299" || tg["Port"] != float64(3000) {
		t.Errorf("target group %v", tg)
	}
	tgArn := tg["TargetGroupArn"].(string)
	l := first(t, e.awsCLI(t, "create-listener", "--load-balancer-arn", lb["LoadBalancerArn"].(string), "--protocol", "HTTP", "--port", "80",
		"--default-actions", "Type=forward,TargetGroupArn="+tgArn), "Listeners")
	wantKeys(t, "listener", l, "ListenerArn", "LoadBalancerArn", "Port", "Protocol", "DefaultActions")
	action := l["DefaultActions"].([]any)[0].(map[string]any)
	wantKeys(t, "action", action, "Type", "TargetGroupArn", "ForwardConfig", "Order")
	e.awsCLI(t, "register-targets", "--target-group-arn", tgArn, "--targets", "Id="+n.instances[0], "Id="+n.instances[1]+",Port=8080")
	th := e.awsCLI(t, "describe-target-health", "--target-group-arn", tgArn)
	descs := th["TargetHealthDescriptions"].([]any)
	if len(descs) != 2 {
		t.Fatalf("descriptions %v", th)
	}
	d := descs[1].(map[string]any)
	wantKeys(t, "target health description", d, "Target", "HealthCheckPort", "TargetHealth")
	if d["Target"].(map[string]any)["Port"] != float64(8080) || d["HealthCheckPort"] != "8080" {
		t.Errorf("description %v", d)
	}
	// Without a data plane a target turns healthy 2 s after registration;
	// a slow CLI may already see that.
	switch th := d["TargetHealth"].(map[string]any); th["State"] {
	case "initial":
		wantKeys(t, "target health", th, "State", "Reason", "Description")
	case "healthy":
	default:
		t.Errorf("health %v", th)
	}
}

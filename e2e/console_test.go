package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestConsoleLive opens the web console's endpoints on a data-plane world
// at 60 times AWS's speed: a web server behind an ALB takes requests, and
// the console's counters show the instance's CPU and the ALB's requests
// per second from what the data plane's publisher put in CloudWatch, its
// diagram the target healthy, and the instance's details its console
// output.
func TestConsoleLive(t *testing.T) {
	t.Parallel()
	w := newVPCWorld(t, Opts{TimeScale: 60})
	vpc := get(w.aws("ec2", "describe-vpcs", "--filters", "Name=is-default,Values=true"), "Vpcs", 0, "VpcId")
	subnet := func(az string) string {
		return get(w.aws("ec2", "describe-subnets", "--filters", "Name=default-for-az,Values=true", "Name=availability-zone,Values="+az), "Subnets", 0, "SubnetId")
	}
	sa, sc := subnet("ap-northeast-2a"), subnet("ap-northeast-2c")
	albSG := get(w.aws("ec2", "create-security-group", "--group-name", "alb", "--description", "alb", "--vpc-id", vpc), "GroupId")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", albSG, "--protocol", "tcp", "--port", "80", "--cidr", "0.0.0.0/0")
	appSG := get(w.aws("ec2", "create-security-group", "--group-name", "app", "--description", "app", "--vpc-id", vpc), "GroupId")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", appSG, "--protocol", "tcp", "--port", "3000", "--source-group", albSG)
	ami := get(w.aws("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=al2023-ami-2023.*-kernel-6.1-x86_64"), "Images", 0, "ImageId")
	inst := get(w.aws("ec2", "run-instances", "--image-id", ami, "--instance-type", "t2.micro", "--subnet-id", sa,
		"--security-group-ids", appSG, "--user-data", fmt.Sprintf(webUserData, 3000)), "Instances", 0, "InstanceId")
	tg := get(w.aws("elbv2", "create-target-group", "--name", "web", "--protocol", "HTTP", "--port", "3000", "--vpc-id", vpc,
		"--health-check-interval-seconds", "5", "--health-check-timeout-seconds", "2", "--healthy-threshold-count", "2"), "TargetGroups", 0, "TargetGroupArn")
	lb := w.aws("elbv2", "create-load-balancer", "--name", "web-alb", "--subnets", sa, sc, "--security-groups", albSG)
	lbARN, dns := get(lb, "LoadBalancers", 0, "LoadBalancerArn"), get(lb, "LoadBalancers", 0, "DNSName")
	w.aws("elbv2", "create-listener", "--load-balancer-arn", lbARN, "--protocol", "HTTP", "--port", "80", "--default-actions", "Type=forward,TargetGroupArn="+tg)
	w.aws("ec2", "wait", "instance-running", "--instance-ids", inst)
	w.aws("elbv2", "register-targets", "--target-group-arn", tg, "--targets", "Id="+inst)

	console := func(path string, params url.Values, out any) {
		t.Helper()
		params.Set("account", "000000000000")
		params.Set("region", "ap-northeast-2")
		resp, err := http.Get(w.c.URL + "/_cloudbox/console/api/" + path + "?" + params.Encode())
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("console %s: %s %v", path, resp.Status, err)
		}
	}
	var world struct {
		LoadBalancers []struct {
			TargetGroups []struct {
				Targets []struct{ ID, State string }
			}
		}
	}
	w.poll(func() bool {
		console("world", url.Values{}, &world)
		return len(world.LoadBalancers) == 1 && len(world.LoadBalancers[0].TargetGroups) == 1 &&
			len(world.LoadBalancers[0].TargetGroups[0].Targets) == 1 && world.LoadBalancers[0].TargetGroups[0].Targets[0].State == "healthy"
	})

	// Requests through the ALB, five a second, until the counters show them.
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
				w.edgeGet(dns, "/")
			}
		}
	}()
	var counters struct {
		Instances     map[string]struct{ CPU *float64 }
		LoadBalancers map[string]struct{ RequestsPerSecond *float64 }
	}
	w.poll(func() bool {
		console("counters", url.Values{}, &counters)
		rps := counters.LoadBalancers[lbARN].RequestsPerSecond
		return counters.Instances[inst].CPU != nil && rps != nil && *rps > 0
	})
	t.Logf("console counters: CPU %.2f%%, %.3f req/s (virtual)", *counters.Instances[inst].CPU, *counters.LoadBalancers[lbARN].RequestsPerSecond)

	var res struct {
		Operation     string
		ConsoleOutput string
	}
	w.poll(func() bool {
		console("resource", url.Values{"id": {inst}}, &res)
		return strings.Contains(res.ConsoleOutput, "user data done")
	})
	if res.Operation != "DescribeInstances" {
		t.Errorf("operation %q", res.Operation)
	}
}

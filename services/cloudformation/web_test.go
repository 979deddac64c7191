package cloudformation_test

import (
	"strings"
	"testing"
)

// TestWebStack makes an ALB, its target group, listener and rule, an Auto
// Scaling group registered with it and its policy, a hosted zone with an
// alias to the ALB and an alarm on its metric, then deletes them all.
func TestWebStack(t *testing.T) {
	c := start(t)
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "bts-web", "--template-body", "file://web.yaml")
	st := c.settle(t, "bts-web")
	if st["StackStatus"] != "CREATE_COMPLETE" {
		t.Fatalf("create: %v\n%s", st, strings.Join(c.events(t, "bts-web"), "\n"))
	}
	outs := outputs(st)
	res := map[string]string{}
	for _, r := range c.ok(t, "cloudformation", "list-stack-resources", "--stack-name", "bts-web").(map[string]any)["StackResourceSummaries"].([]any) {
		r := r.(map[string]any)
		res[r["LogicalResourceId"].(string)] = r["PhysicalResourceId"].(string)
	}
	lb := c.ok(t, "elbv2", "describe-load-balancers", "--load-balancer-arns", res["Lb"]).(map[string]any)["LoadBalancers"].([]any)[0].(map[string]any)
	if outs["Url"] != "http://"+lb["DNSName"].(string)+"/" || lb["State"].(map[string]any)["Code"] != "active" {
		t.Errorf("load balancer: %v %v", lb, outs)
	}
	attrs := c.ok(t, "elbv2", "describe-load-balancer-attributes", "--load-balancer-arn", res["Lb"]).(map[string]any)["Attributes"].([]any)
	found := false
	for _, a := range attrs {
		a := a.(map[string]any)
		found = found || a["Key"] == "idle_timeout.timeout_seconds" && a["Value"] == "30"
	}
	if !found {
		t.Errorf("attributes: %v", attrs)
	}
	rules := c.ok(t, "elbv2", "describe-rules", "--listener-arn", res["Http"]).(map[string]any)["Rules"].([]any)
	if len(rules) != 2 {
		t.Errorf("rules: %v", rules)
	}
	g := c.ok(t, "autoscaling", "describe-auto-scaling-groups", "--auto-scaling-group-names", outs["Group"]).(map[string]any)["AutoScalingGroups"].([]any)[0].(map[string]any)
	if g["TargetGroupARNs"].([]any)[0] != res["Targets"] || g["VPCZoneIdentifier"] != res["SubnetA"]+","+res["SubnetC"] {
		t.Errorf("group: %v", g)
	}
	pols := c.ok(t, "autoscaling", "describe-policies", "--auto-scaling-group-name", outs["Group"]).(map[string]any)["ScalingPolicies"].([]any)
	if len(pols) != 1 || pols[0].(map[string]any)["PolicyARN"] != outs["Policy"] {
		t.Errorf("policies: %v", pols)
	}
	recs := c.ok(t, "route53", "list-resource-record-sets", "--hosted-zone-id", outs["Zone"]).(map[string]any)["ResourceRecordSets"].([]any)
	alias := false
	for _, r := range recs {
		r := r.(map[string]any)
		if r["Name"] == "www.hybridbts.example." {
			alias = strings.EqualFold(strings.TrimSuffix(r["AliasTarget"].(map[string]any)["DNSName"].(string), "."), lb["DNSName"].(string))
		}
	}
	if !alias {
		t.Errorf("records: %v", recs)
	}
	alarms := c.ok(t, "cloudwatch", "describe-alarms", "--alarm-names", outs["Alarm"]).(map[string]any)["MetricAlarms"].([]any)
	if len(alarms) != 1 || !strings.HasPrefix(alarms[0].(map[string]any)["Dimensions"].([]any)[0].(map[string]any)["Value"].(string), "app/") {
		t.Errorf("alarms: %v", alarms)
	}

	id := st["StackId"].(string)
	c.ok(t, "cloudformation", "delete-stack", "--stack-name", "bts-web")
	if st := c.settle(t, id); st["StackStatus"] != "DELETE_COMPLETE" {
		t.Fatalf("delete: %v\n%s", st, strings.Join(c.events(t, id), "\n"))
	}
	if n := len(c.ok(t, "elbv2", "describe-load-balancers").(map[string]any)["LoadBalancers"].([]any)); n != 0 {
		t.Errorf("%d load balancers left", n)
	}
	if n := len(c.ok(t, "autoscaling", "describe-auto-scaling-groups").(map[string]any)["AutoScalingGroups"].([]any)); n != 0 {
		t.Errorf("%d groups left", n)
	}
}

package cloudformation_test

import (
	"strings"
	"testing"
)

// physicalIDs maps a stack's resources to their physical ids.
func (c *cloud) physicalIDs(t *testing.T, stack string) map[string]string {
	t.Helper()
	res := map[string]string{}
	for _, r := range c.ok(t, "cloudformation", "list-stack-resources", "--stack-name", stack).(map[string]any)["StackResourceSummaries"].([]any) {
		r := r.(map[string]any)
		res[r["LogicalResourceId"].(string)] = r["PhysicalResourceId"].(string)
	}
	return res
}

// TestUpdateInPlaceELB: a route's target, a target group's health check
// and tags, a listener's port and a rule's priority change in place, as
// a change set previews (Replacement False) and execution does (the same
// physical ids, the new values in the services).
func TestUpdateInPlaceELB(t *testing.T) {
	c := start(t)
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "alb", "--template-body", "file://inplace.yaml")
	if st := c.settle(t, "alb"); st["StackStatus"] != "CREATE_COMPLETE" {
		t.Fatalf("create: %v\n%s", st, strings.Join(c.events(t, "alb"), "\n"))
	}
	before := c.physicalIDs(t, "alb")
	c.ok(t, "cloudformation", "create-change-set", "--stack-name", "alb", "--change-set-name", "move", "--use-previous-template", "--parameters",
		"ParameterKey=Via,ParameterValue=peering", "ParameterKey=HealthPath,ParameterValue=/health",
		"ParameterKey=Port,ParameterValue=8080", "ParameterKey=Priority,ParameterValue=20")
	cs := c.ok(t, "cloudformation", "describe-change-set", "--stack-name", "alb", "--change-set-name", "move").(map[string]any)
	changed := map[string]bool{}
	for _, ch := range cs["Changes"].([]any) {
		rc := ch.(map[string]any)["ResourceChange"].(map[string]any)
		changed[rc["LogicalResourceId"].(string)] = true
		if rc["Action"] != "Modify" || rc["Replacement"] != "False" {
			t.Errorf("change: %v", rc)
		}
	}
	for _, n := range []string{"ToPeer", "Targets", "Http", "Api"} {
		if !changed[n] {
			t.Errorf("%s not in the change set: %v", n, cs["Changes"])
		}
	}
	c.ok(t, "cloudformation", "execute-change-set", "--stack-name", "alb", "--change-set-name", "move")
	if st := c.settle(t, "alb"); st["StackStatus"] != "UPDATE_COMPLETE" {
		t.Fatalf("update: %v\n%s", st, strings.Join(c.events(t, "alb"), "\n"))
	}
	after := c.physicalIDs(t, "alb")
	for n, id := range before {
		if after[n] != id {
			t.Errorf("%s replaced: %s -> %s", n, id, after[n])
		}
	}

	routes := c.ok(t, "ec2", "describe-route-tables", "--route-table-ids", after["Table"]).(map[string]any)["RouteTables"].([]any)[0].(map[string]any)["Routes"].([]any)
	via := ""
	for _, r := range routes {
		if r := r.(map[string]any); r["DestinationCidrBlock"] == "10.30.0.0/16" {
			via, _ = r["VpcPeeringConnectionId"].(string)
		}
	}
	if via != after["Peering"] {
		t.Errorf("routes: %v", routes)
	}
	tg := c.ok(t, "elbv2", "describe-target-groups", "--target-group-arns", after["Targets"]).(map[string]any)["TargetGroups"].([]any)[0].(map[string]any)
	if tg["HealthCheckPath"] != "/health" {
		t.Errorf("target group: %v", tg)
	}
	tags := c.ok(t, "elbv2", "describe-tags", "--resource-arns", after["Targets"]).(map[string]any)["TagDescriptions"].([]any)[0].(map[string]any)["Tags"].([]any)
	if len(tags) != 1 || tags[0].(map[string]any)["Value"] != "/health" {
		t.Errorf("tags: %v", tags)
	}
	l := c.ok(t, "elbv2", "describe-listeners", "--listener-arns", after["Http"]).(map[string]any)["Listeners"].([]any)[0].(map[string]any)
	if l["Port"] != float64(8080) {
		t.Errorf("listener: %v", l)
	}
	r := c.ok(t, "elbv2", "describe-rules", "--rule-arns", after["Api"]).(map[string]any)["Rules"].([]any)[0].(map[string]any)
	if r["Priority"] != "20" {
		t.Errorf("rule: %v", r)
	}
}

package cloudformation_test

import (
	"encoding/base64"
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

// TestUpdateInPlaceIAMS3: a role's description, inline policies and tags
// and a bucket's versioning and tags change in place.
func TestUpdateInPlaceIAMS3(t *testing.T) {
	c := start(t)
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "acct", "--template-body", "file://inplace-iam.yaml", "--capabilities", "CAPABILITY_IAM")
	st := c.settle(t, "acct")
	if st["StackStatus"] != "CREATE_COMPLETE" {
		t.Fatalf("create: %v\n%s", st, strings.Join(c.events(t, "acct"), "\n"))
	}
	before := outputs(st)
	c.ok(t, "cloudformation", "update-stack", "--stack-name", "acct", "--use-previous-template", "--capabilities", "CAPABILITY_IAM", "--parameters",
		"ParameterKey=Stage,ParameterValue=prod", "ParameterKey=Versioning,ParameterValue=Enabled", "ParameterKey=ReadLogs,ParameterValue=yes")
	st = c.settle(t, "acct")
	if st["StackStatus"] != "UPDATE_COMPLETE" {
		t.Fatalf("update: %v\n%s", st, strings.Join(c.events(t, "acct"), "\n"))
	}
	after := outputs(st)
	if after["Role"] != before["Role"] || after["Bucket"] != before["Bucket"] {
		t.Fatalf("replaced: %v -> %v", before, after)
	}
	role := c.ok(t, "iam", "get-role", "--role-name", after["Role"]).(map[string]any)["Role"].(map[string]any)
	if role["Description"] != "the prod role" {
		t.Errorf("role: %v", role)
	}
	tags := c.ok(t, "iam", "list-role-tags", "--role-name", after["Role"]).(map[string]any)["Tags"].([]any)
	if len(tags) != 1 || tags[0].(map[string]any)["Value"] != "prod" {
		t.Errorf("role tags: %v", tags)
	}
	pols := c.ok(t, "iam", "list-role-policies", "--role-name", after["Role"]).(map[string]any)["PolicyNames"].([]any)
	if len(pols) != 2 {
		t.Errorf("inline policies: %v", pols)
	}
	if v := c.ok(t, "s3api", "get-bucket-versioning", "--bucket", after["Bucket"]).(map[string]any)["Status"]; v != "Enabled" {
		t.Errorf("versioning: %v", v)
	}
	btags := c.ok(t, "s3api", "get-bucket-tagging", "--bucket", after["Bucket"]).(map[string]any)["TagSet"].([]any)
	if len(btags) != 1 || btags[0].(map[string]any)["Value"] != "prod" {
		t.Errorf("bucket tags: %v", btags)
	}

	// Dropping the policy again deletes it from the role.
	c.ok(t, "cloudformation", "update-stack", "--stack-name", "acct", "--use-previous-template", "--capabilities", "CAPABILITY_IAM", "--parameters",
		"ParameterKey=Stage,UsePreviousValue=true", "ParameterKey=Versioning,UsePreviousValue=true", "ParameterKey=ReadLogs,ParameterValue=no")
	if st := c.settle(t, "acct"); st["StackStatus"] != "UPDATE_COMPLETE" {
		t.Fatalf("second update: %v\n%s", st, strings.Join(c.events(t, "acct"), "\n"))
	}
	if pols := c.ok(t, "iam", "list-role-policies", "--role-name", after["Role"]).(map[string]any)["PolicyNames"].([]any); len(pols) != 1 || pols[0] != "read" {
		t.Errorf("inline policies after removing one: %v", pols)
	}
}

// TestUpdateInstanceInPlace: an instance keeps its id through changes
// of tags, source/destination check and security groups (no
// interruption) and of type and user data (stopped and started).
func TestUpdateInstanceInPlace(t *testing.T) {
	c := start(t)
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "host", "--template-body", "file://inplace-instance.yaml")
	if st := c.settle(t, "host"); st["StackStatus"] != "CREATE_COMPLETE" {
		t.Fatalf("create: %v\n%s", st, strings.Join(c.events(t, "host"), "\n"))
	}
	before := c.physicalIDs(t, "host")
	c.ok(t, "cloudformation", "update-stack", "--stack-name", "host", "--use-previous-template", "--parameters",
		"ParameterKey=Role,ParameterValue=nat", "ParameterKey=Nat,ParameterValue=yes", "ParameterKey=Group,ParameterValue=B")
	if st := c.settle(t, "host"); st["StackStatus"] != "UPDATE_COMPLETE" {
		t.Fatalf("update: %v\n%s", st, strings.Join(c.events(t, "host"), "\n"))
	}
	id := before["Host"]
	if after := c.physicalIDs(t, "host"); after["Host"] != id {
		t.Fatalf("replaced: %s -> %s", id, after["Host"])
	}
	inst := c.ok(t, "ec2", "describe-instances", "--instance-ids", id).(map[string]any)["Reservations"].([]any)[0].(map[string]any)["Instances"].([]any)[0].(map[string]any)
	if inst["SourceDestCheck"] != false || inst["SecurityGroups"].([]any)[0].(map[string]any)["GroupId"] != before["GroupB"] {
		t.Errorf("instance: %v", inst)
	}
	tags := map[string]string{}
	for _, tg := range inst["Tags"].([]any) {
		tg := tg.(map[string]any)
		tags[tg["Key"].(string)] = tg["Value"].(string)
	}
	if tags["role"] != "nat" {
		t.Errorf("tags: %v", tags)
	}
	ud := c.ok(t, "ec2", "describe-instance-attribute", "--instance-id", id, "--attribute", "userData").(map[string]any)["UserData"].(map[string]any)["Value"].(string)
	if raw, _ := base64.StdEncoding.DecodeString(ud); string(raw) != "#!/bin/sh\necho nat\n" {
		t.Errorf("user data: %q", raw)
	}

	c.ok(t, "cloudformation", "update-stack", "--stack-name", "host", "--use-previous-template", "--parameters", "ParameterKey=Type,ParameterValue=t3.small",
		"ParameterKey=Role,UsePreviousValue=true", "ParameterKey=Nat,UsePreviousValue=true", "ParameterKey=Group,UsePreviousValue=true")
	if st := c.settle(t, "host"); st["StackStatus"] != "UPDATE_COMPLETE" {
		t.Fatalf("resize: %v\n%s", st, strings.Join(c.events(t, "host"), "\n"))
	}
	inst = c.ok(t, "ec2", "describe-instances", "--instance-ids", id).(map[string]any)["Reservations"].([]any)[0].(map[string]any)["Instances"].([]any)[0].(map[string]any)
	if inst["InstanceType"] != "t3.small" || inst["State"].(map[string]any)["Name"] != "running" {
		t.Errorf("resized: %v", inst)
	}
}

// TestUpdateInPlaceASG: a network ACL entry's ports, a scaling policy's
// adjustment and a lifecycle hook's heartbeat change in place.
func TestUpdateInPlaceASG(t *testing.T) {
	c := start(t)
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "scaled", "--template-body", "file://inplace-asg.yaml")
	st := c.settle(t, "scaled")
	if st["StackStatus"] != "CREATE_COMPLETE" {
		t.Fatalf("create: %v\n%s", st, strings.Join(c.events(t, "scaled"), "\n"))
	}
	before := c.physicalIDs(t, "scaled")
	c.ok(t, "cloudformation", "update-stack", "--stack-name", "scaled", "--use-previous-template", "--parameters",
		"ParameterKey=Port,ParameterValue=443", "ParameterKey=Adjustment,ParameterValue=2", "ParameterKey=Heartbeat,ParameterValue=600")
	if st := c.settle(t, "scaled"); st["StackStatus"] != "UPDATE_COMPLETE" {
		t.Fatalf("update: %v\n%s", st, strings.Join(c.events(t, "scaled"), "\n"))
	}
	after := c.physicalIDs(t, "scaled")
	for n, id := range before {
		if after[n] != id {
			t.Errorf("%s replaced: %s -> %s", n, id, after[n])
		}
	}
	group := outputs(st)["Group"]
	acl := c.ok(t, "ec2", "describe-network-acls", "--network-acl-ids", after["Acl"]).(map[string]any)["NetworkAcls"].([]any)[0].(map[string]any)
	port := 0.0
	for _, e := range acl["Entries"].([]any) {
		if e := e.(map[string]any); e["RuleNumber"] == float64(100) && e["Egress"] == false {
			port = e["PortRange"].(map[string]any)["From"].(float64)
		}
	}
	if port != 443 {
		t.Errorf("ACL entries: %v", acl["Entries"])
	}
	pols := c.ok(t, "autoscaling", "describe-policies", "--auto-scaling-group-name", group).(map[string]any)["ScalingPolicies"].([]any)
	if len(pols) != 1 || pols[0].(map[string]any)["ScalingAdjustment"] != float64(2) {
		t.Errorf("policies: %v", pols)
	}
	hooks := c.ok(t, "autoscaling", "describe-lifecycle-hooks", "--auto-scaling-group-name", group).(map[string]any)["LifecycleHooks"].([]any)
	if len(hooks) != 1 || hooks[0].(map[string]any)["HeartbeatTimeout"] != float64(600) {
		t.Errorf("hooks: %v", hooks)
	}
}

package cloudformation_test

import (
	"strings"
	"testing"
)

// protect allows every update but replacing Param and deleting Gone.
const protect = `{"Statement":[
 {"Effect":"Allow","Action":"Update:*","Principal":"*","Resource":"*"},
 {"Effect":"Deny","Action":"Update:Replace","Principal":"*","Resource":"LogicalResourceId/Param"},
 {"Effect":"Deny","Action":"Update:Delete","Principal":"*","Resource":"*","Condition":{"StringLike":{"ResourceType":["AWS::SSM::*"]}}}]}`

const allowAll = `{"Statement":[{"Effect":"Allow","Action":"Update:*","Principal":"*","Resource":"*"}]}`

// updatePolicyStack runs update-stack on the policy stack with parameters and
// extra arguments, and returns the settled stack.
func (c *cloud) updatePolicyStack(t *testing.T, params string, extra ...string) map[string]any {
	t.Helper()
	args := append([]string{"cloudformation", "update-stack", "--stack-name", "guarded", "--use-previous-template", "--parameters"}, strings.Fields(params)...)
	c.ok(t, append(args, extra...)...)
	return c.settle(t, "guarded")
}

// TestStackPolicy: a stack policy lets an update modify a resource,
// refuses its replacement and another's deletion (the update rolls back
// with AWS's reasons), yields to a policy given for one update, and is
// replaced by set-stack-policy; malformed policies get AWS's error.
func TestStackPolicy(t *testing.T) {
	c := start(t)
	id := c.ok(t, "cloudformation", "create-stack", "--stack-name", "guarded", "--template-body", "file://policy.yaml",
		"--stack-policy-body", protect).(map[string]any)["StackId"].(string)
	if st := c.settle(t, "guarded"); st["StackStatus"] != "CREATE_COMPLETE" {
		t.Fatalf("create: %v", st)
	}
	if got := c.ok(t, "cloudformation", "get-stack-policy", "--stack-name", "guarded").(map[string]any)["StackPolicyBody"]; got != protect {
		t.Errorf("policy: %v", got)
	}
	value := func(name string) string {
		return c.ok(t, "ssm", "get-parameter", "--name", name).(map[string]any)["Parameter"].(map[string]any)["Value"].(string)
	}

	if st := c.updatePolicyStack(t, "ParameterKey=Value,ParameterValue=v2"); st["StackStatus"] != "UPDATE_COMPLETE" || value("/pol/a") != "v2" {
		t.Fatalf("modify: %v", st)
	}

	st := c.updatePolicyStack(t, "ParameterKey=Name,ParameterValue=/pol/b ParameterKey=Value,UsePreviousValue=true")
	evs := c.events(t, "guarded")
	if st["StackStatus"] != "UPDATE_ROLLBACK_COMPLETE" ||
		!has(evs, "Param UPDATE_FAILED Action denied by stack policy: Statement [#2] does not allow [Update:Replace] for resource [LogicalResourceId/Param]") ||
		!has(evs, "guarded UPDATE_ROLLBACK_IN_PROGRESS The following resource(s) failed to update: [Param].") {
		t.Fatalf("replace refused: %v\n%s", st, strings.Join(evs, "\n"))
	}
	if _, errOut, ok := c.aws(t, "ssm", "get-parameter", "--name", "/pol/b"); ok || !strings.Contains(errOut, "ParameterNotFound") {
		t.Errorf("the refused replacement was made: %s", errOut)
	}

	st = c.updatePolicyStack(t, "ParameterKey=Name,ParameterValue=/pol/b ParameterKey=Value,UsePreviousValue=true", "--stack-policy-during-update-body", allowAll)
	if st["StackStatus"] != "UPDATE_COMPLETE" || value("/pol/b") != "v2" {
		t.Fatalf("replace during an override: %v\n%s", st, strings.Join(c.events(t, "guarded"), "\n"))
	}
	if got := c.ok(t, "cloudformation", "get-stack-policy", "--stack-name", "guarded").(map[string]any)["StackPolicyBody"]; got != protect {
		t.Errorf("the override outlived its update: %v", got)
	}

	st = c.updatePolicyStack(t, "ParameterKey=Extra,ParameterValue=no ParameterKey=Name,UsePreviousValue=true ParameterKey=Value,UsePreviousValue=true")
	evs = c.events(t, "guarded")
	if st["StackStatus"] != "UPDATE_ROLLBACK_COMPLETE" ||
		!has(evs, "Gone UPDATE_FAILED Action denied by stack policy: Statement [#3] does not allow [Update:Delete] for resource [LogicalResourceId/Gone]") {
		t.Fatalf("delete refused: %v\n%s", st, strings.Join(evs, "\n"))
	}
	gone := c.ok(t, "cloudformation", "describe-stack-resource", "--stack-name", "guarded", "--logical-resource-id", "Gone").(map[string]any)["StackResourceDetail"].(map[string]any)
	value(gone["PhysicalResourceId"].(string))

	for _, bad := range []string{"not json", `{"Statement":[{"Effect":"Deny","Action":"Delete:*","Principal":"*","Resource":"*"}]}`,
		`{"Statement":[{"Effect":"Deny","Action":"Update:*","Principal":"me","Resource":"*"}]}`} {
		if _, errOut, ok := c.aws(t, "cloudformation", "set-stack-policy", "--stack-name", "guarded", "--stack-policy-body", bad); ok ||
			!strings.Contains(errOut, "(ValidationError) when calling the SetStackPolicy operation: Error validating stack policy: Invalid stack policy") {
			t.Errorf("%s: %s", bad, errOut)
		}
	}
	if _, errOut, ok := c.aws(t, "cloudformation", "set-stack-policy", "--stack-name", "guarded", "--stack-policy-body", allowAll,
		"--stack-policy-url", "https://b.s3.amazonaws.com/p.json"); ok || !strings.Contains(errOut, "You cannot specify both StackPolicyURL and StackPolicyBody") {
		t.Errorf("both: %s", errOut)
	}

	// An empty policy protects everything.
	c.ok(t, "cloudformation", "set-stack-policy", "--stack-name", "guarded", "--stack-policy-body", "{}")
	st = c.updatePolicyStack(t, "ParameterKey=Value,ParameterValue=v3 ParameterKey=Name,UsePreviousValue=true")
	if evs := c.events(t, "guarded"); st["StackStatus"] != "UPDATE_ROLLBACK_COMPLETE" ||
		!has(evs, "Free UPDATE_FAILED Action denied by stack policy: No statement allows [Update:Modify] for resource [LogicalResourceId/Free]") {
		t.Fatalf("empty policy: %v\n%s", st, strings.Join(evs, "\n"))
	}
	c.ok(t, "cloudformation", "delete-stack", "--stack-name", "guarded")
	if st := c.settle(t, id); st["StackStatus"] != "DELETE_COMPLETE" {
		t.Errorf("delete: %v", st)
	}
}

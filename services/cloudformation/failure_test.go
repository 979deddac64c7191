package cloudformation_test

import (
	"strings"
	"testing"
)

// TestFailureModes: OnFailure DO_NOTHING keeps what was made, DELETE
// removes the stack too; DeletionPolicy Retain keeps a resource past its
// stack; termination protection refuses deletion.
func TestFailureModes(t *testing.T) {
	c := start(t)
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "keep", "--template-body", "file://retain.yaml",
		"--parameters", "ParameterKey=Fail,ParameterValue=yes", "--on-failure", "DO_NOTHING")
	st := c.settle(t, "keep")
	if st["StackStatus"] != "CREATE_FAILED" || st["StackStatusReason"] != "The following resource(s) failed to create: [Broken]. " {
		t.Fatalf("DO_NOTHING: %v", st)
	}
	if _, _, ok := c.aws(t, "ssm", "get-parameter", "--name", "/bts/gone"); !ok {
		t.Error("DO_NOTHING removed what was made")
	}
	c.ok(t, "cloudformation", "delete-stack", "--stack-name", "keep")
	c.ok(t, "cloudformation", "wait", "stack-delete-complete", "--stack-name", "keep")
	if _, _, ok := c.aws(t, "ssm", "get-parameter", "--name", "/bts/kept"); !ok {
		t.Error("a retained parameter went with its stack")
	}
	if _, _, ok := c.aws(t, "ssm", "get-parameter", "--name", "/bts/gone"); ok {
		t.Error("a parameter outlived its stack")
	}
	c.ok(t, "ssm", "delete-parameter", "--name", "/bts/kept")

	id := c.ok(t, "cloudformation", "create-stack", "--stack-name", "drop", "--template-body", "file://retain.yaml",
		"--parameters", "ParameterKey=Fail,ParameterValue=yes", "--on-failure", "DELETE").(map[string]any)["StackId"].(string)
	if st := c.settle(t, id); st["StackStatus"] != "DELETE_COMPLETE" {
		t.Fatalf("OnFailure DELETE: %v", st)
	}
	evs := c.events(t, id)
	for _, want := range []string{"Broken CREATE_FAILED Resource handler returned message:", "drop ROLLBACK_IN_PROGRESS", "Kept DELETE_SKIPPED", "Gone DELETE_COMPLETE", "drop DELETE_COMPLETE"} {
		if !has(evs, want) {
			t.Errorf("no event %q in\n%s", want, strings.Join(evs, "\n"))
		}
	}
	if _, _, ok := c.aws(t, "ssm", "get-parameter", "--name", "/bts/kept"); !ok {
		t.Error("a rollback deleted a resource whose DeletionPolicy is Retain")
	}

	c.ok(t, "cloudformation", "create-stack", "--stack-name", "guarded", "--template-body", "file://retain.yaml", "--enable-termination-protection")
	c.settle(t, "guarded")
	if _, errOut, ok := c.aws(t, "cloudformation", "delete-stack", "--stack-name", "guarded"); ok ||
		!strings.Contains(errOut, "Stack [guarded] cannot be deleted while TerminationProtection is enabled") {
		t.Errorf("protected: %s", errOut)
	}
	c.ok(t, "cloudformation", "update-termination-protection", "--stack-name", "guarded", "--no-enable-termination-protection")
	c.ok(t, "cloudformation", "delete-stack", "--stack-name", "guarded")
}

// TestParameterExistence: a key pair parameter naming no key pair rolls
// the stack back with AWS's reason.
func TestParameterExistence(t *testing.T) {
	c := start(t)
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "nokey", "--template-body", "file://net.yaml", "--parameters", "ParameterKey=NatKey,ParameterValue=missing")
	st := c.settle(t, "nokey")
	if st["StackStatus"] != "ROLLBACK_COMPLETE" || !has(c.events(t, "nokey"),
		"nokey ROLLBACK_IN_PROGRESS Parameter validation failed: parameter value missing for parameter name NatKey does not exist. Rollback requested by user.") {
		t.Errorf("%v\n%s", st, strings.Join(c.events(t, "nokey"), "\n"))
	}
	if n := len(c.ok(t, "ec2", "describe-vpcs", "--filters", "Name=cidr,Values=10.0.0.0/16").(map[string]any)["Vpcs"].([]any)); n != 0 {
		t.Errorf("%d VPCs made", n)
	}
}

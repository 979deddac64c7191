package cloudformation_test

import (
	"strings"
	"testing"
)

// signal sends signal-resource until the resource accepts signals (it
// does once it is made and waits for them).
func (c *cloud) signal(t *testing.T, stack, logical, id, status string) {
	t.Helper()
	for {
		_, errOut, ok := c.aws(t, "cloudformation", "signal-resource", "--stack-name", stack, "--logical-resource-id", logical,
			"--unique-id", id, "--status", status)
		if ok {
			return
		}
		if !strings.Contains(errOut, "cannot be signaled") {
			t.Fatalf("signal: %s", errOut)
		}
	}
}

// TestCreationPolicy: a resource with a CreationPolicy completes on its
// signals, fails on a FAILURE signal, and fails when they do not come in
// time.
func TestCreationPolicy(t *testing.T) {
	c := start(t)
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "signalled", "--template-body", strings.Replace(readFile(t, "testdata/signals.yaml"), "PT2S", "PT10M", 1))
	c.signal(t, "signalled", "Ready", "i-1", "SUCCESS")
	c.signal(t, "signalled", "Ready", "i-2", "SUCCESS")
	if st := c.settle(t, "signalled"); st["StackStatus"] != "CREATE_COMPLETE" {
		t.Fatalf("signalled: %v", st)
	}
	if !has(c.events(t, "signalled"), "Ready CREATE_IN_PROGRESS Received SUCCESS signal with UniqueId i-2") {
		t.Errorf("events: %v", c.events(t, "signalled"))
	}

	c.ok(t, "cloudformation", "create-stack", "--stack-name", "refused", "--template-body", strings.Replace(readFile(t, "testdata/signals.yaml"), "PT2S", "PT10M", 1))
	c.signal(t, "refused", "Ready", "i-1", "FAILURE")
	if st := c.settle(t, "refused"); st["StackStatus"] != "ROLLBACK_COMPLETE" ||
		!has(c.events(t, "refused"), "Ready CREATE_FAILED Received 1 FAILURE signal(s) out of 2. Unable to satisfy 100% MinSuccessfulInstancesPercent requirement") {
		t.Errorf("refused: %v %v", st, c.events(t, "refused"))
	}

	c.ok(t, "cloudformation", "create-stack", "--stack-name", "silent", "--template-body", "file://signals.yaml")
	if st := c.settle(t, "silent"); st["StackStatus"] != "ROLLBACK_COMPLETE" ||
		!has(c.events(t, "silent"), "Ready CREATE_FAILED Failed to receive 2 resource signal(s) within the specified duration") {
		t.Errorf("silent: %v %v", st, c.events(t, "silent"))
	}
}

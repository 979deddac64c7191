package cloudformation_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// handleURL waits until the stack's handle is made and returns its URL.
func (c *cloud) handleURL(t *testing.T, stack string) string {
	t.Helper()
	for {
		_, _, ok := c.aws(t, "cloudformation", "describe-stack-resource", "--stack-name", stack, "--logical-resource-id", "Wait")
		if !ok {
			continue
		}
		r := c.ok(t, "cloudformation", "describe-stack-resource", "--stack-name", stack, "--logical-resource-id", "Handle").(map[string]any)["StackResourceDetail"].(map[string]any)
		return r["PhysicalResourceId"].(string)
	}
}

// put sends a signal to a handle URL as an instance's curl does, through
// the daemon's loopback listener with the URL's Host; it returns the
// HTTP status.
func (c *cloud) put(t *testing.T, handle string, signal map[string]string) int {
	t.Helper()
	u, err := url.Parse(handle)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(signal)
	req, err := http.NewRequest(http.MethodPut, c.url+u.RequestURI(), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Host = u.Host
	req.Header.Set("Content-Type", "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// TestWaitCondition: a handle's URL takes signals PUT to it; the wait
// condition completes on Count of them with their data in Data, fails
// on a FAILURE signal and times out on the virtual clock, with AWS's
// reasons.
func TestWaitCondition(t *testing.T) {
	c := start(t)
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "waiting", "--template-body", "file://waitcond.yaml")
	handle := c.handleURL(t, "waiting")
	if !strings.HasPrefix(handle, "https://cloudformation-waitcondition-"+region+".s3-"+region+".amazonaws.com/arn%3Aaws%3Acloudformation%3A"+region+"%3A000000000000%3Astack/waiting/") {
		t.Fatalf("handle %s", handle)
	}
	if code := c.put(t, strings.Replace(handle, "X-Amz-Signature=", "X-Amz-Signature=0", 1), map[string]string{"Status": "SUCCESS", "UniqueId": "x", "Data": "forged"}); code != http.StatusForbidden {
		t.Errorf("a wrong signature: %d", code)
	}
	for _, s := range []map[string]string{
		{"Status": "SUCCESS", "Reason": "ok", "UniqueId": "a", "Data": "first"},
		{"Status": "SUCCESS", "Reason": "ok", "UniqueId": "a", "Data": "one"},
		{"Status": "SUCCESS", "Reason": "ok", "UniqueId": "b", "Data": "two"},
	} {
		if code := c.put(t, handle, s); code != http.StatusOK {
			t.Fatalf("signal %v: %d", s, code)
		}
	}
	st := c.settle(t, "waiting")
	if st["StackStatus"] != "CREATE_COMPLETE" {
		t.Fatalf("waiting: %v\n%s", st, strings.Join(c.events(t, "waiting"), "\n"))
	}
	outs := outputs(st)
	if outs["Data"] != `{"a":"one","b":"two"}` || !strings.HasSuffix(outs["Id"], "/Handle") {
		t.Errorf("outputs: %v", outs)
	}
	if !has(c.events(t, "waiting"), "Wait CREATE_IN_PROGRESS Received SUCCESS signal with UniqueId b") {
		t.Errorf("events: %s", strings.Join(c.events(t, "waiting"), "\n"))
	}

	c.ok(t, "cloudformation", "create-stack", "--stack-name", "failing", "--template-body", "file://waitcond.yaml")
	handle = c.handleURL(t, "failing")
	c.put(t, handle, map[string]string{"Status": "FAILURE", "Reason": "install failed", "UniqueId": "i-1", "Data": ""})
	if st := c.settle(t, "failing"); st["StackStatus"] != "ROLLBACK_COMPLETE" ||
		!has(c.events(t, "failing"), "Wait CREATE_FAILED WaitCondition received failed message: 'install failed' for uniqueId: i-1") {
		t.Errorf("failing: %v\n%s", st, strings.Join(c.events(t, "failing"), "\n"))
	}

	c.ok(t, "cloudformation", "create-stack", "--stack-name", "silent", "--template-body", "file://waitcond.yaml", "--parameters", "ParameterKey=Timeout,ParameterValue=1")
	if st := c.settle(t, "silent"); st["StackStatus"] != "ROLLBACK_COMPLETE" ||
		!has(c.events(t, "silent"), "Wait CREATE_FAILED WaitCondition timed out. Received 0 conditions when expecting 2") {
		t.Errorf("silent: %v\n%s", st, strings.Join(c.events(t, "silent"), "\n"))
	}
	if code := c.put(t, handle, map[string]string{"Status": "SUCCESS", "UniqueId": "late"}); code != http.StatusForbidden {
		t.Errorf("a signal to a rolled-back handle: %d", code)
	}
}

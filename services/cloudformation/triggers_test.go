package cloudformation_test

import (
	"encoding/json"
	"strings"
	"testing"
)

// rollbackConfig is a --rollback-configuration watching alarms for
// minutes.
func rollbackConfig(t *testing.T, minutes int, arns ...string) string {
	t.Helper()
	var triggers []map[string]string
	for _, a := range arns {
		triggers = append(triggers, map[string]string{"Arn": a, "Type": "AWS::CloudWatch::Alarm"})
	}
	b, err := json.Marshal(map[string]any{"RollbackTriggers": triggers, "MonitoringTimeInMinutes": minutes})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestRollbackTriggers: an alarm in ALARM during a creation, or during
// the monitoring period after it, rolls the stack back; a quiet alarm
// lets an update through; a missing alarm fails the operation; malformed
// configurations are refused.
func TestRollbackTriggers(t *testing.T) {
	c := start(t)
	c.ok(t, "cloudwatch", "put-metric-alarm", "--alarm-name", "errors", "--namespace", "App", "--metric-name", "Errors",
		"--statistic", "Sum", "--period", "60", "--evaluation-periods", "1", "--threshold", "1", "--comparison-operator", "GreaterThanThreshold")
	arn := c.ok(t, "cloudwatch", "describe-alarms", "--alarm-names", "errors").(map[string]any)["MetricAlarms"].([]any)[0].(map[string]any)["AlarmArn"].(string)
	setAlarm := func(state string) {
		c.ok(t, "cloudwatch", "set-alarm-state", "--alarm-name", "errors", "--state-value", state, "--state-reason", "test")
	}

	setAlarm("ALARM")
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "alarmed", "--template-body", "file://policy.yaml",
		"--rollback-configuration", rollbackConfig(t, 0, arn))
	st := c.settle(t, "alarmed")
	if st["StackStatus"] != "ROLLBACK_COMPLETE" {
		t.Fatalf("alarm during creation: %v\n%s", st, strings.Join(c.events(t, "alarmed"), "\n"))
	}
	evs := c.events(t, "alarmed")
	if !has(evs, "alarmed ROLLBACK_IN_PROGRESS Rollback triggered by alarm "+arn+" in ALARM state") {
		t.Errorf("events: %s", strings.Join(evs, "\n"))
	}
	if out := c.ok(t, "ssm", "get-parameters-by-path", "--path", "/").(map[string]any)["Parameters"].([]any); len(out) != 0 {
		t.Errorf("left over: %v", out)
	}

	// Quiet during the creation, the alarm fires in the monitoring period.
	setAlarm("OK")
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "watched", "--template-body", "file://policy.yaml",
		"--rollback-configuration", rollbackConfig(t, 30, arn))
	for {
		res := c.ok(t, "cloudformation", "describe-stack-resources", "--stack-name", "watched").(map[string]any)["StackResources"].([]any)
		done := 0
		for _, r := range res {
			if r.(map[string]any)["ResourceStatus"] == "CREATE_COMPLETE" {
				done++
			}
		}
		if done == 3 {
			break
		}
	}
	if st := c.stack(t, "watched"); st["StackStatus"] != "CREATE_IN_PROGRESS" {
		t.Fatalf("monitoring: %v", st)
	}
	rc := c.stack(t, "watched")["RollbackConfiguration"].(map[string]any)
	if rc["MonitoringTimeInMinutes"] != float64(30) || rc["RollbackTriggers"].([]any)[0].(map[string]any)["Arn"] != arn {
		t.Errorf("configuration: %v", rc)
	}
	setAlarm("ALARM")
	if st := c.settle(t, "watched"); st["StackStatus"] != "ROLLBACK_COMPLETE" {
		t.Fatalf("alarm while monitoring: %v\n%s", st, strings.Join(c.events(t, "watched"), "\n"))
	}

	// A quiet alarm with no monitoring period lets the operations
	// through; the configuration stays for the next update.
	setAlarm("OK")
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "quiet", "--template-body", "file://policy.yaml",
		"--rollback-configuration", rollbackConfig(t, 0, arn))
	if st := c.settle(t, "quiet"); st["StackStatus"] != "CREATE_COMPLETE" {
		t.Fatalf("quiet: %v", st)
	}
	setAlarm("ALARM")
	c.ok(t, "cloudformation", "update-stack", "--stack-name", "quiet", "--use-previous-template", "--parameters", "ParameterKey=Value,ParameterValue=v2")
	if st := c.settle(t, "quiet"); st["StackStatus"] != "UPDATE_ROLLBACK_COMPLETE" {
		t.Fatalf("update under alarm: %v\n%s", st, strings.Join(c.events(t, "quiet"), "\n"))
	}
	if v := c.ok(t, "ssm", "get-parameter", "--name", "/pol/a").(map[string]any)["Parameter"].(map[string]any)["Value"]; v != "v1" {
		t.Errorf("value after the rollback: %v", v)
	}

	missing := strings.Replace(arn, ":alarm:errors", ":alarm:nope", 1)
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "missing", "--template-body", "file://policy.yaml",
		"--parameters", "ParameterKey=Name,ParameterValue=/pol/m", "--rollback-configuration", rollbackConfig(t, 0, missing))
	if st := c.settle(t, "missing"); st["StackStatus"] != "ROLLBACK_COMPLETE" {
		t.Fatalf("missing alarm: %v", st)
	}

	for _, bad := range []struct{ config, want string }{
		{`{"RollbackTriggers":[{"Arn":"arn:aws:sns:ap-northeast-2:000000000000:topic","Type":"AWS::CloudWatch::Alarm"}]}`, "is not a valid CloudWatch alarm ARN"},
		{`{"RollbackTriggers":[{"Arn":"` + arn + `","Type":"AWS::SNS::Topic"}]}`, "Rollback Trigger type AWS::SNS::Topic is not supported"},
		{rollbackConfig(t, 0, arn, arn+"1", arn+"2", arn+"3", arn+"4", arn+"5"), "Member must have length less than or equal to 5"},
		{rollbackConfig(t, 181, arn), "Member must have value less than or equal to 180"},
	} {
		if _, errOut, ok := c.aws(t, "cloudformation", "create-stack", "--stack-name", "bad", "--template-body", "file://policy.yaml",
			"--rollback-configuration", bad.config); ok || !strings.Contains(errOut, "(ValidationError)") || !strings.Contains(errOut, bad.want) {
			t.Errorf("%s: %s", bad.config, errOut)
		}
	}
}

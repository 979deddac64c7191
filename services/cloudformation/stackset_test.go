package cloudformation_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// awsAs runs the aws CLI as the root of account (a 12-digit access key is
// that account's) in region.
func (c *cloud) awsAs(t *testing.T, account, region string, args ...string) (map[string]any, string, bool) {
	t.Helper()
	cmd := exec.Command("aws", append([]string{"--endpoint-url", c.url, "--output", "json", "--region", region}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + c.home, "LANG=C.UTF-8", "AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ACCESS_KEY_ID=" + account, "AWS_SECRET_ACCESS_KEY=test"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	ok := cmd.Run() == nil
	out := map[string]any{}
	if ok && stdout.Len() > 0 {
		if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
			t.Fatalf("aws %v: %v: %s", args, err, stdout.String())
		}
	}
	return out, stderr.String(), ok
}

const setTemplate = `{
  "Parameters": {"Cidr": {"Type": "String"}, "Env": {"Type": "String", "Default": "dev"}},
  "Resources": {"Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": {"Ref": "Cidr"},
    "Tags": [{"Key": "Env", "Value": {"Ref": "Env"}}]}}},
  "Outputs": {"VpcId": {"Value": {"Ref": "Vpc"}}}
}`

// TestStackSets deploys a self-managed stack set into two accounts and two
// regions with the aws CLI: targets fail with AWS's reason until the
// administration and execution roles exist, then each target gets its
// stack and VPC; an update reaches every stack; deleting the instances
// removes them; a set with instances cannot be deleted.
func TestStackSets(t *testing.T) {
	c := start(t)
	const admin, member = "000000000000", "111111111111"
	must := func(account, region string, args ...string) map[string]any {
		t.Helper()
		out, stderr, ok := c.awsAs(t, account, region, args...)
		if !ok {
			t.Fatalf("aws %v as %s: %s", args, account, stderr)
		}
		return out
	}
	waitOp := func(set, op string) map[string]any {
		t.Helper()
		deadline := time.Now().Add(2 * time.Minute)
		for {
			o := must(admin, region, "cloudformation", "describe-stack-set-operation", "--stack-set-name", set, "--operation-id", op)["StackSetOperation"].(map[string]any)
			if o["Status"] != "RUNNING" {
				if o["Status"] != "SUCCEEDED" {
					t.Logf("operation %s: %v", op, must(admin, region, "cloudformation", "list-stack-set-operation-results",
						"--stack-set-name", set, "--operation-id", op)["Summaries"])
				}
				return o
			}
			if time.Now().After(deadline) {
				t.Fatalf("operation %s still running: %v", op, o)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	vpcs := func(account, region string) []any {
		t.Helper()
		return must(account, region, "ec2", "describe-vpcs", "--filters", "Name=cidr,Values=10.42.0.0/16")["Vpcs"].([]any)
	}

	must(admin, region, "cloudformation", "create-stack-set", "--stack-set-name", "net", "--template-body", setTemplate,
		"--parameters", "ParameterKey=Cidr,ParameterValue=10.42.0.0/16")
	if _, stderr, ok := c.awsAs(t, admin, region, "cloudformation", "create-stack-set", "--stack-set-name", "net", "--template-body", setTemplate); ok || !strings.Contains(stderr, "NameAlreadyExistsException") {
		t.Fatalf("a second set of the same name: %s", stderr)
	}

	// Without the roles every target fails, saying which role is missing.
	op := must(admin, region, "cloudformation", "create-stack-instances", "--stack-set-name", "net",
		"--accounts", admin, "--regions", region)["OperationId"].(string)
	if o := waitOp("net", op); o["Status"] != "FAILED" {
		t.Fatalf("operation without roles: %v", o)
	}
	res := must(admin, region, "cloudformation", "list-stack-set-operation-results", "--stack-set-name", "net", "--operation-id", op)["Summaries"].([]any)
	if r := res[0].(map[string]any); r["Status"] != "FAILED" || !strings.Contains(r["StatusReason"].(string), "AWSCloudFormationStackSetAdministrationRole") {
		t.Fatalf("result without roles: %v", r)
	}
	trust := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudformation.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	must(admin, region, "iam", "create-role", "--role-name", "AWSCloudFormationStackSetAdministrationRole", "--assume-role-policy-document", trust)
	for _, a := range []string{admin, member} {
		must(a, region, "iam", "create-role", "--role-name", "AWSCloudFormationStackSetExecutionRole",
			"--assume-role-policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::`+admin+`:root"},"Action":"sts:AssumeRole"}]}`)
	}

	op = must(admin, region, "cloudformation", "create-stack-instances", "--stack-set-name", "net",
		"--accounts", admin, member, "--regions", region, "us-east-1", "--operation-preferences", "RegionOrder=us-east-1,"+region)["OperationId"].(string)
	if o := waitOp("net", op); o["Status"] != "SUCCEEDED" {
		t.Fatalf("create-stack-instances: %v", o)
	}
	insts := must(admin, region, "cloudformation", "list-stack-instances", "--stack-set-name", "net")["Summaries"].([]any)
	if len(insts) != 4 {
		t.Fatalf("instances: %v", insts)
	}
	for _, i := range insts {
		in := i.(map[string]any)
		if in["Status"] != "CURRENT" || in["StackId"] == nil {
			t.Fatalf("instance: %v", in)
		}
		account, rg := in["Account"].(string), in["Region"].(string)
		if got := vpcs(account, rg); len(got) != 1 {
			t.Fatalf("VPCs of the set in %s %s: %v", account, rg, got)
		}
		st := must(account, rg, "cloudformation", "describe-stacks", "--stack-name", in["StackId"].(string))["Stacks"].([]any)[0].(map[string]any)
		if st["StackStatus"] != "CREATE_COMPLETE" || !strings.HasPrefix(st["StackName"].(string), "StackSet-net-") {
			t.Fatalf("stack of %s %s: %v", account, rg, st)
		}
	}

	op = must(admin, region, "cloudformation", "update-stack-set", "--stack-set-name", "net", "--use-previous-template",
		"--parameters", "ParameterKey=Cidr,UsePreviousValue=true", "ParameterKey=Env,ParameterValue=prod")["OperationId"].(string)
	if o := waitOp("net", op); o["Status"] != "SUCCEEDED" {
		t.Fatalf("update-stack-set: %v", o)
	}
	v := vpcs(member, "us-east-1")[0].(map[string]any)
	if tags, _ := json.Marshal(v["Tags"]); !strings.Contains(string(tags), `"prod"`) {
		t.Fatalf("after the update, the member's VPC is tagged %s", tags)
	}

	if _, stderr, ok := c.awsAs(t, admin, region, "cloudformation", "delete-stack-set", "--stack-set-name", "net"); ok || !strings.Contains(stderr, "StackSetNotEmptyException") {
		t.Fatalf("deleting a set with instances: %s", stderr)
	}
	op = must(admin, region, "cloudformation", "delete-stack-instances", "--stack-set-name", "net",
		"--accounts", admin, member, "--regions", region, "us-east-1", "--no-retain-stacks")["OperationId"].(string)
	if o := waitOp("net", op); o["Status"] != "SUCCEEDED" {
		t.Fatalf("delete-stack-instances: %v", o)
	}
	if got := vpcs(member, "us-east-1"); len(got) != 0 {
		t.Fatalf("the member's VPC outlived its instance: %v", got)
	}
	must(admin, region, "cloudformation", "delete-stack-set", "--stack-set-name", "net")
	if _, stderr, ok := c.awsAs(t, admin, region, "cloudformation", "describe-stack-set", "--stack-set-name", "net"); ok || !strings.Contains(stderr, "StackSetNotFoundException") {
		t.Fatalf("describing a deleted set: %s", stderr)
	}
}

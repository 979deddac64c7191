package cloudformation_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
)

// TestUpdateAndChangeSets makes IAM, S3 and SSM resources (an image id
// read from SSM), previews a subnet's CIDR change in a change set, which
// replaces the subnet when executed, and refuses a change without
// differences.
func TestUpdateAndChangeSets(t *testing.T) {
	c := start(t)
	ctx := context.Background()
	c.ok(t, "ssm", "put-parameter", "--name", "/bts/ami", "--type", "String", "--value", "ami-0e9bfdb247cc8de84")

	if _, errOut, ok := c.aws(t, "cloudformation", "create-stack", "--stack-name", "bts-iam", "--template-body", "file://app-iam.yaml"); ok ||
		!strings.Contains(errOut, "(InsufficientCapabilitiesException) when calling the CreateStack operation: Requires capabilities : [CAPABILITY_IAM]") {
		t.Fatalf("no capabilities: %s", errOut)
	}
	sum := c.ok(t, "cloudformation", "get-template-summary", "--template-body", "file://app-iam.yaml").(map[string]any)
	if sum["Capabilities"].([]any)[0] != "CAPABILITY_IAM" || len(sum["ResourceTypes"].([]any)) != 7 {
		t.Errorf("summary: %v", sum)
	}
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "bts-iam", "--template-body", "file://app-iam.yaml", "--capabilities", "CAPABILITY_IAM")
	st := c.settle(t, "bts-iam")
	if st["StackStatus"] != "CREATE_COMPLETE" {
		t.Fatalf("create: %v\n%s", st, strings.Join(c.events(t, "bts-iam"), "\n"))
	}
	outs := outputs(st)
	if outs["Image"] != "ami-0e9bfdb247cc8de84" {
		t.Errorf("image from SSM: %v", outs)
	}
	for _, p := range st["Parameters"].([]any) {
		if p := p.(map[string]any); p["ParameterKey"] == "Ami" && (p["ParameterValue"] != "/bts/ami" || p["ResolvedValue"] != "ami-0e9bfdb247cc8de84") {
			t.Errorf("the SSM parameter: %v", p)
		}
	}
	role := strings.TrimPrefix(outs["RoleArn"], "arn:aws:iam::000000000000:role/")
	if !strings.HasPrefix(role, "bts-iam-Role-") {
		t.Errorf("role name %q", role)
	}
	c.ok(t, "iam", "get-role-policy", "--role-name", role, "--policy-name", "read-bucket")
	prof := c.ok(t, "iam", "list-instance-profiles-for-role", "--role-name", role).(map[string]any)["InstanceProfiles"].([]any)
	if len(prof) != 1 || prof[0].(map[string]any)["Arn"] != outs["Profile"] {
		t.Errorf("profiles: %v", prof)
	}
	pol := c.ok(t, "s3api", "get-bucket-policy", "--bucket", outs["Bucket"]).(map[string]any)["Policy"].(string)
	if !strings.Contains(pol, outs["RoleArn"]) {
		t.Errorf("bucket policy: %s", pol)
	}
	p := c.ok(t, "ssm", "get-parameter", "--name", "/bts/bucket").(map[string]any)["Parameter"].(map[string]any)
	if p["Value"] != outs["Bucket"] {
		t.Errorf("parameter: %v", p)
	}
	old := c.ok(t, "cloudformation", "describe-stack-resource", "--stack-name", "bts-iam", "--logical-resource-id", "Subnet").(map[string]any)["StackResourceDetail"].(map[string]any)["PhysicalResourceId"].(string)

	// A change set previews the replacement; executing it replaces.
	c.ok(t, "cloudformation", "create-change-set", "--stack-name", "bts-iam", "--change-set-name", "wider", "--use-previous-template",
		"--parameters", "ParameterKey=SubnetCidr,ParameterValue=10.1.2.0/24", "ParameterKey=Ami,UsePreviousValue=true", "--capabilities", "CAPABILITY_IAM")
	c.ok(t, "cloudformation", "wait", "change-set-create-complete", "--stack-name", "bts-iam", "--change-set-name", "wider")
	cs := c.ok(t, "cloudformation", "describe-change-set", "--stack-name", "bts-iam", "--change-set-name", "wider").(map[string]any)
	changes := cs["Changes"].([]any)
	if cs["ExecutionStatus"] != "AVAILABLE" || len(changes) != 1 {
		t.Fatalf("change set: %v", cs)
	}
	rc := changes[0].(map[string]any)["ResourceChange"].(map[string]any)
	if rc["Action"] != "Modify" || rc["LogicalResourceId"] != "Subnet" || rc["Replacement"] != "True" || rc["PhysicalResourceId"] != old {
		t.Errorf("change: %v", rc)
	}
	c.ok(t, "cloudformation", "execute-change-set", "--stack-name", "bts-iam", "--change-set-name", "wider")
	st = c.settle(t, "bts-iam")
	if st["StackStatus"] != "UPDATE_COMPLETE" {
		t.Fatalf("update: %v\n%s", st, strings.Join(c.events(t, "bts-iam"), "\n"))
	}
	evs := c.events(t, "bts-iam")
	for _, want := range []string{"Subnet UPDATE_IN_PROGRESS Requested update requires the creation of a new physical resource; hence creating one.",
		"bts-iam UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "Subnet DELETE_COMPLETE", "bts-iam UPDATE_COMPLETE"} {
		if !has(evs, want) {
			t.Errorf("no event %q in\n%s", want, strings.Join(evs, "\n"))
		}
	}
	now := c.ok(t, "cloudformation", "describe-stack-resource", "--stack-name", "bts-iam", "--logical-resource-id", "Subnet").(map[string]any)["StackResourceDetail"].(map[string]any)["PhysicalResourceId"].(string)
	sn, err := c.ec2.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{SubnetIds: []string{now}})
	if now == old || err != nil || aws.ToString(sn.Subnets[0].CidrBlock) != "10.1.2.0/24" {
		t.Errorf("new subnet %s (was %s): %v", now, old, err)
	}
	if _, err := c.ec2.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{SubnetIds: []string{old}}); err == nil {
		t.Errorf("the replaced subnet %s is still there", old)
	}
	if _, errOut, ok := c.aws(t, "cloudformation", "update-stack", "--stack-name", "bts-iam", "--use-previous-template", "--capabilities", "CAPABILITY_IAM",
		"--parameters", "ParameterKey=SubnetCidr,UsePreviousValue=true", "ParameterKey=Ami,UsePreviousValue=true"); ok || !strings.Contains(errOut, "No updates are to be performed.") {
		t.Errorf("an update without changes: %s", errOut)
	}

	id := st["StackId"].(string)
	c.ok(t, "cloudformation", "delete-stack", "--stack-name", "bts-iam")
	if st := c.settle(t, id); st["StackStatus"] != "DELETE_COMPLETE" {
		t.Fatalf("delete: %v\n%s", st, strings.Join(c.events(t, "bts-iam"), "\n"))
	}
	if _, _, ok := c.aws(t, "iam", "get-role", "--role-name", role); ok {
		t.Error("the role outlived its stack")
	}
	if _, _, ok := c.aws(t, "s3api", "head-bucket", "--bucket", outs["Bucket"]); ok {
		t.Error("the bucket outlived its stack")
	}
}

// TestTemplateErrors checks that the API answers AWS's texts.
func TestTemplateErrors(t *testing.T) {
	c := start(t)
	for body, want := range map[string]string{
		"Resources:\n  A: {Type: AWS::EC2::VPC, DependsOn: B}\n  B: {Type: AWS::EC2::VPC, DependsOn: A}\n": "Circular dependency between resources: [A, B]",
		"Resources:\n  A:\n    Type: AWS::EC2::Subnet\n    Properties:\n      VpcId: !Ref Vpc\n":           "Template format error: Unresolved resource dependencies [Vpc] in the Resources block of the template",
		"Resources: {}\n": "Template format error: At least one Resources member must be defined.",
	} {
		_, errOut, ok := c.aws(t, "cloudformation", "validate-template", "--template-body", body)
		if ok || !strings.Contains(errOut, "(ValidationError) when calling the ValidateTemplate operation: "+want) {
			t.Errorf("%q: %s", body, errOut)
		}
	}
	if _, errOut, ok := c.aws(t, "cloudformation", "describe-stacks", "--stack-name", "nope"); ok || !strings.Contains(errOut, "Stack with id nope does not exist") {
		t.Errorf("describe a missing stack: %s", errOut)
	}
	v := c.ok(t, "cloudformation", "validate-template", "--template-body", "file://net.yaml").(map[string]any)
	if len(v["Parameters"].([]any)) != 6 || v["Description"] != "HYBRID-BTS network (seed 003, section 5.7)" {
		t.Errorf("validate: %v", v)
	}
	// An unsupported type fails the stack, naming it.
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "odd", "--template-body", "Resources:\n  Q: {Type: 'AWS::SQS::Queue'}\n")
	st := c.settle(t, "odd")
	if st["StackStatus"] != "ROLLBACK_COMPLETE" || !has(c.events(t, "odd"), "Q CREATE_FAILED Resource type AWS::SQS::Queue is not supported by cloudbox") {
		t.Errorf("unsupported type: %v %v", st, c.events(t, "odd"))
	}
}

// TestDeployFromS3: `aws cloudformation deploy --s3-bucket` uploads the
// template and passes its URL; the stack reads it through S3.
func TestDeployFromS3(t *testing.T) {
	c := start(t)
	c.ok(t, "s3", "mb", "s3://bts-templates")
	c.ok(t, "cloudformation", "deploy", "--template-file", "broken.yaml", "--stack-name", "from-s3", "--s3-bucket", "bts-templates",
		"--s3-prefix", "net", "--no-execute-changeset")
	sets := c.ok(t, "cloudformation", "list-change-sets", "--stack-name", "from-s3").(map[string]any)["Summaries"].([]any)
	if len(sets) != 1 {
		t.Fatalf("change sets: %v", sets)
	}
	cs := sets[0].(map[string]any)
	if cs["Status"] != "CREATE_COMPLETE" || cs["ExecutionStatus"] != "AVAILABLE" {
		t.Errorf("change set: %v", cs)
	}
	got := c.ok(t, "cloudformation", "get-template", "--stack-name", "from-s3", "--change-set-name", cs["ChangeSetName"].(string)).(map[string]any)
	want, _ := os.ReadFile("testdata/broken.yaml")
	if got["TemplateBody"] != string(want) {
		t.Errorf("template: %v", got)
	}
	if objs := c.ok(t, "s3api", "list-objects-v2", "--bucket", "bts-templates", "--prefix", "net/").(map[string]any)["Contents"].([]any); len(objs) != 1 {
		t.Errorf("uploaded: %v", objs)
	}
	if st := c.stack(t, "from-s3"); st["StackStatus"] != "REVIEW_IN_PROGRESS" {
		t.Errorf("stack: %v", st)
	}
}

// TestNestedStack: a parent stack makes a child stack from a template in
// S3, reads its outputs, and deletes it with itself.
func TestNestedStack(t *testing.T) {
	c := start(t)
	c.ok(t, "s3", "mb", "s3://bts-nested")
	c.ok(t, "s3", "cp", "child.yaml", "s3://bts-nested/child.yaml")
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "parent", "--template-body", "file://parent.yaml",
		"--parameters", "ParameterKey=ChildURL,ParameterValue=https://bts-nested.s3.amazonaws.com/child.yaml")
	st := c.settle(t, "parent")
	if st["StackStatus"] != "CREATE_COMPLETE" {
		t.Fatalf("create: %v\n%s", st, strings.Join(c.events(t, "parent"), "\n"))
	}
	outs := outputs(st)
	child := c.stack(t, outs["ChildId"])
	if outs["ChildName"] != "/bts/nested/p" || child["StackStatus"] != "CREATE_COMPLETE" || !strings.HasPrefix(child["StackName"].(string), "parent-Child-") {
		t.Errorf("child: %v %v", outs, child)
	}
	if p := c.ok(t, "ssm", "get-parameter", "--name", "/bts/parent").(map[string]any)["Parameter"].(map[string]any); p["Value"] != "/bts/nested/p" {
		t.Errorf("parent parameter: %v", p)
	}
	id := st["StackId"].(string)
	c.ok(t, "cloudformation", "delete-stack", "--stack-name", "parent")
	if st := c.settle(t, id); st["StackStatus"] != "DELETE_COMPLETE" {
		t.Fatalf("delete: %v", st)
	}
	if st := c.stack(t, outs["ChildId"]); st["StackStatus"] != "DELETE_COMPLETE" {
		t.Errorf("child after its parent: %v", st)
	}
}

// TestUpdateInPlace: a security group's new rule is an update without
// replacement, previewed so by a change set.
func TestUpdateInPlace(t *testing.T) {
	c := start(t)
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "web-sg", "--template-body", "file://group.yaml")
	st := c.settle(t, "web-sg")
	if st["StackStatus"] != "CREATE_COMPLETE" {
		t.Fatalf("create: %v\n%s", st, strings.Join(c.events(t, "web-sg"), "\n"))
	}
	group := outputs(st)["Group"]
	c.ok(t, "cloudformation", "create-change-set", "--stack-name", "web-sg", "--change-set-name", "https", "--use-previous-template",
		"--parameters", "ParameterKey=Https,ParameterValue=yes")
	cs := c.ok(t, "cloudformation", "describe-change-set", "--stack-name", "web-sg", "--change-set-name", "https").(map[string]any)
	rc := cs["Changes"].([]any)[0].(map[string]any)["ResourceChange"].(map[string]any)
	if rc["LogicalResourceId"] != "Web" || rc["Replacement"] != "False" {
		t.Fatalf("change: %v", rc)
	}
	c.ok(t, "cloudformation", "execute-change-set", "--stack-name", "web-sg", "--change-set-name", "https")
	st = c.settle(t, "web-sg")
	if st["StackStatus"] != "UPDATE_COMPLETE" || outputs(st)["Group"] != group {
		t.Fatalf("update: %v\n%s", st, strings.Join(c.events(t, "web-sg"), "\n"))
	}
	perms := c.ok(t, "ec2", "describe-security-groups", "--group-ids", group).(map[string]any)["SecurityGroups"].([]any)[0].(map[string]any)["IpPermissions"].([]any)
	if len(perms) != 2 {
		t.Errorf("rules: %v", perms)
	}
	c.ok(t, "cloudformation", "update-stack", "--stack-name", "web-sg", "--use-previous-template", "--parameters", "ParameterKey=Https,ParameterValue=no")
	if st := c.settle(t, "web-sg"); st["StackStatus"] != "UPDATE_COMPLETE" {
		t.Fatalf("second update: %v", st)
	}
	perms = c.ok(t, "ec2", "describe-security-groups", "--group-ids", group).(map[string]any)["SecurityGroups"].([]any)[0].(map[string]any)["IpPermissions"].([]any)
	if len(perms) != 1 || perms[0].(map[string]any)["FromPort"] != float64(80) {
		t.Errorf("rules after removing one: %v", perms)
	}
}

package cloudformation_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cloudbox/cloudbox/daemon"
)

const region = "ap-northeast-2"

// cloud is an in-process cloudbox (control plane only) reached by the aws
// CLI v1 and aws-sdk-go-v2.
type cloud struct {
	url  string
	home string
	ec2  *ec2sdk.Client
}

func start(t *testing.T) *cloud {
	t.Helper()
	path, err := exec.LookPath("aws")
	if err != nil {
		t.Skip("aws CLI not installed")
	}
	if v, _ := exec.Command(path, "--version").CombinedOutput(); !strings.HasPrefix(string(v), "aws-cli/1.") {
		t.Skipf("%s is not the aws CLI v1: %s", path, v)
	}
	d, err := daemon.New(daemon.Config{Ephemeral: true, Dataplane: "off"})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	url := "http://" + ln.Addr().String()
	return &cloud{url: url, home: t.TempDir(), ec2: ec2sdk.New(ec2sdk.Options{Region: region, BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})}
}

// aws runs the aws CLI; it returns stdout, stderr and whether it
// succeeded.
func (c *cloud) aws(t *testing.T, args ...string) (string, string, bool) {
	t.Helper()
	cmd := exec.Command("aws", append([]string{"--endpoint-url", c.url, "--output", "json"}, args...)...)
	cmd.Dir = "testdata"
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + c.home, "LANG=C.UTF-8", "AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_DEFAULT_REGION=" + region,
		// What the CLI calls without --endpoint-url (deploy's S3 uploads) comes here too.
		"AWS_ENDPOINT_URL=" + c.url}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err == nil
}

// ok runs the aws CLI, which must succeed, and decodes its output.
func (c *cloud) ok(t *testing.T, args ...string) any {
	t.Helper()
	out, errOut, ok := c.aws(t, args...)
	if !ok {
		t.Fatalf("aws %s: %s%s", strings.Join(args, " "), out, errOut)
	}
	var v any
	if strings.TrimSpace(out) != "" && json.Unmarshal([]byte(out), &v) != nil {
		return out
	}
	return v
}

// stack is describe-stacks' answer for one stack.
func (c *cloud) stack(t *testing.T, name string) map[string]any {
	t.Helper()
	return c.ok(t, "cloudformation", "describe-stacks", "--stack-name", name).(map[string]any)["Stacks"].([]any)[0].(map[string]any)
}

// settle waits until the stack is in no *_IN_PROGRESS status (each look
// is one describe-stacks) and returns it.
func (c *cloud) settle(t *testing.T, name string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		st := c.stack(t, name)
		if !strings.HasSuffix(st["StackStatus"].(string), "_IN_PROGRESS") {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("stack %s still %s", name, st["StackStatus"])
		}
	}
}

func outputs(st map[string]any) map[string]string {
	m := map[string]string{}
	for _, o := range st["Outputs"].([]any) {
		o := o.(map[string]any)
		m[o["OutputKey"].(string)] = o["OutputValue"].(string)
	}
	return m
}

// events returns the stack's events as "logical status reason" lines,
// oldest first.
func (c *cloud) events(t *testing.T, name string) []string {
	t.Helper()
	evs := c.ok(t, "cloudformation", "describe-stack-events", "--stack-name", name).(map[string]any)["StackEvents"].([]any)
	var out []string
	for i := len(evs) - 1; i >= 0; i-- {
		e := evs[i].(map[string]any)
		line := e["LogicalResourceId"].(string) + " " + e["ResourceStatus"].(string)
		if r, ok := e["ResourceStatusReason"].(string); ok {
			line += " " + r
		}
		out = append(out, line)
	}
	return out
}

func has(lines []string, want string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, want) {
			return true
		}
	}
	return false
}

// TestSeedStacks deploys seed 003's network stack with `aws cloudformation
// deploy` and an application stack importing its exports, checks what
// they made through EC2's API, refuses to delete the exporting stack
// while it is imported, then deletes both.
func TestSeedStacks(t *testing.T) {
	c := start(t)
	ctx := context.Background()
	c.ok(t, "ec2", "create-key-pair", "--key-name", "bts-key")

	if out, errOut, ok := c.aws(t, "cloudformation", "deploy", "--template-file", "net.yaml", "--stack-name", "bts-net",
		"--parameter-overrides", "NatKey=bts-key"); !ok || !strings.Contains(out, "Successfully created/updated stack - bts-net") {
		t.Fatalf("deploy: %s%s\nevents: %v", out, errOut, c.events(t, "bts-net"))
	}
	c.ok(t, "cloudformation", "wait", "stack-create-complete", "--stack-name", "bts-net")
	// The same template again is no change.
	if out, errOut, ok := c.aws(t, "cloudformation", "deploy", "--template-file", "net.yaml", "--stack-name", "bts-net",
		"--no-fail-on-empty-changeset"); !ok || !strings.Contains(out, "No changes to deploy. Stack bts-net is up to date") {
		t.Errorf("deploying again: %s%s", out, errOut)
	}
	net := c.stack(t, "bts-net")
	if net["StackStatus"] != "CREATE_COMPLETE" || net["ChangeSetId"] == nil {
		t.Fatalf("net stack: %v", net)
	}
	outs := outputs(net)
	q := c.ok(t, "cloudformation", "describe-stacks", "--stack-name", "bts-net", "--query", "Stacks[0].Outputs").([]any)
	if len(q) != 8 {
		t.Fatalf("outputs: %v", q)
	}
	evs := c.events(t, "bts-net")
	for _, want := range []string{"bts-net REVIEW_IN_PROGRESS User Initiated", "bts-net CREATE_IN_PROGRESS User Initiated",
		"BTSVPC CREATE_IN_PROGRESS", "BTSVPC CREATE_IN_PROGRESS Resource creation Initiated", "BTSVPC CREATE_COMPLETE",
		"NATInstance1 CREATE_COMPLETE", "bts-net CREATE_COMPLETE"} {
		if !has(evs, want) {
			t.Errorf("no event %q in %v", want, evs)
		}
	}

	// The network as EC2 has it.
	vpcs, err := c.ec2.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{VpcIds: []string{outs["VPC"]}})
	if err != nil || len(vpcs.Vpcs) != 1 || aws.ToString(vpcs.Vpcs[0].CidrBlock) != "10.0.0.0/16" || outs["VPCCidr"] != "10.0.0.0/16" {
		t.Fatalf("vpc: %v %+v", err, vpcs)
	}
	zones := map[string]string{"Public1": region + "a", "Public2": region + "c", "Private1": region + "a", "Private2": region + "c"}
	for out, zone := range zones {
		sn, err := c.ec2.DescribeSubnets(ctx, &ec2sdk.DescribeSubnetsInput{SubnetIds: []string{outs[out]}})
		if err != nil || len(sn.Subnets) != 1 {
			t.Fatalf("%s: %v", out, err)
		}
		s := sn.Subnets[0]
		if aws.ToString(s.AvailabilityZone) != zone || aws.ToString(s.VpcId) != outs["VPC"] ||
			aws.ToBool(s.MapPublicIpOnLaunch) != strings.HasPrefix(out, "Public") {
			t.Errorf("%s: %+v", out, s)
		}
	}
	rts, err := c.ec2.DescribeRouteTables(ctx, &ec2sdk.DescribeRouteTablesInput{Filters: []ec2types.Filter{
		{Name: aws.String("association.subnet-id"), Values: []string{outs["Private1"]}}}})
	if err != nil || len(rts.RouteTables) != 1 {
		t.Fatalf("private route table: %v %+v", err, rts)
	}
	var nat string
	for _, r := range rts.RouteTables[0].Routes {
		if aws.ToString(r.DestinationCidrBlock) == "0.0.0.0/0" {
			nat = aws.ToString(r.InstanceId)
		}
	}
	inst, err := c.ec2.DescribeInstances(ctx, &ec2sdk.DescribeInstancesInput{InstanceIds: []string{nat}})
	if err != nil || len(inst.Reservations) != 1 {
		t.Fatalf("NAT instance %q: %v", nat, err)
	}
	ni := inst.Reservations[0].Instances[0]
	if aws.ToBool(ni.SourceDestCheck) || aws.ToString(ni.KeyName) != "bts-key" || aws.ToString(ni.SubnetId) != outs["Public1"] ||
		aws.ToString(ni.PublicIpAddress) != outs["NATPublicIp"] {
		t.Errorf("NAT instance: %+v", ni)
	}
	sgs, err := c.ec2.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{GroupIds: []string{outs["WebSG"]}})
	if err != nil || len(sgs.SecurityGroups[0].IpPermissions) != 2 {
		t.Fatalf("web group: %v %+v", err, sgs)
	}
	exports := c.ok(t, "cloudformation", "list-exports").(map[string]any)["Exports"].([]any)
	if len(exports) != 7 {
		t.Errorf("exports: %v", exports)
	}

	// The application stack imports the network.
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "bts-app", "--template-body", "file://app.yaml")
	c.ok(t, "cloudformation", "wait", "stack-create-complete", "--stack-name", "bts-app")
	app := outputs(c.stack(t, "bts-app"))
	if app["WebAZ"] != region+"a" || app["WebPrivateIp"] == "" {
		t.Errorf("app outputs: %v", app)
	}
	web, err := c.ec2.DescribeInstances(ctx, &ec2sdk.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("private-ip-address"), Values: []string{app["WebPrivateIp"]}}}})
	if err != nil || len(web.Reservations) != 1 {
		t.Fatalf("web instance: %v", err)
	}
	wi := web.Reservations[0].Instances[0]
	if aws.ToString(wi.SubnetId) != outs["Private1"] || len(wi.SecurityGroups) != 2 {
		t.Errorf("web instance: %+v", wi)
	}
	ud, err := c.ec2.DescribeInstanceAttribute(ctx, &ec2sdk.DescribeInstanceAttributeInput{InstanceId: wi.InstanceId, Attribute: ec2types.InstanceAttributeNameUserData})
	if err != nil {
		t.Fatal(err)
	}
	script, _ := base64.StdEncoding.DecodeString(aws.ToString(ud.UserData.Value))
	if string(script) != "#!/bin/bash\necho \"web of bts-app in "+region+"\" > /tmp/where\n" {
		t.Errorf("user data: %q", script)
	}
	imports := c.ok(t, "cloudformation", "list-imports", "--export-name", "bts-net-VPC").(map[string]any)["Imports"].([]any)
	if len(imports) != 1 || imports[0] != "bts-app" {
		t.Errorf("imports: %v", imports)
	}

	// The exporting stack cannot go first.
	c.ok(t, "cloudformation", "delete-stack", "--stack-name", "bts-net")
	if out, errOut, ok := c.aws(t, "cloudformation", "wait", "stack-delete-complete", "--stack-name", "bts-net"); ok {
		t.Fatalf("deleting an imported stack went through: %s%s", out, errOut)
	}
	st := c.settle(t, "bts-net")
	if st["StackStatus"] != "DELETE_FAILED" || !strings.HasPrefix(st["StackStatusReason"].(string), "Export bts-net-") ||
		!strings.HasSuffix(st["StackStatusReason"].(string), " cannot be deleted as it is in use by bts-app") {
		t.Fatalf("net stack after delete: %v", st)
	}
	if _, err := c.ec2.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{VpcIds: []string{outs["VPC"]}}); err != nil {
		t.Fatalf("the refused deletion deleted the VPC: %v", err)
	}

	c.ok(t, "cloudformation", "delete-stack", "--stack-name", "bts-app")
	c.ok(t, "cloudformation", "wait", "stack-delete-complete", "--stack-name", "bts-app")
	c.ok(t, "cloudformation", "delete-stack", "--stack-name", "bts-net")
	if _, errOut, ok := c.aws(t, "cloudformation", "wait", "stack-delete-complete", "--stack-name", "bts-net"); !ok {
		t.Fatalf("deleting the network: %s\n%s", errOut, strings.Join(c.events(t, "bts-net"), "\n"))
	}
	if _, err := c.ec2.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{VpcIds: []string{outs["VPC"]}}); err == nil {
		t.Errorf("the VPC outlived its stack")
	}
	left, err := c.ec2.DescribeInstances(ctx, &ec2sdk.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("instance-state-name"), Values: []string{"pending", "running", "stopping", "stopped"}}}})
	if err != nil || len(left.Reservations) != 0 {
		t.Errorf("instances left: %v %+v", err, left.Reservations)
	}
}

// TestRollback creates a stack whose subnet cannot be made: the stack
// rolls back with AWS's events and leaves nothing behind.
func TestRollback(t *testing.T) {
	c := start(t)
	ctx := context.Background()
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "broken", "--template-body", "file://broken.yaml")
	if _, _, ok := c.aws(t, "cloudformation", "wait", "stack-create-complete", "--stack-name", "broken"); ok {
		t.Fatal("a stack with an impossible subnet was created")
	}
	st := c.settle(t, "broken")
	if st["StackStatus"] != "ROLLBACK_COMPLETE" {
		t.Fatalf("status: %v", st)
	}
	evs := c.events(t, "broken")
	for _, want := range []string{"broken ROLLBACK_IN_PROGRESS The following resource(s) failed to create: [Outside]. Rollback requested by user.",
		"Outside CREATE_FAILED Resource handler returned message:", "Vpc DELETE_COMPLETE", "broken ROLLBACK_COMPLETE"} {
		if !has(evs, want) {
			t.Errorf("no event %q in\n%s", want, strings.Join(evs, "\n"))
		}
	}
	vpcs, err := c.ec2.DescribeVpcs(ctx, &ec2sdk.DescribeVpcsInput{Filters: []ec2types.Filter{{Name: aws.String("tag:Name"), Values: []string{"broken-vpc"}}}})
	if err != nil || len(vpcs.Vpcs) != 0 {
		t.Errorf("left behind: %v %+v", err, vpcs.Vpcs)
	}
	sgs, err := c.ec2.DescribeSecurityGroups(ctx, &ec2sdk.DescribeSecurityGroupsInput{Filters: []ec2types.Filter{{Name: aws.String("description"), Values: []string{"made, then rolled back"}}}})
	if err != nil || len(sgs.SecurityGroups) != 0 {
		t.Errorf("left behind: %v %+v", err, sgs.SecurityGroups)
	}
	// A rolled back stack can only be deleted.
	if _, errOut, ok := c.aws(t, "cloudformation", "update-stack", "--stack-name", "broken", "--template-body", "file://broken.yaml"); ok ||
		!strings.Contains(errOut, "is in ROLLBACK_COMPLETE state and can not be updated.") {
		t.Errorf("update of a rolled back stack: %s", errOut)
	}
	c.ok(t, "cloudformation", "delete-stack", "--stack-name", "broken")
	c.ok(t, "cloudformation", "wait", "stack-delete-complete", "--stack-name", "broken")
}

// TestDrift: a security group changed by hand shows MODIFIED with the
// property difference; a parameter deleted by hand shows DELETED.
func TestDrift(t *testing.T) {
	c := start(t)
	c.ok(t, "ec2", "create-key-pair", "--key-name", "bts-key")
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "bts-net", "--template-body", "file://net.yaml", "--parameters", "ParameterKey=NatKey,ParameterValue=bts-key")
	if st := c.settle(t, "bts-net"); st["StackStatus"] != "CREATE_COMPLETE" {
		t.Fatalf("create: %v", st)
	}
	id := c.ok(t, "cloudformation", "detect-stack-drift", "--stack-name", "bts-net").(map[string]any)["StackDriftDetectionId"].(string)
	status := c.ok(t, "cloudformation", "describe-stack-drift-detection-status", "--stack-drift-detection-id", id).(map[string]any)
	if status["StackDriftStatus"] != "IN_SYNC" {
		t.Fatalf("before any change: %v\n%v", status, c.ok(t, "cloudformation", "describe-stack-resource-drifts", "--stack-name", "bts-net"))
	}
	web := outputs(c.stack(t, "bts-net"))["WebSG"]
	c.ok(t, "ec2", "authorize-security-group-ingress", "--group-id", web, "--protocol", "tcp", "--port", "443", "--cidr", "0.0.0.0/0")

	id = c.ok(t, "cloudformation", "detect-stack-drift", "--stack-name", "bts-net").(map[string]any)["StackDriftDetectionId"].(string)
	status = c.ok(t, "cloudformation", "describe-stack-drift-detection-status", "--stack-drift-detection-id", id).(map[string]any)
	if status["StackDriftStatus"] != "DRIFTED" || status["DriftedStackResourceCount"] != float64(1) {
		t.Errorf("after a rule by hand: %v", status)
	}
	drifts := c.ok(t, "cloudformation", "describe-stack-resource-drifts", "--stack-name", "bts-net", "--stack-resource-drift-status-filters", "MODIFIED").(map[string]any)["StackResourceDrifts"].([]any)
	if len(drifts) != 1 {
		t.Fatalf("drifts: %v", drifts)
	}
	d := drifts[0].(map[string]any)
	diffs := d["PropertyDifferences"].([]any)
	if d["LogicalResourceId"] != "WebSG" || len(diffs) != 1 {
		t.Fatalf("drift: %v", d)
	}
	diff := diffs[0].(map[string]any)
	if diff["DifferenceType"] != "ADD" || !strings.HasPrefix(diff["PropertyPath"].(string), "/SecurityGroupIngress/") || !strings.Contains(diff["ActualValue"].(string), `"FromPort":"443"`) {
		t.Errorf("difference: %v", diff)
	}
	if st := c.stack(t, "bts-net"); st["DriftInformation"].(map[string]any)["StackDriftStatus"] != "DRIFTED" {
		t.Errorf("stack drift information: %v", st["DriftInformation"])
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

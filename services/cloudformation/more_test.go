package cloudformation_test

import (
	"strings"
	"testing"
)

// TestMoreTypes makes network ACLs, an elastic address on an instance, a
// peering accepted within the account, an IAM group, user and key, DNS
// records, a health check and a certificate validated through the stack's
// own hosted zone, then deletes them.
func TestMoreTypes(t *testing.T) {
	c := start(t)
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "bts-more", "--template-body", "file://more.yaml", "--capabilities", "CAPABILITY_IAM")
	st := c.settle(t, "bts-more")
	if st["StackStatus"] != "CREATE_COMPLETE" {
		t.Fatalf("create: %v\n%s", st, strings.Join(c.events(t, "bts-more"), "\n"))
	}
	outs := outputs(st)
	pc := c.ok(t, "ec2", "describe-vpc-peering-connections", "--vpc-peering-connection-ids", outs["Peering"]).(map[string]any)["VpcPeeringConnections"].([]any)[0].(map[string]any)
	if pc["Status"].(map[string]any)["Code"] != "active" {
		t.Errorf("peering: %v", pc)
	}
	cert := c.ok(t, "acm", "describe-certificate", "--certificate-arn", outs["Cert"]).(map[string]any)["Certificate"].(map[string]any)
	if cert["Status"] != "ISSUED" {
		t.Errorf("certificate: %v", cert)
	}
	groups := c.ok(t, "iam", "list-groups-for-user", "--user-name", outs["User"]).(map[string]any)["Groups"].([]any)
	keys := c.ok(t, "iam", "list-access-keys", "--user-name", outs["User"]).(map[string]any)["AccessKeyMetadata"].([]any)
	if len(groups) != 1 || len(keys) != 1 || keys[0].(map[string]any)["AccessKeyId"] != outs["Key"] || len(outs["Secret"]) != 40 {
		t.Errorf("user: %v %v %v", groups, keys, outs)
	}
	addr := c.ok(t, "ec2", "describe-addresses", "--public-ips", outs["Ip"]).(map[string]any)["Addresses"].([]any)[0].(map[string]any)
	if addr["InstanceId"] == nil {
		t.Errorf("address: %v", addr)
	}
	res := map[string]string{}
	for _, r := range c.ok(t, "cloudformation", "list-stack-resources", "--stack-name", "bts-more").(map[string]any)["StackResourceSummaries"].([]any) {
		r := r.(map[string]any)
		res[r["LogicalResourceId"].(string)] = r["PhysicalResourceId"].(string)
	}
	acls := c.ok(t, "ec2", "describe-network-acls", "--network-acl-ids", res["Acl"]).(map[string]any)["NetworkAcls"].([]any)[0].(map[string]any)
	if len(acls["Associations"].([]any)) != 1 || len(acls["Entries"].([]any)) < 2 {
		t.Errorf("acl: %v", acls)
	}
	hc := c.ok(t, "route53", "get-health-check", "--health-check-id", outs["Check"]).(map[string]any)["HealthCheck"].(map[string]any)["HealthCheckConfig"].(map[string]any)
	if hc["IPAddress"] != outs["Ip"] {
		t.Errorf("health check: %v", hc)
	}

	pem := c.ok(t, "ssm", "get-parameter", "--name", "/ec2/keypair/"+outs["KeyId"], "--with-decryption").(map[string]any)["Parameter"].(map[string]any)
	if !strings.HasPrefix(pem["Value"].(string), "-----BEGIN") || pem["Type"] != "SecureString" {
		t.Errorf("the key pair's private key: %v", pem)
	}

	id := st["StackId"].(string)
	c.ok(t, "cloudformation", "delete-stack", "--stack-name", "bts-more")
	if st := c.settle(t, id); st["StackStatus"] != "DELETE_COMPLETE" {
		t.Fatalf("delete: %v\n%s", st, strings.Join(c.events(t, id), "\n"))
	}
	if _, _, ok := c.aws(t, "ssm", "get-parameter", "--name", "/ec2/keypair/"+outs["KeyId"]); ok {
		t.Error("the private key outlived its key pair")
	}
	if _, _, ok := c.aws(t, "iam", "get-user", "--user-name", outs["User"]); ok {
		t.Error("the user outlived its stack")
	}
}

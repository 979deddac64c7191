package cloudformation_test

import (
	"strings"
	"testing"
)

// TestDataStack makes the seed's data tier: an RDS MySQL instance with
// its subnet and parameter groups, whose endpoint an output reads with
// !GetAtt, and an ElastiCache Redis replication group.
func TestDataStack(t *testing.T) {
	c := start(t)
	c.ok(t, "cloudformation", "create-stack", "--stack-name", "bts-data", "--template-body", "file://data.yaml")
	st := c.settle(t, "bts-data")
	if st["StackStatus"] != "CREATE_COMPLETE" {
		t.Fatalf("create: %v\n%s", st, strings.Join(c.events(t, "bts-data"), "\n"))
	}
	outs := outputs(st)
	db := c.ok(t, "rds", "describe-db-instances", "--db-instance-identifier", outs["DB"]).(map[string]any)["DBInstances"].([]any)[0].(map[string]any)
	ep := db["Endpoint"].(map[string]any)
	if db["DBInstanceStatus"] != "available" || ep["Address"] != outs["DBEndpoint"] || outs["DBPort"] != "3306" ||
		db["DBParameterGroups"].([]any)[0].(map[string]any)["DBParameterGroupName"] == "default.mysql8.0" {
		t.Errorf("DB instance: %v %v", db, outs)
	}
	// SourceDBInstanceIdentifier makes a read replica of it.
	rep := c.ok(t, "rds", "describe-db-instances", "--db-instance-identifier", outs["Replica"]).(map[string]any)["DBInstances"].([]any)[0].(map[string]any)
	if rep["ReadReplicaSourceDBInstanceIdentifier"] != outs["DB"] || rep["DBInstanceStatus"] != "available" {
		t.Errorf("replica: %v", rep)
	}
	if !strings.HasSuffix(outs["Redis"], ":6379") || !strings.Contains(outs["Redis"], ".cache.amazonaws.com") {
		t.Errorf("redis: %v", outs)
	}
	if p := st["Parameters"].([]any)[0].(map[string]any); p["ParameterValue"] != "****" {
		t.Errorf("a NoEcho parameter: %v", p)
	}
	evs, _, _ := c.aws(t, "cloudformation", "describe-stack-events", "--stack-name", "bts-data")
	if strings.Contains(evs, "bts-password-1") || !strings.Contains(evs, `\"MasterUserPassword\":\"****\"`) {
		t.Errorf("the password in the events: %s", evs)
	}
	id := st["StackId"].(string)
	c.ok(t, "cloudformation", "delete-stack", "--stack-name", "bts-data")
	if st := c.settle(t, id); st["StackStatus"] != "DELETE_COMPLETE" {
		t.Fatalf("delete: %v\n%s", st, strings.Join(c.events(t, id), "\n"))
	}
	if dbs := c.ok(t, "rds", "describe-db-instances").(map[string]any)["DBInstances"].([]any); len(dbs) != 0 {
		t.Errorf("DB instances left: %v", dbs)
	}
}

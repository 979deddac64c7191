package rds_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
)

func TestSubnetGroups(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	out := e.must(t, "create-db-subnet-group", "--db-subnet-group-name", "BTS_DB_SG", "--db-subnet-group-description", "bts db",
		"--subnet-ids", n.privateA, n.privateC, "--tags", "Key=team,Value=bts")
	g := out["DBSubnetGroup"].(map[string]any)
	if g["DBSubnetGroupName"] != "bts_db_sg" || g["VpcId"] != n.vpc || g["SubnetGroupStatus"] != "Complete" ||
		g["DBSubnetGroupArn"] != "arn:aws:rds:"+region+":000000000000:subgrp:bts_db_sg" {
		t.Fatalf("created: %v", g)
	}
	subnets := g["Subnets"].([]any)
	if len(subnets) != 2 || subnets[1].(map[string]any)["SubnetAvailabilityZone"].(map[string]any)["Name"] != region+"c" {
		t.Fatalf("subnets: %v", subnets)
	}
	e.fails(t, "DBSubnetGroupAlreadyExists", "The DB subnet group 'bts_db_sg' already exists.",
		"create-db-subnet-group", "--db-subnet-group-name", "bts_db_sg", "--db-subnet-group-description", "x", "--subnet-ids", n.privateA, n.privateC)
	e.fails(t, "DBSubnetGroupDoesNotCoverEnoughAZs", "Current AZ coverage: "+region+"a. Add subnets to cover at least 2 AZs.",
		"create-db-subnet-group", "--db-subnet-group-name", "one-zone", "--db-subnet-group-description", "x", "--subnet-ids", n.privateA, n.otherZoneA)
	e.fails(t, "InvalidSubnet", "Some input subnets in :[subnet-00000000000000000] are invalid.",
		"create-db-subnet-group", "--db-subnet-group-name", "bad", "--db-subnet-group-description", "x", "--subnet-ids", n.privateA, "subnet-00000000000000000")

	out = e.must(t, "modify-db-subnet-group", "--db-subnet-group-name", "bts_db_sg", "--subnet-ids", n.privateA, n.otherZoneA, n.privateC,
		"--db-subnet-group-description", "three")
	if g := out["DBSubnetGroup"].(map[string]any); len(g["Subnets"].([]any)) != 3 || g["DBSubnetGroupDescription"] != "three" {
		t.Fatalf("modified: %v", g)
	}
	e.fails(t, "DBSubnetGroupDoesNotCoverEnoughAZs", "Current AZ coverage", "modify-db-subnet-group", "--db-subnet-group-name", "bts_db_sg", "--subnet-ids", n.privateA)
	out = e.must(t, "describe-db-subnet-groups")
	if gs := out["DBSubnetGroups"].([]any); len(gs) != 1 || len(gs[0].(map[string]any)["Subnets"].([]any)) != 3 {
		t.Fatalf("described: %v", out)
	}
	tags := e.must(t, "list-tags-for-resource", "--resource-name", "arn:aws:rds:"+region+":000000000000:subgrp:bts_db_sg")
	if fmt.Sprint(tags["TagList"]) != "[map[Key:team Value:bts]]" {
		t.Fatalf("tags: %v", tags)
	}
	e.must(t, "delete-db-subnet-group", "--db-subnet-group-name", "bts_db_sg")
	e.fails(t, "DBSubnetGroupNotFoundFault", "DBSubnetGroup bts_db_sg not found.", "describe-db-subnet-groups", "--db-subnet-group-name", "bts_db_sg")
	e.fails(t, "DBSubnetGroupNotFoundFault", "not found", "delete-db-subnet-group", "--db-subnet-group-name", "bts_db_sg")
}

// param returns a parameter of describe-db-parameters' answer.
func param(t *testing.T, out map[string]any, name string) map[string]any {
	t.Helper()
	for _, p := range out["Parameters"].([]any) {
		if p := p.(map[string]any); p["ParameterName"] == name {
			return p
		}
	}
	t.Fatalf("no parameter %s in %v", name, out)
	return nil
}

func TestParameterGroups(t *testing.T) {
	e := newEnv(t)
	out := e.must(t, "describe-db-parameter-groups")
	names := fmt.Sprint(out["DBParameterGroups"])
	if !strings.Contains(names, "default.mysql8.0") || !strings.Contains(names, "default.mariadb10.11") {
		t.Fatalf("default groups: %v", names)
	}
	out = e.must(t, "create-db-parameter-group", "--db-parameter-group-name", "BTS-params", "--db-parameter-group-family", "mysql8.0", "--description", "bts")
	if g := out["DBParameterGroup"].(map[string]any); g["DBParameterGroupName"] != "bts-params" || g["DBParameterGroupFamily"] != "mysql8.0" {
		t.Fatalf("created: %v", g)
	}
	e.fails(t, "DBParameterGroupAlreadyExists", "Parameter group bts-params already exists",
		"create-db-parameter-group", "--db-parameter-group-name", "bts-params", "--db-parameter-group-family", "mysql8.0", "--description", "x")
	e.fails(t, "InvalidParameterValue", "is not a valid identifier",
		"create-db-parameter-group", "--db-parameter-group-name", "bad--name", "--db-parameter-group-family", "mysql8.0", "--description", "x")

	p := param(t, e.must(t, "describe-db-parameters", "--db-parameter-group-name", "bts-params"), "max_connections")
	if p["ParameterValue"] != "{DBInstanceClassMemory/12582880}" || p["Source"] != "system" || p["ApplyType"] != "dynamic" {
		t.Fatalf("max_connections: %v", p)
	}
	e.must(t, "modify-db-parameter-group", "--db-parameter-group-name", "bts-params",
		"--parameters", "ParameterName=max_connections,ParameterValue=150,ApplyMethod=immediate")
	user := e.must(t, "describe-db-parameters", "--db-parameter-group-name", "bts-params", "--source", "user")
	if ps := user["Parameters"].([]any); len(ps) != 1 || ps[0].(map[string]any)["ParameterValue"] != "150" {
		t.Fatalf("user parameters: %v", user)
	}
	e.fails(t, "InvalidParameterCombination", "cannot use immediate apply method for static parameter", "modify-db-parameter-group",
		"--db-parameter-group-name", "bts-params", "--parameters", "ParameterName=innodb_buffer_pool_size,ParameterValue=134217728,ApplyMethod=immediate")
	e.fails(t, "InvalidParameterValue", "Could not find parameter with name: no_such_thing", "modify-db-parameter-group",
		"--db-parameter-group-name", "bts-params", "--parameters", "ParameterName=no_such_thing,ParameterValue=1,ApplyMethod=immediate")
	e.fails(t, "InvalidParameterValue", "max_connections", "modify-db-parameter-group",
		"--db-parameter-group-name", "bts-params", "--parameters", "ParameterName=max_connections,ParameterValue=0,ApplyMethod=immediate")
	e.must(t, "reset-db-parameter-group", "--db-parameter-group-name", "bts-params", "--reset-all-parameters")
	if ps := e.must(t, "describe-db-parameters", "--db-parameter-group-name", "bts-params", "--source", "user")["Parameters"].([]any); len(ps) != 0 {
		t.Fatalf("after reset: %v", ps)
	}
	e.fails(t, "InvalidDBParameterGroupState", "Default DBParameterGroup cannot be deleted: default.mysql8.0", "delete-db-parameter-group", "--db-parameter-group-name", "default.mysql8.0")
	e.must(t, "delete-db-parameter-group", "--db-parameter-group-name", "bts-params")
	e.fails(t, "DBParameterGroupNotFound", "DBParameterGroup not found: bts-params", "describe-db-parameters", "--db-parameter-group-name", "bts-params")
}

func TestEngineVersions(t *testing.T) {
	e := newEnv(t)
	out := e.must(t, "describe-db-engine-versions", "--engine", "mysql", "--default-only")
	v := out["DBEngineVersions"].([]any)
	if len(v) != 1 || v[0].(map[string]any)["DBParameterGroupFamily"] != "mysql8.0" || v[0].(map[string]any)["EngineVersion"] != "8.0.40" {
		t.Fatalf("default mysql: %v", out)
	}
	out = e.must(t, "describe-db-engine-versions", "--engine", "mariadb", "--engine-version", "10.11")
	if len(out["DBEngineVersions"].([]any)) != 4 {
		t.Fatalf("mariadb 10.11: %v", out)
	}
	e.fails(t, "InvalidParameterValue", "Invalid DB engine", "describe-db-engine-versions", "--engine", "oracle-xe")
	out = e.must(t, "describe-orderable-db-instance-options", "--engine", "mysql", "--engine-version", "8.0.35", "--db-instance-class", "db.t2.micro")
	o := out["OrderableDBInstanceOptions"].([]any)
	if len(o) != 1 || o[0].(map[string]any)["MinStorageSize"] != float64(20) {
		t.Fatalf("orderable: %v", out)
	}
}

// createDB makes seed 003's instance.
func (e *env) createDB(t *testing.T, n network, id string, extra ...string) map[string]any {
	t.Helper()
	if _, err := e.rds(t, "describe-db-subnet-groups", "--db-subnet-group-name", "bts-db-subnets"); err != nil {
		e.must(t, "create-db-subnet-group", "--db-subnet-group-name", "bts-db-subnets", "--db-subnet-group-description", "bts", "--subnet-ids", n.privateA, n.privateC)
	}
	args := append([]string{"create-db-instance", "--engine", "mysql", "--db-instance-identifier", id, "--db-instance-class", "db.t2.micro",
		"--master-username", "BTS_admin", "--master-user-password", "Bts-pass-1234", "--allocated-storage", "20", "--no-publicly-accessible",
		"--vpc-security-group-ids", n.dbSG, "--db-subnet-group-name", "bts-db-subnets"}, extra...)
	return e.must(t, args...)["DBInstance"].(map[string]any)
}

func TestCreateDBInstanceValidation(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	base := func(id, user, password string, extra ...string) []string {
		return append([]string{"create-db-instance", "--engine", "mysql", "--db-instance-identifier", id, "--db-instance-class", "db.t2.micro",
			"--master-username", user, "--master-user-password", password, "--allocated-storage", "20", "--db-subnet-group-name", "g"}, extra...)
	}
	e.must(t, "create-db-subnet-group", "--db-subnet-group-name", "g", "--db-subnet-group-description", "g", "--subnet-ids", n.privateA, n.privateC)
	e.fails(t, "InvalidParameterValue", "The parameter DBInstanceIdentifier is not a valid identifier. Identifiers must begin with a letter; must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two consecutive hyphens.",
		base("BTS_DB", "BTS_admin", "Bts-pass-1234")...)
	e.fails(t, "InvalidParameterValue", "The parameter MasterUserPassword is not a valid password. Only printable ASCII characters besides '/', '@', '\"', ' ' may be used.",
		base("bts-db", "BTS_admin", "bad@password")...)
	e.fails(t, "InvalidParameterValue", "shorter than 8 characters", base("bts-db", "BTS_admin", "short")...)
	e.fails(t, "InvalidParameterValue", "MasterUsername", base("bts-db", "1admin", "Bts-pass-1234")...)
	e.fails(t, "InvalidParameterValue", "MasterUsername rdsadmin cannot be used as it is a reserved word used by the engine", base("bts-db", "rdsadmin", "Bts-pass-1234")...)
	e.fails(t, "InvalidParameterCombination", "DBInstanceClass=db.x9.huge", append(base("bts-db", "BTS_admin", "Bts-pass-1234"), "--db-instance-class", "db.x9.huge")...)
	e.fails(t, "InvalidParameterCombination", "Cannot find version 5.1.0 for mysql", append(base("bts-db", "BTS_admin", "Bts-pass-1234"), "--engine-version", "5.1.0")...)
	e.fails(t, "InvalidParameterCombination", "different VPCs", append(base("bts-db", "BTS_admin", "Bts-pass-1234"), "--vpc-security-group-ids", n.otherVPCSG)...)
	e.fails(t, "DBSubnetGroupNotFoundFault", "not found", append(base("bts-db", "BTS_admin", "Bts-pass-1234"), "--db-subnet-group-name", "nope")...)
	e.fails(t, "InvalidParameterCombination", "Requesting a specific availability zone is not valid for Multi-AZ instances.",
		append(base("bts-db", "BTS_admin", "Bts-pass-1234"), "--multi-az", "--availability-zone", region+"a")...)
	e.createDB(t, n, "bts-db")
	e.fails(t, "DBInstanceAlreadyExists", "DB instance already exists", base("BTS-DB", "BTS_admin", "Bts-pass-1234")...)
	e.fails(t, "DBInstanceNotFound", "DBInstance nope not found.", "describe-db-instances", "--db-instance-identifier", "nope")
}

func TestDBInstanceLifecycle(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	db := e.createDB(t, n, "bts-db", "--db-name", "bts", "--availability-zone", region+"c", "--tags", "Key=env,Value=test")
	if db["DBInstanceStatus"] != "creating" || db["Endpoint"] != nil || db["EngineVersion"] != "8.0.40" {
		t.Fatalf("created: %v", db)
	}
	db = e.waitStatus(t, "bts-db", "available")
	ep := db["Endpoint"].(map[string]any)
	addr := ep["Address"].(string)
	parts := strings.Split(addr, ".")
	if len(parts) != 6 || parts[0] != "bts-db" || len(parts[1]) != 12 || strings.Join(parts[2:], ".") != region+".rds.amazonaws.com" || ep["Port"] != float64(3306) {
		t.Fatalf("endpoint: %v", ep)
	}
	if db["AvailabilityZone"] != region+"c" || db["MasterUsername"] != "BTS_admin" || db["DBName"] != "bts" ||
		db["DBSubnetGroup"].(map[string]any)["VpcId"] != n.vpc || db["PubliclyAccessible"] != false ||
		fmt.Sprint(db["VpcSecurityGroups"]) != fmt.Sprintf("[map[Status:active VpcSecurityGroupId:%s]]", n.dbSG) ||
		fmt.Sprint(db["DBParameterGroups"]) != "[map[DBParameterGroupName:default.mysql8.0 ParameterApplyStatus:in-sync]]" {
		t.Fatalf("described: %v", db)
	}
	// A second instance shares the account's label.
	e.createDB(t, n, "bts-db-2")
	db2 := e.waitStatus(t, "bts-db-2", "available")
	if a2 := db2["Endpoint"].(map[string]any)["Address"].(string); strings.Split(a2, ".")[1] != parts[1] || db2["AvailabilityZone"] != region+"a" {
		t.Fatalf("second endpoint %s, first %s", a2, addr)
	}

	// The node's interface is EC2's, requester-managed, in the subnet.
	enis := e.ec2Interfaces(t, n.privateC)
	if len(enis) != 1 || !*enis[0].RequesterManaged || *enis[0].Groups[0].GroupId != n.dbSG {
		t.Fatalf("interfaces in the DB's subnet: %+v", enis)
	}

	e.fails(t, "InvalidDBInstanceState", "is not stopped, it cannot be started", "start-db-instance", "--db-instance-identifier", "bts-db")
	e.must(t, "stop-db-instance", "--db-instance-identifier", "bts-db")
	e.waitStatus(t, "bts-db", "stopped")
	e.fails(t, "InvalidDBInstanceState", "Instance bts-db is not in available state.", "stop-db-instance", "--db-instance-identifier", "bts-db")
	e.must(t, "start-db-instance", "--db-instance-identifier", "bts-db")
	e.waitStatus(t, "bts-db", "available")
	e.fails(t, "InvalidParameterCombination", "Cannot force a failover for a DB instance that is not Multi-AZ.",
		"reboot-db-instance", "--db-instance-identifier", "bts-db", "--force-failover")
	e.must(t, "reboot-db-instance", "--db-instance-identifier", "bts-db")
	e.waitStatus(t, "bts-db", "available")

	// A class change waits for the next reboot, or restarts at once.
	db = e.must(t, "modify-db-instance", "--db-instance-identifier", "bts-db", "--db-instance-class", "db.t3.small", "--no-apply-immediately")["DBInstance"].(map[string]any)
	if db["PendingModifiedValues"].(map[string]any)["DBInstanceClass"] != "db.t3.small" || db["DBInstanceClass"] != "db.t2.micro" {
		t.Fatalf("pending class: %v", db)
	}
	e.must(t, "reboot-db-instance", "--db-instance-identifier", "bts-db")
	if db = e.waitStatus(t, "bts-db", "available"); db["DBInstanceClass"] != "db.t3.small" {
		t.Fatalf("after reboot: %v", db["DBInstanceClass"])
	}
	db = e.must(t, "modify-db-instance", "--db-instance-identifier", "bts-db", "--db-instance-class", "db.t3.medium", "--apply-immediately",
		"--vpc-security-group-ids", n.dbSG, n.webSG, "--backup-retention-period", "7", "--deletion-protection")["DBInstance"].(map[string]any)
	if db["DBInstanceStatus"] != "modifying" || len(db["VpcSecurityGroups"].([]any)) != 2 || db["BackupRetentionPeriod"] != float64(7) {
		t.Fatalf("modifying: %v", db)
	}
	if db = e.waitStatus(t, "bts-db", "available"); db["DBInstanceClass"] != "db.t3.medium" {
		t.Fatalf("after modifying: %v", db["DBInstanceClass"])
	}
	if enis := e.ec2Interfaces(t, n.privateC); len(enis[0].Groups) != 2 {
		t.Fatalf("the interface's groups: %+v", enis[0].Groups)
	}

	e.fails(t, "InvalidParameterCombination", "Cannot delete protected DB Instance, please disable deletion protection and try again.",
		"delete-db-instance", "--db-instance-identifier", "bts-db", "--skip-final-snapshot")
	e.must(t, "modify-db-instance", "--db-instance-identifier", "bts-db", "--no-deletion-protection")
	e.fails(t, "InvalidParameterCombination", "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified.",
		"delete-db-instance", "--db-instance-identifier", "bts-db")
	db = e.must(t, "delete-db-instance", "--db-instance-identifier", "bts-db", "--skip-final-snapshot")["DBInstance"].(map[string]any)
	if db["DBInstanceStatus"] != "deleting" {
		t.Fatalf("deleting: %v", db)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := e.rds(t, "describe-db-instances", "--db-instance-identifier", "bts-db"); err != nil && strings.Contains(err.Error(), "DBInstanceNotFound") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("bts-db was never deleted")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if enis := e.ec2Interfaces(t, n.privateC); len(enis) != 0 {
		t.Fatalf("the node's interface outlived it: %+v", enis)
	}

	// Its story, in AWS's words.
	evs := e.must(t, "describe-events", "--source-identifier", "bts-db", "--source-type", "db-instance", "--duration", "10080")
	var msgs []string
	for _, ev := range evs["Events"].([]any) {
		msgs = append(msgs, ev.(map[string]any)["Message"].(string))
	}
	want := []string{"DB instance created", "Backing up DB instance", "Finished DB Instance backup", "DB instance stopped", "DB instance started",
		"DB instance shutdown", "DB instance restarted", "DB instance shutdown", "DB instance restarted", "Applying modification to database instance class",
		"Applied change to security group", "DB instance shutdown", "Finished applying modification to DB instance class", "DB instance restarted", "DB instance deleted"}
	if strings.Join(msgs, "|") != strings.Join(want, "|") {
		t.Fatalf("events:\n%s\nwant\n%s", strings.Join(msgs, "\n"), strings.Join(want, "\n"))
	}
	e.fails(t, "InvalidDBSubnetGroupStateFault", "bts-db-2", "delete-db-subnet-group", "--db-subnet-group-name", "bts-db-subnets")
}

func TestTags(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	e.createDB(t, n, "tagged", "--tags", "Key=a,Value=1")
	arn := "arn:aws:rds:" + region + ":000000000000:db:tagged"
	e.must(t, "add-tags-to-resource", "--resource-name", arn, "--tags", "Key=b,Value=2", "Key=a,Value=3")
	if got := fmt.Sprint(e.must(t, "list-tags-for-resource", "--resource-name", arn)["TagList"]); got != "[map[Key:a Value:3] map[Key:b Value:2]]" {
		t.Fatalf("tags: %s", got)
	}
	e.must(t, "remove-tags-from-resource", "--resource-name", arn, "--tag-keys", "a")
	if got := fmt.Sprint(e.must(t, "list-tags-for-resource", "--resource-name", arn)["TagList"]); got != "[map[Key:b Value:2]]" {
		t.Fatalf("tags: %s", got)
	}
	out := e.must(t, "describe-db-instances", "--filters", "Name=db-instance-id,Values="+arn)
	if dbs := out["DBInstances"].([]any); len(dbs) != 1 || dbs[0].(map[string]any)["DBInstanceIdentifier"] != "tagged" {
		t.Fatalf("filtered by ARN: %v", out)
	}
	if dbs := e.must(t, "describe-db-instances", "--filters", "Name=engine,Values=mariadb")["DBInstances"].([]any); len(dbs) != 0 {
		t.Fatalf("filtered by engine: %v", dbs)
	}
	e.fails(t, "DBInstanceNotFound", "DBInstance nope not found.", "list-tags-for-resource", "--resource-name", "arn:aws:rds:"+region+":000000000000:db:nope")
}

// TestMultiAZFailover: seed 003's --multi-az instance has its standby in
// the other zone; --force-failover swaps the two, in AWS's words.
func TestMultiAZFailover(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	db := e.createDB(t, n, "bts-db", "--multi-az")
	if db["MultiAZ"] != true || db["AvailabilityZone"] == db["SecondaryAvailabilityZone"] || db["SecondaryAvailabilityZone"] == nil {
		t.Fatalf("created: %v", db)
	}
	e.waitStatus(t, "bts-db", "available")
	if enis := e.ec2Interfaces(t, n.privateA); len(enis) != 1 {
		t.Fatalf("interfaces in zone a: %+v", enis)
	}
	if enis := e.ec2Interfaces(t, n.privateC); len(enis) != 1 {
		t.Fatalf("interfaces in zone c: %+v", enis)
	}
	out := e.must(t, "reboot-db-instance", "--db-instance-identifier", "bts-db", "--force-failover")["DBInstance"].(map[string]any)
	if out["DBInstanceStatus"] != "rebooting" {
		t.Fatalf("rebooting: %v", out)
	}
	after := e.waitStatus(t, "bts-db", "available")
	if after["AvailabilityZone"] != db["SecondaryAvailabilityZone"] || after["SecondaryAvailabilityZone"] != db["AvailabilityZone"] {
		t.Fatalf("after the failover: %v in %v", after["AvailabilityZone"], after["SecondaryAvailabilityZone"])
	}
	evs := e.must(t, "describe-events", "--source-identifier", "bts-db", "--source-type", "db-instance")
	var msgs []string
	for _, ev := range evs["Events"].([]any) {
		msgs = append(msgs, ev.(map[string]any)["Message"].(string))
	}
	if got := strings.Join(msgs, "|"); !strings.HasSuffix(got, "Multi-AZ instance failover started.|DB instance restarted|Multi-AZ instance failover completed.") {
		t.Fatalf("events: %s", got)
	}
	e.must(t, "delete-db-instance", "--db-instance-identifier", "bts-db", "--skip-final-snapshot")
	deadline := time.Now().Add(30 * time.Second)
	for len(e.ec2Interfaces(t, n.privateA))+len(e.ec2Interfaces(t, n.privateC)) != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the nodes' interfaces outlived the instance")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestReadReplicas: a read replica in the source's region inherits its
// database and groups with backups off; one in another region names its
// source by ARN and uses that region's subnet group. Both show their
// replication, and promotion makes a standalone instance with backups.
func TestReadReplicas(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	e.createDB(t, n, "bts-db", "--db-name", "bts")
	e.createDB(t, n, "no-backups", "--backup-retention-period", "0")
	e.waitStatus(t, "bts-db", "available")
	e.waitStatus(t, "no-backups", "available")
	e.fails(t, "InvalidDBInstanceState", "Automated backups are not enabled for this database instance.",
		"create-db-instance-read-replica", "--db-instance-identifier", "r", "--source-db-instance-identifier", "no-backups")
	e.fails(t, "DBInstanceNotFound", "DBInstance nope not found.",
		"create-db-instance-read-replica", "--db-instance-identifier", "r", "--source-db-instance-identifier", "nope")
	e.fails(t, "InvalidDBInstanceState", "DB Instance is not a read replica.", "promote-read-replica", "--db-instance-identifier", "bts-db")

	rep := e.must(t, "create-db-instance-read-replica", "--db-instance-identifier", "bts-db-replica", "--source-db-instance-identifier", "bts-db")["DBInstance"].(map[string]any)
	if rep["ReadReplicaSourceDBInstanceIdentifier"] != "bts-db" || rep["BackupRetentionPeriod"] != float64(0) || rep["DBName"] != "bts" ||
		rep["MasterUsername"] != "BTS_admin" || rep["VpcSecurityGroups"].([]any)[0].(map[string]any)["VpcSecurityGroupId"] != n.dbSG {
		t.Fatalf("replica: %v", rep)
	}
	rep = e.waitStatus(t, "bts-db-replica", "available")
	if fmt.Sprint(rep["StatusInfos"]) != "[map[Normal:true Status:replicating StatusType:read replication]]" {
		t.Fatalf("replica's status: %v", rep["StatusInfos"])
	}

	// Another region: its own network and subnet group, the source by ARN.
	other := "us-east-1"
	ec2east := ec2sdk.New(ec2sdk.Options{Region: other, BaseEndpoint: aws.String(e.url), Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")})
	ctx := context.Background()
	v, err := ec2east.CreateVpc(ctx, &ec2sdk.CreateVpcInput{CidrBlock: aws.String("10.9.0.0/16")})
	if err != nil {
		t.Fatal(err)
	}
	var subnets []string
	for i, az := range []string{"a", "b"} {
		sn, err := ec2east.CreateSubnet(ctx, &ec2sdk.CreateSubnetInput{VpcId: v.Vpc.VpcId, CidrBlock: aws.String(fmt.Sprintf("10.9.%d.0/24", i)), AvailabilityZone: aws.String(other + az)})
		if err != nil {
			t.Fatal(err)
		}
		subnets = append(subnets, *sn.Subnet.SubnetId)
	}
	e.must(t, "--region", other, "create-db-subnet-group", "--db-subnet-group-name", "dr", "--db-subnet-group-description", "dr", "--subnet-ids", subnets[0], subnets[1])
	srcARN := "arn:aws:rds:" + region + ":000000000000:db:bts-db"
	east := e.must(t, "--region", other, "create-db-instance-read-replica", "--db-instance-identifier", "bts-db-dr",
		"--source-db-instance-identifier", srcARN, "--db-subnet-group-name", "dr")["DBInstance"].(map[string]any)
	if east["ReadReplicaSourceDBInstanceIdentifier"] != srcARN || east["DBSubnetGroup"].(map[string]any)["VpcId"] != *v.Vpc.VpcId {
		t.Fatalf("cross-region replica: %v", east)
	}
	src := e.waitStatus(t, "bts-db", "available")
	if got := fmt.Sprint(src["ReadReplicaDBInstanceIdentifiers"]); got != "[bts-db-replica arn:aws:rds:us-east-1:000000000000:db:bts-db-dr]" {
		t.Fatalf("the source's replicas: %s", got)
	}

	// A second replica in the region is promoted when its source is
	// deleted (below).
	e.must(t, "create-db-instance-read-replica", "--db-instance-identifier", "bts-db-replica-2", "--source-db-instance-identifier", "bts-db")
	e.waitStatus(t, "bts-db-replica-2", "available")

	// Promotion: a standalone instance with backups, gone from the list.
	out := e.must(t, "promote-read-replica", "--db-instance-identifier", "bts-db-replica", "--backup-retention-period", "3")["DBInstance"].(map[string]any)
	if out["DBInstanceStatus"] != "modifying" {
		t.Fatalf("promoting: %v", out)
	}
	done := e.waitStatus(t, "bts-db-replica", "available")
	if done["ReadReplicaSourceDBInstanceIdentifier"] != nil || done["BackupRetentionPeriod"] != float64(3) || done["StatusInfos"] != nil {
		t.Fatalf("promoted: %v", done)
	}
	if got := fmt.Sprint(e.waitStatus(t, "bts-db", "available")["ReadReplicaDBInstanceIdentifiers"]); got != "[arn:aws:rds:us-east-1:000000000000:db:bts-db-dr bts-db-replica-2]" {
		t.Fatalf("the source's replicas after the promotion: %s", got)
	}
	// Deleting the source leaves the other region's replica a replica
	// whose replication has ended, until it is promoted.
	e.must(t, "delete-db-instance", "--db-instance-identifier", "bts-db", "--skip-final-snapshot")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		d, err := e.rds(t, "--region", other, "describe-db-instances", "--db-instance-identifier", "bts-db-dr")
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(d["DBInstances"].([]any)[0].(map[string]any)["StatusInfos"]) == "[map[Normal:false Status:terminated StatusType:read replication]]" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the source's deletion: %v", d)
		}
	}
	e.must(t, "--region", other, "promote-read-replica", "--db-instance-identifier", "bts-db-dr")
	if d := e.waitStatus(t, "bts-db-replica-2", "available"); d["ReadReplicaSourceDBInstanceIdentifier"] != nil || d["BackupRetentionPeriod"] != float64(1) {
		t.Fatalf("the same region's replica after its source's deletion: %v", d)
	}
}

// TestDefaultVPC: without a DB subnet group an instance goes in the
// default VPC's "default" group; without PubliclyAccessible it is public
// when its VPC has an internet gateway, as RDS decides.
func TestDefaultVPC(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	db := e.must(t, "create-db-instance", "--engine", "mariadb", "--db-instance-identifier", "quick", "--db-instance-class", "db.t3.micro",
		"--master-username", "admin", "--master-user-password", "secret99", "--allocated-storage", "20")["DBInstance"].(map[string]any)
	g := db["DBSubnetGroup"].(map[string]any)
	if g["DBSubnetGroupName"] != "default" || g["VpcId"] == n.vpc || len(g["Subnets"].([]any)) < 2 || db["PubliclyAccessible"] != true {
		t.Fatalf("in the default VPC: %v", db)
	}
	groups := e.must(t, "describe-db-subnet-groups", "--db-subnet-group-name", "default")["DBSubnetGroups"].([]any)
	if len(groups) != 1 || groups[0].(map[string]any)["DBSubnetGroupDescription"] != "default" {
		t.Fatalf("default group: %v", groups)
	}
	// The seed's private group, in a VPC without an internet gateway: private.
	db = e.must(t, "create-db-subnet-group", "--db-subnet-group-name", "g", "--db-subnet-group-description", "g", "--subnet-ids", n.privateA, n.privateC)
	db = e.must(t, "create-db-instance", "--engine", "mysql", "--db-instance-identifier", "private", "--db-instance-class", "db.t3.micro",
		"--master-username", "admin", "--master-user-password", "secret99", "--allocated-storage", "20", "--db-subnet-group-name", "g")["DBInstance"].(map[string]any)
	if db["PubliclyAccessible"] != false {
		t.Fatalf("without an internet gateway: %v", db)
	}
}

// TestModifyMultiAZ: Multi-AZ turned on makes a standby (modifying until
// it runs), turned off removes it.
func TestModifyMultiAZ(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	e.createDB(t, n, "bts-db")
	e.waitStatus(t, "bts-db", "available")
	e.fails(t, "NotImplemented", "maintenance window", "modify-db-instance", "--db-instance-identifier", "bts-db", "--multi-az")
	db := e.must(t, "modify-db-instance", "--db-instance-identifier", "bts-db", "--multi-az", "--apply-immediately")["DBInstance"].(map[string]any)
	if db["DBInstanceStatus"] != "modifying" || db["MultiAZ"] != true || db["SecondaryAvailabilityZone"] != region+"c" {
		t.Fatalf("turning Multi-AZ on: %v", db)
	}
	e.waitStatus(t, "bts-db", "available")
	if len(e.ec2Interfaces(t, n.privateC)) != 1 {
		t.Fatal("no standby interface in zone c")
	}
	db = e.must(t, "modify-db-instance", "--db-instance-identifier", "bts-db", "--no-multi-az", "--apply-immediately")["DBInstance"].(map[string]any)
	if db["MultiAZ"] != false || db["SecondaryAvailabilityZone"] != nil || len(e.ec2Interfaces(t, n.privateC)) != 0 {
		t.Fatalf("turning Multi-AZ off: %v", db)
	}
	e.fails(t, "InvalidParameterCombination", "not Multi-AZ", "reboot-db-instance", "--db-instance-identifier", "bts-db", "--force-failover")
}

// TestAutoStart: a stopped instance starts again after seven (virtual)
// days, as RDS starts it, in RDS's words.
func TestAutoStart(t *testing.T) {
	e := newEnvAt(t, false, 1e6) // seven days in 0.6 s
	n := e.network(t)
	e.createDB(t, n, "bts-db")
	e.waitStatus(t, "bts-db", "available")
	e.must(t, "stop-db-instance", "--db-instance-identifier", "bts-db")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		evs := e.must(t, "describe-events", "--source-identifier", "bts-db", "--source-type", "db-instance", "--duration", "20160")
		var msgs []string
		for _, ev := range evs["Events"].([]any) {
			msgs = append(msgs, ev.(map[string]any)["Message"].(string))
		}
		got := strings.Join(msgs, "|")
		if strings.HasSuffix(got, "DB instance stopped|DB instance is being started due to it exceeding the maximum allowed time being stopped.|DB instance started") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("events: %s", got)
		}
	}
	e.waitStatus(t, "bts-db", "available")
}

// TestOptionGroups: option groups are kept and shown; an instance names
// one of its engine, and one in use stays.
func TestOptionGroups(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	g := e.must(t, "create-option-group", "--option-group-name", "BTS-Audit", "--engine-name", "mysql", "--major-engine-version", "8.0",
		"--option-group-description", "audit")["OptionGroup"].(map[string]any)
	if g["OptionGroupName"] != "bts-audit" || g["OptionGroupArn"] != "arn:aws:rds:"+region+":000000000000:og:bts-audit" {
		t.Fatalf("created: %v", g)
	}
	e.fails(t, "OptionGroupAlreadyExistsFault", "Option group bts-audit already exists.", "create-option-group", "--option-group-name", "bts-audit",
		"--engine-name", "mysql", "--major-engine-version", "8.0", "--option-group-description", "again")
	e.fails(t, "InvalidParameterCombination", "Cannot find major version 9.9 for mysql", "create-option-group", "--option-group-name", "x",
		"--engine-name", "mysql", "--major-engine-version", "9.9", "--option-group-description", "x")
	// The CLI's add-option-to-option-group and remove-option-from-option-group
	// are ModifyOptionGroup.
	e.fails(t, "InvalidParameterCombination", "Unknown option: NOPE", "add-option-to-option-group", "--option-group-name", "bts-audit",
		"--options", "OptionName=NOPE")
	e.must(t, "add-option-to-option-group", "--option-group-name", "bts-audit", "--options", "OptionName=MEMCACHED")
	e.must(t, "remove-option-from-option-group", "--option-group-name", "bts-audit", "--options", "MEMCACHED", "--apply-immediately")
	g = e.must(t, "add-option-to-option-group", "--option-group-name", "bts-audit", "--apply-immediately", "--options",
		`OptionName=MARIADB_AUDIT_PLUGIN,OptionSettings=[{Name=SERVER_AUDIT_EVENTS,Value=CONNECT}]`)["OptionGroup"].(map[string]any)
	if len(g["Options"].([]any)) != 1 {
		t.Fatalf("options: %v", g["Options"])
	}
	if fmt.Sprint(g["Options"].([]any)[0].(map[string]any)["OptionSettings"]) != "[map[Name:SERVER_AUDIT_EVENTS Value:CONNECT]]" {
		t.Fatalf("modified: %v", g)
	}
	e.fails(t, "OptionGroupNotFoundFault", "Specified OptionGroupName: nope not found.", "describe-option-groups", "--option-group-name", "nope")
	db := e.createDB(t, n, "bts-db", "--option-group-name", "bts-audit")
	if fmt.Sprint(db["OptionGroupMemberships"]) != "[map[OptionGroupName:bts-audit Status:in-sync]]" {
		t.Fatalf("the instance's option group: %v", db["OptionGroupMemberships"])
	}
	e.fails(t, "InvalidOptionGroupStateFault", "is in use", "delete-option-group", "--option-group-name", "bts-audit")
	all := e.must(t, "describe-option-groups", "--engine-name", "mysql")["OptionGroupsList"].([]any)
	if len(all) != 2 || all[0].(map[string]any)["OptionGroupName"] != "bts-audit" || all[1].(map[string]any)["OptionGroupName"] != "default:mysql-8-0" {
		t.Fatalf("listed: %v", all)
	}
	e.fails(t, "InvalidParameterValue", "Default option groups cannot be deleted.", "delete-option-group", "--option-group-name", "default:mysql-8-0")
	e.must(t, "delete-db-instance", "--db-instance-identifier", "bts-db", "--skip-final-snapshot")
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := e.rds(t, "delete-option-group", "--option-group-name", "bts-audit"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the option group stayed in use")
		}
	}
}

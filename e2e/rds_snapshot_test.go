package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRDSSnapshotRestore: rows written through a DB instance's endpoint
// are in its manual snapshot (a dump taken inside its node, kept in the
// data directory); a row written afterwards is not; the instance restored
// from the snapshot serves those rows through its own endpoint, to the
// snapshot's master user and password; deleting the source with a final
// snapshot dumps it before its node stops. The creation's backup is an
// automated snapshot.
func TestRDSSnapshotRestore(t *testing.T) {
	t.Parallel() // with the other data-tier tests (see TestRDSSeed003)
	dir := t.TempDir()
	w := newVPCWorld(t, Opts{DataDir: dir})
	net := w.seedNetwork()
	vpc, privA, privC := net.vpc, net.privA, net.privC
	webSG := get(w.aws("ec2", "create-security-group", "--group-name", "web", "--description", "web", "--vpc-id", vpc), "GroupId")
	dbSG := get(w.aws("ec2", "create-security-group", "--group-name", "db", "--description", "database", "--vpc-id", vpc), "GroupId")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", dbSG, "--protocol", "tcp", "--port", "3306", "--source-group", webSG)

	al2 := get(w.aws("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=amzn2-ami-hvm-*", "Name=architecture,Values=x86_64"), "Images", 0, "ImageId")
	web := get(w.aws("ec2", "run-instances", "--image-id", al2, "--instance-type", "t2.micro", "--subnet-id", privA,
		"--security-group-ids", webSG, "--user-data", "#!/bin/bash\nyum install -y mysql\n"), "Instances", 0, "InstanceId")

	w.aws("rds", "create-db-subnet-group", "--db-subnet-group-name", "db-subnets", "--db-subnet-group-description", "private",
		"--subnet-ids", privA, privC)
	w.aws("rds", "create-db-parameter-group", "--db-parameter-group-name", "bts-params", "--db-parameter-group-family", "mysql8.0",
		"--description", "BTS tuning")
	w.aws("rds", "create-db-instance", "--engine", "mysql", "--db-instance-identifier", "src-db", "--db-instance-class", "db.t2.micro",
		"--master-username", "BTS_admin", "--master-user-password", "Bts-Secret-2024", "--allocated-storage", "20", "--no-publicly-accessible",
		"--vpc-security-group-ids", dbSG, "--db-subnet-group-name", "db-subnets", "--db-parameter-group-name", "bts-params")
	w.aws("rds", "wait", "db-instance-available", "--db-instance-identifier", "src-db")
	endpoint := func(id string) string {
		return get(w.aws("rds", "describe-db-instances", "--db-instance-identifier", id), "DBInstances", 0, "Endpoint", "Address")
	}
	mysql := func(host, sql string) string {
		return "mysql --connect-timeout=5 -h " + host + " -u BTS_admin -pBts-Secret-2024 -N -e \"" + sql + "\""
	}
	src := endpoint("src-db")
	w.aws("ec2", "wait", "instance-running", "--instance-ids", web)
	w.eventually(web, "command -v mysql", 4*time.Minute)
	w.eventually(web, mysql(src, "SELECT 1"), 4*time.Minute)

	// The group's changes reach the engine: a dynamic one at once, a
	// static one at the next reboot.
	w.aws("rds", "modify-db-parameter-group", "--db-parameter-group-name", "bts-params", "--parameters",
		"ParameterName=max_connections,ParameterValue=42,ApplyMethod=immediate",
		"ParameterName=innodb_buffer_pool_size,ParameterValue=268435456,ApplyMethod=pending-reboot")
	w.eventually(web, mysql(src, "SELECT @@max_connections")+" | grep -x 42", time.Minute)
	if got := get(w.aws("rds", "describe-db-instances", "--db-instance-identifier", "src-db"), "DBInstances", 0, "DBParameterGroups", 0, "ParameterApplyStatus"); got != "pending-reboot" {
		t.Errorf("ParameterApplyStatus after a static change: %s", got)
	}
	w.aws("rds", "reboot-db-instance", "--db-instance-identifier", "src-db")
	w.aws("rds", "wait", "db-instance-available", "--db-instance-identifier", "src-db")
	if got := w.eventually(web, mysql(src, "SELECT @@innodb_buffer_pool_size, @@max_connections"), 2*time.Minute); got != "268435456\t42" {
		t.Errorf("after the reboot: %q", got)
	}
	w.shOK(web, mysql(src, "CREATE DATABASE bts; "+
		"CREATE TABLE bts.members (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL); "+
		"INSERT INTO bts.members (name) VALUES ('RM'), ('Jin'), ('Suga'); "+
		"CREATE USER 'reader'@'%' IDENTIFIED BY 'Reader-Pass-1'; GRANT SELECT ON bts.* TO 'reader'@'%'"))

	snap := w.aws("rds", "create-db-snapshot", "--db-instance-identifier", "src-db", "--db-snapshot-identifier", "src-snap")
	if get(snap, "DBSnapshot", "Status") != "creating" {
		t.Fatalf("created: %v", snap)
	}
	w.aws("rds", "wait", "db-snapshot-available", "--db-snapshot-identifier", "src-snap")
	desc := w.aws("rds", "describe-db-snapshots", "--db-snapshot-identifier", "src-snap")
	if get(desc, "DBSnapshots", 0, "PercentProgress") != "100" || get(desc, "DBSnapshots", 0, "MasterUsername") != "BTS_admin" {
		t.Fatalf("described: %v", desc)
	}
	// The dumps in the data directory: the creation's automated backup,
	// before the rows, and the manual snapshot's, with them.
	holding := func(row string) int {
		dumps, _ := filepath.Glob(filepath.Join(dir, "rds", "*", "ap-northeast-2", "snapshots", "*.sql"))
		n := 0
		for _, d := range dumps {
			if b, _ := os.ReadFile(d); strings.Contains(string(b), row) {
				n++
			}
		}
		return n
	}
	if holding("'Suga'") == 0 {
		t.Fatal("no dump holds the rows")
	}
	if auto := w.aws("rds", "describe-db-snapshots", "--db-instance-identifier", "src-db", "--snapshot-type", "automated"); !strings.HasPrefix(get(auto, "DBSnapshots", 0, "DBSnapshotIdentifier"), "rds:src-db-") {
		t.Errorf("automated snapshots: %v", auto)
	}
	// Written after the snapshot: not in it.
	w.shOK(web, mysql(src, "INSERT INTO bts.members (name) VALUES ('J-Hope')"))

	w.aws("rds", "restore-db-instance-from-db-snapshot", "--db-instance-identifier", "restored-db", "--db-snapshot-identifier", "src-snap",
		"--db-subnet-group-name", "db-subnets", "--vpc-security-group-ids", dbSG, "--availability-zone", "ap-northeast-2c")
	w.aws("rds", "wait", "db-instance-available", "--db-instance-identifier", "restored-db")
	restored := endpoint("restored-db")
	if restored == src || !strings.HasPrefix(restored, "restored-db.") {
		t.Fatalf("restored endpoint %s (source %s)", restored, src)
	}
	// Available means loaded: the rows, the master user and the
	// snapshot's other users are there at once.
	if got := w.shOK(web, mysql(restored, "SELECT name FROM bts.members ORDER BY id")); got != "RM\nJin\nSuga" {
		t.Fatalf("the restored rows: %q", got)
	}
	if got := w.shOK(web, "mysql --connect-timeout=5 -h "+restored+" -u reader -pReader-Pass-1 -N -e 'SELECT COUNT(*) FROM bts.members'"); got != "3" {
		t.Fatalf("the snapshot's user reads %q", got)
	}
	events := w.aws("rds", "describe-events", "--source-identifier", "restored-db", "--source-type", "db-instance")
	if get(events, "Events", 0, "Message") != "Restored from snapshot src-snap" {
		t.Errorf("the restored instance's events: %v", events)
	}

	w.aws("rds", "delete-db-instance", "--db-instance-identifier", "src-db", "--final-db-snapshot-identifier", "src-final")
	w.aws("rds", "wait", "db-instance-deleted", "--db-instance-identifier", "src-db")
	final := w.aws("rds", "describe-db-snapshots", "--db-snapshot-identifier", "src-final")
	if get(final, "DBSnapshots", 0, "Status") != "available" {
		t.Fatalf("final snapshot: %v", final)
	}
	if holding("'J-Hope'") == 0 {
		t.Fatal("no dump holds the last row")
	}
	w.aws("rds", "delete-db-instance", "--db-instance-identifier", "restored-db", "--skip-final-snapshot")
	w.aws("rds", "wait", "db-instance-deleted", "--db-instance-identifier", "restored-db")
	w.checkSafety()
}

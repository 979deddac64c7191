package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRDSPointInTimeRestore: a DB instance keeping backups has its binary
// logs archived under the data directory; restored to a time between two
// inserts, the new instance (its automated backup's dump loaded, the
// logs replayed up to the time) holds the first row and not the second,
// read with a real mysql client through its endpoint.
func TestRDSPointInTimeRestore(t *testing.T) {
	t.Parallel() // with the other data-tier tests (see TestRDSSeed003)
	dir := t.TempDir()
	w := newVPCWorld(t, Opts{DataDir: dir})
	t.Cleanup(func() {
		if t.Failed() { // RDS's side of it, from the daemon's log
			dumps, _ := filepath.Glob(filepath.Join(dir, "rds", "*", "*", "snapshots", "*.sql"))
			for _, d := range dumps {
				if b, err := os.ReadFile(d); err == nil {
					t.Logf("%s:\n%.1500s", d, b)
				}
			}
			for _, l := range strings.Split(w.c.Stderr(), "\n") {
				if strings.Contains(l, "rds") && (strings.Contains(l, "WARN") || strings.Contains(l, "ERROR") || strings.Contains(l, "dump")) {
					t.Log(l)
				}
			}
		}
	})
	net := w.seedNetwork()
	webSG := get(w.aws("ec2", "create-security-group", "--group-name", "web", "--description", "web", "--vpc-id", net.vpc), "GroupId")
	dbSG := get(w.aws("ec2", "create-security-group", "--group-name", "db", "--description", "database", "--vpc-id", net.vpc), "GroupId")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", dbSG, "--protocol", "tcp", "--port", "3306", "--source-group", webSG)
	al2 := get(w.aws("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=amzn2-ami-hvm-*", "Name=architecture,Values=x86_64"), "Images", 0, "ImageId")
	web := get(w.aws("ec2", "run-instances", "--image-id", al2, "--instance-type", "t2.micro", "--subnet-id", net.privA,
		"--security-group-ids", webSG, "--user-data", "#!/bin/bash\nyum install -y mysql\n"), "Instances", 0, "InstanceId")
	w.aws("rds", "create-db-subnet-group", "--db-subnet-group-name", "db-subnets", "--db-subnet-group-description", "private",
		"--subnet-ids", net.privA, net.privC)
	w.aws("rds", "create-db-instance", "--engine", "mysql", "--db-instance-identifier", "pitr-src", "--db-instance-class", "db.t2.micro",
		"--master-username", "BTS_admin", "--master-user-password", "Bts-Secret-2024", "--allocated-storage", "20", "--no-publicly-accessible",
		"--vpc-security-group-ids", dbSG, "--db-subnet-group-name", "db-subnets", "--backup-retention-period", "7")
	w.aws("rds", "wait", "db-instance-available", "--db-instance-identifier", "pitr-src")
	endpoint := func(id string) string {
		return get(w.aws("rds", "describe-db-instances", "--db-instance-identifier", id), "DBInstances", 0, "Endpoint", "Address")
	}
	mysql := func(host, sql string) string {
		return "mysql --connect-timeout=5 -h " + host + " -u BTS_admin -pBts-Secret-2024 -N -e \"" + sql + "\""
	}
	src := endpoint("pitr-src")
	w.aws("ec2", "wait", "instance-running", "--instance-ids", web)
	w.eventually(web, "command -v mysql", 4*time.Minute)
	w.eventually(web, mysql(src, "SELECT 1"), 4*time.Minute)

	// Row A, then (on the daemon's clock, the wall's at scale 1) a whole
	// second at least a second later, then row B two seconds after it.
	w.shOK(web, mysql(src, "CREATE DATABASE bts; CREATE TABLE bts.members (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL); "+
		"INSERT INTO bts.members (name) VALUES ('A')"))
	restoreTime := time.Now().UTC().Truncate(time.Second).Add(2 * time.Second)
	time.Sleep(time.Until(restoreTime.Add(2 * time.Second)))
	w.shOK(web, mysql(src, "INSERT INTO bts.members (name) VALUES ('B')"))
	if got := w.shOK(web, mysql(src, "SELECT name FROM bts.members ORDER BY id")); got != "A\nB" {
		t.Fatalf("the source holds %q", got)
	}

	w.aws("rds", "restore-db-instance-to-point-in-time", "--source-db-instance-identifier", "pitr-src", "--target-db-instance-identifier", "pitr-db",
		"--restore-time", restoreTime.Format(time.RFC3339), "--db-subnet-group-name", "db-subnets", "--vpc-security-group-ids", dbSG)
	// The restore archived the source's logs up to its request.
	logs, _ := filepath.Glob(filepath.Join(dir, "rds", "*", "ap-northeast-2", "logs", "*", "*"))
	if len(logs) == 0 {
		t.Fatal("no binary log archived")
	}
	if got := get(w.aws("rds", "describe-db-instances", "--db-instance-identifier", "pitr-src"), "DBInstances", 0, "LatestRestorableTime"); got == "" {
		t.Error("no LatestRestorableTime")
	}
	w.aws("rds", "wait", "db-instance-available", "--db-instance-identifier", "pitr-db")
	restored := endpoint("pitr-db")
	if got := w.eventually(web, mysql(restored, "SELECT name FROM bts.members ORDER BY id"), 2*time.Minute); got != "A" {
		t.Fatalf("restored to %s, between the inserts: %q", restoreTime, got)
	}
	events := w.aws("rds", "describe-events", "--source-identifier", "pitr-db", "--source-type", "db-instance")
	want := "Restored from DB instance pitr-src to " + restoreTime.Format("2006-01-02 15:04:05")
	if !strings.Contains(fmt.Sprint(events), want) {
		t.Errorf("the restored instance's events (want %q): %v", want, events)
	}
	for _, id := range []string{"pitr-src", "pitr-db"} {
		w.aws("rds", "delete-db-instance", "--db-instance-identifier", id, "--skip-final-snapshot")
	}
	for _, id := range []string{"pitr-src", "pitr-db"} {
		w.aws("rds", "wait", "db-instance-deleted", "--db-instance-identifier", id)
	}
	w.checkSafety()
}

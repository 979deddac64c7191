package rds_test

import (
	"strings"
	"testing"
	"time"
)

// TestRestoreToPointInTime: without a data plane, the restorable window
// is the automated backups' (no logs are archived), shown as the
// instance's LatestRestorableTime; a restore to it or to the latest time
// makes a new instance with the overrides asked for and AWS's event,
// from a running source or from the backups a deleted one kept; bad
// requests get AWS's errors.
func TestRestoreToPointInTime(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	e.createDB(t, n, "src")
	e.waitStatus(t, "src", "available")
	var latest string
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		db := e.must(t, "describe-db-instances", "--db-instance-identifier", "src")["DBInstances"].([]any)[0].(map[string]any)
		if l, ok := db["LatestRestorableTime"].(string); ok {
			latest = l
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no LatestRestorableTime: %v", db)
		}
	}
	pitr := func(target string, extra ...string) []string {
		return append([]string{"restore-db-instance-to-point-in-time", "--target-db-instance-identifier", target}, extra...)
	}
	e.fails(t, "InvalidParameterCombination", "Cannot specify both RestoreTime and UseLatestRestorableTime.",
		pitr("x", "--source-db-instance-identifier", "src", "--restore-time", latest, "--use-latest-restorable-time")...)
	e.fails(t, "InvalidParameterCombination", "Either RestoreTime or UseLatestRestorableTime must be specified.",
		pitr("x", "--source-db-instance-identifier", "src")...)
	e.fails(t, "InvalidParameterCombination", "must be specified", pitr("x", "--use-latest-restorable-time")...)
	e.fails(t, "DBInstanceNotFound", "DBInstance nope not found.", pitr("x", "--source-db-instance-identifier", "nope", "--use-latest-restorable-time")...)
	e.fails(t, "InvalidRestoreFault", "Restore time 2020-01-01T00:00:00Z is not within the restorable window of DB instance src",
		pitr("x", "--source-db-instance-identifier", "src", "--restore-time", "2020-01-01T00:00:00Z")...)
	e.fails(t, "DBInstanceAlreadyExists", "DB instance already exists", pitr("src", "--source-db-instance-identifier", "src", "--use-latest-restorable-time")...)
	e.fails(t, "InvalidParameterValue", "is not a valid identifier", pitr("bad--id", "--source-db-instance-identifier", "src", "--use-latest-restorable-time")...)
	e.createDB(t, n, "no-backups", "--backup-retention-period", "0")
	e.fails(t, "PointInTimeRestoreNotEnabled", "BackupRetentionPeriod equal to 0",
		pitr("x", "--source-db-instance-identifier", "no-backups", "--use-latest-restorable-time")...)

	db := e.must(t, pitr("at-time", "--source-db-instance-identifier", "src", "--restore-time", latest, "--db-instance-class", "db.t3.small",
		"--port", "3307", "--db-subnet-group-name", "bts-db-subnets", "--tags", "Key=team,Value=bts")...)["DBInstance"].(map[string]any)
	if db["DBInstanceClass"] != "db.t3.small" || db["Engine"] != "mysql" || db["MasterUsername"] != "BTS_admin" || db["DBInstanceStatus"] != "creating" {
		t.Fatalf("restored: %v", db)
	}
	db = e.waitStatus(t, "at-time", "available")
	if db["Endpoint"].(map[string]any)["Port"] != float64(3307) {
		t.Fatalf("the port: %v", db["Endpoint"])
	}
	if got := messages(t, e, "--source-identifier", "at-time"); !strings.HasPrefix(got, "Restored from DB instance src to ") {
		t.Fatalf("the restored instance's events: %s", got)
	}
	res := e.must(t, "describe-db-instances", "--db-instance-identifier", "src")["DBInstances"].([]any)[0].(map[string]any)["DbiResourceId"].(string)

	// A deleted instance's kept backups are restored from by its
	// resource id.
	e.must(t, "delete-db-instance", "--db-instance-identifier", "src", "--skip-final-snapshot", "--no-delete-automated-backups")
	e.waitGone(t, "src")
	e.must(t, pitr("from-backups", "--source-dbi-resource-id", res, "--use-latest-restorable-time", "--db-subnet-group-name", "bts-db-subnets")...)
	e.waitStatus(t, "from-backups", "available")
	e.fails(t, "DBInstanceAutomatedBackupNotFound", "db-NOPE", pitr("x", "--source-dbi-resource-id", "db-NOPE", "--use-latest-restorable-time")...)
	e.fails(t, "InvalidParameterCombination", "Only one of", pitr("x", "--source-dbi-resource-id", res, "--source-db-instance-identifier", "at-time", "--use-latest-restorable-time")...)
}

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// postgresWorld is the postgres tests' world: seed 003's network, a web
// and a db security group (5432 from web) and the DB subnet group
// pg-subnets over the private subnets; if the test fails, the end of each
// DB node's console (its first boot) is logged.
func postgresWorld(t *testing.T) (*vpcWorld, seedNetwork, string, string) {
	t.Helper()
	dir := t.TempDir()
	w := newVPCWorld(t, Opts{DataDir: dir})
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		logs, _ := filepath.Glob(filepath.Join(dir, "*", "rds-*", "console.log"))
		for _, l := range logs {
			b, _ := os.ReadFile(l)
			t.Logf("%s:\n%s", l, b[max(0, len(b)-6000):])
		}
	})
	net := w.seedNetwork()
	webSG := get(w.aws("ec2", "create-security-group", "--group-name", "web", "--description", "web", "--vpc-id", net.vpc), "GroupId")
	dbSG := get(w.aws("ec2", "create-security-group", "--group-name", "db", "--description", "database", "--vpc-id", net.vpc), "GroupId")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", dbSG, "--protocol", "tcp", "--port", "5432", "--source-group", webSG)
	w.aws("rds", "create-db-subnet-group", "--db-subnet-group-name", "pg-subnets", "--db-subnet-group-description", "private subnets",
		"--subnet-ids", net.privA, net.privC)
	return w, net, webSG, dbSG
}

// TestRDSPostgres: `create-db-instance --engine postgres` in a VPC's
// private subnets (out to Debian's mirror through a NAT gateway). An
// Amazon Linux 2 web server with the psql client (`yum install -y
// postgresql`) connects through the endpoint on 5432 as the master user,
// creates a table, inserts and reads rows, which a reboot keeps; a wrong
// password and a connection without SSL (rds.force_ssl is on in
// postgres16) are refused.
func TestRDSPostgres(t *testing.T) {
	t.Parallel() // with the other data-tier tests (see TestRDSSeed003)
	w, net, webSG, dbSG := postgresWorld(t)
	privA := net.privA
	// The master user may be called postgres, as on RDS.
	db := w.aws("rds", "create-db-instance", "--engine", "postgres", "--db-instance-identifier", "app-pg", "--db-instance-class", "db.t3.micro",
		"--master-username", "postgres", "--master-user-password", "Pg-Secret-2024", "--db-name", "app", "--allocated-storage", "20",
		"--no-publicly-accessible", "--vpc-security-group-ids", dbSG, "--db-subnet-group-name", "pg-subnets")
	if get(db, "DBInstance", "EngineVersion") != "16.4" || get(db, "DBInstance", "DBParameterGroups", 0, "DBParameterGroupName") != "default.postgres16" {
		t.Fatalf("created: %v", db)
	}

	al2 := get(w.aws("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=amzn2-ami-hvm-*", "Name=architecture,Values=x86_64"), "Images", 0, "ImageId")
	web := get(w.aws("ec2", "run-instances", "--image-id", al2, "--instance-type", "t2.micro", "--subnet-id", privA,
		"--security-group-ids", webSG, "--user-data", "#!/bin/bash\nyum install -y postgresql\n"), "Instances", 0, "InstanceId")

	w.aws("rds", "wait", "db-instance-available", "--db-instance-identifier", "app-pg")
	desc := w.aws("rds", "describe-db-instances", "--db-instance-identifier", "app-pg")
	endpoint := get(desc, "DBInstances", 0, "Endpoint", "Address")
	if get(desc, "DBInstances", 0, "Endpoint", "Port") != "5432" || !strings.HasPrefix(endpoint, "app-pg.") {
		t.Fatalf("described: %v", desc)
	}
	w.aws("ec2", "wait", "instance-running", "--instance-ids", web)
	w.eventually(web, "command -v psql", 4*time.Minute)
	psql := func(password, conn, sql string) string {
		return "PGPASSWORD='" + password + "' psql 'host=" + endpoint + " port=5432 user=postgres dbname=app connect_timeout=5 " + conn + "' -tA -v ON_ERROR_STOP=1 -c \"" + sql + "\""
	}
	sql := func(q string) string { return w.shOK(web, psql("Pg-Secret-2024", "", q)) }

	// Available means PostgreSQL takes connections: no retrying here.
	if v := sql("SELECT version()"); !strings.HasPrefix(v, "PostgreSQL 15.") {
		t.Errorf("version(): %q, want Debian's PostgreSQL 15", v)
	}
	// default.postgres16's formulas for db.t3.micro's 1 GiB.
	if got := sql("SHOW max_connections") + " " + sql("SHOW shared_buffers") + " " + sql("SHOW ssl"); got != "112 256MB on" {
		t.Errorf("max_connections, shared_buffers, ssl: %q", got)
	}
	// The master user as on RDS: rds_superuser's member, no superuser.
	if got := sql("SELECT rolsuper, rolcreatedb, rolcreaterole, pg_has_role('rds_superuser', 'member') FROM pg_roles WHERE rolname = current_user"); got != "f|t|t|t" {
		t.Errorf("the master user's attributes: %q", got)
	}
	sql("CREATE TABLE members (id serial PRIMARY KEY, name text NOT NULL); INSERT INTO members (name) VALUES ('RM'), ('Jin'), ('Suga')")
	if got := sql("SELECT string_agg(name, ',' ORDER BY id) FROM members"); got != "RM,Jin,Suga" {
		t.Errorf("rows: %q", got)
	}
	// The endpoint is the node's private address in the DB's subnet.
	if ip := w.shOK(web, "getent hosts "+endpoint+" | awk '{print $1}'"); !strings.HasPrefix(ip, "10.0.1.") && !strings.HasPrefix(ip, "10.0.3.") {
		t.Errorf("%s resolves to %q", endpoint, ip)
	}
	if r := w.sh(web, psql("Wrong-Secret-1", "", "SELECT 1")); r.ExitCode == 0 || !strings.Contains(r.Stderr, `password authentication failed for user "postgres"`) {
		t.Errorf("a wrong password: %s", r)
	}
	if r := w.sh(web, psql("Pg-Secret-2024", "sslmode=disable", "SELECT 1")); r.ExitCode == 0 || !strings.Contains(r.Stderr, "no encryption") {
		t.Errorf("without SSL (rds.force_ssl=1): %s", r)
	}
	// A reboot starts the server again from the node's disk (the init
	// starts rds-postgresql); available again means it serves.
	w.aws("rds", "reboot-db-instance", "--db-instance-identifier", "app-pg")
	w.aws("rds", "wait", "db-instance-available", "--db-instance-identifier", "app-pg")
	if got := sql("SELECT count(*) FROM members"); got != "3" {
		t.Errorf("rows after a reboot: %q", got)
	}
	w.aws("rds", "delete-db-instance", "--db-instance-identifier", "app-pg", "--skip-final-snapshot")
	w.aws("rds", "wait", "db-instance-deleted", "--db-instance-identifier", "app-pg")
	w.checkSafety()
}

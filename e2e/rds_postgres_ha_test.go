package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestRDSPostgresMultiAZ: `create-db-instance --engine postgres
// --multi-az`. The standby, in the other zone, is a pg_basebackup copy of
// the primary that streams its WAL synchronously (pg_stat_replication
// says sync), serves reads and refuses writes. A steady writer on an
// Amazon Linux 2 instance goes through `reboot-db-instance
// --force-failover`: the standby is promoted, the endpoint moves to it,
// every acknowledged row is there, and the old primary comes back as the
// new synchronous standby. `modify-db-instance --no-multi-az` and
// `--multi-az` remove and make the standby. A read replica streams
// asynchronously, serves reads, refuses writes, and is promoted when its
// source is deleted. A snapshot restores as a new instance with every row.
func TestRDSPostgresMultiAZ(t *testing.T) {
	t.Parallel() // with the other data-tier tests (see TestRDSSeed003)
	w, net, webSG, dbSG := postgresWorld(t)
	privA, privC := net.privA, net.privC
	db := w.aws("rds", "create-db-instance", "--engine", "postgres", "--db-instance-identifier", "ha-pg", "--db-instance-class", "db.t3.micro",
		"--master-username", "postgres", "--master-user-password", "Pg-Secret-2024", "--db-name", "app", "--allocated-storage", "20",
		"--no-publicly-accessible", "--vpc-security-group-ids", dbSG, "--db-subnet-group-name", "pg-subnets", "--multi-az")
	if get(db, "DBInstance", "MultiAZ") != "true" {
		t.Fatalf("created: %v", db)
	}
	al2 := get(w.aws("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=amzn2-ami-hvm-*", "Name=architecture,Values=x86_64"), "Images", 0, "ImageId")
	web := get(w.aws("ec2", "run-instances", "--image-id", al2, "--instance-type", "t2.micro", "--subnet-id", privA,
		"--security-group-ids", webSG, "--user-data", "#!/bin/bash\nyum install -y postgresql\n"), "Instances", 0, "InstanceId")

	w.aws("rds", "wait", "db-instance-available", "--db-instance-identifier", "ha-pg")
	desc := w.aws("rds", "describe-db-instances", "--db-instance-identifier", "ha-pg")
	endpoint := get(desc, "DBInstances", 0, "Endpoint", "Address")
	az := func(s string) string { return "ap-northeast-2" + s }
	if get(desc, "DBInstances", 0, "AvailabilityZone") != az("a") || get(desc, "DBInstances", 0, "SecondaryAvailabilityZone") != az("c") {
		t.Fatalf("described: %v", desc)
	}
	// The nodes' addresses: the RDS interfaces in each private subnet.
	nodeIP := func(subnet string) string {
		return get(w.aws("ec2", "describe-network-interfaces", "--filters", "Name=subnet-id,Values="+subnet,
			"Name=description,Values=RDSNetworkInterface"), "NetworkInterfaces", 0, "PrivateIpAddress")
	}
	ipA, ipC := nodeIP(privA), nodeIP(privC)
	w.aws("ec2", "wait", "instance-running", "--instance-ids", web)
	w.eventually(web, "command -v psql", 4*time.Minute)
	psqlAt := func(host, sql string) string {
		return "PGPASSWORD=Pg-Secret-2024 psql 'host=" + host + " port=5432 user=postgres dbname=app connect_timeout=5' -tA -v ON_ERROR_STOP=1 -c \"" + sql + "\""
	}
	sql := func(q string) string { return w.shOK(web, psqlAt(endpoint, q)) }
	// The primary names the streaming standby synchronous.
	standbySync := "SELECT application_name || ':' || sync_state FROM pg_stat_replication"
	w.eventually(web, psqlAt(endpoint, standbySync)+" | grep -x rds_standby:sync", time.Minute)
	if got := sql("SHOW synchronous_commit"); got != "on" {
		t.Errorf("synchronous_commit: %q", got)
	}

	sql("CREATE TABLE members (id serial PRIMARY KEY, name text NOT NULL); INSERT INTO members (name) VALUES ('RM'), ('Jin'); CREATE TABLE load (n int PRIMARY KEY)")
	// A synchronous standby has every committed row at once.
	if got := w.shOK(web, psqlAt(ipC, "SELECT pg_is_in_recovery(), string_agg(name, ',' ORDER BY id) FROM members")); got != "t|RM,Jin" {
		t.Errorf("on the standby: %q", got)
	}
	if r := w.sh(web, psqlAt(ipC, "INSERT INTO members (name) VALUES ('nope')")); r.ExitCode == 0 || !strings.Contains(r.Stderr, "cannot execute INSERT in a read-only transaction") {
		t.Errorf("a write on the standby: %s", r)
	}

	// A steady writer, a connection per row, noting each acknowledged row.
	writer := "n=0; while [ ! -e /tmp/stop-writer ]; do n=$((n+1)); " +
		psqlAt(endpoint, "INSERT INTO load VALUES ($n)") + " >/dev/null 2>&1 && echo $n >> /tmp/acked || sleep 0.2; done"
	w.shOK(web, "rm -f /tmp/acked /tmp/stop-writer; cat > /tmp/writer.sh <<'WRITER'\n"+writer+"\nWRITER\n"+
		"(nohup bash /tmp/writer.sh >/dev/null 2>&1 & echo $! > /tmp/writer.pid)")
	w.eventually(web, "test $(wc -l < /tmp/acked) -ge 20 && echo ok", 2*time.Minute)
	w.aws("rds", "reboot-db-instance", "--db-instance-identifier", "ha-pg", "--force-failover")
	w.aws("rds", "wait", "db-instance-available", "--db-instance-identifier", "ha-pg")
	after := w.aws("rds", "describe-db-instances", "--db-instance-identifier", "ha-pg")
	if get(after, "DBInstances", 0, "AvailabilityZone") != az("c") || get(after, "DBInstances", 0, "SecondaryAvailabilityZone") != az("a") {
		t.Fatalf("after the failover: %v", after)
	}
	if ip := w.shOK(web, "getent hosts "+endpoint+" | awk '{print $1}'"); ip != ipC {
		t.Errorf("after the failover %s resolves to %q, want the standby's %s", endpoint, ip, ipC)
	}
	acked := w.shOK(web, "wc -l < /tmp/acked")
	w.eventually(web, "test $(wc -l < /tmp/acked) -ge $(("+acked+" + 20)) && echo ok", 2*time.Minute)
	w.shOK(web, "touch /tmp/stop-writer; while kill -0 $(cat /tmp/writer.pid) 2>/dev/null; do sleep 0.2; done; sort /tmp/acked > /tmp/acked.sorted")
	present := w.shOK(web, psqlAt(endpoint, "SELECT n FROM load")+" | sort > /tmp/present; wc -l < /tmp/present")
	missing := w.shOK(web, "comm -23 /tmp/acked.sorted /tmp/present | wc -l")
	total := w.shOK(web, "wc -l < /tmp/acked")
	t.Logf("%s rows acknowledged, %s present after the failover", total, present)
	if missing != "0" {
		t.Errorf("%s acknowledged rows are missing after the failover", missing)
	}
	if got := sql("SELECT pg_is_in_recovery(), count(*) FROM members"); got != "f|2" {
		t.Errorf("the promoted primary: %q", got)
	}
	events := w.aws("rds", "describe-events", "--source-type", "db-instance", "--source-identifier", "ha-pg")
	if got := fmt.Sprint(events); !strings.Contains(got, "Multi-AZ instance failover started.") || !strings.Contains(got, "Multi-AZ instance failover completed.") {
		t.Errorf("events: %v", events)
	}
	// The old primary is copied anew from the new one and is its
	// synchronous standby.
	w.eventually(web, psqlAt(endpoint, standbySync)+" | grep -x rds_standby:sync", 3*time.Minute)
	w.eventually(web, psqlAt(ipA, "SELECT pg_is_in_recovery(), count(*) FROM load")+" | grep -x t\\|"+present, time.Minute)

	// Without the standby the primary commits alone; with a new one it
	// waits for it again.
	w.aws("rds", "modify-db-instance", "--db-instance-identifier", "ha-pg", "--no-multi-az", "--apply-immediately")
	w.aws("rds", "wait", "db-instance-available", "--db-instance-identifier", "ha-pg")
	if got := get(w.aws("rds", "describe-db-instances", "--db-instance-identifier", "ha-pg"), "DBInstances", 0, "MultiAZ"); got != "false" {
		t.Errorf("after --no-multi-az: MultiAZ %s", got)
	}
	w.eventually(web, "timeout 20 env "+psqlAt(endpoint, "INSERT INTO members (name) VALUES ('alone') RETURNING name"), time.Minute)
	w.aws("rds", "modify-db-instance", "--db-instance-identifier", "ha-pg", "--multi-az", "--apply-immediately")
	w.aws("rds", "wait", "db-instance-available", "--db-instance-identifier", "ha-pg")
	w.eventually(web, psqlAt(endpoint, standbySync)+" | grep -x rds_standby:sync", 3*time.Minute)

	// A snapshot is a base backup of the whole cluster: the restored
	// instance has every row, and the master user as it was.
	// (An 'alone' insert that timed out waiting for the removed standby
	// may have committed too: the rows are counted.)
	members := sql("SELECT count(*) FROM members")
	w.aws("rds", "create-db-snapshot", "--db-instance-identifier", "ha-pg", "--db-snapshot-identifier", "ha-pg-snap")
	w.aws("rds", "wait", "db-snapshot-available", "--db-snapshot-identifier", "ha-pg-snap")
	w.aws("rds", "restore-db-instance-from-db-snapshot", "--db-instance-identifier", "ha-pg-restored", "--db-snapshot-identifier", "ha-pg-snap",
		"--db-subnet-group-name", "pg-subnets", "--vpc-security-group-ids", dbSG)

	// A read replica: a hot standby streaming asynchronously from the
	// source's primary. It serves reads and refuses writes; deleting the
	// source promotes it (pg_promote), writable then.
	w.aws("rds", "create-db-instance-read-replica", "--db-instance-identifier", "ha-pg-replica", "--source-db-instance-identifier", "ha-pg")
	w.aws("rds", "wait", "db-instance-available", "--db-instance-identifier", "ha-pg-replica")
	rep := w.aws("rds", "describe-db-instances", "--db-instance-identifier", "ha-pg-replica")
	if get(rep, "DBInstances", 0, "ReadReplicaSourceDBInstanceIdentifier") != "ha-pg" || get(rep, "DBInstances", 0, "StatusInfos", 0, "Status") != "replicating" {
		t.Fatalf("replica: %v", rep)
	}
	repEndpoint := get(rep, "DBInstances", 0, "Endpoint", "Address")
	if got := w.shOK(web, psqlAt(repEndpoint, "SELECT pg_is_in_recovery(), count(*) FROM members")); got != "t|"+members {
		t.Errorf("on the replica: %q, want t|%s", got, members)
	}
	if got := sql(standbySync + " ORDER BY 1"); got != "rds_replica:async\nrds_standby:sync" {
		t.Errorf("the source's standbys: %q", got)
	}
	sql("INSERT INTO members (name) VALUES ('V')")
	w.eventually(web, psqlAt(repEndpoint, "SELECT count(*) FROM members WHERE name = 'V'")+" | grep -x 1", time.Minute)
	if r := w.sh(web, psqlAt(repEndpoint, "INSERT INTO members (name) VALUES ('nope')")); r.ExitCode == 0 ||
		!strings.Contains(r.Stderr, "cannot execute INSERT in a read-only transaction") {
		t.Errorf("a write on the replica: %s", r)
	}

	w.aws("rds", "wait", "db-instance-available", "--db-instance-identifier", "ha-pg-restored")
	restored := get(w.aws("rds", "describe-db-instances", "--db-instance-identifier", "ha-pg-restored"), "DBInstances", 0, "Endpoint", "Address")
	if got := w.shOK(web, psqlAt(restored, "SELECT (SELECT count(*) FROM members) || ':' || (SELECT count(*) FROM load) || ':' || pg_is_in_recovery()")); got != members+":"+present+":false" {
		t.Errorf("the restored instance holds %q, want %s members, %s load rows, writable", got, members, present)
	}
	w.shOK(web, psqlAt(restored, "INSERT INTO members (name) VALUES ('restored')"))
	events = w.aws("rds", "describe-events", "--source-type", "db-instance", "--source-identifier", "ha-pg-restored")
	if !strings.Contains(fmt.Sprint(events), "Restored from snapshot ha-pg-snap") {
		t.Errorf("events: %v", events)
	}
	w.aws("rds", "delete-db-instance", "--db-instance-identifier", "ha-pg-restored", "--skip-final-snapshot")

	w.aws("rds", "delete-db-instance", "--db-instance-identifier", "ha-pg", "--skip-final-snapshot")
	w.aws("rds", "wait", "db-instance-deleted", "--db-instance-identifier", "ha-pg")
	w.aws("rds", "wait", "db-instance-available", "--db-instance-identifier", "ha-pg-replica")
	if got := get(w.aws("rds", "describe-db-instances", "--db-instance-identifier", "ha-pg-replica"), "DBInstances", 0, "ReadReplicaSourceDBInstanceIdentifier"); got != "" {
		t.Errorf("still a replica of %s after its source's deletion", got)
	}
	w.eventually(web, psqlAt(repEndpoint, "INSERT INTO members (name) VALUES ('after') RETURNING pg_is_in_recovery()")+" | grep -x f", 2*time.Minute)
	w.aws("rds", "delete-db-instance", "--db-instance-identifier", "ha-pg-replica", "--skip-final-snapshot")
	w.aws("rds", "wait", "db-instance-deleted", "--db-instance-identifier", "ha-pg-replica")
	w.aws("rds", "wait", "db-instance-deleted", "--db-instance-identifier", "ha-pg-restored")
	w.checkSafety()
}

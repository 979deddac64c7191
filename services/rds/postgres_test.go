package rds_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cloudbox/cloudbox/api"
	rdsapi "github.com/cloudbox/cloudbox/api/rds"
	"github.com/cloudbox/cloudbox/desired"
)

// TestPostgresEngineVersions: postgres's versions and families as AWS
// lists them, and the families' default parameter groups with AWS's
// formulas.
func TestPostgresEngineVersions(t *testing.T) {
	e := newEnv(t)
	out := e.must(t, "describe-db-engine-versions", "--engine", "postgres", "--default-only")
	v := out["DBEngineVersions"].([]any)
	if len(v) != 1 {
		t.Fatalf("default postgres: %v", out)
	}
	d := v[0].(map[string]any)
	if d["EngineVersion"] != "16.4" || d["DBParameterGroupFamily"] != "postgres16" || d["MajorEngineVersion"] != "16" ||
		d["DBEngineDescription"] != "PostgreSQL" || fmt.Sprint(d["ExportableLogTypes"]) != "[postgresql upgrade]" {
		t.Fatalf("default postgres: %v", d)
	}
	out = e.must(t, "describe-db-engine-versions", "--engine", "postgres", "--engine-version", "15")
	if vs := out["DBEngineVersions"].([]any); len(vs) != 2 || vs[0].(map[string]any)["DBParameterGroupFamily"] != "postgres15" {
		t.Fatalf("postgres 15: %v", out)
	}
	// 15.8's upgrade targets: 16.x are major upgrades.
	for _, tg := range out["DBEngineVersions"].([]any)[1].(map[string]any)["ValidUpgradeTarget"].([]any) {
		tg := tg.(map[string]any)
		if major := strings.HasPrefix(tg["EngineVersion"].(string), "16."); tg["IsMajorVersionUpgrade"] != major {
			t.Errorf("upgrade target %v", tg)
		}
	}
	out = e.must(t, "describe-db-engine-versions", "--db-parameter-group-family", "postgres14")
	if vs := out["DBEngineVersions"].([]any); len(vs) != 2 || vs[0].(map[string]any)["Engine"] != "postgres" {
		t.Fatalf("postgres14: %v", out)
	}
	out = e.must(t, "describe-orderable-db-instance-options", "--engine", "postgres", "--engine-version", "16.4", "--db-instance-class", "db.t3.micro")
	if o := out["OrderableDBInstanceOptions"].([]any); len(o) != 1 || o[0].(map[string]any)["MultiAZCapable"] != false {
		t.Fatalf("orderable: %v", out)
	}

	groups := fmt.Sprint(e.must(t, "describe-db-parameter-groups")["DBParameterGroups"])
	for _, f := range []string{"postgres14", "postgres15", "postgres16"} {
		if !strings.Contains(groups, "default."+f) {
			t.Errorf("no default.%s in %s", f, groups)
		}
	}
	def := e.must(t, "describe-db-parameters", "--db-parameter-group-name", "default.postgres16")
	for name, want := range map[string]string{"max_connections": "LEAST({DBInstanceClassMemory/9531392},5000)", "shared_buffers": "{DBInstanceClassMemory/32768}",
		"maintenance_work_mem": "GREATEST({DBInstanceClassMemory*1024/63963136},65536)", "rds.force_ssl": "1", "timezone": "UTC"} {
		if p := param(t, def, name); p["ParameterValue"] != want || p["Source"] != "system" {
			t.Errorf("default.postgres16 %s: %v", name, p)
		}
	}
	if p := param(t, def, "work_mem"); p["ParameterValue"] != nil || p["Source"] != "engine-default" || p["ApplyType"] != "dynamic" {
		t.Errorf("work_mem: %v", p)
	}
	if p := param(t, e.must(t, "describe-db-parameters", "--db-parameter-group-name", "default.postgres14"), "rds.force_ssl"); p["ParameterValue"] != "0" {
		t.Errorf("postgres14's rds.force_ssl: %v", p)
	}

	e.must(t, "create-db-parameter-group", "--db-parameter-group-name", "pg15", "--db-parameter-group-family", "postgres15", "--description", "pg")
	e.must(t, "modify-db-parameter-group", "--db-parameter-group-name", "pg15", "--parameters",
		`[{"ParameterName": "work_mem", "ParameterValue": "8192", "ApplyMethod": "immediate"},
		  {"ParameterName": "max_connections", "ParameterValue": "LEAST({DBInstanceClassMemory/9531392},100)", "ApplyMethod": "pending-reboot"},
		  {"ParameterName": "log_statement", "ParameterValue": "ddl", "ApplyMethod": "immediate"}]`)
	if ps := e.must(t, "describe-db-parameters", "--db-parameter-group-name", "pg15", "--source", "user")["Parameters"].([]any); len(ps) != 3 {
		t.Fatalf("user parameters: %v", ps)
	}
	e.fails(t, "InvalidParameterValue", "Could not find parameter with name: innodb_buffer_pool_size", "modify-db-parameter-group", "--db-parameter-group-name", "pg15",
		"--parameters", "ParameterName=innodb_buffer_pool_size,ParameterValue=134217728,ApplyMethod=pending-reboot")
	e.fails(t, "InvalidParameterCombination", "cannot use immediate apply method for static parameter", "modify-db-parameter-group", "--db-parameter-group-name", "pg15",
		"--parameters", "ParameterName=shared_buffers,ParameterValue=16384,ApplyMethod=immediate")
	e.fails(t, "InvalidParameterValue", "log_statement", "modify-db-parameter-group", "--db-parameter-group-name", "pg15",
		"--parameters", "ParameterName=log_statement,ParameterValue=everything,ApplyMethod=immediate")
	e.fails(t, "InvalidParameterValue", "max_connections", "modify-db-parameter-group", "--db-parameter-group-name", "pg15",
		"--parameters", `[{"ParameterName": "max_connections", "ParameterValue": "LEAST({DBInstanceClassMemory/0},5)", "ApplyMethod": "pending-reboot"}]`)
}

// TestPostgresInstance: a postgres instance listens on 5432 unless told,
// follows PostgreSQL's naming rules as RDS checks them, and takes read
// replicas.
func TestPostgresInstance(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	e.must(t, "create-db-subnet-group", "--db-subnet-group-name", "g", "--db-subnet-group-description", "g", "--subnet-ids", n.privateA, n.privateC)
	base := func(id, user, password string, extra ...string) []string {
		return append([]string{"create-db-instance", "--engine", "postgres", "--db-instance-identifier", id, "--db-instance-class", "db.t3.micro",
			"--master-username", user, "--master-user-password", password, "--allocated-storage", "20", "--db-subnet-group-name", "g",
			"--vpc-security-group-ids", n.dbSG}, extra...)
	}
	e.fails(t, "InvalidParameterValue", "MasterUsername select cannot be used as it is a reserved word used by the engine", base("pg", "select", "Pg-Secret-2024")...)
	e.fails(t, "InvalidParameterValue", "MasterUsername pg_admin cannot be used as it is a reserved word used by the engine", base("pg", "pg_admin", "Pg-Secret-2024")...)
	e.fails(t, "InvalidParameterValue", "must be 1 to 63 characters long", base("pg", strings.Repeat("a", 64), "Pg-Secret-2024")...)
	e.fails(t, "InvalidParameterValue", "longer than 128 characters", base("pg", "postgres", strings.Repeat("p", 129))...)
	e.fails(t, "InvalidParameterValue", "The parameter DBName is not a valid identifier", base("pg", "postgres", "Pg-Secret-2024", "--db-name", "1app")...)
	e.fails(t, "InvalidParameterCombination", "Cannot find version 9.6 for postgres", base("pg", "postgres", "Pg-Secret-2024", "--engine-version", "9.6")...)
	e.fails(t, "InvalidParameterCombination", "DBParameterGroupFamily postgres16", base("pg", "postgres", "Pg-Secret-2024", "--db-parameter-group-name", "default.mysql8.0")...)
	if out := e.must(t, "describe-db-instances"); len(out["DBInstances"].([]any)) != 0 {
		t.Fatalf("a refused request left an instance: %v", out)
	}

	// Longer than MySQL's limits: a 20-character user, a 50-character password.
	db := e.must(t, base("pg", "application_owner_01", strings.Repeat("Pg-Secret", 5)+"!", "--engine-version", "15", "--db-name", "app")...)["DBInstance"].(map[string]any)
	if db["EngineVersion"] != "15.8" || fmt.Sprint(db["DBParameterGroups"]) != "[map[DBParameterGroupName:default.postgres15 ParameterApplyStatus:in-sync]]" ||
		fmt.Sprint(db["OptionGroupMemberships"]) != "[map[OptionGroupName:default:postgres-15 Status:in-sync]]" {
		t.Fatalf("created: %v", db)
	}
	db = e.waitStatus(t, "pg", "available")
	if ep := db["Endpoint"].(map[string]any); ep["Port"] != float64(5432) || db["MasterUsername"] != "application_owner_01" || db["DBName"] != "app" {
		t.Fatalf("described: %v", db)
	}
	e.must(t, base("pg-other-port", "postgres", "Pg-Secret-2024", "--port", "6543")...)
	if db := e.waitStatus(t, "pg-other-port", "available"); db["Endpoint"].(map[string]any)["Port"] != float64(6543) {
		t.Fatalf("with --port 6543: %v", db["Endpoint"])
	}
	rep := e.must(t, "create-db-instance-read-replica", "--db-instance-identifier", "pg-replica", "--source-db-instance-identifier", "pg")["DBInstance"].(map[string]any)
	if rep["Engine"] != "postgres" || rep["ReadReplicaSourceDBInstanceIdentifier"] != "pg" || rep["MasterUsername"] != "application_owner_01" {
		t.Fatalf("replica: %v", rep)
	}
	if db := e.waitStatus(t, "pg", "available"); db["MultiAZ"] != false {
		t.Fatalf("after the refusals: %v", db)
	}
}

// TestPostgresSlot: a postgres instance's node is a slot whose script
// installs Debian's PostgreSQL, writes the group's values computed for the
// class, admits everyone by password (over SSL only when rds.force_ssl is
// on), makes the master user as RDS does and ends once the server takes
// connections.
func TestPostgresSlot(t *testing.T) {
	e := newEnvWith(t, true)
	n := e.network(t)
	ctx := api.WithRequest(context.Background(), &api.Request{Region: region, Caller: api.Principal{Account: "000000000000"}})
	if _, err := e.svc.CreateDBSubnetGroup(ctx, &rdsapi.CreateDBSubnetGroupMessage{DBSubnetGroupName: aws.String("g"),
		DBSubnetGroupDescription: aws.String("g"), SubnetIds: []*string{aws.String(n.privateA), aws.String(n.privateC)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateDBParameterGroup(ctx, &rdsapi.CreateDBParameterGroupMessage{DBParameterGroupName: aws.String("pg"),
		DBParameterGroupFamily: aws.String("postgres16"), Description: aws.String("pg")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ModifyDBParameterGroup(ctx, &rdsapi.ModifyDBParameterGroupMessage{DBParameterGroupName: aws.String("pg"), Parameters: []*rdsapi.Parameter{
		{ParameterName: aws.String("work_mem"), ParameterValue: aws.String("8192"), ApplyMethod: aws.String("immediate")},
		{ParameterName: aws.String("rds.force_ssl"), ParameterValue: aws.String("0"), ApplyMethod: aws.String("immediate")},
		{ParameterName: aws.String("timezone"), ParameterValue: aws.String("Asia/Seoul"), ApplyMethod: aws.String("immediate")}}}); err != nil {
		t.Fatal(err)
	}
	create := func(id, group string) string {
		in := &rdsapi.CreateDBInstanceMessage{DBInstanceIdentifier: aws.String(id), Engine: aws.String("postgres"),
			DBInstanceClass: aws.String("db.t3.small"), MasterUsername: aws.String("BTS_admin"), MasterUserPassword: aws.String(`it's\secret`),
			AllocatedStorage: aws.Int64(20), DBSubnetGroupName: aws.String("g"), DBName: aws.String("app"), VpcSecurityGroupIds: []*string{aws.String(n.dbSG)}}
		if group != "" {
			in.DBParameterGroupName = aws.String(group)
		}
		if _, err := e.svc.CreateDBInstance(ctx, in); err != nil {
			t.Fatal(err)
		}
		w := e.world(t)
		return string(w.Slots[len(w.Slots)-1].Script)
	}
	script := create("custom", "pg")
	w := e.world(t)
	if sl := w.Slots[0]; len(w.Slots) != 1 || sl.VCPUs != 2 || sl.MemoryMiB != 2048 || !sl.Running {
		t.Fatalf("slots: %+v", w.Slots)
	}
	// db.t3.small's 2 GiB: max_connections 2147483648/9531392, shared
	// buffers 2147483648/32768 (8 kB pages), maintenance_work_mem
	// GREATEST(34379, 65536).
	for _, want := range []string{"apt-get install -y --no-install-recommends postgresql", "port = 5432", "listen_addresses = '*'",
		"max_connections = 225\n", "shared_buffers = 65536\n", "effective_cache_size = 131072\n", "maintenance_work_mem = 65536\n",
		"work_mem = 8192\n", "timezone = 'Asia/Seoul'\n", "\nhost all all all scram-sha-256\n",
		`CREATE ROLE "BTS_admin" LOGIN CREATEDB CREATEROLE PASSWORD 'it''s\secret';`, `GRANT rds_superuser TO "BTS_admin" WITH ADMIN OPTION;`,
		`CREATE DATABASE "app" OWNER "BTS_admin";`, "until pg_isready -q -h /run/postgresql -p 5432"} {
		if !strings.Contains(script, want) {
			t.Errorf("the script has no %q:\n%s", want, script)
		}
	}
	if strings.Contains(script, "rds.force_ssl") || strings.Contains(script, "hostssl") || strings.Contains(script, "mariadb") {
		t.Errorf("the script configures what it should not:\n%s", script)
	}
	// The default group forces SSL, as postgres16's does on RDS.
	if script := create("default", ""); !strings.Contains(script, "\nhostssl all all all scram-sha-256\n") || !strings.Contains(script, "timezone = 'UTC'\n") {
		t.Errorf("with default.postgres16:\n%s", script)
	}
}

// TestPostgresMultiAZ: a Multi-AZ postgres instance's standby is a node in
// the other zone whose first boot copies the primary (pg_basebackup -R)
// and streams from it as the synchronous standby; the origin admits
// replication from the subnet group's networks only, and both nodes keep
// their role by the endpoint's name. Failover and the events are the
// MariaDB path's; a standby made again after a failover has a slot of
// its own.
func TestPostgresMultiAZ(t *testing.T) {
	e := newEnvWith(t, true)
	n := e.network(t)
	ctx := api.WithRequest(context.Background(), &api.Request{Region: region, Caller: api.Principal{Account: "000000000000"}})
	if _, err := e.svc.CreateDBSubnetGroup(ctx, &rdsapi.CreateDBSubnetGroupMessage{DBSubnetGroupName: aws.String("g"),
		DBSubnetGroupDescription: aws.String("g"), SubnetIds: []*string{aws.String(n.privateA), aws.String(n.privateC)}}); err != nil {
		t.Fatal(err)
	}
	out, err := e.svc.CreateDBInstance(ctx, &rdsapi.CreateDBInstanceMessage{DBInstanceIdentifier: aws.String("pg"), Engine: aws.String("postgres"),
		DBInstanceClass: aws.String("db.t3.micro"), MasterUsername: aws.String("postgres"), MasterUserPassword: aws.String("Pg-Secret-2024"),
		AllocatedStorage: aws.Int64(20), DBSubnetGroupName: aws.String("g"), MultiAZ: aws.Bool(true), VpcSecurityGroupIds: []*string{aws.String(n.dbSG)}})
	if err != nil {
		t.Fatal(err)
	}
	if db := out.DBInstance; !*db.MultiAZ || *db.AvailabilityZone == *db.SecondaryAvailabilityZone {
		t.Fatalf("created: %+v", db)
	}
	w := e.world(t)
	if len(w.Slots) != 2 || len(w.Names) != 1 {
		t.Fatalf("world: %+v %+v", w.Slots, w.Names)
	}
	primary, standby := string(w.Slots[0].Script), string(w.Slots[1].Script)
	endpoint := w.Names[0].Name
	for _, s := range []string{primary, standby} {
		for _, want := range []string{"host replication rdsrepladmin 10.0.1.0/24 scram-sha-256\nhost replication rdsrepladmin 10.0.3.0/24 scram-sha-256\n",
			"synchronous_commit = on\n", "hot_standby = on\n", "name=" + endpoint + " ", "ExecStartPre=/usr/local/sbin/rds-pg-follow boot",
			"pg_basebackup -d \"host=$1 port=$port user=rdsrepladmin", "SELECT pg_promote(true, 60)", "systemctl start rds-pg-follow"} {
			if !strings.Contains(s, want) {
				t.Errorf("a node's script has no %q:\n%s", want, s)
			}
		}
		// rds-pg-follow is a script of its own: bash must parse it.
		follow := s[strings.Index(s, "<<'FOLLOW'\n")+len("<<'FOLLOW'\n") : strings.Index(s, "\nFOLLOW\n")]
		cmd := exec.Command("bash", "-n")
		cmd.Stdin = strings.NewReader(follow)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("rds-pg-follow: %v\n%s", err, b)
		}
	}
	if !strings.Contains(primary, `CREATE ROLE "postgres" LOGIN`) || !strings.Contains(primary, "ALTER ROLE rdsrepladmin LOGIN REPLICATION PASSWORD") ||
		strings.Contains(standby, "CREATE ROLE") || !strings.Contains(standby, "until /usr/local/sbin/rds-pg-follow once") ||
		!strings.Contains(standby, " app=rds_standby\n") {
		t.Fatalf("scripts:\n%s\n---\n%s", primary, standby)
	}
	e.svc.ReportSlot("000000000000", region, w.Slots[0].ID, desired.Running, "")
	e.svc.ReportSlot("000000000000", region, w.Slots[1].ID, desired.Running, "")
	for deadline := time.Now().Add(10 * time.Second); e.status(t, ctx, "pg") != "available"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("never available")
		}
	}
	first := w.Names[0].Addrs[0]
	if _, err := e.svc.RebootDBInstance(ctx, &rdsapi.RebootDBInstanceMessage{DBInstanceIdentifier: aws.String("pg"), ForceFailover: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.svc.ReportSlot("000000000000", region, w.Slots[0].ID, desired.Stopped, "")
	if w2 := e.world(t); w2.Names[0].Addrs[0] == first || w2.Slots[0].ID != w.Slots[1].ID {
		t.Fatalf("after the primary stopped: %+v", w.Names[0])
	}
	e.svc.ReportSlot("000000000000", region, w.Slots[0].ID, desired.Running, "")
	if got := e.status(t, ctx, "pg"); got != "available" {
		t.Fatalf("after the failover: %s", got)
	}

	// Turning Multi-AZ off removes the standby; on makes a new copy.
	if _, err := e.svc.ModifyDBInstance(ctx, &rdsapi.ModifyDBInstanceMessage{DBInstanceIdentifier: aws.String("pg"), MultiAZ: aws.Bool(false),
		ApplyImmediately: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	if w := e.world(t); len(w.Slots) != 1 {
		t.Fatalf("after --no-multi-az: %+v", w.Slots)
	}
	if _, err := e.svc.ModifyDBInstance(ctx, &rdsapi.ModifyDBInstanceMessage{DBInstanceIdentifier: aws.String("pg"), MultiAZ: aws.Bool(true),
		ApplyImmediately: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	// The new standby's slot is a new one: not the primary's (the first
	// standby's, since the failover), nor the removed node's.
	if w2 := e.world(t); len(w2.Slots) != 2 || w2.Slots[0].ID != w.Slots[1].ID || w2.Slots[1].ID != w.Slots[0].ID+"-3" ||
		strings.Contains(string(w2.Slots[1].Script), "CREATE ROLE") || e.status(t, ctx, "pg") != "modifying" {
		t.Fatalf("after --multi-az: %+v", w2.Slots)
	}
}

// TestPostgresReadReplica: a postgres read replica's node copies its
// source's primary and streams from it asynchronously (application_name
// rds_replica, which the source never waits for), following the name its
// source publishes; the source's nodes admit replication from the
// replica's address. Promotion points the name at the replica itself.
func TestPostgresReadReplica(t *testing.T) {
	e := newEnvWith(t, true)
	n := e.network(t)
	ctx := api.WithRequest(context.Background(), &api.Request{Region: region, Caller: api.Principal{Account: "000000000000"}})
	if _, err := e.svc.CreateDBSubnetGroup(ctx, &rdsapi.CreateDBSubnetGroupMessage{DBSubnetGroupName: aws.String("g"),
		DBSubnetGroupDescription: aws.String("g"), SubnetIds: []*string{aws.String(n.privateA), aws.String(n.privateC)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateDBInstance(ctx, &rdsapi.CreateDBInstanceMessage{DBInstanceIdentifier: aws.String("src"), Engine: aws.String("postgres"),
		DBInstanceClass: aws.String("db.t3.micro"), MasterUsername: aws.String("postgres"), MasterUserPassword: aws.String("Pg-Secret-2024"),
		AllocatedStorage: aws.Int64(20), DBSubnetGroupName: aws.String("g"), VpcSecurityGroupIds: []*string{aws.String(n.dbSG)}}); err != nil {
		t.Fatal(err)
	}
	e.svc.ReportSlot("000000000000", region, e.world(t).Slots[0].ID, desired.Running, "")
	for deadline := time.Now().Add(10 * time.Second); e.status(t, ctx, "src") != "available"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("never available")
		}
	}
	out, err := e.svc.CreateDBInstanceReadReplica(ctx, &rdsapi.CreateDBInstanceReadReplicaMessage{DBInstanceIdentifier: aws.String("rep"),
		SourceDBInstanceIdentifier: aws.String("src"), AvailabilityZone: aws.String(region + "c")})
	if err != nil {
		t.Fatal(err)
	}
	if *out.DBInstance.Engine != "postgres" || *out.DBInstance.ReadReplicaSourceDBInstanceIdentifier != "src" {
		t.Fatalf("replica: %+v", out.DBInstance)
	}
	w := e.world(t)
	if len(w.Slots) != 2 {
		t.Fatalf("slots: %+v", w.Slots)
	}
	var follow, srcName *desired.Name
	for _, nm := range w.Names {
		switch {
		case strings.HasPrefix(nm.Name, "source.rep."):
			follow = nm
		case strings.HasPrefix(nm.Name, "src."):
			srcName = nm
		}
	}
	if follow == nil || srcName == nil || follow.Addrs[0] != srcName.Addrs[0] {
		t.Fatalf("the name the replica follows: %+v", w.Names)
	}
	var rep string
	for _, sl := range w.Slots {
		if strings.Contains(string(sl.Script), "app=rds_replica") {
			rep = string(sl.Script)
		}
	}
	if !strings.Contains(rep, "name="+follow.Name+" ") || !strings.Contains(rep, " app=rds_replica\n") || strings.Contains(rep, "CREATE ROLE") ||
		!strings.Contains(rep, "until /usr/local/sbin/rds-pg-follow once") {
		t.Fatalf("the replica's script:\n%s", rep)
	}
	// A node the source makes from now on admits the replica from its
	// first boot (the running ones are told through the slots' exec).
	if _, err := e.svc.ModifyDBInstance(ctx, &rdsapi.ModifyDBInstanceMessage{DBInstanceIdentifier: aws.String("src"), MultiAZ: aws.Bool(true),
		ApplyImmediately: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	repIP := strings.Fields(rep[strings.Index(rep, " me=")+4:])[0]
	var standby string
	for _, sl := range e.world(t).Slots {
		if strings.HasSuffix(sl.ID, "-2") {
			standby = string(sl.Script)
		}
	}
	if !strings.Contains(standby, "host replication rdsrepladmin "+repIP+"/32 scram-sha-256\n") {
		t.Fatalf("the source's new standby does not admit the replica at %s:\n%s", repIP, standby)
	}
}

// pgNodes plays postgres nodes' side of SlotExec: pg_basebackup writes a
// "tar" naming its node's rows, the load script takes one in (kept by
// slot), and a restored node is ready at once.
type pgNodes struct {
	mu     sync.Mutex
	rows   map[string]string
	loaded map[string]bool
}

func (p *pgNodes) ExecSlot(_ context.Context, slot string, argv []string, stdin io.Reader, stdout io.Writer) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cmd := strings.Join(argv, " ")
	switch {
	case argv[0] == "pg_basebackup":
		if !strings.Contains(cmd, "-U rdsadmin -D - -F t -X fetch") {
			return 1, nil
		}
		fmt.Fprintf(stdout, "base.tar:%s", p.rows[slot])
	case argv[0] == "psql" && strings.Contains(cmd, "pg_database_size"):
		fmt.Fprintf(stdout, "%d\n", 2*len(p.rows[slot]))
	case argv[0] == "bash" && strings.Contains(cmd, "tar -x -C /var/lib/postgresql/15/main"):
		b, err := io.ReadAll(stdin)
		if err != nil {
			return 1, err
		}
		p.rows[slot] = strings.TrimPrefix(string(b), "base.tar:")
	case argv[0] == "touch" && strings.HasSuffix(argv[1], "/loaded"):
		p.loaded[slot] = true
	}
	return 0, nil
}

// TestPostgresSnapshot: a postgres snapshot is a base backup of its
// node's cluster (pg_basebackup's tar) in a file under the data
// directory; a restored node's first boot waits while RDS puts it in
// place of its cluster, then gives the replication user the new
// instance's password.
func TestPostgresSnapshot(t *testing.T) {
	e := newEnvWith(t, true)
	dir := t.TempDir()
	nodes := &pgNodes{rows: map[string]string{}, loaded: map[string]bool{}}
	e.svc.UseFiles(dir)
	e.svc.UseSlotExec(nodes)
	n := e.network(t)
	e.must(t, "create-db-subnet-group", "--db-subnet-group-name", "g", "--db-subnet-group-description", "g", "--subnet-ids", n.privateA, n.privateC)
	e.must(t, "create-db-instance", "--engine", "postgres", "--db-instance-identifier", "src", "--db-instance-class", "db.t3.micro",
		"--master-username", "postgres", "--master-user-password", "Pg-Secret-2024", "--allocated-storage", "20", "--db-subnet-group-name", "g",
		"--backup-retention-period", "0")
	slotOf := func(id string) *desired.Slot {
		t.Helper()
		db := e.must(t, "describe-db-instances", "--db-instance-identifier", id)["DBInstances"].([]any)[0].(map[string]any)
		for _, sl := range e.world(t).Slots {
			if sl.ID == "rds-"+strings.ToLower(db["DbiResourceId"].(string)) {
				return sl
			}
		}
		t.Fatalf("no slot for %s", id)
		return nil
	}
	src := slotOf("src").ID
	e.svc.ReportSlot("000000000000", region, src, desired.Running, "")
	e.waitStatus(t, "src", "available")
	nodes.mu.Lock()
	nodes.rows[src] = "members: RM, Jin"
	nodes.mu.Unlock()

	e.must(t, "create-db-snapshot", "--db-instance-identifier", "src", "--db-snapshot-identifier", "snap")
	if snap := e.waitSnapshot(t, "snap", "available"); snap["Engine"] != "postgres" || snap["PercentProgress"] != float64(100) {
		t.Fatalf("snapshot: %v", snap)
	}
	tars, _ := filepath.Glob(filepath.Join(dir, "rds", "000000000000", region, "snapshots", "*.tar"))
	if len(tars) != 1 {
		t.Fatalf("base backups: %v", tars)
	}
	if b, _ := os.ReadFile(tars[0]); string(b) != "base.tar:members: RM, Jin" {
		t.Fatalf("the base backup holds %q", b)
	}

	e.must(t, "restore-db-instance-from-db-snapshot", "--db-instance-identifier", "copy", "--db-snapshot-identifier", "snap", "--db-subnet-group-name", "g")
	sl := slotOf("copy")
	script := string(sl.Script)
	if !strings.Contains(script, "touch /var/lib/rds-restore/ready") ||
		strings.Index(script, "/var/lib/rds-restore/loaded") > strings.Index(script, "ALTER ROLE rdsrepladmin LOGIN REPLICATION PASSWORD") {
		t.Fatalf("the restored node's script:\n%s", script)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		nodes.mu.Lock()
		loaded, rows := nodes.loaded[sl.ID], nodes.rows[sl.ID]
		nodes.mu.Unlock()
		if loaded && rows == "members: RM, Jin" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never loaded: %q", rows)
		}
	}
	e.svc.ReportSlot("000000000000", region, sl.ID, desired.Running, "")
	e.waitStatus(t, "copy", "available")
	if got := messages(t, e, "--source-identifier", "copy"); !strings.Contains(got, "Restored from snapshot snap") {
		t.Fatalf("events: %s", got)
	}
}

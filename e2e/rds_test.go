package e2e

import (
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRDSSeed003 is seed 003 §5.3 with the aws CLI: a DB subnet group
// over two private subnets in two zones, a DB security group admitting
// MySQL from the web servers' group only, and `create-db-instance
// --engine mysql` waited for with `aws rds wait db-instance-available`.
// A web server (seed 003's user data installs the mysql client) creates
// the members and board tables through the endpoint and inserts rows; the
// bastion, outside the admitted group, is refused by the security group.
func TestRDSSeed003(t *testing.T) {
	// The data tier's tests wait on engines installing and replicating
	// more than they compute: they run two at a time, after the rest.
	t.Parallel()
	dir := t.TempDir()
	w := newVPCWorld(t, Opts{DataDir: dir})
	az := func(s string) string { return "ap-northeast-2" + s }
	vpc := get(w.aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16"), "Vpc", "VpcId")
	subnet := func(cidr, zone string) string {
		return get(w.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", cidr, "--availability-zone", az(zone)), "Subnet", "SubnetId")
	}
	public, publicC, privA, privC := subnet("10.0.0.0/24", "a"), subnet("10.0.2.0/24", "c"), subnet("10.0.1.0/24", "a"), subnet("10.0.3.0/24", "c")
	igw := get(w.aws("ec2", "create-internet-gateway"), "InternetGateway", "InternetGatewayId")
	w.aws("ec2", "attach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", vpc)
	pubRT := get(w.aws("ec2", "create-route-table", "--vpc-id", vpc), "RouteTable", "RouteTableId")
	w.aws("ec2", "create-route", "--route-table-id", pubRT, "--destination-cidr-block", "0.0.0.0/0", "--gateway-id", igw)
	for _, s := range []string{public, publicC} {
		w.aws("ec2", "associate-route-table", "--route-table-id", pubRT, "--subnet-id", s)
	}
	// The private subnets reach the internet (and Debian's mirror) through
	// a NAT gateway, as the seed builds them.
	eip := w.aws("ec2", "allocate-address", "--domain", "vpc")
	nat := get(w.aws("ec2", "create-nat-gateway", "--subnet-id", public, "--allocation-id", get(eip, "AllocationId")), "NatGateway", "NatGatewayId")
	w.aws("ec2", "wait", "nat-gateway-available", "--nat-gateway-ids", nat)
	privRT := get(w.aws("ec2", "create-route-table", "--vpc-id", vpc), "RouteTable", "RouteTableId")
	w.aws("ec2", "create-route", "--route-table-id", privRT, "--destination-cidr-block", "0.0.0.0/0", "--nat-gateway-id", nat)
	for _, s := range []string{privA, privC} {
		w.aws("ec2", "associate-route-table", "--route-table-id", privRT, "--subnet-id", s)
	}

	webSG := get(w.aws("ec2", "create-security-group", "--group-name", "BTS_Web", "--description", "web", "--vpc-id", vpc), "GroupId")
	bastionSG := get(w.aws("ec2", "create-security-group", "--group-name", "BTS_Bastion", "--description", "bastion", "--vpc-id", vpc), "GroupId")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", bastionSG, "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0")
	dbSG := get(w.aws("ec2", "create-security-group", "--group-name", "BTS_DB", "--description", "database", "--vpc-id", vpc), "GroupId")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", dbSG, "--protocol", "tcp", "--port", "3306", "--source-group", webSG)

	al2 := get(w.aws("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=amzn2-ami-hvm-*", "Name=architecture,Values=x86_64"), "Images", 0, "ImageId")
	run := func(subnet, sg, userData string, extra ...string) string {
		args := append([]string{"ec2", "run-instances", "--image-id", al2, "--instance-type", "t2.micro", "--subnet-id", subnet,
			"--security-group-ids", sg, "--user-data", userData}, extra...)
		return get(w.aws(args...), "Instances", 0, "InstanceId")
	}
	web := run(privA, webSG, seedScript(t, "003-web-httpd-php.sh"))
	bastion := run(public, bastionSG, "#!/bin/bash\nyum install -y mysql\n", "--associate-public-ip-address")

	w.aws("rds", "create-db-subnet-group", "--db-subnet-group-name", "bts_db_sg", "--db-subnet-group-description", "BTS private subnets",
		"--subnet-ids", privA, privC)
	db := w.aws("rds", "create-db-instance", "--engine", "mysql", "--db-instance-identifier", "bts-db", "--db-instance-class", "db.t2.micro",
		"--master-username", "BTS_admin", "--master-user-password", "Bts-Secret-2024", "--allocated-storage", "20", "--no-publicly-accessible",
		"--vpc-security-group-ids", dbSG, "--db-subnet-group-name", "bts_db_sg", "--multi-az")
	if got := get(db, "DBInstance", "DBInstanceStatus"); got != "creating" {
		t.Fatalf("created: %v", db)
	}
	// A publicly accessible one in the public subnets, open to the world.
	openSG := get(w.aws("ec2", "create-security-group", "--group-name", "BTS_DB_Public", "--description", "public database", "--vpc-id", vpc), "GroupId")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", openSG, "--protocol", "tcp", "--port", "3306", "--cidr", "0.0.0.0/0")
	w.aws("rds", "create-db-subnet-group", "--db-subnet-group-name", "bts-public", "--db-subnet-group-description", "public subnets",
		"--subnet-ids", public, publicC)
	w.aws("rds", "create-db-instance", "--engine", "mariadb", "--db-instance-identifier", "bts-public", "--db-instance-class", "db.t2.micro",
		"--master-username", "admin", "--master-user-password", "Public-Secret-1", "--allocated-storage", "20", "--publicly-accessible",
		"--vpc-security-group-ids", openSG, "--db-subnet-group-name", "bts-public")
	// Seed 003's Virginia: a VPC peered with Seoul's, private subnets
	// (out through a NAT gateway) for the read replica.
	const virginia = "us-east-1"
	drVPC := get(w.awsIn(virginia, "ec2", "create-vpc", "--cidr-block", "10.1.0.0/16"), "Vpc", "VpcId")
	drSubnet := func(cidr, zone string) string {
		return get(w.awsIn(virginia, "ec2", "create-subnet", "--vpc-id", drVPC, "--cidr-block", cidr, "--availability-zone", virginia+zone), "Subnet", "SubnetId")
	}
	drPublic, drPrivA, drPrivB := drSubnet("10.1.0.0/24", "a"), drSubnet("10.1.1.0/24", "a"), drSubnet("10.1.2.0/24", "b")
	drIGW := get(w.awsIn(virginia, "ec2", "create-internet-gateway"), "InternetGateway", "InternetGatewayId")
	w.awsIn(virginia, "ec2", "attach-internet-gateway", "--internet-gateway-id", drIGW, "--vpc-id", drVPC)
	drPubRT := get(w.awsIn(virginia, "ec2", "create-route-table", "--vpc-id", drVPC), "RouteTable", "RouteTableId")
	w.awsIn(virginia, "ec2", "create-route", "--route-table-id", drPubRT, "--destination-cidr-block", "0.0.0.0/0", "--gateway-id", drIGW)
	w.awsIn(virginia, "ec2", "associate-route-table", "--route-table-id", drPubRT, "--subnet-id", drPublic)
	drEIP := w.awsIn(virginia, "ec2", "allocate-address", "--domain", "vpc")
	drNAT := get(w.awsIn(virginia, "ec2", "create-nat-gateway", "--subnet-id", drPublic, "--allocation-id", get(drEIP, "AllocationId")), "NatGateway", "NatGatewayId")
	pcx := get(w.aws("ec2", "create-vpc-peering-connection", "--vpc-id", vpc, "--peer-vpc-id", drVPC, "--peer-region", virginia), "VpcPeeringConnection", "VpcPeeringConnectionId")
	w.awsIn(virginia, "ec2", "wait", "vpc-peering-connection-exists", "--vpc-peering-connection-ids", pcx)
	w.awsIn(virginia, "ec2", "accept-vpc-peering-connection", "--vpc-peering-connection-id", pcx)
	w.aws("ec2", "create-route", "--route-table-id", privRT, "--destination-cidr-block", "10.1.0.0/16", "--vpc-peering-connection-id", pcx)
	w.awsIn(virginia, "ec2", "wait", "nat-gateway-available", "--nat-gateway-ids", drNAT)
	drPrivRT := get(w.awsIn(virginia, "ec2", "create-route-table", "--vpc-id", drVPC), "RouteTable", "RouteTableId")
	w.awsIn(virginia, "ec2", "create-route", "--route-table-id", drPrivRT, "--destination-cidr-block", "0.0.0.0/0", "--nat-gateway-id", drNAT)
	w.awsIn(virginia, "ec2", "create-route", "--route-table-id", drPrivRT, "--destination-cidr-block", "10.0.0.0/16", "--vpc-peering-connection-id", pcx)
	for _, s := range []string{drPrivA, drPrivB} {
		w.awsIn(virginia, "ec2", "associate-route-table", "--route-table-id", drPrivRT, "--subnet-id", s)
	}
	w.awsIn(virginia, "rds", "create-db-subnet-group", "--db-subnet-group-name", "bts-dr", "--db-subnet-group-description", "Virginia private subnets",
		"--subnet-ids", drPrivA, drPrivB)

	w.aws("rds", "wait", "db-instance-available", "--db-instance-identifier", "bts-db")
	// The replica in Virginia names its source by ARN; it copies and
	// replicates it over the peering while the story goes on.
	sourceARN := "arn:aws:rds:ap-northeast-2:000000000000:db:bts-db"
	w.awsIn(virginia, "rds", "create-db-instance-read-replica", "--db-instance-identifier", "bts-db-replica",
		"--source-db-instance-identifier", sourceARN, "--db-instance-class", "db.t2.micro", "--db-subnet-group-name", "bts-dr")
	desc := w.aws("rds", "describe-db-instances", "--db-instance-identifier", "bts-db")
	endpoint := get(desc, "DBInstances", 0, "Endpoint", "Address")
	if !strings.HasPrefix(endpoint, "bts-db.") || !strings.HasSuffix(endpoint, ".ap-northeast-2.rds.amazonaws.com") ||
		get(desc, "DBInstances", 0, "AvailabilityZone") != az("a") || get(desc, "DBInstances", 0, "SecondaryAvailabilityZone") != az("c") ||
		get(desc, "DBInstances", 0, "MultiAZ") != "true" || get(desc, "DBInstances", 0, "VpcSecurityGroups", 0, "VpcSecurityGroupId") != dbSG {
		t.Fatalf("described: %v", desc)
	}

	w.aws("ec2", "wait", "instance-running", "--instance-ids", web, bastion)
	w.eventually(web, "command -v mysql", 4*time.Minute)
	w.eventually(bastion, "command -v mysql", 4*time.Minute)
	mysql := func(sql string) string {
		return "mysql --connect-timeout=5 -h " + endpoint + " -u BTS_admin -pBts-Secret-2024 -N -e \"" + sql + "\""
	}
	// The instance is available once its node runs; MariaDB answers once
	// the node's first boot has installed and configured it.
	version := w.eventually(web, mysql("SELECT VERSION()"), 4*time.Minute)
	if !strings.Contains(version, "MariaDB") {
		t.Errorf("SELECT VERSION(): %q, want MariaDB's", version)
	}
	// default.mysql8.0's max_connections, {DBInstanceClassMemory/12582880},
	// for db.t2.micro's 1 GiB.
	if got := w.shOK(web, mysql("SELECT @@max_connections")); got != "85" {
		t.Errorf("max_connections: %q, want 85", got)
	}

	t.Run("the web server creates the seed's tables and rows", func(t *testing.T) {
		w := w.in(t)
		w.shOK(web, mysql("CREATE DATABASE bts; "+
			"CREATE TABLE bts.members (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL, email VARCHAR(100)); "+
			"CREATE TABLE bts.board (id INT AUTO_INCREMENT PRIMARY KEY, member_id INT, title VARCHAR(200), body TEXT); "+
			"INSERT INTO bts.members (name, email) VALUES ('RM', 'rm@bts.example'), ('Jin', 'jin@bts.example'); "+
			"INSERT INTO bts.board (member_id, title, body) VALUES (1, 'hello', 'first post')"))
		if got := w.shOK(web, mysql("SELECT COUNT(*) FROM bts.members; SELECT title FROM bts.board")); got != "2\nhello" {
			t.Fatalf("rows: %q", got)
		}
		// The endpoint resolves in the VPC to the node's private address.
		ip := w.shOK(web, "getent hosts "+endpoint+" | awk '{print $1}'")
		if !strings.HasPrefix(ip, "10.0.1.") {
			t.Errorf("%s resolves to %q, want an address in the DB's subnet", endpoint, ip)
		}
	})

	t.Run("a forced failover moves the endpoint and loses no acknowledged row", func(t *testing.T) {
		w := w.in(t)
		w.shOK(web, mysql("CREATE TABLE bts.load (n INT PRIMARY KEY)"))
		// A steady writer, one connection per row as a PHP page makes
		// them, noting each row the server acknowledged.
		writer := "n=0; while [ ! -e /tmp/stop-writer ]; do n=$((n+1)); " +
			mysql("INSERT INTO bts.load VALUES ($n)") + " 2>/dev/null && echo $n >> /tmp/acked || sleep 0.2; done"
		w.shOK(web, "rm -f /tmp/acked /tmp/stop-writer; (nohup bash -c '"+writer+"' >/dev/null 2>&1 & echo $! > /tmp/writer.pid)")
		w.eventually(web, "test $(wc -l < /tmp/acked) -ge 20 && echo ok", 2*time.Minute)
		w.aws("rds", "reboot-db-instance", "--db-instance-identifier", "bts-db", "--force-failover")
		w.aws("rds", "wait", "db-instance-available", "--db-instance-identifier", "bts-db")
		after := w.aws("rds", "describe-db-instances", "--db-instance-identifier", "bts-db")
		if get(after, "DBInstances", 0, "AvailabilityZone") != az("c") || get(after, "DBInstances", 0, "SecondaryAvailabilityZone") != az("a") {
			t.Fatalf("after the failover: %v", after)
		}
		if ip := w.shOK(web, "getent hosts "+endpoint+" | awk '{print $1}'"); !strings.HasPrefix(ip, "10.0.3.") {
			t.Errorf("after the failover %s resolves to %q, want the standby's address in zone c", endpoint, ip)
		}
		// The writer goes on against the new primary.
		acked := w.shOK(web, "wc -l < /tmp/acked")
		w.eventually(web, "test $(wc -l < /tmp/acked) -ge $(("+acked+" + 20)) && echo ok", 2*time.Minute)
		// The writer stops after its current row.
		w.shOK(web, "touch /tmp/stop-writer; while kill -0 $(cat /tmp/writer.pid) 2>/dev/null; do sleep 0.2; done; sort /tmp/acked > /tmp/acked.sorted")
		present := w.shOK(web, mysql("SELECT n FROM bts.load")+" | sort > /tmp/present; wc -l < /tmp/present")
		missing := w.shOK(web, "comm -23 /tmp/acked.sorted /tmp/present | wc -l")
		total := w.shOK(web, "wc -l < /tmp/acked")
		t.Logf("%s rows acknowledged, %s present after the failover", total, present)
		if missing != "0" {
			t.Fatalf("%s acknowledged rows are missing after the failover (%s acknowledged, %s present)", missing, total, present)
		}
		events := w.aws("rds", "describe-events", "--source-type", "db-instance", "--source-identifier", "bts-db")
		if got := fmt.Sprint(events); !strings.Contains(got, "Multi-AZ instance failover started.") || !strings.Contains(got, "Multi-AZ instance failover completed.") {
			t.Errorf("events: %v", events)
		}
	})

	t.Run("the bastion is refused by the DB security group", func(t *testing.T) {
		w := w.in(t)
		if r := w.sh(bastion, "timeout 20 "+mysql("SELECT 1")); r.ExitCode == 0 {
			t.Fatalf("the bastion reached the database: %s", r)
		}
		// The name resolves there too: the refusal is the security group's.
		if ip := w.shOK(bastion, "getent hosts "+endpoint+" | awk '{print $1}'"); !strings.HasPrefix(ip, "10.0.3.") {
			t.Errorf("from the bastion %s resolves to %q", endpoint, ip)
		}
	})

	t.Run("a publicly accessible instance answers from the internet", func(t *testing.T) {
		w := w.in(t)
		w.aws("rds", "wait", "db-instance-available", "--db-instance-identifier", "bts-public")
		pub := get(w.aws("rds", "describe-db-instances", "--db-instance-identifier", "bts-public"), "DBInstances", 0, "Endpoint", "Address")
		ip := w.shOK("internet", "getent hosts "+pub+" | awk '{print $1}'")
		if ip == "" || strings.HasPrefix(ip, "10.") {
			t.Fatalf("%s resolves on the internet to %q, want its public address", pub, ip)
		}
		// MariaDB's greeting, read through the internet gateway.
		greeting := w.eventually("internet", "python3 -c 'import socket; print(socket.create_connection((\""+ip+"\", 3306), 3).recv(200))' | grep -o '[0-9.]*-MariaDB'", 4*time.Minute)
		if !strings.Contains(greeting, "MariaDB") {
			t.Fatalf("greeting: %q", greeting)
		}
		w.aws("rds", "delete-db-instance", "--db-instance-identifier", "bts-public", "--skip-final-snapshot")
	})

	t.Run("the rows survive a reboot and a stop and start", func(t *testing.T) {
		w := w.in(t)
		w.aws("rds", "reboot-db-instance", "--db-instance-identifier", "bts-db")
		w.aws("rds", "wait", "db-instance-available", "--db-instance-identifier", "bts-db")
		if got := w.eventually(web, mysql("SELECT COUNT(*) FROM bts.members"), 2*time.Minute); got != "2" {
			t.Fatalf("after the reboot: %q", got)
		}
		w.aws("rds", "stop-db-instance", "--db-instance-identifier", "bts-db")
		// The aws CLI has no waiter for stopped.
		for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(time.Second) {
			status := get(w.aws("rds", "describe-db-instances", "--db-instance-identifier", "bts-db"), "DBInstances", 0, "DBInstanceStatus")
			if status == "stopped" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("still %s", status)
			}
		}
		if r := w.sh(web, mysql("SELECT 1")); r.ExitCode == 0 {
			t.Fatalf("a stopped instance answered: %s", r)
		}
		w.aws("rds", "start-db-instance", "--db-instance-identifier", "bts-db")
		w.aws("rds", "wait", "db-instance-available", "--db-instance-identifier", "bts-db")
		if got := w.eventually(web, mysql("SELECT name FROM bts.members ORDER BY id"), 2*time.Minute); got != "RM\nJin" {
			t.Fatalf("after stop and start: %q", got)
		}
	})

	t.Run("cloudbox restarts and takes the instance over", func(t *testing.T) {
		w.c.signal(t, syscall.SIGTERM)
		w.start(Opts{DataDir: dir})
		w := w.in(t)
		after := w.aws("rds", "describe-db-instances", "--db-instance-identifier", "bts-db")
		if get(after, "DBInstances", 0, "DBInstanceStatus") != "available" || get(after, "DBInstances", 0, "Endpoint", "Address") != endpoint {
			t.Fatalf("after the restart: %v", after)
		}
		if got := w.eventually(web, mysql("SELECT COUNT(*) FROM bts.board"), 2*time.Minute); got != "1" {
			t.Fatalf("after the restart: %q", got)
		}
		// The new daemon drives the node: a reboot stops and starts it.
		w.aws("rds", "reboot-db-instance", "--db-instance-identifier", "bts-db")
		w.aws("rds", "wait", "db-instance-available", "--db-instance-identifier", "bts-db")
		if got := w.eventually(web, mysql("SELECT COUNT(*) FROM bts.members"), 2*time.Minute); got != "2" {
			t.Fatalf("after a reboot by the new daemon: %q", got)
		}
	})

	t.Run("the Virginia replica serves reads, refuses writes, and is promoted after the source is deleted", func(t *testing.T) {
		w := w.in(t)
		w.awsIn(virginia, "rds", "wait", "db-instance-available", "--db-instance-identifier", "bts-db-replica")
		rep := w.awsIn(virginia, "rds", "describe-db-instances", "--db-instance-identifier", "bts-db-replica")
		if get(rep, "DBInstances", 0, "ReadReplicaSourceDBInstanceIdentifier") != sourceARN || get(rep, "DBInstances", 0, "StatusInfos", 0, "Status") != "replicating" {
			t.Fatalf("replica: %v", rep)
		}
		repEndpoint := get(rep, "DBInstances", 0, "Endpoint", "Address")
		// An instance in Virginia's private subnet reaches it.
		drSG := get(w.awsIn(virginia, "ec2", "create-security-group", "--group-name", "dr-db", "--description", "replica", "--vpc-id", drVPC), "GroupId")
		w.awsIn(virginia, "rds", "modify-db-instance", "--db-instance-identifier", "bts-db-replica", "--vpc-security-group-ids", drSG, "--apply-immediately")
		w.awsIn(virginia, "ec2", "authorize-security-group-ingress", "--group-id", drSG, "--protocol", "tcp", "--port", "3306", "--cidr", "10.1.0.0/16")
		drAMI := get(w.awsIn(virginia, "ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=amzn2-ami-hvm-*", "Name=architecture,Values=x86_64"), "Images", 0, "ImageId")
		client := get(w.awsIn(virginia, "ec2", "run-instances", "--image-id", drAMI, "--instance-type", "t2.micro", "--subnet-id", drPrivA,
			"--user-data", "#!/bin/bash\nyum install -y mysql\n"), "Instances", 0, "InstanceId")
		w.awsIn(virginia, "ec2", "wait", "instance-running", "--instance-ids", client)
		w.eventually(client, "command -v mysql", 4*time.Minute)
		onReplica := func(sql string) string {
			return "mysql --connect-timeout=5 -h " + repEndpoint + " -u BTS_admin -pBts-Secret-2024 -N -e \"" + sql + "\""
		}
		// Every row the source had, including those written after its
		// failover: the replica followed the source's new primary.
		want := w.shOK(web, mysql("SELECT COUNT(*) FROM bts.load"))
		if got := w.eventually(client, onReplica("SELECT COUNT(*) FROM bts.load")+" | grep -x "+want, 2*time.Minute); got != want {
			t.Fatalf("rows on the replica: %q, want %s", got, want)
		}
		// A row written now reaches it within seconds.
		w.shOK(web, mysql("INSERT INTO bts.members (name, email) VALUES ('V', 'v@bts.example')"))
		w.eventually(client, onReplica("SELECT email FROM bts.members WHERE name = 'V'")+" | grep -x v@bts.example", time.Minute)
		if r := w.sh(client, onReplica("INSERT INTO bts.members (name) VALUES ('nope')")); r.ExitCode == 0 || !strings.Contains(r.Stderr, "read-only") {
			t.Fatalf("a write on the replica: %s", r)
		}

		w.aws("rds", "delete-db-instance", "--db-instance-identifier", "bts-db", "--skip-final-snapshot")
		w.aws("rds", "wait", "db-instance-deleted", "--db-instance-identifier", "bts-db")
		w.awsIn(virginia, "rds", "promote-read-replica", "--db-instance-identifier", "bts-db-replica")
		w.awsIn(virginia, "rds", "wait", "db-instance-available", "--db-instance-identifier", "bts-db-replica")
		promoted := w.awsIn(virginia, "rds", "describe-db-instances", "--db-instance-identifier", "bts-db-replica")
		if get(promoted, "DBInstances", 0, "ReadReplicaSourceDBInstanceIdentifier") != "" {
			t.Fatalf("promoted: %v", promoted)
		}
		w.eventually(client, onReplica("INSERT INTO bts.members (name) VALUES ('after'); SELECT COUNT(*) FROM bts.members WHERE name IN ('V', 'after')")+" | grep -x 2", time.Minute)
		w.awsIn(virginia, "rds", "delete-db-instance", "--db-instance-identifier", "bts-db-replica", "--skip-final-snapshot")
		w.awsIn(virginia, "rds", "wait", "db-instance-deleted", "--db-instance-identifier", "bts-db-replica")
	})

	events := w.aws("rds", "describe-events", "--source-type", "db-instance", "--source-identifier", "bts-db")
	if got := get(events, "Events", 0, "Message") + "|" + get(events, "Events", 1, "Message") + "|" + get(events, "Events", 2, "Message"); got != "DB instance created|Backing up DB instance|Finished DB Instance backup" {
		t.Errorf("events: %v", events)
	}
	w.checkSafety()
}

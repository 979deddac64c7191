package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// redisUserData installs the Redis client on a web server, as seed 003's
// web servers would (Amazon Linux 2023's redis6 package).
const redisUserData = `#!/bin/bash
dnf install -y redis6
echo "user data done"
`

// TestElastiCacheSeed003 is seed 003 §5.4 with the aws CLI: a Redis
// replication group of a primary in AZ a and a replica in AZ c, with
// automatic failover and Multi-AZ, in the private subnets of a VPC, its
// security group admitting the web servers' group on 6379. A web server
// writes through the primary endpoint and reads through the reader
// endpoint; test-failover moves the primary endpoint to the other node
// with the keys kept; a server outside the admitted group is refused.
func TestElastiCacheSeed003(t *testing.T) {
	t.Parallel() // with the other data-tier tests (see TestRDSSeed003)
	w := newVPCWorld(t, Opts{})
	defer nodeConsoles(w)
	az := func(s string) string { return "ap-northeast-2" + s }
	vpc, privA, privC := privateNetwork(w)
	webSG := get(w.aws("ec2", "create-security-group", "--group-name", "web", "--description", "web", "--vpc-id", vpc), "GroupId")
	otherSG := get(w.aws("ec2", "create-security-group", "--group-name", "other", "--description", "other", "--vpc-id", vpc), "GroupId")
	cacheSG := get(w.aws("ec2", "create-security-group", "--group-name", "redis", "--description", "redis", "--vpc-id", vpc), "GroupId")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", cacheSG, "--protocol", "tcp", "--port", "6379", "--source-group", webSG)
	// Only the web group is admitted: the nodes' replication is the
	// service's own and passes whatever the group says, as on AWS.

	ami := get(w.aws("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=al2023-ami-2023.*-kernel-6.1-x86_64"), "Images", 0, "ImageId")
	run := func(subnet, sg string) string {
		return get(w.aws("ec2", "run-instances", "--image-id", ami, "--instance-type", "t3.micro", "--subnet-id", subnet,
			"--security-group-ids", sg, "--user-data", redisUserData), "Instances", 0, "InstanceId")
	}
	web, outsider := run(privA, webSG), run(privC, otherSG)

	w.aws("elasticache", "create-cache-subnet-group", "--cache-subnet-group-name", "bts-redis-subnets",
		"--cache-subnet-group-description", "private subnets", "--subnet-ids", privA, privC)
	w.aws("elasticache", "create-cache-parameter-group", "--cache-parameter-group-name", "bts-sessions",
		"--cache-parameter-group-family", "redis7", "--description", "sessions")
	w.aws("elasticache", "modify-cache-parameter-group", "--cache-parameter-group-name", "bts-sessions",
		"--parameter-name-values", "ParameterName=maxmemory-policy,ParameterValue=allkeys-lru")
	w.aws("elasticache", "create-replication-group", "--replication-group-id", "bts-redis", "--replication-group-description", "BTS sessions",
		"--engine", "redis", "--cache-node-type", "cache.t3.micro", "--num-cache-clusters", "2",
		"--automatic-failover-enabled", "--multi-az-enabled", "--cache-subnet-group-name", "bts-redis-subnets",
		"--cache-parameter-group-name", "bts-sessions", "--security-group-ids", cacheSG,
		"--preferred-cache-cluster-a-zs", az("a"), az("c"))
	// A second group with in-transit encryption and an AUTH token, made
	// alongside.
	const token = "cloudbox-e2e-token-0123456789"
	w.aws("elasticache", "create-replication-group", "--replication-group-id", "bts-secure", "--replication-group-description", "TLS and AUTH",
		"--engine", "redis", "--cache-node-type", "cache.t3.micro", "--num-cache-clusters", "2", "--cache-subnet-group-name", "bts-redis-subnets",
		"--security-group-ids", cacheSG, "--transit-encryption-enabled", "--auth-token", token)
	w.aws("elasticache", "wait", "replication-group-available", "--replication-group-id", "bts-redis")
	ng := w.aws("elasticache", "describe-replication-groups", "--replication-group-id", "bts-redis")
	primary := get(ng, "ReplicationGroups", 0, "NodeGroups", 0, "PrimaryEndpoint", "Address")
	reader := get(ng, "ReplicationGroups", 0, "NodeGroups", 0, "ReaderEndpoint", "Address")
	node2 := get(ng, "ReplicationGroups", 0, "NodeGroups", 0, "NodeGroupMembers", 1, "ReadEndpoint", "Address")
	if !strings.HasPrefix(primary, "master.bts-redis.") || !strings.HasSuffix(primary, ".apn2.cache.amazonaws.com") {
		t.Fatalf("primary endpoint %q", primary)
	}

	w.aws("ec2", "wait", "instance-running", "--instance-ids", web, outsider)
	w.eventually(web, "command -v redis-cli", 3*time.Minute)
	w.eventually(outsider, "command -v redis-cli", 3*time.Minute)
	cli := func(host, cmd string) string { return "timeout 5 redis-cli -h " + host + " " + cmd }
	// The group is available once the nodes' slots run; the engine
	// answers once their first boot has installed it.
	if got := w.eventually(web, cli(primary, "PING")+" | grep PONG", 3*time.Minute); got != "PONG" {
		t.Fatalf("PING: %q", got)
	}

	t.Run("written through the primary, read through the reader", func(t *testing.T) {
		w := w.in(t)
		for _, kv := range []string{"PHPREDIS_SESSION:a 1", "PHPREDIS_SESSION:b 2"} {
			if got := w.shOK(web, cli(primary, "SET "+kv)); got != "OK" {
				t.Fatalf("SET %s: %q", kv, got)
			}
		}
		w.eventually(web, cli(reader, "GET PHPREDIS_SESSION:b")+" | grep -x 2", time.Minute)
		if got := w.shOK(web, cli(reader, "SET x 1")); !strings.Contains(got, "READONLY") {
			t.Errorf("a write to the reader endpoint: %q", got)
		}
		if got := w.shOK(web, cli(primary, "CONFIG GET maxmemory-policy")); !strings.Contains(got, "allkeys-lru") {
			t.Errorf("the parameter group's maxmemory-policy: %q", got)
		}
	})

	t.Run("the engines' metrics in CloudWatch", func(t *testing.T) {
		w := w.in(t)
		// A client holding a connection to the primary.
		w.shOK(web, "(timeout 900 redis-cli -h "+primary+" SUBSCRIBE cloudbox-metrics >/dev/null 2>&1 &)")
		// The highest value of a node's metric over the last hours (virtual
		// time runs ahead of the wall clock).
		highest := func(metric, cluster string) (float64, bool) {
			out := w.aws("cloudwatch", "get-metric-statistics", "--namespace", "AWS/ElastiCache", "--metric-name", metric,
				"--dimensions", "Name=CacheClusterId,Value="+cluster, "Name=CacheNodeId,Value=0001", "--statistics", "Maximum", "--period", "3600",
				"--start-time", time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "--end-time", time.Now().Add(24*time.Hour).UTC().Format(time.RFC3339))
			points, _ := out["Datapoints"].([]any)
			v, found := 0.0, false
			for _, p := range points {
				v, found = max(v, p.(map[string]any)["Maximum"].(float64)), true
			}
			return v, found
		}
		deadline := time.Now().Add(2 * time.Minute)
		for {
			conns, ok := highest("CurrConnections", "bts-redis-001")
			_, lag := highest("ReplicationLag", "bts-redis-002")
			if ok && conns >= 1 && lag {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("CurrConnections of the primary %v (%v), ReplicationLag of the replica published: %v", conns, ok, lag)
			}
			time.Sleep(2 * time.Second)
		}
		if _, ok := highest("ReplicationLag", "bts-redis-001"); ok {
			t.Error("the primary publishes a ReplicationLag")
		}
	})

	t.Run("an instance outside the admitted group is refused", func(t *testing.T) {
		w := w.in(t)
		if r := w.sh(outsider, cli(primary, "PING")); r.ExitCode == 0 {
			t.Fatalf("PING from the outsider answered: %s", r)
		}
	})

	t.Run("test-failover moves the primary endpoint and keeps the keys", func(t *testing.T) {
		w := w.in(t)
		node2IP := w.shOK(web, "getent ahostsv4 "+node2+" | awk 'NR == 1 {print $1}'")
		w.aws("elasticache", "test-failover", "--replication-group-id", "bts-redis", "--node-group-id", "0001")
		w.eventually(web, "getent ahostsv4 "+primary+" | grep -q '^"+node2IP+" '", time.Minute)
		// The promoted node takes writes once it has left replication.
		w.eventually(web, cli(primary, "SET after-failover yes")+" | grep -x OK", time.Minute)
		if got := w.shOK(web, cli(primary, "GET PHPREDIS_SESSION:a")); got != "1" {
			t.Errorf("a key written before the failover: %q", got)
		}
		// The old primary replicates the new one.
		w.eventually(web, cli(primary, "INFO replication")+" | tr -d '\\r' | grep -x 'connected_slaves:1'", time.Minute)
		w.eventually(web, cli(reader, "GET after-failover")+" | grep -x yes", time.Minute)
		events := w.aws("elasticache", "describe-events", "--source-type", "replication-group", "--source-identifier", "bts-redis")
		if got := get(events, "Events", 2, "Message"); got != "Failover from primary node bts-redis-001 to replica node bts-redis-002 completed" {
			t.Errorf("events: %v", events)
		}
	})

	t.Run("AUTH and TLS", func(t *testing.T) {
		w := w.in(t)
		w.aws("elasticache", "wait", "replication-group-available", "--replication-group-id", "bts-secure")
		g := w.aws("elasticache", "describe-replication-groups", "--replication-group-id", "bts-secure")
		secure := get(g, "ReplicationGroups", 0, "NodeGroups", 0, "PrimaryEndpoint", "Address")
		secureReader := get(g, "ReplicationGroups", 0, "NodeGroups", 0, "ReaderEndpoint", "Address")
		// The instance trusts cloudbox's CA, which signed the nodes'
		// certificate for the group's names.
		tls := func(host, cmd string) string {
			return "REDISCLI_AUTH=" + token + " timeout 5 redis-cli --tls -h " + host + " " + cmd
		}
		if got := w.eventually(web, tls(secure, "SET session:tls yes"), 3*time.Minute); got != "OK" {
			t.Fatalf("SET over TLS with the token: %q", got)
		}
		w.eventually(web, tls(secureReader, "GET session:tls")+" | grep -x yes", time.Minute)
		if got := w.sh(web, "timeout 5 redis-cli --tls -h "+secure+" SET k v 2>&1").Stdout; !strings.Contains(got, "NOAUTH") {
			t.Errorf("without the token: %q", got)
		}
		if got := w.sh(web, "REDISCLI_AUTH="+token+" timeout 5 redis-cli -h "+secure+" PING 2>&1"); strings.Contains(got.Stdout, "PONG") {
			t.Errorf("plain text answered: %s", got)
		}
	})

	t.Run("a snapshot restored into a new group has the keys", func(t *testing.T) {
		w := w.in(t)
		// Of the AUTH and TLS group: the RDB is taken inside its node.
		w.aws("elasticache", "create-snapshot", "--replication-group-id", "bts-secure", "--snapshot-name", "bts-secure-snap")
		deadline := time.Now().Add(3 * time.Minute)
		for get(w.aws("elasticache", "describe-snapshots", "--snapshot-name", "bts-secure-snap"), "Snapshots", 0, "SnapshotStatus") != "available" {
			if time.Now().After(deadline) {
				t.Fatal("the snapshot is not available within 3m")
			}
		}
		w.aws("elasticache", "create-replication-group", "--replication-group-id", "bts-restored", "--replication-group-description", "restored",
			"--snapshot-name", "bts-secure-snap", "--num-cache-clusters", "2", "--cache-subnet-group-name", "bts-redis-subnets", "--security-group-ids", cacheSG)
		w.aws("elasticache", "wait", "replication-group-available", "--replication-group-id", "bts-restored")
		g := w.aws("elasticache", "describe-replication-groups", "--replication-group-id", "bts-restored")
		restored := get(g, "ReplicationGroups", 0, "NodeGroups", 0, "PrimaryEndpoint", "Address")
		restoredReader := get(g, "ReplicationGroups", 0, "NodeGroups", 0, "ReaderEndpoint", "Address")
		w.eventually(web, cli(restored, "GET session:tls")+" | grep -x yes", time.Minute)
		w.eventually(web, cli(restoredReader, "GET session:tls")+" | grep -x yes", time.Minute)
		w.aws("elasticache", "delete-replication-group", "--replication-group-id", "bts-restored")
		w.aws("elasticache", "delete-snapshot", "--snapshot-name", "bts-secure-snap")
		w.aws("elasticache", "wait", "replication-group-deleted", "--replication-group-id", "bts-restored")
	})

	t.Run("a node type change replaces the nodes and keeps the keys", func(t *testing.T) {
		w := w.in(t)
		if got := w.shOK(web, cli(primary, "CONFIG GET maxmemory")); !strings.Contains(got, "402653184") {
			t.Fatalf("cache.t3.micro's maxmemory: %q", got)
		}
		out := w.aws("elasticache", "modify-replication-group", "--replication-group-id", "bts-redis", "--cache-node-type", "cache.t3.small", "--apply-immediately")
		if got := get(out, "ReplicationGroup", "Status"); got != "modifying" {
			t.Fatalf("status %q", got)
		}
		w.aws("elasticache", "wait", "replication-group-available", "--replication-group-id", "bts-redis")
		// cache.t3.small's 1403 MiB less the 25% reserved.
		w.eventually(web, cli(primary, "CONFIG GET maxmemory")+" | grep -x 1103101952", time.Minute)
		if got := w.shOK(web, cli(primary, "GET PHPREDIS_SESSION:a")); got != "1" {
			t.Errorf("a key written before: %q", got)
		}
		w.eventually(web, cli(primary, "SET after-scaling yes")+" | grep -x OK", time.Minute)
		w.eventually(web, cli(reader, "GET after-scaling")+" | grep -x yes", time.Minute)
	})

	t.Run("new security groups are enforced", func(t *testing.T) {
		w := w.in(t)
		outsiders := get(w.aws("ec2", "create-security-group", "--group-name", "redis-outsiders", "--description", "x", "--vpc-id", vpc), "GroupId")
		w.aws("ec2", "authorize-security-group-ingress", "--group-id", outsiders, "--protocol", "tcp", "--port", "6379", "--source-group", otherSG)
		w.aws("elasticache", "modify-replication-group", "--replication-group-id", "bts-redis", "--security-group-ids", outsiders, "--apply-immediately")
		w.eventually(outsider, cli(primary, "PING")+" | grep -x PONG", time.Minute)
		w.eventually(web, "! "+cli(primary, "PING"), time.Minute)
	})

	for _, id := range []string{"bts-redis", "bts-secure"} {
		w.aws("elasticache", "delete-replication-group", "--replication-group-id", id)
	}
	for _, id := range []string{"bts-redis", "bts-secure"} {
		w.aws("elasticache", "wait", "replication-group-deleted", "--replication-group-id", id)
	}
	w.checkSafety()
}

// privateNetwork is a VPC with private subnets in AZs a and c whose
// traffic leaves through a NAT gateway (the nodes' first boot reaches the
// package mirror so, as the web servers' does).
func privateNetwork(w *vpcWorld) (vpc, privA, privC string) {
	n := privateNetworkOf(w)
	return n.vpc, n.privA, n.privC
}

// cacheNetwork is privateNetwork's VPC with its public subnet and route
// table.
type cacheNetwork struct{ vpc, public, pubRT, privA, privC string }

func privateNetworkOf(w *vpcWorld) cacheNetwork {
	w.t.Helper()
	az := func(s string) string { return "ap-northeast-2" + s }
	vpc := get(w.aws("ec2", "create-vpc", "--cidr-block", "10.0.0.0/16"), "Vpc", "VpcId")
	public := get(w.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.0.0.0/24", "--availability-zone", az("a")), "Subnet", "SubnetId")
	privA := get(w.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.0.1.0/24", "--availability-zone", az("a")), "Subnet", "SubnetId")
	privC := get(w.aws("ec2", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.0.3.0/24", "--availability-zone", az("c")), "Subnet", "SubnetId")
	igw := get(w.aws("ec2", "create-internet-gateway"), "InternetGateway", "InternetGatewayId")
	w.aws("ec2", "attach-internet-gateway", "--internet-gateway-id", igw, "--vpc-id", vpc)
	pubRT := get(w.aws("ec2", "create-route-table", "--vpc-id", vpc), "RouteTable", "RouteTableId")
	w.aws("ec2", "create-route", "--route-table-id", pubRT, "--destination-cidr-block", "0.0.0.0/0", "--gateway-id", igw)
	w.aws("ec2", "associate-route-table", "--route-table-id", pubRT, "--subnet-id", public)
	eip := w.aws("ec2", "allocate-address", "--domain", "vpc")
	nat := get(w.aws("ec2", "create-nat-gateway", "--subnet-id", public, "--allocation-id", get(eip, "AllocationId")), "NatGateway", "NatGatewayId")
	w.aws("ec2", "wait", "nat-gateway-available", "--nat-gateway-ids", nat)
	privRT := get(w.aws("ec2", "create-route-table", "--vpc-id", vpc), "RouteTable", "RouteTableId")
	w.aws("ec2", "create-route", "--route-table-id", privRT, "--destination-cidr-block", "0.0.0.0/0", "--nat-gateway-id", nat)
	for _, s := range []string{privA, privC} {
		w.aws("ec2", "associate-route-table", "--route-table-id", privRT, "--subnet-id", s)
	}

	return cacheNetwork{vpc: vpc, public: public, pubRT: pubRT, privA: privA, privC: privC}
}

// TestElastiCacheMemcached is seed 001's mc01 as an ElastiCache
// Memcached cluster of two nodes across AZs: a client asks the
// configuration endpoint for the nodes (`config get cluster`) and stores
// and reads an item on each.
func TestElastiCacheMemcached(t *testing.T) {
	t.Parallel() // with the other data-tier tests (see TestRDSSeed003)
	w := newVPCWorld(t, Opts{})
	defer nodeConsoles(w)
	vpc, privA, privC := privateNetwork(w)
	webSG := get(w.aws("ec2", "create-security-group", "--group-name", "web", "--description", "web", "--vpc-id", vpc), "GroupId")
	cacheSG := get(w.aws("ec2", "create-security-group", "--group-name", "memcached", "--description", "memcached", "--vpc-id", vpc), "GroupId")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", cacheSG, "--protocol", "tcp", "--port", "11211", "--source-group", webSG)
	ami := get(w.aws("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=al2023-ami-2023.*-kernel-6.1-x86_64"), "Images", 0, "ImageId")
	web := get(w.aws("ec2", "run-instances", "--image-id", ami, "--instance-type", "t3.micro", "--subnet-id", privA,
		"--security-group-ids", webSG), "Instances", 0, "InstanceId")

	w.aws("elasticache", "create-cache-subnet-group", "--cache-subnet-group-name", "mc-subnets",
		"--cache-subnet-group-description", "private subnets", "--subnet-ids", privA, privC)
	w.aws("elasticache", "create-cache-cluster", "--cache-cluster-id", "mc01", "--engine", "memcached", "--cache-node-type", "cache.t3.micro",
		"--num-cache-nodes", "2", "--az-mode", "cross-az", "--cache-subnet-group-name", "mc-subnets", "--security-group-ids", cacheSG)
	w.aws("elasticache", "wait", "cache-cluster-available", "--cache-cluster-id", "mc01")
	c := w.aws("elasticache", "describe-cache-clusters", "--cache-cluster-id", "mc01", "--show-cache-node-info")
	cfg := get(c, "CacheClusters", 0, "ConfigurationEndpoint", "Address")
	nodes := []string{get(c, "CacheClusters", 0, "CacheNodes", 0, "Endpoint", "Address"), get(c, "CacheClusters", 0, "CacheNodes", 1, "Endpoint", "Address")}
	w.aws("ec2", "wait", "instance-running", "--instance-ids", web)

	// memcached's text protocol over bash's /dev/tcp, as a client library
	// would speak it.
	ask := func(host, lines string) string {
		return "bash -c 'exec 3<>/dev/tcp/" + host + "/11211 && printf \"" + lines + "\" >&3 && timeout 2 cat <&3; true'"
	}
	got := w.eventually(web, ask(cfg, `config get cluster\r\n`)+" | grep -a END", 3*time.Minute)
	if got != "END" {
		t.Fatalf("config get cluster: %q", got)
	}
	listing := w.shOK(web, ask(cfg, `config get cluster\r\n`))
	for _, n := range nodes {
		if !strings.Contains(listing, n+"|10.0.") || !strings.Contains(listing, "|11211") {
			t.Errorf("config get cluster does not list %s: %q", n, listing)
		}
	}
	for i, n := range nodes {
		key := fmt.Sprintf("k%d", i)
		w.eventually(web, ask(n, `set `+key+` 0 0 1\r\nv\r\n`)+" | grep -a STORED", 3*time.Minute)
		if got := w.shOK(web, ask(n, `get `+key+`\r\n`)); !strings.Contains(got, "VALUE "+key+" 0 1") {
			t.Errorf("get %s from %s: %q", key, n, got)
		}
	}

	// A node added is a real node, listed by every node's auto discovery
	// once up; a node removed leaves the listing.
	w.aws("elasticache", "modify-cache-cluster", "--cache-cluster-id", "mc01", "--num-cache-nodes", "3", "--apply-immediately")
	w.aws("elasticache", "wait", "cache-cluster-available", "--cache-cluster-id", "mc01")
	c = w.aws("elasticache", "describe-cache-clusters", "--cache-cluster-id", "mc01", "--show-cache-node-info")
	third := get(c, "CacheClusters", 0, "CacheNodes", 2, "Endpoint", "Address")
	w.eventually(web, ask(third, `set k3 0 0 1\r\nv\r\n`)+" | grep -a STORED", time.Minute)
	w.eventually(web, ask(nodes[0], `config get cluster\r\n`)+" | grep -a -F '"+third+"|10.0.'", time.Minute)
	w.aws("elasticache", "modify-cache-cluster", "--cache-cluster-id", "mc01", "--num-cache-nodes", "2", "--cache-node-ids-to-remove", "0002", "--apply-immediately")
	w.aws("elasticache", "wait", "cache-cluster-available", "--cache-cluster-id", "mc01")
	w.eventually(web, ask(cfg, `config get cluster\r\n`)+" | grep -a -F '"+third+"|' | grep -a -v -F '"+nodes[1]+"|'", time.Minute)

	w.aws("elasticache", "delete-cache-cluster", "--cache-cluster-id", "mc01")
	w.aws("elasticache", "wait", "cache-cluster-deleted", "--cache-cluster-id", "mc01")
	w.checkSafety()
}

// nodeConsoles logs the end of each cache node's console output (its
// first boot's) from its disk when the test has failed.
func nodeConsoles(w *vpcWorld) {
	if !w.t.Failed() {
		return
	}
	paths, _ := filepath.Glob(filepath.Join(get(w.info, "instances_dir"), "elasticache-*", "console.log"))
	for _, p := range paths {
		b, _ := os.ReadFile(p)
		w.t.Logf("%s:\n%s", p, b[max(0, len(b)-3000):])
	}
}

// sessionUserData is seed 003's web server (httpd and PHP on Amazon
// Linux 2) with php-redis and a page that counts a visitor's requests in
// its session. The seed points PHP's session handler at the primary
// endpoint in php-fpm's www.conf; the images run PHP as Apache's module,
// so the page sets the same two settings itself.
const sessionUserData = `#!/bin/bash
yum install -y httpd mysql
amazon-linux-extras install -y php7.2
yum install -y php-redis
amazon-linux-extras install -y redis6
echo ok > /var/www/html/index.html
cat > /var/www/html/session.php <<'PHP'
<?php
ini_set('session.save_handler', 'redis');
ini_set('session.save_path', 'tcp://' . trim(file_get_contents('/etc/redis-endpoint')) . ':6379');
session_start();
$_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1;
echo gethostname(), ' ', $_SESSION['n'];
PHP
systemctl start httpd
systemctl enable httpd
`

// TestElastiCachePHPSessions is seed 003's story: two web servers behind
// an ALB keep their PHP sessions in the Redis replication group, so a
// client whose requests alternate between them keeps its session, and
// keeps it through test-failover.
func TestElastiCachePHPSessions(t *testing.T) {
	t.Parallel() // with the other data-tier tests (see TestRDSSeed003)
	w := newVPCWorld(t, Opts{})
	defer nodeConsoles(w)
	n := privateNetworkOf(w)
	publicC := get(w.aws("ec2", "create-subnet", "--vpc-id", n.vpc, "--cidr-block", "10.0.2.0/24", "--availability-zone", "ap-northeast-2c"), "Subnet", "SubnetId")
	w.aws("ec2", "associate-route-table", "--route-table-id", n.pubRT, "--subnet-id", publicC)
	albSG := get(w.aws("ec2", "create-security-group", "--group-name", "alb", "--description", "alb", "--vpc-id", n.vpc), "GroupId")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", albSG, "--protocol", "tcp", "--port", "80", "--cidr", "0.0.0.0/0")
	webSG := get(w.aws("ec2", "create-security-group", "--group-name", "web", "--description", "web", "--vpc-id", n.vpc), "GroupId")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", webSG, "--protocol", "tcp", "--port", "80", "--source-group", albSG)
	cacheSG := get(w.aws("ec2", "create-security-group", "--group-name", "redis", "--description", "redis", "--vpc-id", n.vpc), "GroupId")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", cacheSG, "--protocol", "tcp", "--port", "6379", "--source-group", webSG)

	w.aws("elasticache", "create-cache-subnet-group", "--cache-subnet-group-name", "bts-redis-subnets",
		"--cache-subnet-group-description", "private subnets", "--subnet-ids", n.privA, n.privC)
	w.aws("elasticache", "create-replication-group", "--replication-group-id", "bts-redis", "--replication-group-description", "BTS sessions",
		"--engine", "redis", "--cache-node-type", "cache.t3.micro", "--num-cache-clusters", "2",
		"--automatic-failover-enabled", "--multi-az-enabled", "--cache-subnet-group-name", "bts-redis-subnets",
		"--security-group-ids", cacheSG, "--preferred-cache-cluster-a-zs", "ap-northeast-2a", "ap-northeast-2c")

	al2 := get(w.aws("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=amzn2-ami-hvm-*", "Name=architecture,Values=x86_64"), "Images", 0, "ImageId")
	var ids []string
	for _, sn := range []string{n.privA, n.privC} {
		ids = append(ids, get(w.aws("ec2", "run-instances", "--image-id", al2, "--instance-type", "t2.micro", "--subnet-id", sn,
			"--security-group-ids", webSG, "--user-data", sessionUserData), "Instances", 0, "InstanceId"))
	}
	lb := w.aws("elbv2", "create-load-balancer", "--name", "bts-alb", "--subnets", n.public, publicC, "--security-groups", albSG)
	lbARN, dns := get(lb, "LoadBalancers", 0, "LoadBalancerArn"), get(lb, "LoadBalancers", 0, "DNSName")
	tgARN := get(w.aws("elbv2", "create-target-group", "--name", "bts-web", "--protocol", "HTTP", "--port", "80", "--vpc-id", n.vpc,
		"--health-check-interval-seconds", "5", "--health-check-timeout-seconds", "2", "--healthy-threshold-count", "2"), "TargetGroups", 0, "TargetGroupArn")
	w.aws("ec2", "wait", "instance-running", "--instance-ids", ids[0], ids[1])
	w.aws("elbv2", "register-targets", "--target-group-arn", tgARN, "--targets", "Id="+ids[0], "Id="+ids[1])
	w.aws("elbv2", "create-listener", "--load-balancer-arn", lbARN, "--protocol", "HTTP", "--port", "80",
		"--default-actions", "Type=forward,TargetGroupArn="+tgARN)

	w.aws("elasticache", "wait", "replication-group-available", "--replication-group-id", "bts-redis")
	primary := get(w.aws("elasticache", "describe-replication-groups", "--replication-group-id", "bts-redis"),
		"ReplicationGroups", 0, "NodeGroups", 0, "PrimaryEndpoint", "Address")
	for _, id := range ids {
		// The seed's step 3, done on each server once the group is there.
		w.shOK(id, "echo "+primary+" > /etc/redis-endpoint")
	}
	for _, id := range ids {
		// Apache, PHP and php-redis come from the mirror at first boot;
		// on two loaded cores that can take minutes.
		if console := w.userDataDone(id, 15*time.Minute); !strings.Contains(console, "exited with status 0") {
			t.Fatalf("the user data of %s failed:\n%s", id, console)
		}
		// The page's answer and status show in the failure, if any.
		w.eventually(id, `out=$(curl -s --max-time 5 -w ' HTTP%{http_code}' http://localhost/session.php); echo "$out"; echo "$out" | grep -q ' 1 HTTP200$'`, 2*time.Minute)
	}
	w.poll(func() bool { return lbActive(w, lbARN) })
	w.poll(func() bool { return inService(w, tgARN) })

	// visit sends n requests with one client's cookies and returns the
	// hosts that answered and the last count.
	jar := &cookieJar{}
	count := 0
	visit := func(t *testing.T, n int) map[string]bool {
		t.Helper()
		hosts := map[string]bool{}
		for range n {
			code, body, err := w.edgeGetWith(jar, dns, "/session.php")
			host, num, _ := strings.Cut(body, " ")
			if err != nil || code != 200 || num != fmt.Sprint(count+1) {
				t.Fatalf("request %d: %d %q %v", count+1, code, body, err)
			}
			count++
			hosts[host] = true
		}
		return hosts
	}
	t.Run("one session across both web servers", func(t *testing.T) {
		w := w.in(t)
		if hosts := visit(t, 8); len(hosts) != 2 {
			t.Fatalf("answered by %v, want both servers", hosts)
		}
		keys := w.shOK(ids[0], "timeout 5 redis-cli -h "+primary+" --scan --pattern 'PHPREDIS_SESSION:*'")
		if !strings.HasPrefix(keys, "PHPREDIS_SESSION:") {
			t.Errorf("session keys: %q", keys)
		}
	})
	t.Run("the session survives test-failover", func(t *testing.T) {
		w := w.in(t)
		w.aws("elasticache", "test-failover", "--replication-group-id", "bts-redis", "--node-group-id", "0001")
		node2 := get(w.aws("elasticache", "describe-replication-groups", "--replication-group-id", "bts-redis"),
			"ReplicationGroups", 0, "NodeGroups", 0, "NodeGroupMembers", 1, "ReadEndpoint", "Address")
		ip := w.shOK(ids[0], "getent ahostsv4 "+node2+" | awk 'NR == 1 {print $1}'")
		w.eventually(ids[0], "getent ahostsv4 "+primary+" | grep -q '^"+ip+" '", time.Minute)
		// Writes go to the promoted node once it has left replication.
		w.eventually(ids[0], "timeout 5 redis-cli -h "+primary+" SET probe 1 | grep -x OK", time.Minute)
		visit(t, 4)
	})
	w.checkSafety()
}

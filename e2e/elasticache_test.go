package e2e

import (
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
	w := newVPCWorld(t, Opts{})
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

	webSG := get(w.aws("ec2", "create-security-group", "--group-name", "web", "--description", "web", "--vpc-id", vpc), "GroupId")
	otherSG := get(w.aws("ec2", "create-security-group", "--group-name", "other", "--description", "other", "--vpc-id", vpc), "GroupId")
	cacheSG := get(w.aws("ec2", "create-security-group", "--group-name", "redis", "--description", "redis", "--vpc-id", vpc), "GroupId")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", cacheSG, "--protocol", "tcp", "--port", "6379", "--source-group", webSG)
	// Not needed on AWS, where replication between the nodes does not
	// pass the customer's groups: here it does (the nodes' interfaces are
	// wired as any), so the group admits itself.
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", cacheSG, "--protocol", "tcp", "--port", "6379", "--source-group", cacheSG)

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
		if got := get(events, "Events", 2, "Message"); got != "Failover from master node bts-redis-001 to replica node bts-redis-002 completed" {
			t.Errorf("events: %v", events)
		}
	})

	w.aws("elasticache", "delete-replication-group", "--replication-group-id", "bts-redis")
	w.aws("elasticache", "wait", "replication-group-deleted", "--replication-group-id", "bts-redis")
	w.checkSafety()
}

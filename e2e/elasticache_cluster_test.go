package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestElastiCacheClusterMode: a Redis replication group with cluster
// mode enabled, two shards of a primary and a replica. A web server's
// cluster client (redis-cli -c) writes through the configuration
// endpoint and the keys land on both shards; CLUSTER SLOTS and CLUSTER
// NODES show the nodes' addresses; test-failover of shard 0002 promotes
// its replica with the engine's CLUSTER FAILOVER and the keys stay.
func TestElastiCacheClusterMode(t *testing.T) {
	t.Parallel() // with the other data-tier tests (see TestRDSSeed003)
	w := newVPCWorld(t, Opts{})
	defer nodeConsoles(w)
	vpc, privA, privC := privateNetwork(w)
	webSG := get(w.aws("ec2", "create-security-group", "--group-name", "web", "--description", "web", "--vpc-id", vpc), "GroupId")
	cacheSG := get(w.aws("ec2", "create-security-group", "--group-name", "redis", "--description", "redis", "--vpc-id", vpc), "GroupId")
	w.aws("ec2", "authorize-security-group-ingress", "--group-id", cacheSG, "--protocol", "tcp", "--port", "6379", "--source-group", webSG)
	ami := get(w.aws("ec2", "describe-images", "--owners", "amazon", "--filters", "Name=name,Values=al2023-ami-2023.*-kernel-6.1-x86_64"), "Images", 0, "ImageId")
	web := get(w.aws("ec2", "run-instances", "--image-id", ami, "--instance-type", "t3.micro", "--subnet-id", privA,
		"--security-group-ids", webSG, "--user-data", redisUserData), "Instances", 0, "InstanceId")

	w.aws("elasticache", "create-cache-subnet-group", "--cache-subnet-group-name", "cm-subnets",
		"--cache-subnet-group-description", "private subnets", "--subnet-ids", privA, privC)
	w.aws("elasticache", "create-replication-group", "--replication-group-id", "cm", "--replication-group-description", "sharded",
		"--engine", "redis", "--cache-node-type", "cache.t3.micro", "--num-node-groups", "2", "--replicas-per-node-group", "1",
		"--cache-parameter-group-name", "default.redis7.cluster.on", "--cache-subnet-group-name", "cm-subnets", "--security-group-ids", cacheSG)
	w.aws("elasticache", "wait", "replication-group-available", "--replication-group-id", "cm")
	g := w.aws("elasticache", "describe-replication-groups", "--replication-group-id", "cm")
	cfg := get(g, "ReplicationGroups", 0, "ConfigurationEndpoint", "Address")
	if !strings.HasPrefix(cfg, "clustercfg.cm.") || !strings.HasSuffix(cfg, ".apn2.cache.amazonaws.com") {
		t.Fatalf("configuration endpoint %q", cfg)
	}
	// Each node's own name, by cache cluster.
	nodes := map[string]string{}
	for _, id := range []string{"cm-0001-001", "cm-0001-002", "cm-0002-001", "cm-0002-002"} {
		c := w.aws("elasticache", "describe-cache-clusters", "--cache-cluster-id", id, "--show-cache-node-info")
		nodes[id] = get(c, "CacheClusters", 0, "CacheNodes", 0, "Endpoint", "Address")
	}

	w.aws("ec2", "wait", "instance-running", "--instance-ids", web)
	w.eventually(web, "command -v redis-cli", 3*time.Minute)
	cli := func(host, cmd string) string { return "timeout 10 redis-cli -c -h " + host + " " + cmd }
	w.eventually(web, cli(cfg, "PING")+" | grep -x PONG", 3*time.Minute)
	const keys = 20
	for i := range keys {
		if got := w.shOK(web, cli(cfg, fmt.Sprintf("SET key:%d v%d", i, i))); got != "OK" {
			t.Fatalf("SET key:%d through the configuration endpoint: %q", i, got)
		}
	}

	t.Run("the keys are on both shards", func(t *testing.T) {
		w := w.in(t)
		for _, id := range []string{"cm-0001-001", "cm-0002-001"} {
			n := w.shOK(web, cli(nodes[id], "DBSIZE"))
			if n == "0" || n == fmt.Sprint(keys) {
				t.Errorf("%s holds %s keys of %d", id, n, keys)
			}
		}
	})

	t.Run("CLUSTER SLOTS and CLUSTER NODES", func(t *testing.T) {
		w := w.in(t)
		slots := strings.Fields(w.shOK(web, cli(cfg, "CLUSTER SLOTS")))
		for _, want := range []string{"0", "8191", "8192", "16383"} {
			found := false
			for _, f := range slots {
				found = found || f == want
			}
			if !found {
				t.Errorf("CLUSTER SLOTS has no %s: %q", want, slots)
			}
		}
		ips := map[string]string{}
		for id, name := range nodes {
			ips[id] = w.shOK(web, "getent ahostsv4 "+name+" | awk 'NR == 1 {print $1}'")
		}
		out := w.shOK(web, cli(cfg, "CLUSTER NODES"))
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 4 {
			t.Fatalf("CLUSTER NODES: %q", out)
		}
		for id, ip := range ips {
			if !strings.Contains(out, " "+ip+":6379@16379 ") {
				t.Errorf("CLUSTER NODES has no %s (%s): %q", id, ip, out)
			}
		}
		if !strings.Contains(out, ips["cm-0001-001"]+":6379@16379") || !strings.Contains(out, "0-8191") || !strings.Contains(out, "8192-16383") {
			t.Errorf("CLUSTER NODES: %q", out)
		}
	})

	t.Run("test-failover of shard 0002 keeps its keys", func(t *testing.T) {
		w := w.in(t)
		w.aws("elasticache", "test-failover", "--replication-group-id", "cm", "--node-group-id", "0002")
		w.eventually(web, cli(nodes["cm-0002-002"], "ROLE")+" | head -1 | grep -x master", time.Minute)
		// The old primary follows the new one.
		w.eventually(web, cli(nodes["cm-0002-001"], "ROLE")+" | head -1 | grep -x slave", time.Minute)
		for i := range keys {
			if got := w.shOK(web, cli(cfg, fmt.Sprintf("GET key:%d", i))); got != fmt.Sprintf("v%d", i) {
				t.Errorf("GET key:%d after the failover: %q", i, got)
			}
		}
		w.eventually(web, cli(cfg, "SET after-failover yes")+" | grep -x OK", time.Minute)
		events := w.aws("elasticache", "describe-events", "--source-type", "replication-group", "--source-identifier", "cm")
		found := false
		for i := range 10 {
			found = found || get(events, "Events", i, "Message") == "Failover from primary node cm-0002-001 to replica node cm-0002-002 completed"
		}
		if !found {
			t.Errorf("events: %v", events)
		}
		w.aws("elasticache", "wait", "replication-group-available", "--replication-group-id", "cm")
	})

	w.aws("elasticache", "delete-replication-group", "--replication-group-id", "cm")
	w.aws("elasticache", "wait", "replication-group-deleted", "--replication-group-id", "cm")
	w.checkSafety()
}

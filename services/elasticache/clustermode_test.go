package elasticache_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestClusterMode: a group of two shards of a primary and a replica with
// default.redis7.cluster.on, described as AWS does, its nodes spread over
// the AZs and joined by their first boots, its configuration endpoint
// naming every node, and test-failover per shard.
func TestClusterMode(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	e.must(t, "create-cache-subnet-group", "--cache-subnet-group-name", "subnets", "--cache-subnet-group-description", "x", "--subnet-ids", n.subnets[0], n.subnets[1])
	out := e.must(t, "create-replication-group", "--replication-group-id", "cm", "--replication-group-description", "x", "--engine", "redis",
		"--cache-node-type", "cache.t3.micro", "--num-node-groups", "2", "--replicas-per-node-group", "1",
		"--cache-parameter-group-name", "default.redis7.cluster.on", "--cache-subnet-group-name", "subnets")
	if dig(out, "ReplicationGroup", "ClusterEnabled") != true || dig(out, "ReplicationGroup", "ClusterMode") != "enabled" ||
		dig(out, "ReplicationGroup", "AutomaticFailover") != "enabled" || dig(out, "ReplicationGroup", "ConfigurationEndpoint") != nil {
		t.Fatalf("created: %v", out)
	}
	e.must(t, "wait", "replication-group-available", "--replication-group-id", "cm")
	rg := dig(e.must(t, "describe-replication-groups", "--replication-group-id", "cm"), "ReplicationGroups", 0)
	cfg, _ := dig(rg, "ConfigurationEndpoint", "Address").(string)
	if !strings.HasPrefix(cfg, "clustercfg.cm.") || !strings.HasSuffix(cfg, ".use1.cache.amazonaws.com") || dig(rg, "ConfigurationEndpoint", "Port") != 6379.0 {
		t.Fatalf("configuration endpoint: %v", dig(rg, "ConfigurationEndpoint"))
	}
	want := []struct{ id, slots, primaryAZ, replicaAZ string }{{"0001", "0-8191", "a", "c"}, {"0002", "8192-16383", "c", "a"}}
	for i, w := range want {
		ng := dig(rg, "NodeGroups", i)
		if dig(ng, "NodeGroupId") != w.id || dig(ng, "Slots") != w.slots || dig(ng, "PrimaryEndpoint") != nil ||
			dig(ng, "NodeGroupMembers", 0, "CacheClusterId") != "cm-"+w.id+"-001" || dig(ng, "NodeGroupMembers", 1, "CacheClusterId") != "cm-"+w.id+"-002" ||
			dig(ng, "NodeGroupMembers", 0, "PreferredAvailabilityZone") != region+w.primaryAZ ||
			dig(ng, "NodeGroupMembers", 1, "PreferredAvailabilityZone") != region+w.replicaAZ {
			t.Fatalf("node group %d: %v", i, ng)
		}
	}
	if l := dig(rg, "MemberClusters").([]any); len(l) != 4 {
		t.Fatalf("members: %v", l)
	}
	c := e.must(t, "describe-cache-clusters", "--cache-cluster-id", "cm-0002-002", "--show-cache-node-info")
	if a, _ := dig(c, "CacheClusters", 0, "CacheNodes", 0, "Endpoint", "Address").(string); !strings.HasPrefix(a, "cm-0002-002.cm.") ||
		dig(c, "CacheClusters", 0, "ReplicationGroupId") != "cm" {
		t.Fatalf("cache cluster: %v", c)
	}

	// The names: the configuration endpoint names every node, each node
	// its own, and there is no primary or reader endpoint.
	w := e.world(t)
	var ips []string
	for _, name := range w.Names {
		switch {
		case name.Name == cfg:
			for _, a := range name.Addrs {
				ips = append(ips, a.String())
			}
		case strings.HasPrefix(name.Name, "master.") || strings.HasPrefix(name.Name, "replica."):
			t.Errorf("cluster mode publishes %s", name.Name)
		}
	}
	if len(ips) != 4 {
		t.Fatalf("configuration endpoint addresses: %v", ips)
	}
	// The first boots: the shards' first nodes add their slots, the
	// others meet the first shard's first node, replicas replicate their
	// shard's first node.
	scripts := map[string]string{}
	for _, sl := range w.Slots {
		scripts[sl.ID[strings.LastIndex(sl.ID, "cm-"):]] = string(sl.Script)
	}
	for node, wants := range map[string][]string{
		"cm-0001-001": {"cluster-enabled yes", "cluster addslotsrange 0 8191"},
		"cm-0002-001": {"cluster addslotsrange 8192 16383", "cluster meet " + ips[0] + " 6379"},
		"cm-0002-002": {"cluster meet " + ips[0] + " 6379", "known " + ips[2] + ":6379 master", "cluster replicate"},
	} {
		for _, want := range wants {
			if !strings.Contains(scripts[node], want) {
				t.Errorf("%s's first boot has no %q", node, want)
			}
		}
	}
	if strings.Contains(scripts["cm-0001-001"], "cluster meet") || strings.Contains(scripts["cm-0001-002"], "addslotsrange") ||
		strings.Contains(scripts["cm-0001-001"], "elasticache-follow") {
		t.Errorf("cm-0001-001's or cm-0001-002's first boot:\n%s\n%s", scripts["cm-0001-001"], scripts["cm-0001-002"])
	}

	// Failover is per shard.
	e.must(t, "test-failover", "--replication-group-id", "cm", "--node-group-id", "0002")
	events := e.must(t, "describe-events", "--source-identifier", "cm", "--source-type", "replication-group")["Events"].([]any)
	var msgs []string
	for _, ev := range events {
		msgs = append(msgs, dig(ev, "Message").(string))
	}
	for _, want := range []string{"Test Failover API called for node group 0002", "Failover from primary node cm-0002-001 to replica node cm-0002-002 completed"} {
		if !slices.Contains(msgs, want) {
			t.Errorf("events %q: no %q", msgs, want)
		}
	}
	e.fails(t, "NodeGroupNotFoundFault", "The node group 0003 was not found in replication group cm.",
		"test-failover", "--replication-group-id", "cm", "--node-group-id", "0003")
	// A shard's primary lost fails that shard over.
	for _, sl := range w.Slots {
		if strings.HasSuffix(sl.ID, "-cm-0001-001") {
			if err := e.svc.ReportSlot(sl.Account, sl.Region, sl.ID, "failed", "gone"); err != nil {
				t.Fatal(err)
			}
		}
	}
	events = e.must(t, "describe-events", "--source-identifier", "cm-0001-001", "--source-type", "cache-cluster")["Events"].([]any)
	if got := dig(events, len(events)-1, "Message"); got != "Failover from primary node cm-0001-001 to replica node cm-0001-002 completed" {
		t.Errorf("cm-0001-001's events: %v", events)
	}

	// What is not done for cluster mode says so.
	e.fails(t, "NotImplemented", "cluster mode", "increase-replica-count", "--replication-group-id", "cm", "--new-replica-count", "2", "--apply-immediately")
	e.fails(t, "NotImplemented", "cluster mode", "modify-replication-group", "--replication-group-id", "cm", "--cache-node-type", "cache.t3.small", "--apply-immediately")
	e.fails(t, "NotImplemented", "cluster mode", "create-snapshot", "--replication-group-id", "cm", "--snapshot-name", "s")
	e.must(t, "delete-replication-group", "--replication-group-id", "cm")
	e.must(t, "wait", "replication-group-deleted", "--replication-group-id", "cm")
}

// TestClusterModeNodeGroupConfiguration: shards given one by one, with
// their slots, replica counts and AZs.
func TestClusterModeNodeGroupConfiguration(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	e.must(t, "create-cache-subnet-group", "--cache-subnet-group-name", "subnets", "--cache-subnet-group-description", "x", "--subnet-ids", n.subnets[0], n.subnets[1])
	out := e.must(t, "create-replication-group", "--replication-group-id", "ngc", "--replication-group-description", "x", "--engine", "redis",
		"--cache-node-type", "cache.t3.micro", "--cluster-mode", "enabled", "--cache-parameter-group-name", "default.redis7.cluster.on",
		"--cache-subnet-group-name", "subnets", "--node-group-configuration",
		"NodeGroupId=0001,Slots=0-99,ReplicaCount=0,PrimaryAvailabilityZone="+region+"c",
		"NodeGroupId=0002,Slots=100-16383,ReplicaCount=2,PrimaryAvailabilityZone="+region+"a,ReplicaAvailabilityZones="+region+"c,"+region+"c")
	rg := dig(out, "ReplicationGroup")
	got := fmt.Sprint(dig(rg, "NodeGroups", 0, "Slots"), " ", dig(rg, "NodeGroups", 1, "Slots"), " ",
		dig(rg, "NodeGroups", 0, "NodeGroupMembers", 0, "PreferredAvailabilityZone"), " ",
		dig(rg, "NodeGroups", 1, "NodeGroupMembers", 2, "CacheClusterId"), " ", dig(rg, "NodeGroups", 1, "NodeGroupMembers", 2, "PreferredAvailabilityZone"))
	if want := "0-99 100-16383 " + region + "c ngc-0002-003 " + region + "c"; got != want {
		t.Fatalf("node groups: %s, want %s (%v)", got, want, rg)
	}
	// A shard without a replica: TestFailover has none to promote.
	e.must(t, "wait", "replication-group-available", "--replication-group-id", "ngc")
	e.fails(t, "InvalidReplicationGroupState", "no available replica", "test-failover", "--replication-group-id", "ngc", "--node-group-id", "1")
}

// TestClusterModeErrors: AWS's answers to cluster-mode requests a
// parameter group or the shards do not allow.
func TestClusterModeErrors(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	e.must(t, "create-cache-subnet-group", "--cache-subnet-group-name", "subnets", "--cache-subnet-group-description", "x", "--subnet-ids", n.subnets[0], n.subnets[1])
	create := func(id string, args ...string) []string {
		return append([]string{"create-replication-group", "--replication-group-id", id, "--replication-group-description", "x", "--engine", "redis",
			"--cache-node-type", "cache.t3.micro", "--cache-subnet-group-name", "subnets"}, args...)
	}
	e.fails(t, "InvalidParameterCombination", "Use a parameter group with cluster-enabled parameter to create more than one node group.",
		create("a", "--num-node-groups", "2")...)
	e.fails(t, "InvalidParameterCombination", "Cluster mode should be enabled in parameter group, but found it is disabled.",
		create("b", "--cluster-mode", "enabled", "--cache-parameter-group-name", "default.redis7")...)
	e.fails(t, "InvalidParameterCombination", "Cluster mode should be disabled in parameter group, but found it is enabled.",
		create("c", "--cluster-mode", "disabled", "--cache-parameter-group-name", "default.redis7.cluster.on")...)
	e.fails(t, "InvalidParameterValue", "The number of replicas per node group must be within 0 and 5.",
		create("d", "--num-node-groups", "2", "--replicas-per-node-group", "6", "--cache-parameter-group-name", "default.redis7.cluster.on")...)
	e.fails(t, "InvalidParameterValue", "Slot 100 is not given to any node group",
		create("e", "--cache-parameter-group-name", "default.redis7.cluster.on", "--node-group-configuration", "Slots=0-99", "Slots=101-16383")...)
	e.fails(t, "InvalidParameterValue", "Slot 50 is given to more than one node group.",
		create("f", "--cache-parameter-group-name", "default.redis7.cluster.on", "--node-group-configuration", "Slots=0-99", "Slots=50-16383")...)
	e.fails(t, "InvalidParameterCombination", "AutomaticFailoverEnabled must be enabled",
		create("g", "--num-node-groups", "2", "--no-automatic-failover-enabled", "--cache-parameter-group-name", "default.redis7.cluster.on")...)
	e.fails(t, "NotImplemented", "in-transit encryption",
		create("h", "--num-node-groups", "2", "--transit-encryption-enabled", "--cache-parameter-group-name", "default.redis7.cluster.on")...)
	// A custom group with cluster-enabled yes is a cluster-mode group's, and
	// one node group with it is cluster mode too.
	e.must(t, "create-cache-parameter-group", "--cache-parameter-group-name", "mine", "--cache-parameter-group-family", "redis7", "--description", "x")
	e.must(t, "modify-cache-parameter-group", "--cache-parameter-group-name", "mine", "--parameter-name-values", "ParameterName=cluster-enabled,ParameterValue=yes")
	out := e.must(t, create("one", "--cache-parameter-group-name", "mine")...)
	if dig(out, "ReplicationGroup", "ClusterEnabled") != true || dig(out, "ReplicationGroup", "NodeGroups", 0, "Slots") != "0-16383" ||
		dig(out, "ReplicationGroup", "MemberClusters", 0) != "one-0001-001" {
		t.Fatalf("one shard: %v", out)
	}
	// Node names are unique across the modes.
	e.fails(t, "CacheClusterAlreadyExists", "Cache cluster one-0001-001 already exists.", create("one-0001")...)
	// A cluster-mode group keeps its mode.
	e.must(t, "wait", "replication-group-available", "--replication-group-id", "one")
	e.must(t, create("plain")...)
	e.must(t, "wait", "replication-group-available", "--replication-group-id", "plain")
	e.fails(t, "InvalidParameterCombination", "The parameter cluster-enabled has a different value",
		"modify-replication-group", "--replication-group-id", "plain", "--cache-parameter-group-name", "mine", "--apply-immediately")
	groups := e.must(t, "describe-cache-parameter-groups", "--cache-parameter-group-name", "default.redis7.cluster.on")
	if dig(groups, "CacheParameterGroups", 0, "CacheParameterGroupFamily") != "redis7" {
		t.Fatalf("default.redis7.cluster.on: %v", groups)
	}
}

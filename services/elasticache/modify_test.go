package elasticache_test

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	ec2sdk "github.com/aws/aws-sdk-go-v2/service/ec2"
)

// TestModifyReplicationGroup changes a group with modify-replication-group:
// the description, snapshot window and security groups at once (the nodes'
// interfaces carry the new group), automatic failover and Multi-AZ with
// AWS's checks, and a new primary named by PrimaryClusterId, which is a
// failover to that node once the group has been modifying.
func TestModifyReplicationGroup(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	e.must(t, "create-cache-subnet-group", "--cache-subnet-group-name", "subnets", "--cache-subnet-group-description", "x", "--subnet-ids", n.subnets[0], n.subnets[1])
	e.must(t, "create-replication-group", "--replication-group-id", "solo", "--replication-group-description", "x", "--engine", "redis",
		"--cache-node-type", "cache.t3.micro", "--cache-subnet-group-name", "subnets")
	e.must(t, "create-replication-group", "--replication-group-id", "pair", "--replication-group-description", "before", "--engine", "redis",
		"--cache-node-type", "cache.t3.micro", "--num-cache-clusters", "3", "--automatic-failover-enabled", "--multi-az-enabled",
		"--cache-subnet-group-name", "subnets", "--security-group-ids", n.cacheSG)
	e.must(t, "wait", "replication-group-available", "--replication-group-id", "solo")
	e.must(t, "wait", "replication-group-available", "--replication-group-id", "pair")

	e.fails(t, "ReplicationGroupNotFoundFault", "Replication group nope not found.", "modify-replication-group", "--replication-group-id", "nope", "--apply-immediately")
	e.fails(t, "InvalidReplicationGroupState", "Replication group must have at least one read replica to enable autofailover.",
		"modify-replication-group", "--replication-group-id", "solo", "--automatic-failover-enabled", "--apply-immediately")
	e.fails(t, "InvalidParameterCombination", "Multi-AZ is only supported with automatic failover enabled.",
		"modify-replication-group", "--replication-group-id", "pair", "--no-automatic-failover-enabled", "--apply-immediately")
	e.fails(t, "InvalidReplicationGroupState", "Cannot manually promote a new master cache cluster while autofailover is enabled",
		"modify-replication-group", "--replication-group-id", "pair", "--primary-cluster-id", "pair-002", "--apply-immediately")
	e.fails(t, "InvalidParameterValue", "Invalid snapshot window: 05:00-05:30.",
		"modify-replication-group", "--replication-group-id", "pair", "--snapshot-window", "05:00-05:30")
	e.fails(t, "InvalidParameterValue", "Some security group Id not recongized by EC2: sg-00000000",
		"modify-replication-group", "--replication-group-id", "pair", "--security-group-ids", "sg-00000000")
	e.fails(t, "NotImplemented", "EngineVersion", "modify-replication-group", "--replication-group-id", "pair", "--engine-version", "7.0", "--apply-immediately")
	e.fails(t, "InvalidParameterValue", "Invalid value for SnapshotRetentionLimit: -1. It must be 0 or greater.",
		"modify-replication-group", "--replication-group-id", "pair", "--snapshot-retention-limit", "-1")

	// At once: description, snapshot window, security groups.
	out := e.must(t, "modify-replication-group", "--replication-group-id", "pair", "--replication-group-description", "after",
		"--snapshot-window", "23:30-00:30", "--security-group-ids", n.webSG, "--apply-immediately")
	rg := out["ReplicationGroup"]
	if dig(rg, "Status") != "available" || dig(rg, "Description") != "after" || dig(rg, "SnapshotWindow") != "23:30-00:30" {
		t.Fatalf("modified: %v", rg)
	}
	clusters := e.must(t, "describe-cache-clusters", "--cache-cluster-id", "pair-003")["CacheClusters"].([]any)
	if dig(clusters, 0, "SecurityGroups", 0, "SecurityGroupId") != n.webSG || len(dig(clusters, 0, "SecurityGroups").([]any)) != 1 {
		t.Fatalf("cluster groups: %v", clusters)
	}
	enis, err := e.ec2.DescribeNetworkInterfaces(context.Background(), &ec2sdk.DescribeNetworkInterfacesInput{})
	if err != nil {
		t.Fatal(err)
	}
	for _, eni := range enis.NetworkInterfaces {
		if strings.HasPrefix(aws.ToString(eni.Description), "ElastiCache pair-") &&
			(len(eni.Groups) != 1 || aws.ToString(eni.Groups[0].GroupId) != n.webSG) {
			t.Fatalf("%s has groups %v", aws.ToString(eni.NetworkInterfaceId), eni.Groups)
		}
	}

	// Automatic failover off (Multi-AZ with it): modifying, then applied.
	out = e.must(t, "modify-replication-group", "--replication-group-id", "pair", "--no-automatic-failover-enabled", "--no-multi-az-enabled", "--apply-immediately")
	if dig(out, "ReplicationGroup", "Status") != "modifying" || dig(out, "ReplicationGroup", "PendingModifiedValues", "AutomaticFailoverStatus") != "disabled" ||
		dig(out, "ReplicationGroup", "AutomaticFailover") != "enabled" {
		t.Fatalf("pending: %v", out)
	}
	e.must(t, "wait", "replication-group-available", "--replication-group-id", "pair")
	out = e.must(t, "describe-replication-groups", "--replication-group-id", "pair")
	if dig(out, "ReplicationGroups", 0, "AutomaticFailover") != "disabled" || dig(out, "ReplicationGroups", 0, "MultiAZ") != "disabled" ||
		dig(out, "ReplicationGroups", 0, "PendingModifiedValues", "AutomaticFailoverStatus") != nil {
		t.Fatalf("applied: %v", out)
	}

	// A new primary: the named node's, its name moving to it.
	out = e.must(t, "modify-replication-group", "--replication-group-id", "pair", "--primary-cluster-id", "pair-003", "--apply-immediately")
	if dig(out, "ReplicationGroup", "PendingModifiedValues", "PrimaryClusterId") != "pair-003" {
		t.Fatalf("pending primary: %v", out)
	}
	e.must(t, "wait", "replication-group-available", "--replication-group-id", "pair")
	out = e.must(t, "describe-replication-groups", "--replication-group-id", "pair")
	var roles []string
	for _, m := range dig(out, "ReplicationGroups", 0, "NodeGroups", 0, "NodeGroupMembers").([]any) {
		roles = append(roles, fmt.Sprint(dig(m, "CurrentRole")))
	}
	if !slices.Equal(roles, []string{"replica", "replica", "primary"}) {
		t.Fatalf("roles: %v", roles)
	}
	primary := dig(out, "ReplicationGroups", 0, "NodeGroups", 0, "PrimaryEndpoint", "Address").(string)
	var primaryIP, node3IP string
	for _, nm := range e.world(t).Names {
		switch nm.Name {
		case primary:
			primaryIP = nm.Addrs[0].String()
		case "pair-003." + strings.TrimPrefix(primary, "master."):
			node3IP = nm.Addrs[0].String()
		}
	}
	if primaryIP == "" || primaryIP != node3IP {
		t.Fatalf("primary endpoint at %s, pair-003 at %s", primaryIP, node3IP)
	}
	events := e.must(t, "describe-events", "--source-type", "replication-group", "--source-identifier", "pair")["Events"].([]any)
	if last := dig(events, len(events)-1, "Message"); last != "Failover from primary node pair-001 to replica node pair-003 completed" {
		t.Fatalf("events: %v", events)
	}
	// The group turns automatic failover on again, with its replicas.
	e.must(t, "modify-replication-group", "--replication-group-id", "pair", "--automatic-failover-enabled", "--apply-immediately")
	e.must(t, "wait", "replication-group-available", "--replication-group-id", "pair")
	out = e.must(t, "describe-replication-groups", "--replication-group-id", "pair")
	if dig(out, "ReplicationGroups", 0, "AutomaticFailover") != "enabled" {
		t.Fatalf("failover on again: %v", out)
	}
}

// TestModifyMemcached grows a Memcached cluster by real nodes and shrinks
// it by the nodes named, the configuration endpoint following; without
// ApplyImmediately the change waits for the maintenance window.
func TestModifyMemcached(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	e.must(t, "create-cache-subnet-group", "--cache-subnet-group-name", "subnets", "--cache-subnet-group-description", "x", "--subnet-ids", n.subnets[0], n.subnets[1])
	e.must(t, "create-cache-cluster", "--cache-cluster-id", "mc01", "--engine", "memcached", "--cache-node-type", "cache.t3.micro",
		"--num-cache-nodes", "1", "--cache-subnet-group-name", "subnets", "--preferred-availability-zone", region+"a")
	e.must(t, "wait", "cache-cluster-available", "--cache-cluster-id", "mc01")
	cfgAddrs := func() int {
		for _, nm := range e.world(t).Names {
			if strings.Contains(nm.Name, ".cfg.") {
				return len(nm.Addrs)
			}
		}
		return 0
	}

	e.fails(t, "InvalidParameterValue", "The number of cache nodes must be at least 1.",
		"modify-cache-cluster", "--cache-cluster-id", "mc01", "--num-cache-nodes", "0", "--apply-immediately")
	e.fails(t, "NodeQuotaForClusterExceeded", "", "modify-cache-cluster", "--cache-cluster-id", "mc01", "--num-cache-nodes", "41", "--apply-immediately")
	e.fails(t, "InvalidParameterCombination", "CacheNodeIdsToRemove cannot be specified",
		"modify-cache-cluster", "--cache-cluster-id", "mc01", "--num-cache-nodes", "3", "--cache-node-ids-to-remove", "0001", "--apply-immediately")
	e.fails(t, "InvalidParameterValue", "AZMode", "modify-cache-cluster", "--cache-cluster-id", "mc01", "--az-mode", "both")

	// Without ApplyImmediately: pending until the maintenance window.
	out := e.must(t, "modify-cache-cluster", "--cache-cluster-id", "mc01", "--num-cache-nodes", "2")
	if dig(out, "CacheCluster", "CacheClusterStatus") != "available" || dig(out, "CacheCluster", "PendingModifiedValues", "NumCacheNodes") != float64(2) {
		t.Fatalf("pending: %v", out)
	}
	// With it, that change and this one apply now: three nodes, across
	// zones.
	out = e.must(t, "modify-cache-cluster", "--cache-cluster-id", "mc01", "--num-cache-nodes", "3", "--az-mode", "cross-az", "--apply-immediately")
	if dig(out, "CacheCluster", "CacheClusterStatus") != "modifying" || dig(out, "CacheCluster", "NumCacheNodes") != float64(3) {
		t.Fatalf("growing: %v", out)
	}
	if w := e.world(t); len(w.Slots) != 3 {
		t.Fatalf("slots: %d", len(w.Slots))
	}
	e.must(t, "wait", "cache-cluster-available", "--cache-cluster-id", "mc01")
	out = e.must(t, "describe-cache-clusters", "--cache-cluster-id", "mc01", "--show-cache-node-info")
	nodes := dig(out, "CacheClusters", 0, "CacheNodes").([]any)
	if len(nodes) != 3 || dig(nodes, 1, "CustomerAvailabilityZone") != region+"c" || dig(nodes, 2, "CustomerAvailabilityZone") != region+"a" || dig(nodes, 2, "CacheNodeId") != "0003" ||
		dig(out, "CacheClusters", 0, "PreferredAvailabilityZone") != "Multiple" || dig(out, "CacheClusters", 0, "PendingModifiedValues", "NumCacheNodes") != nil {
		t.Fatalf("grown: %v", out)
	}
	if got := cfgAddrs(); got != 3 {
		t.Fatalf("configuration endpoint: %d addresses", got)
	}
	e.fails(t, "InvalidParameterValue", "Cannot use single-az mode", "modify-cache-cluster", "--cache-cluster-id", "mc01", "--az-mode", "single-az")
	e.fails(t, "InvalidParameterValue", "The number of cache node ids to remove (0) must be the number of cache nodes removed (2).",
		"modify-cache-cluster", "--cache-cluster-id", "mc01", "--num-cache-nodes", "1", "--apply-immediately")
	e.fails(t, "InvalidParameterValue", "Invalid cache node id: 0009",
		"modify-cache-cluster", "--cache-cluster-id", "mc01", "--num-cache-nodes", "2", "--cache-node-ids-to-remove", "0009", "--apply-immediately")

	e.must(t, "modify-cache-cluster", "--cache-cluster-id", "mc01", "--num-cache-nodes", "2", "--cache-node-ids-to-remove", "0002", "--apply-immediately")
	e.must(t, "wait", "cache-cluster-available", "--cache-cluster-id", "mc01")
	out = e.must(t, "describe-cache-clusters", "--cache-cluster-id", "mc01", "--show-cache-node-info")
	nodes = dig(out, "CacheClusters", 0, "CacheNodes").([]any)
	if len(nodes) != 2 || dig(nodes, 0, "CacheNodeId") != "0001" || dig(nodes, 1, "CacheNodeId") != "0003" {
		t.Fatalf("shrunk: %v", out)
	}
	if w := e.world(t); len(w.Slots) != 2 || cfgAddrs() != 2 {
		t.Fatalf("after removal: %d slots, %d addresses", len(w.Slots), cfgAddrs())
	}
	var msgs []string
	for _, ev := range e.must(t, "describe-events", "--source-identifier", "mc01")["Events"].([]any) {
		msgs = append(msgs, dig(ev, "Message").(string))
	}
	want := []string{"Cache cluster created", "Added cache node 0002 in availability zone " + region + "c",
		"Added cache node 0003 in availability zone " + region + "a", "Removed cache node 0002"}
	if !slices.Equal(msgs, want) {
		t.Fatalf("events: %q", msgs)
	}
}

// TestScaleReplicationGroup changes a group's node type: deferred to the
// maintenance window without ApplyImmediately, and with it each node is
// replaced by one of the new type (a slot of its own, with the new memory)
// whose names move to it once it is up.
func TestScaleReplicationGroup(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	e.must(t, "create-cache-subnet-group", "--cache-subnet-group-name", "subnets", "--cache-subnet-group-description", "x", "--subnet-ids", n.subnets[0], n.subnets[1])
	e.must(t, "create-cache-parameter-group", "--cache-parameter-group-name", "lru", "--cache-parameter-group-family", "redis7", "--description", "x")
	e.must(t, "modify-cache-parameter-group", "--cache-parameter-group-name", "lru", "--parameter-name-values", "ParameterName=maxmemory-policy,ParameterValue=allkeys-lru")
	e.must(t, "create-replication-group", "--replication-group-id", "grow", "--replication-group-description", "x", "--engine", "redis",
		"--cache-node-type", "cache.t3.micro", "--num-cache-clusters", "2", "--cache-subnet-group-name", "subnets")
	e.must(t, "wait", "replication-group-available", "--replication-group-id", "grow")
	e.fails(t, "InvalidParameterValue", "Invalid CacheNodeType: cache.x9.huge", "modify-replication-group", "--replication-group-id", "grow", "--cache-node-type", "cache.x9.huge")
	e.fails(t, "CacheParameterGroupNotFound", "", "modify-replication-group", "--replication-group-id", "grow", "--cache-parameter-group-name", "nope")

	out := e.must(t, "modify-replication-group", "--replication-group-id", "grow", "--cache-node-type", "cache.t3.small")
	if dig(out, "ReplicationGroup", "Status") != "available" || dig(out, "ReplicationGroup", "CacheNodeType") != "cache.t3.micro" {
		t.Fatalf("deferred: %v", out)
	}
	clusters := e.must(t, "describe-cache-clusters", "--cache-cluster-id", "grow-002")["CacheClusters"].([]any)
	if dig(clusters, 0, "PendingModifiedValues", "CacheNodeType") != "cache.t3.small" {
		t.Fatalf("pending: %v", clusters)
	}
	before := map[string]string{}
	for _, nm := range e.world(t).Names {
		before[nm.Name] = nm.Addrs[0].String()
	}

	out = e.must(t, "modify-replication-group", "--replication-group-id", "grow", "--cache-parameter-group-name", "lru", "--apply-immediately")
	if dig(out, "ReplicationGroup", "Status") != "modifying" {
		t.Fatalf("scaling: %v", out)
	}
	e.must(t, "wait", "replication-group-available", "--replication-group-id", "grow")
	out = e.must(t, "describe-replication-groups", "--replication-group-id", "grow")
	if dig(out, "ReplicationGroups", 0, "CacheNodeType") != "cache.t3.small" {
		t.Fatalf("scaled: %v", out)
	}
	clusters = e.must(t, "describe-cache-clusters", "--cache-cluster-id", "grow-001")["CacheClusters"].([]any)
	if dig(clusters, 0, "CacheNodeType") != "cache.t3.small" || dig(clusters, 0, "CacheParameterGroup", "CacheParameterGroupName") != "lru" ||
		dig(clusters, 0, "PendingModifiedValues", "CacheNodeType") != nil {
		t.Fatalf("cluster: %v", clusters)
	}
	w := e.world(t)
	if len(w.Slots) != 2 || !strings.HasSuffix(w.Slots[0].ID, "grow-001-g1") || w.Slots[0].MemoryMiB != 1403+256 ||
		!strings.Contains(string(w.Slots[0].Script), `maxmemory-policy "allkeys-lru"`) {
		t.Fatalf("slots: %+v", w.Slots)
	}
	if err := exec.Command("bash", "-n", "-c", string(w.Slots[0].Script)).Run(); err != nil {
		t.Errorf("the node's script: %v", err)
	}
	for _, nm := range w.Names {
		if before[nm.Name] == "" || before[nm.Name] == nm.Addrs[0].String() {
			t.Fatalf("%s: %v, before %s", nm.Name, nm.Addrs, before[nm.Name])
		}
	}
	enis, err := e.ec2.DescribeNetworkInterfaces(context.Background(), &ec2sdk.DescribeNetworkInterfacesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(enis.NetworkInterfaces) != 2 {
		t.Fatalf("interfaces: %d", len(enis.NetworkInterfaces))
	}
	var msgs []string
	for _, ev := range e.must(t, "describe-events", "--source-identifier", "grow")["Events"].([]any) {
		msgs = append(msgs, dig(ev, "Message").(string))
	}
	if !slices.Contains(msgs, "Finished modifying cache node type to cache.t3.small for replication group grow") {
		t.Fatalf("events: %q", msgs)
	}
}

package elasticache_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestSubnetGroups(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	out := e.must(t, "create-cache-subnet-group", "--cache-subnet-group-name", "Cache-Private", "--cache-subnet-group-description", "private",
		"--subnet-ids", n.subnets[0], n.subnets[1], "--tags", "Key=env,Value=test")
	g := out["CacheSubnetGroup"]
	if dig(g, "CacheSubnetGroupName") != "cache-private" || dig(g, "VpcId") != n.vpc ||
		dig(g, "Subnets", 1, "SubnetAvailabilityZone", "Name") != region+"c" ||
		dig(g, "ARN") != "arn:aws:elasticache:"+region+":000000000000:subnetgroup:cache-private" && !strings.HasSuffix(fmt.Sprint(dig(g, "ARN")), ":subnetgroup:cache-private") {
		t.Fatalf("created: %v", g)
	}
	e.fails(t, "CacheSubnetGroupAlreadyExists", "Cache subnet group cache-private already exists.",
		"create-cache-subnet-group", "--cache-subnet-group-name", "cache-private", "--cache-subnet-group-description", "x", "--subnet-ids", n.subnets[0])
	e.fails(t, "InvalidParameterValue", "Some input subnets in :[subnet-00000000] are invalid.",
		"create-cache-subnet-group", "--cache-subnet-group-name", "bad", "--cache-subnet-group-description", "x", "--subnet-ids", "subnet-00000000")
	e.fails(t, "InvalidSubnet", "are not in the same VPC.",
		"create-cache-subnet-group", "--cache-subnet-group-name", "mixed", "--cache-subnet-group-description", "x", "--subnet-ids", n.subnets[0], n.otherSubnet)
	e.fails(t, "CacheSubnetGroupNotFoundFault", "Cache subnet group nope does not exist.", "describe-cache-subnet-groups", "--cache-subnet-group-name", "nope")

	out = e.must(t, "modify-cache-subnet-group", "--cache-subnet-group-name", "cache-private", "--subnet-ids", n.subnets[1], "--cache-subnet-group-description", "one")
	if l := dig(out, "CacheSubnetGroup", "Subnets").([]any); len(l) != 1 || dig(out, "CacheSubnetGroup", "CacheSubnetGroupDescription") != "one" {
		t.Fatalf("modified: %v", out)
	}
	arn := dig(out, "CacheSubnetGroup", "ARN").(string)
	tags := e.must(t, "list-tags-for-resource", "--resource-name", arn)
	if dig(tags, "TagList", 0, "Key") != "env" {
		t.Fatalf("tags: %v", tags)
	}
	e.must(t, "delete-cache-subnet-group", "--cache-subnet-group-name", "cache-private")
	if l := e.must(t, "describe-cache-subnet-groups")["CacheSubnetGroups"].([]any); len(l) != 0 {
		t.Fatalf("after delete: %v", l)
	}
}

func TestParameterGroups(t *testing.T) {
	e := newEnv(t)
	out := e.must(t, "create-cache-parameter-group", "--cache-parameter-group-name", "sessions", "--cache-parameter-group-family", "redis7", "--description", "sessions")
	if dig(out, "CacheParameterGroup", "CacheParameterGroupFamily") != "redis7" || dig(out, "CacheParameterGroup", "IsGlobal") != false {
		t.Fatalf("created: %v", out)
	}
	e.fails(t, "CacheParameterGroupAlreadyExists", "already exists", "create-cache-parameter-group", "--cache-parameter-group-name", "sessions",
		"--cache-parameter-group-family", "redis7", "--description", "x")
	e.fails(t, "InvalidParameterValue", "not a valid cache parameter group family", "create-cache-parameter-group", "--cache-parameter-group-name", "x",
		"--cache-parameter-group-family", "redis99", "--description", "x")
	e.must(t, "modify-cache-parameter-group", "--cache-parameter-group-name", "sessions", "--parameter-name-values",
		"ParameterName=maxmemory-policy,ParameterValue=allkeys-lru", "ParameterName=timeout,ParameterValue=300")
	e.fails(t, "InvalidParameterValue", "maxmemory-policy", "modify-cache-parameter-group", "--cache-parameter-group-name", "sessions",
		"--parameter-name-values", "ParameterName=maxmemory-policy,ParameterValue=sometimes")
	e.fails(t, "InvalidParameterValue", "timeout", "modify-cache-parameter-group", "--cache-parameter-group-name", "sessions",
		"--parameter-name-values", "ParameterName=timeout,ParameterValue=5")
	e.fails(t, "InvalidCacheParameterGroupState", "", "modify-cache-parameter-group", "--cache-parameter-group-name", "default.redis7",
		"--parameter-name-values", "ParameterName=timeout,ParameterValue=300")

	user := e.must(t, "describe-cache-parameters", "--cache-parameter-group-name", "sessions", "--source", "user")["Parameters"].([]any)
	if len(user) != 2 || dig(user, 0, "ParameterName") != "maxmemory-policy" || dig(user, 0, "ParameterValue") != "allkeys-lru" || dig(user, 1, "ParameterValue") != "300" {
		t.Fatalf("user parameters: %v", user)
	}
	all := e.must(t, "describe-cache-parameters", "--cache-parameter-group-name", "default.memcached1.6")["Parameters"].([]any)
	if len(all) == 0 || dig(all, 0, "Source") != "system" {
		t.Fatalf("memcached parameters: %v", all)
	}
	e.must(t, "reset-cache-parameter-group", "--cache-parameter-group-name", "sessions", "--parameter-name-values", "ParameterName=timeout")
	user = e.must(t, "describe-cache-parameters", "--cache-parameter-group-name", "sessions", "--source", "user")["Parameters"].([]any)
	if len(user) != 1 {
		t.Fatalf("after reset: %v", user)
	}
	groups := e.must(t, "describe-cache-parameter-groups")["CacheParameterGroups"].([]any)
	var names []string
	for _, g := range groups {
		names = append(names, dig(g, "CacheParameterGroupName").(string))
	}
	if !slices.Equal(names, []string{"default.memcached1.6", "default.redis7", "default.redis7.cluster.on", "sessions"}) {
		t.Fatalf("groups: %v", names)
	}
	e.fails(t, "InvalidCacheParameterGroupState", "cannot be deleted", "delete-cache-parameter-group", "--cache-parameter-group-name", "default.redis7")
	e.must(t, "delete-cache-parameter-group", "--cache-parameter-group-name", "sessions")
	e.fails(t, "CacheParameterGroupNotFound", "CacheParameterGroup not found: sessions", "describe-cache-parameters", "--cache-parameter-group-name", "sessions")

	versions := e.must(t, "describe-cache-engine-versions", "--engine", "redis", "--default-only")["CacheEngineVersions"].([]any)
	if len(versions) != 1 || dig(versions, 0, "CacheParameterGroupFamily") != "redis7" {
		t.Fatalf("versions: %v", versions)
	}
}

// TestReplicationGroup is seed 003's cache through the CLI without a
// data plane: creating to available, the endpoints in AWS's forms, the
// cache clusters, a test failover moving the primary, the events, and
// the deletion.
func TestReplicationGroup(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	e.must(t, "create-cache-subnet-group", "--cache-subnet-group-name", "cache-subnets", "--cache-subnet-group-description", "private",
		"--subnet-ids", n.subnets[0], n.subnets[1])
	create := []string{"create-replication-group", "--replication-group-id", "sessions", "--replication-group-description", "PHP sessions",
		"--engine", "redis", "--cache-node-type", "cache.t3.micro", "--cache-subnet-group-name", "cache-subnets",
		"--security-group-ids", n.cacheSG, "--preferred-cache-cluster-a-zs", region + "a", region + "c"}
	e.fails(t, "InvalidParameterCombination", "When using automatic failover, there must be at least 2 cache clusters in the replication group.",
		"create-replication-group", "--replication-group-id", "solo", "--replication-group-description", "x", "--engine", "redis",
		"--cache-node-type", "cache.t3.micro", "--cache-subnet-group-name", "cache-subnets", "--automatic-failover-enabled")
	e.fails(t, "CacheSubnetGroupNotFoundFault", "Cache subnet group nope does not exist.",
		"create-replication-group", "--replication-group-id", "x", "--replication-group-description", "x", "--cache-node-type", "cache.t3.micro", "--cache-subnet-group-name", "nope")
	e.fails(t, "InvalidParameterValue", "not recongized by EC2", append(slices.Clone(create[:len(create)-3]), "--security-group-ids", "sg-00000000")...)

	out := e.must(t, append(create, "--num-cache-clusters", "2", "--automatic-failover-enabled", "--multi-az-enabled")...)
	rg := out["ReplicationGroup"]
	if dig(rg, "Status") != "creating" || dig(rg, "AutomaticFailover") != "enabled" || dig(rg, "MultiAZ") != "enabled" ||
		fmt.Sprint(dig(rg, "MemberClusters")) != "[sessions-001 sessions-002]" {
		t.Fatalf("created: %v", rg)
	}
	e.fails(t, "ReplicationGroupAlreadyExists", "Replication group with specified name already exists.", append(create, "--num-cache-clusters", "2")...)

	// The nodes' slots and names are in the desired world from the start.
	w := e.world(t)
	if len(w.Slots) != 2 || w.Slots[0].Owner != "elasticache" || w.Slots[0].MemoryMiB != 512+256 || !strings.Contains(string(w.Slots[0].Script), "apt-get install -y -q redis-server") {
		t.Fatalf("slots: %+v", w.Slots)
	}

	e.must(t, "wait", "replication-group-available", "--replication-group-id", "sessions")
	rg = e.must(t, "describe-replication-groups", "--replication-group-id", "sessions")["ReplicationGroups"].([]any)[0]
	ng := dig(rg, "NodeGroups", 0)
	primary, reader := dig(ng, "PrimaryEndpoint", "Address").(string), dig(ng, "ReaderEndpoint", "Address").(string)
	if !strings.HasPrefix(primary, "master.sessions.") || !strings.HasSuffix(primary, ".use1.cache.amazonaws.com") ||
		reader != "replica."+strings.TrimPrefix(primary, "master.") || dig(ng, "PrimaryEndpoint", "Port") != float64(6379) {
		t.Fatalf("endpoints: %v", ng)
	}
	members := dig(ng, "NodeGroupMembers").([]any)
	if dig(members, 0, "CurrentRole") != "primary" || dig(members, 1, "CurrentRole") != "replica" ||
		dig(members, 0, "PreferredAvailabilityZone") != region+"a" || dig(members, 1, "PreferredAvailabilityZone") != region+"c" ||
		dig(members, 1, "ReadEndpoint", "Address") != "sessions-002."+strings.TrimPrefix(primary, "master.") {
		t.Fatalf("members: %v", members)
	}
	addr := func(name string) string {
		for _, nm := range e.world(t).Names {
			if nm.Name == name {
				if len(nm.VPCs) != 1 || nm.VPCs[0] != n.vpc {
					t.Fatalf("%s is visible in %v", name, nm.VPCs)
				}
				return nm.Addrs[0].String()
			}
		}
		t.Fatalf("no name %s", name)
		return ""
	}
	node1, node2 := addr("sessions-001."+strings.TrimPrefix(primary, "master.")), addr("sessions-002."+strings.TrimPrefix(primary, "master."))
	if addr(primary) != node1 || addr(reader) != node2 {
		t.Fatalf("primary %s reader %s, nodes %s %s", addr(primary), addr(reader), node1, node2)
	}

	clusters := e.must(t, "describe-cache-clusters", "--show-cache-node-info")["CacheClusters"].([]any)
	if len(clusters) != 2 || dig(clusters, 0, "CacheClusterStatus") != "available" || dig(clusters, 0, "ReplicationGroupId") != "sessions" ||
		dig(clusters, 0, "SecurityGroups", 0, "SecurityGroupId") != n.cacheSG || dig(clusters, 0, "CacheParameterGroup", "CacheParameterGroupName") != "default.redis7" ||
		dig(clusters, 1, "CacheNodes", 0, "Endpoint", "Address") != "sessions-002."+strings.TrimPrefix(primary, "master.") {
		t.Fatalf("clusters: %v", clusters)
	}
	e.fails(t, "CacheClusterNotFound", "CacheCluster not found: nope", "describe-cache-clusters", "--cache-cluster-id", "nope")

	out = e.must(t, "test-failover", "--replication-group-id", "sessions", "--node-group-id", "0001")
	if dig(out, "ReplicationGroup", "NodeGroups", 0, "NodeGroupMembers", 1, "CurrentRole") != "primary" {
		t.Fatalf("after failover: %v", out)
	}
	if addr(primary) != node2 || addr(reader) != node1 {
		t.Fatalf("after failover: primary %s reader %s", addr(primary), addr(reader))
	}
	events := e.must(t, "describe-events", "--source-type", "replication-group", "--source-identifier", "sessions")["Events"].([]any)
	var msgs []string
	for _, ev := range events {
		msgs = append(msgs, dig(ev, "Message").(string))
	}
	want := []string{"Replication group sessions created", "Test Failover API called for node group 0001",
		"Failover from primary node sessions-001 to replica node sessions-002 completed"}
	if !slices.Equal(msgs, want) {
		t.Fatalf("events: %q", msgs)
	}

	e.must(t, "add-tags-to-resource", "--resource-name", dig(rg, "ARN").(string), "--tags", "Key=app,Value=web")
	e.must(t, "delete-replication-group", "--replication-group-id", "sessions")
	e.must(t, "wait", "replication-group-deleted", "--replication-group-id", "sessions")
	e.fails(t, "ReplicationGroupNotFoundFault", "Replication group sessions not found.", "describe-replication-groups", "--replication-group-id", "sessions")
	if w := e.world(t); len(w.Slots) != 0 || len(w.Names) != 0 {
		t.Fatalf("after delete: %+v %+v", w.Slots, w.Names)
	}
}

// TestReplicaCount adds replicas to a group and removes them, each node
// an interface and a slot of its own.
func TestReplicaCount(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	e.must(t, "create-cache-subnet-group", "--cache-subnet-group-name", "subnets", "--cache-subnet-group-description", "x", "--subnet-ids", n.subnets[0], n.subnets[1])
	e.must(t, "create-replication-group", "--replication-group-id", "grow", "--replication-group-description", "x", "--engine", "redis",
		"--cache-node-type", "cache.t3.small", "--num-cache-clusters", "2", "--automatic-failover-enabled", "--cache-subnet-group-name", "subnets")
	e.must(t, "wait", "replication-group-available", "--replication-group-id", "grow")
	e.fails(t, "InvalidParameterValue", "must be greater than the current replica count", "increase-replica-count", "--replication-group-id", "grow",
		"--new-replica-count", "1", "--apply-immediately")
	out := e.must(t, "increase-replica-count", "--replication-group-id", "grow", "--new-replica-count", "3", "--apply-immediately")
	if dig(out, "ReplicationGroup", "Status") != "modifying" || fmt.Sprint(dig(out, "ReplicationGroup", "MemberClusters")) != "[grow-001 grow-002 grow-003 grow-004]" {
		t.Fatalf("increased: %v", out)
	}
	if w := e.world(t); len(w.Slots) != 4 {
		t.Fatalf("slots: %d", len(w.Slots))
	}
	e.must(t, "wait", "replication-group-available", "--replication-group-id", "grow")
	members := e.must(t, "describe-replication-groups", "--replication-group-id", "grow")["ReplicationGroups"].([]any)[0]
	if dig(members, "NodeGroups", 0, "NodeGroupMembers", 2, "PreferredAvailabilityZone") != region+"a" || dig(members, "NodeGroups", 0, "NodeGroupMembers", 3, "CurrentRole") != "replica" {
		t.Fatalf("members: %v", members)
	}
	e.fails(t, "InvalidParameterValue", "Must have at least 1 replica when cluster mode is disabled with auto failover enabled.",
		"decrease-replica-count", "--replication-group-id", "grow", "--new-replica-count", "0", "--apply-immediately")
	e.fails(t, "InvalidParameterValue", "Cannot remove the primary node", "decrease-replica-count", "--replication-group-id", "grow",
		"--replicas-to-remove", "grow-001", "--apply-immediately")
	e.must(t, "decrease-replica-count", "--replication-group-id", "grow", "--replicas-to-remove", "grow-002", "grow-004", "--apply-immediately")
	e.must(t, "wait", "replication-group-available", "--replication-group-id", "grow")
	out = e.must(t, "describe-replication-groups", "--replication-group-id", "grow")
	if fmt.Sprint(dig(out, "ReplicationGroups", 0, "MemberClusters")) != "[grow-001 grow-003]" {
		t.Fatalf("decreased: %v", out)
	}
	if w := e.world(t); len(w.Slots) != 2 || len(w.Names) != 4 {
		t.Fatalf("after decrease: %d slots, %d names", len(w.Slots), len(w.Names))
	}
}

// TestMemcached is seed 001's mc01 as an ElastiCache Memcached cluster:
// nodes across AZs, each a slot, and a configuration endpoint.
func TestMemcached(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	e.must(t, "create-cache-subnet-group", "--cache-subnet-group-name", "subnets", "--cache-subnet-group-description", "x", "--subnet-ids", n.subnets[0], n.subnets[1])
	e.fails(t, "InvalidParameterValue", "NumCacheNodes", "create-cache-cluster", "--cache-cluster-id", "mc01", "--engine", "memcached",
		"--cache-node-type", "cache.t3.micro", "--cache-subnet-group-name", "subnets")
	out := e.must(t, "create-cache-cluster", "--cache-cluster-id", "mc01", "--engine", "memcached", "--cache-node-type", "cache.t3.micro",
		"--num-cache-nodes", "2", "--az-mode", "cross-az", "--cache-subnet-group-name", "subnets", "--security-group-ids", n.cacheSG)
	c := out["CacheCluster"]
	cfg := dig(c, "ConfigurationEndpoint", "Address").(string)
	if dig(c, "CacheClusterStatus") != "creating" || !strings.HasPrefix(cfg, "mc01.") || !strings.HasSuffix(cfg, ".cfg.use1.cache.amazonaws.com") ||
		dig(c, "PreferredAvailabilityZone") != "Multiple" || dig(c, "EngineVersion") != "1.6.22" {
		t.Fatalf("created: %v", c)
	}
	e.fails(t, "CacheClusterAlreadyExists", "Cache cluster mc01 already exists.", "create-cache-cluster", "--cache-cluster-id", "mc01", "--engine", "memcached",
		"--cache-node-type", "cache.t3.micro", "--num-cache-nodes", "1", "--cache-subnet-group-name", "subnets")
	w := e.world(t)
	if len(w.Slots) != 2 || len(w.Names) != 3 || !strings.Contains(string(w.Slots[0].Script), "config get cluster") ||
		!strings.Contains(string(w.Slots[0].Script), `"mc01.`+strings.TrimSuffix(strings.TrimPrefix(cfg, "mc01."), ".cfg.use1.cache.amazonaws.com")+`.%04d.use1.cache.amazonaws.com"`) {
		t.Fatalf("world: %+v %+v", w.Slots, w.Names)
	}
	e.must(t, "wait", "cache-cluster-available", "--cache-cluster-id", "mc01")
	out = e.must(t, "describe-cache-clusters", "--cache-cluster-id", "mc01", "--show-cache-node-info")
	nodes := dig(out, "CacheClusters", 0, "CacheNodes").([]any)
	if len(nodes) != 2 || dig(nodes, 0, "CustomerAvailabilityZone") != region+"a" || dig(nodes, 1, "CustomerAvailabilityZone") != region+"c" ||
		dig(nodes, 1, "Endpoint", "Port") != float64(11211) || !strings.Contains(dig(nodes, 1, "Endpoint", "Address").(string), ".0002.use1.") {
		t.Fatalf("nodes: %v", nodes)
	}
	if l := e.must(t, "describe-cache-clusters", "--show-cache-clusters-not-in-replication-groups")["CacheClusters"].([]any); len(l) != 1 {
		t.Fatalf("not in groups: %v", l)
	}
	e.fails(t, "CacheSubnetGroupInUse", "Cache subnet group subnets is currently in use by a cache cluster.", "delete-cache-subnet-group", "--cache-subnet-group-name", "subnets")
	e.must(t, "delete-cache-cluster", "--cache-cluster-id", "mc01")
	e.must(t, "wait", "cache-cluster-deleted", "--cache-cluster-id", "mc01")
	if w := e.world(t); len(w.Slots) != 0 {
		t.Fatalf("after delete: %+v", w.Slots)
	}
}

// TestAutomaticFailover: the primary's slot reported stopped promotes a
// replica when the group has automatic failover, as ElastiCache replaces
// a failed primary.
func TestAutomaticFailover(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	e.must(t, "create-cache-subnet-group", "--cache-subnet-group-name", "subnets", "--cache-subnet-group-description", "x", "--subnet-ids", n.subnets[0], n.subnets[1])
	for _, id := range []string{"auto", "manual"} {
		args := []string{"create-replication-group", "--replication-group-id", id, "--replication-group-description", "x", "--engine", "redis",
			"--cache-node-type", "cache.t3.micro", "--num-cache-clusters", "2", "--cache-subnet-group-name", "subnets"}
		if id == "auto" {
			args = append(args, "--automatic-failover-enabled")
		}
		e.must(t, args...)
	}
	e.must(t, "wait", "replication-group-available", "--replication-group-id", "auto")
	e.must(t, "wait", "replication-group-available", "--replication-group-id", "manual")
	e.fails(t, "InvalidReplicationGroupState", "must have automatic failover enabled", "test-failover", "--replication-group-id", "manual", "--node-group-id", "0001")
	for _, sl := range e.world(t).Slots {
		if strings.HasSuffix(sl.ID, "-001") {
			if err := e.svc.ReportSlot(sl.Account, sl.Region, sl.ID, "stopped", ""); err != nil {
				t.Fatal(err)
			}
		}
	}
	roles := func(id string) string {
		out := e.must(t, "describe-replication-groups", "--replication-group-id", id)
		return fmt.Sprint(dig(out, "ReplicationGroups", 0, "NodeGroups", 0, "NodeGroupMembers", 0, "CurrentRole"), " ",
			dig(out, "ReplicationGroups", 0, "NodeGroups", 0, "NodeGroupMembers", 1, "CurrentRole"))
	}
	if got := roles("auto"); got != "replica primary" {
		t.Errorf("auto after its primary stopped: %s", got)
	}
	if got := roles("manual"); got != "primary replica" {
		t.Errorf("manual after its primary stopped: %s", got)
	}
	events := e.must(t, "describe-events", "--source-identifier", "auto-001", "--source-type", "cache-cluster")["Events"].([]any)
	if len(events) != 2 || dig(events, 1, "Message") != "Failover from primary node auto-001 to replica node auto-002 completed" {
		t.Errorf("events: %v", events)
	}
}

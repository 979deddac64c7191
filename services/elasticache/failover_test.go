package elasticache_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
)

// offsetNodes is a SlotExec standing in for the replicas: INFO
// replication answers each cache cluster's offset, in offsets.
type offsetNodes struct {
	mu      sync.Mutex
	offsets map[string]int
}

func (o *offsetNodes) ExecSlot(_ context.Context, slot string, argv []string, _ io.Reader, stdout io.Writer) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !strings.Contains(strings.Join(argv, " "), "redis-server.sock info replication") {
		return 1, nil
	}
	for cluster, off := range o.offsets {
		if strings.HasSuffix(slot, "-"+cluster) {
			fmt.Fprintf(stdout, "# Replication\r\nrole:slave\r\nmaster_link_status:up\r\nslave_repl_offset:%d\r\n", off)
			return 0, nil
		}
	}
	return 1, nil
}

// TestFailoverMostAdvanced: TestFailover and a primary lost promote the
// replica with the highest replication offset, as its node reports it.
func TestFailoverMostAdvanced(t *testing.T) {
	e := newEnv(t)
	nodes := &offsetNodes{offsets: map[string]int{"trio-002": 100, "trio-003": 250}}
	e.svc.UseSlotExec(nodes)
	n := e.network(t)
	e.must(t, "create-cache-subnet-group", "--cache-subnet-group-name", "subnets", "--cache-subnet-group-description", "x", "--subnet-ids", n.subnets[0], n.subnets[1])
	e.must(t, "create-replication-group", "--replication-group-id", "trio", "--replication-group-description", "x", "--engine", "redis",
		"--cache-node-type", "cache.t3.micro", "--num-cache-clusters", "3", "--cache-subnet-group-name", "subnets", "--automatic-failover-enabled")
	e.must(t, "wait", "replication-group-available", "--replication-group-id", "trio")
	primary := func() string {
		out := e.must(t, "describe-replication-groups", "--replication-group-id", "trio")
		for _, m := range dig(out, "ReplicationGroups", 0, "NodeGroups", 0, "NodeGroupMembers").([]any) {
			if dig(m, "CurrentRole") == "primary" {
				return dig(m, "CacheClusterId").(string)
			}
		}
		return ""
	}
	e.must(t, "test-failover", "--replication-group-id", "trio", "--node-group-id", "0001")
	if got := primary(); got != "trio-003" {
		t.Fatalf("after test-failover: primary %s, want trio-003", got)
	}
	events := e.must(t, "describe-events", "--source-identifier", "trio", "--source-type", "replication-group")["Events"].([]any)
	if len(events) < 2 || dig(events, len(events)-1, "Message") != "Failover from primary node trio-001 to replica node trio-003 completed" {
		t.Fatalf("events: %v", events)
	}
	e.must(t, "wait", "replication-group-available", "--replication-group-id", "trio")

	// The new primary lost: trio-001, now a replica, is the furthest on.
	nodes.mu.Lock()
	nodes.offsets = map[string]int{"trio-001": 300, "trio-002": 200}
	nodes.mu.Unlock()
	for _, sl := range e.world(t).Slots {
		if strings.HasSuffix(sl.ID, "trio-003") {
			if err := e.svc.ReportSlot(sl.Account, sl.Region, sl.ID, "failed", "gone"); err != nil {
				t.Fatal(err)
			}
		}
	}
	if got := primary(); got != "trio-001" {
		t.Fatalf("after the primary's loss: primary %s, want trio-001", got)
	}
}

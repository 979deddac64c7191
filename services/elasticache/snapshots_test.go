package elasticache_test

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloudbox/cloudbox/services/elasticache"
)

// rdbNodes is a SlotExec standing in for the nodes: a command asking
// for an RDB gets rdb (or fails with status 1 when broken), a restored
// node is ready at once and what is loaded into it is kept in loaded,
// and each call's slot and argv are kept.
type rdbNodes struct {
	mu     sync.Mutex
	broken bool
	calls  [][]string
	loaded map[string]string
}

const rdb = "REDIS0010\xfa\tredis-ver\x057.0.15\xfe\x00\xfb\x01\x00\x00\x03key\x05value\xff"

func (r *rdbNodes) ExecSlot(_ context.Context, slot string, argv []string, stdin io.Reader, stdout io.Writer) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, append([]string{slot}, argv...))
	cmd := strings.Join(argv, " ")
	switch {
	case strings.HasPrefix(cmd, "test -e /var/lib/elasticache-restore/ready"), strings.HasPrefix(cmd, "touch "):
		return 0, nil
	case strings.Contains(cmd, "dump.rdb.tmp"):
		b, err := io.ReadAll(stdin)
		if r.loaded == nil {
			r.loaded = map[string]string{}
		}
		r.loaded[slot] = string(b)
		return 0, err
	case r.broken || !strings.Contains(cmd, "--rdb"):
		return 1, nil
	}
	_, err := io.WriteString(stdout, rdb)
	return 0, err
}

// snapshotStatus is a snapshot's status as describe-snapshots shows it.
func (e *env) snapshotStatus(t *testing.T, name string) string {
	t.Helper()
	return dig(e.must(t, "describe-snapshots", "--snapshot-name", name), "Snapshots", 0, "SnapshotStatus").(string)
}

// TestSnapshots takes, copies, lists and deletes snapshots with the aws
// CLI: the RDB comes out of the primary's slot through the SlotExec into
// a file of its own, copies link it, events are recorded and go on the
// bus, and AWS's errors answer what cannot be done.
func TestSnapshots(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	nodes := &rdbNodes{}
	e.svc.UseFiles(dir)
	e.svc.UseSlotExec(nodes)
	var mu sync.Mutex
	var bus []elasticache.BusEvent
	e.svc.OnEvent(func(ev elasticache.BusEvent) {
		mu.Lock()
		defer mu.Unlock()
		bus = append(bus, ev)
	})
	n := e.network(t)
	e.must(t, "create-cache-subnet-group", "--cache-subnet-group-name", "subnets", "--cache-subnet-group-description", "x", "--subnet-ids", n.subnets[0], n.subnets[1])
	e.must(t, "create-replication-group", "--replication-group-id", "pair", "--replication-group-description", "x", "--engine", "redis",
		"--cache-node-type", "cache.t3.micro", "--num-cache-clusters", "2", "--cache-subnet-group-name", "subnets")

	e.must(t, "wait", "replication-group-available", "--replication-group-id", "pair")

	e.fails(t, "InvalidParameterCombination", "At least one of ReplicationGroupId and CacheClusterId must be specified.", "create-snapshot", "--snapshot-name", "x")
	e.fails(t, "ReplicationGroupNotFoundFault", "Replication group nope not found.", "create-snapshot", "--replication-group-id", "nope", "--snapshot-name", "x")
	e.fails(t, "CacheClusterNotFound", "nope-001", "create-snapshot", "--cache-cluster-id", "nope-001", "--snapshot-name", "x")
	e.fails(t, "InvalidParameterValue", "not a valid identifier", "create-snapshot", "--replication-group-id", "pair", "--snapshot-name", "bad--name")
	e.fails(t, "SnapshotNotFoundFault", "Snapshot first not found.", "create-replication-group", "--replication-group-id", "again",
		"--replication-group-description", "x", "--snapshot-name", "first")

	out := e.must(t, "create-snapshot", "--replication-group-id", "pair", "--snapshot-name", "first")
	if dig(out, "Snapshot", "SnapshotStatus") != "creating" || dig(out, "Snapshot", "CacheClusterId") != "pair-001" || dig(out, "Snapshot", "SnapshotSource") != "manual" {
		t.Fatalf("created: %v", out)
	}
	e.fails(t, "SnapshotAlreadyExistsFault", "Snapshot with specified name already exists.", "create-snapshot", "--cache-cluster-id", "pair-002", "--snapshot-name", "first")
	eventually(t, "first available", 10*time.Second, func() bool { return e.snapshotStatus(t, "first") == "available" })

	// The primary's RDB, in a file of its own under the files directory.
	nodes.mu.Lock()
	call := nodes.calls[0]
	nodes.mu.Unlock()
	if !strings.HasSuffix(call[0], "pair-001") || !strings.Contains(strings.Join(call, " "), "redis-cli -s /var/lib/redis/redis-server.sock --rdb") {
		t.Fatalf("exec: %q", call)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "elasticache", "*", region, "snapshots", "*"))
	if len(files) != 1 {
		t.Fatalf("files: %v", files)
	}
	if b, err := os.ReadFile(files[0]); err != nil || string(b) != rdb {
		t.Fatalf("RDB file: %q %v", b, err)
	}
	if s := e.must(t, "describe-snapshots", "--snapshot-name", "first"); dig(s, "Snapshots", 0, "NodeSnapshots", 0, "CacheSize") != "1 MB" {
		t.Fatalf("described: %v", s)
	}

	// A copy links the same RDB; deleting the source leaves it.
	e.fails(t, "SnapshotNotFoundFault", "Snapshot nope not found.", "copy-snapshot", "--source-snapshot-name", "nope", "--target-snapshot-name", "x")
	e.fails(t, "SnapshotAlreadyExistsFault", "Snapshot with specified name already exists.", "copy-snapshot", "--source-snapshot-name", "first", "--target-snapshot-name", "first")
	e.fails(t, "NotImplemented", "TargetBucket", "copy-snapshot", "--source-snapshot-name", "first", "--target-snapshot-name", "x", "--target-bucket", "b")
	e.must(t, "copy-snapshot", "--source-snapshot-name", "first", "--target-snapshot-name", "second")
	eventually(t, "second available", 10*time.Second, func() bool { return e.snapshotStatus(t, "second") == "available" })
	list := e.must(t, "describe-snapshots", "--replication-group-id", "pair")["Snapshots"].([]any)
	if len(list) != 2 || len(e.must(t, "describe-snapshots", "--cache-cluster-id", "pair-002")["Snapshots"].([]any)) != 0 ||
		len(e.must(t, "describe-snapshots", "--snapshot-source", "system")["Snapshots"].([]any)) != 0 {
		t.Fatalf("list: %v", list)
	}
	// A new group from the copy: its type from the snapshot, the RDB
	// loaded into its first node.
	out = e.must(t, "create-replication-group", "--replication-group-id", "again", "--replication-group-description", "x",
		"--snapshot-name", "second", "--num-cache-clusters", "2", "--cache-subnet-group-name", "subnets")
	if dig(out, "ReplicationGroup", "CacheNodeType") != "cache.t3.micro" || dig(out, "ReplicationGroup", "Status") != "creating" {
		t.Fatalf("restored: %v", out)
	}
	// Only the first node's boot waits for the RDB.
	for _, slot := range e.world(t).Slots {
		waits := strings.Contains(string(slot.Script), "/var/lib/elasticache-restore/loaded")
		if strings.Contains(slot.ID, "again-") && waits != strings.HasSuffix(slot.ID, "again-001") {
			t.Fatalf("slot %s waits for the RDB: %v", slot.ID, waits)
		}
		if err := exec.Command("bash", "-n", "-c", string(slot.Script)).Run(); err != nil {
			t.Fatalf("slot %s script: %v", slot.ID, err)
		}
	}
	eventually(t, "the RDB loaded", 10*time.Second, func() bool {
		nodes.mu.Lock()
		defer nodes.mu.Unlock()
		for slot, b := range nodes.loaded {
			return len(nodes.loaded) == 1 && strings.HasSuffix(slot, "again-001") && b == rdb
		}
		return false
	})
	eventually(t, "the restore's link removed", 10*time.Second, func() bool {
		links, _ := filepath.Glob(filepath.Join(dir, "elasticache", "*", region, "restore", "*"))
		return len(links) == 0
	})
	e.must(t, "wait", "replication-group-available", "--replication-group-id", "again")

	del := e.must(t, "delete-snapshot", "--snapshot-name", "first")
	if dig(del, "Snapshot", "SnapshotStatus") != "deleting" {
		t.Fatalf("deleted: %v", del)
	}
	e.fails(t, "SnapshotNotFoundFault", "Snapshot first not found.", "describe-snapshots", "--snapshot-name", "first")
	e.fails(t, "SnapshotNotFoundFault", "Snapshot first not found.", "delete-snapshot", "--snapshot-name", "first")
	files, _ = filepath.Glob(filepath.Join(dir, "elasticache", "*", region, "snapshots", "*"))
	if len(files) != 1 {
		t.Fatalf("files after the delete: %v", files)
	}
	if b, err := os.ReadFile(files[0]); err != nil || string(b) != rdb {
		t.Fatalf("the copy's RDB: %q %v", b, err)
	}

	// A node that cannot give its RDB: the snapshot fails.
	nodes.mu.Lock()
	nodes.broken = true
	nodes.mu.Unlock()
	e.must(t, "create-snapshot", "--cache-cluster-id", "pair-002", "--snapshot-name", "broken")
	eventually(t, "broken failed", 10*time.Second, func() bool { return e.snapshotStatus(t, "broken") == "failed" })

	msgs := []string{}
	for _, ev := range e.must(t, "describe-events", "--source-type", "cache-cluster")["Events"].([]any) {
		msgs = append(msgs, dig(ev, "Message").(string))
	}
	for _, want := range []string{"Snapshot succeeded for snapshot with ID 'first' of cache cluster with ID 'pair-001'",
		"Snapshot failed for snapshot with ID 'broken' of cache cluster with ID 'pair-002'"} {
		if !slices.Contains(msgs, want) {
			t.Fatalf("events: %q, want %q", msgs, want)
		}
	}
	// On the bus too, as EventBridge carries them.
	eventually(t, "bus events", 10*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		var got []string
		for _, ev := range bus {
			got = append(got, ev.DetailType+" "+ev.Detail["SourceIdentifier"].(string)+" "+ev.Resources[0])
		}
		arn := "arn:aws:elasticache:" + region + ":"
		has := func(prefix, suffix string) bool {
			return slices.ContainsFunc(got, func(k string) bool { return strings.HasPrefix(k, prefix) && strings.HasSuffix(k, suffix) })
		}
		return has("Cache Created pair "+arn, ":replicationgroup:pair") && has("Snapshot Created pair-001 "+arn, ":cluster:pair-001") &&
			has("Snapshot Creation Failed pair-002 ", ":cluster:pair-002")
	})
}

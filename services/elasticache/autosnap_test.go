package elasticache_test

import (
	"regexp"
	"testing"
	"time"
)

// TestAutomaticSnapshots runs days on a fast virtual clock (an hour a
// second): a group with a retention limit gets an automatic snapshot in
// its window each day, named as AWS names them, kept a day; the source
// filter tells them from manual ones; deleting the group takes its final
// snapshot, a manual one, and drops the automatic ones.
func TestAutomaticSnapshots(t *testing.T) {
	e := newEnvScaled(t, 3600)
	n := e.network(t)
	e.must(t, "create-cache-subnet-group", "--cache-subnet-group-name", "subnets", "--cache-subnet-group-description", "x", "--subnet-ids", n.subnets[0], n.subnets[1])
	create := func(id string, extra ...string) []string {
		return append([]string{"create-replication-group", "--replication-group-id", id, "--replication-group-description", "x", "--engine", "redis",
			"--cache-node-type", "cache.t3.micro", "--num-cache-clusters", "1", "--cache-subnet-group-name", "subnets"}, extra...)
	}
	e.fails(t, "InvalidParameterValue", "Invalid value for SnapshotRetentionLimit: -1. It must be 0 or greater.", create("bad", "--snapshot-retention-limit", "-1")...)
	e.fails(t, "InvalidParameterValue", "Invalid snapshot window: 05:00-05:30.", create("bad", "--snapshot-window", "05:00-05:30")...)
	// The window opens two virtual hours from now.
	from := e.clk.Now().UTC().Add(2 * time.Hour).Truncate(time.Hour)
	window := from.Format("15:04") + "-" + from.Add(time.Hour).Format("15:04")
	out := e.must(t, create("daily", "--snapshot-retention-limit", "1", "--snapshot-window", window)...)
	if dig(out, "ReplicationGroup", "SnapshotRetentionLimit") != float64(1) || dig(out, "ReplicationGroup", "SnapshotWindow") != window {
		t.Fatalf("created: %v", out)
	}
	e.must(t, create("plain")...)
	// Polled here: the CLI's waiter sleeps 15 s, most of a virtual day.
	for _, id := range []string{"daily", "plain"} {
		eventually(t, id+" available", 10*time.Second, func() bool {
			out := e.must(t, "describe-replication-groups", "--replication-group-id", id)
			return dig(out, "ReplicationGroups", 0, "Status") == "available"
		})
	}
	e.must(t, "create-snapshot", "--replication-group-id", "plain", "--snapshot-name", "mine")
	out = e.must(t, "modify-replication-group", "--replication-group-id", "plain", "--snapshot-retention-limit", "3")
	if dig(out, "ReplicationGroup", "SnapshotRetentionLimit") != float64(3) {
		t.Fatalf("modified: %v", out)
	}

	// daily's automatic snapshots (plain takes its own since modified).
	automatic := func() []any {
		var l []any
		for _, sn := range e.must(t, "describe-snapshots", "--snapshot-source", "system")["Snapshots"].([]any) {
			if dig(sn, "ReplicationGroupId") == "daily" {
				l = append(l, sn)
			}
		}
		return l
	}
	var first string
	eventually(t, "the first automatic snapshot", 20*time.Second, func() bool {
		l := automatic()
		if len(l) == 1 && dig(l, 0, "SnapshotStatus") == "available" {
			first = dig(l, 0, "SnapshotName").(string)
			return true
		}
		return false
	})
	if !regexp.MustCompile(`^automatic\.daily-\d{4}-\d\d-\d\d-\d\d-\d\d$`).MatchString(first) {
		t.Fatalf("name %q", first)
	}
	taken, err := time.Parse("2006-01-02-15-04", first[len("automatic.daily-"):])
	if err != nil || taken.Hour() != from.Hour() {
		t.Fatalf("%s taken outside %s: %v", first, window, err)
	}
	sn := e.must(t, "describe-snapshots", "--snapshot-name", first)["Snapshots"].([]any)[0]
	if dig(sn, "SnapshotSource") != "automated" || dig(sn, "SnapshotRetentionLimit") != float64(1) || dig(sn, "CacheClusterId") != "daily-001" {
		t.Fatalf("described: %v", sn)
	}
	if l := e.must(t, "describe-snapshots", "--snapshot-source", "user")["Snapshots"].([]any); len(l) != 1 || dig(l, 0, "SnapshotName") != "mine" {
		t.Fatalf("manual ones: %v", l)
	}
	e.fails(t, "InvalidParameterValue", "Invalid value for SnapshotSource: auto.", "describe-snapshots", "--snapshot-source", "auto")

	// A day on: the next day's is taken and the first, a day old, goes.
	eventually(t, "the next day's snapshot, the first gone", 60*time.Second, func() bool {
		l := automatic()
		return len(l) == 1 && dig(l, 0, "SnapshotName") != first
	})

	// Deleting the group: a final manual snapshot, the automatic ones gone.
	out = e.must(t, "delete-replication-group", "--replication-group-id", "daily", "--final-snapshot-identifier", "daily-final")
	if dig(out, "ReplicationGroup", "Status") != "deleting" || len(automatic()) != 0 {
		t.Fatalf("deleted: %v", out)
	}
	eventually(t, "the final snapshot", 20*time.Second, func() bool {
		l := e.must(t, "describe-snapshots", "--snapshot-name", "daily-final")["Snapshots"].([]any)
		return dig(l, 0, "SnapshotStatus") == "available" && dig(l, 0, "SnapshotSource") == "manual"
	})
	eventually(t, "the group gone", 20*time.Second, func() bool {
		_, err := e.cli("describe-replication-groups", "--replication-group-id", "daily")
		return err != nil
	})
	if l := automatic(); len(l) != 0 {
		t.Fatalf("automatic ones left: %v", l)
	}
	if l := e.must(t, "describe-snapshots", "--replication-group-id", "plain", "--snapshot-source", "system")["Snapshots"].([]any); len(l) == 0 {
		t.Fatal("plain, its retention limit set by modify, has no automatic snapshot")
	}
}

package rds_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cloudbox/cloudbox/api"
	rdsapi "github.com/cloudbox/cloudbox/api/rds"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/services/rds"
)

// waitSnapshot polls DescribeDBSnapshots until the snapshot has status.
func (e *env) waitSnapshot(t *testing.T, id, status string, extra ...string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		out := e.must(t, append([]string{"describe-db-snapshots", "--db-snapshot-identifier", id}, extra...)...)
		s := out["DBSnapshots"].([]any)[0].(map[string]any)
		if s["Status"] == status {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("snapshot %s: status %v, want %s", id, s["Status"], status)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitGone polls DescribeDBInstances until the instance is deleted.
func (e *env) waitGone(t *testing.T, id string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := e.rds(t, "describe-db-instances", "--db-instance-identifier", id); err != nil && strings.Contains(err.Error(), "DBInstanceNotFound") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s was never deleted", id)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func messages(t *testing.T, e *env, args ...string) string {
	t.Helper()
	var msgs []string
	for _, ev := range e.must(t, append([]string{"describe-events", "--duration", "10080"}, args...)...)["Events"].([]any) {
		msgs = append(msgs, ev.(map[string]any)["Message"].(string))
	}
	return strings.Join(msgs, "|")
}

// TestDBSnapshots: without a data plane, snapshots move on the virtual
// clock with AWS's fields, events and errors; copies (in the region and
// from another), restores and final snapshots.
func TestDBSnapshots(t *testing.T) {
	e := newEnv(t)
	n := e.network(t)
	e.createDB(t, n, "bts-db", "--db-name", "bts")
	e.waitStatus(t, "bts-db", "available")
	e.fails(t, "DBInstanceNotFound", "DBInstance nope not found.", "create-db-snapshot", "--db-instance-identifier", "nope", "--db-snapshot-identifier", "s")
	e.fails(t, "InvalidParameterValue", "The parameter DBSnapshotIdentifier is not a valid identifier.",
		"create-db-snapshot", "--db-instance-identifier", "bts-db", "--db-snapshot-identifier", "bad--id")

	s := e.must(t, "create-db-snapshot", "--db-instance-identifier", "bts-db", "--db-snapshot-identifier", "BTS-Snap-1", "--tags", "Key=k,Value=v")["DBSnapshot"].(map[string]any)
	if s["DBSnapshotIdentifier"] != "bts-snap-1" || s["Status"] != "creating" || s["SnapshotType"] != "manual" || s["PercentProgress"] != float64(0) ||
		s["DBSnapshotArn"] != "arn:aws:rds:"+region+":000000000000:snapshot:bts-snap-1" || s["MasterUsername"] != "BTS_admin" ||
		s["Engine"] != "mysql" || s["EngineVersion"] != "8.0.40" || s["AllocatedStorage"] != float64(20) || s["VpcId"] != n.vpc ||
		fmt.Sprint(s["TagList"]) != "[map[Key:k Value:v]]" {
		t.Fatalf("created: %v", s)
	}
	s = e.waitSnapshot(t, "bts-snap-1", "available")
	if s["PercentProgress"] != float64(100) {
		t.Fatalf("available: %v", s)
	}
	e.waitStatus(t, "bts-db", "available")
	e.fails(t, "DBSnapshotAlreadyExists", "Cannot create the snapshot because a snapshot with the identifier bts-snap-1 already exists.",
		"create-db-snapshot", "--db-instance-identifier", "bts-db", "--db-snapshot-identifier", "bts-snap-1")
	arn := s["DBSnapshotArn"].(string)
	e.must(t, "add-tags-to-resource", "--resource-name", arn, "--tags", "Key=k2,Value=v2")
	if got := fmt.Sprint(e.must(t, "list-tags-for-resource", "--resource-name", arn)["TagList"]); got != "[map[Key:k Value:v] map[Key:k2 Value:v2]]" {
		t.Fatalf("snapshot tags: %s", got)
	}
	e.must(t, "remove-tags-from-resource", "--resource-name", arn, "--tag-keys", "k2")
	if got := messages(t, e, "--source-type", "db-snapshot", "--source-identifier", "bts-snap-1"); got != "Creating manual snapshot|Manual snapshot created" {
		t.Fatalf("snapshot events: %s", got)
	}

	// Copies: in the region, and into another from this one's ARN (the
	// CLI presigns the source region's request).
	e.fails(t, "DBSnapshotNotFound", "DBSnapshot nope not found.", "copy-db-snapshot", "--source-db-snapshot-identifier", "nope", "--target-db-snapshot-identifier", "c")
	c := e.must(t, "copy-db-snapshot", "--source-db-snapshot-identifier", "bts-snap-1", "--target-db-snapshot-identifier", "bts-copy", "--copy-tags")["DBSnapshot"].(map[string]any)
	if c["Status"] != "creating" || c["SourceDBSnapshotIdentifier"] != s["DBSnapshotArn"] || c["SnapshotType"] != "manual" || fmt.Sprint(c["TagList"]) != "[map[Key:k Value:v]]" {
		t.Fatalf("copy: %v", c)
	}
	e.waitSnapshot(t, "bts-copy", "available")
	e.fails(t, "DBSnapshotAlreadyExists", "bts-copy already exists", "copy-db-snapshot", "--source-db-snapshot-identifier", "bts-snap-1", "--target-db-snapshot-identifier", "bts-copy")
	x := e.must(t, "copy-db-snapshot", "--region", "us-east-1", "--source-region", region, "--source-db-snapshot-identifier", s["DBSnapshotArn"].(string),
		"--target-db-snapshot-identifier", "bts-dr")["DBSnapshot"].(map[string]any)
	if x["SourceRegion"] != region || x["DBSnapshotArn"] != "arn:aws:rds:us-east-1:000000000000:snapshot:bts-dr" {
		t.Fatalf("cross-region copy: %v", x)
	}
	e.waitSnapshot(t, "bts-dr", "available", "--region", "us-east-1")
	if got := messages(t, e, "--region", "us-east-1", "--source-type", "db-snapshot"); !strings.HasPrefix(got, "Started copy of snapshot "+s["DBSnapshotArn"].(string)+" from region "+region) {
		t.Fatalf("copy events: %s", got)
	}
	if out := e.must(t, "describe-db-snapshots", "--snapshot-type", "manual"); len(out["DBSnapshots"].([]any)) != 2 {
		t.Fatalf("this region's snapshots: %v", out)
	}

	// Filters and types: the instance's creation was backed up as its
	// first automated snapshot.
	// (A daily one may follow when the virtual clock passes the window.)
	auto := e.must(t, "describe-db-snapshots", "--snapshot-type", "automated")["DBSnapshots"].([]any)
	if len(auto) == 0 || !strings.HasPrefix(auto[0].(map[string]any)["DBSnapshotIdentifier"].(string), "rds:bts-db-") ||
		auto[0].(map[string]any)["Status"] != "available" {
		t.Fatalf("automated: %v", auto)
	}
	autoID := auto[0].(map[string]any)["DBSnapshotIdentifier"].(string)
	e.fails(t, "InvalidDBSnapshotState", "Only manual snapshots may be deleted.", "delete-db-snapshot", "--db-snapshot-identifier", autoID)
	// A copy keeps an automated one as a manual one.
	e.must(t, "copy-db-snapshot", "--source-db-snapshot-identifier", autoID, "--target-db-snapshot-identifier", "kept")
	e.waitSnapshot(t, "kept", "available")
	if got := messages(t, e, "--source-identifier", autoID); got != "Creating automated snapshot|Automated snapshot created" {
		t.Fatalf("automated snapshot events: %s", got)
	}
	if out := e.must(t, "describe-db-snapshots", "--db-instance-identifier", "bts-db", "--filters", "Name=db-snapshot-id,Values=bts-copy"); len(out["DBSnapshots"].([]any)) != 1 {
		t.Fatalf("filtered: %v", out)
	}
	if out := e.must(t, "describe-db-snapshots", "--db-instance-identifier", "other"); len(out["DBSnapshots"].([]any)) != 0 {
		t.Fatalf("another instance's: %v", out)
	}
	e.fails(t, "DBSnapshotNotFound", "DBSnapshot nope not found.", "describe-db-snapshots", "--db-snapshot-identifier", "nope")

	// A restore is a new instance with the snapshot's engine, user and
	// class unless told otherwise, in the groups given.
	e.fails(t, "DBInstanceAlreadyExists", "DB instance already exists",
		"restore-db-instance-from-db-snapshot", "--db-instance-identifier", "bts-db", "--db-snapshot-identifier", "bts-snap-1", "--db-subnet-group-name", "bts-db-subnets")
	e.fails(t, "DBSnapshotNotFound", "DBSnapshot nope not found.",
		"restore-db-instance-from-db-snapshot", "--db-instance-identifier", "new", "--db-snapshot-identifier", "nope", "--db-subnet-group-name", "bts-db-subnets")
	r := e.must(t, "restore-db-instance-from-db-snapshot", "--db-instance-identifier", "bts-restored", "--db-snapshot-identifier", "bts-snap-1",
		"--db-subnet-group-name", "bts-db-subnets", "--vpc-security-group-ids", n.dbSG, "--db-instance-class", "db.t3.small")["DBInstance"].(map[string]any)
	if r["DBInstanceStatus"] != "creating" || r["MasterUsername"] != "BTS_admin" || r["DBInstanceClass"] != "db.t3.small" || r["Engine"] != "mysql" || r["DBName"] != "bts" {
		t.Fatalf("restored: %v", r)
	}
	e.waitStatus(t, "bts-restored", "available")
	if got := messages(t, e, "--source-identifier", "bts-restored"); !strings.HasPrefix(got, "Restored from snapshot bts-snap-1|DB instance created") {
		t.Fatalf("restore events: %s", got)
	}

	// Paging over many snapshots (copied through the Go API: quicker).
	ctx := api.WithRequest(context.Background(), &api.Request{Region: region, Caller: api.Principal{Account: "000000000000"}})
	for i := range 20 {
		if _, err := e.svc.CopyDBSnapshot(ctx, &rdsapi.CopyDBSnapshotMessage{SourceDBSnapshotIdentifier: aws.String("bts-snap-1"),
			TargetDBSnapshotIdentifier: aws.String(fmt.Sprintf("page-%02d", i))}); err != nil {
			t.Fatal(err)
		}
	}
	first := e.must(t, "describe-db-snapshots", "--max-items", "20", "--page-size", "20")
	if len(first["DBSnapshots"].([]any)) != 20 || first["NextToken"] == nil {
		t.Fatalf("first page: %d snapshots, token %v", len(first["DBSnapshots"].([]any)), first["NextToken"])
	}
	if all := e.must(t, "describe-db-snapshots", "--page-size", "20", "--snapshot-type", "manual"); len(all["DBSnapshots"].([]any)) != 23 {
		t.Fatalf("all pages: %d snapshots", len(all["DBSnapshots"].([]any)))
	}

	// Deleting with a final snapshot, and stopping with one.
	e.fails(t, "InvalidParameterCombination", "Cannot specify both SkipFinalSnapshot and FinalDBSnapshotIdentifier.",
		"delete-db-instance", "--db-instance-identifier", "bts-db", "--skip-final-snapshot", "--final-db-snapshot-identifier", "f")
	e.fails(t, "DBSnapshotAlreadyExists", "bts-snap-1 already exists",
		"delete-db-instance", "--db-instance-identifier", "bts-db", "--final-db-snapshot-identifier", "bts-snap-1")
	e.must(t, "create-db-instance-read-replica", "--db-instance-identifier", "bts-replica", "--source-db-instance-identifier", "bts-db")
	e.waitStatus(t, "bts-replica", "available")
	e.fails(t, "InvalidParameterCombination", "FinalDBSnapshotIdentifier can not be specified when deleting a replica instance",
		"delete-db-instance", "--db-instance-identifier", "bts-replica", "--final-db-snapshot-identifier", "f")
	e.must(t, "delete-db-instance", "--db-instance-identifier", "bts-replica", "--skip-final-snapshot")
	e.waitGone(t, "bts-replica")
	e.waitStatus(t, "bts-db", "available")
	e.must(t, "stop-db-instance", "--db-instance-identifier", "bts-restored", "--db-snapshot-identifier", "at-stop")
	e.waitStatus(t, "bts-restored", "stopped")
	e.waitSnapshot(t, "at-stop", "available")
	e.fails(t, "InvalidDBInstanceState", "Instance bts-restored is currently stopped - a final snapshot cannot be taken.",
		"delete-db-instance", "--db-instance-identifier", "bts-restored", "--final-db-snapshot-identifier", "final-2")
	db := e.must(t, "delete-db-instance", "--db-instance-identifier", "bts-db", "--final-db-snapshot-identifier", "bts-final")["DBInstance"].(map[string]any)
	if db["DBInstanceStatus"] != "deleting" {
		t.Fatalf("deleting: %v", db)
	}
	e.waitGone(t, "bts-db")
	// Its automated backups went with it; those of an instance deleted
	// with --no-delete-automated-backups stay.
	if out := e.must(t, "describe-db-snapshots", "--db-instance-identifier", "bts-db", "--snapshot-type", "automated"); len(out["DBSnapshots"].([]any)) != 0 {
		t.Fatalf("the deleted instance's automated snapshots: %v", out)
	}
	e.must(t, "start-db-instance", "--db-instance-identifier", "bts-restored")
	e.waitStatus(t, "bts-restored", "available")
	e.must(t, "delete-db-instance", "--db-instance-identifier", "bts-restored", "--skip-final-snapshot", "--no-delete-automated-backups")
	e.waitGone(t, "bts-restored")
	if out := e.must(t, "describe-db-snapshots", "--db-instance-identifier", "bts-restored", "--snapshot-type", "automated"); len(out["DBSnapshots"].([]any)) == 0 {
		t.Fatalf("the automated snapshots kept: %v", out)
	}
	f := e.waitSnapshot(t, "bts-final", "available")
	if f["DBInstanceIdentifier"] != "bts-db" || f["SnapshotType"] != "manual" {
		t.Fatalf("final snapshot: %v", f)
	}
	// A snapshot outlives its instance, and can be restored from.
	e.must(t, "restore-db-instance-from-db-snapshot", "--db-instance-identifier", "bts-db", "--db-snapshot-identifier", "bts-final",
		"--db-subnet-group-name", "bts-db-subnets")
	e.waitStatus(t, "bts-db", "available")

	d := e.must(t, "delete-db-snapshot", "--db-snapshot-identifier", "bts-copy")["DBSnapshot"].(map[string]any)
	if d["Status"] != "deleted" {
		t.Fatalf("deleted: %v", d)
	}
	e.fails(t, "DBSnapshotNotFound", "DBSnapshot bts-copy not found.", "delete-db-snapshot", "--db-snapshot-identifier", "bts-copy")
	if got := messages(t, e, "--source-identifier", "bts-copy"); !strings.HasSuffix(got, "|Deleted manual snapshot") {
		t.Fatalf("deletion events: %s", got)
	}
}

// fakeNodes plays the nodes' side of SlotExec: mariadb-dump writes a dump
// naming its node's rows, mariadb loads one (kept by slot), and a
// restored node is ready at once.
type fakeNodes struct {
	mu sync.Mutex
	// gate, when set, holds dumps until it is closed.
	gate   chan struct{}
	rows   map[string]string // what each slot's database holds
	loaded map[string]bool
	cmds   []string
}

func (f *fakeNodes) ExecSlot(_ context.Context, slot string, argv []string, stdin io.Reader, stdout io.Writer) (int, error) {
	f.mu.Lock()
	gate := f.gate
	rows := f.rows[slot]
	f.mu.Unlock()
	if gate != nil && argv[0] == "mariadb-dump" {
		// Half the data's size first, then the rest once let go.
		io.WriteString(stdout, strings.Repeat("-", len(rows)))
		<-gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cmds = append(f.cmds, slot+": "+strings.Join(argv, " "))
	switch {
	case argv[0] == "mariadb" && strings.Contains(strings.Join(argv, " "), "information_schema.tables"):
		fmt.Fprintf(stdout, "%d\n", 2*len(f.rows[slot]))
	case argv[0] == "mariadb-dump":
		if !slices.Contains(argv, "--single-transaction") || !slices.Contains(argv, "--all-databases") {
			return 2, nil
		}
		fmt.Fprintf(stdout, "-- dump\n%s\n", f.rows[slot])
	case argv[0] == "mariadb" && stdin != nil:
		b, err := io.ReadAll(stdin)
		if err != nil {
			return 1, err
		}
		_, dumped, _ := strings.Cut(string(b), "-- dump\n")
		f.rows[slot] = strings.TrimSpace(dumped)
	case argv[0] == "touch" && strings.HasSuffix(argv[1], "/loaded"):
		f.loaded[slot] = true
	}
	return 0, nil
}

// TestSnapshotContent: with a data plane, a snapshot is its node's dump in
// a file under the data directory, a restored node loads it before its
// boot goes on, and a delete's final snapshot is dumped before the node
// stops.
func TestSnapshotContent(t *testing.T) {
	e := newEnvWith(t, true)
	dir := t.TempDir()
	nodes := &fakeNodes{rows: map[string]string{}, loaded: map[string]bool{}}
	e.svc.UseFiles(dir)
	e.svc.UseSlotExec(nodes)
	var busMu sync.Mutex
	var bus []rds.BusEvent
	e.svc.OnEvent(func(ev rds.BusEvent) {
		busMu.Lock()
		defer busMu.Unlock()
		bus = append(bus, ev)
	})
	n := e.network(t)
	ctx := api.WithRequest(context.Background(), &api.Request{Region: region, Caller: api.Principal{Account: "000000000000"}})
	slotOf := func(id string) *desired.Slot {
		out, err := e.svc.DescribeDBInstances(ctx, &rdsapi.DescribeDBInstancesMessage{DBInstanceIdentifier: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		for _, sl := range e.world(t).Slots {
			if sl.ID == "rds-"+strings.ToLower(*out.DBInstances[0].DbiResourceId) {
				return sl
			}
		}
		t.Fatalf("no slot for %s", id)
		return nil
	}
	up := func(id string) {
		t.Helper()
		if err := e.svc.ReportSlot("000000000000", region, slotOf(id).ID, desired.Running, ""); err != nil {
			t.Fatal(err)
		}
		e.waitStatus(t, id, "available")
	}
	e.createDB(t, n, "src")
	up("src")
	src := slotOf("src").ID
	nodes.mu.Lock()
	nodes.rows[src] = "INSERT INTO members VALUES (1,'kim'),(2,'lee');"
	nodes.mu.Unlock()

	// While the dump runs the snapshot is creating and the instance
	// backing-up: neither takes another snapshot or a delete.
	gate := make(chan struct{})
	nodes.mu.Lock()
	nodes.gate = gate
	nodes.mu.Unlock()
	e.must(t, "create-db-snapshot", "--db-instance-identifier", "src", "--db-snapshot-identifier", "snap")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		out, err := e.svc.DescribeDBSnapshots(ctx, &rdsapi.DescribeDBSnapshotsMessage{DBSnapshotIdentifier: aws.String("snap")})
		if err != nil {
			t.Fatal(err)
		}
		if p := *out.DBSnapshots[0].PercentProgress; p == 50 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the dump's progress: %d%%, want 50", p)
		}
	}
	if got := e.status(t, ctx, "src"); got != "backing-up" {
		t.Fatalf("the instance while its snapshot is taken: %s", got)
	}
	e.fails(t, "InvalidDBInstanceState", "Cannot create a snapshot because the database instance src is not currently in the available state.",
		"create-db-snapshot", "--db-instance-identifier", "src", "--db-snapshot-identifier", "second")
	e.fails(t, "InvalidDBSnapshotState", "not currently in the available state", "delete-db-snapshot", "--db-snapshot-identifier", "snap")
	e.fails(t, "InvalidDBSnapshotState", "Snapshot snap is not in available state.",
		"restore-db-instance-from-db-snapshot", "--db-instance-identifier", "early", "--db-snapshot-identifier", "snap", "--db-subnet-group-name", "bts-db-subnets")
	close(gate)
	e.waitSnapshot(t, "snap", "available")
	e.waitStatus(t, "src", "available")
	// On the event bus, as EventBridge shows a snapshot's events.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		busMu.Lock()
		found := slices.ContainsFunc(bus, func(ev rds.BusEvent) bool {
			return ev.DetailType == "RDS DB Snapshot Event" && ev.Detail["SourceType"] == "SNAPSHOT" &&
				ev.Detail["Message"] == "Manual snapshot created" && ev.Detail["SourceIdentifier"] == "snap"
		})
		busMu.Unlock()
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no RDS DB Snapshot Event for the snapshot on the bus")
		}
	}
	// The dumps holding the rows (the automated ones of the creation, if
	// any, were taken before them).
	withRows := func() []string {
		files, _ := filepath.Glob(filepath.Join(dir, "rds", "000000000000", region, "snapshots", "*.sql"))
		var out []string
		for _, f := range files {
			if b, _ := os.ReadFile(f); bytes.Contains(b, []byte("(2,'lee')")) {
				out = append(out, f)
			}
		}
		return out
	}
	dumps := withRows()
	if len(dumps) == 0 {
		t.Fatal("no dump holds the rows")
	}

	// The restored node's first boot hands over to RDS, which loads the
	// dump before the boot (and so the instance) goes on.
	e.must(t, "restore-db-instance-from-db-snapshot", "--db-instance-identifier", "copy", "--db-snapshot-identifier", "snap", "--db-subnet-group-name", "bts-db-subnets")
	sl := slotOf("copy")
	if !strings.Contains(string(sl.Script), "touch /var/lib/rds-restore/ready") || !strings.Contains(string(sl.Script), "IDENTIFIED BY 'Bts-pass-1234'") {
		t.Fatalf("the restored node's script:\n%s", sl.Script)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		nodes.mu.Lock()
		loaded := nodes.loaded[sl.ID]
		nodes.mu.Unlock()
		if loaded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("never loaded: %v", nodes.cmds)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := e.status(t, ctx, "copy"); got != "creating" {
		t.Fatalf("loaded, before the boot ends: %s", got)
	}
	up("copy")
	nodes.mu.Lock()
	rows := nodes.rows[sl.ID]
	nodes.mu.Unlock()
	if rows != "INSERT INTO members VALUES (1,'kim'),(2,'lee');" {
		t.Fatalf("the restored node holds %q", rows)
	}

	// A final snapshot keeps the node running until its dump is taken.
	e.svc.UseSlotExec(desired.NoDataPlane{}) // the node does not answer: the snapshot fails, the delete goes on
	e.must(t, "delete-db-instance", "--db-instance-identifier", "src", "--final-db-snapshot-identifier", "last")
	e.waitSnapshot(t, "last", "failed")
	if slotOf("src").Running {
		t.Fatal("the node still runs after its final snapshot")
	}
	e.svc.UseSlotExec(nodes)
	e.must(t, "delete-db-instance", "--db-instance-identifier", "copy", "--final-db-snapshot-identifier", "copy-last")
	e.waitSnapshot(t, "copy-last", "available")
	if slotOf("copy").Running {
		t.Fatal("the node still runs after its final snapshot")
	}
	e.svc.ReportSlot("000000000000", region, sl.ID, desired.Stopped, "")
	e.waitGone(t, "copy")
	// Deleting a snapshot removes its dump.
	before := len(withRows())
	e.must(t, "delete-db-snapshot", "--db-snapshot-identifier", "snap")
	if after := len(withRows()); after != before-1 {
		t.Fatalf("dumps with the rows: %d before deleting the snapshot, %d after", before, after)
	}
}

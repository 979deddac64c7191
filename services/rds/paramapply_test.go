package rds_test

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cloudbox/cloudbox/api"
	rdsapi "github.com/cloudbox/cloudbox/api/rds"
	"github.com/cloudbox/cloudbox/desired"
)

// recordingNodes plays the nodes' side of SlotExec for parameter changes:
// it keeps each command and the file each node was given.
type recordingNodes struct {
	mu    sync.Mutex
	cmds  []string
	files map[string]string
}

func (r *recordingNodes) ExecSlot(_ context.Context, slot string, argv []string, stdin io.Reader, _ io.Writer) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cmds = append(r.cmds, slot+": "+strings.Join(argv, " "))
	if stdin != nil {
		b, _ := io.ReadAll(stdin)
		r.files[slot] = string(b)
	}
	return 0, nil
}

func (r *recordingNodes) seen() (string, map[string]string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	files := map[string]string{}
	for k, v := range r.files {
		files[k] = v
	}
	return strings.Join(r.cmds, "\n"), files
}

// TestParameterChangesReachTheNodes: a dynamic parameter changed in a
// group in use is written to both nodes' parameters file and set at once
// (applying, then in-sync); a static one waits for a reboot
// (pending-reboot, then in-sync).
func TestParameterChangesReachTheNodes(t *testing.T) {
	e := newEnvWith(t, true)
	nodes := &recordingNodes{files: map[string]string{}}
	e.svc.UseSlotExec(nodes)
	n := e.network(t)
	ctx := api.WithRequest(context.Background(), &api.Request{Region: region, Caller: api.Principal{Account: "000000000000"}})
	if _, err := e.svc.CreateDBSubnetGroup(ctx, &rdsapi.CreateDBSubnetGroupMessage{DBSubnetGroupName: aws.String("g"),
		DBSubnetGroupDescription: aws.String("g"), SubnetIds: []*string{aws.String(n.privateA), aws.String(n.privateC)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateDBParameterGroup(ctx, &rdsapi.CreateDBParameterGroupMessage{DBParameterGroupName: aws.String("tuned"),
		DBParameterGroupFamily: aws.String("mysql8.0"), Description: aws.String("tuned")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateDBInstance(ctx, &rdsapi.CreateDBInstanceMessage{DBInstanceIdentifier: aws.String("bts-db"), Engine: aws.String("mysql"),
		DBInstanceClass: aws.String("db.t2.micro"), MasterUsername: aws.String("BTS_admin"), MasterUserPassword: aws.String("Bts-pass-1234"),
		AllocatedStorage: aws.Int64(20), DBSubnetGroupName: aws.String("g"), MultiAZ: aws.Bool(true), DBParameterGroupName: aws.String("tuned"),
		BackupRetentionPeriod: aws.Int64(0), VpcSecurityGroupIds: []*string{aws.String(n.dbSG)}}); err != nil {
		t.Fatal(err)
	}
	w := e.world(t)
	for _, sl := range w.Slots {
		e.svc.ReportSlot("000000000000", region, sl.ID, desired.Running, "")
	}
	applyStatus := func() (string, string) {
		out, err := e.svc.DescribeDBInstances(ctx, &rdsapi.DescribeDBInstancesMessage{DBInstanceIdentifier: aws.String("bts-db")})
		if err != nil {
			t.Fatal(err)
		}
		return *out.DBInstances[0].DBInstanceStatus, *out.DBInstances[0].DBParameterGroups[0].ParameterApplyStatus
	}
	waitApply := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if _, got := applyStatus(); got == want {
				return
			}
			if time.Now().After(deadline) {
				_, got := applyStatus()
				t.Fatalf("ParameterApplyStatus %s, want %s", got, want)
			}
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if st, _ := applyStatus(); st == "available" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("never available")
		}
	}

	if _, err := e.svc.ModifyDBParameterGroup(ctx, &rdsapi.ModifyDBParameterGroupMessage{DBParameterGroupName: aws.String("tuned"),
		Parameters: []*rdsapi.Parameter{{ParameterName: aws.String("max_connections"), ParameterValue: aws.String("50"), ApplyMethod: aws.String("immediate")},
			{ParameterName: aws.String("sql_mode"), ParameterValue: aws.String("STRICT_TRANS_TABLES"), ApplyMethod: aws.String("immediate")}}}); err != nil {
		t.Fatal(err)
	}
	waitApply("in-sync")
	cmds, files := nodes.seen()
	for _, sl := range w.Slots {
		if !strings.Contains(files[sl.ID], "max_connections = 50\n") || !strings.HasPrefix(files[sl.ID], "[mysqld]\n") {
			t.Errorf("%s's parameters file:\n%s", sl.ID, files[sl.ID])
		}
		for _, want := range []string{sl.ID + ": mysql --protocol=socket -uroot -e SET GLOBAL max_connections = 50",
			sl.ID + ": mysql --protocol=socket -uroot -e SET GLOBAL sql_mode = 'STRICT_TRANS_TABLES'"} {
			if !strings.Contains(cmds, want) {
				t.Errorf("no %q in\n%s", want, cmds)
			}
		}
	}

	// A static one waits for the next restart.
	if _, err := e.svc.ModifyDBParameterGroup(ctx, &rdsapi.ModifyDBParameterGroupMessage{DBParameterGroupName: aws.String("tuned"),
		Parameters: []*rdsapi.Parameter{{ParameterName: aws.String("innodb_buffer_pool_size"), ParameterValue: aws.String("134217728"), ApplyMethod: aws.String("pending-reboot")}}}); err != nil {
		t.Fatal(err)
	}
	waitApply("pending-reboot")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, files := nodes.seen(); strings.Contains(files[w.Slots[0].ID], "innodb_buffer_pool_size = 134217728\n") {
			break
		}
		if time.Now().After(deadline) {
			_, files := nodes.seen()
			t.Fatalf("the static value never reached the file:\n%s", files[w.Slots[0].ID])
		}
	}
	if cmds, _ := nodes.seen(); strings.Contains(cmds, "SET GLOBAL innodb_buffer_pool_size") {
		t.Errorf("a static parameter was set at once:\n%s", cmds)
	}
	if _, err := e.svc.RebootDBInstance(ctx, &rdsapi.RebootDBInstanceMessage{DBInstanceIdentifier: aws.String("bts-db")}); err != nil {
		t.Fatal(err)
	}
	e.svc.ReportSlot("000000000000", region, w.Slots[0].ID, desired.Stopped, "")
	e.svc.ReportSlot("000000000000", region, w.Slots[0].ID, desired.Running, "")
	if st, apply := applyStatus(); st != "available" || apply != "in-sync" {
		t.Fatalf("after the reboot: %s, %s", st, apply)
	}
}

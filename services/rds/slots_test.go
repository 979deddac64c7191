package rds_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/cloudbox/cloudbox/api"
	rdsapi "github.com/cloudbox/cloudbox/api/rds"
	"github.com/cloudbox/cloudbox/desired"
	"github.com/cloudbox/cloudbox/store"
)

// world is what RDS contributes to the data plane's world for the scope.
func (e *env) world(t *testing.T) *desired.World {
	t.Helper()
	w := &desired.World{}
	err := e.st.View(func(tx *store.Tx) error {
		return e.svc.Contribute(tx, desired.Scope{Account: "000000000000", Region: region}, w)
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (e *env) status(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	out, err := e.svc.DescribeDBInstances(ctx, &rdsapi.DescribeDBInstancesMessage{DBInstanceIdentifier: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	return *out.DBInstances[0].DBInstanceStatus
}

// TestSlotsAndReports: an instance's node is a slot with its class's
// limits and a script configuring MariaDB as asked, its endpoint a name in
// its VPC (everywhere, at the public address, when public); the slot's
// reports move it on.
func TestSlotsAndReports(t *testing.T) {
	e := newEnvWith(t, true)
	n := e.network(t)
	ctx := api.WithRequest(context.Background(), &api.Request{Region: region, Caller: api.Principal{Account: "000000000000"}})
	if _, err := e.svc.CreateDBSubnetGroup(ctx, &rdsapi.CreateDBSubnetGroupMessage{DBSubnetGroupName: aws.String("g"),
		DBSubnetGroupDescription: aws.String("g"), SubnetIds: []*string{aws.String(n.privateA), aws.String(n.privateC)}}); err != nil {
		t.Fatal(err)
	}
	create := func(id string, public bool) *rdsapi.DBInstance {
		out, err := e.svc.CreateDBInstance(ctx, &rdsapi.CreateDBInstanceMessage{DBInstanceIdentifier: aws.String(id), Engine: aws.String("mariadb"),
			DBInstanceClass: aws.String("db.t3.small"), MasterUsername: aws.String("admin_1"), MasterUserPassword: aws.String("it's\\secret"),
			AllocatedStorage: aws.Int64(20), DBSubnetGroupName: aws.String("g"), DBName: aws.String("app"), Port: aws.Int64(3307),
			PubliclyAccessible: aws.Bool(public), VpcSecurityGroupIds: []*string{aws.String(n.dbSG)}})
		if err != nil {
			t.Fatal(err)
		}
		return out.DBInstance
	}
	create("private", false)
	w := e.world(t)
	if len(w.Slots) != 1 || len(w.Names) != 1 {
		t.Fatalf("world: %d slots, %d names", len(w.Slots), len(w.Names))
	}
	sl := w.Slots[0]
	if !strings.HasPrefix(sl.ID, "rds-db-") || sl.Owner != "rds" || sl.VCPUs != 2 || sl.MemoryMiB != 2048 || !sl.Running || !strings.HasPrefix(sl.ENI, "eni-") {
		t.Fatalf("slot: %+v", sl)
	}
	script := string(sl.Script)
	for _, want := range []string{"apt-get install -y --no-install-recommends mariadb-server", "port = 3307", "max_connections = 170",
		"innodb_buffer_pool_size = 1610612736", `CREATE USER 'admin_1'@'%' IDENTIFIED BY 'it''s\\secret';`, "CREATE DATABASE IF NOT EXISTS `app`;"} {
		if !strings.Contains(script, want) {
			t.Errorf("the script has no %q:\n%s", want, script)
		}
	}
	name := w.Names[0]
	if !strings.HasPrefix(name.Name, "private.") || len(name.VPCs) != 1 || name.VPCs[0] != n.vpc || !name.Addrs[0].Is4() || name.Addrs[0].String()[:5] != "10.0." {
		t.Fatalf("name: %+v", name)
	}

	// The reports move it: running → backing-up, then available.
	if err := e.svc.ReportSlot("000000000000", region, sl.ID, desired.Running, ""); err != nil {
		t.Fatal(err)
	}
	if got := e.status(t, ctx, "private"); got != "backing-up" {
		t.Fatalf("after the node runs: %s", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.status(t, ctx, "private") != "available" {
		if time.Now().After(deadline) {
			t.Fatal("never available")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := e.svc.RebootDBInstance(ctx, &rdsapi.RebootDBInstanceMessage{DBInstanceIdentifier: aws.String("private")}); err != nil {
		t.Fatal(err)
	}
	if e.world(t).Slots[0].Running {
		t.Fatal("a rebooting instance's slot is still wanted running")
	}
	e.svc.ReportSlot("000000000000", region, sl.ID, desired.Stopped, "")
	if !e.world(t).Slots[0].Running || e.status(t, ctx, "private") != "rebooting" {
		t.Fatal("after the reboot's stop, the slot should start again")
	}
	e.svc.ReportSlot("000000000000", region, sl.ID, desired.Running, "")
	if got := e.status(t, ctx, "private"); got != "available" {
		t.Fatalf("after the reboot: %s", got)
	}

	// A node that cannot start fails its instance.
	create("broken", false)
	var broken string
	for _, s := range e.world(t).Slots {
		if s.ID != sl.ID {
			broken = s.ID
		}
	}
	e.svc.ReportSlot("000000000000", region, broken, desired.Failed, "no image")
	if got := e.status(t, ctx, "broken"); got != "failed" {
		t.Fatalf("after a failed start: %s", got)
	}

	// A public instance's name resolves everywhere to its public address.
	pub := create("public", true)
	if !*pub.PubliclyAccessible {
		t.Fatalf("public: %+v", pub)
	}
	for _, nm := range e.world(t).Names {
		if strings.HasPrefix(nm.Name, "public.") && (nm.VPCs != nil || strings.HasPrefix(nm.Addrs[0].String(), "10.")) {
			t.Fatalf("public name: %+v", nm)
		}
	}
}

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
	"github.com/cloudbox/cloudbox/services/rds"
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

	// A public instance's name resolves in its VPC to its private address
	// (listed first, so it answers there), everywhere else to its public
	// one.
	pub := create("public", true)
	if !*pub.PubliclyAccessible {
		t.Fatalf("public: %+v", pub)
	}
	var names []*desired.Name
	for _, nm := range e.world(t).Names {
		if strings.HasPrefix(nm.Name, "public.") {
			names = append(names, nm)
		}
	}
	if len(names) != 2 || len(names[0].VPCs) != 1 || !strings.HasPrefix(names[0].Addrs[0].String(), "10.") ||
		names[1].VPCs != nil || strings.HasPrefix(names[1].Addrs[0].String(), "10.") {
		t.Fatalf("public names: %+v %+v", names[0], names[len(names)-1])
	}
}

// TestMultiAZ: a Multi-AZ instance has a standby node in another zone that
// starts as a semi-synchronous copy of the primary; it is made when both
// run. A forced failover stops the primary, then moves the endpoint to the
// standby, and the old primary starts again as the standby.
func TestMultiAZ(t *testing.T) {
	e := newEnvWith(t, true)
	n := e.network(t)
	ctx := api.WithRequest(context.Background(), &api.Request{Region: region, Caller: api.Principal{Account: "000000000000"}})
	if _, err := e.svc.CreateDBSubnetGroup(ctx, &rdsapi.CreateDBSubnetGroupMessage{DBSubnetGroupName: aws.String("g"),
		DBSubnetGroupDescription: aws.String("g"), SubnetIds: []*string{aws.String(n.privateA), aws.String(n.privateC)}}); err != nil {
		t.Fatal(err)
	}
	out, err := e.svc.CreateDBInstance(ctx, &rdsapi.CreateDBInstanceMessage{DBInstanceIdentifier: aws.String("bts-db"), Engine: aws.String("mysql"),
		DBInstanceClass: aws.String("db.t2.micro"), MasterUsername: aws.String("BTS_admin"), MasterUserPassword: aws.String("Bts-pass-1234"),
		AllocatedStorage: aws.Int64(20), DBSubnetGroupName: aws.String("g"), MultiAZ: aws.Bool(true), VpcSecurityGroupIds: []*string{aws.String(n.dbSG)}})
	if err != nil {
		t.Fatal(err)
	}
	db := out.DBInstance
	if !*db.MultiAZ || *db.AvailabilityZone == *db.SecondaryAvailabilityZone {
		t.Fatalf("created: zone %s, secondary %v", *db.AvailabilityZone, db.SecondaryAvailabilityZone)
	}
	w := e.world(t)
	if len(w.Slots) != 2 || len(w.Names) != 1 || w.Slots[0].ENI == w.Slots[1].ENI {
		t.Fatalf("world: %+v", w.Slots)
	}
	primary, standby := w.Slots[0], w.Slots[1]
	ps, ss := string(primary.Script), string(standby.Script)
	if !strings.Contains(ps, "CREATE USER 'BTS_admin'") || strings.Contains(ss, "CREATE USER 'BTS_admin'") ||
		!strings.Contains(ss, "rpl_semi_sync_slave_enabled = ON") || !strings.Contains(ss, "until /usr/local/sbin/rds-follow once") {
		t.Fatalf("scripts:\n%s\n---\n%s", ps, ss)
	}
	first := w.Names[0].Addrs[0]

	// Made once both nodes run.
	e.svc.ReportSlot("000000000000", region, primary.ID, desired.Running, "")
	if got := e.status(t, ctx, "bts-db"); got != "creating" {
		t.Fatalf("with the primary only: %s", got)
	}
	e.svc.ReportSlot("000000000000", region, standby.ID, desired.Running, "")
	for deadline := time.Now().Add(10 * time.Second); e.status(t, ctx, "bts-db") != "available"; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("never available")
		}
	}

	// Its events go to the bus as EventBridge carries them.
	bus := make(chan rds.BusEvent, 16)
	e.svc.OnEvent(func(ev rds.BusEvent) { bus <- ev })
	if _, err := e.svc.RebootDBInstance(ctx, &rdsapi.RebootDBInstanceMessage{DBInstanceIdentifier: aws.String("bts-db"), ForceFailover: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-bus:
		if ev.Detail["EventID"] != "RDS-EVENT-0013" || ev.Detail["SourceIdentifier"] != "bts-db" || ev.Detail["SourceType"] != "DB_INSTANCE" ||
			ev.Resources[0] != "arn:aws:rds:"+region+":000000000000:db:bts-db" || ev.Region != region {
			t.Fatalf("bus event: %+v", ev)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no event on the bus")
	}
	if w := e.world(t); w.Slots[0].Running || !w.Slots[1].Running || w.Names[0].Addrs[0] != first {
		t.Fatal("a failover first stops the primary, and only it")
	}
	e.svc.ReportSlot("000000000000", region, primary.ID, desired.Stopped, "")
	w = e.world(t)
	if w.Names[0].Addrs[0] == first || w.Slots[0].ID != standby.ID || !w.Slots[0].Running || !w.Slots[1].Running || e.status(t, ctx, "bts-db") != "rebooting" {
		t.Fatalf("once the primary stopped, the endpoint moves to the standby and the old primary starts again: %+v %+v", w.Names[0], w.Slots)
	}
	e.svc.ReportSlot("000000000000", region, primary.ID, desired.Running, "")
	d, err := e.svc.DescribeDBInstances(ctx, &rdsapi.DescribeDBInstancesMessage{DBInstanceIdentifier: aws.String("bts-db")})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.DBInstances[0]; *got.DBInstanceStatus != "available" || *got.AvailabilityZone != *db.SecondaryAvailabilityZone || *got.SecondaryAvailabilityZone != *db.AvailabilityZone {
		t.Fatalf("after the failover: %s in %s (secondary %s)", *got.DBInstanceStatus, *got.AvailabilityZone, *got.SecondaryAvailabilityZone)
	}
	evs, err := e.svc.DescribeEvents(ctx, &rdsapi.DescribeEventsMessage{SourceIdentifier: aws.String("bts-db"), SourceType: aws.String("db-instance")})
	if err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, ev := range evs.Events {
		msgs = append(msgs, *ev.Message)
	}
	if got := strings.Join(msgs, "|"); !strings.HasSuffix(got, "Multi-AZ instance failover started.|DB instance restarted|Multi-AZ instance failover completed.") {
		t.Fatalf("events: %s", got)
	}
}

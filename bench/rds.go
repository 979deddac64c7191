package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"github.com/cloudbox/cloudbox/controllers"
)

// The RDS bench builds seed 003's network (a public subnet with a NAT
// gateway, two private subnets in two zones), makes one Multi-AZ MySQL
// instance in the private subnets and one client instance next to it, and
// measures the instance's creation, failovers under a writer, transactions
// per second through the endpoint against the same engine reached inside
// its node, and the nodes' memory.
const (
	rdsVPC      = "10.78.0.0/16"
	rdsPublic   = "10.78.0.0/24"
	rdsPrivA    = "10.78.1.0/24"
	rdsPrivB    = "10.78.2.0/24"
	rdsID       = "bench-db"
	rdsUser     = "bench_admin"
	rdsPassword = "Bench-Secret-2026"
	rdsClass    = "db.t2.micro"
	// rdsFailovers is how many failovers the unavailability is the p50 of.
	rdsFailovers = 5
	// rdsSlap is the mysqlslap load: autocommit single-row INSERTs, so
	// each statement is one transaction.
	rdsSlapClients = 8
	rdsSlapQueries = 20000
	rdsSlapRuns    = 5
)

func benchRDS(ctx context.Context, r *runner) (section, error) {
	const title = "Issue 15 (RDS): Multi-AZ MySQL in a VPC"
	if err := controllers.Check(); err != nil {
		return skipped(title, err), nil
	}
	s := section{
		title: title,
		method: fmt.Sprintf("cloudbox runs with `--dataplane on --ephemeral`. The network is seed 003's: VPC %s, a public subnet with an "+
			"internet gateway and a NAT gateway, two private subnets in us-east-1a and us-east-1b routed through the NAT gateway (the DB "+
			"nodes install Debian's MariaDB from the mirror through it). A DB subnet group over the private subnets; `aws rds "+
			"create-db-instance --engine mysql --db-instance-class %s --multi-az --no-publicly-accessible` with a security group admitting "+
			"3306 from the client's group; a client instance (Amazon Linux 2 image, c5.large, `yum install -y mysql` in its user data, which "+
			"installs Debian's mariadb-client) in private subnet A. "+
			"**Create**: from the create-db-instance call to DescribeDBInstances first saying `available`, polled every second. "+
			"**Failover**: %d times, the client runs a writer loop, one `mysql` process (one connection) per row inserting row i of that "+
			"round and printing i and `date +%%s.%%N` once the INSERT is acknowledged; after 3 s of rows the bench calls `aws rds "+
			"reboot-db-instance --force-failover`, waits for `available` and for 3 s of acknowledged rows after it, then stops the writer. "+
			"The unavailability is the longest gap between two consecutive acknowledged rows of the round (outside a failover rows come every "+
			"few tens of ms). Afterwards every acknowledged row is looked up through the endpoint. Before each round the bench waits until the "+
			"primary reports a connected semi-synchronous standby (`Rpl_semi_sync_master_clients` = 1 through the endpoint), since a failover "+
			"to a standby that has not caught up would lose what only the primary had. "+
			"**Transactions/s**: MariaDB's mysqlslap (10.11, from the same mariadb-client package in both places), %d clients, %d "+
			"autocommit one-row INSERTs into an InnoDB table in all, once from the client instance through the endpoint (the VPC "+
			"path: client → VPC router → the node, semi-synchronous commit to the standby in the other zone) and once inside the primary's "+
			"node against 127.0.0.1 (the bench enters the node's namespaces with `nsenter -a` at its init's PID, found in the daemon's process "+
			"tree), %d runs each, interleaved; transactions/s = rows inserted / mysqlslap's own time, median of the runs. Both runs commit "+
			"semi-synchronously to the same standby, so the ratio is what the client's path costs. The in-node client is outside the node's "+
			"cgroup (1 vCPU for %s), the client instance in its own (2 vCPUs). "+
			"**Memory**: after the load, 10 s idle, each node's memory cgroup (memory.current: all charged pages, page cache included; anon; "+
			"found from its init's /proc/PID/cgroup). MB are 10^6 bytes.",
			rdsVPC, rdsClass, rdsFailovers, rdsSlapClients, rdsSlapQueries, rdsSlapRuns, rdsClass),
		table: table{header: []string{"Measurement", "p50 / median", "min", "max", "Samples"}},
	}
	err := onDataplane(ctx, r, func(c *dpCloud) error {
		w, err := buildRDSWorld(ctx, c)
		if err != nil {
			return err
		}
		return w.measure(ctx, &s)
	})
	return s, err
}

// rdsWorld is the bench's VPC once the client instance can run mysql.
type rdsWorld struct {
	c        *dpCloud
	subnetA  string
	subnetB  string
	clientSG string
	dbSG     string
	client   string // instance ID
	endpoint string // the DB instance's endpoint address
	resource string // DbiResourceId
}

func buildRDSWorld(ctx context.Context, c *dpCloud) (*rdsWorld, error) {
	api := c.ec2.api
	w := &rdsWorld{c: c}
	vpcOut, err := api.CreateVpc(ctx, &ec2.CreateVpcInput{CidrBlock: aws.String(rdsVPC)})
	if err != nil {
		return nil, err
	}
	vpc := vpcOut.Vpc.VpcId
	subnet := func(cidr, zone string) (string, error) {
		out, err := api.CreateSubnet(ctx, &ec2.CreateSubnetInput{VpcId: vpc, CidrBlock: aws.String(cidr), AvailabilityZone: aws.String(ec2Region + zone)})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.Subnet.SubnetId), nil
	}
	public, err := subnet(rdsPublic, "a")
	if err != nil {
		return nil, err
	}
	if w.subnetA, err = subnet(rdsPrivA, "a"); err != nil {
		return nil, err
	}
	if w.subnetB, err = subnet(rdsPrivB, "b"); err != nil {
		return nil, err
	}
	igw, err := api.CreateInternetGateway(ctx, &ec2.CreateInternetGatewayInput{})
	if err != nil {
		return nil, err
	}
	if _, err := api.AttachInternetGateway(ctx, &ec2.AttachInternetGatewayInput{VpcId: vpc, InternetGatewayId: igw.InternetGateway.InternetGatewayId}); err != nil {
		return nil, err
	}
	route := func(subnets []string, gw, nat *string) error {
		rt, err := api.CreateRouteTable(ctx, &ec2.CreateRouteTableInput{VpcId: vpc})
		if err != nil {
			return err
		}
		if _, err := api.CreateRoute(ctx, &ec2.CreateRouteInput{RouteTableId: rt.RouteTable.RouteTableId, DestinationCidrBlock: aws.String("0.0.0.0/0"),
			GatewayId: gw, NatGatewayId: nat}); err != nil {
			return err
		}
		for _, sn := range subnets {
			if _, err := api.AssociateRouteTable(ctx, &ec2.AssociateRouteTableInput{RouteTableId: rt.RouteTable.RouteTableId, SubnetId: aws.String(sn)}); err != nil {
				return err
			}
		}
		return nil
	}
	if err := route([]string{public}, igw.InternetGateway.InternetGatewayId, nil); err != nil {
		return nil, err
	}
	eip, err := api.AllocateAddress(ctx, &ec2.AllocateAddressInput{Domain: types.DomainTypeVpc})
	if err != nil {
		return nil, err
	}
	nat, err := api.CreateNatGateway(ctx, &ec2.CreateNatGatewayInput{SubnetId: aws.String(public), AllocationId: eip.AllocationId})
	if err != nil {
		return nil, err
	}
	natID := nat.NatGateway.NatGatewayId
	if err := pollEvery(ctx, time.Second, 2*time.Minute, func() (bool, error) {
		out, err := api.DescribeNatGateways(ctx, &ec2.DescribeNatGatewaysInput{NatGatewayIds: []string{*natID}})
		if err != nil {
			return false, err
		}
		return len(out.NatGateways) == 1 && out.NatGateways[0].State == types.NatGatewayStateAvailable, nil
	}); err != nil {
		return nil, fmt.Errorf("NAT gateway available: %w", err)
	}
	if err := route([]string{w.subnetA, w.subnetB}, nil, natID); err != nil {
		return nil, err
	}

	group := func(name string) (string, error) {
		out, err := api.CreateSecurityGroup(ctx, &ec2.CreateSecurityGroupInput{GroupName: aws.String(name), Description: aws.String(name), VpcId: vpc})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.GroupId), nil
	}
	if w.clientSG, err = group("bench-client"); err != nil {
		return nil, err
	}
	if w.dbSG, err = group("bench-db"); err != nil {
		return nil, err
	}
	if err := c.ec2.allowFrom(ctx, w.dbSG, w.clientSG, 3306); err != nil {
		return nil, err
	}
	if w.client, err = c.ec2.launchClient(ctx, w.subnetA, w.clientSG, "mysql"); err != nil {
		return nil, err
	}
	return w, nil
}

// measure runs the four measurements in order on one instance and adds
// them to s.
func (w *rdsWorld) measure(ctx context.Context, s *section) error {
	c := w.c
	if _, err := w.rds(ctx, "create-db-subnet-group", "--db-subnet-group-name", "bench", "--db-subnet-group-description", "bench",
		"--subnet-ids", w.subnetA, w.subnetB); err != nil {
		return err
	}
	c.r.logf("  create-db-instance %s (Multi-AZ)", rdsID)
	t0 := time.Now()
	if _, err := w.rds(ctx, "create-db-instance", "--engine", "mysql", "--db-instance-identifier", rdsID, "--db-instance-class", rdsClass,
		"--master-username", rdsUser, "--master-user-password", rdsPassword, "--allocated-storage", "20", "--multi-az",
		"--no-publicly-accessible", "--vpc-security-group-ids", w.dbSG, "--db-subnet-group-name", "bench"); err != nil {
		return err
	}
	if err := w.waitStatus(ctx, "available", 15*time.Minute); err != nil {
		return err
	}
	created := time.Since(t0)
	s.table.rows = append(s.table.rows, []string{"create-db-instance (Multi-AZ) to available", secs(created), "–", "–", "1"})
	c.r.logf("  available after %s", secs(created))
	desc, err := w.describe(ctx)
	if err != nil {
		return err
	}
	w.endpoint, w.resource = desc.Endpoint.Address, desc.DbiResourceID
	if w.endpoint == "" || w.resource == "" {
		return fmt.Errorf("described without an endpoint or resource id: %+v", desc)
	}

	if _, err := c.waitRunning(ctx, []string{w.client}, time.Minute); err != nil {
		return err
	}
	if err := pollEvery(ctx, time.Second, 5*time.Minute, func() (bool, error) {
		return c.exec(ctx, w.client, "sh", "-c", "command -v mysql && command -v mysqlslap").Run() == nil, nil
	}); err != nil {
		return fmt.Errorf("mysql installed in the client: %w\n%s", err, c.console(ctx, w.client))
	}
	if _, err := w.sql(ctx, "CREATE DATABASE bench; CREATE TABLE bench.w (round INT, id INT, PRIMARY KEY (round, id)) ENGINE=InnoDB; "+
		"CREATE TABLE bench.slap (id INT AUTO_INCREMENT PRIMARY KEY, v INT) ENGINE=InnoDB"); err != nil {
		return err
	}

	if err := w.failovers(ctx, s); err != nil {
		return err
	}
	if err := w.tps(ctx, s); err != nil {
		return err
	}
	return w.memory(ctx, s)
}

// rdsInstance is the part of DescribeDBInstances the bench reads.
type rdsInstance struct {
	DBInstanceStatus string
	DbiResourceID    string `json:"DbiResourceId"`
	Endpoint         struct{ Address string }
	AvailabilityZone string
}

func (w *rdsWorld) describe(ctx context.Context) (rdsInstance, error) {
	out, err := w.rds(ctx, "describe-db-instances", "--db-instance-identifier", rdsID)
	if err != nil {
		return rdsInstance{}, err
	}
	var d struct{ DBInstances []rdsInstance }
	if err := json.Unmarshal(out, &d); err != nil || len(d.DBInstances) != 1 {
		return rdsInstance{}, fmt.Errorf("describe-db-instances: %v: %s", err, out)
	}
	return d.DBInstances[0], nil
}

// waitStatus polls DescribeDBInstances every second until the status is
// want.
func (w *rdsWorld) waitStatus(ctx context.Context, want string, within time.Duration) error {
	var last string
	err := pollEvery(ctx, time.Second, within, func() (bool, error) {
		d, err := w.describe(ctx)
		last = d.DBInstanceStatus
		return err == nil && last == want, err
	})
	if err != nil {
		return fmt.Errorf("%s %s: %w (last status %q)", rdsID, want, err, last)
	}
	return nil
}

// rds runs `aws rds ...` against the daemon (loopback) and returns its
// JSON output.
func (w *rdsWorld) rds(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "aws", append([]string{"--endpoint-url", w.c.p.endpoint, "--output", "json", "rds"}, args...)...)
	var env []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "AWS_") && !strings.HasPrefix(strings.ToUpper(e), "HTTP") && !strings.HasPrefix(strings.ToUpper(e), "NO_PROXY") {
			env = append(env, e)
		}
	}
	cmd.Env = append(env, "AWS_ACCESS_KEY_ID="+testCreds.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+testCreds.SecretAccessKey,
		"AWS_DEFAULT_REGION="+ec2Region, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("aws rds %s: %w: %s", strings.Join(args[:1], " "), err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// mysqlArgs is the mysql client's command line for the endpoint.
func (w *rdsWorld) mysqlArgs(sql string) []string {
	return []string{"mysql", "--connect-timeout=5", "-h", w.endpoint, "-u", rdsUser, "-p" + rdsPassword, "-N", "-B", "-e", sql}
}

// sql runs statements through the endpoint from the client instance.
func (w *rdsWorld) sql(ctx context.Context, sql string) (string, error) {
	out, err := w.c.exec(ctx, w.client, w.mysqlArgs(sql)...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("mysql %q from the client: %w: %s", sql, err, out)
	}
	return strings.TrimSpace(string(out)), nil
}

// nodeInit finds the PID of the init of slot (`cloudbox-init <slot>`) among
// the daemon's descendants.
func (w *rdsWorld) nodeInit(slot string) (int, error) {
	children := map[int][]int{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// The command in parentheses may hold spaces; the fields after
		// its closing parenthesis are "state ppid ...".
		i := strings.LastIndexByte(string(stat), ')')
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 2 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], pid)
	}
	todo := slices.Clone(children[w.c.p.pid])
	for len(todo) > 0 {
		pid := todo[0]
		todo = append(todo[1:], children[pid]...)
		cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil {
			continue
		}
		argv := strings.Split(strings.TrimRight(string(cmd), "\x00"), "\x00")
		if len(argv) >= 2 && argv[0] == "cloudbox-init" && argv[1] == slot {
			return pid, nil
		}
	}
	return 0, fmt.Errorf("no `cloudbox-init %s` under the daemon (PID %d)", slot, w.c.p.pid)
}

// slots are the slot names of the instance's two nodes.
func (w *rdsWorld) slots() []string {
	first := "rds-" + strings.ToLower(w.resource)
	return []string{first, first + "-2"}
}

// inNode is a command run inside a node's namespaces (nsenter -a at its
// init's PID: its mount, network, PID... namespaces, not its cgroup).
func (w *rdsWorld) inNode(ctx context.Context, slot string, argv ...string) (*exec.Cmd, error) {
	pid, err := w.nodeInit(slot)
	if err != nil {
		return nil, err
	}
	return exec.CommandContext(ctx, "nsenter", append([]string{"-t", strconv.Itoa(pid), "-a"}, argv...)...), nil
}

// primary is the slot whose MariaDB is writable.
func (w *rdsWorld) primary(ctx context.Context) (string, error) {
	var seen []string
	for _, slot := range w.slots() {
		cmd, err := w.inNode(ctx, slot, "mysql", "--protocol=socket", "-uroot", "-N", "-B", "-e", "SELECT @@read_only")
		if err != nil {
			return "", err
		}
		out, err := cmd.CombinedOutput()
		ro := strings.TrimSpace(string(out))
		if err == nil && ro == "0" {
			return slot, nil
		}
		seen = append(seen, fmt.Sprintf("%s: %q %v", slot, ro, err))
	}
	return "", fmt.Errorf("no writable node: %s", strings.Join(seen, "; "))
}
